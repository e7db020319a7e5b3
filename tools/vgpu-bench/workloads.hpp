// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The GPU workloads of vgpu-bench, modelled on the GPUvm paper's Gdev
// microbenchmarks, run the same way on every path (dom0's native node, a
// guest's naive or hp node), and the ring counters they cost.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vgpu/vgpu.hpp"

namespace bench {

// What a path's transport did: vgpu-front's counters in a guest
// (<debugfs>/vgpu-front/<device>), zero on dom0's native node.
struct Counters {
    uint64_t requests = 0, notify_out = 0, notify_in = 0;
    uint64_t grant_maps = 0, grant_unmaps = 0, bytes_copied = 0;
    Counters operator-(const Counters& o) const;
};

// Reads the counters of the guest device behind render node @node;
// std::nullopt where there is none (dom0).
std::optional<Counters> read_counters(const std::string& node);

// One measurement: @ops operations of @workload in @seconds, and the
// counters' growth meanwhile.
struct Sample {
    std::string workload;
    std::string path;              // "native", "naive", "hp"
    std::optional<uint64_t> size;  // bytes moved or mapped per operation
    uint64_t ops = 0;
    double seconds = 0;
    Counters cost;
    std::string json() const;
};

struct Options {
    bool quick = false;  // smaller sizes and fewer operations (make demo)
    std::vector<std::string> only;  // workloads to run; empty: all
};

// Runs every workload once, after a warm-up of each, on @dev.
std::vector<Sample> run_all(const std::shared_ptr<vgpu::Device>& dev, const Options& o);

// The render node of the given mode ("native", "naive", "hp"), or the
// first vgpu node when @mode is empty.
std::shared_ptr<vgpu::Device> open_mode(const std::string& mode);

}  // namespace bench
