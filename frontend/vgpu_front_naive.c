// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_naive.c - naive mode's requests: each operation in
 * fine-grained requests, each answered before the next is sent: one per
 * GPU page of a VM_BIND, one per command of a submission, and one per page of
 * host memory moved.  A host-memory object is a GEM shmem object in the
 * guest backed by an object of the same size in dom0: a submission copies
 * the file's host objects to dom0 first and back afterwards, page by page
 * (hp mode does so too for an object past the persistent grant quota).
 *
 * The render node's pre-flight has refused malformed operations and
 * commands whole (vgpu_front_drv.c); a request the core refuses in the
 * middle of an operation (a mapping already there, a quota) ends it, and
 * the operations before it stay done: VM_BIND's num_done counts whole
 * operations (the pages a refused MAP had mapped are unmapped again), and
 * a submission's host objects are copied back once any of its commands
 * has run.
 */
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_syncobj.h>
#include <linux/dma-fence.h>
#include <linux/log2.h>
#include <linux/sizes.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "vgpu_front.h"

/**
 * vgpu_front_page_io() - copy one guest page into or out of a backend
 *	host-memory object (naive mode: granted for this request only)
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @handle: the backend's handle of the object
 * @offset: page-aligned offset in the object
 * @page: guest page
 * @to_backend: true: BO_WRITE (granted read-only); false: BO_READ
 *
 * The grant is ended with gnttab_end_foreign_access(), which keeps a
 * reference to @page until the backend has unmapped it (a call that
 * timed out or was killed leaves the request in the backend's hands).
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_page_io(struct vgpu_front *f, u64 gen, u32 handle,
		       u64 offset, struct page *page, bool to_backend)
{
	struct vgpuif_request req = {};
	struct vgpuif_response rsp;
	int gref, ret;

	gref = gnttab_grant_foreign_access(f->backend_id,
					   xen_page_to_gfn(page), to_backend);
	if (gref < 0)
		return gref;
	atomic64_inc(&f->stats.grants);
	req.operation = to_backend ? VGPUIF_OP_BO_WRITE : VGPUIF_OP_BO_READ;
	req.u.bo_io.handle = handle;
	req.u.bo_io.gref = gref;
	req.u.bo_io.offset = offset;
	req.u.bo_io.length = PAGE_SIZE;
	ret = vgpu_front_do(f, gen, &req, &rsp);
	get_page(page);		/* dropped once the grant has ended */
	gnttab_end_foreign_access(gref, page);
	if (!ret) {
		atomic64_add(PAGE_SIZE, &f->stats.bytes);
		atomic64_inc(&f->stats.grant_maps);
		atomic64_inc(&f->stats.grant_unmaps);
	}
	return ret;
}

/**
 * vgpu_front_bo_io() - copy a host object kept by copies, page by page
 * @f: the vGPU
 * @gen: generation of the caller's connection
 * @bo: the object (its guest pages, its backend object)
 * @to_backend: to dom0, or back
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_bo_io(struct vgpu_front *f, u64 gen, struct vgpu_front_bo *bo,
		     bool to_backend)
{
	u64 p;
	int ret = 0;

	for (p = 0; !ret && p < bo->size; p += PAGE_SIZE)
		ret = vgpu_front_page_io(f, gen, bo->be, p,
					 bo->shmem->pages[p >> PAGE_SHIFT],
					 to_backend);
	return ret;
}

/**
 * vgpu_front_sync_host() - copy the file's host objects kept by copies
 * @f: the vGPU
 * @ff: the file
 * @to_backend: to dom0 (before a submission), or back (after it)
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_sync_host(struct vgpu_front *f, struct vgpu_front_file *ff,
			 bool to_backend)
{
	struct vgpu_front_bo *bo;
	unsigned long handle;
	int ret = 0;

	mutex_lock(&ff->lock);
	xa_for_each(&ff->bos, handle, bo) {
		if (!bo->shmem || bo->grants.n)	/* granted: nothing to copy */
			continue;
		ret = vgpu_front_bo_io(f, ff->gen, bo, to_backend);
		if (ret)
			break;
	}
	mutex_unlock(&ff->lock);
	return ret;
}

/* An object in dom0's memory; a host object's pages are copied. */
static int vgpu_front_naive_bo_create(struct vgpu_front *f,
				      struct vgpu_front_file *ff,
				      const struct drm_vgpu_bo_create *a,
				      struct vgpu_front_bo *bo)
{
	return vgpu_front_req_bo_create(f, ff->gen, a, &bo->be);
}

/*
 * The engine's GPU page, asked of the backend (naive mode asks at each
 * VM_BIND rather than keep what a reconnection may change): a power of
 * two from the guest's page to 1 GiB, or -EPROTO.
 */
int vgpu_front_gpu_page(struct vgpu_front *f, u64 gen, u64 *page)
{
	struct drm_vgpu_info info;
	int ret = vgpu_front_req_info(f, gen, &info);

	if (ret)
		return ret;
	if (info.page_size < PAGE_SIZE || info.page_size > SZ_1G ||
	    !is_power_of_2(info.page_size)) {
		dev_warn_ratelimited(&f->xbdev->dev,
				     "backend reports a GPU page of %u bytes\n",
				     info.page_size);
		return -EPROTO;
	}
	*page = info.page_size;
	return 0;
}

