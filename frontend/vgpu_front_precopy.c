// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_precopy.c - device memory copied into guest pages while the
 * guest runs, so that the save (xl save, or the last stop of xl migrate)
 * copies only what changed since.
 *
 * The toolstack asks (vgpuctl precopy, before xl save or xl migrate) by
 * writing a request number into the device's XenStore directory:
 *
 *  precopy        N (1, 2, ...): run one pass; "0": drop the copies
 *  precopy-done   the report of the last request, written here:
 *		   "N copied_kib clean_kib dirty_kib ms", or "N error ERRNO"
 *
 * Each device object's copy (bo->saved) is in one of three states
 * (bo->pre, under the file's lock):
 *
 *  NONE     no copy, or one that a write may have changed
 *  COPYING  a pass is copying it, chunk by chunk (bo->pre_off bytes so
 *	     far), and nothing wrote it since the pass began it
 *  CLEAN    the copy is the object's contents
 *
 * Writes are known from the submissions that can make them, marked
 * before they are sent: a launch may write every object its context maps
 * writable; a COPY or FILL the objects mapped writable under its
 * destination.  A writable MAP, an UNMAP, and a context's end mark
 * what they mapped or unmapped once the backend applied them (a job in
 * flight may write through a mapping made after it was sent, and had an
 * unmapped one until then).  A pass begins an object only when it is
 * quiet: no context that maps it writable is sending a submission
 * (submitting) or has one posted and not answered (hp: inflight).  Marks
 * and a pass's decisions are made under the file's lock, so they see
 * each other in one order: a write marked after the pass began the
 * object sends it back to NONE, for a later pass or the save.  While
 * pre-copy is off nothing is marked (nothing is CLEAN): a submission
 * counts itself, then looks, and a pass turns it on, then looks at the
 * counts, each behind a full barrier.
 *
 * A pass holds pm_lock (whoever waits for it, a save or a removal, ends
 * the pass within one chunk: vgpu_front_pm_lock()), and files_lock and
 * the file's lock for one chunk at a time (a close and the file's ioctls
 * wait for at most one chunk).  A context whose bind had an unknown
 * outcome (struct vgpu_front_ctx.unsure) counts as writing every object
 * of its file.  The copies
 * cost guest memory as the save's do; they are dropped by "0", by a
 * cancelled save and once a restore used them.
 */
#include <linux/dma-fence.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include "vgpu_front.h"
#include "vgpu_front_pm.h"

/*
 * Marks the objects @vm maps writable over [@va, @va + @size) (every
 * one when @size is 0): their copies are no longer sure.
 */
static void vgpu_front_precopy_mark(struct vgpu_vm *vm, u64 va, u64 size)
{
	struct vgpu_mapping *m;
	u64 end;
	u32 i;

	if (check_add_overflow(va, size, &end))
		end = U64_MAX;
	for (i = 0; i < vm->count; i++) {
		m = &vm->maps[i];
		if (!(m->perms & DRM_VGPU_BIND_WRITE))
			continue;
		if (size && (m->va >= end || m->va + m->size <= va))
			continue;
		((struct vgpu_front_bo *)m->bo)->pre = VGPU_FRONT_PRE_NONE;
	}
}

/* Marks every device object of the file (a context whose record is unsure). */
static void vgpu_front_precopy_mark_file(struct vgpu_front_file *ff)
{
	struct vgpu_front_bo *bo;
	unsigned long handle;

	lockdep_assert_held(&ff->lock);
	xa_for_each(&ff->bos, handle, bo)
		bo->pre = VGPU_FRONT_PRE_NONE;
	list_for_each_entry(bo, &ff->zombies, zombie_node)
		bo->pre = VGPU_FRONT_PRE_NONE;
}

/**
 * vgpu_front_precopy_unsure() - @ctx may map what its record lacks
 * @ff: the file; its lock held
 * @ctx: the context, whose bind had an unknown outcome (or whose end
 *	came once unsure)
 *
 * Every object of the file may have been written: its copy is not sure
 * any more, and from now on the context counts as writing every object.
 */
void vgpu_front_precopy_unsure(struct vgpu_front_file *ff,
			       struct vgpu_front_ctx *ctx)
{
	lockdep_assert_held(&ff->lock);
	ctx->unsure = true;
	vgpu_front_precopy_mark_file(ff);
}

