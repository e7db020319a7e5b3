// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * hostile_cases.c - the phases of the hostile frontend (see
 * vgpu_hostile.c); each case prints what it got and what the protocol
 * documents.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include "vgpu_hostile.h"

/* The objects phase A works on, made by hostile_setup(). */
static u32 ctx, bo, hbo;

static void hostile_setup(struct hostile *h)
{
	ctx = hostile_ctx(h);
	bo = hostile_bo(h, DRM_VGPU_DOMAIN_DEVICE, 65536);
	hbo = hostile_bo(h, DRM_VGPU_DOMAIN_HOST, 65536);
	pr_info("HOSTILE setup: context %u, device object %u, host object %u\n",
		ctx, bo, hbo);
}

static void hostile_bad_headers(struct hostile *h)
{
	REQ(r, 0);

	hostile_expect(h, "opcode 0", &r, VGPUIF_EOPNOTSUPP);
	r.operation = 200;
	hostile_expect(h, "opcode 200", &r, VGPUIF_EOPNOTSUPP);
	r.operation = VGPUIF_OP_GET_INFO;
	r.reserved[2] = 0x5a;
	hostile_expect(h, "reserved header octet", &r, VGPUIF_EINVAL);
	r.reserved[2] = 0;
	r.u.raw[100] = 1;
	hostile_expect(h, "payload octet get-info does not use", &r,
		       VGPUIF_EINVAL);
	memset(&r, 0, sizeof(r));
	r.operation = VGPUIF_OP_CTX_CREATE;
	r.u.ctx_create.pad = 7;
	hostile_expect(h, "ctx-create padding", &r, VGPUIF_EINVAL);
}

static void hostile_bad_handles(struct hostile *h)
{
	REQ(r, VGPUIF_OP_CTX_DESTROY);
	REQ(b, VGPUIF_OP_BO_DESTROY);
	REQ(c, VGPUIF_OP_BO_CREATE);

	r.u.ctx_destroy.ctx_id = 0x7fffffff;
	hostile_expect(h, "context id never created", &r, VGPUIF_ENOENT);
	r.u.ctx_destroy.ctx_id = ctx + 1;	/* the honest client has one */
	hostile_expect(h, "another client's context id", &r, VGPUIF_ENOENT);
	b.u.bo_destroy.handle = 0x7ffffffe;
	hostile_expect(h, "handle never created", &b, VGPUIF_ENOENT);
	b.u.bo_destroy.handle = 3;	/* the honest client's numbering */
	hostile_expect(h, "another client's handle", &b, VGPUIF_ENOENT);
	c.u.bo_create.size = ~0ULL;
	c.u.bo_create.domain = DRM_VGPU_DOMAIN_DEVICE;
	hostile_expect(h, "object of 2^64-1 bytes", &c, VGPUIF_EDQUOT);
	c.u.bo_create.size = ~0ULL - 100;
	c.u.bo_create.domain = DRM_VGPU_DOMAIN_HOST;
	hostile_expect(h, "host object that wraps when aligned", &c,
		       VGPUIF_EDQUOT);
}

static void hostile_bad_binds(struct hostile *h)
{
	REQ(r, VGPUIF_OP_VM_BIND);

	r.u.vm_bind.ctx_id = ctx;
	r.u.vm_bind.op.op = DRM_VGPU_BIND_MAP;
	r.u.vm_bind.op.flags = DRM_VGPU_BIND_READ;
	r.u.vm_bind.op.handle = bo;
	r.u.vm_bind.op.va = 0x100000;
	r.u.vm_bind.op.size = 0x1000;
	hostile_expect(h, "good map (control)", &r, VGPUIF_OK);
	hostile_expect(h, "map over a mapping", &r, VGPUIF_EEXIST);
	r.u.vm_bind.op.va = 0x200000;
	r.u.vm_bind.op.size = 0x2000;
	hostile_expect(h, "VM_BIND of two pages (naive: one)", &r,
		       VGPUIF_EINVAL);
	r.u.vm_bind.op.size = 0x1000;
	r.u.vm_bind.op.bo_offset = 0xfffffffffffff000ULL;
	hostile_expect(h, "object offset + size wraps 64 bits", &r,
		       VGPUIF_EINVAL);
	r.u.vm_bind.op.bo_offset = 0x10000;
	hostile_expect(h, "range beyond the object", &r, VGPUIF_EINVAL);
	r.u.vm_bind.op.bo_offset = 0;
	r.u.vm_bind.op.va = (1ULL << 40) - 0x1000;
	r.u.vm_bind.op.size = 0x2000;
	hostile_expect(h, "map past the address space", &r, VGPUIF_EINVAL);
	r.u.vm_bind.op.va = 0xfffffffffffff000ULL;
	hostile_expect(h, "va + size wraps 64 bits", &r, VGPUIF_EINVAL);
	r.u.vm_bind.op.va = 0;
	r.u.vm_bind.op.size = 0x1000;
	hostile_expect(h, "map below va_start", &r, VGPUIF_EINVAL);
	r.u.vm_bind.op.va = 0x300000;
	r.u.vm_bind.op.pad = 1;
	hostile_expect(h, "bind-op padding", &r, VGPUIF_EINVAL);
	r.u.vm_bind.op.pad = 0;
	r.u.vm_bind.op.handle = 3;
	hostile_expect(h, "map another client's handle", &r, VGPUIF_ENOENT);
}

