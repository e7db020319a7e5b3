// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// device.cpp - what GPUvm's vGPU says about itself to both CUDA APIs
// (runtime.hpp): cudaGetDeviceProperties, cudaDeviceGetAttribute and
// cuDeviceGetAttribute (CUdevice_attribute and cudaDeviceAttr share their
// values), and the occupancy the queries of both report.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include <cuda_runtime_api.h>

#include "runtime.hpp"

namespace gpuvm::cudart {

// What a program asks of the device: honest values for GPUvm's vGPU.
// Compute capability 7.5 is the PTX target GPUvm compiles (nvcc's lowest).
void fill_properties(Runtime& rt, cudaDeviceProp& p, int device) {
    auto& b = rt.backend(device);  // a bad ordinal leaves @p as it was
    std::memset(&p, 0, sizeof(p));
    std::snprintf(p.name, sizeof(p.name), "%s", rt.device_name(device).c_str());
    p.totalGlobalMem = b.total_memory();
    p.sharedMemPerBlock = 48 * 1024;
    p.sharedMemPerBlockOptin = 48 * 1024;
    p.sharedMemPerMultiprocessor = 48 * 1024;
    p.regsPerBlock = 32 * 1024;
    p.regsPerMultiprocessor = 32 * 1024;
    p.warpSize = 32;
    p.memPitch = 1ull << 31;
    p.maxThreadsPerBlock = 1024;
    p.maxThreadsDim[0] = p.maxThreadsDim[1] = 1024;
    p.maxThreadsDim[2] = 64;
    const auto grid = max_grid_size(b.max_grid_x());
    for (int i = 0; i < 3; i++) p.maxGridSize[i] = static_cast<int>(grid[i]);
    p.totalConstMem = 64 * 1024;
    p.major = 7;
    p.minor = 5;
    p.textureAlignment = 512;
    p.texturePitchAlignment = 32;
    p.multiProcessorCount = 1;
    p.canMapHostMemory = 1;
    p.unifiedAddressing = 0;
    p.maxThreadsPerMultiProcessor = 2048;
    p.maxBlocksPerMultiProcessor = 32;
    p.asyncEngineCount = 0;
    p.concurrentKernels = 0;
    p.managedMemory = 0;
    p.l2CacheSize = 0;
    p.memoryBusWidth = 64;
    p.regsPerMultiprocessor = 32 * 1024;
}

int attribute(Runtime& rt, int attr, int device) {
    auto a = static_cast<cudaDeviceAttr>(attr);
    cudaDeviceProp p;
    fill_properties(rt, p, device);
    switch (a) {
    case cudaDevAttrMaxThreadsPerBlock: return p.maxThreadsPerBlock;
    case cudaDevAttrMaxBlockDimX: return p.maxThreadsDim[0];
    case cudaDevAttrMaxBlockDimY: return p.maxThreadsDim[1];
    case cudaDevAttrMaxBlockDimZ: return p.maxThreadsDim[2];
    case cudaDevAttrMaxGridDimX: return p.maxGridSize[0];
    case cudaDevAttrMaxGridDimY: return p.maxGridSize[1];
    case cudaDevAttrMaxGridDimZ: return p.maxGridSize[2];
    case cudaDevAttrMaxSharedMemoryPerBlock: return static_cast<int>(p.sharedMemPerBlock);
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: return static_cast<int>(p.sharedMemPerBlockOptin);
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: return static_cast<int>(p.sharedMemPerMultiprocessor);
    case cudaDevAttrTotalConstantMemory: return static_cast<int>(p.totalConstMem);
    case cudaDevAttrWarpSize: return p.warpSize;
    case cudaDevAttrMaxRegistersPerBlock: return p.regsPerBlock;
    case cudaDevAttrMultiProcessorCount: return p.multiProcessorCount;
    case cudaDevAttrComputeCapabilityMajor: return p.major;
    case cudaDevAttrComputeCapabilityMinor: return p.minor;
    case cudaDevAttrCanMapHostMemory: return 1;
    case cudaDevAttrMaxThreadsPerMultiProcessor: return p.maxThreadsPerMultiProcessor;
    case cudaDevAttrMaxBlocksPerMultiprocessor: return p.maxBlocksPerMultiProcessor;
    case cudaDevAttrUnifiedAddressing: return 0;
    case cudaDevAttrIntegrated: return 0;
    case cudaDevAttrConcurrentKernels: return 0;
    case cudaDevAttrAsyncEngineCount: return 0;
    case cudaDevAttrManagedMemory: return 0;
    case cudaDevAttrCooperativeLaunch: return 0;
    case cudaDevAttrComputeMode: return cudaComputeModeDefault;
    case cudaDevAttrClockRate: return 1000000;        // kHz: nominal, an interpreter has no clock
    case cudaDevAttrMemoryClockRate: return 1000000;
    case cudaDevAttrGlobalMemoryBusWidth: return p.memoryBusWidth;
    case cudaDevAttrL2CacheSize: return 0;
    case cudaDevAttrKernelExecTimeout: return 1;      // the watchdog ends long launches
    case cudaDevAttrEccEnabled: return 0;
    case cudaDevAttrPciBusId:
    case cudaDevAttrPciDeviceId:
    case cudaDevAttrPciDomainId: return 0;
    case cudaDevAttrTccDriver: return 0;
    case cudaDevAttrGpuOverlap: return 0;
    case cudaDevAttrMaxPitch: return static_cast<int>(std::min<size_t>(p.memPitch, INT32_MAX));
    case cudaDevAttrTextureAlignment: return static_cast<int>(p.textureAlignment);
    case cudaDevAttrMaxRegistersPerMultiprocessor: return p.regsPerMultiprocessor;
    case cudaDevAttrHostNativeAtomicSupported: return 0;
    case cudaDevAttrPageableMemoryAccess: return 0;
    case cudaDevAttrConcurrentManagedAccess: return 0;
    case cudaDevAttrComputePreemptionSupported: return 1;
    case cudaDevAttrStreamPrioritiesSupported: return 0;
    // No textures or surfaces (cudaCreateTextureObject is refused).
    case cudaDevAttrMaxTexture1DWidth:
    case cudaDevAttrMaxTexture2DWidth:
    case cudaDevAttrMaxTexture2DHeight:
    case cudaDevAttrMaxTexture3DWidth:
    case cudaDevAttrMaxTexture3DHeight:
    case cudaDevAttrMaxTexture3DDepth:
    case cudaDevAttrMaxTexture2DLayeredWidth:
    case cudaDevAttrMaxTexture2DLayeredHeight:
    case cudaDevAttrMaxTexture2DLayeredLayers:
    case cudaDevAttrMaxTexture1DLayeredWidth:
    case cudaDevAttrMaxTexture1DLayeredLayers:
    case cudaDevAttrSurfaceAlignment: return 0;
    case 96: return 0;  // CU_DEVICE_ATTRIBUTE_COOPERATIVE_MULTI_DEVICE_LAUNCH (no runtime name in CUDA 13)
    case cudaDevAttrGlobalL1CacheSupported:
    case cudaDevAttrLocalL1CacheSupported: return 0;
    default:
        throw CudaError(cudaErrorNotSupported, "attribute " + std::to_string(attr) +
                                                   " is not supported");
    }
}

void say_unsupported_once(const char* api, const std::string& fn) {
    static std::mutex mu;               // guards said: both APIs call from any thread
    static std::set<std::string> said;  // the functions already named
    std::lock_guard<std::mutex> lk(mu);
    if (said.insert(fn).second)
        std::fprintf(stderr, "GPUvm CUDA %s: %s is not supported\n", api, fn.c_str());
}

int fault_error(const DeviceFault& f) {
    switch (f.kind()) {
    case 3: return cudaErrorMisalignedAddress;   // VGPU_FAULT_MISALIGNED
    case 5: return cudaErrorIllegalInstruction;  // VGPU_FAULT_ILLEGAL
    case 0: return cudaErrorLaunchTimeout;       // hung or banned
    default: return cudaErrorIllegalAddress;
    }
}

int occupancy(const ptx::KernelInfo& k, int block, size_t dynamic) {
    size_t smem = k.program_shared + dynamic;
    int by_threads = block > 0 ? 2048 / block : 0;
    int by_smem = smem ? static_cast<int>(std::min<size_t>(64 * 1024 / smem, INT_MAX)) : by_threads;
    return std::max(0, std::min({by_threads, by_smem, 32}));
}

}  // namespace gpuvm::cudart
