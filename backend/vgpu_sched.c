// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_sched.c - jobs, their fences and the first scheduler of vgpu-back.
 *
 * One kernel thread runs the jobs of every client on the engine.  A
 * context is runnable when the first job of its queue has no unsignalled
 * dependency; the thread takes runnable contexts in round-robin order and
 * runs the head job for one time slice (vgpu_timeslice_ms) of engine
 * time; a preemptible engine returns at the end of the slice and the job
 * resumes at its next turn.  Jobs of one context run in submission order.
 *
 * drm_sched is not used: its model is a hardware ring with a hardware
 * fence per job, while engines here execute synchronously in slices, and
 * the weighted fair-share policy that replaces round-robin needs to pick
 * by client, not by entity priority.  See Documentation/design.rst.
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

static struct {
	/*
	 * Protects @ctxs, @running, and in every context: queue,
	 * sched_node, status, fault_*, dead, submitted, completed.
	 */
	spinlock_t lock;
	struct list_head ctxs;		/* contexts with queued jobs */
	struct vgpu_job *running;	/* job in the engine, or NULL */
	wait_queue_head_t wq;		/* the thread waits for work here */
	struct task_struct *thread;
} vgpu_sched;

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
		wake_up(&vgpu_sched.wq);
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
	struct vgpu_job *job = kzalloc(sizeof(*job), GFP_KERNEL);
	u32 i;

	BUILD_BUG_ON(offsetof(struct vgpu_job, fence) != 0);
	if (!job)
		return ERR_PTR(-ENOMEM);
	if (num_in) {
		job->deps = kcalloc(num_in, sizeof(*job->deps), GFP_KERNEL);
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
	int ret = 0;

	spin_lock(&vgpu_sched.lock);
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
		if (list_empty(&ctx->sched_node))
			list_add_tail(&ctx->sched_node, &vgpu_sched.ctxs);
	}
	spin_unlock(&vgpu_sched.lock);
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
		wake_up(&vgpu_sched.wq);
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
	vgpu_client_jobs_done(c, job->ej.num_cmds);
	vgpu_job_put_deps(job);
	kvfree(job->ej.cmds);
	job->ej.cmds = NULL;
	job->ctx = NULL;
	vgpu_ctx_put(ctx);
	dma_fence_put(&job->fence);
}

/* Removes @job from its context's queue; caller holds the lock. */
static void vgpu_job_unlink(struct vgpu_job *job)
{
	struct vgpu_ctx *ctx = job->ctx;

	list_del_init(&job->node);
	ctx->completed++;
	if (list_empty(&ctx->queue))
		list_del_init(&ctx->sched_node);
}

/**
 * vgpu_sched_ctx_kill() - cancel the queued jobs of a context
 * @ctx: context
 * @status: 0 when the context is being destroyed, else the DRM_VGPU_CTX_*
 *	status it takes (a faulted context keeps its fault)
 *
 * The job in the engine, if any, is finished by the scheduler thread
 * after its slice; every other queued job is signalled with -ECANCELED.
 */
void vgpu_sched_ctx_kill(struct vgpu_ctx *ctx, u32 status)
{
	struct vgpu_job *job, *tmp;
	LIST_HEAD(cancel);

	spin_lock(&vgpu_sched.lock);
	if (!status)
		ctx->dead = true;
	else if (ctx->status == DRM_VGPU_CTX_OK)
		ctx->status = status;
	list_for_each_entry_safe(job, tmp, &ctx->queue, node) {
		if (job == vgpu_sched.running)
			continue;
		vgpu_job_unlink(job);
		list_add_tail(&job->node, &cancel);
	}
	spin_unlock(&vgpu_sched.lock);

	list_for_each_entry_safe(job, tmp, &cancel, node) {
		list_del_init(&job->node);
		vgpu_job_finish(job, -ECANCELED);
	}
}

void vgpu_sched_ctx_status(struct vgpu_ctx *ctx, struct drm_vgpu_ctx_status *a)
{
	spin_lock(&vgpu_sched.lock);
	a->status = ctx->status;
	a->fault_kind = ctx->fault_kind;
	a->fault_addr = ctx->fault_addr;
	a->submitted = ctx->submitted;
	a->completed = ctx->completed;
	spin_unlock(&vgpu_sched.lock);
}

/**
 * vgpu_client_ban() - refuse all further work of a client
 * @c: client whose contexts hung too often
 *
 * Kills the client's contexts one at a time, each held by a reference
 * and with no lock of the client held: cancelling a job takes c->lock.
 */
void vgpu_client_ban(struct vgpu_client *c)
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

