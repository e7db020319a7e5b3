// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// test_driver.cpp - GPUvm's CUDA driver API (libcuda.so.1) on the
// interpreter backend: devices, contexts and what they own, modules from
// PTX text and fatbinaries (and the images it must refuse, saying why),
// launches with kernelParams and with a packed buffer, memory and memset,
// cuGetProcAddress, errors, a fault and the reset that recovers from it,
// and one state shared with the runtime API (libcudart.so.13).
//
// ctest runs each test in a process of its own.
#include <cstring>
#include <mutex>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <cuda.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "ptx_compile.hpp"
#include "runtime.hpp"

namespace {

// A data file, NUL-terminated (PTX is text).
std::vector<uint8_t> data(const char* name) {
    std::ifstream f(std::string(GPUVM_CUDA_DATA_DIR) + "/" + name, std::ios::binary);
    std::vector<uint8_t> v((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_FALSE(v.empty()) << name;
    v.push_back(0);
    return v;
}

#define CU_OK(x) ASSERT_EQ((x), CUDA_SUCCESS)

// A context of its own per test, destroyed after it.
class Driver : public ::testing::Test {
protected:
    void SetUp() override {
        CU_OK(cuInit(0));
        CU_OK(cuCtxCreate(&ctx_, nullptr, 0, 0));
    }
    void TearDown() override { EXPECT_EQ(cuCtxDestroy(ctx_), CUDA_SUCCESS); }
    CUmodule load(const char* file) {
        auto image = data(file);
        CUmodule m = nullptr;
        EXPECT_EQ(cuModuleLoadData(&m, image.data()), CUDA_SUCCESS) << file;
        return m;
    }
    CUcontext ctx_ = nullptr;
};

TEST(DriverInit, NothingWorksBeforeCuInit) {
    int n = -1;
    EXPECT_EQ(cuDeviceGetCount(&n), CUDA_ERROR_NOT_INITIALIZED);
    CUdeviceptr p;
    EXPECT_EQ(cuMemAlloc(&p, 16), CUDA_ERROR_NOT_INITIALIZED);
    EXPECT_EQ(cuInit(1), CUDA_ERROR_INVALID_VALUE);
    CU_OK(cuInit(0));
    CU_OK(cuDeviceGetCount(&n));
    EXPECT_EQ(n, 1);
}

TEST(DriverInit, DevicesAndTheirAttributes) {
    CU_OK(cuInit(0));
    CUdevice d = -1;
    CU_OK(cuDeviceGet(&d, 0));
    EXPECT_EQ(cuDeviceGet(&d, 1), CUDA_ERROR_INVALID_DEVICE);
    char name[64];
    CU_OK(cuDeviceGetName(name, sizeof(name), 0));
    EXPECT_NE(std::string(name).find("GPUvm"), std::string::npos);
    int major = 0, minor = 0, warp = 0;
    CU_OK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0));
    CU_OK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 0));
    CU_OK(cuDeviceGetAttribute(&warp, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0));
    EXPECT_EQ(major * 10 + minor, 75);
    EXPECT_EQ(warp, 32);
    EXPECT_EQ(cuDeviceGetAttribute(&warp, static_cast<CUdevice_attribute>(100000), 0), CUDA_ERROR_INVALID_VALUE);
    EXPECT_EQ(cuDeviceGetAttribute(&warp, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 3), CUDA_ERROR_INVALID_DEVICE);
    size_t total = 0;
    CU_OK(cuDeviceTotalMem(&total, 0));
    EXPECT_GT(total, 0u);
    int v = 0;
    CU_OK(cuDriverGetVersion(&v));
    EXPECT_EQ(v, CUDA_VERSION);
}

TEST(DriverInit, MemoryNeedsAContext) {
    CU_OK(cuInit(0));
    CUcontext c = reinterpret_cast<CUcontext>(1);
    CU_OK(cuCtxGetCurrent(&c));
    EXPECT_EQ(c, nullptr);
    CUdeviceptr p;
    EXPECT_EQ(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT);
    EXPECT_EQ(cuCtxSetCurrent(reinterpret_cast<CUcontext>(&p)), CUDA_ERROR_INVALID_CONTEXT);
    EXPECT_EQ(cuCtxDestroy(reinterpret_cast<CUcontext>(&p)), CUDA_ERROR_INVALID_CONTEXT);
}

TEST_F(Driver, SaxpyFromPtxTextWithKernelParams) {
    CUmodule m = load("kernels.sm_75.ptx");
    CUfunction f;
    CU_OK(cuModuleGetFunction(&f, m, "gpuvm_saxpy"));
    const int n = 1000;
    std::vector<float> x(n), y(n), out(n);
    for (int i = 0; i < n; i++) {
        x[i] = static_cast<float>(i);
        y[i] = 1.0f;
    }
    CUdeviceptr dx, dy;
    CU_OK(cuMemAlloc(&dx, n * 4));
    CU_OK(cuMemAlloc(&dy, n * 4));
    CU_OK(cuMemcpyHtoD(dx, x.data(), n * 4));
    CU_OK(cuMemcpyHtoD(dy, y.data(), n * 4));
    float a = 2.0f;
    int nn = n;
    void* args[] = {&a, &dx, &dy, &nn};
    CU_OK(cuLaunchKernel(f, (n + 127) / 128, 1, 1, 128, 1, 1, 0, nullptr, args, nullptr));
    CU_OK(cuMemcpyDtoH(out.data(), dy, n * 4));
    for (int i = 0; i < n; i++)
        ASSERT_EQ(out[i], 2.0f * i + 1.0f) << i;
    EXPECT_EQ(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr), CUDA_ERROR_INVALID_VALUE);
    CU_OK(cuModuleUnload(m));
    EXPECT_EQ(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, args, nullptr), CUDA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(cuModuleUnload(m), CUDA_ERROR_INVALID_HANDLE);
}

