// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_alu.cpp - the PTX of the ISA's floating-point instructions and of
// the integer instructions of version 2: register in, register out, with
// exactly the interpreter's results (common/vgpu_interp.c,
// vgpu_softfloat*.h, vgpu_interp_alu.h).  Where PTX differs from the
// interpreter the code says so.  Temporaries: %v (b32), %x (b64), %g
// (f32), %d (f64), %q (pred), declared by the kernel's prologue
// (kAluRegs).
#include "ptx_alu.hpp"

#include <string>

namespace vgpu::engine {
namespace {

const char* const kRnd[] = {"rn", "rz", "rm", "rp"};
const char* const kIrnd[] = {"rzi", "rni", "rmi", "rpi"};
const char* const kPrmt[] = {"", ".f4e", ".b4e", ".rc8", ".ecl", ".ecr", ".rc16"};

class Alu {
public:
    Alu(const vgpu_dinsn& d, const LineFn& line) : d_(d), line_(line) {}
    bool f32();
    bool f64();
    bool int2();

private:
    std::string R(int r) const { return "%r" + std::to_string(r); }
    void l(const std::string& s) const { line_(s); }
    // The binary32 in bits 31:0 of r<reg> into %g<i>.
    void fin(int i, int reg) const {
        l("cvt.u32.u64 %v" + std::to_string(i) + ", " + R(reg));
        l("mov.b32 %g" + std::to_string(i) + ", %v" + std::to_string(i));
    }
    void din(int i, int reg) const { l("mov.b64 %d" + std::to_string(i) + ", " + R(reg)); }
    // rd = %g2 zero-extended, a NaN made canonical (PTX's is 0x7fffffff).
    void fout() const {
        l("mov.b32 %v2, %g2");
        l("testp.notanumber.f32 %q0, %g2");
        l("@%q0 mov.b32 %v2, 0x7FC00000");
        l("cvt.u64.u32 " + R(d_.rd) + ", %v2");
    }
    void dout() const {
        l("mov.b64 " + R(d_.rd) + ", %d2");
        l("testp.notanumber.f64 %q0, %d2");
        l("@%q0 mov.b64 " + R(d_.rd) + ", 0x7FF8000000000000");
    }
    std::string rnd() const { return kRnd[d_.mod & 3]; }
    void fminmax(bool max, const char* t) const;
    void setp(const char* cmp, const char* t) const;
    void f2i(const char* ft) const;
    // A bit field's position and length into %v0, %v1: bits 7:0 only, as
    // PTX defines them (the GPU's 64-bit bfe/bfi read more and differ
    // from PTX beyond 255: found by the self-test on the H200).
    void pos_len(const std::string& pos, const std::string& len) const {
        l("cvt.u32.u64 %v0, " + pos);
        l("and.b32 %v0, %v0, 255");
        l("cvt.u32.u64 %v1, " + len);
        l("and.b32 %v1, %v1, 255");
    }

