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
 * (common/vgpu_interp.c), and copies and fills page by page, both in
 * bounded steps between which the engine checks its time budget
 * (preemption) and the watchdog, and gives the CPU away.  See Documentation/sim-isa.rst.
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

static bool preemptible = true;
module_param(preemptible, bool, 0444);
MODULE_PARM_DESC(preemptible, "Stop jobs at the scheduler's time slice (default 1); 0 acts as an engine that cannot preempt: each job runs to its end and is charged after it");

static unsigned int instances = 1;
module_param(instances, uint, 0444);
MODULE_PARM_DESC(instances, "Simulated GPUs, each a device of vgpu-back with vram_mb of its own (default 1, at most 16, instances x vram_mb at most 16384)");

static unsigned int page_kb = 4;
module_param(page_kb, uint, 0444);
MODULE_PARM_DESC(page_kb, "GPU page, KiB: the granularity at which contexts map (VM_BIND) and device memory is allocated; a power of two, 4 to 1048576 (default 4; 2048 behaves as a real GPU's virtual-memory API)");

static unsigned int watchdog_ms = 2000;
module_param_cb(watchdog_ms, &vgpu_watchdog_param_ops, &watchdog_ms, 0644);
MODULE_PARM_DESC(watchdog_ms, "Engine time after which a launch is stopped as hung, ms (1 to 3600000, default 2000); copies and fills, bounded by their size, never hang");

/*
 * One step of the engine, between two looks at the clock: interpreter
 * work units (thread-instructions and their costs, see vgpu_interp.h) of
 * a launch, or bytes of a copy or fill.  A slice overruns its budget by
 * at most one step: about 0.1 ms on an idle core, a few ms under QEMU's
 * emulation (Documentation/admin-guide.rst).
 */
#define VGPU_SIM_CHUNK		BIT(16)
#define VGPU_SIM_MEM_CHUNK	(64 * 1024)

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
};

/* The instances, registered in order (vgpu_sim_init()). */
static struct vgpu_sim **sims;
static unsigned int nr_sims;

static struct vgpu_sim *to_sim(struct vgpu_engine *e)
{
	return container_of(e, struct vgpu_sim, engine);
}

/* vgpu-sim paces nothing per group: a context costs it a page table. */
static int sim_ctx_create(struct vgpu_engine *e, u64 group,
			  struct vgpu_engine_ctx **out)
{
	struct vgpu_engine_ctx *c = kzalloc(sizeof(*c), VGPU_GFP_CLIENT);

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
	struct vgpu_engine_mem *m = kzalloc(sizeof(*m), VGPU_GFP_CLIENT);
	struct vgpu_sim *sim = to_sim(e);
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
	struct vgpu_sim *sim = to_sim(e);

	mutex_lock(&sim->mm_lock);
	drm_mm_remove_node(&m->node);
	mutex_unlock(&sim->mm_lock);
	kfree(m);
}

/* Host memory without one kernel mapping (a guest's pages): page by page. */
static int sim_map_pages(struct vgpu_engine_ctx *c, u64 va,
			 const struct vgpu_backing *b, u64 offset, u64 size,
			 u32 perms)
{
	u64 done;
	int ret = 0;

	for (done = 0; done < size; done += PAGE_SIZE) {
		u64 pg = (offset + done) >> PAGE_SHIFT;

		if (pg >= b->npages) {
			ret = -EINVAL;
			break;
		}
		ret = vgpu_pt_map(&c->pt, va + done, page_address(b->pages[pg]),
				  PAGE_SIZE, perms);
		if (ret)
			break;
	}
	if (ret && done)
		vgpu_pt_unmap(&c->pt, va, done);
	return ret;
}

static int sim_map(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		   const struct vgpu_backing *b, u64 offset, u64 size,
		   u32 perms)
{
	u8 *host;

	if (!b->dev_mem && !b->vaddr)
		return sim_map_pages(c, va, b, offset, size, perms);
	host = b->dev_mem ? to_sim(e)->vram + b->dev_mem->node.start :
			    (u8 *)b->vaddr;
	return vgpu_pt_map(&c->pt, va, host + offset, size, perms);
}

static void sim_unmap(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		      u64 size)
{
	vgpu_pt_unmap(&c->pt, va, size);
}

