// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_drv.c - the guest's render node "vgpu": the uAPI of
 * include/uapi/drm/vgpu_drm.h.  The requests are built by the mode's
 * struct vgpu_front_proto (vgpu_front_naive.c, vgpu_front_hp.c) and by
 * vgpu_front_req.c; this file holds the ioctls and the per-file handles.
 *
 * Every guest process shares the guest's one connection, so this file
 * keeps, per open file, which contexts and objects it created, and
 * refuses the others' (-ENOENT), as dom0's node does between clients.
 * It checks what it consumes itself (an ioctl's own fields, its handles,
 * the guest memory it allocates) and runs the stateless checks of bind
 * operations and commands before it sends them, so that its ioctls
 * fail at the call, as dom0's node's do (a VM_BIND whole, where dom0
 * applies the operations before a malformed one); everything it
 * forwards is the backend core's to check (vgpu-back), which never
 * relies on the guest.
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
 *
 * The ids a program sees are the file's own (allocated here, as GEM
 * handles are); each entry keeps the backend's id on the current
 * connection beside it, so that a restore on another connection (which
 * hands out other ids) changes nothing the program holds
 * (vgpu_front_pm.c).  For the same reason each context records the
 * mappings the backend accepted, as the backend's core keeps them
 * (common/vgpu_vm.c), and an object the program destroys while a
 * context still maps it (its memory lives on, as the uAPI says) stays
 * here as a zombie until its last mapping goes, when the backend's
 * object is destroyed.
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

/* The highest end of a recorded mapping: the backend checks the bounds. */
#define VGPU_FRONT_VA_END	(U64_MAX - PAGE_SIZE + 1)

static void vgpu_front_ctx_release(struct kref *ref)
{
	struct vgpu_front_ctx *ctx = container_of(ref, struct vgpu_front_ctx, ref);

	vgpu_vm_fini(&ctx->vm);
	kfree(ctx);
}

void vgpu_front_ctx_put(struct vgpu_front_ctx *ctx)
{
	kref_put(&ctx->ref, vgpu_front_ctx_release);
}

