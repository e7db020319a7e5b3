// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// api_coverage.cu - a program that calls runtime functions GPUvm does not
// implement starts and runs: each such call returns cudaErrorNotSupported
// (cudaGetLastError reports it once, later calls work) or, on NVIDIA's
// runtime, works.  The per-thread default stream's entry points (what
// --default-stream per-thread compiles cudaMemcpy and launches to:
// cudaMemcpy_ptds, cudaLaunchKernel_ptsz, ...) work, and a kernel on
// cudaStreamPerThread computes the right thing.  cudaCreateChannelDesc
// (a struct returned by value) gives the format asked for.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "api_coverage"
#include "check.h"

// The names cuda_runtime_api.h maps these calls to under
// CUDA_API_PER_THREAD_DEFAULT_STREAM (declared here: this program is
// built with the legacy default stream, as the others are).
extern "C" cudaError_t cudaMemcpy_ptds(void* dst, const void* src, size_t n, cudaMemcpyKind kind);
extern "C" cudaError_t cudaMemset_ptds(void* p, int value, size_t n);
extern "C" cudaError_t cudaMemcpyAsync_ptsz(void* dst, const void* src, size_t n, cudaMemcpyKind kind,
                                            cudaStream_t s);
extern "C" cudaError_t cudaStreamSynchronize_ptsz(cudaStream_t s);
extern "C" cudaError_t cudaLaunchKernel_ptsz(const void* f, dim3 grid, dim3 block, void** args, size_t shared,
                                             cudaStream_t s);

__global__ void add_index(int* v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        v[i] += i;
}

static int failures;

// An unimplemented call: success (NVIDIA) or cudaErrorNotSupported, which
// cudaGetLastError then returns once.
static void maybe(cudaError_t e, const char* what)
{
    if (e == cudaSuccess)
        return;
    if (e != cudaErrorNotSupported) {
        printf("FAIL " PROG ": %s: %s, expected success or cudaErrorNotSupported\n", what, cudaGetErrorName(e));
        failures++;
        return;
    }
    cudaError_t last = cudaGetLastError(), again = cudaGetLastError();
    if (last != cudaErrorNotSupported || again != cudaSuccess) {
        printf("FAIL " PROG ": %s: cudaGetLastError gave %s then %s\n", what, cudaGetErrorName(last),
               cudaGetErrorName(again));
        failures++;
    }
}

int main()
{
    constexpr int n = 1000;
    int* d;
    int h[n];
    CHECK(cudaMalloc(&d, n * sizeof(int)));

    cudaIpcMemHandle_t ipc;
    maybe(cudaIpcGetMemHandle(&ipc, d), "cudaIpcGetMemHandle");
    char bus[32];
    maybe(cudaDeviceGetPCIBusId(bus, sizeof(bus), 0), "cudaDeviceGetPCIBusId");
    int prio = 0;
    maybe(cudaStreamGetPriority(cudaStreamPerThread, &prio), "cudaStreamGetPriority");
    cudaMemPool_t pool;
    maybe(cudaDeviceGetDefaultMemPool(&pool, 0), "cudaDeviceGetDefaultMemPool");

    // The per-thread default stream's entry points.
    for (int i = 0; i < n; i++)
        h[i] = 3 * i;
    CHECK(cudaMemset_ptds(d, 0, n * sizeof(int)));
    CHECK(cudaMemcpy_ptds(d, h, n / 2 * sizeof(int), cudaMemcpyHostToDevice));
    int len = n;
    void* args[] = {&d, &len};
    CHECK(cudaLaunchKernel_ptsz(reinterpret_cast<const void*>(add_index), dim3((n + 127) / 128), dim3(128), args, 0,
                                cudaStreamPerThread));
    add_index<<<(n + 255) / 256, 256, 0, cudaStreamPerThread>>>(d, n);
    CHECK(cudaGetLastError());
    CHECK(cudaStreamSynchronize_ptsz(cudaStreamPerThread));
    int back[n];
    CHECK(cudaMemcpyAsync_ptsz(back, d, sizeof(back), cudaMemcpyDeviceToHost, cudaStreamPerThread));
    CHECK(cudaStreamSynchronize_ptsz(0));
    for (int i = 0; i < n; i++) {
        int want = (i < n / 2 ? 3 * i : 0) + 2 * i;
        if (back[i] != want) {
            printf("FAIL " PROG ": element %d is %d, expected %d\n", i, back[i], want);
            failures++;
            break;
        }
    }

    cudaChannelFormatDesc f = cudaCreateChannelDesc<float>();
    cudaChannelFormatDesc u = cudaCreateChannelDesc(8, 8, 8, 8, cudaChannelFormatKindUnsigned);
    if (f.x != 32 || f.y || f.z || f.w || f.f != cudaChannelFormatKindFloat || u.x != 8 || u.w != 8 ||
        u.f != cudaChannelFormatKindUnsigned) {
        printf("FAIL " PROG ": cudaCreateChannelDesc gave {%d %d %d %d %d}\n", f.x, f.y, f.z, f.w, f.f);
        failures++;
    }
    CHECK(cudaFree(d));
    if (failures)
        return 1;
    printf("PASS " PROG "\n");
    return 0;
}
