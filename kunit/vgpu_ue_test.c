// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of vgpu-uengine's checks of the engine process
 * (uengine/vgpu_ue_check.c: the read buffer, the format of an answer,
 * the answer to a RUN) and of
 * its host-memory windows and shadows (uengine/vgpu_ue_shadow.c), on
 * pages standing for a guest's granted object, and of the accounting of
 * its process's page tables (uengine/vgpu_ue_tables.c), and of its
 * instances (uengine/vgpu_ue_chan.c, vgpu_ue_engine.c): the PCI address
 * a process names, and two GPUs' sessions kept apart.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "../backend/vgpu_core.h"
#include "../backend/vgpu_engine.h"
#include "../common/vgpu_pt.h"
#include "../uengine/vgpu_ue.h"

#define NPAGES 8
#define PG(n) ((u64)(n) << PAGE_SHIFT)
#define GEN 1	/* the engine process's generation */

/* The longest request, a RUN with a whole job, fits the documented buffer. */
static void ue_msg_limit(struct kunit *test)
{
	struct vgpu_ue_req req = {
		.op = VGPU_UE_OP_RUN,
		.payload_len = DRM_VGPU_MAX_CMDS * sizeof(struct drm_vgpu_cmd),
	};

	KUNIT_EXPECT_GE(test, (size_t)VGPU_UE_MAX_MSG,
			sizeof(req) + req.payload_len);
	KUNIT_EXPECT_EQ(test, vgpu_ue_read_fits(VGPU_UE_MAX_MSG, &req), 0);
	KUNIT_EXPECT_EQ(test, vgpu_ue_read_fits(VGPU_UE_MAX_MSG - 1, &req),
			-EINVAL);
	/* Were a request ever longer, it would stay queued: no overrun. */
	req.payload_len = VGPU_UE_MAX_MSG;
	KUNIT_EXPECT_EQ(test, vgpu_ue_read_fits(VGPU_UE_MAX_MSG, &req),
			-EMSGSIZE);
	req.payload_len = U32_MAX;
	KUNIT_EXPECT_EQ(test, vgpu_ue_read_fits(VGPU_UE_MAX_MSG, &req),
			-EMSGSIZE);
}

static const struct drm_vgpu_cmd ue_cmds[] = {
	{ .op = DRM_VGPU_CMD_COPY, .size = 8192 },
	{ .op = DRM_VGPU_CMD_FILL, .size = 4096 },
	{ .op = DRM_VGPU_CMD_LAUNCH },
};

struct ue_answer_case {
	const char *name;
	struct vgpu_ue_resp_run r;
	u64 wall_ns;
	bool ok;
};

/* The job asked for: command 1 of 3, which used 500 ns before. */
static const struct ue_answer_case ue_answers[] = {
	{ "preempted in command 1", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 1, .cmd_done = 4096, .cmd_busy_ns = 1500,
	  .busy_ns = 1000 }, 2000, true },
	{ "done", { .status = VGPU_UE_RUN_DONE, .next_cmd = 3,
	  .busy_ns = 2000 }, 2000, true },
	{ "faulted in the launch", { .status = VGPU_UE_RUN_FAULTED,
	  .next_cmd = 2, .busy_ns = 10, .cmd_busy_ns = 5,
	  .fault_kind = DRM_VGPU_FAULT_UNMAPPED, .fault_addr = 0x1000 },
	  2000, true },
	{ "context lost", { .status = VGPU_UE_RUN_FAULTED, .next_cmd = 1,
	  .fault_kind = DRM_VGPU_FAULT_ENGINE_LOST }, 2000, true },
	{ "timed out", { .status = VGPU_UE_RUN_TIMEDOUT, .next_cmd = 2,
	  .busy_ns = 100, .cmd_busy_ns = 90 }, 2000, true },
	{ "undefined status", { .status = 4, .next_cmd = 1 }, 2000, false },
	{ "next before the asked", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 0 }, 2000, false },
	{ "next past the job", { .status = VGPU_UE_RUN_FAULTED, .next_cmd = 4,
	  .fault_kind = DRM_VGPU_FAULT_PERM }, 2000, false },
	{ "done early", { .status = VGPU_UE_RUN_DONE, .next_cmd = 2 },
	  2000, false },
	{ "preempted past the end", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 3 }, 2000, false },
	{ "fill done past its size", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 1, .cmd_done = 4097 }, 2000, false },
	{ "launch with byte progress", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 2, .cmd_done = 1 }, 2000, false },
	{ "progress after the end", { .status = VGPU_UE_RUN_DONE,
	  .next_cmd = 3, .cmd_done = 1 }, 2000, false },
	{ "busy beyond wall time", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 1, .busy_ns = 2001 }, 2000, false },
	{ "busy near U64_MAX", { .status = VGPU_UE_RUN_DONE, .next_cmd = 3,
	  .busy_ns = U64_MAX }, 2000, false },
	{ "command time beyond old + run", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 1, .busy_ns = 1000, .cmd_busy_ns = 1501 }, 2000, false },
	{ "new command's time beyond the run", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 2, .busy_ns = 1000, .cmd_busy_ns = 1001 }, 2000, false },
	{ "fault of kind none (a lost record)", { .status = VGPU_UE_RUN_FAULTED,
	  .next_cmd = 1 }, 2000, true },
	{ "undefined fault kind", { .status = VGPU_UE_RUN_FAULTED,
	  .next_cmd = 1, .fault_kind = DRM_VGPU_FAULT_ENGINE_LOST + 1 },
	  2000, false },
	{ "fault kind without a fault", { .status = VGPU_UE_RUN_DONE,
	  .next_cmd = 3, .fault_kind = DRM_VGPU_FAULT_UNMAPPED }, 2000, false },
	{ "fault address without a fault", { .status = VGPU_UE_RUN_PREEMPTED,
	  .next_cmd = 1, .fault_addr = 0x1000 }, 2000, false },
};

