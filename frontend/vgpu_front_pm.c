// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_pm.c - a vGPU's state carried across xl save/restore (and
 * migration, which is a save on one host and a restore on another).
 *
 * The backend's state dies with the domain: its contexts, objects and
 * mappings, and the contents of device memory.  The guest knows all of it
 * but the contents (every context, object and mapping went through this
 * driver, which records them: vgpu_front_drv.c), so:
 *
 *  suspend (xenbus .suspend, the guest's processes frozen, so no ioctl
 *	runs): the submissions in flight are waited for, and every
 *	device-memory object's contents are copied into guest pages: a
 *	context of this driver's own maps a chunk of the object and a
 *	staging window and COPYs (hp: the staging object is the guest pages
 *	themselves, granted; naive: a dom0 object read page by page).
 *	The host pages the GPU wrote through persistent grants are written
 *	once by the guest, for a live migration's last round to copy them
 *	(vgpu_front_dirty.c).
 *  cancelled (xl save -c, a failed save): the ring's event channel is
 *	still bound (Xen's restore zaps every binding: xen_irq_resume()):
 *	once the save ended (resume_work, armed by the suspend), or at the
 *	first ioctl, the copies go (vgpu_front_pm_check()).
 *  restored: the resume (xenbus .resume, before the processes thaw)
 *	pauses the device (every ioctl and close waits), drops the old ring
 *	(its grants, and hp's persistent grants of host objects, name
 *	nothing on the new host) and a new connection is made, in the mode
 *	the new backend offers; then every file's contexts and objects are
 *	created again, device memory is filled from the copies, and every
 *	recorded mapping is made again at the same GPU address.  The
 *	program's ids do not change (the backend's may: the files
 *	translate).  Then the device unpauses.
 *  restored without the device's nodes (the toolstack writes them after
 *	the domain runs): no resume came; resume_work once the save ended,
 *	the first ioctl, or the nodes' watch, finds the ring's binding
 *	zapped, pauses the device, and it resumes once the nodes are back.
 *
 * What cannot be restored is refused clearly: a file whose state does not
 * fit the new backend (a quota, a copy that failed) gets -ENODEV from
 * then on; with no vGPU at all within resume_timeout_s the render node
 * goes.  Both are logged.
 */
#include <drm/drm_gem_shmem_helper.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/events.h>

#include "vgpu_front.h"
#include "vgpu_front_pm.h"

static unsigned int vgpu_front_resume_timeout_s = 120;
module_param_named(resume_timeout_s, vgpu_front_resume_timeout_s, uint, 0644);
MODULE_PARM_DESC(resume_timeout_s, "After a restore, how long programs wait for a vGPU before its render node goes, s (default 120)");

/**
 * vgpu_front_pm_lock() - take pm_lock, ending a pre-copy pass that holds it
 * @f: the vGPU
 *
 * A pass holds pm_lock for its whole length and stops within one chunk
 * when someone waits here (vgpu_front_precopy.c).
 */
void vgpu_front_pm_lock(struct vgpu_front *f)
	__acquires(&f->pm_lock)
{
	atomic_inc(&f->pm_waiters);
	mutex_lock(&f->pm_lock);
	atomic_dec(&f->pm_waiters);
}

/**
 * vgpu_front_enter() - wait while the device is paused
 * @f: the vGPU
 * @how: killable (an ioctl) or not (a close)
 *
 * Called outside drm_dev_enter(): a removal of the render node never waits
 * for a paused caller.  The wait is freezable: a save may come meanwhile.
 *
 * Return: 0, or -EINTR when killed.
 */
int vgpu_front_enter(struct vgpu_front *f, enum vgpu_front_wait how)
{
	if (unlikely(READ_ONCE(f->saved_gen)))
		vgpu_front_pm_check(f);
	if (how == VGPU_FRONT_UNKILLABLE) {
		wait_event_state(f->wq, !READ_ONCE(f->paused),
				 (TASK_UNINTERRUPTIBLE | TASK_FREEZABLE));
		return 0;
	}
	return wait_event_state(f->wq, !READ_ONCE(f->paused),
				(TASK_KILLABLE | TASK_FREEZABLE)) ? -EINTR : 0;
}

static void vgpu_front_set_paused(struct vgpu_front *f, bool paused)
{
	spin_lock_irq(&f->ring_lock);
	f->paused = paused;
	spin_unlock_irq(&f->ring_lock);
	if (!paused)
		wake_up_all(&f->wq);
}

/*
 * The PM core is between a save's prepare and its end (or the restore's
 * resume of this device): what the save did is not known yet.
 */
static bool vgpu_front_pm_saving(struct vgpu_front *f)
{
	return f->xbdev->dev.power.is_prepared ||
	       f->xbdev->dev.power.is_suspended;
}

/* Xen's restore zapped the ring's event channel (xen_irq_resume()). */
static bool vgpu_front_pm_zapped(struct vgpu_front *f)
{
	return f->irq && irq_from_evtchn(f->evtchn) != f->irq;
}

/* The ring has its event channel bound as it was: no restore came. */
static bool vgpu_front_pm_bound(struct vgpu_front *f)
{
	return f->irq && !vgpu_front_pm_zapped(f);
}

/*
 * The ring was up (both its irq and event channel stored: ring_up()
 * takes ring_lock after them), not one being set up right now.
 */
static bool vgpu_front_pm_ring_was_up(struct vgpu_front *f)
{
	bool up;

	spin_lock_irq(&f->ring_lock);
	up = f->connected;
	spin_unlock_irq(&f->ring_lock);
	return up;
}

/* The ring is up and still bound: a connection calls can use. */
static bool vgpu_front_pm_live(struct vgpu_front *f)
{
	return READ_ONCE(f->connected) && !READ_ONCE(f->gone) &&
	       vgpu_front_pm_bound(f);
}

/*
 * Restored without the device's nodes: nothing answers on the ring; the
 * device pauses until resume_work resumes it once they are back, or
 * giveup_work ends the wait.  The caller holds pm_lock.
 */
