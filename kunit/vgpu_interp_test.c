// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of the vgpu-sim interpreter: every instruction class,
 * barriers, shared memory, atomics, faults, budgets and preemption.
 */
#include <kunit/test.h>
#include <linux/vmalloc.h>

#include "../common/vgpu_interp.h"

#define CODE_VA	0x100000ULL
#define DATA_VA	0x200000ULL
#define RO_VA	0x300000ULL
#define I(op, rd, ra, rb, imm) VGPU_INSN(VGPU_OP_##op, rd, ra, rb, imm)

struct interp_env {
	struct vgpu_pt pt;
	u64 *code;
	u8 *data;
	u8 *ro;
	struct vgpu_launch l;
};

static int interp_init(struct kunit *test)
{
	struct interp_env *e = vzalloc(sizeof(*e));

	KUNIT_ASSERT_NOT_NULL(test, e);
	e->code = vzalloc(2 * PAGE_SIZE);
	e->data = vzalloc(4 * PAGE_SIZE);
	e->ro = vzalloc(PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, e->code && e->data && e->ro);
	vgpu_pt_init(&e->pt);
	KUNIT_ASSERT_EQ(test, vgpu_pt_map(&e->pt, CODE_VA, (u8 *)e->code,
					  2 * PAGE_SIZE, VGPU_PTE_R | VGPU_PTE_X), 0);
	KUNIT_ASSERT_EQ(test, vgpu_pt_map(&e->pt, DATA_VA, e->data, 4 * PAGE_SIZE,
					  VGPU_PTE_R | VGPU_PTE_W), 0);
	KUNIT_ASSERT_EQ(test, vgpu_pt_map(&e->pt, RO_VA, e->ro, PAGE_SIZE,
					  VGPU_PTE_R), 0);
	test->priv = e;
	return 0;
}

static void interp_exit(struct kunit *test)
{
	struct interp_env *e = test->priv;

	vgpu_pt_fini(&e->pt);
	vfree(e->code);
	vfree(e->data);
	vfree(e->ro);
	vfree(e);
}

/* Loads @prog and runs it in slices of @slice; returns the last result. */
static enum vgpu_run_result run(struct kunit *test, const u64 *prog, size_t n,
				u32 grid, u32 block, u32 shared, u64 slice,
				u64 limit)
{
	struct interp_env *e = test->priv;
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA,
		.grid = { grid, 1, 1 },
		.block = { block, 1, 1 },
		.shared_size = shared,
		.params = { DATA_VA },
	};
	enum vgpu_run_result r = VGPU_RUN_BUDGET;
	u64 total = 0, ran;

	memcpy(e->code, prog, n * sizeof(*prog));
	KUNIT_ASSERT_EQ(test, vgpu_launch_init(&e->l, &d), 0);
	while (r == VGPU_RUN_BUDGET && total < limit) {
		r = vgpu_launch_run(&e->l, &e->pt, min(slice, limit - total), &ran);
		total += ran;
	}
	vgpu_launch_fini(&e->l);
	return r;
}

static void interp_integer(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(LDP, 10, 0, 0, 0), I(LI, 1, 0, 0, 7), I(LI, 2, 0, 0, -3),
		I(ADD, 3, 1, 2, 0), I(ST_U64, 0, 10, 3, 0),
		I(MUL, 3, 1, 2, 0), I(ST_U64, 0, 10, 3, 8),
		I(DIV, 3, 1, 2, 0), I(ST_U64, 0, 10, 3, 16),
		I(LI, 4, 0, 0, 0), I(DIVU, 3, 1, 4, 0), I(ST_U64, 0, 10, 3, 24),
		I(REMU, 3, 1, 4, 0), I(ST_U64, 0, 10, 3, 32),
		I(SARI, 3, 2, 0, 1), I(ST_U64, 0, 10, 3, 40),
		I(SLT, 3, 2, 1, 0), I(SLTU, 5, 2, 1, 0), I(SHLI, 5, 5, 0, 1),
		I(OR, 3, 3, 5, 0), I(ST_U64, 0, 10, 3, 48),
		I(LI, 6, 0, 0, 1), I(LIH, 6, 0, 0, 2), I(ST_U64, 0, 10, 6, 56),
		I(EXIT, 0, 0, 0, 0),
	};
	u64 *o = (u64 *)e->data;

	KUNIT_ASSERT_EQ(test, run(test, prog, ARRAY_SIZE(prog), 1, 1, 0, ~0ULL,
				  ~0ULL), VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, (s64)o[0], 4);
	KUNIT_EXPECT_EQ(test, (s64)o[1], -21);
	KUNIT_EXPECT_EQ(test, (s64)o[2], -2);
	KUNIT_EXPECT_EQ(test, o[3], U64_MAX);
	KUNIT_EXPECT_EQ(test, o[4], 7ULL);
	KUNIT_EXPECT_EQ(test, (s64)o[5], -2);
	KUNIT_EXPECT_EQ(test, o[6], 1ULL);
	KUNIT_EXPECT_EQ(test, o[7], 0x200000001ULL);
}

