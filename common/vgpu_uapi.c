// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_uapi.c - stateless checks of the uAPI structures the core is given
 * (see vgpu_uapi.h); vgpu-back's core calls them, once per request of any
 * transport.  Every function returns 0 or -EINVAL.
 */
#include "vgpu_uapi.h"
#include "vgpu_interp.h"

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

static bool vgpu_va_range_ok(u64 va, u64 size)
{
	u64 end;

	if ((va | size) & VGPU_PAGE_MASK || !size)
		return false;
	if (check_add_overflow(va, size, &end))
		return false;
	return va >= VGPU_CTX_VA_START && end <= VGPU_VA_SIZE;
}

int vgpu_check_bind_op(const struct drm_vgpu_vm_bind_op *op)
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

static bool vgpu_gpu_range_ok(u64 va, u64 size)
{
	u64 end;

	return size && !check_add_overflow(va, size, &end) &&
	       end <= VGPU_VA_SIZE;
}

static bool vgpu_launch_fields_zero(const struct drm_vgpu_cmd *c)
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

int vgpu_check_cmd(const struct drm_vgpu_cmd *c)
{
	struct vgpu_launch_desc d;

	if (c->flags)
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
		if (c->dst || c->size || c->value)
			return -EINVAL;
		d.code_va = c->src;
		memcpy(d.grid, c->grid, sizeof(d.grid));
		memcpy(d.block, c->block, sizeof(d.block));
		d.shared_size = c->shared_size;
		memcpy(d.params, c->params, sizeof(d.params));
		return vgpu_launch_check(&d);
	default:
		return -EINVAL;
	}
}
