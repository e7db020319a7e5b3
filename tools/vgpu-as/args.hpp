// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// args.hpp - vgpu-as's command line (a table of vgpu/options.hpp), parsed
// apart from main() so that the tests check it.
#pragma once

#include <string>
#include <vector>

#include "vgpu/options.hpp"

namespace vgpu::as {

struct Args {
    std::string input;   // SOURCE.vas, or MODULE.vgpu with -d
    std::string output;  // -o MODULE.vgpu (assembling)
    bool disassemble = false;
    bool help = false;
};

const vgpu::Command& command();
// Throws vgpu::UsageError, also where assembling has no -o.
Args parse_args(const std::vector<std::string>& argv);

}  // namespace vgpu::as
