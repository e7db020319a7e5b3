// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend_engine.cpp - the "engine" backends (backend.hpp): one of
// vgpu-engined's back ends (tools/vgpu-engined/backend.hpp) with no
// kernel module and no Xen:
//   engine         an NVIDIA GPU through libcuda.so.1 (the engine's cuda
//                  back end: ISA translated to PTX, run by NVIDIA's
//                  driver), in this process; GPUVM_CUDA_DEVICE picks the
//                  GPU (default 0);
//   engine-interp  the engine's interpreter back end, in this process;
//   engine-workers, engine-interp-workers
//                  the same back ends in worker processes of vgpu-engined
//                  (GPUVM_CUDA_ENGINED names it, else PATH), driven by
//                  its Router as vgpu-uengine.ko drives it: the context's
//                  device memory at its own addresses in the worker's GPU
//                  address space, so that a launch's PTX runs as itself
//                  there (engines.rst "The guest's own PTX"); this process
//                  holds the device memory, as the engine process does.
// They exist to compare GPUvm's whole compile and engine path with
// NVIDIA's on a GPU machine, where there is no vGPU; the render node
// (vgpu) is how programs reach a GPU in a guest or dom0.  vgpu-back's
// core is not on this path (Documentation/engines.rst says what that
// leaves out).
//
// One context; each allocation is device memory of the engine, or host
// memory of this process mapped into the context (the engine registers or
// stages it; with workers, a window of a memfd they map).  Work runs when
// it is queued: each copy, fill or launch is a job run in slices until it
// ends; a fault or hang is kept and reported by the next synchronize(),
// as the vgpu backend does.
#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include <optional>

#include "backend.hpp"  // the runtime's (this directory)
#include "vgpu/va_space.hpp"
#include "engine_env.hpp"
#include "host.hpp"  // tools/ucore
// vgpu-engined's back-end interface (namespace vgpu::engine) and its
// Router with workers.
#include "../../vgpu-engined/backend.hpp"
#include "../../vgpu-engined/cuda_native.hpp"
#include "../../vgpu-engined/router.hpp"

extern "C" {
#include "vgpu_pt.h"
}

namespace gpuvm::cudart {
namespace {

using ucore::EngineThread;
using ucore::HostWindows;
using ucore::make_worker_engine;

constexpr uint64_t kCtx = 1;
constexpr uint64_t kVaStart = 0x10000000;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kSliceNs = 50'000'000;  // one RUN of the job
// With workers, allocations are whole pieces of the GPU's mapping
// granularity at addresses aligned to it (2 MiB on NVIDIA's GPUs; what
// vgpu-uengine announces for a GPU), so that a worker maps each at the
// context's address of its first byte (CudaBackend::mirror).
constexpr uint64_t kWorkerGranule = uint64_t{2} << 20;

// A launch longer than this is stopped as hung (GPUVM_CUDA_WATCHDOG_MS,
// 60 s by default): the engine's watchdog, as vgpu-sim's watchdog_ms.
uint64_t watchdog_ns() { return engine_watchdog_ms(60000) * 1000000ull; }

struct Unmapper {
    size_t bytes;
    HostWindows* windows = nullptr;  // the window's, if it is one
    uint64_t off = 0;
    void operator()(void* p) const {
        if (windows)
            windows->give_back(p, bytes, off);
        else
            munmap(p, bytes);
    }
};

class EngineBackend : public Backend {
public:
    // Makes the back end; with workers, @windows_fd is the descriptor
    // their host memory comes from (-1 without).
    using Factory = std::function<std::unique_ptr<vgpu::engine::Backend>(int windows_fd)>;
    // @workers: host memory in windows, allocations in 2 MiB granules;
    // @ptx: the back end runs a launch's PTX (runs_ptx()); @gpu: its ISA
    // is translated for the GPU (translates_isa()).
    EngineBackend(const Factory& make, std::string what, VaRange range, bool workers, bool ptx, bool gpu)
        : what_(std::move(what)), watchdog_(watchdog_ns()),
          granule_(workers ? kWorkerGranule : kPage), va_(range.start, range.end, granule_), ptx_(ptx), gpu_(gpu) {
        engine_.call([&] {
            if (workers)
                windows_ = std::make_unique<HostWindows>();
            be_ = make(windows_ ? windows_->fd() : -1);
            mem_size_ = be_->mem_size();
            max_stack_ = be_->max_stack();
            if (int e = be_->ctx_create(kCtx, 0)) {
                be_.reset();  // here, on the thread its CUDA context belongs to
                throw std::runtime_error(what_ + ": cannot create a context: " + std::strerror(e));
            }
        });
    }
    ~EngineBackend() override {
        engine_.call([this] {
            blocks_.clear();  // unmapped while the back end lives
            try {
                if (be_)
                    be_->ctx_destroy(kCtx);
            } catch (const std::exception&) {
                // A lost back end: nothing of this process to give back.
            }
            be_.reset();
        });
    }

