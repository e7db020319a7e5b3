// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Warp-collective instructions of ISA version 2 (shfl, vote, activemask,
// wsync) in the interpreter: each mode against a reference of PTX's
// shfl.sync formula written here, partial warps, exited lanes, divergent
// groups, barriers, the release's cost, and stops at every instruction
// (Documentation/sim-isa.rst, "Warps").  Also their encoding in vgpu-as.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gpu_harness.hpp"
#include "vgpu/asm.hpp"

extern "C" {
#include "vgpu_isa_decode.h"
}

namespace {

using vgpu::test::Gpu;
constexpr uint64_t kIn = 0x200000, kOut = 0x800000;
constexpr unsigned long RW = VGPU_PTE_R | VGPU_PTE_W;

// r29 = the linear thread index in the block (2-D blocks), r28 = the
// thread's index in the grid, r26 = kOut + r28 * 64 (eight result slots),
// r25 = kIn + r28 * 32 (four inputs).
const char* kPrologue = R"(
    s2r r20, %tid.y
    s2r r21, %ntid.x
    mul r20, r20, r21
    s2r r22, %tid.x
    add r29, r20, r22
    s2r r23, %ntid.y
    mul r23, r23, r21
    s2r r22, %ctaid.x
    mul r22, r22, r23
    add r28, r22, r29
    shli r24, r28, 6
    ldp r26, 1
    add r26, r26, r24
    shli r24, r28, 5
    ldp r25, 0
    add r25, r25, r24
)";

struct Run {
    std::vector<uint64_t> out;  // eight slots per thread
    uint64_t executed;
    vgpu_run_result status;
};

// Runs @body (after kPrologue) on @grid blocks of @bx x @by threads with
// @in (four words per thread) in slices of @slice work units.
Run launch(const std::string& body, uint32_t grid, uint32_t bx, uint32_t by, const std::vector<uint64_t>& in = {},
           uint64_t slice = ~0ull, uint32_t shared = 0) {
    Gpu g;
    size_t threads = size_t{grid} * bx * by;
    auto* pin = reinterpret_cast<uint64_t*>(g.map(kIn, threads * 32 + 4096, VGPU_PTE_R));
    auto* pout = reinterpret_cast<uint64_t*>(g.map(kOut, threads * 64 + 4096, RW));
    if (!in.empty())
        std::memcpy(pin, in.data(), in.size() * 8);
    std::string src = ".kernel k\n" + std::string(shared ? ".shared " + std::to_string(shared) + "\n" : "") +
                      kPrologue + body + "\n    exit\n";
    auto code = g.load(src);
    auto d = Gpu::desc(code, grid, bx, {kIn, kOut}, shared);
    d.block[1] = by;
    auto r = g.run(d, slice);
    EXPECT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
    return {std::vector<uint64_t>(pout, pout + threads * 8), r.executed, r.status};
}

// PTX ISA, shfl.sync: the source lane j of lane @lane and whether it is
// in range (pval); j = lane when it is not.  Written from the PTX manual,
// independently of the interpreter's vgpu_shfl_src().
struct Src {
    uint32_t j;
    bool pval;
};
Src ptx_shfl(int mode, uint32_t lane, uint32_t b, uint32_t c) {
    int64_t bval = b & 0x1f, cval = c & 0x1f, segmask = (c >> 8) & 0x1f;
    int64_t max_lane = (lane & segmask) | (cval & ~segmask);
    int64_t min_lane = lane & segmask;
    int64_t j = 0;
    bool pval = false;
    if (mode == VGPU_SHFL_UP) {
        j = int64_t{lane} - bval;
        pval = j >= max_lane;
    } else if (mode == VGPU_SHFL_DOWN) {
        j = int64_t{lane} + bval;
        pval = j <= max_lane;
    } else if (mode == VGPU_SHFL_BFLY) {
        j = int64_t{lane} ^ bval;
        pval = j <= max_lane;
    } else {
        j = min_lane | (bval & ~segmask);
        pval = j <= max_lane;
    }
    if (!pval)
        j = lane;
    return {static_cast<uint32_t>(j), pval};
}

const char* kShflMode[] = {"idx", "up", "down", "bfly"};

