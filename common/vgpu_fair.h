/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_fair.h - the weighted fair-share policy of vgpu-back's scheduler,
 * apart from its glue: no locks, no lists, no clock of its own.  The
 * caller (backend/vgpu_sched.c; KUnit and GoogleTest with a simulated
 * clock) holds its lock around every call and passes the time.
 *
 * The policy is virtual time, as in WFQ and CFS.  Each entity (a client;
 * one level down, a context within its client) has a virtual time that
 * grows by the engine time charged to it divided by its weight.  Among
 * the entities that can run, the one with the least virtual time runs
 * next.  So over any busy period each gets engine time in proportion
 * to its weight, measured in engine time, whatever its jobs' sizes.
 *
 * Work conservation: an entity that could not run in the previous pick
 * (idle, its jobs waiting on fences, or throttled by its cap) joins the
 * competition at the least virtual time of those that did, never below:
 * it gets its share at once but no credit for the time it sat out, and
 * the others get its share at once when it leaves.
 *
 * Caps: an entity with a cap of P percent earns engine time at P% of
 * wall time into a bucket holding at most P% of VGPU_FAIR_CAP_PERIOD_NS;
 * it may run while the bucket is positive, and a slice or a whole job
 * (on an engine that cannot preempt) may overdraw it: the debt is paid
 * before it runs again, so the long-run share never exceeds P%.  Caps
 * are not work conserving: a capped entity alone leaves the engine idle.
 */
#ifndef VGPU_FAIR_H
#define VGPU_FAIR_H

#include "vgpu_compat.h"

#define VGPU_FAIR_WEIGHT_MIN		1
#define VGPU_FAIR_WEIGHT_MAX		1000
#define VGPU_FAIR_WEIGHT_DEFAULT	100
/* A capped entity may bank this much wall time's worth of its cap. */
#define VGPU_FAIR_CAP_PERIOD_NS		100000000ULL
/* Virtual time of one ns of engine time at weight 1. */
#define VGPU_FAIR_SCALE			1024ULL

/**
 * struct vgpu_fair - the state shared by the entities of one level
 * @vmin: least virtual time of the last pick's winner (never decreases)
 * @round: picks made so far; starts at 1
 */
struct vgpu_fair {
	u64 vmin;
	u64 round;
};

/**
 * struct vgpu_fair_ent - an entity that competes for the engine
 * @vtime: virtual time
 * @weight: VGPU_FAIR_WEIGHT_MIN..MAX
 * @cap: percent of the engine it may use, 1..100; 0: no cap
 * @tokens: capped: engine ns it may still use (negative: its debt)
 * @stamp: capped: time @tokens was last refilled
 * @seen: the round of the last pick it competed in, plus one
 * @busy_ns: engine time charged to it
 */
struct vgpu_fair_ent {
	u64 vtime;
	u32 weight;
	u32 cap;
	s64 tokens;
	u64 stamp;
	u64 seen;
	u64 busy_ns;
};

void vgpu_fair_init(struct vgpu_fair *f);
void vgpu_fair_ent_init(struct vgpu_fair_ent *e, u32 weight);
int vgpu_fair_set(struct vgpu_fair_ent *e, u32 weight, u32 cap, u64 now);
bool vgpu_fair_throttled(struct vgpu_fair_ent *e, u64 now);
u64 vgpu_fair_ready_at(const struct vgpu_fair_ent *e);
void vgpu_fair_compete(struct vgpu_fair *f, struct vgpu_fair_ent *e);
bool vgpu_fair_before(const struct vgpu_fair_ent *a,
		      const struct vgpu_fair_ent *b);
void vgpu_fair_picked(struct vgpu_fair *f, const struct vgpu_fair_ent *e);
void vgpu_fair_charge(struct vgpu_fair_ent *e, u64 busy_ns, u64 now);
u64 vgpu_fair_slice_charge(u64 busy_ns, u64 waited_ns);

#endif /* VGPU_FAIR_H */
