// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// selftest_cases.cpp - the self-test's cases (see selftest_cases.hpp).
// Each case runs on the reference interpreter and on the back end under
// test; everything it returns must be identical.
#include "selftest_cases.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "ptx.hpp"

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_isa_decode.h"
#include "vgpu_isa_table.h"
#include "vgpu_pt.h"
}

namespace vgpu::engine {
namespace {

constexpr uint32_t R = VGPU_PTE_R, W = VGPU_PTE_W, X = VGPU_PTE_X;

// Thread i of the grid: r29 = i (the interpreter's linear order).
const char* kLinearId = R"(
    s2r r20, %ctaid.z
    s2r r21, %nctaid.y
    mul r20, r20, r21
    s2r r21, %ctaid.y
    add r20, r20, r21
    s2r r21, %nctaid.x
    mul r20, r20, r21
    s2r r21, %ctaid.x
    add r20, r20, r21
    s2r r21, %tid.z
    s2r r22, %ntid.y
    mul r21, r21, r22
    s2r r22, %tid.y
    add r21, r21, r22
    s2r r22, %ntid.x
    mul r21, r21, r22
    s2r r22, %tid.x
    add r21, r21, r22
    s2r r22, %ntid.x
    s2r r23, %ntid.y
    mul r22, r22, r23
    s2r r23, %ntid.z
    mul r22, r22, r23
    mul r29, r20, r22
    add r29, r29, r21
)";

// Every ALU opcode on a pair of inputs per thread; results stored in order.
std::string alu_source(int* nres) {
    std::string s = ".kernel alu\n";
    s += kLinearId;
    s += "    shli r24, r29, 4\n    ldp r25, 0\n    add r25, r25, r24\n    ld.u64 r1, [r25]\n    ld.u64 r2, [r25+8]\n";
    s += "    ldp r26, 1\n    muli r24, r29, 2048\n    add r26, r26, r24\n";
    int n = 0;
    auto st = [&](const std::string& body) {
        s += body + "\n    st.u64 [r26+" + std::to_string(8 * n++) + "], r3\n";
    };
    for (const char* op : {"add", "sub", "mul", "divu", "remu", "div", "rem", "and", "or", "xor", "shl", "shr",
                           "sar", "min", "max", "minu", "maxu", "seq", "sne", "slt", "sle", "sltu", "sleu",
                           "fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "fseq", "fslt", "fsle"}) {
        st(std::string("    ") + op + " r3, r1, r2");
        st(std::string("    ") + op + " r3, r2, r1");
    }
    for (const char* op : {"fneg", "fabs", "i2f", "u2f", "f2i", "mov"}) {
        st(std::string("    ") + op + " r3, r1");
        st(std::string("    ") + op + " r3, r2");
    }
    st("    mov r3, r2\n    fmad r3, r1, r2");
    st("    mov r3, r1\n    fmad r3, r2, r1");
    for (const char* op : {"addi", "muli", "andi", "ori", "xori", "slti", "sltui"})
        for (const char* imm : {"-7", "3", "0x7fffffff", "-2147483648"})
            st(std::string("    ") + op + " r3, r1, " + imm);
    for (const char* op : {"shli", "shri", "sari"})
        for (const char* imm : {"0", "5", "33", "63", "64", "-1"})
            st(std::string("    ") + op + " r3, r1, " + imm);
    st("    li r3, -5");
    st("    li r3, 1.5");
    st("    mov r3, r1\n    lih r3, 0x12345678");
    st("    mov r3, r1\n    lih r3, -1");
    for (const char* sr : {"tid.x", "tid.y", "tid.z", "ntid.x", "ntid.y", "ntid.z", "ctaid.x", "ctaid.y",
                           "ctaid.z", "nctaid.x", "nctaid.y", "nctaid.z"})
        st(std::string("    s2r r3, %") + sr);
    for (int p = 0; p < 8; p++)
        st("    ldp r3, " + std::to_string(p));
    st("    mov r3, r29");
    s += "    exit\n";
    *nres = n;
    return s;
}

// Inputs: float and integer edge cases paired with each other, then
// pseudo-random words (some with garbage above bit 31).
std::vector<uint64_t> alu_inputs(size_t pairs) {
    const uint64_t special[] = {
        0, 1, 2, 63, 64, 0xffffffffffffffffull, 0x8000000000000000ull, 0x7fffffffffffffffull,
        0x3f800000, 0xbf800000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00001, 0xffc12345,
        0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x4b800000, 0xdf000000, 0x5f000000,
        0xdf000001, 0x3effffff, 0xbf000000, 0x1234567800000003ull, 0x4f000000, 0xcf000000, 0x33800000, 0xffffffff,
    };
    constexpr size_t ns = sizeof(special) / sizeof(special[0]);
    std::vector<uint64_t> v;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < ns; j++) {
            v.push_back(special[i]);
            v.push_back(special[j]);
        }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    while (v.size() < pairs * 2) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t w = x;
        switch (v.size() % 4) {
        case 0: w &= 0xffffffff; break;                                  // a float, zero-extended
        case 1: w = (w & 0x80ffffff) | 0x3f000000; break;                // a float near 1
        case 2: w = static_cast<uint64_t>(static_cast<int64_t>(w) >> 40); break;  // a small integer
        default: break;                                                  // anything
        }
        v.push_back(w);
    }
    return v;
}

Test alu_case() {
    return {"alu: every ALU opcode", [](Session& s) {
        int nres = 0;
        auto img = s.code(kCode, alu_source(&nres));
        const size_t threads = 8 * 4 * 2 * 64;  // grid 8x4x2 of blocks 8x4x2
        auto in = alu_inputs(threads);
        s.device(kIn, in.size() * 8, R);
        s.write(kIn, in.data(), in.size() * 8);
        s.device(kOut, threads * 2048, R | W);
        Digest d;
        d.status("alu", s.launch({kCode, {8, 4, 2}, {8, 4, 2}, 0, {kIn, kOut, 2, 3, 4, 5, 0xfffffffffull, ~0ull}}));
        d.data(s.read(kOut, threads * 2048));
        return d;
    }};
}

