// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpuif_back.c - decoding of vgpuif requests into the core's
 * dispatcher, in naive mode (see vgpuif_back.h).  Builds without Xen: in
 * vgpu-back and in the fuzzer.
 */
#include <linux/dma-fence.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "vgpuif_back.h"

/* Host-domain objects of a guest in naive mode: dom0 memory. */
static void vgpuif_back_host_release(void *priv)
{
	vfree(priv);
}

static const struct vgpu_host_mem_ops vgpuif_back_host_ops = {
	.release = vgpuif_back_host_release,
};

/* Only codes the protocol defines cross the ring. */
static int vgpuif_back_status(int err)
{
	switch (err) {
	case 0:
	case -ENOENT:
	case -EIO:
	case -ENOMEM:
	case -EFAULT:
	case -EEXIST:
	case -EINVAL:
	case -ENOSPC:
	case -EOPNOTSUPP:
	case -ETIMEDOUT:
	case -EDQUOT:
	case -ECANCELED:
		return err;
	default:
		return -EIO;
	}
}

static int vgpuif_back_bo_create(struct vgpu_client *c,
				 struct drm_vgpu_bo_create *a)
{
	void *mem;
	u64 size;
	int ret;

	if (a->domain == DRM_VGPU_DOMAIN_DEVICE)
		return vgpu_op_bo_create_device(c, a->size, &a->handle);
	if (a->size > c->quota.hostmem)
		return -EDQUOT;
	size = PAGE_ALIGN(a->size);
	ret = vgpu_quota_reserve(c, DRM_VGPU_DOMAIN_HOST, size);
	if (ret)
		return ret;
	mem = vzalloc(size);
	if (!mem) {
		vgpu_quota_unreserve(c, DRM_VGPU_DOMAIN_HOST, size);
		return -ENOMEM;
	}
	return vgpu_op_bo_create_host(c, size, mem, NULL, &vgpuif_back_host_ops,
				      mem, &a->handle);
}

static int vgpuif_back_bo_io(struct vgpu_client *c,
			     const struct vgpuif_back_ops *ops, void *priv,
			     const struct vgpuif_bo_io *io, bool write)
{
	struct vgpu_bo *bo;
	int ret;

	ret = vgpu_op_bo_host_range(c, io->handle, io->offset, io->length,
				    &bo);
	if (ret)
		return ret;
	ret = ops->bo_io(priv, bo, io, write);
	vgpu_bo_put(bo);
	return ret;
}

/* Naive mode: one command, answered once it has run. */
static int vgpuif_back_submit(struct vgpu_client *c,
			      const struct vgpuif_back_ops *ops, void *priv,
			      const struct vgpuif_submit *s,
			      struct vgpuif_submit_rsp *rsp)
{
	struct drm_vgpu_cmd *cmd = kvmalloc(sizeof(*cmd), GFP_KERNEL);
	struct dma_fence *fence;
	u64 seqno;
	int ret;

	if (!cmd)
		return -ENOMEM;
	*cmd = s->cmd;
	ret = vgpu_op_submit(c, s->ctx_id, cmd, 1, NULL, 0, &fence, &seqno);
	if (ret) {
		kvfree(cmd);
		return ret;
	}
	rsp->seqno = seqno;
	ret = ops->wait(priv, fence);
	if (!ret)
		ret = dma_fence_get_status(fence);
	dma_fence_put(fence);
	return ret < 0 ? ret : 0;
}

/**
 * vgpuif_back_handle() - answer one request of a guest
 * @c: the guest's client
 * @ops: what the transport does
 * @priv: argument of @ops
 * @req: the request, copied off the ring
 * @rsp: out, the response, with a status the protocol defines
 *
 * Return: the error as the core gave it (@rsp has it mapped to the
 * protocol's codes), for the transport's own accounting.
 */
int vgpuif_back_handle(struct vgpu_client *c,
		       const struct vgpuif_back_ops *ops, void *priv,
		       const struct vgpuif_request *req,
		       struct vgpuif_response *rsp)
{
	u32 done;
	int ret;

	memset(rsp, 0, sizeof(*rsp));
	rsp->id = req->id;
	rsp->operation = req->operation;
	ret = vgpuif_check_request(req);
	if (ret)
		goto out;

	switch (req->operation) {
	case VGPUIF_OP_GET_INFO:
		vgpu_op_info(c, DRM_VGPU_MODE_NAIVE, &rsp->u.info);
		break;
	case VGPUIF_OP_CTX_CREATE:
		rsp->u.ctx_create = req->u.ctx_create;
		ret = vgpu_op_ctx_create(c, &rsp->u.ctx_create);
		break;
	case VGPUIF_OP_CTX_DESTROY:
		ret = vgpu_op_ctx_destroy(c, &req->u.ctx_destroy);
		break;
	case VGPUIF_OP_CTX_STATUS:
		rsp->u.ctx_status = req->u.ctx_status;
		ret = vgpu_op_ctx_status(c, &rsp->u.ctx_status);
		break;
	case VGPUIF_OP_BO_CREATE:
		rsp->u.bo_create = req->u.bo_create;
		ret = vgpuif_back_bo_create(c, &rsp->u.bo_create);
		break;
	case VGPUIF_OP_BO_DESTROY:
		ret = vgpu_op_bo_destroy(c, req->u.bo_destroy.handle);
		break;
	case VGPUIF_OP_BO_WRITE:
	case VGPUIF_OP_BO_READ:
		ret = vgpuif_back_bo_io(c, ops, priv, &req->u.bo_io,
					req->operation == VGPUIF_OP_BO_WRITE);
		break;
	case VGPUIF_OP_VM_BIND:
		/* Naive mode: one page per request, as the protocol says. */
		if (req->u.vm_bind.op.size != VGPUIF_PAGE_SIZE) {
			ret = -EINVAL;
			break;
		}
		ret = vgpu_op_vm_bind(c, req->u.vm_bind.ctx_id,
				      &req->u.vm_bind.op, 1, &done);
		break;
	case VGPUIF_OP_SUBMIT:
		ret = vgpuif_back_submit(c, ops, priv, &req->u.submit,
					 &rsp->u.submit);
		break;
	}
out:
	rsp->status = vgpuif_back_status(ret);
	return ret;
}
