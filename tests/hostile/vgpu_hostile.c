// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_hostile.c - a misbehaving vgpu frontend, for the test bed only.
 *
 * It drives vgpu-back's ring and XenStore keys by hand and checks that
 * every abuse gets the answer common/vgpuif.h documents:
 *
 *   A. crafted requests: bad operations, octets, handles, ranges, grants
 *      (missing, foreign, read-only for a read, already ended), naive
 *      mode's one page per VM_BIND, zeroed new memory, a full ring, a
 *      flood, requests rewritten while the backend reads them, an
 *      event-channel storm;
 *   G. GPU kernels of every fault class, and a fill and a copy over
 *      aliased mappings;
 *   E. closing with a long job running (dom0 meanwhile attaches a second
 *      device: xenwatch must not be held up by the teardown);
 *   D. 250 connect/disconnect cycles, some with jobs and object I/O
 *      queued at close;
 *   B. hangs up to a ban, and the ban surviving a reconnection;
 *   C. protocol violations (producer index going backwards, one past the
 *      ring after 10 s without notification, malformed keys) with
 *      back-off, until the backend locks the device Closed;
 *   H. (run after D, before B and C, whose ban and violations count for
 *      the whole domain) the hp mode, on device 1 (dom0 attaches it in
 *      hp mode in phase E): lying page directories and command buffers, a page taken back
 *      while the backend maps it, the persistent grant quota, a ring of
 *      asynchronous submissions.
 *
 * Results go to the console as "HOSTILE ..." lines; markers let dom0
 * measure while a phase runs.  Device 0 is driven from the start, device
 * 1 (dom0 attaches it in phase E) only in phase H.  Never installed.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "vgpu_hostile.h"

irqreturn_t hostile_irq(int irq, void *arg)
{
	wake_up(&((struct hostile *)arg)->wq);
	return IRQ_HANDLED;
}

void hostile_result(struct hostile *h, const char *name, bool ok,
		    const char *detail)
{
	h->tried++;
	if (ok)
		h->documented++;
	pr_info("HOSTILE case %-44s %s %s\n", name, detail, ok ? "ok" : "WRONG");
}

/* Puts @n copies of @req on the ring, then collects the @n answers. */
int hostile_send_n(struct hostile *h, struct vgpuif_request *req,
		   unsigned int n, struct vgpuif_response *last)
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
		int more;

		/* Ask for a notification (hp mode sends one only if asked). */
		RING_FINAL_CHECK_FOR_RESPONSES(&h->ring, more);
		if (!more &&
		    !wait_event_timeout(h->wq, h->ring.sring->rsp_prod !=
					h->ring.rsp_cons, 30 * HZ))
			return -ETIMEDOUT;
		rp = READ_ONCE(h->ring.sring->rsp_prod);
		virt_rmb();	/* see responses up to rp */
		for (; h->ring.rsp_cons != rp; h->ring.rsp_cons++, got++)
			*last = *RING_GET_RESPONSE(&h->ring, h->ring.rsp_cons);
	}
	return 0;
}

int hostile_call(struct hostile *h, struct vgpuif_request *req,
		 struct vgpuif_response *rsp)
{
	return hostile_send_n(h, req, 1, rsp);
}

int hostile_send(struct hostile *h, struct vgpuif_request *req)
{
	struct vgpuif_response rsp;
	int ret = hostile_call(h, req, &rsp);

	return ret ? ret : rsp.status;
}

/* Puts @req on the ring and notifies, without waiting for the answer. */
void hostile_post(struct hostile *h, struct vgpuif_request *req)
{
	req->id = ++h->next_id;
	*RING_GET_REQUEST(&h->ring, h->ring.req_prod_pvt) = *req;
	h->ring.req_prod_pvt++;
	RING_PUSH_REQUESTS(&h->ring);
	notify_remote_via_irq(h->irq);
}

void hostile_expect(struct hostile *h, const char *name,
		    struct vgpuif_request *req, int want)
{
	int got = hostile_send(h, req);
	char d[48];

	snprintf(d, sizeof(d), "answer %4d expected %4d", got, want);
	hostile_result(h, name, got == want, d);
}

/* Grants h->page; @ro: read-only.  Return: the reference or < 0. */
int hostile_grant(struct hostile *h, bool ro)
{
	return gnttab_grant_foreign_access(h->dev->otherend_id,
					   xen_page_to_gfn(h->page), ro);
}

/* Ends a grant the deferred way: the page stays until unmapped. */
void hostile_end_grant(struct hostile *h, int gref)
{
	get_page(h->page);
	gnttab_end_foreign_access(gref, h->page);
}

u32 hostile_ctx(struct hostile *h)
{
	REQ(r, VGPUIF_OP_CTX_CREATE);
	struct vgpuif_response rsp;

	if (hostile_call(h, &r, &rsp) || rsp.status)
		return 0;
	return rsp.u.ctx_create.ctx_id;
}

u32 hostile_bo(struct hostile *h, u32 domain, u64 size)
{
	REQ(r, VGPUIF_OP_BO_CREATE);
	struct vgpuif_response rsp;

	r.u.bo_create.size = size;
	r.u.bo_create.domain = domain;
	if (hostile_call(h, &r, &rsp) || rsp.status)
		return 0;
	return rsp.u.bo_create.handle;
}

