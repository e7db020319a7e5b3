// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_fair.c - the weighted fair-share policy (see vgpu_fair.h).
 *
 * A pick, as the caller makes it:
 *
 *	for each entity that has work:
 *		if (vgpu_fair_throttled(e, now))
 *			continue;		(wake at vgpu_fair_ready_at(e))
 *		vgpu_fair_compete(f, e);
 *		if (!best || vgpu_fair_before(e, best))
 *			best = e;
 *	vgpu_fair_picked(f, best);
 *	... run best for a slice, or its whole job, measuring busy ...
 *	vgpu_fair_charge(best, busy, now);
 */
#include "vgpu_fair.h"

void vgpu_fair_init(struct vgpu_fair *f)
{
	f->vmin = 0;
	f->round = 1;
}

void vgpu_fair_ent_init(struct vgpu_fair_ent *e, u32 weight)
{
	memset(e, 0, sizeof(*e));
	e->weight = weight;
}

static s64 vgpu_fair_burst(u32 cap)
{
	return (s64)(VGPU_FAIR_CAP_PERIOD_NS / 100 * cap);
}

/* Adds what a capped entity earned since @e->stamp. */
static void vgpu_fair_refill(struct vgpu_fair_ent *e, u64 now)
{
	u64 dt;

	if (!e->cap || now <= e->stamp)
		return;
	dt = now - e->stamp;
	e->stamp = now;
	if (dt >= VGPU_FAIR_CAP_PERIOD_NS * 100) {
		e->tokens = vgpu_fair_burst(e->cap);	/* any debt is paid */
		return;
	}
	e->tokens += (s64)div_u64(dt * e->cap, 100);
	if (e->tokens > vgpu_fair_burst(e->cap))
		e->tokens = vgpu_fair_burst(e->cap);
}

/**
 * vgpu_fair_set() - change an entity's weight and cap
 * @e: entity
 * @weight: VGPU_FAIR_WEIGHT_MIN..VGPU_FAIR_WEIGHT_MAX
 * @cap: percent of the engine, 1..100, or 0 for none
 * @now: the time, ns
 *
 * A new cap starts with a full bucket; a changed one keeps what the
 * entity has earned, up to the new bucket's size, and its debt.
 *
 * Return: 0, or -EINVAL (nothing changed).
 */
int vgpu_fair_set(struct vgpu_fair_ent *e, u32 weight, u32 cap, u64 now)
{
	if (weight < VGPU_FAIR_WEIGHT_MIN || weight > VGPU_FAIR_WEIGHT_MAX ||
	    cap > 100)
		return -EINVAL;
	vgpu_fair_refill(e, now);
	e->weight = weight;
	if (cap && !e->cap)
		e->tokens = vgpu_fair_burst(cap);
	else if (cap && e->tokens > vgpu_fair_burst(cap))
		e->tokens = vgpu_fair_burst(cap);
	e->cap = cap == 100 ? 0 : cap;
	e->stamp = now;
	return 0;
}

/**
 * vgpu_fair_throttled() - has a capped entity used up its share for now?
 * @e: entity
 * @now: the time, ns
 *
 * Return: true if @e must not run before vgpu_fair_ready_at(@e).
 */
bool vgpu_fair_throttled(struct vgpu_fair_ent *e, u64 now)
{
	vgpu_fair_refill(e, now);
	return e->cap && e->tokens <= 0;
}

/**
 * vgpu_fair_ready_at() - when a throttled entity may run again
 * @e: entity that vgpu_fair_throttled() just found throttled
 *
 * Return: the time, ns, at which its bucket turns positive.
 */
u64 vgpu_fair_ready_at(const struct vgpu_fair_ent *e)
{
	if (!e->cap || e->tokens > 0)
		return e->stamp;
	/* The first time at which (now - stamp) * cap / 100 > debt. */
	return e->stamp + div_u64(((u64)(-e->tokens) + 1) * 100 + e->cap - 1,
				  e->cap);
}

/**
 * vgpu_fair_compete() - enter @e into the current pick
 * @f: its level
 * @e: an entity that has work and is not throttled
 *
 * An entity that did not compete in the previous pick is placed at the
 * level's least virtual time if it is behind it (work conservation).
 */
void vgpu_fair_compete(struct vgpu_fair *f, struct vgpu_fair_ent *e)
{
	if (e->seen != f->round && (s64)(e->vtime - f->vmin) < 0)
		e->vtime = f->vmin;
	e->seen = f->round + 1;
}

/* Should @a run before @b?  (Virtual times compared modulo 2^64.) */
bool vgpu_fair_before(const struct vgpu_fair_ent *a,
		      const struct vgpu_fair_ent *b)
{
	return (s64)(a->vtime - b->vtime) < 0;
}

/* Ends a pick that chose @e, the competitor with the least virtual time. */
void vgpu_fair_picked(struct vgpu_fair *f, const struct vgpu_fair_ent *e)
{
	if ((s64)(e->vtime - f->vmin) > 0)
		f->vmin = e->vtime;
	f->round++;
}

/**
 * vgpu_fair_charge() - charge engine time to the entity that used it
 * @e: entity
 * @busy_ns: measured engine time of its slice or job
 * @now: the time, ns, at the end of it
 */
void vgpu_fair_charge(struct vgpu_fair_ent *e, u64 busy_ns, u64 now)
{
	e->vtime += div_u64(busy_ns * VGPU_FAIR_SCALE, e->weight);
	e->busy_ns += busy_ns;
	if (e->cap) {
		vgpu_fair_refill(e, now);
		e->tokens -= (s64)busy_ns;
	}
}

/**
 * vgpu_fair_slice_charge() - the engine time a slice (or a whole job) costs
 * @busy_ns: its wall time, measured around the engine's run()
 * @waited_ns: of @busy_ns, the time the scheduler's thread was runnable
 *	but waiting for a CPU (preempted by other work of dom0)
 *
 * The client is charged everything its slice made the engine spend,
 * however far past @budget_ns: an engine that overruns its slices (the
 * bridge syncs shadow windows around every RUN, 10-20x a slice) makes
 * the others wait just as long, so charging less would give its client
 * that many times its share.  Charged whole, an overrunning client waits
 * in proportion (its virtual time is that much ahead) and its long-run
 * share, and its share over any window a few of its slices long, stay
 * its weight's.  Only the time the thread itself waited for a CPU is not
 * the client's doing; it is left out (counted as stalled_ns).
 *
 * Return: the time to charge, ns.
 */
u64 vgpu_fair_slice_charge(u64 busy_ns, u64 waited_ns)
{
	return busy_ns > waited_ns ? busy_ns - waited_ns : 0;
}
