// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// entry.cpp - the driver API's error names and strings, and
// cuGetProcAddress: the table of every entry point libcuda.so.1 has, by
// the name a program asks for, as the CUDA 13 headers map that name to a
// versioned symbol (cuMemAlloc is cuMemAlloc_v2).
// cuDeviceComputeCapability is deprecated, and in the table all the same.
#define CUDA_ENABLE_DEPRECATED 1

#include <cstring>
#include <iterator>

#include "driver.hpp"

using namespace gpuvm::cudriver;

extern "C" CUresult cuCtxCreate_v2(CUcontext* pctx, unsigned int flags, CUdevice dev);  // context.cpp
// CUDA 11's cuGetProcAddress (no status), below; its symbol has no suffix.
extern "C" CUresult cuGetProcAddress_v1(const char* symbol, void** pfn, int version, cuuint64_t flags)
    __asm__("cuGetProcAddress");

namespace {

struct ErrorText {
    CUresult code;
    const char* name;
    const char* text;
};

// The codes GPUvm's driver returns, and the common others.
constexpr ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error (cuInit was not called)"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for the device"},
    {CUDA_ERROR_UNSUPPORTED_LIMIT, "CUDA_ERROR_UNSUPPORTED_LIMIT", "limit is not supported"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_FILE_NOT_FOUND, "CUDA_ERROR_FILE_NOT_FOUND", "file not found"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_TIMEOUT, "CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"},
    {CUDA_ERROR_CONTEXT_IS_DESTROYED, "CUDA_ERROR_CONTEXT_IS_DESTROYED", "context is destroyed"},
    {CUDA_ERROR_ASSERT, "CUDA_ERROR_ASSERT", "device-side assert triggered"},
    {CUDA_ERROR_ILLEGAL_INSTRUCTION, "CUDA_ERROR_ILLEGAL_INSTRUCTION", "an illegal instruction was encountered"},
    {CUDA_ERROR_MISALIGNED_ADDRESS, "CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_NOT_PERMITTED, "CUDA_ERROR_NOT_PERMITTED", "operation not permitted"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText* error_text(CUresult e) {
    for (const auto& t : kErrors)
        if (t.code == e)
            return &t;
    return nullptr;
}

struct Entry {
    const char* name;
    void* fn;
};

// E(cuX): the name as written, the symbol cuda.h maps it to.
#define E(fn) {#fn, reinterpret_cast<void*>(&fn)}

const Entry kEntries[] = {
    E(cuInit), E(cuDriverGetVersion), E(cuGetErrorName), E(cuGetErrorString), E(cuGetProcAddress),
    E(cuDeviceGet), E(cuDeviceGetCount), E(cuDeviceGetName), E(cuDeviceGetUuid), E(cuDeviceTotalMem),
    E(cuDeviceGetAttribute), E(cuDeviceComputeCapability), E(cuDeviceCanAccessPeer),
    E(cuCtxCreate), E(cuCtxDestroy), E(cuCtxGetCurrent), E(cuCtxSetCurrent), E(cuCtxPushCurrent),
    E(cuCtxPopCurrent), E(cuCtxGetDevice), E(cuCtxGetFlags), E(cuCtxGetApiVersion), E(cuCtxSynchronize),
    E(cuCtxGetLimit), E(cuCtxSetLimit),
    E(cuDevicePrimaryCtxRetain), E(cuDevicePrimaryCtxRelease), E(cuDevicePrimaryCtxGetState),
    E(cuDevicePrimaryCtxSetFlags), E(cuDevicePrimaryCtxReset),
    E(cuModuleLoad), E(cuModuleLoadData), E(cuModuleLoadDataEx), E(cuModuleLoadFatBinary), E(cuModuleUnload),
    E(cuModuleGetFunction), E(cuModuleGetGlobal), E(cuLaunchKernel), E(cuFuncGetAttribute),
    E(cuFuncSetAttribute), E(cuFuncSetCacheConfig), E(cuOccupancyMaxActiveBlocksPerMultiprocessor),
    E(cuOccupancyMaxPotentialBlockSize),
    E(cuMemAlloc), E(cuMemAllocPitch), E(cuMemFree), E(cuMemGetAddressRange), E(cuMemHostAlloc),
    E(cuMemAllocHost), E(cuMemFreeHost), E(cuMemHostGetDevicePointer), E(cuMemGetInfo),
    E(cuMemcpy), E(cuMemcpyHtoD), E(cuMemcpyDtoH), E(cuMemcpyDtoD), E(cuMemcpyAsync), E(cuMemcpyHtoDAsync),
    E(cuMemcpyDtoHAsync), E(cuMemcpyDtoDAsync), E(cuMemsetD8), E(cuMemsetD16), E(cuMemsetD32),
    E(cuMemsetD8Async), E(cuMemsetD16Async), E(cuMemsetD32Async),
    E(cuStreamCreate), E(cuStreamCreateWithPriority), E(cuStreamDestroy), E(cuStreamSynchronize),
    E(cuStreamQuery), E(cuStreamWaitEvent), E(cuStreamAddCallback), E(cuLaunchHostFunc),
    E(cuEventCreate), E(cuEventDestroy), E(cuEventRecord), E(cuEventRecordWithFlags), E(cuEventSynchronize),
    E(cuEventQuery), E(cuEventElapsedTime),
};
#undef E

}  // namespace

extern "C" {

CUresult cuGetErrorName(CUresult e, const char** s) {
    if (!s)
        return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* t = error_text(e);
    *s = t ? t->name : nullptr;
    return t ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult e, const char** s) {
    if (!s)
        return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* t = error_text(e);
    *s = t ? t->text : nullptr;
    return t ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

// Programs built with CUDA 12 headers ask for cuCtxCreate meaning
// cuCtxCreate_v2 (no parameter struct); CUDA 13's mean cuCtxCreate_v4.
// GPUvm's streams are one ordered queue: the per-thread default stream
// forms are the same functions.
CUresult cuGetProcAddress(const char* symbol, void** pfn, int version, cuuint64_t flags,
                          CUdriverProcAddressQueryResult* status) {
    if (!symbol || !pfn || flags > (CU_GET_PROC_ADDRESS_LEGACY_STREAM | CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM))
        return CUDA_ERROR_INVALID_VALUE;
    *pfn = nullptr;
    if (status)
        *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    if (!std::strcmp(symbol, "cuCtxCreate") && version < 13000) {
        *pfn = reinterpret_cast<void*>(&cuCtxCreate_v2);
    } else if (!std::strcmp(symbol, "cuGetProcAddress") && version < 12000) {
        *pfn = reinterpret_cast<void*>(&cuGetProcAddress_v1);
    } else {
        for (const auto& e : kEntries)
            if (!std::strcmp(e.name, symbol))
                *pfn = e.fn;
    }
    if (!*pfn)
        return CUDA_ERROR_NOT_FOUND;
    if (status)
        *status = CU_GET_PROC_ADDRESS_SUCCESS;
    return CUDA_SUCCESS;
}

CUresult cuGetProcAddress_v1(const char* symbol, void** pfn, int version, cuuint64_t flags) {
    return cuGetProcAddress(symbol, pfn, version, flags, nullptr);
}

}  // extern "C"
