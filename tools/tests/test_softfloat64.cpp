// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu_softfloat64.h against the host's IEEE 754 hardware in all four
// rounding modes (fesetround; this file is built with -frounding-math),
// NaNs aside: vgpu-sim's are always canonical.  Where the host has no
// defined answer (float-to-integer out of range, min/max of zeros) the
// reference is written out here, as PTX defines it.
#include <gtest/gtest.h>

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

extern "C" {
#include "vgpu_softfloat64.h"
}

namespace {

constexpr int kModes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
const char* const kModeNames[4] = {"rn", "rz", "rm", "rp"};
constexpr vgpu_round kRound[4] = {VGPU_RN, VGPU_RZ, VGPU_RM, VGPU_RP};

// Random cases per function and rounding mode.
constexpr int kCases = 250000;

uint64_t bits(double d) { return std::bit_cast<uint64_t>(d); }
uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
double dbl(uint64_t b) { return std::bit_cast<double>(b); }
float flt(uint32_t b) { return std::bit_cast<float>(b); }
uint64_t want(double h) { return std::isnan(h) ? VGPU_F64_NAN : bits(h); }
uint32_t want(float h) { return std::isnan(h) ? VGPU_F32_NAN : bits(h); }

// The host's rounding mode for a scope; back to nearest at its end.
class HostRounding {
public:
    explicit HostRounding(int m) { std::fesetround(kModes[m]); }
    ~HostRounding() { std::fesetround(FE_TONEAREST); }
    HostRounding(const HostRounding&) = delete;
    HostRounding& operator=(const HostRounding&) = delete;
};

// The host's operations, through volatile so that nothing is folded.
template <class F> F h_add(F a, F b) { volatile F x = a, y = b; return x + y; }
template <class F> F h_sub(F a, F b) { volatile F x = a, y = b; return x - y; }
template <class F> F h_mul(F a, F b) { volatile F x = a, y = b; return x * y; }
template <class F> F h_div(F a, F b) { volatile F x = a, y = b; return x / y; }
template <class F> F h_sqrt(F a) { volatile F x = a; return std::sqrt(static_cast<F>(x)); }
template <class F> F h_fma(F a, F b, F c) {
    volatile F x = a, y = b, z = c;
    return std::fma(static_cast<F>(x), static_cast<F>(y), static_cast<F>(z));
}
template <class F> F h_rint(F a) { volatile F x = a; return std::nearbyint(static_cast<F>(x)); }
template <class T, class F> T h_cvt(F a) { volatile F x = a; return static_cast<T>(x); }

// Random floats of a format (fraction and exponent widths) over every
// class: normal, subnormal, zero, infinity, NaN, near 1.0, the ends of
// the range, few significant bits (exact results, ties), the integers'
// range; partners of a value with a close exponent (cancellation).
class Gen {
public:
    Gen(int fbits, int ebits, uint64_t seed)
        : f_(fbits), emax_((1ull << ebits) - 1), bias_(emax_ >> 1),
          sbit_(1ull << (fbits + ebits)), fmask_((1ull << fbits) - 1), rng_(seed) {}

    uint64_t pack(uint64_t s, uint64_t e, uint64_t f) const {
        return (s & 1 ? sbit_ : 0) | (e << f_) | (f & fmask_);
    }
    uint64_t next() {
        uint64_t r = rng_(), s = r >> 63, f = rng_();
        switch (rng_() % 16) {
        case 0: return pack(s, 0, f >> (r % 64));                       // subnormal
        case 1: return pack(s, emax_, 0);                               // infinity
        case 2: return pack(s, emax_, f | 1);                           // NaN
        case 3: return pack(s, 0, 0);                                   // zero
        case 4: return pack(s, bias_ - 1 + r % 3, f);                   // near 1.0
        case 5: return pack(s, 1 + r % (f_ + 3), f);                    // tiny
        case 6: return pack(s, emax_ - 1 - r % (f_ + 3), f);            // huge
        case 7: return pack(s, r % emax_, f & ~((1ull << (r % (f_ + 1))) - 1));
        case 8: return pack(s, bias_ - 2 + r % 68, f >> (r % 60));     // integers
        default: return rng_() & (2 * sbit_ - 1);
        }
    }
    // A value close to @a in magnitude, of either sign: a few low bits
    // changed and the exponent moved by at most 2.
    uint64_t near(uint64_t a) {
        uint64_t e = (a >> f_) & emax_, m = a & ~sbit_;
        m ^= rng_() & ((1ull << (rng_() % (f_ + 1))) - 1);
        int de = static_cast<int>(rng_() % 5) - 2;
        if (e >= 3 && e + 3 <= emax_)
            m = de >= 0 ? m + (static_cast<uint64_t>(de) << f_) : m - (static_cast<uint64_t>(-de) << f_);
        return m | (rng_() & 1 ? sbit_ : 0);
    }
    // A second operand for @a: random, or (one time in three) near it.
    uint64_t partner(uint64_t a) { return rng_() % 3 ? next() : near(a); }
    uint64_t raw() { return rng_(); }

private:
    int f_;
    uint64_t emax_, bias_, sbit_, fmask_;
    std::mt19937_64 rng_;
};

Gen gen64(uint64_t seed) { return Gen(52, 11, seed); }
Gen gen32(uint64_t seed) { return Gen(23, 8, seed); }

#define HEX(x) std::hex << #x "=" << (x) << " "

using Soft2d = u64 (*)(u64, u64, vgpu_round);
using Soft2f = u32 (*)(u32, u32, vgpu_round);

void check2d(Soft2d soft, double (*host)(double, double), uint64_t seed) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen64(seed + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint64_t a = g.next(), b = g.partner(a);
            ASSERT_EQ(soft(a, b, kRound[m]), want(host(dbl(a), dbl(b)))) << kModeNames[m] << " " << HEX(a) << HEX(b);
        }
    }
}

