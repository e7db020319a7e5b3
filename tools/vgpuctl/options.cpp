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
        } else if (key == "--timeout") {
            o.timeout_s = parse_uint(value(), "--timeout");
        } else if (key == "--config") {
            o.config = value();
        } else if (key == "--quota-devmem-mb" || key == "--quota-hostmem-mb" || key == "--quota-contexts" ||
                   key == "--quota-objects" || key == "--quota-grant-pages") {
            o.quotas[key.substr(2)] = std::to_string(parse_uint(value(), key.c_str()));
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("unknown option " + a);
        } else {
            o.args.push_back(a);
        }
    }
    return o;
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
