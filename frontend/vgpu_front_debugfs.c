// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_debugfs.c - the counters of each vGPU of the guest, in
 * <debugfs>/vgpu-front/<device>.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vgpu_front.h"

static struct dentry *vgpu_front_debugfs;

static int vgpu_front_stats_show(struct seq_file *m, void *unused)
{
	struct vgpu_front *f = m->private;
	const struct vgpu_front_stats *s = &f->stats;

	seq_printf(m, "requests %lld\nresponses %lld\nerrors %lld\n",
		   atomic64_read(&s->requests), atomic64_read(&s->responses),
		   atomic64_read(&s->errors));
	seq_printf(m, "notify_out %lld\nnotify_in %lld\ngrants %lld\nbytes_copied %lld\n",
		   atomic64_read(&s->notify_out), atomic64_read(&s->notify_in),
		   atomic64_read(&s->grants), atomic64_read(&s->bytes));
	seq_printf(m, "grant_maps %lld\ngrant_unmaps %lld\nmode %s\n",
		   atomic64_read(&s->grant_maps),
		   atomic64_read(&s->grant_unmaps),
		   f->hp ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vgpu_front_stats);

void vgpu_front_debugfs_init(void)
{
	vgpu_front_debugfs = debugfs_create_dir("vgpu-front", NULL);
}

void vgpu_front_debugfs_exit(void)
{
	debugfs_remove_recursive(vgpu_front_debugfs);
}

void vgpu_front_debugfs_add(struct vgpu_front *f)
{
	f->debugfs = debugfs_create_file(dev_name(&f->xbdev->dev), 0444,
					 vgpu_front_debugfs, f,
					 &vgpu_front_stats_fops);
}

void vgpu_front_debugfs_remove(struct vgpu_front *f)
{
	debugfs_remove(f->debugfs);
	f->debugfs = NULL;
}
