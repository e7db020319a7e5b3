/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_softfloat.h - IEEE 754 binary32 arithmetic in integer code.
 *
 * The kernel may not touch the FPU outside kernel_fpu_begin(), and the
 * interpreter must give bit-identical results in the kernel, under UML and
 * in userspace, so vgpu-sim does float32 arithmetic in software.  The
 * algorithms follow the structure of John Hauser's Berkeley SoftFloat 3
 * (round to nearest, ties to even; subnormals fully supported).  Every
 * NaN result is the canonical quiet NaN 0x7fc00000; no exception flags.
 */
#ifndef VGPU_SOFTFLOAT_H
#define VGPU_SOFTFLOAT_H

#include "vgpu_compat.h"

#define VGPU_F32_NAN 0x7fc00000u

static inline u32 vgpu_f32_pack(u32 sign, s32 exp, u32 sig)
{
	return (sign << 31) + ((u32)exp << 23) + sig;
}

static inline u32 vgpu_sr_jam32(u32 a, u32 dist)
{
	return dist < 31 ? (a >> dist) | ((u32)(a << (-dist & 31)) != 0) :
			   (a != 0);
}

static inline u64 vgpu_sr_jam64(u64 a, u32 dist)
{
	return (a >> dist) | ((a & (((u64)1 << dist) - 1)) != 0);
}

static inline int vgpu_clz32(u32 a)
{
	return a ? __builtin_clz(a) : 32;
}

static inline int vgpu_clz64(u64 a)
{
	return a ? __builtin_clzll(a) : 64;
}

/* @sig has its leading one at bit 30 and 7 guard bits; @exp is biased-1. */
static inline u32 vgpu_f32_round_pack(u32 sign, s32 exp, u32 sig)
{
	u32 round_bits = sig & 0x7f;

	if ((u32)exp >= 0xfd) {
		if (exp < 0) {
			sig = vgpu_sr_jam32(sig, -exp);
			exp = 0;
			round_bits = sig & 0x7f;
		} else if (exp > 0xfd || sig + 0x40 >= 0x80000000u) {
			return vgpu_f32_pack(sign, 0xff, 0);
		}
	}
	sig = (sig + 0x40) >> 7;
	if (round_bits == 0x40)
		sig &= ~1u;	/* ties to even */
	if (!sig)
		exp = 0;
	return vgpu_f32_pack(sign, exp, sig);
}

static inline u32 vgpu_f32_norm_round_pack(u32 sign, s32 exp, u32 sig)
{
	int shift = vgpu_clz32(sig) - 1;

	exp -= shift;
	if (shift >= 7 && (u32)exp < 0xfd)
		return vgpu_f32_pack(sign, sig ? exp : 0, sig << (shift - 7));
	return vgpu_f32_round_pack(sign, exp, sig << shift);
}

#define VGPU_F32_SIGN(a) ((a) >> 31)
#define VGPU_F32_EXP(a) ((s32)(((a) >> 23) & 0xff))
#define VGPU_F32_FRAC(a) ((a) & 0x007fffffu)
#define VGPU_F32_ISNAN(a) (((a) & 0x7fffffffu) > 0x7f800000u)

static inline u32 vgpu_f32_add_mags(u32 a, u32 b)
{
	s32 ea = VGPU_F32_EXP(a), eb = VGPU_F32_EXP(b), ez;
	u32 sa = VGPU_F32_FRAC(a), sb = VGPU_F32_FRAC(b), sz;
	u32 sign = VGPU_F32_SIGN(a);
	s32 diff = ea - eb;

	if (!diff) {
		if (!ea)
			return a + sb;
		if (ea == 0xff)
			return (sa | sb) ? VGPU_F32_NAN : a;
		ez = ea;
		sz = 0x01000000 + sa + sb;
		if (!(sz & 1) && ez < 0xfe)
			return vgpu_f32_pack(sign, ez, sz >> 1);
		sz <<= 6;
	} else {
		sa <<= 6;
		sb <<= 6;
		if (diff < 0) {
			if (eb == 0xff)
				return sb ? VGPU_F32_NAN : vgpu_f32_pack(sign, 0xff, 0);
			ez = eb;
			sa += ea ? 0x20000000 : sa;
			sa = vgpu_sr_jam32(sa, -diff);
		} else {
			if (ea == 0xff)
				return sa ? VGPU_F32_NAN : a;
			ez = ea;
			sb += eb ? 0x20000000 : sb;
			sb = vgpu_sr_jam32(sb, diff);
		}
		sz = 0x20000000 + sa + sb;
		if (sz < 0x40000000) {
			--ez;
			sz <<= 1;
		}
	}
	return vgpu_f32_round_pack(sign, ez, sz);
}

