// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// mapped_pinned.cu - zero-copy host memory: cudaHostAlloc with
// cudaHostAllocMapped and cudaHostGetDevicePointer; a kernel reads its
// input from host memory and writes its output there, which the CPU reads
// directly after cudaDeviceSynchronize.  The CPU then changes the input
// in place and a second launch sees the change.  cudaMemGetInfo counts
// device memory, not pinned host memory.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "mapped_pinned"
#include "check.h"

__global__ void square_plus(const int* in, long long* out, int n, int k)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = static_cast<long long>(in[i]) * in[i] + k;
}

int main()
{
    const int n = 3000;
    CHECK(cudaSetDeviceFlags(cudaDeviceMapHost));
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    if (!prop.canMapHostMemory) {
        printf("FAIL " PROG ": the device says it cannot map host memory\n");
        return 1;
    }
    // Pinned host memory is not device memory: 16 MiB of it leave the
    // device's free memory as it was (within the driver's own use), while
    // 16 MiB of device memory take at least that much of it.
    size_t free0, free1, free2, total;
    const size_t big = 16u << 20;
    CHECK(cudaMemGetInfo(&free0, &total));
    void* h_big;
    CHECK(cudaHostAlloc(&h_big, big, cudaHostAllocMapped));
    CHECK(cudaMemGetInfo(&free1, &total));
    void* d_big;
    CHECK(cudaMalloc(&d_big, big));
    CHECK(cudaMemGetInfo(&free2, &total));
    if (free1 + (8u << 20) < free0 || free2 + big > free1) {
        printf("FAIL " PROG ": free device memory %zu, after 16 MiB of pinned host memory %zu, after 16 MiB of "
               "device memory %zu\n", free0, free1, free2);
        return 1;
    }
    CHECK(cudaFree(d_big));
    CHECK(cudaFreeHost(h_big));
    int* h_in;
    long long* h_out;
    CHECK(cudaHostAlloc(&h_in, n * sizeof(int), cudaHostAllocMapped));
    CHECK(cudaHostAlloc(&h_out, n * sizeof(long long), cudaHostAllocMapped));
    int* d_in;
    long long* d_out;
    CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&d_in), h_in, 0));
    CHECK(cudaHostGetDevicePointer(reinterpret_cast<void**>(&d_out), h_out, 0));
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < n; i++) {
            h_in[i] = round == 0 ? i * 1000 - 1500000 : -i * 77;
            h_out[i] = -1;
        }
        square_plus<<<(n + 255) / 256, 256>>>(d_in, d_out, n, round + 1);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        for (int i = 0; i < n; i++) {
            long long want = static_cast<long long>(h_in[i]) * h_in[i] + round + 1;
            if (h_out[i] != want) {
                printf("FAIL " PROG ": round %d: out[%d] = %lld, expected %lld\n", round, i, h_out[i], want);
                return 1;
            }
        }
    }
    CHECK(cudaFreeHost(h_in));
    CHECK(cudaFreeHost(h_out));
    printf("PASS " PROG "\n");
    return 0;
}
