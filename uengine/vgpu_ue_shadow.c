// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue_shadow.c - the host-memory windows of vgpu-uengine and the
 * shadows of granted objects.
 *
 * A window is what one MAP of host memory gives the engine process: the
 * pages it mmap()s.  An object with a kernel mapping (dom0's own host
 * memory) gives its pages themselves.  A guest's granted pages cannot be
 * mapped into a process: the object then has one shadow, shared by every
 * window on it, whose pages are allocated when a window first covers
 * them and freed when the last window on the shadow is gone.  So the
 * shadows of a client's objects hold at most the bytes its host-memory
 * quota charged for the objects themselves, however often it maps them.
 *
 * A shadow belongs to the engine process of one generation: after a
 * session ends, the dead process may still hold its mappings (and the
 * GPU its registrations) and write them, so the next generation's
 * windows get shadows of their own, and the dead generation's are never
 * synchronised again (its contexts' RUNs end before any copy).
 *
 * Synchronisation is per page and remembers, for each shadow page, the
 * xxh64 of its content when source and shadow were last made equal:
 *  - before a RUN (vgpu_ue_sync_in()), each page a window of the context
 *    still maps is copied in only if its source's hash changed;
 *  - after it (vgpu_ue_sync_out()), each page a *writable* window still
 *    maps is copied out only if the shadow's hash changed: the engine
 *    wrote it.  A page the engine did not write keeps whatever the
 *    guest's CPU wrote during the RUN; a page both wrote gets the
 *    engine's (page granularity: as with any non-coherent device, a
 *    guest does not write from the CPU what a running job writes).
 * A RUN that failed (no answer in time, an answer the module refused)
 * copies nothing out: the session is ended and its state unknown.
 * Each pass visits a shadow page at most once (stamps), yields every few
 * pages, and copies at most the distinct pages the context maps, which
 * the client's host-memory quota bounds.  Between RUNs the shadow's
 * content is the engine process's business: what it writes outside a
 * RUN, or through a read-only mapping, is not copied out.
 *
 * The module has no other use of the hash than "did this page change":
 * a guest that finds a collision only hides its own write from itself.
 */
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/xxhash.h>

#include "../backend/vgpu_engine.h"
#include "../common/vgpu_compat.h"
#include "../common/vgpu_pt.h"
#include "vgpu_ue.h"

/* Bytes of shadow pages allocated; bytes copied in (first fill too), out. */
atomic64_t vgpu_ue_shadow_bytes = ATOMIC64_INIT(0);
atomic64_t vgpu_ue_shadow_in_bytes = ATOMIC64_INIT(0);
atomic64_t vgpu_ue_shadow_out_bytes = ATOMIC64_INIT(0);

/* Pages copied or hashed between two cond_resched(). */
#define VGPU_UE_SYNC_BATCH	16

/*
 * The shadows that anything holds, by backing and generation.  Protects
 * the table and every shadow's @key, @gen, @src and @linked.
 */
static DEFINE_MUTEX(vgpu_ue_shadows_lock);
static DEFINE_HASHTABLE(vgpu_ue_shadows, 8);

/* Numbers of synchronisation passes (stamps start at 1: 0 is "never"). */
static atomic64_t vgpu_ue_sync_pass = ATOMIC64_INIT(0);
static u64 vgpu_ue_hash_seed;

#if IS_ENABLED(CONFIG_GPUVM_KUNIT_TEST)
void (*vgpu_ue_test_hook_in)(struct page *src);

static void vgpu_ue_hook_in(struct page *src)
{
	if (vgpu_ue_test_hook_in)
		vgpu_ue_test_hook_in(src);
}
#else
static inline void vgpu_ue_hook_in(struct page *src)
{
}
#endif

