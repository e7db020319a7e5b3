// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_drv.c - the guest's render node "vgpu": the uAPI of
 * include/uapi/drm/vgpu_drm.h, in naive or hp mode.
 *
 * Every guest process shares the guest's one connection, so this file
 * keeps, per open file, which contexts and objects it created, and
 * refuses the others' (-ENOENT), as dom0's node does between clients.
 *
 * Naive mode turns each operation into fine-grained requests, each
 * answered before the next is sent: one per page of a VM_BIND, one per
 * command of a submission, and one per page of host memory moved.
 * Host-memory objects are GEM shmem objects in the guest backed by an
 * object of the same size in dom0: a submission copies the file's host
 * objects to dom0 first and back afterwards, page by page.
 *
 * hp mode sends each operation whole: a VM_BIND or a SUBMIT is one
 * request, its operations or commands in granted pages when more than
 * one; a submission returns once posted and its fence signals with the
 * response.  A host-memory object is its own pages, granted to the
 * backend for the object's life: nothing is copied.  Past the backend's
 * persistent grant quota an object falls back to copies, and a file
 * that holds such an object waits for its submissions.
 *
 * Handles are held for the whole of an operation.  The backend names
 * contexts and objects by ids it reuses (the lowest free one), and every
 * process of the guest shares its one client: an id that went back to
 * the backend in the middle of another thread's VM_BIND or SUBMIT could
 * name another process's new context or object for the rest of that
 * operation.  So an ioctl that checks a handle takes a use of it (a
 * count under the file's lock) and keeps it until its last request has
 * been answered (or, hp, posted: the backend takes requests in ring
 * order); a CTX_DESTROY or BO_DESTROY of a handle in use only marks it
 * (the file can no longer name it: -ENOENT) and returns 0, and the last
 * user sends the backend's destroy.  Until then the backend keeps the
 * id, so no other file can be given it.  Users stop early when they see
 * the mark: naive loops between two requests.
 */
#include <linux/dma-fence.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_syncobj.h>

#include "vgpu_front.h"
#include "../common/vgpu_gem_compat.h"
#include "../common/vgpu_uapi.h"

/*
 * The largest size PAGE_ALIGN() takes without wrapping to 0: the sizes a
 * user gives are checked against it before they are aligned.
 */
#define VGPU_FRONT_MAX_SIZE	(U64_MAX - PAGE_SIZE + 1)

/*
 * @users and @destroyed: as struct vgpu_front_ctx's (the file's lock);
 * see "Handles are held" above.
 */
struct vgpu_front_bo {
	u32 handle;
	u32 domain;
	u64 size;
	unsigned int users;
	bool destroyed;
	struct drm_gem_shmem_object *shmem;	/* host domain */
	struct iosys_map map;
	struct drm_file *mmap_file;	/* granted mmap access, or NULL */
	/* hp: its pages, granted to the backend for the object's life */
	struct vgpu_front_grants grants;
};

struct vgpu_front_file {
	u64 gen;		/* connection the file was opened on */
	/*
	 * Protects bos, ctxs, copied, and the seqno, users and destroyed
	 * fields of their entries.  An entry stays in its table while it
	 * has users, even once destroyed (see "Handles are held" above):
	 * taken from the table, with no user left, it is the caller's to
	 * destroy in the backend and free.
	 */
	struct mutex lock;
	struct xarray bos;	/* handle -> struct vgpu_front_bo */
	struct xarray ctxs;	/* context id -> struct vgpu_front_ctx */
	/* host objects kept by copies: naive, or hp past the grant quota */
	u32 copied;
};

/* Completion fences of naive submissions, signalled when created. */
static DEFINE_SPINLOCK(vgpu_front_fence_lock);
static atomic64_t vgpu_front_fence_seqno;
static u64 vgpu_front_fence_ctx;

static const char *vgpu_front_fence_name(struct dma_fence *f)
{
	return "vgpu-front";
}

static const struct dma_fence_ops vgpu_front_fence_ops = {
	.get_driver_name = vgpu_front_fence_name,
	.get_timeline_name = vgpu_front_fence_name,
};

/* Called once, at module load, before any render node exists. */
void vgpu_front_fences_init(void)
{
	vgpu_front_fence_ctx = dma_fence_context_alloc(1);
}

static struct dma_fence *vgpu_front_done_fence(int err)
{
	struct dma_fence *fence = kzalloc(sizeof(*fence), GFP_KERNEL);

	if (!fence)
		return NULL;
	dma_fence_init(fence, &vgpu_front_fence_ops, &vgpu_front_fence_lock,
		       vgpu_front_fence_ctx,
		       atomic64_inc_return(&vgpu_front_fence_seqno));
	if (err)
		dma_fence_set_error(fence, err);
	dma_fence_signal(fence);
	return fence;
}

static void vgpu_front_bo_free(struct vgpu_front *f, struct vgpu_front_bo *bo)
{
	if (bo->grants.n)
		atomic64_add(bo->grants.n, &f->stats.grant_unmaps);
	/* The backend may still map them: the grants keep their pages. */
	vgpu_front_ungrant(&bo->grants);
	if (bo->mmap_file)
		drm_vma_node_revoke(&bo->shmem->base.vma_node, bo->mmap_file);
	if (bo->shmem) {
		vgpu_shmem_vunmap(bo->shmem, &bo->map);
		drm_gem_object_put(&bo->shmem->base);
	}
	kfree(bo);
}

/**
 * vgpu_front_ctx_use() - take a use of one of the file's contexts
 * @ff: the file
 * @id: the context's id
 *
 * Return: the context, which keeps its id in the backend until
 * vgpu_front_ctx_unuse(); NULL when the file has no such context (or
 * destroyed it).
 */
static struct vgpu_front_ctx *vgpu_front_ctx_use(struct vgpu_front_file *ff,
						 u32 id)
{
	struct vgpu_front_ctx *ctx;

	mutex_lock(&ff->lock);
	ctx = xa_load(&ff->ctxs, id);
	if (ctx && ctx->destroyed)
		ctx = NULL;
	if (ctx)
		ctx->users++;
	mutex_unlock(&ff->lock);
	return ctx;
}

/* Destroys a context taken from the file's table in the backend. */
static int vgpu_front_ctx_end(struct vgpu_front *f, struct vgpu_front_file *ff,
			      struct vgpu_front_ctx *ctx,
			      enum vgpu_front_wait how)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_DESTROY };
	struct vgpuif_response rsp;
	int ret;

	req.u.ctx_destroy.ctx_id = ctx->id;
	ret = vgpu_front_call(f, ff->gen, how, &req, &rsp);
	vgpu_front_ctx_put(ctx);
	return ret ? ret : rsp.status;
}

