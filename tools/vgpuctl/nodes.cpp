// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "nodes.hpp"

#include <fstream>

#include "placement.hpp"

extern "C" {
#include "vgpuif.h"  // the XenStore key names (VGPUIF_KEY_*)
}

#include <cctype>

namespace vgpuctl {

unsigned int domid_of(const XenStore& xs, const std::string& dom, bool gone_ok) {
    if (!dom.empty() && std::isdigit(static_cast<unsigned char>(dom[0]))) {
        unsigned int id = parse_uint(dom, "domain id");
        if (!gone_ok && !xs.read("/local/domain/" + std::to_string(id) + "/name"))
            throw std::runtime_error("domain " + dom + " does not exist");
        return id;
    }
    for (const auto& id : xs.list("/local/domain"))
        if (xs.read("/local/domain/" + id + "/name") == dom) return parse_uint(id, "domain id");
    throw std::runtime_error("no domain named '" + dom + "'");
}

std::string backend_path(unsigned int domid, unsigned int devid) {
    return "/local/domain/0/backend/vgpu/" + std::to_string(domid) + "/" + std::to_string(devid);
}

std::string frontend_path(unsigned int domid, unsigned int devid) {
    return "/local/domain/" + std::to_string(domid) + "/device/vgpu/" + std::to_string(devid);
}

void attach_nodes(XenStore& xs, unsigned int domid, const Options& o) {
    std::string be = backend_path(domid, o.devid), fe = frontend_path(domid, o.devid);
    xs.transaction([&](xs_transaction_t t) {
        xs.write(t, be, "");
        xs.permissions(t, be, 0, domid);
        xs.write(t, be + "/frontend", fe);
        xs.write(t, be + "/frontend-id", std::to_string(domid));
        xs.write(t, be + "/online", "1");
        xs.write(t, be + "/state", "1");
        xs.write(t, be + "/" VGPUIF_KEY_MODE, o.mode);
        for (const auto& [k, v] : o.settings) xs.write(t, be + "/" + k, v);
        if (o.engine) xs.write(t, be + "/" VGPUIF_KEY_ENGINE, std::to_string(*o.engine));
        xs.write(t, fe, "");
        xs.permissions(t, fe, domid, 0);
        xs.write(t, fe + "/backend", be);
        xs.write(t, fe + "/backend-id", "0");
        xs.write(t, fe + "/state", "1");
    });
}

namespace {

// A vGPU's device-memory quota, MiB: its own, else vgpu-back's default.
unsigned long long devmem_mb_of(const std::optional<std::string>& own) {
    if (own) return parse_uint(*own, "quota-devmem-mb");
    std::ifstream f("/sys/module/vgpu_back/parameters/quota_devmem_mb");
    unsigned long long v = 16;
    f >> v;
    return v;
}

}  // namespace

Options place(const XenStore& xs, const Options& o) {
    if (o.policy.empty()) return o;
    auto engines = read_engines("/sys");
    const std::string root = "/local/domain/0/backend/vgpu";
    for (const auto& dom : xs.list(root)) {
        for (const auto& dev : xs.list(root + "/" + dom)) {
            const std::string be = root + "/" + dom + "/" + dev;
            unsigned int idx = 0;
            if (auto v = xs.read(be + "/" VGPUIF_KEY_ENGINE)) idx = parse_uint(*v, "engine");
            for (auto& e : engines)
                if (e.index == idx) {
                    e.placed++;
                    e.placed_mb += devmem_mb_of(xs.read(be + "/" VGPUIF_KEY_QUOTA_DEVMEM_MB));
                }
        }
    }
    auto own = o.settings.find(VGPUIF_KEY_QUOTA_DEVMEM_MB);
    Options out = o;
    out.engine = choose_engine(engines, o.policy,
                               devmem_mb_of(own == o.settings.end() ? std::nullopt
                                                                     : std::optional<std::string>(own->second)));
    return out;
}

}  // namespace vgpuctl
