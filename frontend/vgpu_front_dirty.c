// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_dirty.c - the host memory the GPU wrote, made dirty for a
 * live migration's last copy.
 *
 * A live migration (xl migrate) copies the guest's memory while it runs,
 * round after round, each round the pages written since the last one,
 * then suspends the guest and copies what is still dirty.  Xen knows a
 * page is dirty when the guest writes it (log-dirty mode), or when a
 * grant copy writes it or a writable grant mapping of it ends
 * (gnttab_mark_dirty()).  In hp mode the backend maps a host object's
 * pages once, for the object's life (persistent grants): what the GPU
 * writes there while the domain is being copied is not seen, and a page
 * sent before such a write reaches the new host with its old contents,
 * while the program there was told the GPU's work was done (the migrate
 * scenario's read-backs came back as zeroes).
 *
 * The suspend fixes that after its drain, with the guest's processes
 * frozen: it adds 0 to one word of every page the GPU may have written,
 * a write that changes nothing (atomic, so that a submission which
 * outlasted the drain and still writes loses nothing), and the last round
 * copies those pages.  The GPU may have written a persistently granted
 * host object since the last save if a context that maps it writable
 * submitted since then (struct vgpu_front_ctx.gpu_wrote, set before each
 * submission is sent, and kept while one is in flight), if a context
 * whose record is unsure may map it, or if a writable mapping of it went
 * meanwhile (struct vgpu_front_bo.gpu_wrote, set as the record loses the
 * mapping, a whole file's when an unsure context ends).  A program whose
 * GPU work writes its host memory therefore sends that memory again
 * during the stop: the downtime grows with it, as with device memory
 * that was not pre-copied.  Objects kept by copies (naive mode, hp past
 * its grant quota) need none of this: the backend writes them through a
 * grant mapping made and ended for each request, and the end marks them.
 */
#include <linux/atomic.h>
#include <linux/highmem.h>
#include <xen/page.h>

#include "vgpu_front.h"

/* @bo is persistently granted: the backend writes its pages itself. */
static bool vgpu_front_dirty_granted(const struct vgpu_front_bo *bo)
{
	return bo->shmem && bo->grants.n;
}

/**
 * vgpu_front_dirty_unmapped() - a mapping of an object went from the record
 * @m: the mapping as it was; the file's lock held
 *
 * The GPU may have written the object through it until then.
 */
void vgpu_front_dirty_unmapped(const struct vgpu_mapping *m)
{
	struct vgpu_front_bo *bo = m->bo;

	if ((m->perms & DRM_VGPU_BIND_WRITE) && vgpu_front_dirty_granted(bo))
		bo->gpu_wrote = true;
}

/**
 * vgpu_front_dirty_file() - the GPU may have written any object of @ff
 * @ff: the file; its lock held
 *
 * A context whose record is unsure may have mapped any of them.
 */
void vgpu_front_dirty_file(struct vgpu_front_file *ff)
{
	struct vgpu_front_bo *bo;
	unsigned long handle;

	lockdep_assert_held(&ff->lock);
	xa_for_each(&ff->bos, handle, bo)
		bo->gpu_wrote |= vgpu_front_dirty_granted(bo);
	list_for_each_entry(bo, &ff->zombies, zombie_node)
		bo->gpu_wrote |= vgpu_front_dirty_granted(bo);
}

/* Marks what @ctx may have written since the last save; the file's lock. */
static void vgpu_front_dirty_ctx(struct vgpu_front_file *ff,
				 struct vgpu_front_ctx *ctx)
{
	u32 i;

	lockdep_assert_held(&ff->lock);
	if (ctx->unsure) {
		vgpu_front_dirty_file(ff);
	} else if (READ_ONCE(ctx->gpu_wrote)) {
		for (i = 0; i < ctx->vm.count; i++)
			vgpu_front_dirty_unmapped(&ctx->vm.maps[i]);
	}
	/* One that outlasted the drain may write on: the next save's too. */
	if (!atomic_read(&ctx->inflight))
		WRITE_ONCE(ctx->gpu_wrote, false);
}

/* Writes each page of @bo without changing it; returns the bytes. */
static u64 vgpu_front_dirty_bo(struct vgpu_front_bo *bo)
{
	void *p;
	u32 i;

	if (!bo->gpu_wrote)
		return 0;
	bo->gpu_wrote = false;
	if (!vgpu_front_dirty_granted(bo))
		return 0;
	for (i = 0; i < bo->grants.n; i++) {
		p = kmap_local_page(bo->grants.pages[i]);
		/* A locked write: Xen's log-dirty mode sees it. */
		atomic_add(0, p);
		kunmap_local(p);
		if (!(i % 4096))
			cond_resched();
	}
	return (u64)bo->grants.n << PAGE_SHIFT;
}

/**
 * vgpu_front_dirty_all() - make dirty the host pages the GPU wrote
 * @f: the vGPU, drained, its processes frozen; pm_lock held
 * @gen: the connection whose files are saved (another's have no grants)
 *
 * Called by the suspend before the domain stops (see above).
 *
 * Return: the bytes made dirty.
 */
u64 vgpu_front_dirty_all(struct vgpu_front *f, u64 gen)
{
	struct vgpu_front_file *ff;
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo *bo;
	unsigned long id;
	u64 bytes = 0;

	/* One write a page marks the whole granted frame. */
	BUILD_BUG_ON(PAGE_SIZE != XEN_PAGE_SIZE);
	lockdep_assert_held(&f->pm_lock);
	mutex_lock(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		if (ff->gen != gen)
			continue;
		mutex_lock(&ff->lock);
		xa_for_each(&ff->ctxs, id, ctx)
			vgpu_front_dirty_ctx(ff, ctx);
		xa_for_each(&ff->bos, id, bo)
			bytes += vgpu_front_dirty_bo(bo);
		list_for_each_entry(bo, &ff->zombies, zombie_node)
			bytes += vgpu_front_dirty_bo(bo);
		mutex_unlock(&ff->lock);
	}
	mutex_unlock(&f->files_lock);
	return bytes;
}