/*
 * Drops a use of vgpu_front_ctx_use(); the last user of a destroyed
 * context destroys it in the backend (not killable: the id must not
 * stay behind).
 */
static void vgpu_front_ctx_unuse(struct vgpu_front *f,
				 struct vgpu_front_file *ff,
				 struct vgpu_front_ctx *ctx)
{
	bool last;

	mutex_lock(&ff->lock);
	last = !--ctx->users && ctx->destroyed;
	if (last)
		xa_erase(&ff->ctxs, ctx->id);
	mutex_unlock(&ff->lock);
	if (last)
		vgpu_front_ctx_end(f, ff, ctx, VGPU_FRONT_UNKILLABLE);
}

/* Takes @bo from the file's table, for its destruction. */
static void vgpu_front_bo_erase(struct vgpu_front_file *ff,
				struct vgpu_front_bo *bo)
{
	lockdep_assert_held(&ff->lock);
	xa_erase(&ff->bos, bo->handle);
	if (bo->shmem && !bo->grants.n)
		ff->copied--;
}

/* Destroys an object taken from the file's table, in the backend too. */
static int vgpu_front_bo_end(struct vgpu_front *f, struct vgpu_front_file *ff,
			     struct vgpu_front_bo *bo, enum vgpu_front_wait how)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_BO_DESTROY };
	struct vgpuif_response rsp;
	int ret;

	req.u.bo_destroy.handle = bo->handle;
	ret = vgpu_front_call(f, ff->gen, how, &req, &rsp);
	vgpu_front_bo_free(f, bo);
	return ret ? ret : rsp.status;
}

