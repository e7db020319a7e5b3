/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_core.h - the vGPU core of vgpu-back: clients, buffer objects,
 * contexts and their GPU address spaces, quotas, jobs and the scheduler.
 *
 * Every transport (the local render node of dom0; the Xen ring of a
 * guest) turns its requests into calls of the vgpu_op_*() functions
 * below, with arguments it has already copied into kernel memory.  Those
 * functions are the one dispatcher: they check every value, every handle
 * and every quota, whoever the caller is.
 */
#ifndef VGPU_CORE_H
#define VGPU_CORE_H

#include <linux/dma-fence.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "vgpu_engine.h"
#include "../common/vgpu_fair.h"
#include "../common/vgpu_vm.h"

struct dentry;
struct seq_file;
struct vgpu_client;
struct vgpu_device;

/* Releases the memory behind a host-domain object (the transport's). */
struct vgpu_host_mem_ops {
	void (*release)(void *priv);
};

/**
 * struct vgpu_host_mem - memory a transport made for a host-domain object
 * @vaddr: its kernel mapping, or NULL (engines then map @pages)
 * @pages: its pages, or NULL when @vaddr is vmalloc()ed memory
 * @ops: releases it when the object dies
 * @priv: argument of @ops
 */
struct vgpu_host_mem {
	void *vaddr;
	struct page **pages;
	const struct vgpu_host_mem_ops *ops;
	void *priv;
};

/**
 * typedef vgpu_host_alloc_t - make host memory for an object
 * @arg: the transport's argument, as given to vgpu_op_bo_create()
 * @size: bytes, page aligned, already charged to the client's quota
 * @mem: out, the memory (filled only on success)
 *
 * The core calls it once it has checked the request and charged @size,
 * so a transport never allocates for a request the core would refuse.
 *
 * Return: 0 or a negative errno; on error nothing stays allocated.
 */
typedef int (*vgpu_host_alloc_t)(void *arg, u64 size, struct vgpu_host_mem *mem);

/**
 * struct vgpu_bo - a buffer object
 * @ref: references: the handle table, each mapping
 * @client: owner, for quota accounting (holds a reference)
 * @domain: DRM_VGPU_DOMAIN_*
 * @size: bytes, page aligned
 * @backing: what engines map
 * @host_ops: host domain: releases the transport's memory
 * @host_priv: argument of @host_ops
 */
struct vgpu_bo {
	struct kref ref;
	struct vgpu_client *client;
	u32 domain;
	u64 size;
	struct vgpu_backing backing;
	const struct vgpu_host_mem_ops *host_ops;
	void *host_priv;
};

/**
 * struct vgpu_stats - counters, global and per client
 *
 * All are sums except @slice_max_ns, the longest time slice the engine
 * has run (written by the scheduler thread only): how far the engine
 * overruns timeslice_ms, measured.  @busy_ns is the engine time charged
 * to the clients, overruns included; @stalled_ns the time of slices not
 * charged: the scheduler's thread waited for a CPU (see
 * vgpu_fair_slice_charge()).
 */
struct vgpu_stats {
	atomic64_t objects;
	atomic64_t device_bytes;
	atomic64_t host_bytes;
	atomic64_t contexts;
	atomic64_t mappings;
	atomic64_t submissions;
	atomic64_t commands;
	atomic64_t completed;
	atomic64_t busy_ns;
	atomic64_t stalled_ns;
	atomic64_t faults;
	atomic64_t hangs;
	atomic64_t cancelled;
	atomic64_t slice_max_ns;
};

/**
 * struct vgpu_quota - what one client may hold, and so make dom0 hold
 * @devmem: device memory, bytes; promised to the client when it is
 *	created (the sum over all clients never exceeds the engine's)
 * @hostmem: host memory, bytes: its host-memory objects and what else
 *	it makes dom0 hold (engine page tables and shadows)
 * @contexts: contexts
 * @objects: buffer objects
 * @mapped: GPU mappings over all its contexts, bytes (the page tables
 *	they need are charged to @hostmem: sparse mappings need far more
 *	than one 4 KiB table per 2 MiB mapped)
 * @jobs: submissions queued or running
 * @cmds: commands of those submissions (each held in dom0 memory)
 */
struct vgpu_quota {
	u64 devmem;
	u64 hostmem;
	u32 contexts;
	u32 objects;
	u64 mapped;
	u32 jobs;
	u32 cmds;
};