// The lanes of warp @w of a block of @n threads that are in @group (by
// linear index): a mask.
uint32_t lanes(uint32_t n, uint32_t w, const std::function<bool(uint32_t)>& in_group) {
    uint32_t m = 0;
    for (uint32_t l = 0; l < 32 && w * 32 + l < n; l++)
        if (in_group(w * 32 + l))
            m |= 1u << l;
    return m;
}

// Every mode, with and without .p, on per-lane offsets, clamps, segment
// masks and membermasks (full, partial, without the lane itself, empty),
// in full warps and in the partial warp of a block of 40 threads, against
// ptx_shfl(); rd = ra in half the runs (every operand is read first).
TEST(Warp, ShflEveryModeClampAndSegmentAgainstPtx) {
    const uint32_t bs[] = {0, 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 0xffffffe1u, 0x80000004u};
    const uint32_t cs[] = {0x1f, 0, 7, 0x13, 0x181f, 0x1800, 0x1c1f, 0x1c00, 0x101f, 0x1f1f, 0x1e07, 0xffffffffu, 0x0f00};
    const uint64_t masks[] = {0xffffffffull, 0x0000ffffull, 0xffff0000ull, 0x5555555555555555ull, 0, 0xffffffff0f0f0f0full};
    std::mt19937_64 rng(17);
    int checked = 0;
    for (int mode = 0; mode < 4; mode++)
        for (int pred = 0; pred < 2; pred++)
            for (uint32_t bx : {64u, 40u}) {
                uint32_t grid = 2, n = grid * bx;
                std::vector<uint64_t> in(n * 4);
                for (uint32_t t = 0; t < n; t++) {
                    uint32_t lane = (t % bx) % 32;
                    in[t * 4] = rng();
                    in[t * 4 + 1] = bs[(t * 5 + mode) % std::size(bs)];
                    in[t * 4 + 2] = cs[(t / 3 + pred) % std::size(cs)];
                    in[t * 4 + 3] = t % 7 == 3 ? ~(1ull << lane) : masks[(t / 11) % std::size(masks)];
                }
                bool same = (mode + pred) % 2;  // rd = ra
                std::string op = std::string("shfl.") + kShflMode[mode] + (pred ? ".p" : "");
                std::string body = R"(
    ld.u64 r1, [r25]
    ld.u64 r2, [r25+8]
    ld.u64 r3, [r25+16]
    ld.u64 r4, [r25+24]
    )" + op + (same ? " r1, r1, r2, r3, r4\n    st.u64 [r26], r1\n" : " r5, r1, r2, r3, r4\n    st.u64 [r26], r5\n");
                auto r = launch(body, grid, bx, 1, in);
                for (uint32_t t = 0; t < n; t++) {
                    uint32_t lane = (t % bx) % 32, base = t - lane, width = std::min(32u, bx - (t % bx) / 32 * 32);
                    uint32_t group = width == 32 ? ~0u : (1u << width) - 1;
                    uint32_t m = group & static_cast<uint32_t>(in[t * 4 + 3]);
                    Src s = ptx_shfl(mode, lane, static_cast<uint32_t>(in[t * 4 + 1]), static_cast<uint32_t>(in[t * 4 + 2]));
                    // Out of range: its own; in range, not in M: 0.
                    uint64_t want = pred     ? s.pval
                                    : !s.pval ? in[t * 4]
                                    : (m >> s.j & 1) ? in[(base + s.j) * 4]
                                                      : 0;
                    ASSERT_EQ(r.out[t * 8], want) << op << " thread " << t << " lane " << lane << " b " << std::hex
                                                  << in[t * 4 + 1] << " c " << in[t * 4 + 2] << " mask " << m;
                    checked++;
                }
            }
    EXPECT_EQ(checked, 8 * (128 + 80));
}

