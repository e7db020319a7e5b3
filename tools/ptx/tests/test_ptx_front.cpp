// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The PTX front end's parser, checks and printer: over the PTX nvcc
// emits for this folder's tests/data/*.cu and for every program of the
// NVIDIA cuda-samples subset (built into PTX_DATA_DIR at build time),
// and over hostile text.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptx_check.hpp"
#include "ptx_parser.hpp"

namespace {

namespace fs = std::filesystem;
using namespace gpuvm::ptx;

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

std::vector<fs::path> data_files() {
    std::vector<fs::path> v;
    if (fs::is_directory(PTX_DATA_DIR))
        for (const auto& e : fs::directory_iterator(PTX_DATA_DIR))
            if (e.path().extension() == ".ptx")
                v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
}

// The message of the ParseError parse(@text) throws ("" if none).
std::string parse_error(const std::string& text) {
    try {
        parse(text);
    } catch (const ParseError& e) {
        return e.what();
    }
    return "";
}

std::string check_errors(const std::string& text) {
    std::string s;
    for (const auto& e : check(parse(text)))
        s += e.text() + "\n";
    return s;
}

const char* kHead = ".version 9.0\n.target sm_75\n.address_size 64\n";

// Every PTX file nvcc made parses, passes the checks, and prints as text
// that parses to the same print (a fixed point).
TEST(PtxFront, NvccOutputParsesChecksAndPrintsBack) {
    auto files = data_files();
    if (files.empty())
        GTEST_SKIP() << "no PTX data (nvcc missing at build time)";
    ASSERT_TRUE(fs::exists(fs::path(PTX_DATA_DIR) / "own_features.ptx"));
    size_t kernels = 0, instrs = 0;
    for (const auto& f : files) {
        SCOPED_TRACE(f.string());
        Module m;
        ASSERT_NO_THROW(m = parse(slurp(f)));
        EXPECT_EQ(check(m).size(), 0u) << (check(m).empty() ? "" : check(m)[0].text());
        EXPECT_GE(m.version_major, 6u);  // nvcc 13: 9.0
        EXPECT_EQ(m.target, std::vector<std::string>{"sm_75"});
        std::string once = print(m);
        EXPECT_EQ(print(parse(once)), once);
        for (const auto& it : m.items)
            kernels += std::holds_alternative<Function>(it) && std::get<Function>(it).entry;
        for (const auto& [k, n] : instruction_histogram(m))
            instrs += n;
    }
    std::printf("%zu PTX files, %zu kernels, %zu instructions\n", files.size(), kernels, instrs);
    EXPECT_GT(kernels, files.size());
}

// What the printer writes is the same program: ptxas makes the very same
// cubin of it as of nvcc's text.
TEST(PtxFront, PrintedPtxAssemblesToTheSameCubin) {
    std::string ptxas = PTXAS;
    auto files = data_files();
    if (ptxas.empty() || files.empty())
        GTEST_SKIP() << "no ptxas or no PTX data";
    fs::path tmp = fs::temp_directory_path() / ("ptx-front-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    int tried = 0;
    for (const auto& f : files) {
        std::string n = f.stem().string();
        // Ours, and a handful of samples with printf, assert, f64 and recursion.
        if (n != "own_features" && n != "vectorAdd" && n != "simplePrintf" && n != "simpleAssert" &&
            n != "interval" && n != "shfl_scan")
            continue;
        SCOPED_TRACE(n);
        std::ofstream(tmp / "printed.ptx") << print(parse(slurp(f)));
        std::string a = (tmp / "a.cubin").string(), b = (tmp / "b.cubin").string();
        ASSERT_EQ(std::system((ptxas + " -arch=sm_75 " + f.string() + " -o " + a).c_str()), 0);
        ASSERT_EQ(std::system((ptxas + " -arch=sm_75 " + (tmp / "printed.ptx").string() + " -o " + b).c_str()), 0);
        EXPECT_EQ(slurp(a), slurp(b));
        tried++;
    }
    fs::remove_all(tmp);
    EXPECT_GE(tried, 1);
}

TEST(PtxFront, OperandsAndModifiers) {
    Module m = parse(std::string(kHead) + R"(
.visible .entry k(.param .u64 k_param_0, .param .align 8 .b8 k_param_1[4000])
.maxntid 256, 1, 1
{
	.reg .pred %p<3>;
	.reg .b32 %r<8>;
	.reg .b64 %rd<4>;
	.reg .f32 %f<2>;
	ld.param.u64 %rd1, [k_param_0];
	@!%p1 ld.global.v2.u32 {%r1, %r2}, [%rd1+-8];
	setp.lt.s32 %p1|%p2, %r1, -5;
	mov.f32 %f1, 0fBF800000;
	{ .reg .pred p; shfl.sync.up.b32 %r3|p, %r1, 1, 0, -1; }
	bra.uni $L__BB0_1;
$L__BB0_1:
	ret;
}
)");
    ASSERT_EQ(m.items.size(), 1u);
    const auto& f = std::get<Function>(m.items[0]);
    EXPECT_TRUE(f.entry);
    EXPECT_EQ(f.params.size(), 2u);
    EXPECT_EQ(f.params[1].align, 8u);
    EXPECT_EQ(f.params[1].dims, std::vector<uint64_t>{4000});
    ASSERT_EQ(f.perf.size(), 1u);
    EXPECT_EQ(f.perf[0].second, (std::vector<uint64_t>{256, 1, 1}));
    const auto& ld = std::get<Instr>(f.body[5].v);
    EXPECT_EQ(ld.op, "ld");
    EXPECT_EQ(ld.mods, (std::vector<std::string>{"global", "v2", "u32"}));
    ASSERT_TRUE(ld.guard);
    EXPECT_TRUE(ld.guard->negated);
    EXPECT_EQ(ld.ops[0].kind, Operand::Kind::Vec);
    EXPECT_EQ(ld.ops[1].kind, Operand::Kind::Addr);
    EXPECT_EQ(ld.ops[1].imm, -8);
    const auto& setp = std::get<Instr>(f.body[6].v);
    EXPECT_EQ(setp.ops[0].kind, Operand::Kind::Pair);
    EXPECT_EQ(setp.ops[2].imm, -5);
    const auto& mov = std::get<Instr>(f.body[7].v);
    EXPECT_EQ(mov.ops[1].kind, Operand::Kind::FImm);
    EXPECT_EQ(static_cast<uint32_t>(mov.ops[1].imm), 0xBF800000u);
    EXPECT_TRUE(std::holds_alternative<Block>(f.body[8].v));
    EXPECT_EQ(check(m).size(), 0u);
}

TEST(PtxFront, CallsPrototypesAndGlobals) {
    Module m = parse(std::string(kHead) + R"(
.extern .func (.param .b32 func_retval0) vprintf(.param .b64 vprintf_param_0, .param .b64 vprintf_param_1);
.global .align 1 .b8 $str[4] = {104, 105, 10, 0};
.const .align 4 .f32 c[3] = {0f3F800000, 0f40000000};
.visible .entry k()
{
	.reg .b64 %rd<3>;
	.reg .b32 %r<2>;
	mov.u64 %rd1, $str;
	cvta.global.u64 %rd2, %rd1;
	{
	.param .b64 param0;
	st.param.b64 [param0], %rd2;
	.param .b64 param1;
	st.param.b64 [param1], 0;
	.param .b32 retval0;
	call.uni (retval0), vprintf, (param0, param1);
	ld.param.b32 %r1, [retval0];
	}
	{
	prototype_0 : .callprototype (.param .b32 _) _ (.param .b64 _);
	}
	ret;
}
)");
    EXPECT_EQ(check(m).size(), 0u) << check_errors(print(m));
    const auto& g = std::get<VarDecl>(m.items[1]);
    EXPECT_EQ(g.init.size(), 4u);
    EXPECT_EQ(g.dims, std::vector<uint64_t>{4});
    const auto& f = std::get<Function>(m.items[3]);
    const auto& blk = std::get<Block>(f.body[4].v);
    const auto& call = std::get<Instr>(blk.body[5].v);
    EXPECT_EQ(call.op, "call");
    EXPECT_EQ(call.call_rets.size(), 1u);
    EXPECT_EQ(call.call_args.size(), 2u);
    EXPECT_EQ(call.ops.at(0).name, "vprintf");
}

// Malformed text: an error naming the line, the column and what was
// found, never a crash.
TEST(PtxFront, MalformedTextIsRefusedWithItsPosition) {
    EXPECT_EQ(parse_error(""), "line 1, column 1: expected '.version' (the first directive of a PTX module), found the end of the text");
    EXPECT_NE(parse_error(".version 9\n.target sm_75\n").find("malformed PTX version '9'"), std::string::npos);
    EXPECT_NE(parse_error(".version 9.0\n.target sm_75\n.address_size 48\n").find("line 3"), std::string::npos);
    std::string h = kHead;
    EXPECT_NE(parse_error(h + ".entry k() { add.s32 %r1, %r2 %r3; }").find("line 4, column 31: expected ';', found '%r3'"),
              std::string::npos)
        << parse_error(h + ".entry k() { add.s32 %r1, %r2 %r3; }");
    EXPECT_NE(parse_error(h + ".entry k() { mov.f32 %f1, 0f3F80; }").find("malformed floating-point literal"),
              std::string::npos);
    EXPECT_NE(parse_error(h + ".entry k() { mov.u32 %r1, 99999999999999999999999; }").find("malformed number"),
              std::string::npos);
    EXPECT_NE(parse_error(h + "/* open").find("unterminated comment"), std::string::npos);
    EXPECT_NE(parse_error(h + ".pragma \"open\n").find("unterminated string"), std::string::npos);
    EXPECT_NE(parse_error(h + ".entry k() { ret; ").find("expected '}'"), std::string::npos);
    EXPECT_NE(parse_error(h + ".entry k() { # }").find("unexpected character '#'"), std::string::npos);
    EXPECT_NE(parse_error(h + ".reg .q32 x;").find("unknown attribute '.q32'"), std::string::npos);
    std::string nested = h + ".entry k() { ld.u32 %r1, ";
    for (int i = 0; i < 100; i++)
        nested += "[a, ";
    EXPECT_NE(parse_error(nested).find("addresses nested less deeply"), std::string::npos);
    std::string deep = h + ".entry k() ";
    for (int i = 0; i < 100; i++)
        deep += "{";
    EXPECT_NE(parse_error(deep).find("nested less deeply"), std::string::npos);
}

TEST(PtxFront, ChecksNameTheFunctionLineAndInstruction) {
    std::string h = kHead;
    EXPECT_EQ(check_errors(h + ".entry k() {\n .reg .b32 %r<4>;\n frobnicate.u32 %r1, %r2;\n}"),
              "function k, line 6: 'frobnicate' is not a PTX instruction\n");
    EXPECT_EQ(check_errors(h + ".entry k() {\n .reg .b32 %r<4>;\n add.s32 %r4, %r1, %r2;\n}"),
              "function k, line 6: '%r4' is not declared (in 'add')\n");
    EXPECT_EQ(check_errors(h + ".entry k() {\n .reg .b32 %r<4>;\n add.s32 %r01, %r1, %r2;\n}"),
              "function k, line 6: '%r01' is not declared (in 'add')\n");
    EXPECT_EQ(check_errors(h + ".entry k() {\n bra $L__nowhere;\n}"),
              "function k, line 5: '$L__nowhere' is not declared (in 'bra')\n"
              "function k, line 5: branch to '$L__nowhere', which is not a label of this function\n");
    EXPECT_EQ(check_errors(h + ".entry k() {\nL:\nL:\n ret;\n}"), "function k, line 6: label 'L' is defined twice\n");
    EXPECT_EQ(check_errors(h + ".entry k() {\n .reg .b32 %r<4>;\n .reg .b32 %r<2>;\n ret;\n}"),
              "function k, line 6: '%r' is declared twice\n");
    // A register of an inner block is not visible after it.
    EXPECT_EQ(check_errors(h + ".entry k() {\n .reg .b32 %r<4>;\n { .reg .b32 t; mov.u32 t, %r1; }\n mov.u32 %r2, t;\n}"),
              "function k, line 7: 't' is not declared (in 'mov')\n");
    EXPECT_EQ(check_errors(h + ".entry k() {\n .reg .b32 %r<2>;\n mov.u32 %r1, %tid.x;\n mov.u32 %r1, WARP_SZ;\n}"), "");
}

// What the printer writes parses back to the same print, for the forms
// the fuzzer and a review found it wrote wrongly.
TEST(PtxFront, PrinterWritesWhatTheParserReads) {
    std::string text = std::string(kHead) + R"(
.entry k(.param .b8 p[])
{
	.reg .b32 %r<2>;
	.pragma "a\"b\\c";
	ld.global.u32 %r1, [0xFFFFFFFFFFFFFFF0];
	mov.u32 %r1, sym+-5;
	{
	prototype_0 : .callprototype (.param .b32 _) _ (.param .b64 _);
	}
	ret;
}
)";
    std::string once = print(parse(text));
    EXPECT_EQ(print(parse(once)), once);
    EXPECT_NE(once.find(".pragma \"a\\\"b\\\\c\";"), std::string::npos) << once;
    EXPECT_NE(once.find("[18446744073709551600]"), std::string::npos) << once;
    EXPECT_NE(once.find("prototype_0: .callprototype ( .param .b32 _ ) _ ( .param .b64 _ );"), std::string::npos) << once;
}

// Every prefix of a real module: a ParseError or a module, never a
// crash (the fuzzer, fuzz/fuzz_ptx.cpp, goes further).
TEST(PtxFront, EveryPrefixOfAModuleIsHandled) {
    fs::path own = fs::path(PTX_DATA_DIR) / "own_features.ptx";
    if (!fs::exists(own))
        GTEST_SKIP() << "no PTX data (nvcc missing at build time)";
    std::string text = slurp(own).substr(0, 6000);
    size_t errors = 0;
    for (size_t n = 0; n <= text.size(); n += 7) {
        try {
            Module m = parse(text.substr(0, n));
            check(m);
        } catch (const ParseError&) {
            errors++;
        }
    }
    EXPECT_GT(errors, 0u);
}

}  // namespace
