// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_sysfs.c - each device's attributes, on its platform device
 * (/sys/devices/platform/vgpu.N/engine/, N its index):
 *   name          its engine ("vgpu-sim", "vgpu-uengine")
 *   index         N: the render node's device, XenStore "engine"
 *   location      the GPU's PCI address, "-" for a software engine
 *   pci           the GPU's PCI address, empty where there is none (a
 *                 software engine; vgpu-uengine without its process)
 *   mem_mb        its device memory, MiB
 *   promised_mb   device memory promised to the clients, MiB
 *   clients       clients admitted (render-node files and guests)
 *   busy_ns       engine time used by all clients, ns
 *   faults, hangs contexts that faulted, that hung
 * and dom0's share of it, its render-node clients together
 * (/sys/devices/platform/vgpu.N/native/):
 *   weight        its weight, 1..1000 (default 100), writable
 *   cap           its cap, percent of the engine, 0 (none)..100, writable
 *   busy_ns       engine time its clients used, ns
 *   device_bytes, host_bytes   memory they hold
 *   jobs          their submissions not yet completed
 *   faults, hangs their contexts that faulted, that hung
 * Documentation/admin-guide.rst lists them in the style of
 * Documentation/ABI.  A guest's own attributes are on its xenbus device
 * (vgpu_xen_sysfs.c).
 */
#include <linux/device.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "vgpu_core.h"

/* The platform device "vgpu.N" of each device has it as drvdata. */
static struct vgpu_device *vgpu_sysfs_dev(struct device *d)
{
	return dev_get_drvdata(d);
}

static ssize_t name_show(struct device *d, struct device_attribute *attr,
			 char *buf)
{
	struct vgpu_engine_info info;

	vgpu_engine_info(vgpu_sysfs_dev(d), &info);
	return sysfs_emit(buf, "%s\n", info.name);
}
static DEVICE_ATTR_RO(name);

static ssize_t index_show(struct device *d, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", vgpu_sysfs_dev(d)->index);
}
static DEVICE_ATTR_RO(index);

/*
 * The PCI address of the device's GPU into @buf, "" where it has none
 * (a software engine, or an engine process not registered).
 */
static void vgpu_sysfs_pci(struct vgpu_device *dev, char *buf, size_t size)
{
	struct vgpu_engine *e;

	buf[0] = '\0';
	mutex_lock(&dev->lock);
	e = dev->engine;
	if (e && e->location)
		strscpy(buf, e->location, size);
	else if (e && e->ops->pci_address)
		e->ops->pci_address(e, buf, size);
	mutex_unlock(&dev->lock);
}

/* A GPU's PCI address, or "-" for a software engine. */
static ssize_t location_show(struct device *d, struct device_attribute *attr,
			     char *buf)
{
	char pci[VGPU_ENGINE_PCI_LEN];

	vgpu_sysfs_pci(vgpu_sysfs_dev(d), pci, sizeof(pci));
	return sysfs_emit(buf, "%s\n", pci[0] ? pci : "-");
}
static DEVICE_ATTR_RO(location);

/* A GPU's PCI address, or an empty line where there is none. */
static ssize_t pci_show(struct device *d, struct device_attribute *attr,
			char *buf)
{
	char pci[VGPU_ENGINE_PCI_LEN];

	vgpu_sysfs_pci(vgpu_sysfs_dev(d), pci, sizeof(pci));
	return sysfs_emit(buf, "%s\n", pci);
}
static DEVICE_ATTR_RO(pci);

/* A field of struct vgpu_engine_info, converted by @expr. */
#define VGPU_ENGINE_INFO_ATTR(file, expr)				\
static ssize_t file##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct vgpu_engine_info info;					\
									\
	vgpu_engine_info(vgpu_sysfs_dev(d), &info);			\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(expr));	\
}									\
static DEVICE_ATTR_RO(file)

VGPU_ENGINE_INFO_ATTR(mem_mb, info.mem_size >> 20);
VGPU_ENGINE_INFO_ATTR(promised_mb, info.promised >> 20);
VGPU_ENGINE_INFO_ATTR(clients, info.clients);

/* A total of the device's clients. */
#define VGPU_ENGINE_STAT_ATTR(file)					\
static ssize_t file##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  atomic64_read(&vgpu_sysfs_dev(d)->stats.file));	\
}									\
static DEVICE_ATTR_RO(file)