/**
 * vgpu_front_precopy_submitting() - a submission of @ctx is being sent
 * @f: the vGPU
 * @ff: the file
 * @ctx: the context, used by the caller
 * @cmds: its commands, checked
 * @n: how many
 *
 * Counts it in @ctx->submitting (the caller decrements once it is sent;
 * hp counts it in @ctx->inflight before) and, while pre-copy is on,
 * marks what it may write.
 */
void vgpu_front_precopy_submitting(struct vgpu_front *f,
				   struct vgpu_front_file *ff,
				   struct vgpu_front_ctx *ctx,
				   const struct drm_vgpu_cmd *cmds, u32 n)
{
	u32 i;

	atomic_inc(&ctx->submitting);
	/*
	 * Pairs with the barrier of vgpu_front_precopy_pass(): either this
	 * sees pre-copy on, or the pass sees this submission counted (and
	 * leaves what the context writes).  Pre-copy off, nothing is CLEAN
	 * and nothing needs marking: no lock on this path.
	 */
	smp_mb__after_atomic();
	if (!READ_ONCE(f->precopy))
		return;
	mutex_lock(&ff->lock);
	if (ctx->unsure)
		vgpu_front_precopy_mark_file(ff);
	for (i = 0; !ctx->unsure && i < n; i++) {
		if (cmds[i].op != DRM_VGPU_CMD_COPY &&
		    cmds[i].op != DRM_VGPU_CMD_FILL) {
			/* A launch: all it maps writable, once is enough. */
			vgpu_front_precopy_mark(&ctx->vm, 0, 0);
			break;
		}
		vgpu_front_precopy_mark(&ctx->vm, cmds[i].dst,
					cmds[i].size ?: 1);
	}
	mutex_unlock(&ff->lock);
}

/**
 * vgpu_front_precopy_unmapped() - the backend unmapped @m (or part of it)
 * @m: the mapping as it was; the file's lock held
 */
void vgpu_front_precopy_unmapped(const struct vgpu_mapping *m)
{
	if (m->perms & DRM_VGPU_BIND_WRITE)
		((struct vgpu_front_bo *)m->bo)->pre = VGPU_FRONT_PRE_NONE;
}

/* No context that maps @bo writable (or may) is writing it, or may be. */
static bool vgpu_front_bo_quiet(struct vgpu_front_file *ff,
				struct vgpu_front_bo *bo)
{
	struct vgpu_front_ctx *ctx;
	unsigned long id;
	u32 i;

	lockdep_assert_held(&ff->lock);
	xa_for_each(&ff->ctxs, id, ctx) {
		for (i = 0; !ctx->unsure && i < ctx->vm.count; i++)
			if (ctx->vm.maps[i].bo == bo &&
			    ctx->vm.maps[i].perms & DRM_VGPU_BIND_WRITE)
				break;
		if (!ctx->unsure && i == ctx->vm.count)
			continue;
		/* Acquire: a submission posted is counted in inflight. */
		if (atomic_read_acquire(&ctx->submitting) ||
		    atomic_read(&ctx->inflight))
			return false;
	}
	return true;
}

/**
 * struct vgpu_front_precopy - one pass
 * @m: its mover
 * @pass: its number (struct vgpu_front_bo.pre_pass)
 * @busy: bytes of objects skipped because they were being written
 */
struct vgpu_front_precopy {
	struct vgpu_front_mover m;
	u32 pass;
	u64 busy;
};

/*
 * The next device object of @ff this pass has not finished, or NULL.
 * The file's cursor keeps each step from walking the objects done: an
 * object made behind it during the pass waits for the next one.
 */
static struct vgpu_front_bo *vgpu_front_precopy_next(struct vgpu_front_file *ff,
						     u32 pass)
{
	struct vgpu_front_bo *bo;

	lockdep_assert_held(&ff->lock);
	if (ff->pre_pass != pass) {
		ff->pre_pass = pass;
		ff->pre_next = 0;
	}
	for (bo = xa_find(&ff->bos, &ff->pre_next, ULONG_MAX, XA_PRESENT); bo;
	     bo = xa_find_after(&ff->bos, &ff->pre_next, ULONG_MAX,
				XA_PRESENT))
		if (!bo->shmem && bo->pre_pass != pass)
			return bo;
	/* Past the last handle: the cursor stays there for this pass. */
	ff->pre_next = ULONG_MAX;
	list_for_each_entry(bo, &ff->zombies, zombie_node)
		if (!bo->shmem && bo->pre_pass != pass)
			return bo;
	return NULL;
}

