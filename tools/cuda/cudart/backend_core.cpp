// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend_core.cpp - the "core" backends (backend.hpp): the vgpu backend
// (backend_vgpu.cpp) and libvgpu unchanged, over a transport that, in
// place of a render node, hands each ioctl to vgpu-back's core built in
// this process (tools/ucore), whose engine is vgpu-engined's Router and
// workers:
//   core         the cuda back end's workers on an NVIDIA GPU: each of
//                the program's contexts in a worker process of its own,
//                its device memory at its addresses there, its kernels'
//                own PTX run by the GPU (engines.rst "The guest's own
//                PTX"); GPUVM_CUDA_DEVICE picks the GPU (default 0);
//   core-interp  the interpreter's workers (tests, without a GPU).
// This is the whole path a dom0 program takes (libvgpu -> the core's
// vgpu_op_* and scheduler -> the engine process), on a machine without
// Xen or kernel modules: the GPU machine (Documentation/engines.rst "The
// core in a process" says what differs).
//
// Every call into the core and the engine is made on one thread
// (EngineThread): the core runs as the fuzzer runs it, and the engine's
// device memory belongs to a CUDA context current on that thread.
#include <time.h>

#include <map>
#include <stdexcept>
#include <string>

#include "backend.hpp"
#include "engine_host.hpp"
#include "vgpu/vgpu.hpp"
#include "../../vgpu-engined/backend.hpp"
#include "../../vgpu-engined/router.hpp"

extern "C" {
#include "ucore.h"
#include "vgpu_drm.h"
}

namespace gpuvm::cudart {
namespace {

// The engine's layout as vgpu-uengine announces a GPU's: 2 MiB pages, the
// workers' window (64 GiB .. 1008 GiB), a 2 s watchdog
// (GPUVM_CUDA_WATCHDOG_MS), the core's 10 ms slices.
constexpr uint32_t kPageShift = 21;
unsigned int core_watchdog_ms() {
    const char* s = std::getenv("GPUVM_CUDA_WATCHDOG_MS");
    unsigned long ms = s ? std::strtoul(s, nullptr, 10) : 0;
    return ms ? static_cast<unsigned int>(std::min<unsigned long>(ms, 3600000)) : 2000;
}

class CoreTransport final : public vgpu::Transport {
public:
    CoreTransport(bool gpu, int dev, uint64_t mem, const std::string& exe) : watchdog_ms_(core_watchdog_ms()) {
        engine_.call([&] {
            windows_ = std::make_unique<HostWindows>();
            be_ = make_worker_engine(gpu, dev, mem, windows_->fd(), exe);
            ucore_engine_ops ops{};
            ops.arg = this;
            ops.ctx_create = [](void* a, uint64_t* ctx) { return self(a)->guard([&] { return self(a)->ctx_create(ctx); }); };
            ops.ctx_destroy = [](void* a, uint64_t ctx) {
                self(a)->guard([&] { return self(a)->be_->ctx_destroy(ctx), 0; });
            };
            ops.mem_alloc = [](void* a, uint64_t size, uint64_t* m) {
                return self(a)->guard([&] { return self(a)->mem_alloc(size, m); });
            };
            ops.mem_free = [](void* a, uint64_t m) { self(a)->guard([&] { return self(a)->be_->mem_free(m), 0; }); };
            ops.map = [](void* a, uint64_t ctx, uint64_t va, uint64_t m, uint8_t* host, uint64_t off, uint64_t size,
                         uint32_t perms) {
                return self(a)->guard([&] { return self(a)->map(ctx, va, m, host, off, size, perms); });
            };
            ops.unmap = [](void* a, uint64_t ctx, uint64_t va, uint64_t size) {
                self(a)->guard([&] { return self(a)->be_->unmap(ctx, va, size), 0; });
            };
            ops.run = [](void* a, uint64_t ctx, ucore_job* job, uint64_t budget) { return self(a)->run(ctx, job, budget); };
            ops.job_release = [](void* a, ucore_job* job) { self(a)->jobs_.erase(job); };
            ops.host_alloc = [](void* a, uint64_t size) {
                uint64_t off = 0;
                return self(a)->windows_->take(size, &off);
            };
            ops.host_free = [](void* a, void* p, uint64_t size) {
                uint64_t off = 0;
                if (self(a)->windows_->find(static_cast<uint8_t*>(p), size, &off))
                    self(a)->windows_->give_back(p, size, off);
            };
            ucore_config cfg{};
            cfg.name = gpu ? "cuda-workers" : "interp-workers";
            cfg.mem_size = mem;
            // What the engine process says at HELLO (main.cpp): the PTX
            // feature with the cuda back end's workers.
            cfg.features = gpu ? DRM_VGPU_FEATURE_PTX : 0;
            cfg.page_shift = kPageShift;
            cfg.va_start = vgpu::engine::kSelfTestVaStart;
            cfg.va_end = vgpu::engine::kSelfTestVaEnd;
            cfg.watchdog_ms = watchdog_ms_;
            // One program is the only client: its quotas are the engine.
            cfg.quota_devmem = mem;
            cfg.quota_hostmem = uint64_t{16} << 30;
            cfg.quota_mapped = uint64_t{64} << 30;
            cfg.quota_objects = 65536;
            char err[160] = "";
            core_ = ucore_create(&ops, &cfg, err, sizeof(err));
            if (!core_)
                throw std::runtime_error(std::string("vgpu-back's core in this process: ") + err);
        });
    }
    ~CoreTransport() override {
        engine_.call([this] {
            for (auto& [h, f] : syncobjs_)
                if (f)
                    ucore_fence_put(f);
            if (core_)
                ucore_destroy(core_);
            jobs_.clear();
            be_.reset();
            windows_.reset();
        });
    }