TEST_F(Driver, SumFromAFatbinWithAPackedBuffer) {
    for (const char* file : {"kernels.zstd.fatbin", "kernels.lz4.fatbin", "kernels.multi.fatbin"}) {
        CUmodule m = load(file);
        CUfunction f;
        CU_OK(cuModuleGetFunction(&f, m, "gpuvm_sum"));
        EXPECT_EQ(cuModuleGetFunction(&f, m, "no_such_kernel"), CUDA_ERROR_NOT_FOUND);
        CU_OK(cuModuleGetFunction(&f, m, "gpuvm_sum"));
        CUdeviceptr table;
        size_t size = 0;
        CU_OK(cuModuleGetGlobal(&table, &size, m, "gpuvm_table"));
        ASSERT_EQ(size, 16u);
        int t[4];
        CU_OK(cuMemcpyDtoH(t, table, 16));
        EXPECT_EQ(t[3], 5);
        const int n = 256;
        std::vector<int> in(n, 1);
        CUdeviceptr din, dout;
        CU_OK(cuMemAlloc(&din, n * 4));
        CU_OK(cuMemAlloc(&dout, 4));
        CU_OK(cuMemcpyHtoD(din, in.data(), n * 4));
        CU_OK(cuMemsetD32(dout, 0, 1));
        struct {
            CUdeviceptr in, out;
            int n;
        } params{din, dout, n};
        size_t psize = sizeof(params);
        void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &params, CU_LAUNCH_PARAM_BUFFER_SIZE, &psize,
                         CU_LAUNCH_PARAM_END};
        CU_OK(cuLaunchKernel(f, 2, 1, 1, 128, 1, 1, 0, nullptr, nullptr, extra));
        int sum = 0;
        CU_OK(cuMemcpyDtoH(&sum, dout, 4));
        EXPECT_EQ(sum, 64 * (1 + 2 + 3 + 5)) << file;
        size_t small = 12;  // the buffer must hold every parameter
        void* short_extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &params, CU_LAUNCH_PARAM_BUFFER_SIZE, &small,
                               CU_LAUNCH_PARAM_END};
        EXPECT_EQ(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, short_extra), CUDA_ERROR_INVALID_VALUE);
        void* args[] = {&din, &dout, &params.n};
        EXPECT_EQ(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, args, extra), CUDA_ERROR_INVALID_VALUE);
        CU_OK(cuMemFree(din));
        CU_OK(cuMemFree(dout));
        CU_OK(cuModuleUnload(m));
    }
}

TEST_F(Driver, ImagesWithoutPtxAndBadPtxAreRefusedSayingWhy) {
    CUmodule m;
    auto cubins = data("kernels.cubin.fatbin");
    EXPECT_EQ(cuModuleLoadData(&m, cubins.data()), CUDA_ERROR_NO_BINARY_FOR_GPU);
    const char elf[] = "\x7f" "ELF\x02\x01\x01";
    EXPECT_EQ(cuModuleLoadData(&m, elf), CUDA_ERROR_NO_BINARY_FOR_GPU);
    const char bad[] = ".version 9.0\n.target sm_75\n.address_size 64\n"
                       ".visible .entry k() { frobnicate.u32 %r1, 1; ret; }\n";
    char log[256] = "";
    CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* vals[] = {log, reinterpret_cast<void*>(sizeof(log))};
    CUresult r = cuModuleLoadDataEx(&m, bad, 2, opts, vals);
    EXPECT_EQ(r, CUDA_ERROR_INVALID_PTX);
    EXPECT_NE(std::string(log).find("frobnicate"), std::string::npos) << log;
    EXPECT_EQ(reinterpret_cast<size_t>(vals[1]), std::strlen(log));
    auto fat = data("kernels.zstd.fatbin");
    fat[20] = 0x10;  // the first entry's header size: less than an entry header
    fat[21] = fat[22] = fat[23] = 0;
    EXPECT_EQ(cuModuleLoadData(&m, fat.data()), CUDA_ERROR_INVALID_IMAGE);
    EXPECT_EQ(cuModuleLoadData(&m, nullptr), CUDA_ERROR_INVALID_VALUE);
    EXPECT_EQ(cuModuleLoad(&m, "/nonexistent.ptx"), CUDA_ERROR_FILE_NOT_FOUND);
    CU_OK(cuModuleLoad(&m, GPUVM_CUDA_DATA_DIR "/kernels.sm_75.ptx"));
    CU_OK(cuModuleUnload(m));
}

