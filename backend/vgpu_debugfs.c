// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_debugfs.c - counters of vgpu-back in <debugfs>/vgpu/:
 *   stats    totals over every client, "name value" per line
 *   clients  one line per live client
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vgpu_core.h"

static struct dentry *vgpu_debugfs_dir;

static int vgpu_stats_show(struct seq_file *m, void *unused)
{
	const struct vgpu_stats *s = &vgpu_global_stats;

#define SHOW(f) seq_printf(m, "%s %lld\n", #f, atomic64_read(&s->f))
	SHOW(objects);
	SHOW(device_bytes);
	SHOW(host_bytes);
	SHOW(contexts);
	SHOW(mappings);
	SHOW(submissions);
	SHOW(commands);
	SHOW(completed);
	SHOW(cancelled);
	SHOW(busy_ns);
	SHOW(faults);
	SHOW(hangs);
#undef SHOW
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

void vgpu_debugfs_init(void)
{
	vgpu_debugfs_dir = debugfs_create_dir("vgpu", NULL);
	debugfs_create_file("stats", 0444, vgpu_debugfs_dir, NULL,
			    &vgpu_stats_fops);
	debugfs_create_file("clients", 0444, vgpu_debugfs_dir, NULL,
			    &vgpu_clients_fops);
}

void vgpu_debugfs_fini(void)
{
	debugfs_remove_recursive(vgpu_debugfs_dir);
}
