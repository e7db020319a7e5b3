// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// grid_stride.cu - grid-stride loops over more elements than threads: an
// element-wise kernel over 100003 elements (a prime: no thread count
// divides it) run with three grid shapes, and a grid-stride sum with a
// 64-bit index whose per-thread partial sums meet in one atomicAdd each.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "grid_stride"
#include "check.h"

__global__ void saxpy_like(const int* x, int* y, int n, int k)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        y[i] = x[i] * k + (i & 1023);
}

__global__ void sum(const int* x, size_t n, long long* total)
{
    long long acc = 0;
    for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<size_t>(blockDim.x) * gridDim.x)
        acc += x[i];
    atomicAdd(reinterpret_cast<unsigned long long*>(total), static_cast<unsigned long long>(acc));
}

int main()
{
    const int n = 100003;
    int* x = static_cast<int*>(malloc(n * sizeof(int)));
    int* y = static_cast<int*>(malloc(n * sizeof(int)));
    unsigned seed = 1;
    long long ref_total = 0;
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = static_cast<int>(seed) >> 8;
        ref_total += x[i];
    }
    int *d_x, *d_y;
    long long* d_total;
    CHECK(cudaMalloc(&d_x, n * sizeof(int)));
    CHECK(cudaMalloc(&d_y, n * sizeof(int)));
    CHECK(cudaMalloc(&d_total, sizeof(long long)));
    CHECK(cudaMemcpy(d_x, x, n * sizeof(int), cudaMemcpyHostToDevice));
    const int shapes[3][2] = {{4, 128}, {7, 96}, {1, 1024}};
    for (int s = 0; s < 3; s++) {
        int k = s - 3;
        CHECK(cudaMemset(d_y, 0, n * sizeof(int)));
        saxpy_like<<<shapes[s][0], shapes[s][1]>>>(d_x, d_y, n, k);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        CHECK(cudaMemcpy(y, d_y, n * sizeof(int), cudaMemcpyDeviceToHost));
        for (int i = 0; i < n; i++) {
            int want = static_cast<int>(static_cast<unsigned>(x[i]) * static_cast<unsigned>(k)) + (i & 1023);
            if (y[i] != want) {
                printf("FAIL " PROG ": grid %d x %d: y[%d] = %d, expected %d\n", shapes[s][0], shapes[s][1], i,
                       y[i], want);
                return 1;
            }
        }
    }
    CHECK(cudaMemset(d_total, 0, sizeof(long long)));
    sum<<<5, 64>>>(d_x, n, d_total);
    CHECK(cudaGetLastError());
    long long total;
    CHECK(cudaMemcpy(&total, d_total, sizeof(total), cudaMemcpyDeviceToHost));
    if (total != ref_total) {
        printf("FAIL " PROG ": sum %lld, expected %lld\n", total, ref_total);
        return 1;
    }
    CHECK(cudaFree(d_x));
    CHECK(cudaFree(d_y));
    CHECK(cudaFree(d_total));
    free(x);
    free(y);
    printf("PASS " PROG "\n");
    return 0;
}
