// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// reduce_shared.cu - static __shared__ memory and __syncthreads: a tree
// reduction per block (sum and maximum), then a second launch that
// reduces the blocks' partial results.  Checked against the CPU.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "reduce_shared"
#include "check.h"

constexpr int kBlock = 256;

__global__ void block_reduce(const int* in, int* sums, int* maxes, int n)
{
    __shared__ int s_sum[kBlock];
    __shared__ int s_max[kBlock];
    int t = threadIdx.x;
    int i = blockIdx.x * kBlock + t;
    s_sum[t] = i < n ? in[i] : 0;
    s_max[t] = i < n ? in[i] : -2147483647 - 1;
    __syncthreads();
    for (int stride = kBlock / 2; stride > 0; stride >>= 1) {
        if (t < stride) {
            s_sum[t] += s_sum[t + stride];
            s_max[t] = max(s_max[t], s_max[t + stride]);
        }
        __syncthreads();
    }
    if (t == 0) {
        sums[blockIdx.x] = s_sum[0];
        maxes[blockIdx.x] = s_max[0];
    }
}

int main()
{
    const int n = 10000;  // not a multiple of the block
    const int blocks = (n + kBlock - 1) / kBlock;
    int* h = static_cast<int*>(malloc(n * sizeof(int)));
    unsigned seed = 12345;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        h[i] = static_cast<int>((seed >> 8) % 20001) - 10000;
    }

    int *d_in, *d_sums, *d_maxes, *d_total, *d_totmax;
    CHECK(cudaMalloc(&d_in, n * sizeof(int)));
    CHECK(cudaMalloc(&d_sums, blocks * sizeof(int)));
    CHECK(cudaMalloc(&d_maxes, blocks * sizeof(int)));
    CHECK(cudaMalloc(&d_total, sizeof(int)));
    CHECK(cudaMalloc(&d_totmax, sizeof(int)));
    CHECK(cudaMemcpy(d_in, h, n * sizeof(int), cudaMemcpyHostToDevice));

    block_reduce<<<blocks, kBlock>>>(d_in, d_sums, d_maxes, n);
    CHECK(cudaGetLastError());
    // The partial sums fit one block: reduce them again (the maxima are
    // reduced by the same kernel, whose sum output is then unused).
    block_reduce<<<1, kBlock>>>(d_sums, d_total, d_totmax, blocks);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());

    int sums[64], maxes[64], total, totmax;
    CHECK(cudaMemcpy(sums, d_sums, blocks * sizeof(int), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(maxes, d_maxes, blocks * sizeof(int), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(&total, d_total, sizeof(int), cudaMemcpyDeviceToHost));

    int ref_total = 0;
    for (int b = 0; b < blocks; b++) {
        int s = 0, m = -2147483647 - 1;
        for (int i = b * kBlock; i < n && i < (b + 1) * kBlock; i++) {
            s += h[i];
            m = h[i] > m ? h[i] : m;
        }
        ref_total += s;
        if (sums[b] != s || maxes[b] != m) {
            printf("FAIL " PROG ": block %d: sum %d max %d, expected %d and %d\n", b, sums[b], maxes[b], s, m);
            return 1;
        }
    }
    if (total != ref_total) {
        printf("FAIL " PROG ": total %d, expected %d\n", total, ref_total);
        return 1;
    }
    // The maximum of the partial sums, from the second launch.
    CHECK(cudaMemcpy(&totmax, d_totmax, sizeof(int), cudaMemcpyDeviceToHost));
    int ref_max = sums[0];
    for (int b = 1; b < blocks; b++)
        ref_max = sums[b] > ref_max ? sums[b] : ref_max;
    if (totmax != ref_max) {
        printf("FAIL " PROG ": maximum of the partial sums %d, expected %d\n", totmax, ref_max);
        return 1;
    }
    CHECK(cudaFree(d_in));
    CHECK(cudaFree(d_sums));
    CHECK(cudaFree(d_maxes));
    CHECK(cudaFree(d_total));
    CHECK(cudaFree(d_totmax));
    free(h);
    printf("PASS " PROG "\n");
    return 0;
}
