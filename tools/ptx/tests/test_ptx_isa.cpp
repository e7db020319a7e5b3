// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The PTX compiler instruction by instruction: hand-written PTX (the
// forms nvcc emits less often, edge cases of widths, shift amounts,
// carries, comparisons) run in the interpreter against references
// written here from PTX ISA 9.0's definitions; and the refusals, each a
// clear error naming the kernel, the line and the instruction.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstring>
#include <functional>

#include "gpu_harness.hpp"
#include "ptx_test_util.hpp"

namespace {

using gpuvm::ptx::CompileError;
using gpuvm::ptx::Program;

using gpuvm::ptx::test::compile_text;

// A kernel of one thread per input row: a/b are row[0]/row[1] as 32-bit
// registers %r1/%r2, A/B the same as 64-bit %rd6/%rd7, f/g row[0]/row[1]
// as binary32 %f1/%f2, F/G as binary64 %fd1/%fd2; the body stores up to
// sixteen 64-bit results at [%rd5 + 8k].
std::string kernel(const std::string& body, const std::string& extra_decls = "") {
    return R"(.version 8.0
.target sm_75
.address_size 64
)" + extra_decls + R"(
.visible .entry k(.param .u64 in, .param .u64 out)
{
  .reg .pred %p<8>;
  .reg .b16 %rs<8>;
  .reg .b32 %r<16>;
  .reg .f32 %f<8>;
  .reg .f64 %fd<8>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r15, %tid.x;
  mul.wide.u32 %rd3, %r15, 16;
  add.s64 %rd4, %rd1, %rd3;
  mul.wide.u32 %rd3, %r15, 128;
  add.s64 %rd5, %rd2, %rd3;
  ld.global.u64 %rd6, [%rd4];
  ld.global.u64 %rd7, [%rd4+8];
  cvt.u32.u64 %r1, %rd6;
  cvt.u32.u64 %r2, %rd7;
  mov.b32 %f1, %r1;
  mov.b32 %f2, %r2;
  mov.b64 %fd1, %rd6;
  mov.b64 %fd2, %rd7;
)" + body + "\n}\n";
}

struct Row {
    uint64_t a, b;
};

// Runs @body for every row; returns sixteen results per row.
std::vector<std::array<uint64_t, 16>> run(const std::string& body, const std::vector<Row>& rows,
                                         const std::string& extra = "", uint32_t shared = 0) {
    Program p = compile_text(kernel(body, extra));
    vgpu::test::Gpu gpu;
    auto code = gpuvm::ptx::link(p, 0);
    uint8_t* c = gpu.map(0x100000, code.size() * 8, VGPU_PTE_R | VGPU_PTE_X);
    std::memcpy(c, code.data(), code.size() * 8);
    uint8_t* in = gpu.map(0x200000, rows.size() * 16, VGPU_PTE_R | VGPU_PTE_W);
    std::memcpy(in, rows.data(), rows.size() * 16);
    uint8_t* out = gpu.map(0x400000, rows.size() * 128, VGPU_PTE_R | VGPU_PTE_W);
    const auto& k = p.kernels.at(0);
    uint32_t smem = std::max(shared, k.static_shared);
    uint32_t start = (smem + 15) & ~15u;  // local slices after the shared memory, as the runtime lays them
    auto d = vgpu::test::Gpu::desc(0x100000, 1, static_cast<uint32_t>(rows.size()), {0x200000, 0x400000, start},
                                   k.local_per_thread ? start + k.local_per_thread * static_cast<uint32_t>(rows.size())
                                                      : smem);
    auto r = gpu.run(d);
    EXPECT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
    std::vector<std::array<uint64_t, 16>> res(rows.size());
    std::memcpy(res.data(), out, rows.size() * 128);
    return res;
}

uint64_t f(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return u;
}
uint64_t d(double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    return u;
}

TEST(PtxIsa, ThirtyTwoBitResultsStayZeroExtended) {
    std::vector<Row> rows = {{1, 2}, {0, 1}, {0xffffffff, 1}, {0x80000000, 0x80000000}, {5, 0xfffffffb}};
    auto res = run(R"(
  sub.s32 %r3, %r1, %r2;      cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5], %rd8;
  add.s32 %r4, %r1, %r2;      shr.u32 %r5, %r4, 1;    cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+8], %rd8;
  neg.s32 %r6, %r1;           cvt.u64.u32 %rd8, %r6;  st.global.u64 [%rd5+16], %rd8;
  not.b32 %r7, %r1;           cvt.u64.u32 %rd8, %r7;  st.global.u64 [%rd5+24], %rd8;
  mul.lo.s32 %r8, %r1, %r2;   setp.lt.u32 %p1, %r8, %r1;  selp.u64 %rd8, 1, 0, %p1;  st.global.u64 [%rd5+32], %rd8;
  shl.b32 %r9, %r1, 4;        cvt.u64.u32 %rd8, %r9;  st.global.u64 [%rd5+40], %rd8;
  xor.b32 %r10, %r1, -16;     cvt.u64.u32 %rd8, %r10; st.global.u64 [%rd5+48], %rd8;
  cvt.u16.u32 %rs1, %r3;      add.s16 %rs2, %rs1, 1;  cvt.u64.u16 %rd8, %rs2; st.global.u64 [%rd5+56], %rd8;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        uint32_t a = static_cast<uint32_t>(rows[i].a), b = static_cast<uint32_t>(rows[i].b);
        const auto& o = res[i];
        EXPECT_EQ(o[0], uint64_t{a - b}) << i;
        EXPECT_EQ(o[1], uint64_t{(a + b) >> 1}) << i;
        EXPECT_EQ(o[2], uint64_t{0u - a}) << i;
        EXPECT_EQ(o[3], uint64_t{~a}) << i;
        EXPECT_EQ(o[4], uint64_t{a * b < a}) << i;
        EXPECT_EQ(o[5], uint64_t{a << 4}) << i;
        EXPECT_EQ(o[6], uint64_t{a ^ 0xfffffff0u}) << i;
        EXPECT_EQ(o[7], uint64_t{static_cast<uint16_t>((a - b) + 1)}) << i;
    }
}

