// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Launches of the CUDA back end over the fake libcuda (fake_cuda.hpp):
// the translation cache under preempted launches, the fault record
// between launches of different contexts.  The translator's own tests
// are in test_ptx.cpp.
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "cuda_api.hpp"
#include "fake_cuda.hpp"
#include "ptx.hpp"
#include "vgpu/asm.hpp"

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_pt.h"
}

namespace {

using namespace vgpu::engine;
using vgpu::engine::test::FakeCuda;
using vgpu::engine::test::LaunchCall;
using vgpu::engine::test::SlowJit;

constexpr uint64_t kCode = 0x100000;

// Arguments of a translated launch (ptx.hpp): p0..p7, pt, ctl, stop, ...
uint64_t arg(const LaunchCall& c, int i) { return *static_cast<uint64_t*>(c.args[i]); }
uint32_t* stop_word(const LaunchCall& c) { return reinterpret_cast<uint32_t*>(arg(c, 10)); }
LaunchCtl* ctl(const LaunchCall& c) { return reinterpret_cast<LaunchCtl*>(arg(c, 9)); }
// As if the slice ended while launch @c ran and one of its blocks saved
// its state part way.
void preempted_part_way(const LaunchCall& c) {
    *stop_word(c) = kStopPreempt;
    ctl(c)->saved = 1;
}

// A context with @src assembled at kCode (device memory, R+X).
void context(Backend& be, uint64_t ctx, uint64_t mem, const std::string& src) {
    auto img = vgpu::assemble(src);
    ASSERT_EQ(be.ctx_create(ctx, 0), 0);
    ASSERT_EQ(be.mem_alloc(mem, 4096), 0);
    ASSERT_EQ(be.mem_write(mem, 0, img.code.data(), img.code.size() * 8), 0);
    Backing b;
    b.mem = mem;
    ASSERT_EQ(be.map(ctx, kCode, 4096, VGPU_PTE_R | VGPU_PTE_X, b), 0);
}

Job job_of(uint32_t threads) {
    Job j;
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_LAUNCH;
    c.src = kCode;
    c.grid[0] = c.grid[1] = c.grid[2] = 1;
    c.block[0] = threads;
    c.block[1] = c.block[2] = 1;
    j.cmds = {c};
    return j;
}

struct CacheMax {
    explicit CacheMax(const char* n) { setenv("VGPU_ENGINED_CACHE_MAX", n, 1); }
    ~CacheMax() { unsetenv("VGPU_ENGINED_CACHE_MAX"); }
};

// A sliced launch preempted inside its block keeps its module loaded
// while other launches push the cache past its limit (on the GPU the
// resumed chunk called a function of an unloaded module).
TEST(CudaLaunch, EvictionSparesModulesOfPreemptedLaunches) {
    FakeCuda fake;
    CacheMax small("4");
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    context(*be, 1, 100, ".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n");
    context(*be, 2, 200, ".kernel e\n exit\n");
    fake.on_launch = [](const LaunchCall& c) {
        preempted_part_way(c);
        return cu::CUDA_SUCCESS;
    };
    Job sliced = job_of(64);
    for (int i = 0; i < 1000 && fake.launches.empty(); i++)
        EXPECT_EQ(be->run(1, sliced, 1000000, 60000000000ull).status, RunStatus::Preempted);
    ASSERT_FALSE(fake.launches.empty());
    fake.on_launch = nullptr;
    for (uint32_t t = 1; t <= 12; t++) {  // each block size is a translation of its own
        Job j = job_of(t);
        EXPECT_EQ(be->run(2, j, ~0ull, 60000000000ull).status, RunStatus::Done) << t;
    }
    EXPECT_LE(fake.modules_live(), 5u);  // the others were evicted
    fake.on_launch = [](const LaunchCall&) { return cu::CUDA_SUCCESS; };
    EXPECT_EQ(be->run(1, sliced, 1000000, 60000000000ull).status, RunStatus::Done);
    EXPECT_EQ(fake.errors(), "");
}

// A fault recorded by one launch whose report was lost (the stop word
// did not say it) must not be reported by the next launch, of another
// context: the record starts empty at every launch.
TEST(CudaLaunch, FaultRecordIsResetForEveryLaunch) {
    FakeCuda fake;
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    context(*be, 1, 100, ".kernel k\n exit\n");
    context(*be, 2, 200, ".kernel k\n exit\n");
    fake.on_launch = [](const LaunchCall& c) {
        *ctl(c) = LaunchCtl{0, 0xdead000, VGPU_FAULT_PERM, 0, 0, 0, 0, 0};  // written, never announced
        return cu::CUDA_SUCCESS;
    };
    Job a = job_of(32);
    EXPECT_EQ(be->run(1, a, ~0ull, 60000000000ull).status, RunStatus::Done);
    fake.on_launch = [](const LaunchCall& c) {
        EXPECT_EQ(ctl(c)->fault_key, ~0ull);
        EXPECT_EQ(ctl(c)->fault_addr, 0u);
        EXPECT_EQ(ctl(c)->abort, 0u);
        *stop_word(c) = kStopFault;  // a thread that lost the race for the record
        return cu::CUDA_SUCCESS;
    };
    Job b = job_of(32);
    RunResult r = be->run(2, b, ~0ull, 60000000000ull);
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_NE(r.fault_addr, 0xdead000u);
    EXPECT_EQ(fake.errors(), "");
}

// A block may use VGPU_MAX_SHARED (49 KiB): the driver is asked for the
// dynamic shared memory beyond its default 48 KiB, as it must be.
TEST(CudaLaunch, ABlockGetsAllOfItsSharedMemory) {
    FakeCuda fake;
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    context(*be, 1, 100, ".kernel k\n exit\n");
    unsigned seen = 0;
    fake.on_launch = [&](const LaunchCall& c) {
        seen = c.shared;
        return cu::CUDA_SUCCESS;
    };
    Job a = job_of(32);
    a.cmds[0].shared_size = VGPU_MAX_SHARED;
    EXPECT_EQ(be->run(1, a, ~0ull, 60000000000ull).status, RunStatus::Done);
    EXPECT_EQ(seen, unsigned{VGPU_MAX_SHARED});
    EXPECT_EQ(fake.errors(), "");
}

// The threads read the stop word's copy in device memory (LaunchCtl.stop,
// not the host word across the bus at every check point): the host's
// preempt at the end of the slice and its abort at the watchdog reach
// that copy while the kernel runs.
TEST(CudaLaunch, PreemptAndAbortReachTheKernelsCopyOfTheStopWord) {
    FakeCuda fake;
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    context(*be, 1, 100, ".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n");
    LaunchCtl* running = nullptr;
    fake.on_launch = [&](const LaunchCall& c) {
        running = ctl(c);
        EXPECT_EQ(running->stop, kStopRun);
        return cu::CUDA_SUCCESS;
    };
    // The kernel runs until its copy says @want (or 5 s: then it failed).
    auto runs_until = [&](uint32_t want) {
        auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        fake.on_query = [&running, want, end] {
            if (running && running->stop == want) {
                running->saved = want == kStopPreempt;  // its block saved itself
                return cu::CUDA_SUCCESS;
            }
            if (std::chrono::steady_clock::now() >= end)
                return cu::CUDA_SUCCESS;
            return cu::CUDA_ERROR_NOT_READY;
        };
    };
    runs_until(kStopPreempt);
    Job sliced = job_of(64);
    // The first RUNs may end their slices waiting for the JIT.
    for (int i = 0; i < 1000 && !running; i++)
        EXPECT_EQ(be->run(1, sliced, 1000000, 60000000000ull).status, RunStatus::Preempted);
    ASSERT_NE(running, nullptr);
    EXPECT_EQ(running->stop, kStopPreempt);
    EXPECT_EQ(running->abort, 0u);
    running = nullptr;
    runs_until(kStopAbort);
    Job whole = job_of(64);
    EXPECT_EQ(be->run(1, whole, ~0ull, 50000000ull).status, RunStatus::TimedOut);
    ASSERT_NE(running, nullptr);
    EXPECT_EQ(running->stop, kStopAbort);
    EXPECT_EQ(running->abort, 1u);
    fake.on_query = nullptr;
    EXPECT_EQ(fake.errors(), "");
}

// Runs context 1's job of 64 blocks in RUNs of a 1 ms slice until it is
// not preempted (the first RUNs may wait for the JIT).
RunResult run_sliced(Backend& be) {
    Job sliced = job_of(64);
    RunResult r;
    for (int i = 0; i < 1000; i++) {
        r = be.run(1, sliced, 1000000, 60000000000ull);
        if (r.status != RunStatus::Preempted)
            break;
    }
    return r;
}

// A preempt that came after the chunk's last check point (no block saved
// its state) leaves the chunk done: the launch goes on to its next chunk.
// On the H200 a 4M-element vecadd in 20 us slices relaunched its first
// chunk 4.4 million times (each relaunch preempted while it skipped its
// finished blocks) until the watchdog ended it.
TEST(CudaLaunch, LatePreemptDoesNotRepeatAFinishedChunk) {
    FakeCuda fake;
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    context(*be, 1, 100, ".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n");
    fake.on_launch = [](const LaunchCall& c) {
        *stop_word(c) = kStopPreempt;  // every block had finished
        return cu::CUDA_SUCCESS;
    };
    RunResult r = run_sliced(*be);
    EXPECT_EQ(r.status, RunStatus::Done);
    EXPECT_EQ(fake.launches.size(), 1u);
    EXPECT_EQ(fake.errors(), "");
}

// Only resumable kernels get a save area when sliced: not one with a
// barrier, nor one with a warp-collective instruction (a thread saving
// itself alone would leave its warp's group).
TEST(CudaLaunch, OnlyResumableKernelsSaveThemselves) {
    const std::pair<const char*, bool> kernels[] = {
        {".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n", true},
        {".kernel k\nloop:\n shfl.idx r1, r1, r0, r0, r2\n bra loop\n", false},
        {".kernel k\nloop:\n vote.any r1, r1, r2\n bra loop\n", false},
        {".kernel k\nloop:\n bar\n bra loop\n", false},
    };
    for (auto [src, resumable] : kernels) {
        FakeCuda fake;
        auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
        context(*be, 1, 100, src);
        uint64_t save = 1;
        int launches = 0;
        fake.on_launch = [&](const LaunchCall& c) {
            save = arg(c, 16);
            launches++;
            return cu::CUDA_SUCCESS;
        };
        RunResult r = run_sliced(*be);
        EXPECT_EQ(r.status, RunStatus::Done) << src;
        EXPECT_EQ(launches, 1) << src;
        EXPECT_EQ(save != 0, resumable) << src;
        EXPECT_EQ(fake.errors(), "");
    }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The JIT runs on its own thread: a RUN waits for it a slice at most; the
// watchdog, counting that wait, ends the job as a hang; meanwhile a cached
// kernel of another job runs; the program is not compiled again when
// resubmitted; a job waiting for another's compile is not charged and
// waits kJitWaitNs at most in one RUN.
TEST(CudaLaunch, JitIsBoundedByTheSliceAndTheWatchdog) {
    using clock = std::chrono::steady_clock;
    FakeCuda fake;
    SlowJit slow(fake);
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    context(*be, 1, 100, ".kernel k\n exit\n");
    context(*be, 2, 200, ".kernel k\n li r1, 1\n exit\n");
    context(*be, 3, 300, ".kernel k\n li r1, 2\n exit\n");
    Job cached = job_of(32);
    ASSERT_EQ(be->run(1, cached, ~0ull, 300000000).status, RunStatus::Done);
    slow.close();
    Job j = job_of(32);
    RunResult r;
    int runs = 0;
    auto t0 = clock::now();
    do {
        auto t = clock::now();
        r = be->run(2, j, 10000000, 300000000);  // 10 ms slices, 300 ms watchdog
        // Bounds generous for a loaded machine: what matters is that no RUN
        // waits for the compile (60 s here) beyond kJitWaitNs.
        EXPECT_LT(seconds_since(t), 2.5) << "RUN " << runs;
        Job other = job_of(32);
        EXPECT_EQ(be->run(1, other, 10000000, 300000000).status, RunStatus::Done);
    } while (r.status == RunStatus::Preempted && ++runs < 1000);
    EXPECT_EQ(r.status, RunStatus::TimedOut);
    EXPECT_GE(seconds_since(t0), 0.29);
    EXPECT_LT(seconds_since(t0), 20.0);
    EXPECT_EQ(slow.calls(), 2);  // the cached kernel's and this one's
    // Resubmitted: a hang at once, no second compile.
    Job again = job_of(32);
    auto t1 = clock::now();
    EXPECT_EQ(be->run(2, again, 10000000, 300000000).status, RunStatus::TimedOut);
    EXPECT_LT(seconds_since(t1), 1.0);
    // Another program while the abandoned compile holds the JIT: one RUN
    // waits kJitWaitNs at most, uncharged (no watchdog: its own budget).
    Job third = job_of(32);
    auto t2 = clock::now();
    EXPECT_EQ(be->run(3, third, ~0ull, 100000000).status, RunStatus::Preempted);
    EXPECT_GE(seconds_since(t2), 1.9);
    EXPECT_LT(seconds_since(t2), 20.0);
    EXPECT_EQ(third.cmd_busy_ns, 0u);
    slow.open();
    for (int i = 0; i < 100; i++) {
        r = be->run(3, third, 10000000, 1000000000);
        if (r.status != RunStatus::Preempted)
            break;
    }
    EXPECT_EQ(r.status, RunStatus::Done);
    EXPECT_EQ(slow.calls(), 3);
    be.reset();
    EXPECT_EQ(fake.modules_live(), 0u);  // the abandoned compile's module unloaded too
    EXPECT_EQ(fake.errors(), "");
}

// A sliced launch resumed after the guest put other code at its entry
// faults ILLEGAL there rather than resume the old translation.
TEST(CudaLaunch, ResumedLaunchWithChangedCodeFaults) {
    FakeCuda fake;
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    context(*be, 1, 100, ".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n");
    fake.on_launch = [](const LaunchCall& c) {
        preempted_part_way(c);
        return cu::CUDA_SUCCESS;
    };
    Job sliced = job_of(64);
    // Until it launched (the first RUNs may end their slices waiting for the JIT).
    for (int i = 0; i < 1000 && fake.launches.empty(); i++)
        ASSERT_EQ(be->run(1, sliced, 1000000, 60000000000ull).status, RunStatus::Preempted);
    ASSERT_FALSE(fake.launches.empty());
    auto img = vgpu::assemble(".kernel k\nloop:\n addi r1, r1, 2\n bra loop\n");
    ASSERT_EQ(be->mem_write(100, 0, img.code.data(), img.code.size() * 8), 0);
    size_t launches = fake.launches.size();
    RunResult r = be->run(1, sliced, 1000000, 60000000000ull);
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_kind, uint32_t{VGPU_FAULT_ILLEGAL});
    EXPECT_EQ(r.fault_addr, kCode);
    EXPECT_EQ(fake.launches.size(), launches);
    EXPECT_EQ(fake.errors(), "");
}

// Staged host memory mapped read-only is not copied back after a RUN: the
// guest CPU's writes during the RUN stay.
TEST(CudaLaunch, StagedReadOnlyPagesAreNotCopiedBack) {
    FakeCuda fake;
    setenv("VGPU_ENGINED_STAGE_HOST", "1", 1);
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    unsetenv("VGPU_ENGINED_STAGE_HOST");
    context(*be, 1, 100, ".kernel k\n exit\n");
    void* m = mmap(nullptr, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(m, MAP_FAILED);
    auto* h = static_cast<uint8_t*>(m);
    Backing b;
    b.host = h;
    ASSERT_EQ(be->map(1, 0x200000, 4096, VGPU_PTE_R, b), 0);
    b.host = h + 4096;
    ASSERT_EQ(be->map(1, 0x201000, 4096, VGPU_PTE_R | VGPU_PTE_W, b), 0);
    fake.on_launch = [h](const LaunchCall&) {
        h[0] = 0x77;  // the guest CPU writes while the RUN runs
        return cu::CUDA_SUCCESS;
    };
    Job j = job_of(32);
    EXPECT_EQ(be->run(1, j, ~0ull, 60000000000ull).status, RunStatus::Done);
    EXPECT_EQ(h[0], 0x77);
    be.reset();
    munmap(m, 2 * 4096);
    EXPECT_EQ(fake.errors(), "");
}

}  // namespace
