// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen_sysfs.c - sysfs attributes of a guest's vGPU, on its xenbus
 * backend device (/sys/bus/xen-backend/devices/vgpu-<domid>-<devid>/):
 *   mode            the connection's mode: hp or naive
 *   engine          the index of the device (engine) it is placed on
 *   statistics/     counters of the ring and of the guest's client
 *   quota/          the guest's quotas, writable at run time
 *   sched/          its domain's weight and cap on that device (writable)
 *                   and the domain's counters there: engine time, memory,
 *                   jobs, faults
 * Documentation/admin-guide.rst lists them in the style of
 * Documentation/ABI.  The driver core adds them after probe and removes
 * them before remove, so a reader always finds the device's data.
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"

static struct vgpu_xen_be *vgpu_xen_be_of(struct device *d)
{
	return dev_get_drvdata(d);
}

static ssize_t mode_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n", vgpu_xen_mode_name(vgpu_xen_be_of(d)));
}
static DEVICE_ATTR_RO(mode);

/* The index of the device (engine) the vGPU is placed on. */
static ssize_t engine_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(vgpu_xen_be_of(d)->engine));
}
static DEVICE_ATTR_RO(engine);

static struct attribute *vgpu_xen_attrs[] = {
	&dev_attr_mode.attr,
	&dev_attr_engine.attr,
	NULL,
};

static const struct attribute_group vgpu_xen_group = {
	.attrs = vgpu_xen_attrs,
};

/* A counter of the ring (struct vgpu_xen_stats). */
#define VGPU_XEN_RING_STAT(name)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&vgpu_xen_be_of(d)->stats.name)); \
}									\
static DEVICE_ATTR_RO(name)

VGPU_XEN_RING_STAT(requests);
VGPU_XEN_RING_STAT(responses);
VGPU_XEN_RING_STAT(errors);
VGPU_XEN_RING_STAT(notify_in);
VGPU_XEN_RING_STAT(notify_out);
VGPU_XEN_RING_STAT(grant_maps);
VGPU_XEN_RING_STAT(grant_unmaps);
VGPU_XEN_RING_STAT(bytes_copied);

static ssize_t grants_mapped_show(struct device *d,
				  struct device_attribute *attr, char *buf)
{
	const struct vgpu_xen_stats *s = &vgpu_xen_be_of(d)->stats;

	return sysfs_emit(buf, "%lld\n", atomic64_read(&s->grant_maps) -
			  atomic64_read(&s->grant_unmaps));
}
static DEVICE_ATTR_RO(grants_mapped);

/* A field of the snapshot (struct vgpu_xen_snap), printed with @fmt. */
#define VGPU_XEN_SNAP_ATTR(attr_name, field, fmt)			\
static ssize_t attr_name##_show(struct device *d,			\
				struct device_attribute *attr, char *buf) \
{									\
	struct vgpu_xen_snap snap;					\
									\
	vgpu_xen_snapshot(vgpu_xen_be_of(d), &snap);			\
	return sysfs_emit(buf, fmt "\n", snap.field);			\
}									\
static DEVICE_ATTR_RO(attr_name)

VGPU_XEN_SNAP_ATTR(objects, objects, "%lld");
VGPU_XEN_SNAP_ATTR(busy_ns, busy_ns, "%lld");
VGPU_XEN_SNAP_ATTR(hangs, hangs, "%u");
VGPU_XEN_SNAP_ATTR(banned, banned, "%u");
VGPU_XEN_SNAP_ATTR(violations, violations, "%u");

static struct attribute *vgpu_xen_stat_attrs[] = {
	&dev_attr_requests.attr,
	&dev_attr_responses.attr,
	&dev_attr_errors.attr,
	&dev_attr_notify_in.attr,
	&dev_attr_notify_out.attr,
	&dev_attr_grant_maps.attr,
	&dev_attr_grant_unmaps.attr,
	&dev_attr_grants_mapped.attr,
	&dev_attr_bytes_copied.attr,
	&dev_attr_objects.attr,
	&dev_attr_busy_ns.attr,
	&dev_attr_hangs.attr,
	&dev_attr_banned.attr,
	&dev_attr_violations.attr,
	NULL,
};

static const struct attribute_group vgpu_xen_stat_group = {
	.name = "statistics",
	.attrs = vgpu_xen_stat_attrs,
};

/*
 * A setting (vgpu_xen_config.c): reads its value now (a quota: -ENOTCONN
 * while no client is connected); a write applies it at once and keeps
 * it in XenStore for the next connection.
 */
