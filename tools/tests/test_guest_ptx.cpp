// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// A guest's own PTX in a worker of the CUDA back end, over the fake
// driver (fake_cuda.hpp): the context's device memory at its own
// addresses in the window, the descriptor checked, the PTX compiled once
// and launched with its parameters, the ISA where the PTX may not run,
// a GPU exception that loses the worker.  On the GPU: engines.rst "The
// guest's own PTX" (vgpu-engined --self-test -b cuda --workers).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "bridge.hpp"
#include "cuda_api.hpp"
#include "cuda_native.hpp"
#include "fake_cuda.hpp"
#include "router.hpp"
#include "scoped_env.hpp"
#include "ue_requests.hpp"
#include "vgpu/asm.hpp"

namespace {

using namespace vgpu::engine;
using test::FakeCuda;
using test::LaunchCall;
using test::SlowJit;

constexpr uint64_t kMiB = 1 << 20, kWin = uint64_t{64} << 30, kWinEnd = uint64_t{128} << 30;
constexpr uint64_t kCodeVa = kWin, kDataVa = kWin + 2 * kMiB, kDescVa = kWin + 8 * kMiB, kTextVa = kWin + 10 * kMiB;
constexpr uint32_t R = VGPU_PTE_R, W = VGPU_PTE_W, X = VGPU_PTE_X;
constexpr uint64_t kSlice = 10000000, kWatchdog = 200000000;  // run_sliced(): 10 ms, 200 ms

const std::string kPtx = ".version 7.0\n.target sm_70\n.address_size 64\n"
                         ".visible .entry k(.param .u64 p)\n{\n    ret;\n}\n";

// kPtx with a second entry, k2.
const std::string kPtxTwo = kPtx + ".visible .entry k2(.param .u64 p)\n{\n    ret;\n}\n";

// The engine process's memory and a worker's back end with one context
// whose window is [kWin, kWinEnd): ISA at kCodeVa, 4 MiB of data at
// kDataVa, the descriptor's and the text's objects.
struct Worker {
    FakeCuda fake;
    std::unique_ptr<SharedMemory> mem = make_cuda_memory(FakeCuda::api(), 32 * kMiB, 0);
    std::unique_ptr<Backend> be = make_cuda_backend(FakeCuda::api(), 0, 0);

