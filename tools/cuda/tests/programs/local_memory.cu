// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// local_memory.cu - per-thread local memory: an array indexed with
// run-time values (a small per-thread histogram and a running window),
// which the compiler cannot keep in registers, and a structure passed by
// reference to a __noinline__ function (its address is taken, so it
// lives in local memory).
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "local_memory"
#include "check.h"

constexpr int kLen = 64;   // values per thread
constexpr int kBins = 16;

struct Stats {
    int min, max;
    long long sum;
};

__host__ __device__ __noinline__ void account(Stats& s, int v)
{
    s.min = v < s.min ? v : s.min;
    s.max = v > s.max ? v : s.max;
    s.sum += v;
}

__host__ __device__ void summarize(const int* v, int* out)
{
    int hist[kBins] = {0};
    int window[5] = {0};
    Stats s = {2147483647, -2147483647 - 1, 0};
    int best = 0;
    for (int j = 0; j < kLen; j++) {
        hist[v[j] & (kBins - 1)]++;
        window[j % 5] = v[j];
        int w = window[0] + window[1] + window[2] + window[3] + window[4];
        best = w > best ? w : best;
        account(s, v[j]);
    }
    int mode = 0;
    for (int b = 1; b < kBins; b++)
        mode = hist[b] > hist[mode] ? b : mode;
    out[0] = mode | hist[mode] << 8 | hist[v[0] & (kBins - 1)] << 16;
    out[1] = best;
    out[2] = s.min;
    out[3] = s.max;
    out[4] = static_cast<int>(s.sum);
}

__global__ void kernel(const int* v, int* out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        summarize(v + i * kLen, out + i * 5);
}

int main()
{
    const int n = 96;
    static int v[n * kLen], out[n * 5];
    unsigned seed = 8;
    for (int i = 0; i < n * kLen; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = static_cast<int>((seed >> 16) % 1000) - (i % 3 == 0 ? 900 : 100);
    }
    int *d_v, *d_out;
    CHECK(cudaMalloc(&d_v, sizeof(v)));
    CHECK(cudaMalloc(&d_out, sizeof(out)));
    CHECK(cudaMemcpy(d_v, v, sizeof(v), cudaMemcpyHostToDevice));
    kernel<<<n / 32, 32>>>(d_v, d_out, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(out, d_out, sizeof(out), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        int ref[5];
        summarize(v + i * kLen, ref);
        for (int k = 0; k < 5; k++)
            if (out[i * 5 + k] != ref[k]) {
                printf("FAIL " PROG ": thread %d, result %d: %d, expected %d\n", i, k, out[i * 5 + k], ref[k]);
                return 1;
            }
    }
    CHECK(cudaFree(d_v));
    CHECK(cudaFree(d_out));
    printf("PASS " PROG "\n");
    return 0;
}
