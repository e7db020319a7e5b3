// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_hostile.c - a misbehaving vgpu frontend, for the test bed only.
 *
 * It connects to vgpu-back like vgpu-front, then writes crafted requests
 * straight onto the ring and checks that each gets the answer
 * common/vgpuif.h documents, ending with a producer index that overflows
 * the ring, which must make the backend disconnect.  Results go to the
 * console as "HOSTILE ..." lines.  Never installed.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "../../common/vgpuif.h"

struct hostile {
	struct xenbus_device *dev;
	struct vgpuif_front_ring ring;
	void *ring_va;
	grant_ref_t ring_ref;
	int irq;
	wait_queue_head_t wq;
	u64 next_id;
	struct work_struct work;
	int tried, documented;
	struct page *page;	/* a page to grant */
};

static irqreturn_t hostile_irq(int irq, void *arg)
{
	wake_up(&((struct hostile *)arg)->wq);
	return IRQ_HANDLED;
}

/* Puts @n copies of @req on the ring, then collects the @n answers. */
static int hostile_send_n(struct hostile *h, struct vgpuif_request *req,
			  unsigned int n, int *status)
{
	unsigned int i, got = 0;

	for (i = 0; i < n; i++) {
		req->id = ++h->next_id;
		*RING_GET_REQUEST(&h->ring, h->ring.req_prod_pvt) = *req;
		h->ring.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&h->ring);
	notify_remote_via_irq(h->irq);
	while (got < n) {
		RING_IDX rp;

		if (!wait_event_timeout(h->wq, h->ring.sring->rsp_prod !=
					h->ring.rsp_cons, 10 * HZ))
			return -ETIMEDOUT;
		rp = READ_ONCE(h->ring.sring->rsp_prod);
		virt_rmb();	/* see responses up to rp */
		for (; h->ring.rsp_cons != rp; h->ring.rsp_cons++, got++)
			*status = RING_GET_RESPONSE(&h->ring,
						    h->ring.rsp_cons)->status;
	}
	return 0;
}

static int hostile_send(struct hostile *h, struct vgpuif_request *req)
{
	int status = 1, ret = hostile_send_n(h, req, 1, &status);

	return ret ? ret : status;
}

static void hostile_expect(struct hostile *h, const char *name,
			   struct vgpuif_request *req, int want)
{
	int got = hostile_send(h, req);

	h->tried++;
	if (got == want)
		h->documented++;
	pr_info("HOSTILE case %-40s answer %4d expected %4d %s\n", name, got,
		want, got == want ? "ok" : "WRONG");
}

#define REQ(name, op) struct vgpuif_request name = { .operation = (op) }

