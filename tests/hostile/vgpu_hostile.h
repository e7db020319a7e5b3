/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_hostile.h - the test bed's hostile frontend (see vgpu_hostile.c).
 */
#ifndef VGPU_HOSTILE_H
#define VGPU_HOSTILE_H

#include <linux/interrupt.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include "../../common/vgpuif.h"
#include "../../include/uapi/drm/vgpu_drm.h"

#define CODE_VA		0x100000ULL
#define DATA_VA		0x200000ULL
#define ALIAS_VA	0x1000000ULL
#define HOSTILE_CYCLES	250	/* phase D; hostile.sh names the count too */
#define I(op, rd, ra, rb, imm)						\
	((u64)(op) | (u64)(rd) << 8 | (u64)(ra) << 16 | (u64)(rb) << 24 |	\
	 (u64)(u32)(imm) << 32)

/* One driven device: its ring, its counts. */
struct hostile {
	struct xenbus_device *dev;
	struct vgpuif_front_ring ring;
	void *ring_va;
	grant_ref_t ring_ref;
	int irq;
	evtchn_port_t evtchn;
	wait_queue_head_t wq;
	u64 next_id;
	struct work_struct work;
	bool started;
	int tried, documented;
	struct page *page;	/* a page to grant */
	ktime_t violated_at;	/* when the last ring violation was notified */
};

#define REQ(name, op) struct vgpuif_request name = { .operation = (op) }

/* XenStore values a connection writes; NULL: the honest one. */
struct hostile_keys {
	const char *ring_ref;
	const char *event_channel;
	const char *protocol_version;
	const char *mode;
};

/* vgpu_hostile.c: requests */
irqreturn_t hostile_irq(int irq, void *arg);
void hostile_result(struct hostile *h, const char *name, bool ok,
		    const char *detail);
int hostile_send_n(struct hostile *h, struct vgpuif_request *req,
		   unsigned int n, struct vgpuif_response *last);
int hostile_call(struct hostile *h, struct vgpuif_request *req,
		 struct vgpuif_response *rsp);
int hostile_send(struct hostile *h, struct vgpuif_request *req);
void hostile_post(struct hostile *h, struct vgpuif_request *req);
void hostile_expect(struct hostile *h, const char *name,
		    struct vgpuif_request *req, int want);
int hostile_grant(struct hostile *h, bool ro);
void hostile_end_grant(struct hostile *h, int gref);
u32 hostile_ctx(struct hostile *h);
u32 hostile_bo(struct hostile *h, u32 domain, u64 size);
int hostile_bind(struct hostile *h, u32 ctx, u32 bo, u64 off, u64 va,
		 u32 flags);
int hostile_io(struct hostile *h, u32 bo, bool write);
u32 hostile_code_ctx(struct hostile *h, const u64 *code, size_t n);
void hostile_launch_req(struct vgpuif_request *r, u32 ctx, u32 grid,
			u32 block, u32 shared);

/* hostile_hp.c: phase H */
void hostile_hp(struct hostile *h, struct hostile *total);

/* hostile_ring.c: connections and XenStore states */
enum xenbus_state hostile_backend_state(struct hostile *h);
int hostile_wait_backend(struct hostile *h, unsigned int states,
			 unsigned int timeout_ms);
int hostile_open(struct hostile *h, const struct hostile_keys *k,
		 unsigned int *ms);
int hostile_close(struct hostile *h);
void hostile_free_ring(struct hostile *h);
#define STATE(s) (1U << (s))

/* hostile_cases.c: the phases */
void hostile_requests(struct hostile *h);
void hostile_gpu(struct hostile *h);
void hostile_long_job_close(struct hostile *h);
void hostile_cycles(struct hostile *h);
void hostile_ban(struct hostile *h);
void hostile_violations(struct hostile *h);

#endif /* VGPU_HOSTILE_H */
