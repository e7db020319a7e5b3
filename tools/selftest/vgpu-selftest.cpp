// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-selftest: isolation checks run by the end-to-end scenarios.
//   vgpu-selftest fault      a kernel stores outside its mappings: its
//                            context reports FAULTED at the exact address,
//                            a second context still computes correctly
//   vgpu-selftest watchdog [LIMIT_MS]
//                            an endless kernel: its context reports HUNG
//                            within the watchdog limit (read from vgpu-sim
//                            in dom0; given in a guest), others still run
//   vgpu-selftest longrun SECONDS
//                            launches work (eight launches at a time) until
//                            the device goes away; passes
//                            when that ends in a clear ENODEV error
//   vgpu-selftest hold       allocates and maps objects, then sleeps: for
//                            tests that destroy the guest under it
//   vgpu-selftest bind-race  threads bind and unbind on a context while it
//                            is destroyed: binds end with ENOENT, nothing
//                            stays mapped
//   vgpu-selftest bind-partial  a MAP of two GPU pages whose second is
//                            taken fails whole: its first page is left
//                            unmapped (naive mode maps page by page)
//   vgpu-selftest bind-rules an UNMAP across two mappings is refused
//                            whole (ENOENT: the uAPI's rule, which naive
//                            mode's page-by-page requests must keep); an
//                            object destroyed while mapped keeps its
//                            memory until its mapping goes
//   vgpu-selftest job-flood  queues jobs behind an endless kernel until
//                            the client's job quota refuses (EDQUOT)
//   vgpu-selftest clients    opens the node until the device's memory is
//                            fully promised (ENOSPC) or max_clients (EMFILE)
//   vgpu-selftest inflight N N submissions in flight on each of two
//                            contexts before any wait, and one submission
//                            of 300 commands: every fence signals and
//                            every word holds its value
//   vgpu-selftest keep [MIB] a device buffer of MIB MiB with a pattern:
//                            rounds of fills (of it, and of a host page
//                            the CPU only reads) and launches, each checked,
//                            and the whole buffer read back every 20 s,
//                            until /tmp/keep.stop exists; for a save,
//                            restore or migration meanwhile, which the
//                            program must see as a pause only ("keep:
//                            paused": its length on CLOCK_BOOTTIME, which
//                            counts the time the domain was stopped)
//   vgpu-selftest keep-cold [MIB]  the same, the buffer mapped read-only
//                            once written and the fills in a 64 KiB
//                            buffer of their own: what a pre-copy finds
//                            unwritten (vgpuctl precopy)
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xf86drm.h>

#include "vgpu_drm.h"

#include "../samples/common.hpp"
#include "args.hpp"

