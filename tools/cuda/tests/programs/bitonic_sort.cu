// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// bitonic_sort.cu - a bitonic sorting network in shared memory: each block
// sorts 1024 (key, value) pairs with 512 threads, one compare-exchange per
// thread per step, __syncthreads between steps.  Keys have duplicates;
// values are the original positions, so the check is that the keys come
// out in order and the pairs are a permutation of the input.  Four blocks,
// the odd ones sorting in descending order.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "bitonic_sort"
#include "check.h"

constexpr int kN = 1024;  // per block

__global__ void bitonic(unsigned* keys, unsigned* vals)
{
    __shared__ unsigned k[kN];
    __shared__ unsigned v[kN];
    unsigned* gk = keys + blockIdx.x * kN;
    unsigned* gv = vals + blockIdx.x * kN;
    int t = threadIdx.x;
    bool descending = blockIdx.x & 1;
    for (int i = t; i < kN; i += blockDim.x) {
        k[i] = gk[i];
        v[i] = gv[i];
    }
    __syncthreads();
    for (int size = 2; size <= kN; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            // Thread t compares elements a and a + stride.
            int a = 2 * t - (t & (stride - 1));
            int b = a + stride;
            bool up = ((a & size) == 0) != descending;
            unsigned ka = k[a], kb = k[b];
            if ((ka > kb) == up) {
                k[a] = kb;
                k[b] = ka;
                unsigned x = v[a];
                v[a] = v[b];
                v[b] = x;
            }
            __syncthreads();
        }
    }
    for (int i = t; i < kN; i += blockDim.x) {
        gk[i] = k[i];
        gv[i] = v[i];
    }
}

int main()
{
    const int blocks = 4, n = blocks * kN;
    static unsigned keys[n], vals[n], ok[n], ov[n];
    unsigned seed = 123;
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        keys[i] = (i / kN == 2) ? (seed >> 28) : seed;  // block 2: only 16 distinct keys
        vals[i] = static_cast<unsigned>(i);
    }
    unsigned *dk, *dv;
    CHECK(cudaMalloc(&dk, sizeof(keys)));
    CHECK(cudaMalloc(&dv, sizeof(vals)));
    CHECK(cudaMemcpy(dk, keys, sizeof(keys), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(dv, vals, sizeof(vals), cudaMemcpyHostToDevice));
    bitonic<<<blocks, kN / 2>>>(dk, dv);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(ok, dk, sizeof(ok), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(ov, dv, sizeof(ov), cudaMemcpyDeviceToHost));
    for (int b = 0; b < blocks; b++) {
        unsigned ref[kN];
        std::copy(keys + b * kN, keys + (b + 1) * kN, ref);
        std::sort(ref, ref + kN);
        if (b & 1)
            std::reverse(ref, ref + kN);
        static bool used[n];
        for (int i = 0; i < kN; i++) {
            int j = b * kN + i;
            unsigned src = ov[j];
            if (ok[j] != ref[i] || src / kN != static_cast<unsigned>(b) || used[src] || keys[src] != ok[j]) {
                printf("FAIL " PROG ": block %d, position %d: key %#x from %u, expected key %#x\n", b, i, ok[j], src,
                       ref[i]);
                return 1;
            }
            used[src] = true;
        }
    }
    CHECK(cudaFree(dk));
    CHECK(cudaFree(dv));
    printf("PASS " PROG "\n");
    return 0;
}
