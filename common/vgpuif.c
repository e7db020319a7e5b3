// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpuif.c - the envelope of a vgpuif request, checked by the backend's
 * decoder (vgpuif_back.c) before it calls the core: the operation, the
 * reserved octets, the payload octets the operation does not define, a
 * page I/O's range and a batch's shape.  What the payload means (a
 * command, a bind operation, a context's priority, an object's size) is
 * the core's to check, once (vgpu_op_*() in backend/vgpu_core.c).  The
 * caller passes its private copy of the request, never the ring slot.
 */
#include "vgpu_compat.h"
#include "vgpuif_check.h"

static_assert(sizeof(struct vgpuif_request) == 192, "request layout");
static_assert(sizeof(struct vgpuif_response) == 192, "response layout");
static_assert(sizeof(struct vgpuif_submit) <= VGPUIF_PAYLOAD_SIZE,
	      "submit payload");
static_assert(sizeof(struct vgpuif_info) <= VGPUIF_PAYLOAD_SIZE,
	      "info payload");
static_assert(sizeof(struct vgpuif_submit_async) <= VGPUIF_PAYLOAD_SIZE,
	      "asynchronous submit payload");
static_assert(sizeof(struct vgpuif_page_dir) == VGPUIF_PAGE_SIZE,
	      "page directory");

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

/* One item inline, or several in pages of a directory: never both. */
static int vgpuif_check_batch(u32 n, u32 max, u32 dir_gref,
			      const void *inline_item, size_t item_size)
{
	if (!n || n > max)
		return -EINVAL;
	if (n == 1)
		return dir_gref ? -EINVAL : 0;
	if (!dir_gref || !vgpuif_all_zero(inline_item, item_size))
		return -EINVAL;
	return 0;
}

static int vgpuif_check_bo_granted(const struct vgpuif_bo_granted *b)
{
	if (!b->size || b->size & (VGPUIF_PAGE_SIZE - 1) || b->handle)
		return -EINVAL;
	/* A directory names at most 2^32 - 1 pages (u32 counts). */
	if (b->size / VGPUIF_PAGE_SIZE > 0xffffffffULL)
		return -EINVAL;
	/* A directory reference is needed whatever the size. */
	return b->dir_gref ? 0 : -EINVAL;
}

static int vgpuif_check_bind_batch(const struct vgpuif_vm_bind_batch *b)
{
	if (!b->ctx_id || b->num_done)
		return -EINVAL;
	return vgpuif_check_batch(b->num_ops, VGPUIF_MAX_BIND_OPS,
				  b->dir_gref, &b->op, sizeof(b->op));
}

static int vgpuif_check_submit_async(const struct vgpuif_submit_async *s)
{
	if (!s->ctx_id || s->reserved)
		return -EINVAL;
	return vgpuif_check_batch(s->num_cmds, VGPUIF_MAX_CMDS, s->dir_gref,
				  &s->cmd, sizeof(s->cmd));
}

/**
 * vgpuif_check_request() - check a request's envelope before decoding it
 * @req: private copy of the request
 *
 * Return: 0; -EOPNOTSUPP for an unknown operation; -EINVAL for a
 * non-zero reserved octet, payload octets the operation does not define
 * that are not zero, a page I/O outside one page, a batch of a bad
 * shape, or a granted object that is not 1 to 2^32 - 1 whole pages (what
 * its directory can name).  The payload's meaning is left to the core.
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
		used = sizeof(req->u.ctx_create);
		break;
	case VGPUIF_OP_CTX_DESTROY:
		used = sizeof(req->u.ctx_destroy);
		break;
	case VGPUIF_OP_CTX_STATUS:
		used = sizeof(req->u.ctx_status);
		break;
	case VGPUIF_OP_BO_CREATE:
		used = sizeof(req->u.bo_create);
		break;
	case VGPUIF_OP_BO_DESTROY:
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
		used = sizeof(req->u.vm_bind);
		break;
	case VGPUIF_OP_SUBMIT:
		if (!req->u.submit.ctx_id || req->u.submit.reserved)
			return -EINVAL;
		used = sizeof(req->u.submit);
		break;
	case VGPUIF_OP_BO_CREATE_GRANTED:
		ret = vgpuif_check_bo_granted(&req->u.bo_granted);
		used = sizeof(req->u.bo_granted);
		break;
	case VGPUIF_OP_VM_BIND_BATCH:
		ret = vgpuif_check_bind_batch(&req->u.vm_bind_batch);
		used = sizeof(req->u.vm_bind_batch);
		break;
	case VGPUIF_OP_SUBMIT_ASYNC:
		ret = vgpuif_check_submit_async(&req->u.submit_async);
		used = sizeof(req->u.submit_async);
		break;
	case VGPUIF_OP_CTX_STACK:
		used = sizeof(req->u.ctx_stack);
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
		[VGPUIF_OP_BO_CREATE_GRANTED] = "bo-create-granted",
		[VGPUIF_OP_VM_BIND_BATCH] = "vm-bind-batch",
		[VGPUIF_OP_SUBMIT_ASYNC] = "submit-async",
		[VGPUIF_OP_CTX_STACK] = "ctx-stack",
	};

	return op <= VGPUIF_OP_MAX && names[op] ? names[op] : "unknown";
}
