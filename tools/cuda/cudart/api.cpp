// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// api.cpp - the CUDA runtime API of libcudart.so.13 (GPUvm's), over
// runtime.hpp.  Every entry point takes the runtime's lock, turns
// exceptions into cudaError_t, and sets the calling thread's last error
// (cudaGetLastError).  A fault of the GPU is sticky, as CUDA's: every
// later call returns it until cudaDeviceReset.
//
// Streams are ordered with everything else (one queue per device): a
// program that relies on streams only for overlap gets its results, in
// order; events time on the host, after waiting for the work before them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <utility>

#include <cuda_profiler_api.h>
#include <cuda_runtime_api.h>

#include "runtime.hpp"

using gpuvm::cudart::CudaError;
using gpuvm::cudart::DeviceFault;
using gpuvm::cudart::Runtime;
using gpuvm::cudart::attribute;
using gpuvm::cudart::fill_properties;

namespace {

thread_local cudaError_t last_error = cudaSuccess;
thread_local std::vector<gpuvm::cudart::LaunchConfig> configs;

cudaError_t done(cudaError_t e) {
    if (e != cudaSuccess)
        last_error = e;
    return e;
}

// Runs @f under the runtime's lock; errors become cudaError_t (no
// exception leaves an entry point).  @healthy: a sticky fault of the
// current device fails the call first.
template <typename F>
cudaError_t run(const char* fn, F&& f, bool healthy) {
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    try {
        if (healthy && rt.sticky())
            return done(static_cast<cudaError_t>(rt.sticky()));
        f(rt);
        if (rt.has_backend())
            gpuvm::cudriver::runtime_entered();
        return cudaSuccess;
    } catch (const CudaError& e) {
        if (e.code() == cudaErrorNotSupported || e.code() == cudaErrorNoDevice ||
            e.code() == cudaErrorInvalidConfiguration || e.said())
            std::fprintf(stderr, "GPUvm CUDA runtime: %s: %s\n", fn, e.what());
        return done(static_cast<cudaError_t>(e.code()));
    } catch (const DeviceFault& e) {
        auto c = static_cast<cudaError_t>(rt.record_fault(e));
        if (c != cudaErrorAssert)
            std::fprintf(stderr, "GPUvm CUDA runtime: %s: %s (fault %u at 0x%llx)\n", fn, e.what(), e.kind(),
                         static_cast<unsigned long long>(e.addr()));
        return done(c);
    } catch (const std::out_of_range&) {
        return done(cudaErrorInvalidValue);
    } catch (const std::bad_alloc&) {
        return done(cudaErrorMemoryAllocation);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "GPUvm CUDA runtime: %s: %s\n", fn, e.what());
        return done(cudaErrorUnknown);
    }
}

template <typename F>
cudaError_t guarded(const char* fn, F&& f) {
    return run(fn, std::forward<F>(f), true);
}

// The same for calls that work on after a fault (cudaDeviceReset,
// teardowns, bookkeeping).
template <typename F>
cudaError_t unchecked(const char* fn, F&& f) {
    return run(fn, std::forward<F>(f), false);
}

cudaError_t unsupported(const char* fn) {
    gpuvm::cudart::say_unsupported_once("runtime", fn);
    return done(cudaErrorNotSupported);
}

uint64_t va_of(const void* p) { return reinterpret_cast<uint64_t>(p); }

// Where a pointer of a copy lies: any device's allocation (mapped host
// memory included), or host memory.
bool on_device(Runtime& rt, const void* p, size_t n) { return rt.device_of(va_of(p), n) >= 0; }

void sync_all(Runtime& rt) { rt.synchronize(); }