/*
 * ISA version 2 in the kernel's build: binary64 in two roundings each, a
 * conversion, a shared 64-bit atomic, popc and the lane register.
 */
static void interp_isa2(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(LDP, 10, 0, 0, 0),
		I(LI, 1, 0, 0, 0), I(LIH, 1, 0, 0, 0x3ff00000),	/* 1.0 */
		I(LI, 2, 0, 0, 0), I(LIH, 2, 0, 0, 0x40080000),	/* 3.0 */
		I(DDIV, 3, 1, 2, VGPU_IMM_REGS(0, 0, VGPU_RND_RN)),
		I(ST_U64, 0, 10, 3, 0),
		I(DDIV, 3, 1, 2, VGPU_IMM_REGS(0, 0, VGPU_RND_RP)),
		I(ST_U64, 0, 10, 3, 8),
		I(LI, 4, 0, 0, 0), I(LIH, 4, 0, 0, 0x40000000),	/* 2.0 */
		I(DSQRT, 3, 4, 0, VGPU_IMM_REGS(0, 0, VGPU_RND_RN)),
		I(ST_U64, 0, 10, 3, 16),
		I(DSQRT, 3, 4, 0, VGPU_IMM_REGS(0, 0, VGPU_RND_RZ)),
		I(ST_U64, 0, 10, 3, 24),
		I(DFMA, 3, 2, 2, VGPU_IMM_REGS(1, 0, 0)),	/* 3 * 3 + 1 */
		I(D2I, 3, 3, 0, VGPU_IMM_REGS(0, 0, VGPU_IW_8 << 2)),
		I(ST_U64, 0, 10, 3, 32),
		I(LI, 5, 0, 0, 40), I(ATOMS_ADD64, 6, 0, 5, 8),
		I(LDS_U64, 6, 0, 0, 8), I(ST_U64, 0, 10, 6, 40),
		I(LI, 7, 0, 0, 0xf0f0), I(POPC, 3, 7, 0, 0),
		I(ST_U64, 0, 10, 3, 48),
		I(S2R, 3, 0, 0, VGPU_SR_LANEID), I(ST_U64, 0, 10, 3, 56),
		I(EXIT, 0, 0, 0, 0),
	};
	u64 *o = (u64 *)e->data;

	KUNIT_ASSERT_EQ(test, run(test, prog, ARRAY_SIZE(prog), 1, 1, 16, ~0ULL,
				  ~0ULL), VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, o[0], 0x3fd5555555555555ULL);	/* 1/3 */
	KUNIT_EXPECT_EQ(test, o[1], 0x3fd5555555555556ULL);	/* 1/3 up */
	KUNIT_EXPECT_EQ(test, o[2], 0x3ff6a09e667f3bcdULL);	/* sqrt 2 */
	KUNIT_EXPECT_EQ(test, o[3], 0x3ff6a09e667f3bccULL);	/* toward 0 */
	KUNIT_EXPECT_EQ(test, o[4], 10ULL);
	KUNIT_EXPECT_EQ(test, o[5], 40ULL);
	KUNIT_EXPECT_EQ(test, o[6], 8ULL);
	KUNIT_EXPECT_EQ(test, o[7], 0ULL);
}

/*
 * Warps: the even and odd lanes of each warp (a block of 40 threads: a
 * full warp and one of 8) reach an activemask at two pcs; the lower pc's
 * group executes first and runs on (an even lane takes a ticket from a
 * shared counter, in lane order), then the odd lanes' (they read the
 * count), then both meet at a shfl.down (from a lane that is not
 * there: 0); the same when stopped after
 * every work unit, which is charged exactly: one unit per
 * thread-instruction and VGPU_WARP_COST of the warp for each release.
 */
