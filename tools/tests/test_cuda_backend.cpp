// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The CUDA back end of vgpu-engined over a fake libcuda (fake_cuda.hpp):
// host-memory registrations and stages, page tables and their memory,
// allocation failures, checked against what the GPU would see.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

#include "cuda_api.hpp"
#include "fake_cuda.hpp"

extern "C" {
#include "vgpu_pt.h"
}

namespace {

using namespace vgpu::engine;
using vgpu::engine::test::audit_tables;
using vgpu::engine::test::FakeCuda;
using vgpu::engine::test::gpu_leaf;

constexpr uint64_t P = 4096;
constexpr uint32_t RW = VGPU_PTE_R | VGPU_PTE_W;

// Process memory standing in for the bridge's windows.
struct HostMem {
    uint8_t* p;
    size_t n;
    explicit HostMem(size_t pages) : n(pages * P) {
        void* m = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            throw std::bad_alloc();
        p = static_cast<uint8_t*>(m);
    }
    ~HostMem() { munmap(p, n); }
};

// VGPU_ENGINED_STAGE_HOST for one back end's construction.
struct Staging {
    explicit Staging(bool on) {
        if (on)
            setenv("VGPU_ENGINED_STAGE_HOST", "1", 1);
    }
    ~Staging() { unsetenv("VGPU_ENGINED_STAGE_HOST"); }
};

std::unique_ptr<Backend> make(bool staged) {
    Staging s(staged);
    return make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
}

Backing host(uint8_t* p) {
    Backing b;
    b.host = p;
    return b;
}

// A job of command @c, run until it ends (64 MiB of a copy or fill a
// RUN at most).
RunResult run_cmd(Backend& be, uint64_t ctx, const drm_vgpu_cmd& c) {
    Job j;
    j.cmds.push_back(c);
    RunResult r;
    do
        r = be.run(ctx, j, 1000000000ull, 1000000000ull);
    while (r.status == RunStatus::Preempted);
    return r;
}

// One FILL of @size bytes at @va with @value, run to its end.
RunResult fill(Backend& be, uint64_t ctx, uint64_t va, uint64_t size, uint32_t value) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_FILL;
    c.dst = va;
    c.size = size;
    c.value = value;
    return run_cmd(be, ctx, c);
}

uint32_t word(const uint8_t* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
}

class CudaHost : public ::testing::TestWithParam<bool> {};

// Issue 16 item 1, the guest-driven sequence: map a 3-page host object
// A, unmap its middle page, map a 1-page object B whose window lands in
// the hole, unmap A's third page, create a context.  Nothing freed may
// stay referenced, every mapped page must reach live memory, and B must
// still be the memory the guest mapped.
TEST_P(CudaHost, Item1HoleSequenceFreesNothingMapped) {
    FakeCuda fake;
    auto be = make(GetParam());
    HostMem a(3);
    const uint64_t va = 0x100000, vb = 0x200000;
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    ASSERT_EQ(be->map(1, va, 3 * P, RW, host(a.p)), 0);
    be->unmap(1, va + P, P);
    ASSERT_EQ(be->map(1, vb, P, RW, host(a.p + P)), 0);  // B in A's hole
    be->unmap(1, va + 2 * P, P);
    ASSERT_EQ(be->ctx_create(2, 0), 0);
    EXPECT_EQ(audit_tables(fake, *be), "");
    EXPECT_NE(gpu_leaf(fake, *be, 1, vb), 0u);
    EXPECT_EQ(gpu_leaf(fake, *be, 1, va + 2 * P), 0u);
    EXPECT_EQ(fill(*be, 1, vb, P, 0x5a5a1234).status, RunStatus::Done);
    EXPECT_EQ(word(a.p + P), 0x5a5a1234u);
    EXPECT_EQ(fill(*be, 1, va, P, 0x77).status, RunStatus::Done);
    EXPECT_EQ(word(a.p), 0x77u);
    EXPECT_EQ(fake.errors(), "");
    // Everything unmapped: every registration and stage is gone.
    be->unmap(1, va, P);
    be->unmap(1, vb, P);
    EXPECT_EQ(fake.live_registrations(), 0u);
    be->ctx_destroy(1);
    be->ctx_destroy(2);
    be.reset();
    EXPECT_EQ(fake.live_allocs(), 0u);
    EXPECT_EQ(fake.errors(), "");
}