/*
 * Takes a use of one of the file's objects (see vgpu_front_ctx_use()):
 * the object, or NULL.  Caller holds the file's lock.
 */
static struct vgpu_front_bo *vgpu_front_bo_use(struct vgpu_front_file *ff,
					       u32 handle)
{
	struct vgpu_front_bo *bo;

	lockdep_assert_held(&ff->lock);
	bo = xa_load(&ff->bos, handle);
	if (!bo || bo->destroyed)
		return NULL;
	bo->users++;
	return bo;
}

/* Drops a use of vgpu_front_bo_use(), as vgpu_front_ctx_unuse(). */
static void vgpu_front_bo_unuse(struct vgpu_front *f,
				struct vgpu_front_file *ff,
				struct vgpu_front_bo *bo)
{
	bool last;

	mutex_lock(&ff->lock);
	last = !--bo->users && bo->destroyed;
	if (last)
		vgpu_front_bo_erase(ff, bo);
	mutex_unlock(&ff->lock);
	if (last)
		vgpu_front_bo_end(f, ff, bo, VGPU_FRONT_UNKILLABLE);
}

static int vgpu_front_info(struct vgpu_front *f, struct vgpu_front_file *ff,
			   void *data)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_GET_INFO };
	struct vgpuif_response rsp;
	int ret = vgpu_front_do(f, ff->gen, &req, &rsp);

	if (ret)
		return ret;
	memcpy(data, &rsp.u.info, sizeof(rsp.u.info));
	((struct drm_vgpu_info *)data)->mode = f->hp ? DRM_VGPU_MODE_HP :
						       DRM_VGPU_MODE_NAIVE;
	return 0;
}

static int vgpu_front_ctx_create(struct vgpu_front *f,
				 struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_ctx_create *a = data;
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_CREATE };
	struct vgpuif_request del = { .operation = VGPUIF_OP_CTX_DESTROY };
	struct vgpuif_response rsp;
	struct vgpu_front_ctx *ctx;
	int ret = vgpu_check_ctx_create(a);

	if (ret)
		return ret;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	ctx->fence_ctx = dma_fence_context_alloc(1);
	req.u.ctx_create = *a;
	ret = vgpu_front_do(f, ff->gen, &req, &rsp);
	if (ret) {
		kfree(ctx);
		return ret;
	}
	a->ctx_id = rsp.u.ctx_create.ctx_id;
	ctx->id = a->ctx_id;
	mutex_lock(&ff->lock);
	ret = xa_err(xa_store(&ff->ctxs, a->ctx_id, ctx, GFP_KERNEL));
	mutex_unlock(&ff->lock);
	if (ret) {
		kfree(ctx);
		del.u.ctx_destroy.ctx_id = a->ctx_id;
		vgpu_front_do(f, ff->gen, &del, &rsp);
	}
	return ret;
}

/*
 * Destroys the context now, or, while an ioctl uses it, marks it for its
 * last user to destroy and returns 0 (see "Handles are held" above).
 */
static int vgpu_front_ctx_destroy(struct vgpu_front *f,
				  struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_ctx_destroy *a = data;
	struct vgpu_front_ctx *ctx;
	int ret = vgpu_check_ctx_destroy(a);

	if (ret)
		return ret;
	mutex_lock(&ff->lock);
	ctx = xa_load(&ff->ctxs, a->ctx_id);
	if (!ctx || ctx->destroyed) {
		ret = -ENOENT;
	} else {
		WRITE_ONCE(ctx->destroyed, true);
		if (ctx->users)
			ctx = NULL;	/* its last user destroys it */
		else
			xa_erase(&ff->ctxs, a->ctx_id);
	}
	mutex_unlock(&ff->lock);
	if (ret || !ctx)
		return ret;
	/* Not killable: erased here, the id must not stay in the backend. */
	return vgpu_front_ctx_end(f, ff, ctx, VGPU_FRONT_UNKILLABLE);
}

