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
#include "../common/vgpuif_uapi.h"

/* Host-domain objects of a guest in naive mode: dom0 memory. */
static void vgpuif_back_host_release(void *priv)
{
	vfree(priv);
}

static const struct vgpu_host_mem_ops vgpuif_back_host_ops = {
	.release = vgpuif_back_host_release,
};

/*
 * Only codes the protocol defines cross the ring (EBUSY only for
 * CTX_CREATE: the engine paces the guest's new contexts).
 */
static int vgpuif_back_status(int err, bool ctx_create)
{
	if (err == -EBUSY)
		return ctx_create ? err : -EIO;
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

/* Naive mode's host memory: dom0 memory, kept by copies. */
static int vgpuif_back_host_alloc(void *arg, u64 size,
				  struct vgpu_host_mem *mem)
{
	mem->vaddr = __vmalloc(size, VGPU_GFP_CLIENT_KV | __GFP_ZERO);
	if (!mem->vaddr)
		return -ENOMEM;
	mem->ops = &vgpuif_back_host_ops;
	mem->priv = mem->vaddr;
	return 0;
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
	vgpuif_copy(cmd, &s->cmd);
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

/* What vgpuif_back_map_granted() needs: the request and its transport. */
struct vgpuif_back_granted {
	struct vgpu_client *c;
	const struct vgpuif_back_ops *ops;
	void *priv;
	u32 dir_gref;
};

/*
 * hp: the memory of a granted object, the guest's own pages, mapped for
 * the object's life (called by the core once it has charged @size).
 */
static int vgpuif_back_map_granted(void *arg, u64 size,
				   struct vgpu_host_mem *mem)
{
	struct vgpuif_back_granted *g = arg;
	u32 n = size >> PAGE_SHIFT, i, *grefs;
	int ret;

	grefs = kvmalloc_array(n, sizeof(u32), VGPU_GFP_CLIENT_KV);
	ret = grefs ? vgpuif_back_read_dir(g->ops, g->priv, g->dir_gref, n,
					   grefs) : -ENOMEM;
	for (i = 0; !ret && i < n; i++)
		if (vgpuif_back_ring_dest(g->c, g->ops, g->priv, grefs[i],
					  "BO_CREATE_GRANTED"))
			ret = -EINVAL;
	if (!ret)
		ret = g->ops->map_pages(g->priv, grefs, n, &mem->pages,
					&mem->priv);
	kvfree(grefs);
	if (!ret)
		mem->ops = g->ops->granted_ops;
	return ret;
}

/* hp: BO_CREATE_GRANTED is a BO_CREATE of host memory for the core. */
static int vgpuif_back_bo_granted(struct vgpu_client *c,
				  const struct vgpuif_back_ops *ops, void *priv,
				  struct vgpuif_bo_granted *b)
{
	struct vgpuif_back_granted g = {
		.c = c, .ops = ops, .priv = priv, .dir_gref = b->dir_gref,
	};
	struct drm_vgpu_bo_create a = {
		.size = b->size, .domain = DRM_VGPU_DOMAIN_HOST,
	};
	int ret = vgpu_op_bo_create(c, &a, vgpuif_back_map_granted, &g);

	b->handle = a.handle;
	return ret;
}

/* hp: many bind operations of any size, applied in order. */
static int vgpuif_back_bind_batch(struct vgpu_client *c,
				  const struct vgpuif_back_ops *ops, void *priv,
				  const struct vgpuif_vm_bind_batch *b,
				  u32 *done)
{
	struct drm_vgpu_vm_bind_op *bops;
	int ret = 0;

	if (b->num_ops == 1) {
		struct drm_vgpu_vm_bind_op op;

		vgpuif_copy(&op, &b->op);
		return vgpu_op_vm_bind(c, b->ctx_id, &op, 1, done);
	}
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
			vgpuif_copy(cmds, &s->cmd);
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
	rsp->status = vgpuif_back_status(err < 0 ? err : 0, false);
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
	union {		/* the core's twins of the wire's structures */
		struct drm_vgpu_info info;
		struct drm_vgpu_ctx_create ctx_create;
		struct drm_vgpu_ctx_destroy ctx_destroy;
		struct drm_vgpu_ctx_status ctx_status;
		struct drm_vgpu_ctx_stack ctx_stack;
		struct drm_vgpu_bo_create bo_create;
		struct drm_vgpu_bo_destroy bo_destroy;
		struct drm_vgpu_vm_bind_op op;
	} a;
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
			     &a.info);
		vgpuif_copy(&rsp->u.info, &a.info);
		break;
	case VGPUIF_OP_CTX_CREATE:
		vgpuif_copy(&a.ctx_create, &req->u.ctx_create);
		ret = vgpu_op_ctx_create(c, &a.ctx_create);
		vgpuif_copy(&rsp->u.ctx_create, &a.ctx_create);
		break;
	case VGPUIF_OP_CTX_DESTROY:
		vgpuif_copy(&a.ctx_destroy, &req->u.ctx_destroy);
		ret = vgpu_op_ctx_destroy(c, &a.ctx_destroy);
		break;
	case VGPUIF_OP_CTX_STATUS:
		vgpuif_copy(&a.ctx_status, &req->u.ctx_status);
		ret = vgpu_op_ctx_status(c, &a.ctx_status);
		vgpuif_copy(&rsp->u.ctx_status, &a.ctx_status);
		break;
	case VGPUIF_OP_CTX_STACK:
		vgpuif_copy(&a.ctx_stack, &req->u.ctx_stack);
		ret = vgpu_op_ctx_stack(c, &a.ctx_stack);
		if (!ret)
			vgpuif_copy(&rsp->u.ctx_stack, &a.ctx_stack);
		break;
	case VGPUIF_OP_BO_CREATE:
		vgpuif_copy(&a.bo_create, &req->u.bo_create);
		ret = vgpu_op_bo_create(c, &a.bo_create, vgpuif_back_host_alloc,
					NULL);
		vgpuif_copy(&rsp->u.bo_create, &a.bo_create);
		break;
	case VGPUIF_OP_BO_DESTROY:
		vgpuif_copy(&a.bo_destroy, &req->u.bo_destroy);
		ret = vgpu_op_bo_destroy(c, &a.bo_destroy);
		break;
	case VGPUIF_OP_BO_WRITE:
	case VGPUIF_OP_BO_READ:
		ret = vgpuif_back_bo_io(c, ops, priv, &req->u.bo_io,
					req->operation == VGPUIF_OP_BO_WRITE);
		break;
	case VGPUIF_OP_VM_BIND:
		/* Naive mode: one GPU page (the engine's) per request. */
		if (!hp && req->u.vm_bind.op.size !=
			   vgpu_engine_page_size(c->engine)) {
			ret = -EINVAL;
			break;
		}
		vgpuif_copy(&a.op, &req->u.vm_bind.op);
		ret = vgpu_op_vm_bind(c, req->u.vm_bind.ctx_id, &a.op, 1,
				      &done);
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
	rsp->status = vgpuif_back_status(ret,
					 req->operation == VGPUIF_OP_CTX_CREATE);
	return ret;
}
