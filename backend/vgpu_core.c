// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_core.c - clients, objects, contexts, address spaces and quotas:
 * the dispatcher every transport calls (see vgpu_core.h).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "vgpu_core.h"
#include "../common/vgpu_isa.h"
#include "../common/vgpu_pt.h"
#include "../common/vgpu_uapi.h"

unsigned int vgpu_quota_devmem_mb = 16;
module_param_named(quota_devmem_mb, vgpu_quota_devmem_mb, uint, 0644);
MODULE_PARM_DESC(quota_devmem_mb, "Device memory promised to each client, MiB (default 16)");

unsigned int vgpu_quota_hostmem_mb = 256;
module_param_named(quota_hostmem_mb, vgpu_quota_hostmem_mb, uint, 0644);
MODULE_PARM_DESC(quota_hostmem_mb, "Host-memory objects per client, MiB (default 256)");

unsigned int vgpu_quota_contexts = 16;
module_param_named(quota_contexts, vgpu_quota_contexts, uint, 0644);
MODULE_PARM_DESC(quota_contexts, "Contexts per client (default 16)");

unsigned int vgpu_quota_objects = 1024;
module_param_named(quota_objects, vgpu_quota_objects, uint, 0644);
MODULE_PARM_DESC(quota_objects, "Buffer objects per client (default 1024)");

unsigned int vgpu_quota_mapped_mb = 1024;
module_param_named(quota_mapped_mb, vgpu_quota_mapped_mb, uint, 0644);
MODULE_PARM_DESC(quota_mapped_mb, "GPU mappings per client over all its contexts, MiB (default 1024)");

unsigned int vgpu_quota_jobs = 256;
module_param_named(quota_jobs, vgpu_quota_jobs, uint, 0644);
MODULE_PARM_DESC(quota_jobs, "Submissions queued or running per client (default 256)");

unsigned int vgpu_quota_cmds = 16384;
module_param_named(quota_cmds, vgpu_quota_cmds, uint, 0644);
MODULE_PARM_DESC(quota_cmds, "Commands of those submissions per client (default 16384)");

unsigned int vgpu_max_clients = 64;
module_param_named(max_clients, vgpu_max_clients, uint, 0644);
MODULE_PARM_DESC(max_clients, "Clients of each device (open render-node files and guests) at once (default 64)");

unsigned int vgpu_max_mappings = 1024;
module_param_named(max_mappings, vgpu_max_mappings, uint, 0644);
MODULE_PARM_DESC(max_mappings, "Mappings per context (default 1024)");

struct vgpu_stats vgpu_global_stats;

/*
 * Admits a client to @dev: counts it and promises it @devmem bytes of
 * the engine's memory.
 */
static int vgpu_client_admit(struct vgpu_device *dev, u64 devmem)
{
	lockdep_assert_held(&dev->lock);
	/*
	 * Not while the engine's module is still loading: its init may yet
	 * fail and unregister the engine, and a failed module is freed
	 * whatever its references.
	 */
	if (!dev->engine || !vgpu_module_live(dev->engine->owner))
		return -ENODEV;
	if (dev->num_clients >= vgpu_max_clients) {
		pr_info_ratelimited("vgpu: engine %u: %u clients already (max_clients)\n",
				    dev->index, dev->num_clients);
		return -EMFILE;
	}
	if (devmem > dev->engine->mem_size - dev->promised) {
		pr_info_ratelimited("vgpu: engine %u: device memory fully promised (%llu of %llu MiB): no room for a client with %llu MiB\n",
				    dev->index, dev->promised >> 20,
				    dev->engine->mem_size >> 20, devmem >> 20);
		return -ENOSPC;
	}
	if (!try_module_get(dev->engine->owner))
		return -ENODEV;	/* the engine is being unloaded */
	dev->num_clients++;
	dev->promised += devmem;
	return 0;
}

/*
 * A device-memory quota below one GPU page lets the client allocate
 * nothing (objects are charged in whole pages).  A client's own setting
 * says so in its rate-limited log; the module's default, which every new
 * connection gets, once per device (a guest reconnecting cannot repeat
 * it).
 */
static void vgpu_client_quota_check(struct vgpu_client *c, bool dflt)
{
	u64 page = vgpu_engine_page_size(c->engine);

	lockdep_assert_held(&c->dev->lock);
	if (!c->quota.devmem || c->quota.devmem >= page)
		return;
	if (!dflt)
		vgpu_client_msg(c, false,
				"device memory quota of %llu KiB is less than one GPU page (%llu KiB): no device memory can be allocated\n",
				c->quota.devmem >> 10, page >> 10);
	else if (!c->dev->quota_below_page)
		pr_warn("vgpu: device %u: quota_devmem_mb (%llu KiB) is less than one GPU page (%llu KiB): clients can allocate no device memory\n",
			c->dev->index, c->quota.devmem >> 10, page >> 10);
	if (dflt)
		c->dev->quota_below_page = true;
}

/**
 * vgpu_client_create() - a new client of a device
 * @dev: the device (the caller holds a reference)
 * @name: for debugfs
 * @group: the scheduling group of @dev it joins (a reference is taken),
 *	or NULL for a group of its own
 *
 * The client is promised its device-memory quota: the quotas of all
 * clients of the device together never exceed its engine's memory, so a
 * client within its quota never finds the device full because of others.
 *
 * Return: the client, ERR_PTR(-ENODEV) once the device's engine is gone,
 * -EMFILE past max_clients, -ENOSPC when the engine's memory is fully
 * promised, -EINVAL for a group of another device, or -ENOMEM.
 */
struct vgpu_client *vgpu_client_create(struct vgpu_device *dev,
				       const char *name,
				       struct vgpu_group *group)
{
	struct vgpu_client *c;
	int ret;

	if (WARN_ON(group && group->dev != dev))
		return ERR_PTR(-EINVAL);
	c = kzalloc(sizeof(*c), VGPU_GFP_CLIENT);
	if (!c)
		return ERR_PTR(-ENOMEM);
	if (group) {
		kref_get(&group->ref);
		c->group = group;
	} else {
		c->group = vgpu_group_create(dev, name);
		if (!c->group) {
			kfree(c);
			return ERR_PTR(-ENOMEM);
		}
	}
	kref_init(&c->ref);
	c->dev = dev;
	c->quota.devmem = (u64)vgpu_quota_devmem_mb << 20;
	c->quota.hostmem = (u64)vgpu_quota_hostmem_mb << 20;
	c->quota.contexts = vgpu_quota_contexts;
	c->quota.objects = vgpu_quota_objects;
	c->quota.mapped = (u64)vgpu_quota_mapped_mb << 20;
	c->quota.jobs = vgpu_quota_jobs;
	c->quota.cmds = vgpu_quota_cmds;
	mutex_init(&c->lock);
	xa_init_flags(&c->bos, XA_FLAGS_ALLOC1);
	xa_init_flags(&c->ctxs, XA_FLAGS_ALLOC1);
	strscpy(c->name, name, sizeof(c->name));
	ratelimit_state_init(&c->own_rs, 5 * HZ, 10);
	c->rs = &c->own_rs;
	mutex_lock(&dev->lock);
	ret = vgpu_client_admit(dev, c->quota.devmem);
	if (!ret) {
		c->engine = dev->engine;
		c->promised = c->quota.devmem;
		c->id = ++dev->next_client_id;
		vgpu_client_quota_check(c, true);
		list_add_tail(&c->node, &dev->clients);
		vgpu_device_get(dev);
	}
	mutex_unlock(&dev->lock);
	if (ret) {
		if (ret == -ENODEV)
			pr_info_ratelimited("vgpu: engine %u is gone\n",
					    dev->index);
		vgpu_group_put(c->group);
		mutex_destroy(&c->lock);
		kfree(c);
		return ERR_PTR(ret);
	}
	return c;
}

