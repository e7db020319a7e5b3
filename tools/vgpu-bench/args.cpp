// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "args.hpp"

#include <sstream>

namespace bench {

namespace {

using vgpu::UsageError;

constexpr unsigned int kU32 = 0xffffffffu;
constexpr double kForever = 1e9;  // seconds: more than any run

// --mode of the subcommands that open a render node.
vgpu::Option mode_option() {
    return vgpu::text("mode", 0, "", "the render node's mode (default: the first vgpu node)",
                      {"native", "naive", "hp"});
}

// "a,b,,c" -> a, b, c.
std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    for (std::string w; std::getline(ss, w, ',');)
        if (!w.empty()) v.push_back(w);
    return v;
}

// @argv against subcommand @name's table.
vgpu::Args parse(const char* name, const std::vector<std::string>& argv) { return vgpu::parse(*command(name), argv); }

// Each: name, arguments, summary, options, how many arguments.
std::vector<vgpu::Command> make_commands() {
    using namespace vgpu;
    return {
        {"vgpu-bench interp", "[ITERATIONS]",
         "thread-instructions per second of the vgpu-sim interpreter (default 2000 iterations)", {}, 0, 1},
        {"vgpu-bench rep", "", "one repetition of every GPU workload on a render node: JSON lines",
         {mode_option(), flag("quick", 0, "smaller sizes and fewer operations"),
          text("only", 0, "W,...", "only these workloads")},
         0, 0},
        {"vgpu-bench report", "FILE...",
         "medians, min and max of FILEs' repetitions: DIR/results.json, results.md, plots",
         {text("out", 0, "DIR", "where the results go (needed)"),
          text("kernel", 0, "K", "the kernel's version, for the report (default unknown)"),
          text("engine", 0, "E", "the engine, for the report (default vgpu-sim)"),
          text("fairness", 0, "F", "the fairness scenario's log (FAIRJSON lines)")},
         0, kAnyNumber},
        {"vgpu-bench wait-key", "KEY VALUE [SECONDS]",
         "in a guest: waits until its XenStore key KEY reads VALUE (default 600 s)", {}, 2, 3},
        {"vgpu-bench spin", "", "keeps the engine busy from N contexts (fairness)",
         {mode_option(), whole("contexts", 0, "N", "contexts (default 1)", 1, 4096),
          whole("depth", 0, "D", "launches in flight per context (default 2)", 1, 4096),
          whole("iterations", 0, "I", "of the kernel's loop per thread (default 300)", 0, kU32),
          real("seconds", 0, "S", "how long (default 10)", 0, kForever)},
         0, 0},
        {"vgpu-bench hog", "", "takes device memory until the quota refuses it",
         {mode_option(), real("hold", 0, "S", "seconds to keep it (default 30)", 0, kForever)}, 0, 0},
        {"vgpu-bench fairness", "",
         "in dom0: every client's share of the engine over W windows, checked (FAIRJSON)",
         {text("name", 0, "NAME", "the scenario's name (default fairness)"),
          text("expect", 0, "", "the check (default equal)", {"equal", "weights", "cap", "stop"}),
          whole("clients", 0, "N", "equal: the clients expected (default 4)", 1, 4096),
          whole("windows", 0, "W", "1-second windows that count (default 8)", 1, 100000),
          real("warmup", 0, "S", "seconds before the first window (default 2)", 0, kForever),
          text("stop-cmd", 0, "CMD", "stop: the command that stops a client"),
          real("stop-after", 0, "S", "stop: when to run it, seconds in", 0, kForever),
          whole("stopped", 0, "DOMID", "stop: the domain it stops", 0, kU32)},
         0, 0},
        {"vgpu-bench fairness-core", "",
         "the fairness checks on vgpu-back's core built in this process over vgpu-engined's workers "
         "(no Xen: the GPU machine)",
         {flag("gpu", 0, "the cuda back end's workers on GPU 0 (default: the interpreter's)"),
          text("engined", 0, "PATH", "vgpu-engined (default: beside vgpu-bench, else PATH)"),
          whole("windows", 0, "W", "1-second windows that count, per phase (default 8)", 1, 100000),
          real("warmup", 0, "S", "seconds before the first window (default 2)", 0, kForever),
          whole("iterations", 0, "I", "of spin's kernel loop per thread (default 3000; --gpu: 300000)", 0, kU32),
          whole("depth", 0, "D", "launches in flight per context (default 4)", 1, 4096),
          whole("timeslice-ms", 0, "MS", "the core's slice (default 5, as the scenario's)", 1, 1000),
          whole("memory-mb", 0, "MB", "the engine's device memory (default 1024)", 16, 1 << 20),
          text("phases", 0, "P,...", "of equal, weights, cap, storm (default all)")},
         0, 0},
    };
}

}  // namespace

