// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench's GPU workloads (see workloads.hpp).
#include "workloads.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "kernels.hpp"
#include "vgpu/asm.hpp"
#include "vgpu_drm.h"

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Measures @ops runs of @op on @dev, after one warm-up run.
Sample measure(const std::shared_ptr<vgpu::Device>& dev, std::string workload, std::optional<uint64_t> size,
               uint64_t ops, const std::function<void()>& op) {
    op();  // warm-up: first-touch costs stay out of the figure
    Sample s;
    s.workload = std::move(workload);
    s.path = vgpu::mode_name(dev->info().mode);
    s.size = size;
    s.ops = ops;
    auto c0 = read_counters(dev->path());
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < ops; i++) op();
    s.seconds = since(t0);
    if (auto c1 = read_counters(dev->path()); c0 && c1) s.cost = *c1 - *c0;
    return s;
}

struct Env {
    std::shared_ptr<vgpu::Device> dev;
    vgpu::Context ctx;
    vgpu::Module mod;
    explicit Env(std::shared_ptr<vgpu::Device> d)
        : dev(std::move(d)), ctx(dev), mod(ctx, vgpu::assemble(std::string(kEmptyKernel) + kFloatKernel, "vgpu-bench")) {}
};

void launch_latency(Env& e, const Options& o, std::vector<Sample>& out) {
    auto k = e.mod.kernel("empty");
    out.push_back(measure(e.dev, "launch", std::nullopt, o.quick ? 20 : 100, [&] {
        e.ctx.launch(k, {1}, {1}, {});
        e.ctx.synchronize();
    }));
}

void submissions(Env& e, const Options& o, std::vector<Sample>& out) {
    vgpu::Buffer b(e.ctx, 4096, vgpu::Domain::Device);
    out.push_back(measure(e.dev, "submit_d1", std::nullopt, o.quick ? 32 : 128, [&] {
        e.ctx.fill(b.gpu_addr(), 4, 1);
        e.ctx.synchronize();
    }));
    // Queue depth 32: 32 submissions in flight, then wait for the last.
    const uint64_t rounds = o.quick ? 2 : 8;
    Sample s = measure(e.dev, "submit_d32", std::nullopt, rounds, [&] {
        for (int i = 0; i < 32; i++) e.ctx.fill(b.gpu_addr() + 4 * i, 4, i);
        e.ctx.synchronize();
    });
    s.ops *= 32;
    out.push_back(s);
}

// Host-to-device (or back) through the copy engine, from host memory
// the program filled.
void bandwidth(Env& e, const Options& o, bool h2d, std::vector<Sample>& out) {
    std::vector<uint64_t> sizes = {4096, 65536, 1 << 20, 16 << 20, 64 << 20};
    if (o.quick) sizes = {4096, 65536, 1 << 20};
    for (uint64_t size : sizes) {
        vgpu::Buffer host(e.ctx, size, vgpu::Domain::Host), devb(e.ctx, size, vgpu::Domain::Device);
        std::memset(host.data(), 0x5a, size);
        uint64_t dst = h2d ? devb.gpu_addr() : host.gpu_addr(), src = h2d ? host.gpu_addr() : devb.gpu_addr();
        uint64_t ops = std::clamp<uint64_t>((4u << 20) / size, 1, o.quick ? 8 : 32);
        out.push_back(measure(e.dev, h2d ? "h2d" : "d2h", size, ops, [&] {
            e.ctx.copy(dst, src, size);
            e.ctx.synchronize();
        }));
    }
}

// VM_BIND of a whole object: map and unmap it again, one operation.
void bind(Env& e, const Options& o, std::vector<Sample>& out) {
    const uint64_t size = o.quick ? 4 << 20 : 64 << 20;
    vgpu::Buffer b(e.ctx, size, vgpu::Domain::Host);
    e.ctx.unbind(b.gpu_addr(), size);
    out.push_back(measure(e.dev, o.quick ? "bind_4m" : "bind_64m", size, o.quick ? 2 : 3, [&] {
        e.ctx.bind(b.handle(), b.gpu_addr(), size, DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE);
        e.ctx.unbind(b.gpu_addr(), size);
    }));
    e.ctx.bind(b.handle(), b.gpu_addr(), size, DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE);
}

void madd(Env& e, const Options& o, std::vector<Sample>& out) {
    auto k = e.mod.kernel("fp");  // multiply-adds, as the interpreter's measurement
    vgpu::Buffer b(e.ctx, 64 * 1024, vgpu::Domain::Device);
    const uint32_t rounds = o.quick ? 200 : 1000;
    out.push_back(measure(e.dev, "madd", std::nullopt, o.quick ? 2 : 4, [&] {
        e.ctx.launch(k, {16}, {256}, {rounds, b});
        e.ctx.synchronize();
    }));
}

