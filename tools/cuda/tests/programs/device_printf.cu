// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// device_printf.cu - printf from a kernel: four threads print an int, an
// unsigned long long, a double, a float (promoted) and a string.  The
// program cannot read its own stdout, so it checks that the kernel runs
// and synchronizes without error, that the values it printed from are the
// ones the host computes (written to memory too), and prints the lines
// the device should have printed, so that a person can compare.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "device_printf"
#include "check.h"

__global__ void hello(int base, double scale, int* seen)
{
    int t = threadIdx.x;
    unsigned long long big = 0x100000000ull * (t + 1) + t;
    float f = t * 0.5f;
    printf("device: thread %d value %d big %llu scaled %.3f half %.1f %s\n", t, base + t * t, big, scale * t, f,
           t % 2 ? "odd" : "even");
    seen[t] = base + t * t;
}

int main()
{
    const int threads = 4, base = 100;
    const double scale = 1.25;
    int* d_seen;
    int seen[threads];
    CHECK(cudaMalloc(&d_seen, sizeof(seen)));
    hello<<<1, threads>>>(base, scale, d_seen);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());  // flushes the device's printf buffer
    CHECK(cudaMemcpy(seen, d_seen, sizeof(seen), cudaMemcpyDeviceToHost));
    fflush(stdout);
    printf("expected (in any order):\n");
    for (int t = 0; t < threads; t++)
        printf("device: thread %d value %d big %llu scaled %.3f half %.1f %s\n", t, base + t * t,
               0x100000000ull * (t + 1) + t, scale * t, t * 0.5f, t % 2 ? "odd" : "even");
    for (int t = 0; t < threads; t++)
        if (seen[t] != base + t * t) {
            printf("FAIL " PROG ": thread %d wrote %d, expected %d\n", t, seen[t], base + t * t);
            return 1;
        }
    CHECK(cudaFree(d_seen));
    printf("PASS " PROG "\n");
    return 0;
}
