/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_softfloat64.h - IEEE 754 binary64 arithmetic, binary32 arithmetic
 * with a rounding mode, and the conversions between the two formats and
 * the integers, in integer code, for the PTX instructions of vgpu-sim.
 *
 * Every operation rounds once, correctly, in the mode it is given: PTX's
 * .rn .rz .rm .rp for float results, .rni .rzi .rmi .rpi for integral
 * ones (enum vgpu_round).  Subnormals are fully supported (no flush to
 * zero), every NaN result is the canonical quiet NaN (VGPU_F32_NAN,
 * VGPU_F64_NAN) and no exception flags are kept.  The binary32 functions
 * of vgpu_softfloat.h (round to nearest even only) are unchanged; those
 * here that take a mode and produce or read binary32 end in _r beside
 * them (vgpu_f32_add_r(), vgpu_u64_to_f32_r(), vgpu_f32_to_s64_r()...),
 * except vgpu_f32_round_int(); the binary64 ones take a mode unsuffixed.
 *
 * A finite nonzero operand is unpacked into struct vgpu_fpx; the
 * arithmetic works out either the exact result or a 63-bit value that
 * rounds as the exact one does in every mode (the bits shifted out of it
 * are ORed into bit 0, the "sticky" bit, as in John Hauser's Berkeley
 * SoftFloat 3, whose structure this follows), and one function,
 * vgpu_fp_round_mag(), rounds it to either format.  fma.f64 adds in 128
 * bits (struct vgpu_fpx128).  No floating-point types, no __int128; the
 * only divisions are of u64 by u64, native on the 64-bit kernels vgpu
 * targets.
 */
#ifndef VGPU_SOFTFLOAT64_H
#define VGPU_SOFTFLOAT64_H

#include "vgpu_softfloat.h"

enum vgpu_round {
	VGPU_RN = 0,	/* to nearest, ties to even: .rn .rni */
	VGPU_RZ = 1,	/* toward zero: .rz .rzi */
	VGPU_RM = 2,	/* toward minus infinity: .rm .rmi */
	VGPU_RP = 3,	/* toward plus infinity: .rp .rpi */
};

#define VGPU_F64_NAN 0x7ff8000000000000ULL
#define VGPU_F64_INF 0x7ff0000000000000ULL
#define VGPU_F64_SIGNBIT 0x8000000000000000ULL
#define VGPU_F64_SIGN(a) ((u32)((a) >> 63))
#define VGPU_F64_EXP(a) ((s32)(((a) >> 52) & 0x7ff))
#define VGPU_F64_FRAC(a) ((a) & 0x000fffffffffffffULL)
#define VGPU_F64_ISNAN(a) (((a) & ~VGPU_F64_SIGNBIT) > VGPU_F64_INF)

#define VGPU_F32_INF 0x7f800000u
#define VGPU_F32_SIGNBIT 0x80000000u

/*
 * A finite nonzero value, unpacked and not yet rounded:
 * (-1)^sign * sig * 2^(exp - 62), with sig in [2^62, 2^63).  Once bits
 * have been shifted out of sig, bit 0 is sticky (set when any was one).
 */
struct vgpu_fpx {
	u64 sig;
	s32 exp;
	u32 sign;
};

/* The same in 128 bits: (-1)^sign * (hi:lo) * 2^(exp - 126). */
struct vgpu_fpx128 {
	u64 hi;
	u64 lo;
	s32 exp;
	u32 sign;
};

/* Shift right by any distance, ORing the bits shifted out into bit 0. */
static inline u64 vgpu_jam64(u64 a, u32 dist)
{
	if (dist < 64)
		return (a >> dist) | ((a & ((1ULL << dist) - 1)) != 0);
	return a != 0;
}

static inline void vgpu_jam128(u64 *hi, u64 *lo, u32 dist)
{
	u64 h = *hi, l = *lo;

	if (!dist)
		return;
	if (dist < 64) {
		*lo = (h << (64 - dist)) | (l >> dist) |
		      ((l << (64 - dist)) != 0);
		*hi = h >> dist;
	} else {
		*lo = vgpu_jam64(h, dist - 64) | (l != 0);
		*hi = 0;
	}
}

/* Shift (hi:lo) left by @dist < 128. */
static inline void vgpu_shl128(u64 *hi, u64 *lo, u32 dist)
{
	if (dist >= 64) {
		*hi = *lo << (dist - 64);
		*lo = 0;
	} else if (dist) {
		*hi = (*hi << dist) | (*lo >> (64 - dist));
		*lo <<= dist;
	}
}

