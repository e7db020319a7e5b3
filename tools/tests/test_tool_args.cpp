// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Each tool's table of options (vgpu/options.hpp), through the function
// its main() calls: what a command line sets, and what it refuses.
// vgpuctl's are in test_vgpuctl_options.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../ptx/vgpu_ptx_args.hpp"
#include "../vgpu-as/args.hpp"
#include "../vgpu-bench/args.hpp"
#include "../vgpu-engined/bridge.hpp"
#include "../vgpu-engined/engined_args.hpp"
#include "../selftest/args.hpp"

using vgpu::UsageError;

TEST(ToolArgs, EnginedDefaults) {
    auto a = vgpu::engine::parse_engined_args({});
    EXPECT_EQ(a.backend, "auto");
    EXPECT_EQ(a.device, "/dev/vgpu-uengine");
    EXPECT_EQ(a.mem_mb, 0u);
    EXPECT_EQ(a.gpu, 0);
    EXPECT_FALSE(a.self_test);
    EXPECT_FALSE(a.help);
}

TEST(ToolArgs, EnginedOptions) {
    auto a = vgpu::engine::parse_engined_args(
        {"-b", "interp", "--device=/dev/x", "-m", "512", "--gpu", "3", "--self-test", "-k", "dir"});
    EXPECT_EQ(a.backend, "interp");
    EXPECT_EQ(a.device, "/dev/x");
    EXPECT_EQ(a.mem_mb, 512u);
    EXPECT_EQ(a.gpu, 3);
    EXPECT_TRUE(a.self_test);
    EXPECT_EQ(a.kernels, "dir");
    EXPECT_EQ(a.spares, 1u) << "one spare worker by default";
    EXPECT_EQ(vgpu::engine::parse_engined_args({"-w", "--spare-workers", "0"}).spares, 0u);
    EXPECT_EQ(vgpu::engine::parse_engined_args({"-w", "--spare-workers=4"}).spares, 4u);
    EXPECT_TRUE(vgpu::engine::parse_engined_args({"--help"}).help);
}

// One process per GPU: GPU N's default device is instance N's; -d wins.
TEST(ToolArgs, EnginedDeviceOfEachGpu) {
    using vgpu::engine::parse_engined_args;
    EXPECT_EQ(vgpu::engine::device_for_gpu(0), "/dev/vgpu-uengine");
    EXPECT_EQ(vgpu::engine::device_for_gpu(15), "/dev/vgpu-uengine15");
    EXPECT_EQ(parse_engined_args({"-g", "1"}).device, "/dev/vgpu-uengine1");
    EXPECT_EQ(parse_engined_args({"-g", "2", "-b", "interp"}).device, "/dev/vgpu-uengine2");
    EXPECT_EQ(parse_engined_args({"-g", "1", "-d", "/dev/vgpu-uengine3"}).device, "/dev/vgpu-uengine3");
}

TEST(ToolArgs, EnginedRefuses) {
    using vgpu::engine::parse_engined_args;
    EXPECT_THROW(parse_engined_args({"-b", "opencl"}), UsageError);
    EXPECT_THROW(parse_engined_args({"-m", "12x"}), UsageError);
    EXPECT_THROW(parse_engined_args({"--spare-workers", "17"}), UsageError);
    EXPECT_THROW(parse_engined_args({"-m", "-1"}), UsageError);
    EXPECT_THROW(parse_engined_args({"-m", "17592186044416"}), UsageError);  // MiB << 20 overflows
    EXPECT_THROW(parse_engined_args({"-g", "-1"}), UsageError);
    EXPECT_THROW(parse_engined_args({"-d"}), UsageError);
    EXPECT_THROW(parse_engined_args({"stray"}), UsageError);
}

TEST(ToolArgs, BenchEngine) {
    auto a = vgpu::engine::parse_bench_args({"--reps", "7", "--ref", "r.ptx", "--gpu", "1"}, "/k");
    EXPECT_EQ(a.reps, 7);
    EXPECT_EQ(a.ref, "r.ptx");
    EXPECT_EQ(a.gpu, 1);
    EXPECT_EQ(a.kernels, "/k");
    EXPECT_EQ(a.json, "engine-bench.json");
    try {
        vgpu::engine::parse_bench_args({"--reps"}, "/k");
        ADD_FAILURE() << "no error";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "--reps needs a number");
    }
    EXPECT_THROW(vgpu::engine::parse_bench_args({"--reps", "0"}, "/k"), UsageError);
}