TEST(PtxIsa, ShiftsByEveryAmountClampAsPtxSays) {
    std::vector<Row> rows;
    for (uint64_t n = 0; n < 70; n += 3)
        rows.push_back({0x80000000f0000001ull, n});
    rows.push_back({0x80000000f0000001ull, 0xffffffff});
    auto res = run(R"(
  shl.b32 %r3, %r1, %r2;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5], %rd8;
  shr.u32 %r3, %r1, %r2;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+8], %rd8;
  shr.s32 %r3, %r1, %r2;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+16], %rd8;
  shl.b64 %rd8, %rd6, %r2;  st.global.u64 [%rd5+24], %rd8;
  shr.u64 %rd8, %rd6, %r2;  st.global.u64 [%rd5+32], %rd8;
  shr.s64 %rd8, %rd6, %r2;  st.global.u64 [%rd5+40], %rd8;
  shf.l.wrap.b32 %r3, %r1, %r2, %r2;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+48], %rd8;
  shf.r.clamp.b32 %r3, %r2, %r1, %r2;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+56], %rd8;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        uint32_t a = static_cast<uint32_t>(rows[i].a);
        uint64_t A = rows[i].a;
        uint32_t n = static_cast<uint32_t>(rows[i].b);
        const auto& o = res[i];
        EXPECT_EQ(o[0], n >= 32 ? 0 : uint64_t{a << n}) << n;
        EXPECT_EQ(o[1], n >= 32 ? 0 : uint64_t{a >> n}) << n;
        EXPECT_EQ(o[2], uint64_t{static_cast<uint32_t>(static_cast<int32_t>(a) >> std::min(n, 31u))}) << n;
        EXPECT_EQ(o[3], n >= 64 ? 0 : A << n) << n;
        EXPECT_EQ(o[4], n >= 64 ? 0 : A >> n) << n;
        EXPECT_EQ(o[5], static_cast<uint64_t>(static_cast<int64_t>(A) >> std::min(n, 63u))) << n;
        // shf.l: upper half of (b:a) << (c & 31), here b = a = n's row
        uint64_t ab = (uint64_t{n} << 32) | a;
        EXPECT_EQ(o[6], ((ab << (n & 31)) >> 32) & 0xffffffff) << n;
        uint64_t ba = (uint64_t{a} << 32) | n;
        EXPECT_EQ(o[7], (ba >> std::min(n, 32u)) & 0xffffffff) << n;
    }
}

TEST(PtxIsa, CarryChainsMakeWideArithmetic) {
    std::vector<Row> rows = {{0xffffffffffffffffull, 1},
                             {0x00000001ffffffffull, 0x00000001ffffffffull},
                             {0, 1},
                             {0x8000000000000000ull, 0x8000000000000001ull},
                             {123456789, 987654321}};
    auto res = run(R"(
  mov.b64 {%r3, %r4}, %rd6;
  mov.b64 {%r5, %r6}, %rd7;
  add.cc.u32 %r7, %r3, %r5;  addc.cc.u32 %r8, %r4, %r6;  addc.u32 %r9, 0, 0;
  mov.b64 %rd8, {%r7, %r8};  st.global.u64 [%rd5], %rd8;  cvt.u64.u32 %rd8, %r9;  st.global.u64 [%rd5+8], %rd8;
  sub.cc.u32 %r7, %r3, %r5;  subc.cc.u32 %r8, %r4, %r6;  subc.u32 %r9, 0, 0;
  mov.b64 %rd8, {%r7, %r8};  st.global.u64 [%rd5+16], %rd8;  cvt.u64.u32 %rd8, %r9;  st.global.u64 [%rd5+24], %rd8;
  add.cc.u64 %rd9, %rd6, %rd7;  addc.u64 %rd10, 0, 0;  st.global.u64 [%rd5+32], %rd9;  st.global.u64 [%rd5+40], %rd10;
  mul.lo.u32 %r7, %r3, %r5;  mul.hi.u32 %r8, %r3, %r5;
  mad.lo.cc.u32 %r10, %r3, %r6, %r8;  madc.hi.u32 %r11, %r3, %r6, 0;
  mov.b64 %rd8, {%r7, %r10};  st.global.u64 [%rd5+48], %rd8;  cvt.u64.u32 %rd8, %r11;  st.global.u64 [%rd5+56], %rd8;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        uint64_t a = rows[i].a, b = rows[i].b;
        const auto& o = res[i];
        unsigned __int128 s = static_cast<unsigned __int128>(a) + b;
        EXPECT_EQ(o[0], static_cast<uint64_t>(s)) << i;
        EXPECT_EQ(o[1], static_cast<uint64_t>(s >> 64)) << i;
        EXPECT_EQ(o[2], a - b) << i;
        EXPECT_EQ(o[3], a < b ? 0xffffffffull : 0) << i;  // 0 - 0 - borrow
        EXPECT_EQ(o[4], a + b) << i;
        EXPECT_EQ(o[5], uint64_t{a + b < a}) << i;
        // (a_lo * b) low 64 bits, and the high part of a_lo * b_hi plus carry
        uint64_t alo = a & 0xffffffff, bhi = b >> 32, blo = b & 0xffffffff;
        uint64_t lo = alo * blo, mid = alo * bhi + (lo >> 32);
        EXPECT_EQ(o[6], (lo & 0xffffffff) | (mid << 32)) << i;
        EXPECT_EQ(o[7], ((alo * bhi) >> 32) + (((alo * bhi) & 0xffffffff) + (lo >> 32) > 0xffffffff)) << i;
    }
}

