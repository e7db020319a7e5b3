// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend.hpp - what vgpu-engined runs engine operations on.  The bridge
// (bridge.cpp) decodes the requests of vgpu-uengine.ko and calls a
// Backend; the interpreter (interp_backend.cpp) and an NVIDIA GPU
// (cuda_backend.cpp) implement it.  The contract is backend/vgpu_engine.h
// seen from userspace: ids instead of pointers, errno values instead of
// kernel return codes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vgpu_drm.h"

namespace vgpu::engine {

inline uint64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
}

// What backs a mapped range: device memory of the backend, or host
// memory the process can address (a window mmap()ed from the bridge).
struct Backing {
    uint64_t mem = 0;          // device memory id, when host == nullptr
    uint64_t offset = 0;       // bytes into it
    uint8_t* host = nullptr;   // host memory: the first byte of the range
};

enum class RunStatus { Done, Preempted, Faulted, TimedOut };

// A job as the engine keeps it between the slices of its RUNs.
struct Job {
    std::vector<drm_vgpu_cmd> cmds;
    uint32_t base = 0;          // index of cmds[0] in the submission
    uint32_t next = 0;          // absolute index of the next command
    __u64 cmd_done = 0;         // progress inside it (the kernel's u64)
    uint64_t cmd_busy_ns = 0;   // engine time it has used (watchdog)
    std::shared_ptr<void> state;  // backend state of a launch in progress
};

struct RunResult {
    RunStatus status = RunStatus::Done;
    uint64_t busy_ns = 0;
    uint64_t units = 0;  // interpreter work units (thread-instructions) used; 0 elsewhere
    uint32_t fault_kind = 0;
    uint64_t fault_addr = 0;
};

// What one bounded step of a back end did with command job.next.
// Yield: the step waits for something outside the job (the JIT): the RUN
// ends now, preempted, whatever budget is left.
enum class StepResult { Done, More, Fault, TimedOut, Yield };

// The run loop both back ends share (vgpu-sim's sim_run()): @step runs
// one bounded step of the command at job.next and fills in the fault's
// kind and address; this accounts engine time per command, ends a launch
// at the watchdog (copies and fills are bounded by their size, as
// vgpu-sim's), moves to the next command, and stops at the budget.
template <typename F>
RunResult run_steps(Job& job, uint64_t start_ns, uint64_t budget_ns, uint64_t watchdog_ns, F&& step) {
    RunResult res;
    while (job.next - job.base < job.cmds.size()) {
        uint32_t kind = 0;
        uint64_t addr = 0;
        const drm_vgpu_cmd& cmd = job.cmds[job.next - job.base];
        StepResult r = step(cmd, &addr, &kind);
        if (r == StepResult::Fault) {
            job.state.reset();
            res.status = RunStatus::Faulted;
            res.fault_kind = kind;
            res.fault_addr = addr;
            break;
        }
        if (r == StepResult::Yield) {
            res.status = RunStatus::Preempted;
            break;
        }
        if (r == StepResult::Done) {
            job.state.reset();
            job.next++;
            job.cmd_done = 0;
            job.cmd_busy_ns = 0;
        } else if (r == StepResult::TimedOut || (cmd.op == DRM_VGPU_CMD_LAUNCH && job.cmd_busy_ns >= watchdog_ns)) {
            job.state.reset();
            res.status = RunStatus::TimedOut;
            break;
        }
        if (job.next - job.base < job.cmds.size() && now_ns() - start_ns >= budget_ns) {
            res.status = RunStatus::Preempted;
            break;
        }
    }
    return res;
}

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    virtual uint64_t mem_size() const = 0;
    // The PCI address of the GPU ("0000:01:00.0"), told to the module at
    // HELLO; "" for a back end that is no PCI device (the interpreter).
    virtual std::string pci() const { return ""; }

    // Each returns 0 or a positive errno.
    virtual int ctx_create(uint64_t ctx) = 0;
    virtual void ctx_destroy(uint64_t ctx) = 0;
    virtual int mem_alloc(uint64_t mem, uint64_t size) = 0;
    virtual void mem_free(uint64_t mem) = 0;
    virtual int map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) = 0;
    virtual void unmap(uint64_t ctx, uint64_t va, uint64_t size) = 0;
    // Runs @job's commands from job.next for @budget_ns at most (plus one
    // bounded step), ending a command that has used @watchdog_ns.
    virtual RunResult run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) = 0;
    // Reads or writes device memory (tests and the self-test).
    virtual int mem_read(uint64_t mem, uint64_t offset, void* dst, uint64_t size) = 0;
    virtual int mem_write(uint64_t mem, uint64_t offset, const void* src, uint64_t size) = 0;
};

std::unique_ptr<Backend> make_interp_backend(uint64_t mem_size);
// Throws vgpu::engine::Unavailable where there is no libcuda.so.1 or GPU.
std::unique_ptr<Backend> make_cuda_backend(uint64_t mem_size, int device);

struct Unavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A back end's state no longer matches the device (page tables that
// could not be uploaded): the session must end, every context lost, and
// the back end be built again (main.cpp).  Never answered as an error.
struct BackendLost : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace vgpu::engine
