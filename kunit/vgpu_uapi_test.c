// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of uAPI argument validation: one case per rejected field.
 */
#include <kunit/test.h>

#include "../common/vgpu_pt.h"
#include "../common/vgpu_isa.h"
#include "../common/vgpu_uapi.h"

static const struct drm_vgpu_vm_bind_op good_map = {
	.op = DRM_VGPU_BIND_MAP, .flags = DRM_VGPU_BIND_READ, .handle = 1,
	.va = 0x100000, .size = 0x1000,
};

struct bind_case {
	const char *name;
	void (*mutate)(struct drm_vgpu_vm_bind_op *op);
};

#define BIND_CASE(n, body) \
	static void bind_##n(struct drm_vgpu_vm_bind_op *o) { body; }
BIND_CASE(op, o->op = 3)
BIND_CASE(noperm, o->flags = 0)
BIND_CASE(badperm, o->flags = 8)
BIND_CASE(nohandle, o->handle = 0)
BIND_CASE(pad, o->pad = 1)
BIND_CASE(offset, o->bo_offset = 12)
BIND_CASE(va, o->va = 0x100800)
BIND_CASE(empty, o->size = 0)
BIND_CASE(size, o->size = 0x1800)
BIND_CASE(low, o->va = 0x1000)
BIND_CASE(high, { o->va = VGPU_VA_SIZE - 0x1000; o->size = 0x2000; })
BIND_CASE(wrap, { o->va = 0xfffffffffffff000ULL; o->size = 0x2000; })
BIND_CASE(unmap_handle, o->op = DRM_VGPU_BIND_UNMAP)
BIND_CASE(unmap_offset, { o->op = DRM_VGPU_BIND_UNMAP; o->handle = 0;
			  o->flags = 0; o->bo_offset = 0x1000; })

static const struct bind_case bind_cases[] = {
	{ "unknown op", bind_op }, { "no permission", bind_noperm },
	{ "unknown permission", bind_badperm }, { "no handle", bind_nohandle },
	{ "padding", bind_pad }, { "misaligned offset", bind_offset },
	{ "misaligned va", bind_va }, { "empty", bind_empty },
	{ "misaligned size", bind_size }, { "below va_start", bind_low },
	{ "beyond the space", bind_high }, { "wraps", bind_wrap },
	{ "unmap with handle", bind_unmap_handle },
	{ "unmap with offset", bind_unmap_offset },
};

static void bind_case_desc(const struct bind_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bind, bind_cases, bind_case_desc);

static void uapi_bind_op_rejected(struct kunit *test)
{
	const struct bind_case *c = test->param_value;
	struct drm_vgpu_vm_bind_op op = good_map;

	KUNIT_ASSERT_EQ(test, vgpu_check_bind_op(&op), 0);
	c->mutate(&op);
	KUNIT_EXPECT_EQ(test, vgpu_check_bind_op(&op), -EINVAL);
}

static void uapi_cmds(struct kunit *test)
{
	struct drm_vgpu_cmd c = {
		.op = DRM_VGPU_CMD_LAUNCH, .src = 0x100000,
		.grid = { 1, 1, 1 }, .block = { 32, 1, 1 },
	};
	struct drm_vgpu_cmd t;

	KUNIT_EXPECT_EQ(test, vgpu_check_cmd(&c), 0);
	t = c;
	t.grid[0] = VGPU_MAX_GRID_DIM_X;	/* CUDA's limit in x */
	KUNIT_EXPECT_EQ(test, vgpu_check_cmd(&t), 0);
#define BAD(stmt) do { t = c; stmt; KUNIT_EXPECT_EQ(test, vgpu_check_cmd(&t), -EINVAL); } while (0)
	BAD(t.op = 0);
	BAD(t.flags = 2);
	BAD(t.flags = DRM_VGPU_LAUNCH_PTX);	/* without its descriptor */
	BAD(t.src = 0x100004);
	BAD(t.grid[1] = 0);
	BAD(t.grid[0] = VGPU_MAX_GRID_DIM_X + 1U);
	BAD(t.grid[1] = 65536);
	BAD(t.grid[2] = 65536);
	BAD(t.block[0] = 1025);
	BAD({ t.block[0] = 64; t.block[1] = 32; });
	BAD(t.shared_size = VGPU_MAX_SHARED + 4);
	BAD(t.size = 4);
	BAD(t.dst = 4);
	c = (struct drm_vgpu_cmd){ .op = DRM_VGPU_CMD_COPY, .src = 0x100000,
				   .dst = 0x200000, .size = 100 };
	KUNIT_EXPECT_EQ(test, vgpu_check_cmd(&c), 0);
	BAD(t.size = 0);
	BAD(t.src = ~0ULL - 10);
	BAD(t.dst = VGPU_VA_SIZE - 50);
	BAD(t.value = 1);
	BAD(t.params[7] = 1);
	c = (struct drm_vgpu_cmd){ .op = DRM_VGPU_CMD_FILL, .dst = 0x200000,
				   .size = 64, .value = 7 };
	KUNIT_EXPECT_EQ(test, vgpu_check_cmd(&c), 0);
	BAD(t.size = 6);
	BAD(t.dst = 0x200002);
	BAD(t.src = 0x1000);
	BAD(t.grid[2] = 1);
	BAD(t.flags = DRM_VGPU_LAUNCH_PTX);
	/* A launch naming its PTX: the descriptor's place and size. */
	c = (struct drm_vgpu_cmd){
		.op = DRM_VGPU_CMD_LAUNCH, .flags = DRM_VGPU_LAUNCH_PTX,
		.src = 0x100000, .dst = 0x200000,
		.size = sizeof(struct drm_vgpu_ptx_launch) + 4 + 8,
		.grid = { 1, 1, 1 }, .block = { 32, 1, 1 },
	};
	KUNIT_EXPECT_EQ(test, vgpu_check_cmd(&c), 0);
	BAD(t.size = sizeof(struct drm_vgpu_ptx_launch) - 1);
	BAD(t.size = DRM_VGPU_PTX_MAX_DESC + 1);
	BAD(t.dst = VGPU_VA_SIZE - 8);
	BAD(t.flags |= 4);
	BAD(t.src = 0x100004);
#undef BAD
}