static int vgpu_front_ctx_status(struct vgpu_front *f,
				 struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_ctx_status *a = data;
	struct vgpuif_request req = { .operation = VGPUIF_OP_CTX_STATUS };
	struct vgpuif_response rsp;
	struct vgpu_front_ctx *ctx;
	int ret = vgpu_check_ctx_status(a);

	if (ret)
		return ret;
	ctx = vgpu_front_ctx_use(ff, a->ctx_id);
	if (!ctx)
		return -ENOENT;
	req.u.ctx_status = *a;
	ret = vgpu_front_do(f, ff->gen, &req, &rsp);
	vgpu_front_ctx_unuse(f, ff, ctx);
	if (!ret)
		*a = rsp.u.ctx_status;
	return ret;
}

/* The guest-side pages of a host-memory object, mapped in the guest. */
static int vgpu_front_bo_shmem(struct vgpu_front *f, struct vgpu_front_bo *bo)
{
	int ret;

	bo->shmem = drm_gem_shmem_create(f->drm, bo->size);
	if (IS_ERR(bo->shmem)) {
		ret = PTR_ERR(bo->shmem);
		bo->shmem = NULL;
		return ret;
	}
	ret = vgpu_shmem_vmap(bo->shmem, &bo->map);	/* pins the pages */
	if (ret) {
		drm_gem_object_put(&bo->shmem->base);
		bo->shmem = NULL;
	}
	return ret;
}

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
	bo->handle = rsp.u.bo_granted.handle;
	atomic64_add(bo->grants.n, &f->stats.grant_maps);
	return 0;
}

static int vgpu_front_bo_create(struct vgpu_front *f,
				struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_bo_create *a = data;
	struct vgpuif_request req = { .operation = VGPUIF_OP_BO_CREATE };
	struct vgpuif_request del = { .operation = VGPUIF_OP_BO_DESTROY };
	struct vgpuif_response rsp;
	struct vgpu_front_bo *bo;
	int ret = vgpu_check_bo_create(a, VGPU_FRONT_MAX_SIZE);

	if (ret)
		return ret;
	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return -ENOMEM;
	bo->domain = a->domain;
	bo->size = PAGE_ALIGN(a->size);
	if (bo->domain == DRM_VGPU_DOMAIN_HOST) {
		ret = vgpu_front_bo_shmem(f, bo);
		if (ret)
			goto err_free;
	}
	ret = -EDQUOT;
	if (f->hp && bo->shmem)
		ret = vgpu_front_bo_create_granted(f, ff, bo);
	if (ret == -EDQUOT || ret == -ENOSPC) {
		/* Naive mode, or the fallback: dom0 memory, kept by copies. */
		req.u.bo_create = *a;
		ret = vgpu_front_do(f, ff->gen, &req, &rsp);
		if (!ret)
			bo->handle = rsp.u.bo_create.handle;
	}
	if (ret)
		goto err_free;
	mutex_lock(&ff->lock);
	ret = xa_err(xa_store(&ff->bos, bo->handle, bo, GFP_KERNEL));
	if (!ret && bo->shmem && !bo->grants.n)
		ff->copied++;
	mutex_unlock(&ff->lock);
	if (ret)
		goto err_backend;
	a->handle = bo->handle;
	return 0;

err_backend:
	del.u.bo_destroy.handle = bo->handle;
	vgpu_front_do(f, ff->gen, &del, &rsp);
err_free:
	vgpu_front_bo_free(f, bo);
	return ret;
}

/* As vgpu_front_ctx_destroy(): now, or by the object's last user. */
static int vgpu_front_bo_destroy(struct vgpu_front *f,
				 struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_bo_destroy *a = data;
	struct vgpu_front_bo *bo;
	int ret = vgpu_check_bo_destroy(a);

	if (ret)
		return ret;
	mutex_lock(&ff->lock);
	bo = xa_load(&ff->bos, a->handle);
	if (!bo || bo->destroyed) {
		ret = -ENOENT;
	} else {
		bo->destroyed = true;
		if (bo->users)
			bo = NULL;	/* its last user destroys it */
		else
			vgpu_front_bo_erase(ff, bo);
	}
	mutex_unlock(&ff->lock);
	if (ret || !bo)
		return ret;
	/* Not killable: erased here, the id must not stay in the backend. */
	return vgpu_front_bo_end(f, ff, bo, VGPU_FRONT_UNKILLABLE);
}

