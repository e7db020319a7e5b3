// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of the vGPU core with a fake engine: per-client object and
 * context tables, quotas, VM_BIND checks, jobs, fences, faults, hangs,
 * bans and teardown.
 */
#include <kunit/test.h>
#include <linux/dma-fence.h>
#include <linux/slab.h>

#include <linux/delay.h>

#include "../backend/vgpu_core.h"
#include "../backend/vgpuif_back.h"
#include "../common/vgpu_pt.h"
#include "../common/vgpu_uapi.h"

/* FILL values the fake engine understands. */
#define FAKE_FAULT	0xfa017
#define FAKE_HANG	0x4a46
#define FAKE_SPIN	0x5b17	/* runs for ever, just short of the watchdog */

/* The fake engine's watchdog, and the engine time a spin has used. */
static unsigned int fake_watchdog_ms = 100;
#define FAKE_SPIN_NS	(90 * NSEC_PER_MSEC)

struct vgpu_engine_ctx {
	int mappings;
	u64 group;		/* ctx_create()'s */
	u32 stack;		/* ctx_stack()'s last */
	struct vgpu_pt pt;	/* real page tables, at fake host addresses */
};

/* The group whose next context the fake engine refuses as paced (0: none). */
static u64 fake_paced_group;
/* The contexts the fake engine was asked for. */
static unsigned int fake_ctx_creates;
/* ctx_stack() calls, and the error the next one returns (0: none). */
static unsigned int fake_ctx_stacks;
static int fake_ctx_stack_err;

struct vgpu_engine_mem {
	u64 size;
};

static int fake_ctx_create(struct vgpu_engine *e, u64 group,
			   struct vgpu_engine_ctx **out)
{
	fake_ctx_creates++;
	if (group && group == fake_paced_group)
		return -EBUSY;
	*out = kzalloc(sizeof(**out), GFP_KERNEL);
	if (!*out)
		return -ENOMEM;
	(*out)->group = group;
	vgpu_pt_init(&(*out)->pt);
	return 0;
}

static void fake_ctx_destroy(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	WARN_ON(c->mappings);
	WARN_ON(c->pt.tables);
	vgpu_pt_fini(&c->pt);
	kfree(c);
}

static int fake_ctx_stack(struct vgpu_engine *e, struct vgpu_engine_ctx *c,
			  u32 stack_size)
{
	fake_ctx_stacks++;
	if (fake_ctx_stack_err)
		return fake_ctx_stack_err;
	c->stack = stack_size;
	return 0;
}

static int fake_mem_alloc(struct vgpu_engine *e, u64 size,
			  struct vgpu_engine_mem **out)
{
	*out = kzalloc(sizeof(**out), GFP_KERNEL);
	if (!*out)
		return -ENOMEM;
	(*out)->size = size;
	return 0;
}

static void fake_mem_free(struct vgpu_engine *e, struct vgpu_engine_mem *m)
{
	kfree(m);
}

static int fake_map(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		    const struct vgpu_backing *b, u64 offset, u64 size,
		    u32 perms)
{
	/* Never dereferenced: only the tables' memory matters here. */
	int ret = vgpu_pt_map(&c->pt, va, (u8 *)(BIT_ULL(44) + offset), size,
			      perms);

	if (!ret)
		c->mappings++;
	return ret;
}

static void fake_unmap(struct vgpu_engine *e, struct vgpu_engine_ctx *c,
		       u64 va, u64 size)
{
	vgpu_pt_unmap(&c->pt, va, size);
	c->mappings--;
}

static u64 fake_ctx_table_bytes(struct vgpu_engine *e,
				struct vgpu_engine_ctx *c)
{
	return vgpu_pt_bytes(&c->pt);
}

static enum vgpu_job_status fake_run(struct vgpu_engine *e,
				     struct vgpu_engine_ctx *c,
				     struct vgpu_engine_job *job, u64 budget)
{
	for (; job->next_cmd < job->num_cmds; job->next_cmd++) {
		const struct drm_vgpu_cmd *cmd = &job->cmds[job->next_cmd];

		if (cmd->op == DRM_VGPU_CMD_FILL && cmd->value == FAKE_FAULT) {
			job->fault_kind = DRM_VGPU_FAULT_UNMAPPED;
			job->fault_addr = cmd->dst;
			return VGPU_JOB_FAULTED;
		}
		if (cmd->op == DRM_VGPU_CMD_FILL && cmd->value == FAKE_HANG)
			return VGPU_JOB_TIMEDOUT;
		if ((cmd->op == DRM_VGPU_CMD_FILL && cmd->value == FAKE_SPIN) ||
		    (cmd->op == DRM_VGPU_CMD_LAUNCH &&
		     cmd->params[0] == FAKE_SPIN)) {
			/* Engine time stays short of the watchdog. */
			job->cmd_busy_ns = FAKE_SPIN_NS;
			usleep_range(500, 1000);
			return VGPU_JOB_PREEMPTED;
		}
	}
	return VGPU_JOB_DONE;
}

static void fake_job_release(struct vgpu_engine *e, struct vgpu_engine_job *j)
{
}

static const struct vgpu_engine_ops fake_ops = {
	.ctx_create = fake_ctx_create,
	.ctx_destroy = fake_ctx_destroy,
	.mem_alloc = fake_mem_alloc,
	.mem_free = fake_mem_free,
	.map = fake_map,
	.unmap = fake_unmap,
	.run = fake_run,
	.job_release = fake_job_release,
	.ctx_table_bytes = fake_ctx_table_bytes,
	.ctx_stack = fake_ctx_stack,
};

static struct vgpu_engine fake_engine = {
	.name = "fake",
	.ops = &fake_ops,
	.mem_size = 1 << 30,
	.isa_version = 1,
	.flags = VGPU_ENGINE_PREEMPTIBLE,
	.watchdog_ms = &fake_watchdog_ms,
};

static int core_suite_init(struct kunit_suite *suite)
{
	return vgpu_engine_register(&fake_engine);
}

static void core_suite_exit(struct kunit_suite *suite)
{
	vgpu_engine_unregister(&fake_engine);
}

/* What a test set on the fake engine goes, passed or failed. */
static void core_test_exit(struct kunit *test)
{
	WRITE_ONCE(fake_engine.ctx_mem, 0);
	WRITE_ONCE(fake_engine.features, 0);
	WRITE_ONCE(fake_engine.max_stack, 0);
	WRITE_ONCE(fake_engine.stack_threads, 0);
	fake_ctx_stack_err = 0;
	fake_paced_group = 0;
}

static u32 new_ctx(struct kunit *test, struct vgpu_client *c)
{
	struct drm_vgpu_ctx_create a = {};

	KUNIT_ASSERT_EQ(test, vgpu_op_ctx_create(c, &a), 0);
	KUNIT_ASSERT_NE(test, a.ctx_id, 0U);
	return a.ctx_id;
}

/* BO_CREATE of device memory, as every transport sends it. */
static int dev_bo(struct vgpu_client *c, u64 size, u32 *h)
{
	struct drm_vgpu_bo_create a = {
		.size = size, .domain = DRM_VGPU_DOMAIN_DEVICE,
	};
	int ret = vgpu_op_bo_create(c, &a, NULL, NULL);

	*h = a.handle;
	return ret;
}

static int destroy_bo(struct vgpu_client *c, u32 handle)
{
	struct drm_vgpu_bo_destroy a = { .handle = handle };

	return vgpu_op_bo_destroy(c, &a);
}

static u32 new_bo(struct kunit *test, struct vgpu_client *c, u64 size)
{
	u32 h = 0;

	KUNIT_ASSERT_EQ(test, dev_bo(c, size, &h), 0);
	return h;
}

static int bind(struct vgpu_client *c, u32 ctx, u32 op, u32 handle, u64 off,
		u64 va, u64 size)
{
	struct drm_vgpu_vm_bind_op o = {
		.op = op, .handle = handle, .bo_offset = off, .va = va,
		.size = size,
		.flags = op == DRM_VGPU_BIND_MAP ? DRM_VGPU_BIND_READ : 0,
	};
	u32 done;

	return vgpu_op_vm_bind(c, ctx, &o, 1, &done);
}

/* Submits one FILL with @value; returns the error and the fence. */
static int submit_fill(struct vgpu_client *c, u32 ctx, u32 value,
		       struct dma_fence **f)
{
	struct drm_vgpu_cmd *cmd = kvzalloc(sizeof(*cmd), GFP_KERNEL);
	u64 seqno;
	int ret;

	if (!cmd)
		return -ENOMEM;
	cmd->op = DRM_VGPU_CMD_FILL;
	cmd->dst = 0x100000;
	cmd->size = 4;
	cmd->value = value;
	ret = vgpu_op_submit(c, ctx, cmd, 1, NULL, 0, f, &seqno);
	if (ret)
		kvfree(cmd);
	return ret;
}

/* A one-thread launch the fake engine runs for ever, short of the watchdog. */
static int submit_spin(struct vgpu_client *c, u32 ctx, struct dma_fence **f)
{
	static const u32 one_each[3] = { 1, 1, 1 };
	struct drm_vgpu_cmd *cmd = kvzalloc(sizeof(*cmd), GFP_KERNEL);
	u64 seqno;
	int ret;

	if (!cmd)
		return -ENOMEM;
	cmd->op = DRM_VGPU_CMD_LAUNCH;
	cmd->src = 0x100000;
	memcpy(cmd->grid, one_each, sizeof(cmd->grid));
	memcpy(cmd->block, one_each, sizeof(cmd->block));
	cmd->params[0] = FAKE_SPIN;
	ret = vgpu_op_submit(c, ctx, cmd, 1, NULL, 0, f, &seqno);
	if (ret)
		kvfree(cmd);
	return ret;
}

