// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// worker_backend.cpp - a Backend whose contexts run in workers (see
// router.hpp): the self-test (`vgpu-engined --self-test --workers`)
// drives the Router with the requests vgpu-uengine.ko would send, so
// that every case runs the whole worker path.
#include <cstring>
#include <stdexcept>

#include "router.hpp"

namespace vgpu::engine {
namespace {

class WorkerBackend final : public Backend {
public:
    WorkerBackend(std::string name, std::unique_ptr<SharedMemory> mem, Spawn spawn, int windows_fd,
                  StartLimits limits)
        : name_(std::move(name)), size_(mem->size()), windows_fd_(windows_fd),
          router_(std::move(mem), std::move(spawn), windows_fd) {
        router_.set_start_limits(limits);
        // The window vgpu-uengine's instances for a GPU are given
        // (Documentation/admin-guide.rst): a worker's guest PTX runs there.
        router_.set_window(kSelfTestVaStart, kSelfTestVaEnd);
        // The call stack the memory's GPU lets a context be given, as
        // vgpu-engined --workers announces it at HELLO (hello_ptx()).
        vgpu_ue_hello h{};
        hello_ptx(h, router_.memory(), true);
        router_.set_max_stack(h.max_stack);
    }
    std::string name() const override { return name_; }
    uint64_t mem_size() const override { return size_; }

    int ctx_create(uint64_t ctx, uint64_t group) override {
        vgpu_ue_req r = req(VGPU_UE_OP_CTX_CREATE);
        r.ctx_create.ctx = ctx;
        r.ctx_create.group = group;
        return call(r);
    }
    void ctx_destroy(uint64_t ctx) override {
        vgpu_ue_req r = req(VGPU_UE_OP_CTX_DESTROY);
        r.ctx_destroy.ctx = ctx;
        call(r);
    }
    int mem_alloc(uint64_t mem, uint64_t size) override {
        vgpu_ue_req r = req(VGPU_UE_OP_MEM_ALLOC);
        r.mem_alloc.mem = mem;
        r.mem_alloc.size = size;
        return call(r);
    }
    void mem_free(uint64_t mem) override {
        vgpu_ue_req r = req(VGPU_UE_OP_MEM_FREE);
        r.mem_free.mem = mem;
        call(r);
    }
    int map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) override {
        vgpu_ue_req r = req(VGPU_UE_OP_MAP);
        r.map = {ctx, va, size, perms, VGPU_UE_MAP_DEVICE, {b.mem}, b.offset};
        if (b.host) {
            // Only a whole window of the windows' descriptor reaches a worker.
            if (b.fd != windows_fd_ || b.fd_offset & ((uint64_t{1} << VGPU_UE_WINDOW_SHIFT) - 1))
                return EOPNOTSUPP;
            r.map.kind = VGPU_UE_MAP_HOST;
            r.map.window = b.fd_offset >> VGPU_UE_WINDOW_SHIFT;
            r.map.offset = 0;
        }
        return call(r);
    }
    void unmap(uint64_t ctx, uint64_t va, uint64_t size) override {
        vgpu_ue_req r = req(VGPU_UE_OP_UNMAP);
        r.unmap = {ctx, va, size};
        call(r);
    }
    uint32_t max_stack() const override { return router_.max_stack(); }
    int ctx_stack(uint64_t ctx, uint32_t bytes) override {
        vgpu_ue_req r = req(VGPU_UE_OP_CTX_STACK);
        r.ctx_stack = {ctx, bytes, 0};
        return call(r);
    }
    RunResult run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) override;
    int mem_read(uint64_t mem, uint64_t off, void* dst, uint64_t size) override {
        return router_.memory().read(mem, off, dst, size);
    }
    int mem_write(uint64_t mem, uint64_t off, const void* src, uint64_t size) override {
        return router_.memory().write(mem, off, src, size);
    }

private:
    // A job the workers hold: released there when the Job lets go of it,
    // unless a RUN's answer other than PREEMPTED already ended it there
    // (vgpu_uengine.h: the process keeps a job until JOB_RELEASE or such
    // an answer; the Router forgets it then), which spares each job's
    // end a request through the Router (its reap() polls every worker).
    struct JobRef {
        WorkerBackend* be;
        uint64_t id;
        bool sent = false;
        bool ended = false;  // a RUN answered other than PREEMPTED
        JobRef(WorkerBackend* b, uint64_t i) : be(b), id(i) {}
        JobRef(const JobRef&) = delete;
        JobRef& operator=(const JobRef&) = delete;
        ~JobRef() {
            if (ended)
                return;
            vgpu_ue_req r = be->req(VGPU_UE_OP_JOB_RELEASE);
            r.job_release.job = id;
            be->router_.handle(r, nullptr);
        }
    };

