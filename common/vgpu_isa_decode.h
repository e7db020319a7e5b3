/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_isa_decode.h - the one decoder of vgpu-sim instruction words.
 *
 * The interpreter decodes every word it executes with vgpu_isa_decode();
 * the ISA-to-PTX translator and the disassembler use the same function,
 * so a word is legal for all of them or for none.  A word is ILLEGAL when
 * its opcode is not in vgpu_isa_ops.h, a register field names no
 * register, or an operand the format does not use, a modifier or an
 * immediate is out of its range (see vgpu_isa.h and sim-isa.rst).
 */
#ifndef VGPU_ISA_DECODE_H
#define VGPU_ISA_DECODE_H

#include "vgpu_isa.h"

/* One decoded instruction.  Unused register fields are zero. */
struct vgpu_dinsn {
	__u8 op;	/* enum vgpu_opcode */
	__u8 fmt;	/* enum vgpu_fmt */
	__u8 mod_class;	/* enum vgpu_mod */
	__u8 flags;	/* VGPU_OPF_* */
	__u8 rd, ra, rb, rc, re;
	__u8 mod;	/* modifier value, 0 in class NONE */
	__s32 imm;	/* the immediate of formats that have one, else 0 */
};

/*
 * Format (bits 7:0), modifier class (15:8) and flags (22:16) of each
 * opcode, bit 23 set for every opcode in the table; 0: no such opcode.
 * Made from vgpu_isa_ops.h in vgpu_isa.c.
 */
#define VGPU_OP_BITS(fmt, mod, flags)					\
	(0x800000u | (fmt) | ((__u32)(mod) << 8) | ((__u32)(flags) << 16))
extern const __u32 vgpu_op_bits_table[256];

static inline __u32 vgpu_op_bits(__u8 op)
{
	return vgpu_op_bits_table[op];
}

/* Whether @mod is a valid modifier of class @cls. */
static inline int vgpu_mod_valid(__u32 cls, __u32 mod)
{
	switch (cls) {
	case VGPU_MOD_NONE:
		return mod == 0;
	case VGPU_MOD_RND:
	case VGPU_MOD_IRND:
		return mod <= 3;
	case VGPU_MOD_CVTI:
		return 1;	/* every 4-bit value: mode and width */
	case VGPU_MOD_W32:
		return mod <= 1;
	case VGPU_MOD_PRMT:
		return mod < VGPU_PRMT_COUNT;
	}
	return 0;
}

/* The register-only formats keep rc, re and a modifier in imm32. */
static inline int vgpu_decode_regs(__u32 imm, struct vgpu_dinsn *d)
{
	__u32 rc = imm & 0xff, re = (imm >> 8) & 0xff, mod = (imm >> 16) & 0xf;

	if (imm & VGPU_IMM_MBZ_MASK || !vgpu_mod_valid(d->mod_class, mod))
		return 0;
	if (d->fmt != VGPU_FMT_RRRR && d->fmt != VGPU_FMT_RRRRR && rc)
		return 0;
	if (d->fmt != VGPU_FMT_RRRRR && re)
		return 0;
	if (rc >= VGPU_NUM_REGS || re >= VGPU_NUM_REGS)
		return 0;
	d->rc = rc;
	d->re = re;
	d->mod = mod;
	return 1;
}

/**
 * vgpu_isa_decode() - decode and check one instruction word
 * @w: the word
 * @d: out, the fields (valid only when the word is legal)
 *
 * Return: 1 when @w is a legal instruction, 0 when executing it is an
 * ILLEGAL fault.
 */
static inline int vgpu_isa_decode(__u64 w, struct vgpu_dinsn *d)
{
	__u32 info = vgpu_op_bits(w & 0xff);
	__u32 imm = (__u32)(w >> 32);

	if (!info || (w & VGPU_INSN_MBZ_MASK))
		return 0;
	d->op = w & 0xff;
	d->fmt = info & 0xff;
	d->mod_class = (info >> 8) & 0xff;
	d->flags = (info >> 16) & 0x7f;
	d->rd = (w >> 8) & 0xff;
	d->ra = (w >> 16) & 0xff;
	d->rb = (w >> 24) & 0xff;
	d->rc = 0;
	d->re = 0;
	d->mod = 0;
	d->imm = 0;
	switch (d->fmt) {
	case VGPU_FMT_NONE:
	case VGPU_FMT_RR:
	case VGPU_FMT_RRR:
	case VGPU_FMT_RRRR:
	case VGPU_FMT_RRRRR:
		return vgpu_decode_regs(imm, d);
	case VGPU_FMT_RS:
		if (imm >= VGPU_SR_COUNT)
			return 0;
		break;
	default:
		break;
	}
	if ((d->flags & VGPU_OPF_PARAM) && imm >= VGPU_NUM_PARAMS)
		return 0;
	if ((d->flags & VGPU_OPF_WIDTH) && imm != 8 && imm != 16 && imm != 32)
		return 0;
	d->imm = (__s32)imm;
	return 1;
}

