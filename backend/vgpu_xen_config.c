// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen_config.c - the host's settings of a guest's vGPU: its quotas
 * and its domain's weight and cap on the vGPU's device.
 *
 * The toolstack (vgpuctl attach) writes them as keys of the backend's
 * XenStore directory; each connection reads them.  At run time a write
 * of the device's sysfs attribute applies a value at once and writes it
 * back to its key, so the frontend's next connection, and the next load
 * of vgpu-back, keep it.  Absent keys leave the module's defaults.  The
 * guest can read its backend's keys but never write them.
 */
#include <linux/kernel.h>
#include <xen/xenbus.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"

static const char *const vgpu_xen_cfg_keys[VGPU_XEN_CFG_NR] = {
	[VGPU_XEN_CFG_DEVMEM_MB] = VGPUIF_KEY_QUOTA_DEVMEM_MB,
	[VGPU_XEN_CFG_HOSTMEM_MB] = VGPUIF_KEY_QUOTA_HOSTMEM_MB,
	[VGPU_XEN_CFG_CONTEXTS] = VGPUIF_KEY_QUOTA_CONTEXTS,
	[VGPU_XEN_CFG_OBJECTS] = VGPUIF_KEY_QUOTA_OBJECTS,
	[VGPU_XEN_CFG_GRANT_PAGES] = VGPUIF_KEY_QUOTA_GRANT_PAGES,
	[VGPU_XEN_CFG_JOBS] = VGPUIF_KEY_QUOTA_JOBS,
	[VGPU_XEN_CFG_WEIGHT] = VGPUIF_KEY_WEIGHT,
	[VGPU_XEN_CFG_CAP] = VGPUIF_KEY_CAP,
};

/**
 * vgpu_xen_read_uint() - read an unsigned decimal XenStore key strictly
 *	(no sign, no junk, no overflow)
 * @dir: directory
 * @key: key
 * @val: out
 *
 * Return: 0, -ENOENT when absent, -EINVAL or -ERANGE.
 */
int vgpu_xen_read_uint(const char *dir, const char *key, unsigned int *val)
{
	char *s = xenbus_read(XBT_NIL, dir, key, NULL);
	int ret;

	if (IS_ERR(s))
		return PTR_ERR(s);
	ret = kstrtouint(s, 10, val);
	kfree(s);
	return ret;
}

/* Sets quota @which of @q to @v. */
static void vgpu_xen_quota_field(struct vgpu_quota *q, unsigned int which,
				 u32 v)
{
	switch (which) {
	case VGPU_XEN_CFG_DEVMEM_MB:
		q->devmem = (u64)v << 20;
		break;
	case VGPU_XEN_CFG_HOSTMEM_MB:
		q->hostmem = (u64)v << 20;
		break;
	case VGPU_XEN_CFG_CONTEXTS:
		q->contexts = v;
		break;
	case VGPU_XEN_CFG_OBJECTS:
		q->objects = v;
		break;
	case VGPU_XEN_CFG_JOBS:
		q->jobs = v;
		break;
	}
}

/**
 * vgpu_xen_cfg_get() - a setting's value now
 * @be: the device
 * @which: VGPU_XEN_CFG_*
 * @v: out
 *
 * Return: 0, or -ENOTCONN for a quota while no client is connected.
 */
int vgpu_xen_cfg_get(struct vgpu_xen_be *be, unsigned int which, u32 *v)
{
	struct vgpu_xen_snap snap;
	struct vgpu_group *g;
	u32 weight = VGPU_FAIR_WEIGHT_DEFAULT, cap = 0;

	if (which == VGPU_XEN_CFG_WEIGHT || which == VGPU_XEN_CFG_CAP) {
		g = vgpu_xen_group_get(be);
		if (g) {
			vgpu_group_get_settings(g, &weight, &cap);
			vgpu_group_put(g);
		} else {
			/* Never on its device yet: what it will start with. */
			vgpu_xen_read_uint(be->dev->nodename,
					   vgpu_xen_cfg_keys[VGPU_XEN_CFG_WEIGHT],
					   &weight);
			vgpu_xen_read_uint(be->dev->nodename,
					   vgpu_xen_cfg_keys[VGPU_XEN_CFG_CAP],
					   &cap);
		}
		*v = which == VGPU_XEN_CFG_WEIGHT ? weight : cap;
		return 0;
	}
	if (which == VGPU_XEN_CFG_GRANT_PAGES) {
		*v = READ_ONCE(be->grant_quota);
		return 0;
	}
	vgpu_xen_snapshot(be, &snap);
	if (!snap.connected)
		return -ENOTCONN;
	switch (which) {
	case VGPU_XEN_CFG_DEVMEM_MB:
		*v = snap.quota.devmem >> 20;
		break;
	case VGPU_XEN_CFG_HOSTMEM_MB:
		*v = snap.quota.hostmem >> 20;
		break;
	case VGPU_XEN_CFG_CONTEXTS:
		*v = snap.quota.contexts;
		break;
	case VGPU_XEN_CFG_OBJECTS:
		*v = snap.quota.objects;
		break;
	default:
		*v = snap.quota.jobs;
		break;
	}
	return 0;
}