static int vgpu_front_bo_mmap_offset(struct vgpu_front *f,
				     struct vgpu_front_file *ff, void *data,
				     struct drm_file *file)
{
	struct drm_vgpu_bo_mmap_offset *a = data;
	struct vgpu_front_bo *bo;
	int ret = vgpu_check_bo_mmap_offset(a);

	if (ret)
		return ret;
	mutex_lock(&ff->lock);
	bo = xa_load(&ff->bos, a->handle);
	if (!bo || bo->destroyed)
		ret = -ENOENT;
	else if (!bo->shmem)
		ret = -EINVAL;	/* device memory is not CPU-mappable */
	else
		ret = drm_gem_create_mmap_offset(&bo->shmem->base);
	if (!ret && !bo->mmap_file) {
		ret = drm_vma_node_allow(&bo->shmem->base.vma_node, file);
		if (!ret)
			bo->mmap_file = file;
	}
	if (!ret)
		a->offset = drm_vma_node_offset_addr(&bo->shmem->base.vma_node);
	mutex_unlock(&ff->lock);
	return ret;
}

/*
 * Naive mode: one request per page of every operation; a destroy of the
 * context stops it between two (-ENOENT).
 */
static int vgpu_front_vm_bind_naive(struct vgpu_front *f,
				    struct vgpu_front_file *ff,
				    struct drm_vgpu_vm_bind *a,
				    const struct drm_vgpu_vm_bind_op *ops,
				    struct vgpu_front_ctx *ctx)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_VM_BIND };
	struct vgpuif_response rsp;
	int ret = 0;
	u32 i;
	u64 p;

	req.u.vm_bind.ctx_id = a->ctx_id;
	for (i = 0; i < a->num_ops && !ret; i++) {
		const struct drm_vgpu_vm_bind_op *op = &ops[i];

		for (p = 0; !ret && p < op->size; p += PAGE_SIZE) {
			if (READ_ONCE(ctx->destroyed)) {
				ret = -ENOENT;
				break;
			}
			req.u.vm_bind.op = *op;
			req.u.vm_bind.op.va = op->va + p;
			req.u.vm_bind.op.size = PAGE_SIZE;
			if (op->op == DRM_VGPU_BIND_MAP)
				req.u.vm_bind.op.bo_offset = op->bo_offset + p;
			ret = vgpu_front_do(f, ff->gen, &req, &rsp);
		}
		if (!ret)
			a->num_done = i + 1;
	}
	return ret;
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
	req.u.vm_bind_batch.ctx_id = a->ctx_id;
	req.u.vm_bind_batch.num_ops = a->num_ops;
	if (a->num_ops == 1) {
		req.u.vm_bind_batch.op = ops[0];
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

/*
 * Holds the context and every object it maps until the last request has
 * been answered (see "Handles are held" above).
 */
static int vgpu_front_vm_bind(struct vgpu_front *f, struct vgpu_front_file *ff,
			      void *data)
{
	struct drm_vgpu_vm_bind *a = data;
	struct drm_vgpu_vm_bind_op *ops;
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo **bos;
	u32 i, n = 0;
	int ret = vgpu_check_vm_bind(a);

	if (ret)
		return ret;
	ctx = vgpu_front_ctx_use(ff, a->ctx_id);
	if (!ctx)
		return -ENOENT;
	ops = memdup_user(u64_to_user_ptr(a->ops),
			  array_size(a->num_ops, sizeof(*ops)));
	if (IS_ERR(ops)) {
		ret = PTR_ERR(ops);
		goto out_ctx;
	}
	bos = kcalloc(a->num_ops, sizeof(*bos), GFP_KERNEL);
	if (!bos) {
		ret = -ENOMEM;
		goto out_ops;
	}
	/* Refuse at once what the backend would refuse, before sending. */
	for (i = 0; i < a->num_ops && !ret; i++)
		ret = vgpu_check_bind_op(&ops[i]);
	mutex_lock(&ff->lock);
	for (i = 0; i < a->num_ops && !ret; i++) {
		if (ops[i].op != DRM_VGPU_BIND_MAP)
			continue;
		bos[n] = vgpu_front_bo_use(ff, ops[i].handle);
		if (bos[n])
			n++;
		else
			ret = -ENOENT;
	}
	mutex_unlock(&ff->lock);
	a->num_done = 0;
	if (!ret)
		ret = f->hp ? vgpu_front_vm_bind_hp(f, ff, a, ops, ctx) :
			      vgpu_front_vm_bind_naive(f, ff, a, ops, ctx);
	while (n--)
		vgpu_front_bo_unuse(f, ff, bos[n]);
	kfree(bos);
out_ops:
	kfree(ops);
out_ctx:
	vgpu_front_ctx_unuse(f, ff, ctx);
	return ret;
}

/* Copies every host-memory object of the file to (or from) dom0. */
static int vgpu_front_sync_host(struct vgpu_front *f,
				struct vgpu_front_file *ff, bool to_backend)
{
	struct vgpu_front_bo *bo;
	unsigned long handle;
	u64 p;
	int ret = 0;

	mutex_lock(&ff->lock);
	xa_for_each(&ff->bos, handle, bo) {
		if (!bo->shmem || bo->grants.n)	/* granted: nothing to copy */
			continue;
		for (p = 0; !ret && p < bo->size; p += PAGE_SIZE)
			ret = vgpu_front_page_io(f, ff->gen, bo->handle, p,
						 bo->shmem->pages[p >> PAGE_SHIFT],
						 to_backend);
		if (ret)
			break;
	}
	mutex_unlock(&ff->lock);
	return ret;
}

static bool vgpu_front_gpu_error(int status)
{
	return status == -EFAULT || status == -ETIMEDOUT ||
	       status == -ECANCELED;
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
				   struct vgpu_front_ctx *ctx)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_SUBMIT };
	struct vgpuif_response rsp;
	struct dma_fence *fence;
	int gpu_err = 0;
	u32 i;
	int ret;

	ret = vgpu_front_sync_host(f, ff, true);
	req.u.submit.ctx_id = a->ctx_id;
	for (i = 0; !ret && i < a->num_cmds; i++) {
		if (READ_ONCE(ctx->destroyed)) {
			if (i)
				gpu_err = -ECANCELED;
			else
				ret = -ENOENT;
			break;
		}
		req.u.submit.cmd = cmds[i];
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
	}
	if (!ret)
		ret = vgpu_front_sync_host(f, ff, false);
	if (!ret && out) {
		fence = vgpu_front_done_fence(gpu_err);
		if (!fence)
			return -ENOMEM;
		drm_syncobj_replace_fence(out, fence);
		dma_fence_put(fence);
	}
	return ret;
}

