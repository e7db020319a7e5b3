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
 */
#include <linux/dma-fence.h>
#include <linux/kthread.h>
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

static const struct vgpuif_back_ops vgpu_xen_back_ops = {
	.bo_io = vgpu_xen_bo_io,
	.wait = vgpu_xen_wait,
};

static void vgpu_xen_handle(struct vgpu_xen_be *be,
			    const struct vgpuif_request *req,
			    struct vgpuif_response *rsp)
{
	int ret = vgpuif_back_handle(be->client, &vgpu_xen_back_ops, be, req,
				     rsp);

	if (ret) {
		atomic64_inc(&be->stats.errors);
		dev_dbg_ratelimited(&be->dev->dev, "%s: %d\n",
				    vgpuif_op_name(req->operation), ret);
	}
}

static void vgpu_xen_respond(struct vgpu_xen_be *be,
			     const struct vgpuif_response *rsp)
{
	*RING_GET_RESPONSE(&be->ring, be->ring.rsp_prod_pvt) = *rsp;
	be->ring.rsp_prod_pvt++;
	RING_PUSH_RESPONSES(&be->ring);
	atomic64_inc(&be->stats.responses);
	/* Naive mode notifies every response, whatever rsp_event says. */
	notify_remote_via_irq(be->irq);
	atomic64_inc(&be->stats.notify_out);
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
		if (RING_REQUEST_CONS_OVERFLOW(&be->ring, rc))
			break;
		RING_COPY_REQUEST(&be->ring, rc, &req);
		be->ring.req_cons = ++rc;
		atomic64_inc(&be->stats.requests);
		vgpu_xen_handle(be, &req, &rsp);
		vgpu_xen_respond(be, &rsp);
		served++;
	}
	RING_FINAL_CHECK_FOR_REQUESTS(&be->ring, left);
	*more = left;
	return served;
}

irqreturn_t vgpu_xen_irq(int irq, void *arg)
{
	struct vgpu_xen_be *be = arg;

	atomic64_inc(&be->stats.notify_in);
	WRITE_ONCE(be->pending, true);
	wake_up(&be->wq);
	return IRQ_HANDLED;
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
		xen_irq_lateeoi(be->irq, eoi);
	}
	return 0;
}
