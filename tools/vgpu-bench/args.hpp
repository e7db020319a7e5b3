// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// args.hpp - vgpu-bench's subcommands and their options, as tables of
// vgpu/options.hpp, parsed into settings apart from main() so that the
// tests check them.  Each parse_* takes the words after the subcommand
// and throws vgpu::UsageError.  (`engine` is vgpu-engined/engined_args.hpp's.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fairness_core.hpp"
#include "load.hpp"
#include "vgpu/options.hpp"
#include "workloads.hpp"

namespace bench {

// Every subcommand's table, in the usage's order.
const std::vector<vgpu::Command>& commands();
// The table of subcommand @name ("rep"), or nullptr.
const vgpu::Command* command(const std::string& name);

struct InterpArgs {
    std::uint64_t iterations = 2000;
};
InterpArgs parse_interp(const std::vector<std::string>& argv);

struct RepArgs {
    std::string mode;  // empty: the first vgpu node
    Options options;
};
RepArgs parse_rep(const std::vector<std::string>& argv);

struct ReportArgs {
    std::string out, kernel = "unknown", engine = "vgpu-sim", fairness;
    std::vector<std::string> files;
};
ReportArgs parse_report(const std::vector<std::string>& argv);

struct WaitKeyArgs {
    std::string key, value;
    unsigned int seconds = 600;
};
WaitKeyArgs parse_wait_key(const std::vector<std::string>& argv);

struct SpinArgs {
    std::string mode;
    SpinOptions options;
};
SpinArgs parse_spin(const std::vector<std::string>& argv);

struct HogArgs {
    std::string mode;
    double hold_s = 30;
};
HogArgs parse_hog(const std::vector<std::string>& argv);

struct FairnessArgs {
    std::string name = "fairness", expect = "equal", stop_cmd;
    unsigned int clients = 4, windows = 8, stopped = 0;
    double warmup_s = 2, stop_after_s = -1;  // -1: no stop
};
FairnessArgs parse_fairness(const std::vector<std::string>& argv);
FairnessCoreArgs parse_fairness_core(const std::vector<std::string>& argv);

}  // namespace bench
