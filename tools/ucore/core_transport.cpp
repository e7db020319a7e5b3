// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// core_transport.cpp - see core_transport.hpp.
#include "core_transport.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "fair_lock.hpp"
#include "host.hpp"
#include "vgpu/latency.hpp"
#include "vgpu/spin.hpp"
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

// @bytes in whole GPU pages.
constexpr uint64_t page_up(uint64_t bytes) {
    return (bytes + (uint64_t{1} << kPageShift) - 1) & ~((uint64_t{1} << kPageShift) - 1);
}

// Every call into any ucore of the process, under this (ucore.h), taken
// only through a CoreLock (below), which wakes the fence waiters
// signalled meanwhile once it lets go: the shim's state is the
// process's, and hosts of several devices each have an engine thread of
// their own.  It protects the cores, every client's State and each
// host's jobs; a slice holds it across its engine RUN (up to the
// watchdog), as the core's callers are one at a time.  Fair
// (fair_lock.hpp): a program's SUBMIT waits for the slice that holds it,
// never for the next ones.  Timed: a syncobj wait gives up at its
// deadline rather than wait out a slice.  Never destroyed: the engine
// and tick threads of a program's core may still take it while the
// program's static objects go at its exit.
FairLock& g_core = *new FairLock;

}  // namespace

// A syncobj_wait()'s, told by its fence's callback (ucore_fence_notify())
// when the fence signals: waiters wait on it without g_core.  One a fence
// (State::armed), shared by every wait on that fence; the callback holds
// its own reference, so a wait past its deadline just leaves.
struct FenceWaiter {
    std::mutex m;  // orders done's store with cv's sleep
    std::condition_variable cv;
    std::atomic<bool> done{false};  // set under m; read without it too
    // The fence's status when it signalled (1, or an error), stored
    // before done: a syncobj_status() after the wait needs no g_core.
    std::atomic<int> status{0};

    // The callback, on the signalling thread under g_core; @arg a
    // std::shared_ptr<FenceWaiter>, its own and freed here; @st the
    // fence's status.  Where waits poll (vgpu/spin.hpp), the wait ends
    // now, as dma_fence_signal() wakes its waiters: the program returns
    // while the slice ends, and its next ioctl polls for g_core.  Where
    // they sleep, it ends once that thread lets go of g_core (CoreLock):
    // woken earlier, the program's next ioctl would find the lock still
    // held and sleep again.
    static void signalled(void* arg, int st) noexcept;
    void wake() noexcept {
        {
            std::lock_guard<std::mutex> g(m);
            done.store(true, std::memory_order_release);
        }
        cv.notify_all();
    }
    // Whether the fence signalled by @until: polled for a while first
    // (vgpu/spin.hpp), a short job's end being microseconds away.
    bool wait(std::chrono::steady_clock::time_point until) {
        if (vgpu::spin_until([this] { return done.load(std::memory_order_acquire); }, vgpu::spin_budget_ns(until)))
            return true;
        std::unique_lock<std::mutex> g(m);
        return cv.wait_until(g, until, [this] { return done.load(std::memory_order_relaxed); });
    }
};

