// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Stateless validation of every uAPI argument structure: each rejected case.
#include <gtest/gtest.h>

#include <functional>

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_uapi.h"
}

namespace {

drm_vgpu_cmd good_launch() {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_LAUNCH;
    c.src = 0x100000;
    c.grid[0] = c.grid[1] = c.grid[2] = 1;
    c.block[0] = 32;
    c.block[1] = c.block[2] = 1;
    return c;
}

TEST(UapiCheck, CtxCreate) {
    drm_vgpu_ctx_create a{};
    EXPECT_EQ(vgpu_check_ctx_create(&a), 0);
    a.priority = DRM_VGPU_PRIO_HIGH;
    EXPECT_EQ(vgpu_check_ctx_create(&a), 0);
    a.priority = 3;
    EXPECT_EQ(vgpu_check_ctx_create(&a), -EINVAL);
    a = {};
    a.flags = 1;
    EXPECT_EQ(vgpu_check_ctx_create(&a), -EINVAL);
    a = {};
    a.pad = 1;
    EXPECT_EQ(vgpu_check_ctx_create(&a), -EINVAL);
    a = {};
    a.ctx_id = 5;
    EXPECT_EQ(vgpu_check_ctx_create(&a), -EINVAL) << "out field must be zero";
    drm_vgpu_ctx_destroy d{0, 0};
    EXPECT_EQ(vgpu_check_ctx_destroy(&d), -EINVAL);
    d = {1, 1};
    EXPECT_EQ(vgpu_check_ctx_destroy(&d), -EINVAL);
    drm_vgpu_ctx_status s{};
    s.ctx_id = 1;
    EXPECT_EQ(vgpu_check_ctx_status(&s), 0);
    s.reserved[1] = 1;
    EXPECT_EQ(vgpu_check_ctx_status(&s), -EINVAL);
}

TEST(UapiCheck, BoCreate) {
    drm_vgpu_bo_create a{4096, DRM_VGPU_DOMAIN_DEVICE, 0, 0, 0};
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), 0);
    a.domain = DRM_VGPU_DOMAIN_HOST;
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), 0);
    a.domain = 3;
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), -EINVAL);
    a.domain = 0;
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), -EINVAL);
    a = {0, DRM_VGPU_DOMAIN_DEVICE, 0, 0, 0};
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), -EINVAL) << "empty";
    a = {(1 << 20) + 1, DRM_VGPU_DOMAIN_DEVICE, 0, 0, 0};
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), -EINVAL) << "too large";
    a = {~0ULL, DRM_VGPU_DOMAIN_DEVICE, 0, 0, 0};
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), -EINVAL) << "would overflow when rounded";
    a = {4096, DRM_VGPU_DOMAIN_DEVICE, 1, 0, 0};
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), -EINVAL);
    a = {4096, DRM_VGPU_DOMAIN_DEVICE, 0, 0, 1};
    EXPECT_EQ(vgpu_check_bo_create(&a, 1 << 20), -EINVAL);
    drm_vgpu_bo_mmap_offset m{1, 0, 0};
    EXPECT_EQ(vgpu_check_bo_mmap_offset(&m), 0);
    m.offset = 4096;
    EXPECT_EQ(vgpu_check_bo_mmap_offset(&m), -EINVAL);
    drm_vgpu_bo_destroy d{0, 0};
    EXPECT_EQ(vgpu_check_bo_destroy(&d), -EINVAL);
}