// The matmul sample's kernel (16x16 tiles in shared memory).
void matmul(Env& e, const Options& o, std::vector<Sample>& out) {
    const char* dir = std::getenv("VGPU_KERNEL_DIR");
    auto exe = std::filesystem::read_symlink("/proc/self/exe").parent_path();
    std::string path = dir ? std::string(dir) + "/matmul.vgpu" : (exe / "kernels" / "matmul.vgpu").string();
    vgpu::Module m(e.ctx, vgpu::Module::load_file(path));
    const uint32_t n = o.quick ? 32 : 64;
    const size_t bytes = size_t{n} * n * 4;
    vgpu::Buffer a(e.ctx, bytes, vgpu::Domain::Device), b(e.ctx, bytes, vgpu::Domain::Device),
        c(e.ctx, bytes, vgpu::Domain::Device);
    e.ctx.fill(a.gpu_addr(), bytes, 0x3f800000);  // 1.0f
    e.ctx.fill(b.gpu_addr(), bytes, 0x40000000);  // 2.0f
    auto k = m.kernel("matmul");
    out.push_back(measure(e.dev, "matmul", std::nullopt, o.quick ? 2 : 4, [&] {
        e.ctx.launch(k, {n / 16, n / 16}, {16, 16}, {a, b, c, n});
        e.ctx.synchronize();
    }));
}

bool wanted(const Options& o, const char* w) {
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), w) != o.only.end();
}

uint64_t field(const std::string& text, const std::string& key) {
    std::istringstream in(text);
    std::string k;
    uint64_t v;
    while (in >> k >> v)
        if (k == key) return v;
    return 0;
}

}  // namespace

Counters Counters::operator-(const Counters& o) const {
    return {requests - o.requests, notify_out - o.notify_out, notify_in - o.notify_in,
            grant_maps - o.grant_maps, grant_unmaps - o.grant_unmaps, bytes_copied - o.bytes_copied};
}

std::optional<Counters> read_counters(const std::string& node) {
    // /sys/class/drm/renderD128/device is the guest's xenbus device
    // (vgpu-0); vgpu-front names its counters file after it.
    std::error_code ec;
    auto dev = std::filesystem::read_symlink("/sys/class/drm/" + std::filesystem::path(node).filename().string() +
                                                 "/device",
                                             ec);
    if (ec) return std::nullopt;
    std::ifstream f("/sys/kernel/debug/vgpu-front/" + dev.filename().string());
    if (!f) return std::nullopt;
    std::stringstream ss;
    ss << f.rdbuf();
    std::string t = ss.str();
    // "mode hp" is not a number; read it last so that it ends nothing.
    t = t.substr(0, t.find("mode "));
    return Counters{field(t, "requests"),   field(t, "notify_out"),   field(t, "notify_in"),
                    field(t, "grant_maps"), field(t, "grant_unmaps"), field(t, "bytes_copied")};
}

std::string Sample::json() const {
    char buf[512];
    std::snprintf(buf, sizeof(buf),
                  "{\"workload\": \"%s\", \"path\": \"%s\", \"size\": %s, \"ops\": %llu, \"seconds\": %.9f, "
                  "\"requests\": %llu, \"notify_out\": %llu, \"notify_in\": %llu, \"grant_maps\": %llu, "
                  "\"grant_unmaps\": %llu, \"bytes_copied\": %llu}",
                  workload.c_str(), path.c_str(), size ? std::to_string(*size).c_str() : "null",
                  static_cast<unsigned long long>(ops), seconds, static_cast<unsigned long long>(cost.requests),
                  static_cast<unsigned long long>(cost.notify_out), static_cast<unsigned long long>(cost.notify_in),
                  static_cast<unsigned long long>(cost.grant_maps),
                  static_cast<unsigned long long>(cost.grant_unmaps),
                  static_cast<unsigned long long>(cost.bytes_copied));
    return buf;
}

std::vector<Sample> run_all(const std::shared_ptr<vgpu::Device>& dev, const Options& o) {
    Env e(dev);
    std::vector<Sample> out;
    if (wanted(o, "launch")) launch_latency(e, o, out);
    if (wanted(o, "submit")) submissions(e, o, out);
    if (wanted(o, "h2d")) bandwidth(e, o, true, out);
    if (wanted(o, "d2h")) bandwidth(e, o, false, out);
    if (wanted(o, "bind")) bind(e, o, out);
    if (wanted(o, "madd")) madd(e, o, out);
    if (wanted(o, "matmul")) matmul(e, o, out);
    return out;
}

std::shared_ptr<vgpu::Device> open_mode(const std::string& mode) { return vgpu::Device::open_mode(mode); }

}  // namespace bench
