// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// driver.hpp - what the files of GPUvm's CUDA driver API (libcuda.so.1)
// share: the call wrapper that turns exceptions into CUresult, and the
// contexts.
//
// The driver API sits on the same Runtime (../cudart/runtime.hpp) as
// GPUvm's libcudart.so.13: per device (vGPU) one address space and one
// ordered queue per process.  A context is of one device, whose
// ordinal becomes the Runtime's current device on the thread where the
// context is current; each device has its primary context.  A context here is what CUDA's is to a program's
// bookkeeping, not to isolation: the memory and modules a context made
// are freed when it is destroyed, and a handle of a destroyed context
// fails; but every context of a process sees every address of its device (the
// vGPU gives one address space per client, as the primary context is
// shared with the runtime API).  Streams are ordered with everything else
// (as in libcudart).  Every call holds the runtime's lock, which also
// guards the contexts below.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuda.h>
#include <cuda_runtime_api.h>

#include "runtime.hpp"

namespace gpuvm::cudriver {

using cudart::Runtime;

// A CUresult of the driver's own, with the reason.
class DriverError : public std::runtime_error {
public:
    DriverError(CUresult code, const std::string& what) : std::runtime_error(what), code_(code) {}
    CUresult code() const { return code_; }

private:
    CUresult code_;
};

struct Context {
    bool primary = false;
    unsigned flags = 0;
    int device = 0;
    int refs = 0;  // the primary one's: cuDevicePrimaryCtxRetain - Release
};

// The driver's state beside the Runtime's; guarded by Runtime::lock().
struct State {
    bool initialized = false;      // cuInit succeeded
    // Each device's primary context, made when first asked for.
    std::map<int, std::unique_ptr<Context>> primaries;
    Context& primary(int device);
    // Created and not destroyed; CUcontext is the address.
    std::map<const Context*, std::unique_ptr<Context>> contexts;
    std::vector<std::unique_ptr<Context>> destroyed;  // never freed: no address is reused
    static State& get();
};

// The calling thread's context stack (cuCtxPush/PopCurrent); its top is
// the current context.
std::vector<Context*>& ctx_stack();

// A context handle the program gave: the primary one or a live one.
Context* context_of(CUcontext c);
// The calling thread's current context; DriverError INVALID_CONTEXT if none.
Context& current();
// The Runtime's current device on this thread becomes that of the
// current context (after the context stack changed).
void follow_context(Runtime& rt);
// What the Runtime records as the owner of what @c makes (nullptr: the
// primary context, shared with the runtime API).
inline const void* owner_of(const Context& c) { return c.primary ? nullptr : &c; }

// A cudaError_t of the Runtime as the driver's CUresult.
CUresult to_cu(int cuda_error);

// What a call needs (guarded's @needs): a current context; no fault
// before (a fault is sticky: every call that needs kHealthy returns it
// until cuDevicePrimaryCtxReset or cudaDeviceReset; device queries and
// teardowns work on).
enum Needs : unsigned { kCtx = 1, kHealthy = 2, kAll = kCtx | kHealthy };

// Runs @f under the runtime's lock after cuInit; errors become CUresult.
template <typename F>
CUresult guarded(const char* fn, F&& f, unsigned needs = kAll) {
    Runtime& rt = Runtime::get();
    std::lock_guard<std::mutex> lk(rt.lock());
    if (!State::get().initialized)
        return CUDA_ERROR_NOT_INITIALIZED;
    try {
        if (needs & kCtx)
            rt.set_device(current().device);
        if ((needs & kHealthy) && rt.sticky())
            return to_cu(rt.sticky());
        f(rt);
        return CUDA_SUCCESS;
    } catch (const DriverError& e) {
        if (e.code() == CUDA_ERROR_NOT_SUPPORTED)
            std::fprintf(stderr, "GPUvm CUDA driver: %s: %s\n", fn, e.what());
        return e.code();
    } catch (const cudart::CudaError& e) {
        if (e.code() == cudaErrorNotSupported || e.code() == cudaErrorNoDevice ||
            e.code() == cudaErrorInvalidConfiguration)
            std::fprintf(stderr, "GPUvm CUDA driver: %s: %s\n", fn, e.what());
        return to_cu(e.code());
    } catch (const cudart::DeviceFault& e) {
        int c = rt.record_fault(e);  // on the device that faulted
        if (c != cudaErrorAssert)
            std::fprintf(stderr, "GPUvm CUDA driver: %s: %s (fault %u at 0x%llx)\n", fn, e.what(), e.kind(),
                         static_cast<unsigned long long>(e.addr()));
        return to_cu(c);
    } catch (const std::bad_alloc&) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "GPUvm CUDA driver: %s: %s\n", fn, e.what());
        return CUDA_ERROR_UNKNOWN;
    }
}

// One line the first time a program calls @fn, which GPUvm does not do.
CUresult unsupported(const char* fn);

}  // namespace gpuvm::cudriver
