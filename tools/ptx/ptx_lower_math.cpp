// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower_math.cpp - see ptx_lower.hpp: the approximate transcendental
// instructions ex2 lg2 sin cos tanh (.approx.f32, and through binary32
// the .f16/.bf16 forms of ex2 and tanh, ptx_lower_f16.cpp), lowered to
// branch-free sequences of ISA version 2 instructions that compute in
// binary64 and round once to binary32.  The sequence is the instruction's
// definition on GPUvm: the interpreter and the GPU translation run the
// same words, so the results are the same bits everywhere.  Their
// measured errors are in Documentation/cuda.rst ("Approximate
// transcendentals"); tools/ptx/tests/test_ptx_math.cpp checks them.
//
// The polynomials are near-minimax (Chebyshev) fits made with mpmath's
// chebyfit at 60 digits, each coefficient rounded to binary64:
//   2^f = 1 + f * E(f)                    |f| <= 1/2,  E: rel. error 2^-43.3
//   log2(m) = t * L(t^2), t = (m-1)/(m+1) m in [sqrt(1/2), sqrt(2)),  2^-45.1
//   sin(r) = r + r s S(s), s = r^2        |r| <= pi/2 + 0.02,  S: 2^-40.5 abs
//   cos(r) = 1 + s C(s)                   |r| <= pi/2 + 0.02,  C: 2^-55.3 abs
#include "ptx_lower.hpp"

extern "C" {
#include "vgpu_isa.h"
}

