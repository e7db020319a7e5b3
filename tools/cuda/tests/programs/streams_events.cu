// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// streams_events.cu - two streams, each copying its half of the data in
// with cudaMemcpyAsync from pinned memory, running a kernel and copying
// the result back; events recorded around the work (elapsed times >= 0),
// a stream waiting on the other's event, cudaStreamSynchronize,
// cudaEventSynchronize and cudaStreamQuery/cudaEventQuery after
// completion.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "streams_events"
#include "check.h"

__global__ void transform(const int* in, int* out, int n, int k)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = in[i] * k + i;
}

__global__ void add_halves(const int* a, const int* b, int* c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] - b[i];
}

int main()
{
    const int n = 4096, half = n / 2;
    int *h_in, *h_out, *h_diff;
    CHECK(cudaMallocHost(&h_in, n * sizeof(int)));
    CHECK(cudaMallocHost(&h_out, n * sizeof(int)));
    CHECK(cudaHostAlloc(&h_diff, half * sizeof(int), cudaHostAllocDefault));
    for (int i = 0; i < n; i++)
        h_in[i] = (i * 2654435761u) >> 20;
    int *d_in, *d_out, *d_diff;
    CHECK(cudaMalloc(&d_in, n * sizeof(int)));
    CHECK(cudaMalloc(&d_out, n * sizeof(int)));
    CHECK(cudaMalloc(&d_diff, half * sizeof(int)));

    cudaStream_t s[2];
    cudaEvent_t start, done[2], stop;
    for (int k = 0; k < 2; k++)
        CHECK(cudaStreamCreate(&s[k]));
    CHECK(cudaEventCreate(&start));
    CHECK(cudaEventCreate(&stop));
    for (int k = 0; k < 2; k++)
        CHECK(cudaEventCreateWithFlags(&done[k], cudaEventDefault));
    CHECK(cudaEventRecord(start, s[0]));
    for (int k = 0; k < 2; k++) {
        int off = k * half;
        CHECK(cudaMemcpyAsync(d_in + off, h_in + off, half * sizeof(int), cudaMemcpyHostToDevice, s[k]));
        transform<<<half / 256, 256, 0, s[k]>>>(d_in + off, d_out + off, half, k + 2);
        CHECK(cudaGetLastError());
        CHECK(cudaMemcpyAsync(h_out + off, d_out + off, half * sizeof(int), cudaMemcpyDeviceToHost, s[k]));
        CHECK(cudaEventRecord(done[k], s[k]));
    }
    // Stream 0 needs stream 1's half too.
    CHECK(cudaStreamWaitEvent(s[0], done[1], 0));
    add_halves<<<half / 256, 256, 0, s[0]>>>(d_out + half, d_out, d_diff, half);
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpyAsync(h_diff, d_diff, half * sizeof(int), cudaMemcpyDeviceToHost, s[0]));
    CHECK(cudaEventRecord(stop, s[0]));
    CHECK(cudaStreamSynchronize(s[0]));
    CHECK(cudaStreamSynchronize(s[1]));
    CHECK(cudaEventSynchronize(stop));
    CHECK(cudaStreamQuery(s[0]));
    CHECK(cudaEventQuery(done[1]));

    float ms[3];
    CHECK(cudaEventElapsedTime(&ms[0], start, done[0]));
    CHECK(cudaEventElapsedTime(&ms[1], start, done[1]));
    CHECK(cudaEventElapsedTime(&ms[2], start, stop));
    for (int k = 0; k < 3; k++)
        if (!(ms[k] >= 0.0f)) {
            printf("FAIL " PROG ": elapsed time %d is %g ms\n", k, ms[k]);
            return 1;
        }
    for (int i = 0; i < n; i++) {
        int k = i / half, j = i % half;
        int want = h_in[i] * (k + 2) + j;
        if (h_out[i] != want) {
            printf("FAIL " PROG ": out[%d] = %d, expected %d\n", i, h_out[i], want);
            return 1;
        }
    }
    for (int j = 0; j < half; j++)
        if (h_diff[j] != h_out[half + j] - h_out[j]) {
            printf("FAIL " PROG ": diff[%d] = %d, expected %d\n", j, h_diff[j], h_out[half + j] - h_out[j]);
            return 1;
        }
    for (int k = 0; k < 2; k++) {
        CHECK(cudaEventDestroy(done[k]));
        CHECK(cudaStreamDestroy(s[k]));
    }
    CHECK(cudaEventDestroy(start));
    CHECK(cudaEventDestroy(stop));
    CHECK(cudaFree(d_in));
    CHECK(cudaFree(d_out));
    CHECK(cudaFree(d_diff));
    CHECK(cudaFreeHost(h_in));
    CHECK(cudaFreeHost(h_out));
    CHECK(cudaFreeHost(h_diff));
    printf("PASS " PROG "\n");
    return 0;
}