/**
 * struct vgpu_group - what the scheduler of one device shares its engine
 *	between: a guest domain (every connection and vGPU of it on that
 *	device), or dom0's render-node clients of the device together
 * @ref: references: its owner (the transport), each client in it
 * @id: its number, unique for the module's life (never reused): what
 *	the engine is told a context's group is (vgpu_engine_ops.ctx_create)
 * @dev: the device whose scheduler it is in (a reference, unless @owned)
 * @owned: the device's own group (its dom0 clients): freed with the
 *	device, so it holds no reference to it
 * @name: "dom0", "domain 5"
 * @fair: its weight, cap and virtual time (@dev's sched.lock)
 * @level: the virtual time of its contexts (@dev's sched.lock)
 * @ctxs: its contexts with queued jobs (@dev's sched.lock)
 * @node: entry in the scheduler's list of groups with queued jobs, while
 *	@ctxs is not empty (@dev's sched.lock)
 * @stats: counters of its clients together
 */
struct vgpu_group {
	struct kref ref;
	u64 id;
	struct vgpu_device *dev;
	bool owned;
	char name[32];
	struct vgpu_fair_ent fair;
	struct vgpu_fair level;
	struct list_head ctxs;
	struct list_head node;
	struct vgpu_stats stats;
};

/**
 * struct vgpu_client - one user of the vGPU: a DRM file or a guest
 * @ref: references: the transport, each object
 * @id: number in debugfs (per device)
 * @name: who it is ("pid 123 vecadd", "domain 5")
 * @dev: the device it uses (a reference)
 * @engine: the device's engine, pinned for the client's life
 * @group: what the scheduler charges its engine time to (a reference)
 * @quota: limits, from the module parameters at creation; the transport
 *	changes them with vgpu_client_set_quota(), at any time (per-guest
 *	quotas, set at attach time and at run time)
 * @lock: protects @bos, @ctxs, @hangs, @abandoned_ns, @abandoned_at,
 *	@banned, @closing
 *	and the usage
 *	counts below; taken inside a context's vm_lock, never around it
 * @bos: handle -> struct vgpu_bo
 * @ctxs: id -> struct vgpu_ctx
 * @device_bytes: device memory held, bytes: its objects and what the
 *	engine holds for its contexts (struct vgpu_ctx.mem)
 * @host_bytes: host memory held, bytes
 * @host_extra: dom0 memory it causes beyond its objects, bytes: the
 *	engine's page tables of its contexts, an engine's shadow copies
 *	(vgpu_client_hostmem_charge()); counted with @host_bytes against
 *	its hostmem quota
 * @num_bos: objects held
 * @num_ctxs: contexts held
 * @mapped_bytes: GPU mappings held over all contexts, bytes
 * @num_jobs: submissions queued or running
 * @num_cmds: their commands
 * @hangs: contexts of this client that hung (a transport may carry the
 *	count over from an earlier client of the same guest)
 * @abandoned_ns: engine time of launches its destroyed contexts left
 *	unfinished, less the watchdogs' worth already counted as hangs and
 *	what has drained since (vgpu_client_abandon())
 * @abandoned_at: when @abandoned_ns last changed (ktime_get_ns())
 * @banned: too many hangs: no new work accepted
 * @closing: being destroyed: no new contexts
 * @promised: device memory promised to it: its devmem quota, or what it
 *	holds where that is more (@dev's lock)
 * @rs: rate limit of the messages this client causes: @own_rs, or one
 *	the transport keeps per guest across connections (set before use)
 * @own_rs: the client's own rate limit
 * @stats: counters of this client
 * @node: entry in the device's client list (@dev's lock)
 */
struct vgpu_client {
	struct kref ref;
	u32 id;
	char name[48];
	struct vgpu_device *dev;
	struct vgpu_engine *engine;
	struct vgpu_group *group;
	struct vgpu_quota quota;
	struct mutex lock;	/* bos, ctxs, usage counts, hangs, banned, closing */
	struct xarray bos;
	struct xarray ctxs;
	u64 device_bytes;
	u64 host_bytes;
	u64 host_extra;
	u32 num_bos;
	u32 num_ctxs;
	u64 mapped_bytes;
	u32 num_jobs;
	u32 num_cmds;
	u32 hangs;
	u64 abandoned_ns;
	u64 abandoned_at;
	bool banned;
	bool closing;
	u64 promised;
	struct ratelimit_state *rs;
	struct ratelimit_state own_rs;
	struct vgpu_stats stats;
	struct list_head node;
};

