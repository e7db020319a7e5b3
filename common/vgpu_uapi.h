/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_uapi.h - stateless checks of uAPI structures.
 *
 * Two kinds, by who may call them:
 *  - the envelope of an ioctl, whose fields its transport consumes and
 *    does not forward (a VM_BIND's or SUBMIT's array and counts, a
 *    handle the transport looks up itself): the inline functions below,
 *    called by the render node that received the ioctl (dom0's or the
 *    guest's) and by the core for the handle-only structures it is given;
 *  - everything forwarded to the core (a context's creation and status,
 *    an object's creation, a bind operation, a command): vgpu_uapi.c,
 *    called by the core only, once, whatever the transport.
 * They look only at the structure they are given (a private copy); checks
 * that need state (handles, quotas, overlaps) belong to the core.
 */
#ifndef VGPU_UAPI_H
#define VGPU_UAPI_H

#include "vgpu_compat.h"
#include "../include/uapi/drm/vgpu_drm.h"

/* GPU virtual addresses a context may map: pages 0..15 stay unmapped. */
#define VGPU_CTX_VA_START	0x10000ULL

/* The core's checks (vgpu_uapi.c). */
int vgpu_check_ctx_create(const struct drm_vgpu_ctx_create *a);
int vgpu_check_ctx_status(const struct drm_vgpu_ctx_status *a);
int vgpu_check_bo_create(const struct drm_vgpu_bo_create *a, u64 max_size);
int vgpu_check_bind_op(const struct drm_vgpu_vm_bind_op *op);
int vgpu_check_cmd(const struct drm_vgpu_cmd *c);

/* Envelopes: a transport's own fields. */
static inline int vgpu_check_ctx_destroy(const struct drm_vgpu_ctx_destroy *a)
{
	return (!a->ctx_id || a->pad) ? -EINVAL : 0;
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