static void ue_answer_check(struct kunit *test)
{
	struct vgpu_engine_job job = {
		.cmds = ue_cmds, .num_cmds = ARRAY_SIZE(ue_cmds),
		.next_cmd = 1, .cmd_busy_ns = 500,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ue_answers); i++) {
		const struct ue_answer_case *c = &ue_answers[i];
		const char *why = vgpu_ue_check_run(&job, &c->r, c->wall_ns);

		KUNIT_EXPECT_EQ_MSG(test, !why, c->ok, "%s: %s", c->name,
				    why ?: "accepted");
	}
}

struct ue_format_case {
	const char *name;
	u32 op;
	struct vgpu_ue_resp r;
	bool ok;
};

/* A body only in the answer to a RUN that succeeded; reserved is zero. */
static const struct ue_format_case ue_formats[] = {
	{ "map done", VGPU_UE_OP_MAP, {}, true },
	{ "map refused", VGPU_UE_OP_MAP, { .error = -ENOMEM }, true },
	{ "run done", VGPU_UE_OP_RUN, { .run = { .status = VGPU_UE_RUN_FAULTED,
	  .next_cmd = 1, .fault_addr = 1 } }, true },
	{ "run refused", VGPU_UE_OP_RUN, { .error = -ENOENT }, true },
	{ "reserved set", VGPU_UE_OP_CTX_CREATE, { .reserved = 1 }, false },
	{ "reserved set in a run", VGPU_UE_OP_RUN, { .reserved = 1 }, false },
	{ "positive error", VGPU_UE_OP_MEM_FREE, { .error = 1 }, false },
	{ "error beyond errno", VGPU_UE_OP_UNMAP, { .error = -MAX_ERRNO - 1 },
	  false },
	{ "body of a ctx_create", VGPU_UE_OP_CTX_CREATE,
	  { .run.busy_ns = 1 }, false },
	{ "last body byte of a job_release", VGPU_UE_OP_JOB_RELEASE,
	  { .raw[VGPU_UE_RESP_BODY_LEN - 1] = 1 }, false },
	{ "body of a refused run", VGPU_UE_OP_RUN, { .error = -EINVAL,
	  .run.status = VGPU_UE_RUN_PREEMPTED }, false },
};

static void ue_answer_format(struct kunit *test)
{
	struct vgpu_ue_req req = {};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ue_formats); i++) {
		const struct ue_format_case *c = &ue_formats[i];

		req.op = c->op;
		KUNIT_EXPECT_EQ_MSG(test, vgpu_ue_check_answer(&req, &c->r),
				    c->ok ? 0 : -EINVAL, "%s", c->name);
	}
}

/* A granted object: pages without a kernel mapping of the whole. */
struct ue_obj {
	struct vgpu_backing b;
	struct page *pages[NPAGES];
};

static void ue_obj_init(struct kunit *test, struct ue_obj *o)
{
	unsigned int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < NPAGES; i++) {
		o->pages[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, o->pages[i]);
		memset(page_address(o->pages[i]), i, PAGE_SIZE);
	}
	o->b.pages = o->pages;
	o->b.npages = NPAGES;
}

static void ue_obj_fini(struct ue_obj *o)
{
	unsigned int i;

	for (i = 0; i < NPAGES; i++)
		if (o->pages[i])
			__free_page(o->pages[i]);
}

static u8 *ue_byte(struct page *p)
{
	return page_address(p);
}

static void ue_windows_put(struct vgpu_ue_window **w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!w[i])
			continue;
		list_del(&w[i]->node);
		vgpu_ue_window_unlink(w[i]);
		vgpu_ue_window_put(w[i]);
	}
}

/* One object mapped 4 times: one shadow, of the object's size. */
static void ue_shadow_per_object(struct kunit *test)
{
	s64 before = atomic64_read(&vgpu_ue_shadow_bytes);
	struct vgpu_ue_window *w[4] = {};
	struct ue_obj o;
	LIST_HEAD(ctx);
	unsigned int i;
	u64 p;

	ue_obj_init(test, &o);
	for (i = 0; i < 4; i++) {
		w[i] = vgpu_ue_window_new(&o.b, GEN, 0, NPAGES, PG(16 * i),
					  VGPU_PTE_R);
		KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w[i]));
		list_add_tail(&w[i]->node, &ctx);
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_bytes) - before,
			(s64)PG(NPAGES));
	for (p = 0; p < NPAGES; p++) {
		KUNIT_EXPECT_PTR_EQ(test, vgpu_ue_window_page(w[3], p),
				    vgpu_ue_window_page(w[0], p));
		KUNIT_EXPECT_EQ(test, ue_byte(vgpu_ue_window_page(w[0], p))[7],
				(u8)p);
	}
	/* A window on part of it shares those pages too. */
	ue_windows_put(&w[1], 3);
	w[1] = vgpu_ue_window_new(&o.b, GEN, 2, 3, PG(100), VGPU_PTE_R);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w[1]));
	list_add_tail(&w[1]->node, &ctx);
	KUNIT_EXPECT_PTR_EQ(test, vgpu_ue_window_page(w[1], 0),
			    vgpu_ue_window_page(w[0], 2));
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_bytes) - before,
			(s64)PG(NPAGES));
	ue_windows_put(w, 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_bytes), before);
	ue_obj_fini(&o);
}

/* Copy-in only of what changed, once per page however often mapped. */
static void ue_shadow_sync_in(struct kunit *test)
{
	struct vgpu_ue_window *w[4] = {};
	s64 in;
	struct ue_obj o;
	LIST_HEAD(ctx);
	unsigned int i;

	ue_obj_init(test, &o);
	for (i = 0; i < 4; i++) {
		w[i] = vgpu_ue_window_new(&o.b, GEN, 0, NPAGES, PG(16 * i),
					  VGPU_PTE_R | VGPU_PTE_W);
		KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w[i]));
		list_add_tail(&w[i]->node, &ctx);
	}
	in = atomic64_read(&vgpu_ue_shadow_in_bytes);
	vgpu_ue_sync_in(&ctx);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_in_bytes) - in, 0);
	memset(ue_byte(o.pages[3]), 0xab, PAGE_SIZE);
	vgpu_ue_sync_in(&ctx);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_in_bytes) - in,
			(s64)PG(1));
	KUNIT_EXPECT_EQ(test, ue_byte(vgpu_ue_window_page(w[2], 3))[100], 0xab);
	ue_windows_put(w, 4);
	ue_obj_fini(&o);
}

