// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_hp.c - hp mode's requests: each operation whole.  A VM_BIND
 * or a SUBMIT is one request, its operations or commands in granted pages
 * when more than one; a submission returns once posted and its fence
 * signals with the response (vgpu_front_ring.c).  A host-memory object is
 * its own pages, granted to the backend for the object's life: nothing is
 * copied.  Past the backend's persistent grant quota an object falls back
 * to copies (vgpu_front_naive.c), and a file that holds such an object
 * waits for its submissions.
 */
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_syncobj.h>
#include <linux/completion.h>
#include <linux/dma-fence.h>

#include "vgpu_front.h"

/*
 * hp: the object's own pages, granted for its life.  -EDQUOT (the
 * backend's persistent grant quota) or -ENOSPC (the guest's grant table
 * is full) make the caller fall back to an object kept by copies.
 */
static int vgpu_front_bo_create_granted(struct vgpu_front *f,
					struct vgpu_front_file *ff,
					struct vgpu_front_bo *bo)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_BO_CREATE_GRANTED };
	struct vgpuif_response rsp;
	int ret;

	if (bo->size >> PAGE_SHIFT > U32_MAX)
		return -EDQUOT;	/* more pages than a directory can name */
	ret = vgpu_front_grant_pages(f, bo->shmem->pages, bo->size >> PAGE_SHIFT,
				     false, &bo->grants);
	if (ret)
		return ret;
	req.u.bo_granted.size = bo->size;
	req.u.bo_granted.dir_gref = bo->grants.dir_grefs[0];
	ret = vgpu_front_do(f, ff->gen, &req, &rsp);
	vgpu_front_end_dir(&bo->grants);
	if (ret) {
		vgpu_front_ungrant(&bo->grants);
		return ret;
	}
	bo->be = rsp.u.bo_granted.handle;
	atomic64_add(bo->grants.n, &f->stats.grant_maps);
	return 0;
}

/* A host object granted (or, past the quota, kept by copies); else dom0's. */
static int vgpu_front_hp_bo_create(struct vgpu_front *f,
				   struct vgpu_front_file *ff,
				   const struct drm_vgpu_bo_create *a,
				   struct vgpu_front_bo *bo)
{
	int ret;

	if (bo->shmem) {
		/* BO_CREATE_GRANTED has only the size: nothing may be lost. */
		if (a->flags || a->pad || a->handle)
			return -EINVAL;
		ret = vgpu_front_bo_create_granted(f, ff, bo);
		if (ret != -EDQUOT && ret != -ENOSPC)
			return ret;
	}
	return vgpu_front_req_bo_create(f, ff->gen, a, &bo->be);
}

/* hp mode: every operation in one request, more than one in granted pages. */
static int vgpu_front_vm_bind_hp(struct vgpu_front *f,
				 struct vgpu_front_file *ff,
				 struct drm_vgpu_vm_bind *a,
				 const struct drm_vgpu_vm_bind_op *ops,
				 struct vgpu_front_ctx *ctx)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_VM_BIND_BATCH };
	struct vgpu_front_grants g = {};
	struct vgpuif_response rsp;
	int ret;

	if (READ_ONCE(ctx->destroyed))
		return -ENOENT;
	req.u.vm_bind_batch.ctx_id = ctx->be;
	req.u.vm_bind_batch.num_ops = a->num_ops;
	if (a->num_ops == 1) {
		vgpuif_copy(&req.u.vm_bind_batch.op, &ops[0]);
	} else {
		ret = vgpu_front_grant_data(f, ops, a->num_ops * sizeof(*ops), &g);
		if (ret)
			return ret;
		req.u.vm_bind_batch.dir_gref = g.dir_grefs[0];
	}
	ret = vgpu_front_call(f, ff->gen, VGPU_FRONT_KILLABLE, &req, &rsp);
	vgpu_front_ungrant(&g);
	if (ret)
		return ret;
	a->num_done = min(rsp.u.vm_bind_batch.num_done, a->num_ops);
	return rsp.status;
}

