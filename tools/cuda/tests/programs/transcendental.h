// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// transcendental.h - the body of math_transcendental_f32.cu and _f64.cu:
// exp, log, sin, cos and pow of Real (float or double), one kernel per
// function, compared with a long double reference on the CPU within the
// maximum ulp errors the CUDA C++ Programming Guide documents (its
// "Mathematical Functions" appendix, kUlps), plus half an ulp for the
// reference's own rounding.  The arguments include a few large ones for
// sin and cos (the slow path of the argument reduction).  Define PROG,
// Real, kNames and kUlps before including it.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#include "check.h"

enum Fn { EXPF, LOGF, SINF, COSF, POWF, NFN };

template <int F>
__global__ void apply(const double* x, const double* y, double* out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    Real xf = static_cast<Real>(x[i]), yf = static_cast<Real>(y[i]);
    Real r;  // CUDA's float overloads are expf, logf, ...
    switch (F) {
    case EXPF: r = exp(xf); break;
    case LOGF: r = log(xf); break;
    case SINF: r = sin(xf); break;
    case COSF: r = cos(xf); break;
    default: r = pow(xf, yf); break;
    }
    out[i] = r;
}

static long double reference(int f, double x, double y)
{
    switch (f) {
    case EXPF: return expl(x);
    case LOGF: return logl(x);
    case SINF: return sinl(x);
    case COSF: return cosl(x);
    default: return powl(x, y);
    }
}

// |got - ref| in units of the last place of the result's format at ref.
static double ulps(double got, long double ref, bool single)
{
    int e;
    frexpl(ref, &e);  // |ref| in [2^(e-1), 2^e)
    int digits = single ? 24 : 53, emin = single ? -125 : -1021;
    long double ulp = ldexpl(1.0L, (e > emin ? e : emin) - digits);
    return static_cast<double>(fabsl(static_cast<long double>(got) - ref) / ulp);
}

typedef void (*Kernel)(const double*, const double*, double*, int);
static const Kernel kKernels[NFN] = {apply<EXPF>, apply<LOGF>, apply<SINF>, apply<COSF>, apply<POWF>};

int main()
{
    const int n = 256;
    double x[n], y[n], out[n];
    double *dx, *dy, *dout;
    CHECK(cudaMalloc(&dx, sizeof(x)));
    CHECK(cudaMalloc(&dy, sizeof(y)));
    CHECK(cudaMalloc(&dout, sizeof(out)));
    unsigned long long seed = 42;
    for (int f = 0; f < NFN; f++) {
        for (int i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            double u = static_cast<double>(seed >> 11) / 9007199254740992.0;  // [0, 1)
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            double v = static_cast<double>(seed >> 11) / 9007199254740992.0;
            y[i] = 0;
            switch (f) {
            case EXPF: x[i] = u * 170 - 85; break;
            case LOGF: x[i] = i < 16 ? 1 + (u - 0.5) / 64 : pow(10.0, u * 70 - 35); break;
            case POWF: x[i] = 0.5 + u * 19.5; y[i] = v * 16 - 8; break;
            default: x[i] = i < 4 ? (u + 1) * 1e6 : u * 200 - 100; break;  // sinf, cosf
            }
            x[i] = static_cast<Real>(x[i]);  // the value the kernel will use
            y[i] = static_cast<Real>(y[i]);
        }
        CHECK(cudaMemcpy(dx, x, sizeof(x), cudaMemcpyHostToDevice));
        CHECK(cudaMemcpy(dy, y, sizeof(y), cudaMemcpyHostToDevice));
        kKernels[f]<<<n / 64, 64>>>(dx, dy, dout, n);
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        CHECK(cudaMemcpy(out, dout, sizeof(out), cudaMemcpyDeviceToHost));
        for (int i = 0; i < n; i++) {
            long double ref = reference(f, x[i], y[i]);
            double err = ulps(out[i], ref, sizeof(Real) == 4);
            if (!(err <= kUlps[f] + 0.5)) {
                printf("FAIL " PROG ": %s(%.17g, %.17g) = %.17g, expected %.20Lg: %.2f ulp, more than %g\n",
                       kNames[f], x[i], y[i], out[i], ref, err, kUlps[f]);
                return 1;
            }
        }
    }
    CHECK(cudaFree(dx));
    CHECK(cudaFree(dy));
    CHECK(cudaFree(dout));
    printf("PASS " PROG "\n");
    return 0;
}
