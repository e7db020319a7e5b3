// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-selftest: isolation checks run by the end-to-end scenarios.
//   vgpu-selftest fault      a kernel stores outside its mappings: its
//                            context reports FAULTED at the exact address,
//                            a second context still computes correctly
//   vgpu-selftest watchdog [LIMIT_MS]
//                            an endless kernel: its context reports HUNG
//                            within the watchdog limit (read from vgpu-sim
//                            in dom0; given in a guest), others still run
//   vgpu-selftest longrun SECONDS
//                            launches work until the device goes away; passes
//                            when that ends in a clear ENODEV error
//   vgpu-selftest hold       allocates and maps objects, then sleeps: for
//                            tests that destroy the guest under it
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include <unistd.h>

#include "../samples/common.hpp"

namespace {

int fails = 0;

void expect(bool ok, const std::string& what) {
    std::printf("  %s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok) fails++;
}

// A second, honest context must compute the right answer.
void honest_context_works(const std::shared_ptr<vgpu::Device>& dev) {
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    constexpr uint32_t n = 1000;
    vgpu::Buffer out(ctx, n * 4, vgpu::Domain::Host);
    ctx.launch(mod.kernel("iota"), {(n + 127) / 128}, {128}, {out, n});
    ctx.synchronize();
    const auto* v = static_cast<const uint32_t*>(out.data());
    size_t bad = 0;
    for (uint32_t i = 0; i < n; i++) bad += v[i] != 3 * i + 1;
    expect(bad == 0, "another context computes correctly (" + std::to_string(bad) + " wrong)");
}

int fault() {
    auto dev = vgpu::Device::open();
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    vgpu::Buffer buf(ctx, 4096, vgpu::Domain::Device);
    // The page after a buffer is an unmapped guard page.
    const uint64_t bad_addr = buf.gpu_addr() + 4096 + 0x124;
    ctx.launch(mod.kernel("store_at"), {1}, {1}, {bad_addr});
    try {
        ctx.synchronize();
        expect(false, "the out-of-bounds store was reported");
    } catch (const vgpu::ContextError& e) {
        char want[64];
        std::snprintf(want, sizeof(want), "0x%llx", static_cast<unsigned long long>(bad_addr));
        expect(e.status().state == vgpu::ContextState::Faulted, std::string("context faulted: ") + e.what());
        expect(e.status().fault_addr == bad_addr, std::string("fault address is exactly ") + want);
        expect(e.status().fault_kind == 1, "fault kind is 'unmapped'");
    }
    try {
        ctx.fill(buf.gpu_addr(), 4096, 0);
        expect(false, "a faulted context refuses new work");
    } catch (const vgpu::Error& e) {
        expect(e.code() == EIO, std::string("a faulted context refuses new work: ") + e.what());
    }
    honest_context_works(dev);
    return fails;
}

int watchdog(unsigned limit_ms) {
    auto dev = vgpu::Device::open();
    if (!limit_ms) {
        std::ifstream p("/sys/module/vgpu_sim/parameters/watchdog_ms");
        p >> limit_ms;
    }
    expect(limit_ms > 0, "watchdog_ms is readable: " + std::to_string(limit_ms) + " ms");
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    auto t0 = std::chrono::steady_clock::now();
    ctx.launch(mod.kernel("spin"), {4}, {64}, {});
    try {
        ctx.synchronize(std::chrono::milliseconds(limit_ms * 4 + 5000));
        expect(false, "the endless kernel was stopped");
    } catch (const vgpu::ContextError& e) {
        double ms = sample::ms_since(t0);
        expect(e.status().state == vgpu::ContextState::Hung, std::string("context hung: ") + e.what());
        char buf[96];
        std::snprintf(buf, sizeof(buf), "stopped after %.0f ms (limit %u ms, slack 2000 ms)", ms, limit_ms);
        expect(ms < limit_ms + 2000.0, buf);
        expect(ms >= limit_ms * 0.9, "not stopped before the limit");
    } catch (const vgpu::Error& e) {
        expect(false, std::string("endless kernel: ") + e.what());
    }
    honest_context_works(dev);
    return fails;
}

int longrun(unsigned seconds) {
    auto dev = vgpu::Device::open();
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    constexpr uint32_t n = 4096;
    vgpu::Buffer out(ctx, n * 4, vgpu::Domain::Device);
    auto t0 = std::chrono::steady_clock::now();
    unsigned long launches = 0;
    std::printf("longrun: started\n");
    std::fflush(stdout);
    try {
        while (sample::ms_since(t0) < seconds * 1000.0) {
            ctx.launch(mod.kernel("iota"), {n / 128}, {128}, {out, n});
            ctx.synchronize();
            launches++;
        }
    } catch (const vgpu::Error& e) {
        std::printf("longrun: stopped after %lu launches, %.0f ms: %s\n", launches, sample::ms_since(t0), e.what());
        expect(e.code() == ENODEV, "the error says the device is gone (ENODEV)");
        return fails;
    }
    expect(false, "the device never went away");
    return fails;
}

int hold() {
    auto dev = vgpu::Device::open();
    vgpu::Context ctx(dev);
    vgpu::Module mod(ctx, vgpu::Module::load_file(sample::kernel_path("selftest")));
    std::vector<std::unique_ptr<vgpu::Buffer>> bufs;
    for (int i = 0; i < 4; i++) bufs.push_back(std::make_unique<vgpu::Buffer>(ctx, 64 * 1024, vgpu::Domain::Device));
    for (int i = 0; i < 2; i++) bufs.push_back(std::make_unique<vgpu::Buffer>(ctx, 16 * 1024, vgpu::Domain::Host));
    ctx.launch(mod.kernel("iota"), {8}, {128}, {*bufs[0], 1024});
    ctx.synchronize();
    std::printf("hold: holding %zu buffers and a context\n", bufs.size());
    std::fflush(stdout);
    for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
    const char* cmd = argc >= 2 ? argv[1] : "";
    unsigned arg = argc >= 3 ? static_cast<unsigned>(std::strtoul(argv[2], nullptr, 0)) : 0;
    bool known = !std::strcmp(cmd, "fault") || !std::strcmp(cmd, "watchdog") || !std::strcmp(cmd, "longrun") ||
                 !std::strcmp(cmd, "hold");
    if (!known || argc > 3) {
        std::fprintf(stderr, "usage: vgpu-selftest fault | watchdog [LIMIT_MS] | longrun SECONDS | hold\n");
        return 2;
    }
    try {
        int f = !std::strcmp(cmd, "fault")      ? fault()
                : !std::strcmp(cmd, "watchdog") ? watchdog(arg)
                : !std::strcmp(cmd, "longrun")  ? longrun(arg ? arg : 60)
                                                : hold();
        std::printf("selftest %s: %s\n", argv[1], f ? "FAIL" : "PASS");
        return f ? 1 : 0;
    } catch (const std::exception& e) {
        std::printf("selftest %s: error: %s FAIL\n", argv[1], e.what());
        return 1;
    }
}