// A warp sum with shfl.down as CUDA writes it (the mask full, offsets 16
// to 1), and the same with .bfly: every lane of a full warp gets the sum.
TEST(Warp, ShflReductionsOfFullWarps) {
    auto r = launch(R"(
    s2r r1, %laneid
    muli r1, r1, 3
    addi r1, r1, 1
    mov r2, r1
    li r3, 31
    li r4, -1
    li r5, 16
loop:
    shfl.down r6, r1, r5, r3, r4
    add r1, r1, r6
    shfl.bfly r7, r2, r5, r3, r4
    add r2, r2, r7
    shri r5, r5, 1
    bnz r5, loop
    st.u64 [r26], r1
    st.u64 [r26+8], r2
)", 2, 96, 1);
    for (uint32_t t = 0; t < 192; t++) {
        uint32_t lane = t % 32;
        // shfl.down: lane l ends with the sum over l, l+1, ..., reading its
        // own value where l + offset > 31 (pval false).
        std::vector<uint64_t> v(32);
        for (uint32_t l = 0; l < 32; l++)
            v[l] = 3 * l + 1;
        for (uint32_t off = 16; off; off >>= 1) {
            std::vector<uint64_t> n(32);
            for (uint32_t l = 0; l < 32; l++)
                n[l] = v[l] + (l + off <= 31 ? v[l + off] : v[l]);
            v = n;
        }
        EXPECT_EQ(r.out[t * 8], v[lane]) << t;
        EXPECT_EQ(r.out[t * 8 + 1], 32u * 31 * 3 / 2 + 32) << t;
    }
}

// A block of 20 x 2 threads (warp 1 has 8 lanes) in which every fifth
// thread exits at once: the group is the lanes left; shfl from an exited
// or missing lane in range gives 0 (as an NVIDIA GPU does), out of range
// the lane's own value; votes and activemask count the group only.
TEST(Warp, PartialWarpsAndExitedLanes) {
    auto r = launch(R"(
    li r1, 5
    remu r2, r29, r1
    bz r2, out
    s2r r3, %laneid
    muli r4, r3, 0x10001
    lih r4, 7
    li r5, 1
    li r6, 31
    li r7, -1
    shfl.down r8, r4, r5, r6, r7
    shfl.up r9, r4, r5, r0, r7
    andi r10, r3, 1
    vote.ballot r11, r10, r7
    vote.all r12, r10, r7
    vote.any r13, r10, r7
    vote.uni r14, r10, r7
    activemask r15
    st.u64 [r26], r8
    st.u64 [r26+8], r9
    st.u64 [r26+16], r11
    st.u64 [r26+24], r12
    st.u64 [r26+32], r13
    st.u64 [r26+40], r14
    st.u64 [r26+48], r15
out:
)", 3, 20, 2);
    for (uint32_t t = 0; t < 120; t++) {
        uint32_t lin = t % 40, w = lin / 32, lane = lin % 32;
        if (lin % 5 == 0) {
            EXPECT_EQ(r.out[t * 8 + 6], 0u) << "exited " << t;
            continue;
        }
        uint32_t g = lanes(40, w, [](uint32_t x) { return x % 5 != 0; });
        auto val = [](uint32_t l) { return (uint64_t{7} << 32) | (l * 0x10001u); };
        // In range (lane + 1 <= 31, lane - 1 >= 0): the source's value if
        // it is in the group, else 0; out of range: the lane's own.
        EXPECT_EQ(r.out[t * 8], lane == 31 ? val(lane) : (g >> (lane + 1) & 1) ? val(lane + 1) : 0) << t;
        EXPECT_EQ(r.out[t * 8 + 1], lane == 0 ? val(lane) : (g >> (lane - 1) & 1) ? val(lane - 1) : 0) << t;
        uint32_t odd = g & 0xaaaaaaaau;
        EXPECT_EQ(r.out[t * 8 + 2], odd) << t;
        EXPECT_EQ(r.out[t * 8 + 3], uint64_t{odd == g}) << t;
        EXPECT_EQ(r.out[t * 8 + 4], uint64_t{odd != 0}) << t;
        EXPECT_EQ(r.out[t * 8 + 5], uint64_t{odd == 0 || odd == g}) << t;
        EXPECT_EQ(r.out[t * 8 + 6], g) << t;
    }
}

// Odd and even lanes take different paths to a shfl each (two groups at
// two pcs), then meet at a third: the lower pc's group executes first and
// runs on to the meeting point before the other's (a shared counter shows
// it), each group's shfl and activemask see its own lanes, the meeting
// point the whole warp again.
const char* kDivergent = R"(
    s2r r3, %laneid
    s2r r16, %warpid
    shli r16, r16, 2
    li r7, -1
    li r5, 1
    li r6, 31
    andi r10, r3, 1
    bnz r10, odd
    shfl.idx r8, r3, r0, r6, r7
    activemask r11
    li r12, 1
    atoms.add.u32 r13, [r16], r12
    bra join
odd:
    shfl.idx r8, r3, r5, r6, r7
    activemask r11
    lds.u32 r13, [r16]
