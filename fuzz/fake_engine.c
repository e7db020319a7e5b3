// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * fake_engine.c - the fuzzer's engine: vgpu-sim's logic (page tables, the
 * interpreter, chunked copy and fill) over malloc'ed device memory, so
 * AddressSanitizer checks every access the core lets a job make.  Budgets
 * are tiny, so jobs are preempted and resumed all the time.
 */
#include <linux/slab.h>

#include "../backend/vgpu_engine.h"
#include "../common/vgpu_interp.h"
#include "fuzz.h"

struct vgpu_engine_mem {
	u8 *mem;
	u64 size;
};

struct vgpu_engine_ctx {
	struct vgpu_pt pt;
};

static int fe_ctx_create(struct vgpu_engine *e, u64 group,
			 struct vgpu_engine_ctx **out)
{
	*out = kzalloc(sizeof(**out), GFP_KERNEL);
	if (!*out)
		return -ENOMEM;
	vgpu_pt_init(&(*out)->pt);
	return 0;
}

static void fe_ctx_destroy(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	/* Every mapping must be gone: the core unmaps before it destroys. */
	if (c->pt.mapped_pages)
		abort();
	vgpu_pt_fini(&c->pt);
	kfree(c);
}

static int fe_mem_alloc(struct vgpu_engine *e, u64 size,
			struct vgpu_engine_mem **out)
{
	struct vgpu_engine_mem *m;

	if (fuzz_engine_mem_used + size > e->mem_size)
		return -ENOSPC;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->mem = aligned_alloc(PAGE_SIZE, size);	/* page tables need pages */
	if (!m->mem) {
		kfree(m);
		return -ENOMEM;
	}
	memset(m->mem, 0, size);
	m->size = size;
	fuzz_engine_mem_used += size;
	*out = m;
	return 0;
}

static void fe_mem_free(struct vgpu_engine *e, struct vgpu_engine_mem *m)
{
	fuzz_engine_mem_used -= m->size;
	free(m->mem);
	kfree(m);
}

static int fe_map(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		  const struct vgpu_backing *b, u64 offset, u64 size, u32 perms)
{
	u8 *base = b->dev_mem ? b->dev_mem->mem : (u8 *)b->vaddr;
	u64 done;
	int ret = 0;

	if (base)
		return vgpu_pt_map(&c->pt, va, base + offset, size, perms);
	/* A guest's pages without one mapping, as vgpu-sim maps them. */
	for (done = 0; done < size && !ret; done += PAGE_SIZE) {
		u64 pg = (offset + done) >> PAGE_SHIFT;

		ret = pg < b->npages ?
		      vgpu_pt_map(&c->pt, va + done, page_address(b->pages[pg]),
				  PAGE_SIZE, perms) : -EINVAL;
	}
	if (ret && done > PAGE_SIZE)
		vgpu_pt_unmap(&c->pt, va, done - PAGE_SIZE);
	return ret;
}

static void fe_unmap(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		     u64 size)
{
	vgpu_pt_unmap(&c->pt, va, size);
}

static void fe_job_release(struct vgpu_engine *e, struct vgpu_engine_job *job)
{
	struct vgpu_launch *l = job->engine_priv;

	if (l) {
		vgpu_launch_fini(l);
		kvfree(l);
		job->engine_priv = NULL;
	}
}

/* What fe_run() hands the shared loop's callbacks. */
struct fe_run_arg {
	struct vgpu_engine *e;
	struct vgpu_engine_ctx *c;
	struct vgpu_engine_job *job;
	u64 clock;	/* work units, fuzz_units per step */
};

/* One step of the current command, at most fuzz_units of work. */
static enum vgpu_step fe_step(void *arg, struct vgpu_run *run,
			      const struct drm_vgpu_cmd *cmd)
{
	struct fe_run_arg *r = arg;
	struct vgpu_launch *l = r->job->engine_priv;

	if (cmd->op != DRM_VGPU_CMD_COPY && cmd->op != DRM_VGPU_CMD_FILL &&
	    cmd->op != DRM_VGPU_CMD_LAUNCH)
		abort();	/* the core let an unchecked command through */
	if (cmd->op == DRM_VGPU_CMD_LAUNCH && !l) {
		l = kvzalloc(sizeof(*l), GFP_KERNEL);
		if (!l || vgpu_launch_start(l, cmd))
			abort();	/* the core checked the geometry */
		r->job->engine_priv = l;
	}
	return vgpu_interp_step(&r->c->pt, run, cmd, l, fuzz_units,
				fuzz_units * 64, NULL);
}

static void fe_release(void *arg)
{
	struct fe_run_arg *r = arg;

	fe_job_release(r->e, r->job);
}

/* Each reading is one step later: the loop reads it once per step. */
static u64 fe_clock(void *arg)
{
	struct fe_run_arg *r = arg;

	return r->clock += fuzz_units;
}

static const struct vgpu_run_ops fe_run_ops = {
	.step = fe_step,
	.release = fe_release,
	.clock = fe_clock,
};

/*
 * The shared loop (vgpu_run_steps()) on a clock of work units: a slice is
 * FUZZ_SLICE_STEPS steps, the watchdog FUZZ_WATCHDOG_UNITS, so jobs are
 * preempted and resumed all the time.
 */
static enum vgpu_job_status fe_run(struct vgpu_engine *e,
				   struct vgpu_engine_ctx *c,
				   struct vgpu_engine_job *job, u64 budget_ns)
{
	struct fe_run_arg r = { .e = e, .c = c, .job = job };

	return vgpu_engine_job_run(job, &fe_run_ops, &r,
				   FUZZ_SLICE_STEPS * fuzz_units,
				   FUZZ_WATCHDOG_UNITS);
}

static u64 fe_ctx_table_bytes(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	return vgpu_pt_bytes(&c->pt);
}

/* A stack the core charged: the fuzzer's engine gives it (nothing held). */
static int fe_ctx_stack(struct vgpu_engine *e, struct vgpu_engine_ctx *c,
			u32 stack_size)
{
	if (stack_size < 2 * DRM_VGPU_PTX_BASE_STACK ||
	    stack_size > DRM_VGPU_PTX_MAX_STACK ||
	    (stack_size & (stack_size - 1)))
		abort();	/* the core let an unchecked stack through */
	return 0;
}

static const struct vgpu_engine_ops fe_ops = {
	.ctx_create = fe_ctx_create,
	.ctx_destroy = fe_ctx_destroy,
	.mem_alloc = fe_mem_alloc,
	.mem_free = fe_mem_free,
	.map = fe_map,
	.unmap = fe_unmap,
	.run = fe_run,
	.job_release = fe_job_release,
	.ctx_table_bytes = fe_ctx_table_bytes,
	.ctx_stack = fe_ctx_stack,
};

struct vgpu_engine fuzz_engine = {
	.name = "fuzz",
	.ops = &fe_ops,
	.mem_size = 64 << 20,
	.isa_version = VGPU_ISA_VERSION,
	.features = DRM_VGPU_FEATURE_HOST_MEMORY | DRM_VGPU_FEATURE_PREEMPTION |
		    DRM_VGPU_FEATURE_PTX | DRM_VGPU_FEATURE_PTX_STACK,
	/* 15 KiB more a thread over 1024 threads: 15 MiB of the quota. */
	.max_stack = DRM_VGPU_PTX_MAX_STACK,
	.stack_threads = 1024,
	.flags = VGPU_ENGINE_PREEMPTIBLE,
};
