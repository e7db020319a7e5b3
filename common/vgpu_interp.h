/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_interp.h - the SIMT interpreter of the vgpu-sim reference GPU.
 *
 * One launch is a grid of blocks of threads running the same code.  The
 * interpreter runs the blocks one after the other; inside a block it runs
 * each thread until the thread reaches a barrier, a warp-collective
 * instruction or exits, then the next thread, and releases the barrier
 * when every thread that has not exited has reached it.  Warps (32
 * consecutive threads) go in order: when none of a warp's threads can
 * run, the ones parked at a warp-collective instruction with the lowest
 * pc execute it together (vgpu_warp_release() in vgpu_interp.c), and
 * the warp runs again; the next warp starts when none is parked so.  All
 * state lives in struct vgpu_launch, so a launch can stop after any
 * instruction (budget exhausted: preemption, watchdog) and resume later
 * exactly where it stopped.
 *
 * The interpreter only touches memory through a struct vgpu_pt; it sleeps
 * nowhere and allocates only in vgpu_launch_init().
 */
#ifndef VGPU_INTERP_H
#define VGPU_INTERP_H

#include "vgpu_compat.h"
#include "vgpu_isa.h"
#include "vgpu_isa_decode.h"
#include "vgpu_pt.h"

struct vgpu_launch_desc {
	u64 code_va;		/* entry point, 8-byte aligned */
	u32 grid[3];
	u32 block[3];
	u32 shared_size;	/* bytes of shared memory per block */
	u64 params[VGPU_NUM_PARAMS];
};

enum vgpu_thread_state {
	VGPU_T_READY,
	VGPU_T_BARRIER,
	VGPU_T_EXITED,
	VGPU_T_WARP,	/* parked at a warp-collective instruction (pc on it) */
};

struct vgpu_thread {
	u64 pc;
	u32 state;
	u32 pad;
	u64 clock;		/* instructions issued since the block started */
	u64 r[VGPU_NUM_REGS];
};

#define VGPU_TLB_ENTRIES 64

/*
 * Decoded instructions, by the word's address: a memo of
 * vgpu_isa_decode(), which is a function of the word alone, so an entry
 * whose word equals the one fetched holds its decoding whatever changed
 * since (the code, its mapping): nothing to invalidate.  Every entry
 * always holds a word and its decoding (they start as NOP's).
 */
#define VGPU_DCACHE_ENTRIES 1024

struct vgpu_dcache_entry {
	u64 w;
	struct vgpu_dinsn d;
};

struct vgpu_tlb_entry {
	u64 tag;		/* page number + 1; 0 is an empty entry */
	unsigned long pte;
};

struct vgpu_launch {
	struct vgpu_launch_desc d;
	u32 nthreads;		/* threads per block */
	u64 nblocks;
	u64 block;		/* linear index of the running block */
	u32 cur;		/* thread running in that block */
	u32 exited;		/* threads of the block that have exited */
	bool block_live;	/* threads of @block are initialised */
	bool done;
	struct vgpu_thread *t;
	u8 *shared;
	struct vgpu_dcache_entry *dcache;	/* VGPU_DCACHE_ENTRIES */
	/* Result of the last fault (VGPU_FAULT_*) */
	u32 fault_kind;
	u64 fault_addr;
	u64 fault_pc;
	/* Threads of the running warp parked at VGPU_T_WARP, and its end */
	u32 warp_parked;
	u32 warp_end;		/* the warp's last thread + 1 */
	/* A group's results: every operand is read before any is written */
	u64 warp_val[VGPU_WARP_SIZE];
	struct vgpu_tlb_entry tlb[VGPU_TLB_ENTRIES];
};

/*
 * Work units: the interpreter's budget.  One thread-instruction costs one
 * unit (the soft-float's long operations 8 or 16, see vgpu_alu_extra()
 * in vgpu_interp.c); starting a block (clearing every thread's registers
 * and the block's shared memory), releasing a barrier (a pass over the
 * block's threads) and releasing a warp's group (a pass over the warp's
 * threads, of which each executes the instruction: its own unit was paid
 * when it parked) cost what that work takes in time, at one unit per 32
 * bytes cleared (about one instruction's time) and per thread passed.
 */
#define VGPU_BLOCK_START_COST(nthreads, shared)				\
	((u64)(nthreads) * (sizeof(struct vgpu_thread) / 32) + (shared) / 32 + 1)
#define VGPU_BARRIER_COST(nthreads)	((u64)(nthreads))
#define VGPU_WARP_COST(nthreads)	((u64)(nthreads))	/* the warp's */

enum vgpu_run_result {
	VGPU_RUN_DONE,		/* every thread of every block exited */
	VGPU_RUN_BUDGET,	/* ran out of budget, can resume */
	VGPU_RUN_FAULT,		/* stopped by a fault; see fault_* */
};

/**
 * vgpu_launch_check() - validate the geometry of a launch
 * @d: launch description
 *
 * Return: 0 or -EINVAL.
 */
static inline int vgpu_launch_check(const struct vgpu_launch_desc *d)
{
	u64 threads = 1;
	int i;

	if (d->code_va & (VGPU_INSN_SIZE - 1) || d->code_va >= VGPU_VA_SIZE)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		if (!d->grid[i] ||
		    d->grid[i] > (i ? VGPU_MAX_GRID_DIM : VGPU_MAX_GRID_DIM_X))
			return -EINVAL;
		if (!d->block[i] || d->block[i] > VGPU_MAX_BLOCK_THREADS)
			return -EINVAL;
		threads *= d->block[i];
	}
	if (threads > VGPU_MAX_BLOCK_THREADS || d->shared_size > VGPU_MAX_SHARED)
		return -EINVAL;
	return 0;
}

int vgpu_launch_init(struct vgpu_launch *l, const struct vgpu_launch_desc *d);
void vgpu_launch_fini(struct vgpu_launch *l);
enum vgpu_run_result vgpu_launch_run(struct vgpu_launch *l,
				     const struct vgpu_pt *pt, u64 budget,
				     u64 *executed);

/*
 * GPU-side memory copy and fill through page tables, with checks, in
 * chunks of at most @max bytes per call (resumable at *@done).
 */
enum vgpu_run_result vgpu_mem_copy(const struct vgpu_pt *pt, u64 dst, u64 src,
				   u64 size, u64 *done, u64 max,
				   u64 *fault_addr, u32 *fault_kind);
enum vgpu_run_result vgpu_mem_fill(const struct vgpu_pt *pt, u64 dst,
				   u64 size, u32 value, u64 *done, u64 max,
				   u64 *fault_addr, u32 *fault_kind);

#endif /* VGPU_INTERP_H */
