// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_debugfs.c - counters of vgpu-back in <debugfs>/vgpu/:
 *   stats      totals over every client of every device, "name value"
 *   clients    one line per live client, its device's index first
 *   engines    one line per device: engine, memory, load
 *   N/stats    device N's totals, as stats
 *   N/clients  device N's clients, as clients
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"

static struct dentry *vgpu_debugfs_dir;

#define VGPU_STAT_FIELD(f) { #f, offsetof(struct vgpu_stats, f) }

static const struct {
	const char *name;
	size_t offset;
} vgpu_stat_fields[] = {
	VGPU_STAT_FIELD(objects),
	VGPU_STAT_FIELD(device_bytes),
	VGPU_STAT_FIELD(host_bytes),
	VGPU_STAT_FIELD(contexts),
	VGPU_STAT_FIELD(mappings),
	VGPU_STAT_FIELD(submissions),
	VGPU_STAT_FIELD(commands),
	VGPU_STAT_FIELD(completed),
	VGPU_STAT_FIELD(cancelled),
	VGPU_STAT_FIELD(busy_ns),
	VGPU_STAT_FIELD(stalled_ns),
	VGPU_STAT_FIELD(faults),
	VGPU_STAT_FIELD(hangs),
	VGPU_STAT_FIELD(slice_max_ns),
};

static void vgpu_stats_print(struct seq_file *m, const struct vgpu_stats *st)
{
	const char *base = (const char *)st;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vgpu_stat_fields); i++)
		seq_printf(m, "%s %lld\n", vgpu_stat_fields[i].name,
			   atomic64_read((const atomic64_t *)
					 (base + vgpu_stat_fields[i].offset)));
}

static int vgpu_stats_show(struct seq_file *m, void *unused)
{
	vgpu_stats_print(m, &vgpu_global_stats);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpu_stats);

/* The device's files live no longer than it is registered. */
static int vgpu_device_stats_show(struct seq_file *m, void *unused)
{
	struct vgpu_device *dev = m->private;

	vgpu_stats_print(m, &dev->stats);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpu_device_stats);

static int vgpu_device_clients_show(struct seq_file *m, void *unused)
{
	seq_puts(m, VGPU_CLIENTS_HEADER);
	vgpu_device_show_clients(m, m->private);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpu_device_clients);

/**
 * vgpu_debugfs_device_add() - <debugfs>/vgpu/N/ of a registered device
 * @dev: the device
 *
 * Called by the device listener (vgpu_drv.c); removed by
 * vgpu_debugfs_device_remove() before the device is unregistered.
 */
void vgpu_debugfs_device_add(struct vgpu_device *dev)
{
	char name[12];

	snprintf(name, sizeof(name), "%u", dev->index);
	dev->debugfs = debugfs_create_dir(name, vgpu_debugfs_dir);
	debugfs_create_file("stats", 0444, dev->debugfs, dev,
			    &vgpu_device_stats_fops);
	debugfs_create_file("clients", 0444, dev->debugfs, dev,
			    &vgpu_device_clients_fops);
}

/**
 * vgpu_debugfs_device_remove() - remove what vgpu_debugfs_device_add() made
 * @dev: the device
 */
void vgpu_debugfs_device_remove(struct vgpu_device *dev)
{
	debugfs_remove_recursive(dev->debugfs);
	dev->debugfs = NULL;
}

static int vgpu_clients_open(struct inode *inode, struct file *file)
{
	return single_open(file, vgpu_clients_show, NULL);
}

static const struct file_operations vgpu_clients_fops = {
	.owner = THIS_MODULE,
	.open = vgpu_clients_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static int vgpu_engines_show(struct seq_file *m, void *unused)
{
	return vgpu_devices_show(m, unused);
}
DEFINE_SHOW_ATTRIBUTE(vgpu_engines);

static int vgpu_xen_open(struct inode *inode, struct file *file)
{
	return single_open(file, vgpu_xen_show, NULL);
}

static const struct file_operations vgpu_xen_fops = {
	.owner = THIS_MODULE,
	.open = vgpu_xen_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

void vgpu_debugfs_init(void)
{
	vgpu_debugfs_dir = debugfs_create_dir("vgpu", NULL);
	debugfs_create_file("stats", 0444, vgpu_debugfs_dir, NULL,
			    &vgpu_stats_fops);
	debugfs_create_file("clients", 0444, vgpu_debugfs_dir, NULL,
			    &vgpu_clients_fops);
	debugfs_create_file("engines", 0444, vgpu_debugfs_dir, NULL,
			    &vgpu_engines_fops);
	if (IS_ENABLED(CONFIG_XEN_BACKEND))
		debugfs_create_file("xen", 0444, vgpu_debugfs_dir, NULL,
				    &vgpu_xen_fops);
}

void vgpu_debugfs_fini(void)
{
	debugfs_remove_recursive(vgpu_debugfs_dir);
}
