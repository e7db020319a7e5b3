// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The ISA-to-PTX translator of vgpu-engined without a GPU: what it
// reaches from an entry, the faults it plants, and the PTX each opcode
// becomes (the GPU run is vgpu-engined --self-test, on a machine with
// one).  Also the device-memory arena both back ends use.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <regex>
#include <string>
#include <tuple>
#include <unistd.h>

#include "arena.hpp"
#include "ptx.hpp"
#include "vgpu/asm.hpp"

#include "gpu_harness.hpp"

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_isa_decode.h"
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
    const uint64_t words[] = {0xff, vgpu_insn(VGPU_OP_ADD, 32, 1, 2, 0), vgpu_insn(VGPU_OP_S2R, 1, 0, 0, VGPU_SR_COUNT),
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
    // Global accesses and atomics cost the JIT most: kMaxMemInsns at most.
    std::vector<uint64_t> mem(vgpu::engine::kMaxMemInsns + 1, vgpu_insn(VGPU_OP_LD_U32, 2, 1, 0, 0));
    mem.push_back(vgpu_insn(VGPU_OP_EXIT, 0, 0, 0, 0));
    EXPECT_TRUE(program(mem).too_large);
    mem.erase(mem.begin());
    EXPECT_FALSE(program(mem).too_large);
}

// A straight program: @k instructions, the first @mem of them atomics
// (then additions), and exit.
Program straight(size_t k, size_t mem, uint32_t op = VGPU_OP_ATOM_ADD) {
    std::vector<uint64_t> code{vgpu_insn(VGPU_OP_LDP, 1, 0, 0, 0)};
    while (code.size() < k)
        code.push_back(code.size() <= mem ? vgpu::test::word(op, 2, 1, 3, 0) : vgpu_insn(VGPU_OP_ADDI, 4, 4, 0, 1));
    code.push_back(vgpu_insn(VGPU_OP_EXIT, 0, 0, 0, 0));
    return discover(kBase, [&](uint64_t va) -> Fetch {
        return (va - kBase) / 8 < code.size() ? Fetch{code[(va - kBase) / 8], 0} : Fetch{0, VGPU_FAULT_UNMAPPED};
    });
}

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1))
        n++;
    return n;
}