/**
 * vgpu_client_set_quota() - change a client's quotas, at any time
 * @c: client
 * @q: the quotas
 *
 * A quota below what the client holds refuses its new allocations and
 * takes nothing away.  The client stays promised the device memory it
 * holds until it frees it (vgpu_client_shrink_promise()), so a quota
 * lowered for one client never lets another be promised memory that is
 * still in use.
 *
 * Return: 0, or -ENOSPC if the engine cannot promise @q->devmem (the
 * client keeps all its quotas).
 */
int vgpu_client_set_quota(struct vgpu_client *c, const struct vgpu_quota *q)
{
	u64 promise;
	int ret = 0;

	mutex_lock(&c->dev->lock);
	mutex_lock(&c->lock);
	promise = max(q->devmem, c->device_bytes);
	if (promise > c->promised &&
	    promise - c->promised >
	    c->engine->mem_size - c->dev->promised) {
		vgpu_client_msg(c, false,
				"cannot promise %llu MiB of device memory (%llu of %llu MiB promised)\n",
				q->devmem >> 20, c->dev->promised >> 20,
				c->engine->mem_size >> 20);
		ret = -ENOSPC;
	} else {
		c->dev->promised += promise;
		c->dev->promised -= c->promised;
		c->promised = promise;
		c->quota = *q;
		vgpu_client_quota_check(c, false);
	}
	mutex_unlock(&c->lock);
	mutex_unlock(&c->dev->lock);
	return ret;
}

/*
 * After a client freed device memory: a promise above both its quota
 * and what it still holds goes back to the engine.
 */
static void vgpu_client_shrink_promise(struct vgpu_client *c)
{
	u64 promise;

	mutex_lock(&c->dev->lock);
	mutex_lock(&c->lock);
	promise = max(c->quota.devmem, c->device_bytes);
	if (promise < c->promised) {
		c->dev->promised -= c->promised - promise;
		c->promised = promise;
	}
	mutex_unlock(&c->lock);
	mutex_unlock(&c->dev->lock);
}

/*
 * Returns @size bytes of device memory @c held (an object's or a
 * context's).  Return: whether its promise may shrink now
 * (vgpu_client_shrink_promise(), called without @c's lock).
 */
static bool vgpu_client_devmem_put(struct vgpu_client *c, u64 size)
{
	lockdep_assert_held(&c->lock);
	c->device_bytes -= size;
	return c->device_bytes + size > c->quota.devmem;
}

/* Returns the device memory a context of @c held (struct vgpu_ctx.mem). */
static void vgpu_client_ctx_mem_return(struct vgpu_client *c, u64 mem)
{
	bool shrink;

	if (!mem)
		return;
	mutex_lock(&c->lock);
	shrink = vgpu_client_devmem_put(c, mem);
	mutex_unlock(&c->lock);
	VGPU_STAT(c, device_bytes, -(s64)mem);
	if (shrink)
		vgpu_client_shrink_promise(c);
}

static void vgpu_client_release(struct kref *ref)
{
	struct vgpu_client *c = container_of(ref, struct vgpu_client, ref);
	struct vgpu_device *dev = c->dev;

	mutex_lock(&dev->lock);
	list_del(&c->node);
	dev->num_clients--;
	dev->promised -= c->promised;
	mutex_unlock(&dev->lock);
	WARN_ON(c->host_extra);	/* every table and shadow returned */
	xa_destroy(&c->bos);
	xa_destroy(&c->ctxs);
	mutex_destroy(&c->lock);
	module_put(c->engine->owner);
	vgpu_group_put(c->group);
	vgpu_device_put(dev);
	kfree(c);
}

void vgpu_client_put(struct vgpu_client *c)
{
	kref_put(&c->ref, vgpu_client_release);
}

/**
 * vgpu_client_msg() - log a message a client caused
 * @c: client
 * @warn: a warning, else information
 * @fmt: printf format
 *
 * Rate-limited by the client's @rs: per guest for guests, whatever the
 * connection, so no client can flood dom0's log.
 */
void vgpu_client_msg(struct vgpu_client *c, bool warn, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	if (!__ratelimit(c->rs))
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (warn)
		pr_warn("vgpu: client %s: %pV", c->name, &vaf);
	else
		pr_info("vgpu: client %s: %pV", c->name, &vaf);
	va_end(args);
}

/*
 * Counts @n hangs; at hang_limit the client is banned at once, so that
 * its record says so even before vgpu_client_ban() has stopped its
 * contexts.  Return: the caller must call vgpu_client_ban().
 */
static bool vgpu_client_add_hangs(struct vgpu_client *c, u32 n)
{
	bool ban;

	lockdep_assert_held(&c->lock);
	c->hangs += n;
	ban = n && vgpu_hang_limit && c->hangs >= vgpu_hang_limit &&
	      !c->banned;
	if (ban)
		c->banned = true;
	return ban;
}

/**
 * vgpu_client_hang() - count a hung context of a client
 * @c: client
 *
 * Return: true if the client has now reached hang_limit and must be
 * banned (once: the caller calls vgpu_client_ban()).
 */
static bool vgpu_client_hang(struct vgpu_client *c)
{
	bool ban;

	mutex_lock(&c->lock);
	ban = vgpu_client_add_hangs(c, 1);
	mutex_unlock(&c->lock);
	VGPU_STAT(c, hangs, 1);
	return ban;
}

/**
 * vgpu_client_ban() - refuse all further work of a client
 * @c: client whose contexts hung too often
 *
 * Kills the client's contexts one at a time, each held by a reference
 * and with no lock of the client held: cancelling a job takes c->lock.
 */
static void vgpu_client_ban(struct vgpu_client *c)
{
	unsigned long id = 0;
	struct vgpu_ctx *ctx;
	u32 hangs;

	mutex_lock(&c->lock);
	c->banned = true;	/* from here no new context */
	hangs = c->hangs;
	mutex_unlock(&c->lock);
	for (;; id++) {
		mutex_lock(&c->lock);
		ctx = xa_find(&c->ctxs, &id, ULONG_MAX, XA_PRESENT);
		if (ctx)
			kref_get(&ctx->ref);
		mutex_unlock(&c->lock);
		if (!ctx)
			break;
		vgpu_sched_ctx_kill(ctx, DRM_VGPU_CTX_BANNED);
		vgpu_ctx_put(ctx);
	}
	vgpu_client_msg(c, true,
			"banned after %u hung contexts\n",
			hangs);
}

/*
 * Abandoned launch time drains at one watchdog per VGPU_ABANDON_DRAIN_S
 * seconds: a program interrupted now and then in the middle of its
 * kernels never adds up to a hang, a guest that spins and closes faster
 * than that is banned, and one that does it slower gets at most one
 * watchdog of engine time a minute, charged to it like any work.
 */
