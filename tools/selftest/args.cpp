// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// args.cpp - vgpu-selftest's command line: TEST [N], N a whole number
// where the test takes one (watchdog LIMIT_MS, longrun SECONDS, inflight N).
#include "args.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace vgpu::selftest {
namespace {

struct Test {
    std::string_view name;
    bool takes_n;
    unsigned dflt;  // N when not given
};

constexpr std::array<Test, 12> kTests{{
    {"fault", false, 0}, {"watchdog", true, 0}, {"longrun", true, 60}, {"hold", false, 0},
    {"bind-race", false, 0}, {"bind-partial", false, 0}, {"bind-rules", false, 0}, {"job-flood", false, 0},
    {"clients", false, 0}, {"inflight", true, 64}, {"keep", true, 4},
    {"keep-cold", true, 4},
}};

}  // namespace

const vgpu::Command& command() {
    using namespace vgpu;
    static const Command c{
        "vgpu-selftest", "TEST [N]",
        "Runs one test of a vGPU render node: fault | watchdog [LIMIT_MS] | longrun [SECONDS] | hold |\n"
        "bind-race | bind-partial | bind-rules | job-flood | clients | inflight [N] | keep [MIB] |\n"
        "keep-cold [MIB]; prints \"selftest TEST: PASS\" or FAIL.",
        {help_option()},
        1, 2};
    return c;
}

Args parse_args(const std::vector<std::string>& argv) {
    const auto a = vgpu::parse(command(), argv);
    Args r;
    r.help = a.flag("help");
    if (r.help)
        return r;
    r.test = a.positional[0];
    auto t = std::find_if(kTests.begin(), kTests.end(), [&](const Test& x) { return x.name == r.test; });
    if (t == kTests.end())
        throw UsageError("unknown test " + r.test);
    r.n = t->dflt;
    if (a.positional.size() == 2) {
        if (!t->takes_n)
            throw UsageError(r.test + " takes no argument");
        if (!vgpu::read_number(a.positional[1], r.n) || (t->dflt && !r.n))
            throw UsageError("bad value for " + r.test + ": " + a.positional[1] + " (expected a whole number" +
                             (t->dflt ? " from 1)" : ")"));
    }
    return r;
}

}  // namespace vgpu::selftest
