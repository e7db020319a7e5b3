// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_ring.c - vgpu-front's ring client: the shared ring and its
 * event channel, one call at a time (a request and its response), and,
 * in hp mode, asynchronous submissions whose fences signal when their
 * response arrives.  Every wait is bounded by timeout_ms.
 */
#include <linux/dma-fence.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "vgpu_front.h"

unsigned int vgpu_front_timeout_ms = 30000;
module_param_named(timeout_ms, vgpu_front_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long a request waits for its response, ms (default 30000)");

/**
 * struct vgpu_front_async - a SUBMIT_ASYNC waiting for its response
 * @node: in f->async (f->ring_lock), then on a list being completed
 * @id: the request's id
 * @status: the response's status
 * @fence: signalled with the response (a reference)
 * @ctx: its context (a reference), marked dead by a GPU error
 * @cmds: the pages of its commands, ended with the response
 * @late: still waiting when a suspend's drain gave up (f->ring_lock): it
 *	ends with -ENODEV whatever its response says, since what it wrote
 *	may be missing from the saved state
 */
struct vgpu_front_async {
	struct list_head node;
	u64 id;
	int status;
	bool late;
	struct dma_fence *fence;
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_grants cmds;
};

/**
 * vgpu_front_gen() - the generation of the current connection
 * @f: the vGPU
 *
 * Return: what a file records when it opens; its calls fail with -ENODEV
 * once the connection it was opened on has gone.
 */
u64 vgpu_front_gen(struct vgpu_front *f)
{
	u64 gen;

	spin_lock_irq(&f->ring_lock);
	gen = f->gen;
	spin_unlock_irq(&f->ring_lock);
	return gen;
}

/**
 * vgpu_front_async_idle() - is no hp submission waiting for its response?
 * @f: the vGPU
 *
 * Return: true when none is.
 */
bool vgpu_front_async_idle(struct vgpu_front *f)
{
	bool idle;

	spin_lock_irq(&f->ring_lock);
	idle = list_empty(&f->async);
	spin_unlock_irq(&f->ring_lock);
	return idle;
}

/**
 * vgpu_front_async_late() - a suspend gave up waiting for the submissions
 * @f: the vGPU
 *
 * Those still waiting end with -ENODEV when answered: the save may miss
 * what they wrote (vgpu_front_drain()).
 */
void vgpu_front_async_late(struct vgpu_front *f)
{
	struct vgpu_front_async *a;

	spin_lock_irq(&f->ring_lock);
	list_for_each_entry(a, &f->async, node)
		a->late = true;
	spin_unlock_irq(&f->ring_lock);
}

/**
 * vgpu_front_ring_full() - is every slot of the ring taken?
 * @f: the vGPU
 *
 * Return: true while the connection is up and its ring is full.
 */
static bool vgpu_front_ring_full(struct vgpu_front *f)
{
	bool full;

	spin_lock_irq(&f->ring_lock);
	full = f->connected && RING_FULL(&f->ring);
	spin_unlock_irq(&f->ring_lock);
	return full;
}

/* Puts @req on the ring.  Caller holds call_lock. */
static int vgpu_front_post(struct vgpu_front *f, u64 gen,
			   struct vgpuif_request *req, int *notify)
{
	int ret = 0;

	lockdep_assert_held(&f->call_lock);
	spin_lock_irq(&f->ring_lock);
	if (f->gone || !f->connected || f->gen != gen) {
		ret = -ENODEV;
	} else if (f->stalled) {
		ret = -ETIMEDOUT;
	} else if (RING_FULL(&f->ring)) {
		/*
		 * hp: submissions in flight fill it; wait for room.  Naive:
		 * requests of calls that timed out are still unanswered.
		 */
		ret = f->hp ? -EAGAIN : -EBUSY;
	} else {
		req->id = ++f->next_id;
		*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = *req;
		f->ring.req_prod_pvt++;
		if (f->hp) {
			RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ring, *notify);
		} else {
			RING_PUSH_REQUESTS(&f->ring);
			*notify = 1;	/* naive mode notifies every request */
		}
		f->wait_id = req->id;
		f->done = false;
	}
	spin_unlock_irq(&f->ring_lock);
	return ret;
}

/**
 * vgpu_front_wait_room() - hp: wait until the ring has room
 * @f: the vGPU
 * @how: killable or not
 * @timeout: jiffies
 *
 * Return: as wait_event_*_timeout(): > 0 once there is room or the
 * backend is gone, 0 after @timeout, < 0 when killed.
 */