static void hostile_bad_submits(struct hostile *h)
{
	REQ(r, VGPUIF_OP_SUBMIT);

	r.u.submit.ctx_id = ctx;
	r.u.submit.cmd.op = DRM_VGPU_CMD_COPY;
	r.u.submit.cmd.src = ~0ULL - 10;
	r.u.submit.cmd.dst = 0x100000;
	r.u.submit.cmd.size = 100;
	hostile_expect(h, "copy whose source wraps", &r, VGPUIF_EINVAL);
	r.u.submit.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_LAUNCH, .src = 0x100000,
		.grid = { 1, 1, 1 }, .block = { 2048, 1, 1 } };
	hostile_expect(h, "launch of 2048 threads a block", &r, VGPUIF_EINVAL);
	r.u.submit.ctx_id = 0x12345;
	r.u.submit.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_FILL, .dst = 0x100000, .size = 4 };
	hostile_expect(h, "submit on another's context", &r, VGPUIF_ENOENT);
}

static void hostile_bad_grants(struct hostile *h)
{
	REQ(r, VGPUIF_OP_BO_WRITE);
	int gref;

	r.u.bo_io.handle = hbo;
	r.u.bo_io.gref = 0xfffffff0;
	r.u.bo_io.length = 4096;
	hostile_expect(h, "grant reference that does not exist", &r,
		       VGPUIF_EFAULT);
	gref = gnttab_grant_foreign_access(h->dev->otherend_id + 7,
					   xen_page_to_gfn(h->page), 0);
	if (gref >= 0) {
		r.u.bo_io.gref = gref;
		hostile_expect(h, "grant made to another domain", &r,
			       VGPUIF_EFAULT);
		hostile_end_grant(h, gref);
	}
	gref = hostile_grant(h, false);
	if (gref >= 0) {
		/* Ended before the request: the backend must not map it. */
		if (gnttab_end_foreign_access_ref(gref))
			gnttab_free_grant_reference(gref);
		r.u.bo_io.gref = gref;
		hostile_expect(h, "grant already ended", &r, VGPUIF_EFAULT);
	}
	gref = hostile_grant(h, true);
	if (gref >= 0) {
		r.operation = VGPUIF_OP_BO_READ;
		r.u.bo_io.gref = gref;
		hostile_expect(h, "read into a read-only grant", &r,
			       VGPUIF_EFAULT);
		hostile_end_grant(h, gref);
		r.operation = VGPUIF_OP_BO_WRITE;
	}
	r.u.bo_io.gref = 8;
	r.u.bo_io.offset = 0x10000;
	hostile_expect(h, "copy beyond the object", &r, VGPUIF_EINVAL);
	r.u.bo_io.offset = 0;
	r.u.bo_io.length = 4097;
	hostile_expect(h, "copy of more than a page", &r, VGPUIF_EINVAL);
	r.u.bo_io.length = 4096;
	r.u.bo_io.handle = bo;
	hostile_expect(h, "copy into device memory", &r, VGPUIF_EINVAL);
}

static bool hostile_page_is_zero(struct hostile *h)
{
	return !memchr_inv(page_address(h->page), 0, PAGE_SIZE);
}