// The sides the kind names device memory are checked, each the memory of
// the device its address names (unified addressing: any device's, the
// current one or not); a host pointer is never looked up.
void copy(Runtime& rt, void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
    if (!n)
        return;
    bool dd, sd;
    switch (kind) {
    case cudaMemcpyHostToHost: dd = sd = false; break;
    case cudaMemcpyHostToDevice: dd = true, sd = false; break;
    case cudaMemcpyDeviceToHost: dd = false, sd = true; break;
    case cudaMemcpyDeviceToDevice: dd = sd = true; break;
    case cudaMemcpyDefault:
        dd = on_device(rt, dst, n);
        sd = on_device(rt, src, n);
        break;
    default: throw CudaError(cudaErrorInvalidMemcpyDirection, "copy direction");
    }
    if (dd && sd)
        rt.copy(va_of(dst), va_of(src), n);
    else if (dd)
        rt.write(va_of(dst), src, n);
    else if (sd)
        rt.read(dst, va_of(src), n);
    else
        std::memmove(dst, src, n);
}

std::map<int, size_t>& limits() {
    static std::map<int, size_t> l;
    return l;
}

}  // namespace

// The functions of cuda_runtime_api.h that GPUvm does not implement
// (stubs.cmake): cudaErrorNotSupported, also for cudaGetLastError.
namespace gpuvm::stubs {
int runtime_unsupported(const char* fn) { return unsupported(fn); }
}  // namespace gpuvm::stubs

extern "C" {

// ---- registration (the code nvcc puts in every program) -----------------------

// A registration that fails (out of memory) is said; the kernel is then
// not registered and its launch fails.
void** __cudaRegisterFatBinary(void* fatCubin) {
    void** handle = nullptr;
    unchecked("__cudaRegisterFatBinary",
              [&](Runtime& rt) { handle = reinterpret_cast<void**>(rt.register_module(fatCubin)); });
    return handle;
}

void __cudaRegisterFatBinaryEnd(void**) {}

void __cudaUnregisterFatBinary(void** handle) {
    unchecked("__cudaUnregisterFatBinary",
              [&](Runtime& rt) { rt.unregister_module(reinterpret_cast<gpuvm::cudart::Module*>(handle)); });
}

void __cudaRegisterFunction(void** handle, const char* hostFun, char*, const char* deviceName, int, uint3*, uint3*,
                            dim3*, dim3*, int*) {
    unchecked("__cudaRegisterFunction", [&](Runtime& rt) {
        rt.register_function(reinterpret_cast<gpuvm::cudart::Module*>(handle), hostFun, deviceName);
    });
}

void __cudaRegisterVar(void** handle, char* hostVar, char*, const char* deviceName, int, size_t size, int, int) {
    unchecked("__cudaRegisterVar", [&](Runtime& rt) {
        rt.register_variable(reinterpret_cast<gpuvm::cudart::Module*>(handle), hostVar, deviceName, size);
    });
}

void __cudaRegisterManagedVar(void**, void**, char*, const char* deviceName, int, size_t, int, int) {
    std::fprintf(stderr, "GPUvm CUDA runtime: __managed__ variable '%s' is not supported\n", deviceName);
}

char __cudaInitModule(void**) { return 1; }

unsigned __cudaPushCallConfiguration(dim3 gridDim, dim3 blockDim, size_t sharedMem, struct CUstream_st* stream) {
    try {
        configs.push_back({{gridDim.x, gridDim.y, gridDim.z}, {blockDim.x, blockDim.y, blockDim.z}, sharedMem, stream});
    } catch (const std::bad_alloc&) {
        return 1;  // the launch then fails: no configuration
    }
    return 0;
}

cudaError_t __cudaPopCallConfiguration(dim3* gridDim, dim3* blockDim, size_t* sharedMem, void* stream) {
    if (configs.empty())
        return done(cudaErrorMissingConfiguration);
    auto c = configs.back();
    configs.pop_back();
    *gridDim = dim3(c.grid[0], c.grid[1], c.grid[2]);
    *blockDim = dim3(c.block[0], c.block[1], c.block[2]);
    *sharedMem = c.shared;
    *static_cast<void**>(stream) = c.stream;
    return cudaSuccess;
}

cudaError_t __cudaGetKernel(cudaKernel_t* kernel, const void* funcAddr) {
    *kernel = reinterpret_cast<cudaKernel_t>(const_cast<void*>(funcAddr));
    return cudaSuccess;
}

cudaError_t cudaLaunchKernel(const void* func, dim3 gridDim, dim3 blockDim, void** args, size_t sharedMem,
                             cudaStream_t) {
    return guarded("cudaLaunchKernel", [&](Runtime& rt) {
        rt.launch(func, {gridDim.x, gridDim.y, gridDim.z}, {blockDim.x, blockDim.y, blockDim.z}, args, sharedMem);
    });
}

cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 gridDim, dim3 blockDim, void** args, size_t sharedMem,
                               cudaStream_t stream) {
    return cudaLaunchKernel(reinterpret_cast<const void*>(kernel), gridDim, blockDim, args, sharedMem, stream);
}