void check2f(Soft2f soft, float (*host)(float, float), uint64_t seed) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen32(seed + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint32_t a = static_cast<uint32_t>(g.next()), b = static_cast<uint32_t>(g.partner(a));
            ASSERT_EQ(soft(a, b, kRound[m]), want(host(flt(a), flt(b)))) << kModeNames[m] << " " << HEX(a) << HEX(b);
        }
    }
}

TEST(SoftFloat64, AddSubMulDivF64MatchHardware) {
    check2d(vgpu_f64_add, h_add<double>, 100);
    check2d(vgpu_f64_sub, h_sub<double>, 110);
    check2d(vgpu_f64_mul, h_mul<double>, 120);
    check2d(vgpu_f64_div, h_div<double>, 130);
}

TEST(SoftFloat64, AddSubMulDivF32MatchHardware) {
    check2f(vgpu_f32_add_r, h_add<float>, 200);
    check2f(vgpu_f32_sub_r, h_sub<float>, 210);
    check2f(vgpu_f32_mul_r, h_mul<float>, 220);
    check2f(vgpu_f32_div_r, h_div<float>, 230);
}

// The rounding-mode versions, in .rn, are the RNE-only functions of
// vgpu_softfloat.h bit for bit.
TEST(SoftFloat64, F32RnMatchesVgpuSoftfloat) {
    Gen g = gen32(300);
    for (int i = 0; i < kCases; i++) {
        uint32_t a = static_cast<uint32_t>(g.next()), b = static_cast<uint32_t>(g.partner(a));
        ASSERT_EQ(vgpu_f32_add_r(a, b, VGPU_RN), vgpu_f32_add(a, b)) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f32_sub_r(a, b, VGPU_RN), vgpu_f32_sub(a, b)) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f32_mul_r(a, b, VGPU_RN), vgpu_f32_mul(a, b)) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f32_div_r(a, b, VGPU_RN), vgpu_f32_div(a, b)) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f32_to_s64_r(a, VGPU_RZ), vgpu_f32_to_s64(a)) << HEX(a);
        int64_t s = static_cast<int64_t>(g.raw()) >> (g.raw() % 64);
        ASSERT_EQ(vgpu_s64_to_f32_r(s, VGPU_RN), vgpu_s64_to_f32(s)) << s;
        ASSERT_EQ(vgpu_u64_to_f32_r(static_cast<uint64_t>(s), VGPU_RN), vgpu_u64_to_f32(static_cast<uint64_t>(s)))
            << s;
    }
}

TEST(SoftFloat64, SqrtMatchesHardware) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen64(400 + m), f = gen32(410 + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint64_t a = g.next();
            uint32_t b = static_cast<uint32_t>(f.next());
            if (i % 4) {    // mostly positive
                a &= ~VGPU_F64_SIGNBIT;
                b &= ~VGPU_F32_SIGNBIT;
            }
            ASSERT_EQ(vgpu_f64_sqrt(a, kRound[m]), want(h_sqrt(dbl(a)))) << kModeNames[m] << " " << HEX(a);
            ASSERT_EQ(vgpu_f32_sqrt_r(b, kRound[m]), want(h_sqrt(flt(b)))) << kModeNames[m] << " " << HEX(b);
        }
    }
}

// A third operand for fma: random, or the negated product rounded
// (exact cancellation when the product is exact, else the result is the
// product's low bits), or close to that (cancellation of the high bits).
uint64_t fma_addend(Gen& g, uint64_t a, uint64_t b) {
    uint64_t p = bits(-h_mul(dbl(a), dbl(b)));
    switch (g.raw() % 4) {
    case 0: return p;
    case 1: return g.near(p);
    default: return g.next();
    }
}

TEST(SoftFloat64, FmaF64MatchesHardware) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen64(500 + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint64_t a = g.next(), b = g.partner(a);
            uint64_t c = fma_addend(g, a, b);
            ASSERT_EQ(vgpu_f64_fma(a, b, c, kRound[m]), want(h_fma(dbl(a), dbl(b), dbl(c))))
                << kModeNames[m] << " " << HEX(a) << HEX(b) << HEX(c);
        }
    }
}

TEST(SoftFloat64, FmaF32MatchesHardware) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen32(600 + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint32_t a = static_cast<uint32_t>(g.next()), b = static_cast<uint32_t>(g.partner(a));
            float pa = flt(a), pb = flt(b);
            uint32_t c;
            if (g.raw() % 2) {  // the exact product's complement, rounded to float
                double p = static_cast<double>(pa) * static_cast<double>(pb);
                c = bits(static_cast<float>(-p));
                if (g.raw() % 2)
                    c = static_cast<uint32_t>(g.near(c));
            } else {
                c = static_cast<uint32_t>(g.next());
            }
            ASSERT_EQ(vgpu_f32_fma_r(a, b, c, kRound[m]), want(h_fma(pa, pb, flt(c))))
                << kModeNames[m] << " " << HEX(a) << HEX(b) << HEX(c);
        }
    }
}

