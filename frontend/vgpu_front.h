/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front.h - vgpu-front, the guest side of GPUvm, split by role as
 * the backend is:
 *
 *   vgpu_front_xenbus.c  the xenbus driver: the state machine, XenStore
 *                        negotiation of the ring and the mode
 *   vgpu_front_ring.c    the ring client: one call at a time, and hp's
 *                        asynchronous submissions completed by responses
 *   vgpu_front_grant.c   grants of guest pages and their page directories
 *   vgpu_front_req.c     requests both modes send alike (info, contexts,
 *                        destroys, dom0 objects)
 *   vgpu_front_naive.c   naive mode: operations page by page, command by
 *                        command, host objects kept by copies
 *   vgpu_front_hp.c      hp mode: whole operations, persistent grants,
 *                        asynchronous submissions
 *   vgpu_front_fence.c   fences of submissions
 *   vgpu_front_pm.c      save and restore: the guest's state carried
 *                        across xl save/restore and migration
 *   vgpu_front_drv.c     the render node: ioctls and per-file handles
 *   vgpu_front_debugfs.c counters
 *
 * The render node checks what it consumes itself (an ioctl's own fields,
 * its handle tables, the memory it allocates) and runs the stateless
 * checks of commands and bind operations before sending them, so that its
 * ioctls fail at the call (Documentation/design.rst); the backend's core
 * checks everything it is sent, relying on none of it.
 */
#ifndef VGPU_FRONT_H
#define VGPU_FRONT_H

#include <linux/iosys-map.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>

#include "../common/vgpuif_uapi.h"
#include "../common/vgpu_vm.h"

struct drm_device;
struct drm_file;
struct drm_gem_shmem_object;
struct drm_syncobj;
struct dma_fence;
struct page;
struct vgpu_front_proto;

/*
 * Counters of one connection, in <debugfs>/vgpu-front/<device>: requests,
 * responses, errors, notifications each way, grants made, octets the
 * backend copies (naive pages; hp directories and command pages, by grant
 * copy), and the grant maps and unmaps the protocol makes the backend do
 * (naive: one each per page moved; hp: one each per page of a granted
 * object, at its creation and release).
 */
struct vgpu_front_stats {
	atomic64_t requests;
	atomic64_t responses;
	atomic64_t errors;
	atomic64_t notify_out;
	atomic64_t notify_in;
	atomic64_t grants;
	atomic64_t bytes;
	atomic64_t grant_maps;
	atomic64_t grant_unmaps;
};