/*
 * Unmaps @size bytes at @va, one GPU page of @page bytes per request,
 * last page first: what a MAP refused part way had mapped.  Backwards,
 * each unmap shortens a mapping at its end (the core may have merged the
 * first pages into a mapping before them), never cuts one in two, which
 * could need a slot the context does not have.  Best effort: a failure
 * (the connection gone, the context destroyed) leaves the rest to the
 * context's end.
 */
static void vgpu_front_unmap_pages(struct vgpu_front *f, u64 gen, u32 ctx_id,
				   u64 va, u64 size, u64 page)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_VM_BIND };
	struct vgpuif_response rsp;
	u64 p;

	req.u.vm_bind.ctx_id = ctx_id;
	req.u.vm_bind.op.op = DRM_VGPU_BIND_UNMAP;
	req.u.vm_bind.op.size = page;
	for (p = size; p; p -= page) {
		req.u.vm_bind.op.va = va + p - page;
		if (vgpu_front_do(f, gen, &req, &rsp))
			break;
	}
}

/*
 * Naive mode: one request per GPU page of every operation (the engine's:
 * 4 KiB, or a GPU's 2 MiB); a destroy of the context stops it between two
 * (-ENOENT).  Operations that are not whole GPU pages are refused before
 * any is sent.
 */
static int vgpu_front_vm_bind_naive(struct vgpu_front *f,
				    struct vgpu_front_file *ff,
				    struct drm_vgpu_vm_bind *a,
				    const struct drm_vgpu_vm_bind_op *ops,
				    struct vgpu_front_ctx *ctx)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_VM_BIND };
	struct vgpuif_response rsp;
	u64 page, p;
	int ret;
	u32 i;

	ret = vgpu_front_gpu_page(f, ff->gen, &page);
	if (ret)
		return ret;
	for (i = 0; i < a->num_ops; i++)
		if ((ops[i].va | ops[i].size | ops[i].bo_offset) & (page - 1))
			return -EINVAL;
	req.u.vm_bind.ctx_id = ctx->be;
	for (i = 0; i < a->num_ops && !ret; i++) {
		const struct drm_vgpu_vm_bind_op *op = &ops[i];

		for (p = 0; p < op->size; p += page) {
			if (READ_ONCE(ctx->destroyed)) {
				ret = -ENOENT;
				break;
			}
			vgpuif_copy(&req.u.vm_bind.op, op);
			req.u.vm_bind.op.va = op->va + p;
			req.u.vm_bind.op.size = page;
			if (op->op == DRM_VGPU_BIND_MAP)
				req.u.vm_bind.op.bo_offset += p;
			ret = vgpu_front_do(f, ff->gen, &req, &rsp);
			if (ret)
				break;
		}
		/* A MAP refused part way leaves nothing of itself mapped. */
		if (ret && op->op == DRM_VGPU_BIND_MAP && p)
			vgpu_front_unmap_pages(f, ff->gen, ctx->be, op->va, p,
					       page);
		if (!ret)
			a->num_done = i + 1;
	}
	return ret;
}

/*
 * Naive mode: one request per command, each answered once it has run.  A
 * destroy of the context stops it between two: before the first, the
 * call fails (-ENOENT); later, the fence carries -ECANCELED, as when the
 * backend cancels a context's work.
 */
static int vgpu_front_submit_naive(struct vgpu_front *f,
				   struct vgpu_front_file *ff,
				   struct drm_vgpu_submit *a,
				   const struct drm_vgpu_cmd *cmds,
				   struct drm_syncobj *out,
				   struct vgpu_front_ctx **ctxp)
{
	struct vgpu_front_ctx *ctx = *ctxp;
	struct vgpuif_request req = { .operation = VGPUIF_OP_SUBMIT };
	struct vgpuif_response rsp;
	struct dma_fence *fence;
	bool ran = false;
	int gpu_err = 0;
	int ret, err;
	u32 i;

	ret = vgpu_front_sync_host(f, ff, true);
	req.u.submit.ctx_id = ctx->be;
	for (i = 0; !ret && i < a->num_cmds; i++) {
		if (READ_ONCE(ctx->destroyed)) {
			if (i)
				gpu_err = -ECANCELED;
			else
				ret = -ENOENT;
			break;
		}
		vgpuif_copy(&req.u.submit.cmd, &cmds[i]);
		ret = vgpu_front_call(f, ff->gen, VGPU_FRONT_KILLABLE, &req,
				      &rsp);
		if (ret)
			break;
		a->seqno = rsp.u.submit.seqno;
		if (vgpu_front_gpu_error(rsp.status)) {
			gpu_err = rsp.status;	/* the fence carries it */
			break;
		}
		ret = rsp.status;
		ran |= !ret;
	}
	/* What ran wrote dom0's copies, even if a later command failed. */
	if (!ret || ran) {
		err = vgpu_front_sync_host(f, ff, false);
		ret = ret ?: err;
	}
	if (!ret && out) {
		fence = vgpu_front_done_fence(gpu_err);
		if (!fence)
			return -ENOMEM;
		drm_syncobj_replace_fence(out, fence);
		dma_fence_put(fence);
	}
	return ret;
}

const struct vgpu_front_proto vgpu_front_naive_proto = {
	.bo_create = vgpu_front_naive_bo_create,
	.vm_bind = vgpu_front_vm_bind_naive,
	.submit = vgpu_front_submit_naive,
};