static inline u32 vgpu_f32_sub_mags(u32 a, u32 b)
{
	s32 ea = VGPU_F32_EXP(a), eb = VGPU_F32_EXP(b), ez;
	u32 sa = VGPU_F32_FRAC(a), sb = VGPU_F32_FRAC(b), sx, sy;
	u32 sign = VGPU_F32_SIGN(a);
	s32 diff = ea - eb;

	if (!diff) {
		s32 sdiff;
		int shift;

		if (ea == 0xff)
			return VGPU_F32_NAN;
		sdiff = (s32)sa - (s32)sb;
		if (!sdiff)
			return 0;
		if (ea)
			--ea;
		if (sdiff < 0) {
			sign ^= 1;
			sdiff = -sdiff;
		}
		shift = vgpu_clz32(sdiff) - 8;
		ez = ea - shift;
		if (ez < 0) {
			shift = ea;
			ez = 0;
		}
		return vgpu_f32_pack(sign, ez, (u32)sdiff << shift);
	}
	sa <<= 7;
	sb <<= 7;
	if (diff < 0) {
		sign ^= 1;
		if (eb == 0xff)
			return sb ? VGPU_F32_NAN : vgpu_f32_pack(sign, 0xff, 0);
		ez = eb - 1;
		sx = sb | 0x40000000;
		sy = sa + (ea ? 0x40000000 : sa);
		diff = -diff;
	} else {
		if (ea == 0xff)
			return sa ? VGPU_F32_NAN : a;
		ez = ea - 1;
		sx = sa | 0x40000000;
		sy = sb + (eb ? 0x40000000 : sb);
	}
	return vgpu_f32_norm_round_pack(sign, ez, sx - vgpu_sr_jam32(sy, diff));
}

static inline u32 vgpu_f32_add(u32 a, u32 b)
{
	u32 r;

	if (VGPU_F32_ISNAN(a) || VGPU_F32_ISNAN(b))
		return VGPU_F32_NAN;
	r = (VGPU_F32_SIGN(a) ^ VGPU_F32_SIGN(b)) ? vgpu_f32_sub_mags(a, b) :
						   vgpu_f32_add_mags(a, b);
	return VGPU_F32_ISNAN(r) ? VGPU_F32_NAN : r;
}

static inline u32 vgpu_f32_sub(u32 a, u32 b)
{
	return vgpu_f32_add(a, b ^ 0x80000000u);
}

/* Normalise a subnormal significand; returns the exponent. */
static inline s32 vgpu_f32_norm_sub(u32 *sig)
{
	int shift = vgpu_clz32(*sig) - 8;

	*sig <<= shift;
	return 1 - shift;
}

static inline u32 vgpu_f32_mul(u32 a, u32 b)
{
	s32 ea = VGPU_F32_EXP(a), eb = VGPU_F32_EXP(b), ez;
	u32 sa = VGPU_F32_FRAC(a), sb = VGPU_F32_FRAC(b), sz;
	u32 sign = VGPU_F32_SIGN(a) ^ VGPU_F32_SIGN(b);

	if (VGPU_F32_ISNAN(a) || VGPU_F32_ISNAN(b))
		return VGPU_F32_NAN;
	if (ea == 0xff)
		return (eb | sb) ? vgpu_f32_pack(sign, 0xff, 0) : VGPU_F32_NAN;
	if (eb == 0xff)
		return (ea | sa) ? vgpu_f32_pack(sign, 0xff, 0) : VGPU_F32_NAN;
	if (!ea) {
		if (!sa)
			return vgpu_f32_pack(sign, 0, 0);
		ea = vgpu_f32_norm_sub(&sa);
	}
	if (!eb) {
		if (!sb)
			return vgpu_f32_pack(sign, 0, 0);
		eb = vgpu_f32_norm_sub(&sb);
	}
	ez = ea + eb - 0x7f;
	sa = (sa | 0x00800000) << 7;
	sb = (sb | 0x00800000) << 8;
	sz = (u32)vgpu_sr_jam64((u64)sa * sb, 32);
	if (sz < 0x40000000) {
		--ez;
		sz <<= 1;
	}
	return vgpu_f32_round_pack(sign, ez, sz);
}