/* New memory never shows what another owner (or this one) left there. */
static void hostile_zeroed(struct hostile *h)
{
	REQ(s, VGPUIF_OP_SUBMIT);
	REQ(d, VGPUIF_OP_BO_DESTROY);
	REQ(u, VGPUIF_OP_VM_BIND);
	u32 c = hostile_ctx(h), dev, host;
	bool ok;

	memset(page_address(h->page), 0xa5, PAGE_SIZE);
	host = hostile_bo(h, DRM_VGPU_DOMAIN_HOST, PAGE_SIZE);
	ok = host && !hostile_io(h, host, false) && hostile_page_is_zero(h);
	hostile_result(h, "new host object reads as zeros", ok, "");
	/* Dirty device memory, free it, and read what a new object holds. */
	dev = hostile_bo(h, DRM_VGPU_DOMAIN_DEVICE, 65536);
	ok = c && dev && !hostile_bind(h, c, dev, 0, DATA_VA,
				       DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE);
	s.u.submit.ctx_id = c;
	s.u.submit.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_FILL, .dst = DATA_VA, .size = 4096,
		.value = 0xdeadbeef };
	ok = ok && !hostile_send(h, &s);
	/* Unmapped and destroyed: its memory goes back to the engine. */
	u.u.vm_bind.ctx_id = c;
	u.u.vm_bind.op.op = DRM_VGPU_BIND_UNMAP;
	u.u.vm_bind.op.va = DATA_VA;
	u.u.vm_bind.op.size = PAGE_SIZE;
	ok = ok && !hostile_send(h, &u);
	d.u.bo_destroy.handle = dev;
	ok = ok && !hostile_send(h, &d);
	dev = hostile_bo(h, DRM_VGPU_DOMAIN_DEVICE, 65536);
	ok = ok && dev &&
	     !hostile_bind(h, c, dev, 0, DATA_VA + 0x100000, DRM_VGPU_BIND_READ) &&
	     !hostile_bind(h, c, host, 0, DATA_VA + 0x200000,
			   DRM_VGPU_BIND_WRITE);
	s.u.submit.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_COPY, .dst = DATA_VA + 0x200000,
		.src = DATA_VA + 0x100000, .size = 4096 };
	memset(page_address(h->page), 0xa5, PAGE_SIZE);
	ok = ok && !hostile_send(h, &s) && !hostile_io(h, host, false) &&
	     hostile_page_is_zero(h);
	hostile_result(h, "new device memory reads as zeros", ok, "");
}

/* Rewrites the ring's request slots while the backend reads them. */
static int hostile_scribbler(void *arg)
{
	struct hostile *h = arg;

	while (!kthread_should_stop()) {
		unsigned int i = get_random_u32() % RING_SIZE(&h->ring);
		u8 *slot = (u8 *)RING_GET_REQUEST(&h->ring, i);

		slot[get_random_u32() % sizeof(struct vgpuif_request)] =
			get_random_u32();
		if (!(i & 63))
			cond_resched();
	}
	return 0;
}

/*
 * Requests rewritten while the backend reads them: the backend copies
 * each request once, so whatever it read, it answers every request once,
 * stays connected and serves the next clean request.  (Responses share
 * the slots, so what the scribbler leaves of them is not checked.)
 */
static void hostile_rewrites(struct hostile *h)
{
	REQ(r, VGPUIF_OP_GET_INFO);
	struct vgpuif_response rsp;
	struct task_struct *t;
	unsigned int i, n = 2000;
	int ret = 0, after;
	char d[64];

	t = kthread_run(hostile_scribbler, h, "scribbler");
	if (IS_ERR(t))
		return;
	for (i = 0; i < n && !ret; i++)
		ret = hostile_call(h, &r, &rsp);
	kthread_stop(t);
	after = ret ?: hostile_send(h, &r);
	snprintf(d, sizeof(d), "%u of %u answered, then %d", ret ? i - 1 : i,
		 n, after);
	hostile_result(h, "requests rewritten while the backend reads",
		       !ret && !after &&
		       hostile_backend_state(h) == XenbusStateConnected, d);
}

