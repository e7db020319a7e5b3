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
 *  suspend (xenbus .suspend, processes frozen): the device pauses (every
 *	ioctl and close waits), the submissions in flight are waited for,
 *	and every device-memory object's contents are copied into guest
 *	pages: a context of this driver's own maps the object and a staging
 *	object and COPYs chunk by chunk (hp: the staging object is the
 *	guest pages themselves, granted; naive: a dom0 object read page by
 *	page).
 *  cancelled (xl save -c, a failed save): the event channel is still
 *	bound to the backend; the resume notifier unpauses and frees the
 *	copies.
 *  restored (xenbus .resume, or the device's nodes written later by the
 *	toolstack): the old ring is dropped (its grants, and hp's persistent
 *	grants of host objects, name nothing on the new host) and a new
 *	connection made, in the mode the new backend offers; then every
 *	file's contexts and objects are created again, device memory is
 *	filled from the copies, and every recorded mapping is made again at
 *	the same GPU address.  The program's ids do not change (the backend's
 *	may: the files translate).  Then the device unpauses.
 *
 * What cannot be restored is refused clearly: a file whose state does not
 * fit the new backend (a quota, a copy that failed) gets -ENODEV from
 * then on; with no vGPU at all within resume_timeout_s the render node
 * goes.  Both are logged.
 */
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <xen/events.h>
#include <xen/interface/event_channel.h>
#include <xen/xen-ops.h>
#include <asm/xen/hypercall.h>

#include "vgpu_front.h"

/*
 * Exported by xenbus (drivers/xen/xenbus/xenbus_probe.c) for its frontend
 * bus's deferred resume, declared in its private header only: a device
 * whose nodes were missing when the guest resumed resumes with it later.
 */
int xenbus_dev_resume(struct device *dev);

static unsigned int vgpu_front_resume_timeout_s = 120;
module_param_named(resume_timeout_s, vgpu_front_resume_timeout_s, uint, 0644);
MODULE_PARM_DESC(resume_timeout_s, "After a restore, how long programs wait for a vGPU before its render node goes, s (default 120)");

/* The vGPUs of this guest, for the resume notifier. */
static LIST_HEAD(vgpu_front_devices);
static DEFINE_MUTEX(vgpu_front_devices_lock);	/* protects vgpu_front_devices */

/**
 * vgpu_front_enter() - wait while the device is paused
 * @f: the vGPU
 * @how: killable (an ioctl) or not (a close)
 *
 * Return: 0, or -EINTR when killed.
 */
int vgpu_front_enter(struct vgpu_front *f, enum vgpu_front_wait how)
{
	if (how == VGPU_FRONT_UNKILLABLE) {
		wait_event(f->wq, !READ_ONCE(f->paused));
		return 0;
	}
	return wait_event_killable(f->wq, !READ_ONCE(f->paused)) ? -EINTR : 0;
}

static void vgpu_front_set_paused(struct vgpu_front *f, bool paused)
{
	spin_lock_irq(&f->ring_lock);
	f->paused = paused;
	spin_unlock_irq(&f->ring_lock);
	if (!paused)
		wake_up_all(&f->wq);
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
}

static int vgpu_front_bo_alloc_saved(struct vgpu_front_bo *bo, u64 size)
{
	u64 i, n = size >> PAGE_SHIFT;

	vgpu_front_bo_unsave(bo);	/* a cancelled save's */
	bo->saved = kvcalloc(n, sizeof(*bo->saved), GFP_KERNEL);
	if (!bo->saved)
		return -ENOMEM;
	bo->saved_size = size;
	for (i = 0; i < n; i++) {
		bo->saved[i] = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		if (!bo->saved[i]) {
			vgpu_front_bo_unsave(bo);
			return -ENOMEM;
		}
	}
	return 0;
}

/**
 * struct vgpu_front_mover - copies device memory to and from guest pages
 * @f: the vGPU
 * @gen: the connection
 * @ctx: the backend's id of the mover's own context
 * @page: the engine's GPU page
 * @va: the staging window's GPU address; the object is mapped right
 *	after it
 * @chunk: bytes per COPY, a multiple of @page
 * @stage: a dom0 host object of @chunk bytes (naive, or hp past the
 *	grant quota), or 0
 * @bytes: bytes moved
 */
