// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// nan_probe.cu: which NaN bit patterns an NVIDIA GPU's arithmetic gives
// (invalid operations, NaN operands with payloads and signs, conversions),
// for a later NaN rule of Documentation/sim-isa.rst (cuda.rst has the
// H200's).  Built and run on a GPU
// machine: nvcc -arch=native -o nan_probe nan_probe.cu && ./nan_probe.
// Each line: operation, then the result's bits in hex.
#include <cstdint>
#include <cstdio>
#include <cstring>

struct In {
    float f[4];
    double d[4];
};

__global__ void probe(const In* in, uint32_t* o32, uint64_t* o64) {
    float z = in->f[0], inf = in->f[1], qn = in->f[2], sn = in->f[3];
    double dz = in->d[0], dinf = in->d[1], dqn = in->d[2], dsn = in->d[3];
    float r32[] = {
        __fadd_rn(inf, -inf), __fmul_rn(z, inf), __fdiv_rn(z, z), __fsqrt_rn(-1.0f + z),
        __fmaf_rn(z, inf, 1.0f), __fadd_rn(qn, 1.0f), __fadd_rn(sn, 1.0f), __fmul_rn(-qn, 2.0f),
        fminf(qn, qn), fmaxf(sn, sn), __fdividef(z, z), __frcp_rn(qn),
        __double2float_rn(dqn), __double2float_rn(dsn), -qn, fabsf(-qn),
    };
    double r64[] = {
        __dadd_rn(dinf, -dinf), __dmul_rn(dz, dinf), __ddiv_rn(dz, dz), __dsqrt_rn(-1.0 + dz),
        __fma_rn(dz, dinf, 1.0), __dadd_rn(dqn, 1.0), __dadd_rn(dsn, 1.0), __dmul_rn(-dqn, 2.0),
        fmin(dqn, dqn), fmax(dsn, dsn), (double)qn, (double)sn, __drcp_rn(dqn), -dqn, fabs(-dqn), dz,
    };
    for (int i = 0; i < 16; i++) {
        memcpy(&o32[i], &r32[i], 4);
        memcpy(&o64[i], &r64[i], 8);
    }
}

int main() {
    In h;
    uint32_t bits[4] = {0, 0x7f800000u, 0x7fc12345u, 0x7f812345u};
    uint64_t dbits[4] = {0, 0x7ff0000000000000ull, 0x7ff8000012345678ull, 0x7ff0000012345678ull};
    memcpy(h.f, bits, sizeof(bits));
    memcpy(h.d, dbits, sizeof(dbits));
    In* d;
    uint32_t* o32;
    uint64_t* o64;
    if (cudaMalloc(&d, sizeof(In)) || cudaMalloc(&o32, 64) || cudaMalloc(&o64, 128)) {
        printf("nan_probe: no GPU\n");
        return 1;
    }
    cudaMemcpy(d, &h, sizeof(In), cudaMemcpyHostToDevice);
    probe<<<1, 1>>>(d, o32, o64);
    uint32_t r32[16];
    uint64_t r64[16];
    cudaMemcpy(r32, o32, 64, cudaMemcpyDeviceToHost);
    if (cudaMemcpy(r64, o64, 128, cudaMemcpyDeviceToHost)) {
        printf("nan_probe: %s\n", cudaGetErrorString(cudaGetLastError()));
        return 1;
    }
    const char* n32[] = {"f32 inf-inf", "f32 0*inf", "f32 0/0", "f32 sqrt(-1)", "f32 fma(0,inf,1)",
                         "f32 qnan(0x7fc12345)+1", "f32 snan(0x7f812345)+1", "f32 -qnan*2",
                         "f32 fminf(qnan,qnan)", "f32 fmaxf(snan,snan)", "f32 __fdividef(0,0)", "f32 rcp(qnan)",
                         "f32 cvt(f64 qnan 0x7ff8000012345678)", "f32 cvt(f64 snan 0x7ff0000012345678)",
                         "f32 neg(qnan)", "f32 abs(-qnan)"};
    const char* n64[] = {"f64 inf-inf", "f64 0*inf", "f64 0/0", "f64 sqrt(-1)", "f64 fma(0,inf,1)",
                         "f64 qnan(0x7ff8000012345678)+1", "f64 snan(0x7ff0000012345678)+1", "f64 -qnan*2",
                         "f64 fmin(qnan,qnan)", "f64 fmax(snan,snan)", "f64 cvt(f32 qnan 0x7fc12345)",
                         "f64 cvt(f32 snan 0x7f812345)", "f64 rcp(qnan)", "f64 neg(qnan)", "f64 abs(-qnan)",
                         "f64 zero"};
    for (int i = 0; i < 16; i++)
        printf("%-40s %08x\n", n32[i], r32[i]);
    for (int i = 0; i < 16; i++)
        printf("%-40s %016llx\n", n64[i], static_cast<unsigned long long>(r64[i]));
    return 0;
}
