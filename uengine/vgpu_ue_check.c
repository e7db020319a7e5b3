// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue_check.c - what vgpu-uengine checks of the engine process: the
 * buffer it reads a request into, the format of its answers and its
 * answer to a RUN.  The process
 * is dom0's, but it runs guest code: nothing it answers is believed
 * before it is checked against what was asked.
 */
#include <linux/build_bug.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/overflow.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "../backend/vgpu_engine.h"
#include "vgpu_ue.h"

/* The protocol's sizes are fixed (vgpu_uengine.h): catch any drift. */
static_assert(sizeof(struct vgpu_ue_req) == 72);
static_assert(sizeof(struct vgpu_ue_req) ==
	      VGPU_UE_REQ_HDR_LEN + VGPU_UE_REQ_BODY_LEN);
static_assert(offsetof(struct vgpu_ue_req, raw) == VGPU_UE_REQ_HDR_LEN);
static_assert(sizeof(struct vgpu_ue_resp) == 64);
static_assert(sizeof(struct vgpu_ue_resp) ==
	      VGPU_UE_RESP_HDR_LEN + VGPU_UE_RESP_BODY_LEN);
static_assert(offsetof(struct vgpu_ue_resp, raw) == VGPU_UE_RESP_HDR_LEN);
static_assert(sizeof(struct drm_vgpu_cmd) == 128);
static_assert(sizeof(struct vgpu_ue_hello) == 168);
static_assert(VGPU_UE_PCI_LEN == VGPU_ENGINE_PCI_LEN);

/* Each member of a body has its documented size... */
static_assert(sizeof(struct vgpu_ue_req_ctx_create) == 16);
static_assert(sizeof(struct vgpu_ue_req_ctx_destroy) == 8);
static_assert(sizeof(struct vgpu_ue_req_mem_alloc) == 16);
static_assert(sizeof(struct vgpu_ue_req_mem_free) == 8);
static_assert(sizeof(struct vgpu_ue_req_map) == 48);
static_assert(sizeof(struct vgpu_ue_req_unmap) == 24);
static_assert(sizeof(struct vgpu_ue_req_run) == 56);
static_assert(sizeof(struct vgpu_ue_req_job_release) == 8);
static_assert(sizeof(struct vgpu_ue_req_ctx_stack) == 16);
static_assert(sizeof(struct vgpu_ue_resp_run) == 48);

/* ...and fits the body. */
#define VGPU_UE_REQ_FITS(m)						\
	static_assert(sizeof_field(struct vgpu_ue_req, m) <= VGPU_UE_REQ_BODY_LEN)
VGPU_UE_REQ_FITS(ctx_create);
VGPU_UE_REQ_FITS(ctx_destroy);
VGPU_UE_REQ_FITS(mem_alloc);
VGPU_UE_REQ_FITS(mem_free);
VGPU_UE_REQ_FITS(map);
VGPU_UE_REQ_FITS(unmap);
VGPU_UE_REQ_FITS(run);
VGPU_UE_REQ_FITS(job_release);
VGPU_UE_REQ_FITS(ctx_stack);
static_assert(sizeof_field(struct vgpu_ue_resp, run) <= VGPU_UE_RESP_BODY_LEN);

/**
 * vgpu_ue_read_fits() - may read() deliver @req into a buffer of @len bytes
 * @len: the process's buffer
 * @req: the request to deliver (its @payload_len bytes follow it)
 *
 * Return: 0; -EINVAL for a buffer below VGPU_UE_MAX_MSG (the protocol's
 * rule); -EMSGSIZE if the request would not fit (it then stays queued).
 */
int vgpu_ue_read_fits(size_t len, const struct vgpu_ue_req *req)
{
	/* The longest request, a RUN with a whole job, fits the limit... */
	BUILD_BUG_ON(sizeof(struct vgpu_ue_req) +
		     DRM_VGPU_MAX_CMDS * sizeof(struct drm_vgpu_cmd) >
		     VGPU_UE_MAX_MSG);
	/* ...and its length fits @payload_len. */
	BUILD_BUG_ON(DRM_VGPU_MAX_CMDS * sizeof(struct drm_vgpu_cmd) > U32_MAX);
	if (len < VGPU_UE_MAX_MSG)
		return -EINVAL;
	if (req->payload_len > len - sizeof(*req))
		return -EMSGSIZE;
	return 0;
}

/* How far a command's progress (cmd_done) can go: bytes of a copy or fill. */
static u64 vgpu_ue_cmd_extent(const struct drm_vgpu_cmd *cmd)
{
	switch (cmd->op) {
	case DRM_VGPU_CMD_COPY:
	case DRM_VGPU_CMD_FILL:
		return cmd->size;
	default:
		return 0;	/* a launch keeps its progress in the process */
	}
}