// The control flow of a translated kernel: every cycle passes a point
// that counts towards the stop check ("add.u32 %bc, %bc"), each followed
// by a read of the stop word; loops bounded otherwise are named.
std::string unchecked_cycle(const std::string& ptx) {
    std::vector<std::string> lines;
    std::stringstream in(ptx);
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    std::map<std::string, size_t> label;
    std::map<std::string, std::vector<std::string>> tables;
    std::regex def(R"(^(\$?[A-Za-z0-9_]+):(.*)$)"), tab(R"(\.branchtargets (.*);)");
    for (size_t i = 0; i < lines.size(); i++) {
        std::smatch m;
        if (std::regex_match(lines[i], m, def)) {
            label[m[1]] = i;
            std::smatch t;
            std::string rest = m[2];
            if (std::regex_search(rest, t, tab)) {
                std::stringstream ls(t[1].str());
                for (std::string x; std::getline(ls, x, ',');)
                    tables[m[1]].push_back(x.substr(x.find_first_not_of(' ')));
            }
        }
    }
    // Loops that end without a check: zeroing and copying shared memory
    // (bounded by its size), the fault record's lock (held for a few
    // instructions), an exited thread's barrier arrivals (end when the
    // others leave, each checking).
    const std::set<std::string> bounded{"$ZERO", "$RCOPY", "$SCOPY", "$FLOCK", "$XL"};
    std::regex bra(R"(bra (\$?[A-Za-z0-9_]+);)"), brx(R"(brx\.idx (%[a-z]+), (\$[A-Z]+);)"),
        setret(R"(mov\.u32 (%[a-z]+ret), ([0-9]+);)");
    std::map<std::string, std::string> ret;  // the return register's value before a jump to a shared block
    std::vector<std::vector<size_t>> succ(lines.size());
    for (size_t i = 0; i < lines.size(); i++) {
        const std::string& l = lines[i];
        std::smatch m;
        bool uncond = false;
        if (std::regex_search(l, m, setret))
            ret[m[1]] = m[2];
        if (std::regex_search(l, m, bra)) {
            std::string to = m[1];
            uncond = l.find('@') == std::string::npos;
            if (to == "$BAR" || to == "$WALK" || to == "$FADD" || to == "$WARP") {
                // A shared block: back to where the return register says.
                std::string reg = to == "$BAR" ? "%bret" : to == "$WALK" ? "%wret" : to == "$FADD" ? "%fret" : "%xret";
                std::string t = to == "$BAR" ? "$BT" : to == "$WALK" ? "$WT" : to == "$FADD" ? "$FT" : "$XT";
                const auto& list = tables[t];
                size_t k = std::stoul(ret[reg]);
                if (k < list.size())
                    succ[i].push_back(label.at(list[k]));
            } else if (!bounded.count(to) && label.count(to)) {
                succ[i].push_back(label.at(to));
            }
        }
        if (std::regex_search(l, m, brx))
            uncond = l.find('@') == std::string::npos;  // returns: modelled at the jump
        if (l.find("\tret;") != std::string::npos && l.find('@') == std::string::npos)
            uncond = true;
        if (!uncond && i + 1 < lines.size())
            succ[i].push_back(i + 1);
    }
    std::vector<int> state(lines.size(), 0);
    std::string found;
    std::function<bool(size_t)> dfs = [&](size_t v) {
        if (lines[v].find("add.u32 %bc, %bc,") != std::string::npos)
            return false;  // a check point: cycles through it are checked
        state[v] = 1;
        for (size_t w : succ[v]) {
            if (state[w] == 1) {
                found = lines[w] + " (line " + std::to_string(w) + ") <- " + lines[v];
                return true;
            }
            if (!state[w] && dfs(w))
                return true;
        }
        state[v] = 2;
        return false;
    };
    for (size_t v = 0; v < lines.size(); v++)
        if (!state[v] && dfs(v))
            return found;
    // Each check point reads the stop word once the count is reached.
    for (size_t i = 0; i < lines.size(); i++)
        if (lines[i].find("add.u32 %bc, %bc,") != std::string::npos &&
            (i + 4 >= lines.size() || lines[i + 4].find("[%ctl+28]") == std::string::npos))
            return "a count without a check at line " + std::to_string(i);
    return "";
}

TEST(Ptx, EveryLoopCountsTowardsTheStopCheck) {
    std::vector<std::string> srcs = {
        ".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n",
        ".kernel k\n ldp r1, 0\n li r2, 1.0\n atom.add.f32 r3, [r1], r2\n exit\n",
        ".kernel k\nloop:\n ldp r1, 0\n atom.add.f32 r3, [r1], r2\n ld.u32 r4, [r1+4]\n bar\n bnz r4, loop\n exit\n",
        ".kernel k\n.shared 64\n s2r r1, %tid.x\n bz r1, out\n bar\n lds.u32 r2, [r0]\n bar\nout:\n exit\n",
        // The inline compare-and-swap loops of ISA version 2's float atomics.
        ".kernel k\n ldp r1, 0\n atom.add.f64 r3, [r1], r2\n exit\n",
        ".kernel k\n.shared 64\n atoms.add.f32 r3, [r0+4], r2\n atoms.add.f64 r3, [r0+8], r2\n exit\n",
        // Warp-collective instructions: the warp block's rounds, in loops
        // with and without barriers.
        ".kernel k\nloop:\n shfl.down r1, r1, r2, r3, r4\n vote.any r5, r1, r4\n bnz r5, loop\n exit\n",
        ".kernel k\nloop:\n wsync\n bar\n activemask r1\n bnz r1, loop\n exit\n",
    };
    for (const char* s : {"vecadd", "saxpy", "matmul", "reduction", "selftest"}) {
        std::ifstream f(std::string(GPUVM_KERNEL_SRC_DIR) + "/" + s + ".vas");
        std::stringstream src;
        src << f.rdbuf();
        srcs.push_back(src.str());
    }
    for (auto& src : srcs) {
        auto img = vgpu::assemble(src);
        for (auto& k : img.kernels) {
            std::string ptx = translate(program(img.code, kBase + k.offset), 90);
            EXPECT_EQ(unchecked_cycle(ptx), "") << src;
        }
    }
    EXPECT_EQ(unchecked_cycle(translate(straight(3000, 200), 90)), "");
}