static void hostile_storm(struct hostile *h)
{
	REQ(r, VGPUIF_OP_GET_INFO);
	ktime_t t0 = ktime_get();
	unsigned int i;
	char d[64];
	int got;

	for (i = 0; i < 100000; i++)
		notify_remote_via_irq(h->irq);
	got = hostile_send(h, &r);
	snprintf(d, sizeof(d), "100000 events in %lld ms, then %d",
		 ktime_ms_delta(ktime_get(), t0), got);
	hostile_result(h, "event-channel storm", got == 0, d);
}

static void hostile_full_ring(struct hostile *h)
{
	REQ(r, VGPUIF_OP_GET_INFO);
	struct vgpuif_response rsp;
	unsigned int burst = RING_SIZE(&h->ring), i;
	int ret = 0;
	char d[64];

	/* Exactly one ring ahead: a full ring, which must be served. */
	ret = hostile_send_n(h, &r, burst, &rsp);
	snprintf(d, sizeof(d), "%u requests: %d", burst, ret ?: rsp.status);
	hostile_result(h, "producer exactly a ring ahead (full ring)",
		       !ret && !rsp.status, d);
	for (i = 0; i < 4000 / burst && !ret; i++)
		ret = hostile_send_n(h, &r, burst, &rsp);
	snprintf(d, sizeof(d), "answer %d", ret ?: rsp.status);
	hostile_result(h, "flood of 4000 requests, ring kept full",
		       !ret && !rsp.status, d);
}

/* Phase A: crafted requests on one connection. */
void hostile_requests(struct hostile *h)
{
	REQ(r, VGPUIF_OP_SUBMIT);
	REQ(s, VGPUIF_OP_CTX_STATUS);

	hostile_setup(h);
	hostile_bad_headers(h);
	hostile_bad_handles(h);
	hostile_bad_binds(h);
	hostile_bad_submits(h);
	hostile_bad_grants(h);
	hostile_zeroed(h);
	/* A GPU fault hits only this guest's own context. */
	r.u.submit.ctx_id = ctx;
	r.u.submit.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_FILL, .dst = 0x700000, .size = 4 };
	hostile_expect(h, "fill of an unmapped address (GPU fault)", &r,
		       VGPUIF_EFAULT);
	hostile_expect(h, "submit on the faulted context", &r, VGPUIF_EIO);
	s.u.ctx_status.ctx_id = ctx;
	hostile_expect(h, "status of the faulted context", &s, VGPUIF_OK);
	hostile_full_ring(h);
	hostile_storm(h);
	hostile_rewrites(h);
}

struct hostile_kernel {
	const char *name;
	u64 code[4];
	u32 shared;
	u32 kind;
};

static const struct hostile_kernel hostile_kernels[] = {
	{ "kernel: load from an unmapped address",
	  { I(0x11, 1, 0, 0, 0x700000), I(0x61, 2, 1, 0, 0), I(0x02, 0, 0, 0, 0) },
	  0, DRM_VGPU_FAULT_UNMAPPED },
	{ "kernel: store to its read-only code",
	  { I(0x11, 1, 0, 0, CODE_VA), I(0x65, 0, 1, 2, 0), I(0x02, 0, 0, 0, 0) },
	  0, DRM_VGPU_FAULT_PERM },
	{ "kernel: misaligned 64-bit load",
	  { I(0x14, 1, 0, 0, 0), I(0x63, 2, 1, 0, 4), I(0x02, 0, 0, 0, 0) },
	  0, DRM_VGPU_FAULT_MISALIGNED },
	{ "kernel: shared memory out of bounds",
	  { I(0x68, 2, 0, 0, 64), I(0x02, 0, 0, 0, 0) },
	  64, DRM_VGPU_FAULT_SHARED },
	{ "kernel: undefined opcode",
	  { 0xff, I(0x02, 0, 0, 0, 0) }, 0, DRM_VGPU_FAULT_ILLEGAL },
	{ "kernel: jump into data (no EXEC)",
	  { I(0x04, 0, 0, 0, (DATA_VA - CODE_VA) / 8) }, 0, DRM_VGPU_FAULT_PERM },
};