/* A killable wait on a fence: a callback completes it. */
struct vgpu_front_fence_wait {
	struct dma_fence_cb cb;
	struct completion done;
};

static void vgpu_front_fence_woken(struct dma_fence *fence,
				   struct dma_fence_cb *cb)
{
	complete(&container_of(cb, struct vgpu_front_fence_wait, cb)->done);
}

/*
 * Waits for @fence; only a fatal signal ends the wait early (-EINTR),
 * never another signal, whose restarted call would post the commands
 * again.  Not freezable: a save waits for the job and the copies back.
 */
static int vgpu_front_fence_wait_killable(struct dma_fence *fence)
{
	struct vgpu_front_fence_wait w;

	init_completion(&w.done);
	if (dma_fence_add_callback(fence, &w.cb, vgpu_front_fence_woken))
		return 0;	/* signalled already */
	if (!wait_for_completion_killable(&w.done))
		return 0;
	/* Removed, or it ran under the fence's lock: @w is unused now. */
	dma_fence_remove_callback(fence, &w.cb);
	return -EINTR;
}

/*
 * hp mode: the whole submission in one request, answered when it has run;
 * the call returns once it is posted.  A file with objects kept by copies
 * waits for it (the copies back need the result).  A context destroyed
 * before it is posted fails it (-ENOENT); once posted, the backend's
 * destroy, which comes after it on the ring, cancels it: the use of the
 * context (*@ctxp) is dropped then, and *@ctxp set to NULL.
 */
static int vgpu_front_submit_hp(struct vgpu_front *f,
				struct vgpu_front_file *ff,
				struct drm_vgpu_submit *a,
				const struct drm_vgpu_cmd *cmds,
				struct drm_syncobj *out,
				struct vgpu_front_ctx **ctxp)
{
	struct vgpu_front_ctx *ctx = *ctxp;
	struct vgpuif_request req = { .operation = VGPUIF_OP_SUBMIT_ASYNC };
	struct vgpu_front_grants g = {};
	struct dma_fence *fence;
	bool copies;
	int ret;

	fence = vgpu_front_ctx_fence(ff, ctx, &a->seqno);
	if (IS_ERR(fence))
		return PTR_ERR(fence);
	ret = READ_ONCE(ctx->dead) ? -EIO : 0;
	req.u.submit_async.ctx_id = ctx->be;
	req.u.submit_async.num_cmds = a->num_cmds;
	if (!ret && a->num_cmds == 1) {
		vgpuif_copy(&req.u.submit_async.cmd, &cmds[0]);
	} else if (!ret) {
		ret = vgpu_front_grant_data(f, cmds, a->num_cmds * sizeof(*cmds),
					    &g);
		if (!ret)
			req.u.submit_async.dir_gref = g.dir_grefs[0];
	}
	mutex_lock(&ff->lock);
	copies = ff->copied;
	mutex_unlock(&ff->lock);
	if (!ret && copies)
		ret = vgpu_front_sync_host(f, ff, true);
	if (!ret && READ_ONCE(ctx->destroyed))
		ret = -ENOENT;
	if (!ret)
		ret = vgpu_front_submit_async(f, ff->gen, &req, &g, fence, ctx);
	if (ret) {
		vgpu_front_ungrant(&g);
		goto out;
	}
	*ctxp = NULL;
	vgpu_front_ctx_unuse(f, ff, ctx);
	if (out)
		drm_syncobj_replace_fence(out, fence);
	if (copies) {
		ret = vgpu_front_fence_wait_killable(fence);
		if (!ret && !fence->error)
			ret = vgpu_front_sync_host(f, ff, false);
	}
out:
	dma_fence_put(fence);
	return ret;
}

const struct vgpu_front_proto vgpu_front_hp_proto = {
	.bo_create = vgpu_front_hp_bo_create,
	.vm_bind = vgpu_front_vm_bind_hp,
	.submit = vgpu_front_submit_hp,
};
