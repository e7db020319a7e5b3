// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Loads for the fairness scenario: `spin` keeps the engine busy from
// several contexts with the same kernel; `hog` takes device memory
// until its quota refuses more.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "vgpu/vgpu.hpp"

namespace bench {

struct SpinOptions {
    unsigned int contexts = 1;
    unsigned int depth = 2;       // launches in flight per context
    uint32_t iterations = 300;    // of the ALU kernel's loop, per thread
    double seconds = 10;
    const std::atomic<bool>* stop = nullptr;  // ends it sooner once true
};

struct SpinResult {
    uint64_t launches = 0;
    double seconds = 0;
    std::string json() const;
};

// Launches the ALU kernel (4 x 64 threads) from @o.contexts contexts,
// keeping @o.depth in flight in each, for @o.seconds; throws
// vgpu::ContextError if the GPU stops a context.
SpinResult spin(const std::shared_ptr<vgpu::Device>& dev, const SpinOptions& o);

struct StormResult {
    uint64_t contexts = 0;  // made
    uint64_t faults = 0;    // of them, faulted as the storm meant
    uint64_t refused = 0;   // CTX_CREATEs refused EBUSY (the engine paces the group)
};

// A hostile client's fault storm, until *@stop: makes a context, FILLs
// a GPU page it never mapped (the job faults), destroys the context,
// again; a paced CTX_CREATE (EBUSY) is asked again at once, as a
// hostile guest would.  On vgpu-engined's workers each context costs a
// worker's start.  Throws vgpu::Error on another error.
StormResult storm(const std::shared_ptr<vgpu::Device>& dev, const std::atomic<bool>& stop);

// Allocates 1 MiB device buffers until the driver says EDQUOT; returns
// how many MiB it got, and keeps them for @hold_s seconds.  Throws on
// any other error, or if the quota never refuses (@limit_mib reached).
unsigned int hog(const std::shared_ptr<vgpu::Device>& dev, double hold_s, unsigned int limit_mib = 4096);

}  // namespace bench
