// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// core_transport.cpp - see core_transport.hpp.
#include "core_transport.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "host.hpp"
#include "../vgpu-engined/backend.hpp"
#include "../vgpu-engined/router.hpp"

extern "C" {
#include "ucore.h"
#include "vgpu_drm.h"
}

namespace gpuvm::ucore {
namespace {

// The layout vgpu-uengine announces for a GPU: 2 MiB pages and the
// workers' window (64 GiB .. 1008 GiB).
constexpr uint32_t kPageShift = 21;
// A host object's mmap offset: its handle, shifted.
constexpr unsigned kOffsetShift = 12;

// Every call into any ucore of the process, under this (ucore.h): the
// shim's state is the process's, and hosts of several devices each have
// an engine thread of their own.
std::mutex g_core;

}  // namespace

std::unique_ptr<vgpu::engine::Backend> make_worker_engine(bool gpu, int dev, uint64_t mem, int windows_fd,
                                                          const std::string& exe) {
    auto memory = gpu ? vgpu::engine::make_cuda_memory(mem, dev) : vgpu::engine::make_memfd_memory(mem);
    return vgpu::engine::make_worker_backend(gpu ? "cuda-workers" : "interp-workers", std::move(memory),
                                             vgpu::engine::exec_spawner(exe, gpu ? "cuda" : "interp", dev,
                                                                        {"LD_PRELOAD"}),
                                             windows_fd);
}

struct CoreHost::Impl {
    EngineThread engine;  // first: outlives everything below
    unsigned int watchdog_ms = 2000;
    std::string name;
    ucore_config cfg{};
    std::unique_ptr<HostWindows> windows;
    std::unique_ptr<vgpu::engine::Backend> be;
    ::ucore* ucore_ = nullptr;
    std::map<ucore_job*, std::unique_ptr<vgpu::engine::Job>> jobs;  // the engine's state of each job
    uint64_t next_id = 1;                                            // the engine's context and memory ids

    // The scheduler thread (vgpu_sched.c's): a slice at a time on the
    // engine's thread while jobs are runnable; else it sleeps until a
    // submission kicks it, or 1 ms (a capped group's time comes back).
    std::mutex m;                        // protects kicked, stop, epoch
    std::condition_variable kick, progress;
    bool kicked = false, stop = false;
    uint64_t epoch = 0;                  // slices run (waiters wake on it)
    std::thread sched;

    void sched_loop();
    // @f (calls into the core) on the engine's thread, under g_core.
    template <typename F>
    auto core(F&& f) -> decltype(f()) {
        return engine.call([&] {
            std::lock_guard<std::mutex> g(g_core);
            return f();
        });
    }
    void wake() {
        {
            std::lock_guard<std::mutex> g(m);
            kicked = true;
        }
        kick.notify_one();
    }

