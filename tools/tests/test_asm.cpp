// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-as: assembly, module images, disassembly round trips, errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "vgpu/asm.hpp"

extern "C" {
#include "vgpu_isa.h"
}

namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

TEST(Asm, EncodesEachFormat) {
    auto img = vgpu::assemble(R"(
    .kernel k
    .shared 256
    .params 2
    top: add r1, r2, r3
        addi r4, r5, -7
        li r6, 1.0
        s2r r7, %ctaid.y
        ld.u32 r8, [r9-16]
        st.u64 [r10+8], r11
        atom.cas.u32 r12, [r13], r14
        bnz r1, top
        bra end
        nop
    end: exit
    )");
    ASSERT_EQ(img.code.size(), 11u);
    EXPECT_EQ(img.code[0], vgpu_insn(VGPU_OP_ADD, 1, 2, 3, 0));
    EXPECT_EQ(img.code[1], vgpu_insn(VGPU_OP_ADDI, 4, 5, 0, -7));
    EXPECT_EQ(img.code[2], vgpu_insn(VGPU_OP_LI, 6, 0, 0, 0x3f800000));
    EXPECT_EQ(img.code[3], vgpu_insn(VGPU_OP_S2R, 7, 0, 0, VGPU_SR_CTAID_Y));
    EXPECT_EQ(img.code[4], vgpu_insn(VGPU_OP_LD_U32, 8, 9, 0, -16));
    EXPECT_EQ(img.code[5], vgpu_insn(VGPU_OP_ST_U64, 0, 10, 11, 8));
    EXPECT_EQ(img.code[6], vgpu_insn(VGPU_OP_ATOM_CAS, 12, 13, 14, 0));
    EXPECT_EQ(img.code[7], vgpu_insn(VGPU_OP_BNZ, 0, 1, 0, -7));
    EXPECT_EQ(img.code[8], vgpu_insn(VGPU_OP_BRA, 0, 0, 0, 2));
    EXPECT_EQ(img.kernels[0], (vgpu::KernelInfo{"k", 0, 256, 2}));
}

TEST(Asm, ReportsErrorsWithLineNumbers) {
    auto line_of = [](const char* src) {
        try {
            vgpu::assemble(src);
        } catch (const vgpu::AsmError& e) {
            return e.line();
        }
        return -1;
    };
    EXPECT_EQ(line_of(".kernel k\n add r1, r2\n"), 2) << "operand count";
    EXPECT_EQ(line_of(".kernel k\n nop\n add r1, r2, r32\n"), 3) << "register range";
    EXPECT_EQ(line_of(".kernel k\n frob r1\n"), 2) << "unknown mnemonic";
    EXPECT_EQ(line_of(".kernel k\n bra nowhere\n"), 2) << "unknown label";
    EXPECT_EQ(line_of(".kernel k\nx: nop\nx: nop\n"), 3) << "duplicate label";
    EXPECT_EQ(line_of(" nop\n"), 1) << "code outside a kernel";
    EXPECT_EQ(line_of(".kernel k\n s2r r1, %warp\n"), 2) << "unknown special register";
    EXPECT_EQ(line_of(".kernel k\n.shared 100000\n"), 2) << "too much shared memory";
    EXPECT_EQ(line_of(".kernel k\n li r1, 0x1ffffffff\n"), 2) << "immediate range";
    EXPECT_EQ(line_of(""), 0) << "no kernel at all";
}

TEST(Asm, SampleKernelsRoundTrip) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(GPUVM_KERNEL_SRC_DIR)) {
        if (e.path().extension() != ".vas") continue;
        auto img = vgpu::assemble(read_file(e.path()), e.path().string());
        auto text = vgpu::disassemble(img);
        auto again = vgpu::assemble(text);
        EXPECT_EQ(again, img) << e.path() << "\n" << text;
        EXPECT_EQ(vgpu::ModuleImage::parse(img.serialize()), img);
        n++;
    }
    EXPECT_GE(n, 5);
}

TEST(Asm, RandomWordsRoundTripThroughText) {
    std::mt19937_64 rng(7);
    vgpu::ModuleImage img;
    img.kernels.push_back({"fuzz", 0, 0, 0});
    for (int i = 0; i < 20000; i++) {
        uint64_t w = rng();
        if (i % 2) w = (w & ~0xffULL & ~uint64_t{VGPU_INSN_MBZ_MASK}) | (rng() % 0x80);
        if (i % 3 == 0) w &= 0x0000ffff1f1f1fffULL;  // short branches land inside the code
        img.code.push_back(w);
    }
    EXPECT_EQ(vgpu::assemble(vgpu::disassemble(img)), img);
}

TEST(Asm, RejectsMalformedImages) {
    auto img = vgpu::assemble(".kernel a\n exit\n.kernel b\n exit\n");
    auto bytes = img.serialize();
    EXPECT_THROW(vgpu::ModuleImage::parse(std::span(bytes).first(10)), vgpu::ModuleFormatError);
    auto bad = bytes;
    bad[0] ^= 1;
    EXPECT_THROW(vgpu::ModuleImage::parse(bad), vgpu::ModuleFormatError);
    bad = bytes;
    bad.push_back(0);
    EXPECT_THROW(vgpu::ModuleImage::parse(bad), vgpu::ModuleFormatError);
    bad = bytes;
    bad[16 + 48] = 12;  // first kernel's offset no longer a whole instruction
    EXPECT_THROW(vgpu::ModuleImage::parse(bad), vgpu::ModuleFormatError);
    EXPECT_EQ(img.kernel("b").offset, 8u);
    EXPECT_THROW(img.kernel("c"), std::out_of_range);
}

}  // namespace
