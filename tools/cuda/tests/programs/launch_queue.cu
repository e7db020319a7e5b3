// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// launch_queue.cu - 1000 launches and some copies queued without a
// wait between them: more than a vGPU client may have queued at once
// (vgpu-back's quota_jobs, 256 by default).  CUDA's launches wait while
// the queue is full, they never fail: every one must run, in order (each
// launch adds its index to a counter that a later one reads).
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "launch_queue"
#include "check.h"

__global__ void step(unsigned long long* acc, unsigned i)
{
    if (threadIdx.x == 0)
        acc[0] = acc[0] * 3 + i;  // order-dependent: a lost or reordered launch shows
}

int main()
{
    const unsigned n = 1000;
    unsigned long long* d = nullptr;
    CHECK(cudaMalloc(&d, 2 * sizeof(*d)));
    CHECK(cudaMemset(d, 0, 2 * sizeof(*d)));
    unsigned long long want = 0;
    for (unsigned i = 0; i < n; i++) {
        step<<<1, 32>>>(d, i);
        CHECK(cudaGetLastError());
        if (i % 250 == 249)  // copies queued between the launches too
            CHECK(cudaMemcpyAsync(d + 1, d, sizeof(*d), cudaMemcpyDeviceToDevice));
        want = want * 3 + i;
    }
    unsigned long long got[2] = {};
    CHECK(cudaMemcpy(got, d, sizeof(got), cudaMemcpyDeviceToHost));
    // The last copy came after the last launch (i = 999).
    if (got[0] != want || got[1] != want) {
        std::printf("FAIL " PROG ": counter %llx and its copy %llx, want %llx\n", got[0], got[1], want);
        return 1;
    }
    CHECK(cudaFree(d));
    std::printf("PASS " PROG "\n");
    return 0;
}
