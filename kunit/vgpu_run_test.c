// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of the engine skeleton (common/vgpu_run.c): the run loop
 * every engine shares, driven by a scripted step on a test clock, and the
 * interpreter engines' step.
 */
#include <kunit/test.h>

#include "../common/vgpu_run.h"

#define MAX_SCRIPT 16

/* A step that plays a script; each step takes @tick on the clock. */
struct script {
	enum vgpu_step out[MAX_SCRIPT];
	unsigned int len, pos;
	u64 clock, tick;
	unsigned int releases;
	u64 charge;		/* with step_charges: what each step adds */
};

static enum vgpu_step script_step(void *arg, struct vgpu_run *run,
				  const struct drm_vgpu_cmd *cmd)
{
	struct script *s = arg;
	enum vgpu_step r = s->pos < s->len ? s->out[s->pos] : VGPU_STEP_DONE;

	s->pos++;
	s->clock += s->tick;
	run->cmd_done += 4;
	run->cmd_busy += s->charge;
	if (r == VGPU_STEP_FAULT) {
		run->fault_kind = DRM_VGPU_FAULT_PERM;
		run->fault_addr = 0x1234;
	}
	return r;
}

static void script_release(void *arg)
{
	((struct script *)arg)->releases++;
}

static u64 script_clock(void *arg)
{
	return ((struct script *)arg)->clock;
}

static const struct vgpu_run_ops script_ops = {
	.step = script_step,
	.release = script_release,
	.clock = script_clock,
};

static const struct vgpu_run_ops script_charged_ops = {
	.step = script_step,
	.release = script_release,
	.clock = script_clock,
	.step_charges = true,
};

static struct drm_vgpu_cmd cmds[3] = {
	{ .op = DRM_VGPU_CMD_FILL },
	{ .op = DRM_VGPU_CMD_LAUNCH },
	{ .op = DRM_VGPU_CMD_COPY },
};

static void run_init(struct vgpu_run *run, u32 next)
{
	memset(run, 0, sizeof(*run));
	run->cmds = cmds;
	run->num_cmds = ARRAY_SIZE(cmds);
	run->next = next;
}

/* Every command ends: each one's progress is reset, each state released. */
static void run_all_done(struct kunit *test)
{
	struct script s = { .len = 0, .tick = 1 };
	struct vgpu_run run;

	run_init(&run, 0);
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 100, 100),
			VGPU_JOB_DONE);
	KUNIT_EXPECT_EQ(test, run.next, 3U);
	KUNIT_EXPECT_EQ(test, run.cmd_done, 0ULL);
	KUNIT_EXPECT_EQ(test, run.cmd_busy, 0ULL);
	KUNIT_EXPECT_EQ(test, s.releases, 3U);
}

/* The budget preempts between steps, never after the last command. */
static void run_budget(struct kunit *test)
{
	struct script s = {
		.out = { VGPU_STEP_MORE, VGPU_STEP_MORE, VGPU_STEP_MORE },
		.len = 3, .tick = 10,
	};
	struct vgpu_run run;

	run_init(&run, 0);
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 20, 1000),
			VGPU_JOB_PREEMPTED);
	KUNIT_EXPECT_EQ(test, s.pos, 2U);	/* 10, then 20 >= 20 */
	KUNIT_EXPECT_EQ(test, run.next, 0U);
	KUNIT_EXPECT_EQ(test, run.cmd_done, 8ULL);
	KUNIT_EXPECT_EQ(test, run.cmd_busy, 20ULL);
	KUNIT_EXPECT_EQ(test, s.releases, 0U);

	/* The resumed run goes on from there; its last step ends the job. */
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 1000, 1000),
			VGPU_JOB_DONE);
	KUNIT_EXPECT_EQ(test, run.next, 3U);

	/* Over budget at its last command's end: done, not preempted. */
	memset(&s, 0, sizeof(s));
	s.tick = 50;
	run_init(&run, 2);
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 1, 1000),
			VGPU_JOB_DONE);
}

/* The watchdog ends a launch; a copy or fill always ends. */
static void run_watchdog_launches_only(struct kunit *test)
{
	struct script s = {
		.out = { VGPU_STEP_MORE, VGPU_STEP_MORE, VGPU_STEP_MORE,
			 VGPU_STEP_DONE, VGPU_STEP_MORE, VGPU_STEP_MORE },
		.len = 6, .tick = 10,
	};
	struct vgpu_run run;

	run_init(&run, 0);	/* a fill of 4 steps, then the launch */
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 1000, 15),
			VGPU_JOB_TIMEDOUT);
	KUNIT_EXPECT_EQ(test, s.pos, 6U);	/* the launch's second step */
	KUNIT_EXPECT_EQ(test, run.next, 1U);
	KUNIT_EXPECT_EQ(test, s.releases, 2U);	/* the fill's end, the launch */
}

/* A step that charges itself: the loop adds nothing to cmd_busy. */
static void run_step_charges(struct kunit *test)
{
	struct script s = {
		.out = { VGPU_STEP_MORE, VGPU_STEP_MORE, VGPU_STEP_MORE },
		.len = 3, .tick = 100, .charge = 1,
	};
	struct vgpu_run run;

	run_init(&run, 1);	/* the launch: 100 per step on the clock */
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_charged_ops, &s,
					     250, 50), VGPU_JOB_PREEMPTED);
	KUNIT_EXPECT_EQ(test, run.cmd_busy, 3ULL);
	KUNIT_EXPECT_EQ(test, s.pos, 3U);
}

