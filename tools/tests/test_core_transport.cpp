// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The core in a process (tools/ucore): vgpu-back's core behind libvgpu's
// Transport, vgpu-engined's interpreter workers as its engine.  What a
// render node promises holds here too: the watchdog ends a runaway
// kernel, a wait ends at its deadline, fences report as DRM's, and the
// groups' weights and caps are the core's to check.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core_transport.hpp"
#include "vgpu/asm.hpp"
#include "vgpu/vgpu.hpp"

extern "C" {
#include "ucore.h"
#include "vgpu_drm.h"
}

namespace {

using Clock = std::chrono::steady_clock;

// Waits for ever for a word that stays zero.
const char* kSpin = R"(
.kernel spin
    ldp r1, 0
loop:
    ld.u32 r2, [r1]
    bz r2, loop
    exit
)";

std::shared_ptr<gpuvm::ucore::CoreHost> host(unsigned int watchdog_ms = 2000, uint64_t mem = 64 << 20) {
    gpuvm::ucore::CoreOptions o;
    o.mem = mem;
    o.exe = GPUVM_ENGINED;
    o.watchdog_ms = watchdog_ms;
    return gpuvm::ucore::CoreHost::create(o);
}

std::shared_ptr<vgpu::Device> device(const std::shared_ptr<gpuvm::ucore::CoreHost>& h) {
    return std::make_shared<vgpu::Device>(h->client("test"), h->name());
}

TEST(CoreTransport, TheDeviceIsTheEnginesAsVgpuUengineAnnouncesIt) {
    auto dev = device(host());
    const auto& i = dev->info();
    EXPECT_EQ(i.page_size, 2u << 20);
    EXPECT_EQ(i.va_start, uint64_t{64} << 30);
    EXPECT_EQ(i.va_end, uint64_t{1008} << 30);
    EXPECT_EQ(i.device_memory_quota, uint64_t{64} << 20);
    EXPECT_TRUE(i.features & DRM_VGPU_FEATURE_HOST_MEMORY);
    EXPECT_FALSE(i.features & DRM_VGPU_FEATURE_PTX);  // the interpreter runs the ISA
    // A buffer written and read back through the engine (libvgpu stages
    // it through host memory and a COPY run by the worker).
    vgpu::Context ctx(dev);
    vgpu::Buffer b(ctx, 12345, vgpu::Domain::Device);
    std::vector<std::byte> in(12345), out(12345);
    for (size_t k = 0; k < in.size(); k++)
        in[k] = std::byte(k * 7);
    b.write(in);
    b.read(out);
    EXPECT_EQ(in, out);
}

// The module's default device-memory promise (16 MiB) is not asked of
// an engine that has less.
TEST(CoreTransport, AnEngineSmallerThanTheDefaultQuotaServes) {
    auto dev = device(host(2000, 8 << 20));
    EXPECT_EQ(dev->info().device_memory_quota, uint64_t{8} << 20);
    vgpu::Context ctx(dev);
    vgpu::Buffer b(ctx, 4 << 20, vgpu::Domain::Device);
    EXPECT_THROW(vgpu::Buffer(ctx, 6 << 20, vgpu::Domain::Device), vgpu::Error);
}

TEST(CoreTransport, TheWatchdogEndsARunawayKernelAndTheClientGoesOn) {
    auto dev = device(host(200));
    vgpu::Context ctx(dev);
    vgpu::Module m(ctx, vgpu::assemble(kSpin, "spin"));
    vgpu::Buffer flag(ctx, 4096, vgpu::Domain::Device);
    auto t0 = Clock::now();
    ctx.launch(m.kernel("spin"), {1}, {1}, {flag});
    try {
        ctx.synchronize(std::chrono::seconds(30));
        FAIL() << "a kernel that never ends ended";
    } catch (const vgpu::ContextError& e) {
        EXPECT_EQ(e.status().state, vgpu::ContextState::Hung) << e.what();
    }
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
    vgpu::Context again(dev);  // a new context of the same client computes
    vgpu::Buffer b(again, 4096, vgpu::Domain::Device);
    again.fill(b.gpu_addr(), 4096, 0x5a5a5a5a);
    again.synchronize();
    std::vector<std::byte> out(4);
    b.read(out);
    EXPECT_EQ(out[0], std::byte{0x5a});
}

