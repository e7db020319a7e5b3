// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_sysfs.c - the engine's attributes, on vgpu-back's platform
 * device (/sys/devices/platform/vgpu/engine/):
 *   name          the registered engine ("" when none is)
 *   mem_mb        its device memory, MiB
 *   promised_mb   device memory promised to the clients, MiB
 *   clients       clients admitted (render-node files and guests)
 *   busy_ns       engine time used by all clients, ns
 *   faults, hangs contexts that faulted, that hung
 * Documentation/admin-guide.rst lists them in the style of
 * Documentation/ABI.  A guest's own attributes are on its xenbus device
 * (vgpu_xen_sysfs.c).
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "vgpu_core.h"

static ssize_t name_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	struct vgpu_engine_info info;

	vgpu_engine_info(&info);
	return sysfs_emit(buf, "%s\n", info.name);
}
static DEVICE_ATTR_RO(name);

/* A field of struct vgpu_engine_info, converted by @expr. */
#define VGPU_ENGINE_INFO_ATTR(file, expr)				\
static ssize_t file##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct vgpu_engine_info info;					\
									\
	vgpu_engine_info(&info);					\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(expr));	\
}									\
static DEVICE_ATTR_RO(file)

VGPU_ENGINE_INFO_ATTR(mem_mb, info.mem_size >> 20);
VGPU_ENGINE_INFO_ATTR(promised_mb, info.promised >> 20);
VGPU_ENGINE_INFO_ATTR(clients, info.clients);

/* A total of every client (vgpu_global_stats). */
#define VGPU_ENGINE_STAT_ATTR(file)					\
static ssize_t file##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&vgpu_global_stats.file));	\
}									\
static DEVICE_ATTR_RO(file)

VGPU_ENGINE_STAT_ATTR(busy_ns);
VGPU_ENGINE_STAT_ATTR(faults);
VGPU_ENGINE_STAT_ATTR(hangs);

static struct attribute *vgpu_engine_attrs[] = {
	&dev_attr_name.attr,
	&dev_attr_mem_mb.attr,
	&dev_attr_promised_mb.attr,
	&dev_attr_clients.attr,
	&dev_attr_busy_ns.attr,
	&dev_attr_faults.attr,
	&dev_attr_hangs.attr,
	NULL,
};

const struct attribute_group vgpu_engine_group = {
	.name = "engine",
	.attrs = vgpu_engine_attrs,
};