    // The engine's calls from inside the core: no exception crosses the
    // C code; a back end that lost its state answers EIO.
    template <typename F>
    static int guard(F&& f) noexcept {
        try {
            return f();
        } catch (const std::exception&) {
            return EIO;
        }
    }
    static Impl* self(void* a) { return static_cast<Impl*>(a); }
    int map(uint64_t ctx, uint64_t va, uint64_t mem, uint8_t* host, uint64_t off, uint64_t size, uint32_t perms);
    ucore_status run(uint64_t ctx, ucore_job* uj, uint64_t budget) noexcept;
    static ucore_engine_ops ops(Impl* impl);
};

void CoreHost::Impl::sched_loop() {
    std::unique_lock<std::mutex> g(m);
    while (!stop) {
        g.unlock();
        bool ran = false;
        try {
            ran = core([this] { return ucore_run_once(ucore_); });
        } catch (const std::exception&) {
            // Out of memory for the engine thread's call: a later turn.
        }
        g.lock();
        epoch++;
        progress.notify_all();
        if (!ran) {
            kick.wait_for(g, std::chrono::milliseconds(1), [this] { return stop || kicked; });
            kicked = false;
        }
    }
}

// Host memory is a window of the memfd the workers map.
int CoreHost::Impl::map(uint64_t ctx, uint64_t va, uint64_t mem, uint8_t* host, uint64_t off, uint64_t size,
                        uint32_t perms) {
    vgpu::engine::Backing b;
    if (mem) {
        b.mem = mem;
        b.offset = off;
    } else {
        b.host = host + off;
        b.fd = windows->fd();
        if (!windows->find(b.host, size, &b.fd_offset))
            return EINVAL;
    }
    return be->map(ctx, va, size, perms, b);
}

// A RUN of the job where the core's progress says it stands; the
// commands go to the engine with its first RUN (as vgpu-uengine's).
ucore_status CoreHost::Impl::run(uint64_t ctx, ucore_job* uj, uint64_t budget) noexcept {
    try {
        auto& job = jobs[uj];
        if (!job) {
            job = std::make_unique<vgpu::engine::Job>();
            job->cmds.assign(uj->cmds + uj->next_cmd, uj->cmds + uj->num_cmds);
            job->base = uj->next_cmd;
        }
        job->next = uj->next_cmd;
        job->cmd_done = uj->cmd_done;
        job->cmd_busy_ns = uj->cmd_busy_ns;
        vgpu::engine::RunResult r = be->run(ctx, *job, budget, uint64_t{watchdog_ms} * 1000000);
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

ucore_engine_ops CoreHost::Impl::ops(Impl* impl) {
    ucore_engine_ops o{};
    o.arg = impl;
    o.ctx_create = [](void* a, uint64_t* ctx) {
        return guard([&] {
            *ctx = self(a)->next_id++;
            return self(a)->be->ctx_create(*ctx);
        });
    };
    o.ctx_destroy = [](void* a, uint64_t ctx) { guard([&] { return self(a)->be->ctx_destroy(ctx), 0; }); };
    o.mem_alloc = [](void* a, uint64_t size, uint64_t* mem) {
        return guard([&] {
            *mem = self(a)->next_id++;
            return self(a)->be->mem_alloc(*mem, size);
        });
    };
    o.mem_free = [](void* a, uint64_t mem) { guard([&] { return self(a)->be->mem_free(mem), 0; }); };
    o.map = [](void* a, uint64_t ctx, uint64_t va, uint64_t mem, uint8_t* host, uint64_t off, uint64_t size,
               uint32_t perms) { return guard([&] { return self(a)->map(ctx, va, mem, host, off, size, perms); }); };
    o.unmap = [](void* a, uint64_t ctx, uint64_t va, uint64_t size) {
        guard([&] { return self(a)->be->unmap(ctx, va, size), 0; });
    };
    o.run = [](void* a, uint64_t ctx, ucore_job* job, uint64_t budget) { return self(a)->run(ctx, job, budget); };
    o.job_release = [](void* a, ucore_job* job) { self(a)->jobs.erase(job); };
    o.host_alloc = [](void* a, uint64_t size) {
        uint64_t off = 0;
        return self(a)->windows->take(size, &off);
    };
    o.host_free = [](void* a, void* p, uint64_t size) {
        uint64_t off = 0;
        if (self(a)->windows->find(static_cast<uint8_t*>(p), size, &off))
            self(a)->windows->give_back(p, size, off);
    };
    return o;
}

std::shared_ptr<CoreHost> CoreHost::create(const CoreOptions& o) {
    auto impl = std::make_unique<Impl>();
    Impl* p = impl.get();
    p->watchdog_ms = o.watchdog_ms;
    p->name = o.gpu ? "vgpu-back's core in this process, vgpu-engined's cuda workers on GPU " + std::to_string(o.dev)
                    : "vgpu-back's core in this process, vgpu-engined's interpreter workers";
    p->engine.call([&] {
        try {
            p->windows = std::make_unique<HostWindows>();
            p->be = make_worker_engine(o.gpu, o.dev, o.mem, p->windows->fd(), o.exe);
            ucore_config& c = p->cfg;
            c.name = o.gpu ? "cuda-workers" : "interp-workers";
            c.mem_size = o.mem;
            // What vgpu-uengine reports, with the PTX feature its engine
            // process says at HELLO with the cuda back end's workers.
            c.features = DRM_VGPU_FEATURE_HOST_MEMORY | DRM_VGPU_FEATURE_PREEMPTION | DRM_VGPU_FEATURE_ATOMICS |
                         (o.gpu ? DRM_VGPU_FEATURE_PTX : 0);
            c.page_shift = kPageShift;
            c.va_start = vgpu::engine::kSelfTestVaStart;
            c.va_end = vgpu::engine::kSelfTestVaEnd;
            c.watchdog_ms = o.watchdog_ms;
            c.timeslice_ms = o.timeslice_ms;
            // A program's host objects and mappings in proportion to the
            // engine (its mappings may cover every byte several times).
            c.quota_hostmem = std::max(uint64_t{16} << 30, o.mem);
            c.quota_mapped = std::max(uint64_t{64} << 30, 4 * o.mem);
            c.quota_objects = 65536;
            char err[160] = "";
            ucore_engine_ops ops = Impl::ops(p);
            {
                std::lock_guard<std::mutex> g(g_core);
                p->ucore_ = ucore_create(&ops, &c, err, sizeof(err));
            }
            if (!p->ucore_)
                throw std::runtime_error(std::string("vgpu-back's core in this process: ") + err);
        } catch (...) {
            p->be.reset();  // here, on the thread its CUDA context belongs to
            p->windows.reset();
            throw;
        }
    });
    auto host = std::make_shared<CoreHost>(Key{}, std::move(impl));
    p->sched = std::thread([p] { p->sched_loop(); });
    return host;
}

CoreHost::CoreHost(Key, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CoreHost::~CoreHost() {
    Impl* p = impl_.get();
    if (p->sched.joinable()) {
        {
            std::lock_guard<std::mutex> g(p->m);
            p->stop = true;
        }
        p->kick.notify_one();
        p->sched.join();
    }
    p->engine.call([p] {
        {
            std::lock_guard<std::mutex> g(g_core);
            if (p->ucore_)
                ucore_destroy(p->ucore_);
        }
        p->jobs.clear();
        p->be.reset();
        p->windows.reset();
    });
}

const std::string& CoreHost::name() const { return impl_->name; }

struct CoreClient::State {
    ucore_client* c = nullptr;
    std::map<uint32_t, std::pair<void*, uint64_t>> host;  // host object -> its memory, bytes
    std::map<uint32_t, ucore_fence*> syncobjs;            // syncobj -> its fence (or none yet)
    uint32_t next_sync = 1;
};

std::unique_ptr<CoreClient> CoreHost::client(const std::string& name, uint32_t weight, uint32_t cap,
                                             uint64_t devmem, uint64_t hostmem) {
    auto s = std::make_unique<CoreClient::State>();
    impl_->core([&] {
        ucore_config c = impl_->cfg;
        c.quota_devmem = devmem ? devmem : impl_->cfg.mem_size;
        if (hostmem)
            c.quota_hostmem = hostmem;
        char err[160] = "";
        s->c = ucore_client_open(impl_->ucore_, name.c_str(), weight, cap, &c, err, sizeof(err));
        if (!s->c)
            throw std::runtime_error("vgpu-back's core in this process: " + std::string(err));
    });
    return std::make_unique<CoreClient>(CoreClient::Key{}, shared_from_this(), std::move(s));
}

CoreClient::CoreClient(Key, std::shared_ptr<CoreHost> host, std::unique_ptr<State> s)
    : host_(std::move(host)), s_(std::move(s)) {}

CoreClient::~CoreClient() {
    try {
        host_->impl_->core([this] {
            for (auto& [h, f] : s_->syncobjs)
                if (f)
                    ucore_fence_put(f);
            ucore_client_close(s_->c);
        });
    } catch (const std::exception&) {
        // Out of memory for the engine thread's call: the client stays
        // open until the host goes.
    }
}

uint64_t CoreClient::busy_ns() {
    return host_->impl_->core([this] { return ucore_client_busy_ns(s_->c); });
}

int CoreClient::set(uint32_t weight, uint32_t cap) {
    return host_->impl_->core([&] { return -ucore_client_set(s_->c, weight, cap); });
}

// One ioctl, as vgpu_drv.c's table dispatches it: 0 or an errno.
int CoreClient::ioctl(unsigned long req, void* arg) {
    CoreHost::Impl& h = *host_->impl_;
    int ret;
    try {
        ret = h.core([&] { return dispatch(req, arg); });
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (const std::exception&) {
        return EIO;
    }
    if (req == DRM_IOCTL_VGPU_SUBMIT && !ret)
        h.wake();
    return ret;
}

int CoreClient::dispatch(unsigned long req, void* arg) {
    State& s = *s_;
    switch (req) {
    case DRM_IOCTL_VGPU_GET_INFO:
        ucore_info(s.c, static_cast<drm_vgpu_info*>(arg));
        return 0;
    case DRM_IOCTL_VGPU_CTX_CREATE: return -ucore_ctx_create(s.c, static_cast<drm_vgpu_ctx_create*>(arg));
    case DRM_IOCTL_VGPU_CTX_DESTROY: return -ucore_ctx_destroy(s.c, static_cast<drm_vgpu_ctx_destroy*>(arg));
    case DRM_IOCTL_VGPU_CTX_STATUS: return -ucore_ctx_status(s.c, static_cast<drm_vgpu_ctx_status*>(arg));
    case DRM_IOCTL_VGPU_BO_CREATE: {
        auto* a = static_cast<drm_vgpu_bo_create*>(arg);
        void* cpu = nullptr;
        if (int err = ucore_bo_create(s.c, a, &cpu))
            return -err;
        if (!cpu)
            return 0;
        try {
            s.host[a->handle] = {cpu, a->size};
        } catch (const std::bad_alloc&) {
            drm_vgpu_bo_destroy d{a->handle, 0};
            ucore_bo_destroy(s.c, &d);  // nothing left behind
            return ENOMEM;
        }
        return 0;
    }
    case DRM_IOCTL_VGPU_BO_DESTROY: {
        auto* a = static_cast<drm_vgpu_bo_destroy*>(arg);
        int err = ucore_bo_destroy(s.c, a);
        if (!err)
            s.host.erase(a->handle);
        return -err;
    }
    case DRM_IOCTL_VGPU_BO_MMAP_OFFSET: {
        auto* a = static_cast<drm_vgpu_bo_mmap_offset*>(arg);
        void* cpu = nullptr;
        int err = ucore_bo_host(s.c, a, &cpu);
        if (!err)
            a->offset = uint64_t{a->handle} << kOffsetShift;
        return -err;
    }
    case DRM_IOCTL_VGPU_VM_BIND: return -ucore_vm_bind(s.c, static_cast<drm_vgpu_vm_bind*>(arg));
    case DRM_IOCTL_VGPU_SUBMIT: {
        // The decode's checks, then the out syncobj looked up before the
        // job is queued (drm_syncobj_find() in vgpu_drv.c), which takes
        // the job's fence.
        auto* a = static_cast<drm_vgpu_submit*>(arg);
        if (int err = ucore_check_submit(a))
            return -err;
        auto sync = a->out_sync ? s.syncobjs.find(a->out_sync) : s.syncobjs.end();
        if (a->out_sync && sync == s.syncobjs.end())
            return ENOENT;
        ucore_fence* done = nullptr;
        if (int err = ucore_submit(s.c, a, &done))
            return -err;
        if (sync == s.syncobjs.end()) {
            ucore_fence_put(done);
        } else {
            if (sync->second)
                ucore_fence_put(sync->second);
            sync->second = done;
        }
        return 0;
    }
    }
    return ENOTTY;
}

// The offset BO_MMAP_OFFSET gave names the object: its host memory,
// already mapped in this process; no more than the object.
int CoreClient::map(uint64_t offset, size_t size, void** cpu) {
    try {
        return host_->impl_->core([&] {
            auto it = s_->host.find(static_cast<uint32_t>(offset >> kOffsetShift));
            if (it == s_->host.end() || offset & ((uint64_t{1} << kOffsetShift) - 1) || size > it->second.second)
                return EINVAL;
            *cpu = it->second.first;
            return 0;
        });
    } catch (const std::exception&) {
        return ENOMEM;
    }
}

int CoreClient::syncobj_create(uint32_t* handle) {
    try {
        return host_->impl_->core([&] {
            // The next free handle, never 0 ("no syncobj" in a SUBMIT).
            while (!s_->next_sync || s_->syncobjs.count(s_->next_sync))
                s_->next_sync++;
            s_->syncobjs[s_->next_sync] = nullptr;
            *handle = s_->next_sync++;
            return 0;
        });
    } catch (const std::exception&) {
        return ENOMEM;
    }
}

void CoreClient::syncobj_destroy(uint32_t handle) {
    try {
        host_->impl_->core([&] {
            auto it = s_->syncobjs.find(handle);
            if (it == s_->syncobjs.end())
                return;
            if (it->second)
                ucore_fence_put(it->second);
            s_->syncobjs.erase(it);
        });
    } catch (const std::exception&) {
        // Out of memory for the call: the syncobj goes with the client.
    }
}

// @handle's fence: ENOENT (no such syncobj), or 0 with *@st its status,
// or pending (0) while it has none.
int CoreClient::fence_state(uint32_t handle, int* st, bool* none) {
    return host_->impl_->core([&] {
        auto it = s_->syncobjs.find(handle);
        if (it == s_->syncobjs.end())
            return ENOENT;
        *none = !it->second;
        *st = it->second ? ucore_fence_status(it->second) : 0;
        return 0;
    });
}

// Waits as drmSyncobjWait(WAIT_FOR_SUBMIT) on a fence the scheduler
// thread signals: woken after each slice, or each 1 ms; ETIME at the
// deadline (a syncobj never submitted waits for it).
int CoreClient::syncobj_wait(uint32_t handle, int64_t abs_ns) {
    CoreHost::Impl& h = *host_->impl_;
    try {
        for (;;) {
            uint64_t epoch;
            {
                std::lock_guard<std::mutex> g(h.m);
                epoch = h.epoch;
            }
            int st = 0;
            bool none = false;
            if (int err = fence_state(handle, &st, &none))
                return err;
            if (st != 0)
                return 0;
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec * 1000000000LL + now.tv_nsec >= abs_ns)
                return ETIME;
            std::unique_lock<std::mutex> g(h.m);
            h.progress.wait_for(g, std::chrono::milliseconds(1), [&] { return h.epoch != epoch; });
        }
    } catch (const std::exception&) {
        return ENOMEM;
    }
}

// As the sync file DRM exports: EINVAL while the syncobj has no fence.
int CoreClient::syncobj_status(uint32_t handle, int* status) {
    try {
        bool none = false;
        if (int err = fence_state(handle, status, &none))
            return err;
        return none ? EINVAL : 0;
    } catch (const std::exception&) {
        return ENOMEM;
    }
}

}  // namespace gpuvm::ucore
