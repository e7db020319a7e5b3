// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// core_transport.hpp - vgpu-back's core in this process (ucore.h) with
// vgpu-engined's Router and workers as its engine, reached through
// libvgpu: each client a vgpu::Transport that answers the render node's
// ioctls (Documentation/engines.rst "The core in a process").
//
// Every call into the core is made under one lock (core_transport.cpp's
// g_core), as the fuzzer runs it.  Every call that may reach the engine
// is made on one thread (the host's EngineThread), where the engine's
// device memory belongs to a CUDA context: the core's slices
// (ucore_run_once(), vgpu_sched.c's thread's loop in the module) and the
// object, context and VM_BIND ioctls.  The ioctls that never reach it
// (SUBMIT, CTX_STATUS, GET_INFO) and the syncobjs run on the caller's
// thread, as a render node's ioctls do.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "vgpu/vgpu.hpp"

struct ucore_fence;  // ucore.h

namespace gpuvm::ucore {

struct CoreOptions {
    bool gpu = false;       // cuda workers on GPU @dev, else interpreter workers
    int dev = 0;
    uint64_t mem = 0;       // the engine's device memory, bytes
    std::string exe;        // vgpu-engined, for its workers
    unsigned int watchdog_ms = 2000;  // vgpu-uengine's default
    unsigned int timeslice_ms = 0;    // 0: the core's (10 ms)
    // Contexts the engine has room for beside @mem: each worker holds
    // device memory of its own (CoreHost::context_memory()), charged to
    // its client's device memory as vgpu-back charges it.
    unsigned int contexts = 1;
};

class CoreHost;
struct FenceWaiter;

// One client of the host's core (as an open render node): its
// transport.  Its Device may outlive the host's other users; the host
// lives as long as its clients.
class CoreClient : public vgpu::Transport {
    struct Key {  // only CoreHost makes one (CoreHost::client)
        explicit Key() = default;
    };
    struct State;

public:
    CoreClient(Key, std::shared_ptr<CoreHost> host, std::unique_ptr<State> s);
    ~CoreClient() override;
    int ioctl(unsigned long req, void* arg) override;
    int map(uint64_t offset, size_t size, void** cpu) override;
    void unmap(void*, size_t) override {}
    int syncobj_create(uint32_t* handle) override;
    void syncobj_destroy(uint32_t handle) override;
    int syncobj_wait(uint32_t handle, int64_t abs_ns) override;
    int syncobj_status(uint32_t handle, int* status) override;
    // Engine time the core charged this client, ns (sysfs busy_ns).
    uint64_t busy_ns();
    // Its group's weight and cap (a client in a group of its own): 0 or
    // an errno (EINVAL: out of range, or dom0's group).
    int set(uint32_t weight, uint32_t cap);

private:
    friend class CoreHost;
    int dispatch(unsigned long req, void* arg);
    int fence_state(uint32_t handle, int* st, bool* none);
    std::shared_ptr<FenceWaiter> arm(uint32_t handle, ::ucore_fence* f, int* st);
    int watch(uint32_t handle, std::chrono::steady_clock::time_point until, std::shared_ptr<FenceWaiter>* w,
              int* st, bool* none);
    std::shared_ptr<CoreHost> host_;
    std::unique_ptr<State> s_;
};

class CoreHost : public std::enable_shared_from_this<CoreHost> {
    struct Key {  // only create() makes one
        explicit Key() = default;
    };
    struct Impl;

public:
    CoreHost(Key, std::unique_ptr<Impl> impl);
    // Throws std::runtime_error (vgpu::engine::Unavailable without the GPU).
    static std::shared_ptr<CoreHost> create(const CoreOptions& o);
    ~CoreHost();
    CoreHost(const CoreHost&) = delete;
    CoreHost& operator=(const CoreHost&) = delete;
    // A new client: in dom0's native group when @weight is 0, else in a
    // group of its own with @weight and @cap (percent, 0: none); @devmem
    // of device memory promised to it (0: the engine's), @hostmem its
    // host-memory quota (0: the host's).  Throws.
    std::unique_ptr<CoreClient> client(const std::string& name, uint32_t weight = 0, uint32_t cap = 0,
                                       uint64_t devmem = 0, uint64_t hostmem = 0);
    const std::string& name() const;
    // The device memory each context's worker holds, bytes (0 for the
    // interpreter's workers), taken from its client's quota.
    uint64_t context_memory() const;

private:
    friend class CoreClient;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gpuvm::ucore