namespace gpuvm::ptx {
namespace {

// (2^f - 1) / f on [-1/2, 1/2], highest degree first.
const uint64_t kExp2[] = {
    0x3e7b63880a30e9ff,  // 1.0203121063391729e-07
    0x3eb63d136366db24,  // 1.3255224878668817e-06
    0x3eeffcb9515a8016,  // 1.525268684626772e-05
    0x3f24308ac85aa947,  // 0.00015403455852453838
    0x3f55d87fe86fe88e,  // 0.0013333558179043112
    0x3f83b2ab7181b755,  // 0.009618129159402558
    0x3fac6b08d7047e52,  // 0.055504108664760424
    0x3fcebfbdff823ced,  // 0.2402265069581299
    0x3fe62e42fefa39ef,  // 0.6931471805599453
};
// 2 atanh(t) / (t ln 2) as a polynomial in s = t^2 on [0, 0.0295].
const uint64_t kLog2[] = {
    0x3fd21b8ad9ff3e29,  // 0.28293105400823265
    0x3fd4794d984b97a8,  // 0.31990375397287574
    0x3fda61a3171a430c,  // 0.412209293900603
    0x3fe2776c2906b728,  // 0.5770779420178984
    0x3feec709dc53e5b7,  // 0.96179669411429
    0x40071547652b8250,  // 2.8853900817778495
};
// (sin(r)/r - 1) / s, s = r^2 on [0, (pi/2 + 0.02)^2].
const uint64_t kSin[] = {
    0x3de549878b039a4b,  // 1.548849429848479e-10
    0xbe5ae1d4d6ac1aba,  // -2.5035956789503256e-08
    0x3ec71dd8067d570e,  // 2.7557107848225087e-06
    0xbf2a019ffe79b1d6,  // -0.00019841268589305847
    0x3f81111110f93211,  // 0.008333333330619504
    0xbfc55555555547e9,  // -0.1666666666665713
};
// (cos(r) - 1) / s on the same interval.
const uint64_t kCos[] = {
    0x3d2a07aa75757565,  // 4.6238470377403507e-14
    0xbda935df1dda4f80,  // -1.1464378867151491e-11
    0x3e21eed1482feb0e,  // 2.087662100047491e-09
    0xbe927e4fa555c0c2,  // -2.755731761316693e-07
    0x3efa01a019d2ef71,  // 2.480158729122002e-05
    0xbf56c16c16c1310b,  // -0.0013888888888856112
    0x3fa555555555551c,  // 0.04166666666666627
    0xbfe0000000000000,  // -0.5
};

constexpr int64_t kOne = 0x3ff0000000000000;          // 1.0
constexpr int64_t kTwo = 0x4000000000000000;          // 2.0
constexpr int64_t kTwoOverPi = 0x3fe45f306dc9c883;    // 2/pi
constexpr int64_t kPio2[3] = {                        // -pi/2 in three parts
    static_cast<int64_t>(0xbff921fb54442d18), static_cast<int64_t>(0xbc91a62633145c07), 0x391f1976b7ed8fbc};
constexpr int64_t kTwoLog2e = 0x40071547652b82fe;     // 2 / ln 2
constexpr uint32_t kNaN32 = 0x7fc00000;               // the ISA's canonical binary32 NaN

}  // namespace

// Horner's scheme in binary64: c[0] x^(n-1) + ... + c[n-1].
int Lowerer::dpoly(int x, const uint64_t* c, int n) {
    int acc = li(static_cast<int64_t>(c[0]));
    for (int i = 1; i < n; i++)
        acc = emit(VGPU_OP_DFMA, vreg(64), acc, x, VGPU_RND_RN, li(static_cast<int64_t>(c[i])));
    return acc;
}

// 2^n for an integral binary64 n in [-1022, 1023]: its exponent bits.
int Lowerer::dpow2(int n) {
    int i = emit(VGPU_OP_D2I, vreg(64), n, -1, VGPU_IRND_RZI | (VGPU_IW_64 << 2));
    i = emit(VGPU_OP_ADDI, vreg(64), i, -1, 1023);
    return emit(VGPU_OP_SHLI, vreg(64), i, -1, 52);
}

// The binary32 result @r, or the canonical NaN where @cond.
int Lowerer::nan_if(int cond, int r) { return emit(VGPU_OP_SELP, vreg(32), li(kNaN32, 32), r, 0, cond); }

// The binary32 result of ex2 lg2 sin cos tanh .approx of the binary32
// @x (bits, zero-extended).  @ftz: subnormal inputs and results become
// zeros of their sign (tanh has no .ftz: its subnormals pass through).
int Lowerer::approx_f32(const std::string& op, int x, bool ftz) {
    if (ftz)
        x = flush(x, {'f', 32});
    int xd = emit(VGPU_OP_F2D, vreg(64), x);  // exact; binary32 subnormals are normal here
    int isnan = emit(VGPU_OP_FSNAN, vreg(1), x, x);
    int r;
    if (op == "ex2") {
        // 2^x = 2^n * 2^f, n = rint(x), |f| <= 1/2; x clamped to [-160, 160]
        // first (the binary32 result is 0 or inf beyond), so that 2^n is a
        // normal binary64.  One rounding to binary32 at the end (d2f):
        // subnormal results, underflow to 0 and overflow to inf included.
        int c = emit(VGPU_OP_DMAX, vreg(64), xd, li(static_cast<int64_t>(0xc064000000000000)));  // -160
        c = emit(VGPU_OP_DMIN, vreg(64), c, li(0x4064000000000000));                            // 160
        int n = emit(VGPU_OP_DRND, vreg(64), c, -1, VGPU_IRND_RNI);
        int f = emit(VGPU_OP_DSUB, vreg(64), c, n, VGPU_RND_RN);  // exact
        int e = dpoly(f, kExp2, 9);
        int p = emit(VGPU_OP_DFMA, vreg(64), f, e, VGPU_RND_RN, li(kOne));
        int v = emit(VGPU_OP_DMUL, vreg(64), p, dpow2(n), VGPU_RND_RN);  // exact: a power of two
        r = emit(VGPU_OP_D2F, vreg(32), v, -1, VGPU_RND_RN);
        r = nan_if(isnan, r);  // the clamp made a NaN a number
    } else if (op == "lg2") {
        // x = 2^e * m, m in [sqrt(1/2), sqrt(2)): the binary64 exponent and
        // significand, m halved (and e + 1) when the significand is at
        // least sqrt(2).  log2(m) = t * L(t^2), t = (m - 1) / (m + 1).
        int mant = emit(VGPU_OP_SHLI, vreg(64), xd, -1, 12);
        mant = emit(VGPU_OP_SHRI, vreg(64), mant, -1, 12);
        int e = emit(VGPU_OP_SHRI, vreg(64), xd, -1, 52);  // x > 0: no sign bit
        int big = emit(VGPU_OP_SLTU, vreg(1), li(0x6a09e667f3bccll), mant);  // significand > sqrt(2)
        e = emit(VGPU_OP_ADD, vreg(64), e, big);
        e = emit(VGPU_OP_ADDI, vreg(64), e, -1, -1023);
        int me = emit(VGPU_OP_SUB, vreg(64), li(1023), big);
        me = emit(VGPU_OP_SHLI, vreg(64), me, -1, 52);
        int m = emit(VGPU_OP_OR, vreg(64), me, mant);
        int one = li(kOne);
        int num = emit(VGPU_OP_DSUB, vreg(64), m, one, VGPU_RND_RN);  // exact (Sterbenz)
        int den = emit(VGPU_OP_DADD, vreg(64), m, one, VGPU_RND_RN);
        int t = emit(VGPU_OP_DDIV, vreg(64), num, den, VGPU_RND_RN);
        int s = emit(VGPU_OP_DMUL, vreg(64), t, t, VGPU_RND_RN);
        int lm = emit(VGPU_OP_DMUL, vreg(64), t, dpoly(s, kLog2, 6), VGPU_RND_RN);
        int ed = emit(VGPU_OP_I2D, vreg(64), e, -1, VGPU_RND_RN);
        r = emit(VGPU_OP_D2F, vreg(32), emit(VGPU_OP_DADD, vreg(64), ed, lm, VGPU_RND_RN), -1, VGPU_RND_RN);
        // +inf: +inf; +-0: -inf; negative or NaN: NaN.
        r = emit(VGPU_OP_SELP, vreg(32), li(0x7f800000, 32), r, 0, emit(VGPU_OP_SEQ, vreg(1), x, li(0x7f800000)));
        int mag = emit(VGPU_OP_ANDI, vreg(32), x, -1, 0x7fffffff);
        r = emit(VGPU_OP_SELP, vreg(32), li(0xff800000, 32), r, 0, emit(VGPU_OP_SEQ, vreg(1), mag, li(0)));
        int nonneg = emit(VGPU_OP_FSLE, vreg(1), li(0), x);  // false for NaN and x < 0; true for -0
        r = nan_if(emit(VGPU_OP_XORI, vreg(1), nonneg, -1, 1), r);
    } else if (op == "sin" || op == "cos") {
        // Cody-Waite: k = rint(x * 2/pi), r = x - k pi/2 with pi/2 in three
        // binary64 parts (each fma's product exact; the first two
        // differences exact while k < 2^53), then the quadrant k mod 4
        // (cos: k + 1) picks +-sin(r) or +-cos(r).  For |x| < 2^53 pi/2,
        // |r| <= pi/2 + 2^-30, where the polynomials hold; beyond, r is
        // clamped to +-1.6 and the result is some value of [-1, 1].
        int k = emit(VGPU_OP_DRND, vreg(64), emit(VGPU_OP_DMUL, vreg(64), xd, li(kTwoOverPi), VGPU_RND_RN), -1,
                     VGPU_IRND_RNI);
        int rr = xd;
        for (int64_t p : kPio2)
            rr = emit(VGPU_OP_DFMA, vreg(64), k, li(p), VGPU_RND_RN, rr);
        rr = emit(VGPU_OP_DMIN, vreg(64), rr, li(0x3ff999999999999a));                            // 1.6
        rr = emit(VGPU_OP_DMAX, vreg(64), rr, li(static_cast<int64_t>(0xbff999999999999a)));      // -1.6
        int q = emit(VGPU_OP_D2I, vreg(64), k, -1, VGPU_IRND_RZI | (VGPU_IW_64 << 2));  // saturates
        if (op == "cos")
            q = emit(VGPU_OP_ADDI, vreg(64), q, -1, 1);
        int s = emit(VGPU_OP_DMUL, vreg(64), rr, rr, VGPU_RND_RN);
        int rs = emit(VGPU_OP_DMUL, vreg(64), rr, s, VGPU_RND_RN);
        int sn = emit(VGPU_OP_DFMA, vreg(64), rs, dpoly(s, kSin, 6), VGPU_RND_RN, rr);
        int cs = emit(VGPU_OP_DFMA, vreg(64), s, dpoly(s, kCos, 8), VGPU_RND_RN, li(kOne));
        int odd = emit(VGPU_OP_ANDI, vreg(1), q, -1, 1);
        int v = emit(VGPU_OP_SELP, vreg(64), cs, sn, 0, odd);
        int neg = emit(VGPU_OP_ANDI, vreg(64), q, -1, 2);
        v = emit(VGPU_OP_XOR, vreg(64), v, emit(VGPU_OP_SHLI, vreg(64), neg, -1, 62));
        r = emit(VGPU_OP_D2F, vreg(32), v, -1, VGPU_RND_RN);
        if (op == "sin")  // sin(-0) = -0 (r lost the zero's sign)
            r = emit(VGPU_OP_SELP, vreg(32), x, r, 0, emit(VGPU_OP_FSEQ, vreg(1), x, li(0)));
        int inf_nan = emit(VGPU_OP_FSUB, vreg(32), x, x, VGPU_RND_RN);  // NaN for inf and NaN
        r = nan_if(emit(VGPU_OP_FSNAN, vreg(1), inf_nan, inf_nan), r);
    } else if (op == "tanh") {
        // tanh|x| = E / (E + 2), E = e^(2|x|) - 1 = 2^n (2^f - 1) + (2^n - 1)
        // with 2|x| log2(e) = n + f: relative accuracy for small |x| (n = 0:
        // E = f E(f) exactly as the polynomial gives it).  |x| clamped to
        // 20 (tanh is 1 in binary32 from 9.01); the sign is x's.
        int a = emit(VGPU_OP_DABS, vreg(64), xd);
        a = emit(VGPU_OP_DMIN, vreg(64), a, li(0x4034000000000000));  // 20
        int t = emit(VGPU_OP_DMUL, vreg(64), a, li(kTwoLog2e), VGPU_RND_RN);
        int n = emit(VGPU_OP_DRND, vreg(64), t, -1, VGPU_IRND_RNI);
        int f = emit(VGPU_OP_DSUB, vreg(64), t, n, VGPU_RND_RN);
        int fe = emit(VGPU_OP_DMUL, vreg(64), f, dpoly(f, kExp2, 9), VGPU_RND_RN);
        int p2 = dpow2(n);
        int em1 = emit(VGPU_OP_DFMA, vreg(64), p2, fe, VGPU_RND_RN,
                       emit(VGPU_OP_DSUB, vreg(64), p2, li(kOne), VGPU_RND_RN));
        int th = emit(VGPU_OP_DDIV, vreg(64), em1, emit(VGPU_OP_DADD, vreg(64), em1, li(kTwo), VGPU_RND_RN),
                      VGPU_RND_RN);
        r = emit(VGPU_OP_D2F, vreg(32), th, -1, VGPU_RND_RN);
        int sgn = emit(VGPU_OP_ANDI, vreg(32), x, -1, static_cast<int32_t>(0x80000000u));
        sgn = emit(VGPU_OP_ZEXT, vreg(32), sgn, -1, 32);
        r = emit(VGPU_OP_OR, vreg(32), r, sgn);
        r = nan_if(isnan, r);
    } else {
        fail("unknown transcendental");
    }
    if (ftz)
        r = flush(r, {'f', 32});
    return r;
}

// ex2 lg2 sin cos tanh .approx(.ftz).f32.
void Lowerer::approx(const Instr& in, Ty t) {
    if (t.bits != 32)
        fail("only .f32 (and .f16, .bf16 for ex2 and tanh) forms exist");
    if (!has(in, "approx"))
        fail("needs .approx");
    if (in.op == "tanh" && has(in, "ftz"))
        fail("tanh has no .ftz");
    int d = dst(in.ops.at(0));
    move(d, approx_f32(in.op, src(in.ops.at(1), t), has(in, "ftz")));
}

}  // namespace gpuvm::ptx
