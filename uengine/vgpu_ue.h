/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue.h - vgpu-uengine.ko: an engine of vgpu-back whose operations
 * run in a dom0 process (include/uapi/drm/vgpu_uengine.h is the
 * protocol, Documentation/engines.rst the design).
 *
 * The module serves several GPUs (vgpu_ue_main.c: instances=N), each a
 * struct vgpu_ue with its own device, process and engine.
 * vgpu_ue_chan.c is the channel: the character device, the session of
 * the registered process and vgpu_ue_call().  vgpu_ue_engine.c is the
 * engine: struct vgpu_engine_ops on top of the channel, contexts, device
 * memory and host-memory windows.  vgpu_ue_shadow.c holds the windows
 * and the shadows of granted objects, vgpu_ue_check.c the checks of what
 * the process reads and answers (both built into the KUnit tests too).
 */
#ifndef VGPU_UE_H
#define VGPU_UE_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../backend/vgpu_engine.h"
#include "../include/uapi/drm/vgpu_uengine.h"

/**
 * struct vgpu_ue_spage - one page of a shadow
 * @page: the shadow page, allocated (and filled from the source) when a
 *	window first covers it; freed with the shadow
 * @hash: xxh64 of the page's content when it was last synchronised:
 *	source and shadow were equal then
 * @in_stamp: the last copy-in pass that looked at it (once per pass)
 * @out_stamp: the last copy-out pass that looked at it
 */
struct vgpu_ue_spage {
	struct page *page;
	u64 hash;
	u64 in_stamp;
	u64 out_stamp;
};

/**
 * struct vgpu_ue_shadow - the one shadow of a guest's granted object
 *	for the engine process of one generation
 * @ref: one per window on it
 * @lock: protects @pg (pages, hashes, stamps) and the copies
 * @key: the object's backing (with @gen, its identity in the table)
 * @gen: generation of the engine process that maps it: the process of
 *	another generation never shares its pages
 * @src: the object's pages, while @linked; NULL after
 * @npages: pages of the object
 * @linked: windows on it still in a context (vgpu_ue_shadows_lock);
 *	at 0 the object may go: until a window links it again (the same
 *	object or a new one at the same @key) nothing is synchronised
 * @node: in the table of shadows (vgpu_ue_shadows_lock) as long as
 *	anything holds it, so that a shadow a process still maps is
 *	reused, not doubled, by the next MAP of the object
 * @pg: one entry per page of the object
 */
struct vgpu_ue_shadow {
	struct kref ref;
	struct mutex lock;	/* @pg and the copies */
	const struct vgpu_backing *key;
	u64 gen;
	struct page **src;
	u64 npages;
	u64 linked;
	struct hlist_node node;
	struct vgpu_ue_spage pg[];
};

/**
 * struct vgpu_ue_window - host memory of one MAP, as the process sees it
 * @ref: the context's list holds one, each process mapping (VMA) one
 * @id: window id (mmap offset >> VGPU_UE_WINDOW_SHIFT)
 * @gen: generation of its context: only that process may mmap() it
 * @va: GPU address the window was mapped at
 * @first: index in the object of its first page
 * @npages: pages of the window
 * @left: pages of the window still mapped in the context (bits in @mapped)
 * @perms: VGPU_PTE_* of the mapping (as the core passes them)
 * @mapped: one bit per page, set while it is mapped in the context
 * @pages: zero copy: the object's pages (a reference held on each);
 *	NULL when @shadow is set
 * @shadow: the object's shadow (a reference held), or NULL
 * @node: in the context's @windows list
 */
struct vgpu_ue_window {
	struct kref ref;
	u64 id;
	u64 gen;
	u64 va;
	u64 first;
	u64 npages;
	u64 left;
	u32 perms;
	unsigned long *mapped;
	struct page **pages;
	struct vgpu_ue_shadow *shadow;
	struct list_head node;
};

struct vgpu_backing;
struct vgpu_engine_job;

/* Windows and shadows (vgpu_ue_shadow.c). */
extern atomic64_t vgpu_ue_shadow_bytes;
extern atomic64_t vgpu_ue_shadow_in_bytes;
extern atomic64_t vgpu_ue_shadow_out_bytes;
struct vgpu_ue_window *vgpu_ue_window_new(const struct vgpu_backing *b,
					  u64 gen, u64 first, u64 npages,
					  u64 va, u32 perms);