cudaError_t __cudaLaunchKernel_ptsz(cudaKernel_t kernel, dim3 gridDim, dim3 blockDim, void** args, size_t sharedMem,
                                    cudaStream_t stream) {
    return __cudaLaunchKernel(kernel, gridDim, blockDim, args, sharedMem, stream);
}

// ---- errors ---------------------------------------------------------------

cudaError_t cudaGetLastError(void) {
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    return rt.sticky() ? static_cast<cudaError_t>(rt.sticky()) : e;
}

cudaError_t cudaPeekAtLastError(void) {
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    return rt.sticky() ? static_cast<cudaError_t>(rt.sticky()) : last_error;
}

const char* cudaGetErrorName(cudaError_t e) { return gpuvm::cudart::error_name(e); }

// A channel format: a value, nothing to check (textures are refused
// where they are used).
cudaChannelFormatDesc cudaCreateChannelDesc(int x, int y, int z, int w, cudaChannelFormatKind f) {
    return cudaChannelFormatDesc{x, y, z, w, f};
}
const char* cudaGetErrorString(cudaError_t e) { return gpuvm::cudart::error_string(e); }

// ---- device -----------------------------------------------------------------

// One device is opened, as before there were several: a program with
// no usable vGPU learns it here.  Several are counted, none opened (one
// that refuses a client is unavailable where it is used, as a GPU that
// another process holds in exclusive mode).
cudaError_t cudaGetDeviceCount(int* count) {
    *count = 0;
    int n = 0;
    cudaError_t e = guarded("cudaGetDeviceCount", [&](Runtime& rt) {
        n = rt.device_count();
        if (n == 1)
            rt.backend();
    });
    if (e == cudaSuccess)
        *count = n;
    return e;
}

// The calling thread's device (CUDA's is per thread); opened here.
// A device that fails to open leaves the thread on its device.
cudaError_t cudaSetDevice(int device) {
    return guarded("cudaSetDevice", [&](Runtime& rt) {
        rt.backend(device);
        rt.set_device(device);
        gpuvm::cudriver::runtime_set_device(device);
    });
}

cudaError_t cudaGetDevice(int* device) {
    if (!device)
        return done(cudaErrorInvalidValue);
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    *device = rt.device();
    return cudaSuccess;
}

cudaError_t cudaSetDeviceFlags(unsigned int) { return cudaSuccess; }
cudaError_t cudaGetDeviceFlags(unsigned int* flags) {
    *flags = cudaDeviceMapHost;
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) { return guarded("cudaDeviceSynchronize", sync_all); }

// The calling thread's last error stays, as with NVIDIA's runtime.
cudaError_t cudaDeviceReset(void) {
    return unchecked("cudaDeviceReset", [](Runtime& rt) { rt.reset(); });
}

cudaError_t cudaDriverGetVersion(int* v) {
    *v = CUDART_VERSION;
    return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
    *v = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
    return guarded("cudaGetDeviceProperties", [&](Runtime& rt) { fill_properties(rt, *p, device); });
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    return guarded("cudaDeviceGetAttribute", [&](Runtime& rt) {
        *value = attribute(rt, attr, device);
    });
}

