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
#include <cstring>
#include <thread>

#include "core_transport.hpp"
#include "vgpu/asm.hpp"
#include "vgpu/vgpu.hpp"

extern "C" {
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

}  // namespace