static long vgpu_front_wait_room(struct vgpu_front *f,
				 enum vgpu_front_wait how,
				 unsigned long timeout)
{
	if (how == VGPU_FRONT_KILLABLE)
		return wait_event_killable_timeout(f->wq,
						   !vgpu_front_ring_full(f) ||
						   READ_ONCE(f->gone), timeout);
	return wait_event_timeout(f->wq, !vgpu_front_ring_full(f) ||
				  READ_ONCE(f->gone), timeout);
}

/**
 * vgpu_front_call() - one request, one response
 * @f: the vGPU
 * @gen: generation of the connection the caller belongs to
 * @how: VGPU_FRONT_KILLABLE: a fatal signal ends the wait (-EINTR)
 * @req: request; its id is set here
 * @rsp: out, the response; its status is the backend's answer
 *
 * Every wait is bounded by timeout_ms.  After a timeout the connection
 * counts as stalled: later calls fail at once with -ETIMEDOUT until the
 * backend answers anything again.
 *
 * Return: 0 when a response arrived; -ENODEV when the backend is gone or
 * @gen is an earlier connection's; -ETIMEDOUT; -EBUSY when the ring is
 * full of unanswered requests (naive mode; hp mode waits for room);
 * -EINTR when killed.
 */
int vgpu_front_call(struct vgpu_front *f, u64 gen, enum vgpu_front_wait how,
		    struct vgpuif_request *req, struct vgpuif_response *rsp)
{
	unsigned long timeout = msecs_to_jiffies(vgpu_front_timeout_ms);
	int notify = 0;
	long left;
	int ret;

	if (how == VGPU_FRONT_KILLABLE) {
		if (mutex_lock_killable(&f->call_lock))
			return -EINTR;
	} else {
		mutex_lock(&f->call_lock);
	}
	ret = vgpu_front_post(f, gen, req, &notify);
	while (ret == -EAGAIN) {
		left = vgpu_front_wait_room(f, how, timeout);
		ret = left > 0 ? vgpu_front_post(f, gen, req, &notify) :
				 left ? -EINTR : -ETIMEDOUT;
	}
	if (ret) {
		mutex_unlock(&f->call_lock);
		atomic64_inc(&f->stats.errors);
		return ret;
	}
	atomic64_inc(&f->stats.requests);
	if (notify) {
		notify_remote_via_irq(f->irq);
		atomic64_inc(&f->stats.notify_out);
	}

	if (how == VGPU_FRONT_KILLABLE)
		left = wait_event_killable_timeout(f->wq, READ_ONCE(f->done) ||
						   READ_ONCE(f->gone), timeout);
	else
		left = wait_event_timeout(f->wq, READ_ONCE(f->done) ||
					  READ_ONCE(f->gone), timeout);
	spin_lock_irq(&f->ring_lock);
	if (f->done) {
		*rsp = f->rsp;
		ret = 0;
		/* The status becomes an errno: only a real one may pass. */
		if (rsp->status > 0 || rsp->status < -MAX_ERRNO)
			rsp->status = -EIO;
	} else if (f->gone) {
		ret = -ENODEV;
	} else if (left < 0) {
		ret = -EINTR;
	} else {
		ret = -ETIMEDOUT;
		f->stalled = true;
	}
	f->wait_id = 0;
	spin_unlock_irq(&f->ring_lock);
	mutex_unlock(&f->call_lock);
	if (ret == -ETIMEDOUT)
		dev_warn_ratelimited(&f->xbdev->dev,
				     "operation %u: no response in %u ms: backend stalled, calls fail until it answers\n",
				     req->operation,
				     vgpu_front_timeout_ms);
	if (ret || rsp->status)
		atomic64_inc(&f->stats.errors);
	return ret;
}

/**
 * vgpu_front_do() - a killable vgpu_front_call() for operations whose
 *	only result is their status
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @req: request
 * @rsp: out, the response
 *
 * Return: a transport error, else the backend's status.
 */
int vgpu_front_do(struct vgpu_front *f, u64 gen, struct vgpuif_request *req,
		  struct vgpuif_response *rsp)
{
	int ret = vgpu_front_call(f, gen, VGPU_FRONT_KILLABLE, req, rsp);

	return ret ? ret : rsp->status;
}

/* Posts @req for @a; -EAGAIN while the ring is full. */
static int vgpu_front_post_async(struct vgpu_front *f, u64 gen,
				 struct vgpuif_request *req,
				 struct vgpu_front_async *a, int *notify)
{
	int ret = 0;

	spin_lock_irq(&f->ring_lock);
	if (f->gone || !f->connected || f->gen != gen) {
		ret = -ENODEV;
	} else if (RING_FULL(&f->ring)) {
		ret = -EAGAIN;
	} else {
		req->id = ++f->next_id;
		a->id = req->id;
		*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = *req;
		f->ring.req_prod_pvt++;
		list_add_tail(&a->node, &f->async);
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ring, *notify);
	}
	spin_unlock_irq(&f->ring_lock);
	return ret;
}