cudaError_t cudaDeviceSetCacheConfig(cudaFuncCache) { return cudaSuccess; }
cudaError_t cudaFuncSetCacheConfig(const void*, cudaFuncCache) { return cudaSuccess; }
cudaError_t cudaDeviceSetSharedMemConfig(cudaSharedMemConfig) { return cudaSuccess; }

// ---- memory -----------------------------------------------------------------

cudaError_t cudaMalloc(void** p, size_t size) {
    return guarded("cudaMalloc", [&](Runtime& rt) {
        *p = reinterpret_cast<void*>(rt.malloc(size, false, nullptr));
    });
}

cudaError_t cudaFree(void* p) {
    if (!p)
        return cudaSuccess;
    return guarded("cudaFree", [&](Runtime& rt) { rt.free(va_of(p)); });
}

cudaError_t cudaHostAlloc(void** p, size_t size, unsigned int) {
    return guarded("cudaHostAlloc", [&](Runtime& rt) { rt.malloc(size, true, p); });
}

cudaError_t cudaMallocHost(void** p, size_t size) { return cudaHostAlloc(p, size, 0); }

cudaError_t cudaFreeHost(void* p) {
    if (!p)
        return cudaSuccess;
    return guarded("cudaFreeHost", [&](Runtime& rt) { rt.free_host(p); });
}

// Registered host memory is host memory to every copy (what a copy from
// pinned memory does is the same as from any memory here); the GPU
// cannot map it: cudaHostGetDevicePointer says so.
std::mutex registered_mu;
std::map<uintptr_t, size_t> registered;

bool is_registered(const void* p) {
    std::lock_guard<std::mutex> lk(registered_mu);
    auto a = reinterpret_cast<uintptr_t>(p);
    auto it = registered.upper_bound(a);
    return it != registered.begin() && a - std::prev(it)->first < std::prev(it)->second;
}

cudaError_t cudaHostRegister(void* p, size_t size, unsigned int) {
    if (!p || !size)
        return done(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lk(registered_mu);
    try {
        if (!registered.emplace(reinterpret_cast<uintptr_t>(p), size).second)
            return done(cudaErrorHostMemoryAlreadyRegistered);
    } catch (const std::bad_alloc&) {
        return done(cudaErrorMemoryAllocation);
    }
    return cudaSuccess;
}

cudaError_t cudaHostUnregister(void* p) {
    std::lock_guard<std::mutex> lk(registered_mu);
    return registered.erase(reinterpret_cast<uintptr_t>(p)) ? cudaSuccess : done(cudaErrorHostMemoryNotRegistered);
}

cudaError_t cudaHostGetDevicePointer(void** dev, void* host, unsigned int) {
    if (is_registered(host))
        return unsupported("cudaHostGetDevicePointer of cudaHostRegister'ed memory (the GPU cannot map it)");
    return guarded("cudaHostGetDevicePointer", [&](Runtime& rt) {
        auto va = rt.device_of_host(host);
        if (!va)
            throw CudaError(cudaErrorInvalidValue, "not memory cudaHostAlloc returned");
        *dev = reinterpret_cast<void*>(*va);
    });
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
    return guarded("cudaMemGetInfo", [&](Runtime& rt) {
        *total = rt.backend().total_memory();
        *free = *total - std::min(*total, rt.backend().used_memory());
    });
}

// The blocking copies wait for the work before them (and print what it
// printed, and report its faults), as CUDA's do.
cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
    return guarded("cudaMemcpy", [&](Runtime& rt) {
        sync_all(rt);
        copy(rt, dst, src, n, kind);
        if (kind == cudaMemcpyDeviceToDevice)
            rt.synchronize_at(va_of(dst));  // the device the copy ran on
    });
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t) {
    return guarded("cudaMemcpyAsync", [&](Runtime& rt) { copy(rt, dst, src, n, kind); });
}

cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind) {
    if (width > dpitch || width > spitch)
        return done(cudaErrorInvalidPitchValue);
    return guarded("cudaMemcpy2D", [&](Runtime& rt) {
        sync_all(rt);
        for (size_t r = 0; r < height; r++)
            copy(rt, static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width, kind);
    });
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy2D(dst, dpitch, src, spitch, width, height, kind);
}