TEST(PtxIsa, EveryComparison) {
    std::vector<Row> rows = {{1, 2},
                             {2, 1},
                             {5, 5},
                             {0xffffffff, 1},
                             {f(1.5f), f(NAN)},
                             {f(-0.0f), f(0.0f)},
                             {f(-INFINITY), f(3.0f)},
                             {d(2.0), d(NAN)},
                             {d(-1.0), d(1e-310)}};
    const char* cmps[] = {"eq", "ne", "lt", "le", "gt", "ge", "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan"};
    for (int half = 0; half < 2; half++) {
        std::string body;
        for (int k = 0; k < 7; k++) {
            std::string c = cmps[half * 7 + k];
            // bit 0: f32, bit 1: f64, bit 2: s32 (ordered ones), bit 3: u32
            body += "  setp." + c + ".f32 %p1, %f1, %f2;  selp.u64 %rd8, 1, 0, %p1;\n";
            body += "  setp." + c + ".f64 %p2, %fd1, %fd2;  selp.u64 %rd9, 2, 0, %p2;  or.b64 %rd8, %rd8, %rd9;\n";
            if (half * 7 + k < 6) {
                body += "  setp." + c + ".s32 %p3, %r1, %r2;  selp.u64 %rd9, 4, 0, %p3;  or.b64 %rd8, %rd8, %rd9;\n";
                body += "  setp." + c + ".u32 %p3, %r1, %r2;  selp.u64 %rd9, 8, 0, %p3;  or.b64 %rd8, %rd8, %rd9;\n";
            }
            body += "  st.global.u64 [%rd5+" + std::to_string(k * 8) + "], %rd8;\n";
        }
        auto res = run(body, rows);
        for (size_t i = 0; i < rows.size(); i++) {
            for (int k = 0; k < 7; k++) {
                std::string c = cmps[half * 7 + k];
                auto fcmp = [&](double x, double y) {
                    bool un = std::isnan(x) || std::isnan(y);
                    if (c == "eq") return !un && x == y;
                    if (c == "ne") return !un && x != y;
                    if (c == "lt") return !un && x < y;
                    if (c == "le") return !un && x <= y;
                    if (c == "gt") return !un && x > y;
                    if (c == "ge") return !un && x >= y;
                    if (c == "equ") return un || x == y;
                    if (c == "neu") return un || x != y;
                    if (c == "ltu") return un || x < y;
                    if (c == "leu") return un || x <= y;
                    if (c == "gtu") return un || x > y;
                    if (c == "geu") return un || x >= y;
                    if (c == "num") return !un;
                    return un;
                };
                auto icmp = [&](auto x, auto y) {
                    if (c == "eq") return x == y;
                    if (c == "ne") return x != y;
                    if (c == "lt") return x < y;
                    if (c == "le") return x <= y;
                    if (c == "gt") return x > y;
                    return x >= y;
                };
                uint32_t a = static_cast<uint32_t>(rows[i].a), b = static_cast<uint32_t>(rows[i].b);
                float fa, fb;
                std::memcpy(&fa, &a, 4);
                std::memcpy(&fb, &b, 4);
                double da, db;
                std::memcpy(&da, &rows[i].a, 8);
                std::memcpy(&db, &rows[i].b, 8);
                uint64_t want = fcmp(fa, fb) | fcmp(da, db) << 1;
                if (half * 7 + k < 6)
                    want |= icmp(static_cast<int32_t>(a), static_cast<int32_t>(b)) << 2 | icmp(a, b) << 3;
                EXPECT_EQ(res[i][k], want) << c << " row " << i;
            }
        }
    }
}

TEST(PtxIsa, PredicateLogicAndPairs) {
    std::vector<Row> rows = {{1, 2}, {2, 1}, {3, 3}};
    auto res = run(R"(
  setp.lt.s32 %p1|%p2, %r1, %r2;
  setp.eq.and.s32 %p3|%p4, %r1, 3, %p2;
  setp.ne.or.s32 %p5, %r1, 1, !%p1;
  and.pred %p6, %p1, %p5;  not.pred %p7, %p6;  xor.pred %p6, %p7, %p3;
  selp.u64 %rd8, 1, 0, %p1;  selp.u64 %rd9, 2, 0, %p2;  or.b64 %rd8, %rd8, %rd9;
  selp.u64 %rd9, 4, 0, %p3;  or.b64 %rd8, %rd8, %rd9;  selp.u64 %rd9, 8, 0, %p4;  or.b64 %rd8, %rd8, %rd9;
  selp.u64 %rd9, 16, 0, %p5;  or.b64 %rd8, %rd8, %rd9;  selp.u64 %rd9, 32, 0, %p6;  or.b64 %rd8, %rd8, %rd9;
  st.global.u64 [%rd5], %rd8;
  @%p1 st.global.u64 [%rd5+8], %rd6;
  @!%p1 st.global.u64 [%rd5+16], %rd7;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        int a = static_cast<int>(rows[i].a), b = static_cast<int>(rows[i].b);
        bool p1 = a < b, p2 = !p1, p3 = (a == 3) && p2, p4 = (a != 3) && p2, p5 = (a != 1) || !p1;
        bool p6 = !(p1 && p5) != p3;
        EXPECT_EQ(res[i][0], uint64_t{p1} | p2 << 1 | p3 << 2 | p4 << 3 | p5 << 4 | uint64_t{p6} << 5) << i;
        EXPECT_EQ(res[i][1], p1 ? rows[i].a : 0) << i;
        EXPECT_EQ(res[i][2], p1 ? 0 : rows[i].b) << i;
    }
}