static u64 vgpu_ue_page_hash(struct page *p)
{
	void *v = kmap_local_page(p);
	u64 h;

	/* A seed per module load: the guest does not know the function. */
	if (unlikely(!READ_ONCE(vgpu_ue_hash_seed)))
		cmpxchg(&vgpu_ue_hash_seed, 0, get_random_u64() | 1);
	h = xxh64(v, PAGE_SIZE, READ_ONCE(vgpu_ue_hash_seed));
	kunmap_local(v);
	return h;
}

static void vgpu_ue_page_copy(struct page *to, struct page *from)
{
	void *d = kmap_local_page(to);
	void *s = kmap_local_page(from);

	memcpy(d, s, PAGE_SIZE);
	kunmap_local(s);
	kunmap_local(d);
}

/* The last reference is gone: called with vgpu_ue_shadows_lock, drops it. */
static void vgpu_ue_shadow_free(struct kref *ref)
	__releases(&vgpu_ue_shadows_lock)
{
	struct vgpu_ue_shadow *sh = container_of(ref, struct vgpu_ue_shadow, ref);
	u64 i, n = 0;

	lockdep_assert_held(&vgpu_ue_shadows_lock);
	hash_del(&sh->node);
	mutex_unlock(&vgpu_ue_shadows_lock);
	__release(&vgpu_ue_shadows_lock);	/* for sparse: mutexes are not annotated */
	for (i = 0; i < sh->npages; i++) {
		if (sh->pg[i].page) {
			__free_page(sh->pg[i].page);
			n++;
		}
	}
	atomic64_sub(n << PAGE_SHIFT, &vgpu_ue_shadow_bytes);
	mutex_destroy(&sh->lock);
	kvfree(sh);
}

static void vgpu_ue_shadow_put(struct vgpu_ue_shadow *sh)
{
	kref_put_mutex(&sh->ref, vgpu_ue_shadow_free, &vgpu_ue_shadows_lock);
}

/*
 * Links @sh, found in the table, once more.  An unlinked one (a process
 * mapping still holds it) may be of an object since freed whose backing
 * the new one reuses: it must have the size of @b; it takes @b's pages
 * and its allocated pages are filled again (*@refill).
 */
static int vgpu_ue_shadow_relink(struct vgpu_ue_shadow *sh,
				 const struct vgpu_backing *b, bool *refill)
{
	lockdep_assert_held(&vgpu_ue_shadows_lock);
	if (!sh->linked) {
		if (sh->npages != b->npages)
			return -EBUSY;
		sh->src = b->pages;
		*refill = true;
	}
	kref_get(&sh->ref);
	sh->linked++;
	return 0;
}

static struct vgpu_ue_shadow *vgpu_ue_shadow_find(const struct vgpu_backing *b,
						  u64 gen)
{
	struct vgpu_ue_shadow *sh;

	lockdep_assert_held(&vgpu_ue_shadows_lock);
	hash_for_each_possible(vgpu_ue_shadows, sh, node, (unsigned long)b)
		if (sh->key == b && sh->gen == gen)
			return sh;
	return NULL;
}

/*
 * The shadow of @b for the process of generation @gen, linked once
 * more: found in the table, or new (allocated outside the table's lock,
 * the first of two racing inserts wins).  *@refill: its pages must be
 * filled again from the source.
 */
static struct vgpu_ue_shadow *vgpu_ue_shadow_get(const struct vgpu_backing *b,
						 u64 gen, bool *refill)
{
	struct vgpu_ue_shadow *sh, *new;
	int ret;

	*refill = false;
	mutex_lock(&vgpu_ue_shadows_lock);
	sh = vgpu_ue_shadow_find(b, gen);
	ret = sh ? vgpu_ue_shadow_relink(sh, b, refill) : 0;
	mutex_unlock(&vgpu_ue_shadows_lock);
	if (sh)
		return ret ? ERR_PTR(ret) : sh;

	new = kvzalloc(struct_size(new, pg, b->npages), VGPU_GFP_CLIENT_KV);
	if (!new)
		return ERR_PTR(-ENOMEM);
	kref_init(&new->ref);
	mutex_init(&new->lock);
	new->key = b;
	new->gen = gen;
	new->src = b->pages;
	new->npages = b->npages;
	new->linked = 1;

	mutex_lock(&vgpu_ue_shadows_lock);
	sh = vgpu_ue_shadow_find(b, gen);
	if (sh)
		ret = vgpu_ue_shadow_relink(sh, b, refill);
	else
		hash_add(vgpu_ue_shadows, &new->node, (unsigned long)b);
	mutex_unlock(&vgpu_ue_shadows_lock);
	if (!sh)
		return new;
	mutex_destroy(&new->lock);
	kvfree(new);
	return ret ? ERR_PTR(ret) : sh;
}