// Ordered comparisons, the unordered test, and min/max as vgpu_f32_min:
// a NaN loses to a number, of equal operands the first.
template <class F> F ref_min(F a, F b) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    return b < a ? b : a;
}
template <class F> F ref_max(F a, F b) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    return a < b ? b : a;
}

TEST(SoftFloat64, CompareMinMaxMatchReference) {
    Gen g = gen64(700), f = gen32(710);
    for (int i = 0; i < kCases * 2; i++) {
        uint64_t a = g.next(), b = i % 8 ? g.partner(a) : a ^ (g.raw() & VGPU_F64_SIGNBIT);
        double x = dbl(a), y = dbl(b);
        ASSERT_EQ(vgpu_f64_eq(a, b), x == y) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f64_lt(a, b), x < y) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f64_le(a, b), x <= y) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f64_unord(a, b), std::isunordered(x, y)) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f64_min(a, b), want(ref_min(x, y))) << HEX(a) << HEX(b);
        ASSERT_EQ(vgpu_f64_max(a, b), want(ref_max(x, y))) << HEX(a) << HEX(b);
        uint32_t c = static_cast<uint32_t>(f.next());
        uint32_t d = static_cast<uint32_t>(i % 8 ? f.partner(c) : c ^ (f.raw() & VGPU_F32_SIGNBIT));
        ASSERT_EQ(vgpu_f32_unord(c, d), std::isunordered(flt(c), flt(d))) << HEX(c) << HEX(d);
        ASSERT_EQ(vgpu_f32_min(c, d), want(ref_min(flt(c), flt(d)))) << HEX(c) << HEX(d);
        ASSERT_EQ(vgpu_f32_max(c, d), want(ref_max(flt(c), flt(d)))) << HEX(c) << HEX(d);
    }
    EXPECT_EQ(vgpu_f64_min(bits(0.0), bits(-0.0)), bits(0.0));
    EXPECT_EQ(vgpu_f64_min(bits(-0.0), bits(0.0)), bits(-0.0));
    EXPECT_EQ(vgpu_f64_max(bits(-0.0), bits(0.0)), bits(-0.0));
    EXPECT_EQ(vgpu_f64_min(VGPU_F64_NAN | 5, bits(-3.0)), bits(-3.0));
    EXPECT_EQ(vgpu_f64_max(bits(2.0), VGPU_F64_NAN), bits(2.0));
    EXPECT_EQ(vgpu_f64_max(VGPU_F64_NAN | 5, VGPU_F64_SIGNBIT | VGPU_F64_NAN), VGPU_F64_NAN);
    EXPECT_EQ(vgpu_f64_neg(bits(1.5)), bits(-1.5));
    EXPECT_EQ(vgpu_f64_abs(bits(-0.0)), bits(0.0));
    EXPECT_EQ(vgpu_f32_neg(bits(0.0f)), bits(-0.0f));
    EXPECT_EQ(vgpu_f32_abs(bits(-2.0f)), bits(2.0f));
}

// binary64 values in binary32's range (and just outside), with traps for
// double rounding: the bits binary32 drops exactly one half, or one
// half plus or minus one unit of binary64.
uint64_t f32_range_double(Gen& g) {
    uint64_t r = g.raw(), a = g.next();
    if (r % 4 == 0)
        return a;
    uint64_t e = 1023 - 155 + (r >> 8) % 286;   // 2^-155 .. 2^130
    a = (a & 0x800fffffffffffffull) | (e << 52);
    switch ((r >> 2) % 4) {
    case 0: return (a & ~0x1fffffffull) | 0x10000000;
    case 1: return (a & ~0x1fffffffull) | 0x10000001;
    case 2: return (a & ~0x1fffffffull) | 0x0fffffff;
    default: return a;
    }
}

TEST(SoftFloat64, FloatFormatConversionsMatchHardware) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen64(800 + m), f = gen32(810 + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint64_t a = f32_range_double(g);
            uint32_t b = static_cast<uint32_t>(f.next());
            ASSERT_EQ(vgpu_f64_to_f32(a, kRound[m]), want(h_cvt<float>(dbl(a)))) << kModeNames[m] << " " << HEX(a);
            ASSERT_EQ(vgpu_f32_to_f64(b), want(h_cvt<double>(flt(b)))) << HEX(b);
        }
    }
}

TEST(SoftFloat64, RoundToIntegralMatchesHardware) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen64(900 + m), f = gen32(910 + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint64_t a = g.next();
            uint32_t b = static_cast<uint32_t>(f.next());
            ASSERT_EQ(vgpu_f64_round_int(a, kRound[m]), want(h_rint(dbl(a)))) << kModeNames[m] << " " << HEX(a);
            ASSERT_EQ(vgpu_f32_round_int(b, kRound[m]), want(h_rint(flt(b)))) << kModeNames[m] << " " << HEX(b);
        }
    }
}

// Integers of every magnitude, and near the powers of two where the
// formats stop being exact and where the types end.
uint64_t rand_int(Gen& g) {
    uint64_t r = g.raw(), v = g.raw() >> (r % 64);
    if (r & 0x100) {
        static const int kPow[] = {24, 31, 32, 53, 63, 64};
        int p = kPow[(r >> 9) % 6];
        uint64_t base = p == 64 ? 0 : 1ull << p;
        int64_t d = static_cast<int64_t>((r >> 12) % 4097) - 2048;
        v = base + static_cast<uint64_t>(d);
    }
    return v;
}