struct vgpu_front_mover {
	struct vgpu_front *f;
	u64 gen;
	u32 ctx;
	u64 page;
	u64 va;
	u64 chunk;
	u32 stage;
	u64 bytes;
};

/* One bind operation on the mover's context: hp whole, naive by pages. */
static int vgpu_front_mover_bind(struct vgpu_front_mover *m, u32 op,
				 u32 handle, u64 va, u64 size)
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
			req.u.vm_bind.op.bo_offset = p;
		}
		req.u.vm_bind.op.va = va + p;
		req.u.vm_bind.op.size = step;
		ret = vgpu_front_do(m->f, m->gen, &req, &rsp);
	}
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

static int vgpu_front_mover_begin(struct vgpu_front_mover *m,
				  struct vgpu_front *f, u64 gen)
{
	struct drm_vgpu_ctx_create c = { .priority = DRM_VGPU_PRIO_NORMAL };
	struct drm_vgpu_info info;
	int ret;

	memset(m, 0, sizeof(*m));
	m->f = f;
	m->gen = gen;
	ret = vgpu_front_gpu_page(f, gen, &m->page);
	if (!ret)
		ret = vgpu_front_req_info(f, gen, &info);
	if (ret)
		return ret;
	m->chunk = max_t(u64, m->page, SZ_1M);
	m->va = round_up(info.va_start, m->page);
	ret = vgpu_front_req_ctx_create(f, gen, &c);
	if (!ret)
		m->ctx = c.ctx_id;
	return ret;
}

static void vgpu_front_mover_end(struct vgpu_front_mover *m)
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
 * staging window, one COPY.  -EDQUOT/-ENOSPC: no grant room, the caller
 * goes through a dom0 object instead.
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
	ret = vgpu_front_mover_bind(m, DRM_VGPU_BIND_MAP, handle, m->va, n);
	if (!ret)
		ret = save ? vgpu_front_mover_copy(m, m->va, obj_va, n) :
			     vgpu_front_mover_copy(m, obj_va, m->va, n);
	if (!ret)
		ret = vgpu_front_mover_bind(m, DRM_VGPU_BIND_UNMAP, 0, m->va, n);
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
	int ret;

	if (m->stage)
		return 0;
	ret = vgpu_front_req_bo_create(m->f, m->gen, &a, &m->stage);
	if (!ret)
		ret = vgpu_front_mover_bind(m, DRM_VGPU_BIND_MAP, m->stage,
					    m->va, m->chunk);
	return ret;
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
 * vgpu_front_move() - copy a device object's contents out or in
 * @m: the mover
 * @bo: the object, with @bo->saved of @size bytes
 * @size: bytes, a multiple of the GPU page
 * @save: out of device memory (true) or back into it
 *
 * Return: 0 or a negative errno.
 */
static int vgpu_front_move(struct vgpu_front_mover *m,
			   struct vgpu_front_bo *bo, u64 size, bool save)
{
	u64 obj_va = m->va + m->chunk, off, n;
	struct page **pages;
	int ret;

	ret = vgpu_front_mover_bind(m, DRM_VGPU_BIND_MAP, bo->be, obj_va, size);
	if (ret)
		return ret;
	for (off = 0; !ret && off < size; off += n) {
		n = min(m->chunk, size - off);
		pages = bo->saved + (off >> PAGE_SHIFT);
		ret = -EDQUOT;
		if (m->f->hp && !m->stage)
			ret = vgpu_front_move_granted(m, pages, n, obj_va + off,
						      save);
		if (ret == -EDQUOT || ret == -ENOSPC)
			ret = vgpu_front_move_staged(m, pages, n, obj_va + off,
						     save);
	}
	if (!ret)
		m->bytes += size;
	vgpu_front_mover_bind(m, DRM_VGPU_BIND_UNMAP, 0, obj_va, size);
	return ret;
}

