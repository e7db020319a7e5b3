// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// multi_device.cu - every device of the process: a vector add on each
// (its own inputs, checked against the CPU), each device's buffers alive
// at once; with two devices or more, cudaMemcpyPeer and cudaMemcpy
// (unified addressing) bring device 1's result to device 0, and a launch
// on device 0 with device 1's pointer must fault (never a silent wrong
// answer) on device 0 only.  Prints "devices: N" and PASS.
// ctest runs it with two emulated devices (GPUVM_CUDA_DEVICES=2); in a
// guest it uses every vGPU.
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cuda_runtime.h>

#define PROG "multi_device"
#include "check.h"

__global__ void vadd(const float* a, const float* b, float* c, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}

struct OnDevice {
    float *a = nullptr, *b = nullptr, *c = nullptr;
};

static const int kN = 10007;

static float input(int dev, int i, int which) { return static_cast<float>((i * (which + 2) + dev * 1000) % 977); }

static OnDevice start(int dev)
{
    CHECK(cudaSetDevice(dev));
    OnDevice d;
    size_t bytes = kN * sizeof(float);
    CHECK(cudaMalloc(&d.a, bytes));
    CHECK(cudaMalloc(&d.b, bytes));
    CHECK(cudaMalloc(&d.c, bytes));
    std::vector<float> a(kN), b(kN);
    for (int i = 0; i < kN; i++) {
        a[i] = input(dev, i, 0);
        b[i] = input(dev, i, 1);
    }
    CHECK(cudaMemcpy(d.a, a.data(), bytes, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d.b, b.data(), bytes, cudaMemcpyHostToDevice));
    vadd<<<(kN + 255) / 256, 256>>>(d.a, d.b, d.c, kN);
    CHECK(cudaGetLastError());
    return d;
}

static bool check(int dev, const OnDevice& d)
{
    CHECK(cudaSetDevice(dev));
    std::vector<float> c(kN);
    CHECK(cudaMemcpy(c.data(), d.c, kN * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < kN; i++) {
        float want = input(dev, i, 0) + input(dev, i, 1);
        if (c[i] != want) {
            printf("FAIL " PROG ": device %d: c[%d] = %g, want %g\n", dev, i, c[i], want);
            return false;
        }
    }
    cudaDeviceProp p;
    CHECK(cudaGetDeviceProperties(&p, dev));
    printf("device %d (%s): vector add ok\n", dev, p.name);
    return true;
}

static bool is_sum_of_device1(const float* dev_c, const char* how)
{
    std::vector<float> c(kN);
    CHECK(cudaMemcpy(c.data(), dev_c, kN * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < kN; i++) {
        if (c[i] != input(1, i, 0) + input(1, i, 1)) {
            printf("FAIL " PROG ": %s: c[%d] = %g\n", how, i, c[i]);
            return false;
        }
    }
    printf("%s from device 1 to device 0: ok\n", how);
    return true;
}

// Device 1's result to device 0 by cudaMemcpyPeer, then by cudaMemcpy
// (device to device, the devices told by the addresses).  A launch on
// device 0 with device 1's pointer faults there (device 1's memory is
// not mapped on device 0: no peer access); cudaDeviceReset clears
// device 0 (and frees its memory) while device 1 works on.
static bool across(OnDevice& d0, const OnDevice& d1)
{
    CHECK(cudaSetDevice(0));
    CHECK(cudaMemcpyPeer(d0.c, 0, d1.c, 1, kN * sizeof(float)));
    if (!is_sum_of_device1(d0.c, "cudaMemcpyPeer"))
        return false;
    CHECK(cudaMemset(d0.c, 0, kN * sizeof(float)));
    CHECK(cudaMemcpy(d0.c, d1.c, kN * sizeof(float), cudaMemcpyDeviceToDevice));
    if (!is_sum_of_device1(d0.c, "cudaMemcpy"))
        return false;
    vadd<<<(kN + 255) / 256, 256>>>(d0.a, d1.b, d0.c, kN);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess)
        e = cudaDeviceSynchronize();
    if (e == cudaSuccess) {
        printf("FAIL " PROG ": a launch on device 0 with device 1's pointer succeeded\n");
        return false;
    }
    printf("device 1's pointer on device 0: %s\n", cudaGetErrorName(e));
    CHECK(cudaDeviceReset());
    d0 = OnDevice{};
    CHECK(cudaSetDevice(1));
    CHECK(cudaDeviceSynchronize());
    return true;
}

int main()
{
    int n = 0;
    CHECK(cudaGetDeviceCount(&n));
    printf("devices: %d\n", n);
    std::vector<OnDevice> on(n);
    for (int dev = 0; dev < n; dev++)
        on[dev] = start(dev);
    for (int dev = 0; dev < n; dev++)
        if (!check(dev, on[dev]))
            return 1;
    if (n >= 2 && !across(on[0], on[1]))
        return 1;
    for (int dev = 0; dev < n; dev++) {
        CHECK(cudaSetDevice(dev));
        CHECK(cudaFree(on[dev].a));
        CHECK(cudaFree(on[dev].b));
        CHECK(cudaFree(on[dev].c));
    }
    printf("PASS " PROG "\n");
    return 0;
}