static const char *test_fence_name(struct dma_fence *f)
{
	return "vgpu-test";
}

static const struct dma_fence_ops test_fence_ops = {
	.get_driver_name = test_fence_name,
	.get_timeline_name = test_fence_name,
};

static DEFINE_SPINLOCK(test_fence_lock);

static void core_dependencies_and_order(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "deps", NULL);
	struct dma_fence *gate = kzalloc(sizeof(*gate), GFP_KERNEL);
	struct drm_vgpu_cmd *cmd;
	struct dma_fence *a, *b;
	u64 seqno;
	u32 ctx;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_NOT_NULL(test, gate);
	dma_fence_init(gate, &test_fence_ops, &test_fence_lock,
		       dma_fence_context_alloc(1), 1);
	ctx = new_ctx(test, c);
	cmd = kvzalloc(sizeof(*cmd), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	cmd->op = DRM_VGPU_CMD_FILL;
	cmd->dst = 0x100000;
	cmd->size = 4;
	KUNIT_ASSERT_EQ(test, vgpu_op_submit(c, ctx, cmd, 1, &gate, 1, &a,
					     &seqno), 0);
	KUNIT_EXPECT_EQ(test, seqno, 1ULL);
	/* b has no dependency but must not overtake a on the same context */
	KUNIT_ASSERT_EQ(test, submit_fill(c, ctx, 1, &b), 0);
	KUNIT_EXPECT_EQ(test, dma_fence_wait_timeout(b, false, HZ / 5), 0L);
	KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(a));
	dma_fence_signal(gate);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(a, false, 5 * HZ), 0L);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(b, false, 5 * HZ), 0L);
	KUNIT_EXPECT_EQ(test, a->error, 0);
	KUNIT_EXPECT_EQ(test, b->error, 0);
	dma_fence_put(a);
	dma_fence_put(b);
	dma_fence_put(gate);
	vgpu_client_destroy(c);
}

static void core_destroy_cancels_waiting_jobs(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "cancel", NULL);
	struct dma_fence *gate = kzalloc(sizeof(*gate), GFP_KERNEL);
	struct drm_vgpu_ctx_destroy d = {};
	struct drm_vgpu_cmd *cmd;
	struct dma_fence *a;
	u64 seqno;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_NOT_NULL(test, gate);
	dma_fence_init(gate, &test_fence_ops, &test_fence_lock,
		       dma_fence_context_alloc(1), 1);
	d.ctx_id = new_ctx(test, c);
	cmd = kvzalloc(sizeof(*cmd), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cmd);
	cmd->op = DRM_VGPU_CMD_FILL;
	cmd->dst = 0x100000;
	cmd->size = 4;
	KUNIT_ASSERT_EQ(test, vgpu_op_submit(c, d.ctx_id, cmd, 1, &gate, 1, &a,
					     &seqno), 0);
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
	KUNIT_EXPECT_TRUE(test, dma_fence_is_signaled(a));
	KUNIT_EXPECT_EQ(test, a->error, -ECANCELED);
	/* The gate signalling later must not touch the cancelled job */
	dma_fence_signal(gate);
	dma_fence_put(a);
	dma_fence_put(gate);
	vgpu_client_destroy(c);
}

static void core_quotas(struct kunit *test)
{
	unsigned int old_ctx = vgpu_quota_contexts;
	struct vgpu_client *c, *d;
	u32 h, big;

	/* Clients take the module parameters when they are created... */
	vgpu_quota_contexts = 5;
	c = vgpu_client_create(fake_engine.dev, "quota", NULL);
	vgpu_quota_contexts = old_ctx;
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_EXPECT_EQ(test, c->quota.contexts, 5U);
	/* ... and a transport may set its own per client */
	c->quota.contexts = 2;
	c->quota.objects = 3;
	c->quota.devmem = 1 << 20;
	new_ctx(test, c);
	new_ctx(test, c);
	{
		struct drm_vgpu_ctx_create a = {};

		KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(c, &a), -EDQUOT);
	}
	big = new_bo(test, c, 1 << 20);
	KUNIT_EXPECT_EQ(test, dev_bo(c, 4096, &h), -EDQUOT);
	KUNIT_EXPECT_EQ(test, destroy_bo(c, big), 0);
	new_bo(test, c, 4096);
	new_bo(test, c, 4096);
	new_bo(test, c, 4096);
	KUNIT_EXPECT_EQ(test, dev_bo(c, 4096, &h), -EDQUOT);
	KUNIT_EXPECT_EQ(test, c->num_bos, 3U);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 3ULL * 4096);
	KUNIT_EXPECT_EQ(test, dev_bo(c, 2 << 20, &h), -EDQUOT);
	/* Another client is not limited by the first one's quota */
	d = vgpu_client_create(fake_engine.dev, "quota2", NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(d));
	new_bo(test, d, 1 << 20);
	vgpu_client_destroy(d);
	vgpu_client_destroy(c);
}

static void core_handles_are_per_client(struct kunit *test)
{
	struct vgpu_client *a = vgpu_client_create(fake_engine.dev, "a", NULL);
	struct vgpu_client *b = vgpu_client_create(fake_engine.dev, "b", NULL);
	struct drm_vgpu_ctx_destroy d = {};
	u32 actx, bctx, abo;

	KUNIT_ASSERT_FALSE(test, IS_ERR(a) || IS_ERR(b));
	actx = new_ctx(test, a);
	bctx = new_ctx(test, b);
	abo = new_bo(test, a, 8192);
	/* b names a's object and a's context: both unknown to b */
	KUNIT_EXPECT_EQ(test, bind(b, bctx, DRM_VGPU_BIND_MAP, abo + 1, 0,
				   0x100000, 4096), -ENOENT);
	KUNIT_EXPECT_EQ(test, bind(b, actx + 1, DRM_VGPU_BIND_MAP, abo, 0,
				   0x100000, 4096), -ENOENT);
	KUNIT_EXPECT_EQ(test, destroy_bo(b, abo), -ENOENT);
	d.ctx_id = actx + 7;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(b, &d), -ENOENT);
	KUNIT_EXPECT_EQ(test, bind(a, actx, DRM_VGPU_BIND_MAP, abo, 0,
				   0x100000, 8192), 0);
	vgpu_client_destroy(a);
	vgpu_client_destroy(b);
}

static void core_vm_bind(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "bind", NULL);
	struct drm_vgpu_vm_bind_op ops[3] = {};
	u32 ctx, bo, done = 99;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	ctx = new_ctx(test, c);
	bo = new_bo(test, c, 4 * 4096);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0, 0x100000,
				   4 * 4096), 0);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0, 0x102000,
				   4096), -EEXIST);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 4096,
				   0x200000, 4 * 4096), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo,
				   0xfffffffffffff000ULL, 0x200000, 4096), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0, 0x500000,
				   4096), -ENOENT);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0, 0x103000,
				   2 * 4096), -ENOENT);	/* runs past the mapping */
	/* A batch stops at its first bad operation and says how far it got */
	ops[0] = (struct drm_vgpu_vm_bind_op){ .op = DRM_VGPU_BIND_MAP,
		.flags = DRM_VGPU_BIND_WRITE, .handle = bo, .va = 0x300000,
		.size = 4096 };
	ops[1] = ops[0];
	ops[1].va = 0x300000;	/* overlaps ops[0] */
	ops[2] = ops[0];
	ops[2].va = 0x400000;
	KUNIT_EXPECT_EQ(test, vgpu_op_vm_bind(c, ctx, ops, 3, &done), -EEXIST);
	KUNIT_EXPECT_EQ(test, done, 1U);
	/* The object outlives its handle while mapped */
	KUNIT_EXPECT_EQ(test, destroy_bo(c, bo), 0);
	KUNIT_EXPECT_EQ(test, c->num_bos, 1U);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0, 0x100000,
				   4 * 4096), 0);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0, 0x300000,
				   4096), 0);
	KUNIT_EXPECT_EQ(test, c->num_bos, 0U);
	vgpu_client_destroy(c);
}

static void core_page_by_page_binds(struct kunit *test)
{
	s64 mappings = atomic64_read(&vgpu_global_stats.mappings);
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "pages", NULL);
	struct vgpu_ctx *ctx;
	u32 id, bo, p;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	id = new_ctx(test, c);
	bo = new_bo(test, c, 8 * 4096);
	for (p = 0; p < 8; p++)
		KUNIT_ASSERT_EQ(test, bind(c, id, DRM_VGPU_BIND_MAP, bo, p * 4096,
					   0x100000 + p * 4096, 4096), 0);
	ctx = xa_load(&c->ctxs, id);
	KUNIT_EXPECT_EQ(test, ctx->vm.count, 1U);
	KUNIT_EXPECT_EQ(test, ctx->ectx->mappings, 8);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_global_stats.mappings),
			mappings + 1);
	/* A hole in the middle splits; the object is referenced twice */
	KUNIT_EXPECT_EQ(test, bind(c, id, DRM_VGPU_BIND_UNMAP, 0, 0, 0x103000,
				   4096), 0);
	KUNIT_EXPECT_EQ(test, ctx->vm.count, 2U);
	KUNIT_EXPECT_EQ(test, destroy_bo(c, bo), 0);
	KUNIT_EXPECT_EQ(test, c->num_bos, 1U);
	for (p = 0; p < 8; p++) {
		if (p == 3)
			continue;
		KUNIT_EXPECT_EQ(test, bind(c, id, DRM_VGPU_BIND_UNMAP, 0, 0,
					   0x100000 + p * 4096, 4096), 0);
	}
	KUNIT_EXPECT_EQ(test, ctx->vm.count, 0U);
	KUNIT_EXPECT_EQ_MSG(test, c->num_bos, 0U, "the last unmap frees it");
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_global_stats.mappings),
			mappings);
	vgpu_client_destroy(c);
}

