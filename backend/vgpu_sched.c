// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_sched.c - jobs, their fences and the scheduler of vgpu-back.
 *
 * One kernel thread runs the jobs of every client on the engine.  A
 * context is runnable when the first job of its queue has no unsignalled
 * dependency.  The engine is shared between groups (a guest domain;
 * dom0's render-node clients together) by weighted fair share with
 * optional caps, and within a group between its contexts by priority:
 * the policy is common/vgpu_fair.c, two levels of it.  Each pick runs
 * the head job of the chosen context for one time slice
 * (vgpu_timeslice_ms) on an engine that can preempt, or to its end on
 * one that cannot, and charges the measured engine time to the group
 * and the context.  Jobs of one context run in submission order.
 *
 * drm_sched is not used: its model is a hardware ring with a hardware
 * fence per job, while engines here execute synchronously in slices, and
 * the fair-share policy picks by group and measured time, not by entity
 * priority.  See Documentation/design.rst.
 */
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "vgpu_core.h"

unsigned int vgpu_timeslice_ms = 10;
module_param_named(timeslice_ms, vgpu_timeslice_ms, uint, 0644);
MODULE_PARM_DESC(timeslice_ms, "Engine time a job runs before others get a turn, ms (default 10)");

unsigned int vgpu_hang_limit = 3;
module_param_named(hang_limit, vgpu_hang_limit, uint, 0644);
MODULE_PARM_DESC(hang_limit, "Hung contexts after which a client is banned (default 3, 0: never)");

/* The scheduler of a context's device. */
static struct vgpu_sched *vgpu_ctx_sched(struct vgpu_ctx *ctx)
{
	return &ctx->client->dev->sched;
}

/* Tells the scheduler thread of @s to look again. */
static void vgpu_sched_kick(struct vgpu_sched *s)
{
	atomic_set(&s->kicked, 1);
	wake_up(&s->wq);
}

/**
 * vgpu_prio_weight() - a context's weight within its group
 * @priority: DRM_VGPU_PRIO_* (checked by the caller)
 *
 * Return: 1 for low, 2 for normal, 4 for high.
 */
u32 vgpu_prio_weight(u32 priority)
{
	return 1U << min_t(u32, priority, DRM_VGPU_PRIO_HIGH);
}

/* The groups' numbers (struct vgpu_group.id), never reused. */
static atomic64_t vgpu_group_ids = ATOMIC64_INIT(0);

/**
 * vgpu_group_create() - a scheduling group of a device, with the default
 *	weight
 * @dev: the device whose engine it shares (a reference is taken)
 * @name: for messages and debugfs
 *
 * Return: the group with one reference, or NULL.
 */
struct vgpu_group *vgpu_group_create(struct vgpu_device *dev,
				     const char *name)
{
	struct vgpu_group *g = kzalloc(sizeof(*g), GFP_KERNEL);

	if (!g)
		return NULL;
	kref_init(&g->ref);
	g->id = atomic64_inc_return(&vgpu_group_ids);
	vgpu_device_get(dev);
	g->dev = dev;
	strscpy(g->name, name, sizeof(g->name));
	vgpu_fair_ent_init(&g->fair, VGPU_FAIR_WEIGHT_DEFAULT);
	vgpu_fair_init(&g->level);
	INIT_LIST_HEAD(&g->ctxs);
	INIT_LIST_HEAD(&g->node);
	return g;
}

static void vgpu_group_release(struct kref *ref)
{
	struct vgpu_group *g = container_of(ref, struct vgpu_group, ref);

	WARN_ON(!list_empty(&g->ctxs));
	if (!g->owned)
		vgpu_device_put(g->dev);
	kfree(g);
}

void vgpu_group_put(struct vgpu_group *g)
{
	if (g)
		kref_put(&g->ref, vgpu_group_release);
}

/**
 * vgpu_group_set() - change a group's weight or cap, at any time
 * @g: group
 * @weight: VGPU_FAIR_WEIGHT_MIN..VGPU_FAIR_WEIGHT_MAX, or NULL to keep it
 * @cap: percent of the engine, 1..100, or 0 for none; NULL to keep it
 *
 * Takes effect at the scheduler's next pick.
 *
 * Return: 0, or -EINVAL (nothing changed).
 */
int vgpu_group_set(struct vgpu_group *g, const u32 *weight, const u32 *cap)
{
	struct vgpu_sched *s = &g->dev->sched;
	int ret;

	spin_lock(&s->lock);
	ret = vgpu_fair_set(&g->fair, weight ? *weight : g->fair.weight,
			    cap ? *cap : g->fair.cap, ktime_get_ns());
	spin_unlock(&s->lock);
	if (!ret)
		vgpu_sched_kick(s);
	return ret;
}

void vgpu_group_get_settings(struct vgpu_group *g, u32 *weight, u32 *cap)
{
	spin_lock(&g->dev->sched.lock);
	*weight = g->fair.weight;
	*cap = g->fair.cap;
	spin_unlock(&g->dev->sched.lock);
}

/* Protects the signalling of job fences (dma_fence's own lock). */
static DEFINE_SPINLOCK(vgpu_fence_lock);

static const char *vgpu_fence_driver_name(struct dma_fence *f)
{
	return "vgpu";
}

static const char *vgpu_fence_timeline_name(struct dma_fence *f)
{
	return "vgpu-context";
}

/* The fence is the first member of the job: dma_fence_free() frees both. */
static const struct dma_fence_ops vgpu_fence_ops = {
	.get_driver_name = vgpu_fence_driver_name,
	.get_timeline_name = vgpu_fence_timeline_name,
};

static void vgpu_dep_cb(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct vgpu_job_dep *dep = container_of(cb, struct vgpu_job_dep, cb);

	if (atomic_dec_and_test(&dep->job->deps_pending))
		vgpu_sched_kick(vgpu_ctx_sched(dep->job->ctx));
}

/**
 * vgpu_job_alloc() - a job for a context
 * @ctx: context; the caller's reference passes to the job
 * @cmds: validated commands, kvmalloc'ed; owned by the job once submitted
 * @num_cmds: number of @cmds
 * @in: fences to wait for; the job takes its own references
 * @num_in: number of @in
 *
 * Return: the job or ERR_PTR(-ENOMEM).
 */
struct vgpu_job *vgpu_job_alloc(struct vgpu_ctx *ctx, struct drm_vgpu_cmd *cmds,
				u32 num_cmds, struct dma_fence **in, u32 num_in)
{
	struct vgpu_job *job = kzalloc(sizeof(*job), VGPU_GFP_CLIENT);
	u32 i;

	BUILD_BUG_ON(offsetof(struct vgpu_job, fence) != 0);
	if (!job)
		return ERR_PTR(-ENOMEM);
	if (num_in) {
		job->deps = kcalloc(num_in, sizeof(*job->deps),
				    VGPU_GFP_CLIENT);
		if (!job->deps) {
			kfree(job);
			return ERR_PTR(-ENOMEM);
		}
	}
	job->num_deps = num_in;
	job->ctx = ctx;
	job->ej.cmds = cmds;
	job->ej.num_cmds = num_cmds;
	INIT_LIST_HEAD(&job->node);
	/*
	 * Arm the dependencies before the job is visible to anyone else.  One
	 * extra count keeps it from running until vgpu_sched_queue().
	 */
	atomic_set(&job->deps_pending, num_in + 1);
	for (i = 0; i < num_in; i++) {
		struct vgpu_job_dep *dep = &job->deps[i];

		dep->fence = dma_fence_get(in[i]);
		dep->job = job;
		if (dma_fence_add_callback(dep->fence, &dep->cb, vgpu_dep_cb))
			atomic_dec(&job->deps_pending);	/* already signalled */
	}
	return job;
}

static void vgpu_job_put_deps(struct vgpu_job *job)
{
	u32 i;

	for (i = 0; i < job->num_deps; i++) {
		dma_fence_remove_callback(job->deps[i].fence, &job->deps[i].cb);
		dma_fence_put(job->deps[i].fence);
	}
	kfree(job->deps);
	job->deps = NULL;
	job->num_deps = 0;
}

/**
 * vgpu_job_abort() - free a job that vgpu_sched_submit() refused
 * @job: the job; its commands stay with the caller
 */
void vgpu_job_abort(struct vgpu_job *job)
{
	vgpu_job_put_deps(job);
	vgpu_ctx_put(job->ctx);
	kfree(job);
}

/**
 * vgpu_sched_submit() - append a job to its context's queue
 * @job: from vgpu_job_alloc()
 * @seqno: out, the job's number on its context
 * @fence: out, a reference to the job's fence, which also keeps the job
 *	alive for vgpu_sched_queue()
 *
 * Return: 0, -ENOENT if the context is being destroyed, -EIO if it has
 * faulted, hung or been banned.
 */
int vgpu_sched_submit(struct vgpu_job *job, u64 *seqno,
		      struct dma_fence **fence)
{
	struct vgpu_ctx *ctx = job->ctx;
	struct vgpu_sched *s = vgpu_ctx_sched(ctx);
	int ret = 0;

	spin_lock(&s->lock);
	if (ctx->dead) {
		ret = -ENOENT;
	} else if (ctx->status != DRM_VGPU_CTX_OK) {
		ret = -EIO;
	} else {
		*seqno = ++ctx->submitted;
		dma_fence_init(&job->fence, &vgpu_fence_ops, &vgpu_fence_lock,
			       ctx->fence_ctx, *seqno);
		*fence = dma_fence_get(&job->fence);
		list_add_tail(&job->node, &ctx->queue);
		if (list_empty(&ctx->sched_node)) {
			struct vgpu_group *g = ctx->client->group;

			if (list_empty(&g->ctxs))
				list_add_tail(&g->node, &s->groups);
			list_add_tail(&ctx->sched_node, &g->ctxs);
		}
	}
	spin_unlock(&s->lock);
	return ret;
}

/**
 * vgpu_sched_queue() - let a submitted job run once its fences signal
 * @job: a job accepted by vgpu_sched_submit(); the caller still holds the
 *	fence reference vgpu_sched_submit() gave it
 */
void vgpu_sched_queue(struct vgpu_job *job)
{
	if (atomic_dec_and_test(&job->deps_pending))
		vgpu_sched_kick(vgpu_ctx_sched(job->ctx));
}

/* Signals a job removed from its queue and drops the scheduler's hold. */
static void vgpu_job_finish(struct vgpu_job *job, int err)
{
	struct vgpu_ctx *ctx = job->ctx;
	struct vgpu_client *c = ctx->client;

	if (job->ej.engine_priv)
		c->engine->ops->job_release(c->engine, &job->ej);
	if (err)
		dma_fence_set_error(&job->fence, err);
	dma_fence_signal(&job->fence);
	if (err == -ECANCELED)
		VGPU_STAT(c, cancelled, 1);
	VGPU_STAT(c, completed, 1);
	vgpu_ctx_sched(ctx)->ops->job_done(c, job);
	vgpu_job_put_deps(job);
	kvfree(job->ej.cmds);
	job->ej.cmds = NULL;
	job->ctx = NULL;
	vgpu_ctx_put(ctx);
	dma_fence_put(&job->fence);
}

/* Removes @job from its context's queue. */
static void vgpu_job_unlink(struct vgpu_job *job)
{
	struct vgpu_ctx *ctx = job->ctx;

	lockdep_assert_held(&vgpu_ctx_sched(ctx)->lock);
	list_del_init(&job->node);
	ctx->completed++;
	if (list_empty(&ctx->queue)) {
		struct vgpu_group *g = ctx->client->group;

		list_del_init(&ctx->sched_node);
		if (list_empty(&g->ctxs))
			list_del_init(&g->node);
	}
}

/**
 * vgpu_sched_ctx_kill() - cancel the queued jobs of a context
 * @ctx: context
 * @status: 0 when the context is being destroyed, else the DRM_VGPU_CTX_*
 *	status it takes (a faulted context keeps its fault)
 *
 * The job in the engine, if any, is finished by the scheduler thread
 * after its slice; every other queued job is signalled with -ECANCELED.
 * When the context is destroyed (@status 0), the core counts the engine
 * time of a launch a cancelled job had started towards a hang
 * (&vgpu_sched_ops.cancelled).
 */
void vgpu_sched_ctx_kill(struct vgpu_ctx *ctx, u32 status)
{
	struct vgpu_sched *s = vgpu_ctx_sched(ctx);
	struct vgpu_job *job, *tmp;
	bool ban = false;
	LIST_HEAD(cancel);

	spin_lock(&s->lock);
	if (!status)
		ctx->dead = true;
	else if (ctx->status == DRM_VGPU_CTX_OK)
		ctx->status = status;
	list_for_each_entry_safe(job, tmp, &ctx->queue, node) {
		if (job == s->running)
			continue;
		/* Not in the engine: its progress is stable. */
		vgpu_job_unlink(job);
		list_add_tail(&job->node, &cancel);
	}
	spin_unlock(&s->lock);

	list_for_each_entry_safe(job, tmp, &cancel, node) {
		list_del_init(&job->node);
		/* The caller's reference to @ctx keeps its client. */
		if (!status && s->ops->cancelled(ctx, job))
			ban = true;
		vgpu_job_finish(job, -ECANCELED);
	}
	if (ban)
		s->ops->ban(ctx->client);
}

/**
 * vgpu_sched_ctx_wait() - wait until no slice of a context is in progress
 * @ctx: a context that vgpu_sched_ctx_kill() has marked dead
 *
 * A dead context is never picked again, so once this returns its last
 * slice has ended and the core has counted its hang or its abandoned time
 * into the client (&vgpu_sched_ops.slice_ended): a transport that
 * keeps a guest's record across connections reads it after teardown.
 */
void vgpu_sched_ctx_wait(struct vgpu_ctx *ctx)
{
	struct vgpu_sched *s = vgpu_ctx_sched(ctx);

	wait_event(s->slice_wq, READ_ONCE(s->slice_ctx) != ctx);
}

void vgpu_sched_ctx_status(struct vgpu_ctx *ctx, struct drm_vgpu_ctx_status *a)
{
	struct vgpu_sched *s = vgpu_ctx_sched(ctx);

	spin_lock(&s->lock);
	a->status = ctx->status;
	a->fault_kind = ctx->fault_kind;
	a->fault_addr = ctx->fault_addr;
	a->submitted = ctx->submitted;
	a->completed = ctx->completed;
	spin_unlock(&s->lock);
}

/*
 * The context of @g to run: among those whose head job can run, the one
 * with the least virtual time, or NULL.
 */
static struct vgpu_ctx *vgpu_group_pick(struct vgpu_group *g)
{
	struct vgpu_ctx *ctx, *best = NULL;

	lockdep_assert_held(&g->dev->sched.lock);
	list_for_each_entry(ctx, &g->ctxs, sched_node) {
		struct vgpu_job *head = list_first_entry(&ctx->queue,
							 struct vgpu_job, node);

		if (atomic_read(&head->deps_pending))
			continue;
		vgpu_fair_compete(&g->level, &ctx->fair);
		if (!best || vgpu_fair_before(&ctx->fair, &best->fair))
			best = ctx;
	}
	return best;
}

/*
 * The next job to run, marked running: the chosen context's head job, in
 * the group with the least virtual time that has a runnable context and
 * is not throttled by its cap.  NULL if none; then *@wake is the time a
 * throttled group may run again (U64_MAX: none waits).
 */
static struct vgpu_job *vgpu_sched_pick(struct vgpu_sched *s, u64 *wake)
{
	struct vgpu_group *g, *best = NULL;
	struct vgpu_ctx *ctx, *best_ctx = NULL;
	struct vgpu_job *job = NULL;
	u64 now = ktime_get_ns();

	*wake = U64_MAX;
	spin_lock(&s->lock);
	list_for_each_entry(g, &s->groups, node) {
		if (vgpu_fair_throttled(&g->fair, now)) {
			*wake = min(*wake, vgpu_fair_ready_at(&g->fair));
			continue;
		}
		ctx = vgpu_group_pick(g);
		if (!ctx)
			continue;
		vgpu_fair_compete(&s->fair, &g->fair);
		if (!best || vgpu_fair_before(&g->fair, &best->fair)) {
			best = g;
			best_ctx = ctx;
		}
	}
	if (best) {
		vgpu_fair_picked(&s->fair, &best->fair);
		vgpu_fair_picked(&best->level, &best_ctx->fair);
		job = list_first_entry(&best_ctx->queue, struct vgpu_job, node);
	}
	s->running = job;
	WRITE_ONCE(s->slice_ctx, best_ctx);
	spin_unlock(&s->lock);
	return job;
}

/*
 * How long the current thread has waited on a runqueue, in all, ns
 * (delay accounting, CONFIG_SCHED_INFO); 0 where the kernel keeps none.
 */
static u64 vgpu_sched_run_delay(void)
{
#ifdef CONFIG_SCHED_INFO
	return current->sched_info.run_delay;
#else
	return 0;
#endif
}

/* A slice's end: its context may be torn down now (vgpu_sched_ctx_wait()). */
static void vgpu_sched_slice_done(struct vgpu_sched *s)
{
	WRITE_ONCE(s->slice_ctx, NULL);
	wake_up_all(&s->slice_wq);
}

/*
 * Charges a slice of @c on @ctx: @busy ns measured around run(), of
 * which the thread waited @waited ns for a CPU (vgpu_fair_slice_charge()).
 */
static void vgpu_sched_account(struct vgpu_client *c, struct vgpu_ctx *ctx,
			       u64 busy, u64 waited, u64 end)
{
	u64 charge = vgpu_fair_slice_charge(busy, waited);

	VGPU_STAT(c, busy_ns, charge);
	if (busy > charge)
		VGPU_STAT(c, stalled_ns, busy - charge);
	/* Only this thread writes the maxima. */
	if (busy > atomic64_read(&c->stats.slice_max_ns))
		atomic64_set(&c->stats.slice_max_ns, busy);
	if (busy > atomic64_read(&c->dev->stats.slice_max_ns))
		atomic64_set(&c->dev->stats.slice_max_ns, busy);
	/* Each device's thread writes the global maximum: compare and swap. */
	vgpu_stat_max(&vgpu_global_stats.slice_max_ns, busy);
	lockdep_assert_held(&c->dev->sched.lock);
	vgpu_fair_charge(&c->group->fair, charge, end);
	vgpu_fair_charge(&ctx->fair, charge, end);
}

static void vgpu_sched_run_slice(struct vgpu_job *job)
{
	struct vgpu_ctx *ctx = job->ctx;
	struct vgpu_client *c = ctx->client;
	struct vgpu_engine *e = c->engine;
	struct vgpu_sched *s = &c->dev->sched;
	enum vgpu_job_status st;
	bool dead, ban = false;
	int err = 0;
	u64 t0, busy, waited;
	u64 budget = U64_MAX;	/* an engine that cannot preempt: the job */

	if (e->flags & VGPU_ENGINE_PREEMPTIBLE)
		budget = (u64)max(vgpu_timeslice_ms, 1U) * NSEC_PER_MSEC;
	mutex_lock(&ctx->vm_lock);
	waited = vgpu_sched_run_delay();
	t0 = ktime_get_ns();
	st = e->ops->run(e, ctx->ectx, &job->ej, budget);
	busy = ktime_get_ns() - t0;
	waited = vgpu_sched_run_delay() - waited;
	mutex_unlock(&ctx->vm_lock);

	spin_lock(&s->lock);
	vgpu_sched_account(c, ctx, busy, waited, t0 + busy);
	s->running = NULL;
	dead = ctx->dead;
	switch (st) {
	case VGPU_JOB_DONE:
		break;
	case VGPU_JOB_PREEMPTED:
		if (!dead && ctx->status == DRM_VGPU_CTX_OK) {
			spin_unlock(&s->lock);
			vgpu_sched_slice_done(s);
			return;
		}
		err = -ECANCELED;
		break;
	case VGPU_JOB_FAULTED:
		if (ctx->status == DRM_VGPU_CTX_OK) {
			ctx->status = DRM_VGPU_CTX_FAULTED;
			ctx->fault_kind = job->ej.fault_kind;
			ctx->fault_addr = job->ej.fault_addr;
		}
		err = -EFAULT;
		break;
	case VGPU_JOB_TIMEDOUT:
		if (ctx->status == DRM_VGPU_CTX_OK)
			ctx->status = DRM_VGPU_CTX_HUNG;
		err = -ETIMEDOUT;
		break;
	}
	vgpu_job_unlink(job);
	spin_unlock(&s->lock);

	ban = s->ops->slice_ended(ctx, job, st, dead);
	/* The counts are in: a teardown waiting for this slice may go on. */
	vgpu_sched_slice_done(s);
	/* Keep the context alive across the kill below. */
	kref_get(&ctx->ref);
	vgpu_job_finish(job, err);
	if (st == VGPU_JOB_FAULTED || st == VGPU_JOB_TIMEDOUT)
		vgpu_sched_ctx_kill(ctx, st == VGPU_JOB_FAULTED ?
				    DRM_VGPU_CTX_FAULTED : DRM_VGPU_CTX_HUNG);
	if (ban)
		s->ops->ban(c);
	vgpu_ctx_put(ctx);
}

/**
 * vgpu_sched_run_once() - run one slice of the next runnable job, on the
 *	caller's thread
 * @dev: the device whose job runs
 *
 * For the userspace fuzzer, which has no scheduler thread.
 *
 * Return: true if a slice ran, false if no job was runnable.
 */
bool vgpu_sched_run_once(struct vgpu_device *dev)
{
	u64 wake;
	struct vgpu_job *job = vgpu_sched_pick(&dev->sched, &wake);

	if (!job)
		return false;
	vgpu_sched_run_slice(job);
	return true;
}

/**
 * vgpu_sched_queued() - whether any context of the device has a job queued
 * @dev: the device
 *
 * For a caller that runs the slices itself (vgpu_sched_run_once(), the
 * userspace core): after a slice that ran, another is worth running only
 * if this says so (a job throttled by its group's cap, or waiting for
 * its dependencies, counts: that slice then finds nothing to run).
 *
 * Return: true if a job is queued.
 */
bool vgpu_sched_queued(struct vgpu_device *dev)
{
	struct vgpu_sched *s = &dev->sched;
	bool queued;

	spin_lock(&s->lock);
	queued = !list_empty(&s->groups);
	spin_unlock(&s->lock);
	return queued;
}

static int vgpu_sched_thread(void *arg)
{
	struct vgpu_sched *s = arg;

	while (!kthread_should_stop()) {
		u64 wake, now;
		struct vgpu_job *job = vgpu_sched_pick(s, &wake);

		if (job) {
			vgpu_sched_run_slice(job);
			cond_resched();
			continue;
		}
		if (wake == U64_MAX) {
			wait_event_interruptible(s->wq,
						 atomic_xchg(&s->kicked, 0) ||
						 kthread_should_stop());
			continue;
		}
		/* A capped group earns its time back at @wake (an hrtimer). */
		now = ktime_get_ns();
		if (wake > now)
			wait_event_interruptible_hrtimeout(s->wq,
							   atomic_xchg(&s->kicked, 0) ||
							   kthread_should_stop(),
							   ns_to_ktime(wake - now));
	}
	return 0;
}

/**
 * vgpu_sched_init() - start a device's scheduler
 * @dev: the device, its index set
 * @ops: what the end of a job means for its client (the core's)
 *
 * Return: 0, or the error of starting its thread "vgpu-sched/N".
 */
int vgpu_sched_init(struct vgpu_device *dev,
		    const struct vgpu_sched_ops *ops)
{
	struct vgpu_sched *s = &dev->sched;

	s->ops = ops;
	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->groups);
	vgpu_fair_init(&s->fair);
	init_waitqueue_head(&s->wq);
	init_waitqueue_head(&s->slice_wq);
	s->thread = kthread_run(vgpu_sched_thread, s, "vgpu-sched/%u",
				dev->index);
	return PTR_ERR_OR_ZERO(s->thread);
}

/* Stops a device's scheduler: its clients are gone, no job is queued. */
void vgpu_sched_fini(struct vgpu_device *dev)
{
	kthread_stop(dev->sched.thread);
}
