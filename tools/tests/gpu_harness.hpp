// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The tests' name for the userspace GPU of tools/hostgpu/host_gpu.hpp.
#pragma once

#include "../hostgpu/host_gpu.hpp"

namespace vgpu {
namespace test = hostgpu;
}  // namespace vgpu
