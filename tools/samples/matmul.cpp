// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// matmul: C = A * B with 16x16 tiles in shared memory and barriers.
#include "common.hpp"

int main(int argc, char** argv) {
    uint32_t n = argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 0)) : 64;
    if (n == 0 || n % 16) {
        std::fprintf(stderr, "matmul: n must be a positive multiple of 16\n");
        return 2;
    }
    return sample::run("matmul", [&](std::string& detail, double& ms) {
        auto dev = vgpu::Device::open();
        vgpu::Context ctx(dev);
        vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("matmul")));
        size_t nn = size_t{n} * n;
        auto a = sample::random_floats(nn, 5), b = sample::random_floats(nn, 6);
        vgpu::Buffer da(ctx, nn * 4, vgpu::Domain::Device), db(ctx, nn * 4, vgpu::Domain::Device),
            dc(ctx, nn * 4, vgpu::Domain::Device);
        da.upload(a);
        db.upload(b);
        auto t0 = std::chrono::steady_clock::now();
        ctx.launch(mod.kernel("matmul"), {n / 16, n / 16}, {16, 16}, {da, db, dc, n});
        ctx.synchronize();
        ms = sample::ms_since(t0);
        auto c = dc.download<float>(nn);
        size_t bad = 0;
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++) {
                float acc = 0.0f;
                for (uint32_t k = 0; k < n; k++) {
                    volatile float p = a[i * n + k] * b[k * n + j];
                    acc = acc + p;
                }
                bad += c[i * n + j] != acc;
            }
        detail = "n=" + std::to_string(n);
        return bad;
    });
}