    Worker() {
        be->use_window(kWin, kWinEnd);
        EXPECT_EQ(be->ctx_create(1, 0), 0);
        object(1, 2 * kMiB, kCodeVa, R | X);
        auto img = vgpu::assemble(".kernel k\n    exit\n");
        EXPECT_EQ(mem->write(1, 0, img.code.data(), img.code.size() * 8), 0);
        object(2, 4 * kMiB, kDataVa, R | W);
        object(3, 2 * kMiB, kDescVa, R);
        object(4, 2 * kMiB, kTextVa, R);
    }
    // Memory @id of @size here, imported piece by piece, mapped at @va.
    void object(uint64_t id, uint64_t size, uint64_t va, uint32_t perms) {
        ASSERT_EQ(mem->alloc(id, size), 0);
        uint64_t total = 0, n = mem->pieces(id, &total);
        for (uint64_t i = 0; i < n; i++) {
            vgpu::Fd fd = mem->export_piece(id, i);
            ASSERT_EQ(be->mem_import(id, fd.get(), total, i), 0);
        }
        Backing b;
        b.mem = id;
        ASSERT_EQ(be->map(1, va, size, perms, b), 0);
    }
    // A launch of the ISA at kCodeVa naming entry @entry of @text with an
    // 8-byte parameter @p; @edit changes the descriptor first.
    RunResult launch(const std::string& text, uint64_t p, void (*edit)(drm_vgpu_ptx_launch&) = nullptr,
                     const std::string& entry = "k") {
        Job job;
        job.cmds = {command(text, p, edit, entry)};
        return be->run(1, job, UINT64_MAX, UINT64_MAX);
    }
    // The LAUNCH launch() runs, its descriptor and text written.
    drm_vgpu_cmd command(const std::string& text, uint64_t p, void (*edit)(drm_vgpu_ptx_launch&) = nullptr,
                         const std::string& entry = "k") {
        std::string t = text + '\0';
        mem->write(4, 0, t.data(), t.size());
        drm_vgpu_ptx_launch h{};
        h.magic = DRM_VGPU_PTX_MAGIC;
        h.version = DRM_VGPU_PTX_VERSION;
        h.ptx = kTextVa;
        h.ptx_size = t.size();
        h.ptx_hash = ptx_hash(t.data(), t.size());
        h.entry_len = static_cast<uint32_t>(entry.size());
        h.param_size = 8;
        if (edit)
            edit(h);
        std::vector<uint8_t> d(sizeof(h) + entry.size() + 8);
        std::memcpy(d.data(), &h, sizeof(h));
        std::memcpy(d.data() + sizeof(h), entry.data(), entry.size());
        std::memcpy(d.data() + sizeof(h) + entry.size(), &p, 8);
        mem->write(3, 0, d.data(), d.size());
        drm_vgpu_cmd c{};
        c.op = DRM_VGPU_CMD_LAUNCH;
        c.flags = DRM_VGPU_LAUNCH_PTX;
        c.src = kCodeVa;
        c.dst = kDescVa;
        c.size = d.size();
        c.grid[0] = 3;
        c.grid[1] = c.grid[2] = c.block[1] = c.block[2] = 1;
        c.block[0] = 64;
        return c;
    }
    // Whether the last launch ran the guest's PTX @text (else the translation).
    bool ran_ptx(const std::string& text = kPtx) const {
        return !fake.launches.empty() && fake.ptx_of(fake.launches.back().f) == text;
    }
};

// The context's device memory sits at the context's own address too (the
// fake's device addresses are its process's), there while any of it is
// mapped, gone with its last page and with the context; nothing stays.
TEST(GuestPtx, DeviceMemoryIsAtTheContextsAddresses) {
    auto w = std::make_unique<Worker>();
    const uint32_t a = 0x1234abcd, b = 0x5678ef01;
    ASSERT_EQ(w->mem->write(2, 16, &a, 4), 0);
    ASSERT_EQ(w->mem->write(2, 2 * kMiB + 32, &b, 4), 0);
    ASSERT_TRUE(w->fake.device_live(kDataVa, 4 * kMiB));
    EXPECT_EQ(*reinterpret_cast<const uint32_t*>(kDataVa + 16), a);
    EXPECT_EQ(*reinterpret_cast<const uint32_t*>(kDataVa + 2 * kMiB + 32), b) << "its second piece";
    w->be->unmap(1, kDataVa + 2 * kMiB, 2 * kMiB);
    EXPECT_TRUE(w->fake.device_live(kDataVa, 4 * kMiB)) << "half of it still mapped";
    w->be->unmap(1, kDataVa, 2 * kMiB);
    EXPECT_FALSE(w->fake.device_live(kDataVa, 4096)) << "unmapped with its last page";
    Backing back;
    back.mem = 2;
    back.offset = 2 * kMiB;
    ASSERT_EQ(w->be->map(1, kDataVa + 2 * kMiB, 2 * kMiB, R, back), 0);
    EXPECT_TRUE(w->fake.device_live(kDataVa, 4 * kMiB)) << "mapped again from its second half: whole";
    EXPECT_EQ(*reinterpret_cast<const uint32_t*>(kDataVa + 16), a);
    w->be->ctx_destroy(1);
    EXPECT_FALSE(w->fake.device_live(kDataVa, 4096)) << "unmapped with the context";
    EXPECT_FALSE(w->fake.device_live(kCodeVa, 4096));
    for (uint64_t id = 1; id <= 4; id++)
        w->be->mem_free(id);
    w->be.reset();
    for (uint64_t id = 1; id <= 4; id++)
        w->mem->free(id);
    w->mem.reset();
    EXPECT_EQ(w->fake.vmm_handles(), 0u);
    EXPECT_EQ(w->fake.vmm_reserved(), 0u) << "the window given back";
    EXPECT_EQ(w->fake.errors(), "");
}

// The PTX is launched with the descriptor's parameters and the command's
// grid, and compiled once for both launches.
TEST(GuestPtx, ThePtxRunsWithItsParametersCompiledOnce) {
    Worker w;
    std::vector<uint8_t> seen;
    w.fake.on_launch = [&](const LaunchCall& c) {
        if (c.extra && c.extra[0] == cu::CU_LAUNCH_PARAM_BUFFER_POINTER) {
            auto* p = static_cast<const uint8_t*>(c.extra[1]);
            seen.assign(p, p + *static_cast<size_t*>(c.extra[3]));
        }
        return cu::CUDA_SUCCESS;
    };
    EXPECT_EQ(w.launch(kPtx, kDataVa).status, RunStatus::Done);
    ASSERT_TRUE(w.ran_ptx());
    EXPECT_EQ(w.fake.launches.back().grid[0], 3u);
    EXPECT_EQ(w.fake.launches.back().block[0], 64u);
    ASSERT_EQ(seen.size(), 8u);
    uint64_t p = 0;
    std::memcpy(&p, seen.data(), 8);
    EXPECT_EQ(p, kDataVa);
    uint64_t loaded = w.fake.modules_loaded();
    EXPECT_EQ(w.launch(kPtx, kDataVa + 64).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx());
    EXPECT_EQ(w.fake.modules_loaded(), loaded) << "compiled once";
    // Another text, then the first again: each runs its own module (the
    // worker keeps the latest text's cache key), the first still cached.
    const std::string other = kPtx + "// another text\n";
    EXPECT_EQ(w.launch(other, kDataVa).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx(other));
    EXPECT_EQ(w.fake.modules_loaded(), loaded + 1);
    EXPECT_EQ(w.launch(kPtx, kDataVa).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx(kPtx));
    EXPECT_EQ(w.fake.modules_loaded(), loaded + 1) << "the first text's module, cached";
    EXPECT_EQ(w.fake.errors(), "");
}

// VGPU_PTX_STACK_KB for one test (null: unset).
struct StackBound : vgpu::test::ScopedEnv {
    explicit StackBound(const char* kb) : ScopedEnv("VGPU_PTX_STACK_KB", kb) {}
};

// A launch's descriptor naming @Bytes of call stack (Worker::launch()'s edit).
template <uint32_t Bytes>
void stack_of(drm_vgpu_ptx_launch& h) {
    h.stack_size = Bytes;
}

// A stack is reserved when the context is given it (CTX_STACK, as
// NVIDIA's driver reserves at cudaDeviceSetLimit): the context's limit
// raised once to it; launches naming it, less or none change nothing;
// more than the context was given runs the ISA; one the driver refuses
// is refused (ENOMEM: vgpu-back gives the charge back) and not asked of
// the driver again, the stack given before still serving.
TEST(GuestPtx, AStackIsSetOnceAndARefusedOneRunsTheIsa) {
    StackBound bound(nullptr);
    Worker w;
    ASSERT_EQ(w.be->ctx_stack(1, 8192), 0);
    ASSERT_EQ(w.fake.limits.size(), 1u);
    EXPECT_EQ(w.fake.limits[0], std::make_pair(cu::kLimitStackSize, size_t{8192}));
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<5000>).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx());
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8192>).status, RunStatus::Done);
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<4096>).status, RunStatus::Done);
    EXPECT_EQ(w.launch(kPtx, kDataVa).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx());
    EXPECT_EQ(w.fake.limits.size(), 1u) << "no limit asked for at the launches";
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8193>).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "more than the context was given: the ISA";
    w.fake.on_set_limit = [] { return cu::CUresult{2}; };  // CUDA_ERROR_OUT_OF_MEMORY
    EXPECT_EQ(w.be->ctx_stack(1, 16384), ENOMEM);
    EXPECT_EQ(w.fake.limits.size(), 2u);
    w.fake.on_set_limit = nullptr;
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<16384>).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "refused: not given, the ISA";
    EXPECT_EQ(w.be->ctx_stack(1, 16384), ENOMEM);
    EXPECT_EQ(w.fake.limits.size(), 2u) << "a refused size is not asked again";
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8192>).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx()) << "8192 still given";
    EXPECT_EQ(w.fake.limits.size(), 2u);
}