/* Fault, the engine's own timeout and a yield end the run at once. */
static void run_fault_timeout_yield(struct kunit *test)
{
	struct script s = {
		.out = { VGPU_STEP_DONE, VGPU_STEP_FAULT }, .len = 2, .tick = 1,
	};
	struct vgpu_run run;

	run_init(&run, 0);
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 100, 100),
			VGPU_JOB_FAULTED);
	KUNIT_EXPECT_EQ(test, run.next, 1U);
	KUNIT_EXPECT_EQ(test, run.fault_kind, (u32)DRM_VGPU_FAULT_PERM);
	KUNIT_EXPECT_EQ(test, run.fault_addr, 0x1234ULL);
	KUNIT_EXPECT_EQ(test, s.releases, 2U);

	memset(&s, 0, sizeof(s));
	s.out[0] = VGPU_STEP_TIMEDOUT;
	s.len = 1;
	run_init(&run, 1);
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 100, 100),
			VGPU_JOB_TIMEDOUT);
	KUNIT_EXPECT_EQ(test, s.releases, 1U);

	/* A yield keeps the launch's state: the next run resumes it. */
	memset(&s, 0, sizeof(s));
	s.out[0] = VGPU_STEP_YIELD;
	s.len = 1;
	run_init(&run, 1);
	KUNIT_EXPECT_EQ(test, vgpu_run_steps(&run, &script_ops, &s, 100, 100),
			VGPU_JOB_PREEMPTED);
	KUNIT_EXPECT_EQ(test, run.next, 1U);
	KUNIT_EXPECT_EQ(test, s.releases, 0U);
}

/* The interpreter engines' step: what it cannot run is a fault, named. */
static void run_interp_step_faults(struct kunit *test)
{
	struct drm_vgpu_cmd c = { .op = DRM_VGPU_CMD_LAUNCH, .src = 0x20000 };
	struct vgpu_run run = {};
	struct vgpu_pt *pt = kunit_kzalloc(test, sizeof(*pt), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, pt);
	vgpu_pt_init(pt);
	/* A launch without a started interpreter state. */
	KUNIT_EXPECT_EQ(test, vgpu_interp_step(pt, &run, &c, NULL, 64, 64,
					       NULL), VGPU_STEP_FAULT);
	KUNIT_EXPECT_EQ(test, run.fault_kind, (u32)DRM_VGPU_FAULT_ILLEGAL);
	KUNIT_EXPECT_EQ(test, run.fault_addr, 0x20000ULL);

	/* An unknown operation. */
	c.op = 77;
	c.src = 0x30000;
	KUNIT_EXPECT_EQ(test, vgpu_interp_step(pt, &run, &c, NULL, 64, 64,
					       NULL), VGPU_STEP_FAULT);
	KUNIT_EXPECT_EQ(test, run.fault_addr, 0x30000ULL);

	/* A fill of unmapped memory faults at its first byte. */
	c = (struct drm_vgpu_cmd){ .op = DRM_VGPU_CMD_FILL, .dst = 0x40000,
				   .size = 4096 };
	run.fault_kind = 0;
	KUNIT_EXPECT_EQ(test, vgpu_interp_step(pt, &run, &c, NULL, 64, 64,
					       NULL), VGPU_STEP_FAULT);
	KUNIT_EXPECT_NE(test, run.fault_kind, 0U);
	KUNIT_EXPECT_EQ(test, run.fault_addr, 0x40000ULL);
	vgpu_pt_fini(pt);
}

/* A launch command becomes the interpreter's description, whole. */
static void run_launch_desc_from_cmd(struct kunit *test)
{
	struct drm_vgpu_cmd c = {
		.op = DRM_VGPU_CMD_LAUNCH, .src = 0x10000,
		.grid = { 2, 3, 4 }, .block = { 32, 2, 1 }, .shared_size = 256,
		.params = { 1, 2, 3, 4, 5, 6, 7, 8 },
	};
	struct vgpu_launch_desc d;

	memset(&d, 0xff, sizeof(d));
	vgpu_launch_desc_from_cmd(&d, &c);
	KUNIT_EXPECT_EQ(test, d.code_va, 0x10000ULL);
	KUNIT_EXPECT_EQ(test, d.grid[2], 4U);
	KUNIT_EXPECT_EQ(test, d.block[1], 2U);
	KUNIT_EXPECT_EQ(test, d.shared_size, 256U);
	KUNIT_EXPECT_EQ(test, d.params[7], 8ULL);
	KUNIT_EXPECT_EQ(test, vgpu_launch_check(&d), 0);
}

static struct kunit_case run_cases[] = {
	KUNIT_CASE(run_all_done),
	KUNIT_CASE(run_budget),
	KUNIT_CASE(run_watchdog_launches_only),
	KUNIT_CASE(run_step_charges),
	KUNIT_CASE(run_fault_timeout_yield),
	KUNIT_CASE(run_interp_step_faults),
	KUNIT_CASE(run_launch_desc_from_cmd),
	{}
};

static struct kunit_suite run_suite = {
	.name = "vgpu-run",
	.test_cases = run_cases,
};

kunit_test_suite(run_suite);
