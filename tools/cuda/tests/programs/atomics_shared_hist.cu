// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// atomics_shared_hist.cu - atomics on shared memory: a 256-bin histogram
// per block (skewed data, so that many threads hit the same bins), a
// 64-bit sum and a minimum and maximum in shared memory, merged into
// global memory at the end of each block.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "atomics_shared_hist"
#include "check.h"

constexpr int kBins = 256;

__global__ void histogram(const unsigned char* data, int n, unsigned* hist, unsigned long long* total,
                          unsigned* minmax)
{
    __shared__ unsigned s_hist[kBins];
    __shared__ unsigned long long s_sum;
    __shared__ unsigned s_min, s_max;
    int t = threadIdx.x;
    for (int b = t; b < kBins; b += blockDim.x)
        s_hist[b] = 0;
    if (t == 0) {
        s_sum = 0;
        s_min = 0xffffffffu;
        s_max = 0;
    }
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + t; i < n; i += gridDim.x * blockDim.x) {
        unsigned v = data[i];
        atomicAdd(&s_hist[v], 1u);
        atomicAdd(&s_sum, static_cast<unsigned long long>(v) << 24);
        atomicMin(&s_min, v);
        atomicMax(&s_max, v);
    }
    __syncthreads();
    for (int b = t; b < kBins; b += blockDim.x)
        if (s_hist[b])
            atomicAdd(&hist[b], s_hist[b]);
    if (t == 0) {
        atomicAdd(total, s_sum);
        atomicMin(&minmax[0], s_min);
        atomicMax(&minmax[1], s_max);
    }
}

int main()
{
    const int n = 40000;
    unsigned char* h = static_cast<unsigned char*>(malloc(n));
    unsigned seed = 7;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 16;
        // Half the values fall in 4 bins; the rest anywhere in 3..250.
        h[i] = static_cast<unsigned char>((r & 1) ? 100 + (r >> 1) % 4 : 3 + (r >> 1) % 248);
    }
    unsigned char* d_data;
    unsigned* d_hist;
    unsigned long long* d_total;
    unsigned* d_minmax;
    unsigned init_minmax[2] = {0xffffffffu, 0};
    CHECK(cudaMalloc(&d_data, n));
    CHECK(cudaMalloc(&d_hist, kBins * sizeof(unsigned)));
    CHECK(cudaMalloc(&d_total, sizeof(unsigned long long)));
    CHECK(cudaMalloc(&d_minmax, sizeof(init_minmax)));
    CHECK(cudaMemcpy(d_data, h, n, cudaMemcpyHostToDevice));
    CHECK(cudaMemset(d_hist, 0, kBins * sizeof(unsigned)));
    CHECK(cudaMemset(d_total, 0, sizeof(unsigned long long)));
    CHECK(cudaMemcpy(d_minmax, init_minmax, sizeof(init_minmax), cudaMemcpyHostToDevice));
    histogram<<<8, 192>>>(d_data, n, d_hist, d_total, d_minmax);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());

    unsigned hist[kBins], minmax[2];
    unsigned long long total;
    CHECK(cudaMemcpy(hist, d_hist, sizeof(hist), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(&total, d_total, sizeof(total), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(minmax, d_minmax, sizeof(minmax), cudaMemcpyDeviceToHost));
    unsigned ref[kBins] = {0};
    unsigned long long ref_total = 0;
    unsigned ref_min = 255, ref_max = 0;
    for (int i = 0; i < n; i++) {
        ref[h[i]]++;
        ref_total += static_cast<unsigned long long>(h[i]) << 24;
        ref_min = h[i] < ref_min ? h[i] : ref_min;
        ref_max = h[i] > ref_max ? h[i] : ref_max;
    }
    for (int b = 0; b < kBins; b++)
        if (hist[b] != ref[b]) {
            printf("FAIL " PROG ": bin %d holds %u, expected %u\n", b, hist[b], ref[b]);
            return 1;
        }
    if (total != ref_total || minmax[0] != ref_min || minmax[1] != ref_max) {
        printf("FAIL " PROG ": sum %llu min %u max %u, expected %llu, %u and %u\n", total, minmax[0], minmax[1],
               ref_total, ref_min, ref_max);
        return 1;
    }
    CHECK(cudaFree(d_data));
    CHECK(cudaFree(d_hist));
    CHECK(cudaFree(d_total));
    CHECK(cudaFree(d_minmax));
    free(h);
    printf("PASS " PROG "\n");
    return 0;
}