namespace {

// The waiters whose fences signalled while this thread held g_core
// (through a CoreLock, t_held), to wake once it lets go.
thread_local std::vector<std::shared_ptr<FenceWaiter>> t_signalled;
thread_local bool t_held = false;

// g_core held, in turn (polled for a while, then slept for: FairLock),
// by @until where one is given (owns() says whether it was taken).
// Letting go wakes the waiters whose fences signalled meanwhile
// (FenceWaiter::signalled()).
class CoreLock {
public:
    CoreLock() {
        assert(!t_held && "g_core is not recursive");
        g_core.lock();
        owns_ = t_held = true;
    }
    explicit CoreLock(std::chrono::steady_clock::time_point until) {
        assert(!t_held && "g_core is not recursive");
        owns_ = g_core.lock_until(until);
        t_held = owns_;
    }
    ~CoreLock() {
        if (!owns_)
            return;
        t_held = false;
        g_core.unlock();
        auto woken = std::move(t_signalled);
        t_signalled.clear();
        for (auto& w : woken)
            w->wake();
    }
    CoreLock(const CoreLock&) = delete;
    CoreLock& operator=(const CoreLock&) = delete;
    bool owns() const { return owns_; }

private:
    bool owns_ = false;
};


// A syncobj wait's deadline, CLOCK_MONOTONIC ns (steady_clock's clock
// here), no further than a year away: the waits' own arithmetic does not
// overflow.
std::chrono::steady_clock::time_point deadline(int64_t abs_ns) {
    using namespace std::chrono;
    auto far = steady_clock::now() + hours(24 * 365);
    return std::min(steady_clock::time_point(nanoseconds(abs_ns)), far);
}

// Whether an ioctl can reach the engine's ops (vgpu_core.c), and so must
// run on the engine's thread: GET_INFO reads the engine's constants;
// CTX_STATUS and SUBMIT take and drop a context reference while its
// handle holds another (never the last, which destroys it), and SUBMIT
// queues the job (vgpu_sched_submit() never runs it).  The object,
// context and VM_BIND ioctls allocate, map or free on the engine, and
// CTX_STACK tells the context's worker its stack (the engine's
// ctx_stack op).
bool reaches_engine(unsigned long req) {
    switch (req) {
    case DRM_IOCTL_VGPU_GET_INFO:
    case DRM_IOCTL_VGPU_CTX_STATUS:
    case DRM_IOCTL_VGPU_SUBMIT: return false;
    default: return true;
    }
}

}  // namespace

void FenceWaiter::signalled(void* arg, int st) noexcept {
    std::unique_ptr<std::shared_ptr<FenceWaiter>> w(static_cast<std::shared_ptr<FenceWaiter>*>(arg));
    (*w)->status.store(st, std::memory_order_relaxed);  // published by done's release
    // g_core not taken through a CoreLock (nothing would wake it later),
    // or the waiter polls.
    if (!t_held || vgpu::spin_budget_ns()) {
        (*w)->wake();
        return;
    }
    try {
        t_signalled.push_back(std::move(*w));
    } catch (const std::bad_alloc&) {
        (*w)->wake();  // no room to defer it: now
    }
}

