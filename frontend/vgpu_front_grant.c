// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_grant.c - guest pages granted to the backend, listed in page
 * directories (common/vgpuif.h): hp mode's persistent objects and the
 * commands and bind operations of a batch.
 *
 * A page directory is built here rather than with xen-front-pgdir-shbuf:
 * that helper ends its grants without the page (the backend may still
 * map a page it hands back to the allocator), and GPUvm ends every grant
 * with gnttab_end_foreign_access() and a page reference, so that a page
 * the backend still maps is freed only once it has unmapped it.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "vgpu_front.h"

static void vgpu_front_end_refs(grant_ref_t *refs, struct page **pages,
				u32 n, bool owned)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (!refs || !refs[i]) {	/* never granted */
			if (owned && pages[i])
				__free_page(pages[i]);
			continue;
		}
		/* The grant takes a page reference until the backend is done. */
		if (!owned)
			get_page(pages[i]);
		gnttab_end_foreign_access(refs[i], pages[i]);
	}
}

/**
 * vgpu_front_end_dir() - end the grants of a directory's pages
 * @g: the grants; their data pages stay granted
 *
 * Called once the backend has answered the request that named them.
 */
void vgpu_front_end_dir(struct vgpu_front_grants *g)
{
	if (g->dir)
		vgpu_front_end_refs(g->dir_grefs, g->dir, g->ndir, true);
	kfree(g->dir);
	kfree(g->dir_grefs);
	g->dir = NULL;
	g->dir_grefs = NULL;
	g->ndir = 0;
}

/**
 * vgpu_front_ungrant() - end every grant of @g
 * @g: the grants; pages allocated here go with them
 */
void vgpu_front_ungrant(struct vgpu_front_grants *g)
{
	vgpu_front_end_dir(g);
	if (g->pages)
		vgpu_front_end_refs(g->grefs, g->pages, g->n, g->owned);
	kvfree(g->grefs);
	if (g->owned)
		kvfree(g->pages);
	memset(g, 0, sizeof(*g));
}

/* Grants each directory page and fills it with @g->grefs. */
static int vgpu_front_grant_dir(struct vgpu_front *f,
				struct vgpu_front_grants *g)
{
	u32 i, k;
	int ref;

	g->ndir = VGPUIF_DIR_PAGES(g->n);
	g->dir = kcalloc(g->ndir, sizeof(*g->dir), GFP_KERNEL);
	g->dir_grefs = kcalloc(g->ndir, sizeof(*g->dir_grefs), GFP_KERNEL);
	if (!g->dir || !g->dir_grefs)
		return -ENOMEM;
	for (i = 0; i < g->ndir; i++) {
		g->dir[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!g->dir[i])
			return -ENOMEM;
		ref = gnttab_grant_foreign_access(f->backend_id,
						  xen_page_to_gfn(g->dir[i]), 1);
		if (ref < 0)
			return ref;
		g->dir_grefs[i] = ref;
	}
	for (i = 0; i < g->ndir; i++) {
		struct vgpuif_page_dir *d = page_address(g->dir[i]);

		k = min_t(u32, g->n - i * VGPUIF_DIR_GREFS, VGPUIF_DIR_GREFS);
		memcpy(d->gref, g->grefs + i * VGPUIF_DIR_GREFS, k * sizeof(u32));
		d->next_gref = i + 1 < g->ndir ? g->dir_grefs[i + 1] : 0;
	}
	atomic64_add(g->ndir, &f->stats.grants);
	/* The backend reads each directory page whole, by grant copy. */
	atomic64_add((u64)g->ndir * PAGE_SIZE, &f->stats.bytes);
	return 0;
}

/**
 * vgpu_front_grant_pages() - grant @n pages and their directory
 * @f: the vGPU
 * @pages: the pages, which the caller keeps alive until
 *	vgpu_front_ungrant() (the grants then hold references of their own)
 * @n: how many, at least one
 * @readonly: the backend may only read them
 * @g: out, the grants; on error nothing is left granted
 *
 * Return: 0, -ENOMEM, or -ENOSPC when the grant table is full.
 */
int vgpu_front_grant_pages(struct vgpu_front *f, struct page **pages, u32 n,
			   bool readonly, struct vgpu_front_grants *g)
{
	u32 i;
	int ref, ret;

	memset(g, 0, sizeof(*g));
	g->n = n;
	g->pages = pages;
	g->grefs = kvcalloc(n, sizeof(*g->grefs), GFP_KERNEL);
	if (!g->grefs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ref = gnttab_grant_foreign_access(f->backend_id,
						  xen_page_to_gfn(pages[i]),
						  readonly);
		if (ref < 0) {
			ret = ref;
			goto err;
		}
		g->grefs[i] = ref;
	}
	atomic64_add(n, &f->stats.grants);
	ret = vgpu_front_grant_dir(f, g);
	if (!ret)
		return 0;
err:
	vgpu_front_ungrant(g);
	return ret;
}

/**
 * vgpu_front_grant_data() - copy @len octets into new pages and grant
 *	them read-only, with their directory (commands, bind operations)
 * @f: the vGPU
 * @data: what to send
 * @len: its length, not zero
 * @g: out, the grants
 *
 * Return: 0 or a negative errno; on error nothing is left granted.
 */
int vgpu_front_grant_data(struct vgpu_front *f, const void *data, size_t len,
			  struct vgpu_front_grants *g)
{
	u32 n = DIV_ROUND_UP(len, PAGE_SIZE), i;
	struct page **pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	int ret;

	if (!pages)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		size_t off = (size_t)i * PAGE_SIZE;

		pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!pages[i])
			goto err;
		memcpy(page_address(pages[i]), (const u8 *)data + off,
		       min_t(size_t, len - off, PAGE_SIZE));
	}
	ret = vgpu_front_grant_pages(f, pages, n, true, g);
	if (ret) {
		/* vgpu_front_ungrant() left the pages: they were not owned. */
		for (i = 0; i < n; i++)
			__free_page(pages[i]);
		kvfree(pages);
		return ret;
	}
	g->owned = true;
	atomic64_add(len, &f->stats.bytes);	/* copied by the backend */
	return 0;
err:
	while (i--)
		__free_page(pages[i]);
	kvfree(pages);
	return -ENOMEM;
}
