// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "vgpu_ptx_args.hpp"

#include <algorithm>
#include <array>

namespace gpuvm::ptx {

namespace {

constexpr std::array<std::string_view, 5> kVerbs = {"check", "stats", "print", "compile", "disasm"};

}  // namespace

const vgpu::Command& tool_command() {
    static const vgpu::Command c{
        "vgpu-ptx", "check|stats|print|compile|disasm FILE.ptx...",
        "The PTX front end: check, count, print, compile or disassemble each FILE.",
        {vgpu::help_option()},
        2, vgpu::kAnyNumber};
    return c;
}

ToolArgs parse_tool_args(const std::vector<std::string>& argv) {
    const auto a = vgpu::parse(tool_command(), argv);
    ToolArgs r;
    r.help = a.flag("help");
    if (r.help) return r;
    r.verb = a.positional[0];
    r.files.assign(a.positional.begin() + 1, a.positional.end());
    if (std::find(kVerbs.begin(), kVerbs.end(), r.verb) == kVerbs.end())
        throw vgpu::UsageError("unknown subcommand " + r.verb);
    return r;
}

}  // namespace gpuvm::ptx