/**
 * struct vgpu_front - one vGPU of the guest
 * @ref: references: the xenbus device, the DRM device of a connection
 * @xbdev: xenbus device (NULL once removed)
 * @drm: render node of the current connection, or NULL
 * @call_lock: serialises calls: naive mode has one request in flight
 * @ring_lock: protects @ring, @wait_id, @rsp, @done, @gone, @connected,
 *	@stalled, @gen and @async (taken in the event handler)
 * @ring: front ring
 * @ring_va: shared pages
 * @ring_refs: their grants
 * @ring_order: log2 of the number of ring pages
 * @hp: the connection is in hp mode (set before it is connected)
 * @proto: the request builders of its mode (set with @hp)
 * @async: SUBMIT_ASYNC requests waiting for their response
 * @irq: event channel's irq, or 0
 * @wq: callers wait for their response here
 * @next_id: id of the next request
 * @wait_id: id the waiting caller expects
 * @rsp: its response, once @done
 * @done: @rsp is valid
 * @gone: the backend left: every call fails with -ENODEV
 * @connected: the ring is up
 * @stalled: a call timed out and no response has come since: calls fail
 *	at once with -ETIMEDOUT instead of each waiting timeout_ms
 * @gen: generation of the connection, bumped by each new ring: a file
 *	opened on an earlier connection may not touch the current one
 * @backend_id: backend domain
 * @evtchn: the ring's event channel (this side's port)
 * @paused: the guest was restored and its state is not back yet: ioctls
 *	and closes wait (ring_lock to write, READ_ONCE to wait on)
 * @needs_resume: the guest was restored and the device has not resumed
 *	yet (@pm_lock to write; READ_ONCE)
 * @resuming: resumed: the next connection restores the files' state
 *	instead of making a render node (@pm_lock to write; READ_ONCE)
 * @restoring: the restore work is replaying the state (@pm_lock)
 * @removing: the device is being removed: no resume or restore starts
 *	(@pm_lock to write; READ_ONCE)
 * @suspend_state: the device's xenbus state at the last save (@pm_lock)
 * @saved_gen: the connection whose files a save copied; 0: none
 *	(@pm_lock; READ_ONCE for a first look)
 * @precopy: pre-copy is on: submissions mark what they may write
 *	(@pm_lock to write; submitters READ_ONCE it behind a full barrier:
 *	vgpu_front_precopy.c)
 * @pm_waiters: callers waiting for @pm_lock (vgpu_front_pm_lock()): a
 *	pre-copy pass, which holds it, stops for them
 * @precopy_serial: the last pre-copy request handled (@pm_lock)
 * @precopy_pass: number of the last pre-copy pass (@pm_lock)
 * @pm_lock: protects the save, restore and pre-copy state above and the
 *	render node's creation and removal; taken before files_lock
 * @files_lock: protects @files
 * @files: open files of the render node (struct vgpu_front_file.node)
 * @restore_work: replays the files' state on the new connection (put off
 *	while a save is under way)
 * @resume_work: after a save, finds how it ended (vgpu_front_pm_check(),
 *	asked again while the save is under way); resumes the device once
 *	its nodes exist again
 * @giveup_work: after a restore, ends the wait for a vGPU
 * @precopy_work: handles the toolstack's pre-copy requests
 * @node_watch: on the device's XenStore node: a restore that found no
 *	node resumes when the toolstack writes it
 * @stats: counters
 * @debugfs: counters file
 */
struct vgpu_front {
	struct kref ref;
	struct xenbus_device *xbdev;
	struct drm_device *drm;
	struct mutex call_lock;		/* one call on the ring at a time */
	spinlock_t ring_lock;		/* see @ring_lock above */
	struct vgpuif_front_ring ring;
	void *ring_va;
	grant_ref_t ring_refs[1U << VGPUIF_MAX_RING_PAGE_ORDER];
	unsigned int ring_order;
	bool hp;
	const struct vgpu_front_proto *proto;
	struct list_head async;
	int irq;
	wait_queue_head_t wq;
	u64 next_id;
	u64 wait_id;
	struct vgpuif_response rsp;
	bool done;
	bool gone;
	bool connected;
	bool stalled;
	u64 gen;
	domid_t backend_id;
	evtchn_port_t evtchn;
	bool paused;
	bool needs_resume;
	bool resuming;
	bool restoring;
	bool removing;
	enum xenbus_state suspend_state;
	u64 saved_gen;
	bool precopy;
	atomic_t pm_waiters;
	u64 precopy_serial;
	u32 precopy_pass;
	struct mutex pm_lock;		/* see @pm_lock above */
	struct mutex files_lock;	/* see @files_lock above */
	struct list_head files;
	struct delayed_work restore_work;
	struct delayed_work resume_work;
	struct delayed_work giveup_work;
	struct work_struct precopy_work;
	struct xenbus_watch node_watch;
	struct vgpu_front_stats stats;
	struct dentry *debugfs;
};

/* How a call waits: killable for ioctls, not for a closing file. */
enum vgpu_front_wait {
	VGPU_FRONT_KILLABLE,
	VGPU_FRONT_UNKILLABLE,
};

/**
 * struct vgpu_front_grants - guest pages granted to the backend, listed
 *	in a page directory (common/vgpuif.h)
 * @n: data pages
 * @pages: the data pages
 * @grefs: their grants
 * @owned: the data pages were allocated here and go with their grants
 * @ndir: directory pages
 * @dir: the directory pages (allocated here)
 * @dir_grefs: their grants; @dir_grefs[0] goes in the request
 */
