// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen_ring.c - vgpu-back's ring server: one kernel thread per guest
 * connection takes requests off the shared ring (protocol:
 * common/vgpuif.h) and has vgpuif_back.c decode them into the core's
 * vgpu_op_*(); it maps the guest's pages and waits for jobs for it.
 *
 * The request path is xen-blkback's: the producer index is read once, an
 * index more than a ring ahead is a protocol violation, each request is
 * copied off the shared page before anything looks at it, and only the
 * private copy is checked and used.  The thread serves at most
 * VGPU_XEN_BATCH requests between two yields of the CPU, and acknowledges
 * the event channel late (lateeoi), marking a notification that brought
 * nothing as spurious so that Xen throttles an event storm.  Naive mode
 * maps a guest page for exactly one request and unmaps it before
 * answering.
 *
 * hp mode: a SUBMIT_ASYNC is answered when its job's fence signals, by
 * the fence callback itself (responses are written under be->rsp_lock).
 * Responses and requests notify only when the other side asked for it
 * (the ring's event indices), and with poll_us set the thread looks at
 * the ring for that long before it sleeps.
 */
#include <linux/dma-fence.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"
#include "vgpuif_back.h"

/* Maps one guest page and copies it into (@write) or out of @bo. */
static int vgpu_xen_bo_io(void *priv, struct vgpu_bo *bo,
			  const struct vgpuif_bo_io *io, bool write)
{
	struct vgpu_xen_be *be = priv;
	unsigned long va = (unsigned long)pfn_to_kaddr(page_to_pfn(be->io_page));
	u32 flags = GNTMAP_host_map | (write ? GNTMAP_readonly : 0);
	struct gnttab_unmap_grant_ref unmap;
	struct gnttab_map_grant_ref map;
	int ret;

	gnttab_set_map_op(&map, va, flags, io->gref, be->domid);
	ret = gnttab_map_refs(&map, NULL, &be->io_page, 1);
	if (ret || map.status != GNTST_okay) {
		dev_dbg_ratelimited(&be->dev->dev, "grant %u: map status %d\n",
				    io->gref, map.status);
		return -EFAULT;
	}
	atomic64_inc(&be->stats.grant_maps);
	if (write)
		memcpy((u8 *)bo->backing.vaddr + io->offset, (void *)va,
		       io->length);
	else
		memcpy((void *)va, (u8 *)bo->backing.vaddr + io->offset,
		       io->length);
	atomic64_add(io->length, &be->stats.bytes_copied);
	gnttab_set_unmap_op(&unmap, va, flags, map.handle);
	WARN_ON(gnttab_unmap_refs(&unmap, NULL, &be->io_page, 1));
	atomic64_inc(&be->stats.grant_unmaps);
	return 0;
}

/* Waits for a naive SUBMIT's job, looking for a stop often. */
static int vgpu_xen_wait(void *priv, struct dma_fence *fence)
{
	/* Teardown waits for this thread: it must notice kthread_stop(). */
	while (dma_fence_wait_timeout(fence, false, HZ / 10) == 0)
		if (kthread_should_stop())
			return -ECANCELED;
	return 0;
}

static void vgpu_xen_notify(struct vgpu_xen_be *be)
{
	notify_remote_via_irq(be->irq);
	atomic64_inc(&be->stats.notify_out);
}

/*
 * Puts @rsp on the ring; naive mode pushes and notifies every response.
 * Caller holds be->rsp_lock.
 */
static void vgpu_xen_respond(struct vgpu_xen_be *be,
			     const struct vgpuif_response *rsp)
{
	lockdep_assert_held(&be->rsp_lock);

	*RING_GET_RESPONSE(&be->ring, be->ring.rsp_prod_pvt) = *rsp;
	be->ring.rsp_prod_pvt++;
	atomic64_inc(&be->stats.responses);
	if (be->hp)
		return;		/* pushed by vgpu_xen_push() */
	RING_PUSH_RESPONSES(&be->ring);
	vgpu_xen_notify(be);
}

/* hp mode: publishes the responses, notifying only if asked to. */
static void vgpu_xen_push(struct vgpu_xen_be *be)
{
	int notify;

	if (!be->hp)
		return;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&be->ring, notify);
	if (notify)
		vgpu_xen_notify(be);
}

/**
 * struct vgpu_xen_async - a SUBMIT_ASYNC waiting for its job
 * @node: in be->async_wait (be->rsp_lock)
 * @cb: on the job's fence
 * @be: the device
 * @fence: the job's fence (a reference)
 * @id: the request's id
 * @seqno: the job's number
 */
