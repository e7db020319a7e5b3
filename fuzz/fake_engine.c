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

static int fe_ctx_create(struct vgpu_engine *e, struct vgpu_engine_ctx **out)
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

/* One step of the current command, at most @units of work. */
static enum vgpu_run_result fe_step(struct vgpu_engine_ctx *c,
				    struct vgpu_engine_job *job, u64 units,
				    u64 *addr, u32 *kind)
{
	const struct drm_vgpu_cmd *cmd = &job->cmds[job->next_cmd];
	struct vgpu_launch *l = job->engine_priv;
	enum vgpu_run_result r;
	u64 n;

	switch (cmd->op) {
	case DRM_VGPU_CMD_COPY:
		return vgpu_mem_copy(&c->pt, cmd->dst, cmd->src, cmd->size,
				     &job->cmd_done, units * 64, addr, kind);
	case DRM_VGPU_CMD_FILL:
		return vgpu_mem_fill(&c->pt, cmd->dst, cmd->size, cmd->value,
				     &job->cmd_done, units * 64, addr, kind);
	case DRM_VGPU_CMD_LAUNCH:
		break;
	default:
		abort();	/* the core let an unchecked command through */
	}
	if (!l) {
		struct vgpu_launch_desc d = {
			.code_va = cmd->src, .shared_size = cmd->shared_size,
		};

		memcpy(d.grid, cmd->grid, sizeof(d.grid));
		memcpy(d.block, cmd->block, sizeof(d.block));
		memcpy(d.params, cmd->params, sizeof(d.params));
		l = kvzalloc(sizeof(*l), GFP_KERNEL);
		if (!l || vgpu_launch_init(l, &d))
			abort();	/* the core checked the geometry */
		job->engine_priv = l;
	}
	r = vgpu_launch_run(l, &c->pt, units, &n);
	if (r == VGPU_RUN_FAULT) {
		*kind = l->fault_kind;
		*addr = l->fault_addr;
	}
	return r;
}

/* Runs steps of fuzz_units until done, fault, watchdog or budget. */
static enum vgpu_job_status fe_run(struct vgpu_engine *e,
				   struct vgpu_engine_ctx *c,
				   struct vgpu_engine_job *job, u64 budget_ns)
{
	unsigned int steps = 0;

	while (job->next_cmd < job->num_cmds) {
		enum vgpu_run_result r;
		u64 addr = 0;
		u32 kind = 0;

		r = fe_step(c, job, fuzz_units, &addr, &kind);
		job->cmd_busy_ns += fuzz_units;	/* in work units here */
		if (r == VGPU_RUN_FAULT) {
			job->fault_kind = kind;
			job->fault_addr = addr;
			fe_job_release(e, job);
			return VGPU_JOB_FAULTED;
		}
		if (r == VGPU_RUN_DONE) {
			fe_job_release(e, job);
			job->next_cmd++;
			job->cmd_done = 0;
			job->cmd_busy_ns = 0;
		} else if (job->cmds[job->next_cmd].op == DRM_VGPU_CMD_LAUNCH &&
			   job->cmd_busy_ns >= FUZZ_WATCHDOG_UNITS) {
			/* vgpu-sim's rule: copies and fills always end */
			fe_job_release(e, job);
			return VGPU_JOB_TIMEDOUT;
		}
		if (++steps >= FUZZ_SLICE_STEPS && job->next_cmd < job->num_cmds)
			return VGPU_JOB_PREEMPTED;
	}
	return VGPU_JOB_DONE;
}

static u64 fe_ctx_table_bytes(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	return vgpu_pt_bytes(&c->pt);
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
};

struct vgpu_engine fuzz_engine = {
	.name = "fuzz",
	.ops = &fe_ops,
	.mem_size = 64 << 20,
	.isa_version = VGPU_ISA_VERSION,
	.features = DRM_VGPU_FEATURE_HOST_MEMORY | DRM_VGPU_FEATURE_PREEMPTION,
	.flags = VGPU_ENGINE_PREEMPTIBLE,
};
