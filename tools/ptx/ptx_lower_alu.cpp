// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower_alu.cpp - see ptx_lower.hpp: integer, bit, floating-point,
// comparison, selection, conversion and move instructions.
//
// Registers narrower than 64 bits hold their value zero-extended
// (ptx_ir.hpp); an operation whose ISA form is 64-bit computes on
// operands extended as its PTX type says (signed: sign-extended) and
// zero-extends its result again (canon()).
#include <cstring>
#include <set>

#include "ptx_lower.hpp"

extern "C" {
#include "vgpu_isa.h"
}

namespace gpuvm::ptx {
namespace {

bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

bool has_irnd(const Instr& in) { return irnd_of(in, -1) >= 0; }

// The value an integer literal has as @t (as src() materialises it).
int64_t imm_value(int64_t imm, Ty t, bool sign) {
    uint64_t v = static_cast<uint64_t>(imm);
    if (t.bits < 64) {
        uint64_t mask = (uint64_t{1} << t.bits) - 1;
        v &= mask;
        if (sign && (v >> (t.bits - 1)) & 1)
            v |= ~mask;
    }
    return static_cast<int64_t>(v);
}

}  // namespace

int rnd_of(const Instr& in, int def) {
    for (const auto& m : in.mods) {
        if (m == "rn") return VGPU_RND_RN;
        if (m == "rz") return VGPU_RND_RZ;
        if (m == "rm") return VGPU_RND_RM;
        if (m == "rp") return VGPU_RND_RP;
    }
    return def;
}

int irnd_of(const Instr& in, int def) {
    for (const auto& m : in.mods) {
        if (m == "rzi") return VGPU_IRND_RZI;
        if (m == "rni") return VGPU_IRND_RNI;
        if (m == "rmi") return VGPU_IRND_RMI;
        if (m == "rpi") return VGPU_IRND_RPI;
    }
    return def;
}

int Lowerer::fimm(const Operand& o, Ty t) {
    if (t.bits == 32) {
        uint32_t bits = static_cast<uint32_t>(o.imm);
        if (o.fimm_double) {  // a decimal or 0d literal: rounded to binary32 (to nearest), as ptxas does
            double d;
            uint64_t b = static_cast<uint64_t>(o.imm);
            std::memcpy(&d, &b, 8);
            float f = static_cast<float>(d);
            std::memcpy(&bits, &f, 4);
        }
        return li(bits, 32);
    }
    if (t.bits != 64)
        fail("a float literal of an unexpected width");
    if (o.fimm_double)
        return li(o.imm);
    float f;
    uint32_t b = static_cast<uint32_t>(o.imm);
    std::memcpy(&f, &b, 4);
    double dd = f;
    int64_t bits;
    std::memcpy(&bits, &dd, 8);
    return li(bits);
}

// Flushes a binary32 subnormal to a zero of its sign (.ftz).
int Lowerer::flush(int v, Ty t) {
    if (t.bits != 32)
        return v;
    int e = emit(VGPU_OP_ANDI, vreg(32), v, -1, 0x7f800000);
    int z = li(0);
    int sub = emit(VGPU_OP_SEQ, vreg(1), e, z);
    int sgn = emit(VGPU_OP_SHRI, vreg(32), v, -1, 31);
    sgn = emit(VGPU_OP_SHLI, vreg(32), sgn, -1, 31);
    return emit(VGPU_OP_SELP, vreg(32), sgn, v, 0, sub);
}

// ---- integer ---------------------------------------------------------------

void Lowerer::integer(const Instr& in, Ty t) {
    const std::string& op = in.op;
    if (has(in, "sat"))
        fail("saturating integer arithmetic is not supported yet");
    if (t.kind == 'p' && op != "and" && op != "or" && op != "xor" && op != "not")
        fail("not an operation on predicates");
    bool sgn = t.sgn();
    if (op == "not" || op == "cnot" || op == "neg" || op == "abs") {
        int d = dst(in.ops.at(0));
        int a = src(in.ops.at(1), t, sgn);
        if (op == "not") {
            emit(VGPU_OP_XORI, d, a, -1, t.kind == 'p' ? 1 : -1);
        } else if (op == "cnot") {
            emit(VGPU_OP_SEQ, d, a, li(0));
            return;
        } else if (op == "neg") {
            emit(VGPU_OP_SUB, d, li(0), a);
        } else {
            int s = emit(VGPU_OP_SARI, vreg(64), a, -1, 63);
            int x = emit(VGPU_OP_XOR, vreg(64), a, s);
            emit(VGPU_OP_SUB, d, x, s);
        }
        canon(d, 64);
        return;
    }
    int d = dst(in.ops.at(0));
    bool sx = sgn && (op == "min" || op == "max" || op == "div" || op == "rem");
    int a = src(in.ops.at(1), t, sx);
    const Operand& ob = in.ops.at(2);
    // Immediate forms where the ISA has them.
    if (ob.kind == Operand::Kind::Imm && (op == "add" || op == "sub" || op == "and" || op == "or" || op == "xor")) {
        int64_t v = imm_value(ob.imm, t, false);
        if (op == "sub")
            v = static_cast<int64_t>(0 - static_cast<uint64_t>(v));
        if (fits32(v)) {
            uint16_t o = op == "add" || op == "sub" ? VGPU_OP_ADDI
                         : op == "and"              ? VGPU_OP_ANDI
                         : op == "or"               ? VGPU_OP_ORI
                                                    : VGPU_OP_XORI;
            emit(o, d, a, -1, v);
            if (o != VGPU_OP_ANDI && !(o != VGPU_OP_ADDI && v >= 0))
                canon(d, 64);
            return;
        }
    }
    int b = src(ob, t, sx);
    uint16_t o;
    bool clean = false;
    if (op == "add") o = VGPU_OP_ADD;
    else if (op == "sub") o = VGPU_OP_SUB;
    else if (op == "and") o = VGPU_OP_AND, clean = true;
    else if (op == "or") o = VGPU_OP_OR, clean = true;
    else if (op == "xor") o = VGPU_OP_XOR, clean = true;
    else if (op == "min") o = sgn ? VGPU_OP_MIN : VGPU_OP_MINU, clean = !sgn;
    else if (op == "max") o = sgn ? VGPU_OP_MAX : VGPU_OP_MAXU, clean = !sgn;
    else if (op == "div") o = sgn ? VGPU_OP_DIV : VGPU_OP_DIVU;
    else o = sgn ? VGPU_OP_REM : VGPU_OP_REMU, clean = !sgn;
    emit(o, d, a, b);
    if (!clean)
        canon(d, 64);
}

void Lowerer::mul_mad(const Instr& in, Ty t) {
    bool mad = in.op == "mad" || in.op == "mad24";
    bool m24 = in.op == "mul24" || in.op == "mad24";
    bool hi = has(in, "hi"), wide = has(in, "wide");
    if (has(in, "sat"))
        fail("saturating integer arithmetic is not supported yet");
    bool sgn = t.sgn();
    int d = dst(in.ops.at(0));
    int a, b;
    if (m24) {
        auto x24 = [&](const Operand& o) {
            int v = src(o, t);
            int s = emit(VGPU_OP_SHLI, vreg(64), v, -1, 40);
            return emit(sgn ? VGPU_OP_SARI : VGPU_OP_SHRI, vreg(64), s, -1, 40);
        };
        a = x24(in.ops.at(1));
        b = x24(in.ops.at(2));
    } else {
        a = src(in.ops.at(1), t, sgn && (hi || wide));
        b = src(in.ops.at(2), t, sgn && (hi || wide));
    }
    int p;
    if (t.bits == 64 && hi) {
        p = emit(sgn ? VGPU_OP_MULHI : VGPU_OP_MULHIU, vreg(64), a, b);
    } else {
        p = emit(VGPU_OP_MUL, vreg(64), a, b);
        if (hi)
            p = emit(sgn ? VGPU_OP_SARI : VGPU_OP_SHRI, vreg(64), p, -1, m24 ? 16 : t.bits);
    }
    if (mad) {
        Ty ct = t;
        if (wide)
            ct.bits *= 2;
        p = emit(VGPU_OP_ADD, vreg(64), p, src(in.ops.at(3), ct));
    }
    move(d, p);
    canon(d, 64);
}

void Lowerer::shift(const Instr& in, Ty t) {
    int d = dst(in.ops.at(0));
    if (in.op == "shf") {
        if (t.bits != 32)
            fail("shf of this width");
        bool left = has(in, "l"), wrap = has(in, "wrap");
        int a = src(in.ops.at(1), t), b = src(in.ops.at(2), t), n = src(in.ops.at(3), {'u', 32});
        n = wrap ? emit(VGPU_OP_ANDI, vreg(32), n, -1, 31) : emit(VGPU_OP_MINU, vreg(32), n, li(32));
        int h = emit(VGPU_OP_SHLI, vreg(64), b, -1, 32);
        int ab = emit(VGPU_OP_OR, vreg(64), h, a);
        if (left) {
            int s = emit(VGPU_OP_SHL, vreg(64), ab, n);
            emit(VGPU_OP_SHRI, d, s, -1, 32);
        } else {
            move(d, emit(VGPU_OP_SHR, vreg(64), ab, n));
            canon(d, 64);
        }
        return;
    }
    bool left = in.op == "shl";
    bool sar = !left && t.sgn();
    int a = src(in.ops.at(1), t, sar);
    const Operand& ob = in.ops.at(2);
    if (ob.kind == Operand::Kind::Imm) {
        uint64_t n = static_cast<uint32_t>(ob.imm);
        if (n >= static_cast<uint64_t>(t.bits) && !sar) {
            move(d, li(0));
            return;
        }
        if (n >= static_cast<uint64_t>(t.bits))
            n = 63;
        emit(left ? VGPU_OP_SHLI : sar ? VGPU_OP_SARI : VGPU_OP_SHRI, d, a, -1, static_cast<int64_t>(n));
        if (left || sar)
            canon(d, 64);
        return;
    }
    int n = src(ob, {'u', 32});
    if (t.bits < 64 || sar) {
        // The ISA shifts by n & 63; a narrower value shifted by 63 gives
        // PTX's result for any larger amount.
        int c = emit(VGPU_OP_MINU, vreg(32), n, li(63));
        emit(left ? VGPU_OP_SHL : sar ? VGPU_OP_SAR : VGPU_OP_SHR, d, a, c);
        if (left || sar)
            canon(d, 64);
        return;
    }
    int s = emit(left ? VGPU_OP_SHL : VGPU_OP_SHR, vreg(64), a, n);
    int in_range = emit(VGPU_OP_SLTUI, vreg(1), n, -1, 64);
    emit(VGPU_OP_SELP, d, s, li(0), 0, in_range);
}

void Lowerer::bits(const Instr& in, Ty t) {
    const std::string& op = in.op;
    int d = dst(in.ops.at(0));
    if (op == "popc") {
        emit(VGPU_OP_POPC, d, src(in.ops.at(1), t));
    } else if (op == "clz") {
        int c = emit(VGPU_OP_CLZ, t.bits == 64 ? d : vreg(64), src(in.ops.at(1), t));
        if (t.bits < 64)
            emit(VGPU_OP_ADDI, d, c, -1, t.bits - 64);
    } else if (op == "brev") {
        int r = emit(VGPU_OP_BREV, t.bits == 64 ? d : vreg(64), src(in.ops.at(1), t));
        if (t.bits < 64)
            emit(VGPU_OP_SHRI, d, r, -1, 64 - t.bits);
    } else if (op == "bfe") {
        int a = src(in.ops.at(1), t), b = src(in.ops.at(2), {'u', 32}), c = src(in.ops.at(3), {'u', 32});
        emit(t.sgn() ? VGPU_OP_BFE : VGPU_OP_BFEU, d, a, b, t.bits == 32, c);
        canon(d, 64);
    } else if (op == "bfi") {
        int a = src(in.ops.at(1), t), b = src(in.ops.at(2), t);
        int c = src(in.ops.at(3), {'u', 32}), e = src(in.ops.at(4), {'u', 32});
        emit(VGPU_OP_BFI, d, a, b, t.bits == 32, c, e);
    } else if (op == "prmt") {
        static const std::map<std::string, int> modes = {{"f4e", VGPU_PRMT_F4E}, {"b4e", VGPU_PRMT_B4E},
                                                         {"rc8", VGPU_PRMT_RC8}, {"ecl", VGPU_PRMT_ECL},
                                                         {"ecr", VGPU_PRMT_ECR}, {"rc16", VGPU_PRMT_RC16}};
        int mode = VGPU_PRMT_IDX;
        for (const auto& m : in.mods)
            if (modes.count(m))
                mode = modes.at(m);
        int a = src(in.ops.at(1), t), b = src(in.ops.at(2), t), c = src(in.ops.at(3), t);
        emit(VGPU_OP_PRMT, d, a, b, mode, c);
    } else if (op == "bmsk") {
        // A mask of b ones from bit a, within 32 bits (.wrap: a, b mod 32;
        // .clamp: at most 32).
        bool wrap = has(in, "wrap");
        int a = src(in.ops.at(1), {'u', 32}), b = src(in.ops.at(2), {'u', 32});
        if (wrap) {
            a = emit(VGPU_OP_ANDI, vreg(32), a, -1, 31);
            b = emit(VGPU_OP_ANDI, vreg(32), b, -1, 31);
        } else {
            a = emit(VGPU_OP_MINU, vreg(32), a, li(32));
            b = emit(VGPU_OP_MINU, vreg(32), b, li(32));
        }
        int m = emit(VGPU_OP_SHL, vreg(64), li(1), b);
        m = emit(VGPU_OP_ADDI, vreg(64), m, -1, -1);
        m = emit(VGPU_OP_SHL, vreg(64), m, a);
        emit(VGPU_OP_ZEXT, d, m, -1, 32);
    } else {  // bfind
        int v = src(in.ops.at(1), t, t.sgn());
        if (t.sgn()) {
            int s = emit(VGPU_OP_SARI, vreg(64), v, -1, 63);
            v = emit(VGPU_OP_XOR, vreg(64), v, s);
            if (t.bits < 64)
                v = emit(VGPU_OP_ZEXT, vreg(64), v, -1, t.bits);
        }
        int c = emit(VGPU_OP_CLZ, vreg(64), v);
        int r;
        if (has(in, "shiftamt")) {
            int z = emit(VGPU_OP_SEQ, vreg(1), v, li(0));
            int amt = emit(VGPU_OP_ADDI, vreg(64), c, -1, t.bits - 64);
            r = emit(VGPU_OP_SELP, vreg(64), li(-1), amt, 0, z);
        } else {
            r = emit(VGPU_OP_SUB, vreg(64), li(63), c);  // -1 for 0
        }
        move(d, r);
        canon(d, 64);
    }
}

// ---- floating point ----------------------------------------------------------

void Lowerer::floating(const Instr& in, Ty t) {
    const std::string& op = in.op;
    if (!t.flt())
        fail("not a floating-point type");
    bool f64 = t.bits == 64, ftz = has(in, "ftz"), sat = has(in, "sat");
    if (has(in, "NaN") || has(in, "xorsign") || has(in, "oob") || has(in, "relu"))
        fail("this modifier is not supported yet");
    if (op == "ex2" || op == "lg2" || op == "sin" || op == "cos" || op == "tanh")
        return approx(in, t);  // ptx_lower_math.cpp
    int rnd = rnd_of(in);
    int d = dst(in.ops.at(0));
    auto arg = [&](int i) {
        int v = src(in.ops.at(i), t);
        return ftz ? flush(v, t) : v;
    };
    int r;
    if (op == "add" || op == "sub" || op == "mul" || op == "div") {
        static const std::map<std::string, std::pair<uint16_t, uint16_t>> ops = {
            {"add", {VGPU_OP_FADD, VGPU_OP_DADD}},
            {"sub", {VGPU_OP_FSUB, VGPU_OP_DSUB}},
            {"mul", {VGPU_OP_FMUL, VGPU_OP_DMUL}},
            {"div", {VGPU_OP_FDIV, VGPU_OP_DDIV}}};
        // div.approx and div.full: the correctly rounded quotient, which
        // is within both bounds PTX gives (2 ulp).
        const auto& o = ops.at(op);
        int a = arg(1), b = arg(2);
        r = emit(f64 ? o.second : o.first, vreg(t.bits), a, b, rnd);
    } else if (op == "fma" || op == "mad") {
        int a = arg(1), b = arg(2), c = arg(3);
        r = emit(f64 ? VGPU_OP_DFMA : VGPU_OP_FFMA, vreg(t.bits), a, b, rnd, c);
    } else if (op == "abs" || op == "neg") {
        bool abs = op == "abs";
        r = emit(f64 ? (abs ? VGPU_OP_DABS : VGPU_OP_DNEG) : (abs ? VGPU_OP_FABS : VGPU_OP_FNEG), vreg(t.bits),
                 arg(1));
    } else if (op == "min" || op == "max") {
        bool mn = op == "min";
        int a = arg(1), b = arg(2);
        r = emit(f64 ? (mn ? VGPU_OP_DMIN : VGPU_OP_DMAX) : (mn ? VGPU_OP_FMIN : VGPU_OP_FMAX), vreg(t.bits), a, b);
    } else if (op == "sqrt") {
        // sqrt.approx: the correctly rounded root (within PTX's bound).
        r = emit(f64 ? VGPU_OP_DSQRT : VGPU_OP_FSQRT, vreg(t.bits), arg(1), -1, has(in, "approx") ? 0 : rnd);
    } else if (op == "rcp" || op == "rsqrt") {
        // rcp.approx, rsqrt.approx: 1 / x and 1 / sqrt(x) rounded to
        // nearest (rsqrt's two roundings stay within PTX's 2^-22.9 relative
        // error for binary32; see cuda.rst).
        int x = arg(1);
        if (op == "rsqrt")
            x = emit(f64 ? VGPU_OP_DSQRT : VGPU_OP_FSQRT, vreg(t.bits), x, -1, 0);
        int one = li(f64 ? 0x3ff0000000000000 : 0x3f800000, t.bits);
        r = emit(f64 ? VGPU_OP_DDIV : VGPU_OP_FDIV, vreg(t.bits), one, x, op == "rcp" ? rnd : 0);
    } else if (op == "copysign") {
        int a = src(in.ops.at(1), t), b = src(in.ops.at(2), t);
        int sh = t.bits - 1;
        int s = emit(VGPU_OP_SHRI, vreg(64), a, -1, sh);
        s = emit(VGPU_OP_SHLI, vreg(64), s, -1, sh);
        int m = emit(VGPU_OP_SHLI, vreg(64), b, -1, 65 - t.bits);
        m = emit(VGPU_OP_SHRI, vreg(64), m, -1, 65 - t.bits);
        r = emit(VGPU_OP_OR, vreg(t.bits), s, m);
    } else if (op == "testp") {
        int a = src(in.ops.at(1), t);
        int sh = 65 - t.bits;  // drops the sign
        int m = emit(VGPU_OP_SHLI, vreg(64), a, -1, sh);
        m = emit(VGPU_OP_SHRI, vreg(64), m, -1, sh);
        int inf = li(f64 ? 0x7ff0000000000000 : 0x7f800000);
        int minn = li(f64 ? 0x0010000000000000 : 0x00800000);
        std::string k;
        for (const auto& x : in.mods)
            if (x == "finite" || x == "infinite" || x == "number" || x == "notanumber" || x == "normal" ||
                x == "subnormal")
                k = x;
        if (k == "finite")
            r = emit(VGPU_OP_SLTU, vreg(1), m, inf);
        else if (k == "infinite")
            r = emit(VGPU_OP_SEQ, vreg(1), m, inf);
        else if (k == "number")
            r = emit(VGPU_OP_SLEU, vreg(1), m, inf);
        else if (k == "notanumber")
            r = emit(VGPU_OP_SLTU, vreg(1), inf, m);
        else if (k == "normal")
            r = emit(VGPU_OP_AND, vreg(1), emit(VGPU_OP_SLEU, vreg(1), minn, m), emit(VGPU_OP_SLTU, vreg(1), m, inf));
        else if (k == "subnormal")
            r = emit(VGPU_OP_AND, vreg(1), emit(VGPU_OP_SLTU, vreg(1), m, minn),
                     emit(VGPU_OP_SNE, vreg(1), m, li(0)));
        else
            fail("testp without a test");
        move(d, r);
        return;
    } else {
        fail("the instruction is not supported yet");
    }
    if (sat) {
        if (f64)
            fail(".sat on binary64");
        r = emit(VGPU_OP_FMAX, vreg(32), r, li(0));
        r = emit(VGPU_OP_FMIN, vreg(32), r, li(0x3f800000, 32));
    }
    if (ftz)
        r = flush(r, t);
    move(d, r);
}

// ---- comparisons and selection -----------------------------------------------

int Lowerer::compare(const std::string& cmp, Ty t, int a, int b) {
    auto e = [&](uint16_t op, int x, int y) { return emit(op, vreg(1), x, y); };
    auto inv = [&](int v) { return emit(VGPU_OP_XORI, vreg(1), v, -1, 1); };
    if (!t.flt()) {
        bool u = !t.sgn();
        if (cmp == "eq") return e(VGPU_OP_SEQ, a, b);
        if (cmp == "ne") return e(VGPU_OP_SNE, a, b);
        if (cmp == "lt" || cmp == "lo") return e(u || cmp == "lo" ? VGPU_OP_SLTU : VGPU_OP_SLT, a, b);
        if (cmp == "le" || cmp == "ls") return e(u || cmp == "ls" ? VGPU_OP_SLEU : VGPU_OP_SLE, a, b);
        if (cmp == "gt" || cmp == "hi") return e(u || cmp == "hi" ? VGPU_OP_SLTU : VGPU_OP_SLT, b, a);
        if (cmp == "ge" || cmp == "hs") return e(u || cmp == "hs" ? VGPU_OP_SLEU : VGPU_OP_SLE, b, a);
        fail("the comparison ." + cmp + " on integers");
    }
    bool f64 = t.bits == 64;
    uint16_t eq = f64 ? VGPU_OP_DSEQ : VGPU_OP_FSEQ, lt = f64 ? VGPU_OP_DSLT : VGPU_OP_FSLT;
    uint16_t le = f64 ? VGPU_OP_DSLE : VGPU_OP_FSLE, nan = f64 ? VGPU_OP_DSNAN : VGPU_OP_FSNAN;
    if (cmp == "eq") return e(eq, a, b);
    if (cmp == "ne") return inv(emit(VGPU_OP_OR, vreg(1), e(eq, a, b), e(nan, a, b)));
    if (cmp == "lt") return e(lt, a, b);
    if (cmp == "le") return e(le, a, b);
    if (cmp == "gt") return e(lt, b, a);
    if (cmp == "ge") return e(le, b, a);
    if (cmp == "equ") return emit(VGPU_OP_OR, vreg(1), e(eq, a, b), e(nan, a, b));
    if (cmp == "neu") return inv(e(eq, a, b));
    if (cmp == "ltu") return inv(e(le, b, a));
    if (cmp == "leu") return inv(e(lt, b, a));
    if (cmp == "gtu") return inv(e(le, a, b));
    if (cmp == "geu") return inv(e(lt, a, b));
    if (cmp == "num") return inv(e(nan, a, b));
    if (cmp == "nan") return e(nan, a, b);
    fail("the comparison ." + cmp + " on floats");
}

void Lowerer::setp(const Instr& in) {
    if (in.mods.empty())
        fail("setp without a comparison");
    const std::string& cmp = in.mods[0];
    Ty t = last_type(in);
    std::string bop;
    for (const auto& m : in.mods)
        if (&m != &in.mods[0] && (m == "and" || m == "or" || m == "xor"))
            bop = m;
    bool ftz = has(in, "ftz");
    int a = src(in.ops.at(1), t, t.sgn()), b = src(in.ops.at(2), t, t.sgn());
    if (ftz)
        a = flush(a, t), b = flush(b, t);
    int r = compare(cmp, t, a, b);
    const Operand& dop = in.ops.at(0);
    int c = -1;
    if (!bop.empty()) {
        if (in.ops.size() != 4)
            fail("a boolean operation needs a predicate operand");
        c = src(in.ops[3], {'p', 1});
    }
    uint16_t bo = bop == "and" ? VGPU_OP_AND : bop == "or" ? VGPU_OP_OR : VGPU_OP_XOR;
    int p = c >= 0 ? emit(bo, vreg(1), r, c) : r;
    if (dop.kind == Operand::Kind::Pair) {
        int nr = emit(VGPU_OP_XORI, vreg(1), r, -1, 1);
        int q = c >= 0 ? emit(bo, vreg(1), nr, c) : nr;
        move(dst(dop.elems.at(0)), p);
        move(dst(dop.elems.at(1)), q);
    } else {
        move(dst(dop), p);
    }
}

void Lowerer::selp_set(const Instr& in) {
    Ty t = last_type(in);
    int d = dst(in.ops.at(0));
    if (in.op == "selp") {
        int a = src(in.ops.at(1), t), b = src(in.ops.at(2), t), c = src(in.ops.at(3), {'p', 1});
        emit(VGPU_OP_SELP, d, a, b, 0, c);
        return;
    }
    if (in.op == "slct") {
        if (t.flt())
            fail("slct with a float selector is not supported yet");
        bool ok;
        Ty dt = type_of(in.mods.at(0), ok);
        int a = src(in.ops.at(1), dt), b = src(in.ops.at(2), dt), c = src(in.ops.at(3), t, true);
        int neg = emit(VGPU_OP_SLT, vreg(1), c, li(0));
        emit(VGPU_OP_SELP, d, b, a, 0, neg);
        return;
    }
    // set.CmpOp[.BoolOp].dtype.stype
    bool ok;
    Ty dt = type_of(in.mods.at(in.mods.size() - 2), ok);
    if (!ok)
        fail("set without a destination type");
    std::string bop;
    for (size_t i = 1; i < in.mods.size(); i++)
        if (in.mods[i] == "and" || in.mods[i] == "or" || in.mods[i] == "xor")
            bop = in.mods[i];
    int a = src(in.ops.at(1), t, t.sgn()), b = src(in.ops.at(2), t, t.sgn());
    if (has(in, "ftz"))
        a = flush(a, t), b = flush(b, t);
    int r = compare(in.mods[0], t, a, b);
    if (!bop.empty())
        r = emit(bop == "and" ? VGPU_OP_AND : bop == "or" ? VGPU_OP_OR : VGPU_OP_XOR, vreg(1), r,
                 src(in.ops.at(3), {'p', 1}));
    if (dt.flt()) {
        emit(VGPU_OP_SELP, d, li(0x3f800000, 32), li(0), 0, r);
    } else {
        emit(VGPU_OP_SUB, d, li(0), r);
        canon(d, 64);
    }
}

// ---- moves and conversions ---------------------------------------------------

void Lowerer::mov(const Instr& in) {
    Ty t = last_type(in);
    const Operand& o = in.ops.at(0);
    const Operand& a = in.ops.at(1);
    if (o.kind == Operand::Kind::Vec) {  // unpack
        int n = static_cast<int>(o.elems.size());
        int w = t.bits / n;
        int v = src(a, t);
        for (int i = 0; i < n; i++) {
            if (o.elems[i].kind == Operand::Kind::Sink)
                continue;
            int e = dst(o.elems[i]);
            int x = i ? emit(VGPU_OP_SHRI, vreg(64), v, -1, i * w) : v;
            if (i < n - 1)
                emit(VGPU_OP_ZEXT, e, x, -1, w);
            else
                move(e, x);
        }
        return;
    }
    int d = dst(o);
    if (a.kind == Operand::Kind::Vec) {  // pack
        int n = static_cast<int>(a.elems.size());
        int w = t.bits / n;
        int acc = -1;
        for (int i = n - 1; i >= 0; i--) {
            int e = src(a.elems[i], {'b', w});
            if (acc < 0) {
                acc = e;
            } else {
                int s = emit(VGPU_OP_SHLI, vreg(64), acc, -1, w);
                acc = emit(VGPU_OP_OR, vreg(64), s, e);
            }
        }
        move(d, acc);
        return;
    }
    move(d, src(a, t));
}

void Lowerer::cvt(const Instr& in) {
    std::vector<Ty> ts;
    bool ok;
    for (const auto& m : in.mods) {
        Ty t = type_of(m, ok);
        if (ok)
            ts.push_back(t);
        else if (m == "f16" || m == "bf16" || m == "f16x2" || m == "bf16x2" || m == "tf32" || m == "e4m3x2" ||
                 m == "e5m2x2")
            fail("the type ." + m + " is not supported yet");
    }
    if (ts.size() != 2)
        fail("cvt needs two types");
    Ty dt = ts[0], at = ts[1];
    bool ftz = has(in, "ftz"), sat = has(in, "sat");
    int d = dst(in.ops.at(0));
    if (!dt.flt() && !at.flt()) {
        int v = src(in.ops.at(1), at, at.sgn());
        if (sat && dt.bits < 64) {
            int64_t hi = dt.sgn() ? (int64_t{1} << (dt.bits - 1)) - 1 : (int64_t{1} << dt.bits) - 1;
            int64_t lo = dt.sgn() ? -(int64_t{1} << (dt.bits - 1)) : 0;
            if (at.sgn()) {
                v = emit(VGPU_OP_MAX, vreg(64), v, li(lo));
                v = emit(VGPU_OP_MIN, vreg(64), v, li(hi));
            } else {
                v = emit(VGPU_OP_MINU, vreg(64), v, li(hi));
            }
        } else if (sat && dt.sgn() != at.sgn()) {  // 64-bit: s64 <-> u64
            v = at.sgn() ? emit(VGPU_OP_MAX, vreg(64), v, li(0))
                         : emit(VGPU_OP_MINU, vreg(64), v, li(INT64_MAX));
        }
        if (dt.bits < 64)
            emit(dt.sgn() ? VGPU_OP_SEXT : VGPU_OP_ZEXT, d, v, -1, dt.bits);
        else
            move(d, v);
        canon(d, 64);
        return;
    }
    if (!at.flt()) {  // integer to float
        int v = src(in.ops.at(1), at, at.sgn());
        bool f64 = dt.bits == 64;
        int r = emit(f64 ? (at.sgn() ? VGPU_OP_I2D : VGPU_OP_U2D) : (at.sgn() ? VGPU_OP_I2F : VGPU_OP_U2F),
                     vreg(dt.bits), v, -1, rnd_of(in));
        if (sat) {
            if (f64)
                fail(".sat to binary64");
            r = emit(VGPU_OP_FMAX, vreg(32), r, li(0));
            r = emit(VGPU_OP_FMIN, vreg(32), r, li(0x3f800000, 32));
        }
        move(d, r);
        return;
    }
    int v = src(in.ops.at(1), at);
    if (ftz)
        v = flush(v, at);
    if (!dt.flt()) {  // float to integer: saturating, NaN to 0
        int w = dt.bits == 64 ? VGPU_IW_64 : dt.bits == 32 ? VGPU_IW_32 : dt.bits == 16 ? VGPU_IW_16 : VGPU_IW_8;
        int mod = irnd_of(in) | (w << 2);
        bool f64 = at.bits == 64;
        emit(f64 ? (dt.sgn() ? VGPU_OP_D2I : VGPU_OP_D2U) : (dt.sgn() ? VGPU_OP_F2I : VGPU_OP_F2U), d, v, -1, mod);
        canon(d, 64);
        return;
    }
    int r;
    if (dt.bits == at.bits) {
        r = has_irnd(in) ? emit(dt.bits == 64 ? VGPU_OP_DRND : VGPU_OP_FRND, vreg(dt.bits), v, -1, irnd_of(in)) : v;
    } else if (dt.bits == 64) {
        r = emit(VGPU_OP_F2D, vreg(64), v);
    } else {
        r = emit(VGPU_OP_D2F, vreg(32), v, -1, rnd_of(in));
    }
    if (sat) {
        if (dt.bits == 64)
            fail(".sat to binary64");
        r = emit(VGPU_OP_FMAX, vreg(32), r, li(0));
        r = emit(VGPU_OP_FMIN, vreg(32), r, li(0x3f800000, 32));
    }
    if (ftz && dt.bits == 32)
        r = flush(r, dt);
    move(d, r);
}

// add.cc, addc, sub.cc, subc, mad.cc, madc: the carry flag is a virtual
// register (1 = carry out of an addition, borrow out of a subtraction).
void Lowerer::carry(const Instr& in, Ty t) {
    const std::string& op = in.op;
    if (t.bits != 32 && t.bits != 64)
        fail("carry arithmetic of this width");
    bool cin = op == "addc" || op == "subc" || op == "madc";
    bool sub = op == "sub" || op == "subc";
    bool cout = has(in, "cc");
    if (cc_ < 0)
        cc_ = vreg(1);
    int d = dst(in.ops.at(0));
    int a = src(in.ops.at(1), t), b = src(in.ops.at(2), t);
    if (op == "mad" || op == "madc") {
        bool hi = has(in, "hi");
        if (t.sgn() && hi)
            fail("signed mad.hi with a carry is not supported yet");
        int p = t.bits == 64 && hi ? emit(VGPU_OP_MULHIU, vreg(64), a, b) : emit(VGPU_OP_MUL, vreg(64), a, b);
        if (hi && t.bits == 32)
            p = emit(VGPU_OP_SHRI, vreg(64), p, -1, 32);
        else if (t.bits == 32)
            p = emit(VGPU_OP_ZEXT, vreg(64), p, -1, 32);
        a = p;
        b = src(in.ops.at(3), t);
    }
    int r, co = -1;
    if (t.bits == 32) {
        r = emit(sub ? VGPU_OP_SUB : VGPU_OP_ADD, vreg(64), a, b);
        if (cin)
            r = emit(sub ? VGPU_OP_SUB : VGPU_OP_ADD, vreg(64), r, cc_);
        if (cout)
            co = emit(VGPU_OP_SHRI, vreg(1), r, -1, sub ? 63 : 32);
        r = emit(VGPU_OP_ZEXT, vreg(32), r, -1, 32);
    } else {
        r = emit(sub ? VGPU_OP_SUB : VGPU_OP_ADD, vreg(64), a, b);
        int c1 = cout ? (sub ? emit(VGPU_OP_SLTU, vreg(1), a, b) : emit(VGPU_OP_SLTU, vreg(1), r, a)) : -1;
        if (cin) {
            int r2 = emit(sub ? VGPU_OP_SUB : VGPU_OP_ADD, vreg(64), r, cc_);
            if (cout) {
                int c2 = sub ? emit(VGPU_OP_SLTU, vreg(1), r, cc_) : emit(VGPU_OP_SLTU, vreg(1), r2, r);
                c1 = emit(VGPU_OP_OR, vreg(1), c1, c2);
            }
            r = r2;
        }
        co = c1;
    }
    move(d, r);
    if (cout)
        move(cc_, co);
}

}  // namespace gpuvm::ptx
