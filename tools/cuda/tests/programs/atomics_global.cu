// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// atomics_global.cu - atomics on global memory, every thread on the same
// few words: atomicAdd of int, float, double and unsigned long long,
// atomicSub, atomicMin/Max (signed, unsigned, 64-bit), And/Or/Xor,
// compare-and-swap loops (32 and 64 bits), atomicExch (its returned
// values make a permutation) and atomicInc/atomicDec with wrap-around.
// The float and double values are exact, so any order gives one sum.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define PROG "atomics_global"
#include "check.h"

struct Acc {
    int isum, isub, imin, imax;
    unsigned umin, umax, band, bor, bxor, cas32, inc, dec, exch;
    float fsum;
    double dsum, cas_dsum;
    unsigned long long usum, umin64, umax64;
    long long smin64, smax64;
};

__global__ void hammer(const int* v, Acc* a, unsigned* exch_old, unsigned inc_limit, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    int x = v[i];
    atomicAdd(&a->isum, x);
    atomicSub(&a->isub, x);
    atomicMin(&a->imin, x);
    atomicMax(&a->imax, x);
    atomicMin(&a->umin, static_cast<unsigned>(x));
    atomicMax(&a->umax, static_cast<unsigned>(x));
    atomicAnd(&a->band, ~(1u << (i % 32)));
    atomicOr(&a->bor, 1u << (i % 29));
    atomicXor(&a->bxor, static_cast<unsigned>(i * 2654435761u));
    atomicAdd(&a->fsum, (x % 1024) * 0.25f);  // |partial sums| < 2^22: exact
    atomicAdd(&a->dsum, x * 0.125);
    atomicAdd(&a->usum, static_cast<unsigned long long>(i) * 0x100000001ull);
    long long wide = static_cast<long long>(x) * 1000000007ll;
    atomicMin(&a->smin64, wide);
    atomicMax(&a->smax64, wide);
    atomicMin(&a->umin64, static_cast<unsigned long long>(wide));
    atomicMax(&a->umax64, static_cast<unsigned long long>(wide));
    // 32-bit CAS loop: a multiply-add that wraps (order-independent: a sum).
    unsigned old = a->cas32, seen;
    do {
        seen = old;
        old = atomicCAS(&a->cas32, seen, seen + static_cast<unsigned>(x) * 3u);
    } while (old != seen);
    // 64-bit CAS loop: a double add through its bits.
    unsigned long long* p = reinterpret_cast<unsigned long long*>(&a->cas_dsum);
    unsigned long long o = *p, s;
    do {
        s = o;
        o = atomicCAS(p, s, __double_as_longlong(__longlong_as_double(s) + x * 0.5));
    } while (o != s);
    exch_old[i] = atomicExch(&a->exch, static_cast<unsigned>(i));
    atomicInc(&a->inc, inc_limit);
    atomicDec(&a->dec, inc_limit);
}