static void hostile_run(struct work_struct *work)
{
	struct hostile *h = container_of(work, struct hostile, work);
	unsigned int ctx = 0, bo = 0, hbo = 0, i;
	int status, gref;

	{
		REQ(r, VGPUIF_OP_CTX_CREATE);
		REQ(b, VGPUIF_OP_BO_CREATE);

		if (hostile_send(h, &r) == 0)
			ctx = 1;
		b.u.bo_create.size = 65536;
		b.u.bo_create.domain = DRM_VGPU_DOMAIN_DEVICE;
		if (hostile_send(h, &b) == 0)
			bo = 1;
		b.u.bo_create.domain = DRM_VGPU_DOMAIN_HOST;
		if (hostile_send(h, &b) == 0)
			hbo = 2;
		pr_info("HOSTILE setup: context %u, device object %u, host object %u\n",
			ctx, bo, hbo);
	}
	{
		REQ(r, 0);

		hostile_expect(h, "opcode 0", &r, VGPUIF_EOPNOTSUPP);
		r.operation = 200;
		hostile_expect(h, "opcode 200", &r, VGPUIF_EOPNOTSUPP);
	}
	{
		REQ(r, VGPUIF_OP_GET_INFO);

		r.reserved[2] = 0x5a;
		hostile_expect(h, "reserved header octet", &r, VGPUIF_EINVAL);
		r.reserved[2] = 0;
		r.u.raw[100] = 1;
		hostile_expect(h, "payload octet get-info does not use", &r,
			       VGPUIF_EINVAL);
	}
	{
		REQ(r, VGPUIF_OP_CTX_CREATE);

		r.u.ctx_create.pad = 7;
		hostile_expect(h, "ctx-create padding", &r, VGPUIF_EINVAL);
	}
	{
		REQ(r, VGPUIF_OP_CTX_DESTROY);

		r.u.ctx_destroy.ctx_id = 0x7fffffff;
		hostile_expect(h, "context id never created", &r, VGPUIF_ENOENT);
		r.u.ctx_destroy.ctx_id = ctx + 1;	/* the honest client has one */
		hostile_expect(h, "another client's context id", &r,
			       VGPUIF_ENOENT);
	}
	{
		REQ(r, VGPUIF_OP_BO_DESTROY);

		r.u.bo_destroy.handle = 0x7ffffffe;
		hostile_expect(h, "handle never created", &r, VGPUIF_ENOENT);
		r.u.bo_destroy.handle = 3;	/* the honest client's numbering */
		hostile_expect(h, "another client's handle", &r, VGPUIF_ENOENT);
	}
	{
		REQ(r, VGPUIF_OP_BO_CREATE);

		r.u.bo_create.size = ~0ULL;
		r.u.bo_create.domain = DRM_VGPU_DOMAIN_DEVICE;
		hostile_expect(h, "object of 2^64-1 bytes", &r, VGPUIF_EDQUOT);
		r.u.bo_create.size = ~0ULL - 100;
		r.u.bo_create.domain = DRM_VGPU_DOMAIN_HOST;
		hostile_expect(h, "host object that wraps when aligned", &r,
			       VGPUIF_EDQUOT);
	}
	{
		REQ(r, VGPUIF_OP_VM_BIND);

		r.u.vm_bind.ctx_id = ctx;
		r.u.vm_bind.op.op = DRM_VGPU_BIND_MAP;
		r.u.vm_bind.op.flags = DRM_VGPU_BIND_READ;
		r.u.vm_bind.op.handle = bo;
		r.u.vm_bind.op.va = 0x100000;
		r.u.vm_bind.op.size = 0x1000;
		hostile_expect(h, "good map (control)", &r, VGPUIF_OK);
		hostile_expect(h, "map over a mapping", &r, VGPUIF_EEXIST);
		r.u.vm_bind.op.va = 0x200000;
		r.u.vm_bind.op.bo_offset = 0xfffffffffffff000ULL;
		hostile_expect(h, "object offset + size wraps 64 bits", &r,
			       VGPUIF_EINVAL);
		r.u.vm_bind.op.bo_offset = 0x10000;
		hostile_expect(h, "range beyond the object", &r, VGPUIF_EINVAL);
		r.u.vm_bind.op.bo_offset = 0;
		r.u.vm_bind.op.va = (1ULL << 40) - 0x1000;
		r.u.vm_bind.op.size = 0x2000;
		hostile_expect(h, "map past the address space", &r,
			       VGPUIF_EINVAL);
		r.u.vm_bind.op.va = 0xfffffffffffff000ULL;
		hostile_expect(h, "va + size wraps 64 bits", &r, VGPUIF_EINVAL);
		r.u.vm_bind.op.va = 0;
		r.u.vm_bind.op.size = 0x1000;
		hostile_expect(h, "map below va_start", &r, VGPUIF_EINVAL);
		r.u.vm_bind.op.va = 0x300000;
		r.u.vm_bind.op.pad = 1;
		hostile_expect(h, "bind-op padding", &r, VGPUIF_EINVAL);
		r.u.vm_bind.op.pad = 0;
		r.u.vm_bind.op.handle = 3;
		hostile_expect(h, "map another client's handle", &r,
			       VGPUIF_ENOENT);
	}
	{
		REQ(r, VGPUIF_OP_SUBMIT);

		r.u.submit.ctx_id = ctx;
		r.u.submit.cmd.op = DRM_VGPU_CMD_COPY;
		r.u.submit.cmd.src = ~0ULL - 10;
		r.u.submit.cmd.dst = 0x100000;
		r.u.submit.cmd.size = 100;
		hostile_expect(h, "copy whose source wraps", &r, VGPUIF_EINVAL);
		r.u.submit.cmd = (struct drm_vgpu_cmd){
			.op = DRM_VGPU_CMD_LAUNCH, .src = 0x100000,
			.grid = { 1, 1, 1 }, .block = { 2048, 1, 1 } };
		hostile_expect(h, "launch of 2048 threads a block", &r,
			       VGPUIF_EINVAL);
		r.u.submit.ctx_id = 0x12345;
		r.u.submit.cmd = (struct drm_vgpu_cmd){
			.op = DRM_VGPU_CMD_FILL, .dst = 0x100000, .size = 4 };
		hostile_expect(h, "submit on another's context", &r,
			       VGPUIF_ENOENT);
	}
	{
		REQ(r, VGPUIF_OP_BO_WRITE);

		r.u.bo_io.handle = hbo;
		r.u.bo_io.gref = 0xfffffff0;
		r.u.bo_io.length = 4096;
		hostile_expect(h, "grant reference that does not exist", &r,
			       VGPUIF_EFAULT);
		gref = gnttab_grant_foreign_access(h->dev->otherend_id + 7,
						   xen_page_to_gfn(h->page), 0);
		if (gref >= 0) {
			r.u.bo_io.gref = gref;
			hostile_expect(h, "grant made to another domain", &r,
				       VGPUIF_EFAULT);
			gnttab_end_foreign_access_ref(gref);
			gnttab_free_grant_reference(gref);
		}
		r.u.bo_io.gref = 8;
		r.u.bo_io.offset = 0x10000;
		hostile_expect(h, "copy beyond the object", &r, VGPUIF_EINVAL);
		r.u.bo_io.offset = 0;
		r.u.bo_io.length = 4097;
		hostile_expect(h, "copy of more than a page", &r, VGPUIF_EINVAL);
		r.u.bo_io.length = 4096;
		r.u.bo_io.handle = bo;
		hostile_expect(h, "copy into device memory", &r, VGPUIF_EINVAL);
	}
	{
		REQ(r, VGPUIF_OP_SUBMIT);
		REQ(s, VGPUIF_OP_CTX_STATUS);

		/* A GPU fault hits only this guest's own context. */
		r.u.submit.ctx_id = ctx;
		r.u.submit.cmd = (struct drm_vgpu_cmd){
			.op = DRM_VGPU_CMD_FILL, .dst = 0x700000, .size = 4 };
		hostile_expect(h, "fill of an unmapped address (GPU fault)", &r,
			       VGPUIF_EFAULT);
		hostile_expect(h, "submit on the faulted context", &r,
			       VGPUIF_EIO);
		s.u.ctx_status.ctx_id = ctx;
		hostile_expect(h, "status of the faulted context", &s, VGPUIF_OK);
	}
	{
		REQ(r, VGPUIF_OP_GET_INFO);
		unsigned int burst = RING_SIZE(&h->ring);
		int ret = 0;

		/* A flood: the ring kept full, thousands of requests. */
		for (i = 0; i < 4000 / burst && !ret; i++)
			ret = hostile_send_n(h, &r, burst, &status);
		h->tried++;
		if (!ret && status == 0)
			h->documented++;
		pr_info("HOSTILE case %-40s answer %4d expected %4d %s\n",
			"flood of 4000 requests, ring kept full", ret ? ret : status,
			0, !ret && !status ? "ok" : "WRONG");
	}
	{
		/* More requests than the ring holds: must disconnect. */
		unsigned int waited = 0;

		h->ring.sring->req_prod = h->ring.rsp_cons + RING_SIZE(&h->ring) + 5;
		notify_remote_via_irq(h->irq);
		while (waited < 100 &&
		       xenbus_read_driver_state(h->dev->otherend) !=
		       XenbusStateClosing &&
		       xenbus_read_driver_state(h->dev->otherend) !=
		       XenbusStateClosed) {
			msleep(100);
			waited++;
		}
		h->tried++;
		if (waited < 100)
			h->documented++;
		pr_info("HOSTILE case %-40s %s\n", "producer index past the ring",
			waited < 100 ? "disconnected ok" : "NOT disconnected WRONG");
	}
	pr_info("HOSTILE summary: tried %d, answered as documented %d\n",
		h->tried, h->documented);
}