// A kernel that never ends, launched on a core whose watchdog is
// @watchdog_ms; f its fence.
struct Spinning {
    explicit Spinning(int watchdog_ms)
        : dev(device(host(watchdog_ms))), ctx(dev), m(ctx, vgpu::assemble(kSpin, "spin")),
          flag(ctx, 4096, vgpu::Domain::Device), f(ctx.launch(m.kernel("spin"), {1}, {1}, {flag})) {}
    std::shared_ptr<vgpu::Device> dev;
    vgpu::Context ctx;
    vgpu::Module m;
    vgpu::Buffer flag;
    std::shared_ptr<vgpu::Fence> f;
};

TEST(CoreTransport, AWaitEndsAtItsDeadline) {
    Spinning s(3000);
    auto& f = s.f;
    auto t0 = Clock::now();
    EXPECT_FALSE(f->wait(std::chrono::milliseconds(20)));
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(1));
    EXPECT_EQ(f->status(), 0);  // still running
}

// Waits that time out again and again on one fence (a program polling a
// runaway kernel) share its one waiter; each ends at its deadline, and
// the next wait sees the fence signal when the watchdog ends the kernel.
TEST(CoreTransport, WaitsThatTimeOutThenOneThatSeesTheEnd) {
    Spinning s(2000);
    auto& f = s.f;
    for (int i = 0; i < 20; i++) {
        auto t0 = Clock::now();
        EXPECT_FALSE(f->wait(std::chrono::milliseconds(2))) << i;
        EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(500)) << i;
    }
    EXPECT_TRUE(f->wait(std::chrono::seconds(30)));
    // Signalled, with the hang's error: what the fence's callback told
    // the waiter (a status after a wait takes no g_core).
    EXPECT_LT(f->status(), 0);
}

// As DRM's: a syncobj never submitted waits until its deadline, and has
// no status to give (its sync file cannot be exported).
TEST(CoreTransport, ASyncobjNeverSubmittedIsAsDrms) {
    auto dev = device(host());
    vgpu::Fence f(dev);
    EXPECT_FALSE(f.wait(std::chrono::milliseconds(5)));
    try {
        f.status();
        FAIL() << "a status without a fence";
    } catch (const vgpu::Error& e) {
        EXPECT_EQ(e.code(), EINVAL);
    }
}

TEST(CoreTransport, WeightsAndCapsAreTheGroups) {
    auto h = host();
    auto dom0 = h->client("dom0's", 0, 0, 16 << 20);
    EXPECT_EQ(dom0->set(200, 0), EINVAL);  // the device's native group
    auto guest = h->client("guest", 100, 0, 16 << 20);
    EXPECT_EQ(guest->set(200, 25), 0);
    EXPECT_EQ(guest->set(0, 0), EINVAL);     // no weight 0
    EXPECT_EQ(guest->set(100, 101), EINVAL);  // no cap above the engine
    EXPECT_EQ(guest->busy_ns(), 0u);
}

TEST(CoreTransport, TheEnginesMemoryIsPromisedNoMoreThanOnce) {
    auto h = host(2000, 32 << 20);
    auto a = h->client("a", 100, 0, 24 << 20);
    EXPECT_THROW(h->client("b", 100, 0, 16 << 20), std::runtime_error);
    auto b = h->client("b", 100, 0, 8 << 20);
}