TEST_F(Driver, MemsetOfEveryWidthAndAlignment) {
    CUdeviceptr p;
    CU_OK(cuMemAlloc(&p, 64));
    CU_OK(cuMemsetD8(p, 0x11, 64));
    CU_OK(cuMemsetD16(p + 2, 0xabcd, 7));   // 2-byte head, 4-byte body, 2-byte tail
    CU_OK(cuMemsetD32(p + 20, 0x01020304, 3));
    EXPECT_EQ(cuMemsetD32(p + 2, 0, 1), CUDA_ERROR_INVALID_VALUE);
    EXPECT_EQ(cuMemsetD16(p + 1, 0, 1), CUDA_ERROR_INVALID_VALUE);
    EXPECT_EQ(cuMemsetD8(p + 60, 0, 8), CUDA_ERROR_INVALID_VALUE);  // past the allocation
    uint8_t b[64];
    CU_OK(cuMemcpyDtoH(b, p, 64));
    std::vector<uint8_t> want(64, 0x11);
    for (int i = 0; i < 7; i++) {
        want[2 + 2 * i] = 0xcd;
        want[3 + 2 * i] = 0xab;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            want[20 + 4 * i + j] = static_cast<uint8_t>(4 - j);
    EXPECT_EQ(std::vector<uint8_t>(b, b + 64), want);
    CU_OK(cuMemFree(p));
    EXPECT_EQ(cuMemFree(p), CUDA_ERROR_INVALID_VALUE);
}

TEST_F(Driver, ADestroyedContextsMemoryAndModulesGo) {
    size_t free0, total, free1, free2;
    CU_OK(cuMemGetInfo(&free0, &total));
    CUcontext c2;
    CU_OK(cuCtxCreate(&c2, nullptr, 0, 0));  // current now
    CUdeviceptr p;
    CU_OK(cuMemAlloc(&p, 1 << 20));
    CUmodule m = load("kernels.sm_75.ptx");
    CU_OK(cuMemGetInfo(&free1, &total));
    EXPECT_LE(free1 + (1 << 20), free0);
    CUcontext popped;
    CU_OK(cuCtxPopCurrent(&popped));
    EXPECT_EQ(popped, c2);
    CUcontext cur;
    CU_OK(cuCtxGetCurrent(&cur));
    EXPECT_EQ(cur, ctx_);
    CU_OK(cuCtxDestroy(c2));
    CU_OK(cuMemGetInfo(&free2, &total));
    EXPECT_EQ(free2, free0);
    EXPECT_EQ(cuMemFree(p), CUDA_ERROR_INVALID_VALUE);
    EXPECT_EQ(cuModuleUnload(m), CUDA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(cuCtxPushCurrent(c2), CUDA_ERROR_INVALID_CONTEXT);
}

TEST_F(Driver, StreamsEventsAndHostFunctions) {
    CUstream s;
    CU_OK(cuStreamCreate(&s, 0));
    CUevent a, b;
    CU_OK(cuEventCreate(&a, 0));
    CU_OK(cuEventCreate(&b, 0));
    float ms = -1;
    EXPECT_EQ(cuEventElapsedTime(&ms, a, b), CUDA_ERROR_INVALID_HANDLE);  // not recorded
    CU_OK(cuEventRecord(a, s));
    CUdeviceptr p;
    CU_OK(cuMemAlloc(&p, 4096));
    CU_OK(cuMemsetD32Async(p, 7, 1024, s));
    int ran = 0;
    CU_OK(cuLaunchHostFunc(s, [](void* d) { ++*static_cast<int*>(d); }, &ran));
    EXPECT_EQ(ran, 1);
    CU_OK(cuEventRecord(b, s));
    CU_OK(cuEventSynchronize(b));
    CU_OK(cuEventElapsedTime(&ms, a, b));
    EXPECT_GE(ms, 0.0f);
    int v = 0;
    CU_OK(cuMemcpyDtoHAsync(&v, p + 4092, 4, s));
    CU_OK(cuStreamSynchronize(s));
    EXPECT_EQ(v, 7);
    CU_OK(cuStreamDestroy(s));
    EXPECT_EQ(cuStreamSynchronize(s), CUDA_ERROR_INVALID_HANDLE);
    CU_OK(cuEventDestroy(a));
    CU_OK(cuEventDestroy(b));
    EXPECT_EQ(cuEventDestroy(b), CUDA_ERROR_INVALID_HANDLE);
    CU_OK(cuMemFree(p));
}

TEST_F(Driver, TheStackLimitIsTheRuntimes) {
    size_t v = 0;
    CU_OK(cuCtxGetLimit(&v, CU_LIMIT_STACK_SIZE));
    EXPECT_EQ(v, 1024u);
    CU_OK(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 8192));
    CU_OK(cuCtxGetLimit(&v, CU_LIMIT_STACK_SIZE));
    EXPECT_EQ(v, 8192u);
    EXPECT_EQ(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, size_t{1} << 30), CUDA_ERROR_INVALID_VALUE);
    EXPECT_EQ(cudaDeviceSetLimit(cudaLimitStackSize, size_t{1} << 30), cudaErrorInvalidValue);
    EXPECT_EQ(cuCtxSetLimit(CU_LIMIT_PRINTF_FIFO_SIZE, 1 << 20), CUDA_ERROR_NOT_SUPPORTED);
}

