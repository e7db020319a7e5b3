// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * fuzz_dispatch.c - libFuzzer target: sequences of ring requests from two
 * guests, through vgpuif_check_request() and the same decoding as
 * vgpu-back's ring server, into the real core (backend/vgpu_core.c,
 * vgpu_sched.c) and an engine with vgpu-sim's logic.
 *
 * Input: records of [selector][operation][n][n payload octets].  The
 * selector picks the guest (bit 0), whether a SUBMIT waits for its job
 * (bit 1), whether the header's reserved octets come from the input
 * (bit 2), reconnection of the guest (bit 3: its client is destroyed and
 * created anew) and the engine's step size (bits 4-7).  The payload goes
 * to the request's payload, the rest stays zero, so the fuzzer reaches
 * deep states.  A BO_WRITE record is followed by [m][m octets]: the
 * guest page's contents, repeated (code for launches, say).
 *
 * Guest 0 is in naive mode, guest 1 in hp mode.  hp's grant copies read
 * the guest page whatever the reference (so page directories, commands
 * and bind operations come from the input); a reference with its top
 * bit set is a bad grant, FUZZ_RING_GREF the guest's ring (a BO_READ
 * into it, or an object made of it, aborts).  Persistently mapped pages
 * are counted against
 * a quota of FUZZ_GRANT_PAGES.  Every SUBMIT_ASYNC must be answered once
 * the guest is torn down, with a status of the protocol.
 *
 * After each input every guest is torn down and nothing may be left: no
 * object, context, mapping, device or host memory, queued job, fence
 * reference or engine memory (AddressSanitizer and LeakSanitizer watch
 * the memory itself).  Any error of the core outside the protocol's set
 * aborts (the ring would have turned it into EIO).
 */
#include <linux/slab.h>

#include "../backend/vgpu_core.h"
#include "../backend/vgpuif_back.h"
#include "fuzz.h"

u64 fuzz_engine_mem_used;
u64 fuzz_units = 64;

#define FUZZ_GUESTS	2

static struct vgpu_client *guest[FUZZ_GUESTS];
static u8 guest_page[VGPUIF_PAGE_SIZE];

#define FUZZ_GRANT_PAGES	64
#define FUZZ_BAD_GREF		0x80000000u
/* The grant of each guest's ring: never to be written by the backend. */
#define FUZZ_RING_GREF		16u
#define FUZZ_ASYNC_MAX		64

static u32 fuzz_grant_pages;

/* SUBMIT_ASYNC requests waiting for their answer. */
static struct {
	struct dma_fence *fence;
	u64 id, seqno;
} fuzz_async[FUZZ_ASYNC_MAX];
static unsigned int fuzz_nasync;

static void fuzz_check_status(int ret)
{
	switch (ret) {
	case 0: case -ENOENT: case -EIO: case -ENOMEM: case -EFAULT:
	case -EEXIST: case -EINVAL: case -ENOSPC: case -EOPNOTSUPP:
	case -ETIMEDOUT: case -EDQUOT: case -ECANCELED:
		return;
	default:
		fprintf(stderr, "status %d is not in the protocol\n", ret);
		abort();
	}
}

/*
 * The second guest's engine: the same fake engine with a layout of its
 * own (16 KiB GPU pages, a window that is not the default), so that every
 * input also meets the core's layout checks.
 */
static struct vgpu_engine fuzz_engine_16k;

static void fuzz_drain(void)
{
	while (vgpu_sched_run_once(fuzz_engine.dev) ||
	       vgpu_sched_run_once(fuzz_engine_16k.dev))
		;
}

/* The "grant": a copy from or to the fuzzer's guest page. */
static int fuzz_bo_io(void *priv, struct vgpu_bo *bo,
		      const struct vgpuif_bo_io *io, bool write)
{
	if (!write && io->gref == FUZZ_RING_GREF) {
		fprintf(stderr, "BO_READ into the ring's own grant\n");
		abort();
	}
	if (write)
		memcpy((u8 *)bo->backing.vaddr + io->offset, guest_page,
		       io->length);
	else
		memcpy(guest_page, (u8 *)bo->backing.vaddr + io->offset,
		       io->length);
	return 0;
}

