// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ref_kernels.cu - the samples' algorithms written in CUDA C, built with
// nvcc on a machine with CUDA (never in CI): the physical limit that
// `vgpu-bench engine --ref ref_kernels.ptx` compares translated kernels
// with.  Same algorithms, same roundings (no contraction into fma), so
// their results can be compared bit for bit too.
//   nvcc -O3 -arch=sm_90 -ptx ref_kernels.cu -o ref_kernels.ptx

extern "C" __global__ void empty_ref() {}

extern "C" __global__ void vecadd_ref(const float* a, const float* b, float* c, unsigned long long n)
{
    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = __fadd_rn(a[i], b[i]);
}

extern "C" __global__ void saxpy_ref(unsigned a_bits, const float* x, float* y, unsigned long long n)
{
    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = __fadd_rn(__fmul_rn(__uint_as_float(a_bits), x[i]), y[i]);
}

// 16x16 tiles in shared memory, as tools/samples/kernels/matmul.vas.
extern "C" __global__ void matmul_ref(const float* A, const float* B, float* C, unsigned long long n)
{
    __shared__ float As[16][16], Bs[16][16];
    unsigned tx = threadIdx.x, ty = threadIdx.y;
    unsigned long long row = blockIdx.y * 16 + ty, col = blockIdx.x * 16 + tx;
    float acc = 0.0f;

    for (unsigned long long k0 = 0; k0 < n; k0 += 16) {
        As[ty][tx] = A[row * n + k0 + tx];
        Bs[ty][tx] = B[(k0 + ty) * n + col];
        __syncthreads();
        for (int k = 0; k < 16; k++)
            acc = __fadd_rn(acc, __fmul_rn(As[ty][k], Bs[k][tx]));
        __syncthreads();
    }
    C[row * n + col] = acc;
}
