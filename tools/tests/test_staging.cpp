// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// libvgpu's staging objects (Context::kStagingChunk, design.rst) per mode,
// over a Transport that is a small driver of its own: it runs each
// SUBMIT's COPYs at once and records how many host objects exist while a
// COPY is submitted (what naive mode's frontend copies around each
// submission) and after each call.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <map>
#include <set>
#include <memory>
#include <thread>
#include <vector>

#include "vgpu/vgpu.hpp"
#include "../libvgpu/src/copy.hpp"

extern "C" {
#include "vgpu_drm.h"
}

namespace {

class MiniDriver final : public vgpu::Transport {
public:
    explicit MiniDriver(uint32_t mode, uint64_t context_memory = 0) : mode_(mode), context_memory_(context_memory) {}
    size_t host_objects() const {
        size_t n = 0;
        for (auto& [h, o] : objs_) n += o.host;
        return n;
    }
    size_t objects() const { return objs_.size(); }
    uint32_t objects_made() const { return next_ - 1; }
    size_t most_host_at_submit = 0;  // host objects when a SUBMIT came
    size_t submits = 0;
    unsigned busy_creates = 0;  // CTX_CREATEs to refuse with EBUSY (the engine paces them)
    unsigned ctx_creates = 0;

    int ioctl(unsigned long req, void* arg) override {
        switch (req) {
        case DRM_IOCTL_VGPU_GET_INFO: {
            auto* i = static_cast<drm_vgpu_info*>(arg);
            *i = {};
            i->uapi_version = DRM_VGPU_UAPI_VERSION;
            i->mode = mode_;
            i->page_size = 4096;
            i->va_start = 1 << 20;
            i->va_end = uint64_t{1} << 36;
            i->device_memory_size = i->device_memory_quota = uint64_t{1} << 30;
            i->context_memory = context_memory_;
            return 0;
        }
        case DRM_IOCTL_VGPU_CTX_CREATE:
            ctx_creates++;
            if (busy_creates && busy_creates--) return EBUSY;
            static_cast<drm_vgpu_ctx_create*>(arg)->ctx_id = 1;
            return 0;
        case DRM_IOCTL_VGPU_CTX_DESTROY: return 0;
        case DRM_IOCTL_VGPU_CTX_STATUS: static_cast<drm_vgpu_ctx_status*>(arg)->status = 0; return 0;
        case DRM_IOCTL_VGPU_BO_CREATE: {
            auto* a = static_cast<drm_vgpu_bo_create*>(arg);
            a->handle = next_++;
            objs_[a->handle] = {std::vector<uint8_t>(a->size), a->domain == DRM_VGPU_DOMAIN_HOST, 0};
            return 0;
        }
        case DRM_IOCTL_VGPU_BO_DESTROY: objs_.erase(static_cast<drm_vgpu_bo_destroy*>(arg)->handle); return 0;
        case DRM_IOCTL_VGPU_BO_MMAP_OFFSET: {
            auto* a = static_cast<drm_vgpu_bo_mmap_offset*>(arg);
            a->offset = uint64_t{a->handle} << 12;
            return 0;
        }
        case DRM_IOCTL_VGPU_VM_BIND: {
            auto* b = static_cast<drm_vgpu_vm_bind*>(arg);
            auto* op = reinterpret_cast<const drm_vgpu_vm_bind_op*>(static_cast<uintptr_t>(b->ops));
            for (uint32_t k = 0; k < b->num_ops; k++) {
                if (op[k].op == DRM_VGPU_BIND_MAP) objs_[op[k].handle].va = op[k].va;
                b->num_done = k + 1;
            }
            return 0;
        }
        case DRM_IOCTL_VGPU_SUBMIT: {
            auto* s = static_cast<drm_vgpu_submit*>(arg);
            submits++;
            most_host_at_submit = std::max(most_host_at_submit, host_objects());
            auto* c = reinterpret_cast<const drm_vgpu_cmd*>(static_cast<uintptr_t>(s->cmds));
            for (uint32_t k = 0; k < s->num_cmds; k++)
                if (c[k].op == DRM_VGPU_CMD_COPY) std::memcpy(at(c[k].dst), at(c[k].src), c[k].size);
            if (s->out_sync) signalled_[s->out_sync] = true;
            return 0;
        }
        }
        return ENOTTY;
    }
    int map(uint64_t offset, size_t, void** cpu) override {
        *cpu = objs_.at(static_cast<uint32_t>(offset >> 12)).mem.data();
        return 0;
    }
    void unmap(void*, size_t) override {}
    int syncobj_create(uint32_t* h) override {
        *h = next_sync_++;
        syncs->created++;
        return 0;
    }
    void syncobj_destroy(uint32_t h) override {
        signalled_.erase(h);
        syncs->destroyed++;
    }
    // Syncobjs made and destroyed, also after the device is gone.
    struct Syncs {
        unsigned created = 0, destroyed = 0;
    };
    std::shared_ptr<Syncs> syncs = std::make_shared<Syncs>();
    int syncobj_wait(uint32_t h, int64_t) override { return signalled_[h] ? 0 : ETIME; }
    int syncobj_status(uint32_t h, int* st) override {
        *st = signalled_[h] ? 1 : 0;
        return 0;
    }

private:
    struct Obj {
        std::vector<uint8_t> mem;
        bool host;
        uint64_t va;
    };
    uint8_t* at(uint64_t va) {
        for (auto& [h, o] : objs_)
            if (va >= o.va && va < o.va + o.mem.size()) return o.mem.data() + (va - o.va);
        throw std::runtime_error("MiniDriver: nothing mapped at a COPY's address");
    }
    uint32_t mode_, next_ = 1, next_sync_ = 1;
    uint64_t context_memory_;
    std::map<uint32_t, Obj> objs_;
    std::map<uint32_t, bool> signalled_;
};

struct Mini {
    MiniDriver* drv;
    std::shared_ptr<vgpu::Device> dev;
    explicit Mini(uint32_t mode) {
        auto d = std::make_unique<MiniDriver>(mode);
        drv = d.get();
        dev = std::make_shared<vgpu::Device>(std::move(d), "mini");
    }
};

// The chunk counts below are the default's (Context::kStagingChunk):
// VGPU_STAGING_CHUNK_KB, read once per process, would change them.
#define SKIP_IF_CHUNK_SET()                                                        \
    do {                                                                           \
        if (std::getenv("VGPU_STAGING_CHUNK_KB")) GTEST_SKIP() << "VGPU_STAGING_CHUNK_KB is set"; \
    } while (0)

std::vector<std::byte> pattern(size_t n) {
    std::vector<std::byte> v(n);
    for (size_t k = 0; k < n; k++) v[k] = std::byte((k * 29) >> 2);
    return v;
}

// A copy of three chunks and 5 bytes to the device and back in
// @mode: what the driver saw.
struct Seen {
    size_t left_after_write, left_after_read, most_at_submit, submits;
    bool same;
};
Seen round_trip(uint32_t mode) {
    Mini s(mode);
    vgpu::Context ctx(s.dev);
    const size_t n = 3 * vgpu::Context::kStagingChunk + 5;
    vgpu::Buffer b(ctx, n, vgpu::Domain::Device);
    auto in = pattern(n);
    std::vector<std::byte> out(n);
    b.write(in);
    size_t after_write = s.drv->host_objects();
    b.read(out);
    return {after_write, s.drv->host_objects(), s.drv->most_host_at_submit, s.drv->submits, in == out};
}

// Naive mode: one staging object of the whole copy, as many bytes moved
// around each submission as the copy itself, none kept after the call.
TEST(Staging, NaiveModeUsesOneObjectAndKeepsNone) {
    SKIP_IF_CHUNK_SET();
    Seen r = round_trip(DRM_VGPU_MODE_NAIVE);
    EXPECT_TRUE(r.same);
    EXPECT_EQ(r.left_after_write, 0u);
    EXPECT_EQ(r.left_after_read, 0u);
    EXPECT_EQ(r.most_at_submit, 1u);  // the copy's own object alone
    EXPECT_EQ(r.submits, 2u);         // one COPY each way
}

// hp mode: chunks through two objects, none kept after the call.
TEST(Staging, HpModeGoesInChunksAndKeepsNone) {
    SKIP_IF_CHUNK_SET();
    Seen r = round_trip(DRM_VGPU_MODE_HP);
    EXPECT_TRUE(r.same);
    EXPECT_EQ(r.left_after_write, 0u);
    EXPECT_EQ(r.left_after_read, 0u);
    EXPECT_EQ(r.most_at_submit, 2u);
    EXPECT_EQ(r.submits, 8u);  // four chunks each way
}

// hp mode: a small copy's object (kStagingKeptInGuest bytes or less)
// stays for the next one, which makes none; a large copy's objects go,
// the small one with them.
TEST(Staging, HpModeKeepsASmallObject) {
    SKIP_IF_CHUNK_SET();
    Mini s(DRM_VGPU_MODE_HP);
    vgpu::Context ctx(s.dev);
    vgpu::Buffer b(ctx, vgpu::Context::kStagingKeptInGuest, vgpu::Domain::Device);
    auto in = pattern(vgpu::Context::kStagingKeptInGuest);
    std::vector<std::byte> out(in.size());
    const size_t device_objects = s.drv->objects();
    b.write(in);
    EXPECT_EQ(s.drv->host_objects(), 1u);
    const uint32_t made = s.drv->objects_made();
    b.read(out);
    b.write(pattern(100));
    EXPECT_EQ(in, out);
    EXPECT_EQ(s.drv->host_objects(), 1u);
    EXPECT_EQ(s.drv->objects_made(), made);  // the kept one served both
    const size_t n = vgpu::Context::kStagingKeptInGuest + 1;
    vgpu::Buffer big(ctx, n, vgpu::Domain::Device);
    big.write(pattern(n));
    EXPECT_EQ(s.drv->host_objects(), 0u);
    EXPECT_EQ(s.drv->objects(), device_objects + 1);
}

// dom0 (native): the objects stay for the next call; a one-chunk copy
// makes one.
TEST(Staging, NativeModeKeepsThem) {
    SKIP_IF_CHUNK_SET();
    Mini s(DRM_VGPU_MODE_NATIVE);
    vgpu::Context ctx(s.dev);
    vgpu::Buffer small(ctx, 4096, vgpu::Domain::Device);
    small.write(pattern(100));
    EXPECT_EQ(s.drv->host_objects(), 1u);
    const size_t n = 2 * vgpu::Context::kStagingChunk + 1;
    vgpu::Buffer b(ctx, n, vgpu::Domain::Device);
    auto in = pattern(n);
    std::vector<std::byte> out(n);
    b.write(in);
    b.read(out);
    EXPECT_EQ(in, out);
    EXPECT_EQ(s.drv->host_objects(), 2u);
}

// GET_INFO's context_memory (what the engine holds for each context,
// from the quota) reaches DeviceInfo; a dom0 that predates it says 0.
TEST(Staging, TheDeviceTellsWhatEachContextHolds) {
    auto with = std::make_shared<vgpu::Device>(std::make_unique<MiniDriver>(DRM_VGPU_MODE_HP, 642u << 20), "mini");
    EXPECT_EQ(with->info().context_memory, uint64_t{642} << 20);
    Mini older(DRM_VGPU_MODE_HP);
    EXPECT_EQ(older.dev->info().context_memory, 0u);
}

// An engine that paces new contexts (EBUSY) is asked again: the
// context comes at the third try, 20 + 40 ms later.
TEST(Staging, APacedContextIsAskedAgain) {
    Mini s(DRM_VGPU_MODE_HP);
    s.drv->busy_creates = 2;
    auto t0 = std::chrono::steady_clock::now();
    vgpu::Context ctx(s.dev);
    EXPECT_EQ(s.drv->ctx_creates, 3u);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
    EXPECT_EQ(ctx.id(), 1u);
}

// The staged copy's CPU part with streamed stores: every byte at every
// alignment of either side, the head and tail included, and nothing
// around the destination touched (sizes each side of the streaming
// threshold, 64 KiB).
TEST(Staging, StreamCopyCopiesEveryByteAndNoMore) {
    const size_t sizes[] = {0, 1, 15, 63, 64, 4095, (64 << 10) - 1, 64 << 10, (64 << 10) + 17, (1 << 20) + 5};
    const size_t guard = 64;
    for (size_t n : sizes)
        for (size_t doff : {0, 1, 7, 15, 16})
            for (size_t soff : {0, 3}) {
                std::vector<unsigned char> src(n + soff), dst(n + doff + 2 * guard, 0xa5);
                for (size_t i = 0; i < src.size(); i++) src[i] = static_cast<unsigned char>(i * 131 + i / 251 + 1);
                vgpu::detail::stream_copy(dst.data() + guard + doff, src.data() + soff, n);
                ASSERT_EQ(std::memcmp(dst.data() + guard + doff, src.data() + soff, n), 0)
                    << n << " bytes, destination +" << doff << ", source +" << soff;
                for (size_t i = 0; i < guard + doff; i++) ASSERT_EQ(dst[i], 0xa5) << "before, " << n << " bytes";
                for (size_t i = guard + doff + n; i < dst.size(); i++) ASSERT_EQ(dst[i], 0xa5) << "after, " << n << " bytes";
            }
}

// Helper threads copy parts of a large copy: every byte of copies each
// side of kMinBytes and of sizes no multiple of the parts, streamed or
// not, call after call (each call's parts reach the helpers once), and
// from two threads at once (one has the helpers, the other copies
// alone).
TEST(Staging, CopyHelpersCopyEveryByte) {
    vgpu::detail::CopyHelpers h(3);
    ASSERT_EQ(h.helpers(), 3u);
    auto check = [&h](size_t n, bool stream, unsigned seed) {
        const size_t guard = 64;
        std::vector<unsigned char> src(n), dst(n + 2 * guard, 0x5a);
        for (size_t i = 0; i < n; i++) src[i] = static_cast<unsigned char>(i * 193 + i / 4099 + seed);
        h.copy(dst.data() + guard, src.data(), n, stream);
        EXPECT_EQ(std::memcmp(dst.data() + guard, src.data(), n), 0) << n << " bytes";
        for (size_t i = 0; i < guard; i++) {
            EXPECT_EQ(dst[i], 0x5a);
            EXPECT_EQ(dst[guard + n + i], 0x5a);
        }
    };
    unsigned seed = 0;
    for (size_t n : {size_t{1000}, vgpu::detail::CopyHelpers::kMinBytes - 1})
        for (bool stream : {false, true}) check(n, stream, seed++);
    EXPECT_EQ(h.parts_copied(), 0u);  // below kMinBytes the caller copies alone
    for (size_t n : {vgpu::detail::CopyHelpers::kMinBytes, (size_t{3} << 20) + 77, size_t{5} << 20})
        for (bool stream : {false, true})
            for (int rep = 0; rep < 10; rep++) check(n, stream, seed++);
    EXPECT_EQ(h.parts_copied(), 3u * 3 * 2 * 10);  // each helper a part of each
    std::thread other([&] {
        for (unsigned k = 0; k < 30; k++) check((size_t{2} << 20) + k, true, 100 + k);
    });
    for (unsigned k = 0; k < 30; k++) check((size_t{2} << 20) + 3 * k, false, 200 + k);
    other.join();
}

// A child forked after the helpers started copies alone, and ends its
// Device without touching the parent's threads (joining them, or
// waiting on their locks, would hang it).
TEST(Staging, AForkedChildCopiesAloneAndEndsItsDevice) {
    if (!vgpu::detail::copy_helpers_wanted()) GTEST_SKIP() << "no helpers on one CPU";
    auto s = std::make_unique<Mini>(DRM_VGPU_MODE_NATIVE);
    auto ctx = std::make_unique<vgpu::Context>(s->dev);
    const size_t n = 3 << 20;
    auto b = std::make_unique<vgpu::Buffer>(*ctx, n, vgpu::Domain::Device);
    auto in = pattern(n);
    b->write(in);  // the helpers start
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::vector<std::byte> out(n);
        b->read(out);
        bool ok = out == in;
        b.reset();
        ctx.reset();
        s.reset();  // ~Device in the child
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    pid_t got = 0;
    for (int i = 0; i < 400 && !(got = waitpid(pid, &status, WNOHANG)); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!got) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        FAIL() << "the child hung for 20 s";
    }
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the child read wrong bytes";
}

