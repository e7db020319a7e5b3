// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue_engine.c - the engine of an instance of vgpu-uengine.ko:
 * struct vgpu_engine_ops forwarded to the instance's engine process
 * through its channel (vgpu_ue_chan.c), and vgpu_ue_create(), which
 * makes an instance (vgpu_ue_main.c makes the module's).
 *
 * Every context and device memory object remembers the generation of
 * the process that created it.  Once that process is gone, operations
 * on them do nothing (destroy, free, unmap) or fail: map with -ENODEV,
 * run with a fault of kind DRM_VGPU_FAULT_ENGINE_LOST, so the context's
 * owner sees a clear error and vgpu-back recovers as from any fault.
 */
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/xarray.h>

#include "../backend/vgpu_engine.h"
#include "../common/vgpu_isa.h"
#include "vgpu_ue.h"

/* The module's parameters (vgpu_ue_main.c), the same for every instance. */
unsigned int vgpu_ue_mem_mb = 256;
unsigned int vgpu_ue_page_kb = 4;
unsigned int vgpu_ue_va_start_gb;	/* 0: the core's default */
unsigned int vgpu_ue_va_end_gb;		/* 0: the core's default */
unsigned int vgpu_ue_watchdog_ms = 2000;
unsigned int vgpu_ue_op_timeout_ms = 5000;

static struct vgpu_ue *to_ue(struct vgpu_engine *e)
{
	return container_of(e, struct vgpu_ue, engine);
}

/* Its windows and tables are serialised by the core (per context). */
struct vgpu_engine_ctx {
	u64 id;
	u64 gen;
	struct list_head windows;
	struct vgpu_ue_tables tables;
};

struct vgpu_engine_mem {
	u64 id;
	u64 gen;
};

/* A job as sent: its id, and whether its commands went with a RUN. */
struct vgpu_ue_job {
	u64 id;
	u64 gen;
	bool sent;
};

static u64 vgpu_ue_timeout(u64 extra_ns)
{
	return (u64)vgpu_ue_op_timeout_ms * NSEC_PER_MSEC + extra_ns;
}

/*
 * A request of @op, every byte zero: the bytes of the union past @op's
 * member too (an initialiser need not clear them), which read() copies
 * to the process.
 */
static void ue_req_init(struct vgpu_ue_req *req, u32 op)
{
	memset(req, 0, sizeof(*req));
	req->op = op;
}

/* A request that carries no payload and whose answer has no body. */
static int vgpu_ue_simple(struct vgpu_ue *ue, u64 gen, struct vgpu_ue_req *req)
{
	struct vgpu_ue_resp resp;

	return vgpu_ue_call(ue, gen, req, NULL, vgpu_ue_timeout(0), &resp);
}

/* Window @id of @ue, a reference taken; NULL if none. */
struct vgpu_ue_window *vgpu_ue_window_get(struct vgpu_ue *ue, u64 id)
{
	struct vgpu_ue_window *w;

	xa_lock(&ue->windows);
	w = xa_load(&ue->windows, id);
	if (w)
		kref_get(&w->ref);
	xa_unlock(&ue->windows);
	return w;
}

/*
 * Leaves the table and the context: no new process mapping, no more
 * synchronisation; the process's mappings keep its pages until unmapped.
 */
static void vgpu_ue_window_drop(struct vgpu_ue *ue, struct vgpu_ue_window *w)
{
	xa_erase(&ue->windows, w->id);
	list_del(&w->node);
	vgpu_ue_window_unlink(w);
	vgpu_ue_window_put(w);
}

static int ue_ctx_create(struct vgpu_engine *e, u64 group,
			 struct vgpu_engine_ctx **out)
{
	struct vgpu_engine_ctx *c = kzalloc(sizeof(*c), GFP_KERNEL);
	struct vgpu_ue *ue = to_ue(e);
	struct vgpu_ue_req req;
	int ret;

	if (!c)
		return -ENOMEM;
	INIT_LIST_HEAD(&c->windows);
	vgpu_ue_tables_init(&c->tables);
	c->id = atomic64_inc_return(&ue->next_id);
	c->gen = vgpu_ue_generation(ue);
	ue_req_init(&req, VGPU_UE_OP_CTX_CREATE);
	req.ctx_create.ctx = c->id;
	req.ctx_create.group = group;
	ret = vgpu_ue_simple(ue, c->gen, &req);
	if (ret) {
		/* Paced (-EBUSY): the core tells the client, per client. */
		if (ret != -EBUSY)
			vgpu_ue_warn(ue, "no context: %s (%d)\n",
				     ret == -ENODEV ? "no engine process" :
				     "engine process refused", ret);
		kfree(c);
		return ret;
	}
	*out = c;
	return 0;
}

static void ue_ctx_destroy(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	struct vgpu_ue_window *w, *tmp;
	struct vgpu_ue_req req;

	ue_req_init(&req, VGPU_UE_OP_CTX_DESTROY);
	req.ctx_destroy.ctx = c->id;
	vgpu_ue_simple(to_ue(e), c->gen, &req);
	list_for_each_entry_safe(w, tmp, &c->windows, node)
		vgpu_ue_window_drop(to_ue(e), w);
	vgpu_ue_tables_fini(&c->tables);
	kfree(c);
}

static int ue_ctx_stack(struct vgpu_engine *e, struct vgpu_engine_ctx *c,
			u32 stack_size)
{
	struct vgpu_ue_req req;

	ue_req_init(&req, VGPU_UE_OP_CTX_STACK);
	req.ctx_stack.ctx = c->id;
	req.ctx_stack.stack_size = stack_size;
	return vgpu_ue_simple(to_ue(e), c->gen, &req);
}

static int ue_mem_alloc(struct vgpu_engine *e, u64 size,
			struct vgpu_engine_mem **out)
{
	struct vgpu_engine_mem *m = kzalloc(sizeof(*m), GFP_KERNEL);
	struct vgpu_ue *ue = to_ue(e);
	struct vgpu_ue_req req;
	int ret;

	if (!m)
		return -ENOMEM;
	m->id = atomic64_inc_return(&ue->next_id);
	m->gen = vgpu_ue_generation(ue);
	ue_req_init(&req, VGPU_UE_OP_MEM_ALLOC);
	req.mem_alloc.mem = m->id;
	req.mem_alloc.size = size;
	ret = vgpu_ue_simple(ue, m->gen, &req);
	if (ret) {
		kfree(m);
		return ret;
	}
	*out = m;
	return 0;
}

static void ue_mem_free(struct vgpu_engine *e, struct vgpu_engine_mem *m)
{
	struct vgpu_ue_req req;

	ue_req_init(&req, VGPU_UE_OP_MEM_FREE);
	req.mem_free.mem = m->id;
	vgpu_ue_simple(to_ue(e), m->gen, &req);
	kfree(m);
}

/* MAP of host memory @b at @offset: a window for the process. */
static int ue_map_host(struct vgpu_ue *ue, struct vgpu_engine_ctx *c,
		       const struct vgpu_backing *b, u64 offset,
		       struct vgpu_ue_req *req)
{
	struct vgpu_ue_req_map *map = &req->map;
	struct vgpu_ue_window *w;
	u32 id;
	int ret;

	if ((offset | map->size) & ~PAGE_MASK)
		return -EINVAL;
	w = vgpu_ue_window_new(b, c->gen, offset >> PAGE_SHIFT,
			       map->size >> PAGE_SHIFT, map->va, map->perms);
	if (IS_ERR(w))
		return PTR_ERR(w);
	/* Its mmap offset, id << VGPU_UE_WINDOW_SHIFT, must fit a signed off_t. */
	ret = xa_alloc(&ue->windows, &id, w,
		       XA_LIMIT(1, BIT_ULL(63 - VGPU_UE_WINDOW_SHIFT) - 1), GFP_KERNEL);
	if (ret) {
		vgpu_ue_window_unlink(w);
		vgpu_ue_window_put(w);
		return ret;
	}
	w->id = id;
	list_add_tail(&w->node, &c->windows);
	map->kind = VGPU_UE_MAP_HOST;
	map->window = id;
	ret = vgpu_ue_simple(ue, c->gen, req);
	if (ret)
		vgpu_ue_window_drop(ue, w);
	return ret;
}

static int ue_map(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		  const struct vgpu_backing *b, u64 offset, u64 size,
		  u32 perms)
{
	struct vgpu_ue_req req;
	int ret;

	ue_req_init(&req, VGPU_UE_OP_MAP);
	req.map.ctx = c->id;
	req.map.va = va;
	req.map.size = size;
	req.map.perms = perms;
	if (b->dev_mem && b->dev_mem->gen != c->gen)
		return -ENODEV;	/* memory of a process that has gone */
	/* The process's tables for the range, charged by the core. */
	ret = vgpu_ue_tables_map(&c->tables, va, size);
	if (ret)
		return ret;
	if (!b->dev_mem) {
		ret = ue_map_host(to_ue(e), c, b, offset, &req);
	} else {
		req.map.kind = VGPU_UE_MAP_DEVICE;
		req.map.mem = b->dev_mem->id;
		req.map.offset = offset;
		ret = vgpu_ue_simple(to_ue(e), c->gen, &req);
	}
	if (ret)
		vgpu_ue_tables_unmap(&c->tables, va, size);
	return ret;
}

static void ue_unmap(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		     u64 size)
{
	struct vgpu_ue_window *w, *tmp;
	struct vgpu_ue_req req;

	ue_req_init(&req, VGPU_UE_OP_UNMAP);
	req.unmap.ctx = c->id;
	req.unmap.va = va;
	req.unmap.size = size;
	vgpu_ue_simple(to_ue(e), c->gen, &req);
	vgpu_ue_tables_unmap(&c->tables, va, size);
	/* A window goes when the last of its pages is unmapped. */
	list_for_each_entry_safe(w, tmp, &c->windows, node)
		if (vgpu_ue_window_unmap(w, va, size))
			vgpu_ue_window_drop(to_ue(e), w);
}

/* The core charges the process's tables of @c to its client. */
static u64 ue_ctx_table_bytes(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	return c->tables.bytes;
}

static void ue_job_release(struct vgpu_engine *e, struct vgpu_engine_job *job)
{
	struct vgpu_ue_job *uj = job->engine_priv;
	struct vgpu_ue_req req;

	if (!uj)
		return;
	if (uj->sent) {
		ue_req_init(&req, VGPU_UE_OP_JOB_RELEASE);
		req.job_release.job = uj->id;
		vgpu_ue_simple(to_ue(e), uj->gen, &req);
	}
	kfree(uj);
	job->engine_priv = NULL;
}

static enum vgpu_job_status ue_lost(struct vgpu_engine *e,
				    struct vgpu_engine_job *job)
{
	job->fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
	job->fault_addr = 0;
	ue_job_release(e, job);
	return VGPU_JOB_FAULTED;
}

/*
 * Checks and applies the process's answer to a RUN that took @wall_ns:
 * only a possible answer copies out what the engine wrote.  An
 * impossible one ends the session: the process cannot be trusted.
 */
static enum vgpu_job_status ue_run_result(struct vgpu_engine *e,
					  struct vgpu_engine_ctx *c,
					  struct vgpu_engine_job *job,
					  const struct vgpu_ue_resp_run *r,
					  u64 wall_ns)
{
	const char *why = vgpu_ue_check_run(job, r, wall_ns);

	if (why) {
		vgpu_ue_warn(to_ue(e), "impossible RUN answer: %s (status %u, next %llu of %u from %u, done %llu, busy %llu ns in %llu ns, command %llu ns, fault kind %u); ending the session\n",
			     why, r->status, r->next_cmd, job->num_cmds,
			     job->next_cmd, r->cmd_done, r->busy_ns,
			     wall_ns, r->cmd_busy_ns, r->fault_kind);
		vgpu_ue_chan_kill(to_ue(e), c->gen, "impossible RUN answer");
		return ue_lost(e, job);
	}
	vgpu_ue_sync_out(&c->windows);
	job->next_cmd = r->next_cmd;
	job->cmd_done = r->cmd_done;
	job->cmd_busy_ns = r->cmd_busy_ns;
	job->busy_ns += r->busy_ns;
	switch (r->status) {
	case VGPU_UE_RUN_DONE:
		ue_job_release(e, job);
		return VGPU_JOB_DONE;
	case VGPU_UE_RUN_PREEMPTED:
		return VGPU_JOB_PREEMPTED;
	case VGPU_UE_RUN_FAULTED:
		job->fault_kind = r->fault_kind;
		job->fault_addr = r->fault_addr;
		ue_job_release(e, job);
		return VGPU_JOB_FAULTED;
	default:
		ue_job_release(e, job);
		return VGPU_JOB_TIMEDOUT;
	}
}

/* The RUN of @job where it stands (its payload, if any, aside). */
static void ue_run_req(struct vgpu_ue_req *req, struct vgpu_engine_ctx *c,
		       const struct vgpu_engine_job *job, u64 budget_ns,
		       u64 watchdog_ns)
{
	const struct vgpu_ue_job *uj = job->engine_priv;

	ue_req_init(req, VGPU_UE_OP_RUN);
	req->run.ctx = c->id;
	req->run.job = uj->id;
	req->run.budget_ns = budget_ns;
	req->run.watchdog_ns = watchdog_ns;
	req->run.num_cmds = job->num_cmds;
	req->run.next_cmd = job->next_cmd;
	req->run.cmd_done = job->cmd_done;
	req->run.cmd_busy_ns = job->cmd_busy_ns;
}

/*
 * Runs the job in the process for @budget_ns.  The first RUN of a job
 * carries its commands; the process keeps them until JOB_RELEASE.  The
 * wait is bounded by the budget, the watchdog and op_timeout_ms; the
 * shadows' copies around it by the distinct pages the context maps
 * (vgpu_ue_shadow.c).
 */
static enum vgpu_job_status ue_run(struct vgpu_engine *e,
				   struct vgpu_engine_ctx *c,
				   struct vgpu_engine_job *job, u64 budget_ns)
{
	u64 watchdog = (u64)READ_ONCE(vgpu_ue_watchdog_ms) * NSEC_PER_MSEC;
	struct vgpu_ue_job *uj = job->engine_priv;
	struct vgpu_ue *ue = to_ue(e);
	struct vgpu_ue_resp resp;
	struct vgpu_ue_req req;
	const void *payload = NULL;
	u64 wall;
	int ret;

	if (!uj) {
		uj = kzalloc(sizeof(*uj), GFP_KERNEL);
		if (!uj)
			return ue_lost(e, job);
		uj->id = atomic64_inc_return(&ue->next_id);
		uj->gen = c->gen;
		job->engine_priv = uj;
	}
	if (uj->gen != c->gen || c->gen != vgpu_ue_generation(ue))
		return ue_lost(e, job);
	/* An unlimited budget (an engine run whole) is bounded by the watchdog. */
	ue_run_req(&req, c, job, min(budget_ns, watchdog), watchdog);
	if (!uj->sent) {
		payload = &job->cmds[job->next_cmd];
		req.payload_len = (job->num_cmds - job->next_cmd) *
				  sizeof(struct drm_vgpu_cmd);
	}
	vgpu_ue_sync_in(&c->windows);
	wall = ktime_get_ns();
	ret = vgpu_ue_call(ue, c->gen, &req, payload,
			   vgpu_ue_timeout(req.run.budget_ns + watchdog), &resp);
	wall = ktime_get_ns() - wall;
	/* No answer (in time): nothing the process wrote is copied out. */
	if (ret)
		return ue_lost(e, job);
	uj->sent = true;
	return ue_run_result(e, c, job, &resp.run, wall);
}

static const struct vgpu_engine_ops vgpu_ue_ops = {
	.ctx_create = ue_ctx_create,
	.ctx_destroy = ue_ctx_destroy,
	.mem_alloc = ue_mem_alloc,
	.mem_free = ue_mem_free,
	.map = ue_map,
	.unmap = ue_unmap,
	.run = ue_run,
	.job_release = ue_job_release,
	.ctx_table_bytes = ue_ctx_table_bytes,
	.pci_address = vgpu_ue_pci_address,
	.ctx_stack = ue_ctx_stack,
};

/**
 * vgpu_ue_create() - make instance @index: its engine, then its device
 * @index: 0 for /dev/vgpu-uengine, N for /dev/vgpu-uengineN
 *
 * The engine is registered with vgpu-back first (it takes the next
 * free engine index): until a process says HELLO on the device, its
 * operations fail with -ENODEV (contexts, memory) or lose the job.
 *
 * Return: the instance, or an ERR_PTR().
 */
struct vgpu_ue *vgpu_ue_create(unsigned int index)
{
	struct vgpu_ue *ue;
	int ret;

	ue = kzalloc(sizeof(*ue), GFP_KERNEL);
	if (!ue)
		return ERR_PTR(-ENOMEM);
	ue->index = index;
	if (index)
		snprintf(ue->dev_name, sizeof(ue->dev_name), "vgpu-uengine%u",
			 index);
	else
		strscpy(ue->dev_name, "vgpu-uengine", sizeof(ue->dev_name));
	mutex_init(&ue->lock);
	xa_init_flags(&ue->windows, XA_FLAGS_ALLOC1);
	atomic64_set(&ue->next_id, 0);
	ratelimit_state_init(&ue->rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	ue->engine.name = "vgpu-uengine";
	ue->engine.owner = THIS_MODULE;
	ue->engine.ops = &vgpu_ue_ops;
	ue->engine.mem_size = (u64)vgpu_ue_mem_mb << 20;
	ue->engine.isa_version = VGPU_ISA_VERSION;
	/* Checked by vgpu_engine_register(): a bad value fails the load. */
	ue->engine.page_shift = ilog2(max(vgpu_ue_page_kb, 1U)) + 10;
	ue->engine.va_start = (u64)vgpu_ue_va_start_gb << 30;
	ue->engine.va_end = (u64)vgpu_ue_va_end_gb << 30;
	ue->engine.features = DRM_VGPU_FEATURE_HOST_MEMORY |
			      DRM_VGPU_FEATURE_PREEMPTION |
			      DRM_VGPU_FEATURE_ATOMICS;
	ue->engine.flags = VGPU_ENGINE_PREEMPTIBLE;
	/* The core counts commands left unfinished at close against it. */
	ue->engine.watchdog_ms = &vgpu_ue_watchdog_ms;
	ret = vgpu_engine_register(&ue->engine);
	if (ret)
		goto err_free;
	ret = vgpu_ue_chan_init(ue);
	if (ret)
		goto err_unregister;
	return ue;

err_unregister:
	vgpu_engine_unregister(&ue->engine);
err_free:
	xa_destroy(&ue->windows);
	mutex_destroy(&ue->lock);
	kfree(ue);
	return ERR_PTR(ret);
}

/**
 * vgpu_ue_destroy() - take instance @ue away: its device, then its engine
 * @ue: an instance of vgpu_ue_create() whose device nobody holds open
 *	(the module is pinned while a file is open, the engine while the
 *	core has clients)
 */
void vgpu_ue_destroy(struct vgpu_ue *ue)
{
	vgpu_ue_chan_exit(ue);
	vgpu_engine_unregister(&ue->engine);
	WARN_ON(!xa_empty(&ue->windows));
	xa_destroy(&ue->windows);
	mutex_destroy(&ue->lock);
	kfree(ue);
}