/* Next runnable job, round-robin over contexts; marks it running. */
static struct vgpu_job *vgpu_sched_pick(void)
{
	struct vgpu_ctx *ctx;
	struct vgpu_job *job = NULL;

	spin_lock(&vgpu_sched.lock);
	list_for_each_entry(ctx, &vgpu_sched.ctxs, sched_node) {
		struct vgpu_job *head = list_first_entry_or_null(&ctx->queue,
							struct vgpu_job, node);

		if (head && !atomic_read(&head->deps_pending)) {
			job = head;
			list_move_tail(&ctx->sched_node, &vgpu_sched.ctxs);
			break;
		}
	}
	vgpu_sched.running = job;
	spin_unlock(&vgpu_sched.lock);
	return job;
}

static void vgpu_sched_run_slice(struct vgpu_job *job)
{
	struct vgpu_ctx *ctx = job->ctx;
	struct vgpu_client *c = ctx->client;
	struct vgpu_engine *e = c->engine;
	enum vgpu_job_status st;
	bool dead, ban = false;
	int err = 0;
	u64 t0, busy;

	mutex_lock(&ctx->vm_lock);
	t0 = ktime_get_ns();
	st = e->ops->run(e, ctx->ectx, &job->ej,
			 (u64)max(vgpu_timeslice_ms, 1U) * NSEC_PER_MSEC);
	busy = ktime_get_ns() - t0;
	mutex_unlock(&ctx->vm_lock);
	VGPU_STAT(c, busy_ns, busy);
	/* Only this thread writes the maxima. */
	if (busy > atomic64_read(&c->stats.slice_max_ns))
		atomic64_set(&c->stats.slice_max_ns, busy);
	if (busy > atomic64_read(&vgpu_global_stats.slice_max_ns))
		atomic64_set(&vgpu_global_stats.slice_max_ns, busy);

	spin_lock(&vgpu_sched.lock);
	vgpu_sched.running = NULL;
	dead = ctx->dead;
	switch (st) {
	case VGPU_JOB_DONE:
		break;
	case VGPU_JOB_PREEMPTED:
		if (!dead && ctx->status == DRM_VGPU_CTX_OK) {
			spin_unlock(&vgpu_sched.lock);
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
	spin_unlock(&vgpu_sched.lock);

	if (st == VGPU_JOB_FAULTED) {
		VGPU_STAT(c, faults, 1);
		vgpu_client_msg(c, false,
				"context %u faulted at GPU address 0x%llx (kind %u)\n",
				ctx->id, job->ej.fault_addr, job->ej.fault_kind);
	} else if (st == VGPU_JOB_TIMEDOUT) {
		VGPU_STAT(c, hangs, 1);
		ban = vgpu_client_hang(c);
		vgpu_client_msg(c, false,
				"context %u hung: watchdog expired\n",
				ctx->id);
	}
	/* Keep the context alive across the kill below. */
	kref_get(&ctx->ref);
	vgpu_job_finish(job, err);
	if (st == VGPU_JOB_FAULTED || st == VGPU_JOB_TIMEDOUT)
		vgpu_sched_ctx_kill(ctx, st == VGPU_JOB_FAULTED ?
				    DRM_VGPU_CTX_FAULTED : DRM_VGPU_CTX_HUNG);
	if (ban)
		vgpu_client_ban(c);
	vgpu_ctx_put(ctx);
}

/**
 * vgpu_sched_run_once() - run one slice of the next runnable job, on the
 *	caller's thread
 *
 * For the userspace fuzzer, which has no scheduler thread.
 *
 * Return: true if a slice ran, false if no job was runnable.
 */
bool vgpu_sched_run_once(void)
{
	struct vgpu_job *job = vgpu_sched_pick();

	if (!job)
		return false;
	vgpu_sched_run_slice(job);
	return true;
}

static int vgpu_sched_thread(void *unused)
{
	while (!kthread_should_stop()) {
		struct vgpu_job *job = NULL;

		wait_event_interruptible(vgpu_sched.wq,
					 (job = vgpu_sched_pick()) ||
					 kthread_should_stop());
		if (job)
			vgpu_sched_run_slice(job);
		cond_resched();
	}
	return 0;
}

int vgpu_sched_init(void)
{
	spin_lock_init(&vgpu_sched.lock);
	INIT_LIST_HEAD(&vgpu_sched.ctxs);
	init_waitqueue_head(&vgpu_sched.wq);
	vgpu_sched.thread = kthread_run(vgpu_sched_thread, NULL, "vgpu-sched");
	return PTR_ERR_OR_ZERO(vgpu_sched.thread);
}

void vgpu_sched_fini(void)
{
	kthread_stop(vgpu_sched.thread);
}
