// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * ucore.c - vgpu-back's core in a process (ucore.h): an engine whose ops
 * are the caller's callbacks, registered with the core as an engine
 * module registers, and its clients, each as a render node's (dom0's) or
 * a guest's connection.  Built as kernel code against the fuzzer's shim
 * (fuzz/shim), as backend/vgpu_core.c is; called one thread at a time
 * (ucore.h).
 */
#include <linux/dma-fence.h>
#include <linux/slab.h>

#include "../../backend/vgpu_core.h"
#include "../../backend/vgpu_engine.h"
#include "../../common/vgpu_isa.h"
#include "../../common/vgpu_uapi.h"
#include "ucore.h"

struct vgpu_engine_ctx {
	u64 id;
};

struct vgpu_engine_mem {
	u64 id;
};

struct ucore {
	struct vgpu_engine engine;
	struct vgpu_engine_ops eops;	/* the engine's: ucore_engine_ops, less what @ops lacks */
	struct module module;
	unsigned int watchdog_ms;
	struct ucore_engine_ops ops;
};

struct ucore_client {
	struct ucore *u;
	struct vgpu_client *client;
	struct vgpu_group *group;	/* its own, or NULL: the native group */
};

static struct ucore *to_u(struct vgpu_engine *e)
{
	return container_of(e, struct ucore, engine);
}

static int uc_ctx_create(struct vgpu_engine *e, u64 group,
			 struct vgpu_engine_ctx **out)
{
	struct ucore *u = to_u(e);
	struct vgpu_engine_ctx *c = kzalloc(sizeof(*c), GFP_KERNEL);
	uint64_t id = 0;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = u->ops.ctx_create(u->ops.arg, group, &id);
	c->id = id;
	if (ret) {
		kfree(c);
		return -ret;
	}
	*out = c;
	return 0;
}

static void uc_ctx_destroy(struct vgpu_engine *e, struct vgpu_engine_ctx *c)
{
	struct ucore *u = to_u(e);

	u->ops.ctx_destroy(u->ops.arg, c->id);
	kfree(c);
}

static int uc_mem_alloc(struct vgpu_engine *e, u64 size,
			struct vgpu_engine_mem **out)
{
	struct ucore *u = to_u(e);
	struct vgpu_engine_mem *m = kzalloc(sizeof(*m), GFP_KERNEL);
	uint64_t id = 0;
	int ret;

	if (!m)
		return -ENOMEM;
	ret = u->ops.mem_alloc(u->ops.arg, size, &id);
	m->id = id;
	if (ret) {
		kfree(m);
		return -ret;
	}
	*out = m;
	return 0;
}

static void uc_mem_free(struct vgpu_engine *e, struct vgpu_engine_mem *m)
{
	struct ucore *u = to_u(e);

	u->ops.mem_free(u->ops.arg, m->id);
	kfree(m);
}

/* Host memory here is always one mapping (ucore_host_alloc()). */
static int uc_map(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		  const struct vgpu_backing *b, u64 offset, u64 size,
		  u32 perms)
{
	struct ucore *u = to_u(e);

	if (!b->dev_mem && !b->vaddr)
		return -EINVAL;
	return -u->ops.map(u->ops.arg, c->id, va,
			   b->dev_mem ? b->dev_mem->id : 0, b->vaddr, offset,
			   size, perms);
}

static void uc_unmap(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		     u64 size)
{
	struct ucore *u = to_u(e);

	u->ops.unmap(u->ops.arg, c->id, va, size);
}

static enum vgpu_job_status uc_run(struct vgpu_engine *e,
				   struct vgpu_engine_ctx *c,
				   struct vgpu_engine_job *job, u64 budget_ns)
{
	static const enum vgpu_job_status status[] = {
		[UCORE_DONE] = VGPU_JOB_DONE,
		[UCORE_PREEMPTED] = VGPU_JOB_PREEMPTED,
		[UCORE_FAULTED] = VGPU_JOB_FAULTED,
		[UCORE_TIMEDOUT] = VGPU_JOB_TIMEDOUT,
	};
	struct ucore *u = to_u(e);
	struct ucore_job *uj = job->engine_priv;
	enum ucore_status st;

