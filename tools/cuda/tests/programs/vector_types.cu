// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vector_types.cu - CUDA's vector types, which nvcc loads and stores with
// the vector forms of ld/st (.v2, .v4): float4, int2, double2, uchar4 and
// short2, read, combined and written whole.  Exact values, bit-for-bit
// comparison.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "vector_types"
#include "check.h"

__host__ __device__ void combine(float4 f, int2 k, double2 d, uchar4 c, short2 s, float4* fo, double2* dout,
                                 uchar4* co, int2* ko)
{
    *fo = make_float4(f.w + k.x, f.z * 2.0f, f.y - k.y, f.x + c.x);
    *dout = make_double2(d.y + s.x, d.x * 0.5 - s.y);
    *co = make_uchar4(c.w, static_cast<unsigned char>(c.z + 1), static_cast<unsigned char>(c.y ^ 0x5a), c.x);
    *ko = make_int2(k.y - s.y, k.x + c.w);
}

__global__ void kernel(const float4* f, const int2* k, const double2* d, const uchar4* c, const short2* s,
                       float4* fo, double2* dout, uchar4* co, int2* ko, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        combine(f[i], k[i], d[i], c[i], s[i], &fo[i], &dout[i], &co[i], &ko[i]);
}

int main()
{
    const int n = 500;
    static float4 f[n], fo[n];
    static int2 k[n], ko[n];
    static double2 d[n], dout[n];
    static uchar4 c[n], co[n];
    static short2 s[n];
    for (int i = 0; i < n; i++) {
        f[i] = make_float4(i * 0.5f, -i * 0.25f, i % 17 * 1.0f, 1000.0f - i);
        k[i] = make_int2(i * 3 - 700, -i * 11);
        d[i] = make_double2(i * 1.5, -i * 0.125);
        c[i] = make_uchar4(i & 255, (i * 7) & 255, (i * 13) & 255, 255 - (i & 255));
        s[i] = make_short2(static_cast<short>(i * 60 - 15000), static_cast<short>(-i));
    }
    float4 *d_f, *d_fo;
    int2 *d_k, *d_ko;
    double2 *d_d, *d_do;
    uchar4 *d_c, *d_co;
    short2* d_s;
    CHECK(cudaMalloc(&d_f, sizeof(f)));
    CHECK(cudaMalloc(&d_fo, sizeof(fo)));
    CHECK(cudaMalloc(&d_k, sizeof(k)));
    CHECK(cudaMalloc(&d_ko, sizeof(ko)));
    CHECK(cudaMalloc(&d_d, sizeof(d)));
    CHECK(cudaMalloc(&d_do, sizeof(dout)));
    CHECK(cudaMalloc(&d_c, sizeof(c)));
    CHECK(cudaMalloc(&d_co, sizeof(co)));
    CHECK(cudaMalloc(&d_s, sizeof(s)));
    CHECK(cudaMemcpy(d_f, f, sizeof(f), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_k, k, sizeof(k), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_d, d, sizeof(d), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_c, c, sizeof(c), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d_s, s, sizeof(s), cudaMemcpyHostToDevice));
    kernel<<<(n + 127) / 128, 128>>>(d_f, d_k, d_d, d_c, d_s, d_fo, d_do, d_co, d_ko, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(fo, d_fo, sizeof(fo), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(dout, d_do, sizeof(dout), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(co, d_co, sizeof(co), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(ko, d_ko, sizeof(ko), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        float4 rf;
        double2 rd;
        uchar4 rc;
        int2 rk;
        combine(f[i], k[i], d[i], c[i], s[i], &rf, &rd, &rc, &rk);
        if (fo[i].x != rf.x || fo[i].y != rf.y || fo[i].z != rf.z || fo[i].w != rf.w || dout[i].x != rd.x ||
            dout[i].y != rd.y || co[i].x != rc.x || co[i].y != rc.y || co[i].z != rc.z || co[i].w != rc.w ||
            ko[i].x != rk.x || ko[i].y != rk.y) {
            printf("FAIL " PROG ": element %d: float4 (%g %g %g %g) double2 (%g %g) uchar4 (%u %u %u %u) int2 (%d %d), "
                   "expected (%g %g %g %g) (%g %g) (%u %u %u %u) (%d %d)\n",
                   i, fo[i].x, fo[i].y, fo[i].z, fo[i].w, dout[i].x, dout[i].y, co[i].x, co[i].y, co[i].z, co[i].w,
                   ko[i].x, ko[i].y, rf.x, rf.y, rf.z, rf.w, rd.x, rd.y, rc.x, rc.y, rc.z, rc.w, rk.x, rk.y);
            return 1;
        }
    }
    CHECK(cudaFree(d_f));
    CHECK(cudaFree(d_fo));
    CHECK(cudaFree(d_k));
    CHECK(cudaFree(d_ko));
    CHECK(cudaFree(d_d));
    CHECK(cudaFree(d_do));
    CHECK(cudaFree(d_c));
    CHECK(cudaFree(d_co));
    CHECK(cudaFree(d_s));
    printf("PASS " PROG "\n");
    return 0;
}
