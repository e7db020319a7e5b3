// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen_ring.c - vgpu-back's ring server: one kernel thread per guest
 * connection takes requests off the shared ring (protocol:
 * common/vgpuif.h), decodes them and calls the core's vgpu_op_*().
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

/* Host-domain objects of a guest in naive mode: dom0 memory. */
static void vgpu_xen_host_release(void *priv)
{
	vfree(priv);
}

static const struct vgpu_host_mem_ops vgpu_xen_host_ops = {
	.release = vgpu_xen_host_release,
};

/* Only codes the protocol defines cross the ring. */
static int vgpu_xen_status(int err)
{
	switch (err) {
	case 0:
	case -ENOENT:
	case -EIO:
	case -ENOMEM:
	case -EFAULT:
	case -EEXIST:
	case -EINVAL:
	case -ENOSPC:
	case -EOPNOTSUPP:
	case -ETIMEDOUT:
	case -EDQUOT:
	case -ECANCELED:
		return err;
	default:
		return -EIO;
	}
}

static int vgpu_xen_bo_create(struct vgpu_xen_be *be,
			      struct drm_vgpu_bo_create *a)
{
	struct vgpu_client *c = be->client;
	void *mem;
	u64 size;
	int ret;

	if (a->domain == DRM_VGPU_DOMAIN_DEVICE)
		return vgpu_op_bo_create_device(c, a->size, &a->handle);
	if (a->size > c->quota.hostmem)
		return -EDQUOT;
	size = PAGE_ALIGN(a->size);
	ret = vgpu_quota_reserve(c, DRM_VGPU_DOMAIN_HOST, size);
	if (ret)
		return ret;
	mem = vzalloc(size);
	if (!mem) {
		vgpu_quota_unreserve(c, DRM_VGPU_DOMAIN_HOST, size);
		return -ENOMEM;
	}
	return vgpu_op_bo_create_host(c, size, mem, NULL, &vgpu_xen_host_ops,
				      mem, &a->handle);
}

/* Copies one guest page into (@write) or out of a host-domain object. */
static int vgpu_xen_bo_io(struct vgpu_xen_be *be,
			  const struct vgpuif_bo_io *io, bool write)
{
	unsigned long va = (unsigned long)pfn_to_kaddr(page_to_pfn(be->io_page));
	u32 flags = GNTMAP_host_map | (write ? GNTMAP_readonly : 0);
	struct gnttab_unmap_grant_ref unmap;
	struct gnttab_map_grant_ref map;
	struct vgpu_bo *bo;
	int ret;

	ret = vgpu_op_bo_host_range(be->client, io->handle, io->offset,
				    io->length, &bo);
	if (ret)
		return ret;
	gnttab_set_map_op(&map, va, flags, io->gref, be->domid);
	ret = gnttab_map_refs(&map, NULL, &be->io_page, 1);
	if (ret || map.status != GNTST_okay) {
		dev_dbg_ratelimited(&be->dev->dev, "grant %u: map status %d\n",
				    io->gref, map.status);
		ret = -EFAULT;
		goto out;
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
	ret = 0;
out:
	vgpu_bo_put(bo);
	return ret;
}

/* Naive mode: one command, answered once it has run. */
static int vgpu_xen_submit(struct vgpu_xen_be *be,
			   const struct vgpuif_submit *s,
			   struct vgpuif_submit_rsp *rsp)
{
	struct drm_vgpu_cmd *cmd = kvmalloc(sizeof(*cmd), GFP_KERNEL);
	struct dma_fence *fence;
	u64 seqno;
	int ret;

	if (!cmd)
		return -ENOMEM;
	*cmd = s->cmd;
	ret = vgpu_op_submit(be->client, s->ctx_id, cmd, 1, NULL, 0, &fence,
			     &seqno);
	if (ret) {
		kvfree(cmd);
		return ret;
	}
	rsp->seqno = seqno;
	/* Looks for a stop often: teardown waits for this thread. */
	while (dma_fence_wait_timeout(fence, false, HZ / 10) == 0) {
		if (kthread_should_stop()) {
			dma_fence_put(fence);
			return -ECANCELED;
		}
	}
	ret = dma_fence_get_status(fence);
	dma_fence_put(fence);
	return ret < 0 ? ret : 0;
}

static void vgpu_xen_handle(struct vgpu_xen_be *be,
			    const struct vgpuif_request *req,
			    struct vgpuif_response *rsp)
{
	struct vgpu_client *c = be->client;
	u32 done;
	int ret;

	memset(rsp, 0, sizeof(*rsp));
	rsp->id = req->id;
	rsp->operation = req->operation;
	ret = vgpuif_check_request(req);
	if (ret)
		goto out;

	switch (req->operation) {
	case VGPUIF_OP_GET_INFO:
		vgpu_op_info(c, DRM_VGPU_MODE_NAIVE, &rsp->u.info);
		break;
	case VGPUIF_OP_CTX_CREATE:
		rsp->u.ctx_create = req->u.ctx_create;
		ret = vgpu_op_ctx_create(c, &rsp->u.ctx_create);
		break;
	case VGPUIF_OP_CTX_DESTROY:
		ret = vgpu_op_ctx_destroy(c, &req->u.ctx_destroy);
		break;
	case VGPUIF_OP_CTX_STATUS:
		rsp->u.ctx_status = req->u.ctx_status;
		ret = vgpu_op_ctx_status(c, &rsp->u.ctx_status);
		break;
	case VGPUIF_OP_BO_CREATE:
		rsp->u.bo_create = req->u.bo_create;
		ret = vgpu_xen_bo_create(be, &rsp->u.bo_create);
		break;
	case VGPUIF_OP_BO_DESTROY:
		ret = vgpu_op_bo_destroy(c, req->u.bo_destroy.handle);
		break;
	case VGPUIF_OP_BO_WRITE:
	case VGPUIF_OP_BO_READ:
		ret = vgpu_xen_bo_io(be, &req->u.bo_io,
				     req->operation == VGPUIF_OP_BO_WRITE);
		break;
	case VGPUIF_OP_VM_BIND:
		/* Naive mode: one page per request, as the protocol says. */
		if (req->u.vm_bind.op.size != VGPUIF_PAGE_SIZE) {
			ret = -EINVAL;
			break;
		}
		ret = vgpu_op_vm_bind(c, req->u.vm_bind.ctx_id,
				      &req->u.vm_bind.op, 1, &done);
		break;
	case VGPUIF_OP_SUBMIT:
		ret = vgpu_xen_submit(be, &req->u.submit, &rsp->u.submit);
		break;
	}
out:
	rsp->status = vgpu_xen_status(ret);
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