cudaError_t cudaMallocPitch(void** p, size_t* pitch, size_t width, size_t height) {
    *pitch = (width + 255) & ~size_t{255};
    return cudaMalloc(p, *pitch * height);
}

cudaError_t cudaMemset(void* p, int value, size_t n) {
    if (!n)
        return cudaSuccess;
    return guarded("cudaMemset", [&](Runtime& rt) {
        rt.refuse_foreign(va_of(p), n, "cudaMemset's pointer");
        if (!rt.find(va_of(p), n).second)
            throw CudaError(cudaErrorInvalidValue, "not device memory");
        rt.memset(va_of(p), value, n);
    });
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t) { return cudaMemset(p, value, n); }

cudaError_t cudaMemcpyToSymbol(const void* symbol, const void* src, size_t n, size_t offset, cudaMemcpyKind kind) {
    return guarded("cudaMemcpyToSymbol", [&](Runtime& rt) {
        auto [va, size] = rt.symbol(symbol);
        if (offset > size || n > size - offset)
            throw CudaError(cudaErrorInvalidValue, "outside the symbol");
        sync_all(rt);
        // The symbol is the current device's; the other side may be any
        // device's memory (Runtime::copy goes by the addresses).
        if (kind == cudaMemcpyDeviceToDevice || (kind == cudaMemcpyDefault && on_device(rt, src, n)))
            rt.copy(va + offset, va_of(src), n);
        else
            rt.write(va + offset, src, n);
    });
}

cudaError_t cudaMemcpyFromSymbol(void* dst, const void* symbol, size_t n, size_t offset, cudaMemcpyKind kind) {
    return guarded("cudaMemcpyFromSymbol", [&](Runtime& rt) {
        auto [va, size] = rt.symbol(symbol);
        if (offset > size || n > size - offset)
            throw CudaError(cudaErrorInvalidValue, "outside the symbol");
        sync_all(rt);
        if (kind == cudaMemcpyDeviceToDevice || (kind == cudaMemcpyDefault && on_device(rt, dst, n)))
            rt.copy(va_of(dst), va + offset, n);
        else
            rt.read(dst, va + offset, n);
    });
}

cudaError_t cudaMemcpyToSymbolAsync(const void* symbol, const void* src, size_t n, size_t offset,
                                    cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpyToSymbol(symbol, src, n, offset, kind);
}

cudaError_t cudaMemcpyFromSymbolAsync(void* dst, const void* symbol, size_t n, size_t offset, cudaMemcpyKind kind,
                                      cudaStream_t) {
    return cudaMemcpyFromSymbol(dst, symbol, n, offset, kind);
}

cudaError_t cudaGetSymbolAddress(void** p, const void* symbol) {
    return guarded("cudaGetSymbolAddress", [&](Runtime& rt) {
        *p = reinterpret_cast<void*>(rt.symbol(symbol).first);
    });
}

cudaError_t cudaGetSymbolSize(size_t* size, const void* symbol) {
    return guarded("cudaGetSymbolSize", [&](Runtime& rt) { *size = rt.symbol(symbol).second; });
}

// ---- streams and events -------------------------------------------------------

cudaError_t cudaStreamCreate(cudaStream_t* s) {
    if (!s)
        return done(cudaErrorInvalidValue);
    return guarded("cudaStreamCreate", [&](Runtime& rt) {
        *s = static_cast<cudaStream_t>(const_cast<void*>(rt.create_stream()));
    });
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) { return cudaStreamCreate(s); }
cudaError_t cudaStreamCreateWithPriority(cudaStream_t* s, unsigned int, int) { return cudaStreamCreate(s); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    return rt.destroy_stream(s) ? cudaSuccess : done(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    return guarded("cudaStreamSynchronize", [&](Runtime& rt) {
        rt.check_stream(s);
        rt.synchronize(rt.stream_device(s));
    });
}
cudaError_t cudaStreamQuery(cudaStream_t s) { return cudaStreamSynchronize(s); }
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
    return guarded("cudaStreamWaitEvent", [&](Runtime& rt) {
        rt.check_stream(s);
        rt.event_of(e);
    });
}