/* The 128-bit product of @a and @b, from 32-bit halves. */
static inline void vgpu_mul64x64(u64 a, u64 b, u64 *hi, u64 *lo)
{
	u64 a1 = a >> 32, a0 = (u32)a, b1 = b >> 32, b0 = (u32)b;
	u64 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0;
	u64 mid = (p00 >> 32) + (u32)p01 + (u32)p10;

	*lo = (mid << 32) | (u32)p00;
	*hi = a1 * b1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/*
 * (u1:u0) / v for v with bit 63 set and u1 < v: Knuth's algorithm D on
 * 32-bit digits (Hacker's Delight's divlu), two u64 divisions.
 */
static inline u64 vgpu_div128(u64 u1, u64 u0, u64 v, u64 *rem)
{
	u64 v1 = v >> 32, v0 = (u32)v, q1, q0, rhat, u21;

	q1 = u1 / v1;
	rhat = u1 - q1 * v1;
	while ((q1 >> 32) || q1 * v0 > ((rhat << 32) | (u0 >> 32))) {
		q1--;
		rhat += v1;
		if (rhat >> 32)
			break;
	}
	u21 = (u1 << 32) + (u0 >> 32) - q1 * v;
	q0 = u21 / v1;
	rhat = u21 - q0 * v1;
	while ((q0 >> 32) || q0 * v0 > ((rhat << 32) | (u32)u0)) {
		q0--;
		rhat += v1;
		if (rhat >> 32)
			break;
	}
	*rem = (u21 << 32) + (u32)u0 - q0 * v;
	return (q1 << 32) + q0;
}

/*
 * floor(sqrt(a)) for a in [2^60, 2^62): 15 bits of the root digit by
 * digit from a's top 30 bits, then 16 more from one division (the
 * long-hand method in base 2^16), which errs by at most 3 upward.
 */
static inline u64 vgpu_isqrt62(u64 a)
{
	u64 top = a >> 32, r = 0, rem = 0, t, take;
	int i;

	for (i = 28; i >= 0; i -= 2) {	/* branch-free: the digits are random */
		rem = (rem << 2) | ((top >> i) & 3);
		t = 4 * r + 1;
		take = 0 - (u64)(rem >= t);
		rem -= t & take;
		r = 2 * r + (take & 1);
	}
	r = (r << 16) + (((rem << 32) | (u32)a) / (r << 17));
	while (r * r > a)
		r--;
	return r;
}

/* Unpack a finite nonzero binary64 or binary32. */
static inline struct vgpu_fpx vgpu_f64_unpack(u64 a)
{
	struct vgpu_fpx x;
	s32 e = VGPU_F64_EXP(a);
	u64 f = VGPU_F64_FRAC(a);
	int shift;

	x.sign = VGPU_F64_SIGN(a);
	if (e) {
		x.sig = (f | (1ULL << 52)) << 10;
		x.exp = e - 0x3ff;
	} else {
		shift = vgpu_clz64(f) - 1;
		x.sig = f << shift;
		x.exp = -1012 - shift;
	}
	return x;
}

static inline struct vgpu_fpx vgpu_f32_unpack(u32 a)
{
	struct vgpu_fpx x;
	s32 e = VGPU_F32_EXP(a);
	u64 f = VGPU_F32_FRAC(a);
	int shift;

	x.sign = VGPU_F32_SIGN(a);
	if (e) {
		x.sig = (f | (1ULL << 23)) << 39;
		x.exp = e - 0x7f;
	} else {
		shift = vgpu_clz64(f) - 1;
		x.sig = f << shift;
		x.exp = -87 - shift;
	}
	return x;
}

/*
 * Round @sig (leading one at bit 62, or lower for a result that is zero
 * or subnormal) to a format whose significand is sig >> @shift (10 for
 * binary64, 39 for binary32) and return the bits of the magnitude.
 * @exp is the biased exponent minus one and @emax the largest finite one
 * minus one, as in SoftFloat's roundPackToF64(); an overflow gives
 * infinity or, where the mode rounds toward zero, the largest finite.
 */
static inline u64 vgpu_fp_round_mag(u32 sign, s32 exp, u64 sig,
				    enum vgpu_round rm, u32 shift, s32 emax)
{
	u64 mask = (1ULL << shift) - 1, half = 1ULL << (shift - 1), inc = 0;
	u64 rbits;

	if (rm == VGPU_RN)
		inc = half;
	else if ((rm == VGPU_RM && sign) || (rm == VGPU_RP && !sign))
		inc = mask;
	if ((u32)exp >= (u32)emax) {
		if (exp < 0) {
			sig = vgpu_jam64(sig, -exp);
			exp = 0;
		} else if (exp > emax || sig + inc >= 1ULL << 63) {
			return ((u64)(emax + 2) << (62 - shift)) - !inc;
		}
	}
	rbits = sig & mask;
	sig = (sig + inc) >> shift;
	if (rm == VGPU_RN && rbits == half)
		sig &= ~1ULL;	/* ties to even */
	return ((u64)(sig ? exp : 0) << (62 - shift)) + sig;
}

static inline u64 vgpu_fpx_to_f64(struct vgpu_fpx x, enum vgpu_round rm)
{
	return ((u64)x.sign << 63) |
	       vgpu_fp_round_mag(x.sign, x.exp + 0x3fe, x.sig, rm, 10, 0x7fd);
}

static inline u32 vgpu_fpx_to_f32(struct vgpu_fpx x, enum vgpu_round rm)
{
	return (x.sign << 31) |
	       (u32)vgpu_fp_round_mag(x.sign, x.exp + 0x7e, x.sig, rm, 39,
				      0xfd);
}

/*
 * x + y for x and y whose sig has bit 0 clear.  The smaller is shifted
 * right with a sticky bit, which makes the sum the exact one rounded to
 * odd in 63 bits: as good as exact for rounding to 53 bits or fewer.
 * Massive cancellation only happens with no bits shifted out.  An exact
 * zero comes back as sig 0 (and rounds to zero).
 */
static inline struct vgpu_fpx vgpu_fpx_add(struct vgpu_fpx x,
					   struct vgpu_fpx y,
					   enum vgpu_round rm)
{
	struct vgpu_fpx t;
	int shift;

	if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) {
		t = x;
		x = y;
		y = t;
	}
	y.sig = vgpu_jam64(y.sig, x.exp - y.exp);
	if (x.sign == y.sign) {
		x.sig += y.sig;
		if (x.sig >> 63) {
			x.sig = vgpu_jam64(x.sig, 1);
			x.exp++;
		}
		return x;
	}
	x.sig -= y.sig;
	if (!x.sig) {
		x.sign = rm == VGPU_RM;	/* x - x is -0 only rounding down */
		x.exp = 0;
		return x;
	}
	shift = vgpu_clz64(x.sig) - 1;
	x.sig <<= shift;
	x.exp -= shift;
	return x;
}