// Straight code counts at least every kWindowInsns instructions, and an
// atomic weighs kWeightAtomic: a thread reads the stop word after at most
// 2 * kStopEvery of weight.
TEST(Ptx, StraightCodeCountsTowardsTheStopCheck) {
    using vgpu::engine::kStopEvery;
    using vgpu::engine::kWeightAtomic;
    using vgpu::engine::kWindowInsns;
    std::string alu = translate(straight(3000, 0), 90);
    EXPECT_GE(count(alu, "add.u32 %bc, %bc,"), 3000 / kWindowInsns - 1);
    std::string atom = translate(straight(200, 199), 90);
    EXPECT_GE(count(atom, "add.u32 %bc, %bc,"), 199 * kWeightAtomic / kStopEvery - 1);
    // A block that starts after the watchdog fired leaves at once.
    EXPECT_NE(alu.find("ld.volatile.global.u32 %w5, [%ctl+24]"), std::string::npos);
}

// The PTX of a global access stays small (the page walk is shared), and
// the largest program the translator takes stays under 1 MiB.
TEST(Ptx, PtxPerInstructionIsBounded) {
    Program p = straight(vgpu::engine::kMaxMemInsns, vgpu::engine::kMaxMemInsns - 1, VGPU_OP_LD_U32);
    std::string ptx = translate(p, 90);
    EXPECT_LT(ptx.size() / p.insns.size(), 450u);  // 1007 bytes with the walk in line
    EXPECT_EQ(count(ptx, "ld.global.u64 %t5"), 2u);  // one walk: two table loads (and the leaf's)
    Program big = straight(vgpu::engine::kMaxInsns - 1, vgpu::engine::kMaxMemInsns, VGPU_OP_ATOM_ADD);
    EXPECT_FALSE(big.too_large);
    EXPECT_LT(translate(big, 90).size(), 1u << 20);
}

// Threads that have exited and threads that have not arrive at one and the
// same barrier instruction (two made the GPU overwrite a live thread's
// register with the barrier's count).
TEST(Ptx, OneBarrierInstruction) {
    auto p = assembled(".kernel k\n s2r r1, %tid.x\n bz r1, out\n bar\n bar\n bar\nout:\n exit\n");
    std::string ptx = translate(p, 90);
    EXPECT_EQ(count(ptx, "barrier.red"), 1u);
    EXPECT_EQ(count(ptx, "bra $BAR;"), 4u);  // three barriers and the exited threads' loop
}

