// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// warp_shuffle.cu - __shfl_sync, __shfl_up_sync, __shfl_down_sync and
// __shfl_xor_sync: a warp sum by shifting down, a butterfly sum that every
// lane receives, a broadcast and a rotation, an inclusive scan, shuffles
// within sub-warps of 8 lanes (width) and a double shuffled through its
// two halves.  Four warps per block, three blocks.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "warp_shuffle"
#include "check.h"

constexpr unsigned kFull = 0xffffffffu;
constexpr int kOut = 7;  // results per thread

__global__ void shuffles(const int* in, int* out)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    int lane = threadIdx.x % 32;
    int warp = i / 32;
    int v = in[i];
    int* o = out + i * kOut;

    int down = v;  // lane 0 ends with the warp's sum
    for (int d = 16; d > 0; d >>= 1)
        down += __shfl_down_sync(kFull, down, d);
    int bfly = v;  // every lane ends with it
    for (int m = 1; m < 32; m <<= 1)
        bfly += __shfl_xor_sync(kFull, bfly, m);
    int bcast = __shfl_sync(kFull, v, (warp * 5 + 3) % 32);
    int rot = __shfl_sync(kFull, v, lane + 3);  // srcLane mod 32
    int scan = v;
    for (int d = 1; d < 32; d <<= 1) {
        int u = __shfl_up_sync(kFull, scan, d);
        if (lane >= d)
            scan += u;
    }
    int sub = __shfl_down_sync(kFull, v, 3, 8);  // within groups of 8 lanes
    double x = v * 0.5 + lane;
    double y = __shfl_xor_sync(kFull, x, 17);
    o[0] = lane == 0 ? down : -1;
    o[1] = bfly;
    o[2] = bcast;
    o[3] = rot;
    o[4] = scan;
    o[5] = sub;
    o[6] = static_cast<int>(y * 4.0);
}

int main()
{
    const int blocks = 3, threads = 128, n = blocks * threads;
    int* h = static_cast<int*>(malloc(n * sizeof(int)));
    int* out = static_cast<int*>(malloc(n * kOut * sizeof(int)));
    unsigned seed = 2024;
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = static_cast<int>(seed >> 20) - 2048;
    }
    int *d_in, *d_out;
    CHECK(cudaMalloc(&d_in, n * sizeof(int)));
    CHECK(cudaMalloc(&d_out, n * kOut * sizeof(int)));
    CHECK(cudaMemcpy(d_in, h, n * sizeof(int), cudaMemcpyHostToDevice));
    shuffles<<<blocks, threads>>>(d_in, d_out);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(out, d_out, n * kOut * sizeof(int), cudaMemcpyDeviceToHost));

    static const char* what[kOut] = {"shfl_down sum", "shfl_xor sum",  "broadcast", "rotation",
                                     "shfl_up scan",  "width-8 down", "double xor"};
    for (int i = 0; i < n; i++) {
        int lane = i % 32, w0 = i - lane, warp = i / 32;
        int sum = 0, scan = 0;
        for (int l = 0; l < 32; l++)
            sum += h[w0 + l];
        for (int l = 0; l <= lane; l++)
            scan += h[w0 + l];
        int g = lane & ~7;  // the lane's group of 8
        int sub = (lane - g) + 3 < 8 ? h[w0 + lane + 3] : h[i];
        int xl = lane ^ 17;
        int ref[kOut] = {lane == 0 ? sum : -1,
                         sum,
                         h[w0 + (warp * 5 + 3) % 32],
                         h[w0 + (lane + 3) % 32],
                         scan,
                         sub,
                         static_cast<int>((h[w0 + xl] * 0.5 + xl) * 4.0)};
        for (int k = 0; k < kOut; k++)
            if (out[i * kOut + k] != ref[k]) {
                printf("FAIL " PROG ": thread %d, %s: %d, expected %d\n", i, what[k], out[i * kOut + k], ref[k]);
                return 1;
            }
    }
    CHECK(cudaFree(d_in));
    CHECK(cudaFree(d_out));
    free(h);
    free(out);
    printf("PASS " PROG "\n");
    return 0;
}