static inline bool vgpu_fpx128_lt(const struct vgpu_fpx128 *x,
				  const struct vgpu_fpx128 *y)
{
	if (x->exp != y->exp)
		return x->exp < y->exp;
	return x->hi < y->hi || (x->hi == y->hi && x->lo < y->lo);
}

/* vgpu_fpx_add() in 128 bits (for fma.f64), the sum folded to 64. */
static inline struct vgpu_fpx vgpu_fpx128_add(struct vgpu_fpx128 x,
					      struct vgpu_fpx128 y,
					      enum vgpu_round rm)
{
	struct vgpu_fpx128 t;
	struct vgpu_fpx z;
	int shift;

	if (vgpu_fpx128_lt(&x, &y)) {
		t = x;
		x = y;
		y = t;
	}
	vgpu_jam128(&y.hi, &y.lo, x.exp - y.exp);
	if (x.sign == y.sign) {
		x.lo += y.lo;
		x.hi += y.hi + (x.lo < y.lo);
		if (x.hi >> 63) {
			vgpu_jam128(&x.hi, &x.lo, 1);
			x.exp++;
		}
	} else {
		x.hi -= y.hi + (x.lo < y.lo);
		x.lo -= y.lo;
		if (!(x.hi | x.lo)) {
			x.sign = rm == VGPU_RM;
			x.exp = 0;
		} else {
			shift = (x.hi ? vgpu_clz64(x.hi) :
					64 + vgpu_clz64(x.lo)) - 1;
			vgpu_shl128(&x.hi, &x.lo, shift);
			x.exp -= shift;
		}
	}
	z.sig = x.hi | (x.lo != 0);
	z.exp = x.exp;
	z.sign = x.sign;
	return z;
}

/* The exact product of two unpacked binary64, leading one at bit 126. */
static inline struct vgpu_fpx128 vgpu_fpx_mul128(struct vgpu_fpx x,
						 struct vgpu_fpx y)
{
	struct vgpu_fpx128 p;

	vgpu_mul64x64(x.sig, y.sig, &p.hi, &p.lo);	/* [2^124, 2^126) */
	p.sign = x.sign ^ y.sign;
	p.exp = x.exp + y.exp;
	if (p.hi >> 61) {
		p.exp++;
		vgpu_shl128(&p.hi, &p.lo, 1);
	} else {
		vgpu_shl128(&p.hi, &p.lo, 2);
	}
	return p;
}

/* The exact product of two unpacked binary32 (48 bits at most). */
static inline struct vgpu_fpx vgpu_fpx_mul32(struct vgpu_fpx x,
					     struct vgpu_fpx y)
{
	u64 p = (x.sig >> 39) * (y.sig >> 39);	/* [2^46, 2^48) */

	x.sign ^= y.sign;
	x.exp += y.exp;
	if (p >> 47) {
		x.exp++;
		x.sig = p << 15;
	} else {
		x.sig = p << 16;
	}
	return x;
}

/* x / y for unpacked binary64, 63 quotient bits and a sticky bit. */
static inline struct vgpu_fpx vgpu_fpx_div64(struct vgpu_fpx x,
					     struct vgpu_fpx y)
{
	u64 q, rem;

	x.sign ^= y.sign;
	x.exp -= y.exp;
	if (x.sig < y.sig) {
		x.exp--;
		q = vgpu_div128(x.sig, 0, y.sig << 1, &rem);
	} else {
		q = vgpu_div128(x.sig >> 1, x.sig << 63, y.sig << 1, &rem);
	}
	x.sig = q | (rem != 0);
	return x;
}

/* x / y for unpacked binary32: 39 quotient bits and a sticky bit. */
static inline struct vgpu_fpx vgpu_fpx_div32(struct vgpu_fpx x,
					     struct vgpu_fpx y)
{
	u64 mx = x.sig >> 39, my = y.sig >> 39, q;

