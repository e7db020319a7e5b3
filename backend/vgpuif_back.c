// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpuif_back.c - decoding of vgpuif requests into the core's
 * dispatcher, in naive and hp mode (see vgpuif_back.h).  Builds without Xen: in
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
	mem = __vmalloc(size, VGPU_GFP_CLIENT_KV | __GFP_ZERO);
	if (!mem) {
		vgpu_quota_unreserve(c, DRM_VGPU_DOMAIN_HOST, size);
		return -ENOMEM;
	}
	return vgpu_op_bo_create_host(c, size, mem, NULL, &vgpuif_back_host_ops,
				      mem, &a->handle);
}

/*
 * Is @gref a page of the guest's ring?  Then the backend must not write
 * it: the guest would overwrite its own ring and then be punished for
 * the overflow.  (A second grant of the same page is the guest's own
 * doing and harms only it.)
 */
static bool vgpuif_back_ring_dest(struct vgpu_client *c,
				  const struct vgpuif_back_ops *ops, void *priv,
				  u32 gref, const char *what)
{
	if (!ops->ring_gref || !ops->ring_gref(priv, gref))
		return false;
	vgpu_client_msg(c, false,
			"%s refused: grant %u is a page of the ring\n",
			what, gref);
	return true;
}

static int vgpuif_back_bo_io(struct vgpu_client *c,
			     const struct vgpuif_back_ops *ops, void *priv,
			     const struct vgpuif_bo_io *io, bool write)
{
	struct vgpu_bo *bo;
	int ret;

	if (!write && vgpuif_back_ring_dest(c, ops, priv, io->gref, "BO_READ"))
		return -EINVAL;
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
	struct drm_vgpu_cmd *cmd = kvmalloc(sizeof(*cmd), VGPU_GFP_CLIENT_KV);
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

/*
 * hp mode: the @n grant references of a page directory starting at
 * @dir_gref, read with grant copies into @grefs.
 */
static int vgpuif_back_read_dir(const struct vgpuif_back_ops *ops, void *priv,
				u32 dir_gref, u32 n, u32 *grefs)
{
	struct vgpuif_page_dir *dir = kmalloc(sizeof(*dir), VGPU_GFP_CLIENT);
	u32 done = 0, take;
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	while (done < n) {
		if (!dir_gref) {	/* the chain ends too early */
			ret = -EINVAL;
			break;
		}
		ret = ops->copy_in(priv, dir_gref, dir, sizeof(*dir));
		if (ret)
			break;
		take = min_t(u32, n - done, VGPUIF_DIR_GREFS);
		memcpy(grefs + done, dir->gref, take * sizeof(u32));
		done += take;
		dir_gref = dir->next_gref;
		cond_resched();
	}
	kfree(dir);
	return ret;
}

/*
 * hp mode: @len octets in the guest pages of the directory @dir_gref,
 * copied into a new kvmalloc()ed buffer (the caller frees it).
 */
static void *vgpuif_back_gather(const struct vgpuif_back_ops *ops, void *priv,
				u32 dir_gref, size_t len, int *err)
{
	u32 n = DIV_ROUND_UP(len, VGPUIF_PAGE_SIZE), i;
	u32 *grefs = kvmalloc_array(n, sizeof(u32), VGPU_GFP_CLIENT_KV);
	u8 *buf = kvmalloc(len, VGPU_GFP_CLIENT_KV);
	int ret = -ENOMEM;

	if (!grefs || !buf)
		goto err;
	ret = vgpuif_back_read_dir(ops, priv, dir_gref, n, grefs);
	for (i = 0; !ret && i < n; i++)
		ret = ops->copy_in(priv, grefs[i], buf + (size_t)i * VGPUIF_PAGE_SIZE,
				   min_t(size_t, len - (size_t)i * VGPUIF_PAGE_SIZE,
					 VGPUIF_PAGE_SIZE));
	if (ret)
		goto err;
	kvfree(grefs);
	return buf;
err:
	kvfree(grefs);
	kvfree(buf);
	*err = ret;
	return NULL;
}

/* hp: a host-memory object made of the guest's pages, mapped for life. */
static int vgpuif_back_bo_granted(struct vgpu_client *c,
				  const struct vgpuif_back_ops *ops, void *priv,
				  struct vgpuif_bo_granted *b)
{
	u32 n, i, *grefs;
	struct page **pages;
	void *mem;
	int ret;

	if (b->size > c->quota.hostmem)
		return -EDQUOT;
	n = b->size >> PAGE_SHIFT;
	ret = vgpu_quota_reserve(c, DRM_VGPU_DOMAIN_HOST, b->size);
	if (ret)
		return ret;
	grefs = kvmalloc_array(n, sizeof(u32), VGPU_GFP_CLIENT_KV);
	ret = grefs ? vgpuif_back_read_dir(ops, priv, b->dir_gref, n, grefs) :
		      -ENOMEM;
	for (i = 0; !ret && i < n; i++)
		if (vgpuif_back_ring_dest(c, ops, priv, grefs[i],
					  "BO_CREATE_GRANTED"))
			ret = -EINVAL;
	if (!ret)
		ret = ops->map_pages(priv, grefs, n, &pages, &mem);
	kvfree(grefs);
	if (ret) {
		vgpu_quota_unreserve(c, DRM_VGPU_DOMAIN_HOST, b->size);
		return ret;
	}
	return vgpu_op_bo_create_host(c, b->size, NULL, pages, ops->granted_ops,
				      mem, &b->handle);
}

/* hp: many bind operations of any size, applied in order. */
static int vgpuif_back_bind_batch(struct vgpu_client *c,
				  const struct vgpuif_back_ops *ops, void *priv,
				  const struct vgpuif_vm_bind_batch *b,
				  u32 *done)
{
	struct drm_vgpu_vm_bind_op *bops;
	int ret = 0;

	if (b->num_ops == 1)
		return vgpu_op_vm_bind(c, b->ctx_id, &b->op, 1, done);
	bops = vgpuif_back_gather(ops, priv, b->dir_gref,
				  array_size(b->num_ops, sizeof(*bops)), &ret);
	if (!bops)
		return ret;
	ret = vgpu_op_vm_bind(c, b->ctx_id, bops, b->num_ops, done);
	kvfree(bops);
	return ret;
}

/* hp: the whole submission in one request, answered when it has run. */
static int vgpuif_back_submit_async(struct vgpu_client *c,
				    const struct vgpuif_back_ops *ops,
				    void *priv, u64 id,
				    const struct vgpuif_submit_async *s,
				    struct vgpuif_submit_rsp *rsp)
{
	struct drm_vgpu_cmd *cmds;
	struct dma_fence *fence;
	u64 seqno;
	int ret = 0;

	if (s->num_cmds == 1) {
		cmds = kvmalloc(sizeof(*cmds), VGPU_GFP_CLIENT_KV);
		if (cmds)
			*cmds = s->cmd;
	} else {
		cmds = vgpuif_back_gather(ops, priv, s->dir_gref,
					  array_size(s->num_cmds, sizeof(*cmds)),
					  &ret);
	}
	if (!cmds)
		return ret ?: -ENOMEM;
	/* The core checks every command and owns @cmds on success. */
	ret = vgpu_op_submit(c, s->ctx_id, cmds, s->num_cmds, NULL, 0, &fence,
			     &seqno);
	if (ret) {
		kvfree(cmds);
		return ret;
	}
	rsp->seqno = seqno;
	ret = ops->complete_later(priv, id, fence, seqno);
	if (ret)
		return ret;	/* the job runs; its answer is this error */
	return VGPUIF_BACK_LATER;
}

/* Requests of the hp mode; @ret is -EOPNOTSUPP for a naive connection. */
static int vgpuif_back_handle_hp(struct vgpu_client *c,
				 const struct vgpuif_back_ops *ops, void *priv,
				 const struct vgpuif_request *req,
				 struct vgpuif_response *rsp)
{
	switch (req->operation) {
	case VGPUIF_OP_BO_CREATE_GRANTED:
		rsp->u.bo_granted = req->u.bo_granted;
		return vgpuif_back_bo_granted(c, ops, priv, &rsp->u.bo_granted);
	case VGPUIF_OP_VM_BIND_BATCH:
		rsp->u.vm_bind_batch = req->u.vm_bind_batch;
		return vgpuif_back_bind_batch(c, ops, priv, &req->u.vm_bind_batch,
					      &rsp->u.vm_bind_batch.num_done);
	case VGPUIF_OP_SUBMIT_ASYNC:
		return vgpuif_back_submit_async(c, ops, priv, req->id,
						&req->u.submit_async,
						&rsp->u.submit);
	}
	return -EOPNOTSUPP;
}

/**
 * vgpuif_back_async_response() - the answer to a SUBMIT_ASYNC whose job
 *	has finished
 * @id: the request's id
 * @err: the error of the job's fence, signalled (its ->error, which a
 *	fence callback reads without taking the fence's lock, held there)
 * @seqno: the job's number on its context
 * @rsp: out, the response
 */
void vgpuif_back_async_response(u64 id, int err, u64 seqno,
				struct vgpuif_response *rsp)
{
	memset(rsp, 0, sizeof(*rsp));
	rsp->id = id;
	rsp->operation = VGPUIF_OP_SUBMIT_ASYNC;
	rsp->u.submit.seqno = seqno;
	rsp->status = vgpuif_back_status(err < 0 ? err : 0);
}

/**
 * vgpuif_back_handle() - answer one request of a guest
 * @c: the guest's client
 * @hp: the connection is in hp mode: its operations are accepted
 * @ops: what the transport does
 * @priv: argument of @ops
 * @req: the request, copied off the ring
 * @rsp: out, the response, with a status the protocol defines
 *
 * Return: the error as the core gave it (@rsp has it mapped to the
 * protocol's codes), for the transport's own accounting; or
 * VGPUIF_BACK_LATER: the transport answers once the job has run.
 */
int vgpuif_back_handle(struct vgpu_client *c, bool hp,
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
		vgpu_op_info(c, hp ? DRM_VGPU_MODE_HP : DRM_VGPU_MODE_NAIVE,
			     &rsp->u.info);
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
		if (!hp && req->u.vm_bind.op.size != VGPUIF_PAGE_SIZE) {
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
	default:
		ret = hp ? vgpuif_back_handle_hp(c, ops, priv, req, rsp) :
			   -EOPNOTSUPP;
		if (ret == VGPUIF_BACK_LATER)
			return ret;
		break;
	}
out:
	rsp->status = vgpuif_back_status(ret);
	return ret;
}