/*
 * One window on @sh fewer in a context: at none, the object may go; the
 * shadow stays in the table while a process mapping holds it.
 */
static void vgpu_ue_shadow_unlink(struct vgpu_ue_shadow *sh)
{
	mutex_lock(&vgpu_ue_shadows_lock);
	/* Synchronised only through linked windows: not before a relink. */
	if (!--sh->linked)
		sh->src = NULL;
	mutex_unlock(&vgpu_ue_shadows_lock);
}

/* Copies the source of page @i of @sh in; its hash is of what was copied. */
static void vgpu_ue_spage_in(struct vgpu_ue_shadow *sh, u64 i)
{
	struct vgpu_ue_spage *sp = &sh->pg[i];

	lockdep_assert_held(&sh->lock);
	vgpu_ue_page_copy(sp->page, sh->src[i]);
	sp->hash = vgpu_ue_page_hash(sp->page);
}

/*
 * Gives pages [first, first + n) of @sh shadow pages, filled from the
 * source; with @refill, first every page allocated before (the shadow
 * of an object that may be another now).
 */
static int vgpu_ue_shadow_fill(struct vgpu_ue_shadow *sh, u64 first, u64 n,
			       bool refill)
{
	u64 i, done = 0;
	int ret = 0;

	mutex_lock(&sh->lock);
	for (i = 0; refill && i < sh->npages; i++) {
		if (!sh->pg[i].page)
			continue;
		vgpu_ue_spage_in(sh, i);
		atomic64_add(PAGE_SIZE, &vgpu_ue_shadow_in_bytes);
		if (!(++done % VGPU_UE_SYNC_BATCH))
			cond_resched();
	}
	for (i = first; i < first + n; i++) {
		struct vgpu_ue_spage *sp = &sh->pg[i];

		if (sp->page)
			continue;
		sp->page = alloc_page(VGPU_GFP_CLIENT);
		if (!sp->page) {
			ret = -ENOMEM;
			break;
		}
		atomic64_add(PAGE_SIZE, &vgpu_ue_shadow_bytes);
		atomic64_add(PAGE_SIZE, &vgpu_ue_shadow_in_bytes);
		vgpu_ue_spage_in(sh, i);
		if (!(++done % VGPU_UE_SYNC_BATCH))
			cond_resched();
	}
	mutex_unlock(&sh->lock);
	return ret;
}

static void vgpu_ue_window_free(struct kref *ref)
{
	struct vgpu_ue_window *w = container_of(ref, struct vgpu_ue_window, ref);
	u64 i;

	if (w->shadow) {
		vgpu_ue_shadow_put(w->shadow);
	} else if (w->pages) {
		for (i = 0; i < w->npages; i++)
			if (w->pages[i])
				put_page(w->pages[i]);
	}
	kvfree(w->pages);
	bitmap_free(w->mapped);
	kfree(w);
}

void vgpu_ue_window_put(struct vgpu_ue_window *w)
{
	kref_put(&w->ref, vgpu_ue_window_free);
}

static struct page *vgpu_ue_backing_page(const struct vgpu_backing *b, u64 i)
{
	if (b->pages)
		return i < b->npages ? b->pages[i] : NULL;
	if (is_vmalloc_addr(b->vaddr))
		return vmalloc_to_page((u8 *)b->vaddr + (i << PAGE_SHIFT));
	return virt_to_page((u8 *)b->vaddr + (i << PAGE_SHIFT));
}