	x.sign ^= y.sign;
	x.exp -= y.exp;
	if (mx < my) {
		x.exp--;
		mx <<= 39;
	} else {
		mx <<= 38;
	}
	q = mx / my;				/* [2^38, 2^39) */
	x.sig = (q | (q * my != mx)) << 24;
	return x;
}

/* sqrt(x) for a positive unpacked binary32: 31 root bits and sticky. */
static inline struct vgpu_fpx vgpu_fpx_sqrt32(struct vgpu_fpx x)
{
	u64 m = x.sig >> 39, r;

	if (x.exp & 1) {
		m <<= 1;
		x.exp--;
	}
	m <<= 37;				/* [2^60, 2^62) */
	r = vgpu_isqrt62(m);			/* [2^30, 2^31) */
	x.sig = (r << 32) | (r * r != m);
	x.exp /= 2;
	return x;
}

/*
 * sqrt(x) for a positive unpacked binary64: the root r of m * 2^56, 55
 * bits, is the root of m * 2^8 extended by 24 bits with one division,
 * which errs by at most 1 upward; the remainder m * 2^56 - r^2 is small
 * enough to be exact modulo 2^64.
 */
static inline struct vgpu_fpx vgpu_fpx_sqrt64(struct vgpu_fpx x)
{
	u64 m = x.sig >> 10, r, rem;

	if (x.exp & 1) {
		m <<= 1;
		x.exp--;
	}
	r = vgpu_isqrt62(m << 8);		/* [2^30, 2^31) */
	rem = (m << 8) - r * r;			/* <= 2r */
	r = (r << 24) + (rem << 23) / r;
	rem = (m << 56) - r * r;
	if ((s64)rem < 0) {
		rem += 2 * r - 1;
		r--;
	}
	x.sig = (r << 8) | (rem != 0);		/* r in [2^54, 2^55) */
	x.exp /= 2;
	return x;
}

/*
 * The special cases shared by both formats, on the bits widened to u64:
 * @sbit is the sign bit, @inf the infinity and @nan the canonical NaN.
 */

/* a + b when either is an infinity or a NaN. */
static inline u64 vgpu_fp_add_inf_nan(u64 a, u64 b, u64 sbit, u64 inf,
				      u64 nan)
{
	u64 ma = a & ~sbit, mb = b & ~sbit;

	if (ma > inf || mb > inf || (ma == inf && mb == inf && a != b))
		return nan;
	return ma == inf ? a : b;
}

/* a + b when either is zero and neither is an infinity or a NaN. */
static inline u64 vgpu_fp_add_zero(u64 a, u64 b, u64 sbit,
				   enum vgpu_round rm)
{
	if (a & ~sbit)
		return a;
	if (b & ~sbit)
		return b;
	return a == b ? a : (rm == VGPU_RM ? sbit : 0);
}

/* a * b into *z unless both are finite and nonzero (then false). */
static inline bool vgpu_fp_mul_special(u64 a, u64 b, u64 sbit, u64 inf,
				       u64 nan, u64 *z)
{
	u64 ma = a & ~sbit, mb = b & ~sbit, sign = (a ^ b) & sbit;

	if (ma > inf || mb > inf)
		*z = nan;
	else if (ma == inf || mb == inf)
		*z = ma && mb ? sign | inf : nan;
	else if (!ma || !mb)
		*z = sign;
	else
		return false;
	return true;
}

/* a / b into *z unless both are finite and nonzero (then false). */
static inline bool vgpu_fp_div_special(u64 a, u64 b, u64 sbit, u64 inf,
				       u64 nan, u64 *z)
{
	u64 ma = a & ~sbit, mb = b & ~sbit, sign = (a ^ b) & sbit;

	if (ma > inf || mb > inf || (ma == inf && mb == inf) || (!ma && !mb))
		*z = nan;
	else if (ma == inf || !mb)
		*z = sign | inf;
	else if (mb == inf || !ma)
		*z = sign;
	else
		return false;
	return true;
}

/* sqrt(a) into *z unless a is finite and positive (then false). */
static inline bool vgpu_fp_sqrt_special(u64 a, u64 sbit, u64 inf, u64 nan,
					u64 *z)
{
	u64 ma = a & ~sbit;

	if (!ma || a == inf)
		*z = a;			/* sqrt(-0) = -0 */
	else if (ma > inf || (a & sbit))
		*z = nan;
	else
		return false;
	return true;
}

/*
 * a * b + c into *z when an operand is an infinity or a NaN or the
 * product is zero; false when the arithmetic is needed.
 */
static inline bool vgpu_fp_fma_special(u64 a, u64 b, u64 c, u64 sbit,
				       u64 inf, u64 nan, enum vgpu_round rm,
				       u64 *z)
{
	u64 ma = a & ~sbit, mb = b & ~sbit, mc = c & ~sbit;
	u64 p = (a ^ b) & sbit;

	if (ma > inf || mb > inf || mc > inf) {
		*z = nan;
	} else if (ma == inf || mb == inf) {
		p |= inf;
		*z = !ma || !mb || (mc == inf && c != p) ? nan : p;
	} else if (mc == inf) {
		*z = c;
	} else if (!ma || !mb) {
		/* (+-0) + c: c, or a zero signed as for addition */
		*z = mc || c == p ? c : (rm == VGPU_RM ? sbit : 0);
	} else {
		return false;
	}
	return true;
}

