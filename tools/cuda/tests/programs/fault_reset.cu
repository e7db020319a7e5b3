// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fault_reset.cu - a GPU fault and recovery: a kernel stores 64 GiB past
// its allocation, far outside any memory; cudaDeviceSynchronize must
// return cudaErrorIllegalAddress, and the error is sticky (a later
// cudaMemcpy returns it too).  cudaDeviceReset then gives a fresh
// context, in which a correct kernel runs and its result is checked;
// then a copy to pinned memory right after a faulting launch reports
// the fault.
// That recovery is GPUvm's promise, not NVIDIA's: CUDA documents that
// after cudaErrorIllegalAddress the process must be relaunched, and on an
// H200 (driver 580) every call after the reset returned
// cudaErrorDevicesUnavailable, so this program fails there at that step.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "fault_reset"
#include "check.h"

__global__ void store(int* p, unsigned long long offset, int v)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    p[offset + i] = v + i;
}

static int run_correct(int* d, int n)
{
    store<<<n / 64, 64>>>(d, 0, 1000);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    int* h = static_cast<int*>(malloc(n * sizeof(int)));
    CHECK(cudaMemcpy(h, d, n * sizeof(int), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++)
        if (h[i] != 1000 + i) {
            printf("FAIL " PROG ": after the reset, out[%d] = %d, expected %d\n", i, h[i], 1000 + i);
            return 1;
        }
    free(h);
    return 0;
}

int main()
{
    const int n = 256;
    int* d;
    CHECK(cudaMalloc(&d, n * sizeof(int)));
    if (run_correct(d, n))  // the kernel works before the fault
        return 1;
    store<<<1, 32>>>(d, (64ull << 30) / sizeof(int), 1);
    cudaError_t launch = cudaGetLastError();
    cudaError_t e = cudaDeviceSynchronize();
    if (launch != cudaSuccess && launch != cudaErrorIllegalAddress) {
        printf("FAIL " PROG ": the launch returned %s\n", cudaGetErrorName(launch));
        return 1;
    }
    if (e != cudaErrorIllegalAddress) {
        printf("FAIL " PROG ": cudaDeviceSynchronize returned %s (%s), expected cudaErrorIllegalAddress\n",
               cudaGetErrorName(e), cudaGetErrorString(e));
        return 1;
    }
    int x;
    e = cudaMemcpy(&x, d, sizeof(int), cudaMemcpyDeviceToHost);
    if (e != cudaErrorIllegalAddress) {
        printf("FAIL " PROG ": cudaMemcpy after the fault returned %s, expected the sticky "
               "cudaErrorIllegalAddress\n", cudaGetErrorName(e));
        return 1;
    }
    CHECK(cudaDeviceReset());
    // The thread's last error outlives the reset (CUDA's does): the first
    // read may return the fault and clears it; the second must be clean.
    cudaGetLastError();
    CHECK(cudaGetLastError());
    CHECK(cudaMalloc(&d, n * sizeof(int)));
    if (run_correct(d, n))
        return 1;
    // A copy into pinned memory right after a faulting launch, nothing
    // synchronised between: GPUvm's copies wait for the work before them
    // and report its fault (CUDA's asynchronous copy may report it later).
    int* pinned;
    CHECK(cudaMallocHost(&pinned, n * sizeof(int)));
    store<<<1, 32>>>(d, (64ull << 30) / sizeof(int), 1);
    e = cudaMemcpyAsync(pinned, d, n * sizeof(int), cudaMemcpyDeviceToHost, 0);
    if (e != cudaErrorIllegalAddress) {
        printf("FAIL " PROG ": a copy to pinned memory after the fault returned %s, expected "
               "cudaErrorIllegalAddress\n", cudaGetErrorName(e));
        return 1;
    }
    CHECK(cudaDeviceReset());
    cudaGetLastError();
    printf("PASS " PROG "\n");
    return 0;
}
