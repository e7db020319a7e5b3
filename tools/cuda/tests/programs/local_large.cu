// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// local_large.cu - local memory that does not fit in a block's shared
// memory: 2 KiB of local array per thread in blocks of 256 threads (512
// KiB a block; GPUvm keeps it in global memory then), the same kernel in
// blocks of 16 (8 KiB a block: shared memory), and recursion whose stack
// (CUDA's 1 KiB per thread) needs 128 KiB for a block of 128 threads,
// launched first, after memory written and freed (a local buffer that is
// a piece of a shared page must still start on a page of its own, and
// start cleared: radixSortThrust failed there).
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "local_large"
#include "check.h"

constexpr int kWords = 512;  // 2 KiB per thread

__host__ __device__ unsigned churn(const int* in, int t, int n)
{
    int buf[kWords];
    for (int k = 0; k < kWords; k++)
        buf[k] = in[k & 127] * (k + 3) + t;
    unsigned s = 0;
    for (int k = 0; k < n; k++) {
        s += static_cast<unsigned>(buf[(t * 11 + k * 29) & (kWords - 1)] ^ k);
        buf[(s + k) & (kWords - 1)] += k;
    }
    return s;
}

__global__ void big_local(const int* in, unsigned* out, int n)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    out[t] = churn(in, t, n);
}

// A path through a binary tree of depth @d with a local array per
// activation, passed down by address: 2 frames' worth of stack per level.
__host__ __device__ int walk(int v, int d, const int* up)
{
    int mine[4];
    for (int k = 0; k < 4; k++)
        mine[k] = v * (k + 1) + (up ? up[k] : 0);
    if (d == 0)
        return mine[v & 3];
    int r = walk((v * 5 + 1) % 1009, d - 1, mine);
    return r * 2 + mine[(v + d) & 3] - (up ? up[d & 3] : 0);
}

__global__ void recurse(int* out, int d)
{
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    out[t] = walk(t, d, nullptr);
}

int main()
{
    static int in[128];
    for (int i = 0; i < 128; i++)
        in[i] = (i * 7919) % 1000 - 500;
    const int n = 200;
    int* d_in;
    unsigned* d_out;
    CHECK(cudaMalloc(&d_in, sizeof(in)));
    CHECK(cudaMemcpy(d_in, in, sizeof(in), cudaMemcpyHostToDevice));
    // Memory written and freed first: a piece of a shared page handed out
    // again is cleared (the local buffer's slot words must start free).
    void* scratch;
    CHECK(cudaMalloc(&scratch, 300 << 10));
    CHECK(cudaMemset(scratch, 0xff, 300 << 10));
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaFree(scratch));
    // Recursion 8 deep, 128 threads a block: beyond what a block's 48 KiB
    // give each thread (384 bytes), within CUDA's 1 KiB stack.  First:
    // its local memory (256 KiB) is the program's first in global
    // memory, a piece of the page d_in is in where pages are 2 MiB.
    const int depth = 8, threads = 128, blocks = 2;
    int* d_r;
    CHECK(cudaMalloc(&d_r, blocks * threads * sizeof(int)));
    recurse<<<blocks, threads>>>(d_r, depth);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    static int r[blocks * threads];
    CHECK(cudaMemcpy(r, d_r, sizeof(r), cudaMemcpyDeviceToHost));
    for (int t = 0; t < blocks * threads; t++)
        if (r[t] != walk(t, depth, nullptr)) {
            printf("FAIL " PROG ": recurse, thread %d: %d, expected %d\n", t, r[t], walk(t, depth, nullptr));
            return 1;
        }
    CHECK(cudaFree(d_r));
    struct { int blocks, threads; } cfg[] = {{4, 256}, {8, 16}, {2, 256}};
    for (auto c : cfg) {
        int total = c.blocks * c.threads;
        CHECK(cudaMalloc(&d_out, total * sizeof(unsigned)));
        big_local<<<c.blocks, c.threads>>>(d_in, d_out, n);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        unsigned* out = new unsigned[total];
        CHECK(cudaMemcpy(out, d_out, total * sizeof(unsigned), cudaMemcpyDeviceToHost));
        for (int t = 0; t < total; t++)
            if (out[t] != churn(in, t, n)) {
                printf("FAIL " PROG ": big_local <<<%d, %d>>>, thread %d: %u, expected %u\n", c.blocks, c.threads,
                       t, out[t], churn(in, t, n));
                return 1;
            }
        delete[] out;
        CHECK(cudaFree(d_out));
    }
    CHECK(cudaFree(d_in));
    printf("PASS " PROG "\n");
    return 0;
}
