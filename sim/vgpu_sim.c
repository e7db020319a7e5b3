// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_sim.c - vgpu-sim, the reference GPU engine of GPUvm.
 *
 * Device memory ("VRAM") is one vmalloc'ed area of vram_mb MiB managed by
 * drm_mm.  Each context has its own page tables (common/vgpu_pt.c) that
 * map GPU virtual pages to VRAM or to host pages.  Jobs run on the
 * caller's thread (vgpu-back's scheduler) through the interpreter
 * (common/vgpu_interp.c), in chunks of instructions between which the
 * engine checks its time budget (preemption) and the watchdog, and gives
 * the CPU away.  See Documentation/sim-isa.rst.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <drm/drm_mm.h>

#include "../backend/vgpu_engine.h"
#include "../common/vgpu_interp.h"

static unsigned int vram_mb = 128;
module_param(vram_mb, uint, 0444);
MODULE_PARM_DESC(vram_mb, "Device memory of the simulated GPU, MiB (default 128)");

static unsigned int watchdog_ms = 2000;
module_param(watchdog_ms, uint, 0644);
MODULE_PARM_DESC(watchdog_ms, "Engine time after which a launch is stopped as hung, ms (default 2000)");

/* Thread-instructions between two looks at the clock. */
#define VGPU_SIM_CHUNK	BIT(16)

struct vgpu_sim {
	struct vgpu_engine engine;
	u8 *vram;
	struct mutex mm_lock;	/* protects @mm */
	struct drm_mm mm;
};

struct vgpu_engine_mem {
	struct drm_mm_node node;
};

struct vgpu_engine_ctx {
	struct vgpu_pt pt;
};

struct vgpu_sim_launch {
	struct vgpu_launch l;
	u64 busy_ns;		/* engine time of this launch: the watchdog */
};

static struct vgpu_sim *sim;

static int sim_ctx_create(struct vgpu_engine *e, struct vgpu_engine_ctx **out)
{
	struct vgpu_engine_ctx *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	vgpu_pt_init(&c->pt);
	*out = c;
	return 0;
}

static void sim_ctx_destroy(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	vgpu_pt_fini(&c->pt);
	kfree(c);
}

static int sim_mem_alloc(struct vgpu_engine *e, u64 size,
			 struct vgpu_engine_mem **out)
{
	struct vgpu_engine_mem *m = kzalloc(sizeof(*m), GFP_KERNEL);
	int ret;

	if (!m)
		return -ENOMEM;
	mutex_lock(&sim->mm_lock);
	ret = drm_mm_insert_node_generic(&sim->mm, &m->node, size, PAGE_SIZE,
					 0, DRM_MM_INSERT_BEST);
	mutex_unlock(&sim->mm_lock);
	if (ret) {
		kfree(m);
		return ret;	/* -ENOSPC: device memory is full */
	}
	/* Device memory is zeroed for each new owner. */
	memset(sim->vram + m->node.start, 0, size);
	*out = m;
	return 0;
}

static void sim_mem_free(struct vgpu_engine *e, struct vgpu_engine_mem *m)
{
	mutex_lock(&sim->mm_lock);
	drm_mm_remove_node(&m->node);
	mutex_unlock(&sim->mm_lock);
	kfree(m);
}

static int sim_map(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		   const struct vgpu_backing *b, u64 offset, u64 size,
		   u32 perms)
{
	u8 *host = b->dev_mem ? sim->vram + b->dev_mem->node.start :
				(u8 *)b->vaddr;

	return vgpu_pt_map(&c->pt, va, host + offset, size, perms);
}

static void sim_unmap(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		      u64 size)
{
	vgpu_pt_unmap(&c->pt, va, size);
}

static void sim_job_release(struct vgpu_engine *e, struct vgpu_engine_job *job)
{
	struct vgpu_sim_launch *sl = job->engine_priv;

	if (sl) {
		vgpu_launch_fini(&sl->l);
		kvfree(sl);
		job->engine_priv = NULL;
	}
}

static enum vgpu_job_status sim_fault(struct vgpu_engine *e,
				      struct vgpu_engine_job *job, u32 kind,
				      u64 addr)
{
	job->fault_kind = kind;
	job->fault_addr = addr;
	sim_job_release(e, job);
	return VGPU_JOB_FAULTED;
}

