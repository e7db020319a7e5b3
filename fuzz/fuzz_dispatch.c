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

static void fuzz_drain(void)
{
	while (vgpu_sched_run_once())
		;
}

/* The "grant": a copy from or to the fuzzer's guest page. */
static int fuzz_bo_io(void *priv, struct vgpu_bo *bo,
		      const struct vgpuif_bo_io *io, bool write)
{
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

static const struct vgpuif_back_ops fuzz_back_ops = {
	.bo_io = fuzz_bo_io,
	.wait = fuzz_wait,
};

static struct vgpu_client *fuzz_connect(int i)
{
	char name[16];
	struct vgpu_client *c;

	snprintf(name, sizeof(name), "dom%d", i + 1);
	c = vgpu_client_create(name);
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
	if (vgpu_sched_init() || vgpu_engine_register(&fuzz_engine))
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
		ret = vgpuif_back_handle(*c, &fuzz_back_ops, &wait, &req, &rsp);
		if (trace)
			fprintf(stderr, "guest %d %s: %d\n", sel & 1,
				vgpuif_op_name(op), ret);
		fuzz_check_status(ret);
	}
	for (i = 0; i < FUZZ_GUESTS; i++)
		vgpu_client_destroy(guest[i]);
	fuzz_drain();
	fuzz_check_empty();
	return 0;
}
