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

/* One decoded instruction.  Register fields an instruction does not use are zero. */
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
 * What the decoder knows of each opcode (made from vgpu_isa_ops.h in
 * vgpu_isa.c): @info holds the format (bits 7:0), the modifier class
 * (15:8), the flags (23:16), VGPU_OPB_VALID for every opcode of the table
 * (0: no such opcode), VGPU_OPB_REGS for the register-only formats and
 * VGPU_OPB_CHECK where an operand needs a range check of its own;
 * @imm_ok has the bits of imm32 the instruction may set, @lo_ok those of
 * the low word: the opcode and r0..r31 in the register fields it uses
 * (a field it does not use must be zero).
 */
struct vgpu_op_desc {
	__u32 info;
	__u32 imm_ok;
	__u32 lo_ok;	/* bits 31:0 allowed: the opcode, the registers used */
};

#define VGPU_OPB_VALID	0x01000000u
#define VGPU_OPB_REGS	0x02000000u
#define VGPU_OPB_CHECK	0x04000000u

#define VGPU_FMT_IS_REGS(fmt)						\
	((fmt) == VGPU_FMT_NONE || (fmt) == VGPU_FMT_R ||		\
	 (fmt) == VGPU_FMT_RR || (fmt) == VGPU_FMT_RRR ||		\
	 (fmt) == VGPU_FMT_RRRR || (fmt) == VGPU_FMT_RRRRR)
/* The modifier values a class allows, as a mask of bits 19:16. */
#define VGPU_MOD_MASK(mod)						\
	((mod) == VGPU_MOD_RND || (mod) == VGPU_MOD_IRND ? 3u :		\
	 (mod) == VGPU_MOD_CVTI ? 0xfu : (mod) == VGPU_MOD_W32 ? 1u :	\
	 (mod) == VGPU_MOD_PRMT || (mod) == VGPU_MOD_SHFL ? 7u :	\
	 (mod) == VGPU_MOD_VOTE ? 3u : 0u)
#define VGPU_IMM_OK(fmt, mod)						\
	(VGPU_FMT_IS_REGS(fmt) ?					\
	 (((fmt) == VGPU_FMT_RRRR || (fmt) == VGPU_FMT_RRRRR ? 0x1fu : 0) | \
	  ((fmt) == VGPU_FMT_RRRRR ? 0x1f00u : 0) |			\
	  (VGPU_MOD_MASK(mod) << 16)) : 0xffffffffu)
#define VGPU_FMT_USES_RD(fmt)						\
	((fmt) != VGPU_FMT_NONE && (fmt) != VGPU_FMT_ST &&		\
	 (fmt) != VGPU_FMT_BR && (fmt) != VGPU_FMT_BRC)
#define VGPU_FMT_USES_RA(fmt)						\
	((fmt) != VGPU_FMT_NONE && (fmt) != VGPU_FMT_R &&		\
	 (fmt) != VGPU_FMT_RI && (fmt) != VGPU_FMT_RS &&		\
	 (fmt) != VGPU_FMT_BR)
#define VGPU_FMT_USES_RB(fmt)						\
	((fmt) == VGPU_FMT_RRR || (fmt) == VGPU_FMT_ST ||		\
	 (fmt) == VGPU_FMT_ATOM || (fmt) == VGPU_FMT_RRRR ||		\
	 (fmt) == VGPU_FMT_RRRRR)
#define VGPU_LO_OK(fmt)							\
	(0xffu | (VGPU_FMT_USES_RD(fmt) ? 0x1f00u : 0) |		\
	 (VGPU_FMT_USES_RA(fmt) ? 0x1f0000u : 0) |			\
	 (VGPU_FMT_USES_RB(fmt) ? 0x1f000000u : 0))
#define VGPU_OP_BITS(fmt, mod, flags)					\
	(VGPU_OPB_VALID | (fmt) | ((__u32)(mod) << 8) |			\
	 ((__u32)(flags) << 16) |					\
	 (VGPU_FMT_IS_REGS(fmt) ? VGPU_OPB_REGS : 0) |			\
	 ((fmt) == VGPU_FMT_RS || (mod) == VGPU_MOD_PRMT ||		\
	  ((flags) & (VGPU_OPF_PARAM | VGPU_OPF_WIDTH)) ? VGPU_OPB_CHECK : 0))
extern const struct vgpu_op_desc vgpu_op_descs[256];

static inline __u32 vgpu_op_bits(__u8 op)
{
	return vgpu_op_descs[op].info;
}

/* The operands with a range of their own (VGPU_OPB_CHECK). */
static inline int vgpu_decode_check(const struct vgpu_dinsn *d, __u32 imm)
{
	if (d->fmt == VGPU_FMT_RS)
		return imm < VGPU_SR_COUNT;
	if (d->flags & VGPU_OPF_PARAM)
		return imm < VGPU_NUM_PARAMS;
	if (d->flags & VGPU_OPF_WIDTH)
		return imm == 8 || imm == 16 || imm == 32;
	if (d->mod_class == VGPU_MOD_PRMT)
		return d->mod < VGPU_PRMT_COUNT;
	return 1;
}

/**
 * vgpu_isa_decode() - decode and check one instruction word
 * @w: the word
 * @d: out, the fields (valid only when the word is legal)
 *
 * The interpreter calls it for every instruction it executes: one table
 * lookup and a mask decide for all but a few instructions.
 *
 * Return: 1 when @w is a legal instruction, 0 when executing it is an
 * ILLEGAL fault.
 */
static inline int vgpu_isa_decode(__u64 w, struct vgpu_dinsn *d)
{
	const struct vgpu_op_desc *o = &vgpu_op_descs[w & 0xff];
	__u32 info = o->info, imm = (__u32)(w >> 32);

	if (!info || ((__u32)w & ~o->lo_ok) || (imm & ~o->imm_ok))
		return 0;
	d->op = (__u8)w;
	d->fmt = (__u8)info;
	d->mod_class = (__u8)(info >> 8);
	d->flags = (__u8)(info >> 16);
	d->rd = (__u8)(w >> 8);
	d->ra = (__u8)(w >> 16);
	d->rb = (__u8)(w >> 24);
	if (info & VGPU_OPB_REGS) {
		d->rc = (__u8)imm;
		d->re = (__u8)(imm >> 8);
		d->mod = (imm >> 16) & 0xf;
		d->imm = 0;
	} else {
		d->rc = 0;
		d->re = 0;
		d->mod = 0;
		d->imm = (__s32)imm;
	}
	if (info & VGPU_OPB_CHECK)
		return vgpu_decode_check(d, imm);
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