static void core_jobs_faults_hangs(struct kunit *test)
{
	unsigned int old_limit = vgpu_hang_limit;
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "jobs", NULL);
	struct drm_vgpu_ctx_status st = {};
	struct drm_vgpu_ctx_create cc = {};
	struct dma_fence *f;
	u32 ok, bad, hung1, hung2;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	vgpu_hang_limit = 2;
	ok = new_ctx(test, c);
	bad = new_ctx(test, c);

	KUNIT_ASSERT_EQ(test, submit_fill(c, ok, 1, &f), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	KUNIT_EXPECT_EQ(test, f->error, 0);
	dma_fence_put(f);

	KUNIT_ASSERT_EQ(test, submit_fill(c, bad, FAKE_FAULT, &f), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	KUNIT_EXPECT_EQ(test, f->error, -EFAULT);
	dma_fence_put(f);
	st.ctx_id = bad;
	KUNIT_ASSERT_EQ(test, vgpu_op_ctx_status(c, &st), 0);
	KUNIT_EXPECT_EQ(test, st.status, (u32)DRM_VGPU_CTX_FAULTED);
	KUNIT_EXPECT_EQ(test, st.fault_addr, 0x100000ULL);
	KUNIT_EXPECT_EQ(test, st.fault_kind, (u32)DRM_VGPU_FAULT_UNMAPPED);
	KUNIT_EXPECT_EQ(test, submit_fill(c, bad, 1, &f), -EIO);

	/* The other context is unaffected */
	KUNIT_ASSERT_EQ(test, submit_fill(c, ok, 2, &f), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	KUNIT_EXPECT_EQ(test, f->error, 0);
	dma_fence_put(f);

	/* Two hangs reach the limit: the client is banned */
	hung1 = new_ctx(test, c);
	KUNIT_ASSERT_EQ(test, submit_fill(c, hung1, FAKE_HANG, &f), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	KUNIT_EXPECT_EQ(test, f->error, -ETIMEDOUT);
	dma_fence_put(f);
	hung2 = new_ctx(test, c);
	KUNIT_ASSERT_EQ(test, submit_fill(c, hung2, FAKE_HANG, &f), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	dma_fence_put(f);
	st.ctx_id = ok;
	KUNIT_ASSERT_EQ(test, vgpu_op_ctx_status(c, &st), 0);
	KUNIT_EXPECT_EQ(test, st.status, (u32)DRM_VGPU_CTX_BANNED);
	KUNIT_EXPECT_EQ(test, st.completed, 2ULL);
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(c, &cc), -EIO);
	KUNIT_EXPECT_EQ(test, submit_fill(c, ok, 1, &f), -EIO);
	vgpu_hang_limit = old_limit;
	vgpu_client_destroy(c);
}

/*
 * Two engines are two devices: each its own index, clients, promised
 * memory, scheduler and counters.  A client that hangs on one and is
 * banned leaves a client of the other running, its memory promised
 * unchanged; a device's group refuses a client of another device.
 */
static void core_two_devices(struct kunit *test)
{
	struct vgpu_engine second = fake_engine;
	struct vgpu_engine_info ia, ib;
	struct vgpu_client *a, *b;
	struct dma_fence *f;
	u32 old_limit = vgpu_hang_limit;
	s64 hangs_b;
	u32 ca, cb;

	second.name = "fake2";
	second.mem_size = 64 << 20;
	second.dev = NULL;
	KUNIT_ASSERT_EQ(test, vgpu_engine_register(&second), 0);
	KUNIT_ASSERT_NOT_NULL(test, second.dev);
	KUNIT_EXPECT_NE(test, second.dev->index, fake_engine.dev->index);
	KUNIT_EXPECT_PTR_EQ(test, vgpu_device_find(second.dev->index),
			    second.dev);
	vgpu_device_put(second.dev);	/* the find's reference */

	a = vgpu_client_create(fake_engine.dev, "dev-a", NULL);
	b = vgpu_client_create(second.dev, "dev-b", NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_EQ(test, PTR_ERR(vgpu_client_create(second.dev, "x",
							 a->group)),
			-EINVAL);
	vgpu_engine_info(fake_engine.dev, &ia);
	vgpu_engine_info(second.dev, &ib);
	KUNIT_EXPECT_STREQ(test, ib.name, "fake2");
	KUNIT_EXPECT_EQ(test, ib.mem_size, 64ULL << 20);
	KUNIT_EXPECT_EQ(test, ib.clients, 1U);
	KUNIT_EXPECT_EQ(test, ib.promised, (u64)vgpu_quota_devmem_mb << 20);

	/* a hangs once and is banned on its device... */
	vgpu_hang_limit = 1;
	ca = new_ctx(test, a);
	cb = new_ctx(test, b);
	hangs_b = atomic64_read(&second.dev->stats.hangs);
	KUNIT_ASSERT_EQ(test, submit_fill(a, ca, FAKE_HANG, &f), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	KUNIT_EXPECT_EQ(test, f->error, -ETIMEDOUT);
	dma_fence_put(f);
	KUNIT_EXPECT_TRUE(test, a->banned);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fake_engine.dev->stats.hangs) > 0,
			true);

	/* ...and b's jobs on the other run, its device's counts unchanged. */
	KUNIT_ASSERT_EQ(test, submit_fill(b, cb, 7, &f), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	KUNIT_EXPECT_EQ(test, f->error, 0);
	dma_fence_put(f);
	KUNIT_EXPECT_FALSE(test, b->banned);
	KUNIT_EXPECT_EQ(test, atomic64_read(&second.dev->stats.hangs), hangs_b);
	KUNIT_EXPECT_EQ(test, atomic64_read(&second.dev->stats.completed), 1LL);
	vgpu_engine_info(second.dev, &ib);
	KUNIT_EXPECT_EQ(test, ib.promised, (u64)vgpu_quota_devmem_mb << 20);

	vgpu_hang_limit = old_limit;
	vgpu_client_destroy(a);
	vgpu_client_destroy(b);
	vgpu_engine_info(second.dev, &ib);
	KUNIT_EXPECT_EQ(test, ib.clients, 0U);
	KUNIT_EXPECT_EQ(test, ib.promised, 0ULL);
	vgpu_engine_unregister(&second);
	KUNIT_EXPECT_NULL(test, second.dev);
	KUNIT_EXPECT_NULL(test, vgpu_device_find(1));
}

static void core_teardown_releases_everything(struct kunit *test)
{
	s64 objects = atomic64_read(&vgpu_global_stats.objects);
	s64 mappings = atomic64_read(&vgpu_global_stats.mappings);
	s64 contexts = atomic64_read(&vgpu_global_stats.contexts);
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "teardown", NULL);
	struct dma_fence *f;
	u32 ctx, bo;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	ctx = new_ctx(test, c);
	for (i = 0; i < 8; i++) {
		bo = new_bo(test, c, 4096);
		KUNIT_ASSERT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0,
					   0x100000 + i * 0x10000, 4096), 0);
	}
	KUNIT_ASSERT_EQ(test, submit_fill(c, ctx, 3, &f), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_global_stats.objects),
			objects + 8);
	vgpu_client_destroy(c);
	/* A job still queued is either done or cancelled, never lost */
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	dma_fence_put(f);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_global_stats.objects), objects);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_global_stats.mappings), mappings);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_global_stats.contexts), contexts);
}

/*
 * A VM_BIND that looked its context up before a concurrent destroy must
 * not map into the dead context: its mapping would hold the object (and
 * its quota) forever.
 */
static void core_bind_races_destroy(struct kunit *test)
{
	s64 objects = atomic64_read(&vgpu_global_stats.objects);
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "bind-race", NULL);
	struct drm_vgpu_ctx_destroy d = {};
	struct drm_vgpu_vm_bind_op o = {
		.op = DRM_VGPU_BIND_MAP, .flags = DRM_VGPU_BIND_READ,
		.va = 0x100000, .size = 4096,
	};
	struct vgpu_ctx *ctx;
	u32 done = 1;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	d.ctx_id = new_ctx(test, c);
	o.handle = new_bo(test, c, 4096);
	ctx = vgpu_ctx_lookup(c, d.ctx_id);	/* the racing bind's reference */
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
	KUNIT_EXPECT_EQ(test, vgpu_ctx_vm_bind(ctx, &o, 1, &done), -ENOENT);
	KUNIT_EXPECT_EQ(test, done, 0U);
	vgpu_ctx_put(ctx);
	KUNIT_EXPECT_EQ(test, destroy_bo(c, o.handle), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_global_stats.objects), objects);
	KUNIT_EXPECT_EQ(test, c->mapped_bytes, 0ULL);
	vgpu_client_destroy(c);
}

/* One object mapped again and again is charged for every mapping. */
static void core_mapping_quota(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "mapped", NULL);
	struct vgpu_quota q;
	u32 ctx, bo;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	q = c->quota;
	q.mapped = 4 * 16384;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	ctx = new_ctx(test, c);
	bo = new_bo(test, c, 16384);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0,
					   0x100000 + i * 0x100000, 16384), 0);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0, 0x900000,
				   16384), -EDQUOT);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0, 0x100000,
				   4096), 0);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0, 0x900000,
				   4096), 0);
	KUNIT_EXPECT_EQ(test, c->mapped_bytes, 4ULL * 16384);
	vgpu_client_destroy(c);
}