TEST(PtxIsa, BitInstructions) {
    std::vector<Row> rows = {{0x12345678, 0x0804}, {0xfffffff0, 0x2010}, {0, 0x1f01}, {0x80000000, 0x3210}};
    auto res = run(R"(
  and.b32 %r3, %r2, 255;  shr.u32 %r4, %r2, 8;
  bfe.u32 %r5, %r1, %r3, %r4;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5], %rd8;
  bfe.s32 %r5, %r1, %r3, %r4;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+8], %rd8;
  bfi.b32 %r5, %r2, %r1, %r3, %r4;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+16], %rd8;
  prmt.b32 %r5, %r1, %r2, %r2;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+24], %rd8;
  bfind.u32 %r5, %r1;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+32], %rd8;
  bfind.s32 %r5, %r1;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+40], %rd8;
  bfind.shiftamt.u32 %r5, %r1;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+48], %rd8;
  mul24.lo.s32 %r5, %r1, %r2;  mul24.hi.u32 %r6, %r1, %r2;  mov.b64 %rd8, {%r5, %r6};  st.global.u64 [%rd5+56], %rd8;
  bmsk.clamp.b32 %r5, %r3, %r4;  bmsk.wrap.b32 %r6, %r4, %r3;  mov.b64 %rd8, {%r5, %r6};  st.global.u64 [%rd5+64], %rd8;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        uint32_t a = static_cast<uint32_t>(rows[i].a), b = static_cast<uint32_t>(rows[i].b);
        uint32_t pos = b & 255, len = b >> 8;
        const auto& o = res[i];
        // PTX bfe: the field clamped to the width; .s fills with its sign
        uint32_t p = std::min(pos, 32u), l = std::min(len, 32u - p);
        uint32_t fu = l ? static_cast<uint32_t>((uint64_t{a} >> p) & ((uint64_t{1} << l) - 1)) : 0;
        EXPECT_EQ(o[0], fu) << i;
        uint32_t fs = fu;
        if (l && ((fu >> (l - 1)) & 1))
            fs |= static_cast<uint32_t>(~((uint64_t{1} << l) - 1));
        if (!len)
            fs = 0;
        else if (pos >= 32)
            fs = (a >> 31) ? 0xffffffff : 0;
        EXPECT_EQ(o[1], fs) << i;
        uint32_t lb = std::min(len, 32u), pb = std::min(pos, 32u);
        uint32_t ins = a;
        for (uint32_t k = 0; k < lb && pb + k < 32; k++)
            ins = (ins & ~(1u << (pb + k))) | (((b >> k) & 1u) << (pb + k));
        EXPECT_EQ(o[2], ins) << i;
        uint64_t bytes = (uint64_t{b} << 32) | a;
        uint32_t pr = 0;
        for (int k = 0; k < 4; k++) {
            uint32_t sel = (b >> (4 * k)) & 7;
            pr |= static_cast<uint32_t>((bytes >> (8 * sel)) & 0xff) << (8 * k);
            if ((b >> (4 * k)) & 8)
                pr = (pr & ~(0xffu << (8 * k))) | (((bytes >> (8 * sel + 7)) & 1) ? 0xffu << (8 * k) : 0);
        }
        EXPECT_EQ(o[3], pr) << i;
        EXPECT_EQ(o[4], a ? 31u - __builtin_clz(a) : 0xffffffffu) << i;
        uint32_t sa = (a >> 31) ? ~a : a;
        EXPECT_EQ(o[5], sa ? 31u - __builtin_clz(sa) : 0xffffffffu) << i;
        EXPECT_EQ(o[6], a ? static_cast<uint32_t>(__builtin_clz(a)) : 0xffffffffu) << i;
        int64_t a24 = static_cast<int32_t>(a << 8) >> 8, b24 = static_cast<int32_t>(b << 8) >> 8;
        uint64_t u24 = uint64_t{a & 0xffffff} * (b & 0xffffff);
        EXPECT_EQ(o[7], (static_cast<uint64_t>(static_cast<uint32_t>(a24 * b24))) | ((u24 >> 16) & 0xffffffff) << 32)
            << i;
        auto bmsk = [](uint32_t p, uint32_t l) {
            return static_cast<uint32_t>((((uint64_t{1} << l) - 1) << p) & 0xffffffff);
        };
        EXPECT_EQ(res[i][8], bmsk(std::min(pos, 32u), std::min(len, 32u)) |
                                 uint64_t{bmsk(len & 31, pos & 31)} << 32) << i;
    }
}

TEST(PtxIsa, FloatSpecialsAndApproximations) {
    std::vector<Row> rows = {{f(2.0f), f(-3.0f)}, {f(1e-40f), f(0.5f)}, {f(NAN), f(INFINITY)}, {f(-0.0f), f(4.0f)}};
    auto res = run(R"(
  testp.finite.f32 %p1, %f1;  testp.infinite.f32 %p2, %f2;  testp.notanumber.f32 %p3, %f1;
  testp.subnormal.f32 %p4, %f1;  testp.normal.f32 %p5, %f1;  testp.number.f32 %p6, %f2;
  selp.u64 %rd8, 1, 0, %p1;  selp.u64 %rd9, 2, 0, %p2;  or.b64 %rd8, %rd8, %rd9;
  selp.u64 %rd9, 4, 0, %p3;  or.b64 %rd8, %rd8, %rd9;  selp.u64 %rd9, 8, 0, %p4;  or.b64 %rd8, %rd8, %rd9;
  selp.u64 %rd9, 16, 0, %p5;  or.b64 %rd8, %rd8, %rd9;  selp.u64 %rd9, 32, 0, %p6;  or.b64 %rd8, %rd8, %rd9;
  st.global.u64 [%rd5], %rd8;
  copysign.f32 %f3, %f2, %f1;  mov.b32 %r3, %f3;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+8], %rd8;
  rcp.rn.f32 %f3, %f2;  mov.b32 %r3, %f3;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+16], %rd8;
  add.ftz.f32 %f3, %f1, 0f00000000;  mov.b32 %r3, %f3;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+24], %rd8;
  cvt.sat.f32.f32 %f3, %f2;  mov.b32 %r3, %f3;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+32], %rd8;
  rsqrt.approx.f32 %f3, %f2;  mov.b32 %r3, %f3;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+40], %rd8;
  cvt.rni.f32.f32 %f3, %f1;  mov.b32 %r3, %f3;  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5+48], %rd8;
  cvt.rzi.sat.u8.f32 %rs1, %f2;  cvt.u64.u16 %rd8, %rs1;  st.global.u64 [%rd5+56], %rd8;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        float x, y;
        uint32_t ua = static_cast<uint32_t>(rows[i].a), ub = static_cast<uint32_t>(rows[i].b);
        std::memcpy(&x, &ua, 4);
        std::memcpy(&y, &ub, 4);
        const auto& o = res[i];
        uint64_t t = std::isfinite(x) | uint64_t{std::isinf(y)} << 1 | uint64_t{std::isnan(x)} << 2 |
                     uint64_t{std::fpclassify(x) == FP_SUBNORMAL} << 3 | uint64_t{std::isnormal(x)} << 4 |
                     uint64_t{!std::isnan(y)} << 5;
        EXPECT_EQ(o[0], t) << i;
        EXPECT_EQ(o[1], f(std::copysign(x, y))) << i;  // copysign.f32 d, a, b: b with a's sign
        EXPECT_EQ(o[2], f(1.0f / y)) << i;
        float ftz = std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x;
        EXPECT_EQ(o[3], std::isnan(x) ? 0x7fc00000u : f(ftz + 0.0f)) << i;
        float sat = std::isnan(y) ? 0.0f : std::min(1.0f, std::max(0.0f, y));
        EXPECT_EQ(o[4], f(sat)) << i;
        float rs = 1.0f / std::sqrt(y);
        EXPECT_EQ(o[5], std::isnan(rs) ? 0x7fc00000u : f(rs)) << i;
        EXPECT_EQ(o[6], std::isnan(x) ? 0x7fc00000u : f(std::nearbyint(x))) << i;
        EXPECT_EQ(o[7], std::isnan(y) ? 0u : static_cast<uint64_t>(std::min(255.0f, std::max(0.0f, std::trunc(y)))))
            << i;
    }
}