static void vgpu_front_pm_wait_nodes(struct vgpu_front *f, const char *again)
{
	lockdep_assert_held(&f->pm_lock);
	dev_info(&f->xbdev->dev, "resume: restored %swithout its vGPU's nodes: waiting for them\n",
		 again);
	vgpu_front_ring_gone(f);
	f->needs_resume = true;
	vgpu_front_set_paused(f, true);
	mod_delayed_work(system_wq, &f->giveup_work,
			 vgpu_front_resume_timeout_s * HZ);
	mod_delayed_work(system_wq, &f->resume_work, 0);
}

/**
 * vgpu_front_pm_check() - how did the last save end?
 * @f: the vGPU
 *
 * Asked once the save ended (resume_work, which the suspend arms), by
 * each ioctl or close while a save's state is kept (saved_gen), and when
 * the device's nodes change.  Xen's restore zaps every event-channel binding
 * (xen_irq_resume()); a cancelled save (xl save -c, a failed save) keeps
 * them.  Cancelled: the copies go.  Restored without a resume (the
 * device's nodes were missing then): the device pauses until it resumes
 * (resume_work, once the nodes are back) and its state is back, or until
 * giveup_work.  A restore with the nodes there paused it already.
 *
 * Return: true when a save is under way, so that nothing was decided.
 */
bool vgpu_front_pm_check(struct vgpu_front *f)
{
	bool saving;

	mutex_lock(&f->pm_lock);
	/*
	 * Not between the save's prepare and its end (a close from a
	 * workqueue may come then; is_suspended is set only once .suspend
	 * returned): the PM core says so.
	 */
	saving = vgpu_front_pm_saving(f);
	if (!f->saved_gen || f->removing || saving) {
		mutex_unlock(&f->pm_lock);
		return saving;
	}
	/*
	 * A restore that waited for its connection was saved, and restored
	 * again without the device's nodes: wait for them as below.
	 */
	if (f->resuming && !f->restoring && !f->needs_resume &&
	    vgpu_front_pm_ring_was_up(f) && vgpu_front_pm_zapped(f)) {
		vgpu_front_pm_wait_nodes(f, "again ");	/* paused already */
		mutex_unlock(&f->pm_lock);
		return false;
	}
	if (f->paused || f->resuming) {
		mutex_unlock(&f->pm_lock);
		return false;
	}
	/*
	 * needs_resume without a pause: a save found a restore nobody had
	 * caught (its nodes never came) and was cancelled; caught here too.
	 */
	if (!f->needs_resume && vgpu_front_pm_bound(f)) {
		f->saved_gen = 0;
		vgpu_front_unsave_all(f);
	} else {
		vgpu_front_pm_wait_nodes(f, "");
	}
	mutex_unlock(&f->pm_lock);
	return false;
}

/**
 * vgpu_front_bo_unsave() - free an object's saved contents
 * @bo: the object
 */
void vgpu_front_bo_unsave(struct vgpu_front_bo *bo)
{
	u64 i;

	if (!bo->saved)
		return;
	for (i = 0; i < bo->saved_size >> PAGE_SHIFT; i++)
		if (bo->saved[i])
			__free_page(bo->saved[i]);
	kvfree(bo->saved);
	bo->saved = NULL;
	bo->saved_size = 0;
	bo->pre = VGPU_FRONT_PRE_NONE;
}

/*
 * Makes @bo->saved @size bytes long (page aligned): the pages already
 * there are kept, the new entries are empty (vgpu_front_bo_fill_saved()).
 */
int vgpu_front_bo_size_saved(struct vgpu_front_bo *bo, u64 size)
{
	u64 n = size >> PAGE_SHIFT, had = bo->saved_size >> PAGE_SHIFT;
	struct page **pages;

	if (n <= had)
		return 0;
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	if (bo->saved)
		memcpy(pages, bo->saved, had * sizeof(*pages));
	kvfree(bo->saved);
	bo->saved = pages;
	bo->saved_size = size;
	return 0;
}

/*
 * Allocates the empty pages of @bo->saved in [@off, @off + @n), zeroed
 * (@gfp besides).  On failure the caller unsaves.
 */
int vgpu_front_bo_fill_saved(struct vgpu_front_bo *bo, u64 off, u64 n,
			     gfp_t gfp)
{
	u64 i;

	for (i = off >> PAGE_SHIFT; i < (off + n) >> PAGE_SHIFT; i++) {
		if (bo->saved[i])
			continue;
		bo->saved[i] = alloc_page(gfp | __GFP_ZERO | __GFP_NOWARN);
		if (!bo->saved[i])
			return -ENOMEM;
	}
	return 0;
}

/* One bind operation on the mover's context: hp whole, naive by pages. */
static int vgpu_front_mover_bind(struct vgpu_front_mover *m, u32 op,
				 u32 handle, u64 offset, u64 va, u64 size)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_VM_BIND };
	struct vgpuif_response rsp;
	u64 step = m->f->hp ? size : m->page, p;
	int ret = 0;

	req.u.vm_bind.ctx_id = m->ctx;
	req.u.vm_bind.op.op = op;
	for (p = 0; !ret && p < size; p += step) {
		if (op == DRM_VGPU_BIND_MAP) {
			req.u.vm_bind.op.flags = DRM_VGPU_BIND_READ |
						 DRM_VGPU_BIND_WRITE;
			req.u.vm_bind.op.handle = handle;
			req.u.vm_bind.op.bo_offset = offset + p;
		}
		req.u.vm_bind.op.va = va + p;
		req.u.vm_bind.op.size = step;
		ret = vgpu_front_do(m->f, m->gen, &req, &rsp);
	}
	/* A MAP refused part way leaves nothing of itself mapped. */
	if (ret && op == DRM_VGPU_BIND_MAP && p > step)
		vgpu_front_mover_bind(m, DRM_VGPU_BIND_UNMAP, 0, 0, va,
				      p - step);
	return ret;
}

/* One COPY of @size bytes on the mover's context, answered once it ran. */
static int vgpu_front_mover_copy(struct vgpu_front_mover *m, u64 dst, u64 src,
				 u64 size)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_SUBMIT };
	struct vgpuif_response rsp;

	req.u.submit.ctx_id = m->ctx;
	req.u.submit.cmd.op = DRM_VGPU_CMD_COPY;
	req.u.submit.cmd.dst = dst;
	req.u.submit.cmd.src = src;
	req.u.submit.cmd.size = size;
	return vgpu_front_do(m->f, m->gen, &req, &rsp);
}

