// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// kernels.cu - device code for the fatbin reader's tests (tools/cuda/
// CMakeLists.txt compiles it with nvcc into fatbins in every compression
// mode, PTX, an object and, with app.cu, an executable).  Small on
// purpose: a few kernels with parameters, shared memory, a device
// function and an initialised global, so the PTX has some variety.

__device__ int gpuvm_table[4] = {1, 2, 3, 5};

__device__ float gpuvm_twice(float x) { return 2.0f * x; }

extern "C" __global__ void gpuvm_saxpy(float a, const float* x, float* y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = a * x[i] + y[i];
}

extern "C" __global__ void gpuvm_sum(const int* in, int* out, int n)
{
    __shared__ int part[128];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    part[threadIdx.x] = i < n ? in[i] * gpuvm_table[i & 3] : 0;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s)
            part[threadIdx.x] += part[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        atomicAdd(out, part[0]);
}

__global__ void gpuvm_scale(float* p, float s, int n)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        p[i] = gpuvm_twice(p[i]) * s;
}