/* binary64 arithmetic */

static inline u64 vgpu_f64_add(u64 a, u64 b, enum vgpu_round rm)
{
	u64 ma = a & ~VGPU_F64_SIGNBIT, mb = b & ~VGPU_F64_SIGNBIT;
	struct vgpu_fpx x;

	if (ma >= VGPU_F64_INF || mb >= VGPU_F64_INF)
		return vgpu_fp_add_inf_nan(a, b, VGPU_F64_SIGNBIT,
					   VGPU_F64_INF, VGPU_F64_NAN);
	if (!ma || !mb)
		return vgpu_fp_add_zero(a, b, VGPU_F64_SIGNBIT, rm);
	x = vgpu_fpx_add(vgpu_f64_unpack(a), vgpu_f64_unpack(b), rm);
	return vgpu_fpx_to_f64(x, rm);
}

static inline u64 vgpu_f64_sub(u64 a, u64 b, enum vgpu_round rm)
{
	return vgpu_f64_add(a, b ^ VGPU_F64_SIGNBIT, rm);
}

static inline u64 vgpu_f64_mul(u64 a, u64 b, enum vgpu_round rm)
{
	struct vgpu_fpx128 p;
	struct vgpu_fpx x;
	u64 z;

	if (vgpu_fp_mul_special(a, b, VGPU_F64_SIGNBIT, VGPU_F64_INF,
				VGPU_F64_NAN, &z))
		return z;
	p = vgpu_fpx_mul128(vgpu_f64_unpack(a), vgpu_f64_unpack(b));
	x.sig = p.hi | (p.lo != 0);
	x.exp = p.exp;
	x.sign = p.sign;
	return vgpu_fpx_to_f64(x, rm);
}

static inline u64 vgpu_f64_div(u64 a, u64 b, enum vgpu_round rm)
{
	u64 z;

	if (vgpu_fp_div_special(a, b, VGPU_F64_SIGNBIT, VGPU_F64_INF,
				VGPU_F64_NAN, &z))
		return z;
	return vgpu_fpx_to_f64(vgpu_fpx_div64(vgpu_f64_unpack(a),
					      vgpu_f64_unpack(b)), rm);
}

static inline u64 vgpu_f64_sqrt(u64 a, enum vgpu_round rm)
{
	u64 z;

	if (vgpu_fp_sqrt_special(a, VGPU_F64_SIGNBIT, VGPU_F64_INF,
				 VGPU_F64_NAN, &z))
		return z;
	return vgpu_fpx_to_f64(vgpu_fpx_sqrt64(vgpu_f64_unpack(a)), rm);
}

/* a * b + c, rounded once. */
static inline u64 vgpu_f64_fma(u64 a, u64 b, u64 c, enum vgpu_round rm)
{
	struct vgpu_fpx128 p, q;
	struct vgpu_fpx x;
	u64 z;

	if (vgpu_fp_fma_special(a, b, c, VGPU_F64_SIGNBIT, VGPU_F64_INF,
				VGPU_F64_NAN, rm, &z))
		return z;
	if (!(c & ~VGPU_F64_SIGNBIT))
		return vgpu_f64_mul(a, b, rm);
	p = vgpu_fpx_mul128(vgpu_f64_unpack(a), vgpu_f64_unpack(b));
	x = vgpu_f64_unpack(c);
	q.hi = x.sig;
	q.lo = 0;
	q.exp = x.exp;
	q.sign = x.sign;
	return vgpu_fpx_to_f64(vgpu_fpx128_add(p, q, rm), rm);
}

/* binary32 arithmetic with a rounding mode */

static inline u32 vgpu_f32_add_r(u32 a, u32 b, enum vgpu_round rm)
{
	u32 ma = a & ~VGPU_F32_SIGNBIT, mb = b & ~VGPU_F32_SIGNBIT;
	struct vgpu_fpx x;

	if (ma >= VGPU_F32_INF || mb >= VGPU_F32_INF)
		return (u32)vgpu_fp_add_inf_nan(a, b, VGPU_F32_SIGNBIT,
						VGPU_F32_INF, VGPU_F32_NAN);
	if (!ma || !mb)
		return (u32)vgpu_fp_add_zero(a, b, VGPU_F32_SIGNBIT, rm);
	x = vgpu_fpx_add(vgpu_f32_unpack(a), vgpu_f32_unpack(b), rm);
	return vgpu_fpx_to_f32(x, rm);
}

static inline u32 vgpu_f32_sub_r(u32 a, u32 b, enum vgpu_round rm)
{
	return vgpu_f32_add_r(a, b ^ VGPU_F32_SIGNBIT, rm);
}

