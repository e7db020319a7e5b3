// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_xen_grant.c - what the hp mode does with a guest's grants:
 * reading granted pages with grant copies (page directories, command and
 * bind pages: nothing is mapped), and persistent grants, a guest's
 * host-memory object mapped once for its life so that the engine works
 * on the guest's own pages.
 *
 * Persistent mappings are charged to the guest's persistent grant quota
 * (be->grant_quota pages: quota-grant-pages or the max_grant_pages
 * parameter).  The objects they back are released by the core when their
 * last reference goes, which vgpu_client_destroy() ensures before a
 * connection's teardown finishes: they never outlive their device.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "vgpu_core.h"
#include "vgpu_xen.h"

/* Grant operations per hypercall batch, between two yields. */
#define VGPU_XEN_MAP_BATCH	256

/**
 * struct vgpu_xen_granted - a guest's pages mapped for an object's life
 * @be: the device, whose quota they use
 * @n: number of pages
 * @pages: where each is mapped (gnttab_alloc_pages())
 * @handles: grant handles, for the unmap
 */
struct vgpu_xen_granted {
	struct vgpu_xen_be *be;
	u32 n;
	struct page **pages;
	grant_handle_t *handles;
};

/**
 * vgpu_xen_copy_in() - read from a guest page without mapping it
 * @priv: the backend device
 * @gref: grant of the guest page
 * @dst: kernel memory (kmalloc or vmalloc)
 * @len: octets from the start of the page, at most a page
 *
 * Return: 0, or -EFAULT when Xen refuses the copy (a bad grant).
 */
int vgpu_xen_copy_in(void *priv, u32 gref, void *dst, u32 len)
{
	struct vgpu_xen_be *be = priv;
	struct gnttab_copy op[2] = {};
	u32 off = 0, n = 0, i;

	if (len > XEN_PAGE_SIZE)
		return -EINVAL;
	/* The destination may cross one page boundary of dom0's memory. */
	while (off < len) {
		u8 *d = (u8 *)dst + off;
		struct page *pg = is_vmalloc_addr(d) ? vmalloc_to_page(d) :
						       virt_to_page(d);
		u32 chunk = min_t(u32, len - off, PAGE_SIZE - offset_in_page(d));

		op[n].source.u.ref = gref;
		op[n].source.domid = be->domid;
		op[n].source.offset = off;
		op[n].dest.u.gmfn = xen_page_to_gfn(pg);
		op[n].dest.domid = DOMID_SELF;
		op[n].dest.offset = offset_in_page(d);
		op[n].len = chunk;
		op[n].flags = GNTCOPY_source_gref;
		off += chunk;
		n++;
	}
	gnttab_batch_copy(op, n);
	for (i = 0; i < n; i++)
		if (op[i].status != GNTST_okay)
			return -EFAULT;
	atomic64_add(len, &be->stats.bytes_copied);
	return 0;
}

/* Unmaps the first @n pages of @g, in batches. */
static void vgpu_xen_unmap(struct vgpu_xen_granted *g, u32 n)
{
	struct gnttab_unmap_grant_ref *ops;
	u32 i, j, k;

	ops = kcalloc(VGPU_XEN_MAP_BATCH, sizeof(*ops), GFP_KERNEL | __GFP_NOFAIL);
	for (i = 0; i < n; i += k) {
		k = min_t(u32, n - i, VGPU_XEN_MAP_BATCH);
		for (j = 0; j < k; j++)
			gnttab_set_unmap_op(&ops[j],
					    (unsigned long)page_address(g->pages[i + j]),
					    GNTMAP_host_map, g->handles[i + j]);
		WARN_ON(gnttab_unmap_refs(ops, NULL, g->pages + i, k));
		cond_resched();
	}
	kfree(ops);
	atomic64_add(n, &g->be->stats.grant_unmaps);
	atomic64_sub(n, &g->be->stats.persistent);
}

static void vgpu_xen_granted_free(struct vgpu_xen_granted *g)
{
	if (g->pages)
		gnttab_free_pages(g->n, g->pages);
	kvfree(g->pages);
	kvfree(g->handles);
	kfree(g);
}

static void vgpu_xen_granted_release(void *priv)
{
	struct vgpu_xen_granted *g = priv;

	vgpu_xen_unmap(g, g->n);
	atomic_sub(g->n, &g->be->grant_pages);
	vgpu_xen_granted_free(g);
}

