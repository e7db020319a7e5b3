// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of the vgpuif protocol checks: every operation's valid
 * form, unknown operations, reserved octets, bad arguments.
 */
#include <kunit/test.h>

#include "../common/vgpuif_check.h"
#include "../common/vgpuif_uapi.h"

static void vgpuif_good(struct vgpuif_request *r, u8 op)
{
	memset(r, 0, sizeof(*r));
	r->id = 7;
	r->operation = op;
	switch (op) {
	case VGPUIF_OP_CTX_DESTROY:
		r->u.ctx_destroy.ctx_id = 1;
		break;
	case VGPUIF_OP_CTX_STATUS:
		r->u.ctx_status.ctx_id = 1;
		break;
	case VGPUIF_OP_CTX_STACK:
		r->u.ctx_stack.ctx_id = 1;
		r->u.ctx_stack.stack_size = 8192;
		break;
	case VGPUIF_OP_BO_CREATE:
		r->u.bo_create.size = 4096;
		r->u.bo_create.domain = DRM_VGPU_DOMAIN_DEVICE;
		break;
	case VGPUIF_OP_BO_DESTROY:
		r->u.bo_destroy.handle = 1;
		break;
	case VGPUIF_OP_BO_WRITE:
	case VGPUIF_OP_BO_READ:
		r->u.bo_io.handle = 1;
		r->u.bo_io.gref = 8;
		r->u.bo_io.length = 4096;
		break;
	case VGPUIF_OP_VM_BIND:
		r->u.vm_bind.ctx_id = 1;
		r->u.vm_bind.op.op = DRM_VGPU_BIND_UNMAP;
		r->u.vm_bind.op.va = 0x100000;
		r->u.vm_bind.op.size = 4096;
		break;
	case VGPUIF_OP_SUBMIT:
		r->u.submit.ctx_id = 1;
		r->u.submit.cmd.op = DRM_VGPU_CMD_COPY;
		r->u.submit.cmd.src = 0x100000;
		r->u.submit.cmd.dst = 0x200000;
		r->u.submit.cmd.size = 8;
		break;
	case VGPUIF_OP_BO_CREATE_GRANTED:
		r->u.bo_granted.size = 4096;
		r->u.bo_granted.dir_gref = 9;
		break;
	case VGPUIF_OP_VM_BIND_BATCH:
		r->u.vm_bind_batch.ctx_id = 1;
		r->u.vm_bind_batch.num_ops = 3;
		r->u.vm_bind_batch.dir_gref = 9;
		break;
	case VGPUIF_OP_SUBMIT_ASYNC:
		r->u.submit_async.ctx_id = 1;
		r->u.submit_async.num_cmds = 1;
		r->u.submit_async.cmd.op = DRM_VGPU_CMD_FILL;
		r->u.submit_async.cmd.dst = 0x100000;
		r->u.submit_async.cmd.size = 8;
		break;
	}
}

static void vgpuif_valid_and_reserved(struct kunit *test)
{
	struct vgpuif_request r;
	u8 op;

	for (op = 1; op <= VGPUIF_OP_MAX; op++) {
		vgpuif_good(&r, op);
		KUNIT_EXPECT_EQ_MSG(test, vgpuif_check_request(&r), 0, "%s",
				    vgpuif_op_name(op));
		r.reserved[6] = 1;
		KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
		vgpuif_good(&r, op);
		r.u.raw[VGPUIF_PAYLOAD_SIZE - 1] = 0x80;
		KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
	}
	vgpuif_good(&r, 0);
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EOPNOTSUPP);
	vgpuif_good(&r, VGPUIF_OP_MAX + 1);
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EOPNOTSUPP);
	KUNIT_EXPECT_STREQ(test, vgpuif_op_name(250), "unknown");
}

static void vgpuif_bad_arguments(struct kunit *test)
{
	struct vgpuif_request r;

	vgpuif_good(&r, VGPUIF_OP_BO_WRITE);
	r.u.bo_io.length = 4097;
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
	vgpuif_good(&r, VGPUIF_OP_BO_READ);
	r.u.bo_io.offset = 100;
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
	vgpuif_good(&r, VGPUIF_OP_SUBMIT);
	r.u.submit.ctx_id = 0;
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
	/* What a payload means is the core's to check, not the envelope's. */
	vgpuif_good(&r, VGPUIF_OP_VM_BIND);
	r.u.vm_bind.op.size = 0xfffffffffffff000ULL;
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), 0);
	vgpuif_good(&r, VGPUIF_OP_SUBMIT);
	r.u.submit.cmd.src = ~0ULL - 4;	/* source range wraps */
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), 0);
	vgpuif_good(&r, VGPUIF_OP_BO_CREATE);
	r.u.bo_create.handle = 5;	/* an output field */
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), 0);
	vgpuif_good(&r, VGPUIF_OP_BO_CREATE_GRANTED);
	r.u.bo_granted.size = 4097;	/* not whole pages */
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
	vgpuif_good(&r, VGPUIF_OP_VM_BIND_BATCH);
	r.u.vm_bind_batch.dir_gref = 0;	/* three ops need a directory */
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
	vgpuif_good(&r, VGPUIF_OP_SUBMIT_ASYNC);
	r.u.submit_async.num_cmds = 0;
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
	vgpuif_good(&r, VGPUIF_OP_SUBMIT_ASYNC);
	r.u.submit_async.dir_gref = 4;	/* one command, inline only */
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&r), -EINVAL);
}

static struct kunit_case vgpuif_cases[] = {
	KUNIT_CASE(vgpuif_valid_and_reserved),
	KUNIT_CASE(vgpuif_bad_arguments),
	{}
};

static struct kunit_suite vgpuif_suite = {
	.name = "vgpuif",
	.test_cases = vgpuif_cases,
};

kunit_test_suite(vgpuif_suite);
