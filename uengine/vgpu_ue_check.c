// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue_check.c - what vgpu-uengine checks of the engine process: the
 * buffer it reads a request into, and its answer to a RUN.  The process
 * is dom0's, but it runs guest code: nothing it answers is believed
 * before it is checked against what was asked.
 */
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/overflow.h>

#include "../backend/vgpu_engine.h"
#include "vgpu_ue.h"

/* The protocol's sizes are fixed (vgpu_uengine.h): catch any drift. */
static_assert(sizeof(struct vgpu_ue_req) == 72);
static_assert(sizeof(struct vgpu_ue_resp) == 64);
static_assert(sizeof(struct drm_vgpu_cmd) == 128);

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

/**
 * vgpu_ue_check_run() - is the process's answer to a RUN possible
 * @job: the job as the RUN asked for it (not yet updated)
 * @r: the answer
 * @wall_ns: how long the module waited for the answer
 *
 * Return: NULL, or what makes the answer impossible (for the message
 * that ends the session).
 */
const char *vgpu_ue_check_run(const struct vgpu_engine_job *job,
			      const struct vgpu_ue_resp *r, u64 wall_ns)
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
	/*
	 * NONE is tolerated: a fault whose record the GPU lost must not end
	 * every client's contexts (the job still ends FAULTED).
	 */
	if (r->status == VGPU_UE_RUN_FAULTED &&
	    r->fault_kind > DRM_VGPU_FAULT_ENGINE_LOST)
		return "undefined fault kind";
	return NULL;
}
