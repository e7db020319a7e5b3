// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "args.hpp"

namespace vgpu::as {

const vgpu::Command& command() {
    using namespace vgpu;
    static const Command c{
        "vgpu-as", "FILE",
        "Assembles FILE (SOURCE.vas) into -o MODULE.vgpu, or disassembles FILE (MODULE.vgpu) to stdout (-d).",
        {
            text("output", 'o', "MODULE.vgpu", "the module to write"),
            flag("disassemble", 'd', "disassemble the module to stdout"),
            help_option(),
        },
        1, 1};
    return c;
}

Args parse_args(const std::vector<std::string>& argv) {
    const auto a = vgpu::parse(command(), argv);
    Args r{.input = a.positional.empty() ? "" : a.positional[0],
           .output = a.text("output"),
           .disassemble = a.flag("disassemble"),
           .help = a.flag("help")};
    if (!r.help && !r.disassemble && r.output.empty()) throw UsageError("assembling needs -o MODULE.vgpu");
    return r;
}

}  // namespace vgpu::as
