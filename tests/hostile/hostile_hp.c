// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * hostile_hp.c - phase H of the hostile frontend: the high-performance
 * mode's operations abused, on device 1, which dom0 attaches in hp mode
 * with a persistent grant quota of HP_QUOTA pages: page directories and
 * command buffers that lie about their length or name pages that are not
 * granted, a guest that tries to take back a page the backend has mapped,
 * the quota exhausted, and a ring of asynchronous submissions.
 */
#include <linux/mm.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "vgpu_hostile.h"

#define HP_QUOTA	24	/* quota-grant-pages, set by hostile.sh */

/* A second page: the data the directory (h->page) names. */
static struct page *data;

static int hp_grant(struct hostile *h, struct page *p, bool ro)
{
	return gnttab_grant_foreign_access(h->dev->otherend_id,
					   xen_page_to_gfn(p), ro);
}

static void hp_end(struct page *p, int gref)
{
	get_page(p);
	gnttab_end_foreign_access(gref, p);
}

/* A reference this guest never granted (0 and 1 are the toolstack's). */
#define HP_NO_GRANT	0x7fff0

/* h->page becomes a directory of @n references @gref, then none. */
static void hp_dir(struct hostile *h, u32 n, u32 gref)
{
	struct vgpuif_page_dir *d = page_address(h->page);
	u32 i;

	d->next_gref = 0;
	for (i = 0; i < VGPUIF_DIR_GREFS; i++)
		d->gref[i] = i < n ? gref : HP_NO_GRANT;
}

/* BO_CREATE_GRANTED of @pages pages over the directory @dir. */
static int hp_granted(struct hostile *h, u32 pages, u32 dir, u32 *handle)
{
	REQ(r, VGPUIF_OP_BO_CREATE_GRANTED);
	struct vgpuif_response rsp;
	int ret;

	r.u.bo_granted.size = (u64)pages * PAGE_SIZE;
	r.u.bo_granted.dir_gref = dir;
	ret = hostile_call(h, &r, &rsp);
	if (!ret && !rsp.status && handle)
		*handle = rsp.u.bo_granted.handle;
	return ret ?: rsp.status;
}

static void hp_expect(struct hostile *h, const char *name, int got, int want)
{
	char d[48];

	snprintf(d, sizeof(d), "answer %4d expected %4d", got, want);
	hostile_result(h, name, got == want, d);
}

/* Directories and command buffers that lie. */
static void hp_lies(struct hostile *h, u32 ctx)
{
	REQ(s, VGPUIF_OP_SUBMIT_ASYNC);
	REQ(b, VGPUIF_OP_VM_BIND_BATCH);
	int dir = hp_grant(h, h->page, true), dg = hp_grant(h, data, true);

	if (dir < 0 || dg < 0)
		return;
	hp_expect(h, "hp: object whose directory is no grant",
		  hp_granted(h, 4, HP_NO_GRANT, NULL), VGPUIF_EFAULT);
	hp_dir(h, 1, dg);	/* names 1 page, the object has 4 */
	hp_expect(h, "hp: directory shorter than the object",
		  hp_granted(h, 4, dir, NULL), VGPUIF_EFAULT);
	/* 64 commands are two pages; the directory names one. */
	s.u.submit_async.ctx_id = ctx;
	s.u.submit_async.num_cmds = 64;
	s.u.submit_async.dir_gref = dir;
	hostile_expect(h, "hp: command buffer longer than its pages", &s,
		       VGPUIF_EFAULT);
	memset(page_address(data), 0xff, PAGE_SIZE);
	s.u.submit_async.num_cmds = 32;
	hostile_expect(h, "hp: command pages of garbage", &s, VGPUIF_EINVAL);
	s.u.submit_async.num_cmds = DRM_VGPU_MAX_CMDS + 1;
	hostile_expect(h, "hp: more commands than a submission holds", &s,
		       VGPUIF_EINVAL);
	b.u.vm_bind_batch.ctx_id = ctx;
	b.u.vm_bind_batch.num_ops = 3;
	b.u.vm_bind_batch.dir_gref = HP_NO_GRANT;
	hostile_expect(h, "hp: bind operations in no grant", &b,
		       VGPUIF_EFAULT);
	b.u.vm_bind_batch.dir_gref = dir;
	hostile_expect(h, "hp: bind operations of garbage", &b, VGPUIF_EINVAL);
	hp_end(h->page, dir);
	hp_end(data, dg);
}

/*
 * A granted object: the engine writes the guest's page in place, and
 * the guest cannot end the grant while the backend maps it.
 */