struct vgpu_front_grants {
	u32 n;
	struct page **pages;
	grant_ref_t *grefs;
	bool owned;
	u32 ndir;
	struct page **dir;
	grant_ref_t *dir_grefs;
};

/**
 * struct vgpu_front_ctx - a context of a file, as the guest keeps it
 * @ref: references to the memory: the file's table, each submission in
 *	flight
 * @id: the file's id of the context (what the program names)
 * @be: the backend's id of it on the current connection
 * @priority: as created (a restore creates it again so)
 * @users: ioctls of the file using @id now (the file's lock): while there
 *	are any, the backend's context is not destroyed, so its id cannot
 *	be handed to another process (vgpu_front_drv.c)
 * @destroyed: CTX_DESTROY came: the context takes no new user and the
 *	last one destroys it in the backend (written under the file's lock,
 *	read with READ_ONCE by the users, which stop early)
 * @fence_ctx: timeline of its submissions' fences
 * @seqno: its submissions (hp mode numbers them here; the file's lock)
 * @dead: a response reported a GPU error (fault, hang, cancellation):
 *	the backend refuses every later submission with -EIO, and in hp
 *	mode the guest refuses it at once (READ_ONCE/WRITE_ONCE)
 * @vm: the mappings the backend accepted, as its core keeps them
 *	(common/vgpu_vm.c; each names its struct vgpu_front_bo), for a
 *	restore to map again (the file's lock)
 * @bind_lock: serialises the context's VM_BINDs, so that the backend
 *	and @vm see them in one order
 * @submitting: submissions being sent (naive: until answered; hp: until
 *	posted; incremented before pre-copy is looked at:
 *	vgpu_front_precopy.c)
 * @inflight: hp: submissions posted and not answered yet
 * @unsure: a bind's outcome is unknown (a call that timed out or was
 *	killed, a record that failed): @vm may miss a mapping, so a
 *	pre-copy takes the context to write every object (the file's lock)
 * @gpu_wrote: a submission was sent since the last save: the GPU may
 *	have written the host objects @vm maps writable (set before it is
 *	sent, WRITE_ONCE; read and cleared by the save under the file's
 *	lock, kept while submissions are in flight: vgpu_front_dirty.c)
 * @stack: the call stack the backend gave it (CTX_STACK), bytes a
 *	thread, 0 for none asked: a restore asks the new backend again
 *	(the file's lock)
 */
struct vgpu_front_ctx {
	struct kref ref;
	u32 id;
	u32 be;
	u32 priority;
	unsigned int users;
	bool destroyed;
	u64 fence_ctx;
	u64 seqno;
	bool dead;
	struct vgpu_vm vm;
	struct mutex bind_lock;		/* see @bind_lock above */
	atomic_t submitting;
	atomic_t inflight;
	bool unsure;
	bool gpu_wrote;
	u32 stack;
};

void vgpu_front_ctx_put(struct vgpu_front_ctx *ctx);

/*
 * The largest size PAGE_ALIGN() takes without wrapping to 0: the sizes a
 * user gives are checked against it before they are aligned.
 */
#define VGPU_FRONT_MAX_SIZE	(U64_MAX - PAGE_SIZE + 1)