TEST(PtxIsa, GenericAddressesReachSharedAndGlobalMemory) {
    std::vector<Row> rows = {{7, 0}, {9, 1}};
    auto res = run(R"(
  mov.u64 %rd8, buf;
  cvta.shared.u64 %rd9, %rd8;
  mul.wide.u32 %rd10, %r15, 8;
  add.s64 %rd11, %rd9, %rd10;
  st.u64 [%rd11], %rd6;
  bar.sync 0;
  xor.b64 %rd12, %rd10, 8;
  add.s64 %rd11, %rd9, %rd12;
  ld.u64 %rd13, [%rd11];
  st.global.u64 [%rd5], %rd13;
  cvta.to.shared.u64 %rd11, %rd11;
  ld.shared.u64 %rd13, [%rd11];
  st.global.u64 [%rd5+8], %rd13;
  bar.sync 0;
  cvta.global.u64 %rd11, %rd5;
  st.u64 [%rd11+16], %rd7;
  atom.add.u64 %rd13, [%rd11+16], 5;
  atom.add.u32 %r3, [%rd9], 1;
  cvt.u64.u32 %rd13, %r3;
  st.global.u64 [%rd5+24], %rd13;
)",
                   rows, ".shared .align 8 .b8 buf[16];\n");
    EXPECT_EQ(res[0][0], 9u);
    EXPECT_EQ(res[1][0], 7u);
    EXPECT_EQ(res[0][1], 9u);
    EXPECT_EQ(res[0][2], 5u);
    EXPECT_EQ(res[1][2], 6u);
    // thread 0 added 1 to buf[0] (7, low half) first, then thread 1
    EXPECT_EQ(res[0][3], 7u);
    EXPECT_EQ(res[1][3], 8u);
}

TEST(PtxIsa, WarpInstructions) {
    // 40 threads: a full warp and a partial one of 8.
    std::vector<Row> rows;
    for (uint64_t i = 0; i < 40; i++)
        rows.push_back({i * 7 + 1, i % 3});
    auto res = run(R"(
  mov.u32 %r3, %r1;
  shfl.sync.bfly.b32 %r4, %r3, 16, 31, -1;  add.s32 %r3, %r3, %r4;
  shfl.sync.bfly.b32 %r4, %r3, 8, 31, -1;   add.s32 %r3, %r3, %r4;
  shfl.sync.bfly.b32 %r4, %r3, 4, 31, -1;   add.s32 %r3, %r3, %r4;
  shfl.sync.bfly.b32 %r4, %r3, 2, 31, -1;   add.s32 %r3, %r3, %r4;
  shfl.sync.bfly.b32 %r4, %r3, 1, 31, -1;   add.s32 %r3, %r3, %r4;
  cvt.u64.u32 %rd8, %r3;  st.global.u64 [%rd5], %rd8;
  {
    .reg .u32 r0;
    .reg .pred p;
    shfl.sync.up.b32 r0|p, %r1, 1, 0, -1;
    @p add.u32 r0, r0, 1000;
    cvt.u64.u32 %rd8, r0;  st.global.u64 [%rd5+8], %rd8;
  }
  setp.eq.s32 %p1, %r2, 0;
  vote.sync.ballot.b32 %r5, %p1, -1;  cvt.u64.u32 %rd8, %r5;  st.global.u64 [%rd5+16], %rd8;
  vote.sync.any.pred %p2, %p1, -1;  selp.u64 %rd8, 1, 0, %p2;  st.global.u64 [%rd5+24], %rd8;
  vote.sync.all.pred %p2, %p1, -1;  selp.u64 %rd8, 1, 0, %p2;  st.global.u64 [%rd5+32], %rd8;
  activemask.b32 %r6;  cvt.u64.u32 %rd8, %r6;  st.global.u64 [%rd5+40], %rd8;
  bar.warp.sync -1;
  mov.u32 %r7, %lanemask_lt;  cvt.u64.u32 %rd8, %r7;  st.global.u64 [%rd5+48], %rd8;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        size_t w0 = i / 32 * 32, n = std::min<size_t>(32, rows.size() - w0), lane = i % 32;
        // The butterfly over a partial warp: a lane outside the group gives 0.
        std::vector<uint32_t> v(32);
        for (size_t l = 0; l < 32; l++)
            v[l] = l < n ? static_cast<uint32_t>(rows[w0 + l].a) : 0;
        for (int m = 16; m; m /= 2) {
            std::vector<uint32_t> nv(v);
            for (size_t l = 0; l < n; l++)
                nv[l] = v[l] + ((l ^ m) < n ? v[l ^ m] : 0);
            v = nv;
        }
        EXPECT_EQ(res[i][0], v[lane]) << i;
        EXPECT_EQ(res[i][1], lane ? rows[i - 1].a + 1000 : rows[i].a) << i;
        uint32_t ballot = 0;
        for (size_t l = 0; l < n; l++)
            ballot |= (rows[w0 + l].b == 0 ? 1u : 0u) << l;
        EXPECT_EQ(res[i][2], ballot) << i;
        EXPECT_EQ(res[i][3], ballot != 0) << i;
        EXPECT_EQ(res[i][4], ballot == (n == 32 ? 0xffffffffu : (1u << n) - 1)) << i;
        EXPECT_EQ(res[i][5], n == 32 ? 0xffffffffu : (1u << n) - 1) << i;
        EXPECT_EQ(res[i][6], (1u << lane) - 1) << i;
    }
}