// The driver raises a context's stack by itself at a launch to the
// entry's local memory a thread (large .local arrays, callees' frames):
// a kernel taking more than its context was given runs the ISA (the
// driver reserves nothing for it), and within a stack given, its PTX.
TEST(GuestPtx, AKernelsLocalMemoryIsBoundByItsContextsStack) {
    StackBound bound(nullptr);
    Worker w;
    w.fake.local_bytes = 3000;
    EXPECT_EQ(w.launch(kPtx, kDataVa).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "3000 bytes a thread with 1 KiB given: the ISA";
    EXPECT_TRUE(w.fake.limits.empty());
    ASSERT_EQ(w.be->ctx_stack(1, 4096), 0);
    EXPECT_EQ(w.launch(kPtx, kDataVa).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx()) << "within the 4 KiB given";
    EXPECT_EQ(w.fake.limits.size(), 1u) << "reserved when given, not again";
    EXPECT_EQ(w.fake.errors(), "");
}

// A context's stack is its client's to ask for (CTX_STACK), not the
// host's to give every context: before it, a launch naming more than
// the driver's 1 KiB runs the ISA, its PTX not compiled and nothing
// reserved; after it, the PTX runs with the stack.  1 KiB needs no ask.
TEST(GuestPtx, ALaunchRunsItsPtxWithTheStackItsContextWasGiven) {
    StackBound bound(nullptr);
    Worker w;
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8192>).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "no stack given yet: the ISA";
    EXPECT_EQ(w.fake.modules_loaded(), 1u) << "the ISA's translation only: the guest's PTX is not compiled in vain";
    EXPECT_TRUE(w.fake.limits.empty());
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<1024>).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx()) << "the base stack every context has";
    EXPECT_TRUE(w.fake.limits.empty()) << "the driver's default: nothing to set";
    ASSERT_EQ(w.be->ctx_stack(1, 8192), 0);
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8192>).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx()) << "given: the PTX";
    ASSERT_EQ(w.fake.limits.size(), 1u);
    EXPECT_EQ(w.fake.limits[0], std::make_pair(cu::kLimitStackSize, size_t{8192}));
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8193>).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "beyond what was given: the ISA";
    EXPECT_EQ(w.be->ctx_stack(1, 4096), 0) << "a smaller one leaves it";
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<6000>).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx());
    EXPECT_EQ(w.fake.limits.size(), 1u);
    EXPECT_EQ(w.fake.errors(), "");
}