/* Queued jobs and their commands are bounded per client. */
static void core_job_quota(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "jobs", NULL);
	struct dma_fence *gate = kzalloc(sizeof(*gate), GFP_KERNEL);
	struct dma_fence *f[3];
	struct vgpu_quota q;
	u64 seqno;
	u32 ctx;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_NOT_NULL(test, gate);
	dma_fence_init(gate, &test_fence_ops, &test_fence_lock,
		       dma_fence_context_alloc(1), 1);
	q = c->quota;
	q.jobs = 2;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	ctx = new_ctx(test, c);
	for (i = 0; i < 2; i++) {
		struct drm_vgpu_cmd *cmd = kvzalloc(sizeof(*cmd), GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, cmd);
		cmd->op = DRM_VGPU_CMD_FILL;
		cmd->dst = 0x100000;
		cmd->size = 4;
		KUNIT_ASSERT_EQ(test, vgpu_op_submit(c, ctx, cmd, 1, &gate, 1,
						     &f[i], &seqno), 0);
	}
	KUNIT_EXPECT_EQ(test, submit_fill(c, ctx, 0, &f[2]), -EDQUOT);
	KUNIT_EXPECT_EQ(test, c->num_jobs, 2U);
	dma_fence_signal(gate);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f[i], false, 5 * HZ),
				0L);
		dma_fence_put(f[i]);
	}
	KUNIT_EXPECT_EQ(test, c->num_jobs, 0U);
	KUNIT_EXPECT_EQ(test, c->num_cmds, 0U);
	KUNIT_ASSERT_EQ(test, submit_fill(c, ctx, 0, &f[2]), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f[2], false, 5 * HZ), 0L);
	dma_fence_put(f[2]);
	dma_fence_put(gate);
	vgpu_client_destroy(c);
}

/* Device memory is never promised twice: quotas are admission control. */
static void core_devmem_promise(struct kunit *test)
{
	struct vgpu_client *a = vgpu_client_create(fake_engine.dev, "promise-a", NULL), *b;
	struct vgpu_quota q;

	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	q = a->quota;
	q.devmem = fake_engine.mem_size * 2;
	KUNIT_EXPECT_EQ(test, vgpu_client_set_quota(a, &q), -ENOSPC);
	KUNIT_EXPECT_EQ(test, a->quota.devmem, (u64)vgpu_quota_devmem_mb << 20);
	q.devmem = fake_engine.mem_size;
	KUNIT_EXPECT_EQ(test, vgpu_client_set_quota(a, &q), 0);
	b = vgpu_client_create(fake_engine.dev, "promise-b", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(b), -ENOSPC);
	if (!IS_ERR(b))
		vgpu_client_destroy(b);
	vgpu_client_destroy(a);
	b = vgpu_client_create(fake_engine.dev, "promise-b", NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	vgpu_client_destroy(b);
}

/*
 * Quotas change at run time: lowered below what a client holds, they
 * refuse its new allocations and take nothing away; its promise stays
 * what it holds until it frees it, so the memory in use is never
 * promised to another client meanwhile.
 */
static void core_quota_lowered_at_run_time(struct kunit *test)
{
	struct vgpu_client *a = vgpu_client_create(fake_engine.dev, "lower", NULL), *b;
	struct vgpu_engine_info info;
	struct vgpu_quota q;
	u64 rest;
	u32 h1, h2, h3;

	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	h1 = new_bo(test, a, 4 << 20);
	h2 = new_bo(test, a, 4 << 20);
	q = a->quota;
	q.devmem = 1 << 20;
	q.contexts = 0;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(a, &q), 0);
	KUNIT_EXPECT_EQ(test, a->device_bytes, 8ULL << 20);	/* kept */
	KUNIT_EXPECT_EQ(test, a->promised, 8ULL << 20);
	KUNIT_EXPECT_EQ(test, dev_bo(a, 4096, &h3), -EDQUOT);
	{
		struct drm_vgpu_ctx_create c = {};

		KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(a, &c), -EDQUOT);
	}
	/* All the rest of the engine goes to b; a's 8 MiB stay a's. */
	vgpu_engine_info(fake_engine.dev, &info);
	rest = info.mem_size - info.promised;
	b = vgpu_client_create(fake_engine.dev, "lower-b", NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	q = b->quota;
	q.devmem = rest + 4096;
	KUNIT_EXPECT_EQ(test, vgpu_client_set_quota(b, &q), -ENOSPC);
	q.devmem = rest;
	KUNIT_EXPECT_EQ(test, vgpu_client_set_quota(b, &q), 0);
	/* The engine is fully promised: a cannot have more than it holds. */
	q = a->quota;
	q.devmem = 9 << 20;
	KUNIT_EXPECT_EQ(test, vgpu_client_set_quota(a, &q), -ENOSPC);
	/* a frees: its promise shrinks to its quota, 1 MiB */
	KUNIT_EXPECT_EQ(test, destroy_bo(a, h1), 0);
	KUNIT_EXPECT_EQ(test, a->promised, 4ULL << 20);
	KUNIT_EXPECT_EQ(test, destroy_bo(a, h2), 0);
	KUNIT_EXPECT_EQ(test, a->promised, 1ULL << 20);
	vgpu_engine_info(fake_engine.dev, &info);
	KUNIT_EXPECT_EQ(test, info.promised, b->promised + (1ULL << 20));
	/* Raised again: allowed back in. */
	q = a->quota;
	q.contexts = 1;
	KUNIT_EXPECT_EQ(test, vgpu_client_set_quota(a, &q), 0);
	new_ctx(test, a);
	vgpu_client_destroy(b);
	vgpu_client_destroy(a);
}

/* Weights and caps are checked; a group outlives its clients' use. */
static void core_group_settings(struct kunit *test)
{
	struct vgpu_group *g = vgpu_group_create(fake_engine.dev, "g");
	struct vgpu_client *a, *b;
	u32 w = 0, cap = 7, bad = 1001;

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_EXPECT_EQ(test, vgpu_group_set(g, &w, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_group_set(g, &bad, NULL), -EINVAL);
	bad = 101;
	KUNIT_EXPECT_EQ(test, vgpu_group_set(g, NULL, &bad), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_group_set(g, NULL, &cap), 0);
	w = 300;
	KUNIT_EXPECT_EQ(test, vgpu_group_set(g, &w, NULL), 0);
	vgpu_group_get_settings(g, &w, &cap);
	KUNIT_EXPECT_EQ(test, w, 300U);
	KUNIT_EXPECT_EQ(test, cap, 7U);
	a = vgpu_client_create(fake_engine.dev, "in-g", g);
	b = vgpu_client_create(fake_engine.dev, "in-g-too", g);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a) || IS_ERR(b));
	KUNIT_EXPECT_PTR_EQ(test, a->group, g);
	KUNIT_EXPECT_EQ(test, kref_read(&g->ref), 3U);
	vgpu_group_put(g);	/* the owner goes first: the clients keep it */
	vgpu_client_destroy(a);
	vgpu_client_destroy(b);
}

/* The engine state of @c's context @id (NULL: none). */
static struct vgpu_engine_ctx *engine_ctx(struct vgpu_client *c, u32 id)
{
	struct vgpu_ctx *ctx = xa_load(&c->ctxs, id);

	return ctx ? ctx->ectx : NULL;
}

/*
 * The engine is told each context's group: the same number for two
 * clients of one group (a guest's connections), another for a client of
 * its own group, never 0.  A group the engine paces gets -EBUSY and
 * holds nothing; another group's contexts are still made.
 */
static void core_ctx_create_names_the_group(struct kunit *test)
{
	struct vgpu_group *g = vgpu_group_create(fake_engine.dev, "g");
	struct drm_vgpu_ctx_create a = {};
	struct vgpu_client *c1, *c2, *other;
	struct vgpu_quota q;
	unsigned int calls;
	u64 g1, g2, go;

	KUNIT_ASSERT_NOT_NULL(test, g);
	c1 = vgpu_client_create(fake_engine.dev, "g-1", g);
	c2 = vgpu_client_create(fake_engine.dev, "g-2", g);
	other = vgpu_client_create(fake_engine.dev, "other", NULL);
	vgpu_group_put(g);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c1) || IS_ERR(c2) || IS_ERR(other));
	g1 = engine_ctx(c1, new_ctx(test, c1))->group;
	g2 = engine_ctx(c2, new_ctx(test, c2))->group;
	go = engine_ctx(other, new_ctx(test, other))->group;
	KUNIT_EXPECT_NE(test, g1, 0ULL);
	KUNIT_EXPECT_EQ(test, g1, g2);
	KUNIT_EXPECT_EQ(test, g1, c1->group->id);
	KUNIT_EXPECT_NE(test, go, g1);

	fake_paced_group = g1;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(c2, &a), -EBUSY);
	KUNIT_EXPECT_EQ(test, c2->num_ctxs, 1U);
	KUNIT_EXPECT_NE(test, engine_ctx(other, new_ctx(test, other))->group,
			0ULL);
	fake_paced_group = 0;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(c2, &a), 0);
	KUNIT_EXPECT_EQ(test, c2->num_ctxs, 2U);

	/* Past its quota, a client's context costs the engine nothing. */
	q = c2->quota;
	q.contexts = 2;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c2, &q), 0);
	calls = fake_ctx_creates;
	a.ctx_id = 0;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(c2, &a), -EDQUOT);
	KUNIT_EXPECT_EQ(test, fake_ctx_creates, calls);
	KUNIT_EXPECT_EQ(test, c2->num_ctxs, 2U);
	vgpu_client_destroy(c1);
	vgpu_client_destroy(c2);
	vgpu_client_destroy(other);
}