static const u64 warp_prog[] = {
	I(S2R, 1, 0, 0, VGPU_SR_LANEID), I(S2R, 2, 0, 0, VGPU_SR_WARPID),
	I(SHLI, 2, 2, 0, 2), I(ANDI, 3, 1, 0, 1), I(BNZ, 0, 3, 0, 5),
	I(ACTIVEMASK, 4, 0, 0, 0), I(LI, 5, 0, 0, 1),
	I(ATOMS_ADD, 6, 2, 5, 0), I(BRA, 0, 0, 0, 3),
	I(ACTIVEMASK, 4, 0, 0, 0), I(LDS_U32, 6, 2, 0, 0),
	I(LI, 7, 0, 0, -1), I(LI, 8, 0, 0, 1), I(LI, 9, 0, 0, 31),
	I(SHFL, 10, 1, 8, VGPU_IMM_REGS(9, 7, VGPU_SHFL_DOWN)),
	I(S2R, 11, 0, 0, VGPU_SR_TID_X), I(SHLI, 11, 11, 0, 5),
	I(LDP, 12, 0, 0, 0), I(ADD, 12, 12, 11, 0),
	I(ST_U64, 0, 12, 4, 0), I(ST_U64, 0, 12, 6, 8),
	I(ST_U64, 0, 12, 10, 16), I(EXIT, 0, 0, 0, 0),
};

static void interp_warp_release_at(struct kunit *test, u64 slice)
{
	struct interp_env *e = test->priv;
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA, .grid = { 1, 1, 1 }, .block = { 40, 1, 1 },
		.shared_size = 16, .params = { DATA_VA },
	};
	enum vgpu_run_result r;
	u64 *o = (u64 *)e->data, ran, total = 0;
	u32 t, lane, n;

	memcpy(e->code, warp_prog, sizeof(warp_prog));
	KUNIT_ASSERT_EQ(test, vgpu_launch_init(&e->l, &d), 0);
	do {
		r = vgpu_launch_run(&e->l, &e->pt, slice, &ran);
		total += ran;
	} while (r == VGPU_RUN_BUDGET);
	vgpu_launch_fini(&e->l);
	KUNIT_ASSERT_EQ(test, r, VGPU_RUN_DONE);
	/* 21 and 19 instructions a thread, three releases a warp */
	KUNIT_EXPECT_EQ(test, total, 20 * 21 + 20 * 19 +
			3 * (VGPU_WARP_COST(32) + VGPU_WARP_COST(8)) +
			VGPU_BLOCK_START_COST(40, 16));
	for (t = 0; t < 40; t++) {
		lane = t % 32;
		n = t < 32 ? 32 : 8;
		KUNIT_EXPECT_EQ(test, o[t * 4], (lane & 1 ? 0xaaaaaaaaULL : 0x55555555ULL) &
				(n == 32 ? 0xffffffffULL : 0xffULL));
		KUNIT_EXPECT_EQ(test, o[t * 4 + 1], (u64)(lane & 1 ? n / 2 : lane / 2));
		/* lane 31 is out of range (its own), 8 of 8 not there (0) */
		KUNIT_EXPECT_EQ(test, o[t * 4 + 2],
				(u64)(lane + 1 < n ? lane + 1 : lane == 31 ? lane : 0));
	}
}

static void interp_warp_release(struct kunit *test)
{
	struct interp_env *e = test->priv;

	interp_warp_release_at(test, ~0ULL);
	memset(e->data, 0, 4 * PAGE_SIZE);
	interp_warp_release_at(test, 1);
}

/*
 * %clock64: the thread's instructions since its block started, one each
 * (dsqrt's extra units and a barrier's wait do not count), the same
 * when the launch stops after every work unit.
 */
