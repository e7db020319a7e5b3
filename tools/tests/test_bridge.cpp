// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-engined's bridge (Bridge::handle) fed crafted requests, as
// vgpu-uengine.ko sends them, over a memfd standing in for the device's
// windows (window w is the memfd at w << VGPU_UE_WINDOW_SHIFT), with the
// CUDA back end over a fake libcuda (fake_cuda.hpp).  Also how the back
// end of a new session is built (vgpu-engined's loop).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <sstream>

#include "bridge.hpp"
#include "cuda_api.hpp"
#include "fake_cuda.hpp"
#include "ue_requests.hpp"

namespace {

using namespace vgpu::engine;
using vgpu::engine::test::audit_tables;
using vgpu::engine::test::FakeCuda;

constexpr uint64_t P = 4096;

using vgpu::engine::test::windows_fd;

struct Rig : test::Client {
    FakeCuda fake;
    std::unique_ptr<Backend> be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    int fd = windows_fd();
    Bridge br{*be, dup(fd)};
    Rig() {
        handler = [this](const vgpu_ue_req& q, const uint8_t* p) { return br.handle(q, p); };
    }
    ~Rig() { close(fd); }

    uint32_t window_word(uint64_t window, uint64_t off) {
        uint32_t w = 0;
        EXPECT_EQ(pread(fd, &w, 4, static_cast<off_t>((window << VGPU_UE_WINDOW_SHIFT) + off)), 4);
        return w;
    }
    // Registrations cover mapped memory only; nothing freed is reachable.
    void check(const char* where) {
        EXPECT_EQ(fake.unmapped_registrations(), "") << where;
        EXPECT_EQ(audit_tables(fake, *be), "") << where;
        EXPECT_EQ(fake.errors(), "") << where;
    }
};

// Issue 16 item 1 through the bridge: a 3-page window A, its middle page
// unmapped, a 1-page window B (which lands in A's hole when the bridge
// munmaps part of a window), A's third page unmapped, a new context.
TEST(Bridge, Item1HoleSequence) {
    Rig r;
    const uint64_t va = 0x100000, vb = 0x200000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.map_host(1, va, 3, 1), 0);
    r.unmap(1, va + P, 1);
    r.check("after the partial unmap");
    ASSERT_EQ(r.map_host(1, vb, 1, 2), 0);
    r.check("after mapping B");
    r.unmap(1, va + 2 * P, 1);
    ASSERT_EQ(r.ctx_create(2), 0);
    r.check("after the new context");
    auto f = r.fill(1, 1, vb, P, 0x600dbeef);
    EXPECT_EQ(f.error, 0);
    EXPECT_EQ(f.run.status, uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(2, 0), 0x600dbeefu);
    EXPECT_EQ(r.window_word(1, P), 0u);
    r.check("after a RUN");
    r.ctx_destroy(1);
    EXPECT_EQ(r.br.windows(), 0u);
    EXPECT_EQ(r.fake.live_registrations(), 0u);
}

// Item 9 (bridge side): a partial unmap, a remap at the same address,
// an unmap: the first window's other pages stay mapped and written.
TEST(Bridge, PartialUnmapRemapUnmapKeepsTheWindow) {
    Rig r;
    const uint64_t va = 0x300000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.map_host(1, va, 3, 1), 0);
    r.unmap(1, va, 1);
    r.check("after the partial unmap");
    ASSERT_EQ(r.map_host(1, va, 1, 2), 0);
    r.unmap(1, va, 1);
    r.check("after the second unmap");
    EXPECT_EQ(r.br.windows(), 1u);
    auto f = r.fill(1, 1, va + P, 2 * P, 0x1234);
    EXPECT_EQ(f.run.status, uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(1, P), 0x1234u);
    EXPECT_EQ(r.window_word(1, 3 * P - 4), 0x1234u);
    EXPECT_EQ(r.window_word(2, 0), 0u);
    r.unmap(1, va + P, 2);
    EXPECT_EQ(r.br.windows(), 0u);
    EXPECT_EQ(r.fake.live_registrations(), 0u);
    r.check("at the end");
}