struct vgpu_xen_async {
	struct list_head node;
	struct dma_fence_cb cb;
	struct vgpu_xen_be *be;
	struct dma_fence *fence;
	u64 id;
	u64 seqno;
};

/*
 * The job has finished: answer now, from the signalling context, as
 * xen-blkback answers from its bio completion.  A ring thread that
 * stopped for want of a response slot gets one and is woken.
 */
static void vgpu_xen_async_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct vgpu_xen_async *a = container_of(cb, struct vgpu_xen_async, cb);
	struct vgpu_xen_be *be = a->be;
	struct vgpuif_response rsp;
	unsigned long flags;
	bool waiting;

	/* Called under fence->lock: no dma_fence_get_status() here. */
	vgpuif_back_async_response(a->id, fence->error, a->seqno, &rsp);
	if (rsp.status)
		atomic64_inc(&be->stats.errors);
	spin_lock_irqsave(&be->rsp_lock, flags);
	list_del_init(&a->node);
	vgpu_xen_respond(be, &rsp);
	vgpu_xen_push(be);
	waiting = RING_HAS_UNCONSUMED_REQUESTS(&be->ring);
	spin_unlock_irqrestore(&be->rsp_lock, flags);
	if (waiting) {
		WRITE_ONCE(be->pending, true);
		wake_up(&be->wq);
	}
	dma_fence_put(a->fence);	/* the signaller holds its own */
	kfree(a);
}

/*
 * At most one ring of these exists per connection: each stands for a
 * request consumed and not yet answered, and the ring server consumes no
 * request without a free response slot.
 */
static int vgpu_xen_complete_later(void *priv, u64 id, struct dma_fence *fence,
				   u64 seqno)
{
	struct vgpu_xen_be *be = priv;
	struct vgpu_xen_async *a = kmalloc(sizeof(*a), VGPU_GFP_CLIENT);

	if (!a) {
		dma_fence_put(fence);
		return -ENOMEM;
	}
	a->be = be;
	a->fence = fence;
	a->id = id;
	a->seqno = seqno;
	spin_lock_irq(&be->rsp_lock);
	list_add_tail(&a->node, &be->async_wait);
	spin_unlock_irq(&be->rsp_lock);
	if (dma_fence_add_callback(fence, &a->cb, vgpu_xen_async_cb))
		vgpu_xen_async_cb(fence, &a->cb);	/* already signalled */
	return 0;
}

/**
 * vgpu_xen_async_cancel() - forget every SUBMIT_ASYNC of a connection
 * @be: the device, its ring thread stopped, its event channel still bound
 *
 * Their jobs are the client's, cancelled with it; no answer is sent.
 * Once this returns, no fence callback touches the ring.
 */
void vgpu_xen_async_cancel(struct vgpu_xen_be *be)
{
	struct vgpu_xen_async *a;

	spin_lock_irq(&be->rsp_lock);
	while ((a = list_first_entry_or_null(&be->async_wait,
					     struct vgpu_xen_async, node))) {
		list_del_init(&a->node);
		spin_unlock_irq(&be->rsp_lock);
		/*
		 * False: the callback is running or ran; it answers and
		 * frees, and dma_fence_remove_callback() waited for it.
		 */
		if (dma_fence_remove_callback(a->fence, &a->cb)) {
			dma_fence_put(a->fence);
			kfree(a);
		}
		spin_lock_irq(&be->rsp_lock);
	}
	spin_unlock_irq(&be->rsp_lock);
}

/* Is @gref one of the ring's pages?  Constant while the thread runs. */
static bool vgpu_xen_ring_gref(void *priv, u32 gref)
{
	struct vgpu_xen_be *be = priv;
	unsigned int i;

	for (i = 0; i < be->nr_ring_refs; i++)
		if (be->ring_refs[i] == gref)
			return true;
	return false;
}

static const struct vgpuif_back_ops vgpu_xen_back_ops = {
	.bo_io = vgpu_xen_bo_io,
	.wait = vgpu_xen_wait,
	.copy_in = vgpu_xen_copy_in,
	.map_pages = vgpu_xen_map_pages,
	.granted_ops = &vgpu_xen_granted_ops,
	.complete_later = vgpu_xen_complete_later,
	.ring_gref = vgpu_xen_ring_gref,
};

/* Return: true when @rsp is to be sent now. */
static bool vgpu_xen_handle(struct vgpu_xen_be *be,
			    const struct vgpuif_request *req,
			    struct vgpuif_response *rsp)
{
	int ret = vgpuif_back_handle(be->client, be->hp, &vgpu_xen_back_ops,
				     be, req, rsp);

