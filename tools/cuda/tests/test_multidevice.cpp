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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cuda.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/sysmacros.h>

#include "runtime.hpp"
#include "scoped_env.hpp"
#include "vgpu/vgpu.hpp"

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
    cudaError_t memset_on0 = cudaSuccess;
    std::thread t([&] {
        cudaGetDevice(&other);  // a new thread starts on device 0
        memset_on0 = cudaMemset(on1, 0, 4);  // device 1's memory: not this device's
        cudaSetDevice(1);
        cudaGetDevice(&other_after);
    });
    t.join();
    EXPECT_EQ(other, 0);
    EXPECT_EQ(memset_on0, cudaErrorInvalidValue);
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
    // Device 0's memory while device 1 is current: copies reach it
    // (unified addressing), a memset is refused.
    RT_OK(cudaMemcpy(back.data(), d0, n, cudaMemcpyDeviceToHost));
    EXPECT_EQ(back, h0);
    RT_OK(cudaMemcpy(back.data(), d0, n, cudaMemcpyDefault));
    EXPECT_EQ(back, h0);
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
    EXPECT_EQ(cudaDeviceEnablePeerAccess(1, 0), cudaErrorPeerAccessUnsupported);
    EXPECT_EQ(cudaDeviceEnablePeerAccess(2, 0), cudaErrorInvalidDevice);
    RT_OK(cudaMemcpyPeer(d0, 0, d1, 1, n / 2));
    RT_OK(cudaMemcpy(back.data(), d0, n, cudaMemcpyDeviceToHost));
    EXPECT_EQ(back[0], 0x22);
    EXPECT_EQ(back[n / 2 - 1], 0x22);
    EXPECT_EQ(back[n / 2], 0x11);
    EXPECT_EQ(cudaMemcpyPeer(d0, 1, d1, 1, n), cudaErrorInvalidValue);  // d0 is not device 1's
    // Nothing to copy: the devices are checked all the same.
    EXPECT_EQ(cudaMemcpyPeer(d0, 0, d1, 5, 0), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaMemcpyPeer(d0, -1, d1, 1, 0), cudaErrorInvalidDevice);
    RT_OK(cudaMemcpyPeer(d0, 0, d1, 1, 0));
    RT_OK(cudaFree(d0));
    RT_OK(cudaFree(d1));
}

// Copies between the host and any device's memory, or between two
// devices', whichever device is current (CUDA's unified addressing).
TEST_F(MultiDevice, CopiesReachEveryDevicesMemory) {
    const size_t n = 4096;
    std::vector<uint8_t> h(n), back(n);
    for (size_t i = 0; i < n; i++)
        h[i] = static_cast<uint8_t>(i * 7);
    void *d0 = nullptr, *d1 = nullptr;
    RT_OK(cudaSetDevice(1));
    RT_OK(cudaMalloc(&d1, n));
    RT_OK(cudaSetDevice(0));
    RT_OK(cudaMalloc(&d0, n));
    RT_OK(cudaMemcpy(d1, h.data(), n, cudaMemcpyHostToDevice));  // device 1's, from device 0
    RT_OK(cudaMemcpy(d0, d1, n, cudaMemcpyDeviceToDevice));
    RT_OK(cudaMemcpy(back.data(), d0, n, cudaMemcpyDeviceToHost));
    EXPECT_EQ(back, h);
    RT_OK(cudaMemset(d0, 0, n));
    RT_OK(cudaMemcpy(d0, d1, n, cudaMemcpyDefault));
    RT_OK(cudaMemcpy(back.data(), d0, n, cudaMemcpyDefault));
    EXPECT_EQ(back, h);
    // The driver API's, from a context of device 1.
    CU_OK(cuInit(0));
    CUcontext c1;
    CU_OK(cuCtxCreate(&c1, nullptr, 0, 1));
    auto p0 = reinterpret_cast<CUdeviceptr>(d0), p1 = reinterpret_cast<CUdeviceptr>(d1);
    CU_OK(cuMemsetD8(p1, 0, n));
    CU_OK(cuMemcpyDtoD(p1, p0, n));
    CU_OK(cuMemcpyDtoH(back.data(), p1, n));
    EXPECT_EQ(back, h);
    CU_OK(cuMemsetD8(p1, 0, n));
    CU_OK(cuMemcpy(p1, p0, n));
    CU_OK(cuMemcpyHtoD(p0, back.data(), n));  // device 0's, from device 1
    CU_OK(cuMemcpyDtoH(back.data(), p1, n));
    EXPECT_EQ(back, h);
    EXPECT_EQ(cuMemsetD8(p0, 0, n), CUDA_ERROR_INVALID_VALUE);  // memset: the current device's only
    EXPECT_EQ(cuMemcpyDtoH(back.data(), 0x10, n), CUDA_ERROR_INVALID_VALUE);  // no device's
    CU_OK(cuCtxDestroy(c1));
    RT_OK(cudaFree(d0));
    RT_OK(cudaFree(d1));
}