/**
 * struct vgpu_hang_record - what a transport keeps of a guest's hangs
 *	across its connections (vgpu_client_record(), vgpu_client_inherit())
 * @hangs: hung contexts
 * @abandoned_ns: launch time left unfinished, not yet a whole watchdog
 * @abandoned_at: when it last changed (ktime_get_ns())
 * @banned: hang_limit reached
 */
struct vgpu_hang_record {
	u32 hangs;
	u64 abandoned_ns;
	u64 abandoned_at;
	bool banned;
};

/**
 * struct vgpu_ctx - a context: a GPU address space and a queue of jobs
 * @ref: references: the client's table, each job
 * @client: owner (a reference, dropped when the context is freed)
 * @id: id in the client's table
 * @priority: DRM_VGPU_PRIO_*
 * @vm_lock: protects @vm, @unbound and the engine's page tables of
 *	@ectx; held by the scheduler while a job of this context runs
 * @vm: mappings
 * @unbound: the context is being destroyed and its mappings are gone:
 *	VM_BIND is refused
 * @table_bytes: the engine's page tables of @ectx charged to the client
 *	(vgpu_engine_ops.ctx_table_bytes; protected by @vm_lock)
 * @mem: device memory the engine holds for @ectx, charged to the
 *	client's device memory (struct vgpu_engine.ctx_mem; set once
 *	when the context is made)
 * @stack: the call stack @ectx may give its PTX, bytes a thread
 *	(DRM_IOCTL_VGPU_CTX_STACK; protected by @vm_lock)
 * @stack_mem: device memory that stack holds beyond @mem, charged to the
 *	client's device memory (protected by @vm_lock)
 * @ectx: engine state
 * @fence_ctx: dma_fence context of the jobs
 *
 * The fields below are protected by the device's scheduler lock
 * (vgpu_device.sched.lock):
 * @queue: jobs not yet completed, in order
 * @sched_node: entry in its group's list of contexts with queued jobs
 * @fair: its share of its group's time, weighted by @priority
 * @status: DRM_VGPU_CTX_*
 * @fault_kind: fault of status FAULTED
 * @fault_addr: its GPU address
 * @dead: destroyed: queued jobs are cancelled
 * @submitted: jobs accepted
 * @completed: jobs finished
 */
struct vgpu_ctx {
	struct kref ref;
	struct vgpu_client *client;
	u32 id;
	u32 priority;
	struct mutex vm_lock;	/* vm, unbound, the engine's page tables */
	struct vgpu_vm vm;
	bool unbound;
	u64 table_bytes;
	u64 mem;
	u32 stack;
	u64 stack_mem;
	struct vgpu_engine_ctx *ectx;
	u64 fence_ctx;
	struct list_head queue;
	struct list_head sched_node;
	struct vgpu_fair_ent fair;
	u32 status;
	u32 fault_kind;
	u64 fault_addr;
	bool dead;
	u64 submitted;
	u64 completed;
};

struct vgpu_job_dep {
	struct dma_fence *fence;
	struct dma_fence_cb cb;
	struct vgpu_job *job;
};

/**
 * struct vgpu_job - one submission
 * @fence: signalled when the job completes (error set on failure)
 * @ctx: context (a reference)
 * @node: entry in @ctx->queue
 * @ej: what the engine sees
 * @deps: fences to wait for before running
 * @num_deps: number of @deps
 * @deps_pending: unsignalled @deps
 */
struct vgpu_job {
	struct dma_fence fence;
	struct vgpu_ctx *ctx;
	struct list_head node;
	struct vgpu_engine_job ej;
	struct vgpu_job_dep *deps;
	u32 num_deps;
	atomic_t deps_pending;
};

/* Module parameters (vgpu_core.c). */
extern unsigned int vgpu_quota_devmem_mb;
extern unsigned int vgpu_quota_hostmem_mb;
extern unsigned int vgpu_quota_contexts;
extern unsigned int vgpu_quota_objects;
extern unsigned int vgpu_quota_mapped_mb;
extern unsigned int vgpu_quota_jobs;
extern unsigned int vgpu_quota_cmds;
extern unsigned int vgpu_max_clients;
extern unsigned int vgpu_max_mappings;
extern unsigned int vgpu_timeslice_ms;
extern unsigned int vgpu_hang_limit;