/* Phase G: GPU kernels of every fault class; copy and fill over aliases. */
void hostile_gpu(struct hostile *h)
{
	struct vgpuif_request r;
	struct vgpuif_response rsp;
	unsigned int i, p;
	u32 c, dev;
	ktime_t t0;
	char d[64];
	int got;

	for (i = 0; i < ARRAY_SIZE(hostile_kernels); i++) {
		REQ(s, VGPUIF_OP_CTX_STATUS);
		const struct hostile_kernel *k = &hostile_kernels[i];

		c = hostile_code_ctx(h, k->code, ARRAY_SIZE(k->code));
		hostile_launch_req(&r, c, 2, 32, k->shared);
		got = c ? hostile_send(h, &r) : -1;
		s.u.ctx_status.ctx_id = c;
		if (hostile_call(h, &s, &rsp))
			rsp.u.ctx_status.fault_kind = 0;
		snprintf(d, sizeof(d), "answer %d, fault kind %u (want %u)", got,
			 rsp.u.ctx_status.fault_kind, k->kind);
		hostile_result(h, k->name, got == VGPUIF_EFAULT &&
			       rsp.u.ctx_status.fault_kind == k->kind, d);
	}
	/* One 64 KiB object mapped 64 times: 4 MiB of aliases. */
	c = hostile_ctx(h);
	dev = hostile_bo(h, DRM_VGPU_DOMAIN_DEVICE, 65536);
	for (got = 0, p = 0; p < 1024 && !got; p++)
		got = hostile_bind(h, c, dev, (p % 16) * PAGE_SIZE,
				   ALIAS_VA + p * PAGE_SIZE,
				   DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE);
	memset(&r, 0, sizeof(r));
	r.operation = VGPUIF_OP_SUBMIT;
	r.u.submit.ctx_id = c;
	r.u.submit.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_FILL, .dst = ALIAS_VA, .size = 4 << 20,
		.value = 0x01020304 };
	t0 = ktime_get();
	got = got ?: hostile_send(h, &r);
	snprintf(d, sizeof(d), "answer %d in %lld ms", got,
		 ktime_ms_delta(ktime_get(), t0));
	hostile_result(h, "fill of 4 MiB over 64 aliases", got == 0, d);
	r.u.submit.cmd = (struct vgpuif_cmd){
		.op = DRM_VGPU_CMD_COPY, .dst = ALIAS_VA + 65536,
		.src = ALIAS_VA, .size = (4 << 20) - 65536 };
	t0 = ktime_get();
	got = hostile_send(h, &r);
	snprintf(d, sizeof(d), "answer %d in %lld ms", got,
		 ktime_ms_delta(ktime_get(), t0));
	hostile_result(h, "copy of 4 MiB over the aliases", got == 0, d);
}

/*
 * Phase E: close with a long job running.  The job: 65535 blocks that
 * each clear 48 KiB of shared memory and do nothing else.  dom0 attaches
 * a second device while the backend tears this connection down.
 */
void hostile_long_job_close(struct hostile *h)
{
	static const u64 code[] = { I(0x02, 0, 0, 0, 0) };
	struct vgpuif_request r;
	u32 c = hostile_code_ctx(h, code, ARRAY_SIZE(code));
	ktime_t t0;
	char d[64];
	int st;

	hostile_launch_req(&r, c, 65535, 1, 48 * 1024);
	hostile_post(h, &r);
	msleep(1000);
	t0 = ktime_get();
	xenbus_switch_state(h->dev, XenbusStateClosing);
	pr_info("HOSTILE marker long-job-closing\n");
	st = hostile_close(h);
	snprintf(d, sizeof(d), "backend ready again after %lld ms",
		 ktime_ms_delta(ktime_get(), t0));
	hostile_result(h, "close with a long job running",
		       st == XenbusStateInitWait, d);
	msleep(3000);	/* dom0 measures meanwhile */
	st = hostile_open(h, NULL, NULL);
	hostile_result(h, "reconnect after that close", !st, "");
}