static void vgpu_front_bo_free(struct vgpu_front *f, struct vgpu_front_bo *bo)
{
	vgpu_front_bo_unsave(bo);
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

static void vgpu_front_bo_end_zombies(struct vgpu_front *f,
				      struct vgpu_front_file *ff,
				      struct list_head *ended);

/*
 * One mapping naming @bo went: a zombie whose last mapping it was goes
 * on @ended, for the caller to destroy once it drops the file's lock.
 */
static void vgpu_front_bo_unmapped(struct vgpu_front_file *ff,
				   struct vgpu_front_bo *bo,
				   struct list_head *ended)
{
	lockdep_assert_held(&ff->lock);
	if (WARN_ON(!bo->maps))
		return;
	if (!--bo->maps && bo->zombie)
		list_move_tail(&bo->zombie_node, ended);
}

/* Forgets a context's mappings (the backend's context is gone). */
static void vgpu_front_ctx_forget_maps(struct vgpu_front_file *ff,
				       struct vgpu_front_ctx *ctx,
				       struct list_head *ended)
{
	u32 i;

	lockdep_assert_held(&ff->lock);
	if (ctx->unsure) {	/* it may have mapped more than recorded */
		vgpu_front_precopy_unsure(ff, ctx);
		vgpu_front_dirty_file(ff);
	}
	for (i = 0; i < ctx->vm.count; i++) {
		vgpu_front_precopy_unmapped(&ctx->vm.maps[i]);
		vgpu_front_dirty_unmapped(&ctx->vm.maps[i]);
		vgpu_front_bo_unmapped(ff, ctx->vm.maps[i].bo, ended);
	}
	vgpu_vm_fini(&ctx->vm);
}

/*
 * Destroys a context taken from the file's table in the backend; the
 * zombies only it mapped go too.
 */
static int vgpu_front_ctx_end(struct vgpu_front *f, struct vgpu_front_file *ff,
			      struct vgpu_front_ctx *ctx,
			      enum vgpu_front_wait how)
{
	int ret = vgpu_front_req_ctx_destroy(f, ff->gen, ctx->be, how);
	LIST_HEAD(ended);

	mutex_lock(&ff->lock);
	vgpu_front_ctx_forget_maps(ff, ctx, &ended);
	mutex_unlock(&ff->lock);
	vgpu_front_bo_end_zombies(f, ff, &ended);
	vgpu_front_ctx_put(ctx);
	return ret;
}

/*
 * Drops a use of vgpu_front_ctx_use(); the last user of a destroyed
 * context destroys it in the backend (not killable: the id must not
 * stay behind).
 */
void vgpu_front_ctx_unuse(struct vgpu_front *f, struct vgpu_front_file *ff,
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

/*
 * Takes @bo from the file's table, for its destruction.  Return: true
 * when the caller destroys it now; false when a context still maps it:
 * it became a zombie, destroyed with its last mapping.
 */
static bool vgpu_front_bo_erase(struct vgpu_front_file *ff,
				struct vgpu_front_bo *bo)
{
	lockdep_assert_held(&ff->lock);
	xa_erase(&ff->bos, bo->handle);
	if (bo->maps) {
		bo->zombie = true;
		list_add_tail(&bo->zombie_node, &ff->zombies);
		if (bo->mmap_file) {	/* the handle is gone: its mmap too */
			drm_vma_node_revoke(&bo->shmem->base.vma_node,
					    bo->mmap_file);
			bo->mmap_file = NULL;
		}
		return false;
	}
	if (bo->shmem && !bo->grants.n)
		ff->copied--;
	return true;
}

/* Destroys an object taken from the file's table, in the backend too. */
static int vgpu_front_bo_end(struct vgpu_front *f, struct vgpu_front_file *ff,
			     struct vgpu_front_bo *bo, enum vgpu_front_wait how)
{
	int ret = vgpu_front_req_bo_destroy(f, ff->gen, bo->be, how);

	vgpu_front_bo_free(f, bo);
	return ret;
}

/* Destroys the zombies of @ended (not killable, as any end). */
static void vgpu_front_bo_end_zombies(struct vgpu_front *f,
				      struct vgpu_front_file *ff,
				      struct list_head *ended)
{
	struct vgpu_front_bo *bo, *tmp;

	list_for_each_entry_safe(bo, tmp, ended, zombie_node) {
		list_del(&bo->zombie_node);
		mutex_lock(&ff->lock);
		if (bo->shmem && !bo->grants.n)
			ff->copied--;
		mutex_unlock(&ff->lock);
		vgpu_front_bo_end(f, ff, bo, VGPU_FRONT_UNKILLABLE);
	}
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
	last = !--bo->users && bo->destroyed && vgpu_front_bo_erase(ff, bo);
	mutex_unlock(&ff->lock);
	if (last)
		vgpu_front_bo_end(f, ff, bo, VGPU_FRONT_UNKILLABLE);
}

static int vgpu_front_info(struct vgpu_front *f, struct vgpu_front_file *ff,
			   void *data)
{
	return vgpu_front_req_info(f, ff->gen, data);
}

static int vgpu_front_ctx_create(struct vgpu_front *f,
				 struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_ctx_create *a = data;
	struct vgpu_front_ctx *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	mutex_init(&ctx->bind_lock);
	ctx->fence_ctx = dma_fence_context_alloc(1);
	ctx->priority = a->priority;
	vgpu_vm_init(&ctx->vm, 0, VGPU_FRONT_VA_END, U32_MAX);
	ret = vgpu_front_req_ctx_create(f, ff->gen, a);
	if (ret) {
		kfree(ctx);
		return ret;
	}
	ctx->be = a->ctx_id;
	mutex_lock(&ff->lock);
	ret = xa_alloc(&ff->ctxs, &ctx->id, ctx, xa_limit_32b, GFP_KERNEL);
	mutex_unlock(&ff->lock);
	if (ret) {
		kfree(ctx);
		vgpu_front_req_ctx_destroy(f, ff->gen, a->ctx_id,
					   VGPU_FRONT_UNKILLABLE);
		return ret;
	}
	a->ctx_id = ctx->id;
	return 0;
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
	struct vgpu_front_ctx *ctx;
	int ret;

	if (!a->ctx_id)
		return -EINVAL;
	ctx = vgpu_front_ctx_use(ff, a->ctx_id);
	if (!ctx)
		return -ENOENT;
	a->ctx_id = ctx->be;
	ret = vgpu_front_req_ctx_status(f, ff->gen, a);
	a->ctx_id = ctx->id;
	vgpu_front_ctx_unuse(f, ff, ctx);
	return ret;
}

/*
 * CTX_STACK: the backend charges and decides; the stack it gave is kept
 * for a restore to ask again (vgpu_front_pm.c).
 */
static int vgpu_front_ctx_stack(struct vgpu_front *f,
				struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_ctx_stack *a = data;
	struct vgpu_front_ctx *ctx;
	int ret = vgpu_check_ctx_stack(a);

	if (ret)
		return ret;
	ctx = vgpu_front_ctx_use(ff, a->ctx_id);
	if (!ctx)
		return -ENOENT;
	a->ctx_id = ctx->be;
	ret = vgpu_front_req_ctx_stack(f, ff->gen, a);
	a->ctx_id = ctx->id;
	if (!ret) {
		mutex_lock(&ff->lock);
		ctx->stack = max(ctx->stack, a->stack_size);
		mutex_unlock(&ff->lock);
	}
	vgpu_front_ctx_unuse(f, ff, ctx);
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
 * The guest's side of the object (its size; host memory's pages) is this
 * file's to check; the rest of @a goes to the backend's core.
 */
static int vgpu_front_bo_create(struct vgpu_front *f,
				struct vgpu_front_file *ff, void *data)
{
	struct drm_vgpu_bo_create *a = data;
	struct vgpu_front_bo *bo;
	int ret;

	if (!a->size || a->size > VGPU_FRONT_MAX_SIZE)
		return -EINVAL;
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
	ret = f->proto->bo_create(f, ff, a, bo);
	if (ret)
		goto err_free;
	mutex_lock(&ff->lock);
	ret = xa_alloc(&ff->bos, &bo->handle, bo, xa_limit_32b, GFP_KERNEL);
	if (!ret && bo->shmem && !bo->grants.n)
		ff->copied++;
	mutex_unlock(&ff->lock);
	if (ret)
		goto err_backend;
	a->handle = bo->handle;
	return 0;

err_backend:
	vgpu_front_req_bo_destroy(f, ff->gen, bo->be, VGPU_FRONT_UNKILLABLE);
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
		if (bo->users || !vgpu_front_bo_erase(ff, bo))
			bo = NULL;	/* its last user or mapping ends it */
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

/**
 * vgpu_front_record_op() - record one bind operation the backend applied
 * @ff: the file; its lock held
 * @vm: the context's record
 * @op: the operation (a MAP names the backend's handle)
 * @bo: a MAP's object
 * @ended: zombies whose last mapping an UNMAP removed
 *
 * Follows the backend core's rules (vgpu_bind_one(): a MAP continuing
 * its left neighbour extends it, an UNMAP cuts inside one mapping), so
 * that the record lists what the backend maps.  A record that cannot
 * follow (no memory) is reported: a restore would miss that mapping.
 * A writable MAP or an UNMAP makes a pre-copy's copy of the object
 * unsure: a job in flight may reach it.  A writable mapping of host
 * memory that goes is remembered for the next save (vgpu_front_dirty.c).
 *
 * Return: 0, or a negative errno when the record could not follow.
 */
int vgpu_front_record_op(struct vgpu_front_file *ff, struct vgpu_vm *vm,
			 const struct drm_vgpu_vm_bind_op *op,
			 struct vgpu_front_bo *bo, struct list_head *ended)
{
	struct vgpu_mapping m = {
		.va = op->va, .size = op->size, .bo_offset = op->bo_offset,
		.bo = bo, .perms = op->flags,
	};
	int merge, ret;

	lockdep_assert_held(&ff->lock);
	if (op->op == DRM_VGPU_BIND_UNMAP) {
		ret = vgpu_vm_cut(vm, op->va, op->size, &m);
		if (ret >= 0) {
			vgpu_front_precopy_unmapped(&m);
			vgpu_front_dirty_unmapped(&m);
		}
		if (ret == VGPU_VM_CUT_REMOVED)
			vgpu_front_bo_unmapped(ff, m.bo, ended);
		else if (ret == VGPU_VM_CUT_SPLIT)
			((struct vgpu_front_bo *)m.bo)->maps++;
	} else {
		if (op->flags & DRM_VGPU_BIND_WRITE)
			bo->pre = VGPU_FRONT_PRE_NONE;
		merge = vgpu_vm_mergeable(vm, &m);
		ret = vgpu_vm_check_map(vm, m.va, m.size);
		if (merge >= 0 && (!ret || ret == -ENOSPC)) {
			vgpu_vm_extend(vm, merge, m.size);
			ret = 0;
		} else if (!ret) {
			ret = vgpu_vm_insert(vm, &m);
			if (!ret)
				bo->maps++;
		}
	}
	if (ret < 0)
		pr_warn_ratelimited("vgpu-front: a bind operation at 0x%llx is not recorded (%d): a restore would not follow it\n",
				    op->va, ret);
	return ret < 0 ? ret : 0;
}

/* Would the backend's core take this UNMAP (one mapping holds it)? */
static bool vgpu_front_unmap_ok(struct vgpu_front_file *ff,
				struct vgpu_front_ctx *ctx,
				const struct drm_vgpu_vm_bind_op *op)
{
	const struct vgpu_mapping *m;
	bool ok;
	int i;

	mutex_lock(&ff->lock);
	i = vgpu_vm_find_addr(&ctx->vm, op->va);
	m = i < 0 ? NULL : &ctx->vm.maps[i];
	ok = m && op->size <= m->va + m->size - op->va;
	mutex_unlock(&ff->lock);
	return ok;
}

/* A call that may or may not have reached the backend. */
static bool vgpu_front_bind_unknown(int ret)
{
	return ret == -ETIMEDOUT || ret == -EINTR || ret == -ERESTARTSYS ||
	       ret == -ENOMEM;
}

/**
 * vgpu_front_vm_bind_recorded() - send bind operations and record them
 * @f: the vGPU
 * @ff: the file
 * @a: the call; @a->num_done set
 * @ops: its operations, MAPs naming the backend's handles
 * @bos: each MAP's object
 * @ctx: the context; caller holds its bind_lock
 * @ended: zombies whose last mapping went
 *
 * hp sends them whole and the backend applies them as its core does.
 * Naive sends an UNMAP page by page, which the backend would take across
 * two mappings: each operation goes alone, and an UNMAP the core would
 * refuse (-ENOENT: not inside one mapping) is refused here, so that the
 * record and the backend agree.
 *
 * Return: 0 or the first failing operation's error.
 */
static int vgpu_front_vm_bind_recorded(struct vgpu_front *f,
				       struct vgpu_front_file *ff,
				       struct drm_vgpu_vm_bind *a,
				       const struct drm_vgpu_vm_bind_op *ops,
				       struct vgpu_front_bo **bos,
				       struct vgpu_front_ctx *ctx,
				       struct list_head *ended)
{
	struct drm_vgpu_vm_bind one = *a;
	int ret = 0;
	u32 i;

	if (f->hp) {
		ret = f->proto->vm_bind(f, ff, a, ops, ctx);
		mutex_lock(&ff->lock);
		for (i = 0; i < a->num_done; i++)
			if (vgpu_front_record_op(ff, &ctx->vm, &ops[i], bos[i],
						 ended))
				vgpu_front_precopy_unsure(ff, ctx);
		if (vgpu_front_bind_unknown(ret))
			vgpu_front_precopy_unsure(ff, ctx);
		mutex_unlock(&ff->lock);
		return ret;
	}
	/* Each recorded as it is applied: the next UNMAP checks it. */
	one.num_ops = 1;
	for (i = 0; !ret && i < a->num_ops; i++) {
		if (ops[i].op == DRM_VGPU_BIND_UNMAP &&
		    !vgpu_front_unmap_ok(ff, ctx, &ops[i]))
			return -ENOENT;
		one.num_done = 0;
		ret = f->proto->vm_bind(f, ff, &one, &ops[i], ctx);
		if (!one.num_done) {
			/* A MAP refused part way unmaps what it made: maybe. */
			if (vgpu_front_bind_unknown(ret) ||
			    (ret && ops[i].op == DRM_VGPU_BIND_MAP)) {
				mutex_lock(&ff->lock);
				vgpu_front_precopy_unsure(ff, ctx);
				mutex_unlock(&ff->lock);
			}
			break;
		}
		mutex_lock(&ff->lock);
		if (vgpu_front_record_op(ff, &ctx->vm, &ops[i], bos[i], ended))
			vgpu_front_precopy_unsure(ff, ctx);
		mutex_unlock(&ff->lock);
		a->num_done = i + 1;
	}
	return ret;
}

/*
 * Holds the context and every object it maps until the last request has
 * been answered (see "Handles are held" above).  A MAP names the file's
 * handle; the backend is sent its own.
 */
static int vgpu_front_vm_bind(struct vgpu_front *f, struct vgpu_front_file *ff,
			      void *data)
{
	struct drm_vgpu_vm_bind *a = data;
	struct drm_vgpu_vm_bind_op *ops;
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo **bos;
	LIST_HEAD(ended);
	u32 i;
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
	/*
	 * Pre-flight: refused whole, before anything is sent (stricter than
	 * dom0's node, which applies the operations before a malformed one;
	 * the core checks them again).  Then each object
	 * a MAP names must be this file's.
	 */
	for (i = 0; i < a->num_ops && !ret; i++)
		ret = vgpu_check_bind_op(&ops[i]);
	mutex_lock(&ff->lock);
	for (i = 0; i < a->num_ops && !ret; i++) {
		if (ops[i].op != DRM_VGPU_BIND_MAP)
			continue;
		bos[i] = vgpu_front_bo_use(ff, ops[i].handle);
		if (bos[i])
			ops[i].handle = bos[i]->be;
		else
			ret = -ENOENT;
	}
	mutex_unlock(&ff->lock);
	a->num_done = 0;
	if (!ret)
		ret = mutex_lock_killable(&ctx->bind_lock) ? -EINTR : 0;
	if (!ret) {
		ret = vgpu_front_vm_bind_recorded(f, ff, a, ops, bos, ctx,
						  &ended);
		mutex_unlock(&ctx->bind_lock);
	}
	vgpu_front_bo_end_zombies(f, ff, &ended);
	for (i = 0; i < a->num_ops; i++)
		if (bos[i])
			vgpu_front_bo_unuse(f, ff, bos[i]);
	kfree(bos);
out_ops:
	kfree(ops);
out_ctx:
	vgpu_front_ctx_unuse(f, ff, ctx);
	return ret;
}

static int vgpu_front_submit(struct vgpu_front *f, struct vgpu_front_file *ff,
			     void *data, struct drm_file *file)
{
	struct drm_vgpu_submit *a = data;
	struct drm_syncobj *out = NULL;
	struct vgpu_front_ctx *ctx, *held;
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
	/*
	 * Pre-flight: hp posts a submission without waiting for the core's
	 * answer; a malformed command must fail this ioctl, as on dom0's
	 * node, not only its fence (the core checks them again).
	 */
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
	if (!ret) {
		/* Counted while it is sent, for a pre-copy (hp drops ctx). */
		held = ctx;
		kref_get(&held->ref);
		/* What it writes in host memory: vgpu_front_dirty.c. */
		WRITE_ONCE(held->gpu_wrote, true);
		vgpu_front_precopy_submitting(f, ff, held, cmds, a->num_cmds);
		ret = f->proto->submit(f, ff, a, cmds, out, &ctx);
		/* hp: counted in inflight first, if posted (release). */
		atomic_dec_return_release(&held->submitting);
		vgpu_front_ctx_put(held);
	}
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
	ret = vgpu_front_enter(f, VGPU_FRONT_KILLABLE);			\
	if (ret)							\
		return ret;						\
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
VGPU_FRONT_IOCTL(ctx_stack, vgpu_front_ctx_stack(f, ff, data))

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
	DRM_IOCTL_DEF_DRV(VGPU_CTX_STACK, vgpu_front_ioctl_ctx_stack, DRM_RENDER_ALLOW),
};

static int vgpu_front_open(struct drm_device *dev, struct drm_file *file)
{
	struct vgpu_front_file *ff = kzalloc(sizeof(*ff), GFP_KERNEL);
	struct vgpu_front *f = dev->dev_private;

	if (!ff)
		return -ENOMEM;
	mutex_init(&ff->lock);
	xa_init_flags(&ff->bos, XA_FLAGS_ALLOC1);
	xa_init_flags(&ff->ctxs, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&ff->zombies);
	/* Under files_lock: a restore either updates it or came before. */
	mutex_lock(&f->files_lock);
	ff->gen = vgpu_front_gen(f);
	list_add_tail(&ff->node, &f->files);
	mutex_unlock(&f->files_lock);
	file->driver_priv = ff;
	return 0;
}

/*
 * Frees what the file created, in dom0 too while its connection lasts:
 * a file of an earlier connection sends nothing (its handles would name
 * the new connection's objects).  Not killable: the process is exiting;
 * during a save or a restore it waits for the state to be back (a
 * restore needs the file's entries whole).
 */
static void vgpu_front_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct vgpu_front *f = dev->dev_private;
	struct vgpu_front_file *ff = file->driver_priv;
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo *bo;
	unsigned long id;

	vgpu_front_enter(f, VGPU_FRONT_UNKILLABLE);
	mutex_lock(&f->files_lock);
	list_del(&ff->node);
	mutex_unlock(&f->files_lock);
	/* Contexts first: their ends destroy the zombies they mapped. */
	xa_for_each(&ff->ctxs, id, ctx)
		vgpu_front_ctx_end(f, ff, ctx, VGPU_FRONT_UNKILLABLE);
	WARN_ON(!list_empty(&ff->zombies));
	xa_for_each(&ff->bos, id, bo)
		vgpu_front_bo_end(f, ff, bo, VGPU_FRONT_UNKILLABLE);
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

	if (WARN_ON(f->drm))
		return -EBUSY;
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