/* The core charges the context's page tables to its client. */
static u64 sim_ctx_table_bytes(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	return vgpu_pt_bytes(&c->pt);
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

/* What sim_run() hands the shared loop's callbacks. */
struct sim_run {
	struct vgpu_engine *e;
	struct vgpu_engine_ctx *c;
	struct vgpu_engine_job *job;
};

/* The launch @cmd's interpreter state, started on its first step. */
static struct vgpu_launch *sim_launch(struct vgpu_engine_job *job,
				      const struct drm_vgpu_cmd *cmd)
{
	struct vgpu_sim_launch *sl = job->engine_priv;

	if (sl)
		return &sl->l;
	sl = kvzalloc(sizeof(*sl), VGPU_GFP_CLIENT_KV);
	if (!sl)
		return NULL;
	if (vgpu_launch_start(&sl->l, cmd)) {
		kvfree(sl);
		return NULL;
	}
	job->engine_priv = sl;
	return &sl->l;
}

/* One bounded step of command @cmd: a chunk of work, then the clock. */
static enum vgpu_step sim_step(void *arg, struct vgpu_run *run,
			       const struct drm_vgpu_cmd *cmd)
{
	struct sim_run *r = arg;
	struct vgpu_launch *l = NULL;

	if (cmd->op == DRM_VGPU_CMD_LAUNCH) {
		l = sim_launch(r->job, cmd);
		if (!l) {	/* no memory: the launch cannot run */
			run->fault_kind = DRM_VGPU_FAULT_ILLEGAL;
			run->fault_addr = cmd->src;
			return VGPU_STEP_FAULT;
		}
	}
	return vgpu_interp_step(&r->c->pt, run, cmd, l, VGPU_SIM_CHUNK,
				VGPU_SIM_MEM_CHUNK, NULL);
}

static void sim_release(void *arg)
{
	struct sim_run *r = arg;

	sim_job_release(r->e, r->job);
}

static u64 sim_clock(void *arg)
{
	return ktime_get_ns();
}

static void sim_pause(void *arg)
{
	cond_resched();
}

static const struct vgpu_run_ops sim_run_ops = {
	.step = sim_step,
	.release = sim_release,
	.clock = sim_clock,
	.pause = sim_pause,
};

/*
 * Runs the job's commands in the shared loop (vgpu_run_steps(): the
 * watchdog ends launches only, a copy or fill always ends).  One step is
 * at most VGPU_SIM_MEM_CHUNK bytes of a copy or fill or VGPU_SIM_CHUNK
 * work units of a launch, so the engine overruns @budget_ns by one step.
 */
static enum vgpu_job_status sim_run(struct vgpu_engine *e,
				    struct vgpu_engine_ctx *c,
				    struct vgpu_engine_job *job, u64 budget_ns)
{
	struct sim_run r = { .e = e, .c = c, .job = job };
	u64 start = ktime_get_ns();
	enum vgpu_job_status st;

	st = vgpu_engine_job_run(job, &sim_run_ops, &r, budget_ns,
				 (u64)READ_ONCE(watchdog_ms) * NSEC_PER_MSEC);
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
	.ctx_table_bytes = sim_ctx_table_bytes,
};

/* One simulated GPU, registered with vgpu-back. */
static struct vgpu_sim *vgpu_sim_create(void)
{
	struct vgpu_sim *sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	int ret;

	if (!sim)
		return ERR_PTR(-ENOMEM);
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
	sim->engine.page_shift = ilog2(page_kb) + 10;
	sim->engine.watchdog_ms = &watchdog_ms;
	sim->engine.features = DRM_VGPU_FEATURE_HOST_MEMORY |
			       DRM_VGPU_FEATURE_PREEMPTION |
			       DRM_VGPU_FEATURE_ATOMICS;
	if (preemptible)
		sim->engine.flags = VGPU_ENGINE_PREEMPTIBLE;
	else
		sim->engine.features &= ~DRM_VGPU_FEATURE_PREEMPTION;
	ret = vgpu_engine_register(&sim->engine);
	if (ret)
		goto err_mm;
	return sim;

err_mm:
	drm_mm_takedown(&sim->mm);
	vfree(sim->vram);
err_free:
	kfree(sim);
	return ERR_PTR(ret);
}

static void vgpu_sim_destroy(struct vgpu_sim *sim)
{
	vgpu_engine_unregister(&sim->engine);
	drm_mm_takedown(&sim->mm);
	vfree(sim->vram);
	kfree(sim);
}

static void vgpu_sim_destroy_all(void)
{
	while (nr_sims)
		vgpu_sim_destroy(sims[--nr_sims]);
	kfree(sims);
}

static int __init vgpu_sim_init(void)
{
	struct vgpu_sim *sim;

	if (!vram_mb || vram_mb > 4096) {
		pr_err("vgpu-sim: vram_mb must be 1..4096\n");
		return -EINVAL;
	}
	if (!instances || instances > 16) {
		pr_err("vgpu-sim: instances must be 1..16\n");
		return -EINVAL;
	}
	if (page_kb < 4 || page_kb > (1U << 20) || !is_power_of_2(page_kb)) {
		pr_err("vgpu-sim: page_kb must be a power of two, 4..1048576\n");
		return -EINVAL;
	}
	/* Each instance's memory is dom0's (vzalloc): 16 GiB at most. */
	if (instances * vram_mb > 16384) {
		pr_err("vgpu-sim: instances x vram_mb must be at most 16384 MiB\n");
		return -EINVAL;
	}
	sims = kcalloc(instances, sizeof(*sims), GFP_KERNEL);
	if (!sims)
		return -ENOMEM;
	while (nr_sims < instances) {
		sim = vgpu_sim_create();
		if (IS_ERR(sim)) {
			vgpu_sim_destroy_all();
			return PTR_ERR(sim);
		}
		sims[nr_sims++] = sim;
	}
	return 0;
}

static void __exit vgpu_sim_exit(void)
{
	vgpu_sim_destroy_all();
}

module_init(vgpu_sim_init);
module_exit(vgpu_sim_exit);
MODULE_DESCRIPTION("GPUvm reference GPU engine: a software SIMT GPU");
MODULE_AUTHOR("GPUvm developers");
MODULE_LICENSE("Dual MIT/GPL");
