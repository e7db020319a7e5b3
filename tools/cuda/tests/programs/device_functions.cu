// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// device_functions.cu - __noinline__ device functions: a struct passed
// and returned by value, a function that calls another, a loop (gcd) and
// a function that returns through several paths; a small struct as a
// kernel parameter too.  (A struct passed by reference to a __noinline__
// function lives in local memory: local_memory.cu has that.)  The arithmetic is on
// integers and exactly representable floats, so the CPU, running the
// same __host__ __device__ functions, gets the same bits.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "device_functions"
#include "check.h"

struct Particle {
    float x, y, z;
    int id;
    double mass;
    short flags;
};

struct Params {  // by value, as a kernel parameter
    float dt;
    int steps;
    double scale;
};

__host__ __device__ __noinline__ Particle step(Particle p, float dt)
{
    p.x += dt * (p.id % 7);
    p.y -= dt * (p.id % 5);
    p.z = p.z * 0.5f + p.x;
    p.mass *= 1.5;
    p.flags = static_cast<short>(p.flags ^ (1 << (p.id % 15)));
    return p;
}

__host__ __device__ __noinline__ int gcd(int a, int b)
{
    while (b != 0) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a < 0 ? -a : a;
}

__host__ __device__ __noinline__ int classify(Particle p)
{
    if (p.x > p.y)
        return p.z > 0 ? 1 : 2;
    if (p.mass > 100.0)
        return 3;
    return 4 + gcd(p.id, 36);
}

__host__ __device__ __noinline__ double energy(Particle p, double scale)
{
    return scale * p.mass * (static_cast<double>(p.x) * p.x + static_cast<double>(p.y) * p.y) + classify(p);
}

__global__ void simulate(const Particle* in, Particle* out, double* e, int n, Params prm)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    Particle p = in[i];
    for (int s = 0; s < prm.steps; s++)
        p = step(p, prm.dt);
    out[i] = p;
    e[i] = energy(p, prm.scale);
}

int main()
{
    const int n = 200;
    Particle in[n], out[n];
    double e[n];
    for (int i = 0; i < n; i++) {
        in[i].x = static_cast<float>(i % 13) - 6.0f;
        in[i].y = static_cast<float>(i % 11) * 0.5f;
        in[i].z = static_cast<float>(i % 3);
        in[i].id = i * 7 - 300;
        in[i].mass = 1.0 + (i % 9) * 0.25;
        in[i].flags = static_cast<short>(i);
    }
    Params prm = {0.25f, 6, 0.125};
    Particle *d_in, *d_out;
    double* d_e;
    CHECK(cudaMalloc(&d_in, sizeof(in)));
    CHECK(cudaMalloc(&d_out, sizeof(out)));
    CHECK(cudaMalloc(&d_e, sizeof(e)));
    CHECK(cudaMemcpy(d_in, in, sizeof(in), cudaMemcpyHostToDevice));
    simulate<<<(n + 63) / 64, 64>>>(d_in, d_out, d_e, n, prm);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(out, d_out, sizeof(out), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(e, d_e, sizeof(e), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        Particle p = in[i];
        for (int s = 0; s < prm.steps; s++)
            p = step(p, prm.dt);
        double re = energy(p, prm.scale);
        const Particle& q = out[i];
        if (q.x != p.x || q.y != p.y || q.z != p.z || q.id != p.id || q.mass != p.mass || q.flags != p.flags ||
            e[i] != re) {
            printf("FAIL " PROG ": particle %d: (%g %g %g %d %g %d) energy %.17g, expected (%g %g %g %d %g %d) %.17g\n",
                   i, q.x, q.y, q.z, q.id, q.mass, q.flags, e[i], p.x, p.y, p.z, p.id, p.mass, p.flags, re);
            return 1;
        }
    }
    CHECK(cudaFree(d_in));
    CHECK(cudaFree(d_out));
    CHECK(cudaFree(d_e));
    printf("PASS " PROG "\n");
    return 0;
}
