// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The interpreter, instruction class by instruction class, through the
// same page tables and code vgpu-sim runs in the kernel.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <numeric>

#include "gpu_harness.hpp"

extern "C" {
#include "vgpu_isa_decode.h"
}

namespace {

using vgpu::test::Gpu;
constexpr uint64_t kData = 0x200000;
constexpr unsigned long RW = VGPU_PTE_R | VGPU_PTE_W;

// Each thread stores r1..rN results at out[tid * 8 + i] (u64 each).
uint64_t* run_alu(Gpu& g, const std::string& body, int nthreads = 1) {
    auto* out = reinterpret_cast<uint64_t*>(g.map(kData, 64 * 1024, RW));
    std::string src = ".kernel k\n s2r r30, %tid.x\n muli r30, r30, 64\n ldp r31, 0\n add r31, r31, r30\n" +
                      body + "\n exit\n";
    auto code = g.load(src);
    auto r = g.run(Gpu::desc(code, 1, nthreads, {kData}));
    EXPECT_EQ(r.status, VGPU_RUN_DONE) << "fault kind " << r.fault_kind << " at " << std::hex << r.fault_addr;
    return out;
}

TEST(Interp, IntegerArithmetic) {
    Gpu g;
    auto* o = run_alu(g, R"(
        li r1, 7
        li r2, -3
        add r3, r1, r2
        st.u64 [r31], r3
        sub r3, r1, r2
        st.u64 [r31+8], r3
        mul r3, r1, r2
        st.u64 [r31+16], r3
        div r3, r1, r2
        st.u64 [r31+24], r3
        rem r3, r1, r2
        st.u64 [r31+32], r3
        li r4, 0
        divu r3, r1, r4
        st.u64 [r31+40], r3
        remu r3, r1, r4
        st.u64 [r31+48], r3
        min r3, r1, r2
        st.u64 [r31+56], r3
    )");
    EXPECT_EQ(static_cast<int64_t>(o[0]), 4);
    EXPECT_EQ(static_cast<int64_t>(o[1]), 10);
    EXPECT_EQ(static_cast<int64_t>(o[2]), -21);
    EXPECT_EQ(static_cast<int64_t>(o[3]), -2);
    EXPECT_EQ(static_cast<int64_t>(o[4]), 1);
    EXPECT_EQ(o[5], ~0ULL) << "division by zero gives all ones";
    EXPECT_EQ(o[6], 7u) << "remainder by zero gives the dividend";
    EXPECT_EQ(static_cast<int64_t>(o[7]), -3);
}

TEST(Interp, LogicShiftsImmediatesAndCompares) {
    Gpu g;
    auto* o = run_alu(g, R"(
        li r1, 0xf0
        xori r2, r1, 0xff
        st.u64 [r31], r2
        li r3, -16
        sari r4, r3, 2
        st.u64 [r31+8], r4
        shri r4, r3, 60
        st.u64 [r31+16], r4
        li r5, 1
        lih r5, 2
        st.u64 [r31+24], r5
        slt r6, r3, r1
        sltu r7, r3, r1
        shli r7, r7, 1
        or r6, r6, r7
        st.u64 [r31+32], r6
        slti r6, r3, -15
        st.u64 [r31+40], r6
        maxu r6, r3, r1
        st.u64 [r31+48], r6
    )");
    EXPECT_EQ(o[0], 0x0fu);
    EXPECT_EQ(static_cast<int64_t>(o[1]), -4);
    EXPECT_EQ(o[2], 0xfu);
    EXPECT_EQ(o[3], 0x200000001ULL);
    EXPECT_EQ(o[4], 1u) << "signed -16 < 240, unsigned not";
    EXPECT_EQ(o[5], 1u);
    EXPECT_EQ(o[6], static_cast<uint64_t>(-16));
}

TEST(Interp, FloatArithmeticAndConversions) {
    Gpu g;
    auto* o = run_alu(g, R"(
        li r1, 1.5
        li r2, -2.25f
        fadd r3, r1, r2
        st.u32 [r31], r3
        fmul r3, r1, r2
        st.u32 [r31+4], r3
        fdiv r3, r2, r1
        st.u32 [r31+8], r3
        li r4, 10.0
        fmad r4, r1, r2
        st.u32 [r31+12], r4
        li r5, -7
        i2f r6, r5
        st.u32 [r31+16], r6
        li r7, -3.75
        f2i r8, r7
        st.u64 [r31+24], r8
        fslt r9, r2, r1
        fabs r10, r2
        fseq r10, r10, r10
        add r9, r9, r10
        st.u64 [r31+32], r9
        fmax r11, r1, r2
        fneg r11, r11
        st.u32 [r31+40], r11
    )");
    auto* f = reinterpret_cast<float*>(o);
    EXPECT_EQ(f[0], -0.75f);
    EXPECT_EQ(f[1], -3.375f);
    EXPECT_EQ(f[2], -1.5f);
    EXPECT_EQ(f[3], 10.0f + 1.5f * -2.25f);
    EXPECT_EQ(f[4], -7.0f);
    EXPECT_EQ(static_cast<int64_t>(o[3]), -3);
    EXPECT_EQ(o[4], 2u);
    EXPECT_EQ(f[10], -1.5f);
}

TEST(Interp, BranchesLoopAndSpecialRegisters) {
    Gpu g;
    // Each of 3x2 blocks of 4x2 threads writes tid.x + 10*tid.y + 100*ctaid.x
    // + 1000*ctaid.y and the sum 1..10 computed by a loop.
    auto* o = reinterpret_cast<uint64_t*>(g.map(kData, 4096, RW));
    auto code = g.load(R"(
    .kernel k
        s2r r1, %tid.x
        s2r r2, %tid.y
        s2r r3, %ctaid.x
        s2r r4, %ctaid.y
        s2r r5, %ntid.x
        s2r r6, %nctaid.x
        muli r7, r2, 10
        add r7, r7, r1
        muli r8, r3, 100
        add r7, r7, r8
        muli r8, r4, 1000
        add r7, r7, r8
        ; linear thread id
        mul r9, r2, r5
        add r9, r9, r1
        s2r r10, %ntid.y
        mul r10, r10, r5          ; threads per block
        mul r11, r4, r6
        add r11, r11, r3          ; linear block id
        mul r11, r11, r10
        add r9, r9, r11
        shli r9, r9, 4
        ldp r12, 0
        add r12, r12, r9
        st.u64 [r12], r7
        li r13, 0
        li r14, 10
    loop:
        add r13, r13, r14
        addi r14, r14, -1
        bnz r14, loop
        st.u64 [r12+8], r13
        exit
    )");
    vgpu_launch_desc d = Gpu::desc(code, 3, 4, {kData});
    d.grid[1] = 2;
    d.block[1] = 2;
    auto r = g.run(d);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (uint32_t by = 0; by < 2; by++)
        for (uint32_t bx = 0; bx < 3; bx++)
            for (uint32_t ty = 0; ty < 2; ty++)
                for (uint32_t tx = 0; tx < 4; tx++) {
                    uint32_t lin = ((by * 3 + bx) * 8) + ty * 4 + tx;
                    EXPECT_EQ(o[lin * 2], tx + 10 * ty + 100 * bx + 1000 * by);
                    EXPECT_EQ(o[lin * 2 + 1], 55u);
                }
}

TEST(Interp, SharedMemoryAndBarrierReverseABlock) {
    Gpu g;
    auto* o = reinterpret_cast<uint32_t*>(g.map(kData, 4096, RW));
    for (uint32_t i = 0; i < 256; i++) o[i] = i * 3;
    auto code = g.load(R"(
    .kernel reverse
    .shared 1024
        s2r r1, %tid.x
        s2r r2, %ntid.x
        shli r3, r1, 2
        ldp r4, 0
        add r5, r4, r3
        ld.u32 r6, [r5]
        sts.u32 [r3], r6
        bar
        sub r7, r2, r1
        addi r7, r7, -1
        shli r7, r7, 2
        lds.u32 r8, [r7]
        st.u32 [r5], r8
        exit
    )");
    auto r = g.run(Gpu::desc(code, 1, 256, {kData}, 1024));
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (uint32_t i = 0; i < 256; i++) EXPECT_EQ(o[i], (255 - i) * 3) << i;
}

TEST(Interp, AtomicsAcrossBlocks) {
    Gpu g;
    auto* o = reinterpret_cast<uint32_t*>(g.map(kData, 4096, RW));
    o[1] = 1000;
    o[3] = 5;
    auto code = g.load(R"(
    .kernel atoms
        ldp r1, 0
        li r2, 1
        atom.add.u32 r3, [r1], r2       ; counter
        s2r r4, %tid.x
        atom.min.u32 r5, [r1+4], r4
        atom.max.u32 r5, [r1+8], r4
        li r6, 5
        li r7, 77
        atom.cas.u32 r6, [r1+12], r7    ; only the first succeeds
        li r8, 1.0
        atom.add.f32 r9, [r1+16], r8
        li r10, 3
        atom.add.u64 r11, [r1+24], r10
        exit
    )");
    auto r = g.run(Gpu::desc(code, 4, 64, {kData}));
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    EXPECT_EQ(o[0], 256u);
    EXPECT_EQ(o[1], 0u);
    EXPECT_EQ(o[2], 63u);
    EXPECT_EQ(o[3], 77u);
    EXPECT_EQ(std::bit_cast<float>(o[4]), 256.0f);
    EXPECT_EQ(reinterpret_cast<uint64_t*>(o)[3], 768u);
}

TEST(Interp, PreemptionAtAnyInstructionGivesTheSameResult) {
    const char* src = R"(
    .kernel k
    .shared 256
        s2r r1, %tid.x
        shli r2, r1, 2
        sts.u32 [r2], r1
        bar
        li r3, 0
        li r4, 0
    sum:
        shli r5, r4, 2
        lds.u32 r6, [r5]
        add r3, r3, r6
        addi r4, r4, 1
        slti r7, r4, 64
        bnz r7, sum
        bar
        s2r r8, %ctaid.x
        muli r8, r8, 64
        add r8, r8, r1
        shli r8, r8, 3
        ldp r9, 0
        add r9, r9, r8
        mul r3, r3, r1
        st.u64 [r9], r3
        exit
    )";
    Gpu a, b;
    auto* oa = reinterpret_cast<uint64_t*>(a.map(kData, 8192, RW));
    auto* ob = reinterpret_cast<uint64_t*>(b.map(kData, 8192, RW));
    auto ra = a.run(Gpu::desc(a.load(src), 8, 64, {kData}, 256));
    auto rb = b.run(Gpu::desc(b.load(src), 8, 64, {kData}, 256), 7);
    ASSERT_EQ(ra.status, VGPU_RUN_DONE);
    ASSERT_EQ(rb.status, VGPU_RUN_DONE);
    EXPECT_EQ(ra.executed, rb.executed);
    EXPECT_GT(rb.slices, 1000);
    EXPECT_EQ(std::memcmp(oa, ob, 8 * 512), 0);
    EXPECT_EQ(oa[64 + 3], 2016u * 3);
}

