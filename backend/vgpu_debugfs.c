// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_debugfs.c - counters of vgpu-back in <debugfs>/vgpu/:
 *   stats    totals over every client of every device, "name value"
 *   clients  one line per live client, its device's index first
 *   engines  one line per device: engine, memory, load
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

static int vgpu_stats_show(struct seq_file *m, void *unused)
{
	const char *base = (const char *)&vgpu_global_stats;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vgpu_stat_fields); i++)
		seq_printf(m, "%s %lld\n", vgpu_stat_fields[i].name,
			   atomic64_read((const atomic64_t *)
					 (base + vgpu_stat_fields[i].offset)));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpu_stats);

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