// A submission's fence takes the syncobj an earlier one let go of (a
// create and a destroy less a launch), which the SUBMIT's out_sync gives
// the new fence; the device keeps 16 spares at most and destroys them
// with itself.
TEST(Fence, ASubmissionsSyncobjServesAgain) {
    auto s = std::make_unique<Mini>(DRM_VGPU_MODE_HP);
    auto syncs = s->drv->syncs;
    {
        vgpu::Context ctx(s->dev);
        vgpu::Buffer b(ctx, 4096, vgpu::Domain::Device);
        std::set<uint32_t> handles;
        for (int i = 0; i < 100; i++) {
            auto f = ctx.fill(b.gpu_addr(), 4096, i);
            handles.insert(f->handle());
            ctx.synchronize();
        }
        // The context holds its last fence while the next is made: two.
        EXPECT_EQ(handles.size(), 2u);
        EXPECT_EQ(syncs->created, 2u);
        EXPECT_EQ(syncs->destroyed, 0u);
        std::vector<std::shared_ptr<vgpu::Fence>> held;
        for (int i = 0; i < 20; i++) held.push_back(ctx.fill(b.gpu_addr(), 4096, i));
        EXPECT_EQ(syncs->created, 20u);  // each pending fence its own
        held.clear();                    // 16 kept, the rest destroyed
        EXPECT_EQ(syncs->destroyed, 20u - 16u - 1u);  // the context still holds the last one
    }
    s.reset();
    EXPECT_EQ(syncs->destroyed, syncs->created);
}