// A host pointer is never taken for device memory, whatever its address
// (here that of device 0's memory, copied with device 1 current).
TEST_F(MultiDevice, AHostPointerIsNeverLookedUp) {
    void* d0 = nullptr;
    RT_OK(cudaMalloc(&d0, 4096));
    void* host = mmap(d0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (host != d0) {
        if (host != MAP_FAILED)
            munmap(host, 4096);
        GTEST_SKIP() << "device 0's address is taken in the process";
    }
    std::memset(host, 0x5c, 64);
    RT_OK(cudaSetDevice(1));
    void* d1 = nullptr;
    RT_OK(cudaMalloc(&d1, 64));
    EXPECT_EQ(cudaMemcpy(d1, host, 64, cudaMemcpyHostToDevice), cudaSuccess);
    std::memset(host, 0, 64);
    EXPECT_EQ(cudaMemcpy(host, d1, 64, cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(static_cast<uint8_t*>(host)[63], 0x5c);
    munmap(host, 4096);
    RT_OK(cudaFree(d1));
    RT_OK(cudaFree(d0));
}

// Copies between devices larger than the staging buffer (8 MiB).
TEST_F(MultiDevice, APeerCopyLargerThanItsStaging) {
    const size_t n = (size_t{20} << 20) + 5;
    std::vector<uint8_t> h(n), back(n);
    for (size_t i = 0; i < n; i++)
        h[i] = static_cast<uint8_t>(i * 13 + (i >> 20));
    void *d0 = nullptr, *d1 = nullptr;
    RT_OK(cudaMalloc(&d0, n));
    RT_OK(cudaMemcpy(d0, h.data(), n, cudaMemcpyHostToDevice));
    RT_OK(cudaSetDevice(1));
    RT_OK(cudaMalloc(&d1, n));
    RT_OK(cudaMemcpyPeer(d1, 1, d0, 0, n));
    RT_OK(cudaMemcpy(back.data(), d1, n, cudaMemcpyDeviceToHost));
    EXPECT_TRUE(back == h);
    RT_OK(cudaFree(d1));
    RT_OK(cudaFree(d0));
}

// The driver API: contexts of each device, a module used on both.
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
    void* on0[] = {&a, &x0, &x0, &nn};
    CU_OK(cuLaunchKernel(f, 2, 1, 1, 128, 1, 1, 0, nullptr, on0, nullptr));
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

// Kernels of the tests below (nvcc -ptx of store, poke and an assert).
const char* kSmallKernels = R"(.version 8.0
.target sm_75
.address_size 64
.extern .func __assertfail
(
	.param .b64 __assertfail_param_0,
	.param .b64 __assertfail_param_1,
	.param .b32 __assertfail_param_2,
	.param .b64 __assertfail_param_3,
	.param .b64 __assertfail_param_4
)
;
.global .align 1 .b8 __unnamed_1[16] = {118, 111, 105, 100, 32, 102, 97, 105, 108, 115, 40, 105, 110, 116, 41};
.global .align 1 .b8 $str[7] = {120, 32, 61, 61, 32, 48};
.global .align 1 .b8 $str$1[5] = {107, 46, 99, 117};
.visible .entry store(.param .u64 store_param_0, .param .u64 store_param_1)
{
	.reg .b64 %rd<4>;
	ld.param.u64 %rd1, [store_param_0];
	ld.param.u64 %rd2, [store_param_1];
	cvta.to.global.u64 %rd3, %rd1;
	st.global.u64 [%rd3], %rd2;
	ret;
}
.visible .entry poke(.param .u64 poke_param_0)
{
	.reg .b32 %r<2>;
	.reg .b64 %rd<3>;
	ld.param.u64 %rd1, [poke_param_0];
	cvta.to.global.u64 %rd2, %rd1;
	mov.u32 %r1, 1;
	st.global.u32 [%rd2], %r1;
	ret;
}
.visible .entry fails(.param .u32 fails_param_0)
{
	.reg .pred %p<2>;
	.reg .b32 %r<2>;
	.reg .b64 %rd<7>;
	ld.param.u32 %r1, [fails_param_0];
	setp.eq.s32 %p1, %r1, 0;
	@%p1 bra $L__BB2_2;
	mov.u64 %rd1, $str;
	cvta.global.u64 %rd2, %rd1;
	mov.u64 %rd3, $str$1;
	cvta.global.u64 %rd4, %rd3;
	mov.u64 %rd5, __unnamed_1;
	cvta.global.u64 %rd6, %rd5;
	{
	.reg .b32 temp_param_reg;
	.param .b64 param0;
	st.param.b64 [param0+0], %rd2;
	.param .b64 param1;
	st.param.b64 [param1+0], %rd4;
	.param .b32 param2;
	st.param.b32 [param2+0], 4;
	.param .b64 param3;
	st.param.b64 [param3+0], %rd6;
	.param .b64 param4;
	st.param.b64 [param4+0], 1;
	call.uni __assertfail, (param0, param1, param2, param3, param4);
	}
$L__BB2_2:
	ret;
}
)";

// Launches @name of kSmallKernels with @args on the current context.
CUresult launch_small(const char* name, void** args) {
    CUmodule m;
    if (CUresult r = cuModuleLoadData(&m, kSmallKernels))
        return r;
    CUfunction f;
    if (CUresult r = cuModuleGetFunction(&f, m, name))
        return r;
    return cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, args, nullptr);
}

// A context of device 1 with @bytes of memory there, then one of
// device 0, current.
struct TwoContexts {
    CUcontext c0 = nullptr, c1 = nullptr;
    CUdeviceptr on1 = 0;
    CUstream s1 = nullptr;  // a stream of device 1
};
TwoContexts two_contexts(size_t bytes) {
    TwoContexts t;
    EXPECT_EQ(cuInit(0), CUDA_SUCCESS);
    EXPECT_EQ(cuCtxCreate(&t.c1, nullptr, 0, 1), CUDA_SUCCESS);
    EXPECT_EQ(cuMemAlloc(&t.on1, bytes), CUDA_SUCCESS);
    EXPECT_EQ(cuStreamCreate(&t.s1, 0), CUDA_SUCCESS);
    EXPECT_EQ(cuCtxCreate(&t.c0, nullptr, 0, 0), CUDA_SUCCESS);
    return t;
}

// The same, after launching @kernel of kSmallKernels with @args on device 1.
TwoContexts after_launch_on_1(const char* kernel, void** args) {
    TwoContexts t = two_contexts(64);
    EXPECT_EQ(cuCtxSetCurrent(t.c1), CUDA_SUCCESS);
    EXPECT_EQ(launch_small(kernel, args), CUDA_SUCCESS);
    EXPECT_EQ(cuCtxSetCurrent(t.c0), CUDA_SUCCESS);
    return t;
}

// An 8-byte parameter is not taken for a pointer: a size whose value
// lies in device 1's memory launches on device 0.
TEST_F(MultiDevice, ASizeParameterIsNotAPointer) {
    TwoContexts t = two_contexts(4096);
    CUdeviceptr out;
    CU_OK(cuMemAlloc(&out, 8));
    uint64_t n = t.on1;
    void* args[] = {&out, &n};
    CU_OK(launch_small("store", args));
    CU_OK(cuCtxSynchronize());
    uint64_t v = 0;
    CU_OK(cuMemcpyDtoH(&v, out, 8));
    EXPECT_EQ(v, t.on1);
    CU_OK(cuCtxDestroy(t.c0));
    CU_OK(cuCtxDestroy(t.c1));
}

// A pointer of device 1 used by a kernel on device 0 faults there (no
// peer access); the fault is device 0's, device 1 works on.
TEST_F(MultiDevice, AnotherDevicesPointerFaults) {
    TwoContexts t = two_contexts(4096);
    void* args[] = {&t.on1};
    CU_OK(launch_small("poke", args));
    EXPECT_EQ(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
    CU_OK(cuCtxSetCurrent(t.c1));
    int v = -1;
    CU_OK(cuMemcpyDtoH(&v, t.on1, 4));
    EXPECT_EQ(v, 0);
}

// A fault of device 1 met while device 0 is current (synchronizing a
// stream of device 1) is device 1's: device 0 works on.
TEST_F(MultiDevice, AFaultIsRecordedOnItsDevice) {
    CUdeviceptr bogus = 0x10;
    void* args[] = {&bogus};
    TwoContexts t = after_launch_on_1("poke", args);
    EXPECT_EQ(cuStreamSynchronize(t.s1), CUDA_ERROR_ILLEGAL_ADDRESS);
    CUdeviceptr p;
    CU_OK(cuMemAlloc(&p, 16));  // device 0 is healthy
    CU_OK(cuCtxSetCurrent(t.c1));
    EXPECT_EQ(cuMemAlloc(&p, 16), CUDA_ERROR_ILLEGAL_ADDRESS);  // device 1 is not
}

// An assert that fails on device 1, met from device 0, is an assert.
TEST_F(MultiDevice, AnAssertOnAnotherDeviceIsAnAssert) {
    int x = 1;
    void* args[] = {&x};
    TwoContexts t = after_launch_on_1("fails", args);
    EXPECT_EQ(cuStreamSynchronize(t.s1), CUDA_ERROR_ASSERT);
    CU_OK(cuCtxSynchronize());
    CU_OK(cuCtxSetCurrent(t.c1));
    EXPECT_EQ(cuCtxSynchronize(), CUDA_ERROR_ASSERT);
}

// cudaMemcpyPeer from a device that faulted: the fault is that device's.
TEST_F(MultiDevice, APeerCopyFromAFaultedDevice) {
    CUdeviceptr bogus = 0x10;
    void* args[] = {&bogus};
    TwoContexts t = after_launch_on_1("poke", args);
    CUdeviceptr on0;
    CU_OK(cuMemAlloc(&on0, 64));
    EXPECT_EQ(cudaMemcpyPeer(reinterpret_cast<void*>(on0), 0, reinterpret_cast<void*>(t.on1), 1, 64),
              cudaErrorIllegalAddress);
    CU_OK(cuMemsetD8(on0, 0, 64));  // device 0 works on
    CU_OK(cuCtxSetCurrent(t.c1));
    EXPECT_EQ(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
}

// Each device's addresses stay in its slice: an allocator at its end is
// out of memory (never hands out the next device's addresses).
TEST(DeviceSlices, AnAllocatorStopsAtItsSliceEnd) {
    using namespace gpuvm::cudart;
    const uint64_t start = 0x10000000, end = start + (64 << 10);
    auto b = make_interp_backend(VaRange{start, end});
    int handed = 0;
    try {
        for (; handed < 100; handed++) {
            uint64_t va = b->alloc(4096, false, nullptr);
            EXPECT_GE(va, start);
            EXPECT_LE(va + 4096, end);
            b->free(va);
        }
    } catch (const OutOfMemory&) {
    }
    EXPECT_GT(handed, 0);
    EXPECT_LT(handed, 100);
    // The slices of three devices: disjoint, in order, within the range.
    uint64_t prev_end = 0x100000;
    for (int i = 0; i < 3; i++) {
        VaRange r = device_va_range(0x100000, uint64_t{1} << 40, i, 3);
        EXPECT_GE(r.start, prev_end);
        EXPECT_LT(r.start, r.end);
        prev_end = r.end;
    }
    EXPECT_LE(prev_end, uint64_t{1} << 40);
}

// GPUvm's render nodes found through sysfs (a fake /dev/dri and /sys):
// dom0's platform device "vgpu.N", a guest's xenbus "vgpu" device; not
// another driver's node; a node's second name once.
TEST(DeviceList, GPUvmsNodesFromSysfs) {
    namespace fs = std::filesystem;
    fs::path root = fs::temp_directory_path() / ("gpuvm-list-" + std::to_string(getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "dev/dri");
    auto node = [&](const std::string& name, const std::string& uevent) {
        std::ofstream(root / "dev/dri" / name) << "";
        fs::create_directories(root / "sys/class/drm" / name / "device");
        std::ofstream(root / "sys/class/drm" / name / "device/uevent") << uevent;
    };
    node("renderD128", "MODALIAS=platform:vgpu\n");
    node("renderD129", "DRIVER=amdgpu\nPCI_ID=1002:73BF\nMODALIAS=pci:v00001002d000073BF\n");
    node("renderD130", "DRIVER=vgpu\nXENBUS_TYPE=vgpu\nXENBUS_PATH=device/vgpu/0\nMODALIAS=xen:vgpu\n");
    node("card0", "MODALIAS=platform:vgpu\n");
    fs::create_hard_link(root / "dev/dri/renderD128", root / "dev/dri/renderD131");
    fs::create_directories(root / "sys/class/drm/renderD131/device");
    std::ofstream(root / "sys/class/drm/renderD131/device/uevent") << "MODALIAS=platform:vgpu\n";
    auto listed = vgpu::Device::list((root / "dev/dri").string(), (root / "sys").string());
    std::vector<std::string> want{(root / "dev/dri/renderD128").string(), (root / "dev/dri/renderD130").string()};
    EXPECT_EQ(listed, want);
    fs::remove_all(root);
}

// A device node is looked up by its number (/sys/dev/char), not its name:
// in a container, renderD128 may be the host's renderD129.
TEST(DeviceList, ByDeviceNumberNotName) {
    namespace fs = std::filesystem;
    fs::path root = fs::temp_directory_path() / ("gpuvm-rdev-" + std::to_string(getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "dev/dri");
    if (::mknod((root / "dev/dri/renderD128").c_str(), S_IFCHR | 0600, makedev(226, 129)) ||
        ::mknod((root / "dev/dri/renderD130").c_str(), S_IFCHR | 0600, makedev(226, 130))) {
        fs::remove_all(root);
        GTEST_SKIP() << "mknod needs root";
    }
    auto uevent = [&](const fs::path& dir, const std::string& text) {
        fs::create_directories(root / "sys" / dir);
        std::ofstream(root / "sys" / dir / "uevent") << text;
    };
    uevent("class/drm/renderD128/device", "MODALIAS=platform:vgpu\n");  // the name's: not this node
    uevent("dev/char/226:129/device", "DRIVER=amdgpu\n");
    uevent("dev/char/226:130/device", "MODALIAS=platform:vgpu\n");
    auto listed = vgpu::Device::list((root / "dev/dri").string(), (root / "sys").string());
    EXPECT_EQ(listed, std::vector<std::string>{(root / "dev/dri/renderD130").string()});
    fs::remove_all(root);
}

// maxGridSize and the launch check follow the vGPU's GET_INFO: CUDA's
// 2^31-1 blocks in x, 65535 where dom0 predates it (it says 0).
TEST(GridLimits, FollowTheEngine) {
    using gpuvm::cudart::max_grid_size;
    EXPECT_EQ(max_grid_size(0x7fffffff)[0], 0x7fffffffu);
    EXPECT_EQ(max_grid_size(0)[0], 65535u);
    EXPECT_EQ(max_grid_size(1000)[0], 1000u);
    EXPECT_EQ(max_grid_size(100000)[0], 100000u);
    EXPECT_EQ(max_grid_size(0xffffffff)[0], 0x7fffffffu);
    EXPECT_EQ(max_grid_size(0)[1], 65535u);
    EXPECT_EQ(max_grid_size(0x7fffffff)[2], 65535u);
}

// CUDA_VISIBLE_DEVICES as CUDA reads it.
TEST(DeviceList, CudaVisibleDevices) {
    using gpuvm::cudart::visible_devices;
    using V = std::vector<int>;
    EXPECT_EQ(visible_devices(nullptr, 3), (V{0, 1, 2}));
    EXPECT_EQ(visible_devices("", 3), V{});
    EXPECT_EQ(visible_devices("1", 3), V{1});
    EXPECT_EQ(visible_devices("2,0", 3), (V{2, 0}));
    EXPECT_EQ(visible_devices(" 1 , 0", 3), (V{1, 0}));
    EXPECT_EQ(visible_devices("0,5,1", 3), V{0});  // an invalid entry ends the list
    EXPECT_EQ(visible_devices("1,1,0", 3), V{1});
    EXPECT_EQ(visible_devices("0,x,1", 3), V{0});
    EXPECT_EQ(visible_devices("-1,0", 3), V{});
    EXPECT_EQ(visible_devices("GPU-8e1c", 3), V{});
}

using Env = vgpu::test::ScopedEnv;  // an environment variable for the length of a test

// VGPU_DEVICE names one node, whatever it holds (libvgpu's other users
// open it as it is); CUDA_VISIBLE_DEVICES selects among the devices.
TEST(DeviceList, VgpuDeviceNamesOneNode) {
    Env backend("GPUVM_CUDA_BACKEND", "vgpu"), node("GPUVM_CUDA_NODE", nullptr),
        visible("CUDA_VISIBLE_DEVICES", nullptr), named("VGPU_DEVICE", "/dev/dri/renderD128,/dev/dri/renderD129");
    auto l = gpuvm::cudart::list_devices();
    EXPECT_EQ(l.count, 1);
    ASSERT_EQ(l.nodes.size(), 1u);
    EXPECT_EQ(l.nodes[0], "/dev/dri/renderD128,/dev/dri/renderD129");
    // A named node is the device: CUDA_VISIBLE_DEVICES does not hide it.
    Env second("CUDA_VISIBLE_DEVICES", "1");
    EXPECT_EQ(gpuvm::cudart::list_devices().count, 1);
}

TEST(DeviceList, EmulatedDevicesSelected) {
    Env backend("GPUVM_CUDA_BACKEND", "interp"), count("GPUVM_CUDA_DEVICES", "3"),
        visible("CUDA_VISIBLE_DEVICES", "2,0");
    EXPECT_EQ(gpuvm::cudart::list_devices().count, 2);
}

// The engine backend's NVIDIA driver applies CUDA_VISIBLE_DEVICES to the
// physical GPUs: GPUvm does not apply it a second time.
TEST(DeviceList, TheEngineBackendLeavesCudaVisibleDevicesToNvidia) {
    Env backend("GPUVM_CUDA_BACKEND", "engine"), count("GPUVM_CUDA_DEVICES", "2"),
        visible("CUDA_VISIBLE_DEVICES", "1");
    EXPECT_EQ(gpuvm::cudart::list_devices().count, 2);
}

// No device (ctest: GPUVM_CUDA_BACKEND=bogus, GPUVM_CUDA_DEVICES=0, an
// empty CUDA_VISIBLE_DEVICES): every call says so, none throws.
TEST(NoDevice, EveryCallReturnsNoDevice) {
    const char* b = std::getenv("GPUVM_CUDA_BACKEND");
    const char* n = std::getenv("GPUVM_CUDA_DEVICES");
    const char* v = std::getenv("CUDA_VISIBLE_DEVICES");
    if (!(b && std::string(b) == "bogus") && !(n && std::string(n) == "0") && !(v && !*v))
        GTEST_SKIP() << "needs a process with no device (ctest sets it up)";
    EXPECT_EQ(cudaDeviceReset(), cudaErrorNoDevice);
    int count = -1;
    EXPECT_EQ(cudaGetDeviceCount(&count), cudaErrorNoDevice);
    EXPECT_EQ(count, 0);
    EXPECT_EQ(cudaSetDevice(0), cudaErrorNoDevice);
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, 16), cudaErrorNoDevice);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaErrorNoDevice);
    EXPECT_EQ(cudaMemcpyPeer(&p, 0, &p, 0, 0), cudaErrorNoDevice);
    EXPECT_EQ(cuInit(0), CUDA_ERROR_NO_DEVICE);
}

// A device that fails to open (ctest: the engine's cuda back end on a
// GPU that is not there) leaves the thread on its device.
TEST(FailedOpen, TheThreadStaysOnItsDevice) {
    const char* b = std::getenv("GPUVM_CUDA_BACKEND");
    if (!b || std::string(b) != "engine")
        GTEST_SKIP() << "needs GPUVM_CUDA_BACKEND=engine GPUVM_CUDA_DEVICES=2 (ctest sets them)";
    Env gpu("GPUVM_CUDA_DEVICE", "99");
    EXPECT_EQ(cudaSetDevice(1), cudaErrorDevicesUnavailable);  // one of several
    int dev = -1;
    RT_OK(cudaGetDevice(&dev));
    EXPECT_EQ(dev, 0);
}

}  // namespace
