// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_req.c - the requests both modes send alike: a user's
 * structure goes whole to the backend, whose core checks it; the answer
 * comes back into it.
 */
#include "vgpu_front.h"

/**
 * vgpu_front_req_info() - GET_INFO
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @out: the backend's answer, with the mode of this connection
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_req_info(struct vgpu_front *f, u64 gen,
			struct drm_vgpu_info *out)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_GET_INFO };
	struct vgpuif_response rsp;
	int ret = vgpu_front_do(f, gen, &req, &rsp);

	if (ret)
		return ret;
	vgpuif_copy(out, &rsp.u.info);
	out->mode = f->hp ? DRM_VGPU_MODE_HP : DRM_VGPU_MODE_NAIVE;
	return 0;
}

/**
 * vgpu_front_req_ctx_create() - CTX_CREATE
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @a: the user's arguments; @a->ctx_id is set on success
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_req_ctx_create(struct vgpu_front *f, u64 gen,
			      struct drm_vgpu_ctx_create *a)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_CREATE };
	struct vgpuif_response rsp;
	int ret;

	vgpuif_copy(&req.u.ctx_create, a);
	ret = vgpu_front_do(f, gen, &req, &rsp);
	if (!ret)
		a->ctx_id = rsp.u.ctx_create.ctx_id;
	return ret;
}

/**
 * vgpu_front_req_ctx_destroy() - CTX_DESTROY
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @id: the context
 * @how: killable, or not (the id must not stay behind in the backend)
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_req_ctx_destroy(struct vgpu_front *f, u64 gen, u32 id,
			       enum vgpu_front_wait how)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_DESTROY };
	struct vgpuif_response rsp;
	int ret;

	req.u.ctx_destroy.ctx_id = id;
	ret = vgpu_front_call(f, gen, how, &req, &rsp);
	return ret ? ret : rsp.status;
}

/**
 * vgpu_front_req_ctx_status() - CTX_STATUS
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @a: the user's arguments; the backend's answer on success
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_req_ctx_status(struct vgpu_front *f, u64 gen,
			      struct drm_vgpu_ctx_status *a)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_STATUS };
	struct vgpuif_response rsp;
	int ret;

	vgpuif_copy(&req.u.ctx_status, a);
	ret = vgpu_front_do(f, gen, &req, &rsp);
	if (!ret)
		vgpuif_copy(a, &rsp.u.ctx_status);
	return ret;
}

/**
 * vgpu_front_req_ctx_stack() - CTX_STACK
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @a: the user's arguments (the backend's context id); the backend's
 *	answer on success
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_req_ctx_stack(struct vgpu_front *f, u64 gen,
			     struct drm_vgpu_ctx_stack *a)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_STACK };
	struct vgpuif_response rsp;
	int ret;

	vgpuif_copy(&req.u.ctx_stack, a);
	ret = vgpu_front_do(f, gen, &req, &rsp);
	if (!ret)
		vgpuif_copy(a, &rsp.u.ctx_stack);
	return ret;
}

/**
 * vgpu_front_req_bo_create() - BO_CREATE: an object in dom0's memory
 *	(device memory, or host memory kept by copies)
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @a: the user's arguments
 * @handle: out, the backend's handle
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_req_bo_create(struct vgpu_front *f, u64 gen,
			     const struct drm_vgpu_bo_create *a, u32 *handle)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_BO_CREATE };
	struct vgpuif_response rsp;
	int ret;

	vgpuif_copy(&req.u.bo_create, a);
	ret = vgpu_front_do(f, gen, &req, &rsp);
	if (!ret)
		*handle = rsp.u.bo_create.handle;
	return ret;
}

/**
 * vgpu_front_req_bo_destroy() - BO_DESTROY
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @handle: the backend's handle
 * @how: killable, or not
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_req_bo_destroy(struct vgpu_front *f, u64 gen, u32 handle,
			      enum vgpu_front_wait how)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_BO_DESTROY };
	struct vgpuif_response rsp;
	int ret;

	req.u.bo_destroy.handle = handle;
	ret = vgpu_front_call(f, gen, how, &req, &rsp);
	return ret ? ret : rsp.status;
}