const std::vector<vgpu::Command>& commands() {
    static const std::vector<vgpu::Command> c = make_commands();
    return c;
}

const vgpu::Command* command(const std::string& name) {
    for (const auto& c : commands())
        if (c.name == "vgpu-bench " + name) return &c;
    return nullptr;
}

InterpArgs parse_interp(const std::vector<std::string>& argv) {
    const auto a = parse("interp", argv);
    InterpArgs r;
    if (!a.positional.empty() && !vgpu::read_number(a.positional[0], r.iterations))
        throw UsageError("bad ITERATIONS: " + a.positional[0] + " (expected a whole number)");
    return r;
}

RepArgs parse_rep(const std::vector<std::string>& argv) {
    const auto a = parse("rep", argv);
    return {.mode = a.text("mode"), .options = {.quick = a.flag("quick"), .only = split(a.text("only"))}};
}

ReportArgs parse_report(const std::vector<std::string>& argv) {
    const auto a = parse("report", argv);
    ReportArgs r;
    r.out = a.text("out");
    if (r.out.empty()) throw UsageError("report needs --out DIR");
    r.kernel = a.text("kernel", r.kernel);
    r.engine = a.text("engine", r.engine);
    r.fairness = a.text("fairness");
    r.files = a.positional;
    return r;
}

WaitKeyArgs parse_wait_key(const std::vector<std::string>& argv) {
    const auto a = parse("wait-key", argv);
    WaitKeyArgs r;
    r.key = a.positional[0];
    r.value = a.positional[1];
    // xs_wait() takes an int: at most a day, well inside it.
    if (a.positional.size() > 2 && (!vgpu::read_number(a.positional[2], r.seconds) || r.seconds > 86400))
        throw UsageError("bad SECONDS: " + a.positional[2] + " (expected a whole number 0..86400)");
    return r;
}

SpinArgs parse_spin(const std::vector<std::string>& argv) {
    const auto a = parse("spin", argv);
    SpinArgs r;
    r.mode = a.text("mode");
    r.options.contexts = static_cast<unsigned int>(a.whole("contexts", r.options.contexts));
    r.options.depth = static_cast<unsigned int>(a.whole("depth", r.options.depth));
    r.options.iterations = static_cast<uint32_t>(a.whole("iterations", r.options.iterations));
    r.options.seconds = a.real("seconds", r.options.seconds);
    return r;
}

HogArgs parse_hog(const std::vector<std::string>& argv) {
    const auto a = parse("hog", argv);
    return {.mode = a.text("mode"), .hold_s = a.real("hold", HogArgs().hold_s)};
}

FairnessArgs parse_fairness(const std::vector<std::string>& argv) {
    const auto a = parse("fairness", argv);
    FairnessArgs r;
    r.name = a.text("name", r.name);
    r.expect = a.text("expect", r.expect);
    r.stop_cmd = a.text("stop-cmd");
    r.clients = static_cast<unsigned int>(a.whole("clients", r.clients));
    r.windows = static_cast<unsigned int>(a.whole("windows", r.windows));
    r.stopped = static_cast<unsigned int>(a.whole("stopped", r.stopped));
    r.warmup_s = a.real("warmup", r.warmup_s);
    r.stop_after_s = a.real("stop-after", r.stop_after_s);
    if (r.stop_after_s >= 0 && r.stop_cmd.empty()) throw UsageError("--stop-after needs --stop-cmd");
    return r;
}

FairnessCoreArgs parse_fairness_core(const std::vector<std::string>& argv) {
    const auto a = parse("fairness-core", argv);
    FairnessCoreArgs r;
    r.gpu = a.flag("gpu");
    r.engined = a.text("engined");
    r.windows = static_cast<unsigned int>(a.whole("windows", r.windows));
    r.warmup_s = a.real("warmup", r.warmup_s);
    // On the GPU, 3000 iterations take less than a launch's round trip
    // through a worker: the engine would idle between them and each
    // client get what it submits, not its weight (2026-12-05, H200).
    r.iterations = static_cast<uint32_t>(a.whole("iterations", r.gpu ? kGpuSpinIterations : r.iterations));
    r.depth = static_cast<unsigned int>(a.whole("depth", r.depth));
    r.timeslice_ms = static_cast<unsigned int>(a.whole("timeslice-ms", r.timeslice_ms));
    r.memory_mb = static_cast<unsigned int>(a.whole("memory-mb", r.memory_mb));
    if (auto p = split(a.text("phases")); !p.empty()) {
        for (const auto& w : p)
            if (w != "equal" && w != "weights" && w != "cap" && w != "storm")
                throw UsageError("bad phase " + w + " (expected equal, weights, cap or storm)");
        r.phases = p;
    }
    return r;
}

}  // namespace bench
