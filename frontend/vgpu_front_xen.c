// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_xen.c - vgpu-front's xenbus frontend and ring client.
 *
 * Each call puts one request on the ring and sleeps until its own
 * response arrives (or a timeout, or the backend leaves: then every
 * caller gets -ENODEV at once).  Naive mode notifies every request; hp
 * mode only where the backend asked for it (its event index), and adds
 * asynchronous submissions (vgpu_front_hp.c) and a ring of up to
 * 2^ring_page_order pages.
 */
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/page.h>
#include <xen/xen.h>

#include "vgpu_front.h"

unsigned int vgpu_front_timeout_ms = 30000;
module_param_named(timeout_ms, vgpu_front_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "How long a request waits for its response, ms (default 30000)");

static bool vgpu_front_hp_param = true;
module_param_named(hp, vgpu_front_hp_param, bool, 0644);
MODULE_PARM_DESC(hp, "Ask for the high-performance mode where the backend offers it (default on)");

static unsigned int vgpu_front_ring_order = 2;
module_param_named(ring_page_order, vgpu_front_ring_order, uint, 0644);
MODULE_PARM_DESC(ring_page_order, "hp mode: log2 of the ring's pages, at most the backend's max-ring-page-order (default 2)");

static struct dentry *vgpu_front_debugfs;

static void vgpu_front_release(struct kref *ref)
{
	struct vgpu_front *f = container_of(ref, struct vgpu_front, ref);

	kfree(f);
}

void vgpu_front_put(struct vgpu_front *f)
{
	kref_put(&f->ref, vgpu_front_release);
}

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
 * vgpu_front_ring_full() - is every slot of the ring taken?
 * @f: the vGPU
 *
 * Return: true while the connection is up and its ring is full.
 */