TEST(SoftFloat64, IntegerToFloatMatchesHardware) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen64(1000 + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint64_t u = rand_int(g);
            int64_t s = static_cast<int64_t>(g.raw() & 1 ? 0 - u : u);
            uint32_t u32 = static_cast<uint32_t>(u);
            int32_t s32 = static_cast<int32_t>(s);
            vgpu_round rm = kRound[m];
            ASSERT_EQ(vgpu_u64_to_f64(u, rm), bits(h_cvt<double>(u))) << kModeNames[m] << " " << u;
            ASSERT_EQ(vgpu_s64_to_f64(s, rm), bits(h_cvt<double>(s))) << kModeNames[m] << " " << s;
            ASSERT_EQ(vgpu_u32_to_f64(u32, rm), bits(h_cvt<double>(u32))) << u32;
            ASSERT_EQ(vgpu_s32_to_f64(s32, rm), bits(h_cvt<double>(s32))) << s32;
            ASSERT_EQ(vgpu_u64_to_f32_r(u, rm), bits(h_cvt<float>(u))) << kModeNames[m] << " " << u;
            ASSERT_EQ(vgpu_s64_to_f32_r(s, rm), bits(h_cvt<float>(s))) << kModeNames[m] << " " << s;
            ASSERT_EQ(vgpu_u32_to_f32_r(u32, rm), bits(h_cvt<float>(u32))) << kModeNames[m] << " " << u32;
            ASSERT_EQ(vgpu_s32_to_f32_r(s32, rm), bits(h_cvt<float>(s32))) << kModeNames[m] << " " << s32;
        }
    }
}

// PTX's float-to-integer: round in the mode, NaN to 0, clamp to the
// destination's range (C's casts are undefined there).  @v is integral
// (or infinite, or NaN).
template <class I> I ref_int(double v) {
    constexpr double lo = static_cast<double>(std::numeric_limits<I>::min());
    constexpr double hi = 2.0 * static_cast<double>(std::numeric_limits<I>::max() / 2 + 1);
    if (std::isnan(v))
        return 0;
    if (v <= lo)
        return std::numeric_limits<I>::min();
    if (v >= hi)
        return std::numeric_limits<I>::max();
    return static_cast<I>(v);
}

// Floats near the integers and halves, near the types' ends, and all.
uint64_t int_range_double(Gen& g) {
    uint64_t r = g.raw();
    if (r % 3 == 0)
        return g.next();
    static const double kEnds[] = {0, 1, 0x1p31, 0x1p32, 0x1p63, 0x1p64, 0x1p24, 0x1p53};
    double base = kEnds[(r >> 2) % 8];
    double v = base + std::ldexp(static_cast<double>(static_cast<int64_t>((r >> 5) % 64) - 32),
                                 static_cast<int>((r >> 11) % 4) - 2);   // k/4 .. k*2
    if (r & (1ull << 20))
        v = -v;
    if (r & (1ull << 21))   // a few units of the last place away
        return bits(v) + ((r >> 22) % 5) - 2;
    return bits(v);
}

TEST(SoftFloat64, FloatToIntegerMatchesReference) {
    for (int m = 0; m < 4; m++) {
        Gen g = gen64(1100 + m);
        HostRounding hr(m);
        for (int i = 0; i < kCases; i++) {
            uint64_t a = int_range_double(g);
            uint32_t b = bits(static_cast<float>(dbl(int_range_double(g))));
            double ra = h_rint(dbl(a)), rb = h_rint(static_cast<double>(flt(b)));
            vgpu_round rm = kRound[m];
            ASSERT_EQ(vgpu_f64_to_s64(a, rm), ref_int<int64_t>(ra)) << kModeNames[m] << " " << HEX(a);
            ASSERT_EQ(vgpu_f64_to_u64(a, rm), ref_int<uint64_t>(ra)) << kModeNames[m] << " " << HEX(a);
            ASSERT_EQ(vgpu_f64_to_s32(a, rm), ref_int<int32_t>(ra)) << kModeNames[m] << " " << HEX(a);
            ASSERT_EQ(vgpu_f64_to_u32(a, rm), ref_int<uint32_t>(ra)) << kModeNames[m] << " " << HEX(a);
            ASSERT_EQ(vgpu_f32_to_s64_r(b, rm), ref_int<int64_t>(rb)) << kModeNames[m] << " " << HEX(b);
            ASSERT_EQ(vgpu_f32_to_u64_r(b, rm), ref_int<uint64_t>(rb)) << kModeNames[m] << " " << HEX(b);
            ASSERT_EQ(vgpu_f32_to_s32_r(b, rm), ref_int<int32_t>(rb)) << kModeNames[m] << " " << HEX(b);
            ASSERT_EQ(vgpu_f32_to_u32_r(b, rm), ref_int<uint32_t>(rb)) << kModeNames[m] << " " << HEX(b);
        }
    }
}

