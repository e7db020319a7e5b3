// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_uapi.c - stateless checks of the uAPI structures the core is given
 * (see vgpu_uapi.h); vgpu-back's core calls them, once per request of any
 * transport.  Every function returns 0 or -EINVAL.
 */
#include "vgpu_uapi.h"

int vgpu_check_ctx_create(const struct drm_vgpu_ctx_create *a)
{
	if (a->flags || a->pad || a->ctx_id)
		return -EINVAL;
	if (a->priority > DRM_VGPU_PRIO_HIGH)
		return -EINVAL;
	return 0;
}

int vgpu_check_ctx_status(const struct drm_vgpu_ctx_status *a)
{
	if (!a->ctx_id || a->pad || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	return 0;
}

int vgpu_check_bo_create(const struct drm_vgpu_bo_create *a, u64 max_size)
{
	if (a->flags || a->pad || a->handle)
		return -EINVAL;
	if (a->domain != DRM_VGPU_DOMAIN_DEVICE &&
	    a->domain != DRM_VGPU_DOMAIN_HOST)
		return -EINVAL;
	if (!a->size || a->size > max_size)
		return -EINVAL;
	return 0;
}