	if (ret == VGPUIF_BACK_LATER)
		return false;
	if (ret) {
		atomic64_inc(&be->stats.errors);
		dev_dbg_ratelimited(&be->dev->dev, "%s: %d\n",
				    vgpuif_op_name(req->operation), ret);
	}
	return true;
}

/*
 * Serves at most VGPU_XEN_BATCH requests.  Returns how many, or -EPROTO
 * when the frontend moved its producer index more than a ring ahead;
 * *@more tells whether requests are left.
 */
static int vgpu_xen_serve_batch(struct vgpu_xen_be *be, bool *more)
{
	struct vgpuif_request req;
	struct vgpuif_response rsp;
	int served = 0, left;
	RING_IDX rc, rp;

	rc = be->ring.req_cons;
	rp = READ_ONCE(be->ring.sring->req_prod);
	virt_rmb();	/* see requests up to rp */
	if (RING_REQUEST_PROD_OVERFLOW(&be->ring, rp))
		return -EPROTO;
	while (rc != rp && served < VGPU_XEN_BATCH) {
		/*
		 * No response slot: a ring of SUBMIT_ASYNC requests waits
		 * for its jobs.  Sleep; a job's end wakes this thread.
		 */
		if (RING_REQUEST_CONS_OVERFLOW(&be->ring, rc)) {
			*more = false;
			return served;
		}
		RING_COPY_REQUEST(&be->ring, rc, &req);
		be->ring.req_cons = ++rc;
		atomic64_inc(&be->stats.requests);
		if (vgpu_xen_handle(be, &req, &rsp)) {
			spin_lock_irq(&be->rsp_lock);
			vgpu_xen_respond(be, &rsp);
			spin_unlock_irq(&be->rsp_lock);
		}
		served++;
	}
	spin_lock_irq(&be->rsp_lock);
	vgpu_xen_push(be);
	spin_unlock_irq(&be->rsp_lock);
	/* Notifications are re-armed only before sleeping (vgpu_xen_poll()). */
	left = RING_HAS_UNCONSUMED_REQUESTS(&be->ring);
	*more = left;
	return served;
}

irqreturn_t vgpu_xen_irq(int irq, void *arg)
{
	struct vgpu_xen_be *be = arg;

	atomic64_inc(&be->stats.notify_in);
	WRITE_ONCE(be->eoi_owed, true);
	WRITE_ONCE(be->pending, true);
	wake_up(&be->wq);
	return IRQ_HANDLED;
}

/*
 * Before the thread sleeps.  hp mode with poll_us: look at the ring for
 * that long first, so that the guest's next request needs no
 * notification (the ring's req_event is not armed meanwhile).  Then arm
 * it, and look once more: a request that came in between is served now.
 */
static void vgpu_xen_poll(struct vgpu_xen_be *be)
{
	unsigned int us = READ_ONCE(vgpu_xen_poll_us);
	int more;
	u64 end;

	if (be->broken || READ_ONCE(be->pending))
		return;
	if (be->hp && us) {
		end = ktime_get_ns() + (u64)us * NSEC_PER_USEC;
		while (!READ_ONCE(be->pending) && !kthread_should_stop() &&
		       ktime_get_ns() < end) {
			if (RING_HAS_UNCONSUMED_REQUESTS(&be->ring)) {
				WRITE_ONCE(be->pending, true);
				return;
			}
			cond_resched();
			cpu_relax();
		}
	}
	RING_FINAL_CHECK_FOR_REQUESTS(&be->ring, more);
	if (more)
		WRITE_ONCE(be->pending, true);
}

/**
 * vgpu_xen_ring_thread() - the ring server of one connection
 * @arg: the backend device
 *
 * Return: 0, when kthread_stop() asks.
 */
int vgpu_xen_ring_thread(void *arg)
{
	struct vgpu_xen_be *be = arg;

	while (!kthread_should_stop()) {
		unsigned int eoi = XEN_EOI_FLAG_SPURIOUS;
		bool more = false;
		int n;

		vgpu_xen_poll(be);
		wait_event_interruptible(be->wq, READ_ONCE(be->pending) ||
					 kthread_should_stop());
		if (kthread_should_stop())
			break;
		WRITE_ONCE(be->pending, false);
		do {
			if (be->broken)
				break;
			n = vgpu_xen_serve_batch(be, &more);
			if (n < 0) {
				be->broken = true;
				vgpu_xen_violation(be, n, "ring overflow");
				break;
			}
			if (n)
				eoi = 0;
			cond_resched();
		} while (more && !kthread_should_stop());
		/* Only an event that came is acknowledged (not a job's end). */
		if (xchg(&be->eoi_owed, false))
			xen_irq_lateeoi(be->irq, eoi);
	}
	return 0;
}
