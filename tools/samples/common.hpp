// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Shared helpers of the sample programs.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "vgpu/vgpu.hpp"

namespace sample {

// Kernels are looked up in $VGPU_KERNEL_DIR, else next to the program.
inline std::string kernel_path(const std::string& name) {
    if (const char* d = std::getenv("VGPU_KERNEL_DIR")) return std::string(d) + "/" + name + ".vgpu";
    auto exe = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    return (exe / "kernels" / (name + ".vgpu")).string();
}

inline double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Runs @body, prints "NAME: <detail> gpu_ms=... total_ms=... PASS|FAIL"
// and returns the exit status.  @body returns the number of wrong results
// and sets the GPU time (launch to completion); the total time includes
// opening the device, allocations, uploads and downloads.
inline int run(const char* name, const std::function<size_t(std::string&, double&)>& body) {
    try {
        std::string detail;
        double ms = 0;
        auto t0 = std::chrono::steady_clock::now();
        size_t bad = body(detail, ms);
        std::printf("%s: %s gpu_ms=%.2f total_ms=%.2f %s\n", name, detail.c_str(), ms, ms_since(t0),
                    bad ? "FAIL" : "PASS");
        if (bad) std::printf("%s: %zu results differ from the CPU reference\n", name, bad);
        return bad ? 1 : 0;
    } catch (const std::exception& e) {
        std::printf("%s: error: %s FAIL\n", name, e.what());
        return 1;
    }
}

inline std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-100.0f, 100.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

}  // namespace sample
