// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// f64_daxpy.cu - binary64 arithmetic: daxpy (fused, with fma(), and
// unfused, with __dmul_rn/__dadd_rn), a dot product accumulated with fma
// per thread then reduced in shared memory, and a normalisation by
// sqrt and division.  Every operation is correctly rounded in IEEE 754,
// so the CPU, doing the same operations in the same order, must agree to
// the bit.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define PROG "f64_daxpy"
#include "check.h"

constexpr int kThreads = 128;

__global__ void daxpy(double a, const double* x, const double* y, double* fused, double* plain, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        fused[i] = fma(a, x[i], y[i]);
        plain[i] = __dadd_rn(__dmul_rn(a, x[i]), y[i]);
    }
}

// One block: thread t accumulates elements t, t + 128, ... with fma, then
// a tree reduction; thread 0 also writes sqrt(dot) and dot / sqrt(dot).
__global__ void dot(const double* x, const double* y, int n, double* out)
{
    __shared__ double s[kThreads];
    int t = threadIdx.x;
    double acc = 0.0;
    for (int i = t; i < n; i += kThreads)
        acc = fma(x[i], y[i], acc);
    s[t] = acc;
    __syncthreads();
    for (int k = kThreads / 2; k > 0; k >>= 1) {
        if (t < k)
            s[t] = __dadd_rn(s[t], s[t + k]);
        __syncthreads();
    }
    if (t == 0) {
        double d = s[0];
        out[0] = d;
        out[1] = sqrt(fabs(d));
        out[2] = d / out[1];
        out[3] = -d * 1e-300 * 1e-10;  // a subnormal result
    }
}

static bool same(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

int main()
{
    const int n = 3000;
    const double a = -1.2345678901234567;
    double *x = new double[n], *y = new double[n], *f = new double[n], *p = new double[n];
    unsigned long long seed = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = static_cast<double>(seed >> 11) / 9007199254740992.0 * 200.0 - 100.0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        y[i] = static_cast<double>(seed >> 11) / 9007199254740992.0 * 2.0 - 1.0;
    }
    double *dx, *dy, *df, *dp, *dout;
    CHECK(cudaMalloc(&dx, n * sizeof(double)));
    CHECK(cudaMalloc(&dy, n * sizeof(double)));
    CHECK(cudaMalloc(&df, n * sizeof(double)));
    CHECK(cudaMalloc(&dp, n * sizeof(double)));
    CHECK(cudaMalloc(&dout, 4 * sizeof(double)));
    CHECK(cudaMemcpy(dx, x, n * sizeof(double), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(dy, y, n * sizeof(double), cudaMemcpyHostToDevice));
    daxpy<<<(n + 255) / 256, 256>>>(a, dx, dy, df, dp, n);
    CHECK(cudaGetLastError());
    dot<<<1, kThreads>>>(dx, dy, n, dout);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    double out[4];
    CHECK(cudaMemcpy(f, df, n * sizeof(double), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(p, dp, n * sizeof(double), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(out, dout, sizeof(out), cudaMemcpyDeviceToHost));

    for (int i = 0; i < n; i++) {
        volatile double prod = a * x[i];  // no contraction on the host
        double plain = prod + y[i];
        double fused = std::fma(a, x[i], y[i]);
        if (!same(f[i], fused) || !same(p[i], plain)) {
            printf("FAIL " PROG ": daxpy[%d]: fused %.17g plain %.17g, expected %.17g and %.17g\n", i, f[i], p[i],
                   fused, plain);
            return 1;
        }
    }
    double s[kThreads];
    for (int t = 0; t < kThreads; t++) {
        s[t] = 0.0;
        for (int i = t; i < n; i += kThreads)
            s[t] = std::fma(x[i], y[i], s[t]);
    }
    for (int k = kThreads / 2; k > 0; k >>= 1)
        for (int t = 0; t < k; t++)
            s[t] = s[t] + s[t + k];
    double ref[4];
    ref[0] = s[0];
    ref[1] = std::sqrt(std::fabs(s[0]));
    ref[2] = s[0] / ref[1];
    volatile double tiny = -s[0] * 1e-300;
    ref[3] = tiny * 1e-10;
    static const char* what[4] = {"dot", "sqrt", "division", "subnormal product"};
    for (int k = 0; k < 4; k++)
        if (!same(out[k], ref[k])) {
            printf("FAIL " PROG ": %s: %.17g, expected %.17g\n", what[k], out[k], ref[k]);
            return 1;
        }
    CHECK(cudaFree(dx));
    CHECK(cudaFree(dy));
    CHECK(cudaFree(df));
    CHECK(cudaFree(dp));
    CHECK(cudaFree(dout));
    delete[] x;
    delete[] y;
    delete[] f;
    delete[] p;
    printf("PASS " PROG "\n");
    return 0;
}