// The host bounds what a context may be given: by default
// DRM_VGPU_PTX_MAX_STACK; VGPU_PTX_STACK_KB lowers it (rounded down to a
// power of two; 1 KiB or less, or a bad value: none).  Only a worker's
// back end gives one: in one process the contexts share a CUDA context,
// and the interpreter keeps its stack in the context's memory.
TEST(GuestPtx, TheHostBoundsTheStackAContextMayBeGiven) {
    struct Case {
        const char* kb;
        uint32_t bound;
    };
    for (Case c : {Case{nullptr, 16384}, {"16", 16384}, {"12", 8192}, {"3", 2048}, {"2", 2048}, {"1", 0}, {"0", 0},
                   {"17", 0}, {"-1", 0}, {"8k", 0}}) {
        StackBound b(c.kb);
        EXPECT_EQ(ptx_stack_bound(), c.bound) << (c.kb ? c.kb : "unset");
    }
    {
        StackBound four("4");
        Worker w;
        EXPECT_EQ(w.be->max_stack(), 4096u);
        EXPECT_EQ(w.be->ctx_stack(1, 8192), EINVAL) << "past the host's bound";
        EXPECT_EQ(w.be->ctx_stack(1, 4096), 0);
        EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<4096>).status, RunStatus::Done);
        EXPECT_TRUE(w.ran_ptx());
    }
    {
        StackBound none("1");
        Worker w;
        EXPECT_EQ(w.be->max_stack(), 0u);
        EXPECT_EQ(w.be->ctx_stack(1, 2048), EOPNOTSUPP);
        EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<2048>).status, RunStatus::Done);
        EXPECT_FALSE(w.ran_ptx());
        EXPECT_TRUE(w.fake.limits.empty());
    }
    StackBound dflt(nullptr);
    FakeCuda fake;
    auto in_process = make_cuda_backend(FakeCuda::api(), 16 * kMiB, 0);
    ASSERT_EQ(in_process->ctx_create(1, 0), 0);
    EXPECT_EQ(in_process->max_stack(), 0u);
    EXPECT_EQ(in_process->ctx_stack(1, 2048), EOPNOTSUPP);
    auto interp = make_interp_backend(16 * kMiB);
    ASSERT_EQ(interp->ctx_create(1, 0), 0);
    EXPECT_EQ(interp->max_stack(), 0u);
    EXPECT_EQ(interp->ctx_stack(1, 2048), EOPNOTSUPP);
}

// The worker's back end distrusts what it is given: an unknown context,
// or a size that is no power of two from 2 KiB to its bound, is refused
// and changes nothing.
TEST(GuestPtx, ABadStackIsRefusedByTheWorkersBackEnd) {
    StackBound bound(nullptr);
    Worker w;
    EXPECT_EQ(w.be->ctx_stack(2, 2048), EINVAL) << "no such context";
    for (uint32_t bad : {0u, 1u, 1024u, 2047u, 3072u, 32768u, 0x80000000u, UINT32_MAX})
        EXPECT_EQ(w.be->ctx_stack(1, bad), EINVAL) << bad;
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<2048>).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "nothing was given";
}

// CTX_STACK through the bridge (as a worker serves it): every bad request
// answers EINVAL (unknown context, pad, a size no power of two, past the
// bound, below 2 KiB) and the context goes on; a good one gives the PTX
// its stack.  Where the back end gives none: EOPNOTSUPP.
TEST(GuestPtx, TheBridgeRefusesABadStackAndTheContextGoesOn) {
    StackBound bound(nullptr);
    Worker w;
    Bridge br(*w.be, test::windows_fd());
    test::Client cl;
    cl.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return br.handle(q, p); };
    EXPECT_EQ(cl.ctx_stack(2, 8192), -EINVAL) << "no such context";
    EXPECT_EQ(cl.send(test::ctx_stack_req(1, 8192, 1)).error, -EINVAL) << "pad";
    for (uint32_t bad : {0u, 1024u, 2047u, 3072u, 12288u, 32768u, UINT32_MAX})
        EXPECT_EQ(cl.ctx_stack(1, bad), -EINVAL) << bad;
    const uint32_t junk = 7;
    vgpu_ue_req with_payload = test::ctx_stack_req(1, 8192);
    with_payload.payload_len = sizeof(junk);
    EXPECT_EQ(cl.send(with_payload, &junk).error, -EINVAL) << "a payload";
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8192>).status, RunStatus::Done) << "the context goes on";
    EXPECT_FALSE(w.ran_ptx()) << "nothing was given";
    EXPECT_EQ(cl.ctx_stack(1, 8192), 0);
    EXPECT_EQ(w.launch(kPtx, kDataVa, stack_of<8192>).status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx());
    EXPECT_EQ(w.fake.errors(), "");

    auto interp = make_interp_backend(16 * kMiB);
    Bridge ib(*interp, test::windows_fd());
    cl.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return ib.handle(q, p); };
    ASSERT_EQ(cl.ctx_create(1), 0);
    EXPECT_EQ(cl.ctx_stack(1, 8192), -EOPNOTSUPP);
}

