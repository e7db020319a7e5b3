// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// define_printf (ptx_printf.hpp): nvcc's PTX of every program that calls
// printf or assert, its variables placed and the two defined, still
// assembles with ptxas and calls nothing outside it; what the rewrite
// could not keep faithful is refused with its reason.  (That the
// defined text writes the records: test_ptx_compile.cpp, PrintfDefined.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptx_place.hpp"
#include "ptx_printf.hpp"
#include "ptx_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using gpuvm::ptx::define_printf;
using gpuvm::ptx::Program;

using gpuvm::ptx::test::slurp;

const char* const kHead = ".version 8.0\n.target sm_75\n.address_size 64\n";
const char* const kVprintf =
    ".extern .func (.param .b32 func_retval0) vprintf\n(\n\t.param .b64 vprintf_param_0,\n"
    "\t.param .b64 vprintf_param_1\n)\n;\n";
const char* const kKernel = ".visible .entry k(.param .u64 p)\n{\n\t.reg .b64 %rd<3>;\n\t.reg .b32 %r<2>;\n"
                            "\tld.param.u64 %rd1, [p];\n\t{\n\t.param .b64 param0;\n\tst.param.b64 [param0+0], %rd1;\n"
                            "\t.param .b64 param1;\n\tst.param.b64 [param1+0], 0;\n\t.param .b32 retval0;\n"
                            "\tcall.uni (retval0), vprintf, (param0, param1);\n\tld.param.b32 %r1, [retval0+0];\n"
                            "\t}\n\tret;\n}\n";

std::string refusal(const std::string& body) {
    std::string why;
    auto out = define_printf(std::string(kHead) + body, 0x10000, {}, &why);
    EXPECT_FALSE(out) << *out;
    return why;
}

TEST(PtxPrintf, EveryPrintfModuleDefinedAssembles) {
    std::string ptxas = PTXAS;
    if (ptxas.empty() || !fs::is_directory(PTX_DATA_DIR))
        GTEST_SKIP() << "no ptxas or no PTX data";
    int defined = 0;
    for (const auto& e : fs::directory_iterator(PTX_DATA_DIR)) {
        if (e.path().extension() != ".ptx")
            continue;
        std::string text = slurp(e.path());
        if (text.find("vprintf") == std::string::npos && text.find("__assertfail") == std::string::npos)
            continue;
        Program p;
        try {
            p = gpuvm::ptx::test::compile_text(text);
        } catch (const std::exception&) {
            continue;  // what GPUvm does not compile never runs as itself
        }
        SCOPED_TRACE(e.path().filename().string());
        std::string why;
        auto placed = gpuvm::ptx::place_variables(text, p.globals, 0x7f0000000000, &why);
        if (!placed)
            continue;  // ptx_place's own test says why
        std::vector<gpuvm::ptx::PrintfFormat> formats;
        for (const auto& g : p.globals)
            formats.push_back({0x7f0000000000 + g.offset, 8});
        auto out = define_printf(*placed, 0x7f0000100000, formats, &why);
        ASSERT_TRUE(out) << why;
        EXPECT_EQ(out->find(".extern .func"), std::string::npos);
        Program again = gpuvm::ptx::test::compile_text(*out);  // GPUvm's compiler takes it too
        EXPECT_EQ(again.kernels.size(), p.kernels.size());
        EXPECT_TRUE(gpuvm::ptx::test::ptxas_accepts(ptxas, *out)) << *out;
        defined++;
    }
    std::printf("%d modules with printf or assert defined\n", defined);
    EXPECT_GE(defined, 3);  // own_features, printf_cases, simplePrintf, simpleAssert, ...
}

TEST(PtxPrintf, TheCallsAreRenamedAndTheRestKept) {
    std::string why;
    const std::string text = std::string(kHead) + kVprintf + kKernel;
    auto out = define_printf(text, 0x10000, {{0x4000, 12}}, &why);
    ASSERT_TRUE(out) << why;
    EXPECT_EQ(out->find(".extern"), std::string::npos);
    EXPECT_NE(out->find("call.uni (retval0), __gpuvm_vprintf, (param0, param1);"), std::string::npos) << *out;
    EXPECT_NE(out->find("mov.u64 %gv2, 0x10000;"), std::string::npos) << "the buffer";
    EXPECT_NE(out->find("setp.eq.u64 %gp1, %gv0, 0x4000;\n\t@%gp1 mov.u32 %gw0, 12;"), std::string::npos);
    std::string kernel = kKernel;  // the kernel as it was but for the call's name
    kernel.replace(kernel.find("vprintf"), 7, "__gpuvm_vprintf");
    EXPECT_EQ(out->substr(out->find(".visible .entry")), kernel);
    // Text that names neither comes back as it was.
    const std::string plain = std::string(kHead) + ".visible .entry k()\n{\n\tret;\n}\n";
    auto same = define_printf(plain, 0x10000, {}, &why);
    ASSERT_TRUE(same) << why;
    EXPECT_EQ(*same, plain);
}

TEST(PtxPrintf, WhatItCannotKeepFaithfulIsRefused) {
    EXPECT_NE(refusal(".func (.param .b32 r) vprintf(.param .b64 a, .param .b64 b)\n{\n\tret;\n}\n")
                  .find("a definition of vprintf"),
              std::string::npos);
    EXPECT_NE(refusal(".extern .func (.param .b32 r) vprintf(.param .b64 a)\n;\n").find("unlike CUDA's"),
              std::string::npos);
    EXPECT_NE(refusal(".extern .func __assertfail(.param .b64 a, .param .b64 b, .param .b64 c, .param .b64 d, "
                      ".param .b64 e)\n;\n")
                  .find("unlike CUDA's"),
              std::string::npos);
    EXPECT_NE(refusal(std::string(kVprintf) + kVprintf).find("two declarations"), std::string::npos);
    EXPECT_NE(refusal(std::string(kVprintf) + ".visible .entry __gpuvm_vprintf()\n{\n\tret;\n}\n")
                  .find("names __gpuvm_vprintf"),
              std::string::npos);
    EXPECT_NE(refusal("\"unterminated").find("does not lex"), std::string::npos);
}

}  // namespace