/*
 * The device memory an engine holds for each context (a GPU worker's
 * CUDA context) is the client's: GET_INFO tells it in whole pages, each
 * context takes it from the device-memory quota (past it: -EDQUOT, and
 * the engine is not asked; refused by the engine: given back), and a
 * context gives back what it took, even after the engine's figure
 * changed.  A context that holds nothing is made under a quota lowered
 * below what the client holds, and the promise shrinks as it frees.
 */
static void core_context_memory_charged(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "ctxmem", NULL);
	struct drm_vgpu_ctx_destroy d = {};
	struct drm_vgpu_ctx_create a = {};
	const u64 charge = SZ_1M + SZ_4K;
	struct drm_vgpu_info info;
	struct vgpu_quota q;
	unsigned int calls;
	u32 ctx1, ctx2;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	q = c->quota;
	q.devmem = 4 << 20;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	WRITE_ONCE(fake_engine.ctx_mem, SZ_1M + 1);
	vgpu_op_info(c, 0, &info);
	KUNIT_EXPECT_EQ(test, info.context_memory, charge);

	fake_paced_group = c->group->id;	/* the engine refuses it */
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(c, &a), -EBUSY);
	fake_paced_group = 0;
	KUNIT_EXPECT_EQ(test, c->device_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->stats.device_bytes), 0LL);
	KUNIT_EXPECT_EQ(test, c->num_ctxs, 0U);

	ctx1 = new_ctx(test, c);
	KUNIT_EXPECT_EQ(test, c->device_bytes, charge);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->stats.device_bytes), (s64)charge);
	new_bo(test, c, 2 << 20);
	calls = fake_ctx_creates;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_create(c, &a), -EDQUOT);
	KUNIT_EXPECT_EQ(test, fake_ctx_creates, calls);
	KUNIT_EXPECT_EQ(test, c->num_ctxs, 1U);
	KUNIT_EXPECT_EQ(test, c->device_bytes, (2 << 20) + charge);

	/*
	 * Below what it holds: the promise stays.  The engine's figure
	 * changes to none: a context is made all the same, and ctx1 still
	 * returns its own.
	 */
	q.devmem = 1 << 20;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	KUNIT_EXPECT_EQ(test, c->promised, (2 << 20) + charge);
	WRITE_ONCE(fake_engine.ctx_mem, 0);
	ctx2 = new_ctx(test, c);
	KUNIT_EXPECT_EQ(test, c->device_bytes, (2 << 20) + charge);
	d.ctx_id = ctx1;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 2ULL << 20);
	KUNIT_EXPECT_EQ(test, c->promised, 2ULL << 20);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->stats.device_bytes),
			(s64)(2 << 20));
	d.ctx_id = ctx2;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 2ULL << 20);
	vgpu_client_destroy(c);
}

/*
 * DRM_IOCTL_VGPU_CTX_STACK: refused where the engine gives no stack (no
 * feature, bounds out of the uAPI's), for bad arguments and for another
 * client's context; a stack is rounded up to a power of two, charged
 * (S - 1 KiB) x the engine's threads rounded up to whole GPU pages before
 * the engine is told, never lowered, refused past the quota counting what
 * the client holds with nothing changed, returned exactly when the engine
 * refuses, and given back with the context as charged, whatever the
 * engine's figures say by then.
 */
static void core_context_stack_charged(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "stack", NULL);
	struct vgpu_client *other = vgpu_client_create(fake_engine.dev, "other", NULL);
	const u64 threads = 1001;	/* no whole page: rounded up */
	const u64 kib8 = round_up(7168 * threads, SZ_4K);
	const u64 kib16 = round_up(15360 * threads, SZ_4K);
	struct drm_vgpu_ctx_destroy d = {};
	struct drm_vgpu_ctx_stack a = {};
	struct drm_vgpu_info info;
	struct vgpu_ctx *ctx;
	struct vgpu_quota q;
	unsigned int calls;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_ASSERT_NE(test, kib8, 7168 * threads);
	a.ctx_id = new_ctx(test, c);
	a.stack_size = 8192;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EOPNOTSUPP);
	WRITE_ONCE(fake_engine.max_stack, 16384);
	WRITE_ONCE(fake_engine.stack_threads, threads);
	WRITE_ONCE(fake_engine.features, DRM_VGPU_FEATURE_PTX_STACK);
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EOPNOTSUPP);
	WRITE_ONCE(fake_engine.features,
		   DRM_VGPU_FEATURE_PTX | DRM_VGPU_FEATURE_PTX_STACK);
	WRITE_ONCE(fake_engine.max_stack, 12288);	/* no power of two */
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EOPNOTSUPP);
	vgpu_op_info(c, 0, &info);
	KUNIT_EXPECT_FALSE(test, info.features & DRM_VGPU_FEATURE_PTX_STACK);
	KUNIT_EXPECT_EQ(test, info.max_stack_size, 0U);
	KUNIT_EXPECT_EQ(test, info.stack_threads, 0ULL);
	WRITE_ONCE(fake_engine.max_stack, 16384);
	vgpu_op_info(c, 0, &info);
	KUNIT_EXPECT_TRUE(test, info.features & DRM_VGPU_FEATURE_PTX_STACK);
	KUNIT_EXPECT_EQ(test, info.max_stack_size, 16384U);
	KUNIT_EXPECT_EQ(test, info.stack_threads, threads);

	calls = fake_ctx_stacks;
	a.stack_size = 16385;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EINVAL);
	a.stack_size = 0;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EINVAL);
	a.stack_size = 8192;
	a.charged = 1;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EINVAL);
	a.charged = 0;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(other, &a), -ENOENT);
	KUNIT_EXPECT_EQ(test, fake_ctx_stacks, calls);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 0ULL);

	/* Past the quota by a page: nothing charged, the engine not asked. */
	q = c->quota;
	q.devmem = kib8 - SZ_4K;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EDQUOT);
	KUNIT_EXPECT_EQ(test, fake_ctx_stacks, calls);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 0ULL);
	q.devmem = 64 << 20;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);

	/* The engine refuses: the charge comes back. */
	fake_ctx_stack_err = -EIO;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EIO);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 0ULL);
	fake_ctx_stack_err = 0;

	a.stack_size = 5000;		/* rounded up to 8 KiB */
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), 0);
	KUNIT_EXPECT_EQ(test, a.stack_size, 8192U);
	KUNIT_EXPECT_EQ(test, a.charged, kib8);
	KUNIT_EXPECT_EQ(test, c->device_bytes, kib8);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->stats.device_bytes), (s64)kib8);
	ctx = vgpu_ctx_lookup(c, a.ctx_id);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->ectx->stack, 8192U);
	vgpu_ctx_put(ctx);

	/* Smaller: nothing changes, the engine not asked. */
	calls = fake_ctx_stacks;
	a.stack_size = 2048;
	a.charged = 0;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), 0);
	KUNIT_EXPECT_EQ(test, a.stack_size, 8192U);
	KUNIT_EXPECT_EQ(test, a.charged, kib8);
	KUNIT_EXPECT_EQ(test, fake_ctx_stacks, calls);

	/*
	 * Larger, a page short of the quota with what the client holds:
	 * refused; the engine refusing it: what it held stays exactly.
	 */
	a.stack_size = 16384;
	a.charged = 0;
	q.devmem = kib16 - SZ_4K;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EDQUOT);
	KUNIT_EXPECT_EQ(test, c->device_bytes, kib8);
	q.devmem = 64 << 20;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	fake_ctx_stack_err = -EIO;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), -EIO);
	KUNIT_EXPECT_EQ(test, c->device_bytes, kib8);
	fake_ctx_stack_err = 0;

	/* Larger: only the difference is taken. */
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_stack(c, &a), 0);
	KUNIT_EXPECT_EQ(test, a.charged, kib16);
	KUNIT_EXPECT_EQ(test, c->device_bytes, kib16);

	/* The engine's figures change: what was charged comes back. */
	WRITE_ONCE(fake_engine.stack_threads, 3 * threads);
	d.ctx_id = a.ctx_id;
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->stats.device_bytes), 0LL);
	KUNIT_EXPECT_EQ(test, c->promised, c->quota.devmem);
	vgpu_client_destroy(other);
	vgpu_client_destroy(c);
}

/*
 * Page tables are charged to the client that makes the engine allocate
 * them: 8 KiB mappings that each straddle a 1 GiB boundary take an l1
 * and two l2 tables apiece (16 KiB per context), far more than the
 * 8 KiB they map.  1023 of them in context after context are refused
 * once the host-memory quota is reached, and the tables' charge comes
 * back when they are freed.
 */
