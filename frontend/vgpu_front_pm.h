/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_pm.h - what the save (vgpu_front_pm.c) and the pre-copy
 * (vgpu_front_precopy.c) share: the mover, which copies device memory
 * to and from guest pages.
 */
#ifndef VGPU_FRONT_PM_H
#define VGPU_FRONT_PM_H

#include "vgpu_front.h"

/**
 * struct vgpu_front_mover - copies device memory to and from guest pages
 * @f: the vGPU
 * @gen: the connection
 * @ctx: the backend's id of the mover's own context
 * @page: the engine's GPU page
 * @va: the staging window's GPU address; a chunk of the object is mapped
 *	right after it
 * @chunk: bytes per COPY, a multiple of @page
 * @stage: a dom0 host object of @chunk bytes mapped at @va (naive, or
 *	hp past the grant quota), or 0
 * @bytes: bytes moved
 * @paced_until: until when (jiffies) a CTX_CREATE the engine paces is
 *	asked again: a restore's and a save's deadline (0: not asked
 *	again: a pre-copy pass fails, and the toolstack may ask again)
 *
 * It holds one context, at most one object of @chunk bytes and two
 * windows of @chunk bytes of the guest's quotas at a time.
 */
struct vgpu_front_mover {
	struct vgpu_front *f;
	u64 gen;
	u32 ctx;
	u64 page;
	u64 va;
	u64 chunk;
	u32 stage;
	u64 bytes;
	unsigned long paced_until;
};

int vgpu_front_mover_begin(struct vgpu_front_mover *m, struct vgpu_front *f,
			   u64 gen, unsigned long paced_until);
void vgpu_front_mover_end(struct vgpu_front_mover *m);
int vgpu_front_move_range(struct vgpu_front_mover *m, struct vgpu_front_bo *bo,
			  u64 off, u64 size, bool save);
int vgpu_front_bo_size_saved(struct vgpu_front_bo *bo, u64 size);
int vgpu_front_bo_fill_saved(struct vgpu_front_bo *bo, u64 off, u64 n,
			     gfp_t gfp);
bool vgpu_front_pm_check(struct vgpu_front *f);
void vgpu_front_unsave_all(struct vgpu_front *f);

#endif /* VGPU_FRONT_PM_H */
