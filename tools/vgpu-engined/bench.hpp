// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// bench.hpp - `vgpu-bench engine`: the engine back ends measured
// (Documentation/engines.rst): interpreter vs GPU in thread-instructions
// per second, each translated sample against the same algorithm in CUDA
// C (nvcc's PTX, --ref), launch overhead.
#pragma once

namespace vgpu::engine {

int bench_main(int argc, char** argv);

}  // namespace vgpu::engine