join:
    shfl.down r14, r3, r5, r6, r7
    activemask r15
    st.u64 [r26], r8
    st.u64 [r26+8], r11
    st.u64 [r26+16], r13
    st.u64 [r26+24], r14
    st.u64 [r26+32], r15
)";

TEST(Warp, DivergentHalvesAreTwoGroups) {
    auto r = launch(kDivergent, 2, 64, 1, {}, ~0ull, 64);
    for (uint32_t t = 0; t < 128; t++) {
        uint32_t lane = t % 32;
        bool odd = lane & 1;
        EXPECT_EQ(r.out[t * 8], odd ? 1u : 0u) << t;
        EXPECT_EQ(r.out[t * 8 + 1], odd ? 0xaaaaaaaau : 0x55555555u) << t;
        // The even group ran first, in lane order, to the meeting point.
        EXPECT_EQ(r.out[t * 8 + 2], odd ? 16u : lane / 2) << t;
        EXPECT_EQ(r.out[t * 8 + 3], lane < 31 ? lane + 1 : 31u) << t;
        EXPECT_EQ(r.out[t * 8 + 4], 0xffffffffu) << t;
    }
}

// A warp op in a loop with barriers: each round exchanges values through
// shared memory, sums the warp with shfl.bfly (a missing lane of the
// block of 80's last warp gives 0) and mixes; compared with
// the same computed here.
const char* kLoopBar = R"(
    mov r4, r29
    li r20, 6
    s2r r21, %ntid.x
loop:
    shli r5, r29, 3
    sts.u64 [r5], r4
    bar
    addi r6, r29, 1
    remu r6, r6, r21
    shli r6, r6, 3
    lds.u64 r8, [r6]
    mov r9, r8
    li r11, 31
    li r12, -1
    li r10, 16
sum:
    shfl.bfly r13, r9, r10, r11, r12
    add r9, r9, r13
    shri r10, r10, 1
    bnz r10, sum
    bar
    add r4, r4, r9
    muli r4, r4, 3
    addi r20, r20, -1
    bnz r20, loop
    st.u64 [r26], r4
)";

std::vector<uint64_t> loop_bar_ref(uint32_t n) {
    std::vector<uint64_t> v(n);
    for (uint32_t i = 0; i < n; i++)
        v[i] = i;
    for (int it = 0; it < 6; it++) {
        std::vector<uint64_t> x(n), s(n);
        for (uint32_t i = 0; i < n; i++)
            x[i] = v[(i + 1) % n];
        for (uint32_t i = 0; i < n; i++)
            s[i] = x[i];
        for (uint32_t k = 16; k; k >>= 1) {
            std::vector<uint64_t> t(n);
            for (uint32_t i = 0; i < n; i++) {
                uint32_t j = (i & ~31u) | ((i % 32) ^ k);
                t[i] = s[i] + (j < n ? s[j] : 0);
            }
            s = t;
        }
        for (uint32_t i = 0; i < n; i++)
            v[i] = (v[i] + s[i]) * 3;
    }
    return v;
}

TEST(Warp, InALoopWithBarriers) {
    for (uint32_t bx : {96u, 80u}) {
        auto r = launch(kLoopBar, 2, bx, 1, {}, ~0ull, 1024);
        auto want = loop_bar_ref(bx);
        for (uint32_t t = 0; t < 2 * bx; t++)
            EXPECT_EQ(r.out[t * 8], want[t % bx]) << bx << " " << t;
    }
}