static int hostile_connect(struct hostile *h)
{
	struct xenbus_device *dev = h->dev;
	evtchn_port_t evtchn;
	int ret;

	ret = xenbus_setup_ring(dev, GFP_KERNEL, &h->ring_va, 1, &h->ring_ref);
	if (ret)
		return ret;
	SHARED_RING_INIT((struct vgpuif_sring *)h->ring_va);
	FRONT_RING_INIT(&h->ring, (struct vgpuif_sring *)h->ring_va,
			XEN_PAGE_SIZE);
	ret = xenbus_alloc_evtchn(dev, &evtchn);
	if (ret)
		return ret;
	ret = bind_evtchn_to_irqhandler(evtchn, hostile_irq, 0, "vgpu-hostile",
					h);
	if (ret < 0)
		return ret;
	h->irq = ret;
	ret = xenbus_printf(XBT_NIL, dev->nodename, "ring-ref", "%u",
			    h->ring_ref);
	ret = ret ?: xenbus_printf(XBT_NIL, dev->nodename, "event-channel",
				   "%u", evtchn);
	ret = ret ?: xenbus_printf(XBT_NIL, dev->nodename, "protocol-version",
				   "%u", VGPUIF_PROTOCOL_VERSION);
	ret = ret ?: xenbus_printf(XBT_NIL, dev->nodename, "mode", "naive");
	return ret ?: xenbus_switch_state(dev, XenbusStateInitialised);
}