// An ioctl the core does not know, and a SUBMIT's decode before its
// syncobj: the render node's answers.
TEST(CoreTransport, IoctlsAnswerAsTheRenderNode) {
    auto t = host()->client("raw");
    EXPECT_EQ(t->ioctl(0x12345678, nullptr), ENOTTY);
    drm_vgpu_submit s{};
    s.out_sync = 999;  // no such syncobj, but the submit is malformed first
    EXPECT_EQ(t->ioctl(DRM_IOCTL_VGPU_SUBMIT, &s), EINVAL);
    void* p = nullptr;
    EXPECT_EQ(t->map(uint64_t{77} << 12, 4096, &p), EINVAL);
    // A host object maps at its offset, and no larger than itself.
    drm_vgpu_bo_create c{2 << 20, DRM_VGPU_DOMAIN_HOST, 0, 0, 0};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_BO_CREATE, &c), 0);
    drm_vgpu_bo_mmap_offset m{c.handle, 0, 0};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_BO_MMAP_OFFSET, &m), 0);
    EXPECT_EQ(t->map(m.offset, (2 << 20) + 4096, &p), EINVAL);
    ASSERT_EQ(t->map(m.offset, 2 << 20, &p), 0);
    std::memset(p, 0xa5, 2 << 20);  // its pages, writable here
    drm_vgpu_bo_create dev{2 << 20, DRM_VGPU_DOMAIN_DEVICE, 0, 0, 0};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_BO_CREATE, &dev), 0);
    drm_vgpu_bo_mmap_offset md{dev.handle, 0, 0};
    EXPECT_EQ(t->ioctl(DRM_IOCTL_VGPU_BO_MMAP_OFFSET, &md), EINVAL);  // device memory is not the CPU's
}

// Two devices' cores (a host each) used at once from two threads, each
// computing what it should.  (Their calls go under the process's one
// core lock, ucore.h; a race there would show under a sanitizer, seldom
// here: the shim's shared state is little.)
TEST(CoreTransport, TwoDevicesAtOnce) {
    auto a = device(host()), b = device(host());
    auto work = [](std::shared_ptr<vgpu::Device> dev, uint32_t value) {
        vgpu::Context ctx(dev);
        vgpu::Buffer buf(ctx, 64 << 10, vgpu::Domain::Device);
        std::vector<std::byte> out(4);
        for (int k = 0; k < 40; k++) {
            ctx.fill(buf.gpu_addr(), 64 << 10, value + static_cast<uint32_t>(k));
            buf.read(out);
            uint32_t got;
            std::memcpy(&got, out.data(), 4);
            if (got != value + static_cast<uint32_t>(k)) return false;
        }
        return true;
    };
    bool ok_b = false;
    std::thread t([&] { ok_b = work(b, 0x200000); });
    bool ok_a = work(a, 0x100000);
    t.join();
    EXPECT_TRUE(ok_a);
    EXPECT_TRUE(ok_b);
}

// libvgpu's staging (Context::kStagingChunk): a copy of several chunks,
// at an offset, round-trips; the kept objects give way to a host object
// the client's host-memory quota would refuse.
TEST(CoreTransport, StagingInChunksRoundTrips) {
    auto dev = device(host());
    vgpu::Context ctx(dev);
    const size_t n = 2 * vgpu::Context::kStagingChunk + 4097, at = 7;
    vgpu::Buffer b(ctx, n + at, vgpu::Domain::Device);
    std::vector<std::byte> in(n), out(n);
    for (size_t k = 0; k < n; k++)
        in[k] = std::byte((k * 131) >> 3);
    b.write(in, at);
    b.read(out, at);
    EXPECT_EQ(in, out);
    std::vector<std::byte> one(1);
    b.read(one, at + n - 1);  // a small read after a large one, through the kept objects
    EXPECT_EQ(one[0], in[n - 1]);
}

TEST(CoreTransport, KeptStagingGivesWayToTheQuota) {
    auto h = host();
    auto dev = std::make_shared<vgpu::Device>(h->client("tight", 0, 0, 0, 20 << 20), h->name());
    vgpu::Context ctx(dev);
    vgpu::Buffer b(ctx, 2 * vgpu::Context::kStagingChunk, vgpu::Domain::Device);
    std::vector<std::byte> in(b.size(), std::byte{1});
    b.write(in);  // both staging objects made and kept: 16 of the 20 MiB
    vgpu::Buffer host_buf(ctx, 8 << 20, vgpu::Domain::Host);  // refused, unless they give way
    EXPECT_NE(host_buf.data(), nullptr);
    std::vector<std::byte> out(b.size());
    b.read(out);  // staging made again, as far as the quota goes
    EXPECT_EQ(in, out);
}

