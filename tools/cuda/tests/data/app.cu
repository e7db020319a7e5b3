// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// app.cu - a second translation unit for the fatbin reader's tests: with
// kernels.cu it makes an executable linked with `-cudart shared`, whose
// .nv_fatbin section holds one fatbin per translation unit and one from
// the device-link step.  It is never run.
#include <cstdio>

__global__ void gpuvm_inc(int* p) { p[threadIdx.x] += 1; }

int main()
{
    int* d = nullptr;
    if (cudaMalloc(&d, 64 * sizeof(int)) != cudaSuccess)
        return 1;
    gpuvm_inc<<<1, 64>>>(d);
    std::printf("%d\n", static_cast<int>(cudaDeviceSynchronize()));
    return cudaFree(d) == cudaSuccess ? 0 : 1;
}