/* hp: the submission's fence, on its context's timeline. */
static struct dma_fence *vgpu_front_hp_fence(struct vgpu_front_file *ff,
					     struct vgpu_front_ctx *ctx,
					     u64 *seqno)
{
	struct dma_fence *fence = kzalloc(sizeof(*fence), GFP_KERNEL);

	if (!fence)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&ff->lock);
	*seqno = ++ctx->seqno;
	dma_fence_init(fence, &vgpu_front_fence_ops, &vgpu_front_fence_lock,
		       ctx->fence_ctx, *seqno);
	mutex_unlock(&ff->lock);
	return fence;
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
	long left;
	int ret;

	fence = vgpu_front_hp_fence(ff, ctx, &a->seqno);
	if (IS_ERR(fence))
		return PTR_ERR(fence);
	ret = READ_ONCE(ctx->dead) ? -EIO : 0;
	req.u.submit_async.ctx_id = a->ctx_id;
	req.u.submit_async.num_cmds = a->num_cmds;
	if (!ret && a->num_cmds == 1) {
		req.u.submit_async.cmd = cmds[0];
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
		left = dma_fence_wait_timeout(fence, true, MAX_SCHEDULE_TIMEOUT);
		ret = left < 0 ? left : 0;
		if (!ret && !fence->error)
			ret = vgpu_front_sync_host(f, ff, false);
	}
out:
	dma_fence_put(fence);
	return ret;
}

