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
#include "vgpuif_check.h"
#include "vgpuif_uapi.h"
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
    case VGPUIF_OP_CTX_STACK: r.u.ctx_stack = {1, 8192, 0}; break;
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
    case VGPUIF_OP_BO_CREATE_GRANTED: r.u.bo_granted = {8192, 9, 0}; break;
    case VGPUIF_OP_VM_BIND_BATCH:
        r.u.vm_bind_batch.ctx_id = 1;
        r.u.vm_bind_batch.num_ops = 1;
        r.u.vm_bind_batch.op = {DRM_VGPU_BIND_MAP, DRM_VGPU_BIND_READ, 1, 0, 0, 0x100000, 0x200000};
        break;
    case VGPUIF_OP_SUBMIT_ASYNC:
        r.u.submit_async.ctx_id = 1;
        r.u.submit_async.num_cmds = 1;
        r.u.submit_async.cmd.op = DRM_VGPU_CMD_FILL;
        r.u.submit_async.cmd.dst = 0x100000;
        r.u.submit_async.cmd.size = 64;
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
    bad(VGPUIF_OP_BO_WRITE, [](auto& r) { r.u.bo_io.length = 0; }, "empty io");
    bad(VGPUIF_OP_BO_WRITE, [](auto& r) { r.u.bo_io.length = 4097; }, "io over a page");
    bad(VGPUIF_OP_BO_READ, [](auto& r) { r.u.bo_io.offset = 12; }, "io offset");
    bad(VGPUIF_OP_BO_READ, [](auto& r) { r.u.bo_io.handle = 0; }, "io handle");
    bad(VGPUIF_OP_BO_READ, [](auto& r) { r.u.bo_io.reserved = 1; }, "io reserved");
    bad(VGPUIF_OP_VM_BIND, [](auto& r) { r.u.vm_bind.ctx_id = 0; }, "bind ctx");
    bad(VGPUIF_OP_VM_BIND, [](auto& r) { r.u.vm_bind.reserved = 1; }, "bind reserved");
    bad(VGPUIF_OP_SUBMIT, [](auto& r) { r.u.submit.reserved = 1; }, "submit reserved");
    bad(VGPUIF_OP_BO_CREATE_GRANTED, [](auto& r) { r.u.bo_granted.size = 100; }, "granted size");
    bad(VGPUIF_OP_BO_CREATE_GRANTED, [](auto& r) { r.u.bo_granted.size = 0; }, "granted empty");
    bad(VGPUIF_OP_BO_CREATE_GRANTED, [](auto& r) { r.u.bo_granted.dir_gref = 0; }, "no directory");
    bad(VGPUIF_OP_BO_CREATE_GRANTED, [](auto& r) { r.u.bo_granted.handle = 3; }, "granted output");
    bad(VGPUIF_OP_VM_BIND_BATCH, [](auto& r) { r.u.vm_bind_batch.num_ops = 0; }, "no ops");
    bad(VGPUIF_OP_VM_BIND_BATCH, [](auto& r) { r.u.vm_bind_batch.num_ops = DRM_VGPU_MAX_BIND_OPS + 1; }, "too many ops");
    bad(VGPUIF_OP_VM_BIND_BATCH, [](auto& r) { r.u.vm_bind_batch.dir_gref = 5; }, "one op and a directory");
    bad(VGPUIF_OP_VM_BIND_BATCH, [](auto& r) { r.u.vm_bind_batch.num_ops = 2; }, "ops without a directory");
    bad(VGPUIF_OP_VM_BIND_BATCH,
        [](auto& r) { r.u.vm_bind_batch.num_ops = 2; r.u.vm_bind_batch.dir_gref = 5; },
        "a directory and an inline op");
    bad(VGPUIF_OP_VM_BIND_BATCH, [](auto& r) { r.u.vm_bind_batch.num_done = 1; }, "batch output");
    bad(VGPUIF_OP_SUBMIT_ASYNC, [](auto& r) { r.u.submit_async.num_cmds = DRM_VGPU_MAX_CMDS + 1; }, "too many cmds");
    bad(VGPUIF_OP_SUBMIT_ASYNC, [](auto& r) { r.u.submit_async.ctx_id = 0; }, "async ctx");
    bad(VGPUIF_OP_SUBMIT_ASYNC, [](auto& r) { r.u.submit_async.reserved = 1; }, "async reserved");
    bad(VGPUIF_OP_SUBMIT_ASYNC,
        [](auto& r) { r.u.submit_async.num_cmds = 3; r.u.submit_async.dir_gref = 5; },
        "a directory and an inline command");
}