/*
 * Copy-out only through writable windows, only of pages the engine
 * wrote: a page the guest's CPU wrote during the RUN keeps its write.
 */
static void ue_shadow_sync_out(struct kunit *test)
{
	struct vgpu_ue_window *w[2] = {};
	struct ue_obj o;
	LIST_HEAD(ctx);
	s64 out;

	ue_obj_init(test, &o);
	w[0] = vgpu_ue_window_new(&o.b, GEN, 0, 4, 0, VGPU_PTE_R);
	w[1] = vgpu_ue_window_new(&o.b, GEN, 4, 4, PG(4), VGPU_PTE_R | VGPU_PTE_W);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w[0]));
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w[1]));
	list_add_tail(&w[0]->node, &ctx);
	list_add_tail(&w[1]->node, &ctx);
	vgpu_ue_sync_in(&ctx);
	/* The RUN: the engine writes pages 1 (read-only!) and 5. */
	ue_byte(vgpu_ue_window_page(w[0], 1))[0] = 0xe1;
	ue_byte(vgpu_ue_window_page(w[1], 1))[0] = 0xe5;
	/* Meanwhile the guest's CPU writes page 6. */
	ue_byte(o.pages[6])[0] = 0x66;
	out = atomic64_read(&vgpu_ue_shadow_out_bytes);
	vgpu_ue_sync_out(&ctx);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_out_bytes) - out,
			(s64)PG(1));
	KUNIT_EXPECT_EQ(test, ue_byte(o.pages[5])[0], 0xe5);
	KUNIT_EXPECT_EQ(test, ue_byte(o.pages[1])[0], 1);
	KUNIT_EXPECT_EQ(test, ue_byte(o.pages[6])[0], 0x66);
	/* And the guest's write reaches the engine at the next RUN. */
	vgpu_ue_sync_in(&ctx);
	KUNIT_EXPECT_EQ(test, ue_byte(vgpu_ue_window_page(w[1], 2))[0], 0x66);
	ue_windows_put(w, 2);
	ue_obj_fini(&o);
}

/*
 * Partial unmap, a remap at the same address, its unmap: the first
 * window stays while any of its pages is mapped, and what it no longer
 * maps is no longer synchronised.
 */
static void ue_window_partial_unmap(struct kunit *test)
{
	struct vgpu_ue_window *w1, *w2;
	struct ue_obj o;
	LIST_HEAD(ctx);
	s64 in;

	ue_obj_init(test, &o);
	w1 = vgpu_ue_window_new(&o.b, GEN, 0, 3, 0, VGPU_PTE_R);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w1));
	list_add_tail(&w1->node, &ctx);
	KUNIT_EXPECT_FALSE(test, vgpu_ue_window_unmap(w1, PG(1), PG(1)));
	w2 = vgpu_ue_window_new(&o.b, GEN, 5, 1, PG(1), VGPU_PTE_R);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w2));
	list_add_tail(&w2->node, &ctx);
	KUNIT_EXPECT_FALSE(test, vgpu_ue_window_unmap(w1, PG(1), PG(1)));
	KUNIT_EXPECT_TRUE(test, vgpu_ue_window_unmap(w2, PG(1), PG(1)));
	list_del(&w2->node);
	vgpu_ue_window_unlink(w2);
	vgpu_ue_window_put(w2);
	KUNIT_EXPECT_FALSE(test, vgpu_ue_window_unmap(w1, 0, PG(1)));
	KUNIT_EXPECT_EQ(test, w1->left, 1ULL);
	/* Page 1 is no longer mapped: the guest's write stays out. */
	in = atomic64_read(&vgpu_ue_shadow_in_bytes);
	memset(ue_byte(o.pages[1]), 0x11, PAGE_SIZE);
	memset(ue_byte(o.pages[2]), 0x22, PAGE_SIZE);
	vgpu_ue_sync_in(&ctx);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_in_bytes) - in,
			(s64)PG(1));
	KUNIT_EXPECT_EQ(test, ue_byte(vgpu_ue_window_page(w1, 2))[0], 0x22);
	KUNIT_EXPECT_EQ(test, ue_byte(vgpu_ue_window_page(w1, 1))[0], 1);
	/* An unmap to the top of the address space ends it. */
	KUNIT_EXPECT_TRUE(test, vgpu_ue_window_unmap(w1, PG(2), -PG(2)));
	list_del(&w1->node);
	vgpu_ue_window_unlink(w1);
	vgpu_ue_window_put(w1);
	ue_obj_fini(&o);
}

/* A guest's CPU write between the hash of a copy-in and its copy. */
static void ue_race_write(struct page *src)
{
	vgpu_ue_test_hook_in = NULL;
	memset(ue_byte(src), 0xbb, PAGE_SIZE);
}

/*
 * The hash a copy-in keeps is of what it copied: a guest write that
 * raced with it is the guest's, and a later one is not overwritten by
 * a copy-out of a page the engine did not write.
 */
static void ue_shadow_in_hashes_the_copy(struct kunit *test)
{
	struct vgpu_ue_window *w;
	struct ue_obj o;
	LIST_HEAD(ctx);
	s64 out;

	ue_obj_init(test, &o);
	w = vgpu_ue_window_new(&o.b, GEN, 0, NPAGES, 0, VGPU_PTE_R | VGPU_PTE_W);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w));
	list_add_tail(&w->node, &ctx);
	memset(ue_byte(o.pages[2]), 0xaa, PAGE_SIZE);
	vgpu_ue_test_hook_in = ue_race_write;
	vgpu_ue_sync_in(&ctx);
	vgpu_ue_test_hook_in = NULL;
	KUNIT_EXPECT_EQ(test, ue_byte(vgpu_ue_window_page(w, 2))[0], 0xbb);
	/* The RUN writes nothing; the guest's CPU writes the page again. */
	memset(ue_byte(o.pages[2]), 0xcc, PAGE_SIZE);
	out = atomic64_read(&vgpu_ue_shadow_out_bytes);
	vgpu_ue_sync_out(&ctx);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_out_bytes) - out, 0);
	KUNIT_EXPECT_EQ(test, ue_byte(o.pages[2])[0], 0xcc);
	ue_windows_put(&w, 1);
	ue_obj_fini(&o);
}