/* One connect/disconnect cycle; every 10th closes with work queued. */
static int hostile_cycle(struct hostile *h, unsigned int n)
{
	REQ(w, VGPUIF_OP_BO_WRITE);
	REQ(s, VGPUIF_OP_SUBMIT);
	int grefs[4], i, ret;
	u32 c, hb, dv;

	c = hostile_ctx(h);
	hb = hostile_bo(h, DRM_VGPU_DOMAIN_HOST, 4 * PAGE_SIZE);
	dv = hostile_bo(h, DRM_VGPU_DOMAIN_DEVICE, 65536);
	if (!c || !hb || !dv ||
	    hostile_bind(h, c, dv, 0, DATA_VA, DRM_VGPU_BIND_WRITE))
		return -EIO;
	if (n % 10 == 0) {
		s.u.submit.ctx_id = c;
		s.u.submit.cmd = (struct vgpuif_cmd){
			.op = DRM_VGPU_CMD_FILL, .dst = DATA_VA, .size = 65536 };
		hostile_post(h, &s);
		for (i = 0; i < 4; i++) {
			grefs[i] = hostile_grant(h, true);
			w.u.bo_io.handle = hb;
			w.u.bo_io.gref = grefs[i];
			w.u.bo_io.offset = i * PAGE_SIZE;
			w.u.bo_io.length = PAGE_SIZE;
			hostile_post(h, &w);
		}
	}
	ret = hostile_close(h);
	if (n % 10 == 0)
		for (i = 0; i < 4; i++)
			if (grefs[i] >= 0)
				hostile_end_grant(h, grefs[i]);
	if (ret != XenbusStateInitWait)
		return -EIO;
	return hostile_open(h, NULL, NULL);
}

/* Phase D: HOSTILE_CYCLES connect/disconnect cycles. */
void hostile_cycles(struct hostile *h)
{
	ktime_t t0 = ktime_get();
	unsigned int n;
	int ret = 0;
	char d[64];

	pr_info("HOSTILE marker cycles-start\n");
	for (n = 0; n < HOSTILE_CYCLES && !ret; n++) {
		/* A line now and then: dom0 takes a silent guest for stuck. */
		if (n && n % 25 == 0)
			pr_info("HOSTILE progress: %u cycles\n", n);
		ret = hostile_cycle(h, n);
	}
	ret = ret ?: hostile_close(h) == XenbusStateInitWait ? 0 : -EIO;
	pr_info("HOSTILE marker cycles-done\n");
	snprintf(d, sizeof(d), "%u cycles in %lld ms, last %d", n,
		 ktime_ms_delta(ktime_get(), t0), ret);
	hostile_result(h, "250 connect/disconnect cycles",
		       !ret && n == HOSTILE_CYCLES, d);
	msleep(3000);	/* dom0 counts what is left meanwhile */
	ret = hostile_open(h, NULL, NULL);
	hostile_result(h, "connect after the cycles", !ret, "");
}

/* Phase B: hangs until the ban; the ban outlives the connection. */
void hostile_ban(struct hostile *h)
{
	REQ(c, VGPUIF_OP_CTX_CREATE);
	static const u64 endless[] = { I(0x04, 0, 0, 0, 0) };
	struct vgpuif_request r;
	unsigned int hangs = 0;
	char d[64];
	u32 ctx;
	int got;

	while (hangs < 5 && (ctx = hostile_code_ctx(h, endless, 1))) {
		hostile_launch_req(&r, ctx, 1, 1, 0);
		got = hostile_send(h, &r);
		if (got != VGPUIF_ETIMEDOUT)
			break;
		hangs++;
	}
	got = hostile_send(h, &c);
	snprintf(d, sizeof(d), "%u hangs, then context create %d", hangs, got);
	hostile_result(h, "hangs until the guest is banned",
		       hangs == 3 && got == VGPUIF_EIO, d);
	got = hostile_close(h) == XenbusStateInitWait ?
	      hostile_open(h, NULL, NULL) : -EIO;
	got = got ?: hostile_send(h, &c);
	snprintf(d, sizeof(d), "context create %d", got);
	hostile_result(h, "banned guest reconnects: still banned",
		       got == VGPUIF_EIO, d);
}

/* Waits for the backend to drop a violating connection, then closes. */
static int hostile_dropped(struct hostile *h)
{
	int st = hostile_wait_backend(h, STATE(XenbusStateClosing) |
				      STATE(XenbusStateClosed), 10000);

	if (st < 0)
		return st;
	return hostile_close(h);
}