// Each lane votes with a membermask of its own (full, halves, the even
// lanes, itself only, none, all but itself, exited lanes) among a group
// some of whose lanes exited: M = group & membermask.
TEST(Warp, VotesWithMembermasks) {
    // ... and masks naming exited lanes (3, 14, 25 of warp 0).
    const uint64_t masks[] = {0xffffffffull, 0x0000ffffull, 0xffff0000ull, 0x55555555ull, 0,
                              0xfffffffff0f0f0f0ull, 0x0000000aull, 0x02004000ull};
    uint32_t n = 64;
    std::vector<uint64_t> in(n * 4);
    for (uint32_t t = 0; t < n; t++) {
        uint32_t lane = t % 32;
        in[t * 4] = (t * 7 % 5 == 0) ? 0 : uint64_t{1} << (t % 64);  // the predicate: any bit
        in[t * 4 + 1] = t % 9 == 4 ? 1ull << lane : t % 9 == 6 ? ~(1ull << lane) : masks[t % std::size(masks)];
    }
    auto r = launch(R"(
    li r1, 11
    remu r2, r29, r1
    li r1, 3
    seq r2, r2, r1
    bnz r2, out
    ld.u64 r1, [r25]
    ld.u64 r2, [r25+8]
    vote.all r3, r1, r2
    vote.any r4, r1, r2
    vote.uni r5, r1, r2
    vote.ballot r1, r1, r2
    st.u64 [r26], r3
    st.u64 [r26+8], r4
    st.u64 [r26+16], r5
    st.u64 [r26+24], r1
out:
)", 1, n, 1, in);
    for (uint32_t w = 0; w < 2; w++) {
        uint32_t g = lanes(n, w, [](uint32_t x) { return x % 11 != 3; }), p = 0;
        for (uint32_t l = 0; l < 32; l++)
            if (g >> l & 1 && in[(w * 32 + l) * 4])
                p |= 1u << l;
        for (uint32_t l = 0; l < 32; l++) {
            uint32_t t = w * 32 + l;
            if (!(g >> l & 1))
                continue;
            uint32_t m = g & static_cast<uint32_t>(in[t * 4 + 1]);
            EXPECT_EQ(r.out[t * 8], uint64_t{(m & p) == m}) << t;
            EXPECT_EQ(r.out[t * 8 + 1], uint64_t{(m & p) != 0}) << t;
            EXPECT_EQ(r.out[t * 8 + 2], uint64_t{(m & p) == 0 || (m & p) == m}) << t;
            EXPECT_EQ(r.out[t * 8 + 3], m & p) << t;
        }
    }
}

// Stopping after every work unit (and every 7) changes nothing: the
// divergent groups, the loop with barriers, exited lanes.
TEST(Warp, StoppingAtEveryInstructionChangesNothing) {
    struct Case {
        const char* body;
        uint32_t bx, shared;
    } cases[] = {{kDivergent, 64, 64}, {kLoopBar, 80, 1024}};
    for (auto& c : cases) {
        auto whole = launch(c.body, 2, c.bx, 1, {}, ~0ull, c.shared);
        for (uint64_t slice : {1ull, 7ull, 40ull}) {
            auto cut = launch(c.body, 2, c.bx, 1, {}, slice, c.shared);
            EXPECT_EQ(cut.out, whole.out) << "slice " << slice;
            EXPECT_EQ(cut.executed, whole.executed) << "slice " << slice;
        }
    }
}

// The budget: one unit per thread-instruction (a warp instruction's when
// the thread parks), VGPU_WARP_COST(threads of the warp) per release.
TEST(Warp, ReleasesAreCharged) {
    auto r = launch(R"(
    li r1, 1
    shfl.idx r2, r1, r0, r0, r1
    vote.any r2, r1, r1
    wsync
)", 1, 40, 1);
    uint64_t prologue = 16, body = 4, exit = 1;
    EXPECT_EQ(r.executed, 40 * (prologue + body + exit) + 3 * (VGPU_WARP_COST(32) + VGPU_WARP_COST(8)) +
                              VGPU_BLOCK_START_COST(40, 0));
}

// A word that is no longer a warp-collective instruction when its group
// is released (the code changed while the warp was parked there) runs
// thread by thread.
TEST(Warp, ChangedCodeRunsThreadByThread) {
    Gpu g;
    auto* out = reinterpret_cast<uint64_t*>(g.map(kOut, 4096, RW));
    auto code = g.load(".kernel k\n s2r r1, %laneid\n mov r4, r1\n wsync\n shli r2, r4, 3\n ldp r3, 0\n"
                       " add r3, r3, r2\n st.u64 [r3], r1\n exit\n");
    auto d = Gpu::desc(code, 1, 32, {kOut});
    vgpu_launch l;
    ASSERT_EQ(vgpu_launch_init(&l, &d), 0);
    u64 ran;
    // The block's start and three instructions of each thread: all parked.
    ASSERT_EQ(vgpu_launch_run(&l, g.pt(), VGPU_BLOCK_START_COST(32, 0) + 96, &ran), VGPU_RUN_BUDGET);
    EXPECT_EQ(l.warp_parked, 32u);
    auto* words = reinterpret_cast<uint64_t*>(vgpu_pt_lookup(g.pt(), code) & ~0xfffUL);
    words[2] = vgpu_insn(VGPU_OP_ADDI, 1, 1, 0, 100);
    ASSERT_EQ(vgpu_launch_run(&l, g.pt(), 100000, &ran), VGPU_RUN_DONE);
    vgpu_launch_fini(&l);
    for (uint32_t t = 0; t < 32; t++)
        EXPECT_EQ(out[t], t + 100);
}

