/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_interp_alu.h - the integer operations of ISA version 2 that need
 * more than one C operator (Documentation/sim-isa.rst gives their
 * semantics; they follow PTX's mul.hi, popc, clz, brev, bfe, bfi, prmt).
 * Used by the interpreter only; tests check it against references of
 * their own.
 */
#ifndef VGPU_INTERP_ALU_H
#define VGPU_INTERP_ALU_H

#include "vgpu_compat.h"
#include "vgpu_isa.h"

/* High 64 bits of the unsigned 128-bit product, in 32-bit halves. */
static inline u64 vgpu_mulhu64(u64 a, u64 b)
{
	u64 al = (u32)a, ah = a >> 32, bl = (u32)b, bh = b >> 32;
	u64 ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	u64 mid = (ll >> 32) + (u32)lh + (u32)hl;

	return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* High 64 bits of the signed 128-bit product. */
static inline u64 vgpu_mulhs64(s64 a, s64 b)
{
	u64 hi = vgpu_mulhu64((u64)a, (u64)b);

	if (a < 0)
		hi -= (u64)b;
	if (b < 0)
		hi -= (u64)a;
	return hi;
}

static inline u64 vgpu_popc64(u64 a)
{
	a = a - ((a >> 1) & 0x5555555555555555ULL);
	a = (a & 0x3333333333333333ULL) + ((a >> 2) & 0x3333333333333333ULL);
	a = (a + (a >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (a * 0x0101010101010101ULL) >> 56;
}

static inline u64 vgpu_brev64(u64 a)
{
	a = ((a >> 1) & 0x5555555555555555ULL) | ((a & 0x5555555555555555ULL) << 1);
	a = ((a >> 2) & 0x3333333333333333ULL) | ((a & 0x3333333333333333ULL) << 2);
	a = ((a >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((a & 0x0f0f0f0f0f0f0f0fULL) << 4);
	a = ((a >> 8) & 0x00ff00ff00ff00ffULL) | ((a & 0x00ff00ff00ff00ffULL) << 8);
	a = ((a >> 16) & 0x0000ffff0000ffffULL) | ((a & 0x0000ffff0000ffffULL) << 16);
	return (a >> 32) | (a << 32);
}

/* Bits 0..@n-1 set (@n <= 64). */
static inline u64 vgpu_low_bits(u32 n)
{
	return n >= 64 ? ~0ULL : (1ULL << n) - 1;
}

/**
 * vgpu_bfe() - PTX bfe: extract a bit field
 * @a: source; a 32-bit operation reads bits 31:0 only
 * @pos: first bit, bits 7:0 used (PTX's b)
 * @len: field length, bits 7:0 used (PTX's c)
 * @sign: sign-extend the field (bfe.s) rather than zero-extend (bfe.u)
 * @w32: 32-bit operation
 *
 * Bits at or beyond the operation's width read as the sign bit (bfe.s)
 * or zero; a zero length gives 0.  The 32-bit result is sign- (bfe.s) or
 * zero-extended to 64 bits.  Constant time: PTX's definition bit by bit
 * is the tests' reference.
 *
 * Return: the field.
 */
static inline u64 vgpu_bfe(u64 a, u64 pos, u64 len, bool sign, bool w32)
{
	u32 width = w32 ? 32 : 64, p = pos & 0xff, n = len & 0xff;
	u32 sb = p + n - 1 < width - 1 ? p + n - 1 : width - 1, got;
	u64 field, sbit;

	if (w32)
		a = (u32)a;
	if (!n)
		return 0;
	sbit = sign ? (a >> sb) & 1 : 0;
	/* The bits of the field that lie inside the operand. */
	got = p >= width ? 0 : (n < width - p ? n : width - p);
	field = got ? (a >> p) & vgpu_low_bits(got) : 0;
	if (sbit)
		field |= ~vgpu_low_bits(got);
	if (w32)
		field = sign ? (u64)(s64)(s32)field : (u32)field;
	return field;
}

/**
 * vgpu_bfi() - PTX bfi: insert a bit field
 * @a: the field: its low @len bits
 * @b: where it goes; a 32-bit operation reads bits 31:0 only
 * @pos: first bit of @b written, bits 7:0 used (PTX's c)
 * @len: field length, bits 7:0 used (PTX's d)
 * @w32: 32-bit operation
 *
 * Bits beyond the operation's width are not written; the 32-bit result
 * is zero-extended.
 *
 * Return: @b with the field inserted.
 */
static inline u64 vgpu_bfi(u64 a, u64 b, u64 pos, u64 len, bool w32)
{
	u32 width = w32 ? 32 : 64, p = pos & 0xff, n = len & 0xff, got;
	u64 mask;

	if (w32)
		b = (u32)b;
	if (p >= width || !n)
		return b;
	got = n < width - p ? n : width - p;
	mask = vgpu_low_bits(got) << p;
	return (b & ~mask) | ((a << p) & mask);
}

/* The byte of the 8-byte {@b, @a} that selector @s names (PTX prmt). */
static inline u32 vgpu_prmt_byte(u64 ab, u32 s, bool replicate)
{
	u32 byte = (ab >> ((s & 7) * 8)) & 0xff;

	if (replicate && (s & 8))
		return (byte & 0x80) ? 0xff : 0;
	return byte;
}

/**
 * vgpu_prmt() - PTX prmt.b32: pick 4 bytes of {@b, @a}
 * @a: bytes 0-3 (bits 31:0 used)
 * @b: bytes 4-7 (bits 31:0 used)
 * @c: selectors: in the default mode a nibble per result byte (bit 3:
 *     replicate the sign of the byte); in the others bits 1:0
 * @mode: enum vgpu_prmt
 *
 * Return: the 32-bit result, zero-extended.
 */
static inline u64 vgpu_prmt(u64 a, u64 b, u64 c, u32 mode)
{
	static const u8 sel[VGPU_PRMT_COUNT][4][4] = {
		[VGPU_PRMT_F4E] = { { 0, 1, 2, 3 }, { 1, 2, 3, 4 },
				    { 2, 3, 4, 5 }, { 3, 4, 5, 6 } },
		[VGPU_PRMT_B4E] = { { 0, 7, 6, 5 }, { 1, 0, 7, 6 },
				    { 2, 1, 0, 7 }, { 3, 2, 1, 0 } },
		[VGPU_PRMT_RC8] = { { 0, 0, 0, 0 }, { 1, 1, 1, 1 },
				    { 2, 2, 2, 2 }, { 3, 3, 3, 3 } },
		[VGPU_PRMT_ECL] = { { 0, 1, 2, 3 }, { 1, 1, 2, 3 },
				    { 2, 2, 2, 3 }, { 3, 3, 3, 3 } },
		[VGPU_PRMT_ECR] = { { 0, 0, 0, 0 }, { 0, 1, 1, 1 },
				    { 0, 1, 2, 2 }, { 0, 1, 2, 3 } },
		[VGPU_PRMT_RC16] = { { 0, 1, 0, 1 }, { 2, 3, 2, 3 },
				     { 0, 1, 0, 1 }, { 2, 3, 2, 3 } },
	};
	u64 ab = ((u64)(u32)b << 32) | (u32)a;
	u32 d = 0, i;

	for (i = 0; i < 4; i++) {
		u32 s = mode == VGPU_PRMT_IDX ? (u32)(c >> (4 * i)) & 0xf :
						sel[mode][c & 3][i];

		d |= vgpu_prmt_byte(ab, s, mode == VGPU_PRMT_IDX) << (8 * i);
	}
	return d;
}

/* Sign- or zero-extends the low @bits (8, 16 or 32) of @a. */
static inline u64 vgpu_ext(u64 a, u32 bits, bool sign)
{
	u32 sh = 64 - bits;

	return sign ? (u64)((s64)(a << sh) >> sh) : (a << sh) >> sh;
}

/*
 * Narrows a saturated 64-bit conversion result to the width @iw (enum
 * vgpu_iw): signed results clamp to the width's range and sign-extend,
 * unsigned ones clamp to its maximum.  Clamping twice is clamping once:
 * the 64-bit conversion already saturated.
 */
static inline u64 vgpu_narrow_sat(u64 v, u32 iw, bool sign)
{
	u32 bits = 64 >> iw;
	s64 smax, smin;
	u64 umax;

	if (iw == VGPU_IW_64)
		return v;
	if (!sign) {
		umax = (1ULL << bits) - 1;
		return v > umax ? umax : v;
	}
	smax = (s64)((1ULL << (bits - 1)) - 1);
	smin = -smax - 1;
	if ((s64)v > smax)
		return (u64)smax;
	if ((s64)v < smin)
		return (u64)smin;
	return v;
}

#endif /* VGPU_INTERP_ALU_H */