#define VGPU_ABANDON_DRAIN_S	60

/* Drains @c->abandoned_ns for the time since it last changed. */
static void vgpu_client_abandon_drain(struct vgpu_client *c, u64 wd_ms,
				      u64 now)
{
	u64 elapsed = now - c->abandoned_at;

	lockdep_assert_held(&c->lock);
	c->abandoned_at = now;
	if (elapsed >= VGPU_ABANDON_DRAIN_S * NSEC_PER_SEC) {
		c->abandoned_ns = 0;	/* it is below a watchdog */
		return;
	}
	/* elapsed / 60 < 1e9 and wd_ms < 2^32: no overflow. */
	elapsed = div_u64(div_u64(elapsed, VGPU_ABANDON_DRAIN_S) * wd_ms,
			  MSEC_PER_SEC);
	c->abandoned_ns -= min(c->abandoned_ns, elapsed);
}

/**
 * vgpu_client_abandon() - count engine time a destroyed context left
 *	unfinished
 * @c: client
 * @job: the job whose current command was cut short when its context was
 *	destroyed, by the client or by its close
 *
 * Closing before the watchdog fires would otherwise evade it: on an
 * engine that preempts, the command is cancelled between two slices
 * with no hang at all, and a guest could spin, close and reconnect for
 * ever.  The engine time of the launch the job was running
 * (vgpu_engine_job.cmd_busy_ns; copies and fills are bounded by their
 * size and never hang) adds up per client (and per guest: transports
 * carry it across connections with the hangs, vgpu_client_record()),
 * draining at one watchdog a minute; each whole watchdog of it (the
 * engine's watchdog_ms) counts as a hang.
 *
 * Return: true if the client has now reached hang_limit and must be
 * banned (the caller calls vgpu_client_ban()).
 */
static bool vgpu_client_abandon(struct vgpu_client *c,
				const struct vgpu_engine_job *job)
{
	const unsigned int *wd_ms = c->engine->watchdog_ms;
	u64 wd = wd_ms ? (u64)READ_ONCE(*wd_ms) * NSEC_PER_MSEC : 0;
	u64 ns = job->cmd_busy_ns;
	u32 n;
	bool ban;

	if (!wd || !ns || job->next_cmd >= job->num_cmds ||
	    job->cmds[job->next_cmd].op != DRM_VGPU_CMD_LAUNCH)
		return false;
	mutex_lock(&c->lock);
	vgpu_client_abandon_drain(c, wd / NSEC_PER_MSEC, ktime_get_ns());
	c->abandoned_ns += ns;
	n = div64_u64(c->abandoned_ns, wd);
	c->abandoned_ns -= n * wd;
	ban = vgpu_client_add_hangs(c, n);
	mutex_unlock(&c->lock);
	if (n) {
		VGPU_STAT(c, hangs, n);
		vgpu_client_msg(c, false,
				"%u hang(s): contexts destroyed in the middle of their launches, a watchdog's time each\n",
				n);
	}
	return ban;
}

/**
 * vgpu_client_record() - a client's hangs, for its transport to keep
 * @c: client
 * @r: out
 *
 * Complete once vgpu_client_destroy() has returned (the caller holds a
 * reference of its own): teardown's hangs are counted by then.
 */
void vgpu_client_record(struct vgpu_client *c, struct vgpu_hang_record *r)
{
	mutex_lock(&c->lock);
	r->hangs = c->hangs;
	r->abandoned_ns = c->abandoned_ns;
	r->abandoned_at = c->abandoned_at;
	r->banned = c->banned;
	mutex_unlock(&c->lock);
}

/**
 * vgpu_client_inherit() - give a new client a guest's earlier hangs
 * @c: client, before its first request
 * @r: what vgpu_client_record() gave of the guest's last client
 */
void vgpu_client_inherit(struct vgpu_client *c,
			 const struct vgpu_hang_record *r)
{
	mutex_lock(&c->lock);
	c->hangs = r->hangs;
	c->abandoned_ns = r->abandoned_ns;
	c->abandoned_at = r->abandoned_at;
	c->banned = r->banned;
	mutex_unlock(&c->lock);
}

/**
 * vgpu_client_hostmem_charge() - charge dom0 memory a client causes
 *	beyond its objects to its host-memory quota
 * @c: client
 * @bytes: bytes to charge, or (negative) to return
 *
 * For what an engine allocates on a client's behalf: page tables (the
 * core charges them, see vgpu_engine_ops.ctx_table_bytes), shadow copies
 * of its objects.  Counted with its host-memory objects against
 * quota.hostmem.  A return always succeeds.
 *
 * Return: 0, or -EDQUOT (nothing charged).
 */