TEST(Interp, EndlessLoopRunsOutOfBudgetAndResumes) {
    Gpu g;
    auto code = g.load(".kernel spin\nloop:\n addi r1, r1, 1\n bra loop\n");
    auto r = g.run(Gpu::desc(code, 1, 32), 1000, 50000);
    EXPECT_EQ(r.status, VGPU_RUN_BUDGET);
    EXPECT_EQ(r.executed, 50000u);
    EXPECT_EQ(r.slices, 50);
}

// The assembler's table (vgpu_isa_table.h) names exactly the opcodes the
// interpreter executes: every other opcode is an illegal instruction.
TEST(Interp, OpcodeTableMatchesTheInterpreter) {
    int known = 0;
    for (unsigned op = 0; op < 256; op++) {
        bool in_table = false;
        for (const auto& e : vgpu_op_table) in_table |= e.opcode == op;
        known += in_table;
        Gpu g;
        g.map(Gpu::kCodeVa, 4096, VGPU_PTE_R | VGPU_PTE_X);
        auto* code = reinterpret_cast<uint64_t*>(vgpu_pt_lookup(g.pt(), Gpu::kCodeVa) & ~0xfffUL);
        // An immediate every instruction of the table takes (sext/zext: a width).
        bool width = vgpu_op_bits(static_cast<uint8_t>(op)) & (VGPU_OPF_WIDTH << 16);
        code[0] = vgpu_insn(static_cast<uint8_t>(op), 0, 0, 0, width ? 8 : 0);
        code[1] = vgpu_insn(VGPU_OP_EXIT, 0, 0, 0, 0);
        // The block's start, then exactly one instruction.
        auto r = g.run(Gpu::desc(Gpu::kCodeVa, 1, 1), ~0ULL, VGPU_BLOCK_START_COST(1, 0) + 1);
        bool illegal = r.status == VGPU_RUN_FAULT && r.fault_kind == VGPU_FAULT_ILLEGAL;
        EXPECT_EQ(illegal, !in_table) << "opcode 0x" << std::hex << op;
    }
    EXPECT_EQ(known, static_cast<int>(std::size(vgpu_op_table)));
}