/*
 * The process of a dead generation writes the shadow it still maps: the
 * next generation's windows have their own, and its RUNs copy nothing
 * of the dead one's out.
 */
static void ue_shadow_per_generation(struct kunit *test)
{
	s64 before = atomic64_read(&vgpu_ue_shadow_bytes);
	struct vgpu_ue_window *w[2];
	struct ue_obj o;
	LIST_HEAD(old);
	LIST_HEAD(ctx);

	ue_obj_init(test, &o);
	w[0] = vgpu_ue_window_new(&o.b, GEN, 0, NPAGES, 0,
				  VGPU_PTE_R | VGPU_PTE_W);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w[0]));
	list_add_tail(&w[0]->node, &old);
	w[1] = vgpu_ue_window_new(&o.b, GEN + 1, 0, NPAGES, 0,
				  VGPU_PTE_R | VGPU_PTE_W);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w[1]));
	list_add_tail(&w[1]->node, &ctx);
	KUNIT_EXPECT_PTR_NE(test, vgpu_ue_window_page(w[0], 3),
			    vgpu_ue_window_page(w[1], 3));
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_bytes) - before,
			(s64)PG(2 * NPAGES));
	/* The dead process writes; the new generation runs. */
	memset(ue_byte(vgpu_ue_window_page(w[0], 3)), 0xde, PAGE_SIZE);
	vgpu_ue_sync_in(&ctx);
	KUNIT_EXPECT_EQ(test, ue_byte(vgpu_ue_window_page(w[1], 3))[0], 3);
	vgpu_ue_sync_out(&ctx);
	KUNIT_EXPECT_EQ(test, ue_byte(o.pages[3])[0], 3);
	ue_windows_put(w, 2);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_bytes), before);
	ue_obj_fini(&o);
}

/*
 * A shadow no context links but a process mapping holds is reused by
 * the next MAP of the object (refilled: it may be a new object), not
 * doubled; one of another size at the same backing is refused.
 */
static void ue_shadow_held_is_reused(struct kunit *test)
{
	s64 before = atomic64_read(&vgpu_ue_shadow_bytes);
	struct vgpu_ue_window *w, *held;
	struct page *p;
	struct ue_obj o;
	LIST_HEAD(ctx);

	ue_obj_init(test, &o);
	w = vgpu_ue_window_new(&o.b, GEN, 0, NPAGES, 0, VGPU_PTE_R);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w));
	list_add_tail(&w->node, &ctx);
	p = vgpu_ue_window_page(w, 1);
	held = w;
	kref_get(&held->ref);		/* the process's VMA */
	ue_windows_put(&w, 1);
	memset(ue_byte(o.pages[1]), 0x77, PAGE_SIZE);
	w = vgpu_ue_window_new(&o.b, GEN, 0, 2, 0, VGPU_PTE_R);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(w));
	list_add_tail(&w->node, &ctx);
	KUNIT_EXPECT_PTR_EQ(test, vgpu_ue_window_page(w, 1), p);
	KUNIT_EXPECT_EQ(test, ue_byte(p)[0], 0x77);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_bytes) - before,
			(s64)PG(NPAGES));
	ue_windows_put(&w, 1);
	o.b.npages = NPAGES - 1;
	KUNIT_EXPECT_EQ(test, PTR_ERR(vgpu_ue_window_new(&o.b, GEN, 0, 1, 0,
							 VGPU_PTE_R)),
			-EBUSY);
	o.b.npages = NPAGES;
	vgpu_ue_window_put(held);
	KUNIT_EXPECT_EQ(test, atomic64_read(&vgpu_ue_shadow_bytes), before);
	ue_obj_fini(&o);
}

/* A range outside the object is -EINVAL, not -ENOMEM. */
static void ue_window_bad_range(struct kunit *test)
{
	struct ue_obj o;

	ue_obj_init(test, &o);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vgpu_ue_window_new(&o.b, GEN, NPAGES, 1,
							 0, VGPU_PTE_R)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vgpu_ue_window_new(&o.b, GEN, 1, NPAGES,
							 0, VGPU_PTE_R)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vgpu_ue_window_new(&o.b, GEN, 0, 0, 0,
							 VGPU_PTE_R)),
			-EINVAL);
	ue_obj_fini(&o);
}

#define GIB BIT_ULL(30)
#define MIB BIT_ULL(20)

struct ue_table_step {
	bool map;
	u64 va, size;
	u64 bytes;	/* the tables after it */
};

#define L1 VGPU_PT_L1_BYTES
#define L2 VGPU_PT_L2_BYTES

/* Mappings across 1 GiB and 2 MiB boundaries, then unmapped. */
static const struct ue_table_step ue_table_steps[] = {
	{ true, GIB - PG(1), PG(2), 2 * L1 + 2 * L2 },
	{ true, PG(1), PG(1), 2 * L1 + 3 * L2 },
	{ true, 2 * GIB - 2 * MIB, 4 * MIB, 3 * L1 + 5 * L2 },
	{ true, 5 * GIB - PG(1), PG(2), 5 * L1 + 7 * L2 },
	{ false, GIB, PG(1), 5 * L1 + 6 * L2 },
	{ false, 2 * GIB - 2 * MIB, 2 * MIB, 4 * L1 + 5 * L2 },
	{ false, 0, GIB - PG(1), 4 * L1 + 4 * L2 },
	{ false, 2 * GIB, 2 * MIB, 3 * L1 + 3 * L2 },
	{ false, 0, -PG(1), 0 },	/* to the top, mapped or not */
};

/*
 * The process's tables cost what vgpu-sim's would (common/vgpu_pt.c,
 * run alongside), and nothing once everything is unmapped.
 */