/**
 * vgpu_front_submit_async() - post a SUBMIT_ASYNC; @fence signals with
 *	its response
 * @f: the vGPU, in hp mode
 * @gen: generation of the caller's connection
 * @req: the request; its id is set here
 * @cmds: the pages of its commands (may be empty): once posted they are
 *	ended with the response; on error they stay the caller's
 * @fence: the submission's fence; a reference is taken once posted
 * @ctx: its context; a reference is taken once posted
 *
 * Waits (killable, at most timeout_ms) while the ring is full.
 *
 * Return: 0 once posted; -ENODEV, -EINTR, -ETIMEDOUT or -ENOMEM.
 */
int vgpu_front_submit_async(struct vgpu_front *f, u64 gen,
			    struct vgpuif_request *req,
			    struct vgpu_front_grants *cmds,
			    struct dma_fence *fence, struct vgpu_front_ctx *ctx)
{
	unsigned long timeout = msecs_to_jiffies(vgpu_front_timeout_ms);
	struct vgpu_front_async *a = kzalloc(sizeof(*a), GFP_KERNEL);
	int notify = 0, ret;
	long left;

	if (!a)
		return -ENOMEM;
	/* The response may come before this returns: hold them first. */
	a->fence = dma_fence_get(fence);
	kref_get(&ctx->ref);
	a->ctx = ctx;
	atomic_inc(&ctx->inflight);	/* before it is posted: a pre-copy */
	a->cmds = *cmds;
	for (;;) {
		ret = vgpu_front_post_async(f, gen, req, a, &notify);
		if (ret != -EAGAIN)
			break;
		left = vgpu_front_wait_room(f, VGPU_FRONT_KILLABLE, timeout);
		if (left <= 0) {
			ret = left ? -EINTR : -ETIMEDOUT;
			break;
		}
	}
	if (ret) {
		atomic_dec(&ctx->inflight);
		dma_fence_put(a->fence);
		vgpu_front_ctx_put(ctx);
		kfree(a);
		atomic64_inc(&f->stats.errors);
		return ret;
	}
	memset(cmds, 0, sizeof(*cmds));
	atomic64_inc(&f->stats.requests);
	if (notify) {
		notify_remote_via_irq(f->irq);
		atomic64_inc(&f->stats.notify_out);
	}
	return 0;
}

/**
 * vgpu_front_async_complete() - signal the fences of answered requests
 * @f: the vGPU
 * @done: struct vgpu_front_async entries taken off f->async
 *
 * May run in the event handler (without f->ring_lock).
 */
static void vgpu_front_async_complete(struct vgpu_front *f,
				      struct list_head *done)
{
	struct vgpu_front_async *a, *tmp;

	list_for_each_entry_safe(a, tmp, done, node) {
		list_del(&a->node);
		/* The status becomes an errno: only a real one may pass. */
		if (a->status > 0 || a->status < -MAX_ERRNO)
			a->status = -EIO;
		if (a->late && !a->status)
			a->status = -ENODEV;
		if (a->status) {
			dma_fence_set_error(a->fence, a->status);
			atomic64_inc(&f->stats.errors);
		}
		if (a->status == -EFAULT || a->status == -ETIMEDOUT ||
		    a->status == -ECANCELED)
			WRITE_ONCE(a->ctx->dead, true);
		dma_fence_signal(a->fence);
		dma_fence_put(a->fence);
		atomic_dec(&a->ctx->inflight);
		vgpu_front_ctx_put(a->ctx);
		vgpu_front_ungrant(&a->cmds);
		kfree(a);
	}
}

/**
 * vgpu_front_take_async() - the request @id waits for its response?
 * @f: the vGPU; caller holds f->ring_lock
 * @rsp: a response
 * @done: where the entry goes when it matches
 *
 * Return: true when @rsp answered a SUBMIT_ASYNC.
 */
static bool vgpu_front_take_async(struct vgpu_front *f,
				  const struct vgpuif_response *rsp,
				  struct list_head *done)
{
	struct vgpu_front_async *a;

	lockdep_assert_held(&f->ring_lock);
	list_for_each_entry(a, &f->async, node) {
		if (a->id == rsp->id) {
			a->status = rsp->status;
			list_move_tail(&a->node, done);
			return true;
		}
	}
	return false;
}

/**
 * vgpu_front_async_fail() - the backend left: every submission still
 *	waiting ends with -ENODEV
 * @f: the vGPU
 */