/* A waiting SUBMIT runs the scheduler dry; others leave the job queued. */
static int fuzz_wait(void *priv, struct dma_fence *fence)
{
	if (*(bool *)priv)
		fuzz_drain();
	return 0;
}

static int fuzz_copy_in(void *priv, u32 gref, void *dst, u32 len)
{
	if (gref & FUZZ_BAD_GREF || len > VGPUIF_PAGE_SIZE)
		return -EFAULT;
	memcpy(dst, guest_page, len);
	return 0;
}

struct fuzz_granted {
	u32 n;
	struct page **pages;
};

static void fuzz_granted_release(void *priv)
{
	struct fuzz_granted *g = priv;
	u32 i;

	for (i = 0; i < g->n; i++)
		free(g->pages[i]);
	fuzz_grant_pages -= g->n;
	free(g->pages);
	free(g);
}

static const struct vgpu_host_mem_ops fuzz_granted_ops = {
	.release = fuzz_granted_release,
};

static int fuzz_map_pages(void *priv, const u32 *grefs, u32 n,
			  struct page ***pages, void **mem)
{
	struct fuzz_granted *g;
	u32 i;

	if (n > FUZZ_GRANT_PAGES - fuzz_grant_pages)
		return -EDQUOT;
	for (i = 0; i < n; i++) {
		if (grefs[i] == FUZZ_RING_GREF) {
			fprintf(stderr, "an object made of the ring's grant\n");
			abort();
		}
		if (grefs[i] & FUZZ_BAD_GREF)
			return -EFAULT;
	}
	g = calloc(1, sizeof(*g));
	g->pages = calloc(n, sizeof(*g->pages));
	for (i = 0; i < n; i++) {
		g->pages[i] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		memset(g->pages[i], 0, PAGE_SIZE);
	}
	g->n = n;
	fuzz_grant_pages += n;
	*pages = g->pages;
	*mem = g;
	return 0;
}

static int fuzz_complete_later(void *priv, u64 id, struct dma_fence *fence,
			       u64 seqno)
{
	if (fuzz_nasync == FUZZ_ASYNC_MAX) {
		dma_fence_put(fence);
		return -ENOMEM;		/* as the ring server's allocation */
	}
	fuzz_async[fuzz_nasync].fence = fence;
	fuzz_async[fuzz_nasync].id = id;
	fuzz_async[fuzz_nasync].seqno = seqno;
	fuzz_nasync++;
	if (*(bool *)priv)
		fuzz_drain();
	return 0;
}

static bool fuzz_ring_gref(void *priv, u32 gref)
{
	return gref == FUZZ_RING_GREF;
}

static const struct vgpuif_back_ops fuzz_back_ops = {
	.bo_io = fuzz_bo_io,
	.wait = fuzz_wait,
	.copy_in = fuzz_copy_in,
	.map_pages = fuzz_map_pages,
	.granted_ops = &fuzz_granted_ops,
	.complete_later = fuzz_complete_later,
	.ring_gref = fuzz_ring_gref,
};

/* Once the guests are gone every asynchronous submission has its answer. */
static void fuzz_answer_async(void)
{
	struct vgpuif_response rsp;
	unsigned int i;

	for (i = 0; i < fuzz_nasync; i++) {
		if (!dma_fence_is_signaled(fuzz_async[i].fence)) {
			fprintf(stderr, "SUBMIT_ASYNC %llu never answered\n",
				(unsigned long long)fuzz_async[i].id);
			abort();
		}
		vgpuif_back_async_response(fuzz_async[i].id,
					   fuzz_async[i].fence->error,
					   fuzz_async[i].seqno, &rsp);
		if (rsp.id != fuzz_async[i].id ||
		    rsp.operation != VGPUIF_OP_SUBMIT_ASYNC)
			abort();
		fuzz_check_status(rsp.status);
		dma_fence_put(fuzz_async[i].fence);
	}
	fuzz_nasync = 0;
}

static struct vgpu_client *fuzz_connect(int i)
{
	char name[16];
	struct vgpu_client *c;

	snprintf(name, sizeof(name), "dom%d", i + 1);
	c = vgpu_client_create(i ? fuzz_engine_16k.dev : fuzz_engine.dev,
			       name, NULL);
	if (IS_ERR(c))
		abort();	/* two guests always fit the defaults */
	return c;
}