// Item 11: a cuMemAlloc failure inside map() answers ENOMEM; nothing
// escapes Bridge::handle and the window is given back.
TEST(Bridge, AllocFailureInMapAnswersEnomem) {
    Rig r;
    ASSERT_EQ(r.ctx_create(1), 0);
    r.fake.fail_mem_alloc(1);  // the table pool's first chunk
    EXPECT_EQ(r.map_host(1, 0x100000, 2, 1), -ENOMEM);
    EXPECT_EQ(r.br.windows(), 0u);
    EXPECT_EQ(r.fake.live_registrations(), 0u);
    EXPECT_EQ(r.map_host(1, 0x100000, 2, 2), 0);
    r.check("after the retry");
}

// Garbage answers an error, never an exception, and leaves nothing.
TEST(Bridge, BadRequestsAnswerErrors) {
    Rig r;
    EXPECT_EQ(r.send(Rig::op(99)).error, -EOPNOTSUPP);
    EXPECT_EQ(r.map_host(7, 0x1000, 1, 1), -ENOENT);   // no such context
    ASSERT_EQ(r.ctx_create(1), 0);
    EXPECT_NE(r.map_host(1, 0x1000, 1, 1ull << 30), 0);  // the window's offset does not fit
    EXPECT_NE(r.send(Rig::map_req(1, 0x1000, 0, 1)).error, 0);  // empty
    EXPECT_NE(r.send(Rig::map_req(1, 0x1001, P, 1)).error, 0);  // unaligned
    EXPECT_EQ(r.br.windows(), 0u);
    r.check("at the end");
}

// A RUN's answer in its named fields: a job sent from command 1 of 2
// ends DONE at 2; a fault's record only in a FAULTED answer.
TEST(Bridge, RunAnswersInNamedFields) {
    Rig r;
    const uint64_t va = 0x100000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.map_host(1, va, 1, 1), 0);
    drm_vgpu_cmd c = Rig::fill_cmd(va, P, 0xfeed);
    vgpu_ue_req q = Rig::run_req(1, 7, 2, &c);
    q.payload_len = sizeof(c);  // command 1 only: the module sends from next_cmd on
    q.run.next_cmd = 1;
    auto a = r.send(q, &c);
    ASSERT_EQ(a.error, 0);
    EXPECT_EQ(a.run.status, uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(a.run.next_cmd, 2u);
    EXPECT_EQ(a.run.cmd_done, 0u);
    EXPECT_EQ(a.run.fault_kind, 0u);
    EXPECT_EQ(a.run.fault_addr, 0u);
    EXPECT_EQ(r.window_word(1, P - 4), 0xfeedu);
    auto f = r.fill(1, 8, 0x900000, P, 1);  // nothing mapped there
    ASSERT_EQ(f.error, 0);
    EXPECT_EQ(f.run.status, uint32_t{VGPU_UE_RUN_FAULTED});
    EXPECT_EQ(f.run.next_cmd, 0u);
    EXPECT_EQ(f.run.fault_kind, uint32_t{DRM_VGPU_FAULT_UNMAPPED});
    EXPECT_EQ(f.run.fault_addr, 0x900000u);
    r.check("at the end");
}

// Requests that break the format answer EINVAL (and no body): a payload
// that is not the job from next_cmd on, a payload on another operation,
// a host window at an offset, a MAP of an undefined kind.
TEST(Bridge, MalformedRequestsAnswerEinval) {
    Rig r;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.map_host(1, 0x100000, 1, 1), 0);
    drm_vgpu_cmd c = Rig::fill_cmd(0x100000, P, 1);
    vgpu_ue_req q = Rig::run_req(1, 1, 2, &c);  // two commands, one sent
    q.payload_len = sizeof(c);
    EXPECT_EQ(r.send(q, &c).error, -EINVAL);
    q.run.next_cmd = 1;
    EXPECT_EQ(r.send(q, &c).error, 0);
    EXPECT_EQ(r.send(Rig::run_req(1, 2, 1, nullptr)).error, -ENOENT);  // never sent
    vgpu_ue_req m = Rig::map_req(1, 0x200000, P, 2);
    m.payload_len = sizeof(c);
    EXPECT_EQ(r.send(m, &c).error, -EINVAL);
    m.payload_len = 0;
    m.map.offset = P;
    EXPECT_EQ(r.send(m).error, -EINVAL);
    m.map.offset = 0;
    m.map.kind = 2;
    EXPECT_EQ(r.send(m).error, -EINVAL);
    EXPECT_EQ(r.br.windows(), 1u);
    r.check("at the end");
}