// The 128-bit helpers against the compiler's (host-only) __int128.
TEST(SoftFloat64, WideIntegerHelpers) {
    using U128 = unsigned __int128;
    std::mt19937_64 rng(1300);
    for (int i = 0; i < kCases; i++) {
        uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
        u64 hi, lo, rem;
        vgpu_mul64x64(a, b, &hi, &lo);
        ASSERT_EQ((static_cast<U128>(hi) << 64) | lo, static_cast<U128>(a) * b) << a << " " << b;
        uint32_t d = static_cast<uint32_t>(rng() % 140);
        hi = a;
        lo = b;
        vgpu_jam128(&hi, &lo, d);
        U128 x = (static_cast<U128>(a) << 64) | b, want = d < 128 ? x >> d : 0;
        want |= d && (d >= 128 ? x != 0 : (x << (128 - d)) != 0);
        ASSERT_EQ((static_cast<U128>(hi) << 64) | lo, want) << a << " " << b << " " << d;
        uint64_t v = rng() | (1ull << 63), u1 = rng() % v, u0 = rng();
        U128 n = (static_cast<U128>(u1) << 64) | u0;
        ASSERT_EQ(vgpu_div128(u1, u0, v, &rem), static_cast<uint64_t>(n / v)) << u1 << " " << u0 << " " << v;
        ASSERT_EQ(rem, static_cast<uint64_t>(n % v));
        uint64_t s = (rng() >> 2) | (1ull << 60), r = vgpu_isqrt62(s);
        ASSERT_TRUE(static_cast<U128>(r) * r <= s && static_cast<U128>(r + 1) * (r + 1) > s) << s;
    }
}

// Hand-picked cases, each in the four modes: {rn, rz, rm, rp}.
constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kMinSub = std::numeric_limits<double>::denorm_min();
constexpr float kMaxF = std::numeric_limits<float>::max();
constexpr float kMinSubF = std::numeric_limits<float>::denorm_min();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();

TEST(SoftFloat64, SignOfExactZeroFollowsTheMode) {
    const uint64_t z4[4] = {bits(0.0), bits(0.0), bits(-0.0), bits(0.0)};
    const uint32_t f4[4] = {bits(0.0f), bits(0.0f), bits(-0.0f), bits(0.0f)};
    for (int m = 0; m < 4; m++) {
        vgpu_round rm = kRound[m];
        SCOPED_TRACE(kModeNames[m]);
        EXPECT_EQ(vgpu_f64_fma(bits(1.0), bits(1.0), bits(-1.0), rm), z4[m]);
        EXPECT_EQ(vgpu_f64_fma(bits(-3.0), bits(0.5), bits(1.5), rm), z4[m]);
        EXPECT_EQ(vgpu_f64_fma(bits(0.0), bits(-1.0), bits(0.0), rm), z4[m]);     // -0 + +0
        EXPECT_EQ(vgpu_f64_fma(bits(-0.0), bits(1.0), bits(-0.0), rm), bits(-0.0));
        EXPECT_EQ(vgpu_f64_fma(bits(0.0), bits(1.0), bits(0.0), rm), bits(0.0));
        EXPECT_EQ(vgpu_f64_add(bits(2.5), bits(-2.5), rm), z4[m]);
        EXPECT_EQ(vgpu_f64_sub(bits(-0.0), bits(-0.0), rm), z4[m]);
        EXPECT_EQ(vgpu_f64_add(bits(-0.0), bits(-0.0), rm), bits(-0.0));
        EXPECT_EQ(vgpu_f32_fma_r(bits(1.0f), bits(1.0f), bits(-1.0f), rm), f4[m]);
        EXPECT_EQ(vgpu_f32_fma_r(bits(0.0f), bits(-5.0f), bits(0.0f), rm), f4[m]);
        EXPECT_EQ(vgpu_f32_add_r(bits(7.0f), bits(-7.0f), rm), f4[m]);
        // A product that underflows to zero keeps its sign: x*y + 0.
        EXPECT_EQ(vgpu_f64_fma(bits(-kMinSub), bits(0.25), bits(0.0), rm),
                  m == VGPU_RM ? bits(-kMinSub) : bits(-0.0));
    }
}

TEST(SoftFloat64, OverflowAndUnderflowFollowTheMode) {
    const uint64_t up[4] = {bits(kInf), bits(kMax), bits(kMax), bits(kInf)};
    const uint64_t dn[4] = {bits(-kInf), bits(-kMax), bits(-kInf), bits(-kMax)};
    const uint32_t upf[4] = {bits(kInfF), bits(kMaxF), bits(kMaxF), bits(kInfF)};
    for (int m = 0; m < 4; m++) {
        vgpu_round rm = kRound[m];
        SCOPED_TRACE(kModeNames[m]);
        EXPECT_EQ(vgpu_f64_add(bits(kMax), bits(kMax), rm), up[m]);
        EXPECT_EQ(vgpu_f64_mul(bits(-kMax), bits(2.0), rm), dn[m]);
        EXPECT_EQ(vgpu_f64_div(bits(kMax), bits(0.5), rm), up[m]);
        EXPECT_EQ(vgpu_f64_fma(bits(kMax), bits(kMax), bits(-kMax), rm), up[m]);
        EXPECT_EQ(vgpu_f32_mul_r(bits(kMaxF), bits(kMaxF), rm), upf[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(1e300), rm), upf[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(static_cast<double>(kMaxF) * (1 + 0x1p-25)), rm),
                  m == VGPU_RP ? bits(kInfF) : bits(kMaxF));
        EXPECT_EQ(vgpu_u64_to_f32_r(~0ull, rm), m == VGPU_RN || m == VGPU_RP ? bits(0x1p64f) : bits(0x1.fffffep63f));
        // Tiny: half the smallest subnormal is a tie (to even: 0).
        const uint64_t half[4] = {0, 0, 0, 1};
        const uint64_t three_q[4] = {1, 0, 0, 1};
        EXPECT_EQ(vgpu_f64_mul(bits(kMinSub), bits(0.5), rm), half[m]);
        EXPECT_EQ(vgpu_f64_mul(bits(kMinSub), bits(0.75), rm), three_q[m]);
        EXPECT_EQ(vgpu_f64_div(bits(-kMinSub), bits(4.0), rm), (m == VGPU_RM ? 1 : 0) | VGPU_F64_SIGNBIT);
        EXPECT_EQ(vgpu_f32_mul_r(bits(kMinSubF), bits(0.5f), rm), half[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(0x1p-150), rm), half[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(0x1.8p-150), rm), three_q[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(0x1.000001p-150), rm), three_q[m]);
        // The smallest normal, from a subnormal rounded up.
        EXPECT_EQ(vgpu_f64_fma(bits(0x1.ffffffffffffep-1023), bits(1.0), bits(0x1p-1074), rm), bits(0x1p-1022));
    }
}

