// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "options.hpp"

#include <cerrno>
#include <cstdlib>
#include <set>
#include <sstream>
#include <utility>

namespace vgpuctl {

unsigned int parse_uint(const std::string& s, const char* what) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || *end || errno || v > 0xffffffffUL)
        throw UsageError(std::string("bad ") + what + ": '" + s + "'");
    return static_cast<unsigned int>(v);
}

Options parse_args(const std::vector<std::string>& argv) {
    Options o;
    for (size_t i = 0; i < argv.size(); i++) {
        const std::string& a = argv[i];
        auto value = [&]() -> std::string {
            if (auto eq = a.find('='); eq != std::string::npos) return a.substr(eq + 1);
            if (i + 1 >= argv.size()) throw UsageError(a + " needs a value");
            return argv[++i];
        };
        auto key = a.substr(0, a.find('='));
        if (key == "--mode") {
            o.mode = value();
            if (o.mode != "naive" && o.mode != "hp") throw UsageError("--mode is naive or hp");
        } else if (key == "--devid") {
            o.devid = parse_uint(value(), "--devid");
        } else if (key == "--engine") {
            o.engine = parse_uint(value(), "--engine");
            if (*o.engine >= 16) throw UsageError("--engine is a device index, 0..15");
        } else if (key == "--policy") {
            o.policy = value();
            if (o.policy != "spread" && o.policy != "pack") throw UsageError("--policy is spread or pack");
        } else if (key == "--timeout") {
            o.timeout_s = parse_uint(value(), "--timeout");
        } else if (key == "--config") {
            o.config = value();
        } else if (key == "--quota-devmem-mb" || key == "--quota-hostmem-mb" || key == "--quota-contexts" ||
                   key == "--quota-objects" || key == "--quota-grant-pages" || key == "--quota-jobs") {
            o.settings[key.substr(2)] = std::to_string(parse_uint(value(), key.c_str()));
        } else if (key == "--weight") {
            unsigned int w = parse_uint(value(), "--weight");
            if (w < 1 || w > 1000) throw UsageError("--weight is 1..1000");
            o.settings["weight"] = std::to_string(w);
        } else if (key == "--cap") {
            unsigned int c = parse_uint(value(), "--cap");
            if (c > 100) throw UsageError("--cap is a percentage, 0 (none) to 100");
            o.settings["cap"] = std::to_string(c);
        } else if (key == "--json") {
            o.json = true;
        } else if (key == "--batch" || key == "-b") {
            o.batch = true;
        } else if (key == "--interval" || key == "-d") {
            std::string v = value();
            char* end = nullptr;
            o.interval_s = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || !(o.interval_s >= 0.1 && o.interval_s <= 3600))
                throw UsageError("--interval is 0.1 to 3600 seconds");
        } else if (key == "--iterations" || key == "-n") {
            o.iterations = parse_uint(value(), "--iterations");
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("unknown option " + a);
        } else {
            o.args.push_back(a);
        }
    }
    if (o.engine && !o.policy.empty()) throw UsageError("--engine and --policy exclude each other");
    return o;
}

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
