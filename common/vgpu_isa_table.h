/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_isa_table.h - mnemonics and operand formats of the vgpu-sim ISA,
 * for assemblers, disassemblers and documentation tools, made from the
 * one instruction table (vgpu_isa_ops.h).
 */
#ifndef VGPU_ISA_TABLE_H
#define VGPU_ISA_TABLE_H

#include "vgpu_isa.h"

struct vgpu_op_info {
	const char *name;
	__u8 opcode;
	__u8 fmt;	/* enum vgpu_fmt */
	__u8 mod;	/* enum vgpu_mod */
	__u8 flags;	/* VGPU_OPF_* */
};

static const struct vgpu_op_info vgpu_op_table[] = {
#define VGPU_OP(name, mnem, fmt, mod, flags)				\
	{ mnem, VGPU_OP_##name, VGPU_FMT_##fmt, VGPU_MOD_##mod, flags },
#include "vgpu_isa_ops.h"
#undef VGPU_OP
};

/* Suffixes of the modifiers, by value (vgpu-as, disassembly). */
static const char *const vgpu_rnd_names[] = { "rn", "rz", "rm", "rp" };
static const char *const vgpu_irnd_names[] = { "rzi", "rni", "rmi", "rpi" };
static const char *const vgpu_iw_names[] = { "64", "32", "16", "8" };
static const char *const vgpu_prmt_names[VGPU_PRMT_COUNT] = {
	"idx", "f4e", "b4e", "rc8", "ecl", "ecr", "rc16"
};

static const char *const vgpu_shfl_names[] = { "idx", "up", "down", "bfly" };
static const char *const vgpu_vote_names[] = { "all", "any", "uni", "ballot" };

static const char *const vgpu_sreg_names[VGPU_SR_COUNT] = {
	[VGPU_SR_TID_X] = "tid.x",
	[VGPU_SR_TID_Y] = "tid.y",
	[VGPU_SR_TID_Z] = "tid.z",
	[VGPU_SR_NTID_X] = "ntid.x",
	[VGPU_SR_NTID_Y] = "ntid.y",
	[VGPU_SR_NTID_Z] = "ntid.z",
	[VGPU_SR_CTAID_X] = "ctaid.x",
	[VGPU_SR_CTAID_Y] = "ctaid.y",
	[VGPU_SR_CTAID_Z] = "ctaid.z",
	[VGPU_SR_NCTAID_X] = "nctaid.x",
	[VGPU_SR_NCTAID_Y] = "nctaid.y",
	[VGPU_SR_NCTAID_Z] = "nctaid.z",
	[VGPU_SR_LANEID] = "laneid",
	[VGPU_SR_WARPID] = "warpid",
	[VGPU_SR_CLOCK64] = "clock64",
};

#endif /* VGPU_ISA_TABLE_H */