static inline u32 vgpu_f32_mul_r(u32 a, u32 b, enum vgpu_round rm)
{
	u64 z;

	if (vgpu_fp_mul_special(a, b, VGPU_F32_SIGNBIT, VGPU_F32_INF,
				VGPU_F32_NAN, &z))
		return (u32)z;
	return vgpu_fpx_to_f32(vgpu_fpx_mul32(vgpu_f32_unpack(a),
					      vgpu_f32_unpack(b)), rm);
}

static inline u32 vgpu_f32_div_r(u32 a, u32 b, enum vgpu_round rm)
{
	u64 z;

	if (vgpu_fp_div_special(a, b, VGPU_F32_SIGNBIT, VGPU_F32_INF,
				VGPU_F32_NAN, &z))
		return (u32)z;
	return vgpu_fpx_to_f32(vgpu_fpx_div32(vgpu_f32_unpack(a),
					      vgpu_f32_unpack(b)), rm);
}

static inline u32 vgpu_f32_sqrt_r(u32 a, enum vgpu_round rm)
{
	u64 z;

	if (vgpu_fp_sqrt_special(a, VGPU_F32_SIGNBIT, VGPU_F32_INF,
				 VGPU_F32_NAN, &z))
		return (u32)z;
	return vgpu_fpx_to_f32(vgpu_fpx_sqrt32(vgpu_f32_unpack(a)), rm);
}

/* a * b + c, rounded once: the 48-bit product is exact in a vgpu_fpx. */
static inline u32 vgpu_f32_fma_r(u32 a, u32 b, u32 c, enum vgpu_round rm)
{
	struct vgpu_fpx x;
	u64 z;

	if (vgpu_fp_fma_special(a, b, c, VGPU_F32_SIGNBIT, VGPU_F32_INF,
				VGPU_F32_NAN, rm, &z))
		return (u32)z;
	if (!(c & ~VGPU_F32_SIGNBIT))
		return vgpu_f32_mul_r(a, b, rm);
	x = vgpu_fpx_mul32(vgpu_f32_unpack(a), vgpu_f32_unpack(b));
	x = vgpu_fpx_add(x, vgpu_f32_unpack(c), rm);
	return vgpu_fpx_to_f32(x, rm);
}

/* comparisons, min and max, sign operations */

static inline bool vgpu_f64_unord(u64 a, u64 b)
{
	return VGPU_F64_ISNAN(a) || VGPU_F64_ISNAN(b);
}

static inline bool vgpu_f32_unord(u32 a, u32 b)
{
	return VGPU_F32_ISNAN(a) || VGPU_F32_ISNAN(b);
}

static inline bool vgpu_f64_eq(u64 a, u64 b)
{
	if (vgpu_f64_unord(a, b))
		return false;
	return a == b || !((a | b) & ~VGPU_F64_SIGNBIT);
}

static inline bool vgpu_f64_lt(u64 a, u64 b)
{
	u32 sa = VGPU_F64_SIGN(a), sb = VGPU_F64_SIGN(b);

	if (vgpu_f64_unord(a, b))
		return false;
	if (sa != sb)
		return sa && ((a | b) & ~VGPU_F64_SIGNBIT);
	return a != b && (sa ^ (a < b));
}

static inline bool vgpu_f64_le(u64 a, u64 b)
{
	u32 sa = VGPU_F64_SIGN(a), sb = VGPU_F64_SIGN(b);

	if (vgpu_f64_unord(a, b))
		return false;
	if (sa != sb)
		return sa || !((a | b) & ~VGPU_F64_SIGNBIT);
	return a == b || (sa ^ (a < b));
}

/*
 * As vgpu_f32_min/max: IEEE minNum/maxNum, a NaN operand loses to a
 * number, two NaNs give the canonical NaN; of two equal operands (+0 and
 * -0 included) the first is returned.
 */
static inline u64 vgpu_f64_min(u64 a, u64 b)
{
	if (VGPU_F64_ISNAN(a))
		return VGPU_F64_ISNAN(b) ? VGPU_F64_NAN : b;
	if (VGPU_F64_ISNAN(b))
		return a;
	return vgpu_f64_lt(b, a) ? b : a;
}

static inline u64 vgpu_f64_max(u64 a, u64 b)
{
	if (VGPU_F64_ISNAN(a))
		return VGPU_F64_ISNAN(b) ? VGPU_F64_NAN : b;
	if (VGPU_F64_ISNAN(b))
		return a;
	return vgpu_f64_lt(a, b) ? b : a;
}

/*
 * neg and abs only flip or clear the sign bit (IEEE 754's negate and
 * abs are not arithmetic): the one place a NaN is passed through, its
 * sign changed, rather than made canonical.
 */
static inline u64 vgpu_f64_neg(u64 a)
{
	return a ^ VGPU_F64_SIGNBIT;
}

static inline u64 vgpu_f64_abs(u64 a)
{
	return a & ~VGPU_F64_SIGNBIT;
}

static inline u32 vgpu_f32_neg(u32 a)
{
	return a ^ VGPU_F32_SIGNBIT;
}

static inline u32 vgpu_f32_abs(u32 a)
{
	return a & ~VGPU_F32_SIGNBIT;
}

/* conversions between the formats */