VGPU_ENGINE_STAT_ATTR(busy_ns);
VGPU_ENGINE_STAT_ATTR(faults);
VGPU_ENGINE_STAT_ATTR(hangs);

static struct attribute *vgpu_engine_attrs[] = {
	&dev_attr_name.attr,
	&dev_attr_index.attr,
	&dev_attr_location.attr,
	&dev_attr_pci.attr,
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

/**
 * vgpu_group_attr_show() - a sysfs read of a scheduling group
 * @g: group
 * @name: weight, cap, or a counter: busy_ns, device_bytes, host_bytes,
 *	jobs (submissions not yet completed), faults, hangs
 * @buf: the page
 *
 * Return: the length, or -ENOENT for another @name.
 */
ssize_t vgpu_group_attr_show(struct vgpu_group *g, const char *name,
			     char *buf)
{
	const struct vgpu_stats *st = &g->stats;
	u32 weight, cap;

	vgpu_group_get_settings(g, &weight, &cap);
	if (!strcmp(name, "weight"))
		return sysfs_emit(buf, "%u\n", weight);
	if (!strcmp(name, "cap"))
		return sysfs_emit(buf, "%u\n", cap);
	if (!strcmp(name, "busy_ns"))
		return sysfs_emit(buf, "%lld\n", atomic64_read(&st->busy_ns));
	if (!strcmp(name, "device_bytes"))
		return sysfs_emit(buf, "%lld\n", atomic64_read(&st->device_bytes));
	if (!strcmp(name, "host_bytes"))
		return sysfs_emit(buf, "%lld\n", atomic64_read(&st->host_bytes));
	if (!strcmp(name, "jobs"))
		return sysfs_emit(buf, "%lld\n", atomic64_read(&st->submissions) -
				  atomic64_read(&st->completed));
	if (!strcmp(name, "faults"))
		return sysfs_emit(buf, "%lld\n", atomic64_read(&st->faults));
	if (!strcmp(name, "hangs"))
		return sysfs_emit(buf, "%lld\n", atomic64_read(&st->hangs));
	return -ENOENT;
}

/**
 * vgpu_group_attr_store() - a sysfs write of a group's weight or cap
 * @g: group
 * @name: "weight" (1..1000) or "cap" (0: none, or 1..100 percent)
 * @buf: decimal
 * @count: its length
 *
 * Return: @count, or -EINVAL (nothing changed).
 */
ssize_t vgpu_group_attr_store(struct vgpu_group *g, const char *name,
			      const char *buf, size_t count)
{
	bool weight = !strcmp(name, "weight");
	u32 v;
	int ret = kstrtou32(buf, 10, &v);

	if (!ret)
		ret = vgpu_group_set(g, weight ? &v : NULL, weight ? NULL : &v);
	return ret ? ret : count;
}

static ssize_t native_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	return vgpu_group_attr_show(vgpu_sysfs_dev(d)->native_group,
				    attr->attr.name, buf);
}

static ssize_t native_store(struct device *d, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	return vgpu_group_attr_store(vgpu_sysfs_dev(d)->native_group,
				     attr->attr.name, buf, count);
}

#define VGPU_NATIVE_ATTR(file, mode, store)				\
static struct device_attribute dev_attr_native_##file =		\
	__ATTR(file, mode, native_show, store)

VGPU_NATIVE_ATTR(weight, 0644, native_store);
VGPU_NATIVE_ATTR(cap, 0644, native_store);
VGPU_NATIVE_ATTR(busy_ns, 0444, NULL);
VGPU_NATIVE_ATTR(device_bytes, 0444, NULL);
VGPU_NATIVE_ATTR(host_bytes, 0444, NULL);
VGPU_NATIVE_ATTR(jobs, 0444, NULL);
VGPU_NATIVE_ATTR(faults, 0444, NULL);
VGPU_NATIVE_ATTR(hangs, 0444, NULL);

static struct attribute *vgpu_native_attrs[] = {
	&dev_attr_native_weight.attr,
	&dev_attr_native_cap.attr,
	&dev_attr_native_busy_ns.attr,
	&dev_attr_native_device_bytes.attr,
	&dev_attr_native_host_bytes.attr,
	&dev_attr_native_jobs.attr,
	&dev_attr_native_faults.attr,
	&dev_attr_native_hangs.attr,
	NULL,
};

const struct attribute_group vgpu_native_attr_group = {
	.name = "native",
	.attrs = vgpu_native_attrs,
};
