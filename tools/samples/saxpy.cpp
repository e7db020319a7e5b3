// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// saxpy: y = a * x + y, with x and y in host memory (zero-copy).
#include "common.hpp"

int main(int argc, char** argv) {
    size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 100000;
    return sample::run("saxpy", [&](std::string& detail, double& ms) {
        auto dev = vgpu::Device::open();
        vgpu::Context ctx(dev);
        vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("saxpy")));
        auto x = sample::random_floats(n, 3), y = sample::random_floats(n, 4);
        const float a = 2.5f;
        vgpu::Buffer hx(ctx, n * 4, vgpu::Domain::Host), hy(ctx, n * 4, vgpu::Domain::Host);
        std::memcpy(hx.data(), x.data(), n * 4);
        std::memcpy(hy.data(), y.data(), n * 4);
        auto t0 = std::chrono::steady_clock::now();
        ctx.launch(mod.kernel("saxpy"), {static_cast<uint32_t>((n + 255) / 256)}, {256}, {a, hx, hy, n});
        ctx.synchronize();
        ms = sample::ms_since(t0);
        const float* out = static_cast<const float*>(hy.data());
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            volatile float prod = a * x[i];
            bad += out[i] != prod + y[i];
        }
        detail = "n=" + std::to_string(n);
        return bad;
    });
}
