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

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vgpu_drm.h"
extern "C" {
#include "vgpu_run.h"
}

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
    // Where that host memory comes from, for a back end in another
    // process (WorkerBackend): the range is @fd's at @fd_offset (a window
    // of the bridge's device, or of the self-test's memfd).  -1: unknown.
    int fd = -1;
    uint64_t fd_offset = 0;
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

// What one bounded step of a back end did with command job.next (the
// C++ face of common/vgpu_run.h's enum vgpu_step).  Yield: the step waits
// for something outside the job (the JIT): the RUN ends now, preempted,
// whatever budget is left.
enum class StepResult { Done, More, Fault, TimedOut, Yield };

inline vgpu_step to_vgpu_step(StepResult r) {
    switch (r) {
    case StepResult::Done: return VGPU_STEP_DONE;
    case StepResult::More: return VGPU_STEP_MORE;
    case StepResult::TimedOut: return VGPU_STEP_TIMEDOUT;
    case StepResult::Yield: return VGPU_STEP_YIELD;
    case StepResult::Fault: break;
    }
    return VGPU_STEP_FAULT;
}

inline RunStatus to_run_status(vgpu_job_status s) {
    switch (s) {
    case VGPU_JOB_DONE: return RunStatus::Done;
    case VGPU_JOB_PREEMPTED: return RunStatus::Preempted;
    case VGPU_JOB_TIMEDOUT: return RunStatus::TimedOut;
    case VGPU_JOB_FAULTED: break;
    }
    return RunStatus::Faulted;
}

// The run loop every engine shares (common/vgpu_run.c: vgpu-sim, the
// fuzzer's engine, both back ends here), on a Job.  @step runs one bounded
// step of the command at job.next: its progress in job.cmd_done, a fault's
// kind and address in its out-parameters; with @step_charges it adds the
// engine time it used to job.cmd_busy_ns itself (else the loop charges
// the clock's time around it).  The job's progress goes to the C loop and
// back around each step.  An exception from @step is carried through the
// C loop as a fault and rethrown here, the launch's state released.
template <typename F>
RunResult run_steps(Job& job, uint64_t budget_ns, uint64_t watchdog_ns, bool step_charges, F&& step) {
    struct Call {
        Job& job;
        F& step;
        std::exception_ptr err;
    } call{job, step, nullptr};
    static constexpr auto on_step = [](void* arg, vgpu_run* run, const drm_vgpu_cmd* cmd) {
        Call& c = *static_cast<Call*>(arg);
        c.job.next = c.job.base + run->next;
        c.job.cmd_done = run->cmd_done;
        c.job.cmd_busy_ns = run->cmd_busy;
        uint64_t addr = 0;
        uint32_t kind = 0;
        vgpu_step r = VGPU_STEP_FAULT;
        try {
            r = to_vgpu_step(c.step(*cmd, &addr, &kind));
        } catch (...) {
            c.err = std::current_exception();
        }
        run->cmd_done = c.job.cmd_done;
        run->cmd_busy = c.job.cmd_busy_ns;
        run->fault_addr = addr;
        run->fault_kind = kind;
        return r;
    };
    static constexpr auto on_release = [](void* arg) { static_cast<Call*>(arg)->job.state.reset(); };
    static constexpr auto on_clock = [](void*) -> u64 { return now_ns(); };
    static const vgpu_run_ops ops = {on_step, on_release, on_clock, nullptr, false};
    static const vgpu_run_ops charged = {on_step, on_release, on_clock, nullptr, true};

    vgpu_run run{};
    run.cmds = job.cmds.data();
    run.num_cmds = static_cast<uint32_t>(job.cmds.size());
    run.next = job.next - job.base;
    run.cmd_done = job.cmd_done;
    run.cmd_busy = job.cmd_busy_ns;
    vgpu_job_status st = vgpu_run_steps(&run, step_charges ? &charged : &ops, &call, budget_ns, watchdog_ns);
    job.next = job.base + run.next;
    job.cmd_done = run.cmd_done;
    job.cmd_busy_ns = run.cmd_busy;
    if (call.err)
        std::rethrow_exception(call.err);
    RunResult res;
    res.status = to_run_status(st);
    if (st == VGPU_JOB_FAULTED) {
        res.fault_kind = run.fault_kind;
        res.fault_addr = run.fault_addr;
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
    // The address layout the back end can serve (told to the module at
    // HELLO, which refuses it if the instance's is not inside it): the
    // smallest GPU page it maps on its own and its window of GPU
    // addresses.  Both back ends map 4 KiB pages through their page
    // tables anywhere in the ISA's 40 bits.
    struct Layout {
        uint32_t page_shift = 12;
        uint64_t va_lo = 0, va_hi = uint64_t{1} << 40;
    };
    virtual Layout layout() const { return {}; }

    // Each returns 0 or a positive errno.  ctx_create()'s @group: the
    // context's scheduling group (CTX_CREATE's; 0 where none is known):
    // the worker back end paces each group's worker starts (EBUSY).
    virtual int ctx_create(uint64_t ctx, uint64_t group) = 0;
    virtual void ctx_destroy(uint64_t ctx) = 0;
    virtual int mem_alloc(uint64_t mem, uint64_t size) = 0;
    virtual void mem_free(uint64_t mem) = 0;
    // Takes piece @piece of memory @mem (@size bytes in all) that another
    // process shares through @fd (a worker's memory, router.hpp; @fd is
    // not kept).  Pieces come in order from 0; @mem can be mapped once
    // all have come.  Back ends that cannot: EOPNOTSUPP.
    virtual int mem_import(uint64_t, int, uint64_t, uint64_t) { return EOPNOTSUPP; }
    // A worker's back end (one context): the instance's GPU addresses
    // [@start, @end), where a back end that runs a guest's own code
    // (runs_ptx()) keeps the context's memory at the context's addresses.
    virtual void use_window(uint64_t, uint64_t) {}
    // The device's state is lost for good (a guest's own kernel ended
    // with a GPU exception): a worker ends after answering.
    virtual bool lost() const { return false; }
    virtual int map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) = 0;
    virtual void unmap(uint64_t ctx, uint64_t va, uint64_t size) = 0;
    // The largest call stack ctx_stack() may give a context, bytes a
    // thread; 0 (the default): the back end gives none (it runs no
    // guest's PTX with a stack of its own: the interpreter, whose ISA
    // keeps its stack in the context's memory, and the GPU's back end in
    // one process, whose contexts share one CUDA context).
    virtual uint32_t max_stack() const { return 0; }
    // CTX_STACK: context @ctx's PTX may now have a call stack of @bytes
    // a thread (vgpu-back charged it), a power of two from
    // 2 * DRM_VGPU_PTX_BASE_STACK to max_stack(); a smaller one than the
    // context has leaves it.  EINVAL for an unknown context or a size
    // out of bounds, EOPNOTSUPP where none is given.
    virtual int ctx_stack(uint64_t, uint32_t) { return EOPNOTSUPP; }
    // Runs @job's commands from job.next for @budget_ns at most (plus one
    // bounded step), ending a command that has used @watchdog_ns.
    virtual RunResult run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) = 0;
    // Reads or writes device memory (tests and the self-test).
    virtual int mem_read(uint64_t mem, uint64_t offset, void* dst, uint64_t size) = 0;
    virtual int mem_write(uint64_t mem, uint64_t offset, const void* src, uint64_t size) = 0;
};

// @mem_size 0: no memory of its own, only what mem_import() brings.
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
