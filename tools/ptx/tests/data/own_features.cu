// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// PTX front-end test data: CUDA C++ whose PTX (nvcc -ptx) uses what the
// front end must read: f64 and the math library, atomics, warp
// intrinsics, device printf and assert, local arrays, recursion through
// a device function, templates, __constant__ and __device__ variables
// and a large kernel parameter.  Compiled, never run, by the tests.
#include <cassert>
#include <cstdio>

__constant__ float coeffs[16] = {1.0f, 2.0f, 0.5f};
__device__ unsigned long long counter;

struct Big {
    int v[1000];  // 4000 bytes of kernel parameter
};

__device__ __noinline__ int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

template <typename T>
__global__ void scale(T* out, const T* in, T k, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = in[i] * k + static_cast<T>(coeffs[i & 15]);
}
template __global__ void scale<float>(float*, const float*, float, int);
template __global__ void scale<double>(double*, const double*, double, int);

__global__ void math(double* d, float* f, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    d[i] = sqrt(d[i]) + exp(d[i]) / log1p(fabs(d[i])) + fma(d[i], 2.0, 1.0);
    f[i] = sinf(f[i]) * __expf(f[i]) + rsqrtf(f[i]) + __fdividef(f[i], 3.0f);
}

__global__ void warps(unsigned* out, const unsigned* in) {
    unsigned v = in[threadIdx.x];
    for (int o = 16; o > 0; o /= 2)
        v += __shfl_down_sync(0xffffffffu, v, o);
    unsigned ballot = __ballot_sync(0xffffffffu, v & 1);
    if (__all_sync(0xffffffffu, v != 0) && (threadIdx.x & 31) == 0)
        out[threadIdx.x / 32] = v ^ ballot ^ __popc(ballot) ^ __clz(v) ^ __brev(v);
}

__global__ void atomics(int* i, unsigned* u, float* f, double* d, unsigned long long* ll) {
    atomicAdd(i, 1);
    atomicMin(i + 1, static_cast<int>(threadIdx.x));
    atomicMax(u, threadIdx.x);
    atomicCAS(u + 1, 0u, threadIdx.x);
    atomicExch(u + 2, threadIdx.x);
    atomicInc(u + 3, 100u);
    atomicAnd(u + 4, ~threadIdx.x);
    atomicOr(u + 5, threadIdx.x);
    atomicXor(u + 6, threadIdx.x);
    atomicAdd(f, 1.5f);
    atomicAdd(d, 2.5);
    atomicAdd(ll, 1ull);
    atomicAdd(&counter, 1ull);
    __shared__ int s[32];
    s[threadIdx.x & 31] = 0;
    __syncthreads();
    atomicAdd(&s[threadIdx.x & 31], 1);
    __threadfence();
    __syncthreads();
    i[2 + (threadIdx.x & 31)] = s[threadIdx.x & 31];
}

__global__ void locals(int* out, int n) {
    int a[64];
    for (int k = 0; k < 64; k++)
        a[k] = k * n;
    out[threadIdx.x] = a[(threadIdx.x * 7) & 63] + fib(n & 7);
    printf("thread %d of block %d: %d\n", threadIdx.x, blockIdx.x, out[threadIdx.x]);
    assert(out[threadIdx.x] >= 0);
}

__global__ void big(Big b, int* out) { out[threadIdx.x] = b.v[threadIdx.x % 1000]; }

__global__ void dynamic_shared(float* out) {
    extern __shared__ float buf[];
    buf[threadIdx.x] = threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = buf[blockDim.x - 1 - threadIdx.x];
}

// Calls through function pointers: a .callprototype and an indirect call.
__device__ int twice(int x) { return 2 * x; }
__device__ int thrice(int x) { return 3 * x; }
__device__ int (*ops[2])(int) = {twice, thrice};

__global__ void indirect(int* out) { out[threadIdx.x] = ops[threadIdx.x & 1](static_cast<int>(threadIdx.x)); }
