// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower_f16.cpp - see ptx_lower.hpp: binary16 (.f16, .f16x2) and
// bfloat16 (.bf16, .bf16x2) instructions, lowered to ISA version 2's
// binary32/binary64 arithmetic and integer bit operations.
//
// A .f16/.bf16 value lives in the low 16 bits of a register (zero-
// extended, as every PTX register narrower than 64 bits), an .f16x2 or
// .bf16x2 in the low 32 (element 0 in bits 15:0).  Each operation widens
// its operands exactly to binary32 or binary64, computes, and rounds once
// to the 16-bit format:
//   add sub mul: binary32 in the instruction's rounding, then the same
//     rounding to 16 bits; correctly rounded (24 >= 2*11 + 2, and
//     directed roundings compose);
//   fma: the product exactly in binary64, the sum and its exact error
//     (TwoSum), the sum rounded to odd, then rounded to 16 bits:
//     correctly rounded, no double rounding;
//   min max setp set: on the exactly widened values;
//   neg abs: the sign bit;
//   cvt to 16 bits: integer arithmetic on the source's bits (round to
//     nearest even, toward zero, up or down), subnormal results through
//     one binary32/binary64 addition of a power of two whose last place
//     is the 16-bit format's smallest subnormal; overflow to inf or, when
//     rounding toward zero, the largest finite value;
//   ex2 tanh: the binary32 sequences of ptx_lower_math.cpp, rounded to
//     nearest.
// A NaN result is 0x7fff (NVIDIA's canonical binary16 and bfloat16 NaN).
#include "ptx_lower.hpp"

extern "C" {
#include "vgpu_isa.h"
}

