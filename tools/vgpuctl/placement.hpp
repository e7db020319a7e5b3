// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Placement of a guest's vGPU on one of the host's engines (vgpu-back's
// devices /sys/devices/platform/vgpu.N): by index (--engine N) or by a
// policy (--policy spread|pack), as a cluster manager would place it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vgpuctl {

// Engines vgpu-back serves at most (its VGPU_MAX_DEVICES).
constexpr unsigned int kMaxEngines = 16;

struct EngineLoad {
    unsigned int index = 0;
    std::string name;
    unsigned long long mem_mb = 0;
    unsigned int placed = 0;             // vGPUs placed on it (XenStore)
    unsigned long long placed_mb = 0;    // their device-memory quotas
};

// The engines in @sys (normally "/sys"), by index.
std::vector<EngineLoad> read_engines(const std::filesystem::path& sys);

// The engine a new vGPU needing @need_mb goes to: "spread" the one with
// the fewest vGPUs (then the most memory left), "pack" the lowest index
// with @need_mb left.  Throws std::runtime_error naming why none fits.
unsigned int choose_engine(const std::vector<EngineLoad>& engines, const std::string& policy,
                           unsigned long long need_mb);

}  // namespace vgpuctl