int vgpu_client_hostmem_charge(struct vgpu_client *c, s64 bytes)
{
	u64 used;
	int ret = 0;

	mutex_lock(&c->lock);
	used = c->host_bytes + c->host_extra;
	if (bytes > 0 && (used > c->quota.hostmem ||
			  (u64)bytes > c->quota.hostmem - used)) {
		vgpu_client_msg(c, false,
				"host memory quota (%llu MiB) reached\n",
				c->quota.hostmem >> 20);
		ret = -EDQUOT;
	} else if (WARN_ON(bytes < 0 && (u64)-bytes > c->host_extra)) {
		c->host_extra = 0;
	} else {
		c->host_extra += bytes;
	}
	mutex_unlock(&c->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vgpu_client_hostmem_charge);

/**
 * vgpu_client_jobs_done() - return what a finished job charged
 * @c: client
 * @cmds: its number of commands
 */
static void vgpu_client_jobs_done(struct vgpu_client *c, u32 cmds)
{
	mutex_lock(&c->lock);
	c->num_jobs--;
	c->num_cmds -= cmds;
	mutex_unlock(&c->lock);
}

/*
 * What the end of a job means for its client (struct vgpu_sched_ops): the
 * scheduler reports, the core counts and decides.
 */
static bool vgpu_core_slice_ended(struct vgpu_ctx *ctx,
				  const struct vgpu_job *job,
				  enum vgpu_job_status st, bool dead)
{
	struct vgpu_client *c = ctx->client;
	bool ban;

	switch (st) {
	case VGPU_JOB_FAULTED:
		VGPU_STAT(c, faults, 1);
		vgpu_client_msg(c, false,
				"context %u faulted at GPU address 0x%llx (kind %u)\n",
				ctx->id, job->ej.fault_addr, job->ej.fault_kind);
		return false;
	case VGPU_JOB_TIMEDOUT:
		ban = vgpu_client_hang(c);
		vgpu_client_msg(c, false, "context %u hung: watchdog expired\n",
				ctx->id);
		return ban;
	case VGPU_JOB_PREEMPTED:
		/* Destroyed mid-command: its time counts towards a hang. */
		return dead && vgpu_client_abandon(c, &job->ej);
	default:
		return false;
	}
}

static bool vgpu_core_job_cancelled(struct vgpu_ctx *ctx,
				    const struct vgpu_job *job)
{
	return vgpu_client_abandon(ctx->client, &job->ej);
}

static void vgpu_core_job_done(struct vgpu_client *c,
			       const struct vgpu_job *job)
{
	vgpu_client_jobs_done(c, job->ej.num_cmds);
}

const struct vgpu_sched_ops vgpu_core_sched_ops = {
	.slice_ended = vgpu_core_slice_ended,
	.cancelled = vgpu_core_job_cancelled,
	.ban = vgpu_client_ban,
	.job_done = vgpu_core_job_done,
};

/* Charges a job of @cmds commands to the client's job quotas. */
static int vgpu_client_jobs_reserve(struct vgpu_client *c, u32 cmds)
{
	int ret = 0;

	mutex_lock(&c->lock);
	if (c->num_jobs >= c->quota.jobs || cmds > c->quota.cmds ||
	    c->num_cmds > c->quota.cmds - cmds) {
		vgpu_client_msg(c, false,
				"queued work quota (%u jobs, %u commands) reached\n",
				c->quota.jobs, c->quota.cmds);
		ret = -EDQUOT;
	} else {
		c->num_jobs++;
		c->num_cmds += cmds;
	}
	mutex_unlock(&c->lock);
	return ret;
}

static void vgpu_bo_release(struct kref *ref)
{
	struct vgpu_bo *bo = container_of(ref, struct vgpu_bo, ref);
	struct vgpu_client *c = bo->client;
	struct vgpu_engine *e = c->engine;

	if (bo->domain == DRM_VGPU_DOMAIN_DEVICE) {
		e->ops->mem_free(e, bo->backing.dev_mem);
		VGPU_STAT(c, device_bytes, -(s64)bo->size);
	} else {
		bo->host_ops->release(bo->host_priv);
		VGPU_STAT(c, host_bytes, -(s64)bo->size);
	}
	vgpu_quota_unreserve(c, bo->domain, bo->size);
	VGPU_STAT(c, objects, -1);
	kfree(bo);
	vgpu_client_put(c);
}

void vgpu_bo_put(struct vgpu_bo *bo)
{
	kref_put(&bo->ref, vgpu_bo_release);
}

/**
 * vgpu_bo_lookup() - find an object of a client by handle
 * @c: client
 * @handle: handle
 *
 * Return: the object with a reference (vgpu_bo_put()), or NULL.
 */
struct vgpu_bo *vgpu_bo_lookup(struct vgpu_client *c, u32 handle)
{
	struct vgpu_bo *bo;

	mutex_lock(&c->lock);
	bo = xa_load(&c->bos, handle);
	if (bo)
		kref_get(&bo->ref);
	mutex_unlock(&c->lock);
	return bo;
}

static void vgpu_ctx_unmap_all(struct vgpu_ctx *ctx);

static void vgpu_ctx_release(struct kref *ref)
{
	struct vgpu_ctx *ctx = container_of(ref, struct vgpu_ctx, ref);
	struct vgpu_client *c = ctx->client;

	/* Every mapping holds its object: release them all here too. */
	vgpu_ctx_unmap_all(ctx);
	c->engine->ops->ctx_destroy(c->engine, ctx->ectx);
	/* Tables the engine kept without mappings went with its context. */
	if (ctx->table_bytes)
		vgpu_client_hostmem_charge(c, -(s64)ctx->table_bytes);
	vgpu_client_ctx_mem_return(c, ctx->mem + ctx->stack_mem);
	vgpu_vm_fini(&ctx->vm);
	mutex_destroy(&ctx->vm_lock);
	VGPU_STAT(c, contexts, -1);
	kfree(ctx);
	vgpu_client_put(c);
}

void vgpu_ctx_put(struct vgpu_ctx *ctx)
{
	kref_put(&ctx->ref, vgpu_ctx_release);
}

/**
 * vgpu_ctx_lookup() - find a context of a client by id
 * @c: client
 * @id: context id
 *
 * Return: the context with a reference (vgpu_ctx_put()), or NULL.
 */
struct vgpu_ctx *vgpu_ctx_lookup(struct vgpu_client *c, u32 id)
{
	struct vgpu_ctx *ctx;

	mutex_lock(&c->lock);
	ctx = xa_load(&c->ctxs, id);
	if (ctx)
		kref_get(&ctx->ref);
	mutex_unlock(&c->lock);
	return ctx;
}

/*
 * Whether engine @e, whose features were read as @features, gives
 * contexts a call stack: DRM_VGPU_FEATURE_PTX and _PTX_STACK, a ctx_stack
 * op and bounds the uAPI allows (one read of each field, after
 * @features: an engine writes the bounds first, vgpu_ue_session_hello()):
 * the largest stack in *@max and the threads it is held for in *@threads,
 * else both 0.
 */
static bool vgpu_engine_stack(struct vgpu_engine *e, u64 features, u32 *max,
			      u64 *threads)
{
	const u64 need = DRM_VGPU_FEATURE_PTX | DRM_VGPU_FEATURE_PTX_STACK;

	smp_rmb();	/* the bounds no older than @features */
	*max = READ_ONCE(e->max_stack);
	*threads = READ_ONCE(e->stack_threads);
	if ((features & need) == need && e->ops->ctx_stack &&
	    vgpu_stack_bound_ok(*max) && *threads &&
	    *threads <= VGPU_MAX_STACK_THREADS)
		return true;
	*max = 0;
	*threads = 0;
	return false;
}

void vgpu_op_info(struct vgpu_client *c, u32 mode, struct drm_vgpu_info *out)
{
	struct vgpu_engine *e = c->engine;

	memset(out, 0, sizeof(*out));
	out->uapi_version = DRM_VGPU_UAPI_VERSION;
	out->mode = mode;
	strscpy(out->engine, e->name, sizeof(out->engine));
	out->isa_version = e->isa_version;
	out->page_size = vgpu_engine_page_size(e);
	out->features = READ_ONCE(e->features);
	out->va_start = e->va_start;
	out->va_end = e->va_end;
	out->device_memory_size = e->mem_size;
	/* What it can allocate: whole GPU pages. */
	out->device_memory_quota = round_down(c->quota.devmem,
					      (u64)out->page_size);
	out->max_contexts = c->quota.contexts;
	out->max_objects = c->quota.objects;
	out->max_block_threads = VGPU_MAX_BLOCK_THREADS;
	out->max_shared_size = VGPU_MAX_SHARED;
	out->max_grid_x = VGPU_MAX_GRID_DIM_X;
	if (!vgpu_engine_stack(e, out->features, &out->max_stack_size,
			       &out->stack_threads))
		out->features &= ~DRM_VGPU_FEATURE_PTX_STACK;
	out->context_memory = round_up(min(READ_ONCE(e->ctx_mem),
					   e->mem_size), (u64)out->page_size);
}

/*
 * Takes a context's slot of @c's context quota and the device memory
 * the engine holds for a context (struct vgpu_engine.ctx_mem, at most
 * the engine's memory, in whole GPU pages: @mem) from its device-memory
 * quota.  A context that holds none needs no room: a client over a
 * lowered quota may still make one.
 * Return: 0, -EIO for a banned or closing client, -EDQUOT.
 */
static int vgpu_client_ctx_reserve(struct vgpu_client *c, u64 *mem)
{
	struct vgpu_engine *e = c->engine;
	u64 want = round_up(min(READ_ONCE(e->ctx_mem), e->mem_size),
			    vgpu_engine_page_size(e));
	int ret = 0;

	mutex_lock(&c->lock);
	if (c->banned || c->closing) {
		ret = -EIO;
	} else if (c->num_ctxs >= c->quota.contexts) {
		vgpu_client_msg(c, false,
				"context quota (%u) reached\n",
				c->quota.contexts);
		ret = -EDQUOT;
	} else if (want && (want > c->quota.devmem ||
			    c->device_bytes > c->quota.devmem - want)) {
		vgpu_client_msg(c, false,
				"device memory quota (%llu MiB) reached: a context holds %llu MiB on this engine\n",
				c->quota.devmem >> 20, want >> 20);
		ret = -EDQUOT;
	} else {
		c->num_ctxs++;
		c->device_bytes += want;
		*mem = want;
	}
	mutex_unlock(&c->lock);
	if (!ret)
		VGPU_STAT(c, device_bytes, want);
	return ret;
}

int vgpu_op_ctx_create(struct vgpu_client *c, struct drm_vgpu_ctx_create *a)
{
	struct vgpu_ctx *ctx;
	u32 id;
	int ret = vgpu_check_ctx_create(a);

	if (ret)
		return ret;
	ctx = kzalloc(sizeof(*ctx), VGPU_GFP_CLIENT);
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	mutex_init(&ctx->vm_lock);
	INIT_LIST_HEAD(&ctx->queue);
	INIT_LIST_HEAD(&ctx->sched_node);
	vgpu_vm_init(&ctx->vm, c->engine->va_start, c->engine->va_end,
		     vgpu_max_mappings);
	ctx->client = c;
	ctx->priority = a->priority;
	ctx->stack = DRM_VGPU_PTX_BASE_STACK;
	vgpu_fair_ent_init(&ctx->fair, vgpu_prio_weight(a->priority));
	ctx->fence_ctx = dma_fence_context_alloc(1);

	/*
	 * The quotas and the ban first: a context the client may not have
	 * costs the engine nothing (vgpu-engined: a worker's start).  Its
	 * slot and its device memory are held while the engine makes it.
	 */
	ret = vgpu_client_ctx_reserve(c, &ctx->mem);
	if (ret)
		goto err_free;

	ret = c->engine->ops->ctx_create(c->engine, c->group->id, &ctx->ectx);
	if (ret == -EBUSY)
		vgpu_client_msg(c, false,
				"the engine paces new contexts of this client's group: try again later\n");
	if (ret)
		goto err_slot;

	mutex_lock(&c->lock);
	if (c->banned || c->closing)
		ret = -EIO;
	else
		ret = xa_alloc(&c->ctxs, &id, ctx, xa_limit_31b, VGPU_GFP_CLIENT);
	if (ret) {
		mutex_unlock(&c->lock);
		goto err_engine;
	}
	ctx->id = id;
	kref_get(&c->ref);
	mutex_unlock(&c->lock);
	VGPU_STAT(c, contexts, 1);
	a->ctx_id = id;
	return 0;

err_engine:
	c->engine->ops->ctx_destroy(c->engine, ctx->ectx);
err_slot:
	mutex_lock(&c->lock);
	c->num_ctxs--;
	mutex_unlock(&c->lock);
	vgpu_client_ctx_mem_return(c, ctx->mem);
err_free:
	vgpu_vm_fini(&ctx->vm);
	mutex_destroy(&ctx->vm_lock);
	kfree(ctx);
	return ret;
}

/*
 * Takes @size more bytes of @c's device-memory quota for a context's call
 * stack (@stack bytes a thread).  Return: 0, -EIO for a banned or closing
 * client, -EDQUOT.
 */
static int vgpu_client_stack_take(struct vgpu_client *c, u64 size, u32 stack)
{
	int ret = 0;

	mutex_lock(&c->lock);
	if (c->banned || c->closing) {
		ret = -EIO;
	} else if (size > c->quota.devmem ||
		   c->device_bytes > c->quota.devmem - size) {
		vgpu_client_msg(c, false,
				"device memory quota (%llu MiB) reached: a call stack of %u bytes a thread holds %llu MiB more\n",
				c->quota.devmem >> 20, stack, size >> 20);
		ret = -EDQUOT;
	} else {
		c->device_bytes += size;
	}
	mutex_unlock(&c->lock);
	if (!ret)
		VGPU_STAT(c, device_bytes, size);
	return ret;
}

/* Charges @size bytes of mappings to the client (negative: returns). */
static int vgpu_client_map_charge(struct vgpu_client *c, s64 size)
{
	int ret = 0;

	mutex_lock(&c->lock);
	if (size > 0 && (size > c->quota.mapped ||
			 c->mapped_bytes > c->quota.mapped - size)) {
		vgpu_client_msg(c, false,
				"mapping quota (%llu MiB) reached\n",
				c->quota.mapped >> 20);
		ret = -EDQUOT;
	} else {
		c->mapped_bytes += size;
	}
	mutex_unlock(&c->lock);
	return ret;
}

/**
 * vgpu_ctx_charge_tables() - charge the change of a context's page tables
 * @ctx: context whose engine state was just mapped or unmapped
 *
 * Asks the engine how much host memory @ctx's page tables take and
 * charges the difference to the client's host-memory quota (a decrease
 * is returned).  Caller holds ctx->vm_lock.
 *
 * Return: 0, or -EDQUOT: the tables grew past the quota; nothing was
 * charged and the caller undoes its map.
 */
static int vgpu_ctx_charge_tables(struct vgpu_ctx *ctx)
{
	struct vgpu_engine *e = ctx->client->engine;
	u64 now;
	int ret;

	lockdep_assert_held(&ctx->vm_lock);
	if (!e->ops->ctx_table_bytes)
		return 0;
	now = e->ops->ctx_table_bytes(e, ctx->ectx);
	if (now == ctx->table_bytes)
		return 0;
	ret = vgpu_client_hostmem_charge(ctx->client,
					 (s64)(now - ctx->table_bytes));
	if (!ret)
		ctx->table_bytes = now;
	return ret;
}

/*
 * Removes every mapping of a dead context, releases its objects and
 * refuses further VM_BINDs on it.
 */
static void vgpu_ctx_unmap_all(struct vgpu_ctx *ctx)
{
	struct vgpu_engine *e = ctx->client->engine;
	struct vgpu_mapping m;

	mutex_lock(&ctx->vm_lock);
	ctx->unbound = true;
	while (ctx->vm.count) {
		vgpu_vm_remove(&ctx->vm, ctx->vm.count - 1, &m);
		e->ops->unmap(e, ctx->ectx, m.va, m.size);
		vgpu_ctx_charge_tables(ctx);
		vgpu_client_map_charge(ctx->client, -(s64)m.size);
		VGPU_STAT(ctx->client, mappings, -1);
		vgpu_bo_put(m.bo);
	}
	mutex_unlock(&ctx->vm_lock);
}

static void vgpu_ctx_teardown(struct vgpu_ctx *ctx)
{
	/* Cancels queued jobs; the scheduler finishes the running one. */
	vgpu_sched_ctx_kill(ctx, 0);
	/* Its last slice has ended and counted its hangs when this returns. */
	vgpu_sched_ctx_wait(ctx);
	vgpu_ctx_unmap_all(ctx);
	vgpu_ctx_put(ctx);
}

int vgpu_op_ctx_destroy(struct vgpu_client *c,
			const struct drm_vgpu_ctx_destroy *a)
{
	struct vgpu_ctx *ctx;
	int ret = vgpu_check_ctx_destroy(a);

	if (ret)
		return ret;
	mutex_lock(&c->lock);
	ctx = xa_erase(&c->ctxs, a->ctx_id);
	if (ctx)
		c->num_ctxs--;
	mutex_unlock(&c->lock);
	if (!ctx)
		return -ENOENT;
	vgpu_ctx_teardown(ctx);
	return 0;
}

/*
 * The device memory a call stack of @stack bytes a thread holds beyond a
 * context's ctx_mem on engine @e, in whole GPU pages (@threads at most
 * VGPU_MAX_STACK_THREADS and @stack at most DRM_VGPU_PTX_MAX_STACK: no
 * overflow).
 */
static u64 vgpu_stack_bytes(struct vgpu_engine *e, u64 threads, u32 stack)
{
	return round_up((u64)(stack - DRM_VGPU_PTX_BASE_STACK) * threads,
			vgpu_engine_page_size(e));
}

/**
 * vgpu_op_ctx_stack() - DRM_IOCTL_VGPU_CTX_STACK: raise a context's stack
 * @c: client
 * @a: the context and the stack asked for; out, the stack it has and
 *	what that holds
 *
 * The stack is rounded up to a power of two (what the engine's driver
 * raises at most four times in a context's life), never lowered, and
 * the device memory the engine reserves for it on every thread its GPU
 * holds is charged to @c before the engine is told: a raise past the
 * quota changes nothing.  Serialised with the context's binds and runs by
 * its vm_lock.
 *
 * Return: 0, -EINVAL, -ENOENT, -EOPNOTSUPP (the engine gives no stack),
 * -EDQUOT, -EIO, or the engine's error (nothing charged then).
 */
int vgpu_op_ctx_stack(struct vgpu_client *c, struct drm_vgpu_ctx_stack *a)
{
	struct vgpu_engine *e = c->engine;
	struct vgpu_ctx *ctx;
	u64 threads, need, more;
	u32 max, want;
	int ret = vgpu_check_ctx_stack(a);

	if (ret)
		return ret;
	if (!vgpu_engine_stack(e, READ_ONCE(e->features), &max, &threads))
		return -EOPNOTSUPP;
	if (a->stack_size > max)
		return -EINVAL;
	/* A power of two from the base: at most four doublings. */
	for (want = DRM_VGPU_PTX_BASE_STACK; want < a->stack_size; want <<= 1)
		;
	ctx = vgpu_ctx_lookup(c, a->ctx_id);
	if (!ctx)
		return -ENOENT;
	mutex_lock(&ctx->vm_lock);
	if (ctx->unbound) {
		ret = -ENOENT;
		goto out;
	}
	if (want > ctx->stack) {
		need = vgpu_stack_bytes(e, threads, want);
		more = need > ctx->stack_mem ? need - ctx->stack_mem : 0;
		ret = more ? vgpu_client_stack_take(c, more, want) : 0;
		if (ret)
			goto out;
		ret = e->ops->ctx_stack(e, ctx->ectx, want);
		if (ret) {
			vgpu_client_ctx_mem_return(c, more);
			goto out;
		}
		ctx->stack = want;
		ctx->stack_mem += more;
	}
	a->stack_size = ctx->stack;
	a->charged = ctx->stack_mem;
out:
	mutex_unlock(&ctx->vm_lock);
	vgpu_ctx_put(ctx);
	return ret;
}

int vgpu_op_ctx_status(struct vgpu_client *c, struct drm_vgpu_ctx_status *a)
{
	struct vgpu_ctx *ctx;
	int ret = vgpu_check_ctx_status(a);

	if (ret)
		return ret;
	ctx = vgpu_ctx_lookup(c, a->ctx_id);
	if (!ctx)
		return -ENOENT;
	vgpu_sched_ctx_status(ctx, a);
	vgpu_ctx_put(ctx);
	return 0;
}

/**
 * vgpu_quota_reserve() - charge a future object to a client's quotas
 * @c: client
 * @domain: DRM_VGPU_DOMAIN_*
 * @size: in, bytes asked for (any value); out, rounded up to pages (a
 *	device-memory object's to the engine's GPU page)
 *
 * Called before any memory is allocated, so a client over its quota
 * cannot make the host allocate even for a moment.  The one place where
 * an object's size meets the quotas.
 *
 * Return: 0 or -EDQUOT.
 */
int vgpu_quota_reserve(struct vgpu_client *c, u32 domain, u64 *size)
{
	bool dev = domain == DRM_VGPU_DOMAIN_DEVICE;
	u64 *held = dev ? &c->device_bytes : &c->host_bytes;
	u64 limit = dev ? c->quota.devmem : c->quota.hostmem;
	u64 align = dev ? vgpu_engine_page_size(c->engine) : PAGE_SIZE;
	u64 used, want = *size;
	int ret = 0;

	mutex_lock(&c->lock);
	used = dev ? c->device_bytes : c->host_bytes + c->host_extra;
	if (want <= limit)		/* limits are far below U64_MAX */
		want = round_up(want, align);
	if (c->num_bos >= c->quota.objects) {
		vgpu_client_msg(c, false,
				"object quota (%u) reached\n",
				c->quota.objects);
		ret = -EDQUOT;
	} else if (want > limit || used > limit - want) {
		vgpu_client_msg(c, false,
				"%s memory quota (%llu MiB) reached\n",
				dev ? "device" : "host", limit >> 20);
		ret = -EDQUOT;
	} else {
		*held += want;
		c->num_bos++;
		*size = want;
	}
	mutex_unlock(&c->lock);
	return ret;
}

/**
 * vgpu_quota_unreserve() - return what vgpu_quota_reserve() charged
 * @c: client
 * @domain: as reserved
 * @size: as reserved
 */
void vgpu_quota_unreserve(struct vgpu_client *c, u32 domain, u64 size)
{
	bool shrink = false;

	mutex_lock(&c->lock);
	if (domain == DRM_VGPU_DOMAIN_DEVICE)
		shrink = vgpu_client_devmem_put(c, size);
	else
		c->host_bytes -= size;
	c->num_bos--;
	mutex_unlock(&c->lock);
	if (shrink)
		vgpu_client_shrink_promise(c);
}

/* Gives a reserved object a handle; the object now holds the client. */
static int vgpu_bo_install(struct vgpu_client *c, struct vgpu_bo *bo,
			   u32 *handle)
{
	int ret;

	mutex_lock(&c->lock);
	ret = xa_alloc(&c->bos, handle, bo, xa_limit_31b, VGPU_GFP_CLIENT);
	if (!ret) {
		kref_get(&c->ref);
		bo->client = c;
	}
	mutex_unlock(&c->lock);
	if (ret)
		return ret;
	VGPU_STAT(c, objects, 1);
	if (bo->domain == DRM_VGPU_DOMAIN_DEVICE)
		VGPU_STAT(c, device_bytes, bo->size);
	else
		VGPU_STAT(c, host_bytes, bo->size);
	return 0;
}

/* Device memory: the engine allocates it. */
static int vgpu_bo_create_device(struct vgpu_client *c, u64 size, u32 *handle)
{
	struct vgpu_engine *e = c->engine;
	struct vgpu_bo *bo;
	int ret;

	ret = vgpu_quota_reserve(c, DRM_VGPU_DOMAIN_DEVICE, &size);
	if (ret)
		return ret;
	bo = kzalloc(sizeof(*bo), VGPU_GFP_CLIENT);
	if (!bo) {
		ret = -ENOMEM;
		goto err_quota;
	}
	kref_init(&bo->ref);
	bo->domain = DRM_VGPU_DOMAIN_DEVICE;
	bo->size = size;
	ret = e->ops->mem_alloc(e, bo->size, &bo->backing.dev_mem);
	if (ret)
		goto err_free;
	ret = vgpu_bo_install(c, bo, handle);
	if (ret)
		goto err_mem;
	return 0;

err_mem:
	e->ops->mem_free(e, bo->backing.dev_mem);
err_free:
	kfree(bo);
err_quota:
	vgpu_quota_unreserve(c, DRM_VGPU_DOMAIN_DEVICE, size);
	return ret;
}

/* Host memory: the transport makes it, once the core has charged it. */
static int vgpu_bo_create_host(struct vgpu_client *c, u64 size,
			       vgpu_host_alloc_t alloc, void *arg, u32 *handle)
{
	struct vgpu_host_mem mem = {};
	struct vgpu_bo *bo;
	int ret;

	ret = vgpu_quota_reserve(c, DRM_VGPU_DOMAIN_HOST, &size);
	if (ret)
		return ret;
	ret = alloc(arg, size, &mem);
	if (ret)
		goto err_quota;
	bo = kzalloc(sizeof(*bo), VGPU_GFP_CLIENT);
	if (!bo) {
		ret = -ENOMEM;
		goto err_mem;
	}
	kref_init(&bo->ref);
	bo->domain = DRM_VGPU_DOMAIN_HOST;
	bo->size = size;
	bo->backing.vaddr = mem.vaddr;
	bo->backing.pages = mem.pages;
	bo->backing.npages = size >> PAGE_SHIFT;
	bo->host_ops = mem.ops;
	bo->host_priv = mem.priv;
	ret = vgpu_bo_install(c, bo, handle);
	if (!ret)
		return 0;
	kfree(bo);
err_mem:
	mem.ops->release(mem.priv);
err_quota:
	vgpu_quota_unreserve(c, DRM_VGPU_DOMAIN_HOST, size);
	return ret;
}

/**
 * vgpu_op_bo_create() - BO_CREATE of any transport
 * @c: client
 * @a: the arguments; @a->handle is set on success
 * @alloc: makes host memory for a DRM_VGPU_DOMAIN_HOST object (the
 *	transport's own kind: GEM shmem, vmalloc()ed memory, a guest's
 *	granted pages), called after the checks and the quota charge;
 *	NULL: the transport has no host memory (-EOPNOTSUPP)
 * @arg: argument of @alloc
 *
 * Every check of a new object's arguments and of the client's object
 * and memory quotas happens here, once, before anything is allocated;
 * what @alloc needs of its own (hp: the persistent grant quota) it
 * checks itself.
 *
 * Return: 0, -EINVAL, -EDQUOT (quota), -ENOSPC (device memory full),
 * -ENOMEM, -EOPNOTSUPP, or @alloc's error.
 */
int vgpu_op_bo_create(struct vgpu_client *c, struct drm_vgpu_bo_create *a,
		      vgpu_host_alloc_t alloc, void *arg)
{
	int ret = vgpu_check_bo_create(a, U64_MAX);

	if (ret)
		return ret;
	if (a->domain == DRM_VGPU_DOMAIN_DEVICE)
		return vgpu_bo_create_device(c, a->size, &a->handle);
	if (!alloc)
		return -EOPNOTSUPP;
	return vgpu_bo_create_host(c, a->size, alloc, arg, &a->handle);
}

/**
 * vgpu_op_bo_host_range() - check a transport's copy into or out of a
 *	host-memory object
 * @c: client
 * @handle: object
 * @offset: first byte
 * @length: bytes
 * @out: on success, the object with a reference (vgpu_bo_put()); the
 *	range lies inside its kernel mapping
 *
 * Return: 0; -ENOENT for an unknown handle; -EINVAL for device memory or
 * a range outside the object.
 */
int vgpu_op_bo_host_range(struct vgpu_client *c, u32 handle, u64 offset,
			  u64 length, struct vgpu_bo **out)
{
	struct vgpu_bo *bo = vgpu_bo_lookup(c, handle);
	u64 end;

	if (!bo)
		return -ENOENT;
	if (bo->domain != DRM_VGPU_DOMAIN_HOST || !bo->backing.vaddr ||
	    check_add_overflow(offset, length, &end) || end > bo->size) {
		vgpu_bo_put(bo);
		return -EINVAL;
	}
	*out = bo;
	return 0;
}

/**
 * vgpu_op_bo_destroy() - BO_DESTROY: drop the handle; the object goes
 *	with its last mapping
 * @c: client
 * @a: the arguments
 *
 * Return: 0, -EINVAL or -ENOENT.
 */
int vgpu_op_bo_destroy(struct vgpu_client *c,
		       const struct drm_vgpu_bo_destroy *a)
{
	struct vgpu_bo *bo;
	int ret = vgpu_check_bo_destroy(a);

	if (ret)
		return ret;
	mutex_lock(&c->lock);
	bo = xa_erase(&c->bos, a->handle);
	mutex_unlock(&c->lock);
	if (!bo)
		return -ENOENT;
	vgpu_bo_put(bo);
	return 0;
}

static int vgpu_bind_one(struct vgpu_client *c, struct vgpu_ctx *ctx,
			 const struct drm_vgpu_vm_bind_op *op)
{
	struct vgpu_engine *e = c->engine;
	struct vgpu_mapping m = {};
	struct vgpu_bo *bo;
	u64 end;
	int merge;
	int ret = vgpu_check_bind_op(op);

	if (ret)
		return ret;
	/* The engine maps whole GPU pages of its own (2 MiB on a GPU). */
	if ((op->va | op->size | op->bo_offset) & vgpu_engine_page_mask(e))
		return -EINVAL;
	if (op->op == DRM_VGPU_BIND_UNMAP) {
		ret = vgpu_vm_cut(&ctx->vm, op->va, op->size, &m);
		if (ret < 0)
			return ret;
		e->ops->unmap(e, ctx->ectx, op->va, op->size);
		vgpu_ctx_charge_tables(ctx);
		vgpu_client_map_charge(c, -(s64)op->size);
		if (ret == VGPU_VM_CUT_REMOVED) {
			VGPU_STAT(c, mappings, -1);
			vgpu_bo_put(m.bo);
		} else if (ret == VGPU_VM_CUT_SPLIT) {
			VGPU_STAT(c, mappings, 1);
			kref_get(&((struct vgpu_bo *)m.bo)->ref);
		}
		return 0;
	}

	bo = vgpu_bo_lookup(c, op->handle);
	if (!bo)
		return -ENOENT;
	if (check_add_overflow(op->bo_offset, op->size, &end) || end > bo->size) {
		ret = -EINVAL;
		goto err_put;
	}
	m.va = op->va;
	m.size = op->size;
	m.bo_offset = op->bo_offset;
	m.bo = bo;
	m.perms = (op->flags & DRM_VGPU_BIND_READ ? VGPU_PTE_R : 0) |
		  (op->flags & DRM_VGPU_BIND_WRITE ? VGPU_PTE_W : 0) |
		  (op->flags & DRM_VGPU_BIND_EXEC ? VGPU_PTE_X : 0);
	merge = vgpu_vm_mergeable(&ctx->vm, &m);
	ret = vgpu_vm_check_map(&ctx->vm, m.va, m.size);
	if (ret == -ENOSPC && merge >= 0)
		ret = 0;	/* extending a mapping takes no new slot */
	if (ret)
		goto err_put;
	ret = vgpu_client_map_charge(c, m.size);
	if (ret)
		goto err_put;
	ret = e->ops->map(e, ctx->ectx, m.va, &bo->backing, m.bo_offset, m.size,
			  m.perms);
	if (ret)
		goto err_charge;
	ret = vgpu_ctx_charge_tables(ctx);
	if (ret) {
		e->ops->unmap(e, ctx->ectx, m.va, m.size);
		vgpu_ctx_charge_tables(ctx);	/* returns any decrease */
		goto err_charge;
	}
	if (merge >= 0) {
		/* The neighbour already holds a reference to @bo. */
		vgpu_vm_extend(&ctx->vm, merge, m.size);
		vgpu_bo_put(bo);
		return 0;
	}
	ret = vgpu_vm_insert(&ctx->vm, &m);
	if (ret) {
		e->ops->unmap(e, ctx->ectx, m.va, m.size);
		vgpu_ctx_charge_tables(ctx);
		goto err_charge;
	}
	VGPU_STAT(c, mappings, 1);
	return 0;	/* the mapping keeps the reference */

err_charge:
	vgpu_client_map_charge(c, -(s64)m.size);
err_put:
	vgpu_bo_put(bo);
	return ret;
}

/**
 * vgpu_ctx_vm_bind() - apply map/unmap operations to a context's space
 * @ctx: context, held by the caller
 * @ops: operations, in kernel memory
 * @n: number of @ops
 * @done: out, operations applied (all before the first failing one)
 *
 * Return: 0 or the error of the first failing operation; -ENOENT once
 * the context is being destroyed; -EDQUOT past the mapping quota.
 */
int vgpu_ctx_vm_bind(struct vgpu_ctx *ctx,
		     const struct drm_vgpu_vm_bind_op *ops, u32 n, u32 *done)
{
	int ret = 0;
	u32 i;

	mutex_lock(&ctx->vm_lock);
	/* A context being destroyed has dropped its mappings for good. */
	if (ctx->unbound)
		ret = -ENOENT;
	for (i = 0; i < n && !ret; i++)
		ret = vgpu_bind_one(ctx->client, ctx, &ops[i]);
	mutex_unlock(&ctx->vm_lock);
	*done = ret ? (i ? i - 1 : 0) : n;
	return ret;
}

/**
 * vgpu_op_vm_bind() - VM_BIND on a context of a client
 * @c: client
 * @ctx_id: context
 * @ops: operations, in kernel memory
 * @n: number of @ops
 * @done: out, operations applied (all before the first failing one)
 *
 * Return: as vgpu_ctx_vm_bind(); -ENOENT for an unknown context.
 */
int vgpu_op_vm_bind(struct vgpu_client *c, u32 ctx_id,
		    const struct drm_vgpu_vm_bind_op *ops, u32 n, u32 *done)
{
	struct vgpu_ctx *ctx = vgpu_ctx_lookup(c, ctx_id);
	int ret;

	*done = 0;
	if (!ctx)
		return -ENOENT;
	ret = vgpu_ctx_vm_bind(ctx, ops, n, done);
	vgpu_ctx_put(ctx);
	return ret;
}

/**
 * vgpu_op_submit() - queue commands on a context
 * @c: client
 * @ctx_id: context
 * @cmds: commands in kernel memory; ownership passes to the job on success
 * @num_cmds: number of @cmds
 * @in: fences to wait for (references are taken by the job)
 * @num_in: number of @in
 * @out: out, a reference to the job's completion fence
 * @seqno: out, sequence number of the job on its context
 *
 * Return: 0; -EINVAL for a bad command; -ENOENT for an unknown context;
 * -EIO if the context has faulted, hung or been banned; -EDQUOT past the
 * client's queued-work quotas; -ENOMEM.
 */
int vgpu_op_submit(struct vgpu_client *c, u32 ctx_id,
		   struct drm_vgpu_cmd *cmds, u32 num_cmds,
		   struct dma_fence **in, u32 num_in,
		   struct dma_fence **out, u64 *seqno)
{
	struct vgpu_ctx *ctx;
	struct vgpu_job *job;
	u32 i;
	int ret;

	if (!num_cmds || num_cmds > DRM_VGPU_MAX_CMDS ||
	    num_in > DRM_VGPU_MAX_IN_SYNCS)
		return -EINVAL;
	for (i = 0; i < num_cmds; i++) {
		ret = vgpu_check_cmd(&cmds[i]);
		if (ret)
			return ret;
	}
	ctx = vgpu_ctx_lookup(c, ctx_id);
	if (!ctx)
		return -ENOENT;
	ret = vgpu_client_jobs_reserve(c, num_cmds);
	if (ret) {
		vgpu_ctx_put(ctx);
		return ret;
	}
	job = vgpu_job_alloc(ctx, cmds, num_cmds, in, num_in);
	if (IS_ERR(job)) {
		vgpu_client_jobs_done(c, num_cmds);
		vgpu_ctx_put(ctx);
		return PTR_ERR(job);
	}
	ret = vgpu_sched_submit(job, seqno, out);
	if (ret) {
		vgpu_client_jobs_done(c, num_cmds);
		vgpu_job_abort(job);
		return ret;
	}
	VGPU_STAT(c, submissions, 1);
	VGPU_STAT(c, commands, num_cmds);
	vgpu_sched_queue(job);
	return 0;
}

/**
 * vgpu_client_destroy() - release everything a client holds
 * @c: client; the caller's reference is dropped
 *
 * Cancels queued work, waits for running work, removes every mapping and
 * frees every object (objects mapped by the CPU stay until unmapped).
 * Every hang the client's work causes, its teardown's included, is
 * counted when this returns: a transport that keeps a guest's record
 * reads it then, through a reference of its own (vgpu_client_record()).
 */
void vgpu_client_destroy(struct vgpu_client *c)
{
	struct vgpu_ctx *ctx;
	struct vgpu_bo *bo;
	unsigned long id;

	mutex_lock(&c->lock);
	c->closing = true;	/* no new contexts while we tear down */
	mutex_unlock(&c->lock);
	xa_for_each(&c->ctxs, id, ctx) {
		mutex_lock(&c->lock);
		ctx = xa_erase(&c->ctxs, id);
		if (ctx)
			c->num_ctxs--;
		mutex_unlock(&c->lock);
		if (ctx)
			vgpu_ctx_teardown(ctx);
	}
	xa_for_each(&c->bos, id, bo) {
		mutex_lock(&c->lock);
		bo = xa_erase(&c->bos, id);
		mutex_unlock(&c->lock);
		if (bo)
			vgpu_bo_put(bo);
	}
	vgpu_client_put(c);
}