// vgpu-as: every mode and .p, the formats, and what it refuses; the
// decoder refuses modifiers and fields out of range.
TEST(Warp, AssemblerAndDecoder) {
    auto img = vgpu::assemble(R"(.kernel k
        shfl.idx r1, r2, r3, r4, r5
        shfl.up.p r1, r2, r3, r4, r5
        shfl.p.down r6, r7, r8, r9, r10
        shfl.bfly r31, r30, r29, r28, r27
        vote.all r1, r2, r3
        vote.any r1, r2, r3
        vote.uni r1, r2, r3
        vote.ballot r1, r2, r3
        activemask r9
        wsync
        exit
)",
                              "w.vas");
    ASSERT_EQ(img.code.size(), 11u);
    EXPECT_EQ(img.code[0], vgpu_insn(VGPU_OP_SHFL, 1, 2, 3, VGPU_IMM_REGS(4, 5, VGPU_SHFL_IDX)));
    EXPECT_EQ(img.code[1], vgpu_insn(VGPU_OP_SHFL, 1, 2, 3, VGPU_IMM_REGS(4, 5, VGPU_SHFL_UP | VGPU_SHFL_PRED)));
    EXPECT_EQ(img.code[2], vgpu_insn(VGPU_OP_SHFL, 6, 7, 8, VGPU_IMM_REGS(9, 10, VGPU_SHFL_DOWN | VGPU_SHFL_PRED)));
    EXPECT_EQ(img.code[3], vgpu_insn(VGPU_OP_SHFL, 31, 30, 29, VGPU_IMM_REGS(28, 27, VGPU_SHFL_BFLY)));
    EXPECT_EQ(img.code[7], vgpu_insn(VGPU_OP_VOTE, 1, 2, 3, VGPU_IMM_REGS(0, 0, VGPU_VOTE_BALLOT)));
    EXPECT_EQ(img.code[8], vgpu_insn(VGPU_OP_ACTIVEMASK, 9, 0, 0, 0));
    EXPECT_EQ(img.code[9], vgpu_insn(VGPU_OP_WSYNC, 0, 0, 0, 0));
    EXPECT_EQ(vgpu::assemble(vgpu::disassemble(img), "d.vas").code, img.code);
    for (const char* bad : {" shfl r1, r2, r3, r4, r5", " shfl.up.down r1, r2, r3, r4, r5", " shfl.p.p.up r1, r2, r3, r4, r5",
                            " shfl.idx r1, r2, r3, r4", " vote r1, r2, r3", " vote.all.any r1, r2, r3",
                            " vote.ballot.p r1, r2, r3", " activemask r1, r2", " wsync r1", " activemask.p r1"})
        EXPECT_THROW(vgpu::assemble(std::string(".kernel k\n") + bad + "\n"), vgpu::AsmError) << bad;
    vgpu_dinsn d{};
    EXPECT_TRUE(vgpu_isa_decode(vgpu_insn(VGPU_OP_SHFL, 1, 2, 3, VGPU_IMM_REGS(4, 5, 7)), &d));
    EXPECT_EQ(d.flags & VGPU_OPF_WARP, VGPU_OPF_WARP);
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_SHFL, 1, 2, 3, VGPU_IMM_REGS(4, 5, 8)), &d));
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_VOTE, 1, 2, 3, VGPU_IMM_REGS(0, 0, 4)), &d));
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_VOTE, 1, 2, 3, VGPU_IMM_REGS(4, 0, 0)), &d)) << "rc";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_ACTIVEMASK, 1, 2, 0, 0), &d)) << "ra";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_ACTIVEMASK, 1, 0, 0, VGPU_IMM_REGS(0, 0, 1)), &d));
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_WSYNC, 1, 0, 0, 0), &d)) << "rd";
    EXPECT_TRUE(vgpu_isa_decode(vgpu_insn(VGPU_OP_ACTIVEMASK, 31, 0, 0, 0), &d));
    EXPECT_EQ(d.rd, 31);
}

}  // namespace
