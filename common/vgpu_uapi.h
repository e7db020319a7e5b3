/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_uapi.h - validation of uAPI arguments, shared by every transport.
 *
 * These checks look only at the structure they are given (a private copy:
 * callers copy from userspace or from the ring first); checks that need
 * state (handles, quotas, overlaps) belong to the core.
 */
#ifndef VGPU_UAPI_H
#define VGPU_UAPI_H

#include "vgpu_compat.h"
#include "../include/uapi/drm/vgpu_drm.h"

/* GPU virtual addresses a context may map: pages 0..15 stay unmapped. */
#define VGPU_CTX_VA_START	0x10000ULL

int vgpu_check_ctx_create(const struct drm_vgpu_ctx_create *a);
int vgpu_check_ctx_destroy(const struct drm_vgpu_ctx_destroy *a);
int vgpu_check_ctx_status(const struct drm_vgpu_ctx_status *a);
int vgpu_check_bo_create(const struct drm_vgpu_bo_create *a, u64 max_size);
int vgpu_check_bo_destroy(const struct drm_vgpu_bo_destroy *a);
int vgpu_check_bo_mmap_offset(const struct drm_vgpu_bo_mmap_offset *a);
int vgpu_check_vm_bind(const struct drm_vgpu_vm_bind *a);
int vgpu_check_bind_op(const struct drm_vgpu_vm_bind_op *op);
int vgpu_check_submit(const struct drm_vgpu_submit *a);
int vgpu_check_cmd(const struct drm_vgpu_cmd *c);

#endif /* VGPU_UAPI_H */
