// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen.c - vgpu-back's Xen transport, xenbus side: a backend for
 * device type "vgpu" (protocol: common/vgpuif.h).  The ring server is in
 * vgpu_xen_ring.c.
 *
 * The xenwatch thread only notes what changed and queues the device's
 * work: every connection, teardown (which waits for the ring thread and
 * for a running slice of the guest's job) and state switch runs on
 * vgpu_xen_wq, so one guest's teardown never holds up the state changes
 * of other devices.  Each connection is one client of the vGPU core.
 * What must outlive a connection (hangs, the ban, protocol violations,
 * the message rate limit) lives in a per-domain record.
 */
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"

/* Protects vgpu_xen_conns; taken before a device's lock, never inside. */
static DEFINE_MUTEX(vgpu_xen_lock);
static LIST_HEAD(vgpu_xen_conns);

/* Protects vgpu_xen_doms and the fields of every record; innermost lock. */
static DEFINE_MUTEX(vgpu_xen_dom_lock);
static DEFINE_XARRAY(vgpu_xen_doms);

static struct workqueue_struct *vgpu_xen_wq;

static bool vgpu_xen_hp = true;
module_param_named(hp, vgpu_xen_hp, bool, 0644);
MODULE_PARM_DESC(hp, "Offer the high-performance mode to guests the toolstack allows it (default on; read when a device is probed)");

unsigned int vgpu_xen_max_grant_pages = 65536;
module_param_named(max_grant_pages, vgpu_xen_max_grant_pages, uint, 0644);
MODULE_PARM_DESC(max_grant_pages, "Guest pages one guest may have mapped persistently in hp mode, unless its quota-grant-pages says otherwise (default 65536: 256 MiB)");

/* 200 us: see Documentation/performance.rst for the measurement. */
unsigned int vgpu_xen_poll_us = 200;
module_param_named(poll_us, vgpu_xen_poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us, "hp mode: how long a ring thread polls for requests before it sleeps, us (default 200; 0: never)");

/* The record of @domid, created on first use.  Caller holds dom_lock. */
static struct vgpu_xen_dom *vgpu_xen_dom_get(domid_t domid)
{
	struct vgpu_xen_dom *dom = xa_load(&vgpu_xen_doms, domid);

	lockdep_assert_held(&vgpu_xen_dom_lock);
	if (dom)
		return dom;
	dom = kzalloc(sizeof(*dom), GFP_KERNEL);
	if (!dom)
		return NULL;
	dom->domid = domid;
	ratelimit_state_init(&dom->rs, 5 * HZ, 10);
	if (xa_err(xa_store(&vgpu_xen_doms, domid, dom, GFP_KERNEL))) {
		kfree(dom);
		return NULL;
	}
	return dom;
}

static void vgpu_xen_dom_free(struct vgpu_xen_dom *dom)
{
	u32 i;

	if (!dom)
		return;
	for (i = 0; i < VGPU_MAX_DEVICES; i++)
		vgpu_group_put(dom->groups[i]);
	kfree(dom);
}

/*
 * The domain's group on @dev, created on first use: every vGPU of the
 * domain on one device shares it.  A group of an earlier device of the
 * same index (its engine was unloaded and loaded again) is replaced, but
 * only once that device is unregistered, and never by a group of a
 * device that is: two vGPUs racing an engine's reload cannot give the
 * domain two groups (two shares) on one device.
 * Return: a reference, ERR_PTR(-ENODEV) if @dev is unregistered, or
 * ERR_PTR(-ENOMEM).  Takes vgpu_xen_dom_lock, then a device's lock.
 */
static struct vgpu_group *vgpu_xen_dom_group(struct vgpu_xen_dom *dom,
					     struct vgpu_device *dev)
{
	struct vgpu_group **slot = &dom->groups[dev->index];
	struct vgpu_group *g = ERR_PTR(-ENODEV);
	char name[32];

	mutex_lock(&vgpu_xen_dom_lock);
	if (!vgpu_device_registered(dev))
		goto out;
	if (*slot && (*slot)->dev != dev) {
		/* Its device left its index to @dev: it is unregistered. */
		vgpu_group_put(*slot);
		*slot = NULL;
	}
	if (!*slot) {
		snprintf(name, sizeof(name), "domain %u", dom->domid);
		*slot = vgpu_group_create(dev, name);
	}
	g = *slot ? *slot : ERR_PTR(-ENOMEM);
	if (!IS_ERR(g))
		kref_get(&g->ref);
out:
	mutex_unlock(&vgpu_xen_dom_lock);
	return g;
}

/**
 * vgpu_xen_group_get() - the scheduling group a vGPU's settings and
 *	counters are those of
 * @be: the device
 *
 * The connected client's group; while not connected, the group the
 * domain has on the device the vGPU names, if any.
 *
 * Return: a reference (vgpu_group_put()), or NULL.
 */
struct vgpu_group *vgpu_xen_group_get(struct vgpu_xen_be *be)
{
	struct vgpu_group *g = NULL;
	u32 idx = READ_ONCE(be->engine);

	spin_lock(&be->client_lock);
	if (be->client) {
		g = be->client->group;
		kref_get(&g->ref);
	}
	spin_unlock(&be->client_lock);
	if (g || idx >= VGPU_MAX_DEVICES)
		return g;
	mutex_lock(&vgpu_xen_dom_lock);
	g = be->dom->groups[idx];
	if (g)
		kref_get(&g->ref);
	mutex_unlock(&vgpu_xen_dom_lock);
	return g;
}

/* Drops the record of a domain that no longer exists. */
static void vgpu_xen_dom_reap(domid_t domid)
{
	struct vgpu_xen_dom *dom;
	struct vgpu_xen_be *be;
	char path[32];

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	if (xenbus_exists(XBT_NIL, path, ""))
		return;
	mutex_lock(&vgpu_xen_lock);
	list_for_each_entry(be, &vgpu_xen_conns, node)
		if (be->domid == domid)
			goto out;	/* another device of the domain */
	mutex_lock(&vgpu_xen_dom_lock);
	dom = xa_erase(&vgpu_xen_doms, domid);
	mutex_unlock(&vgpu_xen_dom_lock);
	vgpu_xen_dom_free(dom);
out:
	mutex_unlock(&vgpu_xen_lock);
}

/**
 * vgpu_xen_violation() - the guest broke the protocol
 * @be: its device
 * @err: the error for XenStore
 * @what: what it did
 *
 * May run on the ring thread: notes the violation and lets the device's
 * work disconnect (the work waits for the ring thread, so this must not).
 */
void vgpu_xen_violation(struct vgpu_xen_be *be, int err, const char *what)
{
	u32 n;

	mutex_lock(&vgpu_xen_dom_lock);
	n = ++be->dom->violations;
	mutex_unlock(&vgpu_xen_dom_lock);
	if (__ratelimit(&be->dom->rs))
		xenbus_dev_error(be->dev, err, "%s: protocol violation %u of %u",
				 what, n, VGPU_XEN_MAX_VIOLATIONS);
	WRITE_ONCE(be->violated, true);
	mod_delayed_work(vgpu_xen_wq, &be->work, 0);
}

/*
 * Keeps what the domain's next connection must inherit, from a client
 * torn down (vgpu_client_destroy() has returned: its teardown's hangs
 * are in) that the caller still holds.
 */
static void vgpu_xen_save_record(struct vgpu_xen_be *be, struct vgpu_client *c)
{
	struct vgpu_hang_record r;

	vgpu_client_record(c, &r);
	mutex_lock(&vgpu_xen_dom_lock);
	be->dom->hangs = r.hangs;
	be->dom->abandoned_ns = r.abandoned_ns;
	be->dom->abandoned_at = r.abandoned_at;
	be->dom->banned = r.banned;
	mutex_unlock(&vgpu_xen_dom_lock);
}

/* Tears down a connection; the device stays.  Caller holds be->lock. */
static void vgpu_xen_disconnect(struct vgpu_xen_be *be)
{
	lockdep_assert_held(&be->lock);

	if (be->thread) {
		kthread_stop(be->thread);
		be->thread = NULL;
	}
	/* Fence callbacks answer on the ring and notify: stop them first. */
	vgpu_xen_async_cancel(be);
	if (be->irq) {
		unbind_from_irqhandler(be->irq, be);
		be->irq = 0;
	}
	if (be->client) {
		struct vgpu_client *c = be->client;

		spin_lock(&be->client_lock);
		be->client = NULL;
		spin_unlock(&be->client_lock);
		/*
		 * The record is saved after teardown: a job cancelled or hung
		 * while the client closes counts (vgpu_client_destroy()).
		 */
		kref_get(&c->ref);
		vgpu_client_destroy(c);
		vgpu_xen_save_record(be, c);
		vgpu_client_put(c);
	}
	if (be->ring_va) {
		xenbus_unmap_ring_vfree(be->dev, be->ring_va);
		be->ring_va = NULL;
	}
	be->nr_ring_refs = 0;
	if (be->io_page) {
		gnttab_free_pages(1, &be->io_page);
		be->io_page = NULL;
	}
	be->broken = false;
	be->hp = false;
	WRITE_ONCE(be->pending, false);
	WRITE_ONCE(be->eoi_owed, false);
}

/*
 * Is hp offered on @dev?  What probe wrote in feature-hp, which the
 * frontend read: a later change of the hp parameter applies to devices
 * probed after it.
 */
static bool vgpu_xen_hp_offered(struct xenbus_device *dev)
{
	unsigned int v;

	return !vgpu_xen_read_uint(dev->nodename, VGPUIF_KEY_FEATURE_HP, &v) && v == 1;
}

/* 0: naive, 1: hp, -EINVAL otherwise. */
static int vgpu_xen_mode_rank(const char *mode)
{
	if (!strcmp(mode, VGPUIF_MODE_NAIVE))
		return 0;
	if (!strcmp(mode, VGPUIF_MODE_HP))
		return 1;
	return -EINVAL;
}

/*
 * Checks what the frontend asks for against what this backend speaks
 * and what the toolstack allows the guest.  A malformed value is a
 * protocol violation; a mode the backend lacks or the toolstack did not
 * allow is a clean refusal.
 */
static int vgpu_xen_check_frontend(struct vgpu_xen_be *be, bool *violation)
{
	bool offered = vgpu_xen_hp_offered(be->dev);
	struct xenbus_device *dev = be->dev;
	int allowed = 0, asked = -EINVAL;
	unsigned int version;
	char *mode;
	int ret;

	*violation = true;
	ret = vgpu_xen_read_uint(dev->otherend, VGPUIF_KEY_PROTOCOL_VERSION, &version);
	if (ret || version != VGPUIF_PROTOCOL_VERSION) {
		xenbus_dev_fatal(dev, -EPROTO, "protocol-version unsupported");
		return -EPROTO;
	}
	mode = xenbus_read(XBT_NIL, dev->nodename, VGPUIF_KEY_MODE, NULL);
	if (!IS_ERR(mode)) {
		allowed = vgpu_xen_mode_rank(mode);
		kfree(mode);
	}
	mode = xenbus_read(XBT_NIL, dev->otherend, VGPUIF_KEY_MODE, NULL);
	if (!IS_ERR(mode)) {
		asked = vgpu_xen_mode_rank(mode);
		kfree(mode);
	}
	if (asked < 0) {
		xenbus_dev_fatal(dev, -EINVAL, "mode: not naive or hp");
		return -EINVAL;
	}
	*violation = false;
	if (allowed < 0) {
		xenbus_dev_fatal(dev, -EINVAL, "backend mode: not naive or hp");
		return -EINVAL;
	}
	/* Never more than the toolstack allows, nor hp where not offered. */
	if (asked > allowed || (asked > 0 && !offered)) {
		xenbus_dev_fatal(dev, -EOPNOTSUPP, "mode %s not offered",
				 asked ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE);
		return -EOPNOTSUPP;
	}
	be->hp = asked > 0;
	return 0;
}

/*
 * The device the toolstack placed the vGPU on: the backend's key
 * "engine", 0 when absent.  Return: 0, or -EINVAL after
 * xenbus_dev_fatal() named the bad value.
 */
static int vgpu_xen_read_engine(struct vgpu_xen_be *be)
{
	unsigned int v = 0;
	int ret = vgpu_xen_read_uint(be->dev->nodename, VGPUIF_KEY_ENGINE,
				     &v);

	if (ret == -ENOENT)
		ret = 0;
	if (!ret && v >= VGPU_MAX_DEVICES)
		ret = -EINVAL;
	if (ret == -EINVAL || ret == -ERANGE) {
		xenbus_dev_fatal(be->dev, -EINVAL,
				 VGPUIF_KEY_ENGINE ": not a device index below %u",
				 VGPU_MAX_DEVICES);
		return -EINVAL;
	}
	if (ret) {
		xenbus_dev_fatal(be->dev, ret, "reading " VGPUIF_KEY_ENGINE);
		return ret;
	}
	WRITE_ONCE(be->engine, v);
	return 0;
}

/* A client of the vGPU's device, in the domain's group there. */
static struct vgpu_client *vgpu_xen_client_create(struct vgpu_xen_be *be)
{
	struct vgpu_device *dev = vgpu_device_find(READ_ONCE(be->engine));
	struct vgpu_group *g;
	struct vgpu_client *c;
	char name[48];

	if (!dev)
		return ERR_PTR(-ENODEV);
	g = vgpu_xen_dom_group(be->dom, dev);
	if (!IS_ERR(g)) {
		snprintf(name, sizeof(name), "dom%u", be->domid);
		c = vgpu_client_create(dev, name, g);
		vgpu_group_put(g);
	} else {
		c = ERR_CAST(g);
	}
	vgpu_device_put(dev);
	return c;
}

/* The client of a new connection inherits the domain's hangs and ban. */
static int vgpu_xen_new_client(struct vgpu_xen_be *be)
{
	struct vgpu_client *c;
	struct vgpu_hang_record r;
	int ret;

	ret = vgpu_xen_read_engine(be);
	if (ret)
		return ret;
	c = vgpu_xen_client_create(be);
	if (PTR_ERR(c) == -ENODEV) {
		/* No such engine yet (vgpu-sim loads after vgpu-back): wait. */
		if (__ratelimit(&be->dom->rs))
			dev_info(&be->dev->dev, "waiting for vGPU engine %u\n",
				 READ_ONCE(be->engine));
		return -ENODEV;
	}
	if (IS_ERR(c)) {
		xenbus_dev_fatal(be->dev, PTR_ERR(c),
				 "no vGPU client: the device is fully used");
		return PTR_ERR(c);
	}
	mutex_lock(&vgpu_xen_dom_lock);
	r.hangs = be->dom->hangs;
	r.abandoned_ns = be->dom->abandoned_ns;
	r.abandoned_at = be->dom->abandoned_at;
	r.banned = be->dom->banned;
	mutex_unlock(&vgpu_xen_dom_lock);
	vgpu_client_inherit(c, &r);
	c->rs = &be->dom->rs;	/* the guest's messages, whatever the connection */
	if (r.banned && __ratelimit(&be->dom->rs))
		dev_warn(&be->dev->dev,
			 "domain %u is banned (%u hung contexts): it gets no GPU work\n",
			 be->domid, r.hangs);
	spin_lock(&be->client_lock);
	be->client = c;
	spin_unlock(&be->client_lock);
	return 0;
}

/*
 * The ring's grant references: "ring-ref", or in hp mode with
 * "ring-page-order" N > 0, "ring-ref0".."ring-ref<2^N - 1>" (blkif's
 * keys).  An order above what the backend offers is malformed.
 */
static int vgpu_xen_read_ring_refs(struct vgpu_xen_be *be, grant_ref_t *refs,
				   unsigned int *order)
{
	const char *fe = be->dev->otherend;
	unsigned int i, v;
	char key[sizeof(VGPUIF_KEY_RING_REF) + 10];	/* any u32 fits */
	int ret;

	ret = vgpu_xen_read_uint(fe, VGPUIF_KEY_RING_PAGE_ORDER, order);
	if (ret == -ENOENT || (!ret && *order == 0)) {
		*order = 0;
		ret = vgpu_xen_read_uint(fe, VGPUIF_KEY_RING_REF, &v);
		refs[0] = v;
		return ret;
	}
	if (ret)
		return ret;
	if (!be->hp || *order > VGPU_XEN_RING_ORDER)
		return -EINVAL;
	for (i = 0; i < 1U << *order && !ret; i++) {
		snprintf(key, sizeof(key), VGPUIF_KEY_RING_REF "%u", i);
		ret = vgpu_xen_read_uint(fe, key, &v);
		refs[i] = v;
	}
	return ret;
}

/* Maps the ring, binds the event channel, starts the ring thread. */
static int vgpu_xen_start_ring(struct vgpu_xen_be *be, bool *violation)
{
	struct xenbus_device *dev = be->dev;
	unsigned int order, evtchn;
	int ret;

	*violation = true;
	ret = vgpu_xen_read_ring_refs(be, be->ring_refs, &order);
	if (!ret)
		ret = vgpu_xen_read_uint(dev->otherend, VGPUIF_KEY_EVENT_CHANNEL, &evtchn);
	if (ret) {
		xenbus_dev_fatal(dev, ret, "reading the ring's references and event-channel");
		return ret;
	}
	ret = xenbus_map_ring_valloc(dev, be->ring_refs, 1U << order,
				     &be->ring_va);
	if (ret)
		return ret;	/* a bad grant: reported by xenbus */
	be->nr_ring_refs = 1U << order;	/* before the ring thread reads them */
	BACK_RING_INIT(&be->ring, (struct vgpuif_sring *)be->ring_va,
		       XEN_PAGE_SIZE << order);
	ret = bind_interdomain_evtchn_to_irqhandler_lateeoi(dev, evtchn,
							    vgpu_xen_irq, 0,
							    "vgpu-back", be);
	if (ret < 0) {
		xenbus_dev_fatal(dev, ret, "binding event channel %u", evtchn);
		return ret;
	}
	be->irq = ret;
	*violation = false;
	ret = gnttab_alloc_pages(1, &be->io_page);
	if (ret) {
		be->io_page = NULL;
		return ret;
	}
	be->thread = kthread_run(vgpu_xen_ring_thread, be, "vgpu-dom%u",
				 be->domid);
	if (IS_ERR(be->thread)) {
		ret = PTR_ERR(be->thread);
		be->thread = NULL;
	}
	return ret;
}

/*
 * Connects the frontend's ring.  Caller holds be->lock.  Return: 0;
 * -ENODEV while no engine is registered (the caller retries); else the
 * connection is refused.
 */
static int vgpu_xen_connect(struct vgpu_xen_be *be)
{
	bool violation = false;
	int ret;

	lockdep_assert_held(&be->lock);
	ret = vgpu_xen_check_frontend(be, &violation);
	if (!ret)
		ret = vgpu_xen_new_client(be);
	if (!ret)
		ret = vgpu_xen_cfg_read(be);
	if (!ret)
		ret = vgpu_xen_start_ring(be, &violation);
	if (ret) {
		vgpu_xen_disconnect(be);
		if (violation)
			vgpu_xen_violation(be, ret, "bad connection details");
		return ret;
	}
	if (__ratelimit(&be->dom->rs))
		dev_info(&be->dev->dev, "domain %u connected, %s mode\n",
			 be->domid, be->hp ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE);
	return 0;
}

/* Back-off after violations: 100 ms, doubling, at most 12.8 s. */
static void vgpu_xen_backoff(struct vgpu_xen_be *be)
{
	u32 n;

	mutex_lock(&vgpu_xen_dom_lock);
	n = be->dom->violations;
	mutex_unlock(&vgpu_xen_dom_lock);
	if (!n)
		return;
	be->retry_at = jiffies + msecs_to_jiffies(100U << min(n - 1, 7U));
	if (n >= VGPU_XEN_MAX_VIOLATIONS && !be->locked_out) {
		be->locked_out = true;
		dev_warn(&be->dev->dev,
			 "domain %u: %u protocol violations: the device stays Closed until the toolstack attaches it again\n",
			 be->domid, n);
	}
}

/* Acts on a violation, then on the frontend's latest state. */
static void vgpu_xen_step(struct vgpu_xen_be *be, enum xenbus_state fe)
{
	struct xenbus_device *dev = be->dev;
	int ret;

	if (READ_ONCE(be->violated)) {
		WRITE_ONCE(be->violated, false);
		fe = XenbusStateClosing;
	}
	switch (fe) {
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (be->client || be->locked_out ||
		    dev->state != XenbusStateInitWait)
			break;
		if (time_before(jiffies, be->retry_at)) {
			queue_delayed_work(vgpu_xen_wq, &be->work,
					   be->retry_at - jiffies);
			break;
		}
		ret = vgpu_xen_connect(be);
		if (!ret)
			xenbus_switch_state(dev, XenbusStateConnected);
		else if (ret == -ENODEV)	/* look for an engine again */
			queue_delayed_work(vgpu_xen_wq, &be->work, HZ / 2);
		break;
	case XenbusStateClosing:
		vgpu_xen_disconnect(be);
		vgpu_xen_backoff(be);
		xenbus_switch_state(dev, be->locked_out ? XenbusStateClosed :
				    XenbusStateClosing);
		break;
	case XenbusStateClosed:
		vgpu_xen_disconnect(be);
		vgpu_xen_backoff(be);
		xenbus_switch_state(dev, XenbusStateClosed);
		/* Ready for the frontend again, unless the toolstack is
		 * detaching the device or the guest is locked out.
		 */
		if (!be->locked_out && xenbus_dev_is_online(dev))
			xenbus_switch_state(dev, XenbusStateInitWait);
		break;
	case XenbusStateUnknown:	/* the frontend's nodes are gone */
		vgpu_xen_disconnect(be);
		break;
	default:
		break;
	}
}

static void vgpu_xen_free(struct vgpu_xen_be *be)
{
	domid_t domid = be->domid;

	mutex_lock(&be->lock);
	vgpu_xen_disconnect(be);
	mutex_unlock(&be->lock);
	mutex_lock(&vgpu_xen_lock);
	list_del(&be->node);
	mutex_unlock(&vgpu_xen_lock);
	put_device(&be->dev->dev);
	mutex_destroy(&be->lock);
	kfree(be);
	vgpu_xen_dom_reap(domid);
}

static void vgpu_xen_work(struct work_struct *work)
{
	struct vgpu_xen_be *be = container_of(to_delayed_work(work),
					      struct vgpu_xen_be, work);

	if (READ_ONCE(be->removed)) {
		vgpu_xen_free(be);
		return;
	}
	mutex_lock(&be->lock);
	vgpu_xen_step(be, READ_ONCE(be->fe_state));
	mutex_unlock(&be->lock);
}

/* The toolstack's "mode" of the device is "hp". */
static bool vgpu_xen_toolstack_allows_hp(struct xenbus_device *dev)
{
	char *mode = xenbus_read(XBT_NIL, dev->nodename, VGPUIF_KEY_MODE, NULL);
	bool hp;

	if (IS_ERR(mode))
		return false;
	hp = vgpu_xen_mode_rank(mode) == 1;
	kfree(mode);
	return hp;
}

static int vgpu_xen_probe(struct xenbus_device *dev,
			  const struct xenbus_device_id *id)
{
	struct vgpu_xen_be *be = kzalloc(sizeof(*be), GFP_KERNEL);
	bool hp;
	int ret;

	if (!be)
		return -ENOMEM;
	be->dev = dev;
	be->domid = dev->otherend_id;
	be->fe_state = XenbusStateInitialising;
	mutex_init(&be->lock);
	mutex_init(&be->cfg_lock);
	spin_lock_init(&be->client_lock);
	spin_lock_init(&be->rsp_lock);
	INIT_LIST_HEAD(&be->async_wait);
	init_waitqueue_head(&be->wq);
	INIT_DELAYED_WORK(&be->work, vgpu_xen_work);
	mutex_lock(&vgpu_xen_dom_lock);
	/*
	 * The domain's violations stay for its life, whatever is probed:
	 * this device may connect once, and its first violation locks it
	 * out again once the domain has had VGPU_XEN_MAX_VIOLATIONS.
	 */
	be->dom = vgpu_xen_dom_get(be->domid);
	mutex_unlock(&vgpu_xen_dom_lock);
	if (!be->dom) {
		kfree(be);
		return -ENOMEM;
	}
	/* For sysfs until the first connection reads it again. */
	if (vgpu_xen_read_uint(dev->nodename, VGPUIF_KEY_ENGINE,
			       &be->engine) || be->engine >= VGPU_MAX_DEVICES)
		be->engine = 0;
	ret = xenbus_printf(XBT_NIL, dev->nodename, VGPUIF_KEY_PROTOCOL_VERSIONS, "%u",
			    VGPUIF_PROTOCOL_VERSION);
	hp = vgpu_xen_toolstack_allows_hp(dev) && READ_ONCE(vgpu_xen_hp);
	if (!ret)
		ret = xenbus_printf(XBT_NIL, dev->nodename, VGPUIF_KEY_FEATURE_HP, "%u",
				    hp);
	if (!ret)
		ret = xenbus_printf(XBT_NIL, dev->nodename,
				    VGPUIF_KEY_MAX_RING_PAGE_ORDER, "%u",
				    hp ? VGPU_XEN_RING_ORDER : 0);
	if (!ret)
		ret = xenbus_switch_state(dev, XenbusStateInitWait);
	if (ret) {
		kfree(be);
		return ret;
	}
	get_device(&dev->dev);
	dev_set_drvdata(&dev->dev, be);
	mutex_lock(&vgpu_xen_lock);
	list_add_tail(&be->node, &vgpu_xen_conns);
	mutex_unlock(&vgpu_xen_lock);
	return 0;
}

/*
 * On the xenwatch thread: notes the state and queues the work, no wait.
 * A frontend that is gone (its nodes removed with its domain), or closed
 * while the toolstack detaches, takes the device away as in blkback;
 * remove() only queues the teardown.  Unregistering here, on xenwatch,
 * cannot race with the bus removing the device, which also runs here.
 */
static void vgpu_xen_frontend_changed(struct xenbus_device *dev,
				      enum xenbus_state state)
{
	struct vgpu_xen_be *be = dev_get_drvdata(&dev->dev);

	WRITE_ONCE(be->fe_state, state);
	queue_delayed_work(vgpu_xen_wq, &be->work, 0);
	if (state == XenbusStateUnknown ||
	    (state == XenbusStateClosed && !xenbus_dev_is_online(dev)))
		device_unregister(&dev->dev);
}

/* The device is going: the work disconnects and frees, no wait here. */
static void vgpu_xen_remove(struct xenbus_device *dev)
{
	struct vgpu_xen_be *be = dev_get_drvdata(&dev->dev);

	/* Tell a frontend that is still there (backend unload). */
	xenbus_switch_state(dev, XenbusStateClosed);
	dev_set_drvdata(&dev->dev, NULL);
	WRITE_ONCE(be->removed, true);
	mod_delayed_work(vgpu_xen_wq, &be->work, 0);
}

static const struct xenbus_device_id vgpu_xen_ids[] = {
	{ XENBUS_DEVICE_TYPE_VGPU },
	{ "" }
};

static struct xenbus_driver vgpu_xen_driver = {
	.driver.dev_groups = vgpu_xen_groups,	/* vgpu_xen_sysfs.c */
	.ids = vgpu_xen_ids,
	.probe = vgpu_xen_probe,
	.otherend_changed = vgpu_xen_frontend_changed,
	.remove = vgpu_xen_remove,
};

/**
 * vgpu_xen_snapshot() - what the core and the domain's record count for
 *	a device, for debugfs and sysfs
 * @be: the device
 * @snap: filled in; the client's fields are zero while none is connected
 *
 * Never waits for a teardown: callers may hold vgpu_xen_lock, which the
 * xenwatch path takes.
 */
void vgpu_xen_snapshot(struct vgpu_xen_be *be, struct vgpu_xen_snap *snap)
{
	struct vgpu_client *c;

	memset(snap, 0, sizeof(*snap));
	mutex_lock(&vgpu_xen_dom_lock);
	snap->hangs = be->dom->hangs;
	snap->banned = be->dom->banned;
	snap->violations = be->dom->violations;
	mutex_unlock(&vgpu_xen_dom_lock);
	spin_lock(&be->client_lock);
	c = be->client;
	if (c)
		kref_get(&c->ref);
	spin_unlock(&be->client_lock);
	if (!c)
		return;
	snap->connected = true;
	snap->objects = atomic64_read(&c->stats.objects);
	snap->busy_ns = atomic64_read(&c->stats.busy_ns);
	mutex_lock(&c->lock);
	snap->hangs = c->hangs;
	snap->banned = c->banned;
	snap->quota = c->quota;
	mutex_unlock(&c->lock);
	vgpu_client_put(c);
}

/**
 * vgpu_xen_show() - one line per guest device, for debugfs
 * @m: seq_file
 * @unused: unused
 *
 * Return: 0.
 */
int vgpu_xen_show(struct seq_file *m, void *unused)
{
	struct vgpu_xen_be *be;

	seq_puts(m, "domid state requests responses errors notify_in notify_out grant_maps grant_unmaps grants_mapped bytes_copied objects busy_ns hangs banned violations devid mode\n");
	mutex_lock(&vgpu_xen_lock);
	list_for_each_entry(be, &vgpu_xen_conns, node) {
		const struct vgpu_xen_stats *s = &be->stats;
		s64 maps = atomic64_read(&s->grant_maps);
		s64 unmaps = atomic64_read(&s->grant_unmaps);
		struct vgpu_xen_snap snap;

		vgpu_xen_snapshot(be, &snap);
		seq_printf(m, "%u %s %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %u %u %u %s %s\n",
			   be->domid, xenbus_strstate(be->dev->state),
			   atomic64_read(&s->requests),
			   atomic64_read(&s->responses),
			   atomic64_read(&s->errors),
			   atomic64_read(&s->notify_in),
			   atomic64_read(&s->notify_out), maps, unmaps,
			   maps - unmaps, atomic64_read(&s->bytes_copied),
			   snap.objects, snap.busy_ns, snap.hangs, snap.banned,
			   snap.violations,
			   strrchr(be->dev->nodename, '/') + 1,
			   vgpu_xen_mode_name(be));
	}
	mutex_unlock(&vgpu_xen_lock);
	return 0;
}

int vgpu_xen_init(void)
{
	int ret;

	if (!xen_domain())
		return 0;
	vgpu_xen_wq = alloc_workqueue("vgpu-xen", WQ_UNBOUND, 0);
	if (!vgpu_xen_wq)
		return -ENOMEM;
	ret = xenbus_register_backend(&vgpu_xen_driver);
	if (ret)
		destroy_workqueue(vgpu_xen_wq);
	return ret;
}

void vgpu_xen_fini(void)
{
	struct vgpu_xen_dom *dom;
	unsigned long id;

	if (!xen_domain())
		return;
	xenbus_unregister_driver(&vgpu_xen_driver);
	destroy_workqueue(vgpu_xen_wq);	/* runs every queued teardown */
	xa_for_each(&vgpu_xen_doms, id, dom)
		vgpu_xen_dom_free(xa_erase(&vgpu_xen_doms, id));
}