// A block whose local memory would pass 512 MiB (1024 threads, each
// with a 1 MiB call stack) is refused, naming why; with CUDA's 1 KiB
// stack the same launch runs (in global memory: 1024 threads do not fit
// in shared memory) and the recursion gives its result.
TEST_F(Driver, ABlockBeyond512MiBOfLocalMemoryIsRefused) {
    const char* ptx = R"(.version 8.0
.target sm_75
.address_size 64
.func (.param .b32 r) f(.param .b32 x)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  ld.param.b32 %r1, [x];
  st.param.b32 [r], 0;
  setp.eq.s32 %p1, %r1, 0;
  @%p1 bra $Lend;
  add.s32 %r2, %r1, -1;
  {
    .param .b32 a;
    st.param.b32 [a], %r2;
    .param .b32 c;
    call.uni (c), f, (a);
    ld.param.b32 %r3, [c];
  }
  add.s32 %r4, %r3, 3;
  st.param.b32 [r], %r4;
$Lend:
  ret;
}
.visible .entry rec(.param .u64 out)
{
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  mov.u32 %r1, %tid.x;
  and.b32 %r1, %r1, 7;
  {
    .param .b32 a;
    st.param.b32 [a], %r1;
    .param .b32 c;
    call.uni (c), f, (a);
    ld.param.b32 %r2, [c];
  }
  mov.u32 %r3, %tid.x;
  ld.param.u64 %rd1, [out];
  mul.wide.u32 %rd2, %r3, 4;
  add.s64 %rd1, %rd1, %rd2;
  st.global.u32 [%rd1], %r2;
  ret;
}
)";
    CUmodule m;
    CU_OK(cuModuleLoadData(&m, ptx));
    CUfunction f;
    CU_OK(cuModuleGetFunction(&f, m, "rec"));
    CUdeviceptr out;
    CU_OK(cuMemAlloc(&out, 1024 * 4));
    void* args[] = {&out};
    CU_OK(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, size_t{1} << 20));
    testing::internal::CaptureStderr();
    CUresult refused = cuLaunchKernel(f, 1, 1, 1, 1024, 1, 1, 0, nullptr, args, nullptr);
    std::string said = testing::internal::GetCapturedStderr();
    EXPECT_EQ(refused, CUDA_ERROR_INVALID_VALUE);
    EXPECT_NE(said.find("MiB of local memory a block is not supported"), std::string::npos) << said;
    CU_OK(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 1024));
    CU_OK(cuLaunchKernel(f, 1, 1, 1, 1024, 1, 1, 0, nullptr, args, nullptr));
    std::vector<uint32_t> got(1024);
    CU_OK(cuMemcpyDtoH(got.data(), out, got.size() * 4));
    for (uint32_t t = 0; t < got.size(); t++)
        ASSERT_EQ(got[t], 3 * (t & 7)) << t;
    CU_OK(cuMemFree(out));
    CU_OK(cuModuleUnload(m));
}

// A module whose kernel k(v) prints "host %d\n" with v, and the strings
// an assertion's record names.
const char* const kPrintfPtx = R"(
.version 8.0
.target sm_75
.address_size 64
.extern .func (.param .b32 func_retval0) vprintf
(
	.param .b64 vprintf_param_0,
	.param .b64 vprintf_param_1
)
;
.global .align 1 .b8 fmt[9] = {104, 111, 115, 116, 32, 37, 100, 10, 0};
.global .align 1 .b8 msg[6] = {118, 32, 60, 32, 51, 0};
.global .align 1 .b8 file_s[5] = {102, 46, 99, 117, 0};
.global .align 1 .b8 fn_s[2] = {107, 0};
.visible .entry k(.param .u32 v)
{
	.local .align 8 .b8 __local_depot0[8];
	.reg .b64 %SP;
	.reg .b64 %SPL;
	.reg .b32 %r<3>;
	.reg .b64 %rd<3>;
	mov.u64 %SPL, __local_depot0;
	cvta.local.u64 %SP, %SPL;
	ld.param.u32 %r1, [v];
	st.local.u32 [%SPL], %r1;
	mov.u64 %rd1, fmt;
	cvta.global.u64 %rd2, %rd1;
	{
	.param .b64 param0;
	st.param.b64 [param0+0], %rd2;
	.param .b64 param1;
	st.param.b64 [param1+0], %SP;
	.param .b32 retval0;
	call.uni (retval0), vprintf, (param0, param1);
	ld.param.b32 %r2, [retval0+0];
	}
	ret;
}
)";

// printf and assert in a module's own PTX (ptx_printf.hpp) write a
// buffer of device memory that the runtime reads back at the
// synchronize, after the host buffer the ISA writes; a failed assertion
// there is cudaErrorAssert, sticky.  The interpreter runs the ISA, so
// the test writes what a GPU running the PTX would have into that
// buffer itself: a printf's record and an assert's, or the assertion's
// flag alone (its record did not fit).
class DriverPrintf : public ::testing::TestWithParam<bool> {};