// The envelope is the decoder's; what a payload means is the core's to
// check, once (vgpu_op_*): these pass the envelope (KUnit's
// core_decoder_leaves_payloads_to_the_core sees the core refuse them).
TEST(Vgpuif, PayloadsAreLeftToTheCore) {
    auto passes = [](uint8_t op, std::function<void(vgpuif_request&)> f, const char* why) {
        auto r = good(op);
        f(r);
        EXPECT_EQ(vgpuif_check_request(&r), 0) << why;
    };
    passes(VGPUIF_OP_CTX_CREATE, [](auto& r) { r.u.ctx_create.flags = 1; }, "ctx flags");
    passes(VGPUIF_OP_CTX_DESTROY, [](auto& r) { r.u.ctx_destroy.ctx_id = 0; }, "ctx 0");
    passes(VGPUIF_OP_BO_CREATE, [](auto& r) { r.u.bo_create.domain = 9; }, "domain");
    passes(VGPUIF_OP_BO_CREATE, [](auto& r) { r.u.bo_create.size = 0; }, "empty object");
    passes(VGPUIF_OP_VM_BIND, [](auto& r) { r.u.vm_bind.op.va = ~0ULL & ~0xfffULL; }, "va wraps");
    passes(VGPUIF_OP_SUBMIT, [](auto& r) { r.u.submit.cmd.op = 77; }, "command");
    passes(VGPUIF_OP_SUBMIT, [](auto& r) { r.u.submit.cmd.size = ~0ULL; }, "size overflows");
    passes(VGPUIF_OP_VM_BIND_BATCH, [](auto& r) { r.u.vm_bind_batch.op.size = 0x1800; }, "batch op size");
    passes(VGPUIF_OP_SUBMIT_ASYNC, [](auto& r) { r.u.submit_async.cmd.op = 77; }, "async command");
}

TEST(Vgpuif, BatchesInPagesAreWellFormed) {
    auto r = good(VGPUIF_OP_SUBMIT_ASYNC);
    std::memset(&r.u.submit_async.cmd, 0, sizeof(r.u.submit_async.cmd));
    r.u.submit_async.num_cmds = DRM_VGPU_MAX_CMDS;
    r.u.submit_async.dir_gref = 12;
    EXPECT_EQ(vgpuif_check_request(&r), 0);
    r = good(VGPUIF_OP_VM_BIND_BATCH);
    std::memset(&r.u.vm_bind_batch.op, 0, sizeof(r.u.vm_bind_batch.op));
    r.u.vm_bind_batch.num_ops = DRM_VGPU_MAX_BIND_OPS;
    r.u.vm_bind_batch.dir_gref = 12;
    EXPECT_EQ(vgpuif_check_request(&r), 0);
    // A directory page holds 1023 references and the next page's.
    EXPECT_EQ(sizeof(vgpuif_page_dir), 4096u);
    EXPECT_EQ(VGPUIF_DIR_PAGES(1u), 1u);
    EXPECT_EQ(VGPUIF_DIR_PAGES(1023u), 1u);
    EXPECT_EQ(VGPUIF_DIR_PAGES(1024u), 2u);
    EXPECT_EQ(VGPUIF_DIR_PAGES(16384u), 17u);
}

}  // namespace