// The interpreter's workers give no call stack: the device says none,
// and CTX_STACK through the transport is refused before anything is
// charged or asked of the engine.
TEST(CoreTransport, AnEngineWithoutAStackRefusesOne) {
    auto h = host();
    auto t = h->client("raw");
    drm_vgpu_info i{};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_GET_INFO, &i), 0);
    EXPECT_FALSE(i.features & DRM_VGPU_FEATURE_PTX_STACK);
    EXPECT_EQ(i.max_stack_size, 0u);
    EXPECT_EQ(i.stack_threads, 0u);
    drm_vgpu_ctx_create c{};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_CTX_CREATE, &c), 0);
    drm_vgpu_ctx_stack s{c.ctx_id, 8192, 0};
    EXPECT_EQ(t->ioctl(DRM_IOCTL_VGPU_CTX_STACK, &s), EOPNOTSUPP);
    EXPECT_EQ(s.charged, 0u);
}

// On a GPU (skipped without one): the cuda workers' call stack through
// the transport's CTX_STACK, as a guest's runtime asks for it: the device
// tells the bound and the GPU's threads, the engine's memory has room for
// the largest stack, and a raise is charged to the client's quota
// ((S - 1 KiB) x threads, whole GPU pages) and given to the context's
// worker; one past the quota is refused.
TEST(CoreTransport, OnTheGpuAContextsStackIsChargedToItsClient) {
    gpuvm::ucore::CoreOptions o;
    o.gpu = true;
    o.mem = 64 << 20;
    o.exe = GPUVM_ENGINED;
    std::shared_ptr<gpuvm::ucore::CoreHost> h;
    try {
        h = gpuvm::ucore::CoreHost::create(o);
    } catch (const std::exception& e) {
        GTEST_SKIP() << "no GPU: " << e.what();
    }
    drm_vgpu_info i{};
    {
        auto whole = h->client("probe");
        ASSERT_EQ(whole->ioctl(DRM_IOCTL_VGPU_GET_INFO, &i), 0);
    }
    if (std::getenv("VGPU_PTX_STACK_KB"))
        GTEST_SKIP() << "VGPU_PTX_STACK_KB is set";
    ASSERT_TRUE(i.features & DRM_VGPU_FEATURE_PTX_STACK);
    EXPECT_EQ(i.max_stack_size, uint32_t{DRM_VGPU_PTX_MAX_STACK});
    ASSERT_GT(i.stack_threads, 0u);
    const uint64_t page = i.page_size;
    auto held = [&](uint32_t stack) {
        return ((stack - uint64_t{DRM_VGPU_PTX_BASE_STACK}) * i.stack_threads + page - 1) / page * page;
    };
    EXPECT_GE(i.device_memory_quota, o.mem + i.context_memory + held(DRM_VGPU_PTX_MAX_STACK))
        << "room for a context with the largest stack";

    auto t = h->client("guest", 100, 0, i.context_memory + held(8192) + (4 << 20));
    drm_vgpu_ctx_create c{};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_CTX_CREATE, &c), 0);
    drm_vgpu_ctx_stack s{c.ctx_id, 8192, 0};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_CTX_STACK, &s), 0);
    EXPECT_EQ(s.stack_size, 8192u);
    EXPECT_EQ(s.charged, held(8192));
    auto fits = [&](uint64_t bytes) {
        drm_vgpu_bo_create b{bytes, DRM_VGPU_DOMAIN_DEVICE, 0, 0, 0};
        int err = t->ioctl(DRM_IOCTL_VGPU_BO_CREATE, &b);
        EXPECT_TRUE(!err || err == EDQUOT) << err;
        drm_vgpu_bo_destroy d{b.handle, 0};
        if (!err) {
            EXPECT_EQ(t->ioctl(DRM_IOCTL_VGPU_BO_DESTROY, &d), 0);
        }
        return !err;
    };
    EXPECT_TRUE(fits(4 << 20));
    EXPECT_FALSE(fits(6 << 20)) << "the stack is the client's";
    s = {c.ctx_id, 16384, 0};
    EXPECT_EQ(t->ioctl(DRM_IOCTL_VGPU_CTX_STACK, &s), EDQUOT);
    drm_vgpu_ctx_destroy d{c.ctx_id, 0};
    ASSERT_EQ(t->ioctl(DRM_IOCTL_VGPU_CTX_DESTROY, &d), 0);
}