// What a HELLO of GPU workers announces: the PTX, and the stack a
// context may be given up to the host's bound, held for every thread the
// GPU holds (the fake: 4 multiprocessors of 2048 threads); none where
// the host allows none, nothing of the PTX for the interpreter's.
TEST(GuestPtx, TheHelloOffersTheStackOfTheWorkersGpu) {
    FakeCuda fake;
    auto hello = [](const SharedMemory& m, bool gpu) {
        vgpu_ue_hello h{};
        hello_ptx(h, m, gpu);
        return h;
    };
    {
        StackBound dflt(nullptr);
        auto mem = make_cuda_memory(FakeCuda::api(), 32 * kMiB, 0);
        EXPECT_EQ(mem->stack_threads(), 4u * 2048);
        vgpu_ue_hello h = hello(*mem, true);
        EXPECT_EQ(h.flags, uint32_t{VGPU_UE_HELLO_PTX | VGPU_UE_HELLO_PTX_STACK});
        EXPECT_EQ(h.max_stack, uint32_t{DRM_VGPU_PTX_MAX_STACK});
        EXPECT_EQ(h.stack_threads, 4u * 2048);
        EXPECT_EQ(h.pad, 0u);
    }
    {
        StackBound eight("8");
        vgpu_ue_hello h = hello(*make_cuda_memory(FakeCuda::api(), 32 * kMiB, 0), true);
        EXPECT_EQ(h.max_stack, 8192u);
        EXPECT_EQ(h.stack_threads, 4u * 2048);
    }
    {
        StackBound none("1");
        vgpu_ue_hello h = hello(*make_cuda_memory(FakeCuda::api(), 32 * kMiB, 0), true);
        EXPECT_EQ(h.flags, uint32_t{VGPU_UE_HELLO_PTX});
        EXPECT_EQ(h.max_stack, 0u);
        EXPECT_EQ(h.stack_threads, 0u);
    }
    vgpu_ue_hello h = hello(*make_memfd_memory(8 * kMiB), false);
    EXPECT_EQ(h.flags, 0u);
    EXPECT_EQ(h.max_stack, 0u);
    EXPECT_EQ(h.stack_threads, 0u);
}

// The device memory a GPU worker holds for its context, told at HELLO
// for vgpu-back to charge to the context's client: VGPU_CTX_MEM_MB where
// the host's owner sets it; else kWorkerCtxMemMb, with the driver's 1
// KiB stack and no more whatever VGPU_PTX_STACK_KB says (a larger stack
// is charged when a client asks for it).  A bad value is not used; the
// interpreter's workers hold no device memory.
TEST(GuestPtx, AWorkersContextMemoryIsToldForTheCoreToCharge) {
    vgpu::test::ScopedEnv unset("VGPU_CTX_MEM_MB", nullptr);
    FakeCuda fake;
    for (const char* kb : {static_cast<const char*>(nullptr), "8", "16"}) {
        StackBound bound(kb);
        EXPECT_EQ(make_cuda_memory(FakeCuda::api(), 32 * kMiB, 0)->context_memory(), kWorkerCtxMemMb * kMiB)
            << (kb ? kb : "unset");
        EXPECT_EQ(worker_ctx_mem(), kWorkerCtxMemMb * kMiB);
    }
    {
        vgpu::test::ScopedEnv set("VGPU_CTX_MEM_MB", "900");
        EXPECT_EQ(worker_ctx_mem(), 900 * kMiB) << "the owner's figure is the whole";
    }
    {
        vgpu::test::ScopedEnv zero("VGPU_CTX_MEM_MB", "0");
        EXPECT_EQ(worker_ctx_mem(), 0u);
    }
    for (const char* bad : {"-1", " 5", "5x", "0x10", "1048577"}) {
        vgpu::test::ScopedEnv set("VGPU_CTX_MEM_MB", bad);
        EXPECT_EQ(worker_ctx_mem(), kWorkerCtxMemMb * kMiB) << bad;
    }
    EXPECT_EQ(make_memfd_memory(8 * kMiB)->context_memory(), 0u);
}