static void ue_tables_bytes(struct kunit *test)
{
	struct vgpu_pt *pt = kunit_kzalloc(test, sizeof(*pt), GFP_KERNEL);
	u8 *mem = vzalloc(4 * MIB);
	struct vgpu_ue_tables t;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, pt);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	vgpu_pt_init(pt);
	vgpu_ue_tables_init(&t);
	for (i = 0; i < ARRAY_SIZE(ue_table_steps); i++) {
		const struct ue_table_step *st = &ue_table_steps[i];

		if (st->map) {
			KUNIT_ASSERT_EQ(test, vgpu_ue_tables_map(&t, st->va,
								 st->size), 0);
			KUNIT_ASSERT_EQ(test, vgpu_pt_map(pt, st->va, mem,
							  st->size, VGPU_PTE_R),
					0);
		} else {
			vgpu_ue_tables_unmap(&t, st->va, st->size);
			/* Everything mapped lies below 8 GiB. */
			vgpu_pt_unmap(pt, st->va, min(st->size, 8 * GIB));
		}
		KUNIT_EXPECT_EQ_MSG(test, t.bytes, st->bytes, "step %u", i);
		KUNIT_EXPECT_EQ_MSG(test, t.bytes, vgpu_pt_bytes(pt), "step %u",
				    i);
	}
	KUNIT_EXPECT_TRUE(test, xa_empty(&t.l2));
	KUNIT_EXPECT_TRUE(test, xa_empty(&t.l1));
	KUNIT_EXPECT_EQ(test, vgpu_ue_tables_map(&t, VGPU_VA_SIZE - PG(1),
						 PG(2)), -EINVAL);
	KUNIT_EXPECT_EQ(test, t.bytes, 0ULL);
	vgpu_ue_tables_fini(&t);
	vgpu_pt_fini(pt);
	vfree(mem);
}

struct ue_pci_case {
	const char *name;
	char pci[VGPU_UE_PCI_LEN];
	int ret;
};

/* A PCI address as Linux writes it, or "". */
static const struct ue_pci_case ue_pci_cases[] = {
	{ "none", "", 0 },
	{ "domain:bus:device.function", "0000:01:00.0", 0 },
	{ "32-bit domain, upper case", "00000000:3B:1f.7", 0 },
	{ "a 9-digit domain", "000000000:3b:00.0", -EINVAL },
	{ "device past 1f", "0000:01:20.0", -EINVAL },
	{ "function past 7", "0000:01:00.8", -EINVAL },
	{ "a 1-digit bus", "0000:1:00.0", -EINVAL },
	{ "no function", "0000:01:00", -EINVAL },
	{ "dots only", "..", -EINVAL },
	{ "colons only", ":::", -EINVAL },
	{ "two addresses", "0000:01:00.0:0", -EINVAL },
	{ "not terminated", "0123456789abcdefABCDEF:.01234567", -EINVAL },
	{ "a space", "0000:01:00.0 ", -EINVAL },
	{ "a newline", "0000:01:00.0\n", -EINVAL },
	{ "a path", "../../0000:01", -EINVAL },
	{ "a format", "%s%n", -EINVAL },
	{ "a byte past 0x7f", "0000:\xc3\xa9", -EINVAL },
	{ "a byte after the NUL", "0000:01:00.0\0x", -EINVAL },
};

static void ue_pci_check(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ue_pci_cases); i++)
		KUNIT_EXPECT_EQ_MSG(test,
				    vgpu_ue_check_pci(ue_pci_cases[i].pci),
				    ue_pci_cases[i].ret, "%s",
				    ue_pci_cases[i].name);
}

/* A HELLO of this module's version with enough memory and @pci. */
static void ue_hello_init(struct vgpu_ue_hello *h, const char *pci)
{
	memset(h, 0, sizeof(*h));
	h->version = VGPU_UE_VERSION;
	h->mem_size = (u64)vgpu_ue_mem_mb << 20;
	strscpy(h->name, "test", sizeof(h->name));
	strscpy(h->pci, pci, sizeof(h->pci));
	h->page_shift = 12;		/* the interpreter's offer */
	h->va_hi = 1ULL << 40;
}

static const char *ue_pci_of(struct vgpu_ue *ue, char *buf)
{
	vgpu_ue_pci_address(&ue->engine, buf, VGPU_UE_PCI_LEN);
	return buf;
}

/*
 * The PCI address a HELLO names is checked (a bad one registers
 * nothing) and shown while its process is registered only.
 */
static void ue_hello_pci(struct kunit *test)
{
	struct vgpu_ue *ue = vgpu_ue_create(0);
	struct vgpu_ue_session *s;
	struct vgpu_ue_hello h;
	char pci[VGPU_UE_PCI_LEN];

	KUNIT_ASSERT_FALSE(test, IS_ERR(ue));
	KUNIT_EXPECT_STREQ(test, ue->dev_name, "vgpu-uengine");
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));
	ue_hello_init(&h, "0000:01:00.0");
	h.pci[12] = ';';
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(ue), 0ULL);
	KUNIT_EXPECT_STREQ(test, ue_pci_of(ue, pci), "");
	memset(h.pci, 'a', sizeof(h.pci));	/* no NUL */
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	ue_hello_init(&h, "0000:01:00.0");
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), 0);
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(ue), h.generation);
	KUNIT_EXPECT_STREQ(test, ue_pci_of(ue, pci), "0000:01:00.0");
	vgpu_ue_session_end(s);
	KUNIT_EXPECT_STREQ(test, ue_pci_of(ue, pci), "");
	vgpu_ue_destroy(ue);
}

/*
 * A process that runs a LAUNCH's PTX says so at HELLO (VGPU_UE_HELLO_PTX),
 * and that it gives a launch its descriptor's stack up to what CTX_STACK
 * gave its context (VGPU_UE_HELLO_PTX_STACK, only with the first, with
 * the largest stack and the threads it is held for): the engine reports
 * DRM_VGPU_FEATURE_PTX and _PTX_STACK while it is registered, not once
 * it is gone nor for a later process that does not say it; unknown flags,
 * and the stack without PTX, are refused.
 */