/*
 * How long a restore, and a save, wait for the engine's pacing in all: a
 * save runs inside the toolstack's wait for the domain to suspend (libxl:
 * 60 s, the drain included).
 */
#define VGPU_FRONT_PACED_WAIT		(60 * HZ)
#define VGPU_FRONT_SAVE_PACED_WAIT	(5 * HZ)	/* after the drain */

/**
 * vgpu_front_paced_ctx_create() - a restore's or a save's CTX_CREATE,
 *	asked again while the backend's engine paces the guest's new contexts
 * @f: the vGPU
 * @gen: generation of the connection
 * @a: as for vgpu_front_req_ctx_create()
 * @until: the restore's or the save's deadline (jiffies); 0: not asked
 *	again
 *
 * A program's CTX_CREATE gets -EBUSY and its runtime asks again; a
 * restore re-making a whole guest's contexts has no one to ask again,
 * and may outlast the engine's burst (Documentation/engines.rst, "Paced
 * starts"); a save's mover, refused, would lose the guest's device
 * memory.  Asks again, sleeping 20 ms doubling to 500 ms, until @until
 * (one deadline for the whole restore or save), and not while the
 * device's removal or another caller of vgpu_front_pm_lock() waits, nor,
 * for a restore, while a later save is under way.
 *
 * Return: 0 or a negative errno: -EBUSY past @until, -EINTR when it
 * stopped for a save, the removal or a waiter.
 */
static int vgpu_front_paced_ctx_create(struct vgpu_front *f, u64 gen,
				       struct drm_vgpu_ctx_create *a,
				       unsigned long until)
{
	unsigned int ms = 20;
	int ret;

	for (;;) {
		a->ctx_id = 0;
		ret = vgpu_front_req_ctx_create(f, gen, a);
		if (ret != -EBUSY || !until || time_after(jiffies, until))
			return ret;
		if (atomic_read(&f->pm_waiters) || READ_ONCE(f->removing) ||
		    (f->restoring && vgpu_front_pm_saving(f)))
			return -EINTR;
		msleep(ms);
		ms = min(ms * 2, 500U);
	}
}

int vgpu_front_mover_begin(struct vgpu_front_mover *m, struct vgpu_front *f,
			   u64 gen, unsigned long paced_until)
{
	struct drm_vgpu_ctx_create c = { .priority = DRM_VGPU_PRIO_NORMAL };
	struct drm_vgpu_info info;
	int ret;

	memset(m, 0, sizeof(*m));
	m->f = f;
	m->gen = gen;
	m->paced_until = paced_until;
	ret = vgpu_front_gpu_page(f, gen, &m->page);
	if (!ret)
		ret = vgpu_front_req_info(f, gen, &info);
	if (ret)
		return ret;
	m->chunk = max_t(u64, m->page, SZ_1M);
	m->va = round_up(info.va_start, m->page);
	ret = vgpu_front_paced_ctx_create(f, gen, &c, paced_until);
	if (!ret)
		m->ctx = c.ctx_id;
	return ret;
}

void vgpu_front_mover_end(struct vgpu_front_mover *m)
{
	if (m->ctx)
		vgpu_front_req_ctx_destroy(m->f, m->gen, m->ctx,
					   VGPU_FRONT_UNKILLABLE);
	if (m->stage)
		vgpu_front_req_bo_destroy(m->f, m->gen, m->stage,
					  VGPU_FRONT_UNKILLABLE);
	m->ctx = 0;
	m->stage = 0;
}

/*
 * hp: the chunk's guest pages granted as a host object, mapped at the
 * staging window, one COPY.  -EDQUOT/-ENOSPC: no room to grant them, the
 * caller goes through a dom0 object instead.
 */
static int vgpu_front_move_granted(struct vgpu_front_mover *m,
				   struct page **pages, u64 n, u64 obj_va,
				   bool save)
{
	struct vgpuif_request req = { .operation = VGPUIF_OP_BO_CREATE_GRANTED };
	struct vgpu_front_grants g = {};
	struct vgpuif_response rsp;
	u32 handle;
	int ret;

	/* Writable both ways: BO_CREATE_GRANTED maps its pages so. */
	ret = vgpu_front_grant_pages(m->f, pages, n >> PAGE_SHIFT, false, &g);
	if (ret)
		return ret;
	req.u.bo_granted.size = n;
	req.u.bo_granted.dir_gref = g.dir_grefs[0];
	ret = vgpu_front_do(m->f, m->gen, &req, &rsp);
	vgpu_front_end_dir(&g);
	if (ret)
		goto out;
	handle = rsp.u.bo_granted.handle;
	ret = vgpu_front_mover_bind(m, DRM_VGPU_BIND_MAP, handle, 0, m->va, n);
	if (!ret) {
		ret = save ? vgpu_front_mover_copy(m, m->va, obj_va, n) :
			     vgpu_front_mover_copy(m, obj_va, m->va, n);
		vgpu_front_mover_bind(m, DRM_VGPU_BIND_UNMAP, 0, 0, m->va, n);
		if (ret == -EDQUOT)
			ret = -EIO;	/* a job quota: no fallback helps */
	}
	vgpu_front_req_bo_destroy(m->f, m->gen, handle, VGPU_FRONT_UNKILLABLE);
out:
	vgpu_front_ungrant(&g);
	return ret;
}

/* A dom0 object of one chunk, mapped at the staging window for good. */
static int vgpu_front_mover_stage(struct vgpu_front_mover *m)
{
	struct drm_vgpu_bo_create a = {
		.size = m->chunk, .domain = DRM_VGPU_DOMAIN_HOST,
	};
	u32 stage;
	int ret;

	if (m->stage)
		return 0;
	ret = vgpu_front_req_bo_create(m->f, m->gen, &a, &stage);
	if (ret)
		return ret;
	ret = vgpu_front_mover_bind(m, DRM_VGPU_BIND_MAP, stage, 0, m->va,
				    m->chunk);
	if (ret) {
		vgpu_front_req_bo_destroy(m->f, m->gen, stage,
					  VGPU_FRONT_UNKILLABLE);
		return ret;
	}
	m->stage = stage;
	return 0;
}

