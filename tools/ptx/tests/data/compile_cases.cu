// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Kernels whose PTX (nvcc -ptx -arch=sm_75, at build time) the compiler's
// tests compile to vgpu ISA and run in the interpreter against CPU
// references (tests/test_ptx_compile.cpp).  Each exercises one part of
// the PTX that nvcc emits.
#include <cstdint>

extern "C" __global__ void vec_add(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}

extern "C" __global__ void daxpy(double a, const double* x, double* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = fma(a, x[i], y[i]);
}

// Shared memory, barriers, a tree reduction.
extern "C" __global__ void block_sum(const int* in, int* out, int n) {
    __shared__ int s[256];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    s[t] = i < n ? in[i] : 0;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (t < k)
            s[t] += s[t + k];
        __syncthreads();
    }
    if (t == 0)
        out[blockIdx.x] = s[0];
}

// Dynamic shared memory: each block reverses its slice.
extern "C" __global__ void reverse_dyn(int* d, int n) {
    extern __shared__ int s[];
    int t = threadIdx.x;
    int base = blockIdx.x * blockDim.x;
    if (base + t < n)
        s[t] = d[base + t];
    __syncthreads();
    int r = blockDim.x - 1 - t;
    if (base + r < n && base + t < n)
        d[base + t] = s[r];
}

// Global and shared atomics.
extern "C" __global__ void histogram(const unsigned char* in, unsigned* bins, int n) {
    __shared__ unsigned local[16];
    if (threadIdx.x < 16)
        local[threadIdx.x] = 0;
    __syncthreads();
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        atomicAdd(&local[in[i] & 15], 1u);
    __syncthreads();
    if (threadIdx.x < 16)
        atomicAdd(&bins[threadIdx.x], local[threadIdx.x]);
}

extern "C" __global__ void atomics_mixed(int* imin, int* imax, unsigned long long* sum, float* fsum, int* cas) {
    int v = (int)(threadIdx.x * 37u % 101u) - 50;
    atomicMin(imin, v);
    atomicMax(imax, v);
    atomicAdd(sum, (unsigned long long)threadIdx.x << 33);
    atomicAdd(fsum, 0.5f);
    int old = *cas, assumed;
    do {
        assumed = old;
        old = atomicCAS(cas, assumed, assumed + 3);
    } while (old != assumed);
}

// Device functions the compiler inlines (noinline: nvcc emits calls).
__device__ __noinline__ float poly(float x, float a) { return (x * a + 1.0f) * x - 2.0f; }
__device__ __noinline__ int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

extern "C" __global__ void calls(const float* in, float* out, int* iout, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = poly(in[i], 0.5f);
        iout[i] = clampi(i * 7 - 40, -10, 100);
    }
}

template <typename T>
__global__ void scale(T* p, T s, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        p[i] = p[i] * s;
}
template __global__ void scale<int>(int*, int, int);
template __global__ void scale<double>(double*, double, int);

// 32-bit integer operations.
extern "C" __global__ void int_ops(const int* a, const int* b, int* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    int x = a[i], y = b[i];
    unsigned ux = (unsigned)x, uy = (unsigned)y;
    int* o = out + i * 16;
    o[0] = y ? x / y : 0;
    o[1] = y ? x % y : 0;
    o[2] = uy ? (int)(ux / uy) : 0;
    o[3] = uy ? (int)(ux % uy) : 0;
    o[4] = x >> (y & 31);
    o[5] = (int)(ux >> (uy & 31));
    o[6] = x << (y & 31);
    o[7] = min(x, y);
    o[8] = max(x, y);
    o[9] = (int)min(ux, uy);
    o[10] = abs(x);
    o[11] = __popc(ux);
    o[12] = __clz(x);
    o[13] = (int)__brev(ux);
    o[14] = __mulhi(x, y);
    o[15] = (int)__umulhi(ux, uy);
}