	if (!uj) {
		uj = kzalloc(sizeof(*uj), GFP_KERNEL);
		if (!uj) {
			job->fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
			job->fault_addr = 0;
			return VGPU_JOB_FAULTED;
		}
		job->engine_priv = uj;
	}
	uj->cmds = job->cmds;
	uj->num_cmds = job->num_cmds;
	uj->next_cmd = job->next_cmd;
	uj->cmd_done = job->cmd_done;
	uj->cmd_busy_ns = job->cmd_busy_ns;
	uj->busy_ns = job->busy_ns;
	st = u->ops.run(u->ops.arg, c->id, uj, budget_ns);
	job->next_cmd = uj->next_cmd;
	job->cmd_done = uj->cmd_done;
	job->cmd_busy_ns = uj->cmd_busy_ns;
	job->busy_ns = uj->busy_ns;
	if (st > UCORE_TIMEDOUT)
		st = UCORE_FAULTED;
	if (st == UCORE_FAULTED) {
		job->fault_kind = uj->fault_kind;
		job->fault_addr = uj->fault_addr;
	}
	return status[st];
}

static void uc_job_release(struct vgpu_engine *e,
			   struct vgpu_engine_job *job)
{
	struct ucore *u = to_u(e);
	struct ucore_job *uj = job->engine_priv;

	if (!uj)
		return;
	u->ops.job_release(u->ops.arg, uj);
	kfree(uj);
	job->engine_priv = NULL;
}

static int uc_ctx_stack(struct vgpu_engine *e, struct vgpu_engine_ctx *c,
			u32 stack_size)
{
	struct ucore *u = to_u(e);

	return -u->ops.ctx_stack(u->ops.arg, c->id, stack_size);
}

static const struct vgpu_engine_ops ucore_engine_ops = {
	.ctx_create = uc_ctx_create,
	.ctx_destroy = uc_ctx_destroy,
	.mem_alloc = uc_mem_alloc,
	.mem_free = uc_mem_free,
	.map = uc_map,
	.unmap = uc_unmap,
	.run = uc_run,
	.job_release = uc_job_release,
	.ctx_stack = uc_ctx_stack,
};

/* A host-domain object's memory: the caller's allocator's. */
struct ucore_host {
	struct ucore *u;
	void *p;
	u64 size;
};

static void ucore_host_release(void *priv)
{
	struct ucore_host *h = priv;

	h->u->ops.host_free(h->u->ops.arg, h->p, h->size);
	kfree(h);
}

static const struct vgpu_host_mem_ops ucore_host_ops = {
	.release = ucore_host_release,
};

static int ucore_host_alloc(void *arg, u64 size, struct vgpu_host_mem *mem)
{
	struct ucore *u = arg;
	struct ucore_host *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	h->u = u;
	h->size = size;
	h->p = u->ops.host_alloc(u->ops.arg, size);
	if (!h->p) {
		kfree(h);
		return -ENOMEM;
	}
	mem->vaddr = h->p;
	mem->pages = NULL;
	mem->ops = &ucore_host_ops;
	mem->priv = h;
	return 0;
}

/* A client's quotas: the core's defaults, less what @cfg sets. */
static int ucore_quota(struct vgpu_client *c, const struct ucore_config *cfg)
{
	struct vgpu_quota q = {
		.devmem = cfg->quota_devmem ?: (u64)vgpu_quota_devmem_mb << 20,
		.hostmem = cfg->quota_hostmem ?: (u64)vgpu_quota_hostmem_mb << 20,
		.contexts = vgpu_quota_contexts,
		.objects = cfg->quota_objects ?: vgpu_quota_objects,
		.mapped = cfg->quota_mapped ?: (u64)vgpu_quota_mapped_mb << 20,
		.jobs = cfg->quota_jobs ?: vgpu_quota_jobs,
		.cmds = vgpu_quota_cmds,
	};

	return vgpu_client_set_quota(c, &q);
}