static void core_page_tables_charged(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "tables", NULL);
	struct drm_vgpu_ctx_destroy d = {};
	u32 ctx[4], bo, i, k, mapped = 0;
	struct vgpu_quota q;
	u64 held, sz;
	int ret = 0;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	q = c->quota;
	q.hostmem = 40 << 20;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	bo = new_bo(test, c, 8192);
	for (k = 0; k < ARRAY_SIZE(ctx); k++) {
		ctx[k] = new_ctx(test, c);
		for (i = 1; i < 1024 && !ret; i++) {
			ret = bind(c, ctx[k], DRM_VGPU_BIND_MAP, bo, 0,
				   ((u64)i << 30) - 4096, 8192);
			mapped += !ret;
		}
	}
	KUNIT_EXPECT_EQ(test, ret, -EDQUOT);
	KUNIT_EXPECT_GT(test, mapped, 2 * 1023U);	/* 16 MiB per context */
	KUNIT_EXPECT_LT(test, mapped, 3 * 1023U);
	KUNIT_EXPECT_LE(test, c->host_extra, q.hostmem);
	KUNIT_EXPECT_GT(test, c->host_extra, q.hostmem - (24 << 10));
	/* Host objects share the quota with the tables. */
	sz = 1 << 20;
	KUNIT_EXPECT_EQ(test, vgpu_quota_reserve(c, DRM_VGPU_DOMAIN_HOST, &sz),
			-EDQUOT);
	/* An unmap frees two tables' worth at least: a map fits again. */
	held = c->host_extra;
	KUNIT_EXPECT_EQ(test, bind(c, ctx[0], DRM_VGPU_BIND_UNMAP, 0, 0,
				   (1ULL << 30) - 4096, 8192), 0);
	KUNIT_EXPECT_LE(test, c->host_extra, held - 2 * VGPU_PT_L2_BYTES);
	KUNIT_EXPECT_EQ(test, bind(c, ctx[2], DRM_VGPU_BIND_MAP, bo, 0,
				   (1000ULL << 30) - 4096, 8192), 0);
	for (k = 0; k < ARRAY_SIZE(ctx); k++) {
		d.ctx_id = ctx[k];
		KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
	}
	KUNIT_EXPECT_EQ(test, c->host_extra, 0ULL);
	vgpu_client_destroy(c);
}

/*
 * A guest that spins and closes before the watchdog fires, and connects
 * again, is banned all the same: the transport reads the client's record
 * after teardown (as vgpu_xen_disconnect() does) and hands it to the
 * next connection; each watchdog's worth of engine time left unfinished
 * counts as a hang.
 */
static void core_spin_close_reconnect_banned(struct kunit *test)
{
	unsigned int old_limit = vgpu_hang_limit;
	struct vgpu_hang_record rec = {};
	struct vgpu_client *c;
	struct dma_fence *f;
	int round;

	vgpu_hang_limit = 2;
	for (round = 0; round < 5 && !rec.banned; round++) {
		c = vgpu_client_create(fake_engine.dev, "spin-close", NULL);
		KUNIT_ASSERT_FALSE(test, IS_ERR(c));
		vgpu_client_inherit(c, &rec);
		KUNIT_ASSERT_EQ(test, submit_spin(c, new_ctx(test, c), &f), 0);
		/* Let it run a few slices, short of the watchdog. */
		msleep(20);
		KUNIT_EXPECT_FALSE(test, dma_fence_is_signaled(f));
		kref_get(&c->ref);
		vgpu_client_destroy(c);
		vgpu_client_record(c, &rec);
		vgpu_client_put(c);
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ),
				0L);
		KUNIT_EXPECT_EQ(test, f->error, -ECANCELED);
		dma_fence_put(f);
	}
	/* 90 ms of 100 each time: hangs after rounds 2 and 3. */
	KUNIT_EXPECT_TRUE(test, rec.banned);
	KUNIT_EXPECT_EQ(test, round, 3);
	KUNIT_EXPECT_EQ(test, rec.hangs, 2U);
	/* What is left, less a little drained (one watchdog a minute). */
	KUNIT_EXPECT_LE(test, rec.abandoned_ns, 3 * FAKE_SPIN_NS -
			2 * (u64)fake_watchdog_ms * NSEC_PER_MSEC);
	KUNIT_EXPECT_GT(test, rec.abandoned_ns, 3 * FAKE_SPIN_NS -
			2 * (u64)fake_watchdog_ms * NSEC_PER_MSEC -
			10 * NSEC_PER_MSEC);
	vgpu_hang_limit = old_limit;
}

/* A context destroyed mid-spin counts too, within one connection. */
static void core_spin_destroy_counts(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "spin-destroy", NULL);
	struct drm_vgpu_ctx_destroy d = {};
	struct dma_fence *f;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	for (i = 0; i < 2; i++) {
		d.ctx_id = new_ctx(test, c);
		KUNIT_ASSERT_EQ(test, submit_spin(c, d.ctx_id, &f), 0);
		msleep(20);
		KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
		/* Counted when the destroy returns. */
		KUNIT_EXPECT_EQ(test, c->hangs, (u32)i);
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ),
				0L);
		dma_fence_put(f);
	}
	vgpu_client_destroy(c);
}

/*
 * Copies and fills never hang: one cut short by a destroy counts nothing,
 * however long it ran (a program killed in the middle of a big FILL).
 */
static void core_fill_destroy_not_counted(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "fill-destroy", NULL);
	struct drm_vgpu_ctx_destroy d = {};
	struct dma_fence *f;
	int i;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	for (i = 0; i < 4; i++) {
		d.ctx_id = new_ctx(test, c);
		KUNIT_ASSERT_EQ(test, submit_fill(c, d.ctx_id, FAKE_SPIN, &f),
				0);
		msleep(20);
		KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
		KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ),
				0L);
		dma_fence_put(f);
	}
	KUNIT_EXPECT_EQ(test, c->hangs, 0U);
	KUNIT_EXPECT_EQ(test, c->abandoned_ns, 0ULL);
	vgpu_client_destroy(c);
}

/*
 * Abandoned launch time drains at one watchdog a minute: a record left a
 * minute ago counts nothing, one left 30 s ago half a watchdog less.
 */
static void core_abandon_drains(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "drain", NULL);
	u64 wd = (u64)fake_watchdog_ms * NSEC_PER_MSEC;
	struct vgpu_hang_record rec = {
		.abandoned_ns = wd - 1,
		.abandoned_at = ktime_get_ns() - 61 * NSEC_PER_SEC,
	};
	struct drm_vgpu_ctx_destroy d = {};
	struct dma_fence *f;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	vgpu_client_inherit(c, &rec);
	d.ctx_id = new_ctx(test, c);
	KUNIT_ASSERT_EQ(test, submit_spin(c, d.ctx_id, &f), 0);
	msleep(20);
	KUNIT_EXPECT_EQ(test, vgpu_op_ctx_destroy(c, &d), 0);
	KUNIT_EXPECT_GT(test, dma_fence_wait_timeout(f, false, 5 * HZ), 0L);
	dma_fence_put(f);
	/* Without the drain, wd - 1 + 90 ms would have been a hang. */
	KUNIT_EXPECT_EQ(test, c->hangs, 0U);
	KUNIT_EXPECT_EQ(test, c->abandoned_ns, FAKE_SPIN_NS);
	vgpu_client_destroy(c);
}

struct ring_test {
	u32 ring_gref;
	int reads;
};

static int ring_test_bo_io(void *priv, struct vgpu_bo *bo,
			   const struct vgpuif_bo_io *io, bool write)
{
	struct ring_test *t = priv;

	t->reads += !write;
	return 0;
}

static bool ring_test_ring_gref(void *priv, u32 gref)
{
	return gref == ((struct ring_test *)priv)->ring_gref;
}

static const struct vgpuif_back_ops ring_test_ops = {
	.bo_io = ring_test_bo_io,
	.ring_gref = ring_test_ring_gref,
};

/* A BO_READ into the ring's own grant is refused, others are served. */
static void core_bo_read_into_ring_refused(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "ring-read", NULL);
	struct ring_test t = { .ring_gref = 77 };
	struct vgpuif_response rsp;
	struct vgpuif_request req = {
		.id = 1, .operation = VGPUIF_OP_BO_CREATE,
		.u.bo_create = { .size = 4096, .domain = DRM_VGPU_DOMAIN_HOST },
	};

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_EQ(test, vgpuif_back_handle(c, false, &ring_test_ops, &t,
						 &req, &rsp), 0);
	memset(&req, 0, sizeof(req));
	req.id = 2;
	req.operation = VGPUIF_OP_BO_READ;
	req.u.bo_io.handle = rsp.u.bo_create.handle;
	req.u.bo_io.gref = 77;
	req.u.bo_io.length = 4096;
	KUNIT_EXPECT_EQ(test, vgpuif_back_handle(c, false, &ring_test_ops, &t,
						 &req, &rsp), -EINVAL);
	KUNIT_EXPECT_EQ(test, rsp.status, -EINVAL);
	KUNIT_EXPECT_EQ(test, t.reads, 0);
	req.u.bo_io.gref = 78;
	KUNIT_EXPECT_EQ(test, vgpuif_back_handle(c, false, &ring_test_ops, &t,
						 &req, &rsp), 0);
	KUNIT_EXPECT_EQ(test, t.reads, 1);
	vgpu_client_destroy(c);
}

/* One request through the ring's decoder, naive mode, as a guest's. */
static int ring_handle(struct vgpu_client *c, const struct vgpuif_request *req,
		       struct vgpuif_response *rsp)
{
	struct ring_test t = { .ring_gref = 77 };

	return vgpuif_back_handle(c, false, &ring_test_ops, &t, req, rsp);
}

/*
 * A guest's CTX_CREATE that the engine paces answers VGPUIF_EBUSY on the
 * ring (not EIO: the guest's runtime asks again), and holds nothing.
 */
