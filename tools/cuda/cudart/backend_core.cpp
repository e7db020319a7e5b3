// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend_core.cpp - the "core" backends (backend.hpp): the vgpu backend
// (backend_vgpu.cpp) and libvgpu unchanged, over a transport that hands
// each ioctl to vgpu-back's core built in this process, whose engine is
// vgpu-engined's Router and workers (tools/ucore/core_transport.hpp):
//   core         the cuda back end's workers on an NVIDIA GPU: each of
//                the program's contexts in a worker process of its own,
//                its device memory at its addresses there, its kernels'
//                own PTX run by the GPU (engines.rst "The guest's own
//                PTX"); GPUVM_CUDA_DEVICE picks the GPU (default 0);
//   core-interp  the interpreter's workers (tests, without a GPU).
// This is the whole path of a dom0 program (libvgpu -> the core's
// vgpu_op_* and scheduler -> the engine process) on a machine without
// Xen or kernel modules: the GPU machine (Documentation/engines.rst "The
// core in a process" says what differs).  One core per device of the
// program; the program is its only client.
#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "backend.hpp"
#include "core_transport.hpp"  // tools/ucore
#include "engine_env.hpp"
#include "../../vgpu-engined/backend.hpp"

namespace gpuvm::cudart {

std::unique_ptr<Backend> make_core_backend(bool gpu, int index, int count) {
    ucore::CoreOptions o;
    o.gpu = gpu;
    o.dev = gpu ? engine_gpu() : 0;
    o.mem = engine_memory();
    o.exe = engined_path();
    // vgpu-uengine's 2 s by default; at most its hour.
    o.watchdog_ms = static_cast<unsigned int>(std::min<uint64_t>(engine_watchdog_ms(o.watchdog_ms), 3600000));
    std::shared_ptr<ucore::CoreHost> host;
    try {
        host = ucore::CoreHost::create(o);
    } catch (const vgpu::engine::Unavailable& e) {
        throw std::runtime_error(std::string("the engine's cuda back end is unavailable: ") + e.what());
    }
    auto dev = std::make_shared<vgpu::Device>(host->client("gpuvm-cuda"), host->name());
    return make_vgpu_backend(std::move(dev), index, count);
}

}  // namespace gpuvm::cudart