// Every instruction of ISA version 2 and every rounding or width modifier
// of the ones version 1 had, on the ALU inputs (rc = r4 = r1 ^ r2 where
// the format takes a third operand, re = r2), written as words from the
// one instruction table; then the narrow loads of the input pair and a
// round trip of narrow stores through the thread's shared memory.
std::string alu2_source(int* nres) {
    std::string s = ".kernel alu2\n.shared 1024\n";
    s += kLinearId;
    s += "    shli r24, r29, 4\n    ldp r25, 0\n    add r25, r25, r24\n    ld.u64 r1, [r25]\n    ld.u64 r2, [r25+8]\n";
    s += "    ldp r26, 1\n    muli r24, r29, 2048\n    add r26, r26, r24\n    xor r4, r1, r2\n";
    s += "    andi r27, r29, 63\n    shli r27, r27, 4\n";
    int n = 0;
    auto st = [&](const std::string& body) {
        s += body + "\n    st.u64 [r26+" + std::to_string(8 * n++) + "], r3\n";
    };
    auto word = [](uint64_t w) {
        char b[40];
        std::snprintf(b, sizeof(b), "    .word 0x%llx", static_cast<unsigned long long>(w));
        return std::string(b);
    };
    for (const auto& op : vgpu_op_table) {
        bool v2 = op.opcode >= VGPU_OP_FFMA, regs = op.fmt == VGPU_FMT_RR || op.fmt == VGPU_FMT_RRR ||
                                                   op.fmt == VGPU_FMT_RRRR || op.fmt == VGPU_FMT_RRRRR;
        if (op.flags & VGPU_OPF_WARP)
            continue;  // the warps case's
        uint32_t nmod = op.mod == VGPU_MOD_NONE ? 1 : op.mod == VGPU_MOD_RND || op.mod == VGPU_MOD_IRND ? 4
                      : op.mod == VGPU_MOD_CVTI ? 16 : op.mod == VGPU_MOD_W32 ? 2 : VGPU_PRMT_COUNT;
        if (op.flags & VGPU_OPF_WIDTH) {
            for (int bits : {8, 16, 32})
                st(word(vgpu_insn(op.opcode, 3, 1, 0, bits)));
            continue;
        }
        if (!regs || (!v2 && op.mod == VGPU_MOD_NONE))
            continue;
        for (uint32_t m = v2 ? 0 : 1; m < nmod; m++) {
            uint8_t rc = op.fmt == VGPU_FMT_RRRR || op.fmt == VGPU_FMT_RRRRR ? 4 : 0;
            uint8_t re = op.fmt == VGPU_FMT_RRRRR ? 2 : 0;
            uint64_t w = vgpu_insn(op.opcode, 3, 1, 2, VGPU_IMM_REGS(rc, re, m));
            st(word(w & (0xffffffff00000000ull | vgpu_op_descs[op.opcode].lo_ok)));
        }
    }
    for (int off : {0, 3, 7, 9, 15})
        st("    ld.s8 r3, [r25+" + std::to_string(off) + "]");
    for (int off : {0, 6, 10, 14}) {
        st("    ld.u16 r3, [r25+" + std::to_string(off) + "]");
        st("    ld.s16 r3, [r25+" + std::to_string(off) + "]");
    }
    s += "    sts.u64 [r27], r0\n    sts.u16 [r27+2], r1\n    sts.u8 [r27+5], r2\n    sts.u16 [r27+12], r2\n";
    st("    lds.u64 r3, [r27]");
    st("    lds.s8 r3, [r27+3]");
    st("    lds.u8 r3, [r27+3]");
    st("    lds.s16 r3, [r27+2]");
    st("    lds.u16 r3, [r27+4]");
    st("    lds.s32 r3, [r27+12]");
    s += "    exit\n";
    *nres = n;
    return s;
}

Test alu2_case() {
    return {"alu2: every instruction and modifier of ISA version 2", [](Session& s) {
        int nres = 0;
        auto img = s.code(kCode, alu2_source(&nres));
        const size_t threads = 8 * 4 * 2 * 64;
        auto in = alu_inputs(threads);
        s.device(kIn, in.size() * 8, R);
        s.write(kIn, in.data(), in.size() * 8);
        s.device(kOut, threads * 2048, R | W);
        Digest d;
        d.status("alu2", s.launch({kCode, {8, 4, 2}, {8, 4, 2}, 1024, {kIn, kOut}}));
        d.data(s.read(kOut, threads * 2048));
        return d;
    }};
}

// Every atomic of the table, global and shared, each thread on a word of
// its own (so the old values are deterministic): the word starts as the
// thread's r1, the operand is r2, a compare-and-swap compares with r1 for
// every other instruction (it stores) and r2 otherwise; the memory left
// behind and rd for each.
std::string atomics2_source() {
    std::string s = ".kernel atom2\n.shared 1024\n";
    s += kLinearId;
    s += "    shli r24, r29, 4\n    ldp r25, 0\n    add r25, r25, r24\n    ld.u64 r1, [r25]\n    ld.u64 r2, [r25+8]\n";
    s += "    ldp r26, 1\n    muli r24, r29, 1024\n    add r26, r26, r24\n";
    s += "    andi r27, r29, 63\n    shli r27, r27, 4\n";
    int k = 0;
    for (const auto& op : vgpu_op_table) {
        if (!(op.flags & VGPU_OPF_ATOMIC))
            continue;
        std::string slot = std::to_string(16 * k), rd = std::to_string(16 * k + 8);
        s += std::string("    mov r3, ") + (k % 2 ? "r2" : "r1") + "\n";
        if (op.flags & VGPU_OPF_SHARED) {
            s += "    sts.u64 [r27], r1\n    " + std::string(op.name) + " r3, [r27], r2\n    lds.u64 r5, [r27]\n";
            s += "    st.u64 [r26+" + slot + "], r5\n";
        } else {
            s += "    st.u64 [r26+" + slot + "], r1\n    " + std::string(op.name) + " r3, [r26+" + slot + "], r2\n";
        }
        s += "    st.u64 [r26+" + rd + "], r3\n";
        k++;
    }
    s += "    exit\n";
    return s;
}