static void core_paced_ctx_create_crosses_the_ring(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "paced", NULL);
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_CREATE };
	struct vgpuif_response rsp;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	fake_paced_group = c->group->id;
	KUNIT_EXPECT_EQ(test, ring_handle(c, &req, &rsp), -EBUSY);
	KUNIT_EXPECT_EQ(test, rsp.status, VGPUIF_EBUSY);
	KUNIT_EXPECT_EQ(test, c->num_ctxs, 0U);
	fake_paced_group = 0;
	KUNIT_EXPECT_EQ(test, ring_handle(c, &req, &rsp), 0);
	KUNIT_EXPECT_EQ(test, rsp.status, VGPUIF_OK);
	KUNIT_EXPECT_EQ(test, c->num_ctxs, 1U);
	/* EBUSY crosses the ring for CTX_CREATE only. */
	vgpuif_back_async_response(4, -EBUSY, 1, &rsp);
	KUNIT_EXPECT_EQ(test, rsp.status, VGPUIF_EIO);
	vgpu_client_destroy(c);
}

/*
 * The decoder checks a request's envelope only: a payload it passes on
 * with a bad command, bind operation or argument is refused by the core
 * (-EINVAL in the response), and nothing of it is applied.
 */
static void core_decoder_leaves_payloads_to_the_core(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "decode", NULL);
	struct ring_test t = { .ring_gref = 77 };
	struct vgpuif_response rsp;
	struct vgpuif_request req;
	u32 ctx, bo;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	ctx = new_ctx(test, c);
	bo = new_bo(test, c, 4096);
#define DECODE_REFUSED(hp, setup) do {					\
	memset(&req, 0, sizeof(req));					\
	req.id = 9;							\
	setup;								\
	KUNIT_EXPECT_EQ(test, vgpuif_check_request(&req), 0);		\
	KUNIT_EXPECT_EQ(test, vgpuif_back_handle(c, hp, &ring_test_ops, \
						 &t, &req, &rsp), -EINVAL); \
	KUNIT_EXPECT_EQ(test, rsp.status, -EINVAL);			\
} while (0)
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_CTX_CREATE,
			       req.u.ctx_create.priority = 9));
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_CTX_STATUS,
			       req.u.ctx_status.ctx_id = ctx,
			       req.u.ctx_status.reserved[1] = 1));
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_CTX_STACK,
			       req.u.ctx_stack.ctx_id = ctx,
			       req.u.ctx_stack.stack_size = 8192,
			       req.u.ctx_stack.charged = 1));
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_BO_CREATE,
			       req.u.bo_create.size = 4096,
			       req.u.bo_create.domain = 9));
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_BO_DESTROY,
			       req.u.bo_destroy.handle = 1,
			       req.u.bo_destroy.pad = 1));
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_VM_BIND,
			       req.u.vm_bind.ctx_id = ctx,
			       req.u.vm_bind.op.op = DRM_VGPU_BIND_UNMAP,
			       req.u.vm_bind.op.va = 0x100800,
			       req.u.vm_bind.op.size = 4096));
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_VM_BIND,
			       req.u.vm_bind.ctx_id = ctx,
			       req.u.vm_bind.op.op = DRM_VGPU_BIND_MAP,
			       req.u.vm_bind.op.handle = bo,
			       req.u.vm_bind.op.flags = 8,	/* no such right */
			       req.u.vm_bind.op.va = 0x100000,
			       req.u.vm_bind.op.size = 4096));
	DECODE_REFUSED(true, (req.operation = VGPUIF_OP_VM_BIND,
			      req.u.vm_bind.ctx_id = ctx,
			      req.u.vm_bind.op.op = DRM_VGPU_BIND_MAP,
			      req.u.vm_bind.op.handle = bo,
			      req.u.vm_bind.op.flags = DRM_VGPU_BIND_READ,
			      req.u.vm_bind.op.va = VGPU_VA_SIZE - 4096,
			      req.u.vm_bind.op.size = 8192));
	DECODE_REFUSED(false, (req.operation = VGPUIF_OP_SUBMIT,
			       req.u.submit.ctx_id = ctx,
			       req.u.submit.cmd.op = 77));
	DECODE_REFUSED(true, (req.operation = VGPUIF_OP_VM_BIND_BATCH,
			      req.u.vm_bind_batch.ctx_id = ctx,
			      req.u.vm_bind_batch.num_ops = 1,
			      req.u.vm_bind_batch.op.op = 5,
			      req.u.vm_bind_batch.op.va = 0x100000,
			      req.u.vm_bind_batch.op.size = 4096));
	DECODE_REFUSED(true, (req.operation = VGPUIF_OP_SUBMIT_ASYNC,
			      req.u.submit_async.ctx_id = ctx,
			      req.u.submit_async.num_cmds = 1,
			      req.u.submit_async.cmd.op = DRM_VGPU_CMD_FILL,
			      req.u.submit_async.cmd.dst = 0x100001,
			      req.u.submit_async.cmd.size = 8));
#undef DECODE_REFUSED
	/* Nothing of them was applied: no object, mapping or job made. */
	KUNIT_EXPECT_EQ(test, c->num_bos, 1U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->stats.mappings), 0LL);
	KUNIT_EXPECT_EQ(test, c->mapped_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, c->num_jobs, 0U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&c->stats.submissions), 0LL);
	/* hp: a granted object past the quota is refused before any grant. */
	memset(&req, 0, sizeof(req));
	req.operation = VGPUIF_OP_BO_CREATE_GRANTED;
	req.u.bo_granted.size = c->quota.hostmem + 4096;
	req.u.bo_granted.dir_gref = 5;	/* ring_test_ops cannot copy it */
	KUNIT_EXPECT_EQ(test, vgpuif_back_handle(c, true, &ring_test_ops, &t,
						 &req, &rsp), -EDQUOT);
	vgpu_client_destroy(c);
}

/* A transport's host memory, counted: the core calls it only when it may. */
struct test_host {
	unsigned int allocs;
	unsigned int releases;
	u64 size;
	int fail;
};

static void test_host_release(void *priv)
{
	struct test_host *t = priv;

	t->releases++;
}

static const struct vgpu_host_mem_ops test_host_ops = {
	.release = test_host_release,
};

static int test_host_alloc(void *arg, u64 size, struct vgpu_host_mem *mem)
{
	struct test_host *t = arg;

	t->allocs++;
	t->size = size;
	if (t->fail)
		return t->fail;
	mem->ops = &test_host_ops;
	mem->priv = t;
	return 0;
}

/* Every engine's watchdog_ms: 1 ms to an hour; 0 would hang every launch. */
static void core_watchdog_param(struct kunit *test)
{
	unsigned int v = 2000;
	const struct kernel_param kp = { .arg = &v };

	KUNIT_EXPECT_EQ(test, vgpu_watchdog_param_ops.set("0", &kp), -EINVAL);
	KUNIT_EXPECT_EQ(test, v, 2000U);
	KUNIT_EXPECT_EQ(test, vgpu_watchdog_param_ops.set("3600001", &kp),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_watchdog_param_ops.set("-1", &kp), -EINVAL);
	KUNIT_EXPECT_EQ(test, v, 2000U);
	KUNIT_EXPECT_EQ(test, vgpu_watchdog_param_ops.set("1", &kp), 0);
	KUNIT_EXPECT_EQ(test, v, 1U);
	KUNIT_EXPECT_EQ(test, vgpu_watchdog_param_ops.set("3600000", &kp), 0);
	KUNIT_EXPECT_EQ(test, v, VGPU_WATCHDOG_MAX_MS);
}

/*
 * An engine's layout (a GPU's 2 MiB pages and the window of GPU
 * addresses it keeps free): checked at registration, reported by INFO,
 * honoured by every VM_BIND (address, size, offset, window) and by the
 * size charged for device memory.
 */
static void core_engine_layout(struct kunit *test)
{
	const u64 page = 2 << 20, start = 1ULL << 30, end = 64ULL << 30;
	struct vgpu_engine gpu = fake_engine, bad;
	struct drm_vgpu_bo_create hb = {
		.size = 4096, .domain = DRM_VGPU_DOMAIN_HOST,
	};
	struct ring_test rt = { .ring_gref = 77 };
	struct vgpuif_response rsp;
	struct vgpuif_request req;
	struct drm_vgpu_info info;
	struct test_host t = {};
	struct vgpu_client *c;
	struct vgpu_quota q;
	u32 ctx, bo, small, big;

	/* Defaults, and what no engine may announce. */
	bad = (struct vgpu_engine){ .name = "bad", .page_shift = 21,
				    .mem_size = page };
	KUNIT_EXPECT_EQ(test, vgpu_engine_layout_check(&bad), 0);
	KUNIT_EXPECT_EQ(test, bad.va_start, page);	/* 64 KiB, rounded up */
	KUNIT_EXPECT_EQ(test, bad.va_end, VGPU_VA_SIZE);
	bad = (struct vgpu_engine){ .name = "bad", .mem_size = 4096 };
	KUNIT_EXPECT_EQ(test, vgpu_engine_layout_check(&bad), 0);
	KUNIT_EXPECT_EQ(test, bad.page_shift, 12U);
	KUNIT_EXPECT_EQ(test, bad.va_start, VGPU_CTX_VA_START);
#define BAD_LAYOUT(shift, s, e) do {					\
		bad = (struct vgpu_engine){ .name = "bad", .page_shift = shift, \
					    .mem_size = 1 << 30,		\
					    .va_start = s, .va_end = e };	\
		KUNIT_EXPECT_EQ(test, vgpu_engine_layout_check(&bad), -EINVAL); \
	} while (0)
	BAD_LAYOUT(11, 0, 0);
	BAD_LAYOUT(31, 0, 0);
	BAD_LAYOUT(21, start + 4096, end);		/* not whole pages */
	BAD_LAYOUT(21, start, end - 4096);
	BAD_LAYOUT(12, 0x1000, end);			/* below the first */
	BAD_LAYOUT(12, start, VGPU_VA_SIZE + 4096);	/* past the last */
	BAD_LAYOUT(21, end, start);			/* empty */
	BAD_LAYOUT(21, start, start);