    std::string name() const override { return "engine"; }
    std::string device_name() const override { return what_; }
    uint64_t total_memory() const override { return mem_size_; }
    uint64_t used_memory() const override { return used_; }
    bool runs_ptx() const override { return ptx_; }
    // As vgpu-engined would give it: the back end's largest
    // (VGPU_PTX_STACK_KB in this environment lowers it), charged to no
    // quota in this process.
    uint32_t ptx_stack() const override { return ptx_ && max_stack_ ? stack_ : 0; }
    uint32_t max_ptx_stack() const override { return ptx_ ? max_stack_ : 0; }
    int raise_stack(uint32_t bytes) override {
        if (!ptx_stack() || bytes > max_stack_)
            return ptx_stack() ? EINVAL : EOPNOTSUPP;
        const uint32_t want = std::bit_ceil(std::max(bytes, DRM_VGPU_PTX_BASE_STACK));
        if (want <= stack_)
            return 0;
        const int e = engine_.call([&] { return be_->ctx_stack(kCtx, want); });
        if (!e)
            stack_ = want;
        return e;
    }
    bool translates_isa() const override { return gpu_; }

    // Each runs on the engine's thread.
    uint64_t alloc(size_t size, bool host, void** cpu, bool exec, bool gpu_writes) override {
        return engine_.call([&] { return alloc_here(size, host, cpu, exec, gpu_writes); });
    }
    void free(uint64_t va) override {
        engine_.call([&] { free_here(va); });
    }
    void write(uint64_t va, const void* src, size_t n) override {
        engine_.call([&] { write_here(va, src, n); });
    }
    void read(uint64_t va, void* dst, size_t n) override {
        engine_.call([&] { read_here(va, dst, n); });
    }
    // Copies and fills after a fault fail at once; launches are dropped
    // (the context is dead) and the next synchronize() reports the fault,
    // as the interp backend does.
    void copy(uint64_t dst, uint64_t src, size_t n) override {
        check_sticky();
        drm_vgpu_cmd c{};
        c.op = DRM_VGPU_CMD_COPY;
        c.dst = dst;
        c.src = src;
        c.size = n;
        engine_.call([&] { run(c); });
    }
    void fill(uint64_t va, size_t n, uint32_t pattern) override {
        check_sticky();
        drm_vgpu_cmd c{};
        c.op = DRM_VGPU_CMD_FILL;
        c.dst = va;
        c.size = n;
        c.value = pattern;
        engine_.call([&] { run(c); });
    }
    void launch(const LaunchDesc& d) override {
        drm_vgpu_cmd c = launch_cmd(d);
        engine_.call([&] { run(c); });
    }
    void synchronize() override { check_sticky(); }

private:
    uint64_t alloc_here(size_t size, bool host, void** cpu, bool exec, bool gpu_writes) {
        if (size > VGPU_VA_SIZE)
            throw OutOfMemory(what_ + ": out of GPU addresses");
        uint64_t bytes = (std::max<uint64_t>(size, 1) + granule_ - 1) & ~(granule_ - 1);
        // A guard granule after it: overruns fault.  Given back with it.
        std::optional<uint64_t> at = va_.take(bytes + granule_);
        if (!at)
            throw OutOfMemory(what_ + ": out of GPU addresses");
        struct Addresses {
            vgpu::VaSpace* va;
            uint64_t at, n;
            ~Addresses() {
                if (va)
                    va->give_back(at, n);
            }
        } addresses{&va_, *at, bytes + granule_};
        std::unique_ptr<void, Unmapper> hostmem(nullptr, Unmapper{bytes});
        uint64_t mem = 0;
        vgpu::engine::Backing back;
        if (host && windows_) {
            uint64_t off = 0;
            void* p = windows_->take(bytes, &off);
            if (!p)
                throw OutOfMemory(what_ + ": out of host memory windows");
            hostmem = std::unique_ptr<void, Unmapper>(p, Unmapper{bytes, windows_.get(), off});
            back.host = static_cast<uint8_t*>(p);
            back.fd = windows_->fd();
            back.fd_offset = off;
        } else if (host) {
            void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                throw OutOfMemory(what_ + ": out of host memory");
            hostmem.reset(p);
            back.host = static_cast<uint8_t*>(p);
        } else {
            mem = next_id_++;
            if (be_->mem_alloc(mem, bytes))
                throw OutOfMemory(what_ + ": out of device memory");
            back.mem = mem;
        }
        uint32_t perms = VGPU_PTE_R | (gpu_writes ? VGPU_PTE_W : 0) | (exec ? VGPU_PTE_X : 0);
        if (int e = be_->map(kCtx, *at, bytes, perms, back)) {
            if (mem)
                be_->mem_free(mem);
            throw OutOfMemory(what_ + ": cannot map: " + std::strerror(e));
        }
        uint64_t va = *at;
        if (mem)
            used_ += bytes;  // device memory only, as NVIDIA's runtime counts
        if (cpu)
            *cpu = hostmem.get();
        blocks_.emplace(va, Block(this, va, bytes, mem, std::move(hostmem)));
        addresses.va = nullptr;  // the block's now
        return va;
    }