// A child forked with the device open shares its file's syncobjs with
// the parent: it takes none of the parent's spares (both would submit
// into one syncobj) and destroys none of them, nor the syncobjs of the
// submissions' fences it inherited: it makes its own.
TEST(Fence, AForkedChildMakesItsOwnSyncobjs) {
    auto s = std::make_unique<Mini>(DRM_VGPU_MODE_HP);
    auto syncs = s->drv->syncs;
    auto ctx = std::make_unique<vgpu::Context>(s->dev);
    auto b = std::make_unique<vgpu::Buffer>(*ctx, 4096, vgpu::Domain::Device);
    std::set<uint32_t> parents;
    for (int i = 0; i < 3; i++) {
        parents.insert(ctx->fill(b->gpu_addr(), 4096, i)->handle());
        ctx->synchronize();
    }
    ASSERT_EQ(parents.size(), 2u);  // one spare, one the context holds
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int bad = 4;
        try {
            const unsigned made = syncs->created, gone = syncs->destroyed;
            uint32_t h = ctx->fill(b->gpu_addr(), 4096, 7)->handle();
            ctx->synchronize();
            bad = parents.count(h) || syncs->created != made + 1;
            b.reset();
            ctx.reset();
            s.reset();  // ~Device in the child
            // Its own fence's alone: neither the parent's spare nor the
            // parent's last fence, which the child's context held.
            bad |= (syncs->destroyed - gone != 1) << 1;
        } catch (...) {
        }
        _exit(bad);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status) & 1, 0) << "the child took a syncobj of its parent's";
    EXPECT_EQ(WEXITSTATUS(status) & 2, 0) << "the child destroyed a syncobj of its parent's";
    EXPECT_EQ(WEXITSTATUS(status) & 4, 0) << "the child threw";
}

}  // namespace
