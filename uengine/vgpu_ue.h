/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue.h - vgpu-uengine.ko: an engine of vgpu-back whose operations
 * run in a dom0 process (include/uapi/drm/vgpu_uengine.h is the
 * protocol, Documentation/engines.rst the design).
 *
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
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/xarray.h>

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
const char *vgpu_ue_check_run(const struct vgpu_engine_job *job,
			      const struct vgpu_ue_resp_run *r, u64 wall_ns);

/* vm_flags became write-protected in 6.3 (probed by Kbuild). */
#ifdef VGPU_HAVE_VM_FLAGS_SET
#define vgpu_vm_flags_set(vma, flags) vm_flags_set(vma, flags)
#else
#define vgpu_vm_flags_set(vma, flags) ((vma)->vm_flags |= (flags))
#endif

struct vgpu_ue_window *vgpu_ue_window_get(u64 id);

/* Channel (vgpu_ue_chan.c). */
int vgpu_ue_chan_init(void);
void vgpu_ue_chan_exit(void);
u64 vgpu_ue_generation(void);
void vgpu_ue_chan_kill(u64 gen, const char *why);
int vgpu_ue_call(u64 gen, struct vgpu_ue_req *req, const void *payload,
		 u64 timeout_ns, struct vgpu_ue_resp *resp);

/* Engine (vgpu_ue_engine.c). */
extern unsigned int vgpu_ue_mem_mb;
extern unsigned int vgpu_ue_watchdog_ms;
extern unsigned int vgpu_ue_op_timeout_ms;
int vgpu_ue_engine_init(void);
void vgpu_ue_engine_exit(void);

#endif /* VGPU_UE_H */