    void free_here(uint64_t va) {
        auto it = blocks_.find(va);
        if (it == blocks_.end())
            return;
        if (it->second.mem)
            used_ -= it->second.bytes;
        uint64_t bytes = it->second.bytes;
        blocks_.erase(it);  // unmapped: every job has run (run() waits)
        va_.give_back(va, bytes + granule_);
    }

    void write_here(uint64_t va, const void* src, size_t n) {
        check_sticky();
        auto [b, off] = find(va, n);
        if (b->host)
            std::memcpy(static_cast<uint8_t*>(b->host.get()) + off, src, n);
        else if (windows_)
            staged(va, src, nullptr, n);
        else if (int e = be_->mem_write(b->mem, off, src, n))
            throw std::runtime_error(what_ + ": write: " + std::strerror(e));
    }
    void read_here(uint64_t va, void* dst, size_t n) {
        check_sticky();
        auto [b, off] = find(va, n);
        if (b->host)
            std::memcpy(dst, static_cast<uint8_t*>(b->host.get()) + off, n);
        else if (windows_)
            staged(va, nullptr, dst, n);
        else if (int e = be_->mem_read(b->mem, off, dst, n))
            throw std::runtime_error(what_ + ": read: " + std::strerror(e));
    }

    // With workers, device memory is written and read as a guest's
    // runtime does it (libvgpu's Buffer::write and read): through host
    // memory of its own, which the engine copies from or to (a COPY run
    // by the worker).  vgpu-uengine's engine process has no other way in.
    // @src: the bytes to write at @va; else @dst: where to read @n bytes.
    void staged(uint64_t va, const void* src, void* dst, size_t n) {
        void* cpu = nullptr;
        uint64_t host = alloc_here(n, true, &cpu, false, true);
        struct Free {
            EngineBackend* be;
            uint64_t va;
            ~Free() { be->free_here(va); }
        } gone{this, host};
        if (src)
            std::memcpy(cpu, src, n);
        drm_vgpu_cmd c{};
        c.op = DRM_VGPU_CMD_COPY;
        c.dst = src ? va : host;
        c.src = src ? host : va;
        c.size = n;
        run(c);
        check_sticky();
        if (dst)
            std::memcpy(dst, cpu, n);
    }