TEST_P(DriverPrintf, TheDeviceBufferOfAModulesOwnPtxIsReadBack) {
    const bool records = GetParam();
    setenv("GPUVM_CUDA_NAME_PTX", "1", 1);  // before the first module is placed (read once)
    CU_OK(cuInit(0));
    CUcontext ctx;
    CU_OK(cuCtxCreate(&ctx, nullptr, 0, 0));
    CUmodule m;
    CU_OK(cuModuleLoadData(&m, kPrintfPtx));
    CUfunction f;
    CU_OK(cuModuleGetFunction(&f, m, "k"));
    int v = 5;
    void* args[] = {&v};
    testing::internal::CaptureStdout();
    CU_OK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, args, nullptr));
    CU_OK(cuCtxSynchronize());
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "host 5\n");
    const uint64_t buf = gpuvm::cudart::Runtime::get().printf_device_buffer();
    ASSERT_NE(buf, 0u) << "the module's PTX had printf defined";
    CUdeviceptr fmt, msg, file, fn;
    size_t n;
    CU_OK(cuModuleGetGlobal(&fmt, &n, m, "fmt"));
    CU_OK(cuModuleGetGlobal(&msg, &n, m, "msg"));
    CU_OK(cuModuleGetGlobal(&file, &n, m, "file_s"));
    CU_OK(cuModuleGetGlobal(&fn, &n, m, "fn_s"));
    namespace P = gpuvm::ptx;
    std::vector<uint8_t> dev(P::kPrintfHeader + 2 * P::kPrintfRecord);
    auto put = [&](size_t at, uint64_t x, size_t bytes) { std::memcpy(dev.data() + at, &x, bytes); };
    if (!records)
        put(P::kPrintfAssertFlag, 1, 4);  // the flag alone; else the assertion's record alone
    if (records) {
        put(0, 2 * P::kPrintfRecord, 8);
        const size_t r0 = P::kPrintfHeader, r1 = r0 + P::kPrintfRecord;
        put(r0, 1, 4), put(r0 + 4, 64, 4), put(r0 + 8, fmt, 8), put(r0 + 16, 7, 4);
        put(r1, 2, 4), put(r1 + 4, 64, 4), put(r1 + 8, msg, 8), put(r1 + 16, file, 8), put(r1 + 24, 12, 8);
        put(r1 + 32, fn, 8), put(r1 + 40, 1, 4), put(r1 + 52, 2, 4);
    }
    {  // not the program's memory: written as the runtime writes its own
        auto& rt = gpuvm::cudart::Runtime::get();
        std::lock_guard<std::mutex> lk(rt.lock());
        rt.backend().write(buf, dev.data(), dev.size());
    }
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    CU_OK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, nullptr, args, nullptr));
    CUresult r = cuCtxSynchronize();
    std::string out = testing::internal::GetCapturedStdout(), err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(r, CUDA_ERROR_ASSERT) << err;
    if (records) {
        EXPECT_EQ(out, "host 5\nhost 7\n") << "the host buffer's record, then the device's";
        EXPECT_NE(err.find("f.cu:12: k: block: [1,0,0], thread: [2,0,0] Assertion `v < 3` failed."),
                  std::string::npos)
            << err;
    } else {
        EXPECT_EQ(out, "host 5\n");
    }
    CUdeviceptr p;
    EXPECT_EQ(cuMemAlloc(&p, 16), CUDA_ERROR_ASSERT) << "sticky";
    cuCtxDestroy(ctx);
}

INSTANTIATE_TEST_SUITE_P(RecordsOrFlag, DriverPrintf, ::testing::Bool());

TEST_F(Driver, ProcAddressAndErrorNames) {
    void* fn = nullptr;
    CUdriverProcAddressQueryResult st;
    CU_OK(cuGetProcAddress("cuMemAlloc", &fn, CUDA_VERSION, 0, &st));
    EXPECT_EQ(fn, reinterpret_cast<void*>(&cuMemAlloc));  // cuMemAlloc_v2
    EXPECT_EQ(st, CU_GET_PROC_ADDRESS_SUCCESS);
    void* v4 = nullptr;
    void* v2 = nullptr;
    CU_OK(cuGetProcAddress("cuCtxCreate", &v4, 13000, 0, nullptr));
    CU_OK(cuGetProcAddress("cuCtxCreate", &v2, 12080, 0, nullptr));
    EXPECT_EQ(v4, reinterpret_cast<void*>(&cuCtxCreate));
    EXPECT_NE(v2, v4);
    EXPECT_EQ(cuGetProcAddress("cuGraphCreate", &fn, CUDA_VERSION, 0, &st), CUDA_ERROR_NOT_FOUND);
    EXPECT_EQ(fn, nullptr);
    EXPECT_EQ(st, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
    // Through the pointer, as NVIDIA's runtime calls the driver.
    CUdeviceptr p;
    CU_OK(cuGetProcAddress("cuMemAlloc", &fn, CUDA_VERSION, 0, nullptr));
    CU_OK(reinterpret_cast<CUresult (*)(CUdeviceptr*, size_t)>(fn)(&p, 64));
    CU_OK(cuMemFree(p));
    const char* s = nullptr;
    CU_OK(cuGetErrorName(CUDA_ERROR_INVALID_PTX, &s));
    EXPECT_STREQ(s, "CUDA_ERROR_INVALID_PTX");
    CU_OK(cuGetErrorString(CUDA_ERROR_NO_BINARY_FOR_GPU, &s));
    EXPECT_NE(s, nullptr);
    EXPECT_EQ(cuGetErrorName(static_cast<CUresult>(12345), &s), CUDA_ERROR_INVALID_VALUE);
}

// The per-thread default stream's names (--default-stream per-thread).
extern "C" CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dst, const void* src, size_t n);
extern "C" CUresult cuMemcpyDtoHAsync_v2_ptsz(void* dst, CUdeviceptr src, size_t n, CUstream s);
extern "C" CUresult cuStreamSynchronize_ptsz(CUstream s);