// A module's entries are compiled together: launching a second entry of
// the same text loads nothing more.  An entry the text lacks runs the ISA
// and leaves the module's others running as themselves.
TEST(GuestPtx, EveryEntryOfAModuleFromOneCompile) {
    Worker w;
    const std::string& two = kPtxTwo;
    EXPECT_EQ(w.launch(two, kDataVa, nullptr, "k").status, RunStatus::Done);
    ASSERT_TRUE(w.ran_ptx(two));
    EXPECT_EQ(w.fake.launches.back().entry, "k");
    const uint64_t loaded = w.fake.modules_loaded();
    EXPECT_EQ(w.launch(two, kDataVa, nullptr, "k2").status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx(two)) << "its second entry";
    EXPECT_EQ(w.fake.launches.back().entry, "k2");
    EXPECT_EQ(w.fake.modules_loaded(), loaded) << "the module compiled once for both entries";
    EXPECT_EQ(w.launch(two, kDataVa, nullptr, "nope").status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx(two)) << "an entry the module lacks: the ISA ran";
    EXPECT_EQ(w.fake.modules_loaded(), loaded + 1) << "the ISA's translation";
    EXPECT_EQ(w.launch(two, kDataVa, nullptr, "k2").status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx(two)) << "the module's entries still run as themselves";
    EXPECT_EQ(w.fake.launches.back().entry, "k2");
    EXPECT_EQ(w.fake.modules_loaded(), loaded + 1) << "nothing compiled again";
    EXPECT_EQ(w.fake.errors(), "");
}

// An entry that needs too much local memory runs the ISA, each time; the
// module's other entries, found before and after, still run as themselves.
TEST(GuestPtx, AnEntryRefusedLeavesTheModulesOthers) {
    Worker w;
    const std::string& two = kPtxTwo;
    EXPECT_EQ(w.launch(two, kDataVa, nullptr, "k").status, RunStatus::Done);
    ASSERT_TRUE(w.ran_ptx(two));
    w.fake.local_bytes = 1 << 20;
    for (int i = 0; i < 2; i++) {
        EXPECT_EQ(w.launch(two, kDataVa, nullptr, "k2").status, RunStatus::Done);
        EXPECT_FALSE(w.ran_ptx(two)) << "1 MiB of local memory a thread: the ISA ran, launch " << i;
    }
    w.fake.local_bytes = 0;
    EXPECT_EQ(w.launch(two, kDataVa, nullptr, "k").status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx(two)) << "the entry found before";
    EXPECT_EQ(w.fake.launches.back().entry, "k");
    EXPECT_EQ(w.launch(two, kDataVa, nullptr, "k2").status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx(two)) << "the refusal is kept for the module's life";
    EXPECT_EQ(w.fake.errors(), "");
}