/* Waits (at most timeout_ms) for the hp submissions in flight. */
static void vgpu_front_drain(struct vgpu_front *f)
{
	if (!wait_event_timeout(f->wq, vgpu_front_async_idle(f),
				msecs_to_jiffies(vgpu_front_timeout_ms)))
		dev_warn(&f->xbdev->dev,
			 "suspend: submissions still in flight after %u ms: they end with -ENODEV\n",
			 vgpu_front_timeout_ms);
}

/* Saves the device memory of one file's objects, zombies too. */
static int vgpu_front_save_file(struct vgpu_front_mover *m,
				struct vgpu_front_file *ff, u32 *count)
{
	struct vgpu_front_bo *bo;
	unsigned long handle;
	int ret = 0;
	u64 size;

	mutex_lock(&ff->lock);
	xa_for_each(&ff->bos, handle, bo) {
		if (bo->shmem)
			continue;
		size = round_up(bo->size, m->page);
		ret = vgpu_front_bo_alloc_saved(bo, size);
		if (!ret)
			ret = vgpu_front_move(m, bo, size, true);
		if (ret)
			break;
		(*count)++;
	}
	list_for_each_entry(bo, &ff->zombies, zombie_node) {
		if (ret || bo->shmem)
			continue;
		size = round_up(bo->size, m->page);
		ret = vgpu_front_bo_alloc_saved(bo, size);
		if (!ret)
			ret = vgpu_front_move(m, bo, size, true);
		if (!ret)
			(*count)++;
	}
	mutex_unlock(&ff->lock);
	return ret;
}

/* Frees every saved copy (a cancelled save, or a restore done). */
static void vgpu_front_unsave_all(struct vgpu_front *f)
{
	struct vgpu_front_file *ff;
	struct vgpu_front_bo *bo;
	unsigned long handle;

	lockdep_assert_held(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		mutex_lock(&ff->lock);
		xa_for_each(&ff->bos, handle, bo)
			vgpu_front_bo_unsave(bo);
		list_for_each_entry(bo, &ff->zombies, zombie_node)
			vgpu_front_bo_unsave(bo);
		mutex_unlock(&ff->lock);
	}
}

/**
 * vgpu_front_pm_suspend() - xenbus .suspend: pause, drain, save
 * @dev: the xenbus device
 *
 * Runs with the guest's processes frozen.  A file whose objects could
 * not all be saved is not restored (its calls fail with -ENODEV then).
 *
 * Return: 0 (xenbus ignores a suspend's error: the save goes on).
 */
int vgpu_front_pm_suspend(struct xenbus_device *dev)
{
	struct vgpu_front *f = dev_get_drvdata(&dev->dev);
	struct vgpu_front_mover m;
	struct vgpu_front_file *ff;
	u32 count = 0;
	ktime_t t0 = ktime_get();
	u64 gen;
	int ret;

	if (!f->drm)
		return 0;	/* nothing to keep */
	vgpu_front_set_paused(f, true);
	vgpu_front_drain(f);
	gen = vgpu_front_gen(f);
	mutex_lock(&f->files_lock);
	ret = list_empty(&f->files) ? 0 : vgpu_front_mover_begin(&m, f, gen);
	if (ret) {
		dev_err(&dev->dev, "suspend: no context to save device memory with (%d): the open files will not be restored\n",
			ret);
	} else if (!list_empty(&f->files)) {
		list_for_each_entry(ff, &f->files, node) {
			ret = vgpu_front_save_file(&m, ff, &count);
			if (ret)
				dev_err(&dev->dev, "suspend: saving a file's device memory failed (%d): it will not be restored\n",
					ret);
		}
		vgpu_front_mover_end(&m);
		dev_info(&dev->dev, "suspend: saved %u device objects, %llu KiB, in %lld ms\n",
			 count, m.bytes >> 10,
			 ktime_ms_delta(ktime_get(), t0));
	}
	mutex_unlock(&f->files_lock);
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
	WRITE_ONCE(f->needs_resume, false);
	vgpu_front_set_paused(f, true);
	vgpu_front_drop_old(f);
	f->backend_id = dev->otherend_id;
	f->remote_port = 0;
	WRITE_ONCE(f->resuming, !!f->drm);
	if (f->drm)
		dev_info(&dev->dev, "resume: connecting to domain %u to restore the vGPU's state\n",
			 f->backend_id);
	else
		vgpu_front_set_paused(f, false);
	mutex_unlock(&f->pm_lock);
	return 0;
}