// Functions of cuda.h that GPUvm does not implement exist and say so
// (CUDA_ERROR_NOT_SUPPORTED); the per-thread default stream's entry
// points are the default stream's.
TEST_F(Driver, EveryFunctionOfTheHeaderExists) {
    CUdeviceptr p;
    CU_OK(cuMemAlloc(&p, 64));
    CUipcMemHandle h;
    EXPECT_EQ(cuIpcGetMemHandle(&h, p), CUDA_ERROR_NOT_SUPPORTED);
    CUgraph g;
    EXPECT_EQ(cuGraphCreate(&g, 0), CUDA_ERROR_NOT_SUPPORTED);
    char bus[32];
    EXPECT_EQ(cuDeviceGetPCIBusId(bus, sizeof(bus), 0), CUDA_ERROR_NOT_SUPPORTED);
    uint32_t in[16], out[16] = {};
    for (uint32_t i = 0; i < 16; i++)
        in[i] = i * 7 + 1;
    CU_OK(cuMemcpyHtoD_v2_ptds(p, in, sizeof(in)));
    CU_OK(cuMemcpyDtoHAsync_v2_ptsz(out, p, sizeof(out), CU_STREAM_PER_THREAD));
    CU_OK(cuStreamSynchronize_ptsz(CU_STREAM_PER_THREAD));
    EXPECT_EQ(0, std::memcmp(in, out, sizeof(in)));
    CU_OK(cuMemFree(p));
}

// Files are bounded by their size: a wrapper (a pointer) in a file, a
// header that claims more than the file has, a file shorter than a header.
TEST_F(Driver, HostileModuleFilesAreRefusedNotFollowed) {
    std::string dir = ::testing::TempDir();
    auto write = [&](const char* name, std::vector<uint8_t> bytes) {
        std::string path = dir + "/" + name;
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        return path;
    };
    CUmodule m;
    // magic 0x466243B1, version 1, then a pointer nobody may follow
    auto wrap = write("wrap.bin", {0xb1, 0x43, 0x62, 0x46, 1, 0, 0, 0, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0, 0});
    EXPECT_EQ(cuModuleLoad(&m, wrap.c_str()), CUDA_ERROR_INVALID_IMAGE);
    // magic 0xBA55ED50, version 1, header 16, 1 MiB of entries that are not there
    auto big = write("big.bin", {0x50, 0xed, 0x55, 0xba, 1, 0, 16, 0, 0, 0, 0x10, 0, 0, 0, 0, 0});
    EXPECT_EQ(cuModuleLoad(&m, big.c_str()), CUDA_ERROR_INVALID_IMAGE);
    auto small = write("small.bin", {0x50, 0xed, 0x55, 0xba, 1});
    EXPECT_EQ(cuModuleLoad(&m, small.c_str()), CUDA_ERROR_INVALID_IMAGE);
    auto empty = write("empty.ptx", {});
    EXPECT_EQ(cuModuleLoad(&m, empty.c_str()), CUDA_ERROR_INVALID_IMAGE);
}

TEST_F(Driver, StaleHandlesNeverNameNewObjects) {
    CUcontext a, b, popped;
    CU_OK(cuCtxCreate(&a, nullptr, 0, 0));
    CU_OK(cuCtxDestroy(a));
    CU_OK(cuCtxCreate(&b, nullptr, 0, 0));
    EXPECT_NE(a, b);
    EXPECT_EQ(cuCtxDestroy(a), CUDA_ERROR_INVALID_CONTEXT);
    CU_OK(cuCtxPopCurrent(&popped));
    EXPECT_EQ(popped, b);
    CU_OK(cuCtxDestroy(b));
    CUmodule m1 = load("kernels.sm_75.ptx");
    CUfunction f1;
    CU_OK(cuModuleGetFunction(&f1, m1, "gpuvm_saxpy"));
    CU_OK(cuModuleUnload(m1));
    CUmodule m2 = load("kernels.sm_75.ptx");
    CUfunction f2;
    CU_OK(cuModuleGetFunction(&f2, m2, "gpuvm_saxpy"));
    EXPECT_NE(m1, m2);
    EXPECT_NE(f1, f2);
    int v;
    EXPECT_EQ(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, f1), CUDA_ERROR_INVALID_HANDLE);
    CU_OK(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, f2));
}