static void interp_clock_at(struct kunit *test, u64 slice)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(S2R, 1, 0, 0, VGPU_SR_CLOCK64), I(LI, 3, 0, 0, 0),
		I(LIH, 3, 0, 0, 0x40000000), I(DSQRT, 3, 3, 0, 0),
		I(S2R, 2, 0, 0, VGPU_SR_CLOCK64), I(BAR, 0, 0, 0, 0),
		I(S2R, 4, 0, 0, VGPU_SR_TID_X), I(BZ, 0, 4, 0, 3),
		I(ADDI, 4, 4, 0, -1), I(BRA, 0, 0, 0, -2),
		I(S2R, 5, 0, 0, VGPU_SR_CLOCK64),
		I(S2R, 6, 0, 0, VGPU_SR_TID_X), I(SHLI, 6, 6, 0, 4),
		I(LDP, 10, 0, 0, 0), I(ADD, 10, 10, 6, 0),
		I(SUB, 2, 2, 1, 0), I(ST_U64, 0, 10, 2, 0),
		I(ST_U64, 0, 10, 5, 8), I(EXIT, 0, 0, 0, 0),
	};
	u64 *o = (u64 *)e->data;
	u32 t;

	KUNIT_ASSERT_EQ(test, run(test, prog, ARRAY_SIZE(prog), 1, 3, 0, slice,
				  ~0ULL), VGPU_RUN_DONE);
	for (t = 0; t < 3; t++) {
		KUNIT_EXPECT_EQ(test, o[2 * t], 4ULL);
		KUNIT_EXPECT_EQ(test, o[2 * t + 1], 8 + 3ULL * t);
	}
}

static void interp_clock(struct kunit *test)
{
	struct interp_env *e = test->priv;

	interp_clock_at(test, ~0ULL);
	memset(e->data, 0, 4 * PAGE_SIZE);
	interp_clock_at(test, 1);
}

static void interp_float(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(LDP, 10, 0, 0, 0),
		I(LI, 1, 0, 0, 0x3fc00000),		/* 1.5 */
		I(LI, 2, 0, 0, (s32)0xc0100000),	/* -2.25 */
		I(FADD, 3, 1, 2, 0), I(ST_U32, 0, 10, 3, 0),
		I(FMUL, 3, 1, 2, 0), I(ST_U32, 0, 10, 3, 4),
		I(FDIV, 3, 2, 1, 0), I(ST_U32, 0, 10, 3, 8),
		I(LI, 4, 0, 0, -7), I(I2F, 3, 4, 0, 0), I(ST_U32, 0, 10, 3, 12),
		I(LI, 4, 0, 0, (s32)0xc0700000),	/* -3.75 */
		I(F2I, 3, 4, 0, 0), I(ST_U64, 0, 10, 3, 16),
		I(FSLT, 3, 2, 1, 0), I(ST_U64, 0, 10, 3, 24),
		I(EXIT, 0, 0, 0, 0),
	};
	u32 *o = (u32 *)e->data;

	KUNIT_ASSERT_EQ(test, run(test, prog, ARRAY_SIZE(prog), 1, 1, 0, ~0ULL,
				  ~0ULL), VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, o[0], 0xbf400000u);	/* -0.75 */
	KUNIT_EXPECT_EQ(test, o[1], 0xc0580000u);	/* -3.375 */
	KUNIT_EXPECT_EQ(test, o[2], 0xbfc00000u);	/* -1.5 */
	KUNIT_EXPECT_EQ(test, o[3], 0xc0e00000u);	/* -7.0 */
	KUNIT_EXPECT_EQ(test, (s64)((u64 *)o)[2], -3);
	KUNIT_EXPECT_EQ(test, ((u64 *)o)[3], 1ULL);
}

static void interp_branch_and_sregs(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(LDP, 10, 0, 0, 0), I(LI, 1, 0, 0, 0), I(LI, 2, 0, 0, 10),
		I(ADD, 1, 1, 2, 0), I(ADDI, 2, 2, 0, -1), I(BNZ, 0, 2, 0, -2),
		I(S2R, 3, 0, 0, VGPU_SR_TID_X), I(S2R, 4, 0, 0, VGPU_SR_CTAID_X),
		I(MULI, 4, 4, 0, 4), I(ADD, 3, 3, 4, 0),
		I(SHLI, 3, 3, 0, 3), I(ADD, 3, 3, 10, 0),
		I(ST_U64, 0, 3, 1, 0), I(EXIT, 0, 0, 0, 0),
	};
	u64 *o = (u64 *)e->data;
	int i;

	KUNIT_ASSERT_EQ(test, run(test, prog, ARRAY_SIZE(prog), 3, 4, 0, ~0ULL,
				  ~0ULL), VGPU_RUN_DONE);
	for (i = 0; i < 12; i++)
		KUNIT_EXPECT_EQ(test, o[i], 55ULL);
	KUNIT_EXPECT_EQ(test, o[12], 0ULL);
}

