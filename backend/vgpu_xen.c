// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen.c - vgpu-back's Xen transport: a xenbus backend for device
 * type "vgpu" that serves one guest's ring (protocol: common/vgpuif.h).
 *
 * Each connection is one client of the vGPU core, with its own kernel
 * thread.  The request path is xen-blkback's: the producer index is read
 * once, an index more than a ring ahead disconnects the guest, each
 * request is copied off the shared page before anything looks at it, and
 * only the private copy is checked and used.  Naive mode maps a guest
 * page for exactly one request and unmaps it before answering.
 */
#include <linux/debugfs.h>
#include <linux/dma-fence.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"
#include "../common/vgpuif.h"

/* Per-connection counters, read by vgpuctl through debugfs. */
struct vgpu_xen_stats {
	atomic64_t requests;
	atomic64_t responses;
	atomic64_t errors;
	atomic64_t notify_in;
	atomic64_t notify_out;
	atomic64_t grant_maps;
	atomic64_t grant_unmaps;
	atomic64_t bytes_copied;
};

struct vgpu_xen_be {
	struct xenbus_device *dev;
	domid_t domid;
	struct vgpu_client *client;
	struct vgpuif_back_ring ring;
	void *ring_va;
	int irq;
	struct task_struct *thread;
	wait_queue_head_t wq;		/* the thread waits for events here */
	bool pending;			/* event received, not yet served */
	bool broken;			/* ring corrupted: serve nothing more */
	struct page *io_page;		/* where guest pages are mapped */
	struct vgpu_xen_stats stats;
	struct list_head node;		/* in vgpu_xen_conns */
};