// Code of a second kernel in one case (kCode holds the first).
constexpr uint64_t kCode2 = kCode + 0x80000;

Test atomics2_case() {
    return {"atomics2: every atomic, global and shared", [](Session& s) {
        s.code(kCode, atomics2_source());
        const size_t threads = 8 * 4 * 2 * 64;
        auto in = alu_inputs(threads);
        s.device(kIn, in.size() * 8, R);
        s.write(kIn, in.data(), in.size() * 8);
        s.device(kOut, threads * 1024, R | W);
        Digest d;
        d.status("atom2", s.launch({kCode, {8, 4, 2}, {8, 4, 2}, 1024, {kIn, kOut}}));
        d.data(s.read(kOut, threads * 1024));
        // Contended: every thread adds 1.0 to one f32 and one f64 word,
        // global and shared (the compare-and-swap loops retry): sums of
        // whole numbers, exact whatever the order.
        s.code(kCode2, R"(
.kernel contended
.shared 16
    ldp r1, 0
    li r2, 1.0
    li r3, 0
    lih r3, 0x3ff00000
    atom.add.f32 r4, [r1], r2
    atom.add.f64 r4, [r1+8], r3
    atoms.add.f32 r4, [r0], r2
    atoms.add.f64 r4, [r0+8], r3
    bar
    s2r r5, %tid.x
    bnz r5, out
    s2r r6, %ctaid.x
    shli r6, r6, 4
    add r6, r6, r1
    lds.u64 r7, [r0]
    st.u64 [r6+16], r7
    lds.u64 r7, [r0+8]
    st.u64 [r6+24], r7
out:
    exit
)");
        std::vector<uint8_t> zero(16 + 64 * 16);
        s.write(kOut, zero.data(), zero.size());
        d.status("contended", s.launch({kCode2, {64, 1, 1}, {256, 1, 1}, 16, {kOut}}));
        d.data(s.read(kOut, 16 + 64 * 16));
        return d;
    }};
}

// Warp-collective instructions as CUDA programs use them (every thread
// of the warp at the same instruction, the mask full or a half-warp's):
// shfl.down and .bfly reductions, a shfl.up scan, broadcasts, 8-lane
// segments and clamps with and without .p, votes, activemask and wsync;
// in blocks of 256 threads and of 40 (a warp of 8 lanes, whose sources
// stay within its lanes).
const char* kWarpBody = R"(
    ldp r26, 0
    muli r24, r29, 256
    add r26, r26, r24
    s2r r1, %laneid
    muli r2, r29, 0x9e3779b1
    xori r2, r2, 0x5bd1e995
    shli r3, r2, 29
    xor r2, r2, r3
    li r4, -1
    li r5, 31
    mov r6, r2
    li r7, 16
down:
    shfl.down r8, r6, r7, r5, r4
    add r6, r6, r8
    shri r7, r7, 1
    bnz r7, down
    st.u64 [r26], r6
    mov r6, r2
    li r7, 1
up:
    shfl.up r8, r6, r7, r0, r4
    sltu r9, r1, r7
    selp r8, r0, r8, r9
    add r6, r6, r8
    shli r7, r7, 1
    slti r9, r7, 32
    bnz r9, up
    st.u64 [r26+8], r6
    mov r6, r2
    li r7, 16
bfly:
    shfl.bfly r8, r6, r7, r5, r4
    xor r6, r6, r8
    shri r7, r7, 1
    bnz r7, bfly
    st.u64 [r26+16], r6
    li r7, 3
    shfl.idx r8, r2, r7, r5, r4
    st.u64 [r26+24], r8
    li r10, 0x181f
    li r11, 0x1800
    li r7, 1
    shfl.down r8, r2, r7, r10, r4
    st.u64 [r26+32], r8
    shfl.down.p r8, r2, r7, r10, r4
    st.u64 [r26+40], r8
    li r7, 2
    shfl.up r8, r2, r7, r11, r4
    st.u64 [r26+48], r8
    shfl.up.p r8, r2, r7, r11, r4
    st.u64 [r26+56], r8
    li r7, 4
    shfl.bfly r8, r2, r7, r10, r4
    st.u64 [r26+64], r8
    shfl.bfly.p r8, r2, r7, r10, r4
    st.u64 [r26+72], r8
    li r7, 5
    shfl.idx r8, r2, r7, r10, r4
    st.u64 [r26+80], r8
    shfl.idx.p r8, r2, r7, r10, r4
    st.u64 [r26+88], r8
    li r12, 7
    li r7, 3
    shfl.down r8, r2, r7, r12, r4
    st.u64 [r26+96], r8
    shfl.down.p r8, r2, r7, r12, r4
    st.u64 [r26+104], r8
    andi r13, r2, 1
    vote.ballot r8, r13, r4
    st.u64 [r26+112], r8
    vote.all r8, r13, r4
    st.u64 [r26+120], r8
    vote.any r8, r13, r4
    st.u64 [r26+128], r8
    vote.uni r8, r13, r4
    st.u64 [r26+136], r8
    vote.uni r8, r4, r4
    st.u64 [r26+144], r8
    slti r15, r1, 40
    vote.all r8, r15, r4
    st.u64 [r26+152], r8
    activemask r8
    st.u64 [r26+160], r8
    wsync
    shri r18, r1, 4
    shli r18, r18, 4
    li r19, 0xffff
    shl r19, r19, r18
    vote.ballot r8, r13, r19
    st.u64 [r26+168], r8
    shfl.bfly r8, r2, r7, r5, r19
    st.u64 [r26+176], r8
    vote.any r8, r13, r19
    st.u64 [r26+184], r8
    exit
)";