/* Exact. */
static inline u64 vgpu_f32_to_f64(u32 a)
{
	u32 ma = a & ~VGPU_F32_SIGNBIT;
	u64 sign = (u64)VGPU_F32_SIGN(a) << 63;

	if (ma >= VGPU_F32_INF)
		return ma == VGPU_F32_INF ? sign | VGPU_F64_INF : VGPU_F64_NAN;
	if (ma >= 0x00800000u)		/* normal: rebias the exponent */
		return sign | (((u64)ma << 29) + ((u64)(0x3ff - 0x7f) << 52));
	if (!ma)
		return sign;
	return vgpu_fpx_to_f64(vgpu_f32_unpack(a), VGPU_RN);
}

static inline u32 vgpu_f64_to_f32(u64 a, enum vgpu_round rm)
{
	u64 ma = a & ~VGPU_F64_SIGNBIT;
	u32 sign = VGPU_F64_SIGN(a) << 31;

	if (ma >= VGPU_F64_INF)
		return ma == VGPU_F64_INF ? sign | VGPU_F32_INF : VGPU_F32_NAN;
	if (!ma)
		return sign;
	return vgpu_fpx_to_f32(vgpu_f64_unpack(a), rm);
}

/*
 * Round the finite or infinite @a, in a format of @fbits fraction bits
 * and exponent bias @bias, to an integral value in the same format
 * (SoftFloat's f64_roundToInt); the sign of a zero result is a's.
 */
static inline u64 vgpu_fp_round_int(u64 a, enum vgpu_round rm, u32 fbits,
				    s32 bias, u64 sbit)
{
	u64 sign = a & sbit, mag = a ^ sign, one = (u64)bias << fbits;
	s32 e = (s32)(mag >> fbits) - bias;
	bool up = (rm == VGPU_RM && sign) || (rm == VGPU_RP && !sign);
	u64 last, mask;

	if (e < 0) {			/* |a| < 1 */
		if (!mag)
			return a;
		if (rm == VGPU_RN)	/* 1 above one half, else 0 */
			up = e == -1 && (mag & ((1ULL << fbits) - 1));
		return sign | (up ? one : 0);
	}
	if (e >= (s32)fbits)		/* integral already, or infinite */
		return a;
	last = 1ULL << (fbits - e);
	mask = last - 1;
	if (rm == VGPU_RN) {
		mag += last >> 1;
		if (!(mag & mask))	/* it was a tie: to even */
			mag &= ~last;
	} else if (up) {
		mag += mask;
	}
	return sign | (mag & ~mask);
}

/* cvt.rni/rzi/rmi/rpi.f64.f64 */
static inline u64 vgpu_f64_round_int(u64 a, enum vgpu_round rm)
{
	if (VGPU_F64_ISNAN(a))
		return VGPU_F64_NAN;
	return vgpu_fp_round_int(a, rm, 52, 0x3ff, VGPU_F64_SIGNBIT);
}

/* cvt.rni/rzi/rmi/rpi.f32.f32 */
static inline u32 vgpu_f32_round_int(u32 a, enum vgpu_round rm)
{
	if (VGPU_F32_ISNAN(a))
		return VGPU_F32_NAN;
	return (u32)vgpu_fp_round_int(a, rm, 23, 0x7f, VGPU_F32_SIGNBIT);
}

/* integers to floats */

static inline struct vgpu_fpx vgpu_fpx_from_u64(u32 sign, u64 a)
{
	struct vgpu_fpx x;
	int lz = vgpu_clz64(a);		/* a is not zero */

	x.sign = sign;
	if (!lz) {
		x.sig = vgpu_jam64(a, 1);
		x.exp = 63;
	} else {
		x.sig = a << (lz - 1);
		x.exp = 63 - lz;
	}
	return x;
}

static inline u64 vgpu_u64_to_f64(u64 a, enum vgpu_round rm)
{
	return a ? vgpu_fpx_to_f64(vgpu_fpx_from_u64(0, a), rm) : 0;
}

static inline u64 vgpu_s64_to_f64(s64 a, enum vgpu_round rm)
{
	u64 mag = a < 0 ? 0 - (u64)a : (u64)a;

	return a ? vgpu_fpx_to_f64(vgpu_fpx_from_u64(a < 0, mag), rm) : 0;
}

/* Exact; @rm for the symmetry with the others. */
static inline u64 vgpu_u32_to_f64(u32 a, enum vgpu_round rm)
{
	return vgpu_u64_to_f64(a, rm);
}

static inline u64 vgpu_s32_to_f64(s32 a, enum vgpu_round rm)
{
	return vgpu_s64_to_f64(a, rm);
}

static inline u32 vgpu_u64_to_f32_r(u64 a, enum vgpu_round rm)
{
	return a ? vgpu_fpx_to_f32(vgpu_fpx_from_u64(0, a), rm) : 0;
}

static inline u32 vgpu_s64_to_f32_r(s64 a, enum vgpu_round rm)
{
	u64 mag = a < 0 ? 0 - (u64)a : (u64)a;

	return a ? vgpu_fpx_to_f32(vgpu_fpx_from_u64(a < 0, mag), rm) : 0;
}