// Item 9 at the back end: a partial unmap, a remap at the same address,
// an unmap; the first object's other pages stay mapped and reachable.
TEST_P(CudaHost, PartialUnmapRemapUnmapKeepsTheRest) {
    FakeCuda fake;
    auto be = make(GetParam());
    HostMem a(3), b(1);
    const uint64_t va = 0x400000;
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    ASSERT_EQ(be->map(1, va, 3 * P, RW, host(a.p)), 0);
    be->unmap(1, va, P);
    ASSERT_EQ(be->map(1, va, P, RW, host(b.p)), 0);
    be->unmap(1, va, P);
    EXPECT_EQ(audit_tables(fake, *be), "");
    EXPECT_EQ(fill(*be, 1, va + P, 2 * P, 0xabcd).status, RunStatus::Done);
    EXPECT_EQ(word(a.p + P), 0xabcdu);
    EXPECT_EQ(word(a.p + 2 * P + P - 4), 0xabcdu);
    EXPECT_EQ(fake.live_registrations(), GetParam() ? 0u : 1u);
    be->unmap(1, va + P, 2 * P);
    EXPECT_EQ(fake.live_registrations(), 0u);
    EXPECT_EQ(audit_tables(fake, *be), "");
    EXPECT_EQ(fake.errors(), "");
}

// Item 11: cuMemAlloc fails inside map() (page-table growth, or the
// stage): map() answers ENOMEM, nothing half-done stays (no registration,
// no stage, no stale leaf), and the same map works afterwards.
TEST_P(CudaHost, AllocFailureInMapLeavesNothing) {
    FakeCuda fake;
    auto be = make(GetParam());
    HostMem a(4);
    const uint64_t va = 0x40000000ull - 2 * P;  // crosses a 1 GiB boundary: two tables
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    uint64_t base = fake.live_allocs();
    for (uint64_t nth = 1; nth <= 3; nth++) {
        fake.fail_mem_alloc(nth);
        int r = -1;
        EXPECT_NO_THROW(r = be->map(1, va, 4 * P, RW, host(a.p))) << nth;
        fake.fail_mem_alloc(0);
        if (r == 0) {  // the allocation asked to fail was not needed
            be->unmap(1, va, 4 * P);
            continue;
        }
        EXPECT_EQ(r, ENOMEM) << nth;
        EXPECT_EQ(fake.live_registrations(), 0u) << nth;
        EXPECT_EQ(gpu_leaf(fake, *be, 1, va), 0u) << nth;
        EXPECT_EQ(audit_tables(fake, *be), "") << nth;
        EXPECT_LE(fake.live_allocs(), base + 1) << nth;  // at most the pool's chunk stays
    }
    ASSERT_EQ(be->map(1, va, 4 * P, RW, host(a.p)), 0);
    EXPECT_EQ(fill(*be, 1, va, 4 * P, 9).status, RunStatus::Done);
    EXPECT_EQ(word(a.p + 3 * P), 9u);
    be->ctx_destroy(1);
    EXPECT_EQ(fake.live_registrations(), 0u);
    EXPECT_EQ(fake.errors(), "");
}

INSTANTIATE_TEST_SUITE_P(Registered, CudaHost, ::testing::Values(false));