// Item 7: a new session's back end is built after the old one is freed
// (a GPU with room for one only), and -b auto that ran on the GPU does
// not go on silently on the interpreter.
TEST(Bridge, RenewFreesTheOldBackendFirst) {
    FakeCuda fake;
    fake.set_mem_limit(160 << 20);  // room for one back end (32 MiB + 64 MiB of scratch)
    BackendMakers makers{[] { return make_cuda_backend(FakeCuda::api(), 32 << 20, 0); },
                         [] { return make_interp_backend(64 << 20); }};
    std::ostringstream log;
    for (std::string kind : {"cuda", "auto"}) {
        auto be = choose_backend(kind, "", makers, log);
        ASSERT_EQ(be->name().rfind("cuda", 0), 0u) << kind;
        EXPECT_NO_THROW(renew_backend(be, kind, makers, log)) << kind;
        ASSERT_TRUE(be) << kind;
        EXPECT_EQ(be->name().rfind("cuda", 0), 0u) << kind;
    }
    // The GPU gone after a cuda session: auto says so and fails.
    auto be = choose_backend("auto", "", makers, log);
    BackendMakers broken{[]() -> std::unique_ptr<Backend> { throw Unavailable("no GPU any more"); },
                         makers.interp};
    EXPECT_THROW(renew_backend(be, "auto", broken, log), Unavailable);
    EXPECT_NE(log.str().find("no GPU any more"), std::string::npos);
    // With no GPU from the start, auto runs the interpreter and says so.
    log.str("");
    EXPECT_EQ(choose_backend("auto", "", broken, log)->name(), "interp");
    EXPECT_NE(log.str().find("interpreter"), std::string::npos);
    EXPECT_EQ(fake.errors(), "");
}

// A table upload that fails leaves the GPU's tables reaching memory the
// bridge would munmap (and a later window could take its place, sharing
// the stale registration): the back end is lost, the session ends
// (BackendLost out of handle(), never an error answer).
TEST(Bridge, FailedTableUploadEndsTheSession) {
    Rig r;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.map_host(1, 0x10000, 2, 1), 0);
    r.fake.fail_htod(1);
    vgpu_ue_req q = Rig::op(VGPU_UE_OP_UNMAP);
    q.seq = 99;
    q.unmap.ctx = 1;
    q.unmap.va = 0x10000;
    q.unmap.size = P;
    EXPECT_THROW(r.br.handle(q, nullptr), BackendLost);
    EXPECT_EQ(r.br.windows(), 1u);  // nothing munmap()ed under the GPU's tables
}

// A back end that runs out of memory inside map(): the window goes too.
TEST(Bridge, MapThatThrowsLeavesNoWindow) {
    struct Throwing final : Backend {
        std::string name() const override { return "throwing"; }
        uint64_t mem_size() const override { return 1 << 20; }
        int ctx_create(uint64_t, uint64_t) override { return 0; }
        void ctx_destroy(uint64_t) override {}
        int mem_alloc(uint64_t, uint64_t) override { return 0; }
        void mem_free(uint64_t) override {}
        int map(uint64_t, uint64_t, uint64_t, uint32_t, const Backing& b) override {
            last = b.host;
            throw std::bad_alloc();
        }
        void unmap(uint64_t, uint64_t, uint64_t) override {}
        RunResult run(uint64_t, Job&, uint64_t, uint64_t) override { return {}; }
        int mem_read(uint64_t, uint64_t, void*, uint64_t) override { return 0; }
        int mem_write(uint64_t, uint64_t, const void*, uint64_t) override { return 0; }
        uint8_t* last = nullptr;
    } be;
    int fd = windows_fd();
    Bridge br(be, fd);
    vgpu_ue_req q = Rig::map_req(1, 0x10000, 4 * P, 1);
    EXPECT_EQ(br.handle(q, nullptr).error, -ENOMEM);
    ASSERT_NE(be.last, nullptr);
    EXPECT_NE(msync(be.last, 4 * P, MS_ASYNC), 0);  // munmap()ed
    EXPECT_EQ(br.windows(), 0u);
}