static const u64 reverse_prog[] = {
	I(S2R, 1, 0, 0, VGPU_SR_TID_X), I(S2R, 2, 0, 0, VGPU_SR_NTID_X),
	I(SHLI, 3, 1, 0, 2), I(LDP, 4, 0, 0, 0), I(ADD, 5, 4, 3, 0),
	I(LD_U32, 6, 5, 0, 0), I(STS_U32, 0, 3, 6, 0), I(BAR, 0, 0, 0, 0),
	I(SUB, 7, 2, 1, 0), I(ADDI, 7, 7, 0, -1), I(SHLI, 7, 7, 0, 2),
	I(LDS_U32, 8, 7, 0, 0), I(ST_U32, 0, 5, 8, 0), I(EXIT, 0, 0, 0, 0),
};

/* Reverses 64 values through shared memory, stopping every @slice. */
static void interp_reverse(struct kunit *test, u64 slice)
{
	struct interp_env *e = test->priv;
	u32 *o = (u32 *)e->data;
	int i;

	for (i = 0; i < 64; i++)
		o[i] = i * 5 + 1;
	KUNIT_ASSERT_EQ(test, run(test, reverse_prog, ARRAY_SIZE(reverse_prog),
				  1, 64, 256, slice, ~0ULL), VGPU_RUN_DONE);
	for (i = 0; i < 64; i++)
		KUNIT_EXPECT_EQ(test, o[i], (u32)((63 - i) * 5 + 1));
}

static void interp_shared_barrier(struct kunit *test)
{
	interp_reverse(test, ~0ULL);
}

/* Stopping and resuming after every 3 thread-instructions changes nothing. */
static void interp_preemption_is_transparent(struct kunit *test)
{
	interp_reverse(test, 3);
}

static void interp_atomics(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(LDP, 1, 0, 0, 0), I(LI, 2, 0, 0, 1), I(ATOM_ADD, 3, 1, 2, 0),
		I(LI, 4, 0, 0, 5), I(LI, 5, 0, 0, 77), I(ATOM_CAS, 4, 1, 5, 4),
		I(S2R, 6, 0, 0, VGPU_SR_TID_X), I(ATOM_MAX, 7, 1, 6, 8),
		I(LI, 8, 0, 0, 0x3f800000), I(ATOM_FADD, 9, 1, 8, 12),
		I(EXIT, 0, 0, 0, 0),
	};
	u32 *o = (u32 *)e->data;

	o[1] = 5;
	KUNIT_ASSERT_EQ(test, run(test, prog, ARRAY_SIZE(prog), 4, 32, 0, ~0ULL,
				  ~0ULL), VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, o[0], 128u);
	KUNIT_EXPECT_EQ(test, o[1], 77u);
	KUNIT_EXPECT_EQ(test, o[2], 31u);
	KUNIT_EXPECT_EQ(test, o[3], 0x43000000u);	/* 128.0f */
}

static void interp_budget_stops_endless_loop(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = { I(ADDI, 1, 1, 0, 1), I(BRA, 0, 0, 0, -1) };
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA, .grid = { 1, 1, 1 }, .block = { 8, 1, 1 },
	};
	u64 ran;

	memcpy(e->code, prog, sizeof(prog));
	KUNIT_ASSERT_EQ(test, vgpu_launch_init(&e->l, &d), 0);
	KUNIT_EXPECT_EQ(test, vgpu_launch_run(&e->l, &e->pt, 10000, &ran),
			VGPU_RUN_BUDGET);
	KUNIT_EXPECT_EQ(test, ran, 10000ULL);
	KUNIT_EXPECT_EQ(test, vgpu_launch_run(&e->l, &e->pt, 500, &ran),
			VGPU_RUN_BUDGET);
	KUNIT_EXPECT_EQ(test, ran, 500ULL);
	/* Thread 0 ran everything but the block's start; add comes first. */
	KUNIT_EXPECT_EQ(test, e->l.t[0].r[1],
			(10500 - VGPU_BLOCK_START_COST(8, 0) + 1) / 2);
	vgpu_launch_fini(&e->l);
}

struct fault_case {
	const char *name;
	u64 insn;
	u32 kind;
	u64 addr;
};