// A back end that cannot be made (each of the constructor's cuMemAlloc
// fails in turn) releases every driver resource it had made: memory,
// streams, events and the primary context's retain; one that is made
// and destroyed does too.
TEST(CudaBackend, AFailedConstructionReleasesWhatItMade) {
    FakeCuda fake;
    for (uint64_t nth = 1; nth <= 3; nth++) {
        fake.fail_mem_alloc(nth);
        EXPECT_THROW(make(false), std::runtime_error) << nth;
        fake.fail_mem_alloc(0);
        EXPECT_EQ(fake.live_allocs(), 0u) << nth;
        EXPECT_EQ(fake.live_streams, 0) << nth;
        EXPECT_EQ(fake.live_events, 0) << nth;
        EXPECT_EQ(fake.ctx_retains, 0) << nth;
    }
    {
        auto be = make(false);
        EXPECT_EQ(fake.ctx_retains, 1);
        EXPECT_GE(fake.live_streams, 1);
        ASSERT_EQ(be->ctx_create(1, 0), 0);
        be->ctx_destroy(1);
    }
    EXPECT_EQ(fake.live_allocs(), 0u);
    EXPECT_EQ(fake.live_streams, 0);
    EXPECT_EQ(fake.live_events, 0);
    EXPECT_EQ(fake.ctx_retains, 0);
    EXPECT_EQ(fake.errors(), "");
}
INSTANTIATE_TEST_SUITE_P(Staged, CudaHost, ::testing::Values(true));

// The pages of a range already mapped are refused (EEXIST), as the
// interpreter's page tables do, and leave the old mapping alone.
TEST(CudaBackend, MapOverMappedPagesIsRefused) {
    FakeCuda fake;
    auto be = make(false);
    HostMem a(2), b(2);
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    ASSERT_EQ(be->map(1, 0x10000, 2 * P, RW, host(a.p)), 0);
    EXPECT_EQ(be->map(1, 0x11000, 2 * P, RW, host(b.p)), EEXIST);
    EXPECT_EQ(gpu_leaf(fake, *be, 1, 0x11000) & ~uint64_t{7}, reinterpret_cast<uintptr_t>(a.p + P));
    EXPECT_EQ(gpu_leaf(fake, *be, 1, 0x12000), 0u);
    be->unmap(1, 0x10000, 3 * P);
    EXPECT_EQ(fake.live_registrations(), 0u);
    EXPECT_EQ(fake.errors(), "");
}

// Device memory freed while a context still maps it stays allocated to
// that mapping: a new object never gets the pages another context reaches.
TEST(CudaBackend, MemFreedWhileMappedIsNotReused) {
    FakeCuda fake;
    auto be = make(false);
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    ASSERT_EQ(be->ctx_create(2, 0), 0);
    ASSERT_EQ(be->mem_alloc(10, P), 0);
    Backing m;
    m.mem = 10;
    ASSERT_EQ(be->map(1, 0x10000, P, RW, m), 0);
    be->mem_free(10);
    ASSERT_EQ(be->mem_alloc(11, P), 0);
    m.mem = 11;
    ASSERT_EQ(be->map(2, 0x10000, P, RW, m), 0);
    EXPECT_NE(gpu_leaf(fake, *be, 1, 0x10000) & ~uint64_t{7}, gpu_leaf(fake, *be, 2, 0x10000) & ~uint64_t{7});
    be->unmap(1, 0x10000, P);
    be->ctx_destroy(1);
    be->ctx_destroy(2);
    EXPECT_EQ(fake.errors(), "");
}