/*
 * One step of a pass on @bo: begin it (if quiet) or copy its next chunk.
 * The caller holds the file's lock.
 */
static int vgpu_front_precopy_bo(struct vgpu_front_precopy *p,
				 struct vgpu_front_file *ff,
				 struct vgpu_front_bo *bo)
{
	u64 size = round_up(bo->size, p->m.page), n;
	int ret;

	lockdep_assert_held(&ff->lock);
	if (bo->pre == VGPU_FRONT_PRE_NONE) {
		/* Written while this pass copied it: a later pass's. */
		if (bo->pre_began == p->pass || !vgpu_front_bo_quiet(ff, bo)) {
			p->busy += size;
			bo->pre_pass = p->pass;
			return 0;
		}
		if (bo->saved_size != size)
			vgpu_front_bo_unsave(bo);
		ret = vgpu_front_bo_size_saved(bo, size);	/* no page yet */
		if (ret) {
			vgpu_front_bo_unsave(bo);
			return ret;
		}
		bo->pre = VGPU_FRONT_PRE_COPYING;
		bo->pre_off = 0;
		bo->pre_began = p->pass;
	}
	if (bo->pre == VGPU_FRONT_PRE_COPYING) {
		n = min(p->m.chunk, size - bo->pre_off);
		/* Page by page as it goes; no reclaim storm in a running guest. */
		ret = vgpu_front_bo_fill_saved(bo, bo->pre_off, n,
					       GFP_KERNEL | __GFP_NORETRY);
		if (!ret)
			ret = vgpu_front_move_range(&p->m, bo, bo->pre_off, n,
						    true);
		if (ret) {
			bo->pre = VGPU_FRONT_PRE_NONE;
			return ret;
		}
		/* The file's lock was held: nothing marked it meanwhile. */
		bo->pre_off += n;
		if (bo->pre_off < size)
			return 0;
		bo->pre = VGPU_FRONT_PRE_CLEAN;
	}
	bo->pre_pass = p->pass;
	return 0;
}

/*
 * One step of a pass: one chunk of the first object not finished.
 * Return: 0 (more to do), 1 (the pass is done) or a negative errno.
 */
static int vgpu_front_precopy_step(struct vgpu_front *f,
				   struct vgpu_front_precopy *p, u64 gen)
{
	struct vgpu_front_file *ff;
	struct vgpu_front_bo *bo;
	int ret = 1;

	mutex_lock(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		if (ff->gen != gen)
			continue;
		mutex_lock(&ff->lock);
		bo = vgpu_front_precopy_next(ff, p->pass);
		if (bo)
			ret = vgpu_front_precopy_bo(p, ff, bo);
		mutex_unlock(&ff->lock);
		if (bo)
			break;
	}
	mutex_unlock(&f->files_lock);
	return ret;
}

/* Adds @bo, if a device object, to the bytes CLEAN (*@clean) or not. */
static void vgpu_front_precopy_tally(const struct vgpu_front_bo *bo, u64 page,
				     u64 *clean, u64 *dirty)
{
	if (!bo->shmem)
		*(bo->pre == VGPU_FRONT_PRE_CLEAN ? clean : dirty) +=
			round_up(bo->size, page);
}

/* Bytes of device objects whose copies are CLEAN (*@clean) and not. */
static void vgpu_front_precopy_count(struct vgpu_front *f, u64 gen, u64 page,
				     u64 *clean, u64 *dirty)
{
	struct vgpu_front_file *ff;
	struct vgpu_front_bo *bo;
	unsigned long handle;

	*clean = 0;
	*dirty = 0;
	mutex_lock(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		if (ff->gen != gen)
			continue;
		mutex_lock(&ff->lock);
		xa_for_each(&ff->bos, handle, bo)
			vgpu_front_precopy_tally(bo, page, clean, dirty);
		list_for_each_entry(bo, &ff->zombies, zombie_node)
			vgpu_front_precopy_tally(bo, page, clean, dirty);
		mutex_unlock(&ff->lock);
	}
	mutex_unlock(&f->files_lock);
}

static __printf(3, 4)
void vgpu_front_precopy_report(struct vgpu_front *f, u64 serial,
			       const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = kvasprintf(GFP_KERNEL, fmt, ap);
	va_end(ap);
	if (!text)
		return;
	if (xenbus_printf(XBT_NIL, f->xbdev->nodename,
			  VGPUIF_KEY_PRECOPY_DONE, "%llu %s", serial, text))
		dev_warn(&f->xbdev->dev, "pre-copy: could not write its report\n");
	kfree(text);
}