static const struct fault_case fault_cases[] = {
	{ "unmapped load", I(LD_U32, 2, 1, 0, 0x4000), VGPU_FAULT_UNMAPPED, DATA_VA + 0x4000 },
	{ "store to read-only", I(ST_U32, 0, 1, 1, 0x100000), VGPU_FAULT_PERM, RO_VA },
	{ "atomic on read-only", I(ATOM_ADD, 2, 1, 1, 0x100004), VGPU_FAULT_PERM, RO_VA + 4 },
	{ "misaligned", I(LD_U64, 2, 1, 0, 4), VGPU_FAULT_MISALIGNED, DATA_VA + 4 },
	{ "shared out of bounds", I(LDS_U32, 2, 0, 0, 64), VGPU_FAULT_SHARED, 64 },
	{ "execute without X", I(BRA, 0, 0, 0, 0x1ffff), VGPU_FAULT_PERM, DATA_VA },
	{ "undefined opcode", 0xff, VGPU_FAULT_ILLEGAL, CODE_VA + 8 },
	{ "register out of range", I(ADD, 32, 0, 0, 0), VGPU_FAULT_ILLEGAL, CODE_VA + 8 },
	{ "parameter out of range", I(LDP, 2, 0, 0, 8), VGPU_FAULT_ILLEGAL, CODE_VA + 8 },
};

static void fault_case_desc(const struct fault_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(fault, fault_cases, fault_case_desc);

static void interp_faults(struct kunit *test)
{
	const struct fault_case *c = test->param_value;
	struct interp_env *e = test->priv;
	const u64 prog[] = { I(LDP, 1, 0, 0, 0), c->insn, I(EXIT, 0, 0, 0, 0) };
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA, .grid = { 2, 1, 1 }, .block = { 4, 1, 1 },
		.shared_size = 64, .params = { DATA_VA },
	};
	u64 ran;

	memcpy(e->code, prog, sizeof(prog));
	KUNIT_ASSERT_EQ(test, vgpu_launch_init(&e->l, &d), 0);
	KUNIT_EXPECT_EQ(test, vgpu_launch_run(&e->l, &e->pt, ~0ULL, &ran),
			VGPU_RUN_FAULT);
	KUNIT_EXPECT_EQ(test, e->l.fault_kind, c->kind);
	KUNIT_EXPECT_EQ(test, e->l.fault_addr, c->addr);
	vgpu_launch_fini(&e->l);
}

static void interp_copy_fill(struct kunit *test)
{
	struct interp_env *e = test->priv;
	u64 addr = 0, done = 0;
	u32 kind = 0;
	u32 *o = (u32 *)e->data;

	KUNIT_EXPECT_EQ(test, vgpu_mem_fill(&e->pt, DATA_VA + 4092, 8, 0xabcd,
					    &done, ~0ULL, &addr, &kind),
			VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, done, 8ULL);
	KUNIT_EXPECT_EQ(test, o[1023], 0xabcdu);
	KUNIT_EXPECT_EQ(test, o[1024], 0xabcdu);
	done = 0;
	KUNIT_EXPECT_EQ(test, vgpu_mem_copy(&e->pt, DATA_VA, DATA_VA + 4092, 8,
					    &done, ~0ULL, &addr, &kind),
			VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, o[0], 0xabcdu);
	done = 0;
	KUNIT_EXPECT_EQ(test, vgpu_mem_copy(&e->pt, RO_VA, DATA_VA, 4, &done,
					    ~0ULL, &addr, &kind),
			VGPU_RUN_FAULT);
	KUNIT_EXPECT_EQ(test, kind, (u32)VGPU_FAULT_PERM);
	KUNIT_EXPECT_EQ(test, addr, RO_VA);
	done = 0;
	KUNIT_EXPECT_EQ(test, vgpu_mem_fill(&e->pt, DATA_VA + 2, 4, 0, &done,
					    ~0ULL, &addr, &kind),
			VGPU_RUN_FAULT);
	KUNIT_EXPECT_EQ(test, kind, (u32)VGPU_FAULT_MISALIGNED);
}

/*
 * A copy or fill stops after each chunk however large it is, and resumes
 * where it stopped: the engine can look at its clock in between.  Here
 * the same pages are mapped at every 16 KiB of a 1 MiB range (aliases),
 * the worst case for a copy without chunks.
 */
