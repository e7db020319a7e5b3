// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ue_requests.hpp - requests of vgpu-uengine.ko as the module builds them
// (include/uapi/drm/vgpu_uengine.h), for the tests of vgpu-engined's
// bridge (test_bridge.cpp) and of its workers (test_workers.cpp), and a
// memfd standing in for the device's windows (window w is the memfd at
// w << VGPU_UE_WINDOW_SHIFT).
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <stdexcept>

#include "vgpu_uengine.h"

namespace vgpu::engine::test {

inline int windows_fd() {
    int fd = memfd_create("windows", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 1ull << 44) < 0)
        throw std::runtime_error("memfd");
    return fd;
}

inline vgpu_ue_req op(uint32_t o) {
    vgpu_ue_req r{};
    r.op = o;
    return r;
}

inline vgpu_ue_req map_req(uint64_t ctx, uint64_t va, uint64_t size, uint64_t window, uint32_t perms = 3) {
    vgpu_ue_req r = op(VGPU_UE_OP_MAP);
    r.map.ctx = ctx;
    r.map.va = va;
    r.map.size = size;
    r.map.perms = perms;
    r.map.kind = VGPU_UE_MAP_HOST;
    r.map.window = window;
    return r;
}

// A RUN of job @job, its commands sent with it when @c is not null.
inline vgpu_ue_req run_req(uint64_t ctx, uint64_t job, uint32_t num_cmds, const drm_vgpu_cmd* c) {
    vgpu_ue_req r = op(VGPU_UE_OP_RUN);
    r.payload_len = c ? num_cmds * sizeof(*c) : 0;
    r.run.ctx = ctx;
    r.run.job = job;
    r.run.budget_ns = 1000000000ull;
    r.run.watchdog_ns = 1000000000ull;
    r.run.num_cmds = num_cmds;
    return r;
}

// CTX_STACK: context @ctx's PTX may have @bytes of call stack a thread.
inline vgpu_ue_req ctx_stack_req(uint64_t ctx, uint32_t bytes, uint32_t pad = 0) {
    vgpu_ue_req r = op(VGPU_UE_OP_CTX_STACK);
    r.ctx_stack.ctx = ctx;
    r.ctx_stack.stack_size = bytes;
    r.ctx_stack.pad = pad;
    return r;
}

inline drm_vgpu_cmd fill_cmd(uint64_t va, uint64_t size, uint32_t value) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_FILL;
    c.dst = va;
    c.size = size;
    c.value = value;
    return c;
}

inline drm_vgpu_cmd copy_cmd(uint64_t dst, uint64_t src, uint64_t size) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_COPY;
    c.dst = dst;
    c.src = src;
    c.size = size;
    return c;
}

// The module's side of a session: numbers each request, checks that its
// answer keeps the format, and builds the common ones (pages of 4 KiB).
struct Client {
    static constexpr uint64_t P = 4096;
    std::function<vgpu_ue_resp(const vgpu_ue_req&, const uint8_t*)> handler;
    uint64_t seq = 0;

    vgpu_ue_resp send(vgpu_ue_req r, const void* payload = nullptr) {
        r.seq = ++seq;
        vgpu_ue_resp resp{};
        EXPECT_NO_THROW(resp = handler(r, static_cast<const uint8_t*>(payload))) << "op " << r.op;
        EXPECT_EQ(resp.seq, r.seq);
        EXPECT_EQ(resp.reserved, 0u);
        if (r.op != VGPU_UE_OP_RUN || resp.error) {
            EXPECT_EQ(body_bytes(resp), 0u) << "op " << r.op << " error " << resp.error;
        }
        return resp;
    }
    static size_t body_bytes(const vgpu_ue_resp& resp) {
        return std::count_if(std::begin(resp.raw), std::end(resp.raw), [](uint8_t b) { return b != 0; });
    }
    static vgpu_ue_req op(uint32_t o) { return test::op(o); }
    static vgpu_ue_req map_req(uint64_t ctx, uint64_t va, uint64_t size, uint64_t window) {
        return test::map_req(ctx, va, size, window);
    }
    static vgpu_ue_req run_req(uint64_t ctx, uint64_t job, uint32_t num_cmds, const drm_vgpu_cmd* c) {
        return test::run_req(ctx, job, num_cmds, c);
    }
    static drm_vgpu_cmd fill_cmd(uint64_t va, uint64_t size, uint32_t value) {
        return test::fill_cmd(va, size, value);
    }
    int ctx_create(uint64_t ctx, uint64_t group = 1) {
        vgpu_ue_req r = op(VGPU_UE_OP_CTX_CREATE);
        r.ctx_create.ctx = ctx;
        r.ctx_create.group = group;
        return send(r).error;
    }
    void ctx_destroy(uint64_t ctx) {
        vgpu_ue_req r = op(VGPU_UE_OP_CTX_DESTROY);
        r.ctx_destroy.ctx = ctx;
        send(r);
    }
    int ctx_stack(uint64_t ctx, uint32_t bytes) { return send(ctx_stack_req(ctx, bytes)).error; }
    int map_host(uint64_t ctx, uint64_t va, uint64_t pages, uint64_t window) {
        return send(map_req(ctx, va, pages * P, window)).error;
    }
    void unmap(uint64_t ctx, uint64_t va, uint64_t pages) {
        vgpu_ue_req r = op(VGPU_UE_OP_UNMAP);
        r.unmap.ctx = ctx;
        r.unmap.va = va;
        r.unmap.size = pages * P;
        send(r);
    }
    // One FILL run to its end (job @job).
    vgpu_ue_resp fill(uint64_t ctx, uint64_t job, uint64_t va, uint64_t size, uint32_t value) {
        drm_vgpu_cmd c = fill_cmd(va, size, value);
        return send(run_req(ctx, job, 1, &c), &c);
    }
};

}  // namespace vgpu::engine::test
