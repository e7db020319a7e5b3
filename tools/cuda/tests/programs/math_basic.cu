// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// math_basic.cu - the exact (correctly rounded) part of the math library
// in float and double: sqrt, fabs, floor, ceil, round, trunc, rint, fmin,
// fmax, fma, division and conversion to int, on values chosen to catch
// mistakes: signed zeros, halves (round away from zero, rint to even),
// subnormals, infinities and NaN (fmin/fmax return the other operand).
// Compared with the CPU bit for bit (any NaN matches any NaN).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define PROG "math_basic"
#include "check.h"

constexpr int kOps = 13;
static const char* kNames[kOps] = {"sqrt", "fabs", "floor", "ceil", "round", "trunc", "rint",
                                   "fmin", "fmax", "fma",  "div",   "to int", "neg"};

template <typename T>
__host__ __device__ void ops(T a, T b, T c, T* r)
{
    r[0] = sqrt(fabs(a));
    r[1] = fabs(a);
    r[2] = floor(a);
    r[3] = ceil(a);
    r[4] = round(a);
    r[5] = trunc(a);
    r[6] = rint(a);
    r[7] = fmin(a, b);
    r[8] = fmax(a, b);
    r[9] = fma(a, b, c);
    r[10] = a / b;
    r[11] = (a > -1e9 && a < 1e9) ? static_cast<T>(static_cast<int>(a)) : T(0);
    r[12] = -a;
}

template <typename T>
__global__ void kernel(const T* in, T* out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        ops(in[3 * i], in[3 * i + 1], in[3 * i + 2], out + kOps * i);
}

template <typename T>
static bool same(T a, T b)
{
    if (a != a && b != b)
        return true;
    return memcmp(&a, &b, sizeof(T)) == 0;
}

template <typename T>
static int run(const char* type, const T* specials, int nspecial)
{
    const int n = 192;
    T* in = new T[3 * n];
    T* out = new T[kOps * n];
    unsigned seed = 31337;
    for (int i = 0; i < 3 * n; i++) {
        seed = seed * 1664525u + 1013904223u;
        if (i < nspecial)
            in[i] = specials[i];
        else if (i % 4 == 0)  // exact halves and quarters
            in[i] = static_cast<T>(static_cast<int>(seed >> 22) - 512) * T(0.25);
        else
            in[i] = static_cast<T>(static_cast<int>(seed >> 8) - 8388608) / T(4096.0) * T(1.0009765625);
    }
    T *d_in, *d_out;
    CHECK(cudaMalloc(&d_in, 3 * n * sizeof(T)));
    CHECK(cudaMalloc(&d_out, kOps * n * sizeof(T)));
    CHECK(cudaMemcpy(d_in, in, 3 * n * sizeof(T), cudaMemcpyHostToDevice));
    kernel<T><<<(n + 63) / 64, 64>>>(d_in, d_out, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(out, d_out, kOps * n * sizeof(T), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        T ref[kOps];
        ops(in[3 * i], in[3 * i + 1], in[3 * i + 2], ref);
        for (int k = 0; k < kOps; k++)
            if (!same(out[kOps * i + k], ref[k])) {
                printf("FAIL " PROG ": %s %s(%.17g, %.17g, %.17g) = %.17g, expected %.17g\n", type, kNames[k],
                       static_cast<double>(in[3 * i]), static_cast<double>(in[3 * i + 1]),
                       static_cast<double>(in[3 * i + 2]), static_cast<double>(out[kOps * i + k]),
                       static_cast<double>(ref[k]));
                return 1;
            }
    }
    CHECK(cudaFree(d_in));
    CHECK(cudaFree(d_out));
    delete[] in;
    delete[] out;
    return 0;
}

int main()
{
    const float fi = INFINITY, fn = NAN;
    // Read in triples (a, b, c): signed zeros, halves, subnormals,
    // infinities, NaN and the largest values with a fraction.
    const float fs[] = {0.5f,  2.0f,  1.0f,  -0.5f,  3.0f,   -0.0f,   2.5f,  -0.0f, 0.0f,   -2.5f,   1.5f, 1e-40f,
                        fn,    7.0f,  1.0f,  -1.5f,  fn,     2.0f,    fi,    -fi,   1.0f,   1e-40f,  3e-39f, -1e-45f,
                        1e30f, 1e30f, -1e30f, -7.5f, 0.0f,   1.0f,    3.5f,  -0.0f, 0.0f,   8388607.5f, 0.1f, 0.2f};
    const double di = INFINITY, dn = NAN;
    const double ds[] = {0.5,   2.0,   1.0,    -0.5,  3.0,   -0.0,    2.5,   -0.0,  0.0,    -2.5,    1.5,   1e-310,
                         dn,    7.0,   1.0,    -1.5,  dn,    2.0,     di,    -di,   1.0,    1e-310,  3e-308, -5e-324,
                         1e300, 1e300, -1e300, -7.5,  0.0,   1.0,     3.5,   -0.0,  0.0,    4503599627370495.5, 0.1, 0.2};
    if (run<float>("float", fs, sizeof(fs) / sizeof(fs[0])) ||
        run<double>("double", ds, sizeof(ds) / sizeof(ds[0])))
        return 1;
    printf("PASS " PROG "\n");
    return 0;
}