TEST_F(Driver, OccupancyAndJitLogs) {
    CUmodule m = load("kernels.sm_75.ptx");
    CUfunction f;
    CU_OK(cuModuleGetFunction(&f, m, "gpuvm_saxpy"));
    int grid = 0, block = 0;
    CU_OK(cuOccupancyMaxPotentialBlockSize(&grid, &block, f, nullptr, 0, 16));
    EXPECT_EQ(block, 16);
    EXPECT_GT(grid, 0);
    // The callback may call CUDA: it runs outside the runtime's lock.
    CU_OK(cuOccupancyMaxPotentialBlockSize(&grid, &block, f, [](int b) -> size_t {
        int warp = 0;
        cuDeviceGetAttribute(&warp, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0);
        return static_cast<size_t>(b / warp) * 64;
    }, 0, 0));
    EXPECT_GE(block, 32);
    char info[16], err[16];
    std::memset(info, 'X', sizeof(info));
    CUjit_option opts[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, CU_JIT_ERROR_LOG_BUFFER,
                           CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* vals[] = {info, reinterpret_cast<void*>(sizeof(info)), err, reinterpret_cast<void*>(sizeof(err))};
    auto ptx = data("kernels.sm_75.ptx");
    CUmodule m2;
    CU_OK(cuModuleLoadDataEx(&m2, ptx.data(), 4, opts, vals));
    EXPECT_EQ(info[0], 0);
    EXPECT_EQ(vals[1], nullptr);
}

// A runtime call makes the primary context current (and the driver
// initialised) on its thread, and both APIs take each other's streams
// and events, as with NVIDIA's libraries.
TEST(DriverAndRuntime, TheRuntimeOpensTheWayForTheDriver) {
    ASSERT_EQ(cudaFree(nullptr), cudaSuccess);
    void* rp = nullptr;
    ASSERT_EQ(cudaMalloc(&rp, 64), cudaSuccess);
    CUdeviceptr p;
    CU_OK(cuMemAlloc(&p, 64));  // no cuInit, no context made by hand
    cudaStream_t rs;
    ASSERT_EQ(cudaStreamCreate(&rs), cudaSuccess);
    CU_OK(cuMemsetD32Async(p, 9, 16, reinterpret_cast<CUstream>(rs)));
    CU_OK(cuStreamSynchronize(reinterpret_cast<CUstream>(rs)));
    CUevent ce;
    CU_OK(cuEventCreate(&ce, 0));
    EXPECT_EQ(cudaEventRecord(reinterpret_cast<cudaEvent_t>(ce), rs), cudaSuccess);
    EXPECT_EQ(cudaEventSynchronize(reinterpret_cast<cudaEvent_t>(ce)), cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(rs), cudaSuccess);
    EXPECT_EQ(cuStreamSynchronize(reinterpret_cast<CUstream>(rs)), CUDA_ERROR_INVALID_HANDLE);
    int called = 0;
    EXPECT_EQ(cudaStreamAddCallback(rs, [](cudaStream_t, cudaError_t, void* d) { ++*static_cast<int*>(d); }, &called,
                                    0),
              cudaErrorInvalidResourceHandle);
    EXPECT_EQ(called, 0);  // a call that fails runs nothing
    int v = 0;
    CU_OK(cuMemcpyDtoH(&v, p + 60, 4));
    EXPECT_EQ(v, 9);
    CU_OK(cuMemFree(p));
    EXPECT_EQ(cudaFree(rp), cudaSuccess);
}

// The runtime API and the driver API of one program share the primary
// context's memory, as with NVIDIA's libraries.
TEST(DriverAndRuntime, ShareThePrimaryContext) {
    CU_OK(cuInit(0));
    void* rp = nullptr;
    ASSERT_EQ(cudaMalloc(&rp, 256), cudaSuccess);
    ASSERT_EQ(cudaMemset(rp, 0x5a, 256), cudaSuccess);
    CUcontext primary;
    CU_OK(cuDevicePrimaryCtxRetain(&primary, 0));
    CU_OK(cuCtxPushCurrent(primary));
    uint8_t b[256];
    CU_OK(cuMemcpyDtoH(b, reinterpret_cast<CUdeviceptr>(rp), 256));
    EXPECT_EQ(b[0], 0x5a);
    EXPECT_EQ(b[255], 0x5a);
    CU_OK(cuMemFree(reinterpret_cast<CUdeviceptr>(rp)));
    EXPECT_EQ(cudaFree(rp), cudaErrorInvalidValue);
    CUcontext popped;
    CU_OK(cuCtxPopCurrent(&popped));
    CU_OK(cuDevicePrimaryCtxRelease(0));
    EXPECT_EQ(cuDevicePrimaryCtxRelease(0), CUDA_ERROR_INVALID_CONTEXT);
}

// Last: a fault is sticky until the primary context is reset.
TEST_F(Driver, AFaultIsStickyUntilReset) {
    CUmodule m = load("kernels.sm_75.ptx");
    CUfunction f;
    CU_OK(cuModuleGetFunction(&f, m, "gpuvm_saxpy"));
    float a = 1.0f;
    CUdeviceptr bogus = 0x10;
    int n = 64;
    void* args[] = {&a, &bogus, &bogus, &n};
    CU_OK(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, nullptr, args, nullptr));
    EXPECT_EQ(cuCtxSynchronize(), CUDA_ERROR_ILLEGAL_ADDRESS);
    CUdeviceptr p;
    EXPECT_EQ(cuMemAlloc(&p, 16), CUDA_ERROR_ILLEGAL_ADDRESS);
    int warp = 0;
    CU_OK(cuDeviceGetAttribute(&warp, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0));  // queries work on
    CU_OK(cuDevicePrimaryCtxReset(0));
    CU_OK(cuMemAlloc(&p, 16));
    CU_OK(cuMemsetD32(p, 3, 4));
    int v = 0;
    CU_OK(cuMemcpyDtoH(&v, p, 4));
    EXPECT_EQ(v, 3);
    // The module loads again when used.
    CUdeviceptr y;
    CU_OK(cuMemAlloc(&y, 64 * 4));
    CU_OK(cuMemsetD32(y, 0, 64));
    void* ok_args[] = {&a, &y, &y, &n};
    CU_OK(cuLaunchKernel(f, 1, 1, 1, 64, 1, 1, 0, nullptr, ok_args, nullptr));
    CU_OK(cuCtxSynchronize());
}