static int vgpu_front_submit(struct vgpu_front *f, struct vgpu_front_file *ff,
			     void *data, struct drm_file *file)
{
	struct drm_vgpu_submit *a = data;
	struct drm_syncobj *out = NULL;
	struct vgpu_front_ctx *ctx;
	struct drm_vgpu_cmd *cmds;
	struct dma_fence *fence;
	u32 handles[DRM_VGPU_MAX_IN_SYNCS];
	u32 i;
	int ret = vgpu_check_submit(a);

	if (ret)
		return ret;
	/* Held until the last command is answered, or hp, posted. */
	ctx = vgpu_front_ctx_use(ff, a->ctx_id);
	if (!ctx)
		return -ENOENT;
	cmds = vmemdup_user(u64_to_user_ptr(a->cmds),
			    array_size(a->num_cmds, sizeof(*cmds)));
	if (IS_ERR(cmds)) {
		ret = PTR_ERR(cmds);
		goto out_ctx;
	}
	for (i = 0; i < a->num_cmds && !ret; i++)
		ret = vgpu_check_cmd(&cmds[i]);
	if (!ret && a->num_in_syncs &&
	    copy_from_user(handles, u64_to_user_ptr(a->in_syncs),
			   a->num_in_syncs * sizeof(u32)))
		ret = -EFAULT;
	/* In-fences are waited for here, in both modes. */
	for (i = 0; !ret && i < a->num_in_syncs; i++) {
		ret = drm_syncobj_find_fence(file, handles[i], 0, 0, &fence);
		if (ret)
			break;
		ret = dma_fence_wait(fence, true);
		dma_fence_put(fence);
	}
	if (!ret && a->out_sync) {
		out = drm_syncobj_find(file, a->out_sync);
		if (!out)
			ret = -ENOENT;
	}
	if (!ret)
		ret = f->hp ? vgpu_front_submit_hp(f, ff, a, cmds, out, &ctx) :
			      vgpu_front_submit_naive(f, ff, a, cmds, out, ctx);
	if (out)
		drm_syncobj_put(out);
	kvfree(cmds);
out_ctx:
	if (ctx)	/* hp drops it once posted */
		vgpu_front_ctx_unuse(f, ff, ctx);
	return ret;
}

#define VGPU_FRONT_IOCTL(name, call)					\
static int vgpu_front_ioctl_##name(struct drm_device *dev, void *data,	\
				   struct drm_file *file)		\
{									\
	struct vgpu_front *f = dev->dev_private;			\
	struct vgpu_front_file *ff = file->driver_priv;			\
	int idx, ret;							\
									\
	if (!drm_dev_enter(dev, &idx))					\
		return -ENODEV;						\
	ret = call;							\
	drm_dev_exit(idx);						\
	return ret;							\
}

VGPU_FRONT_IOCTL(info, vgpu_front_info(f, ff, data))
VGPU_FRONT_IOCTL(ctx_create, vgpu_front_ctx_create(f, ff, data))
VGPU_FRONT_IOCTL(ctx_destroy, vgpu_front_ctx_destroy(f, ff, data))
VGPU_FRONT_IOCTL(ctx_status, vgpu_front_ctx_status(f, ff, data))
VGPU_FRONT_IOCTL(bo_create, vgpu_front_bo_create(f, ff, data))
VGPU_FRONT_IOCTL(bo_destroy, vgpu_front_bo_destroy(f, ff, data))
VGPU_FRONT_IOCTL(bo_mmap_offset, vgpu_front_bo_mmap_offset(f, ff, data, file))
VGPU_FRONT_IOCTL(vm_bind, vgpu_front_vm_bind(f, ff, data))
VGPU_FRONT_IOCTL(submit, vgpu_front_submit(f, ff, data, file))