struct ucore *ucore_create(const struct ucore_engine_ops *ops,
			   const struct ucore_config *cfg, char *err,
			   size_t errlen)
{
	struct ucore *u = kzalloc(sizeof(*u), GFP_KERNEL);
	int ret;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ukernel_real_clock = true;
	if (cfg->timeslice_ms)
		vgpu_timeslice_ms = cfg->timeslice_ms;
	u->ops = *ops;
	u->watchdog_ms = cfg->watchdog_ms;
	u->eops = ucore_engine_ops;
	/* An engine without the callback has no op: the core refuses then. */
	if (!ops->ctx_stack)
		u->eops.ctx_stack = NULL;
	u->engine.name = cfg->name;
	u->engine.owner = &u->module;
	u->engine.ops = &u->eops;
	u->engine.mem_size = cfg->mem_size;
	u->engine.ctx_mem = cfg->ctx_mem;
	u->engine.max_stack = cfg->max_stack;
	u->engine.stack_threads = cfg->stack_threads;
	u->engine.isa_version = VGPU_ISA_VERSION;
	u->engine.features = cfg->features;
	u->engine.flags = VGPU_ENGINE_PREEMPTIBLE;
	u->engine.watchdog_ms = &u->watchdog_ms;
	u->engine.page_shift = cfg->page_shift;
	u->engine.va_start = cfg->va_start;
	u->engine.va_end = cfg->va_end;
	ret = vgpu_engine_register(&u->engine);
	if (ret) {
		snprintf(err, errlen, "the core refused the engine: %s",
			 strerror(-ret));
		kfree(u);
		return NULL;
	}
	return u;
}

void ucore_destroy(struct ucore *u)
{
	vgpu_engine_unregister(&u->engine);
	kfree(u);
}

struct ucore_client *ucore_client_open(struct ucore *u, const char *name,
				       uint32_t weight, uint32_t cap,
				       const struct ucore_config *cfg,
				       char *err, size_t errlen)
{
	struct ucore_client *c = kzalloc(sizeof(*c), GFP_KERNEL);
	struct vgpu_group *group = u->engine.dev->native_group;
	unsigned int saved;
	int ret;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->u = u;
	if (weight) {
		c->group = vgpu_group_create(u->engine.dev, name);
		ret = c->group ? vgpu_group_set(c->group, &weight, &cap) :
				 -ENOMEM;
		if (ret) {
			snprintf(err, errlen, "the core refused the group: %s",
				 strerror(-ret));
			goto err_group;
		}
		group = c->group;
	}
	/*
	 * Created with no device memory promised (the module's default, 16
	 * MiB, may be more than a small engine has), then @cfg's quotas.
	 */
	saved = vgpu_quota_devmem_mb;
	vgpu_quota_devmem_mb = 0;
	c->client = vgpu_client_create(u->engine.dev, name, group);
	vgpu_quota_devmem_mb = saved;
	if (IS_ERR(c->client)) {
		ret = (int)PTR_ERR(c->client);
		snprintf(err, errlen, "the core refused a client: %s",
			 strerror(-ret));
		goto err_group;
	}
	ret = ucore_quota(c->client, cfg);
	if (ret) {
		snprintf(err, errlen, "the core refused the quotas: %s",
			 strerror(-ret));
		vgpu_client_destroy(c->client);
		goto err_group;
	}
	return c;

err_group:
	vgpu_group_put(c->group);
	kfree(c);
	return NULL;
}

void ucore_client_close(struct ucore_client *c)
{
	vgpu_client_destroy(c->client);	/* its jobs cancelled there */
	vgpu_group_put(c->group);
	kfree(c);
}

int ucore_client_set(struct ucore_client *c, uint32_t weight, uint32_t cap)
{
	if (!c->group)
		return -EINVAL;	/* the native group is the device's */
	return vgpu_group_set(c->group, &weight, &cap);
}

uint64_t ucore_client_busy_ns(struct ucore_client *c)
{
	return atomic64_read(&c->client->stats.busy_ns);
}

void ucore_info(struct ucore_client *c, struct drm_vgpu_info *out)
{
	memset(out, 0, sizeof(*out));
	vgpu_op_info(c->client, DRM_VGPU_MODE_NATIVE, out);
}

int ucore_ctx_create(struct ucore_client *c, struct drm_vgpu_ctx_create *a)
{
	return vgpu_op_ctx_create(c->client, a);
}

int ucore_ctx_destroy(struct ucore_client *c, struct drm_vgpu_ctx_destroy *a)
{
	return vgpu_op_ctx_destroy(c->client, a);
}

int ucore_ctx_status(struct ucore_client *c, struct drm_vgpu_ctx_status *a)
{
	return vgpu_op_ctx_status(c->client, a);
}

int ucore_ctx_stack(struct ucore_client *c, struct drm_vgpu_ctx_stack *a)
{
	return vgpu_op_ctx_stack(c->client, a);
}