// What the guest wrote wrong faults ILLEGAL where it lies; PTX that may
// not run as itself (variables of its own, calls out, too much local
// memory) runs as the ISA.
TEST(GuestPtx, BadDescriptorsFaultAndUnrunnablePtxRunsTheIsa) {
    Worker w;
    RunResult r = w.launch(kPtx, 0, [](drm_vgpu_ptx_launch& h) { h.magic ^= 1; });
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_kind, uint32_t(VGPU_FAULT_ILLEGAL));
    EXPECT_EQ(r.fault_addr, kDescVa);
    r = w.launch(kPtx, 0, [](drm_vgpu_ptx_launch& h) { h.ptx_hash ^= 1; });
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_addr, kTextVa) << "a text that is not of its hash";
    r = w.launch(kPtx, 0, [](drm_vgpu_ptx_launch& h) { h.ptx = kWin + 40 * kMiB; });
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_kind, uint32_t(VGPU_FAULT_UNMAPPED)) << "a text where nothing is mapped";
    r = w.launch(kPtx, 0, [](drm_vgpu_ptx_launch& h) { h.param_size = 4; });
    EXPECT_EQ(r.status, RunStatus::Faulted) << "sizes that do not add up";
    const std::string vars = ".version 7.0\n.target sm_70\n.address_size 64\n.global .align 4 .b8 g[1073741824];\n"
                             ".visible .entry k(.param .u64 p)\n{\n    ret;\n}\n";
    EXPECT_EQ(w.launch(vars, 0).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "a variable of its own: the ISA ran";
    const std::string calls = ".version 7.0\n.target sm_70\n.address_size 64\n"
                              ".extern .func (.param .b32 r) vprintf(.param .b64 f, .param .b64 a);\n"
                              ".visible .entry k(.param .u64 p)\n{\n    ret;\n}\n";
    EXPECT_EQ(w.launch(calls, 0).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "printf: the ISA ran";
    w.fake.local_bytes = 1 << 20;
    const std::string local = kPtx + "// another text\n";
    EXPECT_EQ(w.launch(local, 0).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "1 MiB of local memory a thread: the ISA ran";
    EXPECT_FALSE(w.be->lost());
    EXPECT_EQ(w.fake.errors(), "");
}

// Runs @job in slices of 10 ms under a 200 ms watchdog while it is
// preempted, for @limit at most; *@runs counts the RUNs, *@secs gets the
// time they took.
RunResult run_sliced(Worker& w, Job& job, std::chrono::milliseconds limit, int* runs = nullptr,
                     double* secs = nullptr) {
    const auto t0 = std::chrono::steady_clock::now();
    RunResult r;
    do {
        r = w.be->run(1, job, kSlice, kWatchdog);
        if (runs)
            ++*runs;
    } while (r.status == RunStatus::Preempted && std::chrono::steady_clock::now() - t0 < limit);
    if (secs)
        *secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

// The driver's JIT of a guest's module may outlast the watchdog (cub's
// sorts take ptxas seconds): the launch spends its slices waiting,
// uncharged, and then runs the PTX, not the ISA (whose translation of
// such kernels is past its bounds).
TEST(GuestPtx, ACompileLongerThanTheWatchdogStillRunsThePtx) {
    Worker w;
    SlowJit slow(w.fake);
    slow.close();
    Job job;
    job.cmds = {w.command(kPtx, kDataVa)};
    int runs = 0;
    RunResult r = run_sliced(w, job, std::chrono::milliseconds(800), &runs);
    EXPECT_EQ(r.status, RunStatus::Preempted) << "still waiting for the compile after 4 watchdogs";
    EXPECT_GE(runs, 2) << "each RUN ends with its slice";
    EXPECT_EQ(job.cmd_busy_ns, 0u) << "the wait is not the job's";
    EXPECT_TRUE(w.fake.launches.empty());
    EXPECT_EQ(slow.calls(), 1) << "one compile";
    slow.open();
    r = run_sliced(w, job, std::chrono::seconds(10));
    EXPECT_EQ(r.status, RunStatus::Done);
    EXPECT_TRUE(w.ran_ptx()) << "the PTX ran, not the ISA";
    w.be.reset();  // its JIT thread done before the SlowJit goes
    EXPECT_EQ(w.fake.errors(), "");
}

// @job, run sliced, must end TIMEDOUT after @at_least seconds (@why), in
// well under the 5 s it is given.
void expect_timed_out(Worker& w, Job& job, double at_least, const char* why) {
    double s = 0;
    EXPECT_EQ(run_sliced(w, job, std::chrono::seconds(5), nullptr, &s).status, RunStatus::TimedOut);
    EXPECT_GE(s, at_least) << why;
    EXPECT_LT(s, 4.0);
}

// A worker whose guest compiles are given up after 300 ms, its JIT held
// closed; the back end goes before the JIT it holds.
struct HeldJit {
    vgpu::test::ScopedEnv bound{"VGPU_ENGINED_GUEST_JIT_MS", "300"};
    Worker w;
    SlowJit slow{w.fake};
    HeldJit() { slow.close(); }
    ~HeldJit() {
        slow.open();
        w.be.reset();
    }
};

// A guest's compile past its bound (VGPU_ENGINED_GUEST_JIT_MS here, 20 s
// by default) is given up for the ISA, but goes on holding the JIT (none
// can be cancelled): the ISA's translation waits behind it charged, so a
// compile that does not end costs the job its watchdog (TIMEDOUT), not
// preemption for good; the same text is not compiled again.
TEST(GuestPtx, ACompileThatDoesNotEndCostsAWatchdog) {
    HeldJit h;
    Worker& w = h.w;
    SlowJit& slow = h.slow;
    Job job;
    job.cmds = {w.command(kPtx, kDataVa)};
    expect_timed_out(w, job, 0.45, "300 ms for the PTX, then a 200 ms watchdog");
    EXPECT_GE(job.cmd_busy_ns, kWatchdog);
    EXPECT_TRUE(w.fake.launches.empty());
    EXPECT_EQ(slow.calls(), 1) << "the ISA's translation never started";
    slow.open();
    // The same text again, once the JIT is free: the ISA, no compile of it.
    Job again;
    again.cmds = {w.command(kPtx, kDataVa)};
    RunResult r = run_sliced(w, again, std::chrono::seconds(10));
    EXPECT_EQ(r.status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx()) << "the PTX given up stays given up";
    EXPECT_EQ(slow.calls(), 2) << "the ISA's translation only";
    EXPECT_EQ(w.fake.errors(), "");
}

// A guest's compile whose launch went away (cancelled after one RUN)
// is given up past its bound by the next job that waits for the JIT,
// which then pays its watchdog (TIMEDOUT) rather than wait for good.
TEST(GuestPtx, ACompileIsGivenUpWhoeverWaitsForIt) {
    HeldJit h;
    Worker& w = h.w;
    Job first;
    first.cmds = {w.command(kPtx, kDataVa)};
    EXPECT_EQ(w.be->run(1, first, kSlice, kWatchdog).status, RunStatus::Preempted);  // then gone
    Job next;
    next.cmds = {w.command(kPtxTwo, kDataVa)};
    expect_timed_out(w, next, 0.25, "the first compile's 300 ms, then a 200 ms watchdog");
    EXPECT_EQ(h.slow.calls(), 1) << "nothing else compiled meanwhile";
    EXPECT_EQ(w.fake.errors(), "");
}

// A GPU exception in the guest's kernel: the launch faults with no
// address and the worker is lost (worker.cpp ends it).
TEST(GuestPtx, AGpuExceptionLosesTheWorker) {
    Worker w;
    w.fake.on_sync = [] { return cu::CUresult(700); };
    RunResult r = w.launch(kPtx, 0);
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_kind, uint32_t(VGPU_FAULT_UNMAPPED));
    EXPECT_EQ(r.fault_addr, 0u) << "the GPU names no address";
    EXPECT_TRUE(w.be->lost());
}

// A GPU that reaches pageable memory (HMM) would let the guest's kernel
// reach the worker's own: no window, the ISA runs.
TEST(GuestPtx, NoPtxWhereTheGpuReachesPageableMemory) {
    FakeCuda::pageable_access(1);
    Worker w;
    EXPECT_EQ(w.launch(kPtx, 0).status, RunStatus::Done);
    EXPECT_FALSE(w.ran_ptx());
    EXPECT_FALSE(w.fake.device_live(kDataVa, 4096)) << "nothing at the guest's addresses";
}

TEST(GuestPtx, DescriptorsAreParsedStrictly) {
    drm_vgpu_ptx_launch h{};
    h.magic = DRM_VGPU_PTX_MAGIC;
    h.version = DRM_VGPU_PTX_VERSION;
    h.ptx = 0x100000;
    h.ptx_size = 64;
    h.entry_len = 3;
    h.param_size = 4;
    auto parse = [&](const drm_vgpu_ptx_launch& x, const char* name = "k$1", size_t extra = 0) {
        std::vector<uint8_t> d(sizeof(x));
        std::memcpy(d.data(), &x, sizeof(x));
        d.insert(d.end(), name, name + std::strlen(name));
        d.resize(d.size() + 4 + extra, 7);
        std::string why;
        return parse_ptx_launch(d.data(), d.size(), &why).has_value();
    };
    EXPECT_TRUE(parse(h));
    auto bad = [&](void (*f)(drm_vgpu_ptx_launch&), const char* what) {
        drm_vgpu_ptx_launch x = h;
        f(x);
        EXPECT_FALSE(parse(x)) << what;
    };
    bad([](auto& x) { x.version = 2; }, "version");
    bad([](auto& x) { x.reserved[3] = 1; }, "reserved");
    {
        drm_vgpu_ptx_launch x = h;
        x.stack_size = ~0u;
        EXPECT_TRUE(parse(x)) << "a stack is the engine's to give or not (the ISA runs)";
    }
    bad([](auto& x) { x.ptx_size = 1; }, "a text of one byte");
    bad([](auto& x) { x.ptx_size = DRM_VGPU_PTX_MAX_TEXT + 1; }, "a text too long");
    bad([](auto& x) { x.ptx = ~0ull - 8; }, "a text that wraps");
    bad([](auto& x) { x.ptx = (1ull << 40) - 8; }, "a text beyond 40 bits");
    bad([](auto& x) { x.entry_len = 0; }, "no name");
    bad([](auto& x) { x.param_size = DRM_VGPU_PTX_MAX_PARAMS + 1; }, "parameters too long");
    EXPECT_FALSE(parse(h, "k 1")) << "a name that is no identifier";
    EXPECT_FALSE(parse(h, "k$1", 1)) << "a byte too many";
    EXPECT_TRUE(ptx_text_ok("ab", 3));
    EXPECT_FALSE(ptx_text_ok("a\0b", 4)) << "a NUL inside";
    EXPECT_EQ(ptx_not_runnable("ld.global.u32 %r1, [%rd1]; cvta.to.global.u64 %rd2, %rd1;"), nullptr);
    EXPECT_NE(ptx_not_runnable(".visible .global .align 4 .u32 g;"), nullptr);
    EXPECT_NE(ptx_not_runnable("\n.const .u32 c = 1;"), nullptr);
    EXPECT_EQ(ptx_not_runnable(".extern .shared .align 16 .b8 smem[];"), nullptr) << "dynamic shared memory";
    EXPECT_EQ(ptx_not_runnable(".entry k(.param .u64 .ptr .global .align 4 p)"), nullptr) << "a pointer's attribute";
    EXPECT_NE(ptx_not_runnable(".extern\n\t.func (.param .b32 r) vprintf(.param .b64 f);"), nullptr);
    EXPECT_EQ(ptx_not_runnable(".extern .funcs"), nullptr);
    EXPECT_NE(ptx_not_runnable(".global"), nullptr) << "at the text's end";
    EXPECT_NE(ptx_not_runnable("// x.ptr\n.global .align 8 .b8 g[1073741824];"), nullptr)
        << "a comment is no pointer attribute";
    EXPECT_NE(ptx_not_runnable(".extern /*c*/ .func vprintf;"), nullptr) << "a comment hides no call";
    EXPECT_NE(ptx_not_runnable(".extern\n// c\n.func vprintf;"), nullptr);
    EXPECT_EQ(ptx_not_runnable("// .global\n/* .const */ ret;"), nullptr) << "comments say nothing";
    EXPECT_NE(ptx_not_runnable("#define G .global\n"), nullptr) << "the preprocessor";
}

}  // namespace