/* Connects with bad keys; the backend must refuse and be ready again. */
static void hostile_bad_keys(struct hostile *h, const char *name,
			     const struct hostile_keys *k, int want)
{
	unsigned int ms = 0;
	int got = hostile_open(h, k, &ms), st = -1;
	char d[64];

	if (got != -EPROTO)
		xenbus_switch_state(h->dev, XenbusStateClosing);
	st = hostile_dropped(h);
	snprintf(d, sizeof(d), "refused %d after %u ms, backend then %d",
		 got, ms, st);
	hostile_result(h, name, got == -EPROTO && st == want, d);
}

/* Overflows the producer index by @ahead past the consumer, notifies. */
static int hostile_overflow(struct hostile *h, int ahead, unsigned int quiet_s)
{
	RING_IDX cons = h->ring.rsp_cons;

	h->ring.sring->req_prod = cons + ahead;
	if (quiet_s) {
		/* Without a notification the backend must not even look. */
		ssleep(quiet_s);
		if (hostile_backend_state(h) != XenbusStateConnected)
			return -EIO;
	}
	h->violated_at = ktime_get();
	notify_remote_via_irq(h->irq);
	return hostile_dropped(h);
}

/* Phase C: protocol violations, back-off, and the lock-out. */
void hostile_violations(struct hostile *h)
{
	const int ring = RING_SIZE(&h->ring);
	unsigned int ms = 0;
	s64 since;
	char d[80];
	int st;

	st = hostile_overflow(h, -1, 0);	/* violation 1 */
	hostile_result(h, "producer index going backwards",
		       st == XenbusStateInitWait, "disconnected");
	/*
	 * The back-off counts from the violation, which the backend sees no
	 * sooner than the notification: measured from there, not from the
	 * reconnection's start (the drop's detection and the new ring's
	 * setup took up to 60 ms of it on a loaded machine).  95: the
	 * backend's 100 ms in jiffies, less one tick at HZ >= 250 (the test
	 * bed's kernels have 250).
	 */
	st = hostile_open(h, NULL, &ms);
	since = ktime_ms_delta(ktime_get(), h->violated_at);
	snprintf(d, sizeof(d), "connected %d after %u ms, %lld ms after it",
		 st, ms, since);
	hostile_result(h, "back-off after violation 1 (100 ms)",
		       !st && since >= 95, d);
	st = hostile_overflow(h, ring + 1, 10);	/* 2 */
	hostile_result(h, "one past the ring, 10 s unnotified",
		       st == XenbusStateInitWait, "disconnected on notify");
	hostile_bad_keys(h, "ring-ref \"abc\"",
			 &(struct hostile_keys){ .ring_ref = "abc" },
			 XenbusStateInitWait);	/* 3 */
	hostile_bad_keys(h, "event-channel \"-1\"",
			 &(struct hostile_keys){ .event_channel = "-1" },
			 XenbusStateInitWait);	/* 4 */
	hostile_bad_keys(h, "protocol-version \"1x\"",
			 &(struct hostile_keys){ .protocol_version = "1x" },
			 XenbusStateInitWait);	/* 5 */
	hostile_bad_keys(h, "mode \"turbo\"",
			 &(struct hostile_keys){ .mode = "turbo" },
			 XenbusStateInitWait);	/* 6 */
	hostile_bad_keys(h, "mode \"hp\" not allowed (no violation)",
			 &(struct hostile_keys){ .mode = "hp" },
			 XenbusStateInitWait);
	hostile_bad_keys(h, "ring-ref of no grant",
			 &(struct hostile_keys){ .ring_ref = "4000000" },
			 XenbusStateInitWait);	/* 7 */
	st = hostile_open(h, NULL, &ms);
	snprintf(d, sizeof(d), "connected %d after %u ms", st, ms);
	hostile_result(h, "back-off after violation 7 (6.4 s)",
		       !st && ms >= 3200, d);
	st = hostile_overflow(h, ring + 1, 0);	/* 8: locked out */
	hostile_result(h, "violation 8 locks the device Closed",
		       st == XenbusStateClosed, "");
	st = hostile_open(h, NULL, &ms);
	snprintf(d, sizeof(d), "open %d, backend %d after %u ms", st,
		 hostile_backend_state(h), ms);
	hostile_result(h, "locked out: the backend stays Closed",
		       st == -EPROTO || st == -ETIMEDOUT, d);
	pr_info("HOSTILE marker locked-out\n");
}
