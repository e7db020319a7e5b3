/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_uapi.h - stateless checks of uAPI structures.
 *
 * By who calls them:
 *  - the envelope of an ioctl, whose fields its transport consumes and
 *    does not forward (a VM_BIND's or SUBMIT's array and counts, a
 *    handle the transport looks up itself): inline, called by the render
 *    node that received the ioctl (dom0's or the guest's) and by the
 *    core for the handle-only structures it is given;
 *  - what is forwarded to the core (a context's creation and status, an
 *    object's creation, a bind operation, a command): called by the
 *    core, once, whatever the transport; the guest also runs the bind
 *    operation's and the command's (inline) before it sends them, so
 *    that its ioctl refuses them as dom0's does (Documentation/design.rst,
 *    "One validation boundary").
 * They look only at the structure they are given (a private copy); checks
 * that need state (handles, quotas, overlaps) belong to the core.
 */
#ifndef VGPU_UAPI_H
#define VGPU_UAPI_H

#include "vgpu_compat.h"
#include "vgpu_interp.h"
#include "vgpu_run.h"
#include "../include/uapi/drm/vgpu_drm.h"

/* GPU virtual addresses a context may map: pages 0..15 stay unmapped. */
#define VGPU_CTX_VA_START	0x10000ULL

/* The core's checks of what only it is given (vgpu_uapi.c). */
int vgpu_check_ctx_create(const struct drm_vgpu_ctx_create *a);
int vgpu_check_ctx_status(const struct drm_vgpu_ctx_status *a);
int vgpu_check_bo_create(const struct drm_vgpu_bo_create *a, u64 max_size);

/*
 * A bind operation and a command: the core's checks, and the guest's
 * pre-flight (vgpu-front refuses them at the ioctl, as dom0's node does,
 * although hp mode posts a submission without waiting for the core).
 * The core never relies on the guest's.
 */
static inline bool vgpu_va_range_ok(u64 va, u64 size)
{
	u64 end;

	if ((va | size) & VGPU_PAGE_MASK || !size)
		return false;
	if (check_add_overflow(va, size, &end))
		return false;
	return va >= VGPU_CTX_VA_START && end <= VGPU_VA_SIZE;
}

static inline int vgpu_check_bind_op(const struct drm_vgpu_vm_bind_op *op)
{
	const u32 perms = DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE |
			  DRM_VGPU_BIND_EXEC;

	if (op->pad || !vgpu_va_range_ok(op->va, op->size))
		return -EINVAL;
	switch (op->op) {
	case DRM_VGPU_BIND_MAP:
		if (!op->handle || !(op->flags & perms) || (op->flags & ~perms))
			return -EINVAL;
		if (op->bo_offset & VGPU_PAGE_MASK)
			return -EINVAL;
		return 0;
	case DRM_VGPU_BIND_UNMAP:
		if (op->flags || op->handle || op->bo_offset)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

static inline bool vgpu_gpu_range_ok(u64 va, u64 size)
{
	u64 end;

	return size && !check_add_overflow(va, size, &end) &&
	       end <= VGPU_VA_SIZE;
}

static inline bool vgpu_launch_fields_zero(const struct drm_vgpu_cmd *c)
{
	unsigned int i;

	if (c->shared_size)
		return false;
	for (i = 0; i < 3; i++)
		if (c->grid[i] || c->block[i])
			return false;
	for (i = 0; i < DRM_VGPU_NUM_PARAMS; i++)
		if (c->params[i])
			return false;
	return true;
}

static inline int vgpu_check_cmd(const struct drm_vgpu_cmd *c)
{
	struct vgpu_launch_desc d;

	if (c->flags & ~DRM_VGPU_LAUNCH_PTX ||
	    (c->flags && c->op != DRM_VGPU_CMD_LAUNCH))
		return -EINVAL;
	switch (c->op) {
	case DRM_VGPU_CMD_COPY:
		if (c->value || !vgpu_launch_fields_zero(c))
			return -EINVAL;
		if (!vgpu_gpu_range_ok(c->src, c->size) ||
		    !vgpu_gpu_range_ok(c->dst, c->size))
			return -EINVAL;
		return 0;
	case DRM_VGPU_CMD_FILL:
		if (c->src || !vgpu_launch_fields_zero(c))
			return -EINVAL;
		if ((c->dst | c->size) & 3 || !vgpu_gpu_range_ok(c->dst, c->size))
			return -EINVAL;
		return 0;
	case DRM_VGPU_CMD_LAUNCH:
		if (c->value)
			return -EINVAL;
		if (!(c->flags & DRM_VGPU_LAUNCH_PTX)) {
			if (c->dst || c->size)
				return -EINVAL;
		} else if (c->size < sizeof(struct drm_vgpu_ptx_launch) ||
			   c->size > DRM_VGPU_PTX_MAX_DESC ||
			   !vgpu_gpu_range_ok(c->dst, c->size)) {
			return -EINVAL;	/* the descriptor: its content is the engine's */
		}
		vgpu_launch_desc_from_cmd(&d, c);
		return vgpu_launch_check(&d);
	default:
		return -EINVAL;
	}
}

/* Envelopes: a transport's own fields. */
static inline int vgpu_check_ctx_destroy(const struct drm_vgpu_ctx_destroy *a)
{
	return (!a->ctx_id || a->pad) ? -EINVAL : 0;
}

/* The stack's bound is the engine's: the core checks it. */
static inline int vgpu_check_ctx_stack(const struct drm_vgpu_ctx_stack *a)
{
	return (!a->ctx_id || !a->stack_size || a->charged) ? -EINVAL : 0;
}

static inline int vgpu_check_bo_destroy(const struct drm_vgpu_bo_destroy *a)
{
	return (!a->handle || a->pad) ? -EINVAL : 0;
}

static inline int
vgpu_check_bo_mmap_offset(const struct drm_vgpu_bo_mmap_offset *a)
{
	return (!a->handle || a->pad || a->offset) ? -EINVAL : 0;
}

/* The wrapper only: each operation is the core's to check. */
static inline int vgpu_check_vm_bind(const struct drm_vgpu_vm_bind *a)
{
	if (!a->ctx_id || a->flags || a->num_done || !a->ops)
		return -EINVAL;
	if (!a->num_ops || a->num_ops > DRM_VGPU_MAX_BIND_OPS)
		return -EINVAL;
	return 0;
}

/* The wrapper only: each command is the core's to check. */
static inline int vgpu_check_submit(const struct drm_vgpu_submit *a)
{
	if (!a->ctx_id || a->flags || a->pad || a->seqno || !a->cmds)
		return -EINVAL;
	if (!a->num_cmds || a->num_cmds > DRM_VGPU_MAX_CMDS)
		return -EINVAL;
	if (a->num_in_syncs > DRM_VGPU_MAX_IN_SYNCS)
		return -EINVAL;
	if (!a->num_in_syncs != !a->in_syncs)
		return -EINVAL;
	return 0;
}

#endif /* VGPU_UAPI_H */
