// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu_ptx_args.hpp - vgpu-ptx's command line (its subcommands as tables
// of vgpu/options.hpp), parsed apart from main() so that the tests check it.
#pragma once

#include <string>
#include <vector>

#include "vgpu/options.hpp"

namespace gpuvm::ptx {

struct ToolArgs {
    std::string verb;  // check, stats, print, compile or disasm
    std::vector<std::string> files;
    bool help = false;
};

// The tool's table; its arguments are the verb and the files.
const vgpu::Command& tool_command();
// Throws vgpu::UsageError (no or an unknown verb, no file).
ToolArgs parse_tool_args(const std::vector<std::string>& argv);

}  // namespace gpuvm::ptx
