// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// mapped_pinned.cu - zero-copy host memory: cudaHostAlloc with
// cudaHostAllocMapped and cudaHostGetDevicePointer; a kernel reads its
// input from host memory and writes its output there, which the CPU reads
// directly after cudaDeviceSynchronize.  The CPU then changes the input
// in place and a second launch sees the change.  cudaMemGetInfo counts
// device memory, not pinned host memory.  Copies between pinned and
// device memory (GPUvm's engine makes them, not the CPU) at odd offsets
// and sizes across GPU pages, into small pinned allocations side by side,
// reach exactly the bytes they name.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define PROG "mapped_pinned"
#include "check.h"

__global__ void square_plus(const int* in, long long* out, int n, int k)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = static_cast<long long>(in[i]) * in[i] + k;
}

static unsigned char pattern(size_t i, int seed)
{
    return static_cast<unsigned char>((i * 131 + seed * 17 + (i >> 12)) & 0xff);
}

// Whether @n bytes at @p hold pattern(@first + i, @seed); says where not.
static bool holds(const unsigned char* p, size_t n, size_t first, int seed, const char* what)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(first + i, seed)) {
            printf("FAIL " PROG ": %s: byte %zu is %u, expected %u\n", what, i, p[i], pattern(first + i, seed));
            return false;
        }
    return true;
}

// Pinned -> device -> pinned at odd offsets, 2 MiB + 77 bytes (across
// GPU pages of either size), both copy calls and cudaMemcpyDefault; then
// small pinned allocations side by side (pieces of one GPU page where
// pages are large): a copy into one leaves its neighbours as they were.
static int pinned_copies()
{
    const size_t size = (3u << 20) + 123, n = (2u << 20) + 77, in_off = 5, dev_off = 3, out_off = 1001;
    unsigned char *h_in, *h_out, *d;
    CHECK(cudaMallocHost(&h_in, size));
    CHECK(cudaHostAlloc(&h_out, size, cudaHostAllocDefault));
    CHECK(cudaMalloc(&d, size));
    for (size_t i = 0; i < size; i++) {
        h_in[i] = pattern(i, 1);
        h_out[i] = pattern(i, 2);
    }
    CHECK(cudaMemcpy(d + dev_off, h_in + in_off, n, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(h_out + out_off, d + dev_off, n, cudaMemcpyDeviceToHost));
    if (!holds(h_out, out_off, 0, 2, "before the copied bytes") ||
        !holds(h_out + out_off, n, in_off, 1, "the bytes copied in and out") ||
        !holds(h_out + out_off + n, size - out_off - n, out_off + n, 2, "after the copied bytes"))
        return 1;
    // Up to the allocations' last byte.
    const size_t tail = 777;
    CHECK(cudaMemcpy(d + size - tail, h_in + size - tail, tail, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(h_out + size - tail, d + size - tail, tail, cudaMemcpyDeviceToHost));
    if (!holds(h_out + size - tail, tail, size - tail, 1, "a copy that ends at the allocations' end"))
        return 1;
    // The other way round, asynchronously and with the kind left to the
    // runtime: device -> pinned over what is there.
    CHECK(cudaMemset(d, 0x5a, size));
    CHECK(cudaMemcpyAsync(h_in + 7, d, 4096 + 9, cudaMemcpyDefault, 0));
    CHECK(cudaStreamSynchronize(0));
    for (size_t i = 0; i < size; i++) {
        unsigned char want = i >= 7 && i < 7 + 4096 + 9 ? 0x5a : pattern(i, 1);
        if (h_in[i] != want) {
            printf("FAIL " PROG ": after a device-to-pinned copy, byte %zu is %u, expected %u\n", i, h_in[i], want);
            return 1;
        }
    }
    const int kSmall = 4;
    const size_t small = 1000;
    unsigned char* s[kSmall];
    for (int k = 0; k < kSmall; k++) {
        CHECK(cudaMallocHost(&s[k], small));
        memset(s[k], 0x11 * (k + 1), small);
    }
    CHECK(cudaMemcpy(s[1], d, small, cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(d + 100, s[2], small, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(s[3], d + 100, small, cudaMemcpyDeviceToHost));
    for (int k = 0; k < kSmall; k++)
        for (size_t i = 0; i < small; i++) {
            unsigned char want = k == 1 ? 0x5a : k == 3 ? 0x33 : 0x11 * (k + 1);
            if (s[k][i] != want) {
                printf("FAIL " PROG ": small pinned allocation %d, byte %zu is %u, expected %u\n", k, i, s[k][i], want);
                return 1;
            }
        }
    // A copy across two of them (where they lie side by side: pieces of a
    // page) runs past the end of the allocation it starts in:
    // cudaErrorInvalidValue, as NVIDIA's runtime says (H100, driver 580),
    // and nothing is copied.
    if (s[2] == s[1] + 1024) {
        CHECK(cudaMemset(d, 0x66, 2 * 1024));
        cudaError_t e = cudaMemcpy(d, s[1], 2 * 1024, cudaMemcpyHostToDevice);
        if (e != cudaErrorInvalidValue) {
            printf("FAIL " PROG ": a copy across two pinned allocations: %s, expected cudaErrorInvalidValue\n",
                   cudaGetErrorName(e));
            return 1;
        }
        cudaGetLastError();  // not sticky
        unsigned char back[2 * 1024];
        CHECK(cudaMemcpy(back, d, sizeof(back), cudaMemcpyDeviceToHost));
        for (size_t i = 0; i < sizeof(back); i++)
            if (back[i] != 0x66) {
                printf("FAIL " PROG ": a refused copy wrote byte %zu\n", i);
                return 1;
            }
    }
    // Freed and allocated again (perhaps at the same address): copies
    // reach the new allocation.
    CHECK(cudaFreeHost(s[0]));
    CHECK(cudaMallocHost(&s[0], small));
    CHECK(cudaMemset(d, 0x77, small));
    CHECK(cudaMemcpy(s[0], d, small, cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < small; i++)
        if (s[0][i] != 0x77) {
            printf("FAIL " PROG ": a pinned allocation made again, byte %zu is %u\n", i, s[0][i]);
            return 1;
        }
    for (int k = 0; k < kSmall; k++)
        CHECK(cudaFreeHost(s[k]));
    CHECK(cudaFree(d));
    CHECK(cudaFreeHost(h_in));
    CHECK(cudaFreeHost(h_out));
    return 0;
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
    if (pinned_copies())
        return 1;
    printf("PASS " PROG "\n");
    return 0;
}