    int ioctl(unsigned long req, void* arg) override {
        return engine_.call([&] { return dispatch(req, arg); });
    }
    // The offset BO_MMAP_OFFSET gave names the object: its host memory,
    // already mapped in this process.
    int map(uint64_t offset, size_t, void** cpu) override {
        return engine_.call([&] {
            auto it = host_.find(static_cast<uint32_t>(offset >> kOffsetShift));
            if (it == host_.end())
                return EINVAL;
            *cpu = it->second;
            return 0;
        });
    }
    void unmap(void*, size_t) override {}
    int syncobj_create(uint32_t* handle) override {
        return engine_.call([&] {
            *handle = next_sync_++;
            syncobjs_[*handle] = nullptr;
            return 0;
        });
    }
    void syncobj_destroy(uint32_t handle) override {
        engine_.call([&] {
            auto it = syncobjs_.find(handle);
            if (it != syncobjs_.end() && it->second)
                ucore_fence_put(it->second);
            if (it != syncobjs_.end())
                syncobjs_.erase(it);
        });
    }
    int syncobj_wait(uint32_t handle, int64_t abs_ns) override {
        return engine_.call([&] {
            auto it = syncobjs_.find(handle);
            if (it == syncobjs_.end())
                return ENOENT;
            if (!it->second)
                return EINVAL;  // no fence yet (WAIT_FOR_SUBMIT: nothing submitted will come here)
            return -ucore_fence_wait(core_, it->second, abs_ns);
        });
    }
    int syncobj_status(uint32_t handle, int* status) override {
        return engine_.call([&] {
            auto it = syncobjs_.find(handle);
            if (it == syncobjs_.end())
                return ENOENT;
            *status = it->second ? ucore_fence_status(it->second) : 1;
            return 0;
        });
    }

private:
    static constexpr unsigned kOffsetShift = 12;
    static CoreTransport* self(void* a) { return static_cast<CoreTransport*>(a); }

    // The engine's calls, from inside the core: no exception may cross
    // the C code; a back end that lost its state answers EIO.
    template <typename F>
    int guard(F&& f) noexcept {
        try {
            return f();
        } catch (const std::exception&) {
            return EIO;
        }
    }
    int ctx_create(uint64_t* ctx) {
        *ctx = next_id_++;
        return be_->ctx_create(*ctx);
    }
    int mem_alloc(uint64_t size, uint64_t* mem) {
        *mem = next_id_++;
        return be_->mem_alloc(*mem, size);
    }
    // Host memory is a window of the memfd the workers map.
    int map(uint64_t ctx, uint64_t va, uint64_t mem, uint8_t* host, uint64_t off, uint64_t size, uint32_t perms) {
        vgpu::engine::Backing b;
        if (mem) {
            b.mem = mem;
            b.offset = off;
        } else {
            b.host = host + off;
            b.fd = windows_->fd();
            if (!windows_->find(b.host, size, &b.fd_offset))
                return EINVAL;
        }
        return be_->map(ctx, va, size, perms, b);
    }
    ucore_status run(uint64_t ctx, ucore_job* uj, uint64_t budget) noexcept {
        try {
            auto& job = jobs_[uj];
            if (!job) {
                job = std::make_unique<vgpu::engine::Job>();
                job->cmds.assign(uj->cmds + uj->next_cmd, uj->cmds + uj->num_cmds);
                job->base = uj->next_cmd;
            }
            job->next = uj->next_cmd;
            job->cmd_done = uj->cmd_done;
            job->cmd_busy_ns = uj->cmd_busy_ns;
            vgpu::engine::RunResult r = be_->run(ctx, *job, budget, uint64_t{watchdog_ms_} * 1000000);
            uj->next_cmd = job->next;
            uj->cmd_done = job->cmd_done;
            uj->cmd_busy_ns = job->cmd_busy_ns;
            uj->busy_ns += r.busy_ns;
            uj->fault_kind = r.fault_kind;
            uj->fault_addr = r.fault_addr;
            switch (r.status) {
            case vgpu::engine::RunStatus::Done: return UCORE_DONE;
            case vgpu::engine::RunStatus::Preempted: return UCORE_PREEMPTED;
            case vgpu::engine::RunStatus::TimedOut: return UCORE_TIMEDOUT;
            case vgpu::engine::RunStatus::Faulted: return UCORE_FAULTED;
            }
        } catch (const std::exception&) {
        }
        uj->fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
        uj->fault_addr = 0;
        return UCORE_FAULTED;
    }