// Random maps and unmaps of host and device ranges over several contexts
// against a model of what each page should reach; host ranges overlap
// each other freely (as windows of the same memory may).
TEST(CudaBackend, RandomMapsKeepTheTablesExact) {
    for (bool staged : {false, true}) {
        FakeCuda fake;
        auto be = make(staged);
        HostMem h(32);
        std::mt19937_64 rng(staged ? 7 : 11);
        std::map<uint64_t, std::map<uint64_t, uint64_t>> model;  // ctx -> page -> host addr (0: device)
        const uint64_t base = 0x3ff00000;  // near a 1 GiB boundary
        uint64_t allocs0 = fake.live_allocs();
        ASSERT_EQ(be->mem_alloc(1, 64 * P), 0);
        for (uint64_t c = 1; c <= 3; c++)
            ASSERT_EQ(be->ctx_create(c, 0), 0);
        for (int step = 0; step < 3000; step++) {
            uint64_t ctx = 1 + rng() % 3, pg = rng() % 300, n = 1 + rng() % 4;
            uint64_t va = base + pg * P;
            auto& mp = model[ctx];
            if (rng() % 2) {
                bool busy = false;
                for (uint64_t i = 0; i < n; i++)
                    busy |= mp.count(pg + i) > 0;
                if (busy)
                    continue;
                uint64_t off = rng() % (32 - n);
                bool dev = rng() % 4 == 0;
                Backing b = dev ? Backing{1, off * P, nullptr} : host(h.p + off * P);
                ASSERT_EQ(be->map(ctx, va, n * P, RW, b), 0) << step;
                for (uint64_t i = 0; i < n; i++)
                    mp[pg + i] = dev ? 0 : reinterpret_cast<uintptr_t>(h.p + (off + i) * P);
            } else {
                be->unmap(ctx, va, n * P);
                for (uint64_t i = 0; i < n; i++)
                    mp.erase(pg + i);
            }
            ASSERT_EQ(audit_tables(fake, *be), "") << "step " << step;
            ASSERT_EQ(fake.errors(), "") << "step " << step;
            for (uint64_t i = 0; i < n; i++) {
                uint64_t e = gpu_leaf(fake, *be, ctx, va + i * P);
                auto want = mp.find(pg + i);
                ASSERT_EQ(e != 0, want != mp.end()) << "step " << step;
                uint64_t to = e & ~uint64_t{7};
                if (e && want->second) {  // the page itself, or a stage of it
                    ASSERT_TRUE(to == want->second || fake.device_live(to, P)) << "step " << step;
                }
            }
        }
        for (uint64_t c = 1; c <= 3; c++)
            be->ctx_destroy(c);
        be->mem_free(1);
        EXPECT_EQ(fake.live_registrations(), 0u);
        EXPECT_EQ(fake.live_allocs(), allocs0 + 1);  // the table pool's chunk, kept
        be.reset();
        EXPECT_EQ(fake.live_allocs(), 0u);
        EXPECT_EQ(fake.errors(), "");
    }
}

}  // namespace

namespace {

RunResult copy(Backend& be, uint64_t ctx, uint64_t dst, uint64_t src, uint64_t size) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_COPY;
    c.dst = dst;
    c.src = src;
    c.size = size;
    return run_cmd(be, ctx, c);
}

