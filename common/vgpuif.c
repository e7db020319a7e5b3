// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpuif.c - checks of vgpuif requests, shared by the backend, the tests
 * and userspace tools.  The caller passes its private copy of the
 * request, never the shared ring slot.
 */
#include "vgpu_compat.h"
#include "vgpuif.h"
#include "vgpu_uapi.h"

static_assert(sizeof(struct vgpuif_request) == 192, "request layout");
static_assert(sizeof(struct vgpuif_response) == 192, "response layout");
static_assert(sizeof(struct vgpuif_submit) <= VGPUIF_PAYLOAD_SIZE,
	      "submit payload");
static_assert(sizeof(struct drm_vgpu_info) <= VGPUIF_PAYLOAD_SIZE,
	      "info payload");

static bool vgpuif_all_zero(const u8 *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static int vgpuif_check_bo_io(const struct vgpuif_bo_io *io)
{
	if (!io->handle || io->reserved || io->offset & (VGPUIF_PAGE_SIZE - 1))
		return -EINVAL;
	if (!io->length || io->length > VGPUIF_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

/**
 * vgpuif_check_request() - validate a request before acting on it
 * @req: private copy of the request
 *
 * Return: 0; -EOPNOTSUPP for an unknown operation; -EINVAL for a
 * non-zero reserved octet, a bad argument, or payload octets the
 * operation does not define that are not zero.
 */
int vgpuif_check_request(const struct vgpuif_request *req)
{
	size_t used;
	int ret = 0;

	if (!vgpuif_all_zero(req->reserved, sizeof(req->reserved)))
		return -EINVAL;
	switch (req->operation) {
	case VGPUIF_OP_GET_INFO:
		used = 0;
		break;
	case VGPUIF_OP_CTX_CREATE:
		ret = vgpu_check_ctx_create(&req->u.ctx_create);
		used = sizeof(req->u.ctx_create);
		break;
	case VGPUIF_OP_CTX_DESTROY:
		ret = vgpu_check_ctx_destroy(&req->u.ctx_destroy);
		used = sizeof(req->u.ctx_destroy);
		break;
	case VGPUIF_OP_CTX_STATUS:
		ret = vgpu_check_ctx_status(&req->u.ctx_status);
		used = sizeof(req->u.ctx_status);
		break;
	case VGPUIF_OP_BO_CREATE:
		ret = vgpu_check_bo_create(&req->u.bo_create, U64_MAX);
		used = sizeof(req->u.bo_create);
		break;
	case VGPUIF_OP_BO_DESTROY:
		ret = vgpu_check_bo_destroy(&req->u.bo_destroy);
		used = sizeof(req->u.bo_destroy);
		break;
	case VGPUIF_OP_BO_WRITE:
	case VGPUIF_OP_BO_READ:
		ret = vgpuif_check_bo_io(&req->u.bo_io);
		used = sizeof(req->u.bo_io);
		break;
	case VGPUIF_OP_VM_BIND:
		if (!req->u.vm_bind.ctx_id || req->u.vm_bind.reserved)
			return -EINVAL;
		ret = vgpu_check_bind_op(&req->u.vm_bind.op);
		used = sizeof(req->u.vm_bind);
		break;
	case VGPUIF_OP_SUBMIT:
		if (!req->u.submit.ctx_id || req->u.submit.reserved)
			return -EINVAL;
		ret = vgpu_check_cmd(&req->u.submit.cmd);
		used = sizeof(req->u.submit);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ret)
		return ret;
	if (!vgpuif_all_zero(req->u.raw + used, VGPUIF_PAYLOAD_SIZE - used))
		return -EINVAL;
	return 0;
}

/**
 * vgpuif_op_name() - name of an operation, for messages and counters
 * @op: VGPUIF_OP_*
 *
 * Return: a static string; "unknown" for undefined operations.
 */
const char *vgpuif_op_name(unsigned int op)
{
	static const char *const names[] = {
		[VGPUIF_OP_GET_INFO] = "get-info",
		[VGPUIF_OP_CTX_CREATE] = "ctx-create",
		[VGPUIF_OP_CTX_DESTROY] = "ctx-destroy",
		[VGPUIF_OP_CTX_STATUS] = "ctx-status",
		[VGPUIF_OP_BO_CREATE] = "bo-create",
		[VGPUIF_OP_BO_DESTROY] = "bo-destroy",
		[VGPUIF_OP_BO_WRITE] = "bo-write",
		[VGPUIF_OP_BO_READ] = "bo-read",
		[VGPUIF_OP_VM_BIND] = "vm-bind",
		[VGPUIF_OP_SUBMIT] = "submit",
	};

	return op <= VGPUIF_OP_MAX && names[op] ? names[op] : "unknown";
}