TEST(ToolArgs, AsAssembleAndDisassemble) {
    auto a = vgpu::as::parse_args({"k.vas", "-o", "k.vgpu"});
    EXPECT_EQ(a.input, "k.vas");
    EXPECT_EQ(a.output, "k.vgpu");
    EXPECT_FALSE(a.disassemble);
    auto d = vgpu::as::parse_args({"-d", "k.vgpu"});
    EXPECT_TRUE(d.disassemble);
    EXPECT_EQ(d.input, "k.vgpu");
    EXPECT_TRUE(vgpu::as::parse_args({"-h"}).help);
}

TEST(ToolArgs, AsRefuses) {
    using vgpu::as::parse_args;
    EXPECT_THROW(parse_args({"k.vas"}), UsageError);  // assembling needs -o
    EXPECT_THROW(parse_args({"-d"}), UsageError);     // no module
    EXPECT_THROW(parse_args({"a.vas", "b.vas", "-o", "x"}), UsageError);
    EXPECT_THROW(parse_args({"k.vas", "-o"}), UsageError);
    EXPECT_THROW(parse_args({"-x", "k.vas"}), UsageError);
}

TEST(ToolArgs, PtxVerbAndFiles) {
    auto a = gpuvm::ptx::parse_tool_args({"compile", "a.ptx", "b.ptx"});
    EXPECT_EQ(a.verb, "compile");
    EXPECT_EQ(a.files, (std::vector<std::string>{"a.ptx", "b.ptx"}));
    EXPECT_EQ(gpuvm::ptx::parse_tool_args({"check", "--", "-odd.ptx"}).files, std::vector<std::string>{"-odd.ptx"});
    EXPECT_THROW(gpuvm::ptx::parse_tool_args({"check"}), UsageError);
    EXPECT_THROW(gpuvm::ptx::parse_tool_args({"link", "a.ptx"}), UsageError);
    EXPECT_THROW(gpuvm::ptx::parse_tool_args({}), UsageError);
}