/**
 * vgpu_front_pm_lost() - the backend left: nothing will be restored
 * @f: the vGPU, its ring gone and its render node removed
 *
 * A restore under way ends on its own (its calls fail): the files it did
 * not reach are lost.  Nobody waits at the pause any more.
 */
void vgpu_front_pm_lost(struct vgpu_front *f)
{
	WRITE_ONCE(f->resuming, false);
	vgpu_front_set_paused(f, false);
}

/* Creates a file's object again; device memory gets its contents back. */
static int vgpu_front_restore_bo(struct vgpu_front *f,
				 struct vgpu_front_mover *m,
				 struct vgpu_front_file *ff,
				 struct vgpu_front_bo *bo)
{
	struct drm_vgpu_bo_create a = { .size = bo->size, .domain = bo->domain };
	int ret;

	if (!bo->shmem && !bo->saved)
		return -ENODATA;	/* its contents were not saved */
	ret = f->proto->bo_create(f, ff, &a, bo);
	if (ret)
		return ret;
	if (bo->shmem) {
		if (!bo->grants.n)
			ff->copied++;
		return 0;
	}
	if (!m->ctx) {
		ret = vgpu_front_mover_begin(m, f, ff->gen);
		if (ret)
			return ret;
	}
	ret = vgpu_front_move(m, bo, min(bo->saved_size,
					 round_up(bo->size, m->page)), false);
	vgpu_front_bo_unsave(bo);
	return ret;
}

/* Maps a context's recorded mappings again, each where it was. */
static int vgpu_front_restore_maps(struct vgpu_front *f,
				   struct vgpu_front_file *ff,
				   struct vgpu_front_ctx *ctx)
{
	struct drm_vgpu_vm_bind a = { .num_ops = 1 };
	struct drm_vgpu_vm_bind_op op = { .op = DRM_VGPU_BIND_MAP };
	struct vgpu_front_bo *bo;
	int ret = 0;
	u32 i;

	for (i = 0; !ret && i < ctx->vm.count; i++) {
		bo = ctx->vm.maps[i].bo;
		op.flags = ctx->vm.maps[i].perms;
		op.handle = bo->be;
		op.bo_offset = ctx->vm.maps[i].bo_offset;
		op.va = ctx->vm.maps[i].va;
		op.size = ctx->vm.maps[i].size;
		a.num_done = 0;
		ret = f->proto->vm_bind(f, ff, &a, &op, ctx);
	}
	return ret;
}

/* One file: its contexts, objects and mappings, on connection @gen. */
static int vgpu_front_restore_file(struct vgpu_front *f,
				   struct vgpu_front_mover *m,
				   struct vgpu_front_file *ff, u64 gen)
{
	struct drm_vgpu_ctx_create c = {};
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_bo *bo;
	unsigned long id;
	int ret = 0;

	if (!ff->gen)
		return -ENODEV;	/* lost at an earlier restore */
	mutex_lock(&ff->lock);
	ff->gen = gen;
	ff->copied = 0;
	xa_for_each(&ff->ctxs, id, ctx) {
		c.priority = ctx->priority;
		c.ctx_id = 0;
		ret = vgpu_front_req_ctx_create(f, gen, &c);
		if (ret)
			goto out;
		ctx->be = c.ctx_id;
	}
	xa_for_each(&ff->bos, id, bo) {
		ret = vgpu_front_restore_bo(f, m, ff, bo);
		if (ret)
			goto out;
	}
	list_for_each_entry(bo, &ff->zombies, zombie_node) {
		ret = vgpu_front_restore_bo(f, m, ff, bo);
		if (ret)
			goto out;
	}
	xa_for_each(&ff->ctxs, id, ctx) {
		ret = vgpu_front_restore_maps(f, ff, ctx);
		if (ret)
			goto out;
	}
out:
	mutex_unlock(&ff->lock);
	return ret;
}

