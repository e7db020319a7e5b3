// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// interp_backend.cpp - the interpreter as an engine process back end:
// the same code vgpu-sim runs in the kernel (common/vgpu_interp.c,
// common/vgpu_pt.c), on device memory that is one block of this
// process's memory, or (in a worker, worker.hpp) memory the engine
// process shares with it.  It lets the test bed, which has no GPU, run
// the whole path from a guest through vgpu-back and the bridge to a
// process.
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

extern "C" {
#include "vgpu_interp.h"
}
#include "arena.hpp"
#include "backend.hpp"

namespace vgpu::engine {
namespace {

constexpr uint64_t kChunk = 1u << 16;         // interpreter work units per step
constexpr uint64_t kMemChunk = 64 * 1024;     // bytes per copy/fill step

struct Launch {
    vgpu_launch l{};
    bool live = false;
    ~Launch() {
        if (live)
            vgpu_launch_fini(&l);
    }
};

struct Pt {
    vgpu_pt pt;
    Pt() { vgpu_pt_init(&pt); }
    ~Pt() { vgpu_pt_fini(&pt); }
    Pt(const Pt&) = delete;
    Pt& operator=(const Pt&) = delete;
};

class InterpBackend final : public Backend {
public:
    // @size 0: no memory of its own (a worker's: it imports the memory
    // its engine process shares).
    explicit InterpBackend(uint64_t size) : size_(size), arena_(size) {
        if (!size)
            return;
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            throw std::runtime_error("interp: cannot reserve device memory");
        vram_ = static_cast<uint8_t*>(p);
    }
    ~InterpBackend() override {
        ctxs_.clear();
        for (auto& [id, m] : mems_)
            if (m.imported)
                munmap(m.p, m.size);
        if (vram_)
            munmap(vram_, size_);
    }
    std::string name() const override { return "interp"; }
    uint64_t mem_size() const override { return size_; }

    int ctx_create(uint64_t ctx, uint64_t) override {
        if (ctxs_.count(ctx))
            return EEXIST;
        ctxs_.emplace(ctx, std::make_unique<Pt>());
        return 0;
    }
    void ctx_destroy(uint64_t ctx) override { ctxs_.erase(ctx); }
    int mem_alloc(uint64_t mem, uint64_t size) override {
        if (mems_.count(mem))
            return EEXIST;
        auto off = size_ ? arena_.alloc(size) : std::nullopt;
        if (!off)
            return ENOSPC;
        std::memset(vram_ + *off, 0, size);   // zeroed for each new owner
        mems_[mem] = {vram_ + *off, size, false};
        return 0;
    }
    // One piece: a memfd of the engine process (make_memfd_memory).
    int mem_import(uint64_t mem, int fd, uint64_t size, uint64_t piece) override {
        struct stat st;
        if (mems_.count(mem))
            return EEXIST;
        if (piece || fstat(fd, &st) < 0 || !size || static_cast<uint64_t>(st.st_size) < size)
            return EINVAL;
        void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            return errno;
        try {
            mems_[mem] = {static_cast<uint8_t*>(p), size, true};
        } catch (...) {
            munmap(p, size);
            throw;
        }
        return 0;
    }
    void mem_free(uint64_t mem) override {
        auto it = mems_.find(mem);
        if (it == mems_.end())
            return;
        if (it->second.imported)
            munmap(it->second.p, it->second.size);
        else
            arena_.free(static_cast<uint64_t>(it->second.p - vram_));
        mems_.erase(it);
    }
    int map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) override {
        auto c = ctxs_.find(ctx);
        if (c == ctxs_.end())
            return ENOENT;
        uint8_t* host = b.host;
        if (!host) {
            auto m = mems_.find(b.mem);
            if (m == mems_.end() || b.offset > m->second.size || size > m->second.size - b.offset)
                return EINVAL;
            host = m->second.p + b.offset;
        }
        return -vgpu_pt_map(&c->second->pt, va, host, size, perms);
    }
    void unmap(uint64_t ctx, uint64_t va, uint64_t size) override {
        auto c = ctxs_.find(ctx);
        // vgpu_pt_unmap() takes a range inside the address space (the
        // bridge passes the module's request as it came).
        if (c != ctxs_.end() && va < VGPU_VA_SIZE)
            vgpu_pt_unmap(&c->second->pt, va, std::min<uint64_t>(size, VGPU_VA_SIZE - va));
    }
    RunResult run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) override;
    int mem_read(uint64_t mem, uint64_t off, void* dst, uint64_t size) override {
        auto m = mems_.find(mem);
        if (m == mems_.end() || off > m->second.size || size > m->second.size - off)
            return EINVAL;
        std::memcpy(dst, m->second.p + off, size);
        return 0;
    }
    int mem_write(uint64_t mem, uint64_t off, const void* src, uint64_t size) override {
        auto m = mems_.find(mem);
        if (m == mems_.end() || off > m->second.size || size > m->second.size - off)
            return EINVAL;
        std::memcpy(m->second.p + off, src, size);
        return 0;
    }

private:
    StepResult step(const vgpu_pt* pt, Job& job, const drm_vgpu_cmd& cmd, uint64_t* addr, uint32_t* kind);

