// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// context.cpp - the driver API's initialisation, device queries and
// contexts (see driver.hpp for what a context is here).
// cuDeviceComputeCapability is deprecated; libcuda.so.1 has it all the same.
#define CUDA_ENABLE_DEPRECATED 1

#include <cstring>
#include <functional>

#include <cuda_runtime_api.h>

#include "driver.hpp"

namespace gpuvm::cudriver {

State& State::get() {
    static State* s = new State();  // never destroyed: atexit handlers may call in late
    return *s;
}

std::vector<Context*>& ctx_stack() {
    thread_local std::vector<Context*> stack;
    return stack;
}

Context& State::primary(int device) {
    auto& p = primaries[device];
    if (!p)
        p = std::make_unique<Context>(Context{true, 0, device, 0});
    return *p;
}

Context* context_of(CUcontext c) {
    auto* ctx = reinterpret_cast<Context*>(c);
    State& s = State::get();
    for (const auto& [device, p] : s.primaries)
        if (p.get() == ctx)
            return ctx;
    return s.contexts.count(ctx) ? ctx : nullptr;
}

void follow_context(Runtime& rt) {
    auto& st = ctx_stack();
    if (!st.empty())
        rt.set_device(st.back()->device);
}

Context& current() {
    auto& st = ctx_stack();
    if (st.empty())
        throw DriverError(CUDA_ERROR_INVALID_CONTEXT, "no current context");
    if (!context_of(reinterpret_cast<CUcontext>(st.back())))  // destroyed by another thread
        throw DriverError(CUDA_ERROR_CONTEXT_IS_DESTROYED, "the current context was destroyed");
    return *st.back();
}

void runtime_entered() {
    State& s = State::get();
    s.initialized = true;
    if (ctx_stack().empty())
        ctx_stack().push_back(&s.primary(Runtime::get().device()));
}

void runtime_set_device(int ordinal) {
    auto& st = ctx_stack();
    if (!st.empty())
        st.back() = &State::get().primary(ordinal);
}

CUresult to_cu(int e) {
    switch (e) {
    case cudaSuccess: return CUDA_SUCCESS;
    case cudaErrorMemoryAllocation: return CUDA_ERROR_OUT_OF_MEMORY;
    case cudaErrorInitializationError: return CUDA_ERROR_NOT_INITIALIZED;
    case cudaErrorInvalidSymbol: return CUDA_ERROR_NOT_FOUND;
    case cudaErrorInvalidDeviceFunction: return CUDA_ERROR_INVALID_HANDLE;
    default:
        // From 100 on the runtime's codes are the driver's (no device,
        // images, PTX, handles, faults, not supported, unknown).
        return e >= 100 ? static_cast<CUresult>(e) : CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult unsupported(const char* fn) {
    cudart::say_unsupported_once("driver", fn);
    return CUDA_ERROR_NOT_SUPPORTED;
}

}  // namespace gpuvm::cudriver

// The functions of cuda.h that GPUvm does not implement (stubs.cmake).
namespace gpuvm::stubs {
int driver_unsupported(const char* fn) { return gpuvm::cudriver::unsupported(fn); }
}  // namespace gpuvm::stubs

namespace gpuvm::cudriver {

namespace {

// Device calls: @dev checked (CUDA_ERROR_INVALID_DEVICE).
CUresult device_call(const char* fn, CUdevice dev, const std::function<void(Runtime&)>& f) {
    return guarded(fn, [&](Runtime& rt) {
        rt.check_device(dev);
        f(rt);
    }, 0);
}

}  // namespace

}  // namespace gpuvm::cudriver

using namespace gpuvm::cudriver;

extern "C" {

// Whose libcuda.so.1 this is: vgpu-engined's loader of NVIDIA's driver
// looks for it so that it never takes GPUvm's for NVIDIA's.
const char gpuvm_cuda_driver[] = "GPUvm CUDA driver API";

// The vGPU is opened here: no device, no driver (CUDA_ERROR_NO_DEVICE).
CUresult cuInit(unsigned int flags) {
    if (flags)
        return CUDA_ERROR_INVALID_VALUE;
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    try {
        rt.backend();
    } catch (const gpuvm::cudart::CudaError& e) {
        std::fprintf(stderr, "GPUvm CUDA driver: cuInit: %s\n", e.what());
        return to_cu(e.code());
    } catch (const std::exception& e) {  // nothing leaves an entry point
        std::fprintf(stderr, "GPUvm CUDA driver: cuInit: %s\n", e.what());
        return CUDA_ERROR_UNKNOWN;
    }
    State::get().initialized = true;
    return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int* v) {
    if (!v)
        return CUDA_ERROR_INVALID_VALUE;
    *v = CUDA_VERSION;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* count) {
    if (!count)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuDeviceGetCount", [&](Runtime& rt) { *count = rt.device_count(); }, 0);
}

CUresult cuDeviceGet(CUdevice* dev, int ordinal) {
    if (!dev)
        return CUDA_ERROR_INVALID_VALUE;
    return device_call("cuDeviceGet", ordinal, [&](Runtime&) { *dev = ordinal; });
}

CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    if (!name || len <= 0)
        return CUDA_ERROR_INVALID_VALUE;
    return device_call("cuDeviceGetName", dev, [&](Runtime& rt) {
        std::snprintf(name, static_cast<size_t>(len), "%s", rt.device_name(dev).c_str());
    });
}

CUresult cuDeviceGetUuid_v2(CUuuid* uuid, CUdevice dev) {
    if (!uuid)
        return CUDA_ERROR_INVALID_VALUE;
    // A vGPU has no UUID of its own yet: zeros, the same in every guest.
    return device_call("cuDeviceGetUuid", dev, [&](Runtime&) { std::memset(uuid, 0, sizeof(*uuid)); });
}

CUresult cuDeviceTotalMem(size_t* bytes, CUdevice dev) {
    if (!bytes)
        return CUDA_ERROR_INVALID_VALUE;
    return device_call("cuDeviceTotalMem", dev, [&](Runtime& rt) { *bytes = rt.backend(dev).total_memory(); });
}

CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attr, CUdevice dev) {
    if (!value)
        return CUDA_ERROR_INVALID_VALUE;
    return device_call("cuDeviceGetAttribute", dev, [&](Runtime& rt) {
        try {
            *value = gpuvm::cudart::attribute(rt, attr, dev);
        } catch (const gpuvm::cudart::CudaError&) {
            throw DriverError(CUDA_ERROR_INVALID_VALUE, "attribute " + std::to_string(attr) + " is not known");
        }
    });
}

CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice dev) {
    if (!major || !minor)
        return CUDA_ERROR_INVALID_VALUE;
    return device_call("cuDeviceComputeCapability", dev, [&](Runtime&) {
        *major = 7;
        *minor = 5;
    });
}