/* Zero copy: a reference on each of the object's pages. */
static int vgpu_ue_window_pin(struct vgpu_ue_window *w,
			      const struct vgpu_backing *b)
{
	u64 i;

	w->pages = kvcalloc(w->npages, sizeof(*w->pages), GFP_KERNEL_ACCOUNT);
	if (!w->pages)
		return -ENOMEM;
	for (i = 0; i < w->npages; i++) {
		struct page *p = vgpu_ue_backing_page(b, w->first + i);

		if (!p)
			return -EINVAL;
		get_page(p);
		w->pages[i] = p;
	}
	return 0;
}

/**
 * vgpu_ue_window_new() - a window on pages of a host-memory object
 * @b: the object's backing (host memory)
 * @gen: generation of the context (and of the process that may map it)
 * @first: index of the window's first page in the object
 * @npages: pages of the window
 * @va: GPU address of the mapping
 * @perms: VGPU_PTE_* of the mapping
 *
 * A guest's granted pages (@b has no kernel mapping of the whole object)
 * get the object's shadow for generation @gen, shared by its windows.
 * The window counts as linked into a context until
 * vgpu_ue_window_unlink(); every page starts mapped.
 *
 * Return: the window (one reference); ERR_PTR(-EINVAL) for a range
 * outside the object, -ENOMEM, or -EBUSY (a process of @gen still maps
 * the shadow of another object of another size at @b).
 */
struct vgpu_ue_window *vgpu_ue_window_new(const struct vgpu_backing *b,
					  u64 gen, u64 first, u64 npages,
					  u64 va, u32 perms)
{
	struct vgpu_ue_window *w;
	bool refill;
	int ret = -ENOMEM;

	if (!npages || first > b->npages || npages > b->npages - first)
		return ERR_PTR(-EINVAL);
	w = kzalloc(sizeof(*w), VGPU_GFP_CLIENT);
	if (!w)
		return ERR_PTR(-ENOMEM);
	kref_init(&w->ref);
	w->gen = gen;
	w->va = va;
	w->first = first;
	w->npages = npages;
	w->left = npages;
	w->perms = perms;
	w->mapped = bitmap_zalloc(npages, VGPU_GFP_CLIENT);
	if (!w->mapped)
		goto err;
	bitmap_fill(w->mapped, npages);
	if (b->vaddr) {
		ret = vgpu_ue_window_pin(w, b);
	} else if (!b->pages) {
		ret = -EINVAL;
	} else {
		struct vgpu_ue_shadow *sh = vgpu_ue_shadow_get(b, gen, &refill);

		if (IS_ERR(sh)) {
			ret = PTR_ERR(sh);
			goto err;
		}
		w->shadow = sh;
		ret = vgpu_ue_shadow_fill(sh, first, npages, refill);
	}
	if (!ret)
		return w;
	if (w->shadow)
		vgpu_ue_shadow_unlink(w->shadow);
err:
	vgpu_ue_window_put(w);
	return ERR_PTR(ret);
}

/* The page the process maps at index @i of the window. */
struct page *vgpu_ue_window_page(const struct vgpu_ue_window *w, u64 i)
{
	if (w->shadow)
		return w->shadow->pg[w->first + i].page;
	return w->pages[i];
}

/**
 * vgpu_ue_window_unmap() - GPU range [@va, @va + @size) is unmapped
 * @w: a window of the context
 * @va: start, page aligned
 * @size: bytes, page aligned
 *
 * Each page of @w in the range stops being mapped (and synchronised);
 * a page already unmapped (its address mapped again since, by another
 * window) is not counted twice.
 *
 * Return: true when no page of @w is mapped any more.
 */
