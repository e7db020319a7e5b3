// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_device.c - the devices of vgpu-back: one per registered engine.
 *
 * Each engine an engine module registers (vgpu-sim's instances, the
 * bridge to a real GPU) becomes a struct vgpu_device with its own index,
 * clients, promised memory, scheduler thread and counters; nothing is
 * shared between two devices but the module parameters (the quotas every
 * new client starts with).  The transport that gives a device a render
 * node and a sysfs directory (vgpu_drv.c) listens for devices coming and
 * going; a guest's vGPU names its device by index (XenStore "engine").
 *
 * A device lives while registered and while anything holds a reference
 * (a client, through its group; a group a guest's record keeps); once
 * unregistered it takes no new client.  An engine module is pinned by
 * each client, so it unregisters only when its devices have none.
 */
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "vgpu_core.h"
#include "../common/vgpu_pt.h"
#include "../common/vgpu_uapi.h"

/* Protects vgpu_devices[] and vgpu_listener. */
static DEFINE_MUTEX(vgpu_devices_lock);
static struct vgpu_device *vgpu_devices[VGPU_MAX_DEVICES];
static const struct vgpu_device_listener *vgpu_listener;

/**
 * vgpu_devices_listen() - be told of every device that comes and goes
 * @l: the listener, or NULL to stop
 *
 * vgpu-back's own transport calls it before any engine can register
 * (engine modules depend on vgpu-back) and stops after the last one left.
 */
void vgpu_devices_listen(const struct vgpu_device_listener *l)
{
	mutex_lock(&vgpu_devices_lock);
	vgpu_listener = l;
	mutex_unlock(&vgpu_devices_lock);
}

static void vgpu_device_release(struct kref *ref)
{
	struct vgpu_device *dev = container_of(ref, struct vgpu_device, ref);

	WARN_ON(!list_empty(&dev->clients));
	/* Its own group holds no reference to it: it goes with it. */
	vgpu_group_put(dev->native_group);
	mutex_destroy(&dev->lock);
	kfree(dev);
}

void vgpu_device_get(struct vgpu_device *dev)
{
	kref_get(&dev->ref);
}

void vgpu_device_put(struct vgpu_device *dev)
{
	if (dev)
		kref_put(&dev->ref, vgpu_device_release);
}

/**
 * vgpu_device_find() - the device of an index
 * @index: 0..VGPU_MAX_DEVICES - 1 (any value is checked)
 *
 * Return: the registered device with a reference (vgpu_device_put()),
 * or NULL when no engine has that index now.
 */
struct vgpu_device *vgpu_device_find(u32 index)
{
	struct vgpu_device *dev = NULL;

	if (index >= VGPU_MAX_DEVICES)
		return NULL;
	mutex_lock(&vgpu_devices_lock);
	dev = vgpu_devices[index];
	if (dev)
		vgpu_device_get(dev);
	mutex_unlock(&vgpu_devices_lock);
	return dev;
}

/* A device for @e, its scheduler started; not yet visible.  */
static struct vgpu_device *vgpu_device_create(struct vgpu_engine *e,
					      u32 index)
{
	struct vgpu_device *dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	int ret;

	if (!dev)
		return ERR_PTR(-ENOMEM);
	kref_init(&dev->ref);
	dev->index = index;
	mutex_init(&dev->lock);
	INIT_LIST_HEAD(&dev->clients);
	dev->engine = e;
	ret = vgpu_sched_init(dev, &vgpu_core_sched_ops);
	if (ret)
		goto err_free;
	dev->native_group = vgpu_group_create(dev, "dom0");
	if (!dev->native_group) {
		ret = -ENOMEM;
		goto err_sched;
	}
	/*
	 * The device owns its dom0 group for its whole life (a render-node
	 * open racing the engine's unload may still join it): the group
	 * gives back its reference, or neither would ever be freed.
	 */
	dev->native_group->owned = true;
	vgpu_device_put(dev);
	return dev;

err_sched:
	vgpu_sched_fini(dev);
err_free:
	vgpu_device_put(dev);
	return ERR_PTR(ret);
}

/* Undoes vgpu_device_create() of a device no client uses. */
static void vgpu_device_destroy(struct vgpu_device *dev)
{
	mutex_lock(&dev->lock);
	dev->engine = NULL;	/* from here no new client */
	WARN_ON(dev->num_clients);	/* they pin the engine's module */
	mutex_unlock(&dev->lock);
	vgpu_sched_fini(dev);
	vgpu_device_put(dev);	/* the registration's */
}

/**
 * vgpu_device_registered() - is a device's engine still registered?
 * @dev: a device (a reference held)
 *
 * Return: false once its engine has unregistered: it takes no client.
 */
bool vgpu_device_registered(struct vgpu_device *dev)
{
	bool live;

	mutex_lock(&dev->lock);
	live = dev->engine;
	mutex_unlock(&dev->lock);
	return live;
}

/**
 * vgpu_engine_layout_check() - complete and check an engine's layout
 * @e: an engine about to register
 *
 * Fills the defaults of @e->page_shift, @e->va_start and @e->va_end (a
 * zero field: 4 KiB pages, the whole space a context may map) and checks
 * what the engine set: a page of 4 KiB to 1 GiB and no larger than its
 * device memory, a non-empty window of whole pages inside
 * [VGPU_CTX_VA_START, VGPU_VA_SIZE).
 *
 * Return: 0, or -EINVAL (with a line saying what is wrong).
 */
int vgpu_engine_layout_check(struct vgpu_engine *e)
{
	u64 page;

	if (!e->page_shift)
		e->page_shift = VGPU_PAGE_SHIFT;
	if (e->page_shift < VGPU_PAGE_SHIFT || e->page_shift > 30) {
		pr_err("vgpu: engine %s: a GPU page of 2^%u bytes (4 KiB to 1 GiB)\n",
		       e->name, e->page_shift);
		return -EINVAL;
	}
	page = vgpu_engine_page_size(e);
	if (e->mem_size < page) {
		pr_err("vgpu: engine %s: %llu KiB of device memory hold no %llu KiB page\n",
		       e->name, e->mem_size >> 10, page >> 10);
		return -EINVAL;
	}
	if (!e->va_start)
		e->va_start = round_up(VGPU_CTX_VA_START, page);
	if (!e->va_end)
		e->va_end = VGPU_VA_SIZE;
	if ((e->va_start | e->va_end) & (page - 1) ||
	    e->va_start < VGPU_CTX_VA_START || e->va_end > VGPU_VA_SIZE ||
	    e->va_start >= e->va_end) {
		pr_err("vgpu: engine %s: GPU addresses [%#llx, %#llx) are not whole %llu KiB pages inside [%#llx, %#llx)\n",
		       e->name, e->va_start, e->va_end, page >> 10,
		       VGPU_CTX_VA_START, VGPU_VA_SIZE);
		return -EINVAL;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vgpu_engine_layout_check);

static int vgpu_watchdog_param_set(const char *val,
				   const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, VGPU_WATCHDOG_MAX_MS);
}

const struct kernel_param_ops vgpu_watchdog_param_ops = {
	.set = vgpu_watchdog_param_set,
	.get = param_get_uint,
};
EXPORT_SYMBOL_GPL(vgpu_watchdog_param_ops);

/**
 * vgpu_engine_register() - make an engine a device of vgpu-back
 * @e: the engine; must stay valid until vgpu_engine_unregister()
 *
 * The device takes the lowest free index.  Sets @e->dev and the
 * defaults of @e's layout (vgpu_engine_layout_check()).
 *
 * Return: 0, -EINVAL for a layout the core cannot serve, -ENOSPC when
 * VGPU_MAX_DEVICES engines are registered, or the error of creating the
 * device or its render node.
 */
int vgpu_engine_register(struct vgpu_engine *e)
{
	struct vgpu_device *dev;
	u32 i;
	int ret = vgpu_engine_layout_check(e);

	if (ret)
		return ret;
	mutex_lock(&vgpu_devices_lock);
	for (i = 0; i < VGPU_MAX_DEVICES && vgpu_devices[i]; i++)
		;
	if (i == VGPU_MAX_DEVICES) {
		pr_err("vgpu: %u engines registered already: %s refused\n",
		       VGPU_MAX_DEVICES, e->name);
		ret = -ENOSPC;
		goto out;
	}
	dev = vgpu_device_create(e, i);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto out;
	}
	if (vgpu_listener)
		ret = vgpu_listener->added(dev);
	if (ret) {
		vgpu_device_destroy(dev);
		goto out;
	}
	e->dev = dev;
	vgpu_devices[i] = dev;
out:
	mutex_unlock(&vgpu_devices_lock);
	if (!ret)
		pr_info("vgpu: engine %u: %s registered, %llu MiB device memory, %llu KiB pages\n",
			i, e->name, e->mem_size >> 20,
			vgpu_engine_page_size(e) >> 10);
	return ret;
}
EXPORT_SYMBOL_GPL(vgpu_engine_register);