const struct vgpu_host_mem_ops vgpu_xen_granted_ops = {
	.release = vgpu_xen_granted_release,
};

/* Maps @g->n pages of @grefs; on error nothing stays mapped. */
static int vgpu_xen_map(struct vgpu_xen_granted *g, const u32 *grefs)
{
	struct gnttab_map_grant_ref *ops;
	u32 i, j, k;
	int ret = 0;

	ops = kcalloc(VGPU_XEN_MAP_BATCH, sizeof(*ops), VGPU_GFP_CLIENT);
	if (!ops)
		return -ENOMEM;
	for (i = 0; i < g->n && !ret; i += k) {
		k = min_t(u32, g->n - i, VGPU_XEN_MAP_BATCH);
		for (j = 0; j < k; j++)
			gnttab_set_map_op(&ops[j],
					  (unsigned long)page_address(g->pages[i + j]),
					  GNTMAP_host_map, grefs[i + j],
					  g->be->domid);
		ret = gnttab_map_refs(ops, NULL, g->pages + i, k);
		/* Keep the handles of what did map, to unmap it. */
		for (j = 0; j < k; j++) {
			if (ops[j].status == GNTST_okay) {
				g->handles[i + j] = ops[j].handle;
				atomic64_inc(&g->be->stats.grant_maps);
				atomic64_inc(&g->be->stats.persistent);
			} else {
				g->handles[i + j] = ~0;
				ret = -EFAULT;
			}
		}
		cond_resched();
	}
	if (ret) {
		/* Unmap exactly the pages that mapped. */
		for (i = 0; i < g->n; i++) {
			struct gnttab_unmap_grant_ref op;

			if (g->handles[i] == (grant_handle_t)~0)
				continue;
			gnttab_set_unmap_op(&op,
					    (unsigned long)page_address(g->pages[i]),
					    GNTMAP_host_map, g->handles[i]);
			WARN_ON(gnttab_unmap_refs(&op, NULL, &g->pages[i], 1));
			atomic64_inc(&g->be->stats.grant_unmaps);
			atomic64_dec(&g->be->stats.persistent);
		}
	}
	kfree(ops);
	return ret;
}

/**
 * vgpu_xen_map_pages() - map a guest's object for its life
 * @priv: the backend device
 * @grefs: grants of its pages, in order
 * @n: number of pages
 * @pages: out, the mapped pages
 * @mem: out, what vgpu_xen_granted_ops releases
 *
 * Return: 0; -EDQUOT past the persistent grant quota; -EFAULT when a
 * grant does not map; -ENOMEM.
 */
int vgpu_xen_map_pages(void *priv, const u32 *grefs, u32 n,
		       struct page ***pages, void **mem)
{
	struct vgpu_xen_be *be = priv;
	struct vgpu_xen_granted *g;
	int ret;

	/* @n alone first: a sum past INT_MAX would wrap below the quota. */
	if (n > READ_ONCE(be->grant_quota))
		return -EDQUOT;
	if (atomic_add_return(n, &be->grant_pages) > READ_ONCE(be->grant_quota)) {
		atomic_sub(n, &be->grant_pages);
		return -EDQUOT;
	}
	g = kzalloc(sizeof(*g), VGPU_GFP_CLIENT);
	if (!g)
		goto err_quota;
	g->be = be;
	g->n = n;
	g->pages = kvcalloc(n, sizeof(*g->pages), VGPU_GFP_CLIENT_KV);
	g->handles = kvcalloc(n, sizeof(*g->handles), VGPU_GFP_CLIENT_KV);
	if (!g->pages || !g->handles || gnttab_alloc_pages(n, g->pages)) {
		/* No page of the grant table's yet: nothing to give back. */
		kvfree(g->pages);
		g->pages = NULL;
		goto err_free;
	}
	ret = vgpu_xen_map(g, grefs);
	if (ret) {
		vgpu_xen_granted_free(g);
		atomic_sub(n, &be->grant_pages);
		return ret;
	}
	*pages = g->pages;
	*mem = g;
	return 0;

err_free:
	vgpu_xen_granted_free(g);
err_quota:
	atomic_sub(n, &be->grant_pages);
	return -ENOMEM;
}
