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
//   vgpu-bench report --out DIR [--kernel K] [--engine E] [--fairness F] FILE...
//                       medians, min and max of the repetitions in FILEs:
//                       DIR/results.json, DIR/results.md, plot data and a
//                       gnuplot script
//   vgpu-bench wait-key KEY VALUE [SECONDS]
//                       in a guest: waits until the XenStore key KEY (of
//                       the guest's own tree) reads VALUE
//   vgpu-bench spin [--mode M] [--contexts N] [--depth D] [--iterations I]
//                   [--seconds S]
//                       keeps the engine busy from N contexts (fairness)
//   vgpu-bench hog [--mode M] [--hold S]
//                       takes device memory until the quota refuses it
//   vgpu-bench fairness --name NAME --expect equal|weights|cap|stop
//                   [--clients N] [--windows W] [--warmup S]
//                   [--stop-cmd CMD --stop-after S --stopped DOMID]
//                       in dom0: every client's share of the engine over
//                       W 1-second windows that count (bench::
//                       counted_windows; at most 2W taken), checked;
//                       prints FAIRJSON
#include <algorithm>
#include <chrono>
#include <map>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include <cstdlib>
#include <thread>

#include "../hostgpu/host_gpu.hpp"
#include "clients.hpp"
#include "fairness.hpp"
#include "load.hpp"
#include "kernels.hpp"
#include "report.hpp"
#include "bench.hpp"
#include "workloads.hpp"
#include "xenstore.hpp"