/*
 * A weight (@weight) or cap of the domain's group on the vGPU's device:
 * applied to the group where there is one, else checked for the next
 * connection.
 */
static int vgpu_xen_group_apply(struct vgpu_xen_be *be, bool weight, u32 v)
{
	struct vgpu_group *g = vgpu_xen_group_get(be);
	int ret;

	if (!g) {
		if (weight)
			return v < VGPU_FAIR_WEIGHT_MIN ||
			       v > VGPU_FAIR_WEIGHT_MAX ? -EINVAL : 0;
		return v > 100 ? -EINVAL : 0;
	}
	ret = vgpu_group_set(g, weight ? &v : NULL, weight ? NULL : &v);
	vgpu_group_put(g);
	return ret;
}

/*
 * Applies setting @which = @v to the device's connection (@c, may be
 * NULL) and domain.  Caller holds be->cfg_lock.  Return: 0, -EINVAL for
 * a weight or cap out of range, -ENOSPC for device memory the engine
 * cannot promise, -ERANGE for grant pages above INT_MAX.
 */
static int vgpu_xen_cfg_apply(struct vgpu_xen_be *be, struct vgpu_client *c,
			      unsigned int which, u32 v)
{
	struct vgpu_quota q;

	lockdep_assert_held(&be->cfg_lock);
	switch (which) {
	case VGPU_XEN_CFG_WEIGHT:
	case VGPU_XEN_CFG_CAP:
		return vgpu_xen_group_apply(be, which == VGPU_XEN_CFG_WEIGHT, v);
	case VGPU_XEN_CFG_GRANT_PAGES:
		if (v > INT_MAX)
			return -ERANGE;
		WRITE_ONCE(be->grant_quota, v);
		return 0;
	}
	if (!c)
		return 0;
	mutex_lock(&c->lock);
	q = c->quota;
	mutex_unlock(&c->lock);
	vgpu_xen_quota_field(&q, which, v);
	return vgpu_client_set_quota(c, &q);
}

/**
 * vgpu_xen_cfg_read() - a new connection's settings from XenStore
 * @be: the device, with its new client; caller holds be->lock
 *
 * Return: 0, or an error after xenbus_dev_fatal() named the bad key.
 */
int vgpu_xen_cfg_read(struct vgpu_xen_be *be)
{
	unsigned int i, v;
	int ret = 0;

	lockdep_assert_held(&be->lock);
	WRITE_ONCE(be->grant_quota,
		   min_t(unsigned int, READ_ONCE(vgpu_xen_max_grant_pages),
			 INT_MAX));
	mutex_lock(&be->cfg_lock);
	for (i = 0; i < VGPU_XEN_CFG_NR && !ret; i++) {
		ret = vgpu_xen_read_uint(be->dev->nodename,
					 vgpu_xen_cfg_keys[i], &v);
		if (ret == -ENOENT) {
			ret = 0;
			continue;
		}
		if (!ret)
			ret = vgpu_xen_cfg_apply(be, be->client, i, v);
		if (ret == -ENOSPC)
			xenbus_dev_fatal(be->dev, ret,
					 "%s %u: more than the device has left",
					 vgpu_xen_cfg_keys[i], v);
		else if (ret)
			xenbus_dev_fatal(be->dev, ret, "%s: not a valid number",
					 vgpu_xen_cfg_keys[i]);
	}
	mutex_unlock(&be->cfg_lock);
	return ret;
}

/**
 * vgpu_xen_cfg_write() - change a setting at run time (sysfs)
 * @be: the device
 * @which: VGPU_XEN_CFG_*
 * @v: the value
 *
 * Applies @v to the connected client (a quota) or the domain (weight,
 * cap), then writes it to its XenStore key for the next connection.  A
 * quota below what the client holds refuses its new allocations and
 * takes nothing away.
 *
 * Return: 0; -EINVAL, -ERANGE or -ENOSPC (nothing changed); or the
 * error of the XenStore write (applied, not kept past this connection).
 */
int vgpu_xen_cfg_write(struct vgpu_xen_be *be, unsigned int which, u32 v)
{
	struct vgpu_client *c;
	int ret;

	mutex_lock(&be->cfg_lock);
	spin_lock(&be->client_lock);
	c = be->client;
	if (c)
		kref_get(&c->ref);
	spin_unlock(&be->client_lock);
	ret = vgpu_xen_cfg_apply(be, c, which, v);
	if (!ret)
		ret = xenbus_printf(XBT_NIL, be->dev->nodename,
				    vgpu_xen_cfg_keys[which], "%u", v);
	mutex_unlock(&be->cfg_lock);
	if (c)
		vgpu_client_put(c);
	return ret;
}
