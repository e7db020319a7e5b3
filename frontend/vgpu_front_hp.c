// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_hp.c - what vgpu-front's high-performance mode adds to the
 * ring client: page directories of granted pages (common/vgpuif.h) and
 * asynchronous submissions, whose fences signal when the backend's
 * response arrives.
 *
 * A page directory is built here rather than with xen-front-pgdir-shbuf:
 * that helper ends its grants without the page (the backend may still
 * map a page it hands back to the allocator), and GPUvm ends every grant
 * with gnttab_end_foreign_access() and a page reference, so that a page
 * the backend still maps is freed only once it has unmapped it.
 */
#include <linux/dma-fence.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "vgpu_front.h"

/**
 * struct vgpu_front_async - a SUBMIT_ASYNC waiting for its response
 * @node: in f->async (f->ring_lock), then on a list being completed
 * @id: the request's id
 * @status: the response's status
 * @fence: signalled with the response (a reference)
 * @ctx: its context (a reference), marked dead by a GPU error
 * @cmds: the pages of its commands, ended with the response
 */
struct vgpu_front_async {
	struct list_head node;
	u64 id;
	int status;
	struct dma_fence *fence;
	struct vgpu_front_ctx *ctx;
	struct vgpu_front_grants cmds;
};

static void vgpu_front_ctx_release(struct kref *ref)
{
	kfree(container_of(ref, struct vgpu_front_ctx, ref));
}

void vgpu_front_ctx_put(struct vgpu_front_ctx *ctx)
{
	kref_put(&ctx->ref, vgpu_front_ctx_release);
}

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

/* Posts @req for @a; -EAGAIN while the ring is full. */
static int vgpu_front_post_async(struct vgpu_front *f, u64 gen,
				 struct vgpuif_request *req,
				 struct vgpu_front_async *a, int *notify)
{
	int ret = 0;

	spin_lock_irq(&f->ring_lock);
	if (f->gone || !f->connected || f->gen != gen) {
		ret = -ENODEV;
	} else if (RING_FULL(&f->ring)) {
		ret = -EAGAIN;
	} else {
		req->id = ++f->next_id;
		a->id = req->id;
		*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = *req;
		f->ring.req_prod_pvt++;
		list_add_tail(&a->node, &f->async);
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ring, *notify);
	}
	spin_unlock_irq(&f->ring_lock);
	return ret;
}

/**
 * vgpu_front_submit_async() - post a SUBMIT_ASYNC; @fence signals with
 *	its response
 * @f: the vGPU, in hp mode
 * @gen: generation of the caller's connection
 * @req: the request; its id is set here
 * @cmds: the pages of its commands (may be empty): once posted they are
 *	ended with the response; on error they stay the caller's
 * @fence: the submission's fence; a reference is taken once posted
 * @ctx: its context; a reference is taken once posted
 *
 * Waits (killable, at most timeout_ms) while the ring is full.
 *
 * Return: 0 once posted; -ENODEV, -EINTR, -ETIMEDOUT or -ENOMEM.
 */
int vgpu_front_submit_async(struct vgpu_front *f, u64 gen,
			    struct vgpuif_request *req,
			    struct vgpu_front_grants *cmds,
			    struct dma_fence *fence, struct vgpu_front_ctx *ctx)
{
	unsigned long timeout = msecs_to_jiffies(vgpu_front_timeout_ms);
	struct vgpu_front_async *a = kzalloc(sizeof(*a), GFP_KERNEL);
	int notify = 0, ret;
	long left;

	if (!a)
		return -ENOMEM;
	/* The response may come before this returns: hold them first. */
	a->fence = dma_fence_get(fence);
	kref_get(&ctx->ref);
	a->ctx = ctx;
	a->cmds = *cmds;
	for (;;) {
		ret = vgpu_front_post_async(f, gen, req, a, &notify);
		if (ret != -EAGAIN)
			break;
		left = vgpu_front_wait_room(f, VGPU_FRONT_KILLABLE, timeout);
		if (left <= 0) {
			ret = left ? -EINTR : -ETIMEDOUT;
			break;
		}
	}
	if (ret) {
		dma_fence_put(a->fence);
		vgpu_front_ctx_put(ctx);
		kfree(a);
		atomic64_inc(&f->stats.errors);
		return ret;
	}
	memset(cmds, 0, sizeof(*cmds));
	atomic64_inc(&f->stats.requests);
	if (notify) {
		notify_remote_via_irq(f->irq);
		atomic64_inc(&f->stats.notify_out);
	}
	return 0;
}

/**
 * vgpu_front_async_complete() - signal the fences of answered requests
 * @f: the vGPU
 * @done: struct vgpu_front_async entries taken off f->async
 *
 * May run in the event handler (without f->ring_lock).
 */
void vgpu_front_async_complete(struct vgpu_front *f, struct list_head *done)
{
	struct vgpu_front_async *a, *tmp;

	list_for_each_entry_safe(a, tmp, done, node) {
		list_del(&a->node);
		/* The status becomes an errno: only a real one may pass. */
		if (a->status > 0 || a->status < -MAX_ERRNO)
			a->status = -EIO;
		if (a->status) {
			dma_fence_set_error(a->fence, a->status);
			atomic64_inc(&f->stats.errors);
		}
		if (a->status == -EFAULT || a->status == -ETIMEDOUT ||
		    a->status == -ECANCELED)
			WRITE_ONCE(a->ctx->dead, true);
		dma_fence_signal(a->fence);
		dma_fence_put(a->fence);
		vgpu_front_ctx_put(a->ctx);
		vgpu_front_ungrant(&a->cmds);
		kfree(a);
	}
}

/**
 * vgpu_front_take_async() - the request @id waits for its response?
 * @f: the vGPU; caller holds f->ring_lock
 * @rsp: a response
 * @done: where the entry goes when it matches
 *
 * Return: true when @rsp answered a SUBMIT_ASYNC.
 */
bool vgpu_front_take_async(struct vgpu_front *f,
			   const struct vgpuif_response *rsp,
			   struct list_head *done)
{
	struct vgpu_front_async *a;

	lockdep_assert_held(&f->ring_lock);
	list_for_each_entry(a, &f->async, node) {
		if (a->id == rsp->id) {
			a->status = rsp->status;
			list_move_tail(&a->node, done);
			return true;
		}
	}
	return false;
}

/**
 * vgpu_front_async_fail() - the backend left: every submission still
 *	waiting ends with -ENODEV
 * @f: the vGPU
 */
void vgpu_front_async_fail(struct vgpu_front *f)
{
	struct vgpu_front_async *a;
	LIST_HEAD(done);

	spin_lock_irq(&f->ring_lock);
	list_splice_init(&f->async, &done);
	spin_unlock_irq(&f->ring_lock);
	list_for_each_entry(a, &done, node)
		a->status = -ENODEV;
	vgpu_front_async_complete(f, &done);
}