// The groups of the interpreter's rule beyond what CUDA defines: every
// fifth thread exits at once; odd and even lanes reach a shfl and an
// activemask each at two pcs (the even group first: its lanes' shared
// atomics are done when the odd lanes count them) and meet at a third;
// then a loop exchanges values through shared memory between barriers
// and sums each warp with shfl.bfly (exited and missing lanes give
// 0).  Blocks of 96 and of 80 threads.
const char* kWarpGroupsBody = R"(
    ldp r26, 0
    muli r24, r29, 64
    add r26, r26, r24
    s2r r30, %tid.x
    s2r r1, %laneid
    s2r r16, %warpid
    shli r16, r16, 2
    addi r16, r16, 768
    li r3, 5
    remu r3, r30, r3
    bz r3, out
    li r4, -1
    li r5, 1
    li r6, 31
    andi r10, r1, 1
    bnz r10, odd
    shfl.idx r8, r29, r0, r6, r4
    activemask r11
    li r12, 1
    atoms.add.u32 r13, [r16], r12
    bra join
odd:
    shfl.idx r8, r29, r5, r6, r4
    activemask r11
    lds.u32 r13, [r16]
join:
    mul r13, r13, r10
    shfl.down r14, r29, r5, r6, r4
    activemask r15
    st.u64 [r26], r8
    st.u64 [r26+8], r11
    st.u64 [r26+16], r13
    st.u64 [r26+24], r14
    st.u64 [r26+32], r15
    mov r17, r29
    li r20, 4
    s2r r21, %ntid.x
loop:
    shli r22, r30, 3
    sts.u64 [r22], r17
    bar
    addi r23, r30, 1
    remu r23, r23, r21
    shli r23, r23, 3
    lds.u64 r9, [r23]
    li r7, 16
sum:
    shfl.bfly r12, r9, r7, r6, r4
    add r9, r9, r12
    shri r7, r7, 1
    bnz r7, sum
    bar
    add r17, r17, r9
    muli r17, r17, 3
    addi r20, r20, -1
    bnz r20, loop
    st.u64 [r26+40], r17
out:
    exit
)";

Test warp_case() {
    return {"warps: shfl, vote, groups", [](Session& s) {
        s.code(kCode, std::string(".kernel warp\n") + kLinearId + kWarpBody);
        s.code(kCode2, std::string(".kernel groups\n.shared 1024\n") + kLinearId + kWarpGroupsBody);
        s.device(kOut, 16 * 256 * 256, R | W);
        Digest d;
        d.status("full warps", s.launch({kCode, {16, 1, 1}, {256, 1, 1}, 0, {kOut}}));
        d.data(s.read(kOut, 16 * 256 * 256));
        d.status("block of 40", s.launch({kCode, {16, 1, 1}, {40, 1, 1}, 0, {kOut}}));
        d.data(s.read(kOut, 16 * 40 * 256));
        d.status("groups 96", s.launch({kCode2, {8, 1, 1}, {96, 1, 1}, 1024, {kOut}}));
        d.data(s.read(kOut, 8 * 96 * 64));
        d.status("groups 80", s.launch({kCode2, {8, 1, 1}, {80, 1, 1}, 1024, {kOut}}));
        d.data(s.read(kOut, 8 * 80 * 64));
        return d;
    }};
}

// %clock64: its values differ between engines (the interpreter counts
// the thread's instructions, a GPU its SM's cycles), so only what both
// promise is stored: each reading is later than the one before, and a
// spin of N ticks (N by thread, up to 4095) ends with at least N.
Test clock_case() {
    return {"clock64: monotonic, spin loops end", [](Session& s) {
        s.code(kCode, std::string(".kernel clock\n") + kLinearId + R"(
    ldp r26, 0
    shli r24, r29, 3
    add r26, r26, r24
    muli r10, r29, 0x9e3779b1
    andi r10, r10, 4095
    s2r r1, %clock64
spin:
    s2r r2, %clock64
    sub r3, r2, r1
    sltu r4, r3, r10
    bnz r4, spin
    s2r r5, %clock64
    sltu r6, r1, r2
    sltu r7, r2, r5
    and r6, r6, r7
    sltu r7, r3, r10
    xori r7, r7, 1
    shli r7, r7, 1
    or r6, r6, r7
    st.u64 [r26], r6
    exit
)");
        s.device(kOut, 8 * 64 * 96, R | W);
        Digest d;
        d.status("spins", s.launch({kCode, {64, 1, 1}, {96, 1, 1}, 0, {kOut}}));
        d.data(s.read(kOut, 8 * 64 * 96));
        return d;
    }};
}

// Barriers with exited threads: every third thread exits at once; the
// others exchange values through shared memory over two barriers.
Test barrier_case() {
    return {"barriers with exited threads", [](Session& s) {
        s.code(kCode, R"(
.kernel k
.shared 1024
    s2r r1, %tid.x
    remu r2, r1, r3
    li r3, 3
    remu r2, r1, r3
    bz r2, out
    shli r4, r1, 2
    addi r5, r1, 100
    sts.u32 [r4], r5
    bar
    addi r6, r1, 1
    andi r6, r6, 127
    shli r6, r6, 2
    lds.u32 r7, [r6]
    bar
    sts.u32 [r4], r7
    bar
    addi r6, r1, 5
    andi r6, r6, 127
    shli r6, r6, 2
    lds.u32 r8, [r6]
    s2r r9, %ctaid.x
    shli r9, r9, 9
    add r9, r9, r4
    ldp r10, 0
    add r10, r10, r9
    add r8, r8, r7
    st.u32 [r10], r8
out:
    exit
)");
        s.device(kOut, 64 * 512, R | W);
        Digest d;
        d.status("bar", s.launch({kCode, {64, 1, 1}, {128, 1, 1}, 1024, {kOut}}));
        d.data(s.read(kOut, 64 * 512));
        return d;
    }};
}