/* A fault's record: only in a FAULTED answer, of a defined kind. */
static const char *vgpu_ue_check_fault(const struct vgpu_ue_resp_run *r)
{
	if (r->status != VGPU_UE_RUN_FAULTED)
		return r->fault_kind || r->fault_addr ?
		       "a fault's record without a fault" : NULL;
	/*
	 * NONE is tolerated: a fault whose record the GPU lost must not end
	 * every client's contexts (the job still ends FAULTED).
	 */
	if (r->fault_kind > DRM_VGPU_FAULT_ENGINE_LOST)
		return "undefined fault kind";
	return NULL;
}

/**
 * vgpu_ue_check_answer() - does the process's answer keep the format
 * @req: the request it answers
 * @r: the answer
 *
 * Only the answer to a RUN that succeeded has a body; every reserved
 * field and every byte of a body the answer does not have is zero.
 *
 * Return: 0, or -EINVAL (write() refuses the answer).
 */
int vgpu_ue_check_answer(const struct vgpu_ue_req *req,
			 const struct vgpu_ue_resp *r)
{
	if (r->reserved || r->error > 0 || r->error < -MAX_ERRNO)
		return -EINVAL;
	if ((req->op != VGPU_UE_OP_RUN || r->error) &&
	    memchr_inv(r->raw, 0, sizeof(r->raw)))
		return -EINVAL;
	return 0;
}

/**
 * vgpu_ue_check_run() - is the process's answer to a RUN possible
 * @job: the job as the RUN asked for it (not yet updated)
 * @r: the answer's body
 * @wall_ns: how long the module waited for the answer
 *
 * Return: NULL, or what makes the answer impossible (for the message
 * that ends the session).
 */
const char *vgpu_ue_check_run(const struct vgpu_engine_job *job,
			      const struct vgpu_ue_resp_run *r, u64 wall_ns)
{
	u64 next = r->next_cmd, busy_max;

	if (r->status > VGPU_UE_RUN_TIMEDOUT)
		return "undefined status";
	if (next < job->next_cmd || next > job->num_cmds)
		return "next command outside the job";
	if (r->status == VGPU_UE_RUN_DONE && next != job->num_cmds)
		return "done before the last command";
	if ((r->status == VGPU_UE_RUN_PREEMPTED ||
	     r->status == VGPU_UE_RUN_TIMEDOUT) && next == job->num_cmds)
		return "no command left to resume or to end";
	if (r->cmd_done > (next < job->num_cmds ?
			   vgpu_ue_cmd_extent(&job->cmds[next]) : 0))
		return "progress beyond the command's size";
	if (r->busy_ns > wall_ns)
		return "more engine time than the RUN took";
	busy_max = r->busy_ns;
	if (next == job->next_cmd &&
	    check_add_overflow(busy_max, job->cmd_busy_ns, &busy_max))
		busy_max = U64_MAX;
	if (r->cmd_busy_ns > busy_max)
		return "more command time than the command can have used";
	return vgpu_ue_check_fault(r);
}

/* @n hex digits at *@p, at most @max in value; moves *@p past them. */
static bool vgpu_ue_pci_field(const char **p, size_t min, size_t max_len,
			      unsigned long max)
{
	unsigned long v = 0;
	size_t n = 0;

	while (isxdigit(**p) && n < max_len) {
		v = v * 16 + (isdigit(**p) ? **p - '0' : tolower(**p) - 'a' + 10);
		(*p)++;
		n++;
	}
	return n >= min && v <= max;
}

/**
 * vgpu_ue_check_pci() - check the PCI address a process says its GPU has
 * @pci: VGPU_UE_PCI_LEN bytes, as the process wrote them
 *
 * The address is shown in sysfs as it is: it must be empty (no PCI
 * device) or a PCI address as Linux writes it, domain:bus:device.function
 * ("0000:01:00.0": a domain of 1 to 8 hex digits, a bus of 2, a device of
 * 2 up to 1f, a function 0 to 7), NUL-terminated with every byte after
 * the NUL zero.  Nothing else: no path, no space, no second address.
 *
 * Return: 0, or -EINVAL.
 */
int vgpu_ue_check_pci(const char *pci)
{
	size_t len = strnlen(pci, VGPU_UE_PCI_LEN);
	const char *p = pci;
	size_t i;

	if (len == VGPU_UE_PCI_LEN)
		return -EINVAL;		/* not terminated */
	for (i = len; i < VGPU_UE_PCI_LEN; i++)
		if (pci[i])
			return -EINVAL;
	if (!len)
		return 0;
	if (!vgpu_ue_pci_field(&p, 1, 8, ULONG_MAX) || *p++ != ':' ||
	    !vgpu_ue_pci_field(&p, 2, 2, 0xff) || *p++ != ':' ||
	    !vgpu_ue_pci_field(&p, 2, 2, 0x1f) || *p++ != '.' ||
	    !vgpu_ue_pci_field(&p, 1, 1, 7) || *p)
		return -EINVAL;
	return 0;
}
