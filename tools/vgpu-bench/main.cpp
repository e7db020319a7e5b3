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
//   vgpu-bench fairness-core [--gpu] [--windows W] ...
//                       the same checks on the core built in this process
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
#include "args.hpp"
#include "clients.hpp"
#include "engined_args.hpp"
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

int interp(const bench::InterpArgs& a) {
    double alu = measure("alu-int", bench::kAluKernel, a.iterations);
    measure("alu-f32", bench::kFloatKernel, a.iterations / 2);
    std::printf("interp_rate_mips %.1f\n", alu / 1e6);
    return alu > 0 ? 0 : 1;
}

int rep(const bench::RepArgs& a) {
    auto dev = bench::open_mode(a.mode);
    for (const auto& s : bench::run_all(dev, a.options)) std::printf("%s\n", s.json().c_str());
    return 0;
}

int report(const bench::ReportArgs& a) {
    const std::string &out = a.out, &kernel = a.kernel, &engine = a.engine, &fair_file = a.fairness;
    std::stringstream all;
    for (const auto& name : a.files) {
        std::ifstream f(name);
        if (!f) throw std::runtime_error("cannot read " + name);
        all << f.rdbuf() << "\n";
    }
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

int spin(const bench::SpinArgs& a) {
    auto r = bench::spin(bench::open_mode(a.mode), a.options);
    std::printf("%s\n", r.json().c_str());
    return 0;
}

int hog(const bench::HogArgs& a) {
    bench::hog(bench::open_mode(a.mode), a.hold_s);
    return 0;
}

// One sample of every client's engine time, keyed by domain id.
std::map<unsigned int, vgpuctl::ClientStats> sample_clients() {
    std::map<unsigned int, vgpuctl::ClientStats> m;
    for (auto& c : vgpuctl::read_clients("/sys")) m[c.domid] = c;
    return m;
}

int fairness(const bench::FairnessArgs& a) {
    using Clock = std::chrono::steady_clock;
    bench::FairRun run;
    run.name = a.name;
    const int windows = static_cast<int>(a.windows);
    const double stop_after = a.stop_after_s;
    std::this_thread::sleep_for(std::chrono::duration<double>(a.warmup_s));

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
            if (std::system(a.stop_cmd.c_str()) != 0) throw std::runtime_error("failed: " + a.stop_cmd);
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
    if (a.expect == "equal") v = bench::check_equal(run, a.clients);
    else if (a.expect == "weights") v = bench::check_weights(run);
    else if (a.expect == "cap") v = bench::check_cap(run);
    else v = bench::check_stop(run, a.stopped);  // the table allows no other
    std::printf("FAIRJSON %s\n%s", bench::fair_json(run, v).c_str(), bench::fair_dat(run).c_str());
    std::printf("fairness %s: %s %s\n", run.name.c_str(), v.pass ? "PASS" : "FAIL", v.why.c_str());
    return v.pass ? 0 : 1;
}

// Every subcommand's synopsis, or with @full its options too.
std::string usage(bool full) {
    std::string out = "usage:\n";
    for (const auto& c : bench::commands()) out += "  " + (full ? vgpu::usage(c) + "\n" : vgpu::synopsis(c) + "\n");
    const auto& engine = vgpu::engine::bench_command();
    out += "  " + (full ? vgpu::usage(engine) : vgpu::synopsis(engine) + "\n");
    return out + (full ? "" : "vgpu-bench help: their options\n");
}

// Subcommand @cmd with the words after it; throws what it throws.
int run(const std::string& cmd, const std::vector<std::string>& w) {
    if (cmd == "interp") return interp(bench::parse_interp(w));
    if (cmd == "rep") return rep(bench::parse_rep(w));
    if (cmd == "report") return report(bench::parse_report(w));
    if (cmd == "spin") return spin(bench::parse_spin(w));
    if (cmd == "hog") return hog(bench::parse_hog(w));
    if (cmd == "fairness") return fairness(bench::parse_fairness(w));
    if (cmd == "fairness-core") return bench::fairness_core(bench::parse_fairness_core(w));
    const auto a = bench::parse_wait_key(w);
    return bench::xs_wait(a.key, a.value, static_cast<int>(a.seconds)) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "engine") return vgpu::engine::bench_main(argc - 1, argv + 1);
    if (cmd == "help" || cmd == "--help" || cmd == "-h") {
        std::cout << usage(true);
        return 0;
    }
    const vgpu::Command* c = bench::command(cmd);
    if (!c) {
        std::cerr << (cmd.empty() ? "" : "vgpu-bench: unknown subcommand " + cmd + "\n\n") << usage(false);
        return 2;
    }
    try {
        return run(cmd, vgpu::words(argc, argv, 2));
    } catch (const vgpu::UsageError& e) {
        return vgpu::usage_error(*c, e);
    } catch (const std::invalid_argument& e) {
        std::cerr << c->name << ": " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << c->name << ": " << e.what() << "\n";
        return 1;
    }
}