/* Counters of every device together (debugfs vgpu/stats). */
extern struct vgpu_stats vgpu_global_stats;

/* Engines vgpu-back serves at once: device indexes 0..15. */
#define VGPU_MAX_DEVICES	16

/**
 * struct vgpu_sched_ops - what the end of a job means for its client: the
 *	core's decisions, which the scheduler calls as drm_sched calls its
 *	driver's backend ops.  The scheduler runs jobs and reports how they
 *	ended; the core alone counts faults and hangs, bans clients and
 *	speaks to them (vgpu_core_sched_ops).  None is called with the
 *	scheduler's lock held.
 * @slice_ended: the slice of @job on @ctx ended with @st; @dead: the
 *	context was destroyed meanwhile.  Counts a fault, a hang, or the
 *	engine time of a launch its context abandoned; called before a
 *	teardown waiting for the slice may go on (vgpu_sched_ctx_wait()
 *	promises it the counts).  Return: true when the client must be
 *	banned (@ban is called once the job is finished)
 * @cancelled: a queued job of a destroyed context was cancelled: the
 *	time of a launch it had started counts towards a hang.  Return: as
 *	@slice_ended's
 * @ban: refuse all further work of @c (its contexts are killed)
 * @job_done: @job left the scheduler, its fence signalled: return what it
 *	charged to its client's job quotas
 */
struct vgpu_sched_ops {
	bool (*slice_ended)(struct vgpu_ctx *ctx, const struct vgpu_job *job,
			    enum vgpu_job_status st, bool dead);
	bool (*cancelled)(struct vgpu_ctx *ctx, const struct vgpu_job *job);
	void (*ban)(struct vgpu_client *c);
	void (*job_done)(struct vgpu_client *c, const struct vgpu_job *job);
};

/* The core's (vgpu_core.c), given to every device's scheduler. */
extern const struct vgpu_sched_ops vgpu_core_sched_ops;

/**
 * struct vgpu_sched - the scheduler of one device (vgpu_sched.c)
 * @lock: protects @groups, @fair, @running, @slice_ctx; in every group
 *	of the device: fair, level, ctxs, node; in every context: queue,
 *	sched_node, fair, status, fault_*, dead, submitted, completed
 * @groups: groups with queued jobs
 * @fair: the groups' virtual time
 * @running: job in the engine, or NULL
 * @slice_ctx: context of the slice in progress, from its pick until its
 *	hangs are counted (after @running is cleared); NULL between slices
 * @wq: the thread waits for work here
 * @slice_wq: a slice ended: @slice_ctx changed
 * @kicked: something may have become runnable
 * @thread: the device's scheduler thread ("vgpu-sched/N")
 * @ops: the core's decisions (set at init, then constant: no lock)
 */
struct vgpu_sched {
	spinlock_t lock;	/* groups, fair, running, slice_ctx; see above */
	struct list_head groups;
	struct vgpu_fair fair;
	struct vgpu_job *running;
	struct vgpu_ctx *slice_ctx;
	wait_queue_head_t wq;
	wait_queue_head_t slice_wq;
	atomic_t kicked;
	struct task_struct *thread;
	const struct vgpu_sched_ops *ops;
};

/**
 * struct vgpu_device - one engine and everything vgpu-back keeps for it:
 *	its clients, the memory promised of it, its scheduler, its counters
 * @ref: references: the registration, each client, each group but its
 *	own (@native_group), each caller of vgpu_device_find()
 * @index: its number: render node, sysfs "vgpu.N", XenStore "engine"
 * @lock: protects @engine, @clients, @next_client_id, @num_clients,
 *	@promised and every client's promised
 * @engine: the engine; NULL once unregistered (no new client)
 * @clients: its clients
 * @next_client_id: id of the next client
 * @num_clients: clients admitted (at most max_clients)
 * @promised: device memory promised to the clients, bytes
 * @sched: its scheduler
 * @native_group: dom0's render-node clients of this device (owned: it
 *	lives as long as the device)
 * @stats: counters of its clients together
 * @node_priv: the transport's node of the device (vgpu_drv.c's render
 *	node), set and cleared by the device listener
 * @debugfs: its directory <debugfs>/vgpu/N, made and removed by the
 *	device listener with @node_priv
 */