// The worst program of a class of @n instructions (and exit), the
// classes that cost ptxas most per instruction (tools/tests, issue 16):
// 64-bit divisions, float divisions and min/max, backward branches (with
// and without barriers), barriers, forward branches, atomics; and ISA
// version 2's: binary64 division and square root, 128-bit products,
// 64-bit bit fields, narrowing conversions; and warp shuffles.  The
// registers start from the parameters, so that ptxas cannot fold the work
// away.
Program worst(const std::string& cls, size_t n) {
    auto I = [](uint32_t op, int d, int a, int b, int32_t imm) { return vgpu::test::word(op, d, a, b, imm); };
    std::vector<uint64_t> c;
    for (int r = 1; r <= 8; r++)
        c.push_back(I(VGPU_OP_LDP, r * 3, 0, 0, r - 1));
    if (cls == "atom")
        c.push_back(I(VGPU_OP_LDP, 31, 0, 0, 0));
    for (size_t i = 0; c.size() < n; i++) {
        int d = 1 + i % 30, a = 1 + (i * 7) % 30, b = 1 + (i * 13) % 30;
        uint64_t addi = I(VGPU_OP_ADDI, d, a, 0, -1);
        if (cls == "div")
            c.push_back(I(VGPU_OP_DIV, d, a, b, 0));
        else if (cls == "fdiv")
            c.push_back(I(VGPU_OP_FDIV, d, a, b, 0));
        else if (cls == "fmin")
            c.push_back(I(VGPU_OP_FMIN, d, a, b, 0));
        else if (cls == "bars")
            c.push_back(I(VGPU_OP_BAR, 0, 0, 0, 0));
        else if (cls == "fwd")
            c.push_back(i % 2 && i + 80 < n ? I(VGPU_OP_BZ, 0, a, 0, 70) : addi);
        else if (cls == "back")
            c.push_back(i % 2 && i > 40 ? I(VGPU_OP_BNZ, 0, d, 0, -37) : addi);
        else if (cls == "barback")
            c.push_back(i % 3 == 0 ? I(VGPU_OP_BAR, 0, 0, 0, 0) : i % 3 == 1 && i > 40 ? I(VGPU_OP_BNZ, 0, d, 0, -31) : addi);
        else if (cls == "atom")  // the self-test's straight line
            c.push_back(i < 256 ? I(VGPU_OP_ATOM_ADD, 2, 31, 3, 0) : I(VGPU_OP_ADDI, 4, 4, 0, 1));
        else if (cls == "ddiv")
            c.push_back(I(VGPU_OP_DDIV, d, a, b, VGPU_IMM_REGS(0, 0, i % 4)));
        else if (cls == "dsqrt")
            c.push_back(I(VGPU_OP_DSQRT, d, a, 0, VGPU_IMM_REGS(0, 0, i % 4)));
        else if (cls == "mulhi")
            c.push_back(I(VGPU_OP_MULHI, d, a, b, 0));
        else if (cls == "bfe64")
            c.push_back(I(i % 2 ? VGPU_OP_BFE : VGPU_OP_BFI, d, a, b, VGPU_IMM_REGS(b ^ 1, i % 2 ? 0 : a, 0)));
        else if (cls == "d2i8")
            c.push_back(I(VGPU_OP_D2I, d, a, 0, VGPU_IMM_REGS(0, 0, (VGPU_IW_8 << 2) | (i % 4))));
        else if (cls == "shfl")  // every one a site of the warp block
            c.push_back(I(VGPU_OP_SHFL, d, a, b, VGPU_IMM_REGS(b ^ 1, b ^ 2, i % 8)));
        else
            ADD_FAILURE() << cls;
    }
    c.push_back(I(VGPU_OP_EXIT, 0, 0, 0, 0));
    return discover(kBase, [&](uint64_t va) -> Fetch {
        return (va - kBase) / 8 < c.size() ? Fetch{c[(va - kBase) / 8], 0} : Fetch{0, VGPU_FAULT_UNMAPPED};
    });
}

// Each class's program near the largest accepted (kMaxJitCost; the
// parameter prologue leaves a little room) and one a little larger,
// refused; all well within kMaxInsns and kMaxMemInsns (before
// the JIT cost, 4095 divisions took ptxas 39 s, 2027 backward branches
// over 120 s).
const std::vector<std::tuple<std::string, size_t, size_t>> kClasses = {
    {"div", 341, 360},      {"fdiv", 341, 360},  {"fmin", 1365, 1400},      {"bars", 2047, 2100},
    {"fwd", 4095, 4096},    {"back", 190, 210},  {"barback", 1200, 1250}, {"atom", 4095, 4096},
    {"ddiv", 341, 360},     {"dsqrt", 341, 360}, {"mulhi", 341, 360},     {"bfe64", 767, 800},
    {"d2i8", 1535, 1600},   {"shfl", 1215, 1240},
};

// What the translation refuses, said for a person (the CUDA runtime
// prints it where a kernel's ISA runs on the GPU): the bound it passes.
TEST(Ptx, ARefusedProgramSaysWhichBound) {
    EXPECT_EQ(vgpu::engine::too_large_why(worst("div", 341)), "");
    EXPECT_EQ(vgpu::engine::too_large_why(worst("div", 360)).rfind("JIT cost ", 0), 0u);
    EXPECT_EQ(vgpu::engine::too_large_why(worst("fwd", 4096)), "more than 4096 instructions");
    Program whole = worst("div", 4095);  // kMaxInsns exactly, all discovered: its cost is what is past
    EXPECT_EQ(whole.insns.size(), vgpu::engine::kMaxInsns);
    EXPECT_EQ(vgpu::engine::too_large_why(whole).rfind("JIT cost ", 0), 0u);
    std::string loads = ".kernel k\n ldp r1, 0\n";
    for (int i = 0; i < 300; i++)
        loads += " ld.u32 r2, [r1+" + std::to_string(4 * i) + "]\n";
    Program p = assembled(loads + " exit\n");
    EXPECT_TRUE(p.too_large);
    EXPECT_EQ(vgpu::engine::too_large_why(p), "more than 256 global accesses and atomics");
    EXPECT_EQ(vgpu::engine::too_large_why(assembled(".kernel k\n ldp r1, 0\n ld.u32 r2, [r1]\n exit\n")), "");
}

