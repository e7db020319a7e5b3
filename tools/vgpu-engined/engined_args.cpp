// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "engined_args.hpp"

#include <climits>

#include "bridge.hpp"

namespace vgpu::engine {

// Device memory held, MiB: 16 TiB at most, so that MiB << 20 never
// overflows (0: the module's).
constexpr std::uint64_t kMaxMemMb = std::uint64_t(1) << 24;

const vgpu::Command& engined_command() {
    using namespace vgpu;
    static const Command c{
        "vgpu-engined", "", "The dom0 engine process of GPUvm (vgpu-engined(8)).",
        {
            text("backend", 'b', "", "the back end (default auto: the GPU when there is one)",
                 {"auto", "cuda", "interp"}),
            text("device", 'd', "DEVICE",
                 "the bridge's device (default: GPU's, /dev/vgpu-uengine for 0, /dev/vgpu-uengineN for N)"),
            whole("mem-mb", 'm', "MEM_MB", "device memory to hold, MiB (default: vgpu-uengine's mem_mb)", 0,
                  kMaxMemMb),
            whole("gpu", 'g', "GPU", "the CUDA device index (default 0); it picks the default device", 0,
                  INT_MAX),
            flag("self-test", 0, "run the self-test on the back end (-b cuda|interp) and exit"),
            flag("workers", 'w', "run each context in a worker process of its own (-b cuda: an instance of 2 MiB pages)"),
            whole("spare-workers", 0, "N",
                  "with --workers: workers started ahead, for new contexts and lost workers' successors (default 1)",
                  0, 16),
            flag("worker", 0, "internal: be a worker of vgpu-engined --workers (its socket is descriptor 3)"),
            text("kernels", 'k', "KERNEL_DIR", "self-test: where the samples' .vas sources are"),
            help_option(),
        },
        0, 0};
    return c;
}

EnginedArgs parse_engined_args(const std::vector<std::string>& argv) {
    const auto a = vgpu::parse(engined_command(), argv);
    EnginedArgs e;
    e.backend = a.text("backend", e.backend);
    e.kernels = a.text("kernels");
    e.mem_mb = a.whole("mem-mb", e.mem_mb);
    e.gpu = static_cast<int>(a.whole("gpu", 0));
    // One process per GPU: GPU N serves the module's instance N.
    e.device = a.text("device", device_for_gpu(e.gpu));
    e.self_test = a.flag("self-test");
    e.workers = a.flag("workers");
    e.spares = static_cast<unsigned>(a.whole("spare-workers", e.spares));
    e.worker = a.flag("worker");
    e.help = a.flag("help");
    return e;
}

const vgpu::Command& bench_command() {
    using namespace vgpu;
    static const Command c{
        "vgpu-bench engine", "",
        "The engine back ends measured: interpreter against GPU, each sample against nvcc's.",
        {
            text("ref", 0, "REF.ptx", "nvcc's PTX of the samples' algorithms, to compare with"),
            text("kernels", 0, "DIR", "the samples' .vas sources"),
            whole("reps", 0, "N", "repetitions of each measurement (default 5)", 1, 1000000),
            text("json", 0, "FILE", "where the results go (default engine-bench.json)"),
            whole("gpu", 0, "N", "the CUDA device index (default 0)", 0, INT_MAX),
        },
        0, 0};
    return c;
}

BenchArgs parse_bench_args(const std::vector<std::string>& argv, const std::string& kernels_dflt) {
    const auto a = vgpu::parse(bench_command(), argv);
    BenchArgs b;
    b.ref = a.text("ref");
    b.kernels = a.text("kernels", kernels_dflt);
    b.reps = static_cast<int>(a.whole("reps", static_cast<std::uint64_t>(b.reps)));
    b.json = a.text("json", b.json);
    b.gpu = static_cast<int>(a.whole("gpu", 0));
    return b;
}

}  // namespace vgpu::engine