CUresult cuDeviceCanAccessPeer(int* can, CUdevice dev, CUdevice peer) {
    if (!can)
        return CUDA_ERROR_INVALID_VALUE;
    // GPUvm's devices have no peer access (each vGPU maps its own memory).
    return device_call("cuDeviceCanAccessPeer", dev, [&](Runtime& rt) {
        rt.check_device(peer);
        *can = 0;
    });
}

// ---- contexts ----------------------------------------------------------------

static void create_context(Runtime& rt, CUcontext* pctx, unsigned flags, CUdevice dev) {
    auto owned = std::make_unique<Context>(Context{false, flags, dev, 0});
    Context* c = owned.get();
    State::get().contexts.emplace(c, std::move(owned));
    ctx_stack().push_back(c);
    follow_context(rt);
    *pctx = reinterpret_cast<CUcontext>(c);
}

CUresult cuCtxCreate(CUcontext* pctx, CUctxCreateParams* params, unsigned int flags, CUdevice dev) {
    if (!pctx)
        return CUDA_ERROR_INVALID_VALUE;
    if (params && (params->numExecAffinityParams || params->cigParams))
        return unsupported("cuCtxCreate with execution affinity or CIG parameters");
    return device_call("cuCtxCreate", dev, [&](Runtime& rt) { create_context(rt, pctx, flags, dev); });
}

// The cuCtxCreate of CUDA 12.x headers.
CUresult cuCtxCreate_v2(CUcontext* pctx, unsigned int flags, CUdevice dev) {
    return cuCtxCreate(pctx, nullptr, flags, dev);
}

CUresult cuCtxDestroy(CUcontext ctx) {
    return guarded("cuCtxDestroy", [&](Runtime& rt) {
        Context* c = context_of(ctx);
        if (!c || c->primary)
            throw DriverError(CUDA_ERROR_INVALID_CONTEXT, "not a context cuCtxCreate made");
        rt.release_owner(c);
        std::erase(ctx_stack(), c);
        follow_context(rt);
        // Kept, emptied: its address never names another context.
        State& st = State::get();
        auto node = st.contexts.extract(c);
        st.destroyed.push_back(std::move(node.mapped()));
    }, 0);
}

CUresult cuCtxGetCurrent(CUcontext* pctx) {
    if (!pctx)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuCtxGetCurrent", [&](Runtime&) {
        auto& st = ctx_stack();
        *pctx = st.empty() ? nullptr : reinterpret_cast<CUcontext>(st.back());
    }, 0);
}

CUresult cuCtxSetCurrent(CUcontext ctx) {
    return guarded("cuCtxSetCurrent", [&](Runtime& rt) {
        auto& st = ctx_stack();
        if (!ctx) {
            if (!st.empty())
                st.pop_back();
            follow_context(rt);
            return;
        }
        Context* c = context_of(ctx);
        if (!c)
            throw DriverError(CUDA_ERROR_INVALID_CONTEXT, "not a context");
        if (st.empty())
            st.push_back(c);
        else
            st.back() = c;
        follow_context(rt);
    }, 0);
}

