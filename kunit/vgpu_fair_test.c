// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of the weighted fair-share policy (common/vgpu_fair.c),
 * driven as backend/vgpu_sched.c drives it, against a simulated engine
 * clock: every client always has work unless the test idles it.  The
 * same policy's longer simulations are GoogleTest's (tests/test_fair).
 */
#include <kunit/test.h>

#include "../common/vgpu_fair.h"

#define MS 1000000ULL
#define SEC (1000 * MS)
#define NCLIENTS 4

struct fair_sim {
	struct vgpu_fair top;
	struct vgpu_fair_ent ent[NCLIENTS];
	bool busy[NCLIENTS];
	unsigned int n;
	u64 now;
	u64 slice;		/* a slice, or each whole job (no preemption) */
	u32 overrun[NCLIENTS];	/* its slices take this many times as long */
	u64 idle;
	u64 used[NCLIENTS];	/* engine time in the current window */
};

static void sim_init(struct fair_sim *s, const u32 *weights, unsigned int n)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	vgpu_fair_init(&s->top);
	s->n = n;
	s->slice = 10 * MS;
	for (i = 0; i < n; i++) {
		vgpu_fair_ent_init(&s->ent[i], weights[i]);
		s->busy[i] = true;
	}
}

/* One pick and one slice; returns the client that ran, or -1. */
static int sim_step(struct fair_sim *s)
{
	struct vgpu_fair_ent *best = NULL;
	u64 wake = U64_MAX, run;
	unsigned int i;
	int who = -1;

	for (i = 0; i < s->n; i++) {
		if (!s->busy[i])
			continue;
		if (vgpu_fair_throttled(&s->ent[i], s->now)) {
			wake = min(wake, vgpu_fair_ready_at(&s->ent[i]));
			continue;
		}
		vgpu_fair_compete(&s->top, &s->ent[i]);
		if (!best || vgpu_fair_before(&s->ent[i], best)) {
			best = &s->ent[i];
			who = i;
		}
	}
	if (!best) {
		u64 to = wake == U64_MAX ? s->now + MS : wake;

		s->idle += to - s->now;
		s->now = to;
		return -1;
	}
	vgpu_fair_picked(&s->top, best);
	run = s->slice * max(s->overrun[who], 1U);
	s->now += run;
	s->used[who] += run;
	/* As vgpu_sched.c charges it: the thread never waited here. */
	vgpu_fair_charge(best, vgpu_fair_slice_charge(run, 0), s->now);
	return who;
}

/* Runs one second; s->used[] holds each client's engine time in it. */
static void sim_window(struct fair_sim *s)
{
	u64 end = s->now + SEC;

	memset(s->used, 0, sizeof(s->used));
	while (s->now < end)
		sim_step(s);
}

static void fair_equal_weights(struct kunit *test)
{
	static const u32 w[NCLIENTS] = { 100, 100, 100, 100 };
	struct fair_sim *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	sim_init(s, w, NCLIENTS);
	sim_window(s);
	for (i = 0; i < NCLIENTS; i++)
		KUNIT_EXPECT_EQ(test, s->used[i], SEC / NCLIENTS);
	KUNIT_EXPECT_EQ(test, s->idle, 0ULL);
}

static void fair_weights(struct kunit *test)
{
	static const u32 w[3] = { 100, 200, 400 };
	struct fair_sim *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	sim_init(s, w, 3);
	s->slice = 1 * MS;
	sim_window(s);
	sim_window(s);
	/* 1:2:4 of 1000 ms, to one slice. */
	KUNIT_EXPECT_LE(test, abs((s64)s->used[0] - (s64)(SEC / 7)), (s64)MS);
	KUNIT_EXPECT_LE(test, abs((s64)s->used[1] - (s64)(2 * SEC / 7)), (s64)MS);
	KUNIT_EXPECT_LE(test, abs((s64)s->used[2] - (s64)(4 * SEC / 7)), (s64)MS);
}