struct FaultCase {
    const char* name;
    const char* body;
    uint32_t kind;
    uint64_t addr;  // ~0: the fault address is the code page + 8
};

class InterpFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(InterpFault, StopsWithKindAndAddress) {
    Gpu g;
    g.map(kData, 4096, RW);
    g.map(kData + 0x1000, 4096, VGPU_PTE_R);
    std::string src = std::string(".kernel k\n.shared 64\n ldp r1, 0\n") + GetParam().body + "\n exit\n";
    auto code = g.load(src);
    auto r = g.run(Gpu::desc(code, 2, 4, {kData}, 64));
    ASSERT_EQ(r.status, VGPU_RUN_FAULT);
    EXPECT_EQ(r.fault_kind, GetParam().kind);
    EXPECT_EQ(r.fault_addr, GetParam().addr == ~0ULL ? code + 8 : GetParam().addr);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, InterpFault,
    ::testing::Values(
        FaultCase{"unmapped_load", "ld.u32 r2, [r1+0x3000]", VGPU_FAULT_UNMAPPED, kData + 0x3000},
        FaultCase{"unmapped_store", "li r3, 0x7000\n lih r3, 0x10\n st.u8 [r3+1], r1", VGPU_FAULT_UNMAPPED,
                  0x1000007001ULL},
        FaultCase{"store_to_read_only", "st.u32 [r1+0x1004], r1", VGPU_FAULT_PERM, kData + 0x1004},
        FaultCase{"atomic_on_read_only", "atom.add.u32 r2, [r1+0x1000], r1", VGPU_FAULT_PERM, kData + 0x1000},
        FaultCase{"misaligned", "ld.u64 r2, [r1+4]", VGPU_FAULT_MISALIGNED, kData + 4},
        FaultCase{"shared_out_of_bounds", "lds.u32 r2, [r0+64]", VGPU_FAULT_SHARED, 64},
        FaultCase{"exec_without_x", "bra .+131071", VGPU_FAULT_PERM, kData},
        FaultCase{"illegal_opcode", ".word 0xff", VGPU_FAULT_ILLEGAL, ~0ULL},
        FaultCase{"bad_register", ".word 0x2020", VGPU_FAULT_ILLEGAL, ~0ULL},
        FaultCase{"bad_param", ".word 0x800000214", VGPU_FAULT_ILLEGAL, ~0ULL}),  // ldp r2, 8
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