    const vgpu_dinsn& d_;
    const LineFn& line_;
};

// IEEE minNum/maxNum as vgpu_f32_min/max and vgpu_f64_min/max: a NaN
// loses to a number; among equal values (+0 and -0 too) the first operand.
void Alu::fminmax(bool max, const char* t) const {
    bool f = t[1] == '3';
    std::string a = f ? "%g0" : "%d0", b = f ? "%g1" : "%d1";
    std::string ab = f ? "%v0" : "%x0", bb = f ? "%v1" : "%x1", res = f ? "%v2" : "%x2";
    std::string bt = f ? "b32" : "b64";
    if (f) {
        fin(0, d_.ra);
        fin(1, d_.rb);
    } else {
        din(0, d_.ra);
        din(1, d_.rb);
        l("mov.b64 %x0, %d0");
        l("mov.b64 %x1, %d1");
    }
    l(std::string("setp.lt.") + t + " %q1, " + (max ? a + ", " + b : b + ", " + a));
    l("selp." + bt + " " + res + ", " + bb + ", " + ab + ", %q1");
    l(std::string("testp.notanumber.") + t + " %q1, " + b);
    l("@%q1 mov." + bt + " " + res + ", " + ab);
    l(std::string("testp.notanumber.") + t + " %q1, " + a);
    l("@%q1 mov." + bt + " " + res + ", " + bb);
    if (f) {
        l("mov.b32 %g2, %v2");
        fout();
    } else {
        l("mov.b64 %d2, %x2");
        dout();
    }
}

// rd = 1 or 0; ordered compares are false with a NaN, nan is "unordered".
void Alu::setp(const char* cmp, const char* t) const {
    bool f = t[1] == '3';
    if (f) {
        fin(0, d_.ra);
        fin(1, d_.rb);
    } else {
        din(0, d_.ra);
        din(1, d_.rb);
    }
    l(std::string("setp.") + cmp + "." + t + " %q1, " + (f ? "%g0, %g1" : "%d0, %d1"));
    l("selp.u64 " + R(d_.rd) + ", 1, 0, %q1");
}

// Float to integer (class CVTI): round as the modifier says, to 64 bits
// saturating (PTX's cvt clamps), a NaN to 0 (PTX gives INT64_MIN for
// s64), then clamp to the width as vgpu_narrow_sat().
void Alu::f2i(const char* ft) const {
    bool sign = d_.op == VGPU_OP_F2I || d_.op == VGPU_OP_D2I;
    std::string src = ft[1] == '3' ? "%g0" : "%d0";
    std::string D = R(d_.rd);
    if (ft[1] == '3')
        fin(0, d_.ra);
    else
        din(0, d_.ra);
    l(std::string("cvt.") + kIrnd[d_.mod & 3] + (sign ? ".s64." : ".u64.") + ft + " " + D + ", " + src);
    l(std::string("testp.notanumber.") + ft + " %q0, " + src);
    l("@%q0 mov.b64 " + D + ", 0");
    unsigned bits = 64u >> (d_.mod >> 2);
    if (bits == 64)
        return;
    if (sign) {
        long long hi = (1LL << (bits - 1)) - 1;
        l("min.s64 " + D + ", " + D + ", " + std::to_string(hi));
        l("max.s64 " + D + ", " + D + ", " + std::to_string(-hi - 1));
    } else {
        l("min.u64 " + D + ", " + D + ", " + std::to_string((1ULL << bits) - 1));
    }
}

bool Alu::f32() {
    std::string D = R(d_.rd), A = R(d_.ra), r = rnd();
    auto bin = [&](const char* op) {  // no .ftz: subnormals kept; never contracted
        fin(0, d_.ra);
        fin(1, d_.rb);
        l(std::string(op) + "." + r + ".f32 %g2, %g0, %g1");
        fout();
    };
    switch (d_.op) {
    case VGPU_OP_FADD: bin("add"); return true;
    case VGPU_OP_FSUB: bin("sub"); return true;
    case VGPU_OP_FMUL: bin("mul"); return true;
    case VGPU_OP_FDIV: bin("div"); return true;
    case VGPU_OP_FMIN: fminmax(false, "f32"); return true;
    case VGPU_OP_FMAX: fminmax(true, "f32"); return true;
    case VGPU_OP_FMAD:  // rd = ra * rb + rd, rounded twice
        fin(0, d_.ra);
        fin(1, d_.rb);
        l("mul.rn.f32 %g2, %g0, %g1");
        fin(1, d_.rd);
        l("add.rn.f32 %g2, %g2, %g1");
        fout();
        return true;
    case VGPU_OP_FFMA:  // one rounding
        fin(0, d_.ra);
        fin(1, d_.rb);
        fin(2, d_.rc);
        l("fma." + r + ".f32 %g2, %g0, %g1, %g2");
        fout();
        return true;
    case VGPU_OP_FSQRT:
        fin(0, d_.ra);
        l("sqrt." + r + ".f32 %g2, %g0");
        fout();
        return true;
    case VGPU_OP_FRND:
        fin(0, d_.ra);
        l(std::string("cvt.") + kIrnd[d_.mod & 3] + ".f32.f32 %g2, %g0");
        fout();
        return true;
    case VGPU_OP_FNEG:
    case VGPU_OP_FABS:  // bit 31 only: a NaN keeps its payload
        l("cvt.u32.u64 %v0, " + A);
        l(d_.op == VGPU_OP_FNEG ? "xor.b32 %v0, %v0, 0x80000000" : "and.b32 %v0, %v0, 0x7FFFFFFF");
        l("cvt.u64.u32 " + D + ", %v0");
        return true;
    case VGPU_OP_I2F:
    case VGPU_OP_U2F:
        l("cvt." + r + ".f32." + (d_.op == VGPU_OP_I2F ? "s64" : "u64") + " %g2, " + A);
        l("mov.b32 %v2, %g2");
        l("cvt.u64.u32 " + D + ", %v2");
        return true;
    case VGPU_OP_F2I:
    case VGPU_OP_F2U: f2i("f32"); return true;
    case VGPU_OP_FSEQ: setp("eq", "f32"); return true;
    case VGPU_OP_FSLT: setp("lt", "f32"); return true;
    case VGPU_OP_FSLE: setp("le", "f32"); return true;
    case VGPU_OP_FSNAN: setp("nan", "f32"); return true;
    default: return false;
    }
}

bool Alu::f64() {
    std::string D = R(d_.rd), A = R(d_.ra), r = rnd();
    auto bin = [&](const char* op) {
        din(0, d_.ra);
        din(1, d_.rb);
        l(std::string(op) + "." + r + ".f64 %d2, %d0, %d1");
        dout();
    };
    switch (d_.op) {
    case VGPU_OP_DADD: bin("add"); return true;
    case VGPU_OP_DSUB: bin("sub"); return true;
    case VGPU_OP_DMUL: bin("mul"); return true;
    case VGPU_OP_DDIV: bin("div"); return true;
    case VGPU_OP_DFMA:
        din(0, d_.ra);
        din(1, d_.rb);
        din(2, d_.rc);
        l("fma." + r + ".f64 %d2, %d0, %d1, %d2");
        dout();
        return true;
    case VGPU_OP_DSQRT:
        din(0, d_.ra);
        l("sqrt." + r + ".f64 %d2, %d0");
        dout();
        return true;
    case VGPU_OP_DRND:
        din(0, d_.ra);
        l(std::string("cvt.") + kIrnd[d_.mod & 3] + ".f64.f64 %d2, %d0");
        dout();
        return true;
    case VGPU_OP_DMIN: fminmax(false, "f64"); return true;
    case VGPU_OP_DMAX: fminmax(true, "f64"); return true;
    case VGPU_OP_DNEG: l("xor.b64 " + D + ", " + A + ", 0x8000000000000000"); return true;
    case VGPU_OP_DABS: l("and.b64 " + D + ", " + A + ", 0x7FFFFFFFFFFFFFFF"); return true;
    case VGPU_OP_DSEQ: setp("eq", "f64"); return true;
    case VGPU_OP_DSLT: setp("lt", "f64"); return true;
    case VGPU_OP_DSLE: setp("le", "f64"); return true;
    case VGPU_OP_DSNAN: setp("nan", "f64"); return true;
    case VGPU_OP_F2D:  // exact
        fin(0, d_.ra);
        l("cvt.f64.f32 %d2, %g0");
        dout();
        return true;
    case VGPU_OP_D2F:
        din(0, d_.ra);
        l("cvt." + r + ".f32.f64 %g2, %d0");
        fout();
        return true;
    case VGPU_OP_I2D:
    case VGPU_OP_U2D:
        l("cvt." + r + ".f64." + (d_.op == VGPU_OP_I2D ? "s64" : "u64") + " %d2, " + A);
        l("mov.b64 " + D + ", %d2");
        return true;
    case VGPU_OP_D2I:
    case VGPU_OP_D2U: f2i("f64"); return true;
    default: return false;
    }
}

bool Alu::int2() {
    std::string D = R(d_.rd), A = R(d_.ra), B = R(d_.rb), C = R(d_.rc);
    bool w32 = d_.mod;
    switch (d_.op) {
    case VGPU_OP_MULHI: l("mul.hi.s64 " + D + ", " + A + ", " + B); return true;
    case VGPU_OP_MULHIU: l("mul.hi.u64 " + D + ", " + A + ", " + B); return true;
    case VGPU_OP_SELP:
        l("setp.ne.u64 %q1, " + C + ", 0");
        l("selp.b64 " + D + ", " + A + ", " + B + ", %q1");
        return true;
    case VGPU_OP_POPC:
    case VGPU_OP_CLZ:
        l(std::string(d_.op == VGPU_OP_POPC ? "popc" : "clz") + ".b64 %v0, " + A);
        l("cvt.u64.u32 " + D + ", %v0");
        return true;
    case VGPU_OP_BREV: l("brev.b64 " + D + ", " + A); return true;
    case VGPU_OP_PRMT:
        l("cvt.u32.u64 %v0, " + A);
        l("cvt.u32.u64 %v1, " + B);
        l("cvt.u32.u64 %v2, " + C);
        l(std::string("prmt.b32") + kPrmt[d_.mod] + " %v3, %v0, %v1, %v2");
        l("cvt.u64.u32 " + D + ", %v3");
        return true;
    case VGPU_OP_BFE:
    case VGPU_OP_BFEU: {
        bool s = d_.op == VGPU_OP_BFE;
        pos_len(B, C);
        if (!w32) {
            l(std::string("bfe.") + (s ? "s64 " : "u64 ") + D + ", " + A + ", %v0, %v1");
            return true;
        }
        l("cvt.u32.u64 %v2, " + A);
        l(std::string("bfe.") + (s ? "s32" : "u32") + " %v3, %v2, %v0, %v1");
        l(std::string("cvt.") + (s ? "s64.s32 " : "u64.u32 ") + D + ", %v3");
        return true;
    }
    case VGPU_OP_BFI:
        pos_len(C, R(d_.re));
        if (!w32) {
            l("bfi.b64 " + D + ", " + A + ", " + B + ", %v0, %v1");
            return true;
        }
        l("cvt.u32.u64 %v2, " + A);
        l("cvt.u32.u64 %v3, " + B);
        l("bfi.b32 %v3, %v2, %v3, %v0, %v1");
        l("cvt.u64.u32 " + D + ", %v3");
        return true;
    case VGPU_OP_SEXT:
    case VGPU_OP_ZEXT: {
        std::string sh = std::to_string(64 - d_.imm);
        l("shl.b64 %x0, " + A + ", " + sh);
        l(std::string(d_.op == VGPU_OP_SEXT ? "shr.s64 " : "shr.u64 ") + D + ", %x0, " + sh);
        return true;
    }
    default: return false;
    }
}

}  // namespace

const char* const kAluRegs =
    "\t.reg .b32 %v<4>;\n\t.reg .b64 %x<3>;\n\t.reg .f32 %g<3>;\n\t.reg .f64 %d<3>;\n"
    "\t.reg .pred %q<2>;\n";

bool emit_alu(const vgpu_dinsn& d, const LineFn& line) {
    Alu a(d, line);
    return a.f32() || a.f64() || a.int2();
}

}  // namespace vgpu::engine
