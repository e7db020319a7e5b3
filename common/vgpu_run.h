/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_run.h - the engine skeleton: how every engine runs a job's
 * commands (Documentation/engines.rst, "The run loop").
 *
 * An engine's run() is a loop of bounded steps: a chunk of a copy or a
 * fill, a chunk of a launch's blocks or work units.  Between two steps it
 * looks at the clock: it accounts the command's engine time, ends a
 * launch that used the watchdog's time (a copy or a fill always ends, in
 * time bounded by its size, so it never hangs), moves to the next command
 * and stops at the budget.  That loop is vgpu_run_steps(), shared by
 * vgpu-sim (sim/vgpu_sim.c), the fuzzer's engine (fuzz/fake_engine.c) and
 * both back ends of vgpu-engined (tools/vgpu-engined/backend.hpp wraps
 * it); what differs is the step, behind struct vgpu_run_ops.  The three
 * interpreter engines also share the step itself: vgpu_interp_step().
 *
 * Pure logic: no kernel or Xen dependency, built unchanged in userspace.
 */
#ifndef VGPU_RUN_H
#define VGPU_RUN_H

#include "vgpu_compat.h"
#include "vgpu_interp.h"
#include "../include/uapi/drm/vgpu_drm.h"

/* How a job's run() ended (the contract of struct vgpu_engine_ops). */
enum vgpu_job_status {
	VGPU_JOB_DONE,		/* every command has run */
	VGPU_JOB_PREEMPTED,	/* budget used up; call run() again */
	VGPU_JOB_FAULTED,	/* see fault_kind, fault_addr */
	VGPU_JOB_TIMEDOUT,	/* the engine's watchdog fired */
};

/* What one bounded step did with the current command. */
enum vgpu_step {
	VGPU_STEP_DONE,		/* the command ended */
	VGPU_STEP_MORE,		/* a chunk ran; the command goes on */
	VGPU_STEP_FAULT,	/* it faulted: the step set fault_kind/_addr */
	VGPU_STEP_TIMEDOUT,	/* the engine's own watchdog ended it */
	/*
	 * It waits for something outside the job (a JIT compile): the run
	 * ends now, preempted, whatever budget is left.
	 */
	VGPU_STEP_YIELD,
};

/**
 * struct vgpu_run - a job's progress, as the loop sees it
 * @cmds: the job's commands
 * @num_cmds: how many
 * @next: index of the command in progress (the loop advances it)
 * @cmd_done: the step's progress inside it (bytes of a copy or fill);
 *	the loop zeroes it when the command ends
 * @cmd_busy: engine time the command has used, in the clock's unit (the
 *	watchdog's measure); zeroed when the command ends
 * @fault_kind: DRM_VGPU_FAULT_* of a step that returned VGPU_STEP_FAULT
 * @fault_addr: the GPU address of that fault
 *
 * Each engine keeps a job its own way (struct vgpu_engine_job in the
 * kernel, vgpu::engine::Job in vgpu-engined) and copies these in and out.
 */
struct vgpu_run {
	const struct drm_vgpu_cmd *cmds;
	u32 num_cmds;
	u32 next;
	u64 cmd_done;
	u64 cmd_busy;
	u32 fault_kind;
	u64 fault_addr;
};

/**
 * struct vgpu_run_ops - what an engine gives the loop
 * @step: runs one bounded step of @cmd (run->cmds[run->next])
 * @release: frees the engine's state of the command in progress (a
 *	launch's); called when the command ends, faults or times out
 * @clock: a monotonic clock: nanoseconds, or the fuzzer's work units
 * @pause: optional, between two steps (the kernel's cond_resched())
 * @step_charges: the step adds the engine time it used to run->cmd_busy
 *	itself (a GPU's launch: its chunks, not a JIT compile it waited
 *	for); otherwise the loop charges the clock's time around each step
 */
struct vgpu_run_ops {
	enum vgpu_step (*step)(void *arg, struct vgpu_run *run,
			       const struct drm_vgpu_cmd *cmd);
	void (*release)(void *arg);
	u64 (*clock)(void *arg);
	void (*pause)(void *arg);
	bool step_charges;
};

enum vgpu_job_status vgpu_run_steps(struct vgpu_run *run,
				    const struct vgpu_run_ops *ops, void *arg,
				    u64 budget, u64 watchdog);

/* A launch command's description for the interpreter and its checks. */
static inline void vgpu_launch_desc_from_cmd(struct vgpu_launch_desc *d,
					     const struct drm_vgpu_cmd *c)
{
	memset(d, 0, sizeof(*d));
	d->code_va = c->src;
	memcpy(d->grid, c->grid, sizeof(d->grid));
	memcpy(d->block, c->block, sizeof(d->block));
	d->shared_size = c->shared_size;
	memcpy(d->params, c->params, sizeof(d->params));
}

int vgpu_launch_start(struct vgpu_launch *l, const struct drm_vgpu_cmd *c);
enum vgpu_step vgpu_interp_step(const struct vgpu_pt *pt, struct vgpu_run *run,
				const struct drm_vgpu_cmd *cmd,
				struct vgpu_launch *l, u64 units,
				u64 mem_chunk, u64 *executed);

#endif /* VGPU_RUN_H */