// An engine of callbacks for the core in this process (ucore.h) with the
// stack feature: ids handed out, every op done, each ctx_stack recorded
// and answered @stack_error.
struct StackEngine {
    uint64_t next = 1;
    std::vector<std::pair<uint64_t, uint32_t>> stacks;  // (context, bytes) told
    int stack_error = 0;

    static StackEngine* self(void* a) { return static_cast<StackEngine*>(a); }
    ucore_engine_ops ops(bool with_stack) {
        ucore_engine_ops o{};
        o.arg = this;
        o.ctx_create = [](void* a, uint64_t, uint64_t* ctx) { return *ctx = self(a)->next++, 0; };
        o.ctx_destroy = [](void*, uint64_t) {};
        o.mem_alloc = [](void* a, uint64_t, uint64_t* mem) { return *mem = self(a)->next++, 0; };
        o.mem_free = [](void*, uint64_t) {};
        o.map = [](void*, uint64_t, uint64_t, uint64_t, uint8_t*, uint64_t, uint64_t, uint32_t) { return 0; };
        o.unmap = [](void*, uint64_t, uint64_t, uint64_t) {};
        o.run = [](void*, uint64_t, ucore_job*, uint64_t) { return UCORE_DONE; };
        o.job_release = [](void*, ucore_job*) {};
        o.host_alloc = [](void*, uint64_t) -> void* { return nullptr; };
        o.host_free = [](void*, void*, uint64_t) {};
        if (with_stack)
            o.ctx_stack = [](void* a, uint64_t ctx, uint32_t bytes) {
                self(a)->stacks.emplace_back(ctx, bytes);
                return self(a)->stack_error;
            };
        return o;
    }
};

// A core in this process over @e: 2 MiB pages, 2 MiB a context, stacks
// up to 16 KiB held for 1024 threads (a stack of S bytes: (S - 1 KiB)
// MiB), one client of @quota bytes.  Calls made on this thread alone
// (no CoreHost runs meanwhile).
struct StackCore {
    static constexpr uint64_t kMiB = 1 << 20;
    ucore* u = nullptr;
    ucore_client* c = nullptr;
    StackCore(StackEngine& e, bool with_stack, uint64_t quota) {
        ucore_config cfg{};
        cfg.name = "stack-test";
        cfg.mem_size = 1024 * kMiB;
        cfg.ctx_mem = 2 * kMiB;
        cfg.max_stack = 16384;
        cfg.stack_threads = 1024;
        cfg.features = DRM_VGPU_FEATURE_PTX | DRM_VGPU_FEATURE_PTX_STACK;
        cfg.page_shift = 21;
        cfg.va_start = uint64_t{64} << 30;
        cfg.va_end = uint64_t{1008} << 30;
        cfg.watchdog_ms = 2000;
        cfg.quota_devmem = quota;
        char err[160] = "";
        ucore_engine_ops ops = e.ops(with_stack);
        u = ucore_create(&ops, &cfg, err, sizeof(err));
        EXPECT_NE(u, nullptr) << err;
        c = u ? ucore_client_open(u, "guest", 100, 0, &cfg, err, sizeof(err)) : nullptr;
        EXPECT_NE(c, nullptr) << err;
    }
    ~StackCore() {
        if (c)
            ucore_client_close(c);
        if (u)
            ucore_destroy(u);
    }
    uint32_t ctx() {
        drm_vgpu_ctx_create a{};
        EXPECT_EQ(ucore_ctx_create(c, &a), 0);
        return a.ctx_id;
    }
    // Whether a device object of @bytes fits the client's quota now.
    bool fits(uint64_t bytes) {
        drm_vgpu_bo_create b{};
        b.size = bytes;
        b.domain = DRM_VGPU_DOMAIN_DEVICE;
        void* cpu = nullptr;
        int err = ucore_bo_create(c, &b, &cpu);
        EXPECT_TRUE(!err || err == -EDQUOT) << err;
        if (err)
            return false;
        drm_vgpu_bo_destroy d{b.handle, 0};
        EXPECT_EQ(ucore_bo_destroy(c, &d), 0);
        return true;
    }
};