TEST(PtxIsa, BarrierReductionsInALoop) {
    // Five rounds of __syncthreads_count/_and/_or over 40 threads (the
    // three shared words rotate), each thread's predicate changing.
    std::vector<Row> rows;
    for (uint64_t i = 0; i < 40; i++)
        rows.push_back({i, 0});
    auto res = run(R"(
  mov.u32 %r3, 0;
  mov.u64 %rd9, 0;
$Lround:
  add.s32 %r4, %r1, %r3;
  rem.u32 %r5, %r4, 3;
  setp.eq.u32 %p1, %r5, 0;
  bar.red.popc.u32 %r6, 0, %p1;
  setp.lt.u32 %p2, %r1, %r3;
  bar.red.and.pred %p3, 0, %p2;
  bar.red.or.pred %p4, 0, %p2;
  cvt.u64.u32 %rd8, %r6;
  mul.lo.s64 %rd9, %rd9, 1000;
  add.s64 %rd9, %rd9, %rd8;
  selp.u64 %rd10, 1, 0, %p3;
  selp.u64 %rd11, 2, 0, %p4;
  or.b64 %rd10, %rd10, %rd11;
  mul.wide.u32 %rd12, %r3, 8;
  add.s64 %rd12, %rd5, %rd12;
  st.global.u64 [%rd12+8], %rd10;
  add.s32 %r3, %r3, 1;
  setp.lt.u32 %p5, %r3, 5;
  @%p5 bra $Lround;
  st.global.u64 [%rd5], %rd9;
)",
                   rows);
    uint64_t want = 0;
    for (uint32_t r = 0; r < 5; r++)  {
        uint64_t cnt = 0;
        for (uint32_t t = 0; t < 40; t++)
            cnt += (t + r) % 3 == 0;
        want = want * 1000 + cnt;
        bool all = r > 39, any = r > 0;  // t < r
        for (size_t i = 0; i < rows.size(); i++)
            EXPECT_EQ(res[i][1 + r], uint64_t{all} | uint64_t{any} << 1) << r;
    }
    for (size_t i = 0; i < rows.size(); i++)
        EXPECT_EQ(res[i][0], want) << i;
}

// bar.red's words follow the program's shared variables, beyond its 48
// KiB: the program keeps its whole 48 KiB, static and dynamic, however
// the words and the alignment of dynamic memory fall.
std::string bar_red_kernel(uint32_t own, uint32_t dyn_align) {
    std::string decl = own ? ".shared .align 4 .b8 s[" + std::to_string(own) + "];\n" : "";
    return R"(.version 8.0
.target sm_75
.address_size 64
.extern .shared .align )" + std::to_string(dyn_align) + R"( .b8 dyn[];
)" + decl + R"(.visible .entry k() {
  .reg .pred %p<3>;
  .reg .b32 %r<3>;
  .reg .b64 %rd<3>;
  mov.u32 %r1, %tid.x;
  setp.eq.u32 %p1, %r1, 0;
  bar.red.or.pred %p2, 0, %p1;
  mov.u64 %rd1, dyn;
  st.shared.u32 [%rd1], %r1;
)" + (own ? "  mov.u64 %rd2, s;\n  st.shared.u32 [%rd2], %r1;\n" : "") + R"(  ret;
}
)";
}

TEST(PtxIsa, BarRedWordsLeaveTheProgramItsSharedMemory) {
    for (uint32_t own : {0u, 100u, 104u, 49152u}) {
        Program p = compile_text(bar_red_kernel(own, 16));
        const auto* k = p.kernel("k");
        ASSERT_TRUE(k);
        SCOPED_TRACE(own);
        EXPECT_EQ(k->program_shared, own);
        EXPECT_GE(k->static_shared, own + 12);
        // CUDA's dynamic memory would start at own rounded up to 16.
        uint32_t cuda_dyn = (own + 15) & ~15u;
        EXPECT_EQ(k->max_dynamic_shared(), gpuvm::ptx::kProgramShared - std::min(cuda_dyn, gpuvm::ptx::kProgramShared));
        // The largest launch CUDA allows fits the engines' block.
        EXPECT_LE(k->dynamic_shared_offset + k->max_dynamic_shared(), uint32_t{VGPU_MAX_SHARED});
        EXPECT_EQ(k->dynamic_shared_offset - k->reserved_shared, cuda_dyn);
    }
    // Dynamic memory aligned to 2 KiB: the words would move it by 2 KiB,
    // beyond the engines' extra KiB: refused, saying why.
    EXPECT_THROW(compile_text(bar_red_kernel(2044, 2048)), gpuvm::ptx::CompileError);
}

TEST(PtxIsa, FloatInitialValuesOfEveryLiteralForm) {
    // binary32 variables from decimal and 0d literals are rounded to
    // binary32; binary64 ones from 0f literals widened exactly.
    Program p = compile_text(R"(.version 8.0
.target sm_75
.address_size 64
.global .align 4 .f32 a[3] = {1.5, 0d3FB999999999999A, 0f40490FDB};
.global .align 8 .f64 b[2] = {0f3FC00000, 2.5};
.visible .entry k() { ret; }
)");
    const auto* a = p.global("a");
    const auto* b = p.global("b");
    ASSERT_TRUE(a && b);
    float fa[3];
    double fb[2];
    std::memcpy(fa, p.data.data() + a->offset, sizeof(fa));
    std::memcpy(fb, p.data.data() + b->offset, sizeof(fb));
    EXPECT_EQ(fa[0], 1.5f);
    EXPECT_EQ(fa[1], static_cast<float>(0.1));
    EXPECT_EQ(f(fa[2]), 0x40490fdbu);
    EXPECT_EQ(fb[0], 1.5);
    EXPECT_EQ(fb[1], 2.5);
}

