/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen.h - vgpu-back's Xen transport (backend/vgpu_xen.c).
 */
#ifndef VGPU_XEN_H
#define VGPU_XEN_H

struct seq_file;

#if IS_ENABLED(CONFIG_XEN_BACKEND)
int vgpu_xen_init(void);
void vgpu_xen_fini(void);
int vgpu_xen_show(struct seq_file *m, void *unused);
#else
static inline int vgpu_xen_init(void) { return 0; }
static inline void vgpu_xen_fini(void) {}
static inline int vgpu_xen_show(struct seq_file *m, void *unused) { return 0; }
#endif

#endif /* VGPU_XEN_H */
