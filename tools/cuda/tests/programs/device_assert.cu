// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// device_assert.cu - assert() in a kernel: a launch whose assertions all
// hold completes normally; then a launch in which one thread's assertion
// fails must make cudaDeviceSynchronize return cudaErrorAssert (the
// context is then unusable, as CUDA documents).  The program passes when
// exactly that happens.
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "device_assert"
#include "check.h"

#ifdef NDEBUG
#error "this program needs assert()"
#endif

__global__ void check_below(const int* v, int limit, int* out)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    assert(v[i] < limit);
    out[i] = v[i] * 2;
}

int main()
{
    const int n = 256;
    int v[n], out[n];
    for (int i = 0; i < n; i++)
        v[i] = i;
    int *d_v, *d_out;
    CHECK(cudaMalloc(&d_v, sizeof(v)));
    CHECK(cudaMalloc(&d_out, sizeof(out)));
    CHECK(cudaMemcpy(d_v, v, sizeof(v), cudaMemcpyHostToDevice));

    check_below<<<n / 64, 64>>>(d_v, n, d_out);  // every assertion holds
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(out, d_out, sizeof(out), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++)
        if (out[i] != 2 * i) {
            printf("FAIL " PROG ": out[%d] = %d, expected %d\n", i, out[i], 2 * i);
            return 1;
        }

    check_below<<<n / 64, 64>>>(d_v, n - 1, d_out);  // thread 255's fails
    CHECK(cudaGetLastError());                         // the launch itself is fine
    cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaErrorAssert) {
        printf("FAIL " PROG ": cudaDeviceSynchronize returned %s (%s), expected cudaErrorAssert\n",
               cudaGetErrorName(e), cudaGetErrorString(e));
        return 1;
    }
    printf("PASS " PROG "\n");
    return 0;
}
