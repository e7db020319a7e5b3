/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_isa_table.h - mnemonics and operand formats of the vgpu-sim ISA,
 * for assemblers, disassemblers and documentation tools.
 */
#ifndef VGPU_ISA_TABLE_H
#define VGPU_ISA_TABLE_H

#include "vgpu_isa.h"

struct vgpu_op_info {
	const char *name;
	__u8 opcode;
	__u8 fmt;	/* enum vgpu_fmt */
};

static const struct vgpu_op_info vgpu_op_table[] = {
	{ "nop", VGPU_OP_NOP, VGPU_FMT_NONE },
	{ "exit", VGPU_OP_EXIT, VGPU_FMT_NONE },
	{ "bar", VGPU_OP_BAR, VGPU_FMT_NONE },
	{ "bra", VGPU_OP_BRA, VGPU_FMT_BR },
	{ "bz", VGPU_OP_BZ, VGPU_FMT_BRC },
	{ "bnz", VGPU_OP_BNZ, VGPU_FMT_BRC },
	{ "mov", VGPU_OP_MOV, VGPU_FMT_RR },
	{ "li", VGPU_OP_LI, VGPU_FMT_RI },
	{ "lih", VGPU_OP_LIH, VGPU_FMT_RI },
	{ "s2r", VGPU_OP_S2R, VGPU_FMT_RS },
	{ "ldp", VGPU_OP_LDP, VGPU_FMT_RI },
	{ "add", VGPU_OP_ADD, VGPU_FMT_RRR },
	{ "sub", VGPU_OP_SUB, VGPU_FMT_RRR },
	{ "mul", VGPU_OP_MUL, VGPU_FMT_RRR },
	{ "divu", VGPU_OP_DIVU, VGPU_FMT_RRR },
	{ "remu", VGPU_OP_REMU, VGPU_FMT_RRR },
	{ "div", VGPU_OP_DIV, VGPU_FMT_RRR },
	{ "rem", VGPU_OP_REM, VGPU_FMT_RRR },
	{ "and", VGPU_OP_AND, VGPU_FMT_RRR },
	{ "or", VGPU_OP_OR, VGPU_FMT_RRR },
	{ "xor", VGPU_OP_XOR, VGPU_FMT_RRR },
	{ "shl", VGPU_OP_SHL, VGPU_FMT_RRR },
	{ "shr", VGPU_OP_SHR, VGPU_FMT_RRR },
	{ "sar", VGPU_OP_SAR, VGPU_FMT_RRR },
	{ "min", VGPU_OP_MIN, VGPU_FMT_RRR },
	{ "max", VGPU_OP_MAX, VGPU_FMT_RRR },
	{ "minu", VGPU_OP_MINU, VGPU_FMT_RRR },
	{ "maxu", VGPU_OP_MAXU, VGPU_FMT_RRR },
	{ "addi", VGPU_OP_ADDI, VGPU_FMT_RRI },
	{ "muli", VGPU_OP_MULI, VGPU_FMT_RRI },
	{ "andi", VGPU_OP_ANDI, VGPU_FMT_RRI },
	{ "ori", VGPU_OP_ORI, VGPU_FMT_RRI },
	{ "xori", VGPU_OP_XORI, VGPU_FMT_RRI },
	{ "shli", VGPU_OP_SHLI, VGPU_FMT_RRI },
	{ "shri", VGPU_OP_SHRI, VGPU_FMT_RRI },
	{ "sari", VGPU_OP_SARI, VGPU_FMT_RRI },
	{ "seq", VGPU_OP_SEQ, VGPU_FMT_RRR },
	{ "sne", VGPU_OP_SNE, VGPU_FMT_RRR },
	{ "slt", VGPU_OP_SLT, VGPU_FMT_RRR },
	{ "sle", VGPU_OP_SLE, VGPU_FMT_RRR },
	{ "sltu", VGPU_OP_SLTU, VGPU_FMT_RRR },
	{ "sleu", VGPU_OP_SLEU, VGPU_FMT_RRR },
	{ "slti", VGPU_OP_SLTI, VGPU_FMT_RRI },
	{ "sltui", VGPU_OP_SLTUI, VGPU_FMT_RRI },
	{ "fadd", VGPU_OP_FADD, VGPU_FMT_RRR },
	{ "fsub", VGPU_OP_FSUB, VGPU_FMT_RRR },
	{ "fmul", VGPU_OP_FMUL, VGPU_FMT_RRR },
	{ "fdiv", VGPU_OP_FDIV, VGPU_FMT_RRR },
	{ "fmin", VGPU_OP_FMIN, VGPU_FMT_RRR },
	{ "fmax", VGPU_OP_FMAX, VGPU_FMT_RRR },
	{ "fmad", VGPU_OP_FMAD, VGPU_FMT_RRR },
	{ "fneg", VGPU_OP_FNEG, VGPU_FMT_RR },
	{ "fabs", VGPU_OP_FABS, VGPU_FMT_RR },
	{ "i2f", VGPU_OP_I2F, VGPU_FMT_RR },
	{ "u2f", VGPU_OP_U2F, VGPU_FMT_RR },
	{ "f2i", VGPU_OP_F2I, VGPU_FMT_RR },
	{ "fseq", VGPU_OP_FSEQ, VGPU_FMT_RRR },
	{ "fslt", VGPU_OP_FSLT, VGPU_FMT_RRR },
	{ "fsle", VGPU_OP_FSLE, VGPU_FMT_RRR },
	{ "ld.u8", VGPU_OP_LD_U8, VGPU_FMT_LD },
	{ "ld.u32", VGPU_OP_LD_U32, VGPU_FMT_LD },
	{ "ld.s32", VGPU_OP_LD_S32, VGPU_FMT_LD },
	{ "ld.u64", VGPU_OP_LD_U64, VGPU_FMT_LD },
	{ "st.u8", VGPU_OP_ST_U8, VGPU_FMT_ST },
	{ "st.u32", VGPU_OP_ST_U32, VGPU_FMT_ST },
	{ "st.u64", VGPU_OP_ST_U64, VGPU_FMT_ST },
	{ "lds.u32", VGPU_OP_LDS_U32, VGPU_FMT_LD },
	{ "lds.u64", VGPU_OP_LDS_U64, VGPU_FMT_LD },
	{ "sts.u32", VGPU_OP_STS_U32, VGPU_FMT_ST },
	{ "sts.u64", VGPU_OP_STS_U64, VGPU_FMT_ST },
	{ "atom.add.u32", VGPU_OP_ATOM_ADD, VGPU_FMT_ATOM },
	{ "atom.min.u32", VGPU_OP_ATOM_MIN, VGPU_FMT_ATOM },
	{ "atom.max.u32", VGPU_OP_ATOM_MAX, VGPU_FMT_ATOM },
	{ "atom.xchg.u32", VGPU_OP_ATOM_XCHG, VGPU_FMT_ATOM },
	{ "atom.cas.u32", VGPU_OP_ATOM_CAS, VGPU_FMT_ATOM },
	{ "atom.add.u64", VGPU_OP_ATOM_ADD64, VGPU_FMT_ATOM },
	{ "atom.add.f32", VGPU_OP_ATOM_FADD, VGPU_FMT_ATOM },
};

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
};

#endif /* VGPU_ISA_TABLE_H */
