// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// dynamic_shared.cu - extern __shared__ memory sized at launch: a kernel
// that reverses each block's chunk through it (launched with two block
// sizes), and one that carves doubles and ints out of the dynamic buffer
// and also has a static __shared__ variable beside it.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "dynamic_shared"
#include "check.h"

extern __shared__ unsigned char dyn[];

__global__ void reverse_chunks(const float* in, float* out)
{
    float* s = reinterpret_cast<float*>(dyn);
    int t = threadIdx.x;
    int base = blockIdx.x * blockDim.x;
    s[t] = in[base + t];
    __syncthreads();
    out[base + t] = s[blockDim.x - 1 - t];
}

__global__ void mixed(const int* in, double* out)
{
    __shared__ int block_tag;  // static, laid out before the dynamic buffer
    double* d = reinterpret_cast<double*>(dyn);
    int* k = reinterpret_cast<int*>(d + blockDim.x);
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    if (t == 0)
        block_tag = 1000 * (blockIdx.x + 1);
    d[t] = in[i] * 0.5;
    k[t] = in[i];
    __syncthreads();
    out[i] = d[blockDim.x - 1 - t] + k[(t + 1) % blockDim.x] + block_tag;
}

int main()
{
    const int n = 1536;  // 12 blocks of 128, 24 of 64
    float* hf = static_cast<float*>(malloc(n * sizeof(float)));
    float* of = static_cast<float*>(malloc(n * sizeof(float)));
    int* hi = static_cast<int*>(malloc(n * sizeof(int)));
    double* od = static_cast<double*>(malloc(n * sizeof(double)));
    for (int i = 0; i < n; i++) {
        hf[i] = static_cast<float>(i) * 0.25f - 100.0f;
        hi[i] = (i * 7919) % 1013 - 500;
    }
    float *d_f, *d_of;
    int* d_i;
    double* d_od;
    CHECK(cudaMalloc(&d_f, n * sizeof(float)));
    CHECK(cudaMalloc(&d_of, n * sizeof(float)));
    CHECK(cudaMalloc(&d_i, n * sizeof(int)));
    CHECK(cudaMalloc(&d_od, n * sizeof(double)));
    CHECK(cudaMemcpy(d_f, hf, n * sizeof(float), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_i, hi, n * sizeof(int), cudaMemcpyHostToDevice));

    const int sizes[2] = {128, 64};
    for (int bs : sizes) {
        CHECK(cudaMemset(d_of, 0, n * sizeof(float)));
        reverse_chunks<<<n / bs, bs, bs * sizeof(float)>>>(d_f, d_of);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        CHECK(cudaMemcpy(of, d_of, n * sizeof(float), cudaMemcpyDeviceToHost));
        for (int i = 0; i < n; i++) {
            int b = i / bs, t = i % bs;
            float want = hf[b * bs + bs - 1 - t];
            if (of[i] != want) {
                printf("FAIL " PROG ": reverse, block size %d, out[%d] = %g, expected %g\n", bs, i, of[i], want);
                return 1;
            }
        }
    }

    const int bs = 96;  // 16 blocks
    mixed<<<n / bs, bs, bs * (sizeof(double) + sizeof(int))>>>(d_i, d_od);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(od, d_od, n * sizeof(double), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        int b = i / bs, t = i % bs;
        double want = hi[b * bs + bs - 1 - t] * 0.5 + hi[b * bs + (t + 1) % bs] + 1000.0 * (b + 1);
        if (od[i] != want) {
            printf("FAIL " PROG ": mixed, out[%d] = %g, expected %g\n", i, od[i], want);
            return 1;
        }
    }
    CHECK(cudaFree(d_f));
    CHECK(cudaFree(d_of));
    CHECK(cudaFree(d_i));
    CHECK(cudaFree(d_od));
    free(hf);
    free(of);
    free(hi);
    free(od);
    printf("PASS " PROG "\n");
    return 0;
}