// 64-bit integer operations.
extern "C" __global__ void u64_ops(const unsigned long long* a, const unsigned long long* b,
                                   unsigned long long* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    unsigned long long x = a[i], y = b[i];
    long long sx = (long long)x, sy = (long long)y;
    unsigned long long* o = out + i * 10;
    o[0] = x * y;
    o[1] = __umul64hi(x, y);
    o[2] = (unsigned long long)__mul64hi(sx, sy);
    o[3] = y ? x / y : 0;
    o[4] = sy && !(sx == INT64_MIN && sy == -1) ? (unsigned long long)(sx / sy) : 0;
    o[5] = x >> (y & 63);
    o[6] = (unsigned long long)(sx >> (y & 63));
    o[7] = __popcll(x) + 100 * __clzll(y);
    o[8] = __brevll(x);
    o[9] = x + y + (x < y);
}

// Conversions with PTX's rounding modes.
extern "C" __global__ void conversions(const float* f, const double* d, int* out, float* fout, double* dout, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    float x = f[i];
    double y = d[i];
    int* o = out + i * 8;
    o[0] = (int)x;
    o[1] = __float2int_rn(x);
    o[2] = __float2int_rd(x);
    o[3] = __float2int_ru(x);
    o[4] = (int)__float2uint_rn(x);
    o[5] = __double2int_rn(y);
    o[6] = (int)(long long)y;
    o[7] = (int)(short)(int)x;
    float* fo = fout + i * 4;
    fo[0] = (float)y;
    fo[1] = __double2float_rz(y);
    fo[2] = (float)(i * 1234567 + 1);
    fo[3] = __int2float_rz(i * 1234567 + 1);
    double* dd = dout + i * 2;
    dd[0] = (double)x;
    dd[1] = (double)(long long)(i * -987654321LL);
}

// binary32 and binary64 arithmetic.
extern "C" __global__ void float_ops(const float* a, const float* b, float* out, const double* da,
                                     const double* db, double* dout, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    float x = a[i], y = b[i];
    float* o = out + i * 10;
    o[0] = __fadd_rn(x, y);
    o[1] = __fmul_rz(x, y);
    o[2] = __fdiv_rn(x, y);
    o[3] = sqrtf(fabsf(x));
    o[4] = fmaf(x, y, 1.0f);
    o[5] = fminf(x, y);
    o[6] = fmaxf(x, y);
    o[7] = copysignf(x, y);
    o[8] = x < y ? 1.0f : (x == y ? 2.0f : 3.0f);
    o[9] = isnan(x) ? 4.0f : (isinf(y) ? 5.0f : 6.0f);
    double p = da[i], q = db[i];
    double* dd = dout + i * 6;
    dd[0] = p + q;
    dd[1] = p * q;
    dd[2] = p / q;
    dd[3] = sqrt(fabs(p));
    dd[4] = fma(p, q, -1.0);
    dd[5] = p < q ? fmin(p, q) : fmax(p, q) + 1.0;
}

// __constant__ and initialised __device__ variables (the data segment).
__constant__ float coeffs[4];
__device__ int bias = 5;
__device__ unsigned long long table[3] = {1, 0x123456789abcdefull, 3};

extern "C" __global__ void use_globals(const float* in, float* out, int* iout, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float x = in[i];
        out[i] = ((coeffs[3] * x + coeffs[2]) * x + coeffs[1]) * x + coeffs[0];
        iout[i] = bias + (int)(table[i % 3] >> 32);
    }
    if (i == 0)
        bias = 7;
}

// Two- and three-dimensional grids and blocks.
extern "C" __global__ void grid3d(unsigned* out, int w, int h) {
    unsigned x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned y = blockIdx.y * blockDim.y + threadIdx.y;
    unsigned z = blockIdx.z * blockDim.z + threadIdx.z;
    if (x < (unsigned)w && y < (unsigned)h)
        out[(z * h + y) * w + x] = x * 10000 + y * 100 + z + gridDim.x * 1000000;
}

// A parameter buffer larger than the eight launch parameters (64 bytes).
struct Big {
    int v[40];
    double d;
};
extern "C" __global__ void big_params(Big b, int k, int* out) {
    int t = threadIdx.x;
    if (t < 40)
        out[t] = b.v[t] * k + (int)b.d;
    if (t == 40)
        out[40] = b.v[(k + 3) % 40];
}

// Loops with 64-bit induction and early exit; a read out of bounds
// faults for the tests' fault check.
extern "C" __global__ void oob_store(int* p, long long index) { p[index] = 1; }