static const struct drm_ioctl_desc vgpu_front_ioctls[] = {
	DRM_IOCTL_DEF_DRV(VGPU_GET_INFO, vgpu_front_ioctl_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_CTX_CREATE, vgpu_front_ioctl_ctx_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_CTX_DESTROY, vgpu_front_ioctl_ctx_destroy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_CTX_STATUS, vgpu_front_ioctl_ctx_status, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_BO_CREATE, vgpu_front_ioctl_bo_create, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_BO_DESTROY, vgpu_front_ioctl_bo_destroy, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_BO_MMAP_OFFSET, vgpu_front_ioctl_bo_mmap_offset, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_VM_BIND, vgpu_front_ioctl_vm_bind, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(VGPU_SUBMIT, vgpu_front_ioctl_submit, DRM_RENDER_ALLOW),
};

static int vgpu_front_open(struct drm_device *dev, struct drm_file *file)
{
	struct vgpu_front_file *ff = kzalloc(sizeof(*ff), GFP_KERNEL);

	if (!ff)
		return -ENOMEM;
	ff->gen = vgpu_front_gen(dev->dev_private);
	mutex_init(&ff->lock);
	xa_init(&ff->bos);
	xa_init(&ff->ctxs);
	file->driver_priv = ff;
	return 0;
}

/*
 * Frees what the file created, in dom0 too while its connection lasts:
 * a file of an earlier connection sends nothing (its handles would name
 * the new connection's objects).  Not killable: the process is exiting.
 */
static void vgpu_front_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct vgpu_front *f = dev->dev_private;
	struct vgpu_front_file *ff = file->driver_priv;
	struct vgpuif_request req = {};
	struct vgpuif_response rsp;
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo *bo;
	unsigned long id;

	xa_for_each(&ff->ctxs, id, ctx) {
		req.operation = VGPUIF_OP_CTX_DESTROY;
		memset(&req.u, 0, sizeof(req.u));
		req.u.ctx_destroy.ctx_id = id;
		vgpu_front_call(f, ff->gen, VGPU_FRONT_UNKILLABLE, &req, &rsp);
		vgpu_front_ctx_put(ctx);
	}
	xa_for_each(&ff->bos, id, bo) {
		req.operation = VGPUIF_OP_BO_DESTROY;
		memset(&req.u, 0, sizeof(req.u));
		req.u.bo_destroy.handle = bo->handle;
		vgpu_front_call(f, ff->gen, VGPU_FRONT_UNKILLABLE, &req, &rsp);
		vgpu_front_bo_free(f, bo);
	}
	xa_destroy(&ff->ctxs);
	xa_destroy(&ff->bos);
	mutex_destroy(&ff->lock);
	kfree(ff);
}

DEFINE_DRM_GEM_FOPS(vgpu_front_fops);

static const struct drm_driver vgpu_front_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ,
	.open = vgpu_front_open,
	.postclose = vgpu_front_postclose,
	.ioctls = vgpu_front_ioctls,
	.num_ioctls = ARRAY_SIZE(vgpu_front_ioctls),
	.fops = &vgpu_front_fops,
	.name = "vgpu",
	.desc = "GPUvm virtual GPU (Xen guest)",
	VGPU_DRM_DRIVER_DATE("20261123")
	.major = 1,
	.minor = 0,
};

static void vgpu_front_drm_release(struct drm_device *drm, void *arg)
{
	vgpu_front_put(arg);
}

/**
 * vgpu_front_drm_create() - the render node of a new connection
 * @f: the vGPU, connected
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_drm_create(struct vgpu_front *f)
{
	struct drm_device *drm;
	int ret;

	drm = drm_dev_alloc(&vgpu_front_drm_driver, &f->xbdev->dev);
	if (IS_ERR(drm))
		return PTR_ERR(drm);
	drm->dev_private = f;
	kref_get(&f->ref);
	ret = drmm_add_action_or_reset(drm, vgpu_front_drm_release, f);
	if (ret)
		goto err_put;
	ret = drm_dev_register(drm, 0);
	if (ret)
		goto err_put;
	f->drm = drm;
	return 0;

err_put:
	drm_dev_put(drm);
	return ret;
}

/**
 * vgpu_front_drm_unplug() - remove the render node; open files get -ENODEV
 * @f: the vGPU
 */
void vgpu_front_drm_unplug(struct vgpu_front *f)
{
	if (!f->drm)
		return;
	drm_dev_unplug(f->drm);
	drm_dev_put(f->drm);
	f->drm = NULL;
}