bool vgpu_ue_window_unmap(struct vgpu_ue_window *w, u64 va, u64 size)
{
	u64 end = w->va + (w->npages << PAGE_SHIFT);
	u64 lo = max(va, w->va), hi = min(va + size, end), i;

	if (size && va + size < va)
		hi = end;	/* to the top of the address space */
	for (i = lo; i < hi; i += PAGE_SIZE) {
		if (test_and_clear_bit((i - w->va) >> PAGE_SHIFT, w->mapped))
			w->left--;
	}
	return !w->left;
}

/* The window leaves its context: no more synchronisation through it. */
void vgpu_ue_window_unlink(struct vgpu_ue_window *w)
{
	if (w->shadow)
		vgpu_ue_shadow_unlink(w->shadow);
}

/* Copies in what changed at the source of @w's mapped pages. */
static void vgpu_ue_window_in(struct vgpu_ue_window *w, u64 pass)
{
	struct vgpu_ue_shadow *sh = w->shadow;
	u64 i, copied = 0, done = 0;

	mutex_lock(&sh->lock);
	for_each_set_bit(i, w->mapped, w->npages) {
		struct vgpu_ue_spage *sp = &sh->pg[w->first + i];
		struct page *src = sh->src[w->first + i];

		if (sp->in_stamp == pass)
			continue;
		sp->in_stamp = pass;
		if (vgpu_ue_page_hash(src) != sp->hash) {
			vgpu_ue_hook_in(src);
			/*
			 * The guest's CPU may write @src on: the hash kept
			 * is the copy's, so that a write after it is seen
			 * as the guest's next time, never as the engine's.
			 */
			vgpu_ue_spage_in(sh, w->first + i);
			copied++;
		}
		if (!(++done % VGPU_UE_SYNC_BATCH))
			cond_resched();
	}
	mutex_unlock(&sh->lock);
	atomic64_add(copied << PAGE_SHIFT, &vgpu_ue_shadow_in_bytes);
}

/* Copies out the pages of writable @w that the engine wrote. */
static void vgpu_ue_window_out(struct vgpu_ue_window *w, u64 pass)
{
	struct vgpu_ue_shadow *sh = w->shadow;
	u64 i, copied = 0, done = 0;

	mutex_lock(&sh->lock);
	for_each_set_bit(i, w->mapped, w->npages) {
		struct vgpu_ue_spage *sp = &sh->pg[w->first + i];
		u64 h;

		if (sp->out_stamp == pass)
			continue;
		sp->out_stamp = pass;
		h = vgpu_ue_page_hash(sp->page);
		if (h != sp->hash) {
			vgpu_ue_page_copy(sh->src[w->first + i], sp->page);
			sp->hash = h;
			copied++;
		}
		if (!(++done % VGPU_UE_SYNC_BATCH))
			cond_resched();
	}
	mutex_unlock(&sh->lock);
	atomic64_add(copied << PAGE_SHIFT, &vgpu_ue_shadow_out_bytes);
}

/**
 * vgpu_ue_sync_in() - before a RUN: shadows in from their sources
 * @windows: the context's windows (struct vgpu_ue_window.node), all
 *	linked; the caller serialises the context's map, unmap and run
 */
void vgpu_ue_sync_in(struct list_head *windows)
{
	u64 pass = atomic64_inc_return(&vgpu_ue_sync_pass);
	struct vgpu_ue_window *w;

	list_for_each_entry(w, windows, node)
		if (w->shadow)
			vgpu_ue_window_in(w, pass);
}

/**
 * vgpu_ue_sync_out() - after a RUN: what the engine wrote, out
 * @windows: as for vgpu_ue_sync_in()
 *
 * Only writable windows: the engine cannot have written through others.
 */
void vgpu_ue_sync_out(struct list_head *windows)
{
	u64 pass = atomic64_inc_return(&vgpu_ue_sync_pass);
	struct vgpu_ue_window *w;

	list_for_each_entry(w, windows, node)
		if (w->shadow && (w->perms & VGPU_PTE_W))
			vgpu_ue_window_out(w, pass);
}
