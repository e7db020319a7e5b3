// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// bridge.hpp - vgpu-engined's side of the engine bridge: registers with
// /dev/vgpu-uengine, reads each request, runs it on a Backend, answers
// (protocol: include/uapi/drm/vgpu_uengine.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backend.hpp"
#include "vgpu_uengine.h"

namespace vgpu::engine {

struct BridgeStats {
    uint64_t requests = 0;
    uint64_t runs = 0;
    uint64_t faults = 0;
};

class Bridge {
public:
    Bridge(Backend& backend, const std::string& device);
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    uint64_t generation() const { return hello_.generation; }
    // Serves requests until the session ends or *stop becomes true;
    // returns the errno that ended it (0: stopped).
    int serve(const volatile bool* stop);
    const BridgeStats& stats() const { return stats_; }
    // Answers one request (the loop's body; also for tests).
    vgpu_ue_resp handle(const vgpu_ue_req& req, const uint8_t* payload);

private:
    // Host memory of a context, as mapped from the bridge's windows:
    // GPU address -> (process address, bytes), split by partial unmaps.
    using Ranges = std::map<uint64_t, std::pair<uint8_t*, uint64_t>>;

    int map_host(const vgpu_ue_req& req);
    void unmap_host(Ranges& r, uint64_t va, uint64_t size);
    int run(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp);

    Backend& backend_;
    int fd_ = -1;
    vgpu_ue_hello hello_{};
    std::map<uint64_t, Ranges> host_;    // per context
    std::map<uint64_t, Job> jobs_;
    BridgeStats stats_;
};

}  // namespace vgpu::engine