#define VGPU_XEN_CFG_ATTR(prefix, file, which)				\
static ssize_t prefix##_##file##_show(struct device *d,			\
				      struct device_attribute *attr,	\
				      char *buf)			\
{									\
	u32 v;								\
	int ret = vgpu_xen_cfg_get(vgpu_xen_be_of(d), (which), &v);	\
									\
	return ret ? ret : sysfs_emit(buf, "%u\n", v);			\
}									\
static ssize_t prefix##_##file##_store(struct device *d,		\
				       struct device_attribute *attr,	\
				       const char *buf, size_t count)	\
{									\
	u32 v;								\
	int ret = kstrtou32(buf, 10, &v);				\
									\
	if (!ret)							\
		ret = vgpu_xen_cfg_write(vgpu_xen_be_of(d), (which), v); \
	return ret ? ret : count;					\
}									\
static struct device_attribute dev_attr_##prefix##_##file =		\
	__ATTR(file, 0644, prefix##_##file##_show, prefix##_##file##_store)

VGPU_XEN_CFG_ATTR(quota, devmem_mb, VGPU_XEN_CFG_DEVMEM_MB);
VGPU_XEN_CFG_ATTR(quota, hostmem_mb, VGPU_XEN_CFG_HOSTMEM_MB);
VGPU_XEN_CFG_ATTR(quota, contexts, VGPU_XEN_CFG_CONTEXTS);
VGPU_XEN_CFG_ATTR(quota, objects, VGPU_XEN_CFG_OBJECTS);
VGPU_XEN_CFG_ATTR(quota, grant_pages, VGPU_XEN_CFG_GRANT_PAGES);
VGPU_XEN_CFG_ATTR(quota, jobs, VGPU_XEN_CFG_JOBS);
VGPU_XEN_CFG_ATTR(sched, weight, VGPU_XEN_CFG_WEIGHT);
VGPU_XEN_CFG_ATTR(sched, cap, VGPU_XEN_CFG_CAP);

static struct attribute *vgpu_xen_quota_attrs[] = {
	&dev_attr_quota_devmem_mb.attr,
	&dev_attr_quota_hostmem_mb.attr,
	&dev_attr_quota_contexts.attr,
	&dev_attr_quota_objects.attr,
	&dev_attr_quota_grant_pages.attr,
	&dev_attr_quota_jobs.attr,
	NULL,
};

static const struct attribute_group vgpu_xen_quota_group = {
	.name = "quota",
	.attrs = vgpu_xen_quota_attrs,
};

/* The domain's scheduling group: its counters over all its vGPUs. */
static ssize_t sched_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	struct vgpu_xen_be *be = vgpu_xen_be_of(d);
	struct vgpu_group *g = vgpu_xen_group_get(be);
	ssize_t ret;
	u32 v;

	if (g) {
		ret = vgpu_group_attr_show(g, attr->attr.name, buf);
		vgpu_group_put(g);
		return ret;
	}
	/* Not yet on its device: the settings it will take, no counts. */
	if (!strcmp(attr->attr.name, "weight") ||
	    !strcmp(attr->attr.name, "cap")) {
		ret = vgpu_xen_cfg_get(be, attr->attr.name[0] == 'w' ?
				       VGPU_XEN_CFG_WEIGHT : VGPU_XEN_CFG_CAP,
				       &v);
		return ret ? ret : sysfs_emit(buf, "%u\n", v);
	}
	return sysfs_emit(buf, "0\n");
}

#define VGPU_XEN_SCHED_STAT(file)					\
static struct device_attribute dev_attr_sched_##file =			\
	__ATTR(file, 0444, sched_show, NULL)

VGPU_XEN_SCHED_STAT(busy_ns);
VGPU_XEN_SCHED_STAT(device_bytes);
VGPU_XEN_SCHED_STAT(host_bytes);
VGPU_XEN_SCHED_STAT(jobs);
VGPU_XEN_SCHED_STAT(faults);
VGPU_XEN_SCHED_STAT(hangs);

static struct attribute *vgpu_xen_sched_attrs[] = {
	&dev_attr_sched_weight.attr,
	&dev_attr_sched_cap.attr,
	&dev_attr_sched_busy_ns.attr,
	&dev_attr_sched_device_bytes.attr,
	&dev_attr_sched_host_bytes.attr,
	&dev_attr_sched_jobs.attr,
	&dev_attr_sched_faults.attr,
	&dev_attr_sched_hangs.attr,
	NULL,
};

static const struct attribute_group vgpu_xen_sched_group = {
	.name = "sched",
	.attrs = vgpu_xen_sched_attrs,
};

const struct attribute_group *vgpu_xen_groups[] = {
	&vgpu_xen_group,
	&vgpu_xen_stat_group,
	&vgpu_xen_quota_group,
	&vgpu_xen_sched_group,
	NULL,
};
