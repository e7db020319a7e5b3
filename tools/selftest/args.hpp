// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// args.hpp - vgpu-selftest's command line (vgpu/options.hpp's parser).
#pragma once

#include <string>
#include <vector>

#include "vgpu/options.hpp"

namespace vgpu::selftest {

struct Args {
    std::string test;  // fault, watchdog, longrun, hold, bind-race, job-flood, clients, inflight, keep, keep-cold
    unsigned n = 0;    // watchdog: LIMIT_MS (0: none); longrun: SECONDS; inflight: N; keep(-cold): MIB
    bool help = false;
};

const vgpu::Command& command();
Args parse_args(const std::vector<std::string>& argv);

}  // namespace vgpu::selftest