static void uapi_ioctl_args(struct kunit *test)
{
	struct drm_vgpu_ctx_create cc = {};
	struct drm_vgpu_bo_create bc = { .size = 4096, .domain = DRM_VGPU_DOMAIN_HOST };
	struct drm_vgpu_submit s = { .ctx_id = 1, .num_cmds = 1, .cmds = 0x1000 };
	struct drm_vgpu_vm_bind b = { .ctx_id = 1, .num_ops = 1, .ops = 0x1000 };
	struct drm_vgpu_ctx_status st = { .ctx_id = 1 };

	KUNIT_EXPECT_EQ(test, vgpu_check_ctx_create(&cc), 0);
	cc.priority = 3;
	KUNIT_EXPECT_EQ(test, vgpu_check_ctx_create(&cc), -EINVAL);
	cc = (struct drm_vgpu_ctx_create){ .pad = 1 };
	KUNIT_EXPECT_EQ(test, vgpu_check_ctx_create(&cc), -EINVAL);

	KUNIT_EXPECT_EQ(test, vgpu_check_bo_create(&bc, 1 << 20), 0);
	bc.domain = 3;
	KUNIT_EXPECT_EQ(test, vgpu_check_bo_create(&bc, 1 << 20), -EINVAL);
	bc.domain = DRM_VGPU_DOMAIN_DEVICE;
	bc.size = ~0ULL;
	KUNIT_EXPECT_EQ(test, vgpu_check_bo_create(&bc, 1 << 20), -EINVAL);
	bc.size = 0;
	KUNIT_EXPECT_EQ(test, vgpu_check_bo_create(&bc, 1 << 20), -EINVAL);

	KUNIT_EXPECT_EQ(test, vgpu_check_submit(&s), 0);
	s.num_cmds = DRM_VGPU_MAX_CMDS + 1;
	KUNIT_EXPECT_EQ(test, vgpu_check_submit(&s), -EINVAL);
	s.num_cmds = 1;
	s.num_in_syncs = 1;
	KUNIT_EXPECT_EQ(test, vgpu_check_submit(&s), -EINVAL);
	s.num_in_syncs = 0;
	s.seqno = 1;
	KUNIT_EXPECT_EQ(test, vgpu_check_submit(&s), -EINVAL);

	KUNIT_EXPECT_EQ(test, vgpu_check_vm_bind(&b), 0);
	b.num_ops = DRM_VGPU_MAX_BIND_OPS + 1;
	KUNIT_EXPECT_EQ(test, vgpu_check_vm_bind(&b), -EINVAL);
	b.num_ops = 1;
	b.num_done = 1;
	KUNIT_EXPECT_EQ(test, vgpu_check_vm_bind(&b), -EINVAL);

	KUNIT_EXPECT_EQ(test, vgpu_check_ctx_status(&st), 0);
	st.reserved[0] = 1;
	KUNIT_EXPECT_EQ(test, vgpu_check_ctx_status(&st), -EINVAL);
}

static struct kunit_case uapi_cases[] = {
	KUNIT_CASE_PARAM(uapi_bind_op_rejected, bind_gen_params),
	KUNIT_CASE(uapi_cmds),
	KUNIT_CASE(uapi_ioctl_args),
	{}
};

static struct kunit_suite uapi_suite = {
	.name = "vgpu-uapi",
	.test_cases = uapi_cases,
};

kunit_test_suite(uapi_suite);