/*
 * The new connection is up: every file's state goes back, then the
 * device unpauses.  A file that cannot be restored is lost (its calls
 * fail with -ENODEV); the others go on.
 */
static void vgpu_front_restore_work(struct work_struct *w)
{
	struct vgpu_front *f = container_of(w, struct vgpu_front, restore_work);
	struct vgpu_front_mover m = {};
	struct vgpu_front_file *ff;
	ktime_t t0 = ktime_get();
	u32 files = 0, lost = 0;
	u64 gen = vgpu_front_gen(f);
	int ret;

	mutex_lock(&f->files_lock);
	list_for_each_entry(ff, &f->files, node) {
		files++;
		ret = vgpu_front_restore_file(f, &m, ff, gen);
		if (ret) {
			ff->gen = 0;
			lost++;
			dev_err(&f->xbdev->dev,
				"resume: a file's vGPU state could not be restored on domain %u (%d): its calls fail with ENODEV\n",
				f->backend_id, ret);
		}
	}
	vgpu_front_mover_end(&m);
	vgpu_front_unsave_all(f);
	mutex_unlock(&f->files_lock);
	WRITE_ONCE(f->resuming, false);
	dev_info(&f->xbdev->dev,
		 "resume: restored %u of %u open files, %llu KiB of device memory, in %lld ms (%s mode)\n",
		 files - lost, files, m.bytes >> 10,
		 ktime_ms_delta(ktime_get(), t0),
		 f->hp ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE);
	vgpu_front_set_paused(f, false);
}

/* Reads the backend's end of the ring's event channel. */
static int vgpu_front_evtchn_peer(struct vgpu_front *f, domid_t *dom,
				  evtchn_port_t *port)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = f->evtchn };
	int ret = HYPERVISOR_event_channel_op(EVTCHNOP_status, &st);

	if (ret)
		return ret;
	if (st.status != EVTCHNSTAT_interdomain)
		return -ENOTCONN;
	*dom = st.u.interdomain.dom;
	*port = st.u.interdomain.port;
	return 0;
}

/**
 * vgpu_front_pm_connected() - the backend connected
 * @f: the vGPU
 *
 * Notes the backend's port (a cancelled save is told apart by it) and,
 * after a restore, starts restoring the state.
 *
 * Return: true when the state is being restored (the render node stays).
 */
bool vgpu_front_pm_connected(struct vgpu_front *f)
{
	domid_t dom;

	if (vgpu_front_evtchn_peer(f, &dom, &f->remote_port))
		f->remote_port = 0;
	if (!READ_ONCE(f->resuming))
		return false;
	schedule_work(&f->restore_work);
	return true;
}

/*
 * The xenwatch thread saw the device's nodes change: a restored guest
 * whose nodes were missing at resume resumes now (xenbus_dev_resume()
 * reads them again and calls vgpu_front_pm_resume()).
 */
static void vgpu_front_resume_work(struct work_struct *w)
{
	struct vgpu_front *f = container_of(w, struct vgpu_front, resume_work);
	struct xenbus_device *dev = f->xbdev;

	if (!READ_ONCE(f->needs_resume) || READ_ONCE(f->resuming))
		return;
	if (!xenbus_dev_resume(&dev->dev))
		dev_info(&dev->dev, "resume: the device's nodes are back\n");
}

static void vgpu_front_node_changed(struct xenbus_watch *watch,
				    const char *path, const char *token)
{
	struct vgpu_front *f = container_of(watch, struct vgpu_front,
					    node_watch);

	if (READ_ONCE(f->needs_resume) && !READ_ONCE(f->resuming))
		schedule_work(&f->resume_work);
}

/*
 * After a restore that did not get a vGPU in time: the render node goes
 * (programs get -ENODEV) and the device unpauses.  A vGPU attached later
 * makes a new render node.
 */