// A block's whole shared memory (VGPU_MAX_SHARED, 49 KiB: beyond the 48
// KiB a GPU gives a kernel that does not ask for more): 256 threads
// write 49 words each across all of it, then read another thread's.
Test shared_max_case() {
    return {"shared: 49 KiB a block", [](Session& s) {
        static_assert(VGPU_MAX_SHARED == 256 * 49 * 4);
        s.code(kCode, R"(
.kernel k
.shared 50176
    s2r r1, %tid.x
    shli r4, r1, 2
    li r3, 49
    mov r5, r4
    s2r r9, %ctaid.x
    muli r8, r9, 1000
    add r8, r8, r1
fill:
    sts.u32 [r5], r8
    addi r8, r8, 7
    addi r5, r5, 1024
    addi r3, r3, -1
    bnz r3, fill
    bar
    li r6, 255
    sub r6, r6, r1
    shli r6, r6, 2
    li r3, 49
    li r7, 0
sum:
    lds.u32 r8, [r6]
    muli r7, r7, 3
    add r7, r7, r8
    addi r6, r6, 1024
    addi r3, r3, -1
    bnz r3, sum
    shli r9, r9, 10
    add r9, r9, r4
    ldp r10, 0
    add r10, r10, r9
    st.u32 [r10], r7
    exit
)");
        s.device(kOut, 64 * 1024, R | W);
        Digest d;
        d.status("shared", s.launch({kCode, {64, 1, 1}, {256, 1, 1}, VGPU_MAX_SHARED, {kOut}}));
        d.data(s.read(kOut, 64 * 1024));
        return d;
    }};
}

// Barriers in warps whose other threads have exited: half of every warp
// (odd threads, or lanes 16..31) exits at once, the others exchange
// values through shared memory across two barriers.  Values loaded from
// shared memory before a barrier must survive it (once came back as the
// barrier's count of live threads on the GPU).
Test barrier_warps_case() {
    return {"barriers, half of each warp exited", [](Session& s) {
        s.code(kCode, R"(
.kernel k
.shared 512
    s2r r1, %tid.x
    ldp r3, 1
    and r2, r1, r3
    bnz r2, out
    shli r4, r1, 2
    addi r5, r1, 1000
    sts.u32 [r4], r5
    lds.u32 r12, [r4]
    addi r6, r4, 8
    andi r6, r6, 511
    bar
    lds.u32 r7, [r6]
    lds.u32 r8, [r4]
    bar
    ldp r10, 0
    s2r r9, %ctaid.x
    shli r9, r9, 11
    add r10, r10, r9
    shli r11, r1, 4
    add r10, r10, r11
    st.u32 [r10], r7
    st.u32 [r10+4], r8
    st.u32 [r10+8], r12
    st.u32 [r10+12], r1
out:
    exit
)");
        s.device(kOut, 2 * 8 * 2048, R | W);
        Digest d;
        d.status("odd", s.launch({kCode, {8, 1, 1}, {128, 1, 1}, 512, {kOut, 1}}));
        d.status("lanes", s.launch({kCode, {8, 1, 1}, {128, 1, 1}, 512, {kOut + 8 * 2048, 16}}));
        d.data(s.read(kOut, 2 * 8 * 2048));
        return d;
    }};
}

// Warps whose lanes wait for ever in the interpreter's terms: a quarter
// of each warp exits, a quarter waits at a barrier the others never
// reach, the rest shuffle in an endless loop with a membermask naming
// them all (PTX's shfl.sync would wait for the exited lanes and those at
// the barrier for ever); another kernel waits at a shfl whose partners
// spin.  The watchdog ends both in time.
Test warp_watchdog_case() {
    return {"watchdog: warps", [](Session& s) {
        s.code(kCode, R"(
.kernel k
.shared 64
    s2r r1, %laneid
    li r4, -1
    li r5, 31
    slti r2, r1, 8
    bnz r2, gone
    slti r2, r1, 16
    bnz r2, wait
loop:
    shfl.down r3, r3, r1, r5, r4
    addi r3, r3, 1
    bra loop
wait:
    bar
gone:
    exit
)");
        s.code(kCode2, R"(
.kernel k
    s2r r1, %laneid
    li r4, -1
    li r5, 31
    bz r1, spin
    shfl.idx r3, r1, r0, r5, r4
    exit
spin:
    addi r3, r3, 1
    bra spin
)");
        Digest d;
        watched(s, d, "lanes gone", launch_cmd({kCode, {64, 1, 1}, {256, 1, 1}, 64, {}}));
        watched(s, d, "partner spins", launch_cmd({kCode2, {64, 1, 1}, {256, 1, 1}, 0, {}}));
        return d;
    }};
}

// The longest straight-line kernel the translator takes (kMaxInsns, as
// many atomics as kMaxMemInsns allows, all on one word, then additions):
// 67M threads; the watchdog ends it, its JIT counted.
Test straight_line_case() {
    return {"watchdog: straight line", [](Session& s) {
        size_t n = kMaxInsns - 1, atomics = kMaxMemInsns;
        if (const char* e = std::getenv("VGPU_SELFTEST_STRAIGHT_INSNS"))
            n = atomics = std::strtoull(e, nullptr, 0);
        std::vector<uint64_t> w{vgpu_insn(VGPU_OP_LDP, 1, 0, 0, 0), vgpu_insn(VGPU_OP_LI, 3, 0, 0, 1)};
        while (w.size() < n) {
            bool atom = w.size() < atomics + 2;
            w.push_back(atom ? vgpu_insn(VGPU_OP_ATOM_ADD, 2, 1, 3, 0) : vgpu_insn(VGPU_OP_ADDI, 4, 4, 0, 1));
        }
        w.push_back(vgpu_insn(VGPU_OP_EXIT, 0, 0, 0, 0));
        s.words(kCode, w);
        s.device(kOut, 4096, R | W);
        Digest d;
        watched(s, d, ("straight " + std::to_string(w.size())).c_str(),
                launch_cmd({kCode, {65535, 1, 1}, {1024, 1, 1}, 0, {kOut}}));
        return d;
    }};
}

// atom.add.f32 on host memory that CPU threads keep rewriting (its
// compare-and-swap never succeeds on the GPU), then a loop: the watchdog
// ends both (the writers stop after 5 s at the latest).
Test cas_case() {
    return {"watchdog: f32 atomic, CPU writers", [](Session& s) {
        s.code(kCode, R"(
.kernel k
    ldp r1, 0
    li r2, 1.0
    atom.add.f32 r3, [r1], r2
spin:
    addi r4, r4, 1
    bra spin
)");
        auto* word = reinterpret_cast<std::atomic<uint32_t>*>(s.host(kIn, 4096, R | W));
        std::atomic<bool> stop{false};
        std::vector<std::thread> writers;
        uint64_t t0 = now_ns();
        for (int i = 0; i < 8; i++)
            writers.emplace_back([&, i] {
                for (uint32_t v = i; !stop.load(std::memory_order_relaxed) && now_ns() - t0 < 5000000000ull; v += 8)
                    word->store(v, std::memory_order_relaxed);
            });
        Digest d;
        watched(s, d, "cas", launch_cmd({kCode, {528, 1, 1}, {256, 1, 1}, 0, {kIn}}));
        stop = true;
        for (auto& t : writers)
            t.join();
        return d;
    }};
}

