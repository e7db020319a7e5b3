// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The wire protocol: layout and the checks the backend applies to every
// request it copies off the ring.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <functional>

extern "C" {
#include "vgpuif.h"
}

namespace {

static_assert(offsetof(vgpuif_request, operation) == 8);
static_assert(offsetof(vgpuif_request, u) == 16);
static_assert(offsetof(vgpuif_response, status) == 12);
static_assert(offsetof(vgpuif_response, u) == 16);

vgpuif_request req(uint8_t op) {
    vgpuif_request r;
    std::memset(&r, 0, sizeof(r));
    r.id = 42;
    r.operation = op;
    return r;
}

vgpuif_request good(uint8_t op) {
    vgpuif_request r = req(op);
    switch (op) {
    case VGPUIF_OP_CTX_DESTROY: r.u.ctx_destroy.ctx_id = 1; break;
    case VGPUIF_OP_CTX_STATUS: r.u.ctx_status.ctx_id = 1; break;
    case VGPUIF_OP_BO_CREATE: r.u.bo_create = {4096, DRM_VGPU_DOMAIN_HOST, 0, 0, 0}; break;
    case VGPUIF_OP_BO_DESTROY: r.u.bo_destroy.handle = 1; break;
    case VGPUIF_OP_BO_WRITE:
    case VGPUIF_OP_BO_READ: r.u.bo_io = {1, 8, 4096, 4096, 0}; break;
    case VGPUIF_OP_VM_BIND:
        r.u.vm_bind.ctx_id = 1;
        r.u.vm_bind.op = {DRM_VGPU_BIND_MAP, DRM_VGPU_BIND_READ, 1, 0, 0, 0x100000, 0x1000};
        break;
    case VGPUIF_OP_SUBMIT:
        r.u.submit.ctx_id = 1;
        r.u.submit.cmd.op = DRM_VGPU_CMD_FILL;
        r.u.submit.cmd.dst = 0x100000;
        r.u.submit.cmd.size = 64;
        break;
    default: break;
    }
    return r;
}

TEST(Vgpuif, EveryOperationHasAValidForm) {
    for (uint8_t op = 1; op <= VGPUIF_OP_MAX; op++) {
        auto r = good(op);
        EXPECT_EQ(vgpuif_check_request(&r), 0) << vgpuif_op_name(op);
        EXPECT_STRNE(vgpuif_op_name(op), "unknown");
    }
}

TEST(Vgpuif, UnknownOperationsAreRefused) {
    for (unsigned op : {0u, VGPUIF_OP_MAX + 1u, 200u, 255u}) {
        auto r = req(static_cast<uint8_t>(op));
        EXPECT_EQ(vgpuif_check_request(&r), -EOPNOTSUPP) << op;
        EXPECT_STREQ(vgpuif_op_name(op), "unknown");
    }
}

TEST(Vgpuif, ReservedAndUndefinedOctetsMustBeZero) {
    for (uint8_t op = 1; op <= VGPUIF_OP_MAX; op++) {
        auto r = good(op);
        r.reserved[3] = 1;
        EXPECT_EQ(vgpuif_check_request(&r), -EINVAL) << vgpuif_op_name(op);
        r = good(op);
        r.u.raw[VGPUIF_PAYLOAD_SIZE - 1] = 1;  // beyond every payload
        EXPECT_EQ(vgpuif_check_request(&r), -EINVAL) << vgpuif_op_name(op);
    }
}

TEST(Vgpuif, BadArgumentsAreRefused) {
    auto bad = [](uint8_t op, std::function<void(vgpuif_request&)> f, const char* why) {
        auto r = good(op);
        f(r);
        EXPECT_EQ(vgpuif_check_request(&r), -EINVAL) << why;
    };
    bad(VGPUIF_OP_CTX_CREATE, [](auto& r) { r.u.ctx_create.flags = 1; }, "ctx flags");
    bad(VGPUIF_OP_CTX_DESTROY, [](auto& r) { r.u.ctx_destroy.ctx_id = 0; }, "ctx 0");
    bad(VGPUIF_OP_BO_CREATE, [](auto& r) { r.u.bo_create.domain = 9; }, "domain");
    bad(VGPUIF_OP_BO_CREATE, [](auto& r) { r.u.bo_create.size = 0; }, "empty object");
    bad(VGPUIF_OP_BO_WRITE, [](auto& r) { r.u.bo_io.length = 0; }, "empty io");
    bad(VGPUIF_OP_BO_WRITE, [](auto& r) { r.u.bo_io.length = 4097; }, "io over a page");
    bad(VGPUIF_OP_BO_READ, [](auto& r) { r.u.bo_io.offset = 12; }, "io offset");
    bad(VGPUIF_OP_BO_READ, [](auto& r) { r.u.bo_io.handle = 0; }, "io handle");
    bad(VGPUIF_OP_BO_READ, [](auto& r) { r.u.bo_io.reserved = 1; }, "io reserved");
    bad(VGPUIF_OP_VM_BIND, [](auto& r) { r.u.vm_bind.ctx_id = 0; }, "bind ctx");
    bad(VGPUIF_OP_VM_BIND, [](auto& r) { r.u.vm_bind.reserved = 1; }, "bind reserved");
    bad(VGPUIF_OP_VM_BIND, [](auto& r) { r.u.vm_bind.op.va = ~0ULL & ~0xfffULL; }, "va wraps");
    bad(VGPUIF_OP_VM_BIND, [](auto& r) { r.u.vm_bind.op.size = 0x1800; }, "bind size");
    bad(VGPUIF_OP_SUBMIT, [](auto& r) { r.u.submit.cmd.op = 77; }, "command");
    bad(VGPUIF_OP_SUBMIT, [](auto& r) { r.u.submit.cmd.size = ~0ULL; }, "size overflows");
    bad(VGPUIF_OP_SUBMIT, [](auto& r) { r.u.submit.reserved = 1; }, "submit reserved");
}

}  // namespace