/**
 * struct vgpu_front_bo - an object of a file, as the guest keeps it
 * @handle: the file's handle (what the program names)
 * @be: the backend's handle on the current connection
 * @domain: DRM_VGPU_DOMAIN_*
 * @size: bytes, page aligned
 * @users: as struct vgpu_front_ctx's (the file's lock)
 * @destroyed: as struct vgpu_front_ctx's (the file's lock)
 * @shmem: host domain: its pages in the guest
 * @map: their kernel mapping (pinned)
 * @mmap_file: the file granted mmap access to it, or NULL
 * @grants: hp: its pages, granted to the backend for the object's life
 *	(none: the object is kept by copies)
 * @maps: mappings of the file's contexts that name it (the file's lock)
 * @zombie: destroyed by the program while mapped: out of the file's
 *	table, on its zombies list until the last mapping goes, when the
 *	backend's object is destroyed (the file's lock)
 * @zombie_node: in the file's zombies list
 * @saved: device memory: its contents, saved in guest pages for a
 *	restore (vgpu_front_pm.c), or NULL
 * @saved_size: bytes in @saved (the object rounded up to the GPU page)
 * @pre: what @saved holds of device memory (enum vgpu_front_pre; the
 *	file's lock)
 * @pre_pass: the last pre-copy pass that finished with it (the file's
 *	lock)
 * @pre_began: the last pre-copy pass that began copying it (the file's
 *	lock)
 * @pre_off: VGPU_FRONT_PRE_COPYING: bytes copied so far (the file's lock)
 * @gpu_wrote: host memory, persistently granted: the GPU may have
 *	written its pages since the last save, through a mapping the
 *	record lost since or one the save found (the file's lock;
 *	vgpu_front_dirty.c)
 */
struct vgpu_front_bo {
	u32 handle;
	u32 be;
	u32 domain;
	u64 size;
	unsigned int users;
	bool destroyed;
	struct drm_gem_shmem_object *shmem;
	struct iosys_map map;
	struct drm_file *mmap_file;
	struct vgpu_front_grants grants;
	u32 maps;
	bool zombie;
	struct list_head zombie_node;
	struct page **saved;
	u64 saved_size;
	u8 pre;
	u32 pre_pass;
	u32 pre_began;
	u64 pre_off;
	bool gpu_wrote;
};

/*
 * What a device object's saved copy holds (vgpu_front_precopy.c):
 * nothing sure (no copy, or a write may have changed the object since);
 * a pre-copy is copying it and nothing wrote it since it began; the
 * object's contents.
 */
enum vgpu_front_pre {
	VGPU_FRONT_PRE_NONE,
	VGPU_FRONT_PRE_COPYING,
	VGPU_FRONT_PRE_CLEAN,
};

/**
 * struct vgpu_front_file - what one open file of the render node made
 * @gen: connection the file's backend ids belong to: the one it was
 *	opened on, or the one a restore made them again on (written by the
 *	restore while the device is paused); 0 once they are lost
 * @lock: protects @bos, @ctxs, @copied, @zombies, and the seqno, users,
 *	destroyed, vm, unsure, maps, zombie, pre* and gpu_wrote fields of
 *	their entries.  An entry stays in its table
 *	while it has users, even once destroyed (vgpu_front_drv.c,
 *	"Handles are held"): taken from the table, with no user left, it
 *	is the caller's to destroy in the backend and free.
 * @bos: handle -> struct vgpu_front_bo (handles the file allocates)
 * @ctxs: context id -> struct vgpu_front_ctx (ids the file allocates)
 * @copied: host objects kept by copies (naive, or hp past the grant quota)
 * @zombies: objects destroyed while mapped (struct vgpu_front_bo)
 * @unsaved: the last save could not copy all of its device memory: it is
 *	not restored (the device's files_lock)
 * @node: in the device's files (its files_lock)
 * @pre_pass: the pre-copy pass @pre_next belongs to (@lock)
 * @pre_next: that pass's cursor in @bos: the objects below it are done
 *	(@lock)
 */
struct vgpu_front_file {
	u64 gen;
	struct mutex lock;	/* see @lock above */
	struct xarray bos;
	struct xarray ctxs;
	u32 copied;
	struct list_head zombies;
	bool unsaved;
	struct list_head node;
	u32 pre_pass;
	unsigned long pre_next;
};

/**
 * struct vgpu_front_proto - how a mode turns an operation into requests
 * @bo_create: make @bo (its @domain and @size set, host pages in @bo->shmem
 *	for the host domain) in the backend, from the user's @a; set
 *	@bo->handle
 * @vm_bind: apply @a's @ops, the context and each mapped object held
 *	by the caller; set @a->num_done
 * @submit: run @a's @cmds on @ctx (held by the caller; hp drops the use
 *	once posted and sets *@ctxp to NULL), in-fences already waited for;
 *	replace @out's fence with the submission's, if @out
 */