/* Naive (or past hp's quota): through the dom0 object, page by page. */
static int vgpu_front_move_staged(struct vgpu_front_mover *m,
				  struct page **pages, u64 n, u64 obj_va,
				  bool save)
{
	int ret = vgpu_front_mover_stage(m);
	u64 p;

	if (!ret && save)
		ret = vgpu_front_mover_copy(m, m->va, obj_va, n);
	for (p = 0; !ret && p < n; p += PAGE_SIZE)
		ret = vgpu_front_page_io(m->f, m->gen, m->stage, p,
					 pages[p >> PAGE_SHIFT], !save);
	if (!ret && !save)
		ret = vgpu_front_mover_copy(m, obj_va, m->va, n);
	return ret;
}

/**
 * vgpu_front_move_range() - copy part of a device object out or in
 * @m: the mover
 * @bo: the object, with @bo->saved covering @off + @size
 * @off: where, a multiple of the GPU page
 * @size: bytes, a multiple of the GPU page, within the object
 * @save: out of device memory (true) or back into it
 *
 * Chunk by chunk: a chunk of the object is mapped, copied and unmapped,
 * so the mover never maps more than two chunks.
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_move_range(struct vgpu_front_mover *m, struct vgpu_front_bo *bo,
			  u64 off, u64 size, bool save)
{
	u64 obj_va = m->va + m->chunk, end = off + size, n;
	struct page **pages;
	int ret = 0;

	for (; !ret && off < end; off += n) {
		n = min(m->chunk, end - off);
		ret = vgpu_front_mover_bind(m, DRM_VGPU_BIND_MAP, bo->be, off,
					    obj_va, n);
		if (ret)
			break;
		pages = bo->saved + (off >> PAGE_SHIFT);
		ret = -EDQUOT;
		if (m->f->hp && !m->stage)
			ret = vgpu_front_move_granted(m, pages, n, obj_va, save);
		if (ret == -EDQUOT || ret == -ENOSPC)
			ret = vgpu_front_move_staged(m, pages, n, obj_va, save);
		vgpu_front_mover_bind(m, DRM_VGPU_BIND_UNMAP, 0, 0, obj_va, n);
	}
	if (!ret)
		m->bytes += size;
	return ret;
}

/*
 * Waits (at most timeout_ms) for the hp submissions in flight.  Those
 * that outlast it end with -ENODEV, even if they succeed later: the
 * saved state may miss what they wrote.
 */
static void vgpu_front_drain(struct vgpu_front *f)
{
	if (wait_event_timeout(f->wq, vgpu_front_async_idle(f),
			       msecs_to_jiffies(vgpu_front_timeout_ms)))
		return;
	vgpu_front_async_late(f);
	dev_warn(&f->xbdev->dev,
		 "suspend: submissions still in flight after %u ms: they end with -ENODEV\n",
		 vgpu_front_timeout_ms);
}

/* Saves one device object; on failure it has no copy. */
static int vgpu_front_save_bo(struct vgpu_front_mover *m,
			      struct vgpu_front_bo *bo)
{
	u64 size = round_up(bo->size, m->page);
	int ret;

	if (bo->saved_size != size)
		vgpu_front_bo_unsave(bo);	/* a cancelled save's */
	ret = vgpu_front_bo_size_saved(bo, size);
	if (!ret)
		ret = vgpu_front_bo_fill_saved(bo, 0, size, GFP_KERNEL);
	if (!ret)
		ret = vgpu_front_move_range(m, bo, 0, size, true);
	if (ret)
		vgpu_front_bo_unsave(bo);
	return ret;
}

/*
 * What a save did: device objects saved, and bytes of them a pre-copy
 * had copied already.
 */
struct vgpu_front_save_tally {
	u32 objects;
	u64 kept;
};

/* Saves one object of a file; the mover starts at the first that needs it. */
static int vgpu_front_save_one(struct vgpu_front_mover *m,
			       struct vgpu_front *f, u64 gen,
			       struct vgpu_front_bo *bo,
			       struct vgpu_front_save_tally *t)
{
	int ret;

	/*
	 * A zombie kept by copies: nothing copies its dom0 object back any
	 * more (the program cannot name it), so the GPU's writes since its
	 * destroy are read back now.
	 */
	if (bo->shmem)
		return bo->zombie && !bo->grants.n ?
		       vgpu_front_bo_io(f, gen, bo, false) : 0;
	/* Copied by a pre-copy, and not written since. */
	if (bo->pre == VGPU_FRONT_PRE_CLEAN && bo->saved) {
		t->kept += bo->saved_size;
		t->objects++;
		return 0;
	}
	if (!m->ctx) {
		ret = vgpu_front_mover_begin(m, f, gen, m->paced_until);
		if (ret)
			return ret;
	}
	ret = vgpu_front_save_bo(m, bo);
	if (!ret)
		t->objects++;
	return ret;
}

/* Saves the device memory of one file's objects, zombies too. */
static int vgpu_front_save_file(struct vgpu_front_mover *m,
				struct vgpu_front *f, u64 gen,
				struct vgpu_front_file *ff,
				struct vgpu_front_save_tally *t)
{
	struct vgpu_front_bo *bo;
	unsigned long handle;
	int ret = 0;

	mutex_lock(&ff->lock);
	xa_for_each(&ff->bos, handle, bo) {
		ret = vgpu_front_save_one(m, f, gen, bo, t);
		if (ret)
			goto out;
	}
	list_for_each_entry(bo, &ff->zombies, zombie_node) {
		ret = vgpu_front_save_one(m, f, gen, bo, t);
		if (ret)
			goto out;
	}
out:
	mutex_unlock(&ff->lock);
	return ret;
}

/**
 * vgpu_front_unsave_all() - free every saved copy, pre-copy off
 * @f: the vGPU; pm_lock held
 *
 * A cancelled save, a restore done or lost, a dropped pre-copy.
 */
void vgpu_front_unsave_all(struct vgpu_front *f)
{
	struct vgpu_front_file *ff;
	struct vgpu_front_bo *bo;
	unsigned long handle;

	lockdep_assert_held(&f->pm_lock);
	WRITE_ONCE(f->precopy, false);
	mutex_lock(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		mutex_lock(&ff->lock);
		xa_for_each(&ff->bos, handle, bo)
			vgpu_front_bo_unsave(bo);
		list_for_each_entry(bo, &ff->zombies, zombie_node)
			vgpu_front_bo_unsave(bo);
		mutex_unlock(&ff->lock);
	}
	mutex_unlock(&f->files_lock);
}

