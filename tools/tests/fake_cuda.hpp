// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fake_cuda.hpp - a fake libcuda for GoogleTest: the CUDA back end of
// vgpu-engined (cuda_backend.cpp) runs over it without a GPU.
//
// How to use it:
//
//   vgpu::engine::test::FakeCuda fake;          // at most one at a time
//   auto be = vgpu::engine::make_cuda_backend(fake.api(), 64 << 20, 0);
//   ... drive *be (or a Bridge over it: see test_bridge.cpp) ...
//   EXPECT_EQ(fake.errors(), "");               // no misuse of the driver
//   EXPECT_EQ(vgpu::engine::test::audit_tables(fake, *be), "");
//
// "Device memory" is host memory (an mmap per cuMemAlloc); a device
// pointer is its process address, and host memory registered with
// cuMemHostRegister has device pointer == host pointer, as with unified
// addressing.  Freed blocks stay reserved, inaccessible (PROT_NONE), so
// an address is never handed out twice: any later use of a freed block
// (a copy, a fill, a page-table entry pointing into it) is detected.
// errors() lists every misuse seen: use after free, double free,
// unknown pointers, unregistering what is not registered, launching an
// unloaded module's function, overlapping registrations that were
// nevertheless asked for are answered as the real driver does
// (CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED) and counted.
//
// Failures on demand: fail_mem_alloc(n) makes the n-th cuMemAlloc from
// now fail (CUDA_ERROR_OUT_OF_MEMORY), set_mem_limit() bounds the live
// device bytes (a GPU of that size).  Launches complete at once; set
// on_launch to look at (or write through) a launch's arguments, whose
// layout is the translated kernel's (ptx.hpp), and to choose its result.
// Modules record their PTX (ptx_of()); cuModuleGetFunction finds only
// the entries their text declares (".entry NAME(").  cuModuleLoadDataEx may be
// called on another thread (the back end's JIT thread): on_load runs
// there first (a test can block it, as a slow JIT), and the modules are
// guarded by a mutex.  fail_htod(n) makes the n-th cuMemcpyHtoD fail.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "backend.hpp"
#include "cuda_api.hpp"

namespace vgpu::engine::test {

constexpr cu::CUresult kErrInvalidValue = 1;
constexpr cu::CUresult kErrOutOfMemory = 2;
constexpr cu::CUresult kErrInvalidHandle = 400;
constexpr cu::CUresult kErrNotFound = 500;
constexpr cu::CUresult kErrAlreadyRegistered = 712;
constexpr cu::CUresult kErrNotRegistered = 713;

struct LaunchCall {
    cu::CUfunction f;
    unsigned grid[3], block[3], shared;
    void** args;  // valid during on_launch only
    void** extra = nullptr;  // cuLaunchKernel's, valid during on_launch only
    std::string entry;       // the function's name (filled in by the fake)
};

class FakeCuda {
public:
    FakeCuda();
    ~FakeCuda();
    FakeCuda(const FakeCuda&) = delete;
    FakeCuda& operator=(const FakeCuda&) = delete;

    // The function table (static: it stays valid after the fake is gone,
    // its functions then fail).
    static const cu::Api& api();

    // Every misuse seen, one per line ("" when none).
    std::string errors() const;
    // The n-th cuMemAlloc from now (1: the next) fails; 0: none.
    void fail_mem_alloc(uint64_t nth) { fail_at_ = nth ? allocs_ + nth : 0; }
    // The n-th cuMemcpyHtoD from now (1: the next) fails; 0: none.
    void fail_htod(uint64_t nth) { fail_htod_at_ = nth ? htods_ + nth : 0; }
    bool htod_fails() { return ++htods_ == fail_htod_at_; }
    // Live device bytes at most (0: no limit).
    void set_mem_limit(uint64_t bytes) { limit_ = bytes; }