struct vgpu_front_proto {
	int (*bo_create)(struct vgpu_front *f, struct vgpu_front_file *ff,
			 const struct drm_vgpu_bo_create *a,
			 struct vgpu_front_bo *bo);
	int (*vm_bind)(struct vgpu_front *f, struct vgpu_front_file *ff,
		       struct drm_vgpu_vm_bind *a,
		       const struct drm_vgpu_vm_bind_op *ops,
		       struct vgpu_front_ctx *ctx);
	int (*submit)(struct vgpu_front *f, struct vgpu_front_file *ff,
		      struct drm_vgpu_submit *a, const struct drm_vgpu_cmd *cmds,
		      struct drm_syncobj *out, struct vgpu_front_ctx **ctxp);
};

extern const struct vgpu_front_proto vgpu_front_naive_proto;
extern const struct vgpu_front_proto vgpu_front_hp_proto;

/* vgpu_front_xenbus.c */
void vgpu_front_put(struct vgpu_front *f);

/* vgpu_front_ring.c */
extern unsigned int vgpu_front_timeout_ms;
bool vgpu_front_async_idle(struct vgpu_front *f);
void vgpu_front_async_late(struct vgpu_front *f);
int vgpu_front_call(struct vgpu_front *f, u64 gen, enum vgpu_front_wait how,
		    struct vgpuif_request *req, struct vgpuif_response *rsp);
int vgpu_front_do(struct vgpu_front *f, u64 gen, struct vgpuif_request *req,
		  struct vgpuif_response *rsp);
u64 vgpu_front_gen(struct vgpu_front *f);
int vgpu_front_ring_alloc(struct vgpu_front *f, evtchn_port_t *evtchn);
void vgpu_front_ring_up(struct vgpu_front *f);
void vgpu_front_ring_gone(struct vgpu_front *f);
void vgpu_front_ring_free(struct vgpu_front *f);
int vgpu_front_submit_async(struct vgpu_front *f, u64 gen,
			    struct vgpuif_request *req,
			    struct vgpu_front_grants *cmds,
			    struct dma_fence *fence, struct vgpu_front_ctx *ctx);

/* vgpu_front_grant.c */
int vgpu_front_grant_pages(struct vgpu_front *f, struct page **pages, u32 n,
			   bool readonly, struct vgpu_front_grants *g);
int vgpu_front_grant_data(struct vgpu_front *f, const void *data, size_t len,
			  struct vgpu_front_grants *g);
void vgpu_front_end_dir(struct vgpu_front_grants *g);
void vgpu_front_ungrant(struct vgpu_front_grants *g);

/* vgpu_front_req.c */
int vgpu_front_req_info(struct vgpu_front *f, u64 gen,
			struct drm_vgpu_info *out);
int vgpu_front_req_ctx_create(struct vgpu_front *f, u64 gen,
			      struct drm_vgpu_ctx_create *a);
int vgpu_front_req_ctx_destroy(struct vgpu_front *f, u64 gen, u32 id,
			       enum vgpu_front_wait how);
int vgpu_front_req_ctx_status(struct vgpu_front *f, u64 gen,
			      struct drm_vgpu_ctx_status *a);
int vgpu_front_req_ctx_stack(struct vgpu_front *f, u64 gen,
			     struct drm_vgpu_ctx_stack *a);
int vgpu_front_req_bo_create(struct vgpu_front *f, u64 gen,
			     const struct drm_vgpu_bo_create *a, u32 *handle);
int vgpu_front_req_bo_destroy(struct vgpu_front *f, u64 gen, u32 handle,
			      enum vgpu_front_wait how);

/* vgpu_front_naive.c: also hp's objects kept by copies */
int vgpu_front_sync_host(struct vgpu_front *f, struct vgpu_front_file *ff,
			 bool to_backend);
