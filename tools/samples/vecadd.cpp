// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vecadd: c = a + b on the GPU, checked against the CPU.
#include "common.hpp"

int main(int argc, char** argv) {
    size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 100000;
    return sample::run("vecadd", [&](std::string& detail, double& ms) {
        auto dev = vgpu::Device::open();
        vgpu::Context ctx(dev);
        vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("vecadd")));
        auto a = sample::random_floats(n, 1), b = sample::random_floats(n, 2);
        vgpu::Buffer da(ctx, n * 4, vgpu::Domain::Device), db(ctx, n * 4, vgpu::Domain::Device),
            dc(ctx, n * 4, vgpu::Domain::Device);
        da.upload(a);
        db.upload(b);
        auto t0 = std::chrono::steady_clock::now();
        ctx.launch(mod.kernel("vecadd"), {static_cast<uint32_t>((n + 255) / 256)}, {256}, {da, db, dc, n});
        ctx.synchronize();
        ms = sample::ms_since(t0);
        auto c = dc.download<float>(n);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += c[i] != a[i] + b[i];
        detail = "n=" + std::to_string(n);
        return bad;
    });
}