static inline u32 vgpu_u32_to_f32_r(u32 a, enum vgpu_round rm)
{
	return vgpu_u64_to_f32_r(a, rm);
}

static inline u32 vgpu_s32_to_f32_r(s32 a, enum vgpu_round rm)
{
	return vgpu_s64_to_f32_r(a, rm);
}

/* floats to integers: cvt.rni/rzi/rmi/rpi.{s,u}{32,64}.f{32,64} */

/* |x| rounded to an integer in @rm (for x's sign); *big from 2^64 up. */
static inline u64 vgpu_fpx_to_int(struct vgpu_fpx x, enum vgpu_round rm,
				  bool *big)
{
	s32 shift = 62 - x.exp;
	u64 ip = 0, frac = 1;		/* below one half, not zero */
	bool up;

	*big = shift < -1;
	if (shift <= 0)
		return *big ? U64_MAX : x.sig << -shift;
	if (shift < 64) {
		ip = x.sig >> shift;
		frac = x.sig << (64 - shift);
	}
	if (rm == VGPU_RN)
		up = frac > 1ULL << 63 || (frac == 1ULL << 63 && (ip & 1));
	else
		up = frac && ((rm == VGPU_RM && x.sign) ||
			      (rm == VGPU_RP && !x.sign));
	return ip + up;
}

/*
 * The magnitude of a rounded to an integer, with *sign and *big (the
 * magnitude is 2^64 or more: an infinity, say).  A NaN gives +0.
 */
static inline u64 vgpu_f64_int_mag(u64 a, enum vgpu_round rm, u32 *sign,
				   bool *big)
{
	u64 ma = a & ~VGPU_F64_SIGNBIT;

	*sign = ma > VGPU_F64_INF ? 0 : VGPU_F64_SIGN(a);
	*big = ma == VGPU_F64_INF;
	if (!ma || ma >= VGPU_F64_INF)
		return 0;
	return vgpu_fpx_to_int(vgpu_f64_unpack(a), rm, big);
}

static inline u64 vgpu_f32_int_mag(u32 a, enum vgpu_round rm, u32 *sign,
				   bool *big)
{
	u32 ma = a & ~VGPU_F32_SIGNBIT;

	*sign = ma > VGPU_F32_INF ? 0 : VGPU_F32_SIGN(a);
	*big = ma == VGPU_F32_INF;
	if (!ma || ma >= VGPU_F32_INF)
		return 0;
	return vgpu_fpx_to_int(vgpu_f32_unpack(a), rm, big);
}

/*
 * PTX's cvt clamps a float out of the destination's range to its ends
 * (a magnitude of exactly 2^63 or 2^31 with the sign set is the minimum
 * either way).
 */
static inline s64 vgpu_sat_s64(u32 sign, u64 mag, bool big)
{
	if (big || mag > (u64)S64_MAX)
		return sign ? S64_MIN : S64_MAX;
	return sign ? -(s64)mag : (s64)mag;
}

static inline u64 vgpu_sat_u64(u32 sign, u64 mag, bool big)
{
	if (sign)
		return 0;
	return big ? U64_MAX : mag;
}

static inline s32 vgpu_sat_s32(u32 sign, u64 mag, bool big)
{
	if (big || mag > 0x7fffffff)
		return sign ? -0x7fffffff - 1 : 0x7fffffff;
	return sign ? -(s32)mag : (s32)mag;
}

static inline u32 vgpu_sat_u32(u32 sign, u64 mag, bool big)
{
	if (sign)
		return 0;
	return big || mag > U32_MAX ? U32_MAX : (u32)mag;
}

static inline s64 vgpu_f64_to_s64(u64 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f64_int_mag(a, rm, &sign, &big);

	return vgpu_sat_s64(sign, mag, big);
}

static inline u64 vgpu_f64_to_u64(u64 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f64_int_mag(a, rm, &sign, &big);

	return vgpu_sat_u64(sign, mag, big);
}

static inline s32 vgpu_f64_to_s32(u64 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f64_int_mag(a, rm, &sign, &big);

	return vgpu_sat_s32(sign, mag, big);
}

static inline u32 vgpu_f64_to_u32(u64 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f64_int_mag(a, rm, &sign, &big);

	return vgpu_sat_u32(sign, mag, big);
}

static inline s64 vgpu_f32_to_s64_r(u32 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f32_int_mag(a, rm, &sign, &big);

	return vgpu_sat_s64(sign, mag, big);
}

static inline u64 vgpu_f32_to_u64_r(u32 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f32_int_mag(a, rm, &sign, &big);

	return vgpu_sat_u64(sign, mag, big);
}

static inline s32 vgpu_f32_to_s32_r(u32 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f32_int_mag(a, rm, &sign, &big);

	return vgpu_sat_s32(sign, mag, big);
}

static inline u32 vgpu_f32_to_u32_r(u32 a, enum vgpu_round rm)
{
	u32 sign;
	bool big;
	u64 mag = vgpu_f32_int_mag(a, rm, &sign, &big);

	return vgpu_sat_u32(sign, mag, big);
}

#endif /* VGPU_SOFTFLOAT64_H */