static void vgpu_front_async_fail(struct vgpu_front *f)
{
	struct vgpu_front_async *a;
	LIST_HEAD(done);

	spin_lock_irq(&f->ring_lock);
	list_splice_init(&f->async, &done);
	spin_unlock_irq(&f->ring_lock);
	list_for_each_entry(a, &done, node)
		a->status = -ENODEV;
	vgpu_front_async_complete(f, &done);
}

static irqreturn_t vgpu_front_irq(int irq, void *arg)
{
	struct vgpu_front *f = arg;
	unsigned long flags;
	LIST_HEAD(done);
	RING_IDX i, rp;
	int more;

	atomic64_inc(&f->stats.notify_in);
	spin_lock_irqsave(&f->ring_lock, flags);
	if (!f->connected) {
		spin_unlock_irqrestore(&f->ring_lock, flags);
		return IRQ_HANDLED;
	}
	do {
		rp = READ_ONCE(f->ring.sring->rsp_prod);
		virt_rmb();	/* see responses up to rp */
		if (rp - f->ring.rsp_cons > RING_SIZE(&f->ring)) {
			dev_err(&f->xbdev->dev, "backend corrupted the ring\n");
			f->gone = true;
			break;
		}
		for (i = f->ring.rsp_cons; i != rp; i++) {
			struct vgpuif_response rsp;

			RING_COPY_RESPONSE(&f->ring, i, &rsp);
			atomic64_inc(&f->stats.responses);
			if (f->wait_id && rsp.id == f->wait_id) {
				f->rsp = rsp;
				f->done = true;
			} else if (f->hp) {
				vgpu_front_take_async(f, &rsp, &done);
			}
			f->stalled = false;	/* the backend is alive */
		}
		f->ring.rsp_cons = i;
		RING_FINAL_CHECK_FOR_RESPONSES(&f->ring, more);
	} while (more);
	spin_unlock_irqrestore(&f->ring_lock, flags);
	vgpu_front_async_complete(f, &done);
	wake_up(&f->wq);
	return IRQ_HANDLED;
}

/**
 * vgpu_front_ring_alloc() - the ring's pages and its event channel
 * @f: the vGPU; f->ring_order chosen
 * @evtchn: out, the event channel to write in XenStore
 *
 * Return: 0 or a negative errno (nothing is left allocated).
 */
int vgpu_front_ring_alloc(struct vgpu_front *f, evtchn_port_t *evtchn)
{
	struct xenbus_device *dev = f->xbdev;
	int ret;

	ret = xenbus_setup_ring(dev, GFP_KERNEL, &f->ring_va,
				1U << f->ring_order, f->ring_refs);
	if (ret)
		return ret;
	SHARED_RING_INIT((struct vgpuif_sring *)f->ring_va);
	FRONT_RING_INIT(&f->ring, (struct vgpuif_sring *)f->ring_va,
			XEN_PAGE_SIZE << f->ring_order);
	ret = xenbus_alloc_evtchn(dev, evtchn);
	if (ret)
		goto err;
	ret = bind_evtchn_to_irqhandler(*evtchn, vgpu_front_irq, 0,
					"vgpu-front", f);
	if (ret < 0) {
		xenbus_free_evtchn(dev, *evtchn);
		goto err;
	}
	f->irq = ret;
	f->evtchn = *evtchn;
	return 0;

err:
	vgpu_front_ring_free(f);
	return ret;
}

/**
 * vgpu_front_ring_up() - the backend knows the ring: calls may start
 * @f: the vGPU
 *
 * A new generation begins: files opened on an earlier connection keep
 * failing with -ENODEV.
 */
void vgpu_front_ring_up(struct vgpu_front *f)
{
	spin_lock_irq(&f->ring_lock);
	f->gone = false;
	f->stalled = false;
	f->connected = true;
	f->gen++;
	spin_unlock_irq(&f->ring_lock);
}

/**
 * vgpu_front_ring_gone() - the backend left: release every waiter now
 * @f: the vGPU
 *
 * Calls fail with -ENODEV and submissions in flight end with it.
 */
void vgpu_front_ring_gone(struct vgpu_front *f)
{
	spin_lock_irq(&f->ring_lock);
	f->gone = true;
	spin_unlock_irq(&f->ring_lock);
	wake_up_all(&f->wq);
	vgpu_front_async_fail(f);
}

/**
 * vgpu_front_ring_free() - unbind the event channel and free the ring
 * @f: the vGPU, with no caller on the ring
 */
void vgpu_front_ring_free(struct vgpu_front *f)
{
	spin_lock_irq(&f->ring_lock);
	f->connected = false;
	spin_unlock_irq(&f->ring_lock);
	if (f->irq) {
		unbind_from_irqhandler(f->irq, f);
		f->irq = 0;
	}
	if (f->ring_va)
		xenbus_teardown_ring(&f->ring_va, 1U << f->ring_order,
				     f->ring_refs);
}
