// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// integer_ops.cu - integer arithmetic and the bit intrinsics: signed and
// unsigned division and remainder with negative operands (C++ truncates
// toward zero), arithmetic and logical shifts, __popc, __clz, __ffs,
// __brev, __byte_perm, __mulhi/__umulhi, their 64-bit forms, and 64-bit
// multiplication, division and remainder.  The CPU computes the same with
// plain C++ and its own definitions of the intrinsics.
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cuda_runtime.h>

#define PROG "integer_ops"
#include "check.h"

constexpr int kOut = 24;

struct Ops32 {
    static __device__ int popc(unsigned x) { return __popc(x); }
    static __device__ int clz(unsigned x) { return __clz(x); }
    static __device__ int ffs(int x) { return __ffs(x); }
    static __device__ unsigned brev(unsigned x) { return __brev(x); }
    static __device__ unsigned perm(unsigned a, unsigned b, unsigned s) { return __byte_perm(a, b, s); }
    static __device__ int mulhi(int a, int b) { return __mulhi(a, b); }
    static __device__ unsigned umulhi(unsigned a, unsigned b) { return __umulhi(a, b); }
    static __device__ int popcll(uint64_t x) { return __popcll(x); }
    static __device__ int clzll(int64_t x) { return __clzll(x); }
    static __device__ uint64_t brevll(uint64_t x) { return __brevll(x); }
    static __device__ int64_t mul64hi(int64_t a, int64_t b) { return __mul64hi(a, b); }
    static __device__ uint64_t umul64hi(uint64_t a, uint64_t b) { return __umul64hi(a, b); }
};

struct Host {
    static int popc(unsigned x) { return __builtin_popcount(x); }
    static int clz(unsigned x) { return x ? __builtin_clz(x) : 32; }
    static int ffs(int x) { return __builtin_ffs(x); }
    static unsigned brev(unsigned x)
    {
        unsigned r = 0;
        for (int i = 0; i < 32; i++)
            r |= ((x >> i) & 1u) << (31 - i);
        return r;
    }
    static unsigned perm(unsigned a, unsigned b, unsigned s)
    {
        uint64_t v = (static_cast<uint64_t>(b) << 32) | a;
        unsigned r = 0;
        for (int k = 0; k < 4; k++)
            r |= static_cast<unsigned>((v >> (8 * ((s >> (4 * k)) & 7))) & 0xff) << (8 * k);
        return r;
    }
    static int mulhi(int a, int b) { return static_cast<int>((static_cast<int64_t>(a) * b) >> 32); }
    static unsigned umulhi(unsigned a, unsigned b) { return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32); }
    static int popcll(uint64_t x) { return __builtin_popcountll(x); }
    static int clzll(int64_t x) { return x ? __builtin_clzll(static_cast<uint64_t>(x)) : 64; }
    static uint64_t brevll(uint64_t x) { return (static_cast<uint64_t>(brev(static_cast<unsigned>(x))) << 32) | brev(static_cast<unsigned>(x >> 32)); }
    static int64_t mul64hi(int64_t a, int64_t b) { return static_cast<int64_t>((static_cast<__int128>(a) * b) >> 64); }
    static uint64_t umul64hi(uint64_t a, uint64_t b) { return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64); }
};