/* Copies the device memory of every file of connection @gen. */
static void vgpu_front_save(struct vgpu_front *f, u64 gen)
{
	struct vgpu_front_mover m = {};
	struct vgpu_front_file *ff;
	ktime_t t0 = ktime_get();
	struct vgpu_front_save_tally t = {};
	u32 lost = 0;

	m.paced_until = (jiffies + VGPU_FRONT_SAVE_PACED_WAIT) ?: 1;
	mutex_lock(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		if (ff->gen != gen)
			continue;	/* a dead connection's */
		ff->unsaved = vgpu_front_save_file(&m, f, gen, ff, &t) != 0;
		lost += ff->unsaved;
	}
	vgpu_front_mover_end(&m);
	mutex_unlock(&f->files_lock);
	if (lost)
		dev_err(&f->xbdev->dev, "suspend: the device memory of %u open files could not be saved: they will not be restored\n",
			lost);
	dev_info(&f->xbdev->dev, "suspend: saved %u device objects, %llu KiB, in %lld ms (%llu KiB of them copied before, by pre-copy)\n",
		 t.objects, (m.bytes + t.kept) >> 10,
		 ktime_ms_delta(ktime_get(), t0), t.kept >> 10);
}

/**
 * vgpu_front_pm_suspend() - xenbus .suspend: drain, mark dirty, save
 * @dev: the xenbus device
 *
 * Runs with the guest's processes frozen, so no ioctl runs.  A save that
 * comes while an earlier restore has not finished keeps that restore's
 * copies: they are the state.
 *
 * Return: 0 (xenbus ignores a suspend's error: the save goes on).
 */
int vgpu_front_pm_suspend(struct xenbus_device *dev)
{
	struct vgpu_front *f = dev_get_drvdata(&dev->dev);
	u64 gen, dirty = 0;
	bool pending, ask;

	cancel_delayed_work_sync(&f->resume_work);	/* decided after it */
	flush_delayed_work(&f->restore_work);
	vgpu_front_pm_lock(f);
	/*
	 * A restore nobody caught yet (its ring's binding is gone) too.  A
	 * resume waiting for its connection is pending as it is (and if
	 * this save restores, pm_check() finds its ring zapped).
	 */
	if (f->saved_gen && !f->resuming && !vgpu_front_pm_bound(f))
		f->needs_resume = true;
	pending = f->needs_resume || f->resuming;
	f->suspend_state = dev->state;
	gen = vgpu_front_gen(f);
	if (!pending && f->drm && READ_ONCE(f->connected)) {
		vgpu_front_drain(f);
		/* Before the stop: a live migration's last round copies it. */
		dirty = vgpu_front_dirty_all(f, gen);
		vgpu_front_save(f, gen);
		f->saved_gen = gen;
	}
	ask = f->saved_gen;
	mutex_unlock(&f->pm_lock);
	/*
	 * How the save ended is asked once it did, rather than at the next
	 * ioctl: a cancelled save's copies go, a restore without the
	 * device's nodes pauses and starts its wait for them.
	 */
	if (ask)
		mod_delayed_work(system_wq, &f->resume_work, HZ / 10);
	if (pending)
		dev_info(&dev->dev, "suspend: the restore before this save has not ended: its saved state is kept\n");
	else if (dirty)
		dev_info(&dev->dev, "suspend: %llu KiB of host memory the GPU may have written since the last save made dirty, for a live migration's last copy\n",
			 dirty >> 10);
	return 0;
}

/* Drops what named the old host: the ring, and hp's persistent grants. */
static void vgpu_front_drop_old(struct vgpu_front *f)
{
	struct vgpu_front_file *ff;
	struct vgpu_front_bo *bo;
	unsigned long handle;

	vgpu_front_ring_gone(f);
	mutex_lock(&f->call_lock);	/* no caller left on the ring */
	vgpu_front_ring_free(f);
	mutex_unlock(&f->call_lock);
	mutex_lock(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		mutex_lock(&ff->lock);
		xa_for_each(&ff->bos, handle, bo)
			vgpu_front_ungrant(&bo->grants);
		list_for_each_entry(bo, &ff->zombies, zombie_node)
			vgpu_front_ungrant(&bo->grants);
		mutex_unlock(&ff->lock);
	}
	mutex_unlock(&f->files_lock);
}

/**
 * vgpu_front_pm_resume() - xenbus .resume: the guest was restored
 * @dev: the xenbus device, its backend's nodes read again
 *
 * The next connection restores the state (vgpu_front_pm_connected()).
 *
 * Return: 0.
 */
int vgpu_front_pm_resume(struct xenbus_device *dev)
{
	struct vgpu_front *f = dev_get_drvdata(&dev->dev);

	mutex_lock(&f->pm_lock);
	f->needs_resume = false;
	if (vgpu_front_pm_bound(f)) {
		/*
		 * A suspend that failed late comes back as a restore, but Xen
		 * kept the domain and its ring: nothing to restore.
		 */
		dev->state = f->suspend_state;
		if (!f->resuming && !f->needs_resume) {
			f->saved_gen = 0;
			vgpu_front_unsave_all(f);
		}
		mutex_unlock(&f->pm_lock);
		return 0;
	}
	vgpu_front_drop_old(f);
	f->backend_id = dev->otherend_id;
	f->precopy_serial = 0;	/* the new host's toolstack counts from 1 */
	WRITE_ONCE(f->resuming, !!f->drm);
	if (f->drm) {
		/* Before the processes thaw: no ioctl runs on the old state. */
		vgpu_front_set_paused(f, true);
		mod_delayed_work(system_wq, &f->giveup_work,
				 vgpu_front_resume_timeout_s * HZ);
		dev_info(&dev->dev, "resume: connecting to domain %u to restore the vGPU's state\n",
			 f->backend_id);
	} else {
		vgpu_front_set_paused(f, false);
	}
	mutex_unlock(&f->pm_lock);
	return 0;
}

