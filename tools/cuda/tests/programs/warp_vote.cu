// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// warp_vote.cu - __ballot_sync, __all_sync, __any_sync, __activemask and
// __syncwarp: votes of full warps, a ballot of the lower half-warp taken
// inside a branch with its own member mask, the active mask of a partial
// last warp (a block of 48 threads), and lanes exchanging values through
// shared memory ordered by __syncwarp.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "warp_vote"
#include "check.h"

constexpr int kBlock = 48;  // a full warp and a half one
constexpr int kOut = 6;

__global__ void votes(const int* in, unsigned* out)
{
    __shared__ int s[kBlock];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    int lane = t % 32;
    unsigned* o = out + i * kOut;
    int v = in[i];
    // The lanes this warp has: 32, or 16 in the block's second warp.
    unsigned members = __activemask();
    unsigned ballot = __ballot_sync(members, v > 0);
    int all = __all_sync(members, v > -900);
    int any = __any_sync(members, v > 900);
    unsigned half = 0;
    if (lane < 16)
        half = __ballot_sync(0x0000ffffu, v % 2 == 0);
    s[t] = v;
    __syncwarp(members);
    int mate = s[t ^ 1];
    o[0] = members;
    o[1] = ballot;
    o[2] = all;
    o[3] = any;
    o[4] = half;
    o[5] = static_cast<unsigned>(mate);
}

int main()
{
    const int blocks = 4, n = blocks * kBlock;
    int h[n];
    unsigned out[n * kOut];
    unsigned seed = 5;
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        h[i] = static_cast<int>((seed >> 10) % 1901) - 950;
    }
    // Make one warp vote "all" true and one "any" false.
    for (int i = 0; i < 32; i++)
        h[kBlock + i] = 100 + i;
    for (int i = 0; i < 16; i++)
        h[2 * kBlock + 32 + i] = -5 - i;
    int* d_in;
    unsigned* d_out;
    CHECK(cudaMalloc(&d_in, sizeof(h)));
    CHECK(cudaMalloc(&d_out, sizeof(out)));
    CHECK(cudaMemcpy(d_in, h, sizeof(h), cudaMemcpyHostToDevice));
    votes<<<blocks, kBlock>>>(d_in, d_out);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(out, d_out, sizeof(out), cudaMemcpyDeviceToHost));

    static const char* what[kOut] = {"__activemask", "__ballot_sync", "__all_sync", "__any_sync",
                                     "half-warp ballot", "lane exchange"};
    for (int i = 0; i < n; i++) {
        int t = i % kBlock, lane = t % 32, w0 = i - lane;
        int width = t < 32 ? 32 : kBlock - 32;
        unsigned members = width == 32 ? 0xffffffffu : (1u << width) - 1;
        unsigned ballot = 0, half = 0;
        int all = 1, any = 0;
        for (int l = 0; l < width; l++) {
            ballot |= (h[w0 + l] > 0 ? 1u : 0u) << l;
            all &= h[w0 + l] > -900;
            any |= h[w0 + l] > 900;
            if (l < 16)
                half |= (h[w0 + l] % 2 == 0 ? 1u : 0u) << l;
        }
        unsigned ref[kOut] = {members, ballot, static_cast<unsigned>(all), static_cast<unsigned>(any),
                              lane < 16 ? half : 0, static_cast<unsigned>(h[i - t + (t ^ 1)])};
        for (int k = 0; k < kOut; k++) {
            // CUDA says only that __all_sync/__any_sync return non-zero.
            unsigned got = (k == 2 || k == 3) ? out[i * kOut + k] != 0 : out[i * kOut + k];
            if (got != ref[k]) {
                printf("FAIL " PROG ": thread %d, %s: %#x, expected %#x\n", i, what[k], out[i * kOut + k], ref[k]);
                return 1;
            }
        }
    }
    CHECK(cudaFree(d_in));
    CHECK(cudaFree(d_out));
    printf("PASS " PROG "\n");
    return 0;
}