namespace {

double measure(const char* name, const char* src, uint64_t iters) {
    vgpu::hostgpu::Gpu g;
    constexpr uint64_t kOut = 0x400000;
    g.map(kOut, 256 * 1024, VGPU_PTE_R | VGPU_PTE_W);
    auto code = g.load(src);
    auto d = vgpu::hostgpu::Gpu::desc(code, 64, 256, {iters, kOut});
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
    std::string out, kernel = "unknown", engine = "vgpu-sim", fair_file;
    std::stringstream all;
    for (int i = 2; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--out" && i + 1 < argc) out = argv[++i];
        else if (a == "--kernel" && i + 1 < argc) kernel = argv[++i];
        else if (a == "--engine" && i + 1 < argc) engine = argv[++i];
        else if (a == "--fairness" && i + 1 < argc) fair_file = argv[++i];
        else {
            std::ifstream f(a);
            if (!f) throw std::runtime_error("cannot read " + a);
            all << f.rdbuf() << "\n";
        }
    }
    if (out.empty()) throw std::invalid_argument("report needs --out DIR");
    bench::Report r(all);
    if (r.rows.empty()) throw std::runtime_error("no samples");
    if (!fair_file.empty()) {
        std::ifstream f(fair_file);
        if (!f) throw std::runtime_error("cannot read " + fair_file);
        r.fairness = bench::write_fairness(f, out);
    }
    std::ofstream j(out + "/results.json"), m(out + "/results.md");
    r.write_json(j, kernel, engine);
    r.write_markdown(m, kernel, engine);
    r.write_plots(out);
    r.write_markdown(std::cout, kernel, engine);
    return 0;
}

// "--key value" options of a subcommand, from argv[2].
std::map<std::string, std::string> flags(int argc, char** argv, std::initializer_list<const char*> known) {
    std::map<std::string, std::string> m;
    for (int i = 2; i < argc; i++) {
        std::string a = argv[i];
        if (std::find(known.begin(), known.end(), a) == known.end() || i + 1 >= argc)
            throw std::invalid_argument("unknown option or missing value: " + a);
        m[a.substr(2)] = argv[++i];
    }
    return m;
}

double num(const std::map<std::string, std::string>& m, const char* k, double dflt) {
    auto it = m.find(k);
    return it == m.end() ? dflt : std::stod(it->second);
}

int spin(int argc, char** argv) {
    auto f = flags(argc, argv, {"--mode", "--contexts", "--depth", "--iterations", "--seconds"});
    bench::SpinOptions o;
    o.contexts = static_cast<unsigned int>(num(f, "contexts", 1));
    o.depth = static_cast<unsigned int>(num(f, "depth", 2));
    o.iterations = static_cast<uint32_t>(num(f, "iterations", 300));
    o.seconds = num(f, "seconds", 10);
    if (!o.contexts || !o.depth) throw std::invalid_argument("--contexts and --depth are at least 1");
    auto r = bench::spin(bench::open_mode(f.count("mode") ? f["mode"] : ""), o);
    std::printf("%s\n", r.json().c_str());
    return 0;
}

int hog(int argc, char** argv) {
    auto f = flags(argc, argv, {"--mode", "--hold"});
    bench::hog(bench::open_mode(f.count("mode") ? f["mode"] : ""), num(f, "hold", 30));
    return 0;
}

// One sample of every client's engine time, keyed by domain id.
std::map<unsigned int, vgpuctl::ClientStats> sample_clients() {
    std::map<unsigned int, vgpuctl::ClientStats> m;
    for (auto& c : vgpuctl::read_clients("/sys")) m[c.domid] = c;
    return m;
}

int fairness(int argc, char** argv) {
    auto f = flags(argc, argv, {"--name", "--expect", "--clients", "--windows", "--warmup", "--stop-cmd",
                                "--stop-after", "--stopped"});
    using Clock = std::chrono::steady_clock;
    bench::FairRun run;
    run.name = f.count("name") ? f["name"] : "fairness";
    std::string expect = f.count("expect") ? f["expect"] : "equal";
    const int windows = static_cast<int>(num(f, "windows", 8));
    double stop_after = num(f, "stop-after", -1);
    std::this_thread::sleep_for(std::chrono::duration<double>(num(f, "warmup", 2)));

    auto t0 = Clock::now(), tb = t0;
    auto before = sample_clients();
    for (const auto& [id, c] : before) {
        run.clients.push_back(c.name);
        run.domids.push_back(id);
    }
    // Windows the check leaves out (each client's first, start-up windows
    // before the engine is busy, or while the machine stalled) are made up
    // for, up to twice as many in all.
    for (int w = 0; w < 2 * windows; w++) {
        if (bench::counted_windows(run, bench::active_clients(run)).size() >= static_cast<size_t>(windows)) break;
        auto next = tb + std::chrono::seconds(1);
        if (stop_after >= 0 && run.stop_at < 0 &&
            std::chrono::duration<double>(next - t0).count() > stop_after) {
            std::this_thread::sleep_until(
                t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(stop_after)));
            if (std::system(f["stop-cmd"].c_str()) != 0) throw std::runtime_error("failed: " + f["stop-cmd"]);
            run.stop_at = std::chrono::duration<double>(Clock::now() - t0).count();
        }
        std::this_thread::sleep_until(next);
        auto after = sample_clients();
        auto ta = Clock::now();
        bench::FairWindow win;
        win.start = std::chrono::duration<double>(tb - t0).count();
        win.end = std::chrono::duration<double>(ta - t0).count();
        for (unsigned int id : run.domids) {
            uint64_t b = before.count(id) ? before[id].busy_ns : 0, a = after.count(id) ? after[id].busy_ns : b;
            win.shares.push_back(static_cast<double>(a - b) / ((win.end - win.start) * 1e9));
        }
        run.windows.push_back(std::move(win));
        before = std::move(after);
        tb = ta;
    }
    for (unsigned int id : run.domids) {
        run.weights.push_back(before.count(id) ? before[id].weight : 0);
        run.caps.push_back(before.count(id) ? before[id].cap : 0);
    }
    bench::FairVerdict v;
    if (expect == "equal") v = bench::check_equal(run, static_cast<size_t>(num(f, "clients", 4)));
    else if (expect == "weights") v = bench::check_weights(run);
    else if (expect == "cap") v = bench::check_cap(run);
    else if (expect == "stop") v = bench::check_stop(run, static_cast<unsigned int>(num(f, "stopped", 0)));
    else throw std::invalid_argument("--expect is equal, weights, cap or stop");
    std::printf("FAIRJSON %s\n%s", bench::fair_json(run, v).c_str(), bench::fair_dat(run).c_str());
    std::printf("fairness %s: %s %s\n", run.name.c_str(), v.pass ? "PASS" : "FAIL", v.why.c_str());
    return v.pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const char* cmd = argc > 1 ? argv[1] : "";
    try {
        if (!std::strcmp(cmd, "interp")) return interp(argc, argv);
        if (!std::strcmp(cmd, "rep")) return rep(argc, argv);
        if (!std::strcmp(cmd, "report")) return report(argc, argv);
        if (!std::strcmp(cmd, "spin")) return spin(argc, argv);
        if (!std::strcmp(cmd, "engine")) return vgpu::engine::bench_main(argc - 1, argv + 1);
        if (!std::strcmp(cmd, "hog")) return hog(argc, argv);
        if (!std::strcmp(cmd, "fairness")) return fairness(argc, argv);
        if (!std::strcmp(cmd, "wait-key") && argc >= 4)
            return bench::xs_wait(argv[2], argv[3], argc > 4 ? std::atoi(argv[4]) : 600) ? 0 : 1;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "vgpu-bench %s: %s\n", cmd, e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vgpu-bench %s: %s\n", cmd, e.what());
        return 1;
    }
    std::cerr << "usage: vgpu-bench interp [ITERATIONS] | rep [--mode M] [--quick] [--only W,...] |\n"
                 "                  report --out DIR [--kernel K] [--engine E] [--fairness F] FILE... |\n"
                 "                  wait-key KEY VALUE [S] |\n"
                 "                  spin [--mode M] [--contexts N] [--depth D] [--iterations I] [--seconds S] |\n"
                 "                  hog [--mode M] [--hold S] |\n"
                 "                  fairness --name N --expect equal|weights|cap|stop [--clients N] [--windows W]\n"
                 "                           [--warmup S] [--stop-cmd CMD --stop-after S --stopped DOMID]\n";
    return 2;
}