// Local memory beyond a block's shared memory: 4 KiB of .local per
// thread (filled, then read back through its generic address), 256
// threads a block run the kernel's variant with local memory in global
// memory; 8 threads a block still fit in shared memory.  48 KiB of
// .local for each of 16384 threads (768 MiB for the grid, which GPUvm
// refused when every thread of the grid had its own slice) runs in a
// buffer of slots the blocks take turns in.
TEST_F(Driver, LocalMemoryBeyondSharedMemoryIsInGlobalMemory) {
    const char* ptx = R"(.version 8.0
.target sm_75
.address_size 64
.visible .entry big(.param .u64 out)
{
  .local .align 4 .b8 buf[4096];
  .reg .pred %p<2>;
  .reg .b32 %r<12>;
  .reg .b64 %rd<8>;
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mad.lo.s32 %r4, %r2, %r3, %r1;
  mov.u64 %rd1, buf;
  mov.u32 %r5, 0;
$Lfill:
  mul.wide.u32 %rd2, %r5, 4;
  add.s64 %rd3, %rd1, %rd2;
  add.s32 %r6, %r4, %r5;
  st.local.u32 [%rd3], %r6;
  add.s32 %r5, %r5, 1;
  setp.lt.u32 %p1, %r5, 1024;
  @%p1 bra $Lfill;
  cvta.local.u64 %rd4, %rd1;
  mov.u32 %r8, 0;
  mov.u32 %r5, 0;
  mov.u32 %r11, 1023;
$Lsum:
  sub.s32 %r9, %r11, %r5;
  mul.wide.u32 %rd2, %r9, 4;
  add.s64 %rd3, %rd4, %rd2;
  ld.u32 %r10, [%rd3];
  mad.lo.s32 %r8, %r8, 3, %r10;
  add.s32 %r5, %r5, 1;
  setp.lt.u32 %p1, %r5, 1024;
  @%p1 bra $Lsum;
  ld.param.u64 %rd5, [out];
  mul.wide.u32 %rd6, %r4, 4;
  add.s64 %rd5, %rd5, %rd6;
  st.global.u32 [%rd5], %r8;
  ret;
}
.visible .entry wide(.param .u64 out)
{
  .local .align 8 .b8 w[49152];
  .reg .b32 %r<8>;
  .reg .b64 %rd<8>;
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mad.lo.s32 %r4, %r2, %r3, %r1;
  mov.u64 %rd1, w;
  st.local.u32 [%rd1], %r4;
  st.local.u32 [%rd1+49148], %r1;
  ld.local.u32 %r5, [%rd1];
  ld.local.u32 %r6, [%rd1+49148];
  add.s32 %r7, %r5, %r6;
  ld.param.u64 %rd5, [out];
  mul.wide.u32 %rd6, %r4, 4;
  add.s64 %rd5, %rd5, %rd6;
  st.global.u32 [%rd5], %r7;
  ret;
}
)";
    CUmodule m;
    CU_OK(cuModuleLoadData(&m, ptx));
    CUfunction f, wide;
    CU_OK(cuModuleGetFunction(&f, m, "big"));
    CU_OK(cuModuleGetFunction(&wide, m, "wide"));
    int local = 0;
    CU_OK(cuFuncGetAttribute(&local, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, f));
    EXPECT_GE(local, 4096);
    const int n = 4 * 256;
    CUdeviceptr out;
    CU_OK(cuMemAlloc(&out, n * 4));
    void* args[] = {&out};
    auto check = [&](int total) {
        std::vector<uint32_t> got(total);
        CU_OK(cuMemcpyDtoH(got.data(), out, total * 4));
        for (int t = 0; t < total; t++) {
            uint32_t want = 0;
            for (uint32_t k = 0; k < 1024; k++)
                want = want * 3 + (t + 1023 - k);
            ASSERT_EQ(got[t], want) << t;
        }
    };
    CU_OK(cuMemsetD32(out, 0, n));
    CU_OK(cuLaunchKernel(f, 4, 1, 1, 256, 1, 1, 0, nullptr, args, nullptr));  // 1 MiB a block
    CU_OK(cuCtxSynchronize());
    check(n);
    CU_OK(cuMemsetD32(out, 0, n));
    CU_OK(cuLaunchKernel(f, 8, 1, 1, 8, 1, 1, 0, nullptr, args, nullptr));  // 32 KiB a block: shared
    CU_OK(cuCtxSynchronize());
    check(64);
    {
        const int blocks = 256, threads = 64;
        CUdeviceptr wout;
        CU_OK(cuMemAlloc(&wout, blocks * threads * 4));
        void* wargs[] = {&wout};
        CU_OK(cuLaunchKernel(wide, blocks, 1, 1, threads, 1, 1, 0, nullptr, wargs, nullptr));
        std::vector<uint32_t> got(blocks * threads);
        CU_OK(cuMemcpyDtoH(got.data(), wout, got.size() * 4));
        for (uint32_t g = 0; g < got.size(); g++)
            ASSERT_EQ(got[g], g + g % threads) << g;
        CU_OK(cuMemFree(wout));
    }
    CU_OK(cuMemsetD32(out, 0, n));
    for (int i = 0; i < 3; i++)  // the buffers serve again after a synchronize
        CU_OK(cuLaunchKernel(f, 2, 1, 1, 512, 1, 1, 0, nullptr, args, nullptr));
    CU_OK(cuCtxSynchronize());
    check(n);
    CU_OK(cuMemFree(out));
    CU_OK(cuModuleUnload(m));
}

}  // namespace