namespace gpuvm::ptx {
namespace {

// A 16-bit format: binary16 or bfloat16.
struct Fmt {
    bool bf;
    int ebits() const { return bf ? 8 : 5; }
    int mbits() const { return bf ? 7 : 10; }
    int bias() const { return bf ? 127 : 15; }
    uint32_t inf() const { return ((1u << ebits()) - 1) << mbits(); }
    uint32_t one() const { return bf ? 0x3f80 : 0x3c00; }
};

constexpr uint32_t kNaN16 = 0x7fff;

bool half_type(const std::string& m, HalfTy& h) {
    if (m == "f16" || m == "f16x2" || m == "bf16" || m == "bf16x2") {
        h.k = m[0] == 'b' ? 'b' : 'h';
        h.x2 = m.back() == '2';
        h.t = {'b', h.bits()};
        return true;
    }
    return false;
}

}  // namespace

bool Lowerer::is_half(const Instr& in) {
    HalfTy h;
    for (const auto& m : in.mods)
        if (half_type(m, h))
            return true;
    return false;
}

// Element @lane (0 or 1) of a packed pair, zero-extended.
int Lowerer::h_lane(int v, int lane) {
    if (lane)
        v = emit(VGPU_OP_SHRI, vreg(64), v, -1, 16);
    return emit(VGPU_OP_ZEXT, vreg(16), v, -1, 16);
}

// A 16-bit subnormal to a zero of its sign (.ftz).
int Lowerer::h_flush(int h, bool bf) {
    Fmt f{bf};
    int e = emit(VGPU_OP_ANDI, vreg(16), h, -1, static_cast<int32_t>(f.inf()));
    int sub = emit(VGPU_OP_SEQ, vreg(1), e, li(0));
    int sgn = emit(VGPU_OP_ANDI, vreg(16), h, -1, 0x8000);
    return emit(VGPU_OP_SELP, vreg(16), sgn, h, 0, sub);
}

// The 16-bit @h widened exactly to binary32 (@to64: binary64) bits.
int Lowerer::h_widen(int h, bool bf, bool to64) {
    if (bf) {
        int f = emit(VGPU_OP_SHLI, vreg(32), h, -1, 16);
        return to64 ? emit(VGPU_OP_F2D, vreg(64), f) : f;
    }
    // Magnitude bits shifted into the wide format's fields are the value
    // times 2^-(wide bias - 15), subnormals included: one exact multiply.
    int w = to64 ? 64 : 32, sh = (to64 ? 52 : 23) - 10;
    int m = emit(VGPU_OP_ANDI, vreg(16), h, -1, 0x7fff);
    int v = emit(VGPU_OP_SHLI, vreg(w), m, -1, sh);
    int scaled = to64 ? emit(VGPU_OP_DMUL, vreg(64), v, li(int64_t{2031} << 52), VGPU_RND_RN)    // 2^1008
                      : emit(VGPU_OP_FMUL, vreg(32), v, li(int64_t{239} << 23, 32), VGPU_RND_RN);  // 2^112
    int infnan = emit(VGPU_OP_OR, vreg(w), v, li(to64 ? 0x7ff0000000000000 : 0x7f800000, w));
    int special = emit(VGPU_OP_SLTU, vreg(1), li(0x7bff), m);
    int r = emit(VGPU_OP_SELP, vreg(w), infnan, scaled, 0, special);
    int sgn = emit(VGPU_OP_ANDI, vreg(16), h, -1, 0x8000);
    sgn = emit(VGPU_OP_SHLI, vreg(w), sgn, -1, w - 16);
    return emit(VGPU_OP_OR, vreg(w), r, sgn);
}

// Binary32 (@from64: binary64) bits @v rounded to the 16-bit format in
// the ISA rounding mode @rnd.
int Lowerer::h_narrow(int v, bool from64, bool bf, int rnd) {
    Fmt f{bf};
    const int sw = from64 ? 64 : 32, smant = from64 ? 52 : 23, sbias = from64 ? 1023 : 127;
    const int sh = smant - f.mbits();
    const int64_t sinf = from64 ? 0x7ff0000000000000 : 0x7f800000;
    int a;  // |v|
    if (from64) {
        a = emit(VGPU_OP_SHLI, vreg(64), v, -1, 1);
        a = emit(VGPU_OP_SHRI, vreg(64), a, -1, 1);
    } else {
        a = emit(VGPU_OP_ANDI, vreg(32), v, -1, 0x7fffffff);
    }
    int neg = emit(VGPU_OP_SHRI, vreg(1), v, -1, sw - 1);
    // The magnitude's rounding: nearest, toward zero, or away from zero
    // (rp of a positive, rm of a negative value): up, a predicate.
    int up = -1;
    if (rnd == VGPU_RND_RP)
        up = emit(VGPU_OP_XORI, vreg(1), neg, -1, 1);
    else if (rnd == VGPU_RND_RM)
        up = neg;
    // Normal results: drop sh bits of the significand with a rounding
    // increment, then rebias the exponent; a carry out of the significand
    // steps the exponent, up to inf.
    int n;
    if (rnd == VGPU_RND_RN) {
        int lsb = emit(VGPU_OP_ANDI, vreg(1), emit(VGPU_OP_SHRI, vreg(64), a, -1, sh), -1, 1);
        int inc = emit(VGPU_OP_ADD, vreg(64), lsb, li((int64_t{1} << (sh - 1)) - 1));  // 2^41 - 1: no addi
        n = emit(VGPU_OP_ADD, vreg(64), a, inc);
    } else if (rnd == VGPU_RND_RZ) {
        n = a;
    } else {
        int inc = emit(VGPU_OP_SELP, vreg(64), li((int64_t{1} << sh) - 1), li(0), 0, up);
        n = emit(VGPU_OP_ADD, vreg(64), a, inc);
    }
    n = emit(VGPU_OP_SHRI, vreg(64), n, -1, sh);
    n = emit(VGPU_OP_ADDI, vreg(64), n, -1, -(int64_t{sbias - f.bias()} << f.mbits()));
    int limit;  // inf, or the largest finite value when rounding toward zero
    if (rnd == VGPU_RND_RN)
        limit = li(f.inf());
    else if (rnd == VGPU_RND_RZ)
        limit = li(f.inf() - 1);
    else
        limit = emit(VGPU_OP_SELP, vreg(16), li(f.inf()), li(f.inf() - 1), 0, up);
    n = emit(VGPU_OP_MINU, vreg(64), n, limit);
    // Below the format's smallest normal: |v| + 2^k, whose last place is
    // the smallest subnormal, rounds |v| in one operation; its bits less
    // 2^k's are the result's (0x0400 or 0x0080 when it rounds up to the
    // smallest normal).
    int k = 1 - f.bias() - f.mbits();  // exponent of the smallest subnormal
    int64_t magic = int64_t{sbias + k + smant} << smant;
    int thr = li(int64_t{sbias + 1 - f.bias()} << smant);
    auto add = [&](int mode) {
        int y = emit(from64 ? VGPU_OP_DADD : VGPU_OP_FADD, vreg(sw), a, li(magic, sw), mode);
        return emit(VGPU_OP_SUB, vreg(64), y, li(magic));
    };
    int s;
    if (rnd == VGPU_RND_RN || rnd == VGPU_RND_RZ)
        s = add(rnd);
    else
        s = emit(VGPU_OP_SELP, vreg(64), add(VGPU_RND_RP), add(VGPU_RND_RZ), 0, up);
    int r = emit(VGPU_OP_SELP, vreg(16), s, n, 0, emit(VGPU_OP_SLTU, vreg(1), a, thr));
    int inf = emit(VGPU_OP_SEQ, vreg(1), a, li(sinf));
    r = emit(VGPU_OP_SELP, vreg(16), li(f.inf()), r, 0, inf);
    r = emit(VGPU_OP_OR, vreg(16), r, emit(VGPU_OP_SHLI, vreg(16), neg, -1, 15));
    int nan = emit(VGPU_OP_SLTU, vreg(1), li(sinf), a);
    return emit(VGPU_OP_SELP, vreg(16), li(kNaN16), r, 0, nan);
}

// a * b + c of three binary64 values whose product is exact, rounded to
// odd: the rounded sum with its last bit set when the sum was inexact
// (the neighbour toward the exact sum when that bit was clear).  Rounding
// it again to a format 2 or more bits narrower is correctly rounded.
int Lowerer::fma_odd(int a, int b, int c) {
    int p = emit(VGPU_OP_DMUL, vreg(64), a, b, VGPU_RND_RN);  // exact
    int s = emit(VGPU_OP_DADD, vreg(64), p, c, VGPU_RND_RN);
    // TwoSum: e = p + c - s exactly.
    int bb = emit(VGPU_OP_DSUB, vreg(64), s, p, VGPU_RND_RN);
    int ap = emit(VGPU_OP_DSUB, vreg(64), s, bb, VGPU_RND_RN);
    int da = emit(VGPU_OP_DSUB, vreg(64), p, ap, VGPU_RND_RN);
    int db = emit(VGPU_OP_DSUB, vreg(64), c, bb, VGPU_RND_RN);
    int e = emit(VGPU_OP_DADD, vreg(64), da, db, VGPU_RND_RN);
    // e is 0 when exact, a NaN when an operand is inf or NaN: s stays.
    int zero = li(0);
    int keep = emit(VGPU_OP_OR, vreg(1), emit(VGPU_OP_DSEQ, vreg(1), e, zero), emit(VGPU_OP_DSNAN, vreg(1), e, e));
    keep = emit(VGPU_OP_OR, vreg(1), keep, emit(VGPU_OP_ANDI, vreg(1), s, -1, 1));
    int same = emit(VGPU_OP_SEQ, vreg(1), emit(VGPU_OP_SHRI, vreg(1), s, -1, 63), emit(VGPU_OP_SHRI, vreg(1), e, -1, 63));
    int step = emit(VGPU_OP_SELP, vreg(64), li(1), li(-1), 0, same);  // away from or toward zero
    step = emit(VGPU_OP_SELP, vreg(64), zero, step, 0, keep);
    return emit(VGPU_OP_ADD, vreg(64), s, step);
}

// Applies @one to each element of the packed operands (one or two) and
// packs the 16-bit results.
int Lowerer::h_lanes(bool x2, const std::vector<int>& ops, const std::function<int(const std::vector<int>&)>& one) {
    if (!x2)
        return one(ops);
    int r = 0;
    for (int lane = 1; lane >= 0; lane--) {
        std::vector<int> e;
        for (int o : ops)
            e.push_back(h_lane(o, lane));
        int v = one(e);
        r = lane ? emit(VGPU_OP_SHLI, vreg(32), v, -1, 16) : emit(VGPU_OP_OR, vreg(32), r, v);
    }
    return r;
}

void Lowerer::half(const Instr& in) {
    const std::string& op = in.op;
    std::vector<HalfTy> ts;
    for (const auto& m : in.mods) {
        HalfTy h;
        bool ok;
        if (half_type(m, h)) {
            ts.push_back(h);
        } else {
            Ty t = type_of(m, ok);
            if (ok) {
                h.t = t;
                ts.push_back(h);
            } else if (m == "tf32" || m.rfind("e4m3", 0) == 0 || m.rfind("e5m2", 0) == 0 || m == "b128") {
                fail("the type ." + m + " is not supported yet");
            }
        }
    }
    if (ts.empty())
        fail("no type");
    for (const char* m : {"NaN", "xorsign", "relu", "satfinite", "oob"})
        if (has(in, m))
            fail("the modifier ." + std::string(m) + " on 16-bit floats is not supported yet");
    const HalfTy& t = ts.back();
    const Fmt f{t.bf()};
    const bool ftz = has(in, "ftz"), sat = has(in, "sat");
    auto operand = [&](int i, const HalfTy& ty) {
        const Operand& o = in.ops.at(i);
        if (o.kind == Operand::Kind::FImm && ty.half())
            fail("a float literal where a 16-bit float is expected");
        return src(o, ty.t);
    };
    auto flush_in = [&](int h) { return ftz ? h_flush(h, f.bf) : h; };

    // Moves of bits: the same instruction on .b16/.b32.
    if (op == "mov" || op == "selp") {
        Instr copy = in;
        for (auto& m : copy.mods) {
            HalfTy h;
            if (half_type(m, h))
                m = h.x2 ? "b32" : "b16";
        }
        dispatch(copy);
        return;
    }
    if (op == "cvt")
        return half_cvt(in, ts);
    if (!t.half())
        fail("the instruction on these types is not supported yet");

    if (op == "add" || op == "sub" || op == "mul") {
        int rnd = rnd_of(in, VGPU_RND_RN);
        uint16_t fop = op == "add" ? VGPU_OP_FADD : op == "sub" ? VGPU_OP_FSUB : VGPU_OP_FMUL;
        int a = operand(1, t), b = operand(2, t);
        int r = h_lanes(t.x2, {a, b}, [&](const std::vector<int>& e) {
            int x = h_widen(flush_in(e[0]), f.bf, false), y = h_widen(flush_in(e[1]), f.bf, false);
            int v = emit(fop, vreg(32), x, y, rnd);
            if (sat) {
                v = emit(VGPU_OP_FMAX, vreg(32), v, li(0));
                v = emit(VGPU_OP_FMIN, vreg(32), v, li(0x3f800000, 32));
            }
            int h = h_narrow(v, false, f.bf, rnd);
            return ftz ? h_flush(h, f.bf) : h;
        });
        move(dst(in.ops.at(0)), r);
    } else if (op == "fma" || op == "mad") {
        int rnd = rnd_of(in, VGPU_RND_RN);
        int a = operand(1, t), b = operand(2, t), c = operand(3, t);
        int r = h_lanes(t.x2, {a, b, c}, [&](const std::vector<int>& e) {
            int x = h_widen(flush_in(e[0]), f.bf, true), y = h_widen(flush_in(e[1]), f.bf, true);
            int z = h_widen(flush_in(e[2]), f.bf, true);
            int v = fma_odd(x, y, z);
            if (sat) {
                v = emit(VGPU_OP_DMAX, vreg(64), v, li(0));
                v = emit(VGPU_OP_DMIN, vreg(64), v, li(0x3ff0000000000000));
            }
            int h = h_narrow(v, true, f.bf, rnd);
            return ftz ? h_flush(h, f.bf) : h;
        });
        move(dst(in.ops.at(0)), r);
    } else if (op == "neg" || op == "abs") {
        int a = operand(1, t);
        int r = h_lanes(t.x2, {a}, [&](const std::vector<int>& e) {
            int h = flush_in(e[0]);
            return op == "neg" ? emit(VGPU_OP_XORI, vreg(16), h, -1, 0x8000)
                               : emit(VGPU_OP_ANDI, vreg(16), h, -1, 0x7fff);
        });
        move(dst(in.ops.at(0)), r);
    } else if (op == "min" || op == "max") {
        int a = operand(1, t), b = operand(2, t);
        int r = h_lanes(t.x2, {a, b}, [&](const std::vector<int>& e) {
            int x = h_widen(flush_in(e[0]), f.bf, false), y = h_widen(flush_in(e[1]), f.bf, false);
            int v = emit(op == "min" ? VGPU_OP_FMIN : VGPU_OP_FMAX, vreg(32), x, y);
            return h_narrow(v, false, f.bf, VGPU_RND_RN);  // exact
        });
        move(dst(in.ops.at(0)), r);
    } else if (op == "ex2" || op == "tanh") {
        if (!has(in, "approx"))
            fail("needs .approx");
        int a = operand(1, t);
        int r = h_lanes(t.x2, {a}, [&](const std::vector<int>& e) {
            int v = approx_f32(op, h_widen(flush_in(e[0]), f.bf, false), false);
            int h = h_narrow(v, false, f.bf, VGPU_RND_RN);
            return ftz ? h_flush(h, f.bf) : h;
        });
        move(dst(in.ops.at(0)), r);
    } else if (op == "setp" || op == "set") {
        half_compare(in, ts);
    } else {
        fail("the instruction on 16-bit floats is not supported yet");
    }
}

// setp.CmpOp{.BoolOp}{.ftz}.{f16,f16x2,bf16,bf16x2} and
// set.CmpOp{.BoolOp}{.ftz}.dtype.stype with a 16-bit float stype.
void Lowerer::half_compare(const Instr& in, const std::vector<HalfTy>& ts) {
    const HalfTy& st = ts.back();
    if (!st.half())
        fail("the comparison of these types is not supported yet");
    const std::string& cmp = in.mods.at(0);
    std::string bop;
    for (size_t i = 1; i < in.mods.size(); i++)
        if (in.mods[i] == "and" || in.mods[i] == "or" || in.mods[i] == "xor")
            bop = in.mods[i];
    uint16_t bo = bop == "and" ? VGPU_OP_AND : bop == "or" ? VGPU_OP_OR : VGPU_OP_XOR;
    bool ftz = has(in, "ftz");
    int a = src(in.ops.at(1), st.t), b = src(in.ops.at(2), st.t);
    int c = -1;
    if (!bop.empty())
        c = src(in.ops.at(3), {'p', 1});
    int lanes = st.x2 ? 2 : 1;
    int raw[2], res[2];
    for (int l = 0; l < lanes; l++) {
        int x = st.x2 ? h_lane(a, l) : a, y = st.x2 ? h_lane(b, l) : b;
        if (ftz)
            x = h_flush(x, st.bf()), y = h_flush(y, st.bf());
        raw[l] = compare(cmp, {'f', 32}, h_widen(x, st.bf(), false), h_widen(y, st.bf(), false));
        res[l] = c >= 0 ? emit(bo, vreg(1), raw[l], c) : raw[l];
    }
    const Operand& dop = in.ops.at(0);
    if (in.op == "setp") {
        if (dop.kind == Operand::Kind::Pair) {
            int q = res[1];
            if (!st.x2) {  // p|q: q is the complement of the comparison, combined with c
                q = emit(VGPU_OP_XORI, vreg(1), raw[0], -1, 1);
                if (c >= 0)
                    q = emit(bo, vreg(1), q, c);
            }
            move(dst(dop.elems.at(0)), res[0]);
            if (dop.elems.at(1).kind != Operand::Kind::Sink)
                move(dst(dop.elems.at(1)), q);
        } else {
            if (st.x2)
                fail("setp on a pair needs two destination predicates (p|q)");
            move(dst(dop), res[0]);
        }
        return;
    }
    // set: the destination type's "true" per element (1.0, or all ones).
    if (ts.size() < 2)
        fail("set needs a destination type");
    const HalfTy& dt = ts.at(ts.size() - 2);
    int dlanes = dt.x2 ? 2 : 1;
    if (dlanes != lanes && !(lanes == 2 && !dt.half() && dt.t.bits == 32))
        fail("set with these types is not supported");
    int ew = dt.bits() / lanes;  // bits of each element of the result
    int64_t yes = dt.half() ? Fmt{dt.bf()}.one()
                  : dt.t.flt() ? (dt.t.bits == 32 ? 0x3f800000 : 0x3ff0000000000000)
                               : (ew == 64 ? -1 : (int64_t{1} << ew) - 1);
    int r = -1;
    for (int l = lanes - 1; l >= 0; l--) {
        int v = emit(VGPU_OP_SELP, vreg(ew), li(yes), li(0), 0, res[l]);
        r = r < 0 ? v : emit(VGPU_OP_OR, vreg(32), emit(VGPU_OP_SHLI, vreg(32), r, -1, ew), v);
    }
    move(dst(dop), r);
}

// cvt with a 16-bit float on either side.
void Lowerer::half_cvt(const Instr& in, const std::vector<HalfTy>& ts) {
    if (ts.size() != 2)
        fail("cvt needs two types");
    const HalfTy &dt = ts[0], &at = ts[1];
    const bool ftz = has(in, "ftz"), sat = has(in, "sat");
    const int irnd = irnd_of(in, -1), rnd = rnd_of(in, VGPU_RND_RN);
    auto clamp32 = [&](int v) {  // .sat: [0, 1], NaN to 0
        v = emit(VGPU_OP_FMAX, vreg(32), v, li(0));
        return emit(VGPU_OP_FMIN, vreg(32), v, li(0x3f800000, 32));
    };
    int d = dst(in.ops.at(0));
    if (dt.half()) {
        if (at.half() && at.x2)
            fail("cvt from a pair is not supported");
        // One source value to the destination's format.
        auto one = [&](const Operand& o) {
            int v = src(o, at.t, at.t.sgn());
            if (at.half()) {
                if (ftz)
                    v = h_flush(v, at.bf());
                if (irnd < 0 && at.bf() == dt.bf() && !sat)
                    return v;
                int w = h_widen(v, at.bf(), false);
                if (irnd >= 0)
                    w = emit(VGPU_OP_FRND, vreg(32), w, -1, irnd);
                if (sat)
                    w = clamp32(w);
                return h_narrow(w, false, dt.bf(), irnd >= 0 ? VGPU_RND_RN : rnd);
            }
            if (at.t.flt()) {
                bool f64 = at.t.bits == 64;
                if (ftz && !f64)
                    v = flush(v, at.t);
                if (sat && f64) {
                    v = emit(VGPU_OP_DMAX, vreg(64), v, li(0));
                    v = emit(VGPU_OP_DMIN, vreg(64), v, li(0x3ff0000000000000));
                } else if (sat) {
                    v = clamp32(v);
                }
                if (irnd >= 0)
                    fail("an integer rounding to a 16-bit float");
                return h_narrow(v, f64, dt.bf(), rnd);
            }
            // An integer: exactly to binary64 (32 bits and less), or
            // rounded to odd (64 bits: toward zero, the last bit set when
            // inexact), then rounded once.
            uint16_t op = at.t.sgn() ? VGPU_OP_I2D : VGPU_OP_U2D;
            int w;
            if (at.t.bits <= 32) {
                w = emit(op, vreg(64), v, -1, VGPU_RND_RN);
            } else {
                w = emit(op, vreg(64), v, -1, VGPU_RND_RZ);
                int back = emit(at.t.sgn() ? VGPU_OP_D2I : VGPU_OP_D2U, vreg(64), w, -1,
                                VGPU_IRND_RZI | (VGPU_IW_64 << 2));
                w = emit(VGPU_OP_OR, vreg(64), w, emit(VGPU_OP_SNE, vreg(1), back, v));
            }
            return h_narrow(w, true, dt.bf(), rnd);
        };
        if (dt.x2) {  // cvt.rnd.f16x2.f32 d, a, b: a to the upper element, b to the lower
            if (at.half() || !at.t.flt() || at.t.bits != 32)
                fail("cvt to a pair needs two .f32 sources");
            int hi = one(in.ops.at(1)), lo = one(in.ops.at(2));
            emit(VGPU_OP_OR, d, emit(VGPU_OP_SHLI, vreg(32), hi, -1, 16), lo);
            return;
        }
        move(d, one(in.ops.at(1)));
        return;
    }
    if (at.x2)
        fail("cvt from a pair is not supported");
    int v = src(in.ops.at(1), at.t);
    if (ftz)
        v = h_flush(v, at.bf());
    if (dt.t.flt()) {  // exact; bfloat16 subnormals stay binary32 subnormals unless .ftz
        bool f64 = dt.t.bits == 64;
        int w = h_widen(v, at.bf(), f64);
        if (irnd >= 0)
            w = emit(f64 ? VGPU_OP_DRND : VGPU_OP_FRND, vreg(dt.t.bits), w, -1, irnd);
        if (sat) {
            if (f64)
                fail(".sat to binary64");
            w = clamp32(w);
        }
        if (ftz && !f64)
            w = flush(w, dt.t);
        move(d, w);
        return;
    }
    // To an integer: saturating, NaN to 0, as the binary32 conversion.
    int iw = dt.t.bits == 64 ? VGPU_IW_64 : dt.t.bits == 32 ? VGPU_IW_32 : dt.t.bits == 16 ? VGPU_IW_16 : VGPU_IW_8;
    int w = h_widen(v, at.bf(), false);
    emit(dt.t.sgn() ? VGPU_OP_F2I : VGPU_OP_F2U, d, w, -1, (irnd >= 0 ? irnd : VGPU_IRND_RZI) | (iw << 2));
    canon(d, 64);
}

}  // namespace gpuvm::ptx
