// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "options.hpp"

#include <set>
#include <sstream>
#include <utility>

namespace vgpuctl {

unsigned int parse_uint(const std::string& s, const char* what) {
    unsigned int v = 0;
    if (!vgpu::read_number(s, v)) throw UsageError(std::string("bad ") + what + ": '" + s + "'");
    return v;
}

namespace {

constexpr unsigned int kU32 = 0xffffffffu;

// The settings of the backend (XenStore keys), each written as given.
const char* const kSettings[] = {"quota-devmem-mb", "quota-hostmem-mb", "quota-contexts", "quota-objects",
                                 "quota-grant-pages", "quota-jobs", "weight", "cap"};

const vgpu::Command& command() {
    using namespace vgpu;
    static const Command c{
        "vgpuctl", "", "",
        {
            text("mode", 0, "", "attach: the guest's mode (default hp)", {"naive", "hp"}),
            whole("devid", 0, "N", "the guest's vgpu device number (default 0)", 0, kU32),
            whole("engine", 0, "N", "attach: the engine to place it on; set: dom0's share of engine N", 0, 15),
            text("policy", 0, "", "attach: pick the engine instead of --engine", {"spread", "pack"}),
            whole("weight", 0, "1..1000", "its share of the engine against the others'", 1, 1000),
            whole("cap", 0, "PERCENT", "the most of the engine it may take, 0: no cap", 0, 100),
            whole("quota-devmem-mb", 0, "N", "device memory, MiB", 0, kU32),
            whole("quota-hostmem-mb", 0, "N", "host memory pinned for it, MiB", 0, kU32),
            whole("quota-contexts", 0, "N", "GPU contexts", 0, kU32),
            whole("quota-objects", 0, "N", "memory objects", 0, kU32),
            whole("quota-grant-pages", 0, "N", "pages granted to dom0 at once", 0, kU32),
            whole("quota-jobs", 0, "N", "jobs in flight", 0, kU32),
            whole("timeout", 0, "SECONDS",
                  "detach: how long to wait for the frontend (default 10); precopy: for each round (default 600)",
                  0, kU32),
            whole("rounds", 0, "N", "precopy: passes at most, while each leaves less to copy (default 3)", 1, 100),
            flag("drop", 0, "precopy: drop the guest's copies instead (no save followed)"),
            text("config", 0, "FILE", "watch: the configuration (default /etc/gpuvm/vgpu.conf)"),
            flag("json", 0, "stats, top: JSON for scripts"),
            flag("batch", 'b', "top: lines, no screen control"),
            real("interval", 'd', "SECONDS", "top: seconds between samples, 0.1..3600 (default 1)", 0.1, 3600),
            whole("iterations", 'n', "N", "top: samples to print; 0 (default): until stopped", 0, kU32),
        },
        0, kAnyNumber};
    return c;
}

}  // namespace

Options parse_args(const std::vector<std::string>& argv) {
    const auto a = vgpu::parse(command(), argv);
    Options o;
    o.mode = a.text("mode", o.mode);
    o.devid = static_cast<unsigned int>(a.whole("devid", o.devid));
    if (a.has("engine")) o.engine = static_cast<unsigned int>(a.whole("engine", 0));
    o.policy = a.text("policy");
    if (a.has("timeout")) o.timeout_s = static_cast<unsigned int>(a.whole("timeout", 0));
    o.rounds = static_cast<unsigned int>(a.whole("rounds", o.rounds));
    o.drop = a.flag("drop");
    o.config = a.text("config", o.config);
    for (const char* k : kSettings)
        if (a.has(k)) o.settings[k] = std::to_string(a.whole(k, 0));
    o.json = a.flag("json");
    o.batch = a.flag("batch");
    o.interval_s = a.real("interval", o.interval_s);
    o.iterations = static_cast<unsigned int>(a.whole("iterations", o.iterations));
    o.args = a.positional;
    if (o.engine && !o.policy.empty()) throw UsageError("--engine and --policy exclude each other");
    return o;
}

std::string options_help() { return vgpu::options_help(command().options); }

std::string sysfs_attr_of(const std::string& key) {
    if (key == "weight" || key == "cap") return "sched/" + key;
    if (key.rfind("quota-", 0) != 0) throw UsageError("no sysfs attribute for " + key);
    std::string a = "quota/" + key.substr(6);
    for (auto& ch : a)
        if (ch == '-') ch = '_';
    return a;
}

std::vector<ConfigEntry> parse_config(std::istream& in, const std::string& name) {
    std::vector<ConfigEntry> out;
    std::set<std::pair<std::string, unsigned int>> seen;
    std::string line;
    for (unsigned int n = 1; std::getline(in, line); n++) {
        line = line.substr(0, line.find('#'));
        std::istringstream words(line);
        std::vector<std::string> argv;
        for (std::string w; words >> w;) argv.push_back(w);
        if (argv.empty()) continue;
        try {
            if (argv[0][0] == '-') throw UsageError("a line starts with a domain name");
            ConfigEntry e{argv[0], parse_args({argv.begin() + 1, argv.end()})};
            if (!e.options.args.empty()) throw UsageError("unexpected '" + e.options.args[0] + "'");
            if (!seen.emplace(e.domain, e.options.devid).second)
                throw UsageError("domain " + e.domain + " has vgpu " + std::to_string(e.options.devid) +
                                 " twice");
            out.push_back(std::move(e));
        } catch (const UsageError& err) {
            throw UsageError(name + ":" + std::to_string(n) + ": " + err.what());
        }
    }
    return out;
}

}  // namespace vgpuctl
