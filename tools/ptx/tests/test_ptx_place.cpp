// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// place_variables (ptx_place.hpp): nvcc's PTX of every program that
// declares variables, placed, still assembles with ptxas and declares
// none; what the rewrite could not keep faithful is refused with its
// reason.  (That the placed text computes the same: test_ptx_compile.cpp,
// Cases.PtxWithItsVariablesPlacedComputesTheSame.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptx_place.hpp"
#include "ptx_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using gpuvm::ptx::GlobalInfo;
using gpuvm::ptx::place_variables;
using gpuvm::ptx::Program;

using gpuvm::ptx::test::slurp;

const char* const kHead = ".version 8.0\n.target sm_75\n.address_size 64\n";

std::vector<GlobalInfo> vars(std::initializer_list<const char*> names) {
    std::vector<GlobalInfo> g;
    uint64_t off = 0;
    for (const char* n : names) {
        GlobalInfo v;
        v.name = n;
        v.space = "global";
        v.offset = off;
        v.size = 16;
        off += 16;
        g.push_back(v);
    }
    return g;
}

std::string refusal(const std::string& body, std::initializer_list<const char*> names = {"v"}) {
    std::string why;
    auto out = place_variables(std::string(kHead) + body, vars(names), 0x10000, &why);
    EXPECT_FALSE(out) << *out;
    return why;
}

TEST(PtxPlace, EverySamplesVariablesPlacedAssembles) {
    std::string ptxas = PTXAS;
    if (ptxas.empty() || !fs::is_directory(PTX_DATA_DIR))
        GTEST_SKIP() << "no ptxas or no PTX data";
    int placed = 0;
    for (const auto& e : fs::directory_iterator(PTX_DATA_DIR)) {
        if (e.path().extension() != ".ptx")
            continue;
        std::string text = slurp(e.path());
        Program p;
        try {
            p = gpuvm::ptx::test::compile_text(text);
        } catch (const std::exception&) {
            continue;  // what GPUvm does not compile has no placement
        }
        if (p.globals.empty())
            continue;
        SCOPED_TRACE(e.path().filename().string());
        std::string why;
        auto out = place_variables(text, p.globals, 0x7f0000000000, &why);
        if (!out) {
            EXPECT_FALSE(why.empty());
            std::printf("%s: not placed: %s\n", e.path().filename().c_str(), why.c_str());
            continue;
        }
        EXPECT_EQ(out->find(".const"), std::string::npos);
        Program again = gpuvm::ptx::test::compile_text(*out);
        EXPECT_TRUE(again.globals.empty());
        EXPECT_EQ(again.kernels.size(), p.kernels.size());
        EXPECT_TRUE(gpuvm::ptx::test::ptxas_accepts(ptxas, *out)) << *out;
        placed++;
    }
    std::printf("%d modules with variables placed\n", placed);
    EXPECT_GE(placed, 3);  // compile_cases, constant_symbols, convolutionSeparable, ...
}

TEST(PtxPlace, UsesInEveryFunctionThatNamesAVariable) {
    std::string why;
    auto out = place_variables(std::string(kHead) + R"(
.visible .global .align 4 .b8 v[16] = {1, 0, 0, 0};
.const .align 4 .u32 w;
.func (.param .b32 r) f()
{
	.reg .b32 %r<2>;
	ld.global.u32 %r1, [v+4];
	st.param.b32 [r], %r1;
	ret;
}
.visible .entry k(.param .u64 p)
{
	.reg .b64 %rd<4>;
	.reg .b32 %r<3>;
	mov.u64 %rd1, w;
	cvta.const.u64 %rd2, %rd1;
	ld.const.u32 %r1, [w];
	ldu.const.u32 %r2, [%rd1];
	ret;
}
)",
                               vars({"v", "w"}), 0x10000, &why);
    ASSERT_TRUE(out) << why;
    EXPECT_EQ(out->find(".global .align"), std::string::npos);
    EXPECT_EQ(out->find(".const"), std::string::npos);
    // f names v alone, k names w alone.
    EXPECT_NE(out->find("{\n\t.reg .u64 v;\n\tmov.u64 v, 0x10000;\n"), std::string::npos) << *out;
    EXPECT_NE(out->find("{\n\t.reg .u64 w;\n\tmov.u64 w, 0x10010;\n"), std::string::npos) << *out;
    EXPECT_NE(out->find("cvta.global.u64 %rd2, %rd1;"), std::string::npos);
    EXPECT_NE(out->find("ld.global.u32 %r1, [w];"), std::string::npos);
    EXPECT_NE(out->find("ldu.global.u32 %r2, [%rd1];"), std::string::npos);
    EXPECT_NE(out->find("ld.global.u32 %r1, [v+4];"), std::string::npos);  // untouched
    Program p = gpuvm::ptx::test::compile_text(*out);
    EXPECT_TRUE(p.globals.empty());
}

TEST(PtxPlace, WhatItCannotKeepFaithfulIsRefused) {
    EXPECT_NE(refusal(".extern .global .align 4 .b8 v[16];\n").find(".extern"), std::string::npos);
    EXPECT_NE(refusal(".global .texref v;\n").find("texref"), std::string::npos);
    EXPECT_NE(refusal(".global .u32 v;\n.visible .entry k()\n{\n\t.reg .b64 v;\n\tret;\n}\n").find("named as"),
              std::string::npos);
    EXPECT_NE(refusal(".global .u32 v;\n.visible .entry k()\n{\nv:\n\tret;\n}\n").find("named as"),
              std::string::npos);
    EXPECT_NE(refusal(".global .u32 v;\n.visible .entry k(.param .u64 v)\n{\n\tret;\n}\n").find("parameter"),
              std::string::npos);
    EXPECT_NE(refusal(".global .u32 v;\n.visible .entry k()\n{\n\t.global .u32 x;\n\tret;\n}\n").find("inside a "),
              std::string::npos);
    EXPECT_NE(refusal(".global .u32 v;\n.visible .entry k()\n{\n\t.reg .pred %p;\n\tisspacep.const %p, "
                      "%rd1;\n\tret;\n}\n")
                  .find("isspacep.const"),
              std::string::npos);
    EXPECT_NE(refusal(".global .u32 v, x;\n").find("x is not one"), std::string::npos);
    EXPECT_NE(refusal(".global .u32 v;\n", {"v", "other"}).find("other is not declared"), std::string::npos);
    EXPECT_NE(refusal(".global .u32 v;\n.visible .entry k()\n{\n\tret;\n").find("never closed"), std::string::npos);
    EXPECT_NE(refusal(".global .u32 v; ` \n").find("does not lex"), std::string::npos);
}

}  // namespace
