// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// memset_odd.cu - cudaMemset of odd sizes at odd offsets: single bytes,
// runs that start and end inside a 32-bit word, long unaligned runs, a
// value wider than a byte (only its low byte counts), zero bytes and
// cudaMemsetAsync.  A kernel then sums and copies the bytes (so the GPU
// reads what was set), compared with the same operations done on a CPU
// buffer.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define PROG "memset_odd"
#include "check.h"

constexpr int kSize = 1001;

__global__ void weigh(const unsigned char* p, unsigned char* copy, unsigned long long* sum, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        copy[i] = p[i];
        atomicAdd(sum, static_cast<unsigned long long>(p[i]) * (i + 1));
    }
}

int main()
{
    struct Op {
        int off, value, len;
    };
    const Op ops[] = {{0, 0xAB, kSize}, {3, 0x11, 1},  {5, 0x22, 7},     {13, 0x00, 250}, {301, 0xFF, 3},
                      {1000, 0x5A, 1},  {2, 0x1234, 2}, {400, 0x77, 0},  {511, 0xC3, 489}, {7, 0x99, 1},
                      {64, 0x3C, 64},   {129, 0x81, 126}};
    unsigned char ref[kSize];
    unsigned char *d, *d_copy;
    unsigned long long* d_sum;
    CHECK(cudaMalloc(&d, kSize));
    CHECK(cudaMalloc(&d_copy, kSize));
    CHECK(cudaMalloc(&d_sum, sizeof(unsigned long long)));
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        if (k % 3 == 2) {
            CHECK(cudaMemsetAsync(d + ops[k].off, ops[k].value, ops[k].len, 0));
        } else {
            CHECK(cudaMemset(d + ops[k].off, ops[k].value, ops[k].len));
        }
        memset(ref + ops[k].off, ops[k].value, ops[k].len);
    }
    CHECK(cudaMemset(d_sum, 0, sizeof(unsigned long long)));
    weigh<<<(kSize + 127) / 128, 128>>>(d, d_copy, d_sum, kSize);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    unsigned char got[kSize], copy[kSize];
    unsigned long long sum, ref_sum = 0;
    CHECK(cudaMemcpy(got, d, kSize, cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(copy, d_copy, kSize, cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(&sum, d_sum, sizeof(sum), cudaMemcpyDeviceToHost));
    for (int i = 0; i < kSize; i++) {
        ref_sum += static_cast<unsigned long long>(ref[i]) * (i + 1);
        if (got[i] != ref[i] || copy[i] != ref[i]) {
            printf("FAIL " PROG ": byte %d is %#x (kernel read %#x), expected %#x\n", i, got[i], copy[i], ref[i]);
            return 1;
        }
    }
    if (sum != ref_sum) {
        printf("FAIL " PROG ": weighted sum %llu, expected %llu\n", sum, ref_sum);
        return 1;
    }
    CHECK(cudaFree(d));
    CHECK(cudaFree(d_copy));
    CHECK(cudaFree(d_sum));
    printf("PASS " PROG "\n");
    return 0;
}
