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

/* Counters of one connection, in <debugfs>/vgpu-front/<device>. */
struct vgpu_front_stats {
	atomic64_t requests;
	atomic64_t responses;
	atomic64_t errors;
	atomic64_t notify_out;
	atomic64_t notify_in;
	atomic64_t grants;
	atomic64_t bytes;
};

/**
 * struct vgpu_front - one vGPU of the guest
 * @ref: references: the xenbus device, the DRM device of a connection
 * @xbdev: xenbus device (NULL once removed)
 * @drm: render node of the current connection, or NULL
 * @call_lock: serialises calls: naive mode has one request in flight
 * @ring_lock: protects @ring, @wait_id, @rsp, @done, @gone, @connected,
 *	@stalled and @gen (taken in the event handler)
 * @ring: front ring
 * @ring_va: shared page
 * @ring_ref: its grant
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
	grant_ref_t ring_ref;
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
void vgpu_front_fences_init(void);
void vgpu_front_put(struct vgpu_front *f);

int vgpu_front_drm_create(struct vgpu_front *f);
void vgpu_front_drm_unplug(struct vgpu_front *f);

#endif /* VGPU_FRONT_H */