CUresult cuCtxPushCurrent(CUcontext ctx) {
    return guarded("cuCtxPushCurrent", [&](Runtime& rt) {
        Context* c = context_of(ctx);
        if (!c)
            throw DriverError(CUDA_ERROR_INVALID_CONTEXT, "not a context");
        ctx_stack().push_back(c);
        follow_context(rt);
    }, 0);
}

CUresult cuCtxPopCurrent(CUcontext* pctx) {
    return guarded("cuCtxPopCurrent", [&](Runtime& rt) {
        auto& st = ctx_stack();
        if (st.empty())
            throw DriverError(CUDA_ERROR_INVALID_CONTEXT, "no current context");
        Context* c = st.back();
        st.pop_back();
        follow_context(rt);
        if (pctx)
            *pctx = reinterpret_cast<CUcontext>(c);
    }, 0);
}

CUresult cuCtxGetDevice(CUdevice* dev) {
    if (!dev)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuCtxGetDevice", [&](Runtime&) { *dev = current().device; });
}

CUresult cuCtxGetFlags(unsigned int* flags) {
    if (!flags)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuCtxGetFlags", [&](Runtime&) { *flags = current().flags; });
}

CUresult cuCtxGetApiVersion(CUcontext ctx, unsigned int* version) {
    if (!version)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuCtxGetApiVersion", [&](Runtime&) {
        if (ctx && !context_of(ctx))
            throw DriverError(CUDA_ERROR_INVALID_CONTEXT, "not a context");
        *version = 3020;  // what CUDA reports for contexts of the v2 API
    }, ctx ? 0u : unsigned{kCtx});
}

CUresult cuCtxSynchronize(void) {
    return guarded("cuCtxSynchronize", [&](Runtime& rt) { rt.synchronize(); });
}

CUresult cuCtxGetLimit(size_t* value, CUlimit limit) {
    if (!value)
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuCtxGetLimit", [&](Runtime& rt) {
        switch (limit) {
        case CU_LIMIT_STACK_SIZE: *value = rt.stack_size(); break;
        case CU_LIMIT_PRINTF_FIFO_SIZE: *value = gpuvm::ptx::kPrintfCapacity; break;
        case CU_LIMIT_MALLOC_HEAP_SIZE: *value = 0; break;
        default: throw DriverError(CUDA_ERROR_UNSUPPORTED_LIMIT, "limit " + std::to_string(limit));
        }
    });
}

// The stack's size serves recursive kernels whose local memory is in
// global memory (the runtime's cudaLimitStackSize, one per process); the
// printf buffer and the heap have fixed sizes.
CUresult cuCtxSetLimit(CUlimit limit, size_t value) {
    if (limit > CU_LIMIT_MALLOC_HEAP_SIZE)
        return CUDA_ERROR_UNSUPPORTED_LIMIT;
    if (limit != CU_LIMIT_STACK_SIZE)
        return unsupported("cuCtxSetLimit of the printf buffer or the heap (fixed sizes)");
    if (value > (size_t{1} << 20))  // a thread's stack lies in its slice of local memory
        return CUDA_ERROR_INVALID_VALUE;
    return guarded("cuCtxSetLimit", [&](Runtime& rt) { rt.set_stack_size(value); });
}

// ---- the primary context, shared with the runtime API ------------------------

CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
    if (!pctx)
        return CUDA_ERROR_INVALID_VALUE;
    return device_call("cuDevicePrimaryCtxRetain", dev, [&](Runtime&) {
        Context& p = State::get().primary(dev);
        p.refs++;
        *pctx = reinterpret_cast<CUcontext>(&p);
    });
}

CUresult cuDevicePrimaryCtxRelease(CUdevice dev) {
    return device_call("cuDevicePrimaryCtxRelease", dev, [&](Runtime&) {
        Context& p = State::get().primary(dev);
        if (p.refs == 0)
            throw DriverError(CUDA_ERROR_INVALID_CONTEXT, "the primary context is not retained");
        p.refs--;
    });
}

CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int* flags, int* active) {
    if (!flags || !active)
        return CUDA_ERROR_INVALID_VALUE;
    return device_call("cuDevicePrimaryCtxGetState", dev, [&](Runtime&) {
        Context& p = State::get().primary(dev);
        *flags = p.flags;
        *active = p.refs > 0;
    });
}

CUresult cuDevicePrimaryCtxSetFlags(CUdevice dev, unsigned int flags) {
    return device_call("cuDevicePrimaryCtxSetFlags", dev, [&](Runtime&) { State::get().primary(dev).flags = flags; });
}

// As cudaDeviceReset: the primary context's memory and modules go (and,
// the vGPU being one client per process, those of every context of the
// device; the handles stay valid and load again when used).
CUresult cuDevicePrimaryCtxReset(CUdevice dev) {
    return device_call("cuDevicePrimaryCtxReset", dev, [&](Runtime& rt) { rt.reset(dev); });
}

}  // extern "C"