// The HELLO names the GPU by the PCI address CUDA reports, as the
// module wants it: NUL-terminated, every byte after it zero.
TEST(Bridge, HelloCarriesThePciAddress) {
    FakeCuda fake;
    auto be = make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    EXPECT_EQ(be->pci(), "0000:3b:00.1");  // the function kept, lower case
    vgpu_ue_hello h = make_hello(*be);
    EXPECT_EQ(h.version, VGPU_UE_VERSION);
    EXPECT_EQ(h.mem_size, 16u << 20);
    EXPECT_STREQ(h.pci, "0000:3b:00.1");
    EXPECT_TRUE(std::all_of(h.pci + 12, std::end(h.pci), [](char c) { return c == 0; }));
    EXPECT_EQ(h.generation, 0u);
    EXPECT_EQ(h.flags, 0u);
}

// The HELLO offers the layout the back end can serve (both back ends:
// 4 KiB pages anywhere in the ISA's 40 bits), and a refusal names what
// the instance would need.
TEST(Bridge, HelloOffersTheLayout) {
    auto be = make_interp_backend(16 << 20);
    vgpu_ue_hello h = make_hello(*be);
    EXPECT_EQ(h.page_shift, 12u);
    EXPECT_EQ(h.va_lo, 0u);
    EXPECT_EQ(h.va_hi, uint64_t{1} << 40);
    EXPECT_EQ(h.engine_page_shift, 0u);
    h.engine_page_shift = 21;
    h.engine_va_start = 64ull << 30;
    h.engine_va_end = 1008ull << 30;
    std::string m = layout_refused(h);
    EXPECT_NE(m.find("4 KiB pages in [0, 0x10000000000)"), std::string::npos) << m;
    EXPECT_NE(m.find("2048 KiB pages in [0x1000000000, 0xfc00000000)"), std::string::npos) << m;
}

// The interpreter is no PCI device: an empty address, every byte zero.
TEST(Bridge, HelloOfTheInterpreterHasNoPciAddress) {
    auto be = make_interp_backend(16 << 20);
    vgpu_ue_hello h = make_hello(*be);
    EXPECT_TRUE(std::all_of(std::begin(h.pci), std::end(h.pci), [](char c) { return c == 0; }));
    EXPECT_STREQ(h.name, "interp");
}

// An address longer than the field is cut, still terminated.
TEST(Bridge, HelloCutsALongPciAddress) {
    struct Long : Backend {
        std::unique_ptr<Backend> in = make_interp_backend(16 << 20);
        std::string name() const override { return in->name(); }
        uint64_t mem_size() const override { return in->mem_size(); }
        std::string pci() const override { return std::string(40, 'a'); }
        int ctx_create(uint64_t c, uint64_t g) override { return in->ctx_create(c, g); }
        void ctx_destroy(uint64_t c) override { in->ctx_destroy(c); }
        int mem_alloc(uint64_t m, uint64_t s) override { return in->mem_alloc(m, s); }
        void mem_free(uint64_t m) override { in->mem_free(m); }
        int map(uint64_t c, uint64_t va, uint64_t s, uint32_t p, const Backing& b) override {
            return in->map(c, va, s, p, b);
        }
        void unmap(uint64_t c, uint64_t va, uint64_t s) override { in->unmap(c, va, s); }
        RunResult run(uint64_t c, Job& j, uint64_t b, uint64_t w) override { return in->run(c, j, b, w); }
        int mem_read(uint64_t m, uint64_t o, void* d, uint64_t s) override { return in->mem_read(m, o, d, s); }
        int mem_write(uint64_t m, uint64_t o, const void* s, uint64_t n) override {
            return in->mem_write(m, o, s, n);
        }
    } be;
    vgpu_ue_hello h = make_hello(be);
    EXPECT_EQ(std::string(h.pci), std::string(sizeof(h.pci) - 1, 'a'));
}

}  // namespace
