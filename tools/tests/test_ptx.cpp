// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The ISA-to-PTX translator of vgpu-engined without a GPU: what it
// reaches from an entry, the faults it plants, and the PTX each opcode
// becomes (the GPU run is vgpu-engined --self-test, on a machine with
// one).  Also the device-memory arena both back ends use.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <regex>
#include <string>

#include "arena.hpp"
#include "ptx.hpp"
#include "vgpu/asm.hpp"

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_isa_table.h"
#include "vgpu_pt.h"
}

namespace {

using vgpu::engine::discover;
using vgpu::engine::Fetch;
using vgpu::engine::Program;
using vgpu::engine::translate;

constexpr uint64_t kBase = 0x100000;

// Code at kBase; the page after it is mapped without X; beyond, nothing.
Program program(const std::vector<uint64_t>& code, uint64_t entry = kBase) {
    return discover(entry, [&](uint64_t va) -> Fetch {
        if (va >= kBase && (va - kBase) / 8 < code.size())
            return {code[(va - kBase) / 8], 0};
        if (va >= kBase && va < kBase + 0x2000)
            return {0, 0};  // zero words: opcode 0, illegal
        if (va >= kBase + 0x2000 && va < kBase + 0x3000)
            return {0, VGPU_FAULT_PERM};
        return {0, VGPU_FAULT_UNMAPPED};
    });
}

Program assembled(const std::string& src) { return program(vgpu::assemble(src).code); }

TEST(Ptx, DiscoversOnlyReachableCode) {
    auto p = assembled(".kernel k\n li r1, 3\nloop:\n addi r1, r1, -1\n bnz r1, loop\n exit\n nop\n nop\n");
    EXPECT_EQ(p.insns.size(), 4u);  // the two nops after exit are never reached
    EXPECT_FALSE(p.has_barrier);
    EXPECT_FALSE(p.too_large);
    for (auto& [pc, f] : p.insns)
        EXPECT_EQ(f.fault, 0u);
}

TEST(Ptx, FetchFaultsBecomeFaultsWhereTheyExecute) {
    // bra into the page without X, and a fall-through off the code's end.
    std::vector<uint64_t> code{vgpu_insn(VGPU_OP_BZ, 0, 1, 0, 2), vgpu_insn(VGPU_OP_BRA, 0, 0, 0, 0x2000 / 8)};
    auto p = program(code);
    ASSERT_TRUE(p.insns.count(kBase + 8 + 0x2000));
    EXPECT_EQ(p.insns[kBase + 8 + 0x2000].fault, static_cast<uint32_t>(VGPU_FAULT_PERM));
    ASSERT_TRUE(p.insns.count(kBase + 16));
    std::string ptx = translate(p, 90);
    // The PERM fault is raised with the address of the instruction.
    EXPECT_NE(ptx.find("mov.u32 %fk, 2;\n\tmov.b64 %fa, 0x0000000000102008"), std::string::npos);
    // The zero word after the branch is an illegal instruction at its address.
    EXPECT_NE(ptx.find("mov.u32 %fk, 5;\n\tmov.b64 %fa, 0x0000000000100010"), std::string::npos);
}

TEST(Ptx, UnmappedAndBeyondTheAddressSpace) {
    std::vector<uint64_t> code{vgpu_insn(VGPU_OP_BRA, 0, 0, 0, 0x10000)};
    auto p = program(code);
    ASSERT_TRUE(p.insns.count(kBase + 0x80000));
    EXPECT_EQ(p.insns[kBase + 0x80000].fault, static_cast<uint32_t>(VGPU_FAULT_UNMAPPED));
    auto q = program({}, VGPU_VA_SIZE + 8);
    EXPECT_EQ(q.insns.begin()->second.fault, static_cast<uint32_t>(VGPU_FAULT_UNMAPPED));
}

TEST(Ptx, IllegalEncodingsAreFaultsNotTranslations) {
    const uint64_t words[] = {0xff, vgpu_insn(VGPU_OP_ADD, 32, 1, 2, 0), vgpu_insn(VGPU_OP_S2R, 1, 0, 0, 12),
                              vgpu_insn(VGPU_OP_LDP, 1, 0, 0, 8), 0};
    for (uint64_t w : words) {
        auto p = program({w});
        EXPECT_EQ(p.insns.size(), 1u) << std::hex << w;
        EXPECT_NE(translate(p, 90).find("mov.u32 %fk, 5;"), std::string::npos) << std::hex << w;
    }
}

TEST(Ptx, KeyFollowsTheCode) {
    auto a = assembled(".kernel k\n li r1, 1\n exit\n");
    auto b = assembled(".kernel k\n li r1, 2\n exit\n");
    auto c = assembled(".kernel k\n li r1, 1\n exit\n");
    EXPECT_NE(a.key(), b.key());
    EXPECT_EQ(a.key(), c.key());
}

TEST(Ptx, TooLargeIsRefused) {
    std::vector<uint64_t> code(vgpu::engine::kMaxInsns + 10, vgpu_insn(VGPU_OP_NOP, 0, 0, 0, 0));
    auto p = discover(kBase, [&](uint64_t va) -> Fetch { return {code[((va - kBase) / 8) % code.size()], 0}; });
    EXPECT_TRUE(p.too_large);
}

// Every opcode of the ISA's table translates to its own PTX.
TEST(Ptx, EveryOpcodeTranslates) {
    std::map<std::string, std::string> bodies;
    for (const auto& op : vgpu_op_table) {
        uint64_t w = vgpu_insn(op.opcode, 3, 1, 2, op.opcode == VGPU_OP_S2R ? 4 : op.opcode == VGPU_OP_LDP ? 5 : 2);
        std::vector<uint64_t> code{w, vgpu_insn(VGPU_OP_EXIT, 0, 0, 0, 0)};
        auto p = program(code);
        std::string ptx = translate(p, 90);
        auto a = ptx.find("\nL0:\n"), b = ptx.find("\nL1:\n");
        ASSERT_NE(a, std::string::npos) << op.name;
        std::string body = b == std::string::npos ? ptx.substr(a) : ptx.substr(a, b - a);
        EXPECT_EQ(body.find("%fk, 5;"), std::string::npos) << op.name << " became an illegal instruction";
        if (op.opcode != VGPU_OP_NOP) {
            EXPECT_GT(body.size(), 8u) << op.name;
        }
        bodies[op.name] = body;
    }
    EXPECT_EQ(bodies.size(), sizeof(vgpu_op_table) / sizeof(vgpu_op_table[0]));
    // Rounding: every float operation is .rn (never contracted to fma), and
    // NaN results are made canonical.
    for (const char* f : {"fadd", "fsub", "fmul", "fdiv", "fmad"}) {
        EXPECT_NE(bodies[f].find(".rn.f32"), std::string::npos) << f;
        EXPECT_NE(bodies[f].find("0x7FC00000"), std::string::npos) << f;
    }
    EXPECT_EQ(bodies["fmad"].find("fma"), std::string::npos);
    EXPECT_NE(bodies["fmad"].find("mul.rn.f32"), std::string::npos);
    EXPECT_NE(bodies["f2i"].find("cvt.rzi.s64.f32"), std::string::npos);
    EXPECT_NE(bodies["f2i"].find("testp.notanumber"), std::string::npos);  // NaN -> 0
    EXPECT_EQ(bodies["fneg"].find("neg.f32"), std::string::npos);        // bit 31 only
    EXPECT_NE(bodies["atom.add.f32"].find("atom.global.cas.b32"), std::string::npos);  // no ftz atom.add.f32
    EXPECT_NE(bodies["div"].find("0x8000000000000000"), std::string::npos);  // MIN / -1
    EXPECT_NE(bodies["divu"].find("@%p1 mov.b64 %t0, -1"), std::string::npos);  // x / 0
    EXPECT_NE(bodies["bar"].find("barrier.red.popc"), std::string::npos);
    // Global accesses walk the page tables and check permissions.
    EXPECT_NE(bodies["st.u32"].find("and.b64 %t6, %t4, 2;"), std::string::npos);
    EXPECT_NE(bodies["ld.u64"].find("and.b64 %t2, %t0, 7"), std::string::npos);
    EXPECT_NE(bodies["atom.add.u32"].find("and.b64 %t6, %t4, 3;"), std::string::npos);
    EXPECT_NE(bodies["lds.u32"].find("%sl4"), std::string::npos);
    EXPECT_NE(bodies["sts.u64"].find("%sl8"), std::string::npos);
}

TEST(Ptx, BackwardBranchesCheckTheStopWord) {
    auto p = assembled(".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n");
    std::string ptx = translate(p, 90);
    EXPECT_NE(ptx.find("bra $BE0"), std::string::npos);
    EXPECT_NE(ptx.find("ld.volatile.global.u32 %w5, [%stop]"), std::string::npos);
    auto q = assembled(".kernel k\n bra fwd\nfwd:\n exit\n");
    EXPECT_EQ(translate(q, 90).find("$BE0:"), std::string::npos);
}

// Kernels without barriers save their threads at backward branches when
// asked to (kStopPreempt) and resume at the branch's target; kernels with
// barriers only stop (a thread saving alone would let others past a
// barrier).
TEST(Ptx, BackwardBranchesAreResumePoints) {
    auto p = assembled(".kernel k\nouter:\n li r2, 3\ninner:\n addi r2, r2, -1\n bnz r2, inner\n"
                       " addi r1, r1, 1\n bra outer\n");
    std::string ptx = translate(p, 90);
    EXPECT_NE(ptx.find("@%p2 bra $SV0;"), std::string::npos);
    EXPECT_NE(ptx.find("@%p2 bra $SV1;"), std::string::npos);
    // Each resume point saves and restores the registers live there, and
    // resumes at its branch's target: inner (L1: r1 and r2 live), outer
    // (L0: r1 live, r2 written before it is read).
    auto sv = [&](int k) {
        auto a = ptx.find("\n$SV" + std::to_string(k) + ":\n");
        return a == std::string::npos ? std::string() : ptx.substr(a, ptx.find("bra $SAVE", a) - a);
    };
    auto rs = [&](int k) {
        auto a = ptx.find("\n$RS" + std::to_string(k) + ":\n");
        return a == std::string::npos ? std::string() : ptx.substr(a, ptx.find(";\n$", a + 4) - a);
    };
    EXPECT_NE(sv(0).find("[%slot+8], %r1;"), std::string::npos) << sv(0);
    EXPECT_NE(sv(0).find("[%slot+16], %r2;"), std::string::npos) << sv(0);
    EXPECT_NE(sv(1).find("[%slot+8], %r1;"), std::string::npos) << sv(1);
    EXPECT_EQ(sv(1).find("%r2;"), std::string::npos) << sv(1);
    EXPECT_EQ(sv(0).find("%r3;"), std::string::npos) << sv(0);
    EXPECT_NE(rs(0).find("bra L1"), std::string::npos) << rs(0);
    EXPECT_NE(rs(1).find("bra L0"), std::string::npos) << rs(1);
    EXPECT_NE(rs(1).find("ld.global.u64 %r1, [%slot+8];"), std::string::npos) << rs(1);
    EXPECT_EQ(rs(1).find("%r2,"), std::string::npos) << rs(1);
    for (const char* l : {"\n$SAVE:\n", "\n$FIN:\n", "\n$FRESH:\n", "\n$RCOPY:\n", "\n$EXITED:\n"})
        EXPECT_NE(ptx.find(l), std::string::npos) << l;
    auto q = assembled(".kernel k\nloop:\n bar\n addi r1, r1, 1\n bra loop\n");
    std::string with_bar = translate(q, 90);
    EXPECT_EQ(with_bar.find("$SAVE"), std::string::npos);
    EXPECT_EQ(with_bar.find("%rid, 0;"), std::string::npos);
    EXPECT_EQ(vgpu::engine::save_bytes(256, 2048), 16u + 2048 + 256 * 272);
    EXPECT_EQ(vgpu::engine::save_bytes(1, 3), 16u + 8 + 272);
}

TEST(Ptx, BarriersKeepExitedThreadsArriving) {
    auto with = assembled(".kernel k\n bar\n exit\n");
    auto without = assembled(".kernel k\n exit\n");
    EXPECT_TRUE(with.has_barrier);
    EXPECT_NE(translate(with, 90).find("$XL:"), std::string::npos);
    EXPECT_EQ(translate(without, 90).find("$XL:"), std::string::npos);
    // Every label a branch names is defined.
    for (auto* p : {&with, &without}) {
        std::string ptx = translate(*p, 90);
        std::regex ref(R"(bra (\$?[A-Z]+[0-9]*);)");
        for (auto it = std::sregex_iterator(ptx.begin(), ptx.end(), ref); it != std::sregex_iterator(); ++it)
            EXPECT_NE(ptx.find("\n" + (*it)[1].str() + ":\n"), std::string::npos) << (*it)[1].str();
    }
}

TEST(Ptx, SamplesTranslateWithEveryLabelDefined) {
    for (const char* s : {"vecadd", "saxpy", "matmul", "reduction", "selftest"}) {
        std::ifstream f(std::string(GPUVM_KERNEL_SRC_DIR) + "/" + s + ".vas");
        std::stringstream src;
        src << f.rdbuf();
        auto img = vgpu::assemble(src.str());
        for (auto& k : img.kernels) {
            auto p = program(img.code, kBase + k.offset);
            std::string ptx = translate(p, 90);
            std::regex ref(R"(bra (\$?[A-Z]+[0-9]*);)");
            for (auto it = std::sregex_iterator(ptx.begin(), ptx.end(), ref); it != std::sregex_iterator(); ++it)
                EXPECT_NE(ptx.find("\n" + (*it)[1].str() + ":\n"), std::string::npos) << s << ": " << (*it)[1].str();
            EXPECT_EQ(ptx.find("%fk, 5;\n\tmov.b64 %fa, 0x00000000001"), std::string::npos) << s << " " << k.name;
        }
    }
}

TEST(Arena, FirstFitAndCoalescing) {
    vgpu::engine::Arena a(16 * 4096);
    auto x = a.alloc(4096), y = a.alloc(5000), z = a.alloc(4096);
    ASSERT_TRUE(x && y && z);
    EXPECT_EQ(*x, 0u);
    EXPECT_EQ(*y, 4096u);
    EXPECT_EQ(*z, 3 * 4096u);  // 5000 bytes took two pages
    EXPECT_FALSE(a.alloc(14 * 4096));
    EXPECT_EQ(a.free(*y), 2 * 4096u);
    EXPECT_EQ(a.free(*y), 0u);  // not allocated any more
    EXPECT_EQ(a.free(*x), 4096u);
    auto w = a.alloc(3 * 4096);  // the two freed ranges merged
    ASSERT_TRUE(w);
    EXPECT_EQ(*w, 0u);
    EXPECT_FALSE(a.alloc(0));
}

}  // namespace
