/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue.h - vgpu-uengine.ko: an engine of vgpu-back whose operations
 * run in a dom0 process (include/uapi/drm/vgpu_uengine.h is the
 * protocol, Documentation/engines.rst the design).
 *
 * vgpu_ue_chan.c is the channel: the character device, the session of
 * the registered process and vgpu_ue_call().  vgpu_ue_engine.c is the
 * engine: struct vgpu_engine_ops on top of the channel, contexts, device
 * memory and host-memory windows.
 */
#ifndef VGPU_UE_H
#define VGPU_UE_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/types.h>

#include "../include/uapi/drm/vgpu_uengine.h"

/**
 * struct vgpu_ue_window - host memory of one MAP, as the process sees it
 * @ref: the context's list holds one, each process mapping (VMA) one
 * @id: window id (mmap offset >> VGPU_UE_WINDOW_SHIFT)
 * @va: GPU address the window was mapped at
 * @npages: pages in @pages
 * @left: pages of the window still mapped in the context
 * @pages: the backing pages (a reference held on each), or the shadow
 *	pages when @src is set
 * @src: the real pages where they cannot be mapped into a process (a
 *	guest's granted pages): @pages is then a shadow, synchronised
 *	around each RUN
 * @node: in the context's @windows list
 */
struct vgpu_ue_window {
	struct kref ref;
	u64 id;
	u64 va;
	u64 npages;
	u64 left;
	struct page **pages;
	struct page **src;
	struct list_head node;
};

/* vm_flags became write-protected in 6.3 (probed by Kbuild). */
#ifdef VGPU_HAVE_VM_FLAGS_SET
#define vgpu_vm_flags_set(vma, flags) vm_flags_set(vma, flags)
#else
#define vgpu_vm_flags_set(vma, flags) ((vma)->vm_flags |= (flags))
#endif

struct vgpu_ue_window *vgpu_ue_window_get(u64 id);
void vgpu_ue_window_put(struct vgpu_ue_window *w);

/* Channel (vgpu_ue_chan.c). */
int vgpu_ue_chan_init(void);
void vgpu_ue_chan_exit(void);
u64 vgpu_ue_generation(void);
int vgpu_ue_call(u64 gen, struct vgpu_ue_req *req, const void *payload,
		 u64 timeout_ns, struct vgpu_ue_resp *resp);

/* Engine (vgpu_ue_engine.c). */
extern unsigned int vgpu_ue_mem_mb;
extern unsigned int vgpu_ue_watchdog_ms;
extern unsigned int vgpu_ue_op_timeout_ms;
int vgpu_ue_engine_init(void);
void vgpu_ue_engine_exit(void);

#endif /* VGPU_UE_H */