/**
 * vgpu_engine_unregister() - take an engine's device away
 * @e: a registered engine
 *
 * Clients pin the engine's module, so this runs only once the device has
 * none left; its render node goes, its record stays for whoever still
 * holds a reference (a guest's group) and takes no new client.
 */
void vgpu_engine_unregister(struct vgpu_engine *e)
{
	struct vgpu_device *dev = e->dev;

	if (WARN_ON(!dev))
		return;
	mutex_lock(&dev->lock);
	dev->engine = NULL;	/* no client from here, nor during removal */
	mutex_unlock(&dev->lock);
	mutex_lock(&vgpu_devices_lock);
	vgpu_devices[dev->index] = NULL;
	if (vgpu_listener)
		vgpu_listener->removed(dev);
	mutex_unlock(&vgpu_devices_lock);
	pr_info("vgpu: engine %u: %s unregistered\n", dev->index, e->name);
	e->dev = NULL;
	vgpu_device_destroy(dev);
}
EXPORT_SYMBOL_GPL(vgpu_engine_unregister);

/**
 * vgpu_engine_info() - a device's engine and what is promised of it
 * @dev: the device
 * @info: filled in (copies: the engine may go once this returns)
 */
void vgpu_engine_info(struct vgpu_device *dev, struct vgpu_engine_info *info)
{
	mutex_lock(&dev->lock);
	strscpy(info->name, dev->engine ? dev->engine->name : "",
		sizeof(info->name));
	info->mem_size = dev->engine ? dev->engine->mem_size : 0;
	info->promised = dev->promised;
	info->clients = dev->num_clients;
	mutex_unlock(&dev->lock);
}

