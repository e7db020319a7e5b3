// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl watch: vGPUs that persist across guest boots.  The
// configuration names domains and how to attach them.  Whenever a domain
// appears (XenStore's @introduceDomain: `xl create`, a guest's reboot)
// and once a second (a new domain's name may come after its
// introduction), a pass attaches the configured vGPUs that are missing;
// when a domain goes (@releaseDomain) the pass removes the backend nodes
// it left (vgpu-back freed everything of the guest when it died).  A
// pass costs a listing of /local/domain and one read per domain.
#include "watch.hpp"

#include <poll.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "nodes.hpp"
#include "xenstore.hpp"

namespace vgpuctl {
namespace {

constexpr const char* kBackendRoot = "/local/domain/0/backend/vgpu";

struct Config {
    std::string path;
    std::vector<ConfigEntry> entries;
    struct timespec mtime {};
};

struct timespec mtime_of(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st)) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    return st.st_mtim;
}

// Reads the configuration again when the file changed.  Throws on the
// first read; later, a bad or missing file keeps the last good one.
void reload(Config& c, bool first) {
    try {
        auto m = mtime_of(c.path);
        if (!first && m.tv_sec == c.mtime.tv_sec && m.tv_nsec == c.mtime.tv_nsec) return;
        std::ifstream f(c.path);
        if (!f) throw std::runtime_error("cannot read " + c.path);
        try {
            c.entries = parse_config(f, c.path);
        } catch (const UsageError& e) {
            throw std::runtime_error(e.what());  // the file's fault, not the command line's
        }
        c.mtime = m;
        std::printf("vgpuctl watch: %zu vGPU(s) configured in %s\n", c.entries.size(), c.path.c_str());
    } catch (const std::exception& e) {
        if (first) throw;
        c.mtime = {};
        std::fprintf(stderr, "vgpuctl watch: %s; keeping the configuration read before\n", e.what());
    }
    std::fflush(stdout);
}

// Running domains by name (dom0 left out).
std::map<std::string, unsigned int> domains(const XenStore& xs) {
    std::map<std::string, unsigned int> out;
    for (const auto& id : xs.list("/local/domain")) {
        if (id == "0") continue;
        if (auto name = xs.read("/local/domain/" + id + "/name"))
            out[*name] = parse_uint(id, "domain id");
    }
    return out;
}

// One pass.  @failing holds the vGPUs whose attach failed, so that each
// failure is logged once, not every second.
void reconcile(XenStore& xs, const Config& c, std::set<std::string>& failing) {
    auto running = domains(xs);
    for (const auto& e : c.entries) {
        auto it = running.find(e.domain);
        if (it == running.end()) continue;
        const std::string key = e.domain + "/" + std::to_string(e.options.devid);
        if (xs.read(backend_path(it->second, e.options.devid) + "/state")) {
            failing.erase(key);
            continue;
        }
        try {
            attach_nodes(xs, it->second, vgpuctl::place(xs, e.options));
            failing.erase(key);
            std::printf("vgpuctl watch: vgpu %u attached to domain %s (%u), %s mode\n", e.options.devid,
                        e.domain.c_str(), it->second, e.options.mode.c_str());
        } catch (const std::exception& err) {
            if (failing.insert(key).second)
                std::fprintf(stderr, "vgpuctl watch: attaching vgpu %u to %s: %s\n", e.options.devid,
                             e.domain.c_str(), err.what());
        }
    }
    for (const auto& id : xs.list(kBackendRoot)) {
        if (xs.read("/local/domain/" + id)) continue;
        xs.transaction([&](xs_transaction_t t) { xs.remove(t, std::string(kBackendRoot) + "/" + id); });
        std::printf("vgpuctl watch: removed the vGPU nodes of domain %s, which is gone\n", id.c_str());
    }
    std::fflush(stdout);
}

}  // namespace

int watch(const Options& o) {
    if (!o.args.empty()) throw UsageError("watch takes no argument");
    Config c{o.config, {}, {}};
    reload(c, true);
    XenStore xs;
    xs.watch("@introduceDomain", "introduce");
    xs.watch("@releaseDomain", "release");
    std::set<std::string> failing;
    for (;;) {
        reload(c, false);
        reconcile(xs, c, failing);
        struct pollfd p = {xs.fd(), POLLIN, 0};
        if (poll(&p, 1, 1000) < 0 && errno != EINTR)
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        xs.drain_watches();
    }
}

}  // namespace vgpuctl