/* One pass, for request @serial; the caller holds pm_lock. */
static void vgpu_front_precopy_pass(struct vgpu_front *f, u64 serial)
{
	struct vgpu_front_precopy p = {};
	u64 gen = vgpu_front_gen(f), clean, dirty;
	ktime_t t0 = ktime_get();
	int ret;

	lockdep_assert_held(&f->pm_lock);
	if (f->saved_gen || f->resuming || f->needs_resume || !f->drm ||
	    !READ_ONCE(f->connected)) {
		vgpu_front_precopy_report(f, serial, "error %d", -EBUSY);
		return;
	}
	WRITE_ONCE(f->precopy, true);
	/* Pairs with vgpu_front_precopy_submitting()'s: on, then counts. */
	smp_mb();
	p.pass = ++f->precopy_pass;
	ret = vgpu_front_mover_begin(&p.m, f, gen, 0);
	while (!ret) {
		if (atomic_read(&f->pm_waiters)) {	/* a save, a removal */
			ret = -EINTR;
			break;
		}
		ret = vgpu_front_precopy_step(f, &p, gen);
		cond_resched();
	}
	vgpu_front_mover_end(&p.m);
	if (ret < 0) {
		dev_warn(&f->xbdev->dev, "pre-copy: pass %u stopped (%d) after %llu KiB\n",
			 p.pass, ret, p.m.bytes >> 10);
		vgpu_front_precopy_report(f, serial, "error %d", ret);
		return;
	}
	vgpu_front_precopy_count(f, gen, p.m.page, &clean, &dirty);
	dev_info(&f->xbdev->dev, "pre-copy: pass %u copied %llu KiB in %lld ms; %llu KiB clean, %llu KiB to copy again (%llu KiB being written)\n",
		 p.pass, p.m.bytes >> 10, ktime_ms_delta(ktime_get(), t0),
		 clean >> 10, dirty >> 10, p.busy >> 10);
	vgpu_front_precopy_report(f, serial, "%llu %llu %llu %lld",
				  p.m.bytes >> 10, clean >> 10, dirty >> 10,
				  ktime_ms_delta(ktime_get(), t0));
}

/* Drops every copy, if no save holds them; the caller holds pm_lock. */
static void vgpu_front_precopy_drop(struct vgpu_front *f, u64 serial)
{
	lockdep_assert_held(&f->pm_lock);
	if (f->saved_gen || f->resuming || f->needs_resume) {
		vgpu_front_precopy_report(f, serial, "error %d", -EBUSY);
		return;
	}
	vgpu_front_unsave_all(f);
	vgpu_front_precopy_report(f, serial, "dropped");
}

static void vgpu_front_precopy_work(struct work_struct *w)
{
	struct vgpu_front *f = container_of(w, struct vgpu_front, precopy_work);
	u64 serial;

	/* The guest's own key: any value is read with care. */
	if (xenbus_scanf(XBT_NIL, f->xbdev->nodename, VGPUIF_KEY_PRECOPY,
			 "%llu", &serial) != 1)
		return;
	/* A cancelled save's copies go first (the first ioctl's check). */
	if (READ_ONCE(f->saved_gen))
		vgpu_front_pm_check(f);
	mutex_lock(&f->pm_lock);
	if (f->removing) {
		mutex_unlock(&f->pm_lock);
		return;
	}
	/* A drop is answered each time; a pass once per number. */
	if (!serial) {
		f->precopy_serial = 0;
		vgpu_front_precopy_drop(f, serial);
	} else if (serial != f->precopy_serial) {
		f->precopy_serial = serial;
		vgpu_front_precopy_pass(f, serial);
	}
	mutex_unlock(&f->pm_lock);
}

/**
 * vgpu_front_precopy_request() - the device's XenStore directory changed
 * @f: the vGPU
 *
 * From the xenwatch thread: only queues the work, which reads the request.
 */
void vgpu_front_precopy_request(struct vgpu_front *f)
{
	if (!READ_ONCE(f->removing))
		queue_work(system_unbound_wq, &f->precopy_work);
}

/**
 * vgpu_front_precopy_init() - set up a vGPU's pre-copy
 * @f: the vGPU
 */
void vgpu_front_precopy_init(struct vgpu_front *f)
{
	INIT_WORK(&f->precopy_work, vgpu_front_precopy_work);
}