// Host functions run once the work queued before them is done: here, at
// once after waiting for it, in the calling thread (CUDA runs them in a
// thread of its own; they must not call CUDA either way).  A call that
// fails (a bad stream, a fault before) runs nothing.
cudaError_t cudaStreamAddCallback(cudaStream_t stream, cudaStreamCallback_t cb, void* data, unsigned int flags) {
    if (!cb || flags)
        return done(cudaErrorInvalidValue);
    cudaError_t e = cudaStreamSynchronize(stream);
    if (e == cudaSuccess)
        cb(stream, e, data);
    return e;
}

cudaError_t cudaLaunchHostFunc(cudaStream_t s, cudaHostFn_t fn, void* data) {
    if (!fn)
        return done(cudaErrorInvalidValue);
    cudaError_t e = cudaStreamSynchronize(s);
    if (e == cudaSuccess)
        fn(data);
    return e;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
    if (!e)
        return done(cudaErrorInvalidValue);
    return unchecked("cudaEventCreate", [&](Runtime& rt) { *e = reinterpret_cast<cudaEvent_t>(rt.create_event()); });
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) { return cudaEventCreate(e); }
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    return rt.destroy_event(e) ? cudaSuccess : done(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
    return guarded("cudaEventRecord", [&](Runtime& rt) {
        rt.check_stream(s);
        auto& ev = rt.event_of(e);
        rt.synchronize(rt.stream_device(s));
        ev.t = std::chrono::steady_clock::now();
        ev.recorded = true;
    });
}
cudaError_t cudaEventRecordWithFlags(cudaEvent_t e, cudaStream_t s, unsigned int) { return cudaEventRecord(e, s); }
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
    return guarded("cudaEventSynchronize", [&](Runtime& rt) {
        rt.event_of(e);
        sync_all(rt);
    });
}
cudaError_t cudaEventQuery(cudaEvent_t e) { return cudaEventSynchronize(e); }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (!ms)
        return done(cudaErrorInvalidValue);
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    auto* a = rt.event(start);
    auto* b = rt.event(end);
    if (!a || !b || !a->recorded || !b->recorded)
        return done(cudaErrorInvalidResourceHandle);
    *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
    return cudaSuccess;
}

// ---- functions ------------------------------------------------------------------

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* a, const void* func) {
    return guarded("cudaFuncGetAttributes", [&](Runtime& rt) {
        const auto& k = *rt.function(func).info;
        std::memset(a, 0, sizeof(*a));
        a->sharedSizeBytes = k.program_shared;
        a->constSizeBytes = 0;
        a->localSizeBytes = 0;
        a->maxThreadsPerBlock = k.maxntid[0] ? static_cast<int>(k.maxntid[0] * std::max(1u, k.maxntid[1]) *
                                                                std::max(1u, k.maxntid[2]))
                                             : 1024;
        a->numRegs = static_cast<int>(k.registers);
        a->ptxVersion = 75;
        a->binaryVersion = 75;
        a->maxDynamicSharedSizeBytes = static_cast<int>(k.max_dynamic_shared());
    });
}

cudaError_t cudaFuncSetAttribute(const void*, cudaFuncAttribute, int) { return cudaSuccess; }

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, const void* func, int block, size_t dyn) {
    return guarded("cudaOccupancyMaxActiveBlocksPerMultiprocessor", [&](Runtime& rt) {
        *n = gpuvm::cudart::occupancy(*rt.function(func).info, block, dyn);
    });
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int* n, const void* func, int block, size_t dyn,
                                                                  unsigned int) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(n, func, block, dyn);
}

cudaError_t cudaOccupancyAvailableDynamicSMemPerBlock(size_t* smem, const void* func, int, int) {
    return guarded("cudaOccupancyAvailableDynamicSMemPerBlock", [&](Runtime& rt) {
        *smem = rt.function(func).info->max_dynamic_shared();
    });
}