    vgpu_ue_req req(uint32_t op) {
        vgpu_ue_req r{};
        r.op = op;
        r.seq = ++seq_;
        return r;
    }
    int call(const vgpu_ue_req& r, const void* payload = nullptr, vgpu_ue_resp* out = nullptr) {
        vgpu_ue_resp a = router_.handle(r, static_cast<const uint8_t*>(payload));
        if (out)
            *out = a;
        return -a.error;
    }

    std::string name_;
    uint64_t size_;
    int windows_fd_;
    uint64_t seq_ = 0, next_job_ = 1;
    Router router_;
};

RunResult WorkerBackend::run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) {
    auto ref = std::static_pointer_cast<JobRef>(job.state);
    if (!ref) {
        ref = std::make_shared<JobRef>(this, next_job_++);
        job.state = ref;
    }
    vgpu_ue_req r = req(VGPU_UE_OP_RUN);
    r.run.ctx = ctx;
    r.run.job = ref->id;
    r.run.budget_ns = budget_ns;
    r.run.watchdog_ns = watchdog_ns;
    r.run.num_cmds = static_cast<uint32_t>(job.base + job.cmds.size());
    r.run.next_cmd = job.next;
    r.run.cmd_done = job.cmd_done;
    r.run.cmd_busy_ns = job.cmd_busy_ns;
    const drm_vgpu_cmd* payload = nullptr;
    if (!ref->sent) {
        payload = job.cmds.data() + (job.next - job.base);
        r.payload_len = static_cast<uint32_t>((job.cmds.size() - (job.next - job.base)) * sizeof(drm_vgpu_cmd));
    }
    vgpu_ue_resp a;
    RunResult res;
    if (call(r, payload, &a)) {
        res.status = RunStatus::Faulted;
        res.fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
        job.state.reset();
        return res;
    }
    ref->sent = true;
    job.next = a.run.next_cmd;
    job.cmd_done = a.run.cmd_done;
    job.cmd_busy_ns = a.run.cmd_busy_ns;
    res.busy_ns = a.run.busy_ns;
    res.status = a.run.status == VGPU_UE_RUN_DONE        ? RunStatus::Done
                 : a.run.status == VGPU_UE_RUN_PREEMPTED ? RunStatus::Preempted
                 : a.run.status == VGPU_UE_RUN_FAULTED   ? RunStatus::Faulted
                                                         : RunStatus::TimedOut;
    res.fault_kind = a.run.fault_kind;
    res.fault_addr = a.run.fault_addr;
    if (res.status != RunStatus::Preempted) {
        ref->ended = true;
        job.state.reset();  // ended there too
    }
    return res;
}

}  // namespace

std::unique_ptr<Backend> make_worker_backend(const std::string& name, std::unique_ptr<SharedMemory> mem,
                                             Spawn spawn, int windows_fd, StartLimits limits) {
    return std::make_unique<WorkerBackend>(name, std::move(mem), std::move(spawn), windows_fd, limits);
}

}  // namespace vgpu::engine