TEST(PtxIsa, ParamArraysOfDeviceFunctions) {
    // A .func with a byte-array parameter and two results, as nvcc passes
    // small structures.
    std::string text = R"(.version 8.0
.target sm_75
.address_size 64
.func (.param .align 8 .b8 ret[16]) pair(.param .align 8 .b8 p[16], .param .b32 k)
{
  .reg .b64 %rd<4>;
  .reg .b32 %r<2>;
  ld.param.u64 %rd1, [p];
  ld.param.u64 %rd2, [p+8];
  ld.param.u32 %r1, [k];
  cvt.u64.u32 %rd3, %r1;
  mul.lo.s64 %rd1, %rd1, %rd3;
  add.s64 %rd2, %rd2, %rd3;
  st.param.u64 [ret+8], %rd1;
  st.param.u64 [ret], %rd2;
  ret;
}
.visible .entry k(.param .u64 out)
{
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  {
    .param .align 8 .b8 a[16];
    st.param.u64 [a], 6;
    st.param.u64 [a+8], 100;
    .param .b32 b;
    st.param.b32 [b], 7;
    .param .align 8 .b8 r[16];
    call.uni (r), pair, (a, b);
    ld.param.u64 %rd2, [r];
    ld.param.u64 %rd3, [r+8];
  }
  st.global.u64 [%rd1], %rd2;
  st.global.u64 [%rd1+8], %rd3;
}
)";
    Program p = compile_text(text);
    vgpu::test::Gpu gpu;
    auto code = gpuvm::ptx::link(p, 0);
    uint8_t* c = gpu.map(0x100000, code.size() * 8, VGPU_PTE_R | VGPU_PTE_X);
    std::memcpy(c, code.data(), code.size() * 8);
    auto* out = reinterpret_cast<uint64_t*>(gpu.map(0x200000, 4096, VGPU_PTE_R | VGPU_PTE_W));
    ASSERT_EQ(gpu.run(vgpu::test::Gpu::desc(0x100000, 1, 1, {0x200000})).status, VGPU_RUN_DONE);
    EXPECT_EQ(out[0], 107u);
    EXPECT_EQ(out[1], 42u);
}

// Each refusal names the kernel, the line and the instruction.
void expect_refused(const std::string& body, const std::string& what, int line,
                    const std::string& decls = "") {
    try {
        compile_text(kernel(body, decls));
        ADD_FAILURE() << "compiled: " << body;
    } catch (const CompileError& e) {
        std::string m = e.what();
        EXPECT_NE(m.find("kernel k, line " + std::to_string(line) + ": "), std::string::npos) << m;
        EXPECT_NE(m.find(what), std::string::npos) << m;
    }
}

TEST(PtxIsa, UnsupportedPtxIsRefusedByName) {
    const int first = 28;  // the line of the body's first statement in kernel()
    expect_refused("  ex2.approx.f64 %fd3, %fd1;", "'ex2.approx.f64': only .f32", first);
    expect_refused("  lg2.approx.f16 %rs3, %rs1;", "'lg2.approx.f16': the instruction on 16-bit floats", first);
    expect_refused("  mov.u64 %rd8, %globaltimer;", "special register %globaltimer", first);
    expect_refused("\n  cvt.rn.relu.f16.f32 %rs1, %f1;", "the modifier .relu on 16-bit floats", first + 1);
    expect_refused("  atom.global.add.noftz.f16 %rs3, [%rd1], %rs1;", "the modifier .f16 is not supported", first);
    expect_refused("  bar.sync 1, 64;", "only the block barrier 0", first);
    expect_refused("  dp4a.u32.u32 %r3, %r1, %r2, %r1;", "'dp4a.u32.u32': the instruction is not supported yet", first);
    expect_refused("  lop3.b32 %r3, %r1, %r2, %r1, 0x96;", "'lop3.b32': the instruction is not supported yet", first);
}

// clock64(), clock() and %clock_hi: the interpreter's clock counts the
// thread's instructions (sim-isa.rst), so a spin of N ticks ends after
// N instructions and a thread's readings do not depend on the others.
TEST(PtxIsa, ClockRegistersCountTheThreadsInstructions) {
    std::vector<Row> rows = {{1000, 0}, {1, 0}, {1000, 0}, {50000, 0}};
    auto res = run(R"(
  mov.u64 %rd8, %clock64;
  mov.u32 %r3, %clock;
  mov.u32 %r4, %clock_hi;
$Lspin:
  mov.u64 %rd9, %clock64;
  sub.s64 %rd10, %rd9, %rd8;
  setp.lt.u64 %p1, %rd10, %rd6;
  @%p1 bra $Lspin;
  mov.u64 %rd11, %clock64;
  st.global.u64 [%rd5], %rd8;
  cvt.u64.u32 %rd12, %r3;
  st.global.u64 [%rd5+8], %rd12;
  cvt.u64.u32 %rd12, %r4;
  st.global.u64 [%rd5+16], %rd12;
  st.global.u64 [%rd5+24], %rd10;
  st.global.u64 [%rd5+32], %rd11;
)",
                   rows);
    for (size_t i = 0; i < rows.size(); i++) {
        const auto& r = res[i];
        EXPECT_GT(r[1], r[0]) << i;                       // %clock later than %clock64: monotonic
        EXPECT_LT(r[1] - r[0], 4u) << i;                  // one instruction or two later
        EXPECT_EQ(r[2], 0u) << i;                         // %clock_hi of a small count
        EXPECT_GE(r[3], rows[i].a) << i;                  // the spin waited its ticks
        EXPECT_LT(r[3], rows[i].a + 8) << i;              // and about no more (a few per round)
        EXPECT_GT(r[4], r[0] + r[3]) << i;                // later still
        EXPECT_EQ(r[0], res[0][0]) << i;                  // per thread: the same count at the same point
    }
    EXPECT_EQ(res[0][3], res[2][3]);  // reproducible
}