/* Removes the render node; the caller holds pm_lock and unpaused it. */
static void vgpu_front_pm_unplug(struct vgpu_front *f)
{
	lockdep_assert_held(&f->pm_lock);
	WRITE_ONCE(f->resuming, false);
	f->saved_gen = 0;
	vgpu_front_set_paused(f, false);
	vgpu_front_unsave_all(f);
	vgpu_front_drm_unplug(f);
}

/**
 * vgpu_front_pm_lost() - the backend left: nothing will be restored
 * @f: the vGPU, its ring gone
 *
 * Unpauses (the waiters find the ring gone: -ENODEV), then removes the
 * render node.  A restore under way ends on its own (its calls fail).
 */
void vgpu_front_pm_lost(struct vgpu_front *f)
{
	vgpu_front_pm_lock(f);
	vgpu_front_pm_unplug(f);
	mutex_unlock(&f->pm_lock);
}

/* Destroys an object a failed restore made, then ends its grants. */
static void vgpu_front_restore_undo_bo(struct vgpu_front *f,
				       struct vgpu_front_bo *bo, u64 gen)
{
	if (bo->be)
		vgpu_front_req_bo_destroy(f, gen, bo->be, VGPU_FRONT_UNKILLABLE);
	vgpu_front_ungrant(&bo->grants);
}

/* Ends every entry of a file a failed restore made on connection @gen. */
static void vgpu_front_restore_undo(struct vgpu_front *f,
				    struct vgpu_front_file *ff, u64 gen)
{
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo *bo;
	unsigned long id;

	lockdep_assert_held(&ff->lock);
	xa_for_each(&ff->ctxs, id, ctx)
		if (ctx->be)
			vgpu_front_req_ctx_destroy(f, gen, ctx->be,
						   VGPU_FRONT_UNKILLABLE);
	xa_for_each(&ff->bos, id, bo)
		vgpu_front_restore_undo_bo(f, bo, gen);
	list_for_each_entry(bo, &ff->zombies, zombie_node)
		vgpu_front_restore_undo_bo(f, bo, gen);
}

/*
 * Creates a file's object again.  Device memory gets its contents back;
 * a zombie kept by copies its pages (nothing else copies them).
 */
static int vgpu_front_restore_bo(struct vgpu_front *f,
				 struct vgpu_front_mover *m,
				 struct vgpu_front_file *ff,
				 struct vgpu_front_bo *bo)
{
	struct drm_vgpu_bo_create a = { .size = bo->size, .domain = bo->domain };
	u64 size;
	int ret;

	if (!bo->shmem && !bo->saved)
		return -ENODATA;	/* its contents were not saved */
	/* As large as the old backend made it: it may have been mapped so. */
	if (!bo->shmem)
		a.size = max(bo->size, bo->saved_size);
	ret = f->proto->bo_create(f, ff, &a, bo);
	if (ret) {
		bo->be = 0;
		return ret;
	}
	if (bo->shmem) {
		if (bo->grants.n)
			return 0;
		ff->copied++;
		return bo->zombie ? vgpu_front_bo_io(f, ff->gen, bo, true) : 0;
	}
	if (!m->ctx) {
		ret = vgpu_front_mover_begin(m, f, ff->gen, m->paced_until);
		if (ret)
			return ret;
	}
	/* Another GPU page here: the copy is padded with zeroes. */
	size = round_up(bo->saved_size, m->page);
	ret = vgpu_front_bo_size_saved(bo, size);
	if (!ret)
		ret = vgpu_front_bo_fill_saved(bo, 0, size, GFP_KERNEL);
	if (!ret)
		ret = vgpu_front_move_range(m, bo, 0, size, false);
	vgpu_front_bo_unsave(bo);
	return ret;
}

/* A file's contexts and objects (with contents), on connection @gen. */
static int vgpu_front_restore_objects(struct vgpu_front *f,
				      struct vgpu_front_mover *m,
				      struct vgpu_front_file *ff, u64 gen)
{
	struct drm_vgpu_ctx_create c = {};
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo *bo;
	unsigned long id;
	int ret = 0;