static void interp_copy_fill_chunks(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 alias = 0x1000000, span = 0x100000, chunk = 8192;
	u64 addr = 0, done = 0, va, calls = 0;
	enum vgpu_run_result r;
	u32 kind = 0;
	u32 *o = (u32 *)e->data;

	for (va = alias; va < alias + span; va += 4 * PAGE_SIZE)
		KUNIT_ASSERT_EQ(test, vgpu_pt_map(&e->pt, va, e->data,
						  4 * PAGE_SIZE,
						  VGPU_PTE_R | VGPU_PTE_W), 0);
	do {
		u64 before = done;

		r = vgpu_mem_fill(&e->pt, alias, span, 0x5a5a, &done, chunk,
				  &addr, &kind);
		KUNIT_EXPECT_LE(test, done - before, chunk);
		calls++;
	} while (r == VGPU_RUN_BUDGET && calls < 1000);
	KUNIT_EXPECT_EQ(test, r, VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, done, span);
	KUNIT_EXPECT_EQ(test, calls, span / chunk);
	KUNIT_EXPECT_EQ(test, o[4095], 0x5a5au);
	o[0] = 7;
	done = 0;
	calls = 0;
	do {
		r = vgpu_mem_copy(&e->pt, alias + 4 * PAGE_SIZE, alias,
				  span - 4 * PAGE_SIZE, &done, chunk, &addr,
				  &kind);
		calls++;
	} while (r == VGPU_RUN_BUDGET && calls < 1000);
	KUNIT_EXPECT_EQ(test, r, VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, calls, (span - 4 * PAGE_SIZE) / chunk);
	KUNIT_EXPECT_EQ(test, o[0], 7u);
}

/*
 * Starting a block costs budget: a grid of 65535 one-thread blocks that
 * clear 48 KiB of shared memory each and run one instruction must not
 * fit in a budget of 65536 units (it did when only instructions counted).
 */
static void interp_block_start_is_charged(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = { I(EXIT, 0, 0, 0, 0) };
	const u64 cost = VGPU_BLOCK_START_COST(1, VGPU_MAX_SHARED);
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA, .grid = { 65535, 1, 1 },
		.block = { 1, 1, 1 }, .shared_size = VGPU_MAX_SHARED,
	};
	u64 ran;

	memcpy(e->code, prog, sizeof(prog));
	KUNIT_ASSERT_EQ(test, vgpu_launch_init(&e->l, &d), 0);
	KUNIT_EXPECT_EQ(test, vgpu_launch_run(&e->l, &e->pt, 65536, &ran),
			VGPU_RUN_BUDGET);
	KUNIT_EXPECT_LE(test, e->l.block, 65536 / (cost + 1) + 1);
	KUNIT_EXPECT_LE(test, ran, 65536 + cost);
	vgpu_launch_fini(&e->l);
}

/*
 * Grids as CUDA allows them: up to 2^31 - 1 blocks in x, 65535 in y and
 * z.  70000 blocks in x run once each, with their own ctaid.x.
 */
static void interp_grid_x_beyond_65535(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(LDP, 10, 0, 0, 0), I(S2R, 1, 0, 0, VGPU_SR_CTAID_X),
		I(S2R, 2, 0, 0, VGPU_SR_NCTAID_X), I(ST_U32, 0, 10, 1, 0),
		I(ST_U32, 0, 10, 2, 4), I(LI, 3, 0, 0, 1), I(ADDI, 4, 10, 0, 8),
		I(ATOM_ADD, 5, 4, 3, 0), I(EXIT, 0, 0, 0, 0),
	};
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA, .grid = { VGPU_MAX_GRID_DIM_X, 1, 1 },
		.block = { 1, 1, 1 },
	};
	u32 *o = (u32 *)e->data;

	KUNIT_EXPECT_EQ(test, vgpu_launch_check(&d), 0);
	d.grid[0] = VGPU_MAX_GRID_DIM_X + 1U;
	KUNIT_EXPECT_EQ(test, vgpu_launch_check(&d), -EINVAL);
	d.grid[0] = 1;
	d.grid[1] = VGPU_MAX_GRID_DIM + 1;
	KUNIT_EXPECT_EQ(test, vgpu_launch_check(&d), -EINVAL);
	d.grid[1] = 1;
	d.grid[2] = VGPU_MAX_GRID_DIM + 1;
	KUNIT_EXPECT_EQ(test, vgpu_launch_check(&d), -EINVAL);
	d.grid[2] = VGPU_MAX_GRID_DIM;
	KUNIT_EXPECT_EQ(test, vgpu_launch_check(&d), 0);

	KUNIT_ASSERT_EQ(test, run(test, prog, ARRAY_SIZE(prog), 70000, 1, 0,
				  ~0ULL, ~0ULL), VGPU_RUN_DONE);
	KUNIT_EXPECT_EQ(test, o[0], 69999u);	/* the last block's ctaid.x */
	KUNIT_EXPECT_EQ(test, o[1], 70000u);	/* nctaid.x */
	KUNIT_EXPECT_EQ(test, o[2], 70000u);	/* every block once */
}

