// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "placement.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "options.hpp"

namespace vgpuctl {

namespace {

std::string read_line(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::string s;
    std::getline(f, s);
    return s;
}

}  // namespace

std::vector<EngineLoad> read_engines(const std::filesystem::path& sys) {
    std::vector<EngineLoad> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(sys / "devices/platform", ec)) {
        unsigned int idx = 0;
        char tail = 0;
        if (std::sscanf(e.path().filename().c_str(), "vgpu.%u%c", &idx, &tail) != 1) continue;
        EngineLoad l;
        l.index = idx;
        l.name = read_line(e.path() / "engine/name");
        try {
            l.mem_mb = parse_uint(read_line(e.path() / "engine/mem_mb"), "mem_mb");
        } catch (const UsageError&) {
            continue;  // going away while read
        }
        out.push_back(l);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    return out;
}

unsigned int choose_engine(const std::vector<EngineLoad>& engines, const std::string& policy,
                           unsigned long long need_mb) {
    if (policy != "spread" && policy != "pack") throw UsageError("--policy is spread or pack");
    if (engines.empty()) throw std::runtime_error("no engine: load vgpu-back and an engine (vgpu-sim) first");
    auto left = [](const EngineLoad& e) { return e.mem_mb > e.placed_mb ? e.mem_mb - e.placed_mb : 0; };
    const EngineLoad* best = nullptr;
    for (const auto& e : engines) {
        if (left(e) < need_mb) continue;
        if (policy == "pack") return e.index;  // sorted by index
        if (!best || e.placed < best->placed || (e.placed == best->placed && left(e) > left(*best))) best = &e;
    }
    if (!best)
        throw std::runtime_error("no engine has " + std::to_string(need_mb) +
                                 " MiB of device memory left for another vGPU (--policy " + policy + ")");
    return best->index;
}

}  // namespace vgpuctl