bool vgpu_front_ring_full(struct vgpu_front *f)
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
long vgpu_front_wait_room(struct vgpu_front *f, enum vgpu_front_wait how,
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
				     "%s: no response in %u ms: backend stalled, calls fail until it answers\n",
				     vgpuif_op_name(req->operation),
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

/**
 * vgpu_front_page_io() - copy one guest page into or out of a backend
 *	host-memory object (naive mode: granted for this request only)
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @handle: backend object
 * @offset: page-aligned offset in the object
 * @page: guest page
 * @to_backend: true: BO_WRITE (granted read-only); false: BO_READ
 *
 * The grant is ended with gnttab_end_foreign_access(), which keeps a
 * reference to @page until the backend has unmapped it (a call that
 * timed out or was killed leaves the request in the backend's hands).
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_page_io(struct vgpu_front *f, u64 gen, u32 handle, u64 offset,
		       struct page *page, bool to_backend)
{
	struct vgpuif_request req = {};
	struct vgpuif_response rsp;
	int gref, ret;

	gref = gnttab_grant_foreign_access(f->backend_id,
					   xen_page_to_gfn(page), to_backend);
	if (gref < 0)
		return gref;
	atomic64_inc(&f->stats.grants);
	req.operation = to_backend ? VGPUIF_OP_BO_WRITE : VGPUIF_OP_BO_READ;
	req.u.bo_io.handle = handle;
	req.u.bo_io.gref = gref;
	req.u.bo_io.offset = offset;
	req.u.bo_io.length = PAGE_SIZE;
	ret = vgpu_front_do(f, gen, &req, &rsp);
	get_page(page);		/* dropped once the grant has ended */
	gnttab_end_foreign_access(gref, page);
	if (!ret) {
		atomic64_add(PAGE_SIZE, &f->stats.bytes);
		atomic64_inc(&f->stats.grant_maps);
		atomic64_inc(&f->stats.grant_unmaps);
	}
	return ret;
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

static void vgpu_front_free_ring(struct vgpu_front *f)
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

/* Does the backend list our protocol version in "protocol-versions"? */
static bool vgpu_front_backend_speaks(struct xenbus_device *dev)
{
	char *list = xenbus_read(XBT_NIL, dev->otherend, VGPUIF_KEY_PROTOCOL_VERSIONS,
				 NULL);
	char *p, *tok;
	bool found = false;
	unsigned int v;

	if (IS_ERR(list))
		return false;
	p = list;
	while (!found && (tok = strsep(&p, " ,")))
		found = !kstrtouint(tok, 10, &v) && v == VGPUIF_PROTOCOL_VERSION;
	kfree(list);
	return found;
}

/*
 * hp mode where the backend offers it and this guest wants it; else
 * naive, saying why once per connection.  Sets f->hp and f->ring_order.
 */
static void vgpu_front_choose_mode(struct vgpu_front *f)
{
	struct xenbus_device *dev = f->xbdev;
	unsigned int max_order;

	f->hp = false;
	f->ring_order = 0;
	if (!READ_ONCE(vgpu_front_hp_param)) {
		dev_info(&dev->dev, "naive mode: hp disabled by the hp parameter\n");
		return;
	}
	if (xenbus_read_unsigned(dev->otherend, VGPUIF_KEY_FEATURE_HP, 0) != 1) {
		dev_info(&dev->dev, "naive mode: the backend does not offer hp\n");
		return;
	}
	f->hp = true;
	max_order = xenbus_read_unsigned(dev->otherend, VGPUIF_KEY_MAX_RING_PAGE_ORDER, 0);
	f->ring_order = min3(max_order, READ_ONCE(vgpu_front_ring_order),
			     (unsigned int)VGPUIF_MAX_RING_PAGE_ORDER);
}

/* Writes the ring's keys: ring-ref, or ring-page-order and ring-refN. */
static int vgpu_front_write_ring_refs(struct vgpu_front *f,
				      struct xenbus_transaction xbt)
{
	const char *node = f->xbdev->nodename;
	unsigned int i;
	char key[16];
	int ret;

	if (!f->ring_order)
		return xenbus_printf(xbt, node, VGPUIF_KEY_RING_REF, "%u", f->ring_refs[0]);
	ret = xenbus_printf(xbt, node, VGPUIF_KEY_RING_PAGE_ORDER, "%u", f->ring_order);
	for (i = 0; !ret && i < 1U << f->ring_order; i++) {
		snprintf(key, sizeof(key), VGPUIF_KEY_RING_REF "%u", i);
		ret = xenbus_printf(xbt, node, key, "%u", f->ring_refs[i]);
	}
	return ret;
}

static int vgpu_front_setup_ring(struct vgpu_front *f)
{
	struct xenbus_device *dev = f->xbdev;
	struct xenbus_transaction xbt;
	evtchn_port_t evtchn;
	int ret;

	if (!vgpu_front_backend_speaks(dev)) {
		xenbus_dev_fatal(dev, -EPROTO,
				 "backend's protocol-versions lack version %u",
				 VGPUIF_PROTOCOL_VERSION);
		return -EPROTO;
	}
	vgpu_front_choose_mode(f);
	ret = xenbus_setup_ring(dev, GFP_KERNEL, &f->ring_va,
				1U << f->ring_order, f->ring_refs);
	if (ret)
		return ret;
	SHARED_RING_INIT((struct vgpuif_sring *)f->ring_va);
	FRONT_RING_INIT(&f->ring, (struct vgpuif_sring *)f->ring_va,
			XEN_PAGE_SIZE << f->ring_order);
	ret = xenbus_alloc_evtchn(dev, &evtchn);
	if (ret)
		goto err;
	ret = bind_evtchn_to_irqhandler(evtchn, vgpu_front_irq, 0,
					"vgpu-front", f);
	if (ret < 0) {
		xenbus_free_evtchn(dev, evtchn);
		goto err;
	}
	f->irq = ret;

again:
	ret = xenbus_transaction_start(&xbt);
	if (ret)
		goto err;
	ret = vgpu_front_write_ring_refs(f, xbt);
	if (!ret)
		ret = xenbus_printf(xbt, dev->nodename, VGPUIF_KEY_EVENT_CHANNEL, "%u",
				    evtchn);
	if (!ret)
		ret = xenbus_printf(xbt, dev->nodename, VGPUIF_KEY_PROTOCOL_VERSION,
				    "%u", VGPUIF_PROTOCOL_VERSION);
	if (!ret)
		ret = xenbus_printf(xbt, dev->nodename, VGPUIF_KEY_MODE, "%s",
				    f->hp ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE);
	if (ret) {
		xenbus_transaction_end(xbt, 1);
		goto err;
	}
	ret = xenbus_transaction_end(xbt, 0);
	if (ret == -EAGAIN)
		goto again;
	if (ret)
		goto err;
	spin_lock_irq(&f->ring_lock);
	f->gone = false;
	f->stalled = false;
	f->connected = true;
	f->gen++;
	spin_unlock_irq(&f->ring_lock);
	return 0;

err:
	xenbus_dev_fatal(dev, ret, "setting up the ring");
	vgpu_front_free_ring(f);
	return ret;
}

/* The backend left: release every waiter now, then drop the ring. */
static void vgpu_front_backend_gone(struct vgpu_front *f)
{
	spin_lock_irq(&f->ring_lock);
	f->gone = true;
	spin_unlock_irq(&f->ring_lock);
	wake_up_all(&f->wq);
	vgpu_front_async_fail(f);
	vgpu_front_drm_unplug(f);
	mutex_lock(&f->call_lock);	/* no caller left on the ring */
	vgpu_front_free_ring(f);
	mutex_unlock(&f->call_lock);
}

static void vgpu_front_backend_changed(struct xenbus_device *dev,
				       enum xenbus_state state)
{
	struct vgpu_front *f = dev_get_drvdata(&dev->dev);

	switch (state) {
	case XenbusStateInitWait:
		if (dev->state != XenbusStateInitialising &&
		    dev->state != XenbusStateClosed)
			break;
		if (dev->state == XenbusStateClosed)
			xenbus_switch_state(dev, XenbusStateInitialising);
		if (!vgpu_front_setup_ring(f))
			xenbus_switch_state(dev, XenbusStateInitialised);
		break;
	case XenbusStateConnected:
		if (dev->state != XenbusStateInitialised)
			break;
		if (vgpu_front_drm_create(f)) {
			xenbus_dev_fatal(dev, -ENOMEM, "creating the render node");
			break;
		}
		xenbus_switch_state(dev, XenbusStateConnected);
		dev_info(&dev->dev, "connected to domain %u, %s mode, %u ring pages\n",
			 f->backend_id,
			 f->hp ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE,
			 1U << f->ring_order);
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
	case XenbusStateUnknown:
		if (dev->state == XenbusStateClosed)
			break;
		vgpu_front_backend_gone(f);
		xenbus_frontend_closed(dev);
		break;
	default:
		break;
	}
}

static int vgpu_front_stats_show(struct seq_file *m, void *unused)
{
	struct vgpu_front *f = m->private;
	const struct vgpu_front_stats *s = &f->stats;

	seq_printf(m, "requests %lld\nresponses %lld\nerrors %lld\n",
		   atomic64_read(&s->requests), atomic64_read(&s->responses),
		   atomic64_read(&s->errors));
	seq_printf(m, "notify_out %lld\nnotify_in %lld\ngrants %lld\nbytes_copied %lld\n",
		   atomic64_read(&s->notify_out), atomic64_read(&s->notify_in),
		   atomic64_read(&s->grants), atomic64_read(&s->bytes));
	seq_printf(m, "grant_maps %lld\ngrant_unmaps %lld\nmode %s\n",
		   atomic64_read(&s->grant_maps),
		   atomic64_read(&s->grant_unmaps),
		   f->hp ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpu_front_stats);

static int vgpu_front_probe(struct xenbus_device *dev,
			    const struct xenbus_device_id *id)
{
	struct vgpu_front *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	kref_init(&f->ref);
	f->xbdev = dev;
	f->backend_id = dev->otherend_id;
	mutex_init(&f->call_lock);
	spin_lock_init(&f->ring_lock);
	INIT_LIST_HEAD(&f->async);
	init_waitqueue_head(&f->wq);
	dev_set_drvdata(&dev->dev, f);
	f->debugfs = debugfs_create_file(dev_name(&dev->dev), 0444,
					 vgpu_front_debugfs, f,
					 &vgpu_front_stats_fops);
	return 0;
}

static void vgpu_front_remove(struct xenbus_device *dev)
{
	struct vgpu_front *f = dev_get_drvdata(&dev->dev);

	debugfs_remove(f->debugfs);
	vgpu_front_backend_gone(f);
	f->xbdev = NULL;
	dev_set_drvdata(&dev->dev, NULL);
	vgpu_front_put(f);
}

static const struct xenbus_device_id vgpu_front_ids[] = {
	{ XENBUS_DEVICE_TYPE_VGPU },
	{ "" }
};

static struct xenbus_driver vgpu_front_driver = {
	.ids = vgpu_front_ids,
	.probe = vgpu_front_probe,
	.otherend_changed = vgpu_front_backend_changed,
	.remove = vgpu_front_remove,
	.not_essential = true,
};

static int __init vgpu_front_init(void)
{
	int ret;

	if (!xen_domain())
		return -ENODEV;
	vgpu_front_fences_init();
	vgpu_front_debugfs = debugfs_create_dir("vgpu-front", NULL);
	ret = xenbus_register_frontend(&vgpu_front_driver);
	if (ret)
		debugfs_remove_recursive(vgpu_front_debugfs);
	return ret;
}

static void __exit vgpu_front_exit(void)
{
	xenbus_unregister_driver(&vgpu_front_driver);
	debugfs_remove_recursive(vgpu_front_debugfs);
}

module_init(vgpu_front_init);
module_exit(vgpu_front_exit);
MODULE_DESCRIPTION("GPUvm frontend: paravirtual GPU for Xen guests");
MODULE_AUTHOR("GPUvm developers");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_ALIAS("xen:vgpu");