TEST(ToolArgs, BenchRepAndReport) {
    auto r = bench::parse_rep({"--mode", "hp", "--quick", "--only", "h2d,,d2h"});
    EXPECT_EQ(r.mode, "hp");
    EXPECT_TRUE(r.options.quick);
    EXPECT_EQ(r.options.only, (std::vector<std::string>{"h2d", "d2h"}));
    EXPECT_THROW(bench::parse_rep({"--mode", "fast"}), UsageError);
    auto p = bench::parse_report({"--out", "d", "a.jsonl", "--engine", "cuda", "b.jsonl"});
    EXPECT_EQ(p.out, "d");
    EXPECT_EQ(p.engine, "cuda");
    EXPECT_EQ(p.kernel, "unknown");
    EXPECT_EQ(p.files, (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
    EXPECT_THROW(bench::parse_report({"a.jsonl"}), UsageError);  // no --out
}

TEST(ToolArgs, BenchSpinHogInterpWaitKey) {
    auto s = bench::parse_spin({"--contexts", "3", "--depth=4", "--iterations", "50", "--seconds", "2.5"});
    EXPECT_EQ(s.options.contexts, 3u);
    EXPECT_EQ(s.options.depth, 4u);
    EXPECT_EQ(s.options.iterations, 50u);
    EXPECT_DOUBLE_EQ(s.options.seconds, 2.5);
    EXPECT_THROW(bench::parse_spin({"--contexts", "0"}), UsageError);
    EXPECT_THROW(bench::parse_spin({"--depth", "2x"}), UsageError);
    EXPECT_DOUBLE_EQ(bench::parse_hog({"--hold", "5"}).hold_s, 5);
    EXPECT_DOUBLE_EQ(bench::parse_hog({}).hold_s, 30);
    EXPECT_EQ(bench::parse_interp({}).iterations, 2000u);
    EXPECT_EQ(bench::parse_interp({"100"}).iterations, 100u);
    EXPECT_THROW(bench::parse_interp({"1k"}), UsageError);
    auto w = bench::parse_wait_key({"k", "v"});
    EXPECT_EQ(w.key, "k");
    EXPECT_EQ(w.value, "v");
    EXPECT_EQ(w.seconds, 600u);
    EXPECT_EQ(bench::parse_wait_key({"k", "v", "5"}).seconds, 5u);
    EXPECT_THROW(bench::parse_wait_key({"k"}), UsageError);
    EXPECT_THROW(bench::parse_wait_key({"k", "v", "4294967295"}), UsageError);  // not an int
}

TEST(ToolArgs, BenchFairness) {
    auto f = bench::parse_fairness({"--name", "w", "--expect", "stop", "--stop-cmd", "xl pause 3", "--stop-after",
                                    "4", "--stopped", "3", "--windows", "6", "--warmup", "1"});
    EXPECT_EQ(f.name, "w");
    EXPECT_EQ(f.expect, "stop");
    EXPECT_EQ(f.stop_cmd, "xl pause 3");
    EXPECT_DOUBLE_EQ(f.stop_after_s, 4);
    EXPECT_EQ(f.stopped, 3u);
    EXPECT_EQ(f.windows, 6u);
    EXPECT_DOUBLE_EQ(f.warmup_s, 1);
    auto d = bench::parse_fairness({});
    EXPECT_EQ(d.expect, "equal");
    EXPECT_EQ(d.clients, 4u);
    EXPECT_DOUBLE_EQ(d.stop_after_s, -1);
    EXPECT_THROW(bench::parse_fairness({"--expect", "fast"}), UsageError);
    EXPECT_THROW(bench::parse_fairness({"--stop-after", "3"}), UsageError);  // nothing to run
}

// Every subcommand of the usage has a table, and only those.
TEST(ToolArgs, BenchCommands) {
    for (const char* c : {"interp", "rep", "report", "wait-key", "spin", "hog", "fairness"})
        EXPECT_NE(bench::command(c), nullptr) << c;
    EXPECT_EQ(bench::command("engine"), nullptr);  // vgpu-engined's own
    EXPECT_EQ(bench::command("nope"), nullptr);
}

// On the GPU, the interpreter's 3000 iterations end before the next
// launch comes through a worker: --gpu takes longer launches by default.
TEST(ToolArgs, FairnessCoreIterationsFollowTheEngine) {
    EXPECT_EQ(bench::parse_fairness_core({}).iterations, 3000u);
    EXPECT_EQ(bench::parse_fairness_core({"--gpu"}).iterations, bench::kGpuSpinIterations);
    EXPECT_EQ(bench::parse_fairness_core({"--gpu", "--iterations", "50"}).iterations, 50u);
}

TEST(ToolArgs, SelftestTestsAndTheirNumbers) {
    using vgpu::selftest::parse_args;
    EXPECT_EQ(parse_args({"keep-cold"}).n, 4u);
    EXPECT_EQ(parse_args({"keep-cold", "256"}).test, "keep-cold");
    EXPECT_EQ(parse_args({"fault"}).test, "fault");
    EXPECT_EQ(parse_args({"watchdog"}).n, 0u);  // no limit
    EXPECT_EQ(parse_args({"watchdog", "2000"}).n, 2000u);
    EXPECT_EQ(parse_args({"longrun"}).n, 60u);
    EXPECT_EQ(parse_args({"inflight"}).n, 64u);
    EXPECT_EQ(parse_args({"inflight", "200"}).n, 200u);
    EXPECT_TRUE(parse_args({"--help"}).help);
    EXPECT_THROW(parse_args({}), vgpu::UsageError);
    EXPECT_THROW(parse_args({"nosuch"}), vgpu::UsageError);
    EXPECT_THROW(parse_args({"fault", "3"}), vgpu::UsageError);      // takes none
    EXPECT_THROW(parse_args({"inflight", "0"}), vgpu::UsageError);   // was "the default"
    EXPECT_THROW(parse_args({"inflight", "0x10"}), vgpu::UsageError);
    EXPECT_THROW(parse_args({"watchdog", "1", "2"}), vgpu::UsageError);
}