// Every result of one operand pair, as 64-bit words.  (The host
// instantiation calls Host's functions, the device one Ops32's.)
#pragma nv_exec_check_disable
template <typename I>
__host__ __device__ void compute(int a, int b, int64_t x, int64_t y, uint64_t* r)
{
    unsigned ua = static_cast<unsigned>(a), ub = static_cast<unsigned>(b);
    int s = b & 31;
    r[0] = static_cast<uint64_t>(a / b);
    r[1] = static_cast<uint64_t>(a % b);
    r[2] = ua / ub;
    r[3] = ua % ub;
    r[4] = static_cast<uint64_t>(a >> s);  // arithmetic
    r[5] = ua >> s;                         // logical
    r[6] = ua << s;
    r[7] = static_cast<uint64_t>(x / y);
    r[8] = static_cast<uint64_t>(x % y);
    r[9] = static_cast<uint64_t>(x) / static_cast<uint64_t>(y);
    r[10] = static_cast<uint64_t>(x) % static_cast<uint64_t>(y);
    r[11] = static_cast<uint64_t>(x) * static_cast<uint64_t>(y);  // mul.lo: the same bits signed
    r[12] = static_cast<uint64_t>(x >> (b & 63)) ^ (static_cast<uint64_t>(x) << (a & 63));
    r[13] = I::popc(ua) | (I::clz(ub) << 8) | (I::ffs(a) << 16);
    r[14] = I::brev(ua);
    r[15] = I::perm(ua, ub, 0x3210u + static_cast<unsigned>(a & 0x7777));
    r[16] = I::perm(ua, ub, static_cast<unsigned>(b));
    r[17] = static_cast<uint64_t>(I::mulhi(a, b));
    r[18] = I::umulhi(ua, ub);
    r[19] = I::popcll(static_cast<uint64_t>(x)) | (I::clzll(y) << 8);
    r[20] = I::brevll(static_cast<uint64_t>(x));
    r[21] = static_cast<uint64_t>(I::mul64hi(x, y));
    r[22] = I::umul64hi(static_cast<uint64_t>(x), static_cast<uint64_t>(y));
    r[23] = static_cast<uint64_t>(static_cast<int64_t>(a < b ? a : b)) - static_cast<uint64_t>(x > y ? x : y) +
            (a < 0 ? 0u - ua : ua);
}

__global__ void kernel(const int* a, const int64_t* x, uint64_t* out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        compute<Ops32>(a[2 * i], a[2 * i + 1], x[2 * i], x[2 * i + 1], out + kOut * i);
}

int main()
{
    const int n = 256;
    int a[2 * n];
    int64_t x[2 * n];
    static uint64_t out[kOut * n];
    // Edge values first (no division by zero, no INT_MIN / -1: C++ leaves
    // them undefined), then random ones of all magnitudes.
    const int ea[] = {7, 2, -7, 2, 7, -2, -7, -2, 0, 5, -2147483647 - 1, 3, 2147483647, -1, 1, 1, -1, 31, 100, 33};
    const int64_t ex[] = {7, 2, -7, 2, 7, -2, -7, -2, (int64_t)1 << 62, 3, INT64_MIN, 7, INT64_MAX, -1, -1, 1, 12345, -7};
    unsigned long long seed = 77;
    for (int i = 0; i < 2 * n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int shift = static_cast<int>(seed >> 58);  // 0..63: magnitudes vary
        a[i] = i < static_cast<int>(sizeof(ea) / sizeof(ea[0])) ? ea[i] : static_cast<int>(seed >> 32) >> (shift & 31);
        int64_t r = static_cast<int64_t>(seed ^ (seed << 17)) >> shift;
        x[i] = i < static_cast<int>(sizeof(ex) / sizeof(ex[0])) ? ex[i] : r;
        if (i % 2 == 1 && a[i] == 0)
            a[i] = 3;
        if (i % 2 == 1 && x[i] == 0)
            x[i] = -5;
    }
    int* d_a;
    int64_t* d_x;
    uint64_t* d_out;
    CHECK(cudaMalloc(&d_a, sizeof(a)));
    CHECK(cudaMalloc(&d_x, sizeof(x)));
    CHECK(cudaMalloc(&d_out, sizeof(out)));
    CHECK(cudaMemcpy(d_a, a, sizeof(a), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_x, x, sizeof(x), cudaMemcpyHostToDevice));
    kernel<<<n / 64, 64>>>(d_a, d_x, d_out, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(out, d_out, sizeof(out), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        uint64_t ref[kOut];
        compute<Host>(a[2 * i], a[2 * i + 1], x[2 * i], x[2 * i + 1], ref);
        for (int k = 0; k < kOut; k++)
            if (out[kOut * i + k] != ref[k]) {
                printf("FAIL " PROG ": pair %d (a %d b %d x %lld y %lld), result %d: %#llx, expected %#llx\n", i,
                       a[2 * i], a[2 * i + 1], (long long)x[2 * i], (long long)x[2 * i + 1], k,
                       (unsigned long long)out[kOut * i + k], (unsigned long long)ref[k]);
                return 1;
            }
    }
    CHECK(cudaFree(d_a));
    CHECK(cudaFree(d_x));
    CHECK(cudaFree(d_out));
    printf("PASS " PROG "\n");
    return 0;
}
