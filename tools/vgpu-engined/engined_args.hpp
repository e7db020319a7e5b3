// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// engined_args.hpp - the command lines of vgpu-engined and of `vgpu-bench
// engine` (bench.cpp), as tables of vgpu/options.hpp, parsed into
// settings apart from main() so that the tests check them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vgpu/options.hpp"

namespace vgpu::engine {

// vgpu-engined's settings (vgpu-engined(8)).
struct EnginedArgs {
    std::string backend = "auto";  // auto, cuda or interp
    std::string device;            // device_for_gpu(gpu) unless -d
    std::string kernels;           // --self-test: the samples' sources
    std::uint64_t mem_mb = 0;      // 0: vgpu-uengine's mem_mb parameter
    int gpu = 0;                   // the CUDA device index
    bool self_test = false;
    bool workers = false;          // each context in a worker process
    unsigned spares = 1;           // --workers: workers started ahead (Router::set_spares)
    bool worker = false;           // be one (started by vgpu-engined)
    bool help = false;
};

const vgpu::Command& engined_command();
// Throws vgpu::UsageError.
EnginedArgs parse_engined_args(const std::vector<std::string>& argv);

// `vgpu-bench engine`'s settings.
struct BenchArgs {
    std::string ref;  // nvcc's PTX of the same algorithms; empty: none
    std::string kernels;
    std::string json = "engine-bench.json";
    int reps = 5;
    int gpu = 0;
};

const vgpu::Command& bench_command();
// @kernels_dflt: the samples' sources unless --kernels.  Throws vgpu::UsageError.
BenchArgs parse_bench_args(const std::vector<std::string>& argv, const std::string& kernels_dflt);

}  // namespace vgpu::engine