    // One ioctl, as vgpu_drv.c's table dispatches it.
    int dispatch(unsigned long req, void* arg) {
        switch (req) {
        case DRM_IOCTL_VGPU_GET_INFO:
            ucore_info(core_, static_cast<drm_vgpu_info*>(arg));
            return 0;
        case DRM_IOCTL_VGPU_CTX_CREATE: return -ucore_ctx_create(core_, static_cast<drm_vgpu_ctx_create*>(arg));
        case DRM_IOCTL_VGPU_CTX_DESTROY: return -ucore_ctx_destroy(core_, static_cast<drm_vgpu_ctx_destroy*>(arg));
        case DRM_IOCTL_VGPU_CTX_STATUS: return -ucore_ctx_status(core_, static_cast<drm_vgpu_ctx_status*>(arg));
        case DRM_IOCTL_VGPU_BO_CREATE: {
            auto* a = static_cast<drm_vgpu_bo_create*>(arg);
            void* cpu = nullptr;
            int ret = ucore_bo_create(core_, a, &cpu);
            if (!ret && cpu)
                host_[a->handle] = cpu;
            return -ret;
        }
        case DRM_IOCTL_VGPU_BO_DESTROY: {
            auto* a = static_cast<drm_vgpu_bo_destroy*>(arg);
            int ret = ucore_bo_destroy(core_, a);
            if (!ret)
                host_.erase(a->handle);
            return -ret;
        }
        case DRM_IOCTL_VGPU_BO_MMAP_OFFSET: {
            auto* a = static_cast<drm_vgpu_bo_mmap_offset*>(arg);
            void* cpu = nullptr;
            int ret = ucore_bo_host(core_, a, &cpu);
            if (!ret)
                a->offset = uint64_t{a->handle} << kOffsetShift;
            return -ret;
        }
        case DRM_IOCTL_VGPU_VM_BIND: return -ucore_vm_bind(core_, static_cast<drm_vgpu_vm_bind*>(arg));
        case DRM_IOCTL_VGPU_SUBMIT: return submit(static_cast<drm_vgpu_submit*>(arg));
        }
        return ENOTTY;
    }
    // The out syncobj, looked up before the job is queued (as
    // drm_syncobj_find() in vgpu_drv.c), takes the job's fence.
    int submit(drm_vgpu_submit* a) {
        auto sync = a->out_sync ? syncobjs_.find(a->out_sync) : syncobjs_.end();
        if (a->out_sync && sync == syncobjs_.end())
            return ENOENT;
        ucore_fence* done = nullptr;
        if (int ret = ucore_submit(core_, a, &done))
            return -ret;
        if (sync == syncobjs_.end()) {
            ucore_fence_put(done);
            return 0;
        }
        if (sync->second)
            ucore_fence_put(sync->second);
        sync->second = done;
        return 0;
    }

    EngineThread engine_;  // first: outlives everything below
    const unsigned int watchdog_ms_;
    std::unique_ptr<HostWindows> windows_;
    std::unique_ptr<vgpu::engine::Backend> be_;
    ucore* core_ = nullptr;
    std::map<ucore_job*, std::unique_ptr<vgpu::engine::Job>> jobs_;  // the engine's state of each job
    std::map<uint32_t, void*> host_;                                 // host object -> its memory
    std::map<uint32_t, ucore_fence*> syncobjs_;                      // syncobj -> its fence (or none)
    uint32_t next_sync_ = 1;
    uint64_t next_id_ = 1;  // the engine's context and memory ids
};

}  // namespace

std::unique_ptr<Backend> make_core_backend(bool gpu, int index, int count) {
    int dev = gpu ? engine_gpu() : 0;
    std::string what = gpu ? "vgpu-back's core in this process, vgpu-engined's cuda workers on GPU " + std::to_string(dev)
                           : "vgpu-back's core in this process, vgpu-engined's interpreter workers";
    std::unique_ptr<vgpu::Transport> t;
    try {
        t = std::make_unique<CoreTransport>(gpu, dev, engine_memory(), engined_path());
    } catch (const vgpu::engine::Unavailable& e) {
        throw std::runtime_error(std::string("the engine's cuda back end is unavailable: ") + e.what());
    }
    return make_vgpu_backend(std::make_shared<vgpu::Device>(std::move(t), what), index, count);
}

}  // namespace gpuvm::cudart