// A sliced launch preempted inside its blocks while another context
// fills the translation cache past its limit (kernels differing only in
// block size); resumed, it must complete as if alone.
// VGPU_ENGINED_CACHE_MAX makes the back end's cache small for the test.
Test eviction_case() {
    return {"cache eviction under a sliced launch", [](Session& s) {
        s.code(kCode, R"(
.kernel k
    s2r r1, %tid.x
    s2r r2, %ctaid.x
    shli r2, r2, 8
    add r1, r1, r2
    li r5, 50000
    mov r6, r1
loop:
    muli r6, r6, 1103515245
    addi r6, r6, 12345
    addi r5, r5, -1
    bnz r5, loop
    shli r4, r1, 3
    ldp r11, 0
    add r11, r11, r4
    st.u64 [r11], r6
    exit
)");
        s.device(kOut, 8192, R | W);
        Job job;
        job.cmds = {launch_cmd({kCode, {2, 1, 1}, {256, 1, 1}, 0, {kOut}})};
        RunResult r = s.run_once(job, 200000, 60000000000ull);
        Digest d;
        d.note += r.status == RunStatus::Preempted ? "preempted; " : "not preempted; ";
        const char* old = std::getenv("VGPU_ENGINED_CACHE_MAX");
        std::string saved = old ? old : "";
        setenv("VGPU_ENGINED_CACHE_MAX", "16", 1);
        {
            Session other(s.backend());
            other.code(kCode, ".kernel e\n    exit\n");
            int done = 0;
            for (uint32_t bs = 1; bs <= 40; bs++)
                done += other.launch({kCode, {1, 1, 1}, {bs, 1, 1}, 0, {}}).status == RunStatus::Done;
            d.what += std::to_string(done) + " of 40 other launches done; ";
            d.bytes += d.what;
        }
        old ? setenv("VGPU_ENGINED_CACHE_MAX", saved.c_str(), 1) : unsetenv("VGPU_ENGINED_CACHE_MAX");
        while (r.status == RunStatus::Preempted)
            r = s.run_once(job, 200000, 60000000000ull);
        d.status("resumed", r);
        d.data(s.read(kOut, 8192));
        return d;
    }};
}

// Atomics whose final values do not depend on the order of threads.
Test atomic_case() {
    return {"atomics", [](Session& s) {
        s.code(kCode, R"(
.kernel k
    s2r r1, %tid.x
    s2r r2, %ctaid.x
    ldp r3, 0
    atom.add.u32 r4, [r3], r1
    muli r5, r1, 7919
    addi r5, r5, 13
    li r6, 10007
    remu r5, r5, r6
    atom.min.u32 r4, [r3+4], r5
    atom.max.u32 r4, [r3+8], r5
    shli r7, r2, 32
    or r7, r7, r1
    atom.add.u64 r4, [r3+16], r7
    li r8, 1.0
    atom.add.f32 r4, [r3+24], r8
    li r9, 7
    atom.xchg.u32 r4, [r3+28], r9
    ld.u32 r10, [r3+32]
retry:
    addi r11, r10, 3
    mov r12, r10
    atom.cas.u32 r10, [r3+32], r11
    sne r13, r10, r12
    bnz r13, retry
    exit
)");
        s.device(kOut, 4096, R | W);
        uint32_t init[16] = {5, 0xffffffff, 0, 0, 0, 0, 0x3f000000, 0, 11};
        s.write(kOut, init, sizeof(init));
        Digest d;
        d.status("atomics", s.launch({kCode, {96, 1, 1}, {256, 1, 1}, 0, {kOut}}));
        d.data(s.read(kOut, 64));
        return d;
    }};
}

// One fault of each class; the launch reports the first fault in the
// interpreter's order (least block, then barrier phase, then thread).
std::vector<Test> fault_cases() {
    std::vector<Test> t;
    auto one = [&](const std::string& name, const std::string& body, uint32_t grid, uint32_t block, uint32_t shared) {
        t.push_back({"fault: " + name, [=](Session& s) {
            s.code(kCode, ".kernel k\n" + std::string(kLinearId) + body + "\n    exit\n");
            s.device(kIn, 8192, R);
            s.device(kOut, 1 << 20, R | W);
            Digest d;
            // Only the fault is compared: what other threads wrote before
            // the launch stopped differs (the GPU runs them in parallel;
            // the interpreter stops at the fault).
            d.status(name.c_str(), s.launch({kCode, {grid, 1, 1}, {block, 1, 1}, shared, {kIn, kOut}}));
            return d;
        }});
    };
    one("unmapped", "    ldp r1, 1\n    li r2, 0x7ff000\n    add r1, r1, r2\n    ld.u32 r3, [r1+4]", 2, 32, 0);
    one("perm", "    ldp r1, 0\n    st.u32 [r1+8], r29", 2, 32, 0);
    one("misaligned", "    ldp r1, 1\n    ld.u32 r3, [r1+2]", 1, 1, 0);
    one("shared", "    lds.u32 r3, [r29+60]", 1, 64, 64);
    one("illegal", "    .word 0xff", 1, 1, 0);
    one("first in order", R"(
    shli r2, r29, 2
    ldp r1, 1
    add r1, r1, r2
    st.u32 [r1], r29
    s2r r3, %ctaid.x
    slti r4, r3, 5
    bnz r4, ok
    s2r r5, %tid.x
    slti r4, r5, 10
    bnz r4, ok
    shli r6, r29, 12
    li r7, 0x10000000
    add r6, r6, r7
    st.u32 [r6], r29
ok:)", 16, 64, 0);
    one("first by barrier phase", R"(
    s2r r5, %tid.x
    slti r4, r5, 32
    bz r4, late
    bar
    li r6, 0x20000000
    add r6, r6, r5
    shli r6, r6, 4
    ld.u32 r7, [r6]
    bra ok
late:
    li r6, 0x30000000
    shli r7, r5, 4
    add r6, r6, r7
    ld.u32 r7, [r6]
    bar
ok:)", 1, 64, 0);
    // Within a warp, the group released first faults first: lanes 4..31
    // (the lower pc) before lanes 0..3, whose lane numbers are lower.
    one("first by warp round", R"(
    s2r r5, %laneid
    slti r6, r5, 4
    bnz r6, late
    activemask r7
    li r8, 0x3000000
    bra fault
late:
    activemask r7
    li r8, 0x2000000
fault:
    add r8, r8, r5
    shli r8, r8, 4
    ld.u32 r9, [r8]
ok:)", 1, 64, 0);
    // Execution from a page without X, and from an unmapped page.
    t.push_back({"fault: exec perm + unmapped", [](Session& s) {
        Digest d;
        s.words(kCode, {vgpu_insn(VGPU_OP_BRA, 0, 0, 0, static_cast<int32_t>((kIn - kCode) / 8))});
        s.device(kIn, 4096, R | W);
        d.status("nox", s.launch({kCode, {1, 1, 1}, {4, 1, 1}, 0, {}}));
        s.words(kCode + 0x10000, {vgpu_insn(VGPU_OP_NOP, 0, 0, 0, 0)});
        d.status("fallthrough", s.launch({kCode + 0x10000, {1, 1, 1}, {1, 1, 1}, 0, {}}));
        return d;
    }});
    return t;
}