TEST(UapiCheck, VmBind) {
    drm_vgpu_vm_bind b{1, 1, 0x1234, 0, 0};
    EXPECT_EQ(vgpu_check_vm_bind(&b), 0);
    b.num_ops = 0;
    EXPECT_EQ(vgpu_check_vm_bind(&b), -EINVAL);
    b.num_ops = DRM_VGPU_MAX_BIND_OPS + 1;
    EXPECT_EQ(vgpu_check_vm_bind(&b), -EINVAL);
    b = {1, 1, 0, 0, 0};
    EXPECT_EQ(vgpu_check_vm_bind(&b), -EINVAL) << "null array";
    b = {1, 1, 0x1234, 2, 0};
    EXPECT_EQ(vgpu_check_vm_bind(&b), -EINVAL);

    drm_vgpu_vm_bind_op op{DRM_VGPU_BIND_MAP, DRM_VGPU_BIND_READ, 1, 0, 0, 0x100000, 0x1000};
    EXPECT_EQ(vgpu_check_bind_op(&op), 0);
    auto bad = [&](std::function<void(drm_vgpu_vm_bind_op&)> f, const char* why) {
        drm_vgpu_vm_bind_op o = op;
        f(o);
        EXPECT_EQ(vgpu_check_bind_op(&o), -EINVAL) << why;
    };
    bad([](auto& o) { o.op = 3; }, "unknown op");
    bad([](auto& o) { o.flags = 0; }, "no permission");
    bad([](auto& o) { o.flags = 8; }, "unknown permission");
    bad([](auto& o) { o.handle = 0; }, "no handle");
    bad([](auto& o) { o.pad = 1; }, "pad");
    bad([](auto& o) { o.bo_offset = 12; }, "misaligned offset");
    bad([](auto& o) { o.va = 0x100800; }, "misaligned va");
    bad([](auto& o) { o.size = 0; }, "empty");
    bad([](auto& o) { o.size = 0x1800; }, "misaligned size");
    bad([](auto& o) { o.va = 0x1000; }, "below the context's va_start");
    bad([](auto& o) { o.va = (1ULL << 40) - 0x1000; o.size = 0x2000; }, "beyond the address space");
    bad([](auto& o) { o.va = 0xfffffffffffff000ULL; o.size = 0x2000; }, "wraps");
    drm_vgpu_vm_bind_op un{DRM_VGPU_BIND_UNMAP, 0, 0, 0, 0, 0x100000, 0x1000};
    EXPECT_EQ(vgpu_check_bind_op(&un), 0);
    un.handle = 1;
    EXPECT_EQ(vgpu_check_bind_op(&un), -EINVAL) << "unmap with a handle";
    un.handle = 0;
    un.flags = DRM_VGPU_BIND_READ;
    EXPECT_EQ(vgpu_check_bind_op(&un), -EINVAL) << "unmap with permissions";
}

TEST(UapiCheck, Submit) {
    drm_vgpu_submit s{};
    s.ctx_id = 1;
    s.num_cmds = 1;
    s.cmds = 0x1000;
    EXPECT_EQ(vgpu_check_submit(&s), 0);
    auto bad = [&](std::function<void(drm_vgpu_submit&)> f, const char* why) {
        drm_vgpu_submit o = s;
        f(o);
        EXPECT_EQ(vgpu_check_submit(&o), -EINVAL) << why;
    };
    bad([](auto& o) { o.ctx_id = 0; }, "no context");
    bad([](auto& o) { o.num_cmds = 0; }, "no command");
    bad([](auto& o) { o.num_cmds = DRM_VGPU_MAX_CMDS + 1; }, "too many commands");
    bad([](auto& o) { o.cmds = 0; }, "null commands");
    bad([](auto& o) { o.num_in_syncs = 1; }, "syncs without array");
    bad([](auto& o) { o.in_syncs = 8; }, "array without count");
    bad([](auto& o) { o.num_in_syncs = DRM_VGPU_MAX_IN_SYNCS + 1; o.in_syncs = 8; }, "too many syncs");
    bad([](auto& o) { o.flags = 1; }, "flags");
    bad([](auto& o) { o.pad = 1; }, "pad");
    bad([](auto& o) { o.seqno = 1; }, "out field");
}

