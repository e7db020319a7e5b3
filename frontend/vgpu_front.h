/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front.h - vgpu-front, the guest side of GPUvm.
 */
#ifndef VGPU_FRONT_H
#define VGPU_FRONT_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>

#include "../common/vgpuif.h"

struct drm_device;
struct dma_fence;
struct page;

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
	struct vgpu_front_stats stats;
	struct dentry *debugfs;
};

extern unsigned int vgpu_front_timeout_ms;

/* How a call waits: killable for ioctls, not for a closing file. */
enum vgpu_front_wait {
	VGPU_FRONT_KILLABLE,
	VGPU_FRONT_UNKILLABLE,
};

int vgpu_front_call(struct vgpu_front *f, u64 gen, enum vgpu_front_wait how,
		    struct vgpuif_request *req, struct vgpuif_response *rsp);
int vgpu_front_do(struct vgpu_front *f, u64 gen, struct vgpuif_request *req,
		  struct vgpuif_response *rsp);
int vgpu_front_page_io(struct vgpu_front *f, u64 gen, u32 handle, u64 offset,
		       struct page *page, bool to_backend);
u64 vgpu_front_gen(struct vgpu_front *f);
bool vgpu_front_ring_full(struct vgpu_front *f);
long vgpu_front_wait_room(struct vgpu_front *f, enum vgpu_front_wait how,
			  unsigned long timeout);

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
 * @id: the backend's id of the context
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
 */
struct vgpu_front_ctx {
	struct kref ref;
	u32 id;
	unsigned int users;
	bool destroyed;
	u64 fence_ctx;
	u64 seqno;
	bool dead;
};

void vgpu_front_ctx_put(struct vgpu_front_ctx *ctx);

/* vgpu_front_hp.c */
int vgpu_front_grant_pages(struct vgpu_front *f, struct page **pages, u32 n,
			   bool readonly, struct vgpu_front_grants *g);
int vgpu_front_grant_data(struct vgpu_front *f, const void *data, size_t len,
			  struct vgpu_front_grants *g);
void vgpu_front_end_dir(struct vgpu_front_grants *g);
void vgpu_front_ungrant(struct vgpu_front_grants *g);
int vgpu_front_submit_async(struct vgpu_front *f, u64 gen,
			    struct vgpuif_request *req,
			    struct vgpu_front_grants *cmds,
			    struct dma_fence *fence, struct vgpu_front_ctx *ctx);
void vgpu_front_async_complete(struct vgpu_front *f, struct list_head *done);
void vgpu_front_async_fail(struct vgpu_front *f);
bool vgpu_front_take_async(struct vgpu_front *f,
			   const struct vgpuif_response *rsp,
			   struct list_head *done);

void vgpu_front_fences_init(void);
void vgpu_front_put(struct vgpu_front *f);

int vgpu_front_drm_create(struct vgpu_front *f);
void vgpu_front_drm_unplug(struct vgpu_front *f);

#endif /* VGPU_FRONT_H */