// COPY and FILL through page tables, host and device memory, a fault
// part way, and an overlapping copy (dst < src).
Test copy_case() {
    return {"copy and fill", [](Session& s) {
        Digest d;
        uint8_t* h = s.host(kIn, 64 * 1024, R | W);
        for (int i = 0; i < 64 * 1024; i++)
            h[i] = static_cast<uint8_t>(i * 7 + 3);
        s.device(kOut, 256 * 1024, R | W);
        std::vector<drm_vgpu_cmd> c(5);
        c[0].op = DRM_VGPU_CMD_FILL;
        c[0].dst = kOut;
        c[0].size = 256 * 1024;
        c[0].value = 0xa5a55a5a;
        c[1].op = DRM_VGPU_CMD_COPY;
        c[1].dst = kOut + 100;
        c[1].src = kIn + 3;
        c[1].size = 60000;
        c[2].op = DRM_VGPU_CMD_COPY;  // overlapping, dst < src
        c[2].dst = kOut + 8;
        c[2].src = kOut + 5000;
        c[2].size = 70000;
        c[3].op = DRM_VGPU_CMD_COPY;  // from host to device at an odd offset
        c[3].dst = kOut + 200001;
        c[3].src = kIn + 1;
        c[3].size = 4000;
        c[4].op = DRM_VGPU_CMD_COPY;  // runs into the unmapped end of kOut
        c[4].dst = kOut + 250000;
        c[4].src = kIn;
        c[4].size = 20000;
        d.status("copies", s.submit(c));
        d.data(s.read(kOut, 256 * 1024));
        return d;
    }};
}

// A kernel reading and writing host memory (registered with the GPU, or
// staged where it cannot be), and atomics on it.
Test host_case() {
    return {"host memory in a kernel", [](Session& s) {
        s.code(kCode, R"(
.kernel k
    s2r r1, %ctaid.x
    s2r r2, %ntid.x
    mul r1, r1, r2
    s2r r3, %tid.x
    add r1, r1, r3
    shli r4, r1, 2
    ldp r5, 0
    add r5, r5, r4
    ld.u32 r6, [r5]
    ldp r7, 1
    add r7, r7, r4
    ld.u32 r8, [r7]
    fadd r9, r6, r8
    ldp r10, 2
    add r10, r10, r4
    st.u32 [r10], r9
    ldp r11, 3
    li r12, 1
    atom.add.u32 r13, [r11], r12
    exit
)");
        const uint32_t n = 64 * 1024;
        uint8_t* a = s.host(kIn, n * 4, R);
        uint8_t* b = s.host(kAux, n * 4, R);
        s.host(kOut, n * 4, R | W);
        s.host(kOut + 0x1000000, 4096, R | W);
        for (uint32_t i = 0; i < n; i++) {
            float x = static_cast<float>(i) * 0.37f, y = 1.0f / static_cast<float>(i + 1);
            std::memcpy(a + 4 * i, &x, 4);
            std::memcpy(b + 4 * i, &y, 4);
        }
        Digest d;
        d.status("host", s.launch({kCode, {n / 256, 1, 1}, {256, 1, 1}, 0, {kIn, kAux, kOut, kOut + 0x1000000}}));
        d.data(s.read(kOut, n * 4));
        d.data(s.read(kOut + 0x1000000, 4));
        return d;
    }};
}

// A launch in slices of @budget_ns: its status, then @bytes at kOut.
Digest sliced(Session& s, const char* name, const Session::Launch& l, uint64_t budget_ns, uint64_t bytes) {
    int slices = 0;
    Digest d;
    d.status(name, s.launch(l, budget_ns, 60000000000ull, &slices));
    d.data(s.read(kOut, bytes));
    d.note += "slices " + std::to_string(slices) + "; ";
    return d;
}

