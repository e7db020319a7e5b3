// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower_mem.cpp - see ptx_lower.hpp: loads, stores, atomics and the
// parameter space.
//
// State spaces: .global and .const are global memory (the data segment
// holds the module's variables); .shared is the block's shared memory,
// addressed from 0; a generic address is a global address, or a shared
// one plus 2^48 (cvta.shared), and a generic access tests which.  .param
// of a kernel is the parameter buffer (ptx_compile.hpp, ParamMode); the
// .param variables of call sequences exist only at compile time, since
// calls are inlined: each (variable, offset) is a virtual register.
#include <functional>
#include <set>

#include "ptx_lower.hpp"

extern "C" {
#include "vgpu_isa.h"
}

namespace gpuvm::ptx {
namespace {


const std::set<std::string> kIgnored = {"ca", "cg", "cs", "lu", "cv", "nc", "wb", "wt", "volatile", "relaxed",
                                        "weak", "gpu", "sys", "cta", "L1::evict_normal", "L1::evict_last",
                                        "L1::evict_first", "L1::evict_unchanged", "L1::no_allocate",
                                        "L2::64B", "L2::128B", "L2::256B", "L2::cache_hint", "L2::evict_normal",
                                        "L2::evict_last", "L2::evict_first", "unified", "uni", "sync",
                                        "aligned", "noftz"};
const std::set<std::string> kSpaces = {"global", "shared", "shared::cta", "local", "param", "const", "param::entry",
                                       "param::func"};

uint16_t load_op(bool shared, Ty t) {
    switch (t.bits) {
    case 8: return shared ? (t.sgn() ? VGPU_OP_LDS_S8 : VGPU_OP_LDS_U8) : (t.sgn() ? VGPU_OP_LD_S8 : VGPU_OP_LD_U8);
    case 16:
        return shared ? (t.sgn() ? VGPU_OP_LDS_S16 : VGPU_OP_LDS_U16) : (t.sgn() ? VGPU_OP_LD_S16 : VGPU_OP_LD_U16);
    case 32:
        return shared ? (t.sgn() ? VGPU_OP_LDS_S32 : VGPU_OP_LDS_U32) : (t.sgn() ? VGPU_OP_LD_S32 : VGPU_OP_LD_U32);
    default: return shared ? VGPU_OP_LDS_U64 : VGPU_OP_LD_U64;
    }
}

uint16_t store_op(bool shared, int bits) {
    switch (bits) {
    case 8: return shared ? VGPU_OP_STS_U8 : VGPU_OP_ST_U8;
    case 16: return shared ? VGPU_OP_STS_U16 : VGPU_OP_ST_U16;
    case 32: return shared ? VGPU_OP_STS_U32 : VGPU_OP_ST_U32;
    default: return shared ? VGPU_OP_STS_U64 : VGPU_OP_ST_U64;
    }
}

}  // namespace

// A load of @t into @d: a signed type sign-extends to the register's
// width (and not beyond: registers stay zero-extended).
void Lowerer::load_into(int d, bool shared, Ty t, int base, int64_t off) {
    if (t.sgn() && width(d) <= t.bits)
        t.kind = 'u';
    emit(load_op(shared, t), d, base, -1, off);
    if (t.sgn())
        canon(d, 64);
}

// The base register and offset of an address operand in @space.
int Lowerer::address(const Operand& a, const std::string& space, int64_t& off) {
    if (a.kind != Operand::Kind::Addr || !a.elems.empty())
        fail("expected an address");
    off = a.imm;
    int base;
    int64_t local = -1;
    for (size_t i = scopes_.size(); i-- > frames_.back().scope_base && !a.name.empty() && local < 0;) {
        auto l = scopes_[i].locals.find(a.name);
        if (l != scopes_[i].locals.end())
            local = l->second;
    }
    if (a.name.empty()) {
        base = li(0);
    } else if (local >= 0) {
        if (space == "local")
            base = local_var(local, 64);
        else if (space.empty())
            base = local_var(local + static_cast<int64_t>(kLocalWindow), 64);
        else
            fail("a local variable accessed as ." + space);
    } else if (a.name[0] == '%' || !layout_.vars.count(a.name)) {
        Operand r;
        r.kind = Operand::Kind::Reg;
        r.name = a.name;
        base = src(r, {'u', 64});
    } else {
        const ModuleLayout::Var& v = layout_.vars.at(a.name);
        if (v.space == "shared") {
            uint64_t so = shared_off_.at(a.name);
            if (space == "shared") {
                base = li(0);
                off += static_cast<int64_t>(so);
            } else if (space.empty()) {
                base = li(static_cast<int64_t>(so + kSharedWindow));
            } else {
                fail("a shared variable accessed as ." + space);
            }
        } else {
            if (space == "shared")
                fail("a ." + v.space + " variable accessed as .shared");
            base = emit(ir::kAddr, vreg(64), -1, -1, static_cast<int64_t>(v.offset));
        }
    }
    if (off < INT32_MIN + 64 || off > INT32_MAX - 64) {
        int o = li(off);
        base = emit(VGPU_OP_ADD, vreg(64), base, o);
        off = 0;
    }
    return base;
}

// The low @bits bits of @v (a generic address without its window).
int Lowerer::low_bits(int v, int bits) {
    int x = emit(VGPU_OP_SHLI, vreg(64), v, -1, 64 - bits);
    return emit(VGPU_OP_SHRI, vreg(64), x, -1, 64 - bits);
}

// Emits @one for each space a generic address @base can be in, behind a
// test of its window: global below 2^47, local from 2^47 (when the
// kernel has local memory; its slice is shared memory, or global memory
// in the global_local_ variant: a local generic address is always the
// window plus the offset in the thread's slice), shared from
// 2^48.  @one(shared, addr) gets the address in that space.
void Lowerer::generic(int base, const std::function<void(bool, int)>& one) {
    int sh = k_.nlabels++, end = k_.nlabels++;
    int hi = emit(VGPU_OP_SHRI, vreg(64), base, -1, kLocalWindowShift);
    branch(VGPU_OP_BNZ, hi, sh);
    one(false, base);
    branch(VGPU_OP_BRA, -1, end);
    emit_label(sh);
    if (uses_local_) {
        int shared = k_.nlabels++;
        int is_shared = emit(VGPU_OP_SHRI, vreg(64), hi, -1, 1);
        branch(VGPU_OP_BNZ, is_shared, shared);
        one(!global_local_, local_addr(low_bits(base, kLocalWindowShift)));
        branch(VGPU_OP_BRA, -1, end);
        emit_label(shared);
    }
    one(true, low_bits(base, kSharedWindowShift));
    emit_label(end);
}

// One load into or store from @v at a generic address.
void Lowerer::generic_access(bool load, int base, int64_t off, Ty t, int v) {
    generic(base, [&](bool shared, int addr) { access_one(load, shared, addr, off, t, v); });
}

void Lowerer::access_one(bool load, bool shared, int base, int64_t off, Ty t, int v) {
    if (load)
        load_into(v, shared, t, base, off);
    else
        emit(store_op(shared, t.bits), -1, base, v, off);
}

void Lowerer::memory(const Instr& in) {
    bool load = in.op != "st";
    std::string space;
    int n = 1;
    bool acquire = false, release = false;
    bool ok;
    for (const auto& m : in.mods) {
        if (kSpaces.count(m))
            space = m == "shared::cta" ? "shared" : m.rfind("param", 0) == 0 ? "param" : m;
        else if (m == "v2" || m == "v4" || m == "v8")
            n = m[1] - '0';
        else if (m == "acquire")
            acquire = true;
        else if (m == "release")
            release = true;
        else if (!kIgnored.count(m) && (type_of(m, ok), !ok))
            fail("the modifier ." + m + " is not supported");
    }
    Ty t = last_type(in);
    if (in.ops.size() != 2)
        fail("expected two operands");
    const Operand& val = load ? in.ops[0] : in.ops[1];
    const Operand& addr = load ? in.ops[1] : in.ops[0];
    if ((n > 1) != (val.kind == Operand::Kind::Vec) || (n > 1 && static_cast<int>(val.elems.size()) != n))
        fail("the vector operand does not match the instruction");
    if (release)
        emit(VGPU_OP_FENCE, -1);
    for (int i = 0; i < n; i++) {
        const Operand& v = n > 1 ? val.elems[i] : val;
        int64_t eoff = static_cast<int64_t>(i) * (t.bits / 8);
        if (space == "param") {
            Operand a = addr;
            a.imm += eoff;
            param_access(in, load, a, t, v);
            continue;
        }
        if (load && v.kind == Operand::Kind::Sink)
            continue;
        int64_t off;
        int base = address(addr, space == "const" || space == "global" ? "global" : space, off);
        off += eoff;
        if (space.empty()) {
            generic_access(load, base, off, t, load ? dst(v) : src(v, t));
            continue;
        }
        bool shared = space == "shared" || (space == "local" && !global_local_);
        if (space == "local")
            base = local_addr(base);
        if (load) {
            load_into(dst(v), shared, t, base, off);
        } else {
            emit(store_op(shared, t.bits), -1, base, src(v, t), off);
        }
    }
    if (acquire)
        emit(VGPU_OP_FENCE, -1);
}

// ld.param / st.param: the kernel's parameter buffer, or a call
// sequence's .param variable.
void Lowerer::param_access(const Instr& in, bool load, const Operand& addr, Ty t, const Operand& val) {
    (void)in;
    if (addr.kind != Operand::Kind::Addr || addr.name.empty())
        fail("a .param access needs a parameter's name");
    int bytes = t.bits / 8;
    for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
        auto pv = scopes_[i].params.find(addr.name);
        if (pv == scopes_[i].params.end())
            continue;
        auto& slots = pv->second->slots;
        auto it = slots.find(addr.imm);
        if (!load) {
            for (const auto& [o, s] : slots)
                if (o != addr.imm && o < addr.imm + bytes && addr.imm < o + s.second)
                    fail("overlapping stores to .param '" + addr.name + "' are not supported");
            if (it == slots.end())
                it = slots.emplace(addr.imm, std::make_pair(vreg(t.bits), bytes)).first;
            else if (it->second.second != bytes)
                fail("stores of two sizes to .param '" + addr.name + "' are not supported");
            move(it->second.first, src(val, t));
            return;
        }
        if (it == slots.end() || it->second.second < bytes)
            fail("reads .param '" + addr.name + "' at offset " + std::to_string(addr.imm) +
                 " where nothing of that size was stored");
        if (val.kind == Operand::Kind::Sink)
            return;
        int d = dst(val);
        int s = it->second.first;
        if (t.sgn() && width(d) > t.bits) {
            emit(VGPU_OP_SEXT, d, s, -1, t.bits);
            canon(d, 64);
        } else {
            move(d, s);
            canon(d, it->second.second * 8);
            if (bytes < it->second.second && width(d) > t.bits)
                emit(VGPU_OP_ZEXT, d, d, -1, t.bits);
        }
        return;
    }
    auto kp = kparams_.find(addr.name);
    if (frames_.size() == 1 && kp == kparams_.end() && info_->param_mode == ParamMode::Memory && load) {
        // Through an address the kernel took of one of its parameters.
        if (val.kind == Operand::Kind::Sink)
            return;
        int64_t off;
        int base = address(addr, "global", off);
        load_into(dst(val), false, t, base, off);
        return;
    }
    if (frames_.size() != 1 || kp == kparams_.end())
        fail("'" + addr.name + "' is not a parameter here");
    if (!load)
        fail("stores to a kernel's parameters are not supported");
    if (addr.imm < 0 || addr.imm + bytes > kp->second.size)
        fail("reads outside parameter '" + addr.name + "'");
    uint32_t off = kp->second.offset + static_cast<uint32_t>(addr.imm);
    if (val.kind == Operand::Kind::Sink)
        return;
    int d = dst(val);
    if (info_->param_mode == ParamMode::Memory) {
        load_into(d, false, t, emit(VGPU_OP_LDP, vreg(64), -1, -1, 0), off);
        return;
    }
    if (off % 8 + bytes > 8)
        fail("a misaligned parameter read");
    int v = emit(VGPU_OP_LDP, off % 8 ? vreg(64) : d, -1, -1, off / 8);
    if (off % 8)
        emit(VGPU_OP_SHRI, d, v, -1, (off % 8) * 8);
    if (t.bits < 64) {
        if (t.sgn() && width(d) > t.bits) {
            emit(VGPU_OP_SEXT, d, d, -1, t.bits);
            canon(d, 64);
        } else {
            emit(VGPU_OP_ZEXT, d, d, -1, t.bits);
        }
    }
}