int vgpu_front_page_io(struct vgpu_front *f, u64 gen, u32 handle,
		       u64 offset, struct page *page, bool to_backend);
int vgpu_front_bo_io(struct vgpu_front *f, u64 gen, struct vgpu_front_bo *bo,
		     bool to_backend);
int vgpu_front_gpu_page(struct vgpu_front *f, u64 gen, u64 *page);

/* vgpu_front_fence.c */
void vgpu_front_fences_init(void);
struct dma_fence *vgpu_front_done_fence(int err);
struct dma_fence *vgpu_front_ctx_fence(struct vgpu_front_file *ff,
				       struct vgpu_front_ctx *ctx, u64 *seqno);
bool vgpu_front_gpu_error(int status);

/* vgpu_front_drv.c */
void vgpu_front_ctx_unuse(struct vgpu_front *f, struct vgpu_front_file *ff,
			  struct vgpu_front_ctx *ctx);
int vgpu_front_drm_create(struct vgpu_front *f);
void vgpu_front_drm_unplug(struct vgpu_front *f);

int vgpu_front_record_op(struct vgpu_front_file *ff, struct vgpu_vm *vm,
			 const struct drm_vgpu_vm_bind_op *op,
			 struct vgpu_front_bo *bo, struct list_head *ended);

/*
 * Exported by xenbus (drivers/xen/xenbus/xenbus_probe.c) for its frontend
 * bus's deferred resume, declared in its private header only: a device
 * whose nodes were missing when the guest resumed resumes with it later.
 * Named xenbus_dev_restore() since the bus's freeze/thaw/restore split.
 */
#ifdef VGPU_HAVE_XENBUS_DEV_RESTORE
int xenbus_dev_restore(struct device *dev);
#define vgpu_xenbus_resume(dev) xenbus_dev_restore(dev)
#else
int xenbus_dev_resume(struct device *dev);
#define vgpu_xenbus_resume(dev) xenbus_dev_resume(dev)
#endif

/* vgpu_front_pm.c */
void vgpu_front_pm_lock(struct vgpu_front *f) __acquires(&f->pm_lock);
int vgpu_front_enter(struct vgpu_front *f, enum vgpu_front_wait how);
void vgpu_front_bo_unsave(struct vgpu_front_bo *bo);
int vgpu_front_pm_suspend(struct xenbus_device *dev);
int vgpu_front_pm_resume(struct xenbus_device *dev);
void vgpu_front_pm_add(struct vgpu_front *f);
void vgpu_front_pm_remove(struct vgpu_front *f);
int vgpu_front_pm_connected(struct vgpu_front *f);
void vgpu_front_pm_lost(struct vgpu_front *f);

/* vgpu_front_precopy.c */
void vgpu_front_precopy_submitting(struct vgpu_front *f,
				   struct vgpu_front_file *ff,
				   struct vgpu_front_ctx *ctx,
				   const struct drm_vgpu_cmd *cmds, u32 n);
void vgpu_front_precopy_unmapped(const struct vgpu_mapping *m);
void vgpu_front_precopy_unsure(struct vgpu_front_file *ff,
			       struct vgpu_front_ctx *ctx);
void vgpu_front_precopy_request(struct vgpu_front *f);
void vgpu_front_precopy_init(struct vgpu_front *f);

/* vgpu_front_dirty.c */
void vgpu_front_dirty_unmapped(const struct vgpu_mapping *m);
void vgpu_front_dirty_file(struct vgpu_front_file *ff);
u64 vgpu_front_dirty_all(struct vgpu_front *f, u64 gen);

/* vgpu_front_debugfs.c */
void vgpu_front_debugfs_init(void);
void vgpu_front_debugfs_exit(void);
void vgpu_front_debugfs_add(struct vgpu_front *f);
void vgpu_front_debugfs_remove(struct vgpu_front *f);

#endif /* VGPU_FRONT_H */