/* Runs the launch of @cmd until done, fault, watchdog or end of budget. */
static enum vgpu_job_status sim_run_launch(struct vgpu_engine *e,
					   struct vgpu_engine_ctx *c,
					   struct vgpu_engine_job *job,
					   const struct drm_vgpu_cmd *cmd,
					   u64 start, u64 budget_ns)
{
	struct vgpu_sim_launch *sl = job->engine_priv;
	u64 last = ktime_get_ns();

	if (!sl) {
		struct vgpu_launch_desc d = {
			.code_va = cmd->src,
			.shared_size = cmd->shared_size,
		};
		int ret;

		memcpy(d.grid, cmd->grid, sizeof(d.grid));
		memcpy(d.block, cmd->block, sizeof(d.block));
		memcpy(d.params, cmd->params, sizeof(d.params));
		sl = kvzalloc(sizeof(*sl), GFP_KERNEL);
		if (!sl)
			return sim_fault(e, job, DRM_VGPU_FAULT_ILLEGAL, cmd->src);
		ret = vgpu_launch_init(&sl->l, &d);
		if (ret) {
			kvfree(sl);
			return sim_fault(e, job, DRM_VGPU_FAULT_ILLEGAL, cmd->src);
		}
		job->engine_priv = sl;
	}
	for (;;) {
		u64 n, now;
		enum vgpu_run_result r = vgpu_launch_run(&sl->l, &c->pt,
							 VGPU_SIM_CHUNK, &n);

		now = ktime_get_ns();
		sl->busy_ns += now - last;
		last = now;
		if (r == VGPU_RUN_DONE) {
			sim_job_release(e, job);
			return VGPU_JOB_DONE;
		}
		if (r == VGPU_RUN_FAULT)
			return sim_fault(e, job, sl->l.fault_kind,
					 sl->l.fault_addr);
		if (sl->busy_ns >= (u64)watchdog_ms * NSEC_PER_MSEC) {
			sim_job_release(e, job);
			return VGPU_JOB_TIMEDOUT;
		}
		if (now - start >= budget_ns)
			return VGPU_JOB_PREEMPTED;
		cond_resched();
	}
}

static enum vgpu_job_status sim_run(struct vgpu_engine *e,
				    struct vgpu_engine_ctx *c,
				    struct vgpu_engine_job *job, u64 budget_ns)
{
	u64 start = ktime_get_ns();
	enum vgpu_job_status st = VGPU_JOB_DONE;

	while (job->next_cmd < job->num_cmds) {
		const struct drm_vgpu_cmd *cmd = &job->cmds[job->next_cmd];
		enum vgpu_run_result r = VGPU_RUN_DONE;
		u32 kind = 0;
		u64 addr = 0;

		switch (cmd->op) {
		case DRM_VGPU_CMD_COPY:
			r = vgpu_mem_copy(&c->pt, cmd->dst, cmd->src, cmd->size,
					  &addr, &kind);
			break;
		case DRM_VGPU_CMD_FILL:
			r = vgpu_mem_fill(&c->pt, cmd->dst, cmd->size,
					  cmd->value, &addr, &kind);
			break;
		case DRM_VGPU_CMD_LAUNCH:
			st = sim_run_launch(e, c, job, cmd, start, budget_ns);
			if (st != VGPU_JOB_DONE)
				goto out;
			break;
		default:	/* the core validated every command */
			r = VGPU_RUN_FAULT;
			kind = DRM_VGPU_FAULT_ILLEGAL;
			break;
		}
		if (r == VGPU_RUN_FAULT) {
			st = sim_fault(e, job, kind, addr);
			goto out;
		}
		job->next_cmd++;
		if (job->next_cmd < job->num_cmds &&
		    ktime_get_ns() - start >= budget_ns) {
			st = VGPU_JOB_PREEMPTED;
			goto out;
		}
	}
out:
	job->busy_ns += ktime_get_ns() - start;
	return st;
}

static const struct vgpu_engine_ops sim_ops = {
	.ctx_create = sim_ctx_create,
	.ctx_destroy = sim_ctx_destroy,
	.mem_alloc = sim_mem_alloc,
	.mem_free = sim_mem_free,
	.map = sim_map,
	.unmap = sim_unmap,
	.run = sim_run,
	.job_release = sim_job_release,
};

static int __init vgpu_sim_init(void)
{
	int ret;

	if (!vram_mb || vram_mb > 4096) {
		pr_err("vgpu-sim: vram_mb must be 1..4096\n");
		return -EINVAL;
	}
	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim)
		return -ENOMEM;
	sim->vram = vzalloc((size_t)vram_mb << 20);
	if (!sim->vram) {
		ret = -ENOMEM;
		goto err_free;
	}
	mutex_init(&sim->mm_lock);
	drm_mm_init(&sim->mm, 0, (u64)vram_mb << 20);
	sim->engine.name = "vgpu-sim";
	sim->engine.owner = THIS_MODULE;
	sim->engine.ops = &sim_ops;
	sim->engine.mem_size = (u64)vram_mb << 20;
	sim->engine.isa_version = VGPU_ISA_VERSION;
	sim->engine.features = DRM_VGPU_FEATURE_HOST_MEMORY |
			       DRM_VGPU_FEATURE_PREEMPTION |
			       DRM_VGPU_FEATURE_ATOMICS;
	ret = vgpu_engine_register(&sim->engine);
	if (ret)
		goto err_mm;
	return 0;

err_mm:
	drm_mm_takedown(&sim->mm);
	vfree(sim->vram);
err_free:
	kfree(sim);
	return ret;
}

static void __exit vgpu_sim_exit(void)
{
	vgpu_engine_unregister(&sim->engine);
	drm_mm_takedown(&sim->mm);
	vfree(sim->vram);
	kfree(sim);
}

module_init(vgpu_sim_init);
module_exit(vgpu_sim_exit);
MODULE_DESCRIPTION("GPUvm reference GPU engine: a software SIMT GPU");
MODULE_AUTHOR("GPUvm developers");
MODULE_LICENSE("Dual MIT/GPL");
