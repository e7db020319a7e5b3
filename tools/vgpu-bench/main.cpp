// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench: measurements of GPUvm.
//   vgpu-bench interp [ITERATIONS]
//                       thread-instructions per second of the vgpu-sim
//                       interpreter (the kernel's code, built for userspace)
//   vgpu-bench rep [--mode native|naive|hp] [--quick] [--only W,...]
//                       one repetition of every GPU workload on a render
//                       node (launch, submit_d1, submit_d32, h2d, d2h,
//                       bind_64m, madd, matmul), each after a warm-up: one
//                       JSON line per measurement, with the ring counters
//   vgpu-bench report --out DIR [--kernel K] [--engine E] FILE...
//                       medians, min and max of the repetitions in FILEs:
//                       DIR/results.json, DIR/results.md, plot data and a
//                       gnuplot script
//   vgpu-bench wait-key KEY VALUE [SECONDS]
//                       in a guest: waits until the XenStore key KEY (of
//                       the guest's own tree) reads VALUE
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "../tests/gpu_harness.hpp"
#include "kernels.hpp"
#include "report.hpp"
#include "workloads.hpp"
#include "xenstore.hpp"

namespace {

double measure(const char* name, const char* src, uint64_t iters) {
    vgpu::test::Gpu g;
    constexpr uint64_t kOut = 0x400000;
    g.map(kOut, 256 * 1024, VGPU_PTE_R | VGPU_PTE_W);
    auto code = g.load(src);
    auto d = vgpu::test::Gpu::desc(code, 64, 256, {iters, kOut});
    auto t0 = std::chrono::steady_clock::now();
    auto r = g.run(d, 1 << 20);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.status != VGPU_RUN_DONE) {
        std::cerr << name << ": kernel did not complete\n";
        return 0;
    }
    double rate = static_cast<double>(r.executed) / s;
    std::printf("%-10s %12llu thread-insns in %.3f s: %.1f M thread-insns/s\n", name,
                static_cast<unsigned long long>(r.executed), s, rate / 1e6);
    return rate;
}

int interp(int argc, char** argv) {
    uint64_t iters = argc > 2 ? std::strtoull(argv[2], nullptr, 0) : 2000;
    double alu = measure("alu-int", bench::kAluKernel, iters);
    measure("alu-f32", bench::kFloatKernel, iters / 2);
    std::printf("interp_rate_mips %.1f\n", alu / 1e6);
    return alu > 0 ? 0 : 1;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    for (std::string w; std::getline(ss, w, ',');)
        if (!w.empty()) v.push_back(w);
    return v;
}

int rep(int argc, char** argv) {
    std::string mode;
    bench::Options o;
    for (int i = 2; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--mode" && i + 1 < argc) mode = argv[++i];
        else if (a == "--quick") o.quick = true;
        else if (a == "--only" && i + 1 < argc) o.only = split(argv[++i]);
        else throw std::invalid_argument("unknown option " + a);
    }
    auto dev = bench::open_mode(mode);
    for (const auto& s : bench::run_all(dev, o)) std::printf("%s\n", s.json().c_str());
    return 0;
}

int report(int argc, char** argv) {
    std::string out, kernel = "unknown", engine = "vgpu-sim";
    std::stringstream all;
    for (int i = 2; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--out" && i + 1 < argc) out = argv[++i];
        else if (a == "--kernel" && i + 1 < argc) kernel = argv[++i];
        else if (a == "--engine" && i + 1 < argc) engine = argv[++i];
        else {
            std::ifstream f(a);
            if (!f) throw std::runtime_error("cannot read " + a);
            all << f.rdbuf() << "\n";
        }
    }
    if (out.empty()) throw std::invalid_argument("report needs --out DIR");
    bench::Report r(all);
    if (r.rows.empty()) throw std::runtime_error("no samples");
    std::ofstream j(out + "/results.json"), m(out + "/results.md");
    r.write_json(j, kernel, engine);
    r.write_markdown(m, kernel, engine);
    r.write_plots(out);
    r.write_markdown(std::cout, kernel, engine);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* cmd = argc > 1 ? argv[1] : "";
    try {
        if (!std::strcmp(cmd, "interp")) return interp(argc, argv);
        if (!std::strcmp(cmd, "rep")) return rep(argc, argv);
        if (!std::strcmp(cmd, "report")) return report(argc, argv);
        if (!std::strcmp(cmd, "wait-key") && argc >= 4)
            return bench::xs_wait(argv[2], argv[3], argc > 4 ? std::atoi(argv[4]) : 600) ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vgpu-bench %s: %s\n", cmd, e.what());
        return 1;
    }
    std::cerr << "usage: vgpu-bench interp [ITERATIONS] | rep [--mode M] [--quick] [--only W,...] |\n"
                 "                  report --out DIR [--kernel K] [--engine E] FILE... | wait-key KEY VALUE [S]\n";
    return 2;
}