struct vgpu_device {
	struct kref ref;
	u32 index;
	struct mutex lock;	/* engine, clients, counts, promises */
	struct vgpu_engine *engine;
	struct list_head clients;
	u32 next_client_id;
	u32 num_clients;
	u64 promised;
	bool quota_below_page;	/* said once (under @lock) */
	struct vgpu_sched sched;
	struct vgpu_group *native_group;
	struct vgpu_stats stats;
	void *node_priv;
	struct dentry *debugfs;
};

/**
 * struct vgpu_device_listener - told as devices come and go (vgpu_drv.c:
 *	a render node and a sysfs directory per device)
 * @added: a device was registered; may fail (the engine's registration
 *	fails with it)
 * @removed: a device is being unregistered (it has no client left)
 */
struct vgpu_device_listener {
	int (*added)(struct vgpu_device *dev);
	void (*removed)(struct vgpu_device *dev);
};

/**
 * struct vgpu_engine_info - a device's engine, for sysfs
 * @name: its name, "" once unregistered
 * @mem_size: its device memory, bytes
 * @promised: device memory promised to the clients, bytes
 * @clients: clients admitted
 */
struct vgpu_engine_info {
	char name[32];
	u64 mem_size;
	u64 promised;
	u32 clients;
};

/* Devices (vgpu_device.c). */
void vgpu_devices_listen(const struct vgpu_device_listener *l);
struct vgpu_device *vgpu_device_find(u32 index);
void vgpu_device_get(struct vgpu_device *dev);
void vgpu_device_put(struct vgpu_device *dev);
bool vgpu_device_registered(struct vgpu_device *dev);
void vgpu_engine_info(struct vgpu_device *dev, struct vgpu_engine_info *info);
int vgpu_devices_show(struct seq_file *m, void *unused);
void vgpu_device_show_clients(struct seq_file *m, struct vgpu_device *dev);
/* The first line of debugfs vgpu/clients and vgpu/N/clients. */
#define VGPU_CLIENTS_HEADER "engine id name objects device_bytes host_bytes contexts submissions busy_ns faults hangs\n"

/* Scheduling groups (vgpu_sched.c). */
struct vgpu_group *vgpu_group_create(struct vgpu_device *dev,
				     const char *name);
void vgpu_group_put(struct vgpu_group *g);
int vgpu_group_set(struct vgpu_group *g, const u32 *weight, const u32 *cap);
void vgpu_group_get_settings(struct vgpu_group *g, u32 *weight, u32 *cap);
u32 vgpu_prio_weight(u32 priority);

/* Clients. */
struct vgpu_client *vgpu_client_create(struct vgpu_device *dev,
				       const char *name,
				       struct vgpu_group *group);
int vgpu_client_set_quota(struct vgpu_client *c, const struct vgpu_quota *q);
void vgpu_client_destroy(struct vgpu_client *c);
void vgpu_client_record(struct vgpu_client *c, struct vgpu_hang_record *r);
void vgpu_client_inherit(struct vgpu_client *c,
			 const struct vgpu_hang_record *r);
int vgpu_client_hostmem_charge(struct vgpu_client *c, s64 bytes);
__printf(3, 4)
void vgpu_client_msg(struct vgpu_client *c, bool warn, const char *fmt, ...);
void vgpu_client_put(struct vgpu_client *c);
int vgpu_clients_show(struct seq_file *m, void *unused);

/* The dispatcher: one function per operation. */
void vgpu_op_info(struct vgpu_client *c, u32 mode, struct drm_vgpu_info *out);
int vgpu_op_ctx_create(struct vgpu_client *c, struct drm_vgpu_ctx_create *a);
int vgpu_op_ctx_destroy(struct vgpu_client *c,
			const struct drm_vgpu_ctx_destroy *a);
int vgpu_op_ctx_status(struct vgpu_client *c, struct drm_vgpu_ctx_status *a);
int vgpu_op_ctx_stack(struct vgpu_client *c, struct drm_vgpu_ctx_stack *a);
int vgpu_quota_reserve(struct vgpu_client *c, u32 domain, u64 *size);
void vgpu_quota_unreserve(struct vgpu_client *c, u32 domain, u64 size);
int vgpu_op_bo_create(struct vgpu_client *c, struct drm_vgpu_bo_create *a,
		      vgpu_host_alloc_t alloc, void *arg);