// Copies and fills take the 2 MiB blocks one map() covered whole in one
// look each (Space::blocks), page by page elsewhere; the bytes and the
// faults are the page walk's: a fault at the first byte that has no
// mapping (a page unmapped inside a block) or not the access (a block
// mapped read-only), every byte before it copied.
TEST(CudaBackend, CopiesAndFillsOverBlocksAndPagesAsThePageWalk) {
    FakeCuda fake;
    auto be = make(false);
    constexpr uint64_t M = 1 << 20;
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    ASSERT_EQ(be->mem_alloc(10, 6 * M), 0);  // blocks
    ASSERT_EQ(be->mem_alloc(11, 4 * M), 0);  // page by page
    ASSERT_EQ(be->mem_alloc(12, 2 * M), 0);  // a read-only block
    Backing m;
    m.mem = 10;
    ASSERT_EQ(be->map(1, 0x400000, 6 * M, RW, m), 0);
    m.mem = 11;
    for (uint64_t o = 0; o < 4 * M; o += P) {
        m.offset = o;
        ASSERT_EQ(be->map(1, 0x1000000 + o, P, RW, m), 0);
    }
    m.mem = 12;
    m.offset = 0;
    ASSERT_EQ(be->map(1, 0x1400000, 2 * M, VGPU_PTE_R, m), 0);
    ASSERT_EQ(fill(*be, 1, 0x400000, 6 * M, 0x01010101).status, RunStatus::Done);
    uint32_t w = 0;
    ASSERT_EQ(be->mem_read(10, 6 * M - 4, &w, 4), 0);
    EXPECT_EQ(w, 0x01010101u);
    std::vector<uint8_t> src(6 * M);
    for (size_t i = 0; i < src.size(); i++)
        src[i] = static_cast<uint8_t>(i * 13 + 5);
    ASSERT_EQ(be->mem_write(10, 0, src.data(), src.size()), 0);
    // Blocks to pages, unaligned, across block and page boundaries.
    ASSERT_EQ(copy(*be, 1, 0x1000000 + 7, 0x400000 + 101, 3 * M + 5).status, RunStatus::Done);
    std::vector<uint8_t> got(4 * M);
    ASSERT_EQ(be->mem_read(11, 0, got.data(), got.size()), 0);
    EXPECT_EQ(0, std::memcmp(got.data() + 7, src.data() + 101, 3 * M + 5));
    EXPECT_EQ(got[6], 0);
    EXPECT_EQ(got[7 + 3 * M + 5], 0);
    // Into the read-only block, from the last writable page before it:
    // one page copied, then PERM at the block's first byte.
    RunResult r = copy(*be, 1, 0x1400000 - P, 0x400000, 2 * P);
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_kind, uint32_t{VGPU_FAULT_PERM});
    EXPECT_EQ(r.fault_addr, 0x1400000u);
    ASSERT_EQ(be->mem_read(11, 4 * M - P, got.data(), P), 0);
    EXPECT_EQ(0, std::memcmp(got.data(), src.data(), P));
    // A page unmapped inside a block: the block is walked page by page.
    be->unmap(1, 0x600000 + 5 * P, P);
    r = copy(*be, 1, 0x1000000, 0x600000, 2 * M);
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_kind, uint32_t{VGPU_FAULT_UNMAPPED});
    EXPECT_EQ(r.fault_addr, 0x600000u + 5 * P);
    r = fill(*be, 1, 0x600000, 2 * M, 7);
    EXPECT_EQ(r.status, RunStatus::Faulted);
    EXPECT_EQ(r.fault_addr, 0x600000u + 5 * P);
    ASSERT_EQ(be->mem_read(10, 2 * M + 5 * P - 4, &w, 4), 0);
    EXPECT_EQ(w, 7u) << "filled up to the hole";
    ASSERT_EQ(be->mem_read(10, 2 * M + 6 * P, &w, 4), 0);
    EXPECT_EQ(0, std::memcmp(&w, src.data() + 2 * M + 6 * P, 4)) << "nothing after it";
    be->ctx_destroy(1);
    EXPECT_EQ(fake.errors(), "");
}

// An overlapping copy (here to a lower address: a memmove) goes through
// the back end's scratch in pieces no larger than it, however its start
// is aligned (an unaligned one used to run up to 4095 bytes past it).
TEST(CudaBackend, AnOverlappingCopyStaysInsideItsScratch) {
    FakeCuda fake;
    auto be = make(false);
    HostMem a((66 << 20) / P + 2);
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    ASSERT_EQ(be->map(1, 0x10000000, a.n, RW, host(a.p)), 0);
    for (size_t i = 0; i < a.n; i++)
        a.p[i] = static_cast<uint8_t>(i * 7);
    std::vector<uint8_t> want(a.p + 3, a.p + 3 + (65 << 20));
    RunResult r = copy(*be, 1, 0x10000000 + 1, 0x10000000 + 3, 65 << 20);
    EXPECT_EQ(r.status, RunStatus::Done);
    EXPECT_EQ(0, std::memcmp(a.p + 1, want.data(), want.size()));
    be->unmap(1, 0x10000000, a.n);
    be->ctx_destroy(1);
    EXPECT_EQ(fake.errors(), "");
}

}  // namespace