static void ue_hello_ptx(struct kunit *test)
{
	struct vgpu_ue *ue = vgpu_ue_create(0);
	struct vgpu_ue_session *s;
	struct vgpu_ue_hello h;

	KUNIT_ASSERT_FALSE(test, IS_ERR(ue));
	KUNIT_EXPECT_FALSE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX);
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));
	ue_hello_init(&h, "");
	h.flags = VGPU_UE_HELLO_PTX_STACK << 1;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EPROTO);
	h.flags = VGPU_UE_HELLO_PTX_STACK;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EPROTO);
	h.flags = VGPU_UE_HELLO_PTX | VGPU_UE_HELLO_PTX_STACK;
	/* The stack's bounds: a power of two in [2 KiB, 16 KiB], 1..2^24 threads. */
	h.max_stack = 8192;
	h.stack_threads = 0;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.stack_threads = VGPU_MAX_STACK_THREADS + 1;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.stack_threads = 270336;
	h.max_stack = 12288;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.max_stack = DRM_VGPU_PTX_BASE_STACK;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.max_stack = 2 * DRM_VGPU_PTX_MAX_STACK;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.max_stack = DRM_VGPU_PTX_MAX_STACK;
	h.pad = 1;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.pad = 0;
	KUNIT_EXPECT_FALSE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX_STACK);
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), 0);
	KUNIT_EXPECT_TRUE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX);
	KUNIT_EXPECT_TRUE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX_STACK);
	KUNIT_EXPECT_EQ(test, ue->engine.max_stack, DRM_VGPU_PTX_MAX_STACK);
	KUNIT_EXPECT_EQ(test, ue->engine.stack_threads, 270336ULL);
	KUNIT_EXPECT_TRUE(test, ue->engine.features & DRM_VGPU_FEATURE_HOST_MEMORY);
	vgpu_ue_session_end(s);
	KUNIT_EXPECT_FALSE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX);
	KUNIT_EXPECT_FALSE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX_STACK);
	KUNIT_EXPECT_TRUE(test, ue->engine.features & DRM_VGPU_FEATURE_HOST_MEMORY);
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));
	ue_hello_init(&h, "");
	h.flags = VGPU_UE_HELLO_PTX;
	h.max_stack = 8192;	/* a stack without the flag */
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.max_stack = 0;
	h.stack_threads = 1;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -EINVAL);
	h.stack_threads = 0;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), 0);
	KUNIT_EXPECT_EQ(test, ue->engine.max_stack, 0U);
	KUNIT_EXPECT_EQ(test, ue->engine.stack_threads, 0ULL);
	KUNIT_EXPECT_TRUE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX);
	KUNIT_EXPECT_FALSE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX_STACK);
	vgpu_ue_session_end(s);
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));
	ue_hello_init(&h, "");
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), 0);
	KUNIT_EXPECT_FALSE(test, ue->engine.features & DRM_VGPU_FEATURE_PTX);
	vgpu_ue_session_end(s);
	vgpu_ue_destroy(ue);
}

/*
 * A process tells at HELLO the device memory each context holds in it
 * (ctx_mem); the engine carries it for the core to charge.  More than
 * the instance promises (mem_mb) is refused with -ENOSPC and changes
 * nothing; the next process's figure replaces the last one's.
 */
static void ue_hello_ctx_mem(struct kunit *test)
{
	struct vgpu_ue *ue = vgpu_ue_create(0);
	struct vgpu_ue_session *s;
	struct vgpu_ue_hello h;

	KUNIT_ASSERT_FALSE(test, IS_ERR(ue));
	KUNIT_EXPECT_EQ(test, ue->engine.ctx_mem, 0ULL);
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));
	ue_hello_init(&h, "");
	h.ctx_mem = ((u64)vgpu_ue_mem_mb << 20) + 1;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), -ENOSPC);
	KUNIT_EXPECT_EQ(test, ue->engine.ctx_mem, 0ULL);
	h.ctx_mem = (u64)vgpu_ue_mem_mb << 20;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), 0);
	KUNIT_EXPECT_EQ(test, ue->engine.ctx_mem, (u64)vgpu_ue_mem_mb << 20);
	vgpu_ue_session_end(s);
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));
	ue_hello_init(&h, "");
	h.ctx_mem = 3 << 20;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), 0);
	KUNIT_EXPECT_EQ(test, ue->engine.ctx_mem, 3ULL << 20);
	vgpu_ue_session_end(s);
	vgpu_ue_destroy(ue);
}

/*
 * The instance's layout is fixed at load (page_kb, va_start_gb,
 * va_end_gb); a process whose back end cannot serve it is refused with
 * -EDOM and told what it is, a malformed offer with -EINVAL; one that
 * can (a larger page, a wider window) is registered.
 */
static void ue_hello_layout(struct kunit *test)
{
	unsigned int page_kb = vgpu_ue_page_kb, lo = vgpu_ue_va_start_gb;
	unsigned int hi = vgpu_ue_va_end_gb;
	struct vgpu_ue_session *s;
	struct vgpu_ue_hello h;
	struct vgpu_ue *ue;

	vgpu_ue_page_kb = 2048;
	vgpu_ue_va_start_gb = 64;
	vgpu_ue_va_end_gb = 1008;
	ue = vgpu_ue_create(0);
	vgpu_ue_page_kb = page_kb;
	vgpu_ue_va_start_gb = lo;
	vgpu_ue_va_end_gb = hi;
	KUNIT_ASSERT_FALSE(test, IS_ERR(ue));
	KUNIT_EXPECT_EQ(test, ue->engine.page_shift, 21U);
	KUNIT_EXPECT_EQ(test, ue->engine.va_start, 64ULL << 30);
	KUNIT_EXPECT_EQ(test, ue->engine.va_end, 1008ULL << 30);
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));