// The watchdog ends a kernel that never ends; preemption gives the same
// result as a whole run.
std::vector<Test> time_cases(const std::string& dir) {
    std::vector<Test> t;
    t.push_back({"watchdog", [](Session& s) {
        s.code(kCode, ".kernel spin\nloop:\n    addi r1, r1, 1\n    bra loop\n");
        Digest d;
        d.status("spin", s.launch({kCode, {4, 1, 1}, {64, 1, 1}, 0, {}}, ~0ull, 300000000ull));
        return d;
    }});
    t.push_back({"preempted vecadd n=4M", [dir](Session& s) {
        std::string src = read_text(dir + "/vecadd.vas");
        s.code(kCode, src);
        const uint64_t n = 1 << 22;
        std::vector<uint32_t> a(n), b(n);
        for (uint64_t i = 0; i < n; i++) {
            float x = static_cast<float>(i % 1001) / 3.0f, y = static_cast<float>(i % 977) / 7.0f;
            std::memcpy(&a[i], &x, 4);
            std::memcpy(&b[i], &y, 4);
        }
        s.device(kIn, n * 4, R);
        s.device(kAux, n * 4, R);
        s.device(kOut, n * 4, R | W);
        s.write(kIn, a.data(), n * 4);
        s.write(kAux, b.data(), n * 4);
        return sliced(s, "vecadd", {kCode, {n / 256, 1, 1}, {256, 1, 1}, 0, {kIn, kAux, kOut, n}}, 20000, n * 4);
    }});
    // Long loops in one block without barriers: on the GPU the threads
    // save their state at backward branches when the slice ends and
    // resume in the next RUN (every fifth thread exits at once; shared
    // memory carries each thread's partial sums across the stops).
    t.push_back({"preempted inside blocks", [](Session& s) {
        s.code(kCode, R"(
.kernel k
.shared 2048
    s2r r1, %tid.x
    li r2, 5
    remu r3, r1, r2
    bz r3, out
    shli r4, r1, 3
    li r5, 60000
    mov r6, r1
    li r7, 0.5
loop:
    muli r6, r6, 1103515245
    addi r6, r6, 12345
    shri r8, r6, 40
    i2f r9, r8
    fmul r9, r9, r7
    lds.u64 r10, [r4]
    fadd r10, r10, r9
    sts.u64 [r4], r10
    addi r5, r5, -1
    bnz r5, loop
    lds.u64 r10, [r4]
    ldp r11, 0
    add r11, r11, r4
    st.u64 [r11], r10
    st.u64 [r11+2048], r6
out:
    exit
)");
        s.device(kOut, 8192, R | W);
        return sliced(s, "loops", {kCode, {2, 1, 1}, {256, 1, 1}, 2048, {kOut}}, 200000, 8192);
    }});
    // The same with barriers: each iteration exchanges values between
    // neighbours through shared memory between two barriers; some threads
    // exit at once.  Sliced, such a kernel stops between blocks.
    t.push_back({"sliced, with barriers", [](Session& s) {
        s.code(kCode, R"(
.kernel k
.shared 1024
    s2r r1, %tid.x
    li r2, 7
    remu r3, r1, r2
    bz r3, out
    shli r4, r1, 2
    addi r5, r1, 1
    andi r5, r5, 255
    shli r5, r5, 2
    li r6, 20000
    mov r7, r1
loop:
    muli r7, r7, 747796405
    addi r7, r7, 2891336453
    sts.u32 [r4], r7
    bar
    lds.u32 r8, [r5]
    add r9, r9, r8
    bar
    addi r6, r6, -1
    bnz r6, loop
    ldp r10, 0
    s2r r11, %ctaid.x
    shli r11, r11, 10
    add r10, r10, r11
    add r10, r10, r4
    st.u32 [r10], r9
out:
    exit
)");
        s.device(kOut, 8192, R | W);
        return sliced(s, "bars", {kCode, {2, 1, 1}, {256, 1, 1}, 1024, {kOut}}, 200000, 8192);
    }});
    t.push_back({"preempted matmul n=128", [dir](Session& s) {
        std::string src = read_text(dir + "/matmul.vas");
        auto img = s.code(kCode, src);
        const uint32_t n = 128;
        std::vector<uint32_t> a(n * n), b(n * n);
        for (uint32_t i = 0; i < n * n; i++) {
            float x = static_cast<float>(i % 97) / 8.0f, y = static_cast<float>(i % 89) / 16.0f;
            std::memcpy(&a[i], &x, 4);
            std::memcpy(&b[i], &y, 4);
        }
        s.device(kIn, n * n * 4, R);
        s.device(kAux, n * n * 4, R);
        s.device(kOut, n * n * 4, R | W);
        s.write(kIn, a.data(), n * n * 4);
        s.write(kAux, b.data(), n * n * 4);
        auto& k = img.kernel("matmul");
        return sliced(s, "matmul",
                      {kCode + k.offset, {n / 16, n / 16, 1}, {16, 16, 1}, k.shared_size, {kIn, kAux, kOut, n}},
                      20000, n * n * 4);
    }});
    return t;
}

}  // namespace

void watched(Session& s, Digest& d, const char* name, const drm_vgpu_cmd& c) {
    Job job;
    job.cmds = {c};
    RunResult r;
    uint64_t t0 = now_ns(), longest = 0;
    int runs = 0;
    do {
        uint64_t a = now_ns();
        r = s.run_once(job, kSliceNs, kWatchdogNs);
        longest = std::max(longest, now_ns() - a);
        runs++;
    } while (r.status == RunStatus::Preempted && now_ns() - t0 < 60000000000ull);
    uint64_t total = now_ns() - t0;
    d.status(name, r);
    d.timing(total <= kWatchdogNs + kBoundNs && longest <= kSliceNs + kBoundNs);
    char b[160];
    std::snprintf(b, sizeof(b), "%s: ended %.3f s after its start (watchdog %.1f s), longest RUN %.1f ms, %d RUNs; ",
                  name, total / 1e9, kWatchdogNs / 1e9, longest / 1e6, runs);
    d.note += b;
}

std::vector<Test> isa_cases(const std::string& dir) {
    std::vector<Test> t{alu_case(),    alu2_case(),         atomics2_case(), warp_case(), barrier_case(),
                        barrier_warps_case(), atomic_case(), copy_case(), host_case(), clock_case(),
                        shared_max_case()};
    for (auto& f : fault_cases())
        t.push_back(f);
    for (auto& f : time_cases(dir))
        t.push_back(f);
    for (auto& f : {straight_line_case(), cas_case(), warp_watchdog_case(), eviction_case()})
        t.push_back(f);
    for (auto& f : ptx_cases())
        t.push_back(f);
    return t;
}

}  // namespace vgpu::engine
