// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_xenbus.c - vgpu-front's xenbus driver: the state machine of
 * each vGPU (device/vgpu/N) and the XenStore negotiation of its protocol
 * version, mode and ring (common/vgpuif.h).  A connection makes the ring
 * (vgpu_front_ring.c) and then a render node (vgpu_front_drv.c); the
 * backend leaving ends both, and a later connection makes new ones.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include "vgpu_front.h"

static bool vgpu_front_hp_param = true;
module_param_named(hp, vgpu_front_hp_param, bool, 0644);
MODULE_PARM_DESC(hp, "Ask for the high-performance mode where the backend offers it (default on)");

static unsigned int vgpu_front_ring_order = 2;
module_param_named(ring_page_order, vgpu_front_ring_order, uint, 0644);
MODULE_PARM_DESC(ring_page_order, "hp mode: log2 of the ring's pages, at most the backend's max-ring-page-order (default 2)");

static void vgpu_front_release(struct kref *ref)
{
	struct vgpu_front *f = container_of(ref, struct vgpu_front, ref);

	kfree(f);
}

void vgpu_front_put(struct vgpu_front *f)
{
	kref_put(&f->ref, vgpu_front_release);
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
 * naive, saying why once per connection.  Sets f->hp, f->proto and
 * f->ring_order.
 */
static void vgpu_front_choose_mode(struct vgpu_front *f)
{
	struct xenbus_device *dev = f->xbdev;
	unsigned int max_order;

	f->hp = false;
	f->proto = &vgpu_front_naive_proto;
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
	f->proto = &vgpu_front_hp_proto;
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
	ret = vgpu_front_ring_alloc(f, &evtchn);
	if (ret) {
		xenbus_dev_fatal(dev, ret, "setting up the ring");
		return ret;
	}

again:
	ret = xenbus_transaction_start(&xbt);
	if (ret)
		goto err;
	ret = vgpu_front_write_ring_refs(f, xbt);
	if (!ret)
		ret = xenbus_printf(xbt, dev->nodename, VGPUIF_KEY_EVENT_CHANNEL, "%u",
				    evtchn);
	if (!ret)
		ret = xenbus_printf(xbt, dev->nodename,
				    VGPUIF_KEY_FEATURE_PRECOPY, "1");
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
	vgpu_front_ring_up(f);
	return 0;

err:
	xenbus_dev_fatal(dev, ret, "setting up the ring");
	vgpu_front_ring_free(f);
	return ret;
}

/* The backend left: release every waiter now, then drop the ring. */
static void vgpu_front_backend_gone(struct vgpu_front *f)
{
	vgpu_front_ring_gone(f);
	vgpu_front_pm_lost(f);	/* unpauses, then removes the render node */
	mutex_lock(&f->call_lock);	/* no caller left on the ring */
	vgpu_front_ring_free(f);
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
		/* A render node, or after a restore the state restored. */
		if (vgpu_front_pm_connected(f)) {
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
	mutex_init(&f->files_lock);
	INIT_LIST_HEAD(&f->files);
	spin_lock_init(&f->ring_lock);
	INIT_LIST_HEAD(&f->async);
	init_waitqueue_head(&f->wq);
	dev_set_drvdata(&dev->dev, f);
	vgpu_front_pm_add(f);
	vgpu_front_debugfs_add(f);
	return 0;
}

static void vgpu_front_remove(struct xenbus_device *dev)
{
	struct vgpu_front *f = dev_get_drvdata(&dev->dev);

	vgpu_front_ring_gone(f);	/* a restore under way ends at once */
	vgpu_front_pm_remove(f);
	vgpu_front_debugfs_remove(f);
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
	.suspend = vgpu_front_pm_suspend,
	.resume = vgpu_front_pm_resume,
	.not_essential = true,
};

static int __init vgpu_front_init(void)
{
	int ret;

	if (!xen_domain())
		return -ENODEV;
	vgpu_front_fences_init();
	vgpu_front_debugfs_init();
	ret = xenbus_register_frontend(&vgpu_front_driver);
	if (ret)
		vgpu_front_debugfs_exit();
	return ret;
}

static void __exit vgpu_front_exit(void)
{
	xenbus_unregister_driver(&vgpu_front_driver);
	vgpu_front_debugfs_exit();
}

module_init(vgpu_front_init);
module_exit(vgpu_front_exit);
MODULE_DESCRIPTION("GPUvm frontend: paravirtual GPU for Xen guests");
MODULE_AUTHOR("GPUvm developers");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_ALIAS("xen:vgpu");