std::unique_ptr<vgpu::engine::Backend> make_worker_engine(bool gpu, int dev, uint64_t mem, int windows_fd,
                                                          const std::string& exe, uint64_t* ctx_mem,
                                                          uint32_t* max_stack, uint64_t* stack_threads) {
    auto memory = gpu ? vgpu::engine::make_cuda_memory(mem, dev) : vgpu::engine::make_memfd_memory(mem);
    if (ctx_mem)
        *ctx_mem = memory->context_memory();
    // What vgpu-engined's HELLO would announce over this memory.
    vgpu_ue_hello hello{};
    vgpu::engine::hello_ptx(hello, *memory, gpu);
    if (max_stack)
        *max_stack = hello.max_stack;
    if (stack_threads)
        *stack_threads = hello.stack_threads;
    return vgpu::engine::make_worker_backend(gpu ? "cuda-workers" : "interp-workers", std::move(memory),
                                             vgpu::engine::exec_spawner(exe, gpu ? "cuda" : "interp", dev,
                                                                        {"LD_PRELOAD"}),
                                             windows_fd, vgpu::engine::start_limits_for(gpu));
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

    // The scheduler (vgpu_sched.c's thread's loop): slices, one
    // ucore_run_once() each, posted to the engine's thread (its RUN goes
    // to the engine there) by a SUBMIT, again by each slice that ran
    // while jobs are runnable, and by the tick thread each 1 ms (a capped
    // group's time comes back with no SUBMIT to post for it).  One slice
    // at a time: one thread runs them, under g_core.
    std::mutex m;  // protects slice_queued, stop, submits
    std::condition_variable tick_stop;  // the tick thread's sleep
    std::condition_variable submitted;  // submits grew
    bool slice_queued = false;          // one posted and not yet started
    bool stop = false;                  // no more slices: the host goes
    uint64_t submits = 0;  // SUBMITs done (a wait for a syncobj's first fence)
    std::thread ticker;

    void tick_loop();
    void post_slice_locked(bool hot = true);
    void slice() noexcept;
    void submitted_one();
    // @f (calls into the core) on the engine's thread, under g_core:
    // what may reach the engine's ops.
    template <typename F>
    auto core(F&& f) -> decltype(f()) {
        return engine.call([&] {
            CoreLock g;
            return f();
        });
    }
    // @f (calls into the core that never reach the engine's ops) on the
    // caller's thread, under g_core, as the module's ioctls run on the
    // caller's: no round trip to the engine's thread.
    template <typename F>
    static auto direct(F&& f) -> decltype(f()) {
        CoreLock g;
        return f();
    }
    // Every engine op checks it runs on the engine's thread, whose CUDA
    // context and Router it uses: an ioctl run by direct() that reaches
    // one after a change of the core stops here, in the tests.
    void on_engine(const char* op) const noexcept {
        if (engine.here())
            return;
        std::fprintf(stderr, "gpuvm ucore: the engine's %s called off the engine's thread\n", op);
        std::abort();
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

// A slice posted to the engine's thread unless one is already queued
// (which will see whatever made this one wanted); none once stopping, so
// that none is queued behind the host's teardown.  Under m.
void CoreHost::Impl::post_slice_locked(bool hot) {
    if (slice_queued || stop)
        return;
    try {
        engine.post([this] { slice(); }, hot);
        slice_queued = true;
    } catch (const std::exception&) {
        // Out of memory for the post: the tick posts one within 1 ms.
    }
}

// On the engine's thread: one slice, and another while one ran and a job
// is still queued (a SUBMIT posts its own; none taking g_core for nothing
// as the program's next SUBMIT comes, vgpu_sched_queued()).
void CoreHost::Impl::slice() noexcept {
    {
        // Cleared first: a SUBMIT from here on posts a slice of its own
        // rather than rely on this one having seen its job.
        std::lock_guard<std::mutex> g(m);
        slice_queued = false;
    }
    bool ran;
    {
        CoreLock g;
        // A slice's start stamped once it ran something (GPUVM_LATENCY_TRACE:
        // the tick's empty ones would fill the stamps).
        const uint64_t t = vgpu::latency::on() ? vgpu::latency::Recorder::now() : 0;
        ran = ucore_run_once(ucore_);
        if (ran && t) {
            vgpu::latency::stamp_at("core: slice", t);
            vgpu::latency::stamp("core: slice done");
        }
        ran = ran && ucore_queued(ucore_);
    }
    if (ran) {
        std::lock_guard<std::mutex> g(m);
        post_slice_locked();
    }
}

// A SUBMIT queued a job: a slice for it, and syncobj waits for a first
// fence look again.
void CoreHost::Impl::submitted_one() {
    {
        std::lock_guard<std::mutex> g(m);
        submits++;
        post_slice_locked();
    }
    submitted.notify_all();
}

// Each 1 ms, a slice (vgpu_sched_thread()'s wait for a capped group's
// time, which ucore_run_once() does not say): whatever the core can run
// without a SUBMIT posting for it runs within 1 ms, as before.
void CoreHost::Impl::tick_loop() {
    std::unique_lock<std::mutex> g(m);
    while (!tick_stop.wait_for(g, std::chrono::milliseconds(1), [this] { return stop; }))
        post_slice_locked(false);  // no polling after it: an idle core costs no CPU
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
        vgpu::latency::stamp("core: RUN");
        vgpu::engine::RunResult r = be->run(ctx, *job, budget, uint64_t{watchdog_ms} * 1000000);
        vgpu::latency::stamp("core: RUN out");
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
    o.ctx_create = [](void* a, uint64_t group, uint64_t* ctx) {
        self(a)->on_engine("ctx_create");
        return guard([&] {
            *ctx = self(a)->next_id++;
            return self(a)->be->ctx_create(*ctx, group);
        });
    };
    o.ctx_destroy = [](void* a, uint64_t ctx) {
        self(a)->on_engine("ctx_destroy");
        guard([&] { return self(a)->be->ctx_destroy(ctx), 0; });
    };
    o.mem_alloc = [](void* a, uint64_t size, uint64_t* mem) {
        self(a)->on_engine("mem_alloc");
        return guard([&] {
            *mem = self(a)->next_id++;
            return self(a)->be->mem_alloc(*mem, size);
        });
    };
    o.mem_free = [](void* a, uint64_t mem) {
        self(a)->on_engine("mem_free");
        guard([&] { return self(a)->be->mem_free(mem), 0; });
    };
    o.map = [](void* a, uint64_t ctx, uint64_t va, uint64_t mem, uint8_t* host, uint64_t off, uint64_t size,
               uint32_t perms) {
        self(a)->on_engine("map");
        return guard([&] { return self(a)->map(ctx, va, mem, host, off, size, perms); });
    };
    o.unmap = [](void* a, uint64_t ctx, uint64_t va, uint64_t size) {
        self(a)->on_engine("unmap");
        guard([&] { return self(a)->be->unmap(ctx, va, size), 0; });
    };
    o.run = [](void* a, uint64_t ctx, ucore_job* job, uint64_t budget) {
        self(a)->on_engine("run");
        return self(a)->run(ctx, job, budget);
    };
    o.job_release = [](void* a, ucore_job* job) {
        self(a)->on_engine("job_release");
        self(a)->jobs.erase(job);
    };
    o.host_alloc = [](void* a, uint64_t size) {
        self(a)->on_engine("host_alloc");
        uint64_t off = 0;
        return self(a)->windows->take(size, &off);
    };
    o.host_free = [](void* a, void* p, uint64_t size) {
        self(a)->on_engine("host_free");
        uint64_t off = 0;
        if (self(a)->windows->find(static_cast<uint8_t*>(p), size, &off))
            self(a)->windows->give_back(p, size, off);
    };
    // Only where the workers give a stack: else the core answers
    // CTX_STACK EOPNOTSUPP itself.
    if (impl->cfg.max_stack)
        o.ctx_stack = [](void* a, uint64_t ctx, uint32_t stack_size) {
            self(a)->on_engine("ctx_stack");
            return guard([&] { return self(a)->be->ctx_stack(ctx, stack_size); });
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
            uint64_t ctx_mem = 0, stack_threads = 0;
            uint32_t max_stack = 0;
            p->be = make_worker_engine(o.gpu, o.dev, o.mem, p->windows->fd(), o.exe, &ctx_mem, &max_stack,
                                       &stack_threads);
            ucore_config& c = p->cfg;
            c.name = o.gpu ? "cuda-workers" : "interp-workers";
            // Objects get @o.mem; each context's worker holds its own
            // beside them, charged to its client (as vgpu-uengine's
            // HELLO tells vgpu-back), and the call stack its client may
            // raise it to (CTX_STACK: (S - DRM_VGPU_PTX_BASE_STACK) x
            // the GPU's threads, charged when asked; 15 KiB x 270336
            // threads, 3.9 GiB, for the largest on an H100).  Room for
            // @o.contexts of them, each with the largest stack, so that
            // a client given the engine's memory can raise every one.
            // In whole GPU pages, as the core charges them.
            c.ctx_mem = page_up(ctx_mem);
            c.max_stack = max_stack;
            c.stack_threads = stack_threads;
            const uint64_t stack_mem = max_stack ? page_up((max_stack - DRM_VGPU_PTX_BASE_STACK) * stack_threads) : 0;
            c.mem_size = o.mem + uint64_t{o.contexts} * (c.ctx_mem + stack_mem);
            // What vgpu-uengine reports, with the PTX feature its engine
            // process says at HELLO with the cuda back end's workers.
            c.features = DRM_VGPU_FEATURE_HOST_MEMORY | DRM_VGPU_FEATURE_PREEMPTION | DRM_VGPU_FEATURE_ATOMICS |
                         (o.gpu ? DRM_VGPU_FEATURE_PTX : 0) | (max_stack ? DRM_VGPU_FEATURE_PTX_STACK : 0);
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
                CoreLock g;
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
    p->ticker = std::thread([p] { p->tick_loop(); });
    return host;
}

CoreHost::CoreHost(Key, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CoreHost::~CoreHost() {
    Impl* p = impl_.get();
    if (p->ticker.joinable()) {
        {
            // No slice is posted from here on: the one queued, if any,
            // runs before the teardown queued below.
            std::lock_guard<std::mutex> g(p->m);
            p->stop = true;
        }
        p->tick_stop.notify_one();
        p->ticker.join();
    }
    p->engine.call([p] {
        {
            CoreLock g;
            if (p->ucore_)
                ucore_destroy(p->ucore_);
        }
        p->jobs.clear();
        p->be.reset();
        p->windows.reset();
    });
}

const std::string& CoreHost::name() const { return impl_->name; }
uint64_t CoreHost::context_memory() const { return impl_->cfg.ctx_mem; }

struct CoreClient::State {
    ucore_client* c = nullptr;
    std::map<uint32_t, std::pair<void*, uint64_t>> host;  // host object -> its memory, bytes
    std::map<uint32_t, ucore_fence*> syncobjs;            // syncobj -> its fence (or none yet)
    uint32_t next_sync = 1;
    // syncobj -> the waiter armed on its current fence: one callback a
    // fence however many waits time out, and a wait on a fence already
    // watched needs no g_core.  Changed under g_core and armed_m (taken
    // inside g_core, around no other lock); read under armed_m alone.
    std::mutex armed_m;
    std::map<uint32_t, std::shared_ptr<FenceWaiter>> armed;
    void disarm(uint32_t handle) {
        std::lock_guard<std::mutex> g(armed_m);
        armed.erase(handle);
    }
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

// Neither reaches the engine: a counter, a group's settings.
uint64_t CoreClient::busy_ns() {
    return CoreHost::Impl::direct([this] { return ucore_client_busy_ns(s_->c); });
}

int CoreClient::set(uint32_t weight, uint32_t cap) {
    int err = CoreHost::Impl::direct([&] { return -ucore_client_set(s_->c, weight, cap); });
    if (!err) {
        // A group's new cap may let it run now: a slice looks.
        std::lock_guard<std::mutex> g(host_->impl_->m);
        host_->impl_->post_slice_locked();
    }
    return err;
}

// One ioctl, as vgpu_drv.c's table dispatches it: 0 or an errno.  On the
// caller's thread unless it may reach the engine (reaches_engine()).
int CoreClient::ioctl(unsigned long req, void* arg) {
    CoreHost::Impl& h = *host_->impl_;
    int ret;
    if (req == DRM_IOCTL_VGPU_SUBMIT)
        vgpu::latency::stamp("core: SUBMIT in");
    try {
        auto f = [&] { return dispatch(req, arg); };
        ret = reaches_engine(req) ? h.core(f) : CoreHost::Impl::direct(f);
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (const std::exception&) {
        return EIO;
    }
    if (req == DRM_IOCTL_VGPU_SUBMIT && !ret) {
        h.submitted_one();
        vgpu::latency::stamp("core: SUBMIT out");
    }
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
    case DRM_IOCTL_VGPU_CTX_STACK: return -ucore_ctx_stack(s.c, static_cast<drm_vgpu_ctx_stack*>(arg));
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
            s.disarm(a->out_sync);  // a waiter armed on the old fence keeps its own
            // Armed now, under the lock this SUBMIT holds anyway: the
            // program's wait, soon after, needs no g_core, which the
            // slice running this job will hold.
            int st = 0;
            arm(a->out_sync, done, &st);
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
        return CoreHost::Impl::direct([&] {
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

// The syncobjs are this file's (the client's State) and their fences'
// references are dropped without the engine (a job holds its fence until
// it ends): on the caller's thread.
int CoreClient::syncobj_create(uint32_t* handle) {
    try {
        return CoreHost::Impl::direct([&] {
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
    CoreHost::Impl::direct([&] {
        auto it = s_->syncobjs.find(handle);
        if (it == s_->syncobjs.end())
            return;
        if (it->second)
            ucore_fence_put(it->second);
        s_->syncobjs.erase(it);
        s_->disarm(handle);
    });
}

// @handle's fence: ENOENT (no such syncobj), or 0 with *@st its status,
// or pending (0) with *@none while it has none.  Under g_core.
int CoreClient::fence_state(uint32_t handle, int* st, bool* none) {
    auto it = s_->syncobjs.find(handle);
    if (it == s_->syncobjs.end())
        return ENOENT;
    *none = !it->second;
    *st = it->second ? ucore_fence_status(it->second) : 0;
    return 0;
}

// The waiter on @handle's pending fence @f, armed now if none is: one
// callback a fence however many waits time out.  Null where memory for
// one ran out (the caller polls) or where @f signalled meanwhile (*@st
// then its status).  Under g_core.
std::shared_ptr<FenceWaiter> CoreClient::arm(uint32_t handle, ucore_fence* f, int* st) {
    try {
        std::lock_guard<std::mutex> a(s_->armed_m);
        if (auto it = s_->armed.find(handle); it != s_->armed.end())
            return it->second;
        auto fresh = std::make_shared<FenceWaiter>();
        auto arg = std::make_unique<std::shared_ptr<FenceWaiter>>(fresh);
        s_->armed[handle] = fresh;
        int err = ucore_fence_notify(f, FenceWaiter::signalled, arg.get());
        if (!err) {
            arg.release();  // the callback's now
            return fresh;
        }
        s_->armed.erase(handle);
        if (err == -ENOENT)  // signalled since: not pending
            *st = ucore_fence_status(f);
    } catch (const std::bad_alloc&) {
    }
    return nullptr;
}

// fence_state(), under g_core taken by @until (else ETIME: a slice holds
// it); a pending fence gets its waiter in *@w (none where memory for one
// ran out: the caller polls).
int CoreClient::watch(uint32_t handle, std::chrono::steady_clock::time_point until,
                      std::shared_ptr<FenceWaiter>* w, int* st, bool* none) {
    CoreLock g(until);
    if (!g.owns())
        return ETIME;
    if (int err = fence_state(handle, st, none))
        return err;
    if (*none || *st)
        return 0;
    *w = arm(handle, s_->syncobjs.find(handle)->second, st);
    return 0;
}

// Waits as drmSyncobjWait(WAIT_FOR_SUBMIT), without g_core: a pending
// fence's waiter wakes it (a fence already watched needs no g_core at
// all); a syncobj with no fence yet waits for a SUBMIT.  ETIME at
// @abs_ns, also when a slice holds g_core until then.
int CoreClient::syncobj_wait(uint32_t handle, int64_t abs_ns) {
    CoreHost::Impl& h = *host_->impl_;
    auto until = deadline(abs_ns);
    try {
        for (;;) {
            std::shared_ptr<FenceWaiter> w;
            {
                std::lock_guard<std::mutex> a(s_->armed_m);
                if (auto it = s_->armed.find(handle); it != s_->armed.end())
                    w = it->second;
            }
            if (w) {
                if (!w->wait(until))
                    return ETIME;
                vgpu::latency::stamp("core: woken");
                return 0;
            }
            uint64_t submits;
            {
                // Read before the look: a SUBMIT after it counts.
                std::lock_guard<std::mutex> g(h.m);
                submits = h.submits;
            }
            int st = 0;
            bool none = false;
            if (int err = watch(handle, until, &w, &st, &none))
                return err;
            if (st)
                return 0;
            if (w)
                return w->wait(until) ? 0 : ETIME;
            if (!none) {  // no memory for a waiter: poll
                if (std::chrono::steady_clock::now() >= until)
                    return ETIME;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            std::unique_lock<std::mutex> g(h.m);
            if (!h.submitted.wait_until(g, until, [&] { return h.submits != submits; }))
                return ETIME;
        }
    } catch (const std::exception&) {
        return ENOMEM;
    }
}

// As the sync file DRM exports: EINVAL while the syncobj has no fence.
int CoreClient::syncobj_status(uint32_t handle, int* status) {
    {
        // A fence a wait saw signal (the waiter armed on the syncobj's
        // current fence, SUBMIT disarms it): no g_core, which the next
        // slice may hold.
        std::lock_guard<std::mutex> a(s_->armed_m);
        if (auto it = s_->armed.find(handle);
            it != s_->armed.end() && it->second->done.load(std::memory_order_acquire)) {
            *status = it->second->status.load(std::memory_order_relaxed);
            return 0;
        }
    }
    bool none = false;
    if (int err = CoreHost::Impl::direct([&] { return fence_state(handle, status, &none); }))
        return err;
    return none ? EINVAL : 0;
}

}  // namespace gpuvm::ucore