static void vgpu_front_giveup_work(struct work_struct *w)
{
	struct vgpu_front *f = container_of(to_delayed_work(w),
					    struct vgpu_front, giveup_work);

	mutex_lock(&f->pm_lock);
	if (!READ_ONCE(f->paused) || READ_ONCE(f->resuming)) {
		mutex_unlock(&f->pm_lock);
		return;
	}
	dev_err(&f->xbdev->dev,
		"resume: no vGPU within %u s of the restore: the render node is removed, the open files get ENODEV\n",
		vgpu_front_resume_timeout_s);
	vgpu_front_ring_gone(f);
	vgpu_front_drm_unplug(f);
	vgpu_front_set_paused(f, false);
	mutex_unlock(&f->pm_lock);
}

/*
 * Called once a save ends, cancelled or not, before the devices resume.
 * Cancelled: the ring's event channel is still bound to the backend's
 * port; the device unpauses and the copies go.  Restored: the device
 * needs a resume (the PM core's, or resume_work's once its nodes are
 * back) and stays paused until then; with no vGPU in time, giveup_work.
 */
static int vgpu_front_pm_resumed(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	evtchn_port_t port;
	struct vgpu_front *f;
	domid_t dom;

	mutex_lock(&vgpu_front_devices_lock);
	list_for_each_entry(f, &vgpu_front_devices, list) {
		if (f->connected && !vgpu_front_evtchn_peer(f, &dom, &port) &&
		    dom == f->backend_id && port == f->remote_port) {
			if (!READ_ONCE(f->paused))
				continue;
			mutex_lock(&f->files_lock);
			vgpu_front_unsave_all(f);
			mutex_unlock(&f->files_lock);
			vgpu_front_set_paused(f, false);
			continue;
		}
		WRITE_ONCE(f->needs_resume, true);
		if (READ_ONCE(f->paused))
			schedule_delayed_work(&f->giveup_work,
					      vgpu_front_resume_timeout_s * HZ);
	}
	mutex_unlock(&vgpu_front_devices_lock);
	return NOTIFY_OK;
}

static struct notifier_block vgpu_front_pm_nb = {
	.notifier_call = vgpu_front_pm_resumed,
};

/**
 * vgpu_front_pm_add() - a probed vGPU takes part in saves and restores
 * @f: the vGPU
 */
void vgpu_front_pm_add(struct vgpu_front *f)
{
	mutex_init(&f->pm_lock);
	INIT_WORK(&f->restore_work, vgpu_front_restore_work);
	INIT_WORK(&f->resume_work, vgpu_front_resume_work);
	INIT_DELAYED_WORK(&f->giveup_work, vgpu_front_giveup_work);
	f->node_watch.node = kstrdup(f->xbdev->nodename, GFP_KERNEL);
	f->node_watch.callback = vgpu_front_node_changed;
	if (!f->node_watch.node || register_xenbus_watch(&f->node_watch)) {
		kfree(f->node_watch.node);
		f->node_watch.node = NULL;
		dev_warn(&f->xbdev->dev, "no watch on the device's node: a restore before the toolstack writes it again will not resume\n");
	}
	mutex_lock(&vgpu_front_devices_lock);
	list_add_tail(&f->list, &vgpu_front_devices);
	mutex_unlock(&vgpu_front_devices_lock);
}

/**
 * vgpu_front_pm_remove() - the vGPU goes
 * @f: the vGPU
 */
void vgpu_front_pm_remove(struct vgpu_front *f)
{
	mutex_lock(&vgpu_front_devices_lock);
	list_del(&f->list);
	mutex_unlock(&vgpu_front_devices_lock);
	if (f->node_watch.node) {
		unregister_xenbus_watch(&f->node_watch);
		kfree(f->node_watch.node);
		f->node_watch.node = NULL;
	}
	cancel_work_sync(&f->resume_work);
	cancel_delayed_work_sync(&f->giveup_work);
	cancel_work_sync(&f->restore_work);
	vgpu_front_set_paused(f, false);
}

int vgpu_front_pm_init(void)
{
	xen_resume_notifier_register(&vgpu_front_pm_nb);
	return 0;
}

void vgpu_front_pm_exit(void)
{
	xen_resume_notifier_unregister(&vgpu_front_pm_nb);
}