TEST(PtxIsa, LocalMemoryThroughLocalAndGenericAddresses) {
    // A per-thread array indexed at run time, written through .local and
    // read through a generic pointer (as nvcc does for arrays and printf).
    std::vector<Row> rows;
    for (uint64_t i = 0; i < 40; i++)
        rows.push_back({i * 3, i % 5});
    std::string body = R"(
  .local .align 8 .b8 depot[48];
  .reg .b64 %SP, %SPL;
  mov.u64 %SPL, depot;
  cvta.local.u64 %SP, %SPL;
  mov.u32 %r3, 0;
$Lfill:
  mul.wide.u32 %rd8, %r3, 8;
  add.s64 %rd9, %SPL, %rd8;
  cvt.u64.u32 %rd10, %r3;
  add.s64 %rd10, %rd10, %rd6;
  st.local.u64 [%rd9], %rd10;
  add.s32 %r3, %r3, 1;
  setp.lt.u32 %p1, %r3, 6;
  @%p1 bra $Lfill;
  bar.sync 0;
  mul.wide.u32 %rd8, %r2, 8;
  add.s64 %rd9, %SP, %rd8;
  ld.u64 %rd10, [%rd9];
  st.global.u64 [%rd5], %rd10;
  cvta.to.local.u64 %rd11, %rd9;
  ld.local.u32 %r4, [%rd11];
  cvt.u64.u32 %rd12, %r4;
  st.global.u64 [%rd5+8], %rd12;
  st.global.u64 [%rd5+16], %SP;
)";
    Program p = compile_text(kernel(body));
    const auto& k = p.kernels.at(0);
    EXPECT_EQ(k.local_per_thread, 48u);
    EXPECT_EQ(k.local_param_offset, 16u);
    // run() gives no hidden parameter: lay the slices out here
    vgpu::test::Gpu gpu;
    auto code = gpuvm::ptx::link(p, 0);
    uint8_t* c = gpu.map(0x100000, code.size() * 8, VGPU_PTE_R | VGPU_PTE_X);
    std::memcpy(c, code.data(), code.size() * 8);
    uint8_t* in = gpu.map(0x200000, rows.size() * 16, VGPU_PTE_R | VGPU_PTE_W);
    std::memcpy(in, rows.data(), rows.size() * 16);
    auto* out = reinterpret_cast<uint64_t*>(gpu.map(0x400000, rows.size() * 128, VGPU_PTE_R | VGPU_PTE_W));
    uint32_t start = 64;  // the slices after 64 bytes of (unused) shared memory
    auto d = vgpu::test::Gpu::desc(0x100000, 1, static_cast<uint32_t>(rows.size()), {0x200000, 0x400000, start},
                                   start + 48 * static_cast<uint32_t>(rows.size()));
    ASSERT_EQ(gpu.run(d).status, VGPU_RUN_DONE);
    for (size_t i = 0; i < rows.size(); i++) {
        EXPECT_EQ(out[i * 16], rows[i].a + rows[i].b) << i;
        EXPECT_EQ(out[i * 16 + 1], rows[i].a + rows[i].b) << i;
        EXPECT_EQ(out[i * 16 + 2], (uint64_t{1} << 47)) << i;  // generic local address of the slice
    }
    // Too little shared memory for the slices: the last thread's faults.
    d.shared_size = start + 48 * static_cast<uint32_t>(rows.size()) - 8;
    EXPECT_EQ(gpu.run(d).status, VGPU_RUN_FAULT);
}

TEST(PtxIsa, RecursionGetsACallStackPrintfCompiles) {
    std::string rec = R"(.version 8.0
.target sm_75
.address_size 64
.func (.param .b32 r) f(.param .b32 x)
{
  .reg .b32 %r<3>;
  ld.param.b32 %r1, [x];
  {
    .param .b32 a;
    st.param.b32 [a], %r1;
    .param .b32 b;
    call.uni (b), f, (a);
    ld.param.b32 %r2, [b];
  }
  st.param.b32 [r], %r2;
  ret;
}
.visible .entry k()
{
  .reg .b32 %r<2>;
  {
    .param .b32 a;
    st.param.b32 [a], 1;
    .param .b32 b;
    call.uni (b), f, (a);
    ld.param.b32 %r1, [b];
  }
}
)";
    // recursion compiles to calls through a call stack (test_ptx_call.cpp)
    auto rp = compile_text(rec);
    EXPECT_GT(rp.kernels.at(0).call_stack, 0u);
    EXPECT_GT(rp.kernels.at(0).local_per_thread, 0u);
    // printf compiles to a record in the printf buffer, a hidden parameter
    std::string pf = kernel("  {\n  .param .b64 a;\n  st.param.b64 [a], 0;\n  .param .b64 b;\n  st.param.b64 [b], 0;\n"
                            "  .param .b32 r;\n  call.uni (r), vprintf, (a, b);\n  ld.param.b32 %r3, [r];\n  }",
                            ".extern .func (.param .b32 r) vprintf(.param .b64 f, .param .b64 a);\n");
    auto p = compile_text(pf);
    EXPECT_TRUE(p.kernels.at(0).uses_printf);
    EXPECT_EQ(p.kernels.at(0).printf_param_offset, 16u);
}

TEST(PtxIsa, RegisterPressureBeyondTheIsaSpillsToLocalMemory) {
    // 40 values live at once: more than the ISA's 32 registers.
    for (int live : {20, 40, 70}) {
        std::string body = "  .reg .b64 %rx<" + std::to_string(live) + ">;\n";
        for (int i = 0; i < live; i++)
            body += "  add.s64 %rx" + std::to_string(i) + ", %rd6, " + std::to_string(i) + ";\n";
        body += "  mov.u64 %rd8, 0;\n";
        for (int i = 0; i < live; i++)
            body += "  mul.lo.s64 %rd9, %rx" + std::to_string(i) + ", " + std::to_string(i + 1) +
                    ";\n  add.s64 %rd8, %rd8, %rd9;\n";
        body += "  st.global.u64 [%rd5], %rd8;";
        Program p = compile_text(kernel(body));
        const auto& k = p.kernels.at(0);
        if (live <= 20) {
            EXPECT_EQ(k.spilled, 0u);
            EXPECT_EQ(k.local_per_thread, 0u);
        } else {
            EXPECT_GT(k.spilled, 0u) << live;
            EXPECT_GE(k.local_per_thread, 8 * k.spilled) << live;
        }
        EXPECT_LE(k.registers, 32u);
        std::vector<Row> rows = {{1000, 0}, {7, 0}, {0, 0}};
        auto res = run(body, rows);
        for (size_t r = 0; r < rows.size(); r++) {
            uint64_t want = 0;
            for (int i = 0; i < live; i++)
                want += (rows[r].a + i) * (i + 1);
            EXPECT_EQ(res[r][0], want) << live << " row " << r;
        }
    }
}

}  // namespace