    // An allocation, mapped at va until it is destroyed.
    struct Block {
        EngineBackend* owner;  // null once moved from
        uint64_t va, bytes;
        uint64_t mem;  // device memory id, 0 for host memory
        std::unique_ptr<void, Unmapper> host;
        Block(EngineBackend* o, uint64_t v, uint64_t n, uint64_t m, std::unique_ptr<void, Unmapper> h)
            : owner(o), va(v), bytes(n), mem(m), host(std::move(h)) {}
        Block(Block&& o) noexcept
            : owner(std::exchange(o.owner, nullptr)), va(o.va), bytes(o.bytes), mem(o.mem),
              host(std::move(o.host)) {}
        Block(const Block&) = delete;
        Block& operator=(const Block&) = delete;
        Block& operator=(Block&&) = delete;
        ~Block() {
            if (!owner)
                return;
            try {
                owner->be_->unmap(kCtx, va, bytes);  // before the memory goes
                if (mem)
                    owner->be_->mem_free(mem);
            } catch (const vgpu::engine::BackendLost& e) {
                owner->lost(e.what());  // the memory went with the back end's state
            }
        }
    };

    EngineThread engine_;  // first: outlives everything below
    std::unique_ptr<HostWindows> windows_;       // with workers; outlives blocks_
    std::unique_ptr<vgpu::engine::Backend> be_;  // used on engine_'s thread only
    std::string what_;
    uint64_t watchdog_;
    uint64_t mem_size_ = 0;
    // The back end's largest call stack, and the one its context has
    // (ptx_stack()), raised only by raise_stack() (under the runtime's
    // lock, like every call of a backend).
    uint32_t max_stack_ = 0;
    uint32_t stack_ = DRM_VGPU_PTX_BASE_STACK;
    std::map<uint64_t, Block> blocks_;
    const uint64_t granule_;  // of every allocation's size and address
    vgpu::VaSpace va_;        // the GPU addresses handed out
    const bool ptx_, gpu_;
    uint64_t next_id_ = 1, used_ = 0;
    std::string fault_;  // the first fault or hang: sticky
    uint32_t fault_kind_ = 0;
    uint64_t fault_addr_ = 0;