int ucore_bo_create(struct ucore_client *c, struct drm_vgpu_bo_create *a,
		    void **cpu)
{
	int ret = vgpu_op_bo_create(c->client, a, ucore_host_alloc, c->u);
	struct drm_vgpu_bo_mmap_offset m = { .handle = a->handle };

	*cpu = NULL;
	if (!ret && a->domain == DRM_VGPU_DOMAIN_HOST)
		ret = ucore_bo_host(c, &m, cpu);
	return ret;
}

int ucore_bo_destroy(struct ucore_client *c, struct drm_vgpu_bo_destroy *a)
{
	return vgpu_op_bo_destroy(c->client, a);
}

int ucore_bo_host(struct ucore_client *c, struct drm_vgpu_bo_mmap_offset *a,
		  void **cpu)
{
	struct vgpu_bo *bo;
	int ret = vgpu_check_bo_mmap_offset(a);

	if (ret)
		return ret;
	bo = vgpu_bo_lookup(c->client, a->handle);
	if (!bo)
		return -ENOENT;
	if (bo->domain != DRM_VGPU_DOMAIN_HOST)
		ret = -EINVAL;	/* device memory is not CPU-mappable */
	else
		*cpu = bo->backing.vaddr;
	vgpu_bo_put(bo);
	return ret;
}

int ucore_vm_bind(struct ucore_client *c, struct drm_vgpu_vm_bind *a)
{
	struct drm_vgpu_vm_bind_op *ops;
	u32 done = 0;
	int ret = vgpu_check_vm_bind(a);

	if (ret)
		return ret;
	ops = kmalloc(array_size(a->num_ops, sizeof(*ops)), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	memcpy(ops, (const void *)(uintptr_t)a->ops,
	       array_size(a->num_ops, sizeof(*ops)));
	ret = vgpu_op_vm_bind(c->client, a->ctx_id, ops, a->num_ops, &done);
	a->num_done = done;
	kfree(ops);
	return ret;
}

int ucore_check_submit(const struct drm_vgpu_submit *a)
{
	return vgpu_check_submit(a);
}

int ucore_submit(struct ucore_client *c, struct drm_vgpu_submit *a,
		 struct ucore_fence **done)
{
	struct dma_fence *fence = NULL;
	struct drm_vgpu_cmd *cmds;
	u64 seq = 0;
	int ret = vgpu_check_submit(a);

	if (ret)
		return ret;
	if (a->num_in_syncs)
		return -EOPNOTSUPP;
	cmds = kvmalloc_array(a->num_cmds, sizeof(*cmds), GFP_KERNEL);
	if (!cmds)
		return -ENOMEM;
	memcpy(cmds, (const void *)(uintptr_t)a->cmds,
	       array_size(a->num_cmds, sizeof(*cmds)));
	ret = vgpu_op_submit(c->client, a->ctx_id, cmds, a->num_cmds, NULL, 0,
			     &fence, &seq);
	if (ret) {
		kvfree(cmds);
		return ret;
	}
	a->seqno = seq;
	*done = (struct ucore_fence *)fence;
	return 0;
}

bool ucore_run_once(struct ucore *u)
{
	return vgpu_sched_run_once(u->engine.dev);
}

bool ucore_queued(struct ucore *u)
{
	return vgpu_sched_queued(u->engine.dev);
}

int ucore_fence_status(struct ucore_fence *f)
{
	return dma_fence_get_status((struct dma_fence *)f);
}

/* A waiter's callback on a fence (ucore_fence_notify()). */
struct ucore_notify {
	struct dma_fence_cb cb;
	void (*fn)(void *arg, int status);
	void *arg;
};

static void ucore_notify_cb(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct ucore_notify *n = container_of(cb, struct ucore_notify, cb);

	/* Signalled: its status is its error, else 1 (no lock taken, as a
	 * callback under the fence's lock in the kernel could not). */
	n->fn(n->arg, f->error ?: 1);
	kfree(n);
}

int ucore_fence_notify(struct ucore_fence *f, void (*fn)(void *arg, int status),
		       void *arg)
{
	struct ucore_notify *n = kzalloc(sizeof(*n), GFP_KERNEL);
	int ret;

	if (!n)
		return -ENOMEM;
	n->fn = fn;
	n->arg = arg;
	ret = dma_fence_add_callback((struct dma_fence *)f, &n->cb,
				     ucore_notify_cb);
	if (ret)
		kfree(n);
	return ret;
}

void ucore_fence_put(struct ucore_fence *f)
{
	dma_fence_put((struct dma_fence *)f);
}

unsigned long ucore_log_lines(void)
{
	return ukernel_log_lines;
}