#define OFFER(shift, l, h_, ret) do {					\
		ue_hello_init(&h, "");					\
		h.page_shift = shift;					\
		h.va_lo = l;						\
		h.va_hi = h_;						\
		KUNIT_EXPECT_EQ(test, vgpu_ue_session_hello(s, &h), ret); \
	} while (0)
	OFFER(11, 0, 1ULL << 40, -EINVAL);
	OFFER(31, 0, 1ULL << 40, -EINVAL);
	OFFER(12, 1ULL << 40, 1ULL << 40, -EINVAL);	/* empty */
	OFFER(12, 100, 1ULL << 40, -EINVAL);		/* not pages */
	OFFER(22, 0, 1ULL << 40, -EDOM);		/* pages too large */
	KUNIT_EXPECT_EQ(test, h.engine_page_shift, 21U);
	KUNIT_EXPECT_EQ(test, h.engine_va_start, 64ULL << 30);
	KUNIT_EXPECT_EQ(test, h.engine_va_end, 1008ULL << 30);
	OFFER(21, 128ULL << 30, 1ULL << 40, -EDOM);	/* window too small */
	OFFER(21, 0, 512ULL << 30, -EDOM);
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(ue), 0ULL);
	OFFER(21, 64ULL << 30, 1008ULL << 30, 0);	/* exactly */
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(ue), h.generation);
	vgpu_ue_session_end(s);
	s = vgpu_ue_session_new(ue, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(s));
	OFFER(12, 0, 1ULL << 40, 0);			/* the interpreter */
#undef OFFER
	vgpu_ue_session_end(s);
	vgpu_ue_destroy(ue);
}

/* An operation of an engine, run aside while the test plays its process. */
struct ue_aside {
	struct work_struct work;
	struct vgpu_ue *ue;
	u64 gen;
	u64 timeout_ns;		/* 0: 5 s */
	int ret;
};

static void ue_aside_run(struct work_struct *work)
{
	struct ue_aside *a = container_of(work, struct ue_aside, work);
	struct vgpu_ue_resp resp;
	struct vgpu_ue_req req = { .op = VGPU_UE_OP_CTX_CREATE };

	req.ctx_create.ctx = 1;
	a->ret = vgpu_ue_call(a->ue, a->gen, &req, NULL,
			      a->timeout_ns ?: 5ULL * NSEC_PER_SEC, &resp);
}

/* The process takes the next request (waiting for it): its seq. */
static u64 ue_take(struct kunit *test, struct vgpu_ue_session *s)
{
	u64 seq = 0;

	mutex_lock(&s->read_lock);
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_take(s, false, VGPU_UE_MAX_MSG,
						   &seq),
			(ssize_t)sizeof(struct vgpu_ue_req));
	mutex_unlock(&s->read_lock);
	return seq;
}

/* Waits (up to a second) until @s has handed out request numbers below @seq. */
static void ue_wait_queued(struct kunit *test, struct vgpu_ue_session *s,
			   u64 seq)
{
	bool queued = false;
	int i;

	for (i = 0; i < 1000 && !queued; i++) {
		mutex_lock(&s->ue->lock);
		queued = s->next_seq >= seq;
		mutex_unlock(&s->ue->lock);
		if (!queued)
			usleep_range(1000, 2000);
	}
	KUNIT_ASSERT_TRUE(test, queued);
}

/*
 * A request's wait goes on while those queued ahead of it are answered:
 * one behind a long one (a GPU kernel that cannot be preempted) is not
 * taken for a hung process.  One whose requests ahead get no answer in
 * its timeout, or that gets none itself, is: the session ends.
 */
static void ue_call_clock(struct kunit *test)
{
	struct vgpu_ue *ue = vgpu_ue_create(0);
	struct ue_aside first = {}, second = {};
	struct vgpu_ue_session *s;
	struct vgpu_ue_resp r = {};
	struct vgpu_ue_hello h;
	int round;

	KUNIT_ASSERT_FALSE(test, IS_ERR(ue));
	for (round = 0; round < 3; round++) {
		s = vgpu_ue_session_new(ue, NULL);
		KUNIT_ASSERT_FALSE(test, IS_ERR(s));
		ue_hello_init(&h, "");
		KUNIT_ASSERT_EQ(test, vgpu_ue_session_hello(s, &h), 0);
		/* The long one may take 5 s; the second 300 ms. */
		first = (struct ue_aside){ .ue = ue, .gen = h.generation };
		second = first;
		second.timeout_ns = 300 * NSEC_PER_MSEC;
		INIT_WORK(&first.work, ue_aside_run);
		INIT_WORK(&second.work, ue_aside_run);
		queue_work(system_unbound_wq, &first.work);
		r.seq = ue_take(test, s);	/* the long one, in flight */
		queue_work(system_unbound_wq, &second.work);
		ue_wait_queued(test, s, 3);
		if (round == 0) {
			/* Answered ahead of it: the second's wait goes on. */
			msleep(200);
			KUNIT_EXPECT_EQ(test, vgpu_ue_session_answer(s, &r), 0);
			r.seq = ue_take(test, s);
			msleep(200);	/* 400 ms after it was queued */
			KUNIT_EXPECT_EQ(test, vgpu_ue_session_answer(s, &r), 0);
			flush_work(&first.work);
			flush_work(&second.work);
			KUNIT_EXPECT_EQ(test, first.ret, 0);
			KUNIT_EXPECT_EQ(test, second.ret, 0);
			KUNIT_EXPECT_EQ(test, vgpu_ue_generation(ue),
					h.generation);
		} else if (round == 1) {
			/* Nothing ahead answered in its timeout: hung. */
			flush_work(&second.work);
			KUNIT_EXPECT_EQ(test, second.ret, -ETIMEDOUT);
			flush_work(&first.work);
			KUNIT_EXPECT_EQ(test, first.ret, -ENODEV);
			KUNIT_EXPECT_EQ(test, vgpu_ue_generation(ue), 0ULL);
		} else {
			/* Answered ahead, then nothing for it: hung. */
			KUNIT_EXPECT_EQ(test, vgpu_ue_session_answer(s, &r), 0);
			ue_take(test, s);
			flush_work(&second.work);
			KUNIT_EXPECT_EQ(test, second.ret, -ETIMEDOUT);
			KUNIT_EXPECT_EQ(test, vgpu_ue_generation(ue), 0ULL);
			flush_work(&first.work);
		}
		vgpu_ue_session_end(s);
	}
	vgpu_ue_destroy(ue);
}