// Sums that carry out of the significand with a sticky bit below an
// exact half: 2 - 2^-52 + 2^-51 (1 + 2^-19) is 2 + 2^-52 + 2^-70.
TEST(SoftFloat64, StickyBitSurvivesCarry) {
    const uint64_t cases[][3] = {
        {bits(0x1.fffffffffffffp0), bits(0x1.00008p-51), bits(0.0)},
        {bits(-0x1.fffffffffffffp0), bits(-0x1.00008p-51), bits(-0.0)},
        {bits(0x1.ffffffffffffep0), bits(0x1.8000000000001p-51), bits(0.0)},
        {bits(0x1.fffffffffffffp0), bits(0x1p-52), bits(0x1.0000000001p-53)},
    };
    for (int m = 0; m < 4; m++) {
        HostRounding hr(m);
        for (const auto& c : cases) {
            double a = dbl(c[0]), b = dbl(c[1]);
            EXPECT_EQ(vgpu_f64_add(c[0], c[1], kRound[m]), want(h_add(a, b))) << kModeNames[m] << " " << a << " + " << b;
            EXPECT_EQ(vgpu_f64_fma(c[1], bits(1.0), c[0], kRound[m]), want(h_fma(b, 1.0, a)));
            EXPECT_EQ(vgpu_f64_fma(c[0], bits(1.0), vgpu_f64_add(c[1], c[2], VGPU_RN), kRound[m]),
                      want(h_fma(a, 1.0, dbl(vgpu_f64_add(c[1], c[2], VGPU_RN)))));
        }
    }
}