	lockdep_assert_held(&ff->lock);
	ff->gen = gen;
	ff->copied = 0;
	xa_for_each(&ff->ctxs, id, ctx)
		ctx->be = 0;
	xa_for_each(&ff->bos, id, bo)
		bo->be = 0;
	list_for_each_entry(bo, &ff->zombies, zombie_node)
		bo->be = 0;
	xa_for_each(&ff->ctxs, id, ctx) {
		c.priority = ctx->priority;
		ret = vgpu_front_paced_ctx_create(f, gen, &c, m->paced_until);
		if (ret)
			return ret;
		ctx->be = c.ctx_id;
		ctx->unsure = false;	/* it will map what is recorded */
	}
	xa_for_each(&ff->bos, id, bo) {
		ret = vgpu_front_restore_bo(f, m, ff, bo);
		if (ret)
			return ret;
	}
	list_for_each_entry(bo, &ff->zombies, zombie_node) {
		ret = vgpu_front_restore_bo(f, m, ff, bo);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Maps a context's recorded mappings again, each where it was, and
 * records them anew as the new backend applies them: it merges
 * neighbours the old record kept apart (mapped apart, once).
 */
static int vgpu_front_restore_ctx_maps(struct vgpu_front *f,
				       struct vgpu_front_file *ff,
				       struct vgpu_front_ctx *ctx)
{
	struct drm_vgpu_vm_bind_op op = { .op = DRM_VGPU_BIND_MAP };
	struct drm_vgpu_vm_bind a = { .num_ops = 1 };
	struct vgpu_mapping *map;
	struct vgpu_front_bo *bo;
	struct vgpu_vm old = ctx->vm;
	LIST_HEAD(none);
	int ret = 0;
	u32 i;

	lockdep_assert_held(&ff->lock);
	vgpu_vm_init(&ctx->vm, old.va_start, old.va_end, old.max_mappings);
	for (i = 0; i < old.count; i++)
		((struct vgpu_front_bo *)old.maps[i].bo)->maps--;
	for (i = 0; i < old.count; i++) {
		map = &old.maps[i];
		bo = map->bo;
		op.flags = map->perms;
		op.handle = bo->be;
		op.bo_offset = map->bo_offset;
		op.va = map->va;
		op.size = map->size;
		a.num_done = 0;
		if (!ret)
			ret = f->proto->vm_bind(f, ff, &a, &op, ctx);
		/* Failed: kept in the record, for the file's end. */
		if (vgpu_front_record_op(ff, &ctx->vm, &op, bo, &none))
			ctx->unsure = true;
	}
	vgpu_vm_fini(&old);
	return ret;
}

/*
 * Asks the new backend for the call stack the context had, once the
 * file's objects and mappings are back (a stack must not take the quota
 * they need).  Not fatal: refused (another engine, a smaller quota), the
 * context has none from then on, and its launches that name a larger
 * stack run their ISA, as on any engine without one.
 */
static void vgpu_front_restore_ctx_stack(struct vgpu_front *f, u64 gen,
					 struct vgpu_front_ctx *ctx)
{
	struct drm_vgpu_ctx_stack a = {
		.ctx_id = ctx->be, .stack_size = ctx->stack,
	};
	int ret;

	if (!ctx->stack)
		return;
	ret = vgpu_front_req_ctx_stack(f, gen, &a);
	if (ret) {
		dev_warn_ratelimited(&f->xbdev->dev,
				     "context %u: its call stack (%u bytes a thread) not given again: %d\n",
				     ctx->id, ctx->stack, ret);
		/* Refused by this backend (a lost connection: asked again). */
		if (ret == -EDQUOT || ret == -EOPNOTSUPP || ret == -EINVAL ||
		    ret == -ENOMEM)
			ctx->stack = 0;
	}
}

/* Maps a file's recorded mappings again, then asks for its stacks. */
static int vgpu_front_restore_maps(struct vgpu_front *f,
				   struct vgpu_front_file *ff)
{
	struct vgpu_front_ctx *ctx;
	unsigned long id;
	int ret = 0;

	lockdep_assert_held(&ff->lock);
	xa_for_each(&ff->ctxs, id, ctx) {
		ret = vgpu_front_restore_ctx_maps(f, ff, ctx);
		if (ret)
			return ret;
	}
	xa_for_each(&ff->ctxs, id, ctx)
		vgpu_front_restore_ctx_stack(f, ff->gen, ctx);
	return 0;
}

/* A file that cannot be restored: what was made of it goes, it is lost. */
static void vgpu_front_restore_failed(struct vgpu_front *f,
				      struct vgpu_front_file *ff, u64 gen,
				      const char *what, int err)
{
	lockdep_assert_held(&ff->lock);
	vgpu_front_restore_undo(f, ff, gen);
	ff->gen = 0;
	dev_err(&f->xbdev->dev,
		"resume: a file's vGPU state could not be restored on domain %u (%s: %d): its calls fail with ENODEV\n",
		f->backend_id, what, err);
}

/*
 * Every file of the saved connection, in two passes: contexts and objects
 * (the mover holds quota meanwhile), then, the mover gone, the mappings.
 */
static void vgpu_front_restore_files(struct vgpu_front *f, u64 saved, u64 gen,
				     u32 *files, u32 *lost, u64 *bytes)
{
	struct vgpu_front_mover m = {};
	struct vgpu_front_file *ff;
	int ret;

	lockdep_assert_held(&f->files_lock);
	/*
	 * The mover first: the files' objects must not take its quota.  One
	 * deadline for the engine's pacing, for the whole restore.
	 */
	if (vgpu_front_mover_begin(&m, f, gen,
				   (jiffies + VGPU_FRONT_PACED_WAIT) ?: 1))
		m.ctx = 0;	/* its first user tries again, and fails */
	list_for_each_entry(ff, &f->files, node) {
		if (ff->gen == gen)
			continue;	/* opened meanwhile */
		(*files)++;
		mutex_lock(&ff->lock);
		if (ff->gen != saved || ff->unsaved) {
			ff->gen = 0;	/* a dead connection's, or unsaved */
			(*lost)++;
		} else {
			ret = vgpu_front_restore_objects(f, &m, ff, gen);
			if (ret) {
				vgpu_front_restore_failed(f, ff, gen, "objects", ret);
				(*lost)++;
			}
		}
		mutex_unlock(&ff->lock);
	}
	vgpu_front_mover_end(&m);
	*bytes = m.bytes;
	list_for_each_entry(ff, &f->files, node) {
		mutex_lock(&ff->lock);
		if (ff->gen == gen) {
			ret = vgpu_front_restore_maps(f, ff);
			if (ret) {
				vgpu_front_restore_failed(f, ff, gen, "mappings", ret);
				(*lost)++;
			}
		}
		mutex_unlock(&ff->lock);
	}
}

/*
 * The new connection is up: every file's state goes back, then the
 * device unpauses.  A file that cannot be restored is lost (its calls
 * fail with -ENODEV); the others go on.
 */
static void vgpu_front_restore_work(struct work_struct *w)
{
	struct vgpu_front *f = container_of(to_delayed_work(w),
					    struct vgpu_front, restore_work);
	u64 gen = vgpu_front_gen(f), bytes = 0, saved;
	ktime_t t0 = ktime_get();
	u32 files = 0, lost = 0;

	mutex_lock(&f->pm_lock);
	/*
	 * A save began after the connection came: restoring now could be
	 * cut by the domain's stop half way.  Once the save ends (cancelled:
	 * on this connection; restored: on the next one) it goes on.
	 */
	if (f->resuming && !f->removing && vgpu_front_pm_saving(f)) {
		mod_delayed_work(system_wq, &f->restore_work, HZ / 10);
		mutex_unlock(&f->pm_lock);
		return;
	}
	/*
	 * That save restored: its connection is gone (dropped by the
	 * resume, or its binding zapped).  The next one queues this again.
	 */
	if (f->resuming && !vgpu_front_pm_live(f)) {
		mutex_unlock(&f->pm_lock);
		return;
	}
	if (!f->resuming) {
		/* Given up before it started: a live connection gets a node. */
		if (!f->drm && READ_ONCE(f->connected) && !READ_ONCE(f->gone) &&
		    !f->removing && vgpu_front_drm_create(f))
			dev_err(&f->xbdev->dev, "creating the render node failed\n");
		mutex_unlock(&f->pm_lock);
		return;
	}
	f->restoring = true;
	saved = f->saved_gen;
	mutex_unlock(&f->pm_lock);
	cancel_delayed_work_sync(&f->giveup_work);

	mutex_lock(&f->files_lock);
	vgpu_front_restore_files(f, saved, gen, &files, &lost, &bytes);
	mutex_unlock(&f->files_lock);

	mutex_lock(&f->pm_lock);
	vgpu_front_unsave_all(f);
	f->restoring = false;
	f->saved_gen = 0;
	WRITE_ONCE(f->resuming, false);
	vgpu_front_set_paused(f, false);
	mutex_unlock(&f->pm_lock);
	dev_info(&f->xbdev->dev,
		 "resume: restored %u of %u open files, %llu KiB of device memory, in %lld ms (%s mode)\n",
		 files - lost, files, bytes >> 10,
		 ktime_ms_delta(ktime_get(), t0),
		 f->hp ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE);
}

/**
 * vgpu_front_pm_connected() - the backend connected
 * @f: the vGPU
 *
 * After a restore, starts restoring the state; else makes the render
 * node.
 *
 * Return: 0 or a negative errno.
 */
int vgpu_front_pm_connected(struct vgpu_front *f)
{
	int ret = 0;

	mutex_lock(&f->pm_lock);
	if (f->removing)
		ret = -ENODEV;
	else if (f->resuming)
		mod_delayed_work(system_wq, &f->restore_work, 0);
	else
		ret = vgpu_front_drm_create(f);
	mutex_unlock(&f->pm_lock);
	return ret;
}

/*
 * A restored guest whose device's nodes were missing at resume resumes
 * once they are back (xenbus_dev_resume() reads them again and calls
 * vgpu_front_pm_resume()), under the device's lock as the PM core's
 * resume and the removal run: retried while either holds it.
 */
static void vgpu_front_resume_work(struct work_struct *w)
{
	struct vgpu_front *f = container_of(to_delayed_work(w),
					    struct vgpu_front, resume_work);
	struct device *dev = &f->xbdev->dev;

	if (READ_ONCE(f->removing))
		return;
	/*
	 * Under the device's lock, as the PM core's callbacks and the
	 * xenbus resume run (what a save did is known from its end on:
	 * vgpu_front_pm_saving()).
	 */
	if (!device_trylock(dev)) {
		schedule_delayed_work(&f->resume_work, HZ / 10);
		return;
	}
	/* Asked during a save (a watch fires at the restore): ask again. */
	if (READ_ONCE(f->saved_gen) && vgpu_front_pm_check(f)) {
		device_unlock(dev);
		schedule_delayed_work(&f->resume_work, HZ / 10);
		return;
	}
	if (dev->driver && !READ_ONCE(f->removing) &&
	    READ_ONCE(f->needs_resume) && !vgpu_xenbus_resume(dev))
		dev_info(dev, "resume: the device's nodes are back\n");
	device_unlock(dev);
}

/* On the device's node (the xenwatch thread: no wait here). */
static void vgpu_front_node_changed(struct xenbus_watch *watch,
				    const char *path, const char *token)
{
	struct vgpu_front *f = container_of(watch, struct vgpu_front,
					    node_watch);

	const char *leaf = strrchr(path, '/');

	if (leaf && !strcmp(leaf + 1, VGPUIF_KEY_PRECOPY))
		vgpu_front_precopy_request(f);
	if ((READ_ONCE(f->needs_resume) ||
	     (READ_ONCE(f->saved_gen) && !READ_ONCE(f->resuming))) &&
	    !READ_ONCE(f->removing))
		mod_delayed_work(system_wq, &f->resume_work, 0);
}

/*
 * After a restore that did not get its state back in time: the render
 * node goes (programs get -ENODEV).  A vGPU attached later makes a new
 * one.
 */
static void vgpu_front_giveup_work(struct work_struct *w)
{
	struct vgpu_front *f = container_of(to_delayed_work(w),
					    struct vgpu_front, giveup_work);

	mutex_lock(&f->pm_lock);
	/* Not during a save: a restore it put off runs once it ends. */
	if (f->resuming && vgpu_front_pm_saving(f)) {
		mod_delayed_work(system_wq, &f->giveup_work, HZ);
	} else if (READ_ONCE(f->paused) && !f->restoring) {
		dev_err(&f->xbdev->dev,
			"resume: no vGPU within %u s of the restore: the render node is removed, the open files get ENODEV\n",
			vgpu_front_resume_timeout_s);
		vgpu_front_pm_unplug(f);
	}
	mutex_unlock(&f->pm_lock);
}

/**
 * vgpu_front_pm_add() - a probed vGPU takes part in saves and restores
 * @f: the vGPU
 */
void vgpu_front_pm_add(struct vgpu_front *f)
{
	mutex_init(&f->pm_lock);
	INIT_DELAYED_WORK(&f->restore_work, vgpu_front_restore_work);
	INIT_DELAYED_WORK(&f->resume_work, vgpu_front_resume_work);
	INIT_DELAYED_WORK(&f->giveup_work, vgpu_front_giveup_work);
	vgpu_front_precopy_init(f);
	f->node_watch.node = kstrdup(f->xbdev->nodename, GFP_KERNEL);
	f->node_watch.callback = vgpu_front_node_changed;
	if (!f->node_watch.node || register_xenbus_watch(&f->node_watch)) {
		kfree(f->node_watch.node);
		f->node_watch.node = NULL;
		dev_warn(&f->xbdev->dev, "no watch on the device's node: a restore before the toolstack writes it again will not resume\n");
	}
}

/**
 * vgpu_front_pm_remove() - the vGPU goes
 * @f: the vGPU
 */
void vgpu_front_pm_remove(struct vgpu_front *f)
{
	vgpu_front_pm_lock(f);
	WRITE_ONCE(f->removing, true);
	mutex_unlock(&f->pm_lock);
	if (f->node_watch.node) {
		unregister_xenbus_watch(&f->node_watch);
		kfree(f->node_watch.node);
		f->node_watch.node = NULL;
	}
	cancel_delayed_work_sync(&f->resume_work);
	cancel_delayed_work_sync(&f->giveup_work);
	cancel_delayed_work_sync(&f->restore_work);
	cancel_work_sync(&f->precopy_work);
}