    // One command as a job, run slice after slice until it ends.
    void run(const drm_vgpu_cmd& c) {
        if (!fault_.empty())
            return;  // the context is dead, as on the GPU
        vgpu::engine::Job job;
        job.cmds.push_back(c);
        for (;;) {
            vgpu::engine::RunResult r;
            try {
                r = be_->run(kCtx, job, kSliceNs, watchdog_);
            } catch (const vgpu::engine::BackendLost& e) {
                lost(e.what());
                return;
            }
            if (r.status == vgpu::engine::RunStatus::Done)
                return;
            if (r.status == vgpu::engine::RunStatus::Preempted) {
                // A slice that ran nothing waits for the JIT: do not spin.
                if (r.busy_ns < 1000000)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            char what[160];
            if (r.status == vgpu::engine::RunStatus::TimedOut)
                std::snprintf(what, sizeof(what), "%s: a launch ran past the watchdog (%llu ms)", what_.c_str(),
                              static_cast<unsigned long long>(watchdog_ / 1000000));
            else
                std::snprintf(what, sizeof(what), "%s: GPU fault %u at 0x%llx", what_.c_str(), r.fault_kind,
                              static_cast<unsigned long long>(r.fault_addr));
            fault_ = what;
            fault_kind_ = r.fault_kind;
            fault_addr_ = r.fault_addr;
            return;
        }
    }

    // The back end's state no longer matches the GPU (vgpu-engined's
    // BackendLost): every later call fails, as after a fault.
    void lost(const char* why) {
        if (fault_.empty()) {
            fault_ = what_ + ": the engine lost its state: " + why;
            fault_kind_ = DRM_VGPU_FAULT_ENGINE_LOST;
            fault_addr_ = 0;
        }
    }

    void check_sticky() const {
        if (!fault_.empty())
            throw DeviceFault(fault_, fault_kind_, fault_addr_);
    }

    // The block holding [va, va + n) and the offset of va in it.
    std::pair<Block*, uint64_t> find(uint64_t va, size_t n) {
        auto it = blocks_.upper_bound(va);
        if (it == blocks_.begin())
            throw std::out_of_range("not a GPU address");
        --it;
        if (va - it->first > it->second.bytes || n > it->second.bytes - (va - it->first))
            throw std::out_of_range("outside its allocation");
        return {&it->second, va - it->first};
    }
};

}  // namespace

uint64_t engine_memory() {
    const char* s = std::getenv("GPUVM_CUDA_ENGINE_MB");
    uint64_t mb = s ? std::strtoull(s, nullptr, 10) : 0;
    return (mb ? mb : 2048) << 20;
}

std::string engined_path() {
    if (const char* e = std::getenv("GPUVM_CUDA_ENGINED"); e && *e)
        return e;
    std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
    dirs += ":/usr/sbin:/usr/local/sbin";
    for (size_t a = 0; a <= dirs.size();) {
        size_t b = std::min(dirs.find(':', a), dirs.size());
        std::string path = dirs.substr(a, b - a) + "/vgpu-engined";
        if (b > a && access(path.c_str(), X_OK) == 0)
            return path;
        a = b + 1;
    }
    throw std::runtime_error("the engine's workers need vgpu-engined: none in PATH (GPUVM_CUDA_ENGINED names it)");
}

uint64_t engine_watchdog_ms(uint64_t dflt) {
    const char* s = std::getenv("GPUVM_CUDA_WATCHDOG_MS");
    uint64_t ms = s ? std::strtoull(s, nullptr, 10) : 0;
    return ms ? ms : dflt;
}

int engine_gpu() {
    const char* d = std::getenv("GPUVM_CUDA_DEVICE");
    return d ? std::atoi(d) : 0;
}

std::unique_ptr<Backend> make_engine_backend(const std::string& kind, int index, int count) {
    using vgpu::engine::kSelfTestVaEnd;
    using vgpu::engine::kSelfTestVaStart;
    uint64_t mem = engine_memory();
    bool gpu = kind == "engine" || kind == "engine-workers";
    bool workers = kind == "engine-workers" || kind == "engine-interp-workers";
    int dev = gpu ? engine_gpu() : 0;
    if (workers) {
        // Each context in a worker of vgpu-engined, at the addresses
        // vgpu-uengine gives a GPU's instance (64 GiB .. 1008 GiB).
        VaRange va = device_va_range(kSelfTestVaStart, kSelfTestVaEnd, index, count);
        std::string exe = engined_path();
        std::string what = gpu ? "GPUvm engine (vgpu-engined's cuda workers, GPU " + std::to_string(dev) + ")"
                               : "GPUvm engine (vgpu-engined's interpreter workers)";
        auto make = [=](int windows_fd) { return make_worker_engine(gpu, dev, mem, windows_fd, exe); };
        try {
            return std::make_unique<EngineBackend>(make, what, va, true, gpu, gpu);
        } catch (const vgpu::engine::Unavailable& e) {
            throw std::runtime_error(std::string("the engine's cuda back end is unavailable: ") + e.what());
        }
    }
    VaRange va = device_va_range(kVaStart, VGPU_VA_SIZE, index, count);
    if (!gpu)
        return std::make_unique<EngineBackend>([mem](int) { return vgpu::engine::make_interp_backend(mem); },
                                               "GPUvm engine (vgpu-engined's interpreter, in-process)", va, false,
                                               false, false);
    try {
        return std::make_unique<EngineBackend>([mem, dev](int) { return vgpu::engine::make_cuda_backend(mem, dev); },
                                               "GPUvm engine (vgpu-engined's cuda back end, GPU " +
                                                   std::to_string(dev) + ")",
                                               va, false, false, true);
    } catch (const vgpu::engine::Unavailable& e) {
        throw std::runtime_error(std::string("the engine's cuda back end is unavailable: ") + e.what());
    }
}

}  // namespace gpuvm::cudart