// CTX_STACK through the core in this process (ucore_ctx_stack(), what
// the transport's DRM_IOCTL_VGPU_CTX_STACK calls): the stack's memory,
// (S - 1 KiB) x the engine's threads in whole GPU pages, is taken from
// the client's device-memory quota before the engine is told (a raise
// past it changes nothing), given back where the engine refuses and
// with the context.  GET_INFO tells the bound and the threads.
TEST(UCore, AContextsStackIsChargedToItsClient) {
    constexpr uint64_t kMiB = StackCore::kMiB;
    StackEngine e;
    StackCore k(e, true, 32 * kMiB);
    drm_vgpu_info i{};
    ucore_info(k.c, &i);
    EXPECT_TRUE(i.features & DRM_VGPU_FEATURE_PTX_STACK);
    EXPECT_EQ(i.max_stack_size, 16384u);
    EXPECT_EQ(i.stack_threads, 1024u);
    EXPECT_EQ(i.context_memory, 2 * kMiB);
    const uint32_t ctx = k.ctx();
    EXPECT_TRUE(k.fits(30 * kMiB)) << "32 MiB less the context's 2";

    drm_vgpu_ctx_stack s{ctx, 5000, 0};
    ASSERT_EQ(ucore_ctx_stack(k.c, &s), 0);
    EXPECT_EQ(s.stack_size, 8192u) << "a power of two";
    EXPECT_EQ(s.charged, 8 * kMiB) << "7 KiB x 1024 threads, in 2 MiB pages";
    ASSERT_EQ(e.stacks.size(), 1u);
    EXPECT_EQ(e.stacks[0].second, 8192u);
    EXPECT_FALSE(k.fits(30 * kMiB)) << "the stack is charged";
    EXPECT_TRUE(k.fits(22 * kMiB));

    drm_vgpu_bo_create big{};
    big.size = 20 * kMiB;
    big.domain = DRM_VGPU_DOMAIN_DEVICE;
    void* cpu = nullptr;
    ASSERT_EQ(ucore_bo_create(k.c, &big, &cpu), 0);
    s = {ctx, 16384, 0};
    EXPECT_EQ(ucore_ctx_stack(k.c, &s), -EDQUOT) << "16 MiB more, 2 left";
    EXPECT_EQ(e.stacks.size(), 1u) << "the engine is not told";
    drm_vgpu_bo_destroy d{big.handle, 0};
    ASSERT_EQ(ucore_bo_destroy(k.c, &d), 0);
    EXPECT_TRUE(k.fits(22 * kMiB)) << "nothing charged by the refusal";

    e.stack_error = ENOMEM;
    s = {ctx, 16384, 0};
    EXPECT_EQ(ucore_ctx_stack(k.c, &s), -ENOMEM);
    EXPECT_EQ(e.stacks.size(), 2u);
    EXPECT_TRUE(k.fits(22 * kMiB)) << "the engine's refusal gives the charge back";
    e.stack_error = 0;

    drm_vgpu_ctx_destroy gone{ctx, 0};
    ASSERT_EQ(ucore_ctx_destroy(k.c, &gone), 0);
    EXPECT_TRUE(k.fits(32 * kMiB)) << "the context gave back its memory and its stack's";
}

// An engine without the callback gives no stack, whatever its features
// say: GET_INFO tells none and CTX_STACK is refused.
TEST(UCore, NoStackWithoutTheEnginesCallback) {
    StackEngine e;
    StackCore k(e, false, 32 * StackCore::kMiB);
    drm_vgpu_info i{};
    ucore_info(k.c, &i);
    EXPECT_FALSE(i.features & DRM_VGPU_FEATURE_PTX_STACK);
    EXPECT_EQ(i.max_stack_size, 0u);
    EXPECT_EQ(i.stack_threads, 0u);
    drm_vgpu_ctx_stack s{k.ctx(), 8192, 0};
    EXPECT_EQ(ucore_ctx_stack(k.c, &s), -EOPNOTSUPP);
}

}  // namespace