static void hp_in_place(struct hostile *h, u32 ctx)
{
	REQ(b, VGPUIF_OP_VM_BIND_BATCH);
	REQ(s, VGPUIF_OP_SUBMIT_ASYNC);
	REQ(d, VGPUIF_OP_BO_DESTROY);
	int dir = hp_grant(h, h->page, true), dg = hp_grant(h, data, false);
	u32 handle = 0, *word = page_address(data);
	bool ended;

	if (dir < 0 || dg < 0)
		return;
	hp_dir(h, 1, dg);
	memset(word, 0, PAGE_SIZE);
	hp_expect(h, "hp: an object of the guest's page",
		  hp_granted(h, 1, dir, &handle), 0);
	hp_end(h->page, dir);
	b.u.vm_bind_batch.ctx_id = ctx;
	b.u.vm_bind_batch.num_ops = 1;
	b.u.vm_bind_batch.op = (struct vgpuif_bind_op){
		.op = DRM_VGPU_BIND_MAP, .handle = handle, .va = ALIAS_VA,
		.size = PAGE_SIZE,
		.flags = DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE };
	hostile_expect(h, "hp: map it", &b, 0);
	s.u.submit_async.ctx_id = ctx;
	s.u.submit_async.num_cmds = 1;
	s.u.submit_async.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_FILL, .dst = ALIAS_VA, .size = PAGE_SIZE,
		.value = 0x5eed5eed };
	hostile_expect(h, "hp: fill it asynchronously", &s, 0);
	hostile_result(h, "hp: the engine wrote the guest's page",
		       word[0] == 0x5eed5eed && word[1023] == 0x5eed5eed,
		       "in place");
	/* The backend maps the page: the grant cannot end (Xen refuses). */
	ended = gnttab_end_foreign_access_ref(dg);
	hostile_result(h, "hp: take back a page the backend maps", !ended,
		       ended ? "ended" : "refused");
	if (ended)
		return;
	d.u.bo_destroy.handle = handle;
	hostile_expect(h, "hp: destroy the object", &d, 0);
	b.u.vm_bind_batch.op = (struct vgpuif_bind_op){
		.op = DRM_VGPU_BIND_UNMAP, .va = ALIAS_VA, .size = PAGE_SIZE };
	hostile_expect(h, "hp: unmap it: the backend lets the page go", &b, 0);
	ended = gnttab_end_foreign_access_ref(dg);
	hostile_result(h, "hp: the page ends once unmapped", ended,
		       ended ? "ended" : "still mapped");
	if (ended)
		gnttab_free_grant_reference(dg);
	else
		hp_end(data, dg);
}

/* Objects of 8 pages until the quota of HP_QUOTA pages refuses. */
static void hp_quota(struct hostile *h)
{
	int dir = hp_grant(h, h->page, true), dg = hp_grant(h, data, false);
	u32 handles[HP_QUOTA / 8 + 1] = {}, i;
	int ret = 0;

	if (dir < 0 || dg < 0)
		return;
	hp_dir(h, 8, dg);	/* one page, eight times */
	for (i = 0; i < ARRAY_SIZE(handles) && !ret; i++)
		ret = hp_granted(h, 8, dir, &handles[i]);
	hp_expect(h, "hp: objects past the persistent grant quota", ret,
		  VGPUIF_EDQUOT);
	hostile_result(h, "hp: the quota admits what it says", i == HP_QUOTA / 8 + 1,
		       "objects");
	for (i = 0; i < ARRAY_SIZE(handles); i++) {
		REQ(d, VGPUIF_OP_BO_DESTROY);

		if (!handles[i])
			continue;
		d.u.bo_destroy.handle = handles[i];
		hostile_send(h, &d);
	}
	hp_end(h->page, dir);
	hp_end(data, dg);
}

/* A full ring of asynchronous submissions: every one is answered. */
static void hp_async_ring(struct hostile *h, u32 ctx)
{
	REQ(s, VGPUIF_OP_SUBMIT_ASYNC);
	struct vgpuif_response last;
	int ret;

	s.u.submit_async.ctx_id = ctx;
	s.u.submit_async.num_cmds = 1;
	s.u.submit_async.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_FILL, .dst = DATA_VA, .size = PAGE_SIZE };
	ret = hostile_send_n(h, &s, RING_SIZE(&h->ring), &last);
	hp_expect(h, "hp: a ring of asynchronous submissions", ret ?: last.status,
		  0);
}

/**
 * hostile_hp() - phase H, on device 1 in hp mode
 * @h: device 1, or NULL when dom0 did not attach it
 * @total: where the cases are counted
 */
void hostile_hp(struct hostile *h, struct hostile *total)
{
	static const struct hostile_keys hp = { .mode = VGPUIF_MODE_HP };
	static const u64 nop[] = { I(0x02, 0, 0, 0, 0) };	/* exit */
	u32 ctx;

	if (!h || hostile_open(h, &hp, NULL)) {
		hostile_result(total, "hp: connect in hp mode", false, "refused");
		return;
	}
	data = alloc_page(GFP_KERNEL | __GFP_ZERO);
	ctx = data ? hostile_code_ctx(h, nop, ARRAY_SIZE(nop)) : 0;
	if (ctx) {
		hp_lies(h, ctx);
		hp_in_place(h, ctx);
		hp_quota(h);
		hp_async_ring(h, ctx);
	}
	pr_info("HOSTILE marker hp-done\n");
	total->tried += h->tried;
	total->documented += h->documented;
	if (!ctx)
		hostile_result(total, "hp: a context", false, "none");
	hostile_close(h);
	if (data)
		put_page(data);
}
