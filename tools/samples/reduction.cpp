// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// reduction: sum of n integers, a tree per block and atomics across blocks.
#include "common.hpp"

int main(int argc, char** argv) {
    size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : 100000;
    return sample::run("reduction", [&](std::string& detail, double& ms) {
        auto dev = vgpu::Device::open();
        vgpu::Context ctx(dev);
        vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("reduction")));
        std::mt19937 rng(7);
        std::vector<uint32_t> in(n);
        for (auto& v : in) v = rng();
        vgpu::Buffer din(ctx, n * 4, vgpu::Domain::Device), dout(ctx, 4, vgpu::Domain::Device);
        din.upload(in);
        ctx.fill(dout.gpu_addr(), 4096, 0);
        auto t0 = std::chrono::steady_clock::now();
        ctx.launch(mod.kernel("reduce"), {static_cast<uint32_t>((n + 255) / 256)}, {256}, {din, dout, n});
        ctx.synchronize();
        ms = sample::ms_since(t0);
        uint32_t want = 0;
        for (uint32_t v : in) want += v;
        uint32_t got = dout.download<uint32_t>(1)[0];
        detail = "n=" + std::to_string(n) + " sum=" + std::to_string(got);
        return got == want ? 0 : 1;
    });
}