static void fair_cap_alone_and_with_others(struct kunit *test)
{
	static const u32 w[2] = { 100, 100 };
	struct fair_sim *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	sim_init(s, w, 2);
	KUNIT_ASSERT_EQ(test, vgpu_fair_set(&s->ent[0], 100, 25, 0), 0);
	s->busy[1] = false;
	sim_window(s);
	sim_window(s);
	/* Alone: 25% within a slice, and the engine idles the rest. */
	KUNIT_EXPECT_LE(test, abs((s64)s->used[0] - (s64)(SEC / 4)), (s64)(10 * MS));
	s->busy[1] = true;
	sim_window(s);
	sim_window(s);
	KUNIT_EXPECT_LE(test, abs((s64)s->used[0] - (s64)(SEC / 4)), (s64)(10 * MS));
	KUNIT_EXPECT_LE(test, abs((s64)s->used[1] - (s64)(3 * SEC / 4)), (s64)(10 * MS));
}

static void fair_idle_share_redistributed(struct kunit *test)
{
	static const u32 w[3] = { 100, 100, 100 };
	struct fair_sim *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	sim_init(s, w, 3);
	sim_window(s);
	s->busy[2] = false;	/* stops: a banned client, say */
	sim_window(s);
	KUNIT_EXPECT_EQ(test, s->used[0], SEC / 2);
	KUNIT_EXPECT_EQ(test, s->used[1], SEC / 2);
	s->busy[2] = true;	/* back: no credit for the second it sat out */
	sim_window(s);
	KUNIT_EXPECT_LE(test, abs((s64)s->used[2] - (s64)(SEC / 3)), (s64)(10 * MS));
}

static void fair_whole_jobs(struct kunit *test)
{
	static const u32 w[2] = { 100, 300 };
	struct fair_sim *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	unsigned int i;
	u64 a = 0, b = 0;

	KUNIT_ASSERT_NOT_NULL(test, s);
	sim_init(s, w, 2);
	s->slice = 40 * MS;	/* no preemption: each job charged whole */
	for (i = 0; i < 10; i++) {
		sim_window(s);
		a += s->used[0];
		b += s->used[1];
	}
	KUNIT_EXPECT_LE(test, abs((s64)a * 3 - (s64)b), (s64)(3 * 40 * MS));
}

/*
 * An engine whose slices overrun 10x (the bridge, syncing its shadows
 * around each RUN) is charged the whole overrun: its client gets its
 * quarter, not five times the others' share.
 */
static void fair_overrun_charged(struct kunit *test)
{
	static const u32 w[NCLIENTS] = { 100, 100, 100, 100 };
	struct fair_sim *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	u64 total = 0;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	sim_init(s, w, NCLIENTS);
	s->overrun[0] = 10;
	sim_window(s);
	for (i = 0; i < 8; i++) {
		sim_window(s);
		/* Its slices are 100 ms: 2 or 3 of them in a second. */
		KUNIT_EXPECT_LE(test, s->used[0], SEC / 4 + 100 * MS);
		total += s->used[0];
	}
	KUNIT_EXPECT_LE(test, abs((s64)total - (s64)(8 * SEC / 4)),
			(s64)(100 * MS));
	/* Time the thread waited for a CPU is not charged. */
	KUNIT_EXPECT_EQ(test, vgpu_fair_slice_charge(100 * MS, 30 * MS),
			70 * MS);
	KUNIT_EXPECT_EQ(test, vgpu_fair_slice_charge(5 * MS, 9 * MS), 0ULL);
}

static void fair_settings_checked(struct kunit *test)
{
	struct vgpu_fair_ent e;

	vgpu_fair_ent_init(&e, VGPU_FAIR_WEIGHT_DEFAULT);
	KUNIT_EXPECT_EQ(test, vgpu_fair_set(&e, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_fair_set(&e, 1001, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_fair_set(&e, 1, 101, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, e.weight, (u32)VGPU_FAIR_WEIGHT_DEFAULT);
	KUNIT_EXPECT_EQ(test, vgpu_fair_set(&e, 1000, 50, 0), 0);
	KUNIT_EXPECT_EQ(test, e.cap, 50U);
}

static struct kunit_case fair_cases[] = {
	KUNIT_CASE(fair_equal_weights),
	KUNIT_CASE(fair_weights),
	KUNIT_CASE(fair_cap_alone_and_with_others),
	KUNIT_CASE(fair_idle_share_redistributed),
	KUNIT_CASE(fair_whole_jobs),
	KUNIT_CASE(fair_overrun_charged),
	KUNIT_CASE(fair_settings_checked),
	{}
};

static struct kunit_suite fair_suite = {
	.name = "vgpu-fair",
	.test_cases = fair_cases,
};

kunit_test_suite(fair_suite);