TEST(SoftFloat64, SqrtSpecialCases) {
    for (int m = 0; m < 4; m++) {
        vgpu_round rm = kRound[m];
        EXPECT_EQ(vgpu_f64_sqrt(bits(-0.0), rm), bits(-0.0));
        EXPECT_EQ(vgpu_f64_sqrt(bits(0.0), rm), bits(0.0));
        EXPECT_EQ(vgpu_f64_sqrt(bits(-1.0), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_sqrt(bits(-kMinSub), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_sqrt(bits(-kInf), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_sqrt(bits(kInf), rm), bits(kInf));
        EXPECT_EQ(vgpu_f64_sqrt(bits(kMinSub), rm), bits(0x1p-537));
        EXPECT_EQ(vgpu_f64_sqrt(bits(0x1p-1073), rm), m == VGPU_RN || m == VGPU_RP ? bits(0x1.6a09e667f3bcdp-537)
                                                                                    : bits(0x1.6a09e667f3bccp-537));
        EXPECT_EQ(vgpu_f64_sqrt(bits(4.0), rm), bits(2.0));
        EXPECT_EQ(vgpu_f32_sqrt_r(bits(-0.0f), rm), bits(-0.0f));
        EXPECT_EQ(vgpu_f32_sqrt_r(bits(-2.0f), rm), VGPU_F32_NAN);
        EXPECT_EQ(vgpu_f32_sqrt_r(bits(kMinSubF), rm), bits(0x1.6a09e6p-75f) + (m == VGPU_RP));
    }
    EXPECT_EQ(vgpu_f64_sqrt(VGPU_F64_SIGNBIT | VGPU_F64_NAN | 7, VGPU_RN), VGPU_F64_NAN);
}

TEST(SoftFloat64, DoubleRoundingTrapsInNarrowing) {
    // 1 + 2^-24 is a tie; 1 + 2^-24 + 2^-60 is not, however close.
    const uint32_t one = bits(1.0f), next = one + 1;
    const uint32_t tie[4] = {one, one, one, next};
    const uint32_t above[4] = {next, one, one, next};
    const uint32_t below[4] = {one, one, one, next};
    for (int m = 0; m < 4; m++) {
        vgpu_round rm = kRound[m];
        SCOPED_TRACE(kModeNames[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(1 + 0x1p-24), rm), tie[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(1 + 0x1p-24 + 0x1p-52), rm), above[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(1 + 0x1p-24 - 0x1p-52), rm), below[m]);
        EXPECT_EQ(vgpu_f64_to_f32(bits(1 + 0x1.8p-23), rm), m == VGPU_RN || m == VGPU_RP ? next + 1 : next);
        // A subnormal binary32 result: the same traps a 2^-126 lower.
        EXPECT_EQ(vgpu_f64_to_f32(bits(0x1p-149 + 0x1p-150 + 0x1p-200), rm),
                  m == VGPU_RN || m == VGPU_RP ? 2u : 1u);
        EXPECT_EQ(vgpu_f64_to_f32(bits(-(0x1p-149 + 0x1p-150)), rm),
                  (m == VGPU_RN || m == VGPU_RM ? 2u : 1u) | VGPU_F32_SIGNBIT);
    }
    // fma.rn.f32 is not mul.rn then add.rn: a*a - 1 for a = 1 + 2^-12.
    uint32_t a = bits(1.0f + 0x1p-12f);
    EXPECT_EQ(vgpu_f32_fma_r(a, a, bits(-1.0f), VGPU_RN), bits(0x1p-11f + 0x1p-24f));
    EXPECT_EQ(vgpu_f32_add(vgpu_f32_mul(a, a), bits(-1.0f)), bits(0x1p-11f));
}

TEST(SoftFloat64, IntegerConversionBoundaries) {
    struct Case {
        double v;
        int64_t s64[4];
        uint64_t u64[4];
        int32_t s32[4];
        uint32_t u32[4];
    };
    constexpr int64_t S64N = INT64_MIN, S64X = INT64_MAX;
    constexpr int32_t S32N = INT32_MIN, S32X = INT32_MAX;
    constexpr uint64_t U64X = UINT64_MAX;
    constexpr uint32_t U32X = UINT32_MAX;
    const Case cases[] = {
        {-0.5, {0, 0, -1, 0}, {0, 0, 0, 0}, {0, 0, -1, 0}, {0, 0, 0, 0}},
        {0.5, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}},
        {1.5, {2, 1, 1, 2}, {2, 1, 1, 2}, {2, 1, 1, 2}, {2, 1, 1, 2}},
        {2.5, {2, 2, 2, 3}, {2, 2, 2, 3}, {2, 2, 2, 3}, {2, 2, 2, 3}},
        {-2.5, {-2, -2, -3, -2}, {0, 0, 0, 0}, {-2, -2, -3, -2}, {0, 0, 0, 0}},
        {-0.0, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
        {0x1p-1074, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}, {0, 0, 0, 1}},
        {2147483647.5, {2147483648, 2147483647, 2147483647, 2147483648},
         {2147483648, 2147483647, 2147483647, 2147483648}, {S32X, S32X, S32X, S32X},
         {2147483648u, 2147483647u, 2147483647u, 2147483648u}},
        {-2147483648.5, {-2147483648, -2147483648, -2147483649, -2147483648}, {0, 0, 0, 0},
         {S32N, S32N, S32N, S32N}, {0, 0, 0, 0}},
        {-2147483647.5, {-2147483648, -2147483647, -2147483648, -2147483647}, {0, 0, 0, 0},
         {S32N, -2147483647, S32N, -2147483647}, {0, 0, 0, 0}},
        {4294967295.5, {4294967296, 4294967295, 4294967295, 4294967296},
         {4294967296, 4294967295, 4294967295, 4294967296}, {S32X, S32X, S32X, S32X}, {U32X, U32X, U32X, U32X}},
        {4294967294.5, {4294967294, 4294967294, 4294967294, 4294967295},
         {4294967294, 4294967294, 4294967294, 4294967295}, {S32X, S32X, S32X, S32X},
         {4294967294u, 4294967294u, 4294967294u, U32X}},
        {0x1p63, {S64X, S64X, S64X, S64X}, {1ull << 63, 1ull << 63, 1ull << 63, 1ull << 63},
         {S32X, S32X, S32X, S32X}, {U32X, U32X, U32X, U32X}},
        {0x1.fffffffffffffp62, {S64X - 1023, S64X - 1023, S64X - 1023, S64X - 1023},
         {(1ull << 63) - 1024, (1ull << 63) - 1024, (1ull << 63) - 1024, (1ull << 63) - 1024},
         {S32X, S32X, S32X, S32X}, {U32X, U32X, U32X, U32X}},
        {-0x1p63, {S64N, S64N, S64N, S64N}, {0, 0, 0, 0}, {S32N, S32N, S32N, S32N}, {0, 0, 0, 0}},
        {-0x1.0000000000001p63, {S64N, S64N, S64N, S64N}, {0, 0, 0, 0}, {S32N, S32N, S32N, S32N}, {0, 0, 0, 0}},
        {0x1p64, {S64X, S64X, S64X, S64X}, {U64X, U64X, U64X, U64X}, {S32X, S32X, S32X, S32X}, {U32X, U32X, U32X, U32X}},
        {0x1.fffffffffffffp63, {S64X, S64X, S64X, S64X}, {U64X - 2047, U64X - 2047, U64X - 2047, U64X - 2047},
         {S32X, S32X, S32X, S32X}, {U32X, U32X, U32X, U32X}},
        {kInf, {S64X, S64X, S64X, S64X}, {U64X, U64X, U64X, U64X}, {S32X, S32X, S32X, S32X}, {U32X, U32X, U32X, U32X}},
        {-kInf, {S64N, S64N, S64N, S64N}, {0, 0, 0, 0}, {S32N, S32N, S32N, S32N}, {0, 0, 0, 0}},
        {std::numeric_limits<double>::quiet_NaN(), {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
    };
    for (const Case& c : cases) {
        uint64_t a = bits(c.v);
        for (int m = 0; m < 4; m++) {
            vgpu_round rm = kRound[m];
            SCOPED_TRACE(testing::Message() << kModeNames[m] << " " << c.v);
            EXPECT_EQ(vgpu_f64_to_s64(a, rm), c.s64[m]);
            EXPECT_EQ(vgpu_f64_to_u64(a, rm), c.u64[m]);
            EXPECT_EQ(vgpu_f64_to_s32(a, rm), c.s32[m]);
            EXPECT_EQ(vgpu_f64_to_u32(a, rm), c.u32[m]);
            float f = static_cast<float>(c.v);
            if (static_cast<double>(f) == c.v || std::isnan(c.v)) {   // the same from binary32
                uint32_t b = bits(f);
                EXPECT_EQ(vgpu_f32_to_s64_r(b, rm), c.s64[m]);
                EXPECT_EQ(vgpu_f32_to_u64_r(b, rm), c.u64[m]);
                EXPECT_EQ(vgpu_f32_to_s32_r(b, rm), c.s32[m]);
                EXPECT_EQ(vgpu_f32_to_u32_r(b, rm), c.u32[m]);
            }
        }
    }
    // NaN of either sign and any payload is 0.
    EXPECT_EQ(vgpu_f64_to_s64(0xfff0000000000001ull, VGPU_RM), 0);
    EXPECT_EQ(vgpu_f32_to_u32_r(0xffffffffu, VGPU_RP), 0u);
    // Exactly representable extremes from integers.
    for (int m = 0; m < 4; m++) {
        EXPECT_EQ(vgpu_s64_to_f64(INT64_MIN, kRound[m]), bits(-0x1p63));
        EXPECT_EQ(vgpu_s32_to_f32_r(INT32_MIN, kRound[m]), bits(-0x1p31f));
        EXPECT_EQ(vgpu_u64_to_f64(0, kRound[m]), 0u);
    }
}

TEST(SoftFloat64, RoundToIntegralKeepsTheSignOfZero) {
    struct Case {
        double v, r[4];
    };
    const Case cases[] = {
        {-0.3, {-0.0, -0.0, -1.0, -0.0}}, {0.3, {0.0, 0.0, 0.0, 1.0}},  {-0.5, {-0.0, -0.0, -1.0, -0.0}},
        {0.5, {0.0, 0.0, 0.0, 1.0}},      {0.75, {1.0, 0.0, 0.0, 1.0}}, {1.5, {2.0, 1.0, 1.0, 2.0}},
        {2.5, {2.0, 2.0, 2.0, 3.0}},      {-2.5, {-2.0, -2.0, -3.0, -2.0}},
        {0x1p52 + 1, {0x1p52 + 1, 0x1p52 + 1, 0x1p52 + 1, 0x1p52 + 1}},
        {0x1p51 + 0.5, {0x1p51, 0x1p51, 0x1p51, 0x1p51 + 1}},
        {-kInf, {-kInf, -kInf, -kInf, -kInf}},
    };
    for (const Case& c : cases) {
        for (int m = 0; m < 4; m++) {
            SCOPED_TRACE(testing::Message() << kModeNames[m] << " " << c.v);
            EXPECT_EQ(vgpu_f64_round_int(bits(c.v), kRound[m]), bits(c.r[m]));
            if (std::fabs(c.v) < 0x1p23) {
                EXPECT_EQ(vgpu_f32_round_int(bits(static_cast<float>(c.v)), kRound[m]),
                          bits(static_cast<float>(c.r[m])));
            }
        }
    }
    EXPECT_EQ(vgpu_f64_round_int(VGPU_F64_NAN | 1, VGPU_RN), VGPU_F64_NAN);
    EXPECT_EQ(vgpu_f32_round_int(0xff800001u, VGPU_RZ), VGPU_F32_NAN);
}

TEST(SoftFloat64, NaNsAreCanonical) {
    const uint64_t snan = 0xfff0000000000001ull;
    const uint32_t snanf = 0xff800001u;
    for (int m = 0; m < 4; m++) {
        vgpu_round rm = kRound[m];
        EXPECT_EQ(vgpu_f64_add(snan, bits(1.0), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_add(bits(kInf), bits(-kInf), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_mul(bits(0.0), bits(-kInf), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_div(bits(-0.0), bits(0.0), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_div(bits(kInf), bits(-kInf), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_fma(bits(kInf), bits(0.0), bits(1.0), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_fma(bits(kInf), bits(1.0), bits(-kInf), rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_fma(bits(1.0), bits(1.0), snan, rm), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f64_fma(bits(kMax), bits(kMax), bits(-kInf), rm), bits(-kInf));
        EXPECT_EQ(vgpu_f64_to_f32(snan, rm), VGPU_F32_NAN);
        EXPECT_EQ(vgpu_f32_to_f64(snanf), VGPU_F64_NAN);
        EXPECT_EQ(vgpu_f32_fma_r(snanf, bits(1.0f), bits(1.0f), rm), VGPU_F32_NAN);
        EXPECT_EQ(vgpu_f32_fma_r(bits(kInfF), bits(-0.0f), bits(1.0f), rm), VGPU_F32_NAN);
        EXPECT_EQ(vgpu_f32_sub_r(bits(kInfF), bits(kInfF), rm), VGPU_F32_NAN);
        EXPECT_EQ(vgpu_f32_div_r(bits(0.0f), bits(-0.0f), rm), VGPU_F32_NAN);
    }
    // neg and abs are sign-bit operations, a NaN passes through.
    EXPECT_EQ(vgpu_f64_neg(VGPU_F64_NAN), VGPU_F64_NAN | VGPU_F64_SIGNBIT);
    EXPECT_EQ(vgpu_f32_abs(snanf), 0x7f800001u);
}

}  // namespace