/* Protects vgpu_xen_conns and the connection state of every backend. */
static DEFINE_MUTEX(vgpu_xen_lock);
static LIST_HEAD(vgpu_xen_conns);

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
	u64 end;
	int ret;

	bo = vgpu_bo_lookup(be->client, io->handle);
	if (!bo)
		return -ENOENT;
	ret = -EINVAL;
	if (bo->domain != DRM_VGPU_DOMAIN_HOST ||
	    check_add_overflow(io->offset, (u64)io->length, &end) ||
	    end > bo->size)
		goto out;

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
	while (dma_fence_wait_timeout(fence, false, HZ) == 0) {
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

/* Serves every request on the ring; returns how many. */
static unsigned int vgpu_xen_serve(struct vgpu_xen_be *be)
{
	struct vgpuif_request req;
	struct vgpuif_response rsp;
	unsigned int served = 0;
	RING_IDX rc, rp;
	int more;

	do {
		rc = be->ring.req_cons;
		rp = READ_ONCE(be->ring.sring->req_prod);
		virt_rmb();	/* see requests up to rp */
		if (RING_REQUEST_PROD_OVERFLOW(&be->ring, rp)) {
			be->broken = true;
			xenbus_dev_fatal(be->dev, -EACCES,
					 "ring overflow: req_prod %u, req_cons %u, size %u",
					 rp, rc, RING_SIZE(&be->ring));
			return served;
		}
		while (rc != rp && !kthread_should_stop()) {
			if (RING_REQUEST_CONS_OVERFLOW(&be->ring, rc))
				break;
			RING_COPY_REQUEST(&be->ring, rc, &req);
			be->ring.req_cons = ++rc;
			atomic64_inc(&be->stats.requests);
			vgpu_xen_handle(be, &req, &rsp);
			vgpu_xen_respond(be, &rsp);
			served++;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&be->ring, more);
	} while (more && !kthread_should_stop());
	return served;
}

static irqreturn_t vgpu_xen_irq(int irq, void *arg)
{
	struct vgpu_xen_be *be = arg;

	atomic64_inc(&be->stats.notify_in);
	WRITE_ONCE(be->pending, true);
	wake_up(&be->wq);
	return IRQ_HANDLED;
}

static int vgpu_xen_thread(void *arg)
{
	struct vgpu_xen_be *be = arg;

	while (!kthread_should_stop()) {
		unsigned int eoi = XEN_EOI_FLAG_SPURIOUS;

		wait_event_interruptible(be->wq, READ_ONCE(be->pending) ||
					 kthread_should_stop());
		if (kthread_should_stop())
			break;
		WRITE_ONCE(be->pending, false);
		if (!be->broken && vgpu_xen_serve(be))
			eoi = 0;
		xen_irq_lateeoi(be->irq, eoi);
	}
	return 0;
}

/* Tears down a connection; the backend device itself stays. */
static void vgpu_xen_disconnect(struct vgpu_xen_be *be)
{
	if (be->thread) {
		kthread_stop(be->thread);
		be->thread = NULL;
	}
	if (be->irq) {
		unbind_from_irqhandler(be->irq, be);
		be->irq = 0;
	}
	if (be->client) {
		vgpu_client_destroy(be->client);
		be->client = NULL;
	}
	if (be->ring_va) {
		xenbus_unmap_ring_vfree(be->dev, be->ring_va);
		be->ring_va = NULL;
	}
	if (be->io_page) {
		gnttab_free_pages(1, &be->io_page);
		be->io_page = NULL;
	}
	be->broken = false;
	be->pending = false;
}

static void vgpu_xen_read_quotas(struct vgpu_xen_be *be)
{
	struct vgpu_quota *q = &be->client->quota;
	const char *dir = be->dev->nodename;

	q->devmem = (u64)xenbus_read_unsigned(dir, "quota-devmem-mb",
					      q->devmem >> 20) << 20;
	q->hostmem = (u64)xenbus_read_unsigned(dir, "quota-hostmem-mb",
					       q->hostmem >> 20) << 20;
	q->contexts = xenbus_read_unsigned(dir, "quota-contexts", q->contexts);
	q->objects = xenbus_read_unsigned(dir, "quota-objects", q->objects);
}

static int vgpu_xen_connect(struct vgpu_xen_be *be)
{
	struct xenbus_device *dev = be->dev;
	unsigned int ring_ref, evtchn, version;
	char name[48], *mode;
	int ret;

	version = xenbus_read_unsigned(dev->otherend, "protocol-version", 0);
	if (version != VGPUIF_PROTOCOL_VERSION) {
		xenbus_dev_fatal(dev, -EPROTO, "protocol-version %u unsupported",
				 version);
		return -EPROTO;
	}
	mode = xenbus_read(XBT_NIL, dev->otherend, "mode", NULL);
	if (IS_ERR(mode) || strcmp(mode, VGPUIF_MODE_NAIVE)) {
		xenbus_dev_fatal(dev, -EOPNOTSUPP, "mode %s unsupported",
				 IS_ERR(mode) ? "(none)" : mode);
		if (!IS_ERR(mode))
			kfree(mode);
		return -EOPNOTSUPP;
	}
	kfree(mode);
	ret = xenbus_gather(XBT_NIL, dev->otherend, "ring-ref", "%u", &ring_ref,
			    "event-channel", "%u", &evtchn, NULL);
	if (ret) {
		xenbus_dev_fatal(dev, ret, "reading ring-ref and event-channel");
		return ret;
	}

	snprintf(name, sizeof(name), "dom%u", be->domid);
	be->client = vgpu_client_create(name);
	if (IS_ERR(be->client)) {
		ret = PTR_ERR(be->client);
		be->client = NULL;
		xenbus_dev_fatal(dev, ret, "no vGPU engine");
		return ret;
	}
	vgpu_xen_read_quotas(be);
	ret = gnttab_alloc_pages(1, &be->io_page);
	if (ret) {
		be->io_page = NULL;
		goto err;
	}
	ret = xenbus_map_ring_valloc(dev, &ring_ref, 1, &be->ring_va);
	if (ret)
		goto err;
	BACK_RING_INIT(&be->ring, (struct vgpuif_sring *)be->ring_va,
		       XEN_PAGE_SIZE);
	ret = bind_interdomain_evtchn_to_irqhandler_lateeoi(dev, evtchn,
							    vgpu_xen_irq, 0,
							    "vgpu-back", be);
	if (ret < 0)
		goto err;
	be->irq = ret;
	be->thread = kthread_run(vgpu_xen_thread, be, "vgpu-dom%u", be->domid);
	if (IS_ERR(be->thread)) {
		ret = PTR_ERR(be->thread);
		be->thread = NULL;
		goto err;
	}
	dev_info(&dev->dev, "domain %u connected, naive mode\n", be->domid);
	return 0;

err:
	xenbus_dev_fatal(dev, ret, "connecting the ring");
	vgpu_xen_disconnect(be);
	return ret;
}

static int vgpu_xen_probe(struct xenbus_device *dev,
			  const struct xenbus_device_id *id)
{
	struct vgpu_xen_be *be = kzalloc(sizeof(*be), GFP_KERNEL);
	int ret;

	if (!be)
		return -ENOMEM;
	be->dev = dev;
	be->domid = dev->otherend_id;
	init_waitqueue_head(&be->wq);
	dev_set_drvdata(&dev->dev, be);
	ret = xenbus_printf(XBT_NIL, dev->nodename, "protocol-versions", "%u",
			    VGPUIF_PROTOCOL_VERSION);
	if (!ret)
		ret = xenbus_printf(XBT_NIL, dev->nodename,
				    "max-ring-page-order", "%u", 0);
	if (!ret)
		ret = xenbus_switch_state(dev, XenbusStateInitWait);
	if (ret) {
		kfree(be);
		return ret;
	}
	mutex_lock(&vgpu_xen_lock);
	list_add_tail(&be->node, &vgpu_xen_conns);
	mutex_unlock(&vgpu_xen_lock);
	return 0;
}

static void vgpu_xen_frontend_changed(struct xenbus_device *dev,
				      enum xenbus_state state)
{
	struct vgpu_xen_be *be = dev_get_drvdata(&dev->dev);

	mutex_lock(&vgpu_xen_lock);
	switch (state) {
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (be->client || dev->state == XenbusStateConnected)
			break;
		if (!vgpu_xen_connect(be))
			xenbus_switch_state(dev, XenbusStateConnected);
		break;
	case XenbusStateClosing:
		vgpu_xen_disconnect(be);
		xenbus_switch_state(dev, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		vgpu_xen_disconnect(be);
		xenbus_switch_state(dev, XenbusStateClosed);
		if (xenbus_dev_is_online(dev)) {
			/* Ready for the frontend to connect again. */
			xenbus_switch_state(dev, XenbusStateInitWait);
			break;
		}
		fallthrough;
	case XenbusStateUnknown:
		vgpu_xen_disconnect(be);
		mutex_unlock(&vgpu_xen_lock);
		device_unregister(&dev->dev);
		return;
	default:
		break;
	}
	mutex_unlock(&vgpu_xen_lock);
}

static void vgpu_xen_remove(struct xenbus_device *dev)
{
	struct vgpu_xen_be *be = dev_get_drvdata(&dev->dev);

	mutex_lock(&vgpu_xen_lock);
	vgpu_xen_disconnect(be);
	list_del(&be->node);
	mutex_unlock(&vgpu_xen_lock);
	/* Tell a frontend that is still there (backend unload). */
	xenbus_switch_state(dev, XenbusStateClosed);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(be);
}

static const struct xenbus_device_id vgpu_xen_ids[] = {
	{ XENBUS_DEVICE_TYPE_VGPU },
	{ "" }
};

static struct xenbus_driver vgpu_xen_driver = {
	.ids = vgpu_xen_ids,
	.probe = vgpu_xen_probe,
	.otherend_changed = vgpu_xen_frontend_changed,
	.remove = vgpu_xen_remove,
};

/**
 * vgpu_xen_show() - one line per guest connection, for debugfs
 * @m: seq_file
 * @unused: unused
 *
 * Return: 0.
 */
int vgpu_xen_show(struct seq_file *m, void *unused)
{
	struct vgpu_xen_be *be;

	seq_puts(m, "domid state requests responses errors notify_in notify_out grant_maps grant_unmaps grants_mapped bytes_copied objects busy_ns\n");
	mutex_lock(&vgpu_xen_lock);
	list_for_each_entry(be, &vgpu_xen_conns, node) {
		const struct vgpu_xen_stats *s = &be->stats;
		s64 maps = atomic64_read(&s->grant_maps);
		s64 unmaps = atomic64_read(&s->grant_unmaps);

		seq_printf(m, "%u %s %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld\n",
			   be->domid, xenbus_strstate(be->dev->state),
			   atomic64_read(&s->requests),
			   atomic64_read(&s->responses),
			   atomic64_read(&s->errors),
			   atomic64_read(&s->notify_in),
			   atomic64_read(&s->notify_out), maps, unmaps,
			   maps - unmaps, atomic64_read(&s->bytes_copied),
			   be->client ? atomic64_read(&be->client->stats.objects) : 0,
			   be->client ? atomic64_read(&be->client->stats.busy_ns) : 0);
	}
	mutex_unlock(&vgpu_xen_lock);
	return 0;
}

int vgpu_xen_init(void)
{
	if (!xen_domain())
		return 0;
	return xenbus_register_backend(&vgpu_xen_driver);
}

void vgpu_xen_fini(void)
{
	if (xen_domain())
		xenbus_unregister_driver(&vgpu_xen_driver);
}