    uint64_t size_;
    Arena arena_;
    uint8_t* vram_ = nullptr;
    std::map<uint64_t, std::unique_ptr<Pt>> ctxs_;
    struct Mem {
        uint8_t* p;     // its first byte
        uint64_t size;
        bool imported;  // mmap()ed from a descriptor; else in vram_
    };
    std::map<uint64_t, Mem> mems_;
    uint64_t units_ = 0;
};

// One bounded step: the interpreter engines' step (common/vgpu_run.c),
// the launch's state kept in the job between RUNs.
StepResult InterpBackend::step(const vgpu_pt* pt, Job& job, const drm_vgpu_cmd& cmd, uint64_t* addr,
                               uint32_t* kind) {
    vgpu_launch* l = nullptr;
    if (cmd.op == DRM_VGPU_CMD_LAUNCH) {
        auto st = std::static_pointer_cast<Launch>(job.state);
        if (!st) {
            st = std::make_shared<Launch>();
            if (vgpu_launch_start(&st->l, &cmd)) {
                *kind = DRM_VGPU_FAULT_ILLEGAL;
                *addr = cmd.src;
                return StepResult::Fault;
            }
            st->live = true;
            job.state = st;
        }
        l = &st->l;
    }
    vgpu_run run{};
    run.cmd_done = job.cmd_done;
    u64 n = 0;
    vgpu_step r = vgpu_interp_step(pt, &run, &cmd, l, kChunk, kMemChunk, &n);
    units_ += n;
    job.cmd_done = run.cmd_done;
    *addr = run.fault_addr;
    *kind = run.fault_kind;
    return r == VGPU_STEP_DONE ? StepResult::Done : r == VGPU_STEP_MORE ? StepResult::More : StepResult::Fault;
}

// The shared run loop (run_steps(), vgpu-sim's), in this process.
RunResult InterpBackend::run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) {
    RunResult res;
    auto c = ctxs_.find(ctx);
    uint64_t start = now_ns(), units = units_;

    if (c == ctxs_.end()) {
        res.status = RunStatus::Faulted;
        res.fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
        return res;
    }
    res = run_steps(job, budget_ns, watchdog_ns, false, [&](const drm_vgpu_cmd& cmd, uint64_t* addr, uint32_t* kind) {
        return step(&c->second->pt, job, cmd, addr, kind);
    });
    res.busy_ns = now_ns() - start;
    res.units = units_ - units;
    return res;
}

}  // namespace

std::unique_ptr<Backend> make_interp_backend(uint64_t mem_size) {
    return std::make_unique<InterpBackend>(mem_size);
}

}  // namespace vgpu::engine