TEST(Ptx, JitCostBoundsEveryClass) {
    for (auto& [cls, ok, over] : kClasses) {
        Program a = worst(cls, ok), b = worst(cls, over);
        EXPECT_FALSE(a.too_large) << cls << " " << a.jit_cost;
        EXPECT_LE(a.jit_cost, vgpu::engine::kMaxJitCost) << cls;
        if (over <= vgpu::engine::kMaxInsns - 1) {
            EXPECT_TRUE(b.too_large) << cls << " " << b.jit_cost;
        }
        // PTX bytes stay bounded (the table in Documentation/engines.rst).
        EXPECT_LT(translate(a, 90).size(), 1u << 20) << cls;
    }
}

// ptxas (where CUDA is installed) accepts the largest program of each
// class; its times are printed (the driver's JIT inside a RUN waits
// kJitWaitNs at most, so a slow compile is not fatal: the bound here only
// catches a model far off, on a loaded machine).
TEST(Ptx, PtxasTakesTheLargestProgramsInTime) {
    if (std::system("command -v ptxas >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "no ptxas on PATH";
    for (auto& [cls, ok, over] : kClasses) {
        Program p = worst(cls, ok);
        ASSERT_FALSE(p.too_large) << cls;
        std::string path = "/tmp/test_ptx_" + std::to_string(getpid()) + ".ptx", ptx = translate(p, 90);
        std::ofstream(path) << ptx;
        auto t0 = std::chrono::steady_clock::now();
        int rc = std::system(("timeout 120 ptxas -arch=sm_90 " + path + " -o /dev/null").c_str());
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::remove(path.c_str());
        std::printf("ptxas %-8s %5zu insns, %7zu bytes of PTX: %.2f s\n", cls.c_str(), p.insns.size(), ptx.size(), s);
        EXPECT_EQ(rc, 0) << cls;
        EXPECT_LT(s, 60.0) << cls;
    }
}

// An immediate field each instruction of the table takes: rc = r4 and
// re = r5 where the format has them, a special register, parameter or
// width in range, else 2.
int32_t any_imm(const vgpu_op_info& op, uint32_t mod = 0) {
    switch (op.fmt) {
    case VGPU_FMT_NONE: case VGPU_FMT_R: case VGPU_FMT_RR: case VGPU_FMT_RRR: return VGPU_IMM_REGS(0, 0, mod);
    case VGPU_FMT_RRRR: return VGPU_IMM_REGS(4, 0, mod);
    case VGPU_FMT_RRRRR: return VGPU_IMM_REGS(4, 5, mod);
    default: break;
    }
    if (op.opcode == VGPU_OP_S2R) return 4;
    if (op.flags & VGPU_OPF_PARAM) return 5;
    if (op.flags & VGPU_OPF_WIDTH) return 16;
    return 2;
}

// One program of every instruction with every modifier its class takes,
// in straight line (branches to the next instruction): it translates
// without an illegal instruction, and ptxas (where CUDA is installed)
// accepts its PTX for the oldest and the newest GPU the engine serves.
TEST(Ptx, EveryInstructionAndModifierAssemblesWithPtxas) {
    std::vector<uint64_t> code;
    for (const auto& op : vgpu_op_table) {
        if (op.opcode == VGPU_OP_EXIT) continue;
        uint32_t nmod = op.mod == VGPU_MOD_NONE ? 1 : op.mod == VGPU_MOD_RND || op.mod == VGPU_MOD_IRND ? 4
                      : op.mod == VGPU_MOD_CVTI ? 16 : op.mod == VGPU_MOD_W32 ? 2 : op.mod == VGPU_MOD_SHFL ? 8
                      : op.mod == VGPU_MOD_VOTE ? 4 : VGPU_PRMT_COUNT;
        for (uint32_t m = 0; m < nmod; m++) {
            int32_t imm = op.flags & VGPU_OPF_BRANCH ? 1 : any_imm(op, m);
            uint64_t w = vgpu::test::word(op.opcode, 3, 1, 2, imm);
            vgpu_dinsn d;
            ASSERT_TRUE(vgpu_isa_decode(w, &d)) << op.name << " mod " << m;
            code.push_back(w);
        }
    }
    code.push_back(vgpu_insn(VGPU_OP_EXIT, 0, 0, 0, 0));
    auto p = program(code);
    ASSERT_FALSE(p.too_large) << p.insns.size() << " instructions, JIT cost " << p.jit_cost;
    ASSERT_EQ(p.insns.size(), code.size());
    std::string ptx = translate(p, 75);
    EXPECT_EQ(ptx.find("%fk, 5;"), std::string::npos) << "an illegal instruction";
    if (std::system("command -v ptxas >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "no ptxas on PATH";
    for (int sm : {75, 90}) {
        std::string path = "/tmp/test_ptx_all_" + std::to_string(getpid()) + ".ptx";
        std::ofstream(path) << translate(p, sm);
        int rc = std::system(("ptxas -arch=sm_" + std::to_string(sm) + " " + path + " -o /dev/null").c_str());
        std::remove(path.c_str());
        EXPECT_EQ(rc, 0) << "sm_" << sm;
    }
}

// Every special register translates; %clock64 is the GPU's own clock
// (its scale differs from the interpreter's count of instructions:
// sim-isa.rst), and ptxas accepts it.
TEST(Ptx, EverySpecialRegisterTranslates) {
    std::vector<uint64_t> code;
    for (int32_t sr = 0; sr < VGPU_SR_COUNT; sr++)
        code.push_back(vgpu_insn(VGPU_OP_S2R, static_cast<uint8_t>(1 + sr), 0, 0, sr));
    code.push_back(vgpu_insn(VGPU_OP_EXIT, 0, 0, 0, 0));
    auto p = program(code);
    ASSERT_EQ(p.insns.size(), code.size());
    std::string ptx = translate(p, 75);
    EXPECT_EQ(ptx.find("%fk, 5;"), std::string::npos) << "an illegal instruction";
    EXPECT_NE(ptx.find("mov.u64 %r15, %clock64;"), std::string::npos);
    EXPECT_NE(ptx.find("mov.b64 %r13, %s12;"), std::string::npos);  // %laneid
    if (std::system("command -v ptxas >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "no ptxas on PATH";
    std::string path = "/tmp/test_ptx_sreg_" + std::to_string(getpid()) + ".ptx";
    std::ofstream(path) << ptx;
    int rc = std::system(("ptxas -arch=sm_75 " + path + " -o /dev/null").c_str());
    std::remove(path.c_str());
    EXPECT_EQ(rc, 0);
}

// Every opcode of the ISA's table translates to its own PTX.
TEST(Ptx, EveryOpcodeTranslates) {
    std::map<std::string, std::string> bodies;
    for (const auto& op : vgpu_op_table) {
        uint64_t w = vgpu::test::word(op.opcode, 3, 1, 2, any_imm(op));
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
    EXPECT_NE(bodies["atom.add.f32"].find("bra $FADD;"), std::string::npos);  // the CAS loop, no ftz atom.add.f32
    EXPECT_NE(bodies["div"].find("0x8000000000000000"), std::string::npos);  // MIN / -1
    EXPECT_NE(bodies["divu"].find("@%p1 mov.b64 %t0, -1"), std::string::npos);  // x / 0
    EXPECT_NE(bodies["bar"].find("bra $BAR;"), std::string::npos);
    // Warp-collective instructions go to the warp block (warp_block()).
    for (const char* w : {"shfl", "vote", "activemask", "wsync"}) {
        EXPECT_NE(bodies[w].find("bra $WARP;"), std::string::npos) << w;
        EXPECT_EQ(bodies[w].find(".sync"), std::string::npos) << w;
    }
    // Global accesses walk the page tables and check permissions.
    EXPECT_NE(bodies["st.u32"].find("and.b64 %t6, %te0, 2;"), std::string::npos);
    EXPECT_NE(bodies["ld.u64"].find("and.b64 %t2, %t0, 7"), std::string::npos);
    EXPECT_NE(bodies["atom.add.u32"].find("and.b64 %t6, %te0, 3;"), std::string::npos);
    EXPECT_NE(bodies["lds.u32"].find("%sl4"), std::string::npos);
    EXPECT_NE(bodies["sts.u64"].find("%sl8"), std::string::npos);
}

TEST(Ptx, BackwardBranchesCheckTheStopWord) {
    auto p = assembled(".kernel k\nloop:\n addi r1, r1, 1\n bra loop\n");
    std::string ptx = translate(p, 90);
    EXPECT_NE(ptx.find("bra $BE0"), std::string::npos);
    EXPECT_NE(ptx.find("ld.volatile.global.u32 %w5, [%ctl+28]"), std::string::npos);
    // The host word is never read by a check point: across the bus, at
    // millions of check points, it made matmul 2048 450 times slower.
    EXPECT_EQ(ptx.find("[%stop];"), std::string::npos);
    EXPECT_EQ(ptx.find(", [%stop]"), std::string::npos);
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

// A thread never waits on the guest's membermask: every PTX instruction
// that waits for other lanes names the warp's live lanes (%wlive) or the
// group (%wgrp), all of which reach it (warp_block()).  Kernels with
// warp-collective instructions are not resumable; exits and barriers go
// through the warp block; exited threads keep arriving at barriers only
// in kernels with barriers.
TEST(Ptx, WarpInstructionsWaitOnlyForTheirGroup) {
    auto warp = assembled(".kernel k\n shfl.bfly.p r1, r2, r3, r4, r5\n vote.ballot r6, r1, r5\n activemask r7\n"
                          " wsync\n exit\n");
    auto both = assembled(".kernel k\nloop:\n bar\n vote.uni r6, r1, r5\n bnz r6, loop\n exit\n");
    auto none = assembled(".kernel k\nloop:\n addi r1, r1, -1\n bnz r1, loop\n exit\n");
    EXPECT_TRUE(warp.has_warp);
    EXPECT_FALSE(warp.has_barrier);
    EXPECT_FALSE(warp.resumable());
    EXPECT_FALSE(both.resumable());
    EXPECT_TRUE(none.resumable());
    EXPECT_FALSE(none.has_warp);
    // Backward branches of kernels that do not save cost less JIT.
    EXPECT_LT(both.jit_cost, none.jit_cost);
    for (int sm : {75, 90}) {
        for (auto* p : {&warp, &both}) {
            std::string ptx = translate(*p, sm);
            std::regex sync(R"(\t(shfl|vote|bar\.warp|redux|match)\.sync[^;]*;)");
            int n = 0;
            for (auto it = std::sregex_iterator(ptx.begin(), ptx.end(), sync); it != std::sregex_iterator(); ++it, n++) {
                std::string l = it->str();
                EXPECT_TRUE(l.find(", %wlive;") != std::string::npos || l.find(", %wgrp;") != std::string::npos ||
                            l.find("bar.warp.sync %wlive;") != std::string::npos)
                    << l;
            }
            EXPECT_GE(n, 6);
            EXPECT_EQ(ptx.find("$SAVE"), std::string::npos);
            EXPECT_EQ(ptx.find("$RS0"), std::string::npos);
            EXPECT_EQ(count(ptx, "\n$WARP:\n"), 1u);
            EXPECT_EQ(count(ptx, "redux.sync"), sm >= 80 ? 1u : 0u);
            EXPECT_EQ(unchecked_cycle(ptx), "");
        }
        std::string w = translate(warp, sm), b = translate(both, sm);
        EXPECT_EQ(w.find("$XL:"), std::string::npos);
        EXPECT_NE(b.find("$XL:"), std::string::npos);
        EXPECT_EQ(count(b, "bra $WARP;"), 3u);  // the bar, the vote, the exit
        EXPECT_NE(b.find("$WEXIT:\n$XL:\n"), std::string::npos) << "exited threads keep arriving";
    }
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