static inline u32 vgpu_f32_div(u32 a, u32 b)
{
	s32 ea = VGPU_F32_EXP(a), eb = VGPU_F32_EXP(b), ez;
	u32 sa = VGPU_F32_FRAC(a), sb = VGPU_F32_FRAC(b);
	u32 sign = VGPU_F32_SIGN(a) ^ VGPU_F32_SIGN(b);
	u64 sa64, sz;

	if (VGPU_F32_ISNAN(a) || VGPU_F32_ISNAN(b))
		return VGPU_F32_NAN;
	if (ea == 0xff)
		return eb == 0xff ? VGPU_F32_NAN : vgpu_f32_pack(sign, 0xff, 0);
	if (eb == 0xff)
		return vgpu_f32_pack(sign, 0, 0);
	if (!eb) {
		if (!sb)
			return (ea | sa) ? vgpu_f32_pack(sign, 0xff, 0) :
					   VGPU_F32_NAN;
		eb = vgpu_f32_norm_sub(&sb);
	}
	if (!ea) {
		if (!sa)
			return vgpu_f32_pack(sign, 0, 0);
		ea = vgpu_f32_norm_sub(&sa);
	}
	ez = ea - eb + 0x7e;
	sa |= 0x00800000;
	sb |= 0x00800000;
	if (sa < sb) {
		--ez;
		sa64 = (u64)sa << 31;
	} else {
		sa64 = (u64)sa << 30;
	}
	/* Plain division: the divisor fits 32 bits; div_u64 not needed on 64-bit. */
	sz = sa64 / sb;
	if (!(sz & 0x3f))
		sz |= ((u64)sb * sz != sa64);
	return vgpu_f32_round_pack(sign, ez, (u32)sz);
}

static inline bool vgpu_f32_eq(u32 a, u32 b)
{
	if (VGPU_F32_ISNAN(a) || VGPU_F32_ISNAN(b))
		return false;
	return a == b || !((a | b) & 0x7fffffffu);
}

static inline bool vgpu_f32_lt(u32 a, u32 b)
{
	u32 sa = VGPU_F32_SIGN(a), sb = VGPU_F32_SIGN(b);

	if (VGPU_F32_ISNAN(a) || VGPU_F32_ISNAN(b))
		return false;
	if (sa != sb)
		return sa && ((a | b) & 0x7fffffffu);
	return a != b && (sa ^ (a < b));
}

static inline bool vgpu_f32_le(u32 a, u32 b)
{
	u32 sa = VGPU_F32_SIGN(a), sb = VGPU_F32_SIGN(b);

	if (VGPU_F32_ISNAN(a) || VGPU_F32_ISNAN(b))
		return false;
	if (sa != sb)
		return sa || !((a | b) & 0x7fffffffu);
	return a == b || (sa ^ (a < b));
}

/* IEEE minNum/maxNum: a NaN operand loses to a number. */
static inline u32 vgpu_f32_min(u32 a, u32 b)
{
	if (VGPU_F32_ISNAN(a))
		return VGPU_F32_ISNAN(b) ? VGPU_F32_NAN : b;
	if (VGPU_F32_ISNAN(b))
		return a;
	return vgpu_f32_lt(b, a) ? b : a;
}

static inline u32 vgpu_f32_max(u32 a, u32 b)
{
	if (VGPU_F32_ISNAN(a))
		return VGPU_F32_ISNAN(b) ? VGPU_F32_NAN : b;
	if (VGPU_F32_ISNAN(b))
		return a;
	return vgpu_f32_lt(a, b) ? b : a;
}

static inline u32 vgpu_u64_to_f32(u64 a)
{
	int shift = vgpu_clz64(a) - 40;
	u32 sig;

	if (shift >= 0)
		return a ? vgpu_f32_pack(0, 0x95 - shift, (u32)(a << shift)) : 0;
	shift += 7;
	sig = shift < 0 ? (u32)vgpu_sr_jam64(a, -shift) : (u32)(a << shift);
	return vgpu_f32_round_pack(0, 0x9c - shift, sig);
}

static inline u32 vgpu_s64_to_f32(s64 a)
{
	u32 sign = a < 0;
	u64 abs = sign ? -(u64)a : (u64)a;

	return vgpu_u64_to_f32(abs) | (sign << 31);
}

/* Truncate toward zero, saturating; NaN converts to 0. */
static inline s64 vgpu_f32_to_s64(u32 a)
{
	s32 e = VGPU_F32_EXP(a) - 0x7f;
	u64 m = VGPU_F32_FRAC(a) | 0x00800000u, v;

	if (VGPU_F32_ISNAN(a))
		return 0;
	if (e < 0)
		return 0;
	if (e >= 63)
		return VGPU_F32_SIGN(a) ? S64_MIN : S64_MAX;
	v = e >= 23 ? m << (e - 23) : m >> (23 - e);
	return VGPU_F32_SIGN(a) ? -(s64)v : (s64)v;
}

#endif /* VGPU_SOFTFLOAT_H */