/*
 * Two instances are two engines, registered in order, each with its own
 * device, process and generation: a request of one reaches only its own
 * process (the other's can neither read nor answer it), and one losing
 * its process or going away leaves the other registered and served.
 */
static void ue_instances_independent(struct kunit *test)
{
	struct vgpu_ue *a = vgpu_ue_create(0), *b;
	struct vgpu_ue_session *sa, *sb;
	struct vgpu_ue_resp r = {};
	struct vgpu_ue_hello h;
	struct ue_aside op = {};
	char pci[VGPU_UE_PCI_LEN];
	u64 gen_a, gen_b, seq = 0;

	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = vgpu_ue_create(1);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_STREQ(test, b->dev_name, "vgpu-uengine1");
	KUNIT_ASSERT_NOT_NULL(test, a->engine.dev);
	KUNIT_ASSERT_NOT_NULL(test, b->engine.dev);
	KUNIT_EXPECT_LT(test, a->engine.dev->index, b->engine.dev->index);

	/* Without a process, an instance fails its operations at once. */
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(b), 0ULL);
	op.ue = b;
	op.gen = 0;
	ue_aside_run(&op.work);
	KUNIT_EXPECT_EQ(test, op.ret, -ENODEV);

	sa = vgpu_ue_session_new(a, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sa));
	sb = vgpu_ue_session_new(b, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(sb));
	ue_hello_init(&h, "0000:01:00.0");
	KUNIT_ASSERT_EQ(test, vgpu_ue_session_hello(sa, &h), 0);
	gen_a = h.generation;
	/* A process registered on one does not keep the other busy. */
	ue_hello_init(&h, "0000:02:00.0");
	KUNIT_ASSERT_EQ(test, vgpu_ue_session_hello(sb, &h), 0);
	gen_b = h.generation;
	KUNIT_EXPECT_NE(test, gen_a, gen_b);
	KUNIT_EXPECT_STREQ(test, ue_pci_of(a, pci), "0000:01:00.0");
	KUNIT_EXPECT_STREQ(test, ue_pci_of(b, pci), "0000:02:00.0");

	/* Instance b's process cannot take a's generation's operations. */
	op.gen = gen_a;
	ue_aside_run(&op.work);
	KUNIT_EXPECT_EQ(test, op.ret, -ENODEV);

	/* An operation of a: queued on a's session only. */
	op.ue = a;
	INIT_WORK(&op.work, ue_aside_run);
	queue_work(system_unbound_wq, &op.work);
	mutex_lock(&sb->read_lock);
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_take(sb, true, VGPU_UE_MAX_MSG,
						   &seq), (ssize_t)-EAGAIN);
	mutex_unlock(&sb->read_lock);
	mutex_lock(&sa->read_lock);
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_take(sa, false, VGPU_UE_MAX_MSG,
						   &seq),
			(ssize_t)sizeof(struct vgpu_ue_req));
	mutex_unlock(&sa->read_lock);
	KUNIT_EXPECT_EQ(test, ((struct vgpu_ue_req *)sa->buf)->op,
			(u32)VGPU_UE_OP_CTX_CREATE);
	r.seq = seq;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_answer(sb, &r), -ENOENT);
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_answer(sa, &r), 0);
	flush_work(&op.work);
	KUNIT_EXPECT_EQ(test, op.ret, 0);

	/* a's process ends: a has none, b keeps its own. */
	vgpu_ue_session_end(sa);
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(a), 0ULL);
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(b), gen_b);
	KUNIT_EXPECT_STREQ(test, ue_pci_of(a, pci), "");

	/* a goes away: b stays registered, its process still served. */
	vgpu_ue_destroy(a);
	KUNIT_EXPECT_NOT_NULL(test, b->engine.dev);
	KUNIT_EXPECT_EQ(test, vgpu_ue_generation(b), gen_b);
	KUNIT_EXPECT_STREQ(test, ue_pci_of(b, pci), "0000:02:00.0");
	op.ue = b;
	op.gen = gen_b;
	INIT_WORK(&op.work, ue_aside_run);
	queue_work(system_unbound_wq, &op.work);
	mutex_lock(&sb->read_lock);
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_take(sb, false, VGPU_UE_MAX_MSG,
						   &seq),
			(ssize_t)sizeof(struct vgpu_ue_req));
	mutex_unlock(&sb->read_lock);
	r.seq = seq;
	r.error = -ENOSPC;
	KUNIT_EXPECT_EQ(test, vgpu_ue_session_answer(sb, &r), 0);
	flush_work(&op.work);
	KUNIT_EXPECT_EQ(test, op.ret, -ENOSPC);
	vgpu_ue_session_end(sb);
	vgpu_ue_destroy(b);
}

static struct kunit_case ue_cases[] = {
	KUNIT_CASE(ue_msg_limit),
	KUNIT_CASE(ue_answer_check),
	KUNIT_CASE(ue_answer_format),
	KUNIT_CASE(ue_shadow_per_object),
	KUNIT_CASE(ue_shadow_sync_in),
	KUNIT_CASE(ue_shadow_sync_out),
	KUNIT_CASE(ue_window_partial_unmap),
	KUNIT_CASE(ue_shadow_in_hashes_the_copy),
	KUNIT_CASE(ue_shadow_per_generation),
	KUNIT_CASE(ue_shadow_held_is_reused),
	KUNIT_CASE(ue_window_bad_range),
	KUNIT_CASE(ue_tables_bytes),
	KUNIT_CASE(ue_pci_check),
	KUNIT_CASE(ue_hello_pci),
	KUNIT_CASE(ue_hello_layout),
	KUNIT_CASE(ue_hello_ptx),
	KUNIT_CASE(ue_hello_ctx_mem),
	KUNIT_CASE(ue_call_clock),
	KUNIT_CASE(ue_instances_independent),
	{}
};

static struct kunit_suite ue_suite = {
	.name = "vgpu_uengine",
	.test_cases = ue_cases,
};

kunit_test_suite(ue_suite);