/* Barrier rounds cost budget too: 1024 threads, 64 barriers each. */
static void interp_barrier_is_charged(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(LI, 1, 0, 0, 64), I(BAR, 0, 0, 0, 0), I(ADDI, 1, 1, 0, -1),
		I(BNZ, 0, 1, 0, -2), I(EXIT, 0, 0, 0, 0),
	};
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA, .grid = { 1, 1, 1 }, .block = { 1024, 1, 1 },
	};
	u64 ran, total = 0;
	enum vgpu_run_result r;

	memcpy(e->code, prog, sizeof(prog));
	KUNIT_ASSERT_EQ(test, vgpu_launch_init(&e->l, &d), 0);
	do {
		r = vgpu_launch_run(&e->l, &e->pt, 4096, &ran);
		total += ran;
	} while (r == VGPU_RUN_BUDGET);
	KUNIT_EXPECT_EQ(test, r, VGPU_RUN_DONE);
	/* 1 + 64 * 3 + 1 instructions a thread, 64 releases, one start */
	KUNIT_EXPECT_EQ(test, total, 1024ULL * 194 + 64 * 1024 +
			VGPU_BLOCK_START_COST(1024, 0));
	vgpu_launch_fini(&e->l);
}

/*
 * Decoded instructions are remembered by their word: code changed between
 * two slices of one launch runs as changed (the loop's step goes from 1
 * to 10 after the first slice; a memo by address alone would keep 1).
 */
static void interp_code_changed_between_slices(struct kunit *test)
{
	struct interp_env *e = test->priv;
	const u64 prog[] = {
		I(ADDI, 1, 1, 0, 1), I(SLTI, 3, 1, 0, 4), I(BNZ, 0, 3, 0, -2),
		I(LDP, 4, 0, 0, 0), I(ST_U64, 0, 4, 1, 0), I(EXIT, 0, 0, 0, 0),
	};
	struct vgpu_launch_desc d = {
		.code_va = CODE_VA, .grid = { 1, 1, 1 }, .block = { 1, 1, 1 },
		.params = { DATA_VA },
	};
	u64 *o = (u64 *)e->data, ran;

	memcpy(e->code, prog, sizeof(prog));
	KUNIT_ASSERT_EQ(test, vgpu_launch_init(&e->l, &d), 0);
	/* the block's start, then addi, slti, bnz: back at the addi */
	KUNIT_EXPECT_EQ(test, vgpu_launch_run(&e->l, &e->pt,
					      VGPU_BLOCK_START_COST(1, 0) + 3, &ran),
			VGPU_RUN_BUDGET);
	e->code[0] = I(ADDI, 1, 1, 0, 10);
	KUNIT_EXPECT_EQ(test, vgpu_launch_run(&e->l, &e->pt, ~0ULL, &ran),
			VGPU_RUN_DONE);
	vgpu_launch_fini(&e->l);
	KUNIT_EXPECT_EQ(test, o[0], 11ULL);
}

static struct kunit_case interp_cases[] = {
	KUNIT_CASE(interp_integer),
	KUNIT_CASE(interp_float),
	KUNIT_CASE(interp_isa2),
	KUNIT_CASE(interp_warp_release),
	KUNIT_CASE(interp_clock),
	KUNIT_CASE(interp_branch_and_sregs),
	KUNIT_CASE(interp_shared_barrier),
	KUNIT_CASE(interp_preemption_is_transparent),
	KUNIT_CASE(interp_atomics),
	KUNIT_CASE(interp_budget_stops_endless_loop),
	KUNIT_CASE_PARAM(interp_faults, fault_gen_params),
	KUNIT_CASE(interp_copy_fill),
	KUNIT_CASE(interp_copy_fill_chunks),
	KUNIT_CASE(interp_block_start_is_charged),
	KUNIT_CASE(interp_grid_x_beyond_65535),
	KUNIT_CASE(interp_barrier_is_charged),
	KUNIT_CASE(interp_code_changed_between_slices),
	{}
};

static struct kunit_suite interp_suite = {
	.name = "vgpu-interp",
	.init = interp_init,
	.exit = interp_exit,
	.test_cases = interp_cases,
};

kunit_test_suite(interp_suite);