struct page *vgpu_ue_window_page(const struct vgpu_ue_window *w, u64 i);
bool vgpu_ue_window_unmap(struct vgpu_ue_window *w, u64 va, u64 size);
void vgpu_ue_window_unlink(struct vgpu_ue_window *w);
void vgpu_ue_window_put(struct vgpu_ue_window *w);
void vgpu_ue_sync_in(struct list_head *windows);
void vgpu_ue_sync_out(struct list_head *windows);

#if IS_ENABLED(CONFIG_GPUVM_KUNIT_TEST)
/* A test's hook between the hash and the copy of a copy-in (KUnit only). */
extern void (*vgpu_ue_test_hook_in)(struct page *src);
#endif

/**
 * struct vgpu_ue_tables - what the engine process's page tables of a
 *	context take, as vgpu-sim's (common/vgpu_pt.c) would
 * @l2: by va >> 21, a struct vgpu_ue_l2 per 2 MiB region with a page
 *	mapped: a level-2 table of the process
 * @l1: by va >> 30, xa_mk_value(2 MiB regions of it in @l2): a level-1
 *	table of the process
 * @bytes: the tables' bytes (VGPU_PT_L1_BYTES, VGPU_PT_L2_BYTES each)
 *
 * Serialised by the context's map, unmap and ctx_table_bytes (the
 * core's vm_lock); the xarrays' own locks protect only their trees.
 */
struct vgpu_ue_tables {
	struct xarray l2;
	struct xarray l1;
	u64 bytes;
};

/* Page-table accounting (vgpu_ue_tables.c). */
void vgpu_ue_tables_init(struct vgpu_ue_tables *t);
void vgpu_ue_tables_fini(struct vgpu_ue_tables *t);
int vgpu_ue_tables_map(struct vgpu_ue_tables *t, u64 va, u64 size);
void vgpu_ue_tables_unmap(struct vgpu_ue_tables *t, u64 va, u64 size);

/* Checks of what the process reads and answers (vgpu_ue_check.c). */
int vgpu_ue_read_fits(size_t len, const struct vgpu_ue_req *req);
int vgpu_ue_check_answer(const struct vgpu_ue_req *req,
			 const struct vgpu_ue_resp *r);
int vgpu_ue_check_pci(const char *pci);
const char *vgpu_ue_check_run(const struct vgpu_engine_job *job,
			      const struct vgpu_ue_resp_run *r, u64 wall_ns);

/* vm_flags became write-protected in 6.3 (probed by Kbuild). */
#ifdef VGPU_HAVE_VM_FLAGS_SET
#define vgpu_vm_flags_set(vma, flags) vm_flags_set(vma, flags)
#else
#define vgpu_vm_flags_set(vma, flags) ((vma)->vm_flags |= (flags))
#endif

/**
 * struct vgpu_ue_session - one engine process's open device
 * @ue: the instance whose device it opened; constant
 * @gen: generation (VGPU_UE_IOC_HELLO's answer)
 * @dead: the session ended (close, timeout): nothing more is queued
 * @queue: requests not yet read by the process
 * @in_flight: requests read, not yet answered
 * @wq: the process waits here for requests
 * @next_seq: number of the next request
 * @read_lock: serialises read() (and so the use of @buf)
 * @buf: VGPU_UE_MAX_MSG bytes: the request read() copies to the process
 * @map_lock: serialises the process's page faults with @unmapped
 * @unmapped: the session ended: its mappings are zapped, no page more
 * @mapping: the file's address space, where its mappings are
 * @zap: zaps them (vgpu_ue_kill() runs under @ue->lock)
 *
 * @gen, @dead, @queue, @in_flight and @next_seq are protected by
 * @ue->lock, @buf by @read_lock, @unmapped by @map_lock.
 */
struct vgpu_ue_session {
	struct vgpu_ue *ue;
	u64 gen;
	bool dead;
	struct list_head queue;
	struct list_head in_flight;
	wait_queue_head_t wq;
	u64 next_seq;
	struct mutex read_lock;		/* read() and @buf */
	u8 *buf;
	struct mutex map_lock;		/* faults and @unmapped */
	bool unmapped;
	struct address_space *mapping;
	struct work_struct zap;
};