#undef BAD_LAYOUT
	bad = (struct vgpu_engine){ .name = "bad", .page_shift = 21,
				    .mem_size = page - 4096 };	/* no page */
	KUNIT_EXPECT_EQ(test, vgpu_engine_layout_check(&bad), -EINVAL);
	bad = (struct vgpu_engine){ .name = "bad", .ops = &fake_ops,
				    .page_shift = 40 };
	KUNIT_EXPECT_EQ(test, vgpu_engine_register(&bad), -EINVAL);
	KUNIT_EXPECT_NULL(test, bad.dev);

	gpu.name = "gpu";
	gpu.dev = NULL;
	gpu.page_shift = 21;
	gpu.va_start = start;
	gpu.va_end = end;
	KUNIT_ASSERT_EQ(test, vgpu_engine_register(&gpu), 0);
	c = vgpu_client_create(gpu.dev, "layout", NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	vgpu_op_info(c, 0, &info);
	KUNIT_EXPECT_EQ(test, info.page_size, (u32)page);
	KUNIT_EXPECT_EQ(test, info.va_start, start);
	KUNIT_EXPECT_EQ(test, info.va_end, end);
	/* The quota INFO reports is what can be allocated: whole pages. */
	q = c->quota;
	q.devmem = 3 * page + (1 << 20);
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	vgpu_op_info(c, 0, &info);
	KUNIT_EXPECT_EQ(test, info.device_memory_quota, 3 * page);
	q.devmem = 1 << 20;	/* less than a page: nothing (and a line) */
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	vgpu_op_info(c, 0, &info);
	KUNIT_EXPECT_EQ(test, info.device_memory_quota, 0ULL);
	q.devmem = 16 << 20;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);

	/* Device memory is charged in whole GPU pages. */
	small = new_bo(test, c, 4096);
	KUNIT_EXPECT_EQ(test, c->device_bytes, page);
	bo = new_bo(test, c, page + 1);
	KUNIT_EXPECT_EQ(test, c->device_bytes, 3 * page);
	big = new_bo(test, c, 3 * page);
	ctx = new_ctx(test, c);
	/* Whole pages, inside the window, or nothing. */
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0,
				   start + 4096, page), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0, start,
				   4096), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 4096, start,
				   page), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0,
				   start - page, page), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, 0,
				   end - page, 2 * page), -EINVAL);
	KUNIT_EXPECT_EQ(test, c->mapped_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, bo, page, start,
				   page), 0);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, small, 0,
				   end - page, page), 0);
	/* Half a page cannot be unmapped; the page can. */
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0, start,
				   4096), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0, start,
				   page), 0);
	/* A naive guest maps one GPU page per request: 2 MiB, not 4 KiB. */
	memset(&req, 0, sizeof(req));
	req.operation = VGPUIF_OP_VM_BIND;
	req.u.vm_bind.ctx_id = ctx;
	req.u.vm_bind.op.op = DRM_VGPU_BIND_MAP;
	req.u.vm_bind.op.flags = DRM_VGPU_BIND_READ;
	req.u.vm_bind.op.handle = bo;
	req.u.vm_bind.op.va = start + 2 * page;
	req.u.vm_bind.op.size = 4096;
	KUNIT_EXPECT_EQ(test, vgpuif_back_handle(c, false, &ring_test_ops, &rt,
						 &req, &rsp), -EINVAL);
	req.u.vm_bind.op.size = page;
	KUNIT_EXPECT_EQ(test, vgpuif_back_handle(c, false, &ring_test_ops, &rt,
						 &req, &rsp), 0);
	req.u.vm_bind.op.op = DRM_VGPU_BIND_UNMAP;
	req.u.vm_bind.op.flags = 0;
	req.u.vm_bind.op.handle = 0;
	KUNIT_EXPECT_EQ(test, vgpuif_back_handle(c, false, &ring_test_ops, &rt,
						 &req, &rsp), 0);
	/* A mapping's middle page goes, its two ends stay. */
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, big, 0,
				   start + 4 * page, 3 * page), 0);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0,
				   start + 5 * page, page), 0);
	KUNIT_EXPECT_EQ(test, c->mapped_bytes, 3 * page);	/* + small's */
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_UNMAP, 0, 0,
				   start + 4 * page, 4096), -EINVAL);
	/* Host memory keeps host pages; a mapping of it still takes whole GPU pages. */
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &hb, test_host_alloc, &t), 0);
	KUNIT_EXPECT_EQ(test, c->host_bytes, 4096ULL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, hb.handle, 0,
				   start, 4096), -EINVAL);
	KUNIT_EXPECT_EQ(test, bind(c, ctx, DRM_VGPU_BIND_MAP, hb.handle, 0,
				   start, page), -EINVAL);
	vgpu_client_destroy(c);
	vgpu_engine_unregister(&gpu);
}

/*
 * BO_CREATE is checked once, in the core, before the transport allocates
 * anything: bad arguments and quotas never reach the transport's
 * allocator, and an allocator's failure returns the charge.
 */
static void core_bo_create_checks_before_alloc(struct kunit *test)
{
	struct vgpu_client *c = vgpu_client_create(fake_engine.dev, "alloc", NULL);
	struct drm_vgpu_bo_create a;
	struct test_host t = {};
	struct vgpu_quota q;

	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	q = c->quota;
	q.hostmem = 1 << 20;
	KUNIT_ASSERT_EQ(test, vgpu_client_set_quota(c, &q), 0);
	a = (struct drm_vgpu_bo_create){ .size = 4096, .flags = 1,
					 .domain = DRM_VGPU_DOMAIN_HOST };
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, test_host_alloc, &t),
			-EINVAL);
	a = (struct drm_vgpu_bo_create){ .size = 4096, .domain = 7 };
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, test_host_alloc, &t),
			-EINVAL);
	a = (struct drm_vgpu_bo_create){ .domain = DRM_VGPU_DOMAIN_HOST };
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, test_host_alloc, &t),
			-EINVAL);
	a.size = (1 << 20) + 1;
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, test_host_alloc, &t),
			-EDQUOT);
	a.size = U64_MAX;	/* rounding up must not wrap past the quota */
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, test_host_alloc, &t),
			-EDQUOT);
	KUNIT_EXPECT_EQ(test, t.allocs, 0U);
	/* The allocator fails: nothing stays charged. */
	t.fail = -ENOMEM;
	a.size = 5000;
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, test_host_alloc, &t),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, t.allocs, 1U);
	KUNIT_EXPECT_EQ(test, t.size, 8192ULL);
	KUNIT_EXPECT_EQ(test, c->host_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, c->num_bos, 0U);
	/* It succeeds: charged once, released with the object. */
	t.fail = 0;
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, test_host_alloc, &t), 0);
	KUNIT_EXPECT_NE(test, a.handle, 0U);
	KUNIT_EXPECT_EQ(test, c->host_bytes, 8192ULL);
	KUNIT_EXPECT_EQ(test, destroy_bo(c, a.handle), 0);
	KUNIT_EXPECT_EQ(test, t.releases, 1U);
	KUNIT_EXPECT_EQ(test, c->host_bytes, 0ULL);
	/* A transport without host memory says so. */
	a.handle = 0;
	KUNIT_EXPECT_EQ(test, vgpu_op_bo_create(c, &a, NULL, NULL), -EOPNOTSUPP);
	vgpu_client_destroy(c);
}

static struct kunit_case core_cases[] = {
	KUNIT_CASE(core_quotas),
	KUNIT_CASE(core_bo_create_checks_before_alloc),
	KUNIT_CASE(core_decoder_leaves_payloads_to_the_core),
	KUNIT_CASE(core_paced_ctx_create_crosses_the_ring),
	KUNIT_CASE(core_handles_are_per_client),
	KUNIT_CASE(core_vm_bind),
	KUNIT_CASE(core_page_by_page_binds),
	KUNIT_CASE(core_jobs_faults_hangs),
	KUNIT_CASE(core_two_devices),
	KUNIT_CASE(core_engine_layout),
	KUNIT_CASE(core_watchdog_param),
	KUNIT_CASE(core_dependencies_and_order),
	KUNIT_CASE(core_destroy_cancels_waiting_jobs),
	KUNIT_CASE(core_teardown_releases_everything),
	KUNIT_CASE(core_bind_races_destroy),
	KUNIT_CASE(core_mapping_quota),
	KUNIT_CASE(core_job_quota),
	KUNIT_CASE(core_devmem_promise),
	KUNIT_CASE(core_quota_lowered_at_run_time),
	KUNIT_CASE(core_group_settings),
	KUNIT_CASE(core_ctx_create_names_the_group),
	KUNIT_CASE(core_context_memory_charged),
	KUNIT_CASE(core_context_stack_charged),
	KUNIT_CASE(core_page_tables_charged),
	KUNIT_CASE(core_spin_close_reconnect_banned),
	KUNIT_CASE(core_spin_destroy_counts),
	KUNIT_CASE(core_fill_destroy_not_counted),
	KUNIT_CASE(core_abandon_drains),
	KUNIT_CASE(core_bo_read_into_ring_refused),
	{}
};

static struct kunit_suite core_suite = {
	.name = "vgpu-core",
	.suite_init = core_suite_init,
	.suite_exit = core_suite_exit,
	.exit = core_test_exit,
	.test_cases = core_cases,
};

kunit_test_suite(core_suite);
MODULE_LICENSE("Dual MIT/GPL");