namespace {

int fails = 0;

void expect(bool ok, const std::string& what) {
    std::printf("  %s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) fails++;
}

// A second, honest context must compute the right answer.
void honest_context_works(const std::shared_ptr<vgpu::Device>& dev) {
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    constexpr uint32_t n = 1000;
    vgpu::Buffer out(ctx, n * 4, vgpu::Domain::Host);
    ctx.launch(mod.kernel("iota"), {(n + 127) / 128}, {128}, {out, n});
    ctx.synchronize();
    const auto* v = static_cast<const uint32_t*>(out.data());
    size_t bad = 0;
    for (uint32_t i = 0; i < n; i++) bad += v[i] != 3 * i + 1;
    expect(bad == 0, "another context computes correctly (" + std::to_string(bad) + " wrong)");
}

int fault() {
    auto dev = vgpu::Device::open();
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    vgpu::Buffer buf(ctx, 4096, vgpu::Domain::Device);
    // The GPU page after a buffer (4 KiB, or a GPU's 2 MiB) is an
    // unmapped guard page.
    const uint64_t bad_addr = buf.gpu_addr() + dev->info().page_size + 0x124;
    ctx.launch(mod.kernel("store_at"), {1}, {1}, {bad_addr});
    try {
        ctx.synchronize();
        expect(false, "the out-of-bounds store was reported");
    } catch (const vgpu::ContextError& e) {
        char want[64];
        std::snprintf(want, sizeof(want), "0x%llx", static_cast<unsigned long long>(bad_addr));
        expect(e.status().state == vgpu::ContextState::Faulted, std::string("context faulted: ") + e.what());
        expect(e.status().fault_addr == bad_addr, std::string("fault address is exactly ") + want);
        expect(e.status().fault_kind == 1, "fault kind is 'unmapped'");
    }
    try {
        ctx.fill(buf.gpu_addr(), 4096, 0);
        expect(false, "a faulted context refuses new work");
    } catch (const vgpu::Error& e) {
        expect(e.code() == EIO, std::string("a faulted context refuses new work: ") + e.what());
    }
    honest_context_works(dev);
    return fails;
}

int watchdog(unsigned limit_ms) {
    auto dev = vgpu::Device::open();
    if (!limit_ms) {
        std::ifstream p("/sys/module/vgpu_sim/parameters/watchdog_ms");
        p >> limit_ms;
    }
    expect(limit_ms > 0, "watchdog_ms is readable: " + std::to_string(limit_ms) + " ms");
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    auto t0 = std::chrono::steady_clock::now();
    ctx.launch(mod.kernel("spin"), {4}, {64}, {});
    try {
        ctx.synchronize(std::chrono::milliseconds(limit_ms * 4 + 5000));
        expect(false, "the endless kernel was stopped");
    } catch (const vgpu::ContextError& e) {
        double ms = sample::ms_since(t0);
        expect(e.status().state == vgpu::ContextState::Hung, std::string("context hung: ") + e.what());
        char buf[96];
        std::snprintf(buf, sizeof(buf), "stopped after %.0f ms (limit %u ms, slack 2000 ms)", ms, limit_ms);
        expect(ms < limit_ms + 2000.0, buf);
        expect(ms >= limit_ms * 0.9, "not stopped before the limit");
    } catch (const vgpu::Error& e) {
        expect(false, std::string("endless kernel: ") + e.what());
    }
    honest_context_works(dev);
    return fails;
}

int longrun(unsigned seconds) {
    auto dev = vgpu::Device::open();
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    constexpr uint32_t n = 4096;
    vgpu::Buffer out(ctx, n * 4, vgpu::Domain::Device);
    auto t0 = std::chrono::steady_clock::now();
    unsigned long launches = 0;
    std::printf("longrun: started\n");
    std::fflush(stdout);
    try {
        // Eight launches in flight at a time where the mode allows it.
        while (sample::ms_since(t0) < seconds * 1000.0) {
            for (int i = 0; i < 8; i++, launches++) ctx.launch(mod.kernel("iota"), {n / 128}, {128}, {out, n});
            ctx.synchronize();
        }
    } catch (const vgpu::Error& e) {
        std::printf("longrun: stopped after %lu launches, %.0f ms: %s\n", launches, sample::ms_since(t0), e.what());
        expect(e.code() == ENODEV, "the error says the device is gone (ENODEV)");
        return fails;
    }
    expect(false, "the device never went away");
    return fails;
}

int hold() {
    auto dev = vgpu::Device::open();
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    std::vector<std::unique_ptr<vgpu::Buffer>> bufs;
    for (int i = 0; i < 4; i++) bufs.push_back(std::make_unique<vgpu::Buffer>(ctx, 64 * 1024, vgpu::Domain::Device));
    for (int i = 0; i < 2; i++) bufs.push_back(std::make_unique<vgpu::Buffer>(ctx, 16 * 1024, vgpu::Domain::Host));
    ctx.launch(mod.kernel("iota"), {8}, {128}, {*bufs[0], 1024});
    ctx.synchronize();
    std::printf("hold: holding %zu buffers and a context\n", bufs.size());
    std::fflush(stdout);
    for (;;) pause();
}

uint64_t debugfs_stat(const char* key) {
    std::ifstream f("/sys/kernel/debug/vgpu/stats");
    std::string k;
    uint64_t v = 0;
    while (f >> k >> v)
        if (k == key) return v;
    return ~0ULL;
}

unsigned module_param(const char* path) {
    std::ifstream f(path);
    unsigned v = 0;
    f >> v;
    return v;
}

// One VM_BIND on a context id (raw: the context may be gone).
int raw_bind(int fd, uint32_t ctx, uint32_t op, uint32_t handle, uint64_t va, uint64_t size) {
    drm_vgpu_vm_bind_op o{};
    o.op = op;
    o.flags = op == DRM_VGPU_BIND_MAP ? DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE : 0;
    o.handle = op == DRM_VGPU_BIND_MAP ? handle : 0;
    o.va = va;
    o.size = size;
    drm_vgpu_vm_bind b{};
    b.ctx_id = ctx;
    b.num_ops = 1;
    b.ops = reinterpret_cast<uintptr_t>(&o);
    return drmIoctl(fd, DRM_IOCTL_VGPU_VM_BIND, &b) ? errno : 0;
}

// Contexts destroyed while two threads bind and unbind on them.
int bind_race() {
    auto dev = vgpu::Device::open();
    const int fd = dev->fd();
    drm_vgpu_bo_create bo{};
    // One GPU page (4 KiB, or a GPU's 2 MiB), at two addresses of the
    // window a page apart from each other.
    const uint64_t page = dev->info().page_size;
    const uint64_t base = std::max<uint64_t>(dev->info().va_start, 0x100000);
    bo.size = std::max<uint64_t>(page, 65536);
    bo.domain = DRM_VGPU_DOMAIN_DEVICE;
    dev->ioctl(DRM_IOCTL_VGPU_BO_CREATE, &bo, "BO_CREATE");
    int odd = 0, rounds = 200;
    for (int r = 0; r < rounds; r++) {
        drm_vgpu_ctx_create c{};
        c.priority = 1;
        dev->ioctl(DRM_IOCTL_VGPU_CTX_CREATE, &c, "CTX_CREATE");
        std::atomic<int> errs[2] = {0, 0};
        auto binder = [&](int t) {
            const uint64_t va = base + (t + 1) * std::max<uint64_t>(page, 0x100000);
            for (int e = 0; e != ENOENT;) {
                e = raw_bind(fd, c.ctx_id, DRM_VGPU_BIND_MAP, bo.handle, va, page);
                if (!e) e = raw_bind(fd, c.ctx_id, DRM_VGPU_BIND_UNMAP, 0, va, page);
                if (e && e != ENOENT) errs[t]++;
            }
        };
        std::thread a(binder, 0), b(binder, 1);
        std::this_thread::sleep_for(std::chrono::microseconds(200 * (r % 10)));
        drm_vgpu_ctx_destroy d{};
        d.ctx_id = c.ctx_id;
        dev->ioctl(DRM_IOCTL_VGPU_CTX_DESTROY, &d, "CTX_DESTROY");
        a.join();
        b.join();
        odd += errs[0] + errs[1];
    }
    expect(odd == 0, std::to_string(rounds) + " contexts destroyed under two binding threads: binds end with "
                     "ENOENT (" + std::to_string(odd) + " other errors)");
    uint64_t m = debugfs_stat("mappings");
    expect(m == 0, "nothing left mapped: " + std::to_string(m) + " mappings");
    drm_vgpu_bo_destroy d{};
    d.handle = bo.handle;
    dev->ioctl(DRM_IOCTL_VGPU_BO_DESTROY, &d, "BO_DESTROY");
    expect(debugfs_stat("objects") == 0, "the object is freed (no mapping kept a reference)");
    return fails;
}

// A MAP refused part way (its second GPU page is mapped already) leaves
// nothing of itself mapped: the first page can be mapped afterwards.
int bind_partial() {
    auto dev = vgpu::Device::open();
    const int fd = dev->fd();
    const uint64_t page = dev->info().page_size;
    const uint64_t va = std::max<uint64_t>(dev->info().va_start, 0x100000);
    drm_vgpu_bo_create bo{};
    bo.size = 2 * page;
    bo.domain = DRM_VGPU_DOMAIN_DEVICE;
    dev->ioctl(DRM_IOCTL_VGPU_BO_CREATE, &bo, "BO_CREATE");
    drm_vgpu_ctx_create c{};
    c.priority = 1;
    dev->ioctl(DRM_IOCTL_VGPU_CTX_CREATE, &c, "CTX_CREATE");
    int e = raw_bind(fd, c.ctx_id, DRM_VGPU_BIND_MAP, bo.handle, va + page, page);
    expect(e == 0, "the second page mapped alone: " + std::string(std::strerror(e)));
    e = raw_bind(fd, c.ctx_id, DRM_VGPU_BIND_MAP, bo.handle, va, 2 * page);
    expect(e != 0, "a MAP over it refused: " + std::string(std::strerror(e)));
    e = raw_bind(fd, c.ctx_id, DRM_VGPU_BIND_MAP, bo.handle, va, page);
    expect(e == 0, "then its first page is free to map: " + std::string(std::strerror(e)));
    e = raw_bind(fd, c.ctx_id, DRM_VGPU_BIND_MAP, bo.handle, va + page, page);
    expect(e != 0, "and the page mapped before it still is: " + std::string(std::strerror(e)));
    drm_vgpu_ctx_destroy d{};
    d.ctx_id = c.ctx_id;
    dev->ioctl(DRM_IOCTL_VGPU_CTX_DESTROY, &d, "CTX_DESTROY");
    drm_vgpu_bo_destroy bd{};
    bd.handle = bo.handle;
    dev->ioctl(DRM_IOCTL_VGPU_BO_DESTROY, &bd, "BO_DESTROY");
    return fails;
}

// Jobs queued behind an endless kernel until the quota refuses.
int bind_rules() {
    auto dev = vgpu::Device::open();
    const int fd = dev->fd();
    const uint64_t page = dev->info().page_size;
    vgpu::Context ctx(dev);
    vgpu::Buffer host(ctx, 4096, vgpu::Domain::Host);
    const uint64_t va = std::max<uint64_t>(dev->info().va_start, 0x100000) + 64 * page;
    uint32_t h[2];
    for (auto& x : h) {
        drm_vgpu_bo_create bo{};
        bo.size = page;
        bo.domain = DRM_VGPU_DOMAIN_DEVICE;
        dev->ioctl(DRM_IOCTL_VGPU_BO_CREATE, &bo, "BO_CREATE");
        x = bo.handle;
    }
    // Two objects side by side: two mappings, never merged.
    int e = raw_bind(fd, ctx.id(), DRM_VGPU_BIND_MAP, h[0], va, page);
    if (!e) e = raw_bind(fd, ctx.id(), DRM_VGPU_BIND_MAP, h[1], va + page, page);
    expect(e == 0, "two objects mapped side by side: " + std::string(std::strerror(e)));
    e = raw_bind(fd, ctx.id(), DRM_VGPU_BIND_UNMAP, 0, va, 2 * page);
    expect(e == ENOENT, "an UNMAP across both refused with ENOENT: " + std::string(std::strerror(e)));
    ctx.fill(va, page, 0x1234abcd);
    ctx.fill(va + page, page, 0x5678ef01);
    // Destroyed while mapped: the handle goes, the memory stays mapped.
    drm_vgpu_bo_destroy bd{};
    bd.handle = h[0];
    dev->ioctl(DRM_IOCTL_VGPU_BO_DESTROY, &bd, "BO_DESTROY");
    expect(drmIoctl(fd, DRM_IOCTL_VGPU_BO_DESTROY, &bd) != 0 && errno == ENOENT,
           "the destroyed handle is gone (ENOENT)");
    ctx.copy(host.gpu_addr(), va, 4);
    ctx.copy(host.gpu_addr() + 4, va + page, 4);
    ctx.synchronize();
    const auto* w = static_cast<const uint32_t*>(host.data());
    expect(w[0] == 0x1234abcd && w[1] == 0x5678ef01,
           "both still mapped, the destroyed object's memory too");
    e = raw_bind(fd, ctx.id(), DRM_VGPU_BIND_UNMAP, 0, va, page);
    expect(e == 0, "its mapping unmapped: " + std::string(std::strerror(e)));
    e = raw_bind(fd, ctx.id(), DRM_VGPU_BIND_UNMAP, 0, va + page, page);
    expect(e == 0, "the other unmapped: " + std::string(std::strerror(e)));
    bd.handle = h[1];
    dev->ioctl(DRM_IOCTL_VGPU_BO_DESTROY, &bd, "BO_DESTROY");
    return fails;
}

int job_flood() {
    auto dev = vgpu::Device::open();
    const unsigned quota = module_param("/sys/module/vgpu_back/parameters/quota_jobs");
    expect(quota > 0, "quota_jobs is readable: " + std::to_string(quota));
    {
        vgpu::Context ctx(dev);
        vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
        vgpu::Buffer buf(ctx, 4096, vgpu::Domain::Device);
        ctx.launch(mod.kernel("spin"), {1}, {1}, {});
        unsigned queued = 1;
        int err = 0;
        while (!err && queued < quota + 10) {
            try {
                ctx.fill(buf.gpu_addr(), 4096, queued);
                queued++;
            } catch (const vgpu::Error& e) {
                err = e.code();
            }
        }
        expect(err == EDQUOT && queued == quota, "the client's job quota refused job " + std::to_string(queued + 1) +
                                                     " with " + std::strerror(err));
        try {
            ctx.synchronize();
            expect(false, "the endless kernel was stopped");
        } catch (const vgpu::ContextError& e) {
            expect(e.status().state == vgpu::ContextState::Hung, std::string("the flood ended: ") + e.what());
        }
    }
    honest_context_works(dev);
    return fails;
}

// Opens the node until the device's memory is fully promised.
int clients() {
    auto dev = vgpu::Device::open();
    std::vector<vgpu::Fd> fds;
    int err = 0;
    while (!err && fds.size() < 1000) {
        int fd = ::open(dev->path().c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0)
            err = errno;
        else
            fds.emplace_back(fd);
    }
    const unsigned max = module_param("/sys/module/vgpu_back/parameters/max_clients");
    expect((err == ENOSPC || err == EMFILE) && fds.size() + 1 <= max,
           "open number " + std::to_string(fds.size() + 2) + " refused: " + std::strerror(err));
    fds.clear();
    honest_context_works(dev);
    return fails;
}

int inflight(unsigned n) {
    auto dev = vgpu::Device::open();
    vgpu::Context a(dev), b(dev);
    vgpu::Buffer ha(a, n * 4, vgpu::Domain::Host), hb(b, n * 4, vgpu::Domain::Host);
    std::vector<std::shared_ptr<vgpu::Fence>> fences;
    for (unsigned i = 0; i < n; i++) {
        fences.push_back(a.fill(ha.gpu_addr() + 4 * i, 4, 1000 + i));
        fences.push_back(b.fill(hb.gpu_addr() + 4 * i, 4, 5000 + i));
    }
    // One submission larger than a ring slot: its commands go in pages.
    constexpr unsigned kCmds = 300;
    vgpu::Buffer hc(a, kCmds * 4, vgpu::Domain::Host);
    std::vector<drm_vgpu_cmd> cmds(kCmds);
    for (unsigned i = 0; i < kCmds; i++) {
        cmds[i].op = DRM_VGPU_CMD_FILL;
        cmds[i].dst = hc.gpu_addr() + 4 * i;
        cmds[i].size = 4;
        cmds[i].value = 7 * i + 3;
    }
    fences.push_back(a.submit(cmds));
    unsigned signalled = 0;
    for (const auto& f : fences) signalled += f->wait();
    expect(signalled == fences.size(), std::to_string(signalled) + " of " + std::to_string(fences.size()) +
                                           " fences signalled");
    a.check();
    b.check();
    const auto* va = static_cast<const uint32_t*>(ha.data());
    const auto* vb = static_cast<const uint32_t*>(hb.data());
    const auto* vc = static_cast<const uint32_t*>(hc.data());
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++) bad += va[i] != 1000 + i || vb[i] != 5000 + i;
    for (unsigned i = 0; i < kCmds; i++) bad += vc[i] != 7 * i + 3;
    expect(bad == 0, "every word holds its value (" + std::to_string(bad) + " wrong)");
    return fails;
}

// keep's pattern: word @w of the buffer, unless a round filled its page.
uint32_t keep_word(uint64_t w) { return static_cast<uint32_t>(w * 2654435761u) ^ 0x5a5a1234u; }

// Reads the whole buffer back: the words that differ from the pattern and
// the rounds' fills.  @step runs after each 4 MiB.
size_t keep_verify(const vgpu::Buffer& d, const std::map<uint64_t, uint32_t>& filled,
                   const std::function<void()>& step = [] {}) {
    constexpr size_t kChunk = 4 << 20;
    std::vector<uint32_t> buf(kChunk / 4);
    size_t bad = 0;
    for (size_t off = 0; off < d.size(); off += kChunk) {
        const size_t n = std::min(kChunk, d.size() - off);
        d.read(std::as_writable_bytes(std::span(buf.data(), n / 4)), off);
        for (size_t i = 0; i < n / 4; i++) {
            const uint64_t w = off / 4 + i;
            auto f = filled.find(w / 1024);
            const uint32_t want = f == filled.end() ? keep_word(w) : f->second;
            if (buf[i] != want && !bad++)
                std::printf("keep: word %lu of the %zu KiB buffer reads 0x%08x, not 0x%08x\n",
                            static_cast<unsigned long>(w), d.size() >> 10, buf[i], want);
        }
        step();
    }
    return bad;
}

// Writes keep's pattern into all of @d.
void keep_write(vgpu::Buffer& d) {
    std::vector<uint32_t> buf(size_t(1) << 20);
    for (size_t off = 0; off < d.size(); off += buf.size() * 4) {
        const size_t words = std::min(buf.size(), (d.size() - off) / 4);
        for (size_t i = 0; i < words; i++) buf[i] = keep_word(off / 4 + i);
        d.write(std::as_bytes(std::span(buf.data(), words)), off);
    }
}

// CLOCK_BOOTTIME in ms: it goes on while the domain is saved or moved.
double boottime_ms() {
    struct timespec ts {};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// keep's pauses: the steps (rounds, and 4 MiB pieces of a full check)
// during which the domain was stopped (a save and restore, a checkpoint,
// a migration's last phase), with the slow steps right after them (the
// program waiting for its vGPU to come back), reported as one.
// steady_clock stops while the domain is stopped; CLOCK_BOOTTIME counts
// that time too (the kernel adds it at resume), so their difference is
// the time the domain was stopped.  Slow steps with no stop (a migration's
// live phase, a pre-copy) are not pauses of this kind: not reported.
class PauseMeter {
public:
    void step(unsigned long round) {
        const auto now = std::chrono::steady_clock::now();
        const double boot = boottime_ms();
        const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
        const double stopped = std::max(0.0, boot - last_boot_ - ms);
        if (stopped > 5 || (steps_ && ms > 100)) {
            if (!steps_) first_ = round;
            steps_++;
            last_round_ = round;
            ms_ += ms + stopped;
            stopped_ms_ += stopped;
        } else {
            flush();
        }
        last_ = now;
        last_boot_ = boot;
    }
    void flush() {
        if (!steps_) return;
        std::printf("keep: paused %.0f ms, the domain stopped for %.0f ms of it, at rounds %lu-%lu\n", ms_,
                    stopped_ms_, first_, last_round_);
        std::fflush(stdout);
        steps_ = 0;
        ms_ = stopped_ms_ = 0;
    }

private:
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    double last_boot_ = boottime_ms();
    unsigned long first_ = 0, last_round_ = 0, steps_ = 0;
    double ms_ = 0, stopped_ms_ = 0;
};

int keep(unsigned mib, bool cold) {
    auto dev = vgpu::Device::open();
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    const size_t size = size_t(mib) << 20;
    vgpu::Buffer d(ctx, size, vgpu::Domain::Device);
    // keep-cold: the rounds fill a buffer of their own; d is read-only.
    vgpu::Buffer hot(ctx, cold ? 64 << 10 : 4096, vgpu::Domain::Device);
    constexpr uint32_t n = 1024;
    vgpu::Buffer out(ctx, n * 4, vgpu::Domain::Host);
    // Host memory only the GPU writes (a FILL a round), the CPU only
    // reads: a live migration must carry what the GPU wrote there.
    vgpu::Buffer seen(ctx, n * 4, vgpu::Domain::Host);
    keep_write(d);
    keep_write(hot);
    if (cold) d.protect(DRM_VGPU_BIND_READ);
    vgpu::Buffer& target = cold ? hot : d;
    const std::map<uint64_t, uint32_t> none;
    std::map<uint64_t, uint32_t> filled;  // 4 KiB page of target -> its fill
    const uint64_t pages = target.size() / 4096;
    unsigned long rounds = 0, checks = 0, wrong_launches = 0, wrong_host = 0;
    size_t wrong = 0;
    auto t0 = std::chrono::steady_clock::now(), last_check = t0, last_beat = t0;
    PauseMeter pauses;
    std::printf("keep: started, %u MiB of device memory\n", mib);
    std::fflush(stdout);
    while (access("/tmp/keep.stop", F_OK) != 0) {
        const uint64_t page = (rounds * 7919) % pages;
        const uint32_t value = 0x80000000u | static_cast<uint32_t>(rounds);
        ctx.fill(target.gpu_addr() + page * 4096, 4096, value);
        filled[page] = value;
        ctx.fill(seen.gpu_addr(), n * 4, value);
        std::memset(out.data(), 0, n * 4);
        ctx.launch(mod.kernel("iota"), {n / 128}, {128}, {out, n});
        ctx.synchronize();
        const auto* v = static_cast<const uint32_t*>(out.data());
        for (uint32_t i = 0; i < n; i++)
            if (v[i] != 3 * i + 1) {
                wrong_launches++;
                break;
            }
        const auto* h = static_cast<const uint32_t*>(seen.data());
        for (uint32_t i = 0; i < n; i++)
            if (h[i] != value) {
                if (!wrong_host++)
                    std::printf("keep: round %lu: host memory the GPU filled with 0x%08x reads 0x%08x at word %u\n",
                                rounds, value, h[i], i);
                break;
            }
        rounds++;
        pauses.step(rounds);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_check > std::chrono::seconds(20)) {
            const auto step = [&] { pauses.step(rounds); };
            // Each read-back on its own: a wrong one is named.
            const size_t bad = keep_verify(target, filled, step) + (cold ? keep_verify(d, none, step) : 0);
            if (bad) std::printf("keep: read-back %lu at round %lu: %zu words wrong\n", checks + 1, rounds, bad);
            std::fflush(stdout);
            wrong += bad;
            checks++;
            last_check = std::chrono::steady_clock::now();
        }
        if (now - last_beat > std::chrono::seconds(5)) {
            std::printf("keep: round %lu, %.0f s\n", rounds, sample::ms_since(t0) / 1000);
            std::fflush(stdout);
            last_beat = now;
        }
    }
    pauses.flush();
    wrong += keep_verify(target, filled) + (cold ? keep_verify(d, none) : 0);
    checks++;
    std::printf("keep: %lu rounds, %lu full checks of %u MiB%s\n", rounds, checks, mib,
                cold ? " (read-only) and 64 KiB filled" : "");
    expect(wrong_launches == 0, "every launch computed right (" + std::to_string(wrong_launches) + " wrong)");
    expect(wrong_host == 0,
           "host memory read what the GPU wrote in every round (" + std::to_string(wrong_host) + " rounds wrong)");
    expect(wrong == 0, "every word of device memory held its value (" + std::to_string(wrong) + " wrong)");
    expect(rounds > 0, "rounds ran");
    return fails;
}

}  // namespace

int main(int argc, char** argv) {
    int status = 0;
    const auto a = vgpu::parse_main(vgpu::selftest::command(), vgpu::selftest::parse_args, argc, argv, status);
    if (!a)
        return status;
    const std::string& t = a->test;
    try {
        int f = t == "fault"       ? fault()
                : t == "watchdog"  ? watchdog(a->n)
                : t == "longrun"   ? longrun(a->n)
                : t == "bind-race" ? bind_race()
                : t == "bind-partial" ? bind_partial()
                : t == "bind-rules" ? bind_rules()
                : t == "job-flood" ? job_flood()
                : t == "clients"   ? clients()
                : t == "inflight"  ? inflight(a->n)
                : t == "keep"      ? keep(a->n, false)
                : t == "keep-cold" ? keep(a->n, true)
                                   : hold();
        std::printf("selftest %s: %s\n", t.c_str(), f ? "FAIL" : "PASS");
        return f ? 1 : 0;
    } catch (const std::exception& e) {
        std::printf("selftest %s: error: %s FAIL\n", t.c_str(), e.what());
        return 1;
    }
}