int main()
{
    const int n = 1000, block = 128;
    const unsigned limit = 37;
    int v[n];
    unsigned seed = 99;
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = static_cast<int>(seed >> 12) % 200001 - 100000;
    }
    Acc init;
    memset(&init, 0, sizeof(init));
    init.imin = 2147483647;
    init.imax = -2147483647 - 1;
    init.umin = 0xffffffffu;
    init.band = 0xffffffffu;
    init.exch = 0xdeadbeefu;
    init.umin64 = ~0ull;
    init.smin64 = 0x7fffffffffffffffll;
    init.smax64 = -0x7fffffffffffffffll - 1;
    init.cas32 = 17;
    init.dsum = 0.5;

    int* d_v;
    Acc* d_a;
    unsigned* d_old;
    CHECK(cudaMalloc(&d_v, sizeof(v)));
    CHECK(cudaMalloc(&d_a, sizeof(Acc)));
    CHECK(cudaMalloc(&d_old, n * sizeof(unsigned)));
    CHECK(cudaMemcpy(d_v, v, sizeof(v), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_a, &init, sizeof(Acc), cudaMemcpyHostToDevice));
    hammer<<<(n + block - 1) / block, block>>>(d_v, d_a, d_old, limit, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    Acc a;
    unsigned old[n];
    CHECK(cudaMemcpy(&a, d_a, sizeof(Acc), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(old, d_old, sizeof(old), cudaMemcpyDeviceToHost));

    Acc r = init;
    for (int i = 0; i < n; i++) {
        int x = v[i];
        long long wide = static_cast<long long>(x) * 1000000007ll;
        r.isum += x;
        r.isub -= x;
        r.imin = x < r.imin ? x : r.imin;
        r.imax = x > r.imax ? x : r.imax;
        r.umin = static_cast<unsigned>(x) < r.umin ? static_cast<unsigned>(x) : r.umin;
        r.umax = static_cast<unsigned>(x) > r.umax ? static_cast<unsigned>(x) : r.umax;
        r.band &= ~(1u << (i % 32));
        r.bor |= 1u << (i % 29);
        r.bxor ^= static_cast<unsigned>(i * 2654435761u);
        r.fsum += (x % 1024) * 0.25f;
        r.dsum += x * 0.125;
        r.usum += static_cast<unsigned long long>(i) * 0x100000001ull;
        r.smin64 = wide < r.smin64 ? wide : r.smin64;
        r.smax64 = wide > r.smax64 ? wide : r.smax64;
        unsigned long long uw = static_cast<unsigned long long>(wide);
        r.umin64 = uw < r.umin64 ? uw : r.umin64;
        r.umax64 = uw > r.umax64 ? uw : r.umax64;
        r.cas32 += static_cast<unsigned>(x) * 3u;
        r.cas_dsum += x * 0.5;
    }
#define EXPECT(f, fmt)                                                                              \
    if (a.f != r.f) {                                                                               \
        printf("FAIL " PROG ": " #f " = " fmt ", expected " fmt "\n", a.f, r.f);                    \
        return 1;                                                                                   \
    }
    EXPECT(isum, "%d") EXPECT(isub, "%d") EXPECT(imin, "%d") EXPECT(imax, "%d") EXPECT(umin, "%u")
    EXPECT(umax, "%u") EXPECT(band, "%#x") EXPECT(bor, "%#x") EXPECT(bxor, "%#x") EXPECT(cas32, "%u")
    EXPECT(fsum, "%.9g") EXPECT(dsum, "%.17g") EXPECT(cas_dsum, "%.17g") EXPECT(usum, "%llu")
    EXPECT(smin64, "%lld") EXPECT(smax64, "%lld") EXPECT(umin64, "%llu") EXPECT(umax64, "%llu")
    // n increments of a counter that wraps to 0 after limit; n decrements
    // of one that wraps from 0 to limit.
    unsigned want_inc = n % (limit + 1), want_dec = (limit + 1 - n % (limit + 1)) % (limit + 1);
    if (a.inc != want_inc || a.dec != want_dec) {
        printf("FAIL " PROG ": atomicInc %u, atomicDec %u, expected %u and %u\n", a.inc, a.dec, want_inc, want_dec);
        return 1;
    }
    // The exchanged-out values and the final one: the initial value and
    // each thread's index, each exactly once.
    static int count[n];
    int initial = 0;
    for (int i = 0; i <= n; i++) {
        unsigned o = i < n ? old[i] : a.exch;
        if (o == 0xdeadbeefu)
            initial++;
        else if (o < static_cast<unsigned>(n))
            count[o]++;
        else {
            printf("FAIL " PROG ": atomicExch returned %#x, no thread's value\n", o);
            return 1;
        }
    }
    for (int i = 0; i < n; i++)
        if (count[i] != 1 || initial != 1) {
            printf("FAIL " PROG ": atomicExch: value %d seen %d times, the initial one %d times\n", i, count[i],
                   initial);
            return 1;
        }
    CHECK(cudaFree(d_v));
    CHECK(cudaFree(d_a));
    CHECK(cudaFree(d_old));
    printf("PASS " PROG "\n");
    return 0;
}