static void fuzz_check_empty(void)
{
	static const char *const names[] = {
		"objects", "device_bytes", "host_bytes", "contexts", "mappings",
	};
	const s64 left[] = {
		atomic64_read(&vgpu_global_stats.objects),
		atomic64_read(&vgpu_global_stats.device_bytes),
		atomic64_read(&vgpu_global_stats.host_bytes),
		atomic64_read(&vgpu_global_stats.contexts),
		atomic64_read(&vgpu_global_stats.mappings),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(left); i++) {
		if (left[i]) {
			fprintf(stderr, "%s left after teardown: %lld\n",
				names[i], (long long)left[i]);
			abort();
		}
	}
	if (fuzz_engine_mem_used || fuzz_engine.owner->refs) {
		fprintf(stderr, "engine memory or module references left\n");
		abort();
	}
}

static struct module fuzz_engine_module;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_engine.owner = &fuzz_engine_module;
	/* Small quotas, so that inputs reach every limit. */
	vgpu_quota_devmem_mb = 1;
	vgpu_quota_hostmem_mb = 1;
	vgpu_quota_contexts = 4;
	vgpu_quota_objects = 16;
	vgpu_quota_mapped_mb = 1;
	vgpu_quota_jobs = 8;
	vgpu_quota_cmds = 16;
	vgpu_max_mappings = 32;
	vgpu_hang_limit = 2;
	if (vgpu_engine_register(&fuzz_engine))
		abort();
	fuzz_engine_16k = fuzz_engine;
	fuzz_engine_16k.name = "fuzz16k";
	fuzz_engine_16k.dev = NULL;
	fuzz_engine_16k.page_shift = 14;
	fuzz_engine_16k.va_start = 1 << 20;
	fuzz_engine_16k.va_end = (1ULL << 40) - (1ULL << 30);
	if (vgpu_engine_register(&fuzz_engine_16k))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static int trace = -1;
	struct vgpuif_response rsp;
	size_t pos = 0;
	bool wait;
	int i, ret;

	if (trace < 0)
		trace = !!getenv("FUZZ_TRACE");	/* each request's status */

	for (i = 0; i < FUZZ_GUESTS; i++)
		guest[i] = fuzz_connect(i);
	while (pos + 3 <= size) {
		u8 sel = data[pos], op = data[pos + 1], n = data[pos + 2];
		struct vgpuif_request req = { .operation = op };
		struct vgpu_client **c = &guest[sel & 1];
		size_t k;

		pos += 3;
		if (n > size - pos)
			n = size - pos;
		if (n > VGPUIF_PAYLOAD_SIZE)
			n = VGPUIF_PAYLOAD_SIZE;
		memcpy(req.u.raw, data + pos, n);
		if (sel & 4 && n)
			memset(req.reserved, data[pos], sizeof(req.reserved));
		pos += n;
		if (op == VGPUIF_OP_BO_WRITE && pos < size) {
			size_t m = min((size_t)data[pos], size - pos - 1);

			for (k = 0; m && k < sizeof(guest_page); k++)
				guest_page[k] = data[pos + 1 + k % m];
			pos += 1 + m;
		}
		if (sel & 8) {
			vgpu_client_destroy(*c);
			*c = fuzz_connect(sel & 1);
		}
		fuzz_units = 1 + (sel >> 4) * 97;
		wait = sel & 2;
		req.id = pos;
		ret = vgpuif_back_handle(*c, sel & 1, &fuzz_back_ops, &wait,
					 &req, &rsp);
		if (trace)
			fprintf(stderr, "guest %d %s: %d\n", sel & 1,
				vgpuif_op_name(op), ret);
		if (ret == VGPUIF_BACK_LATER)
			continue;
		if (rsp.id != req.id || rsp.operation != op)
			abort();
		fuzz_check_status(ret);
		fuzz_check_status(rsp.status);
	}
	for (i = 0; i < FUZZ_GUESTS; i++)
		vgpu_client_destroy(guest[i]);
	fuzz_drain();
	fuzz_answer_async();
	fuzz_check_empty();
	if (fuzz_grant_pages) {
		fprintf(stderr, "%u guest pages left mapped\n", fuzz_grant_pages);
		abort();
	}
	return 0;
}
