/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpuif_uapi.h - the wire structures of vgpuif.h that carry what a
 * program gave its render node are the uAPI's, octet for octet: asserted
 * here, field by field, and converted by copies (never by pointer casts).
 * Both ends include it: the frontend to forward a program's structure,
 * the backend's decoder to hand it to the core.
 */
#ifndef VGPUIF_UAPI_H
#define VGPUIF_UAPI_H

#include "vgpu_compat.h"
#include "vgpuif.h"
#include "../include/uapi/drm/vgpu_drm.h"

#define VGPUIF_SAME(w, u, f)						\
	static_assert(offsetof(struct w, f) == offsetof(struct u, f) &&	\
		      sizeof(((struct w *)0)->f) ==			\
		      sizeof(((struct u *)0)->f), #w "." #f)
#define VGPUIF_SAME_SIZE(w, u)						\
	static_assert(sizeof(struct w) == sizeof(struct u), #w)

VGPUIF_SAME_SIZE(vgpuif_info, drm_vgpu_info);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, uapi_version);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, mode);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, engine);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, isa_version);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, page_size);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, features);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, va_start);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, va_end);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, device_memory_size);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, device_memory_quota);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, max_contexts);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, max_objects);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, max_block_threads);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, max_shared_size);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, max_grid_x);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, max_stack_size);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, context_memory);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, stack_threads);
VGPUIF_SAME(vgpuif_info, drm_vgpu_info, reserved);

VGPUIF_SAME_SIZE(vgpuif_ctx_create, drm_vgpu_ctx_create);
VGPUIF_SAME(vgpuif_ctx_create, drm_vgpu_ctx_create, flags);
VGPUIF_SAME(vgpuif_ctx_create, drm_vgpu_ctx_create, priority);
VGPUIF_SAME(vgpuif_ctx_create, drm_vgpu_ctx_create, ctx_id);
VGPUIF_SAME(vgpuif_ctx_create, drm_vgpu_ctx_create, pad);

VGPUIF_SAME_SIZE(vgpuif_ctx_destroy, drm_vgpu_ctx_destroy);
VGPUIF_SAME(vgpuif_ctx_destroy, drm_vgpu_ctx_destroy, ctx_id);
VGPUIF_SAME(vgpuif_ctx_destroy, drm_vgpu_ctx_destroy, pad);

VGPUIF_SAME_SIZE(vgpuif_ctx_stack, drm_vgpu_ctx_stack);
VGPUIF_SAME(vgpuif_ctx_stack, drm_vgpu_ctx_stack, ctx_id);
VGPUIF_SAME(vgpuif_ctx_stack, drm_vgpu_ctx_stack, stack_size);
VGPUIF_SAME(vgpuif_ctx_stack, drm_vgpu_ctx_stack, charged);
VGPUIF_SAME_SIZE(vgpuif_ctx_status, drm_vgpu_ctx_status);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, ctx_id);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, status);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, fault_addr);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, fault_kind);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, pad);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, submitted);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, completed);
VGPUIF_SAME(vgpuif_ctx_status, drm_vgpu_ctx_status, reserved);

VGPUIF_SAME_SIZE(vgpuif_bo_create, drm_vgpu_bo_create);
VGPUIF_SAME(vgpuif_bo_create, drm_vgpu_bo_create, size);
VGPUIF_SAME(vgpuif_bo_create, drm_vgpu_bo_create, domain);
VGPUIF_SAME(vgpuif_bo_create, drm_vgpu_bo_create, flags);
VGPUIF_SAME(vgpuif_bo_create, drm_vgpu_bo_create, handle);
VGPUIF_SAME(vgpuif_bo_create, drm_vgpu_bo_create, pad);

VGPUIF_SAME_SIZE(vgpuif_bo_destroy, drm_vgpu_bo_destroy);
VGPUIF_SAME(vgpuif_bo_destroy, drm_vgpu_bo_destroy, handle);
VGPUIF_SAME(vgpuif_bo_destroy, drm_vgpu_bo_destroy, pad);

VGPUIF_SAME_SIZE(vgpuif_bind_op, drm_vgpu_vm_bind_op);
VGPUIF_SAME(vgpuif_bind_op, drm_vgpu_vm_bind_op, op);
VGPUIF_SAME(vgpuif_bind_op, drm_vgpu_vm_bind_op, flags);
VGPUIF_SAME(vgpuif_bind_op, drm_vgpu_vm_bind_op, handle);
VGPUIF_SAME(vgpuif_bind_op, drm_vgpu_vm_bind_op, pad);
VGPUIF_SAME(vgpuif_bind_op, drm_vgpu_vm_bind_op, bo_offset);
VGPUIF_SAME(vgpuif_bind_op, drm_vgpu_vm_bind_op, va);
VGPUIF_SAME(vgpuif_bind_op, drm_vgpu_vm_bind_op, size);

VGPUIF_SAME_SIZE(vgpuif_cmd, drm_vgpu_cmd);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, op);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, flags);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, dst);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, src);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, size);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, value);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, shared_size);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, grid);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, block);
VGPUIF_SAME(vgpuif_cmd, drm_vgpu_cmd, params);

/* The values vgpuif.h's comments give are the uAPI's. */
static_assert(VGPUIF_MAX_BIND_OPS == DRM_VGPU_MAX_BIND_OPS, "bind ops");
static_assert(VGPUIF_MAX_CMDS == DRM_VGPU_MAX_CMDS, "commands");
static_assert(VGPUIF_NUM_PARAMS == DRM_VGPU_NUM_PARAMS, "parameters");
static_assert(DRM_VGPU_MODE_NAIVE == 1 && DRM_VGPU_MODE_HP == 2, "modes");
static_assert(DRM_VGPU_DOMAIN_DEVICE == 1 && DRM_VGPU_DOMAIN_HOST == 2,
	      "domains");
static_assert(DRM_VGPU_BIND_MAP == 1 && DRM_VGPU_BIND_UNMAP == 2 &&
	      DRM_VGPU_BIND_READ == 1 && DRM_VGPU_BIND_WRITE == 2 &&
	      DRM_VGPU_BIND_EXEC == 4, "bind operations");
static_assert(DRM_VGPU_CMD_COPY == 1 && DRM_VGPU_CMD_FILL == 2 &&
	      DRM_VGPU_CMD_LAUNCH == 3, "commands");

#undef VGPUIF_SAME
#undef VGPUIF_SAME_SIZE

/* Copies between a wire structure and its uAPI twin: @dst and @src. */
#define vgpuif_copy(dst, src) do {					\
	static_assert(sizeof(*(dst)) == sizeof(*(src)), "twins");	\
	memcpy((dst), (src), sizeof(*(dst)));				\
} while (0)

#endif /* VGPUIF_UAPI_H */