/**
 * vgpu_device_show_clients() - one line per client of @dev (debugfs)
 * @m: the file
 * @dev: the device
 */
void vgpu_device_show_clients(struct seq_file *m, struct vgpu_device *dev)
{
	struct vgpu_client *c;

	mutex_lock(&dev->lock);
	list_for_each_entry(c, &dev->clients, node)
		seq_printf(m, "%u %u %s %lld %lld %lld %lld %lld %lld %lld %lld\n",
			   dev->index, c->id, c->name,
			   atomic64_read(&c->stats.objects),
			   atomic64_read(&c->stats.device_bytes),
			   atomic64_read(&c->stats.host_bytes),
			   atomic64_read(&c->stats.contexts),
			   atomic64_read(&c->stats.submissions),
			   atomic64_read(&c->stats.busy_ns),
			   atomic64_read(&c->stats.faults),
			   atomic64_read(&c->stats.hangs));
	mutex_unlock(&dev->lock);
}

/* debugfs vgpu/clients: every client of every device. */
int vgpu_clients_show(struct seq_file *m, void *unused)
{
	u32 i;

	seq_puts(m, VGPU_CLIENTS_HEADER);
	mutex_lock(&vgpu_devices_lock);
	for (i = 0; i < VGPU_MAX_DEVICES; i++)
		if (vgpu_devices[i])
			vgpu_device_show_clients(m, vgpu_devices[i]);
	mutex_unlock(&vgpu_devices_lock);
	return 0;
}

/* debugfs vgpu/engines: each device's engine and its load. */
int vgpu_devices_show(struct seq_file *m, void *unused)
{
	struct vgpu_engine_info info;
	u32 i;

	seq_puts(m, "engine name mem_mb promised_mb clients busy_ns faults hangs\n");
	mutex_lock(&vgpu_devices_lock);
	for (i = 0; i < VGPU_MAX_DEVICES; i++) {
		struct vgpu_device *dev = vgpu_devices[i];

		if (!dev)
			continue;
		vgpu_engine_info(dev, &info);
		seq_printf(m, "%u %s %llu %llu %u %lld %lld %lld\n", i,
			   info.name, info.mem_size >> 20, info.promised >> 20,
			   info.clients, atomic64_read(&dev->stats.busy_ns),
			   atomic64_read(&dev->stats.faults),
			   atomic64_read(&dev->stats.hangs));
	}
	mutex_unlock(&vgpu_devices_lock);
	return 0;
}
