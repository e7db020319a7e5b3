// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#pragma once

#include "options.hpp"

namespace vgpuctl {

// vgpuctl watch: keeps the vGPUs of the configuration (o.config)
// attached to their domains as domains come and go; runs until killed.
int watch(const Options& o);

}  // namespace vgpuctl
