// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// test_multidevice.cpp - several devices (part of gpuvm-cuda-driver-tests):
// ctest runs the MultiDevice tests with two emulated devices
// (GPUVM_CUDA_BACKEND=interp GPUVM_CUDA_DEVICES=2), each in a process of
// its own; run by hand without them, they skip.  Both APIs: the count
// and ordinals, the current device per thread, properties per device,
// memory and pointers that belong to one device, launches and modules on
// each, peer copies through the host, and a device never opened unused.
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <cuda.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "runtime.hpp"

namespace {

#define CU_OK(x) ASSERT_EQ((x), CUDA_SUCCESS)
#define RT_OK(x) ASSERT_EQ((x), cudaSuccess)

class MultiDevice : public ::testing::Test {
protected:
    void SetUp() override {
        int n = 0;
        RT_OK(cudaGetDeviceCount(&n));
        if (n != 2)
            GTEST_SKIP() << "needs GPUVM_CUDA_BACKEND=interp GPUVM_CUDA_DEVICES=2 (ctest sets them)";
    }
};

bool is_open(int device) {
    auto& rt = gpuvm::cudart::Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    return rt.is_open(device);
}

std::vector<uint8_t> ptx_file(const char* name) {
    std::ifstream f(std::string(GPUVM_CUDA_DATA_DIR) + "/" + name, std::ios::binary);
    std::vector<uint8_t> v((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    v.push_back(0);
    return v;
}

TEST_F(MultiDevice, CountAndOrdinals) {
    EXPECT_EQ(cudaSetDevice(2), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaSetDevice(-1), cudaErrorInvalidDevice);
    CU_OK(cuInit(0));
    int n = 0;
    CU_OK(cuDeviceGetCount(&n));
    EXPECT_EQ(n, 2);
    CUdevice d = -1;
    CU_OK(cuDeviceGet(&d, 1));
    EXPECT_EQ(d, 1);
    EXPECT_EQ(cuDeviceGet(&d, 2), CUDA_ERROR_INVALID_DEVICE);
    EXPECT_EQ(cuDeviceGet(&d, -1), CUDA_ERROR_INVALID_DEVICE);
    size_t total = 0;
    EXPECT_EQ(cuDeviceTotalMem(&total, 2), CUDA_ERROR_INVALID_DEVICE);
}

TEST_F(MultiDevice, TheCurrentDeviceIsPerThread) {
    int dev = -1;
    RT_OK(cudaGetDevice(&dev));
    EXPECT_EQ(dev, 0);
    RT_OK(cudaSetDevice(1));
    RT_OK(cudaGetDevice(&dev));
    EXPECT_EQ(dev, 1);
    void* on1 = nullptr;
    RT_OK(cudaMalloc(&on1, 256));
    int other = -1, other_after = -1;
    cudaError_t copy_on0 = cudaSuccess;
    std::thread t([&] {
        cudaGetDevice(&other);  // a new thread starts on device 0
        int v = 0;
        copy_on0 = cudaMemcpy(&v, on1, 4, cudaMemcpyDeviceToHost);  // device 1's memory
        cudaSetDevice(1);
        cudaGetDevice(&other_after);
    });
    t.join();
    EXPECT_EQ(other, 0);
    EXPECT_EQ(copy_on0, cudaErrorInvalidValue);
    EXPECT_EQ(other_after, 1);
    RT_OK(cudaGetDevice(&dev));
    EXPECT_EQ(dev, 1);  // untouched by the other thread
    RT_OK(cudaFree(on1));
}

TEST_F(MultiDevice, PropertiesAreEachDevices) {
    cudaDeviceProp p0{}, p1{};
    RT_OK(cudaGetDeviceProperties(&p0, 0));
    RT_OK(cudaGetDeviceProperties(&p1, 1));
    EXPECT_EQ(cudaGetDeviceProperties(&p1, 2), cudaErrorInvalidDevice);
    EXPECT_NE(std::string(p0.name), std::string(p1.name));
    EXPECT_NE(std::string(p1.name).find("#1"), std::string::npos) << p1.name;
    CU_OK(cuInit(0));
    char name[256];
    CU_OK(cuDeviceGetName(name, sizeof(name), 1));
    EXPECT_EQ(std::string(name), std::string(p1.name));
    size_t total1 = 0;
    CU_OK(cuDeviceTotalMem(&total1, 1));
    EXPECT_EQ(total1, p1.totalGlobalMem);
    // Memory used on device 0 is not device 1's.
    void* big = nullptr;
    RT_OK(cudaMalloc(&big, 64 << 20));
    size_t free0 = 0, t0 = 0, free1 = 0, t1 = 0;
    RT_OK(cudaMemGetInfo(&free0, &t0));
    RT_OK(cudaSetDevice(1));
    RT_OK(cudaMemGetInfo(&free1, &t1));
    EXPECT_LE(free0 + (64 << 20), t0);
    EXPECT_EQ(free1, t1);
    RT_OK(cudaFree(big));  // any device's memory, as CUDA's
}

TEST_F(MultiDevice, MemoryBelongsToItsDevice) {
    const size_t n = 1024;
    std::vector<uint8_t> h0(n, 0x11), h1(n, 0x22), back(n);
    void *d0 = nullptr, *d1 = nullptr;
    RT_OK(cudaSetDevice(0));
    RT_OK(cudaMalloc(&d0, n));
    RT_OK(cudaMemcpy(d0, h0.data(), n, cudaMemcpyHostToDevice));
    RT_OK(cudaSetDevice(1));
    RT_OK(cudaMalloc(&d1, n));
    RT_OK(cudaMemcpy(d1, h1.data(), n, cudaMemcpyHostToDevice));
    EXPECT_NE(d0, d1);
    // Device 0's pointer on device 1: refused, never read as another's.
    EXPECT_EQ(cudaMemcpy(back.data(), d0, n, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
    EXPECT_EQ(cudaMemcpy(back.data(), d0, n, cudaMemcpyDefault), cudaErrorInvalidValue);
    EXPECT_EQ(cudaMemcpy(d1, d0, n, cudaMemcpyDeviceToDevice), cudaErrorInvalidValue);
    EXPECT_EQ(cudaMemset(d0, 0, n), cudaErrorInvalidValue);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);  // and clears it
    RT_OK(cudaMemcpy(back.data(), d1, n, cudaMemcpyDeviceToHost));
    EXPECT_EQ(back, h1);
    RT_OK(cudaSetDevice(0));
    RT_OK(cudaMemcpy(back.data(), d0, n, cudaMemcpyDeviceToHost));
    EXPECT_EQ(back, h0);
    // No peer access; cudaMemcpyPeer copies through the host.
    int can = -1;
    RT_OK(cudaDeviceCanAccessPeer(&can, 0, 1));
    EXPECT_EQ(can, 0);
    EXPECT_EQ(cudaDeviceCanAccessPeer(&can, 0, 2), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaDeviceEnablePeerAccess(1, 0), cudaErrorNotSupported);
    RT_OK(cudaMemcpyPeer(d0, 0, d1, 1, n / 2));
    RT_OK(cudaMemcpy(back.data(), d0, n, cudaMemcpyDeviceToHost));
    EXPECT_EQ(back[0], 0x22);
    EXPECT_EQ(back[n / 2 - 1], 0x22);
    EXPECT_EQ(back[n / 2], 0x11);
    EXPECT_EQ(cudaMemcpyPeer(d0, 1, d1, 1, n), cudaErrorInvalidValue);  // d0 is not device 1's
    RT_OK(cudaFree(d0));
    RT_OK(cudaFree(d1));
}

// The driver API: contexts of each device, a module used on both, and a
// launch with the other device's pointer refused.
TEST_F(MultiDevice, ContextsModulesAndLaunchesPerDevice) {
    CU_OK(cuInit(0));
    CUcontext c0, c1;
    CU_OK(cuCtxCreate(&c1, nullptr, 0, 1));
    CUdevice d = -1;
    CU_OK(cuCtxGetDevice(&d));
    EXPECT_EQ(d, 1);
    const int n = 256;
    std::vector<float> x(n), y(n, 1.0f), out(n);
    for (int i = 0; i < n; i++)
        x[i] = static_cast<float>(i);
    CUdeviceptr x1, y1;
    CU_OK(cuMemAlloc(&x1, n * 4));
    CU_OK(cuMemAlloc(&y1, n * 4));
    CU_OK(cuMemcpyHtoD(x1, x.data(), n * 4));
    CU_OK(cuMemcpyHtoD(y1, y.data(), n * 4));
    CU_OK(cuCtxCreate(&c0, nullptr, 0, 0));
    CU_OK(cuCtxGetDevice(&d));
    EXPECT_EQ(d, 0);
    auto image = ptx_file("kernels.sm_75.ptx");
    CUmodule m;
    CU_OK(cuModuleLoadData(&m, image.data()));
    CUfunction f;
    CU_OK(cuModuleGetFunction(&f, m, "gpuvm_saxpy"));
    CUdeviceptr x0;
    CU_OK(cuMemAlloc(&x0, n * 4));
    CU_OK(cuMemcpyHtoD(x0, x.data(), n * 4));
    float a = 3.0f;
    int nn = n;
    void* foreign[] = {&a, &x0, &y1, &nn};  // y1 is device 1's
    EXPECT_EQ(cuLaunchKernel(f, 2, 1, 1, 128, 1, 1, 0, nullptr, foreign, nullptr), CUDA_ERROR_INVALID_VALUE);
    EXPECT_EQ(cuMemcpyDtoH(out.data(), y1, n * 4), CUDA_ERROR_INVALID_VALUE);
    CU_OK(cuCtxSynchronize());
    // On device 1 the module is loaded there when first used.
    CU_OK(cuCtxSetCurrent(c1));
    void* own[] = {&a, &x1, &y1, &nn};
    CU_OK(cuLaunchKernel(f, 2, 1, 1, 128, 1, 1, 0, nullptr, own, nullptr));
    CU_OK(cuMemcpyDtoH(out.data(), y1, n * 4));
    for (int i = 0; i < n; i++)
        ASSERT_EQ(out[i], 3.0f * i + 1.0f) << i;
    CU_OK(cuCtxDestroy(c0));
    CU_OK(cuCtxDestroy(c1));
    // Each device's primary context.
    CUcontext p0, p1;
    CU_OK(cuDevicePrimaryCtxRetain(&p0, 0));
    CU_OK(cuDevicePrimaryCtxRetain(&p1, 1));
    EXPECT_NE(p0, p1);
    CU_OK(cuCtxPushCurrent(p1));
    CU_OK(cuCtxGetDevice(&d));
    EXPECT_EQ(d, 1);
    int rdev = -1;
    RT_OK(cudaGetDevice(&rdev));
    EXPECT_EQ(rdev, 1);
    CU_OK(cuCtxPopCurrent(&p1));
    CU_OK(cuDevicePrimaryCtxRelease(1));
    EXPECT_EQ(cuDevicePrimaryCtxRelease(1), CUDA_ERROR_INVALID_CONTEXT);
    CU_OK(cuDevicePrimaryCtxRelease(0));
}

TEST_F(MultiDevice, AnUnusedDeviceIsNeverOpened) {
    void* p = nullptr;
    RT_OK(cudaMalloc(&p, 64));
    RT_OK(cudaMemset(p, 1, 64));
    RT_OK(cudaDeviceSynchronize());
    EXPECT_TRUE(is_open(0));
    EXPECT_FALSE(is_open(1));
    RT_OK(cudaFree(p));
    RT_OK(cudaSetDevice(1));  // opens it
    EXPECT_TRUE(is_open(1));
}

// cudaDeviceReset resets the current device only.
TEST_F(MultiDevice, ResetIsTheCurrentDevices) {
    void *d0 = nullptr, *d1 = nullptr;
    RT_OK(cudaMalloc(&d0, 64));
    RT_OK(cudaSetDevice(1));
    RT_OK(cudaMalloc(&d1, 64));
    RT_OK(cudaDeviceReset());
    EXPECT_EQ(cudaFree(d1), cudaErrorInvalidValue);
    RT_OK(cudaSetDevice(0));
    RT_OK(cudaFree(d0));
}

}  // namespace