/* The operation of an atomic instruction. */
enum vgpu_atom_kind {
	VGPU_ATOM_ADD,
	VGPU_ATOM_MIN,
	VGPU_ATOM_MAX,
	VGPU_ATOM_AND,
	VGPU_ATOM_OR,
	VGPU_ATOM_XOR,
	VGPU_ATOM_XCHG,
	VGPU_ATOM_CAS,	/* stores rb where the old value equals rd */
	VGPU_ATOM_INC,	/* old >= rb ? 0 : old + 1 */
	VGPU_ATOM_DEC,	/* old == 0 || old > rb ? rb : old - 1 */
	VGPU_ATOM_FADD,	/* IEEE add, round to nearest even */
};

struct vgpu_atom_info {
	__u8 kind;	/* enum vgpu_atom_kind */
	__u8 size;	/* 4 or 8 bytes */
	__u8 sign;	/* signed min/max; the old value is sign-extended */
};

/* The 64-bit atomics (and the 32-bit add: the default). */
static inline struct vgpu_atom_info vgpu_atom_of64(__u8 op)
{
	struct vgpu_atom_info a = { VGPU_ATOM_ADD, 8, 0 };

	switch (op) {
	case VGPU_OP_ATOM_MIN64: case VGPU_OP_ATOMS_MIN64:
		a.kind = VGPU_ATOM_MIN;
		break;
	case VGPU_OP_ATOM_MAX64: case VGPU_OP_ATOMS_MAX64:
		a.kind = VGPU_ATOM_MAX;
		break;
	case VGPU_OP_ATOM_MIN_S64: case VGPU_OP_ATOMS_MIN_S64:
		a.kind = VGPU_ATOM_MIN;
		a.sign = 1;
		break;
	case VGPU_OP_ATOM_MAX_S64: case VGPU_OP_ATOMS_MAX_S64:
		a.kind = VGPU_ATOM_MAX;
		a.sign = 1;
		break;
	case VGPU_OP_ATOM_AND64: case VGPU_OP_ATOMS_AND64:
		a.kind = VGPU_ATOM_AND;
		break;
	case VGPU_OP_ATOM_OR64: case VGPU_OP_ATOMS_OR64:
		a.kind = VGPU_ATOM_OR;
		break;
	case VGPU_OP_ATOM_XOR64: case VGPU_OP_ATOMS_XOR64:
		a.kind = VGPU_ATOM_XOR;
		break;
	case VGPU_OP_ATOM_XCHG64: case VGPU_OP_ATOMS_XCHG64:
		a.kind = VGPU_ATOM_XCHG;
		break;
	case VGPU_OP_ATOM_CAS64: case VGPU_OP_ATOMS_CAS64:
		a.kind = VGPU_ATOM_CAS;
		break;
	case VGPU_OP_ATOM_DADD: case VGPU_OP_ATOMS_DADD:
		a.kind = VGPU_ATOM_FADD;
		break;
	case VGPU_OP_ATOM_ADD64: case VGPU_OP_ATOMS_ADD64:
		break;
	default:	/* the 32-bit add */
		a.size = 4;
		break;
	}
	return a;
}

/* Kind, size and signedness of atomic @op (VGPU_OPF_ATOMIC). */
static inline struct vgpu_atom_info vgpu_atom_of(__u8 op)
{
	struct vgpu_atom_info a = { VGPU_ATOM_ADD, 4, 0 };

	switch (op) {
	case VGPU_OP_ATOM_MIN: case VGPU_OP_ATOMS_MIN:
		a.kind = VGPU_ATOM_MIN;
		break;
	case VGPU_OP_ATOM_MAX: case VGPU_OP_ATOMS_MAX:
		a.kind = VGPU_ATOM_MAX;
		break;
	case VGPU_OP_ATOM_MIN_S32: case VGPU_OP_ATOMS_MIN_S32:
		a.kind = VGPU_ATOM_MIN;
		a.sign = 1;
		break;
	case VGPU_OP_ATOM_MAX_S32: case VGPU_OP_ATOMS_MAX_S32:
		a.kind = VGPU_ATOM_MAX;
		a.sign = 1;
		break;
	case VGPU_OP_ATOM_AND: case VGPU_OP_ATOMS_AND:
		a.kind = VGPU_ATOM_AND;
		break;
	case VGPU_OP_ATOM_OR: case VGPU_OP_ATOMS_OR:
		a.kind = VGPU_ATOM_OR;
		break;
	case VGPU_OP_ATOM_XOR: case VGPU_OP_ATOMS_XOR:
		a.kind = VGPU_ATOM_XOR;
		break;
	case VGPU_OP_ATOM_XCHG: case VGPU_OP_ATOMS_XCHG:
		a.kind = VGPU_ATOM_XCHG;
		break;
	case VGPU_OP_ATOM_CAS: case VGPU_OP_ATOMS_CAS:
		a.kind = VGPU_ATOM_CAS;
		break;
	case VGPU_OP_ATOM_INC: case VGPU_OP_ATOMS_INC:
		a.kind = VGPU_ATOM_INC;
		break;
	case VGPU_OP_ATOM_DEC: case VGPU_OP_ATOMS_DEC:
		a.kind = VGPU_ATOM_DEC;
		break;
	case VGPU_OP_ATOM_FADD: case VGPU_OP_ATOMS_FADD:
		a.kind = VGPU_ATOM_FADD;
		break;
	default:
		a = vgpu_atom_of64(op);
		break;
	}
	return a;
}

#endif /* VGPU_ISA_DECODE_H */
