// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench fairness-core: the fairness scenario's checks (fairness.hpp)
// on vgpu-back's core built in this process (tools/ucore), with
// vgpu-engined's workers as its engine: on the GPU machine, which has no
// Xen, the module's scheduler sharing a real GPU.  Three clients, each
// in a group of its own as a guest is (g1 from 8 contexts, g2 and g3
// from one), each saturating the engine with `spin`'s kernel; phases:
//   equal    equal weights: Jain's index and every share (check_equal)
//   weights  1:2:4 (check_weights)
//   cap      g2 alone, capped at 25% (check_cap)
//   storm    g2 alone, then beside g3 whose contexts fault in a loop
//            (each a worker's start): g2's launches per second beside
//            the storm within 10% of alone (median of three rounds)
// One FAIRJSON record and one verdict line per phase, as `fairness`
// (storm: its rounds and a verdict line).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// fairness-core --gpu's default: jobs long enough to keep the GPU's
// queue full (3000 iterations finish before the next launch arrives).
inline constexpr uint32_t kGpuSpinIterations = 300000;

struct FairnessCoreArgs {
    bool gpu = false;             // the cuda back end's workers (GPU 0), else the interpreter's
    std::string engined;          // vgpu-engined ("": beside this program, else PATH)
    unsigned int windows = 8;     // 1-second windows that count, per phase
    double warmup_s = 2;
    // Each client kept backlogged: its launches are queued deeper and
    // longer than the scenario's, whose guests resubmit from CPUs of
    // their own (here every client's calls share the core's thread).
    uint32_t iterations = 3000;   // of spin's kernel loop (the interpreter's)
    unsigned int depth = 4;       // launches in flight per context
    unsigned int timeslice_ms = 5;
    unsigned int memory_mb = 1024;
    std::vector<std::string> phases{"equal", "weights", "cap", "storm"};
};

// Returns the exit status: 0 when every phase's check held.
int fairness_core(const FairnessCoreArgs& a);

}  // namespace bench
