/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen.h - vgpu-back's Xen transport: the xenbus side (vgpu_xen.c:
 * states, connection set-up and teardown, per-domain records) and the
 * ring server (vgpu_xen_ring.c: requests off the shared ring, decoded
 * and passed to the core's vgpu_op_*()).
 */
#ifndef VGPU_XEN_H
#define VGPU_XEN_H

struct seq_file;

#if IS_ENABLED(CONFIG_XEN_BACKEND)
#include <linux/interrupt.h>
#include <linux/ratelimit.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include "../common/vgpuif.h"
#include "vgpu_core.h"

/* Requests served in one pass before the ring thread yields the CPU. */
#define VGPU_XEN_BATCH			32
/* Protocol violations after which a device stays Closed (see below). */
#define VGPU_XEN_MAX_VIOLATIONS		8
/* Ring pages offered in hp mode: 2^2 = 4 pages, 64 requests. */
#define VGPU_XEN_RING_ORDER		2

/* Per-connection counters, read by vgpuctl through sysfs (and debugfs). */
struct vgpu_xen_stats {
	atomic64_t requests;
	atomic64_t responses;
	atomic64_t errors;
	atomic64_t notify_in;
	atomic64_t notify_out;
	atomic64_t grant_maps;
	atomic64_t grant_unmaps;
	atomic64_t bytes_copied;
	atomic64_t persistent;
};

/* hp mode: a SUBMIT_ASYNC waiting for its job (vgpu_xen_ring.c). */
struct vgpu_xen_async;

/**
 * struct vgpu_xen_dom - what vgpu-back remembers of a guest domain across
 *	its connections, for the domain's life
 * @domid: the domain
 * @hangs: its contexts that hung, over every connection
 * @abandoned_ns: engine time of commands its closed connections and
 *	destroyed contexts left unfinished, short of a whole watchdog
 *	(vgpu_client_abandon())
 * @abandoned_at: when @abandoned_ns last changed
 * @banned: it reached hang_limit: no new work, whatever the connection
 * @violations: protocol violations (ring overflow, bad XenStore values)
 *	since the toolstack last attached a vGPU
 * @rs: rate limit of every message the guest can cause
 * @groups: per device index, what that device's scheduler charges the
 *	domain's engine time to, with its weight and cap (references; the
 *	domain's clients hold more); NULL until a vGPU of the domain first
 *	connects to the device (vgpu_xen_dom_lock)
 *
 * Records live in an xarray indexed by domid (protected by
 * vgpu_xen_lock) and are dropped once the domain is gone from XenStore,
 * so closing the ring, reconnecting or forcing the device away resets
 * none of it.
 */
struct vgpu_xen_dom {
	domid_t domid;
	u32 hangs;
	u64 abandoned_ns;
	u64 abandoned_at;
	bool banned;
	u32 violations;
	struct ratelimit_state rs;
	struct vgpu_group *groups[VGPU_MAX_DEVICES];
};

/* The host's settings of a vGPU (vgpu_xen_config.c): XenStore keys. */
enum {
	VGPU_XEN_CFG_DEVMEM_MB,
	VGPU_XEN_CFG_HOSTMEM_MB,
	VGPU_XEN_CFG_CONTEXTS,
	VGPU_XEN_CFG_OBJECTS,
	VGPU_XEN_CFG_GRANT_PAGES,
	VGPU_XEN_CFG_JOBS,
	VGPU_XEN_CFG_WEIGHT,
	VGPU_XEN_CFG_CAP,
	VGPU_XEN_CFG_NR
};


/**
 * struct vgpu_xen_be - one backend device: a guest's vGPU
 * @dev: the xenbus device (a reference is held until @work frees this)
 * @domid: the guest
 * @dom: its record (lives at least as long as this device)
 * @work: runs every state change, connection and teardown, off the
 *	xenwatch thread; delayed while a misbehaving guest backs off
 * @fe_state: latest frontend state seen by xenwatch (READ_ONCE/WRITE_ONCE)
 * @removed: the device is gone: @work tears down and frees (WRITE_ONCE)
 * @engine: index of the device (engine) the vGPU uses: its XenStore key
 *	"engine" as last read, at probe and at each connection
 *	(READ_ONCE/WRITE_ONCE)
 * @violated: the ring thread saw a violation: @work disconnects
 *	(READ_ONCE/WRITE_ONCE)
 * @client_lock: protects @client for readers that must not wait for a
 *	teardown (debugfs); writers also hold @lock
 * @cfg_lock: serialises changes of the settings (vgpu_xen_config.c):
 *	a connection reading them, sysfs writing them; taken inside @lock
 * @lock: protects every field below it against connection set-up and
 *	teardown; taken by @work only, never on the xenwatch thread and
 *	never under vgpu_xen_lock.  While connected, the ring thread owns
 *	the request side of @ring and @rsp_lock guards its response side
 * @client: the core's client of the current connection, or NULL
 * @ring: back ring of the connection
 * @ring_va: the mapped shared page
 * @ring_refs: the grants of the ring's pages: never a destination
 * @nr_ring_refs: their number, 0 while not connected
 * @irq: event channel's irq, or 0
 * @thread: ring server thread, or NULL
 * @io_page: where naive mode maps a guest page for one request
 * @locked_out: VGPU_XEN_MAX_VIOLATIONS reached: the device stays Closed
 * @retry_at: jiffies before which no new connection is made (back-off)
 * @wq: the ring thread waits for events here
 * @pending: an event or a job's end arrived and is not yet served
 *	(READ_ONCE/WRITE_ONCE)
 * @eoi_owed: an event arrived and is not yet acknowledged (xchg)
 * @broken: the ring is corrupted: the thread serves nothing more
 * @hp: the connection is in hp mode
 * @rsp_lock: protects @async_wait and the response side of @ring (its
 *	rsp_prod_pvt, the response slots and their push): the ring thread
 *	and fence callbacks both answer (taken with interrupts off)
 * @async_wait: SUBMIT_ASYNC requests whose job runs
 * @grant_pages: guest pages mapped persistently (vgpu_xen_grant.c)
 * @grant_quota: the most @grant_pages may reach (READ_ONCE/WRITE_ONCE;
 *	written under @cfg_lock)
 * @stats: counters of every connection of the device
 * @node: in vgpu_xen_conns (vgpu_xen_lock)
 */
struct vgpu_xen_be {
	struct xenbus_device *dev;
	domid_t domid;
	struct vgpu_xen_dom *dom;
	struct delayed_work work;
	enum xenbus_state fe_state;
	bool removed;
	u32 engine;
	bool violated;
	spinlock_t client_lock;	/* client, for readers that must not wait */
	struct mutex cfg_lock;	/* settings: applying and writing back */
	struct mutex lock;	/* the connection: fields below */
	struct vgpu_client *client;
	struct vgpuif_back_ring ring;
	void *ring_va;
	grant_ref_t ring_refs[1U << VGPU_XEN_RING_ORDER];
	unsigned int nr_ring_refs;
	int irq;
	struct task_struct *thread;
	struct page *io_page;
	bool locked_out;
	unsigned long retry_at;
	wait_queue_head_t wq;
	bool pending;
	bool eoi_owed;
	bool broken;
	bool hp;
	spinlock_t rsp_lock;	/* async_wait, the ring's responses */
	struct list_head async_wait;
	atomic_t grant_pages;
	u32 grant_quota;
	struct vgpu_xen_stats stats;
	struct list_head node;
};

/**
 * struct vgpu_xen_snap - a device's counters kept outside its ring
 * @connected: a client exists (the fields below it are its own)
 * @hangs: hung contexts (the client's, else the domain's record)
 * @banned: the ban (likewise)
 * @violations: protocol violations since the toolstack last attached
 * @objects: the client's objects
 * @busy_ns: the client's engine time
 * @quota: the client's quotas
 */
struct vgpu_xen_snap {
	bool connected;
	u32 hangs;
	bool banned;
	u32 violations;
	s64 objects;
	s64 busy_ns;
	struct vgpu_quota quota;
};

/* The connection's mode, as XenStore and sysfs spell it. */
static inline const char *vgpu_xen_mode_name(const struct vgpu_xen_be *be)
{
	return READ_ONCE(be->hp) ? VGPUIF_MODE_HP : VGPUIF_MODE_NAIVE;
}

/* vgpu_xen.c */
void vgpu_xen_violation(struct vgpu_xen_be *be, int err, const char *what);
struct vgpu_group *vgpu_xen_group_get(struct vgpu_xen_be *be);
void vgpu_xen_snapshot(struct vgpu_xen_be *be, struct vgpu_xen_snap *snap);

/* vgpu_xen_config.c */
int vgpu_xen_read_uint(const char *dir, const char *key, unsigned int *val);
int vgpu_xen_cfg_get(struct vgpu_xen_be *be, unsigned int which, u32 *v);
int vgpu_xen_cfg_read(struct vgpu_xen_be *be);
int vgpu_xen_cfg_write(struct vgpu_xen_be *be, unsigned int which, u32 v);
extern unsigned int vgpu_xen_max_grant_pages;

/* vgpu_xen_sysfs.c */
extern const struct attribute_group *vgpu_xen_groups[];

/* vgpu_xen_ring.c */
irqreturn_t vgpu_xen_irq(int irq, void *arg);
int vgpu_xen_ring_thread(void *arg);
void vgpu_xen_async_cancel(struct vgpu_xen_be *be);

/* vgpu_xen_grant.c */
struct page;
int vgpu_xen_copy_in(void *priv, u32 gref, void *dst, u32 len);
int vgpu_xen_map_pages(void *priv, const u32 *grefs, u32 n,
		       struct page ***pages, void **mem);
extern const struct vgpu_host_mem_ops vgpu_xen_granted_ops;
extern unsigned int vgpu_xen_poll_us;

int vgpu_xen_init(void);
void vgpu_xen_fini(void);
int vgpu_xen_show(struct seq_file *m, void *unused);
#else
static inline int vgpu_xen_init(void) { return 0; }
static inline void vgpu_xen_fini(void) {}
static inline int vgpu_xen_show(struct seq_file *m, void *unused) { return 0; }
#endif

#endif /* VGPU_XEN_H */