TEST(UapiCheck, Commands) {
    drm_vgpu_cmd c = good_launch();
    EXPECT_EQ(vgpu_check_cmd(&c), 0);
    auto bad = [&](drm_vgpu_cmd base, std::function<void(drm_vgpu_cmd&)> f, const char* why) {
        f(base);
        EXPECT_EQ(vgpu_check_cmd(&base), -EINVAL) << why;
    };
    bad(c, [](auto& o) { o.op = 0; }, "unknown op");
    bad(c, [](auto& o) { o.flags = 2; }, "unknown flag");
    bad(c, [](auto& o) { o.flags = DRM_VGPU_LAUNCH_PTX; }, "PTX flag without its descriptor");
    bad(c, [](auto& o) { o.src = 0x100004; }, "misaligned code");
    bad(c, [](auto& o) { o.grid[1] = 0; }, "empty grid");
    bad(c, [](auto& o) { o.grid[0] = VGPU_MAX_GRID_DIM_X + 1u; }, "grid too large in x");
    bad(c, [](auto& o) { o.grid[1] = 65536; }, "grid too large in y");
    bad(c, [](auto& o) { o.grid[2] = 65536; }, "grid too large in z");
    drm_vgpu_cmd wide = c;
    wide.grid[0] = VGPU_MAX_GRID_DIM_X;  // CUDA's limit in x
    EXPECT_EQ(vgpu_check_cmd(&wide), 0);
    bad(c, [](auto& o) { o.block[0] = 1025; }, "block too large");
    bad(c, [](auto& o) { o.block[0] = 64; o.block[1] = 32; }, "block threads > 1024");
    bad(c, [](auto& o) { o.shared_size = VGPU_MAX_SHARED + 4; }, "too much shared memory");
    bad(c, [](auto& o) { o.size = 4; }, "launch with a size");
    bad(c, [](auto& o) { o.dst = 4; }, "launch with a destination");

    drm_vgpu_cmd copy{};
    copy.op = DRM_VGPU_CMD_COPY;
    copy.src = 0x100000;
    copy.dst = 0x200000;
    copy.size = 100;
    EXPECT_EQ(vgpu_check_cmd(&copy), 0);
    bad(copy, [](auto& o) { o.size = 0; }, "empty copy");
    bad(copy, [](auto& o) { o.src = ~0ULL - 10; }, "source wraps");
    bad(copy, [](auto& o) { o.dst = (1ULL << 40) - 50; }, "destination beyond the address space");
    bad(copy, [](auto& o) { o.value = 1; }, "copy with a value");
    bad(copy, [](auto& o) { o.params[7] = 1; }, "copy with parameters");

    drm_vgpu_cmd fill{};
    fill.op = DRM_VGPU_CMD_FILL;
    fill.dst = 0x200000;
    fill.size = 64;
    fill.value = 0xdeadbeef;
    EXPECT_EQ(vgpu_check_cmd(&fill), 0);
    bad(fill, [](auto& o) { o.size = 6; }, "fill size not a multiple of 4");
    bad(fill, [](auto& o) { o.dst = 0x200002; }, "fill misaligned");
    bad(fill, [](auto& o) { o.src = 0x1000; }, "fill with a source");
    bad(fill, [](auto& o) { o.grid[2] = 1; }, "fill with a grid");
    bad(copy, [](auto& o) { o.flags = DRM_VGPU_LAUNCH_PTX; }, "the PTX flag on a copy");
    bad(fill, [](auto& o) { o.flags = DRM_VGPU_LAUNCH_PTX; }, "the PTX flag on a fill");
}

// A launch naming its PTX: the descriptor's place and size are checked
// here, its content by the engine that reads it.
TEST(UapiCheck, LaunchWithPtx) {
    static_assert(sizeof(drm_vgpu_ptx_launch) == 64, "the uAPI's 64 bytes");
    drm_vgpu_cmd c = good_launch();
    c.flags = DRM_VGPU_LAUNCH_PTX;
    c.dst = 0x200000;
    c.size = sizeof(drm_vgpu_ptx_launch) + 6 + 16;
    EXPECT_EQ(vgpu_check_cmd(&c), 0);
    c.size = DRM_VGPU_PTX_MAX_DESC;
    EXPECT_EQ(vgpu_check_cmd(&c), 0);
    auto bad = [&](std::function<void(drm_vgpu_cmd&)> f, const char* why) {
        drm_vgpu_cmd o = c;
        f(o);
        EXPECT_EQ(vgpu_check_cmd(&o), -EINVAL) << why;
    };
    bad([](auto& o) { o.size = sizeof(drm_vgpu_ptx_launch) - 1; }, "shorter than its header");
    bad([](auto& o) { o.size = DRM_VGPU_PTX_MAX_DESC + 1; }, "longer than the largest");
    bad([](auto& o) { o.dst = (1ULL << 40) - 8; }, "beyond the address space");
    bad([](auto& o) { o.dst = ~0ULL - 8; }, "wraps");
    bad([](auto& o) { o.value = 1; }, "a value");
    bad([](auto& o) { o.flags |= 4; }, "another flag");
    bad([](auto& o) { o.src = 0x100004; }, "its ISA is still checked");
}

}  // namespace
