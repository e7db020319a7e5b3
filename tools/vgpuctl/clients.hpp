// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-back's clients as the scheduler sees them (dom0's render-node
// clients together, and each guest domain), read from sysfs
// (Documentation/admin-guide.rst), and what `vgpuctl top` and `vgpuctl
// stats --json` make of them.  No XenStore here: tested on a fake tree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vgpuctl {

struct ClientStats {
    std::string name;  // "dom0", or the domain's name (filled in by the caller)
    unsigned int domid = 0;
    unsigned int engine = 0;           // the device (engine index) it shares
    std::vector<unsigned int> devids;  // a guest's vGPUs on that engine
    std::string mode;                  // "native", or the first vGPU's mode
    unsigned int weight = 0, cap = 0;
    uint64_t busy_ns = 0, device_bytes = 0, host_bytes = 0, jobs = 0, faults = 0, hangs = 0;
};

// Every client of vgpu-back under @sys (normally "/sys"), per engine: dom0
// of each engine first (devices/platform/vgpu.N/native), then one per
// guest domain and engine with a vGPU bound to vgpu-back (its first
// device's sched/ there), by engine and domain id.  Throws
// std::runtime_error when vgpu-back has no engine (or is not loaded).
std::vector<ClientStats> read_clients(const std::filesystem::path& sys);

// One client's share of the engine between two samples @seconds apart:
// its engine time over wall time, 0..1.  Clients are matched by domain
// id and engine; one absent from @before (new) counts from zero.
struct Share {
    const ClientStats* client;
    double share;
};
std::vector<Share> shares(const std::vector<ClientStats>& before, const std::vector<ClientStats>& after,
                          double seconds);

// Jain's fairness index of @x: (sum x)^2 / (n * sum x^2), 1 when all are
// equal, 1/n when one has everything.  Empty or all zero: 1.
double jain(const std::vector<double>& x);

// JSON: the clients (stats --json), and one sample of top.
std::string to_json(const std::vector<ClientStats>& clients);
std::string top_json(double t, double seconds, const std::vector<Share>& s);

}  // namespace vgpuctl