void Lowerer::atomic(const Instr& in) {
    bool red = in.op == "red";
    std::string space, op;
    bool fence = false;
    static const std::set<std::string> ops = {"add", "min", "max", "and", "or", "xor", "exch", "cas", "inc", "dec"};
    bool ok;
    for (const auto& m : in.mods) {
        if (kSpaces.count(m))
            space = m == "shared::cta" ? "shared" : m;
        else if (ops.count(m))
            op = m;
        else if (m == "acquire" || m == "release" || m == "acq_rel" || m == "sc")
            fence = true;
        else if (!kIgnored.count(m) && (type_of(m, ok), !ok))
            fail("the modifier ." + m + " is not supported");
    }
    Ty t = last_type(in);
    if (space != "" && space != "global" && space != "shared")
        fail("atomics on ." + space + " are not supported");
    size_t want = (red ? 2 : 3) + (op == "cas");
    if (op.empty() || in.ops.size() != want)
        fail("unexpected operands");
    const Operand& addr = in.ops[red ? 0 : 1];
    int d = red ? vreg(t.bits) : dst(in.ops[0]);
    int b = src(in.ops[red ? 1 : 2], t);

    auto pick = [&](bool shared) -> uint16_t {
        bool w64 = t.bits == 64;
        if (t.bits != 32 && t.bits != 64)
            return 0;
        if (op == "add") {
            if (t.flt())
                return w64 ? (shared ? VGPU_OP_ATOMS_DADD : VGPU_OP_ATOM_DADD)
                           : (shared ? VGPU_OP_ATOMS_FADD : VGPU_OP_ATOM_FADD);
            return w64 ? (shared ? VGPU_OP_ATOMS_ADD64 : VGPU_OP_ATOM_ADD64)
                       : (shared ? VGPU_OP_ATOMS_ADD : VGPU_OP_ATOM_ADD);
        }
        if (t.flt())
            return 0;
        if (op == "min" || op == "max") {
            bool mn = op == "min";
            if (t.sgn())
                return w64 ? (shared ? (mn ? VGPU_OP_ATOMS_MIN_S64 : VGPU_OP_ATOMS_MAX_S64)
                                     : (mn ? VGPU_OP_ATOM_MIN_S64 : VGPU_OP_ATOM_MAX_S64))
                           : (shared ? (mn ? VGPU_OP_ATOMS_MIN_S32 : VGPU_OP_ATOMS_MAX_S32)
                                     : (mn ? VGPU_OP_ATOM_MIN_S32 : VGPU_OP_ATOM_MAX_S32));
            return w64 ? (shared ? (mn ? VGPU_OP_ATOMS_MIN64 : VGPU_OP_ATOMS_MAX64)
                                 : (mn ? VGPU_OP_ATOM_MIN64 : VGPU_OP_ATOM_MAX64))
                       : (shared ? (mn ? VGPU_OP_ATOMS_MIN : VGPU_OP_ATOMS_MAX)
                                 : (mn ? VGPU_OP_ATOM_MIN : VGPU_OP_ATOM_MAX));
        }
        if (op == "and")
            return w64 ? (shared ? VGPU_OP_ATOMS_AND64 : VGPU_OP_ATOM_AND64) : (shared ? VGPU_OP_ATOMS_AND : VGPU_OP_ATOM_AND);
        if (op == "or")
            return w64 ? (shared ? VGPU_OP_ATOMS_OR64 : VGPU_OP_ATOM_OR64) : (shared ? VGPU_OP_ATOMS_OR : VGPU_OP_ATOM_OR);
        if (op == "xor")
            return w64 ? (shared ? VGPU_OP_ATOMS_XOR64 : VGPU_OP_ATOM_XOR64) : (shared ? VGPU_OP_ATOMS_XOR : VGPU_OP_ATOM_XOR);
        if (op == "exch")
            return w64 ? (shared ? VGPU_OP_ATOMS_XCHG64 : VGPU_OP_ATOM_XCHG64)
                       : (shared ? VGPU_OP_ATOMS_XCHG : VGPU_OP_ATOM_XCHG);
        if (op == "cas")
            return w64 ? (shared ? VGPU_OP_ATOMS_CAS64 : VGPU_OP_ATOM_CAS64) : (shared ? VGPU_OP_ATOMS_CAS : VGPU_OP_ATOM_CAS);
        if ((op == "inc" || op == "dec") && !w64)
            return op == "inc" ? (shared ? VGPU_OP_ATOMS_INC : VGPU_OP_ATOM_INC) : (shared ? VGPU_OP_ATOMS_DEC : VGPU_OP_ATOM_DEC);
        return 0;
    };
    if (!pick(false))
        fail("this atomic operation and type are not supported");
    int cas_new = op == "cas" ? src(in.ops[red ? 2 : 3], t) : -1;
    if (fence)
        emit(VGPU_OP_FENCE, -1);
    int64_t off;
    int base = address(addr, space == "shared" ? "shared" : space.empty() ? "" : "global", off);
    // The ISA's cas compares with rd and stores rb.
    auto one = [&](bool shared, int a) {
        int r = d;
        if (op == "cas") {
            r = vreg(t.bits);
            move(r, b);
            emit(pick(shared), r, a, cas_new, off);
        } else {
            emit(pick(shared), r, a, b, off);
        }
        if (t.sgn() && t.bits == 32)
            canon(r, 64);
        move(d, r);
    };
    if (!space.empty()) {
        one(space == "shared", base);
    } else {
        generic(base, one);
    }
    if (fence)
        emit(VGPU_OP_FENCE, -1);
}

}  // namespace gpuvm::ptx