int vgpu_op_bo_destroy(struct vgpu_client *c,
		       const struct drm_vgpu_bo_destroy *a);
int vgpu_op_bo_host_range(struct vgpu_client *c, u32 handle, u64 offset,
			  u64 length, struct vgpu_bo **out);
struct vgpu_bo *vgpu_bo_lookup(struct vgpu_client *c, u32 handle);
void vgpu_bo_put(struct vgpu_bo *bo);
int vgpu_op_vm_bind(struct vgpu_client *c, u32 ctx_id,
		    const struct drm_vgpu_vm_bind_op *ops, u32 n, u32 *done);
struct vgpu_ctx *vgpu_ctx_lookup(struct vgpu_client *c, u32 id);
int vgpu_ctx_vm_bind(struct vgpu_ctx *ctx,
		     const struct drm_vgpu_vm_bind_op *ops, u32 n, u32 *done);
int vgpu_op_submit(struct vgpu_client *c, u32 ctx_id,
		   struct drm_vgpu_cmd *cmds, u32 num_cmds,
		   struct dma_fence **in, u32 num_in,
		   struct dma_fence **out, u64 *seqno);

/* Scheduler (vgpu_sched.c). */
int vgpu_sched_init(struct vgpu_device *dev,
		    const struct vgpu_sched_ops *ops);
void vgpu_sched_fini(struct vgpu_device *dev);
bool vgpu_sched_run_once(struct vgpu_device *dev);
bool vgpu_sched_queued(struct vgpu_device *dev);
struct vgpu_job *vgpu_job_alloc(struct vgpu_ctx *ctx, struct drm_vgpu_cmd *cmds,
				u32 num_cmds, struct dma_fence **in, u32 num_in);
void vgpu_job_abort(struct vgpu_job *job);
int vgpu_sched_submit(struct vgpu_job *job, u64 *seqno,
		      struct dma_fence **fence);
void vgpu_sched_queue(struct vgpu_job *job);
void vgpu_sched_ctx_kill(struct vgpu_ctx *ctx, u32 status);
void vgpu_sched_ctx_wait(struct vgpu_ctx *ctx);
void vgpu_sched_ctx_status(struct vgpu_ctx *ctx, struct drm_vgpu_ctx_status *a);
void vgpu_ctx_put(struct vgpu_ctx *ctx);

/* debugfs (vgpu_debugfs.c). */
void vgpu_debugfs_init(void);
void vgpu_debugfs_fini(void);
void vgpu_debugfs_device_add(struct vgpu_device *dev);
void vgpu_debugfs_device_remove(struct vgpu_device *dev);

/* vgpu_drv.c, vgpu_sysfs.c */
extern const struct attribute_group vgpu_engine_group;
extern const struct attribute_group vgpu_native_attr_group;
ssize_t vgpu_group_attr_show(struct vgpu_group *g, const char *name,
			     char *buf);
ssize_t vgpu_group_attr_store(struct vgpu_group *g, const char *name,
			      const char *buf, size_t count);

static inline void vgpu_stat_add(struct vgpu_client *c, size_t off, s64 v)
{
	atomic64_add(v, (atomic64_t *)((char *)&c->stats + off));
	atomic64_add(v, (atomic64_t *)((char *)&c->group->stats + off));
	atomic64_add(v, (atomic64_t *)((char *)&c->dev->stats + off));
	atomic64_add(v, (atomic64_t *)((char *)&vgpu_global_stats + off));
}

/*
 * An engine's module has finished loading (an engine built in, or
 * without a module as in KUnit and the fuzzer, always has).
 */
static inline bool vgpu_module_live(struct module *m)
{
#ifdef CONFIG_MODULES
	return !m || m->state == MODULE_STATE_LIVE;
#else
	return true;
#endif
}

/* Raises @max to @v where @v is more (several writers). */
static inline void vgpu_stat_max(atomic64_t *max, s64 v)
{
	s64 old = atomic64_read(max);

	while (v > old) {
		s64 seen = atomic64_cmpxchg(max, old, v);

		if (seen == old)
			break;
		old = seen;
	}
}

#define VGPU_STAT(c, field, v) \
	vgpu_stat_add((c), offsetof(struct vgpu_stats, field), (v))

#endif /* VGPU_CORE_H */
