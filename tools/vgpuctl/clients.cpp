// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "clients.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace vgpuctl {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_line(const fs::path& p) {
    std::ifstream f(p);
    std::string v;
    if (!f || !std::getline(f, v)) return std::nullopt;
    return v;
}

uint64_t read_u64(const fs::path& p) {
    auto v = read_line(p);
    if (!v) throw std::runtime_error("cannot read " + p.string());
    return std::stoull(*v);
}

// The scheduling group's attributes in @dir (sched/ or native/).
void read_group(ClientStats& c, const fs::path& dir) {
    c.weight = static_cast<unsigned int>(read_u64(dir / "weight"));
    c.cap = static_cast<unsigned int>(read_u64(dir / "cap"));
    c.busy_ns = read_u64(dir / "busy_ns");
    c.device_bytes = read_u64(dir / "device_bytes");
    c.host_bytes = read_u64(dir / "host_bytes");
    c.jobs = read_u64(dir / "jobs");
    c.faults = read_u64(dir / "faults");
    c.hangs = read_u64(dir / "hangs");
}

std::string quoted(const std::string& s) {
    std::string o = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof(b), "\\u%04x", ch);
            o += b;
        } else {
            o += ch;
        }
    }
    return o + "\"";
}

std::string client_fields(const ClientStats& c) {
    std::ostringstream o;
    o << "\"name\":" << quoted(c.name) << ",\"domid\":" << c.domid << ",\"engine\":" << c.engine
      << ",\"mode\":" << quoted(c.mode)
      << ",\"devids\":[";
    for (size_t i = 0; i < c.devids.size(); i++) o << (i ? "," : "") << c.devids[i];
    o << "],\"weight\":" << c.weight << ",\"cap\":" << c.cap << ",\"busy_ns\":" << c.busy_ns
      << ",\"device_bytes\":" << c.device_bytes << ",\"host_bytes\":" << c.host_bytes << ",\"jobs\":" << c.jobs
      << ",\"faults\":" << c.faults << ",\"hangs\":" << c.hangs;
    return o.str();
}

}  // namespace

std::vector<ClientStats> read_clients(const fs::path& sys) {
    std::vector<ClientStats> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sys / "devices/platform", ec)) {
        unsigned int engine = 0;
        char tail = 0;
        if (std::sscanf(e.path().filename().c_str(), "vgpu.%u%c", &engine, &tail) != 1) continue;
        ClientStats dom0;
        dom0.name = "dom0";
        dom0.mode = "native";
        dom0.engine = engine;
        try {
            read_group(dom0, e.path() / "native");
        } catch (const std::exception&) {
            continue;  // went away while read
        }
        out.push_back(dom0);
    }
    if (out.empty())
        throw std::runtime_error("vgpu-back has no engine, or is not loaded (no " +
                                 (sys / "devices/platform/vgpu.N").string() + ")");

    std::map<std::pair<unsigned int, unsigned int>, ClientStats> guests;  // (engine, domid)
    for (const auto& e : fs::directory_iterator(sys / "bus/xen-backend/devices", ec)) {
        unsigned int domid = 0, devid = 0;
        char tail = 0;
        if (std::sscanf(e.path().filename().c_str(), "vgpu-%u-%u%c", &domid, &devid, &tail) != 2) continue;
        auto mode = read_line(e.path() / "mode");
        if (!mode) continue;  // not bound to vgpu-back (any more)
        unsigned int engine = std::strtoul(read_line(e.path() / "engine").value_or("0").c_str(), nullptr, 10);
        auto [it, fresh] = guests.try_emplace({engine, domid});
        ClientStats& g = it->second;
        g.devids.push_back(devid);
        if (!fresh) continue;
        g.domid = domid;
        g.engine = engine;
        g.name = "domain " + std::to_string(domid);
        g.mode = *mode;
        try {
            read_group(g, e.path() / "sched");
        } catch (const std::exception&) {
            guests.erase(it);  // went away while read
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.engine < b.engine; });
    for (auto& [id, g] : guests) {
        std::sort(g.devids.begin(), g.devids.end());
        out.push_back(std::move(g));
    }
    return out;
}

std::vector<Share> shares(const std::vector<ClientStats>& before, const std::vector<ClientStats>& after,
                          double seconds) {
    std::vector<Share> out;
    for (const auto& a : after) {
        uint64_t b0 = 0;
        for (const auto& b : before)
            if (b.domid == a.domid && b.engine == a.engine && b.busy_ns <= a.busy_ns) b0 = b.busy_ns;
        double s = seconds > 0 ? static_cast<double>(a.busy_ns - b0) / (seconds * 1e9) : 0;
        out.push_back({&a, std::clamp(s, 0.0, 1.0)});
    }
    return out;
}

double jain(const std::vector<double>& x) {
    double sum = 0, sq = 0;
    for (double v : x) {
        sum += v;
        sq += v * v;
    }
    if (x.empty() || sq == 0) return 1;
    return sum * sum / (static_cast<double>(x.size()) * sq);
}

std::string to_json(const std::vector<ClientStats>& clients) {
    std::string o = "[";
    for (size_t i = 0; i < clients.size(); i++) o += (i ? ",{" : "{") + client_fields(clients[i]) + "}";
    return o + "]";
}

std::string top_json(double t, double seconds, const std::vector<Share>& s) {
    std::ostringstream o;
    o.precision(6);
    o << "{\"t\":" << t << ",\"interval\":" << seconds << ",\"clients\":[";
    for (size_t i = 0; i < s.size(); i++)
        o << (i ? "," : "") << "{" << client_fields(*s[i].client) << ",\"share\":" << s[i].share << "}";
    o << "]}";
    return o.str();
}

}  // namespace vgpuctl