    // What is live now.
    bool device_live(uint64_t addr, uint64_t len) const;   // in one live cuMemAlloc block
    bool registered(uint64_t addr, uint64_t len) const;    // in one live host registration
    uint64_t live_allocs() const;
    uint64_t live_device_bytes() const { return live_bytes_; }
    uint64_t live_registrations() const { return regs_.size(); }
    uint64_t mem_allocs() const { return allocs_; }
    // Streams and events not destroyed, primary-context retains not
    // released (the driver's other handles).
    int live_streams = 0, live_events = 0, ctx_retains = 0;
    uint64_t ctx_syncs = 0;  // cuCtxSynchronize calls
    uint64_t already_registered() const { return overlaps_; }
    // Registrations whose memory the process no longer maps.
    std::string unmapped_registrations() const;

    std::function<cu::CUresult(const LaunchCall&)> on_launch;
    // cuStreamQuery's answer (CUDA_SUCCESS when unset): a launch "runs"
    // until it says so.
    std::function<cu::CUresult()> on_query;
    // cuStreamSynchronize's answer (CUDA_SUCCESS when unset): a kernel's
    // GPU exception (700) where a test says so.
    std::function<cu::CUresult()> on_sync;
    // cuFuncGetAttribute's local memory per thread of every function.
    int local_bytes = 0;
    // cuCtxSetLimit's calls (limit, value), and its answer (CUDA_SUCCESS
    // when unset).
    std::vector<std::pair<int, size_t>> limits;
    std::function<cu::CUresult()> on_set_limit;
    // Whether the GPU reaches pageable memory (HMM); reset by ~FakeCuda.
    static void pageable_access(int v);
    std::vector<LaunchCall> launches;      // every launch (args cleared)
    std::string ptx_of(cu::CUfunction f) const;
    std::function<void()> on_load;  // runs on the loading thread, before the load
    uint64_t modules_loaded() const {
        std::lock_guard<std::mutex> g(mu_);
        return modules_.size();
    }
    uint64_t modules_live() const;

    // The driver entry points (the static table calls these).
    cu::CUresult mem_alloc(cu::CUdeviceptr* p, size_t n, bool host);
    cu::CUresult mem_free(cu::CUdeviceptr p, bool host);
    cu::CUresult host_register(void* p, size_t n);
    cu::CUresult host_unregister(void* p);
    cu::CUresult device_pointer(cu::CUdeviceptr* d, void* p);
    // Checks that [p, p + n) is live device-reachable memory; records
    // @what as an error otherwise.
    bool check_range(const char* what, uint64_t p, uint64_t n);
    cu::CUresult load_module(cu::CUmodule* m, const void* ptx);
    cu::CUresult get_function(cu::CUfunction* f, cu::CUmodule m, const char* name);
    cu::CUresult set_attribute(cu::CUfunction f, int attr, int value);
    cu::CUresult unload_module(cu::CUmodule m);
    cu::CUresult launch(const LaunchCall& c);
    // The virtual memory API: an allocation is a memfd (so that its
    // descriptor, exported, can be imported and mapped again), mapped
    // into a reserved range as device memory the checks above accept.
    cu::CUresult vmm_create(cu::CUmemGenericAllocationHandle* h, size_t n);
    cu::CUresult vmm_release(cu::CUmemGenericAllocationHandle h);
    cu::CUresult vmm_export(int* fd, cu::CUmemGenericAllocationHandle h);
    cu::CUresult vmm_import(cu::CUmemGenericAllocationHandle* h, int fd);
    cu::CUresult vmm_reserve(cu::CUdeviceptr* p, size_t n, cu::CUdeviceptr hint);
    cu::CUresult vmm_free(cu::CUdeviceptr p, size_t n);
    cu::CUresult vmm_map(cu::CUdeviceptr p, size_t n, size_t off, cu::CUmemGenericAllocationHandle h);
    cu::CUresult vmm_unmap(cu::CUdeviceptr p, size_t n);
    cu::CUresult vmm_access(cu::CUdeviceptr p, size_t n);
    // Allocation handles not released, ranges reserved and not freed.
    uint64_t vmm_handles() const { return handles_.size(); }
    uint64_t vmm_reserved() const { return reserved_.size(); }
    void error(const std::string& e) {
        std::lock_guard<std::mutex> g(emu_);
        errors_.push_back(e);
    }

private:
    struct Block {
        uint64_t size, mapped;  // bytes asked for, bytes reserved
        bool live, host;        // host: cuMemHostAlloc
        bool piece = false;     // mapped by cuMemMap: a range may run on into the next piece
    };
    const Block* block_at(uint64_t p, uint64_t* base) const;

