// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// engine_env.hpp - the environment the runtime's backends over
// vgpu-engined's back ends read (backend_engine.cpp, backend_core.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace gpuvm::cudart {

// The engine's memory: what GPUVM_CUDA_ENGINE_MB asks, 2 GiB by default.
uint64_t engine_memory();
// The engine's watchdog, ms: GPUVM_CUDA_WATCHDOG_MS, else @dflt.
uint64_t engine_watchdog_ms(uint64_t dflt);
// The GPU of the engine's cuda back end: GPUVM_CUDA_DEVICE (default 0).
int engine_gpu();
// vgpu-engined for the workers: GPUVM_CUDA_ENGINED, else the first in
// PATH, else where the package installs it.  Throws std::runtime_error.
std::string engined_path();

}  // namespace gpuvm::cudart