static void hostile_changed(struct xenbus_device *dev, enum xenbus_state state)
{
	struct hostile *h = dev_get_drvdata(&dev->dev);

	if (state == XenbusStateInitWait && dev->state == XenbusStateInitialising) {
		if (hostile_connect(h))
			pr_info("HOSTILE summary: FAIL cannot connect\n");
	} else if (state == XenbusStateConnected &&
		   dev->state == XenbusStateInitialised) {
		xenbus_switch_state(dev, XenbusStateConnected);
		schedule_work(&h->work);
	}
}

static int hostile_probe(struct xenbus_device *dev,
			 const struct xenbus_device_id *id)
{
	struct hostile *h = kzalloc(sizeof(*h), GFP_KERNEL);

	if (!h)
		return -ENOMEM;
	h->page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!h->page) {
		kfree(h);
		return -ENOMEM;
	}
	h->dev = dev;
	init_waitqueue_head(&h->wq);
	INIT_WORK(&h->work, hostile_run);
	dev_set_drvdata(&dev->dev, h);
	return 0;
}

static void hostile_remove(struct xenbus_device *dev)
{
	struct hostile *h = dev_get_drvdata(&dev->dev);

	cancel_work_sync(&h->work);
	if (h->irq)
		unbind_from_irqhandler(h->irq, h);
	if (h->ring_va)
		xenbus_teardown_ring(&h->ring_va, 1, &h->ring_ref);
	__free_page(h->page);
	kfree(h);
}

static const struct xenbus_device_id hostile_ids[] = {
	{ XENBUS_DEVICE_TYPE_VGPU },
	{ "" }
};

static struct xenbus_driver hostile_driver = {
	.ids = hostile_ids,
	.probe = hostile_probe,
	.otherend_changed = hostile_changed,
	.remove = hostile_remove,
	.not_essential = true,
};

static int __init hostile_init(void)
{
	return xen_domain() ? xenbus_register_frontend(&hostile_driver) : -ENODEV;
}

static void __exit hostile_exit(void)
{
	xenbus_unregister_driver(&hostile_driver);
}

module_init(hostile_init);
module_exit(hostile_exit);
MODULE_DESCRIPTION("GPUvm test bed: a hostile vgpu frontend (never install)");
MODULE_LICENSE("Dual MIT/GPL");
