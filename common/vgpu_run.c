// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_run.c - the engine skeleton (vgpu_run.h): the run loop every
 * engine shares and the step of the three interpreter engines.
 */
#include "vgpu_run.h"

/**
 * vgpu_run_steps() - run a job's commands in bounded steps
 * @run: the job's progress, updated
 * @ops: the engine's step, release and clock
 * @arg: passed to @ops
 * @budget: clock time after which a job with commands left is preempted
 * @watchdog: clock time one launch may use before it is ended as hung
 *
 * Runs steps until every command has run, one faults, a launch uses
 * @watchdog, or @budget is used.  The watchdog ends launches only: a copy
 * or a fill always ends, in time bounded by its size (at most what its
 * client may map), and runs in preemptible chunks charged to its client,
 * so a long one is no hang.  The clock is read once after each step, so
 * a run overruns @budget by at most one step.
 *
 * Return: how the run ended; VGPU_JOB_FAULTED with run->fault_kind and
 * run->fault_addr set by the step.
 */
enum vgpu_job_status vgpu_run_steps(struct vgpu_run *run,
				    const struct vgpu_run_ops *ops, void *arg,
				    u64 budget, u64 watchdog)
{
	u64 start = ops->clock(arg), last = start;

	while (run->next < run->num_cmds) {
		const struct drm_vgpu_cmd *cmd = &run->cmds[run->next];
		enum vgpu_step s = ops->step(arg, run, cmd);
		u64 now = ops->clock(arg);

		if (!ops->step_charges)
			run->cmd_busy += now - last;
		last = now;
		switch (s) {
		case VGPU_STEP_DONE:
			ops->release(arg);
			run->next++;
			run->cmd_done = 0;
			run->cmd_busy = 0;
			break;
		case VGPU_STEP_MORE:
			if (cmd->op == DRM_VGPU_CMD_LAUNCH &&
			    run->cmd_busy >= watchdog) {
				ops->release(arg);
				return VGPU_JOB_TIMEDOUT;
			}
			break;
		case VGPU_STEP_YIELD:
			return VGPU_JOB_PREEMPTED;
		case VGPU_STEP_TIMEDOUT:
			ops->release(arg);
			return VGPU_JOB_TIMEDOUT;
		case VGPU_STEP_FAULT:
		default:
			ops->release(arg);
			return VGPU_JOB_FAULTED;
		}
		if (run->next < run->num_cmds && now - start >= budget)
			return VGPU_JOB_PREEMPTED;
		if (ops->pause)
			ops->pause(arg);
	}
	return VGPU_JOB_DONE;
}

/**
 * vgpu_launch_start() - start the interpreter on a launch command
 * @l: the launch's state, to be released with vgpu_launch_fini()
 * @c: the command (checked by the core)
 *
 * Return: 0, or -EINVAL (a geometry the core would have refused) or
 * -ENOMEM; the caller reports either as an illegal launch at c->src.
 */
int vgpu_launch_start(struct vgpu_launch *l, const struct drm_vgpu_cmd *c)
{
	struct vgpu_launch_desc d;

	vgpu_launch_desc_from_cmd(&d, c);
	return vgpu_launch_init(l, &d);
}

static enum vgpu_step vgpu_step_of(enum vgpu_run_result r)
{
	switch (r) {
	case VGPU_RUN_DONE:
		return VGPU_STEP_DONE;
	case VGPU_RUN_BUDGET:
		return VGPU_STEP_MORE;
	default:
		return VGPU_STEP_FAULT;
	}
}

/**
 * vgpu_interp_step() - one bounded step of the interpreter engines
 * @pt: the context's page tables
 * @run: the job's progress (cmd_done, the fault)
 * @cmd: the command in progress
 * @l: a started launch (vgpu_launch_start()) when @cmd is a launch
 * @units: interpreter work units a launch step may use
 * @mem_chunk: bytes a copy or fill step may move
 * @executed: optional: adds the work units the launch used
 *
 * Return: what the step did; a fault sets run->fault_kind and _addr.
 */
enum vgpu_step vgpu_interp_step(const struct vgpu_pt *pt, struct vgpu_run *run,
				const struct drm_vgpu_cmd *cmd,
				struct vgpu_launch *l, u64 units,
				u64 mem_chunk, u64 *executed)
{
	enum vgpu_run_result r;
	u64 n = 0;

	switch (cmd->op) {
	case DRM_VGPU_CMD_COPY:
		r = vgpu_mem_copy(pt, cmd->dst, cmd->src, cmd->size,
				  &run->cmd_done, mem_chunk, &run->fault_addr,
				  &run->fault_kind);
		break;
	case DRM_VGPU_CMD_FILL:
		r = vgpu_mem_fill(pt, cmd->dst, cmd->size, cmd->value,
				  &run->cmd_done, mem_chunk, &run->fault_addr,
				  &run->fault_kind);
		break;
	case DRM_VGPU_CMD_LAUNCH:
		if (!l)
			goto illegal;
		r = vgpu_launch_run(l, pt, units, &n);
		if (executed)
			*executed += n;
		if (r == VGPU_RUN_FAULT) {
			run->fault_kind = l->fault_kind;
			run->fault_addr = l->fault_addr;
		}
		break;
	default:	/* the core checked every command */
		goto illegal;
	}
	return vgpu_step_of(r);
illegal:
	run->fault_kind = DRM_VGPU_FAULT_ILLEGAL;
	run->fault_addr = cmd->src;
	return VGPU_STEP_FAULT;
}