    std::map<uint64_t, Block> blocks_;      // by address, freed ones too
    std::map<uint64_t, uint64_t> regs_;     // live registrations: base -> bytes
    std::vector<std::string> errors_;
    uint64_t allocs_ = 0, fail_at_ = 0, limit_ = 0, live_bytes_ = 0, overlaps_ = 0;
    uint64_t htods_ = 0, fail_htod_at_ = 0;
    mutable std::mutex mu_;   // guards modules_, functions_ (loads come from the JIT's thread)
    mutable std::mutex emu_;  // guards errors_
    struct Module {
        std::string ptx;
        bool live;
    };
    std::vector<Module> modules_;  // handle = index + 1
    // A function: its module (a handle) and name.  Handle: kFunctionBase
    // + index + 1, one per (module, name).
    struct Function {
        uint64_t module;
        std::string name;
        uint32_t max_dynamic_shared = 48 * 1024;  // the driver's default
    };
    static constexpr uint64_t kFunctionBase = uint64_t{1} << 40;
    std::vector<Function> functions_;
    // The function of handle @f, null if none (mu_ held).
    Function* function_of(cu::CUfunction f);
    struct Handle {
        int fd;  // a memfd of the allocation's size
        uint64_t size;
    };
    std::map<uint64_t, Handle> handles_;
    uint64_t next_handle_ = 1;
    std::map<uint64_t, uint64_t> reserved_;  // base -> bytes
    std::vector<std::pair<uint64_t, uint64_t>> reservations_;  // every one made, unmapped at the end
};

// Walks every context's page tables in the fake's memory as the GPU
// would: every table must lie in live device memory, be linked once and
// not be in the pool's free list; every leaf must point into live device
// memory or a live registration.  "" when all holds, else what does not.
std::string audit_tables(const FakeCuda& fake, const Backend& backend);
// The leaf entry (GPU address | R/W/X) the GPU sees for @va in context
// @ctx, 0 where there is none (or the walk leaves live device memory).
uint64_t gpu_leaf(const FakeCuda& fake, const Backend& backend, uint64_t ctx, uint64_t va);

// A driver JIT that takes as long as the test says: closed, a compile
// waits until opened again (or 60 s, so that a RUN waiting for it
// synchronously shows as a minute rather than a hang of the test).
class SlowJit {
public:
    explicit SlowJit(FakeCuda& f) : f_(f) {
        f.on_load = [this] {
            std::unique_lock<std::mutex> g(m_);
            calls_++;
            cv_.wait_for(g, std::chrono::seconds(60), [&] { return open_; });
        };
    }
    ~SlowJit() {
        open();
        f_.on_load = nullptr;
    }
    void close() {
        std::lock_guard<std::mutex> g(m_);
        open_ = false;
    }
    void open() {
        {
            std::lock_guard<std::mutex> g(m_);
            open_ = true;
        }
        cv_.notify_all();
    }
    int calls() {
        std::lock_guard<std::mutex> g(m_);
        return calls_;
    }

private:
    FakeCuda& f_;
    std::mutex m_;
    std::condition_variable cv_;
    bool open_ = true;
    int calls_ = 0;
};

}  // namespace vgpu::engine::test