/**
 * struct vgpu_ue - one instance of vgpu-uengine: one GPU, its device
 *	/dev/vgpu-uengine (instance 0) or /dev/vgpu-uengineN (N >= 1), the
 *	session of its engine process and the engine it registers
 * @index: N, the instance's number (vgpu_ue_create()); constant
 * @dev_name: the misc device's name; constant
 * @misc: the character device (registered by vgpu_ue_chan_init())
 * @engine: its engine, a device of vgpu-back; constant once registered
 * @lock: protects @live, @backend, @pci and the fields of every session
 *	of this instance (struct vgpu_ue_session says which)
 * @live: the registered session, or NULL (@lock)
 * @backend: the live process's back end, as its HELLO named it (@lock)
 * @pci: the live process's GPU, a PCI address checked by
 *	vgpu_ue_check_pci(), or "" (@lock)
 * @windows: live windows of this instance by id, for mmap(); the
 *	xarray's own lock protects it
 * @next_id: the last id given to a context, memory object or job
 *	(atomic; ids are never reused)
 */
struct vgpu_ue {
	unsigned int index;
	char dev_name[24];
	struct miscdevice misc;
	struct vgpu_engine engine;
	struct mutex lock;	/* @live, @backend, @pci, sessions' fields */
	struct vgpu_ue_session *live;
	char backend[VGPU_UE_NAME_LEN];
	char pci[VGPU_UE_PCI_LEN];
	struct xarray windows;
	atomic64_t next_id;
	struct ratelimit_state rs;
};

/*
 * A message that the instance's process, or a guest through it, can
 * trigger: rate-limited per instance, so that one GPU's process cannot
 * silence another's lines.
 */
#define vgpu_ue_msg(ue, level, fmt, ...)				\
	do {								\
		struct vgpu_ue *__ue = (ue);				\
									\
		if (__ratelimit(&__ue->rs))				\
			level("%s: " fmt, __ue->dev_name, ##__VA_ARGS__); \
	} while (0)
#define vgpu_ue_warn(ue, fmt, ...) vgpu_ue_msg(ue, pr_warn, fmt, ##__VA_ARGS__)
#define vgpu_ue_info(ue, fmt, ...) vgpu_ue_msg(ue, pr_info, fmt, ##__VA_ARGS__)

#define VGPU_UE_MAX_INSTANCES	16

/* @m (THIS_MODULE) has finished loading (built in, as KUnit, always has). */
static inline bool vgpu_ue_module_live(struct module *m)
{
#ifdef CONFIG_MODULES
	return !m || m->state == MODULE_STATE_LIVE;
#else
	return true;
#endif
}

struct vgpu_ue_window *vgpu_ue_window_get(struct vgpu_ue *ue, u64 id);

/* Channel (vgpu_ue_chan.c). */
int vgpu_ue_chan_init(struct vgpu_ue *ue);
void vgpu_ue_chan_exit(struct vgpu_ue *ue);
u64 vgpu_ue_generation(struct vgpu_ue *ue);
void vgpu_ue_chan_kill(struct vgpu_ue *ue, u64 gen, const char *why);
int vgpu_ue_call(struct vgpu_ue *ue, u64 gen, struct vgpu_ue_req *req,
		 const void *payload, u64 timeout_ns,
		 struct vgpu_ue_resp *resp);
void vgpu_ue_pci_address(struct vgpu_engine *e, char *buf, size_t size);

/*
 * A session without its file: what open(), VGPU_UE_IOC_HELLO, read(),
 * write() and close() do once the bytes are in the kernel (the KUnit
 * tests drive them directly; @mapping may then be NULL).
 */
struct vgpu_ue_session *vgpu_ue_session_new(struct vgpu_ue *ue,
					    struct address_space *mapping);
void vgpu_ue_session_end(struct vgpu_ue_session *s);
int vgpu_ue_session_hello(struct vgpu_ue_session *s, struct vgpu_ue_hello *h);
ssize_t vgpu_ue_session_take(struct vgpu_ue_session *s, bool nonblock,
			     size_t len, u64 *seq);
int vgpu_ue_session_answer(struct vgpu_ue_session *s,
			   const struct vgpu_ue_resp *r);
u64 vgpu_ue_session_gen(struct vgpu_ue_session *s);

/* Engine (vgpu_ue_engine.c); the parameters are vgpu_ue_main.c's. */
extern unsigned int vgpu_ue_mem_mb;
extern unsigned int vgpu_ue_page_kb;
extern unsigned int vgpu_ue_va_start_gb;
extern unsigned int vgpu_ue_va_end_gb;
extern unsigned int vgpu_ue_watchdog_ms;
extern unsigned int vgpu_ue_op_timeout_ms;
struct vgpu_ue *vgpu_ue_create(unsigned int index);
void vgpu_ue_destroy(struct vgpu_ue *ue);

#endif /* VGPU_UE_H */