cudaError_t cudaProfilerStart(void) { return cudaSuccess; }
cudaError_t cudaProfilerStop(void) { return cudaSuccess; }

// Limits: the values a program sets are kept and read back; the stack's
// size serves recursive kernels whose local memory is in global memory
// (runtime.cpp); the printf buffer is not configurable yet.
cudaError_t cudaDeviceSetLimit(cudaLimit limit, size_t value) {
    if (limit > cudaLimitPersistingL2CacheSize)
        return done(cudaErrorUnsupportedLimit);
    // A thread's stack lies in its slice of local memory, at most 2 MiB.
    if (limit == cudaLimitStackSize && value > (size_t{1} << 20))
        return done(cudaErrorInvalidValue);
    return unchecked("cudaDeviceSetLimit", [&](Runtime& rt) {
        if (limit == cudaLimitStackSize)
            rt.set_stack_size(value);  // may refuse: the limit stays
        limits()[limit] = value;
    });
}

cudaError_t cudaDeviceGetLimit(size_t* value, cudaLimit limit) {
    if (limit > cudaLimitPersistingL2CacheSize)
        return done(cudaErrorUnsupportedLimit);
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    if (limit == cudaLimitStackSize) {  // the current device's (cuCtxSetLimit's too)
        *value = rt.stack_size();
        return cudaSuccess;
    }
    auto it = limits().find(limit);
    *value = it != limits().end() ? it->second : limit == cudaLimitPrintfFifoSize ? 1 << 20 : 0;
    return cudaSuccess;
}

// ---- what GPUvm does not do (yet): cudaErrorNotSupported and one line --------

cudaError_t cudaMallocManaged(void** p, size_t, unsigned int) {
    *p = nullptr;
    return unsupported("cudaMallocManaged (managed memory)");
}
cudaError_t cudaLaunchCooperativeKernel(const void*, dim3, dim3, void**, size_t, cudaStream_t) {
    return unsupported("cudaLaunchCooperativeKernel (grid synchronisation)");
}
cudaError_t cudaMallocArray(cudaArray_t*, const cudaChannelFormatDesc*, size_t, size_t, unsigned int) {
    return unsupported("cudaMallocArray (textures)");
}
cudaError_t cudaCreateTextureObject(cudaTextureObject_t*, const cudaResourceDesc*, const cudaTextureDesc*,
                                    const cudaResourceViewDesc*) {
    return unsupported("cudaCreateTextureObject (textures)");
}
cudaError_t cudaGraphCreate(cudaGraph_t*, unsigned int) { return unsupported("cudaGraphCreate (graphs)"); }
cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) {
    return unsupported("cudaStreamBeginCapture (graphs)");
}
// GPUvm's devices have no peer access: each vGPU maps only its own
// memory.  cudaMemcpyPeer copies all the same, through the host.
cudaError_t cudaDeviceCanAccessPeer(int* can, int device, int peer) {
    if (!can)
        return done(cudaErrorInvalidValue);
    *can = 0;
    return guarded("cudaDeviceCanAccessPeer", [&](Runtime& rt) {
        rt.check_device(device);
        rt.check_device(peer);
    });
}

// As CUDA's where the devices cannot access each other's memory.
cudaError_t cudaDeviceEnablePeerAccess(int peer, unsigned int) {
    cudaError_t e = guarded("cudaDeviceEnablePeerAccess", [&](Runtime& rt) { rt.check_device(peer); });
    return e != cudaSuccess ? e : done(cudaErrorPeerAccessUnsupported);
}

cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device, size_t n) {
    return guarded("cudaMemcpyPeer", [&](Runtime& rt) {
        rt.copy_peer(va_of(dst), dst_device, va_of(src), src_device, n);
    });
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t n,
                                cudaStream_t s) {
    return guarded("cudaMemcpyPeerAsync", [&](Runtime& rt) {
        rt.check_stream(s);
        rt.copy_peer(va_of(dst), dst_device, va_of(src), src_device, n);
    });
}

}  // extern "C"