int hostile_bind(struct hostile *h, u32 ctx, u32 bo, u64 off, u64 va,
		 u32 flags)
{
	REQ(r, VGPUIF_OP_VM_BIND);

	r.u.vm_bind.ctx_id = ctx;
	r.u.vm_bind.op.op = DRM_VGPU_BIND_MAP;
	r.u.vm_bind.op.flags = flags;
	r.u.vm_bind.op.handle = bo;
	r.u.vm_bind.op.bo_offset = off;
	r.u.vm_bind.op.va = va;
	r.u.vm_bind.op.size = VGPUIF_PAGE_SIZE;
	return hostile_send(h, &r);
}

/* Copies h->page into a host object (BO_WRITE) or out of it (BO_READ). */
int hostile_io(struct hostile *h, u32 bo, bool write)
{
	REQ(r, write ? VGPUIF_OP_BO_WRITE : VGPUIF_OP_BO_READ);
	int gref = hostile_grant(h, write), ret;

	if (gref < 0)
		return gref;
	r.u.bo_io.handle = bo;
	r.u.bo_io.gref = gref;
	r.u.bo_io.length = VGPUIF_PAGE_SIZE;
	ret = hostile_send(h, &r);
	hostile_end_grant(h, gref);
	return ret;
}

/* A context with @code mapped at CODE_VA (R|X) and DATA_VA (R|W). */
u32 hostile_code_ctx(struct hostile *h, const u64 *code, size_t n)
{
	u32 ctx = hostile_ctx(h), cbo, dbo;

	if (!ctx)
		return 0;
	memset(page_address(h->page), 0, PAGE_SIZE);
	memcpy(page_address(h->page), code, n * sizeof(*code));
	cbo = hostile_bo(h, DRM_VGPU_DOMAIN_HOST, PAGE_SIZE);
	dbo = hostile_bo(h, DRM_VGPU_DOMAIN_DEVICE, PAGE_SIZE);
	if (!cbo || !dbo || hostile_io(h, cbo, true) ||
	    hostile_bind(h, ctx, cbo, 0, CODE_VA,
			 DRM_VGPU_BIND_READ | DRM_VGPU_BIND_EXEC) ||
	    hostile_bind(h, ctx, dbo, 0, DATA_VA,
			 DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE))
		return 0;
	return ctx;
}

void hostile_launch_req(struct vgpuif_request *r, u32 ctx, u32 grid,
			u32 block, u32 shared)
{
	memset(r, 0, sizeof(*r));
	r->operation = VGPUIF_OP_SUBMIT;
	r->u.submit.ctx_id = ctx;
	r->u.submit.cmd.op = DRM_VGPU_CMD_LAUNCH;
	r->u.submit.cmd.src = CODE_VA;
	r->u.submit.cmd.grid[0] = grid;
	r->u.submit.cmd.grid[1] = 1;
	r->u.submit.cmd.grid[2] = 1;
	r->u.submit.cmd.block[0] = block;
	r->u.submit.cmd.block[1] = 1;
	r->u.submit.cmd.block[2] = 1;
	r->u.submit.cmd.shared_size = shared;
	r->u.submit.cmd.params[0] = DATA_VA;
}

/* Device 1, probed in phase E, driven in phase H. */
static struct hostile *hostile_dev1;

static void hostile_run(struct work_struct *work)
{
	struct hostile *h = container_of(work, struct hostile, work);

	if (hostile_open(h, NULL, NULL)) {
		pr_info("HOSTILE summary: FAIL cannot connect\n");
		return;
	}
	hostile_requests(h);
	hostile_gpu(h);
	hostile_long_job_close(h);
	hostile_cycles(h);
	/* Before B: the ban and the violations belong to the whole domain. */
	hostile_hp(READ_ONCE(hostile_dev1), h);
	hostile_ban(h);
	hostile_violations(h);
	pr_info("HOSTILE summary: tried %d, answered as documented %d\n",
		h->tried, h->documented);
}

static void hostile_changed(struct xenbus_device *dev, enum xenbus_state state)
{
	struct hostile *h = dev_get_drvdata(&dev->dev);

	/* The run drives every later state change itself. */
	if (h && state == XenbusStateInitWait && !h->started) {
		h->started = true;
		schedule_work(&h->work);
	}
}

static int hostile_probe(struct xenbus_device *dev,
			 const struct xenbus_device_id *id)
{
	struct hostile *h;

	/* Devices 0 and 1 are driven, the others stay Initialising. */
	if (strcmp(strrchr(dev->nodename, '/'), "/0") &&
	    strcmp(strrchr(dev->nodename, '/'), "/1"))
		return 0;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
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
	if (!strcmp(strrchr(dev->nodename, '/'), "/1")) {
		h->started = true;	/* device 0's run drives it */
		WRITE_ONCE(hostile_dev1, h);
	}
	return 0;
}

static void hostile_remove(struct xenbus_device *dev)
{
	struct hostile *h = dev_get_drvdata(&dev->dev);

	if (!h)
		return;
	if (h == READ_ONCE(hostile_dev1))
		WRITE_ONCE(hostile_dev1, NULL);
	cancel_work_sync(&h->work);
	hostile_free_ring(h);
	put_page(h->page);
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
