// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower.cpp - see ptx_lower.hpp: the frame of a kernel, registers and
// operands, memory, control flow and the inlining of calls.
#include "ptx_lower.hpp"

#include <algorithm>
#include <set>

extern "C" {
#include "vgpu_isa.h"
}

namespace gpuvm::ptx {
namespace {

std::string written(const Instr& in) {
    std::string s = in.op;
    for (const auto& m : in.mods)
        s += "." + m;
    return s;
}

uint64_t align_up(uint64_t v, uint64_t a) { return a ? (v + a - 1) / a * a : v; }

}  // namespace

Lowerer::Lowerer(const ModuleLayout& layout, const Function& kernel, bool with_local, bool global_local)
    : layout_(layout), kernel_(kernel), uses_local_(with_local), global_local_(global_local) {}

void Lowerer::fail(const std::string& what) const {
    Pos p = cur_ ? cur_->pos : kernel_.pos;
    throw CompileError(kernel_.name, p, cur_ ? "'" + written(*cur_) + "': " + what : what);
}

Ty Lowerer::type_of(const std::string& m, bool& ok) {
    ok = true;
    if (m == "pred")
        return {'p', 1};
    if (m.size() >= 2 && (m[0] == 'u' || m[0] == 's' || m[0] == 'b' || m[0] == 'f')) {
        std::string n = m.substr(1);
        // 16-bit floats: HalfTy (ptx_lower_f16.cpp)
        if (n == "32" || n == "64" || (m[0] != 'f' && (n == "8" || n == "16")))
            return {m[0], std::stoi(n)};
    }
    ok = false;
    return {};
}

Ty Lowerer::last_type(const Instr& in) const {
    for (auto it = in.mods.rbegin(); it != in.mods.rend(); ++it) {
        bool ok;
        Ty t = type_of(*it, ok);
        if (ok)
            return t;
        if (*it == "f16" || *it == "f16x2" || *it == "bf16" || *it == "bf16x2" || *it == "tf32" ||
            it->rfind("e4m3", 0) == 0 || it->rfind("e5m2", 0) == 0 || *it == "b128")
            fail("the type ." + *it + " is not supported yet");
    }
    fail("no type");
}

bool Lowerer::has(const Instr& in, const std::string& mod) const {
    return std::find(in.mods.begin(), in.mods.end(), mod) != in.mods.end();
}

int Lowerer::width_of_decl(const std::string& type) const {
    if (type == "f16" || type == "bf16")  // 16-bit floats: ptx_lower_f16.cpp
        return 16;
    if (type == "f16x2" || type == "bf16x2")
        return 32;
    bool ok;
    Ty t = type_of(type, ok);
    if (!ok)
        fail("registers of type ." + type + " are not supported yet");
    return t.bits;
}

// ---- the kernel ------------------------------------------------------------

namespace {
void collect_names(const Body& b, std::set<std::string>& names, std::set<std::string>& calls);

// Whether @name is an operand of an instruction other than as the base
// of an address (its address is taken).
bool address_taken(const Body& b, const std::string& name) {
    for (const auto& s : b) {
        if (const auto* in = std::get_if<Instr>(&s.v)) {
            for (const auto& o : in->ops)
                if (o.kind == Operand::Kind::Symbol && o.name == name)
                    return true;
        } else if (const auto* blk = std::get_if<Block>(&s.v)) {
            if (address_taken(blk->body, name))
                return true;
        }
    }
    return false;
}
}  // namespace

void Lowerer::layout_params() {
    uint32_t off = 0;
    for (const VarDecl& p : kernel_.params) {
        bool ok;
        Ty t = type_of(p.type, ok);
        if (!ok)
            throw CompileError(kernel_.name, p.pos, "parameter '" + p.name + "' of type ." + p.type +
                                                        " is not supported yet");
        uint64_t n = 1;
        for (uint64_t d : p.dims)
            if ((n *= d ? d : 1) > 32764)
                throw CompileError(kernel_.name, p.pos, "parameter '" + p.name + "' is larger than CUDA allows");
        uint64_t size = n * (t.bits / 8);
        uint32_t align = p.align ? p.align : t.bits / 8;
        if (size > 32764 || align > 4096 || (align & (align - 1)))
            throw CompileError(kernel_.name, p.pos, "parameter '" + p.name + "' is larger than CUDA allows");
        off = static_cast<uint32_t>(align_up(off, align));
        ParamInfo pi{off, static_cast<uint32_t>(size), align};
        info_->params.push_back(pi);
        kparams_[p.name] = pi;
        off += static_cast<uint32_t>(size);
    }
    if (off > 32764)
        throw CompileError(kernel_.name, kernel_.pos, "the parameters take " + std::to_string(off) +
                                                          " bytes, more than CUDA's 32764");
    if (uses_printf_) {
        // The hidden parameter: the printf buffer's address.
        off = static_cast<uint32_t>(align_up(off, 8));
        info_->printf_param_offset = off;
        info_->uses_printf = true;
        off += 8;
    }
    if (uses_local_) {
        // The hidden parameter: where the block's local slices start.
        off = static_cast<uint32_t>(align_up(off, 8));
        info_->local_param_offset = off;
        off += 8;
    }
    info_->param_size = off;
    info_->param_mode = off <= 8 * VGPU_NUM_PARAMS ? ParamMode::Slots : ParamMode::Memory;
    // A kernel that takes a parameter's address (mov %rd, param; then
    // ld.param [%rd+N]: nvcc does for large by-value structures) reads
    // the buffer through memory.
    std::set<std::string> names, calls;
    collect_names(kernel_.body, names, calls);
    for (const VarDecl& p : kernel_.params)
        if (names.count(p.name) && address_taken(kernel_.body, p.name))
            info_->param_mode = ParamMode::Memory;
}

namespace {
void collect_names(const Body& b, std::set<std::string>& names, std::set<std::string>& calls) {
    for (const auto& s : b) {
        if (const auto* v = std::get_if<VarDecl>(&s.v)) {
            if (v->space == "local")
                names.insert(" .local");  // not a PTX name: marks local memory
        } else if (const auto* in = std::get_if<Instr>(&s.v)) {
            std::vector<const Operand*> todo;
            for (const auto& o : in->ops)
                todo.push_back(&o);
            while (!todo.empty()) {
                const Operand* o = todo.back();
                todo.pop_back();
                if (!o->name.empty())
                    names.insert(o->name);
                for (const auto& e : o->elems)
                    todo.push_back(&e);
            }
            if (in->op == "call" && !in->ops.empty())
                calls.insert(in->ops[0].name);
            if ((in->op == "bar" || in->op == "barrier") &&
                std::find(in->mods.begin(), in->mods.end(), "red") != in->mods.end())
                names.insert(" bar.red");
        } else if (const auto* blk = std::get_if<Block>(&s.v)) {
            collect_names(blk->body, names, calls);
        }
    }
}
}  // namespace

static_assert(kProgramShared + 1024 <= VGPU_MAX_SHARED, "the compiler's own shared bytes must fit");

void Lowerer::layout_shared() {
    // The shared variables the kernel and the functions it calls name.
    std::set<std::string> names, calls, seen;
    collect_names(kernel_.body, names, calls);
    while (!calls.empty()) {
        std::string f = *calls.begin();
        calls.erase(calls.begin());
        if (!seen.insert(f).second)
            continue;
        auto it = layout_.functions.find(f);
        if (it != layout_.functions.end() && it->second->has_body)
            collect_names(it->second->body, names, calls);
    }
    if (names.count(" .local"))
        uses_local_ = true;
    if (reaches_recursion(seen))  // a call stack in local memory (ptx_lower_call.cpp)
        uses_local_ = has_stack_ = true;
    if (seen.count("vprintf") || seen.count("__assertfail"))
        uses_printf_ = true;
    uint64_t off = 0;
    uint32_t dyn_align = 16;
    bool dyn = false;
    for (const auto& [name, v] : layout_.vars) {
        if (v.space != "shared" || !names.count(name))
            continue;
        if (v.dynamic) {
            dyn = true;
            dyn_align = std::max(dyn_align, v.align);
            continue;
        }
        off = align_up(off, v.align);
        shared_off_[name] = static_cast<uint32_t>(off);
        off += v.size;
    }
    if (off > kProgramShared)
        throw CompileError(kernel_.name, kernel_.pos, "uses " + std::to_string(off) +
                                                          " bytes of shared memory, more than " +
                                                          std::to_string(kProgramShared));
    uint64_t own = off;
    if (names.count(" bar.red")) {  // three words that bar.red rotates through, the compiler's
        off = align_up(off, 4);
        red_off_ = static_cast<int>(off);
        off += 12;
    }
    info_->static_shared = static_cast<uint32_t>(off);
    info_->program_shared = static_cast<uint32_t>(own);
    info_->dynamic_shared_offset = static_cast<uint32_t>(align_up(off, dyn_align));
    // Where dynamic memory starts, later than it would for the program
    // alone (often 0: the words fit in the alignment's padding).
    info_->reserved_shared = info_->dynamic_shared_offset - static_cast<uint32_t>(align_up(own, dyn_align));
    if (info_->reserved_shared > VGPU_MAX_SHARED - kProgramShared)  // dynamic memory aligned beyond 1 KiB
        throw CompileError(kernel_.name, kernel_.pos,
                           "bar.red (__syncthreads_count/_and/_or) beside dynamic shared memory aligned to " +
                               std::to_string(dyn_align) + " bytes is not supported (at most 1024)");
    if (dyn)
        for (const auto& [name, v] : layout_.vars)
            if (v.space == "shared" && v.dynamic)
                shared_off_[name] = info_->dynamic_shared_offset;
}

ir::Kernel Lowerer::run(KernelInfo& info) {
    info_ = &info;
    info.name = kernel_.name;
    for (const auto& [k, v] : kernel_.perf)
        if (k == "maxntid")
            for (size_t i = 0; i < v.size() && i < 3; i++)
                info.maxntid[i] = static_cast<uint32_t>(v[i]);
    layout_shared();
    layout_params();
    frames_.push_back({&kernel_, {}, -1, 0});
    scopes_.emplace_back();
    if (uses_local_)
        lbase_ = vreg(64);
    if (has_stack_)
        sp_ = vreg(64);
    if (red_off_ >= 0) {
        red_round_ = vreg(64);
        emit(ir::kLi64, red_round_, -1, -1, 0);
    }
    body(kernel_.body);
    cur_ = nullptr;
    emit(VGPU_OP_EXIT, -1);
    lower_subroutines();
    if (uses_local_)
        local_prologue();
    if (has_stack_)
        expand_calls();
    k_.local_base = lbase_;
    k_.local_global = uses_local_ && global_local_;
    return std::move(k_);
}

void Lowerer::body(const Body& b) {
    for (const auto& s : b) {
        if (const auto* in = std::get_if<Instr>(&s.v)) {
            instr(*in);
        } else if (const auto* v = std::get_if<VarDecl>(&s.v)) {
            declare(*v);
        } else if (const auto* l = std::get_if<Label>(&s.v)) {
            emit_label(label(l->name));
        } else if (const auto* blk = std::get_if<Block>(&s.v)) {
            scopes_.emplace_back();
            body(blk->body);
            scopes_.pop_back();
        }
    }
}

void Lowerer::declare(const VarDecl& v) {
    Scope& s = scopes_.back();
    if (v.space == "reg") {
        if (v.vec)
            throw CompileError(kernel_.name, v.pos, "vector registers are not supported yet");
        int w = width_of_decl(v.type);
        if (v.range)
            s.ranges[v.name] = {*v.range, w};
        else
            s.widths[v.name] = w;
    } else if (v.space == "param") {
        s.params[v.name] = std::make_shared<ParamVar>();
    } else if ((v.space == "shared" || v.space == "global" || v.space == "const") && layout_.vars.count(v.name)) {
        // A demoted variable: laid out with the module's (ptx_compile.cpp).
    } else if (v.space == "local") {
        bool ok;
        Ty t = type_of(v.type, ok);
        if (!ok)
            throw CompileError(kernel_.name, v.pos, ".local '" + v.name + "' of type ." + v.type +
                                                        " is not supported yet");
        uint64_t n = std::max(1u, v.vec);
        for (uint64_t d : v.dims)
            if ((n *= d ? d : 1) > VGPU_MAX_SHARED)
                throw CompileError(kernel_.name, v.pos, ".local '" + v.name + "' does not fit in local memory");
        uint64_t size = n * std::max(1, t.bits / 8);
        uint32_t align = std::max<uint32_t>(v.align ? v.align : t.bits / 8, 1);
        if (frame_local(v, size, align))  // a recursive function's: on the call stack
            return;
        uint64_t off = align_up(local_size_, align);
        if (off + size > VGPU_MAX_SHARED)
            throw CompileError(kernel_.name, v.pos, ".local '" + v.name +
                                                        "' does not fit in local memory (a slice of the block's "
                                                        "shared memory)");
        s.locals[v.name] = static_cast<uint32_t>(off);
        local_size_ = static_cast<uint32_t>(off + size);
        local_align_ = std::max(local_align_, align);
    } else {
        throw CompileError(kernel_.name, v.pos, "." + v.space + " variables inside a function ('" + v.name +
                                                    "') are not supported yet");
    }
}

int Lowerer::label(const std::string& name) {
    auto& m = frames_.back().labels;
    auto it = m.find(name);
    if (it != m.end())
        return it->second;
    int l = k_.nlabels++;
    m[name] = l;
    return l;
}

int Lowerer::vreg(int w) {
    vwidth_.push_back(w);
    return k_.nvregs++;
}

int Lowerer::vreg_of(const std::string& name) {
    for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
        Scope& s = scopes_[i];
        auto it = s.regs.find(name);
        if (it != s.regs.end())
            return it->second;
        auto w = s.widths.find(name);
        if (w != s.widths.end())
            return s.regs[name] = vreg(w->second);
        size_t e = name.size();
        while (e > 0 && name[e - 1] >= '0' && name[e - 1] <= '9')
            e--;
        if (e < name.size() && e > 0) {
            auto r = s.ranges.find(name.substr(0, e));
            if (r != s.ranges.end() && name.size() - e < 10 && std::stoull(name.substr(e)) < r->second.first)
                return s.regs[name] = vreg(r->second.second);
        }
    }
    fail("'" + name + "' is not a register of this function");
}

int Lowerer::emit(uint16_t op, int d, int a, int b, int64_t imm, int c, int e) {
    if (++budget_ > kMaxCodeWords)
        fail("the kernel's code would exceed " + std::to_string(kMaxCodeWords) + " instructions");
    ir::Insn in;
    in.op = op;
    in.d = d;
    in.a = a;
    in.b = b;
    in.c = c;
    in.e = e;
    in.imm = imm;
    k_.code.push_back(in);
    return d;
}

void Lowerer::emit_label(int l) {
    ir::Insn in;
    in.op = ir::kLabel;
    in.label = l;
    k_.code.push_back(in);
}

void Lowerer::branch(uint16_t op, int cond, int l) {
    emit(op, -1, cond);
    k_.code.back().label = l;
}

int Lowerer::li(int64_t v, int w) { return emit(ir::kLi64, vreg(w), -1, -1, v); }

void Lowerer::move(int d, int s) {
    if (d != s)
        emit(VGPU_OP_MOV, d, s);
}

void Lowerer::canon(int v, int bits_valid) {
    int w = width(v);
    if (w >= 64 || bits_valid <= w)
        return;
    if (w == 1)
        emit(VGPU_OP_ANDI, v, v, -1, 1);
    else
        emit(VGPU_OP_ZEXT, v, v, -1, w);
}

int Lowerer::special(const std::string& name) {
    static const std::map<std::string, int> sregs = {
        {"%tid.x", VGPU_SR_TID_X},       {"%tid.y", VGPU_SR_TID_Y},       {"%tid.z", VGPU_SR_TID_Z},
        {"%ntid.x", VGPU_SR_NTID_X},     {"%ntid.y", VGPU_SR_NTID_Y},     {"%ntid.z", VGPU_SR_NTID_Z},
        {"%ctaid.x", VGPU_SR_CTAID_X},   {"%ctaid.y", VGPU_SR_CTAID_Y},   {"%ctaid.z", VGPU_SR_CTAID_Z},
        {"%nctaid.x", VGPU_SR_NCTAID_X}, {"%nctaid.y", VGPU_SR_NCTAID_Y}, {"%nctaid.z", VGPU_SR_NCTAID_Z},
        {"%laneid", VGPU_SR_LANEID},     {"%warpid", VGPU_SR_WARPID}};
    auto it = sregs.find(name);
    if (it != sregs.end())
        return emit(VGPU_OP_S2R, vreg(32), -1, -1, it->second);
    if (name == "%clock64" || name == "%clock" || name == "%clock_hi") {
        // One 64-bit clock; %clock and %clock_hi are its halves (PTX's).
        int c = emit(VGPU_OP_S2R, vreg(64), -1, -1, VGPU_SR_CLOCK64);
        if (name == "%clock")
            return emit(VGPU_OP_ZEXT, vreg(32), c, -1, 32);
        if (name == "%clock_hi")
            return emit(VGPU_OP_SHRI, vreg(32), c, -1, 32);
        return c;
    }
    if (name.rfind("%lanemask_", 0) == 0) {
        // eq: 1 << lane; lt: eq - 1; le: (eq << 1) - 1; ge: ~lt; gt: ~le (32 bits)
        std::string k = name.substr(10);
        int lane = emit(VGPU_OP_S2R, vreg(32), -1, -1, VGPU_SR_LANEID);
        int one = li(1);
        int eq = emit(VGPU_OP_SHL, vreg(32), one, lane);
        if (k == "eq")
            return eq;
        int m = eq;
        if (k == "le" || k == "gt")
            m = emit(VGPU_OP_SHLI, vreg(64), eq, -1, 1);
        if (k != "eq" && k != "lt" && k != "le" && k != "ge" && k != "gt")
            fail("special register " + name + " is not supported");
        int r = emit(VGPU_OP_ADDI, vreg(32), m, -1, -1);
        if (k == "ge" || k == "gt")
            emit(VGPU_OP_XORI, r, r, -1, -1);
        canon(r, 64);
        return r;
    }
    fail("special register " + name + " is not supported yet");
}

int Lowerer::src(const Operand& o, Ty t, bool sign) {
    switch (o.kind) {
    case Operand::Kind::Reg: {
        if (o.name[0] == '%' && !is_reg(o.name))
            return special(o.name);
        int v = vreg_of(o.name);
        if (t.kind == 'p' || width(v) == 1) {
            if (!o.negated)
                return v;
            return emit(VGPU_OP_XORI, vreg(1), v, -1, 1);
        }
        if (sign && t.bits < 64)
            return emit(VGPU_OP_SEXT, vreg(64), v, -1, t.bits);
        if (width(v) > t.bits)
            return emit(VGPU_OP_ZEXT, vreg(t.bits), v, -1, t.bits);
        return v;
    }
    case Operand::Kind::Imm: {
        if (t.flt())
            fail("an integer literal where a float is expected");
        uint64_t v = static_cast<uint64_t>(o.imm);
        if (t.bits < 64) {
            uint64_t mask = (uint64_t{1} << t.bits) - 1;
            v &= mask;
            if (sign && (v >> (t.bits - 1)) & 1)
                v |= ~mask;
        }
        return li(static_cast<int64_t>(v), t.bits);
    }
    case Operand::Kind::FImm:
        return fimm(o, t);
    case Operand::Kind::Symbol: {
        if (is_reg(o.name)) {  // a register named without '%' (inline assembly's r0, p)
            Operand r = o;
            r.kind = Operand::Kind::Reg;
            return src(r, t, sign);
        }
        if (o.name == "WARP_SZ")
            return li(32, 32);
        auto kp = kparams_.find(o.name);
        if (kp != kparams_.end() && frames_.size() == 1 && info_->param_mode == ParamMode::Memory) {
            int base = emit(VGPU_OP_LDP, vreg(64), -1, -1, 0);
            return emit(VGPU_OP_ADDI, vreg(64), base, -1, kp->second.offset + o.imm);
        }
        for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
            auto l = scopes_[i].locals.find(o.name);
            if (l != scopes_[i].locals.end())  // its address in the .local space
                return local_var(static_cast<int64_t>(l->second) + o.imm, t.bits);
        }
        auto it = layout_.vars.find(o.name);
        if (it == layout_.vars.end())
            fail("'" + o.name + "' is not a variable (function addresses are not supported)");
        if (it->second.space == "shared")
            return li(shared_off_.at(o.name) + o.imm, t.bits);
        return emit(ir::kAddr, vreg(64), -1, -1, static_cast<int64_t>(it->second.offset) + o.imm);
    }
    default:
        fail("unexpected operand");
    }
}

// Whether @name is a register declared in the current function's scopes.
bool Lowerer::is_reg(const std::string& name) const {
    for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
        const Scope& s = scopes_[i];
        if (s.regs.count(name) || s.widths.count(name))
            return true;
        size_t e = name.size();
        while (e > 0 && name[e - 1] >= '0' && name[e - 1] <= '9')
            e--;
        auto r = e < name.size() && e > 0 ? s.ranges.find(name.substr(0, e)) : s.ranges.end();
        if (r != s.ranges.end() && name.size() - e < 10 && std::stoull(name.substr(e)) < r->second.first)
            return true;
    }
    return false;
}

int Lowerer::dst(const Operand& o) {
    if (o.kind == Operand::Kind::Sink)
        return vreg(64);
    if (o.kind == Operand::Kind::Symbol && is_reg(o.name))
        return vreg_of(o.name);
    if (o.kind != Operand::Kind::Reg)
        fail("the destination is not a register");
    return vreg_of(o.name);
}

// ---- instructions ------------------------------------------------------------

void Lowerer::instr(const Instr& in) {
    cur_ = &in;
    try {
        guarded(in);
    } catch (const std::out_of_range&) {  // ops.at(): fewer operands than the instruction has
        fail("missing operands");
    } catch (const std::invalid_argument&) {
        fail("an operand of the wrong form");
    }
}

void Lowerer::guarded(const Instr& in) {
    if (!in.guard || in.op == "bra") {
        dispatch(in);
        return;
    }
    int skip = k_.nlabels++;
    Operand g;
    g.kind = Operand::Kind::Reg;
    g.name = in.guard->reg;
    int p = src(g, {'p', 1});
    branch(in.guard->negated ? VGPU_OP_BNZ : VGPU_OP_BZ, p, skip);
    dispatch(in);
    emit_label(skip);
}

void Lowerer::dispatch(const Instr& in) {
    const std::string& op = in.op;
    if (op == "ld" || op == "ldu" || op == "st")
        return memory(in);
    if (op == "atom" || op == "red")
        return atomic(in);
    if (op == "bra" || op == "ret" || op == "exit" || op == "bar" || op == "barrier" || op == "membar" ||
        op == "fence" || op == "trap" || op == "call" || op == "cvta" || op == "nanosleep")
        return control(in);
    if (op == "shfl" || op == "vote" || op == "activemask")
        return warp(in);
    if (is_half(in))
        return half(in);
    if (op == "mov")
        return mov(in);
    if (op == "cvt")
        return cvt(in);
    if (op == "setp")
        return setp(in);
    if (op == "selp" || op == "set" || op == "slct")
        return selp_set(in);
    if (op == "addc" || op == "subc" || op == "madc" || has(in, "cc"))
        return carry(in, last_type(in));
    Ty t = last_type(in);
    if (t.flt() || op == "fma" || op == "sqrt" || op == "rcp" || op == "rsqrt" || op == "testp" ||
        op == "copysign" || op == "ex2" || op == "lg2" || op == "sin" || op == "cos" || op == "tanh")
        return floating(in, t);
    if (op == "mul" || op == "mad" || op == "mul24" || op == "mad24")
        return mul_mad(in, t);
    if (op == "shl" || op == "shr" || op == "shf")
        return shift(in, t);
    if (op == "popc" || op == "clz" || op == "brev" || op == "bfe" || op == "bfi" || op == "prmt" ||
        op == "bfind" || op == "bmsk")
        return bits(in, t);
    if (op == "add" || op == "sub" || op == "and" || op == "or" || op == "xor" || op == "not" ||
        op == "cnot" || op == "neg" || op == "abs" || op == "min" || op == "max" || op == "div" || op == "rem")
        return integer(in, t);
    fail("the instruction is not supported yet");
}

void Lowerer::control(const Instr& in) {
    const std::string& op = in.op;
    if (op == "bra") {
        if (in.ops.empty() || in.ops[0].kind != Operand::Kind::Symbol)
            fail("indirect branches are not supported");
        int l = label(in.ops[0].name);
        if (!in.guard) {
            branch(VGPU_OP_BRA, -1, l);
            return;
        }
        Operand g;
        g.kind = Operand::Kind::Reg;
        g.name = in.guard->reg;
        branch(in.guard->negated ? VGPU_OP_BZ : VGPU_OP_BNZ, src(g, {'p', 1}), l);
    } else if (op == "ret") {
        if (frames_.size() == 1)
            emit(VGPU_OP_EXIT, -1);
        else
            branch(VGPU_OP_BRA, -1, frames_.back().ret_label);
    } else if (op == "exit") {
        emit(VGPU_OP_EXIT, -1);
    } else if (op == "bar" || op == "barrier") {
        if (has(in, "warp")) {  // bar.warp.sync: the ISA's group is the warp's lanes that meet
            emit(VGPU_OP_WSYNC, -1);
            return;
        }
        if (has(in, "red"))
            return barrier_reduce(in);
        if (has(in, "arrive") || in.ops.size() != 1 || in.ops[0].kind != Operand::Kind::Imm || in.ops[0].imm != 0)
            fail("only the block barrier 0 for every thread (__syncthreads) is supported");
        emit(VGPU_OP_BAR, -1);
    } else if (op == "membar" || op == "fence") {
        emit(VGPU_OP_FENCE, -1);
    } else if (op == "nanosleep") {
        // A hint; the interpreter's threads do not sleep.
    } else if (op == "trap") {
        // A fault the program's owner sees: a load from address 0, which
        // no context maps (VGPU_CTX_VA_START).
        int z = li(0);
        emit(VGPU_OP_LD_U8, vreg(64), z, -1, 0);
    } else if (op == "call") {
        call(in);
    } else if (op == "cvta") {
        Ty t = last_type(in);
        if (t.bits != 64)
            fail("32-bit generic addresses are not supported");
        bool to = has(in, "to");
        std::string space;
        for (const auto& m : in.mods)
            if (m == "global" || m == "shared" || m == "local" || m == "const" || m == "param" ||
                m == "shared::cta")
                space = m;
        if (space == "param" || space.empty())
            fail("generic addresses of this space are not supported yet");
        int d = dst(in.ops.at(0));
        int a = src(in.ops.at(1), t);
        if (space == "global" || space == "const") {
            move(d, a);
        } else if (space == "local") {
            if (to) {
                move(d, low_bits(a, kLocalWindowShift));
            } else {
                emit(VGPU_OP_ADD, d, a, li(static_cast<int64_t>(kLocalWindow)));
            }
        } else if (to) {  // generic to shared: drop the window
            move(d, low_bits(a, kSharedWindowShift));
        } else {
            int w = li(static_cast<int64_t>(kSharedWindow));
            emit(VGPU_OP_ADD, d, a, w);
        }
    }
}

// (z * ny + y) * nx + x of five special registers: a linear index.
int Lowerer::linear_index(int x, int y, int z, int nx, int ny) {
    int r[5], i = 0;
    for (int sr : {x, y, z, nx, ny})
        r[i++] = emit(VGPU_OP_S2R, vreg(32), -1, -1, sr);
    int v = emit(VGPU_OP_MUL, vreg(64), r[4], r[2]);
    v = emit(VGPU_OP_ADD, vreg(64), v, r[1]);
    v = emit(VGPU_OP_MUL, vreg(64), v, r[3]);
    return emit(VGPU_OP_ADD, vreg(64), v, r[0]);
}

// The threads of a block.
int Lowerer::block_threads() {
    int n = emit(VGPU_OP_S2R, vreg(32), -1, -1, VGPU_SR_NTID_X);
    for (int sr : {VGPU_SR_NTID_Y, VGPU_SR_NTID_Z}) {
        int m = emit(VGPU_OP_S2R, vreg(32), -1, -1, sr);
        n = emit(VGPU_OP_MUL, vreg(64), n, m);
    }
    return n;
}

// The global variant's start: the thread takes the slot of the launch's
// buffer that its block holds, or a free one for its block, looking from
// slot (block index mod slots) on (ptx_compile.hpp, local_slots_param;
// Documentation/cuda.rst, "Local memory").  @param: the hidden parameter
// below its slice bits.  Returns the thread's index among the buffer's
// slices (slot * block threads + @tid); @slices gets where the slices
// start, @word the address of the slot's word.
int Lowerer::local_slot_take(int param, int tid, int& slices, int& word) {
    int log2 = emit(VGPU_OP_ANDI, vreg(64), param, -1, 15);
    int buf = emit(VGPU_OP_SHRI, vreg(64), param, -1, 12);
    buf = emit(VGPU_OP_SHLI, vreg(64), buf, -1, 12);
    int nslots = emit(VGPU_OP_SHL, vreg(64), li(1), log2);
    int mask = emit(VGPU_OP_ADDI, vreg(64), nslots, -1, -1);
    int header = emit(VGPU_OP_SHLI, vreg(64), nslots, -1, 3);  // local_slots_header()
    header = emit(VGPU_OP_ADDI, vreg(64), header, -1, 15);
    header = emit(VGPU_OP_SHRI, vreg(64), header, -1, 4);
    header = emit(VGPU_OP_SHLI, vreg(64), header, -1, 4);
    slices = emit(VGPU_OP_ADD, vreg(64), buf, header);
    int blk = linear_index(VGPU_SR_CTAID_X, VGPU_SR_CTAID_Y, VGPU_SR_CTAID_Z, VGPU_SR_NCTAID_X, VGPU_SR_NCTAID_Y);
    int owner = emit(VGPU_OP_ADDI, vreg(64), blk, -1, 1);
    int owned = emit(VGPU_OP_SHLI, vreg(64), owner, -1, kLocalSlotCountBits);
    int s = emit(VGPU_OP_AND, vreg(64), blk, mask);
    // Every read of a word is an atomic (a plain load may be served by a
    // GPU's L1 cache, not coherent between multiprocessors), and a
    // thread costs two whatever its block's size: a compare-and-swap
    // that takes a free slot, else, in its block's slot, an add.
    int zero = li(0);
    word = vreg(64);
    int loop = k_.nlabels++, join = k_.nlabels++, got = k_.nlabels++;
    emit_label(loop);
    int at = emit(VGPU_OP_SHLI, vreg(64), s, -1, 3);
    emit(VGPU_OP_ADD, word, buf, at);
    int now = vreg(64);
    move(now, zero);
    emit(VGPU_OP_ATOM_CAS64, now, word, emit(VGPU_OP_ADDI, vreg(64), owned, -1, 1), 0);
    branch(VGPU_OP_BZ, now, got);  // it was free: this block's now
    int holder = emit(VGPU_OP_SHRI, vreg(64), now, -1, kLocalSlotCountBits);
    branch(VGPU_OP_BNZ, emit(VGPU_OP_SEQ, vreg(1), holder, owner), join);
    emit(VGPU_OP_ADDI, s, s, -1, 1);  // another block's: the next slot
    emit(VGPU_OP_AND, s, s, mask);
    branch(VGPU_OP_BRA, -1, loop);
    emit_label(join);
    // This block's: one more thread, if it still is when the add lands;
    // else the add is given back as a release would (the last frees).
    int old = emit(VGPU_OP_ATOM_ADD64, vreg(64), word, li(1), 0);
    holder = emit(VGPU_OP_SHRI, vreg(64), old, -1, kLocalSlotCountBits);
    branch(VGPU_OP_BNZ, emit(VGPU_OP_SEQ, vreg(1), holder, owner), got);
    give_back(word);
    branch(VGPU_OP_BRA, -1, loop);
    emit_label(got);
    emit(VGPU_OP_FENCE, -1);  // after the slot's last holders' stores
    int idx = emit(VGPU_OP_MUL, vreg(64), s, block_threads());
    return emit(VGPU_OP_ADD, vreg(64), idx, tid);
}

// Where the global variant's threads exit: the thread gives its block's
// slot back (the word's address is in its slice at @word_at).
void Lowerer::local_slot_release(uint32_t word_at) {
    emit(VGPU_OP_FENCE, -1);  // the slice's stores before the slot goes
    give_back(emit(VGPU_OP_LD_U64, vreg(64), lbase_, -1, word_at));
    emit(VGPU_OP_EXIT, -1);
}

// One thread less in the slot whose word is at @word; the last frees it
// unless another of the block's threads took it again meanwhile (it
// gives it back in turn).
void Lowerer::give_back(int word) {
    int old = emit(VGPU_OP_ATOM_ADD64, vreg(64), word, li(-1), 0);
    int held = emit(VGPU_OP_ANDI, vreg(64), old, -1, (1 << kLocalSlotCountBits) - 1);
    int done = k_.nlabels++;
    branch(VGPU_OP_BZ, emit(VGPU_OP_SEQ, vreg(1), held, li(1)), done);
    int seen = emit(VGPU_OP_ADDI, vreg(64), old, -1, -1);
    emit(VGPU_OP_ATOM_CAS64, seen, word, li(0), 0);
    emit_label(done);
}

// The shared-memory address of the thread's local slice, computed once at
// the kernel's entry: the hidden parameter plus the thread's linear index
// times the slice's size (known once the whole kernel is lowered).  In
// the global variant, the global address of the thread's slice in the
// launch's buffer of slots: the thread takes its block's slot first, and
// every exit gives it back.
void Lowerer::local_prologue() {
    // printf copies kPrintfArgBytes from its argument buffer: slack after
    // the .local variables keeps that copy inside the thread's slice.
    uint32_t want = local_size_ + (uses_printf_ ? kPrintfArgBytes : 0);
    uint32_t word_at = 0;  // the global variant: its slot's word's address
    if (global_local_) {
        word_at = static_cast<uint32_t>(align_up(want, 8));
        want = word_at + 8;
    }
    uint32_t size = static_cast<uint32_t>(align_up(std::max<uint32_t>(want, 8), local_align_));
    if (size > VGPU_MAX_SHARED)
        fail("needs " + std::to_string(size) + " bytes of local memory per thread");
    info_->local_per_thread = size;
    std::vector<ir::Insn> body = std::move(k_.code);
    k_.code.clear();
    uint32_t off = info_->local_param_offset;
    int start, slice = -1;  // slice: the launch's slice size, with a call stack
    if (global_local_) {
        // The global variant: a u64 (ptx_compile.hpp, local_slots_param).
        int v;
        if (info_->param_mode == ParamMode::Slots) {
            v = emit(VGPU_OP_LDP, vreg(64), -1, -1, off / 8);
        } else {
            int base = emit(VGPU_OP_LDP, vreg(64), -1, -1, 0);
            v = emit(VGPU_OP_LD_U64, vreg(64), base, -1, off);
        }
        start = low_bits(v, kLocalWindowShift);
        if (has_stack_) {
            int units = emit(VGPU_OP_SHRI, vreg(64), v, -1, kLocalWindowShift);
            slice = emit(VGPU_OP_SHLI, vreg(64), units, -1, 4);
        }
    } else if (info_->param_mode == ParamMode::Slots) {
        int v = emit(VGPU_OP_LDP, vreg(64), -1, -1, off / 8);
        start = emit(VGPU_OP_ZEXT, vreg(32), v, -1, 32);
        if (has_stack_)
            slice = emit(VGPU_OP_SHRI, vreg(32), v, -1, 32);
    } else {
        int base = emit(VGPU_OP_LDP, vreg(64), -1, -1, 0);
        start = emit(VGPU_OP_LD_U32, vreg(32), base, -1, off);
        if (has_stack_)
            slice = emit(VGPU_OP_LD_U32, vreg(32), base, -1, off + 4);
    }
    int lin = linear_index(VGPU_SR_TID_X, VGPU_SR_TID_Y, VGPU_SR_TID_Z, VGPU_SR_NTID_X, VGPU_SR_NTID_Y);
    int word = -1;
    if (global_local_)
        lin = local_slot_take(start, lin, start, word);
    k_.frame_size = size;
    if (has_stack_) {
        // The call stack grows down from the slice's end to its static part.
        lin = emit(VGPU_OP_MUL, vreg(64), lin, slice);
        emit(VGPU_OP_ADD, lbase_, lin, start);
        emit(VGPU_OP_ADD, sp_, lbase_, slice);
    } else {
        k_.frame_insn = static_cast<int>(k_.code.size());
        lin = emit(VGPU_OP_MULI, vreg(64), lin, -1, size);
        emit(VGPU_OP_ADD, lbase_, lin, start);
    }
    if (!global_local_) {
        k_.code.insert(k_.code.end(), body.begin(), body.end());
        return;
    }
    emit(VGPU_OP_ST_U64, -1, lbase_, word, word_at);
    // Every exit passes the slot's release.
    int release = k_.nlabels++;
    for (ir::Insn& in : body)
        if (in.op == VGPU_OP_EXIT) {
            in.op = VGPU_OP_BRA;
            in.label = release;
        }
    k_.code.insert(k_.code.end(), body.begin(), body.end());
    emit_label(release);
    local_slot_release(word_at);
}

// The value a call sequence stored in the .param variable @arg (the
// first @bytes bytes).
int Lowerer::param_value(const Operand& arg, int bytes) {
    if (arg.kind == Operand::Kind::Symbol)
        for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
            auto pv = scopes_[i].params.find(arg.name);
            if (pv == scopes_[i].params.end())
                continue;
            auto it = pv->second->slots.find(0);
            if (it == pv->second->slots.end() || it->second.second < bytes)
                fail("the argument '" + arg.name + "' was not stored");
            return it->second.first;
        }
    fail("argument '" + arg.name + "' is not a .param variable of the caller");
}

// vprintf(format, args) and __assertfail(message, file, line, function,
// size): a record in the printf buffer (ptx_compile.hpp, kPrintf*);
// assert then faults, as trap does.  vprintf returns 0.
void Lowerer::device_printf(const Instr& in, bool is_assert) {
    if (in.call_args.size() != (is_assert ? 5u : 2u))
        fail("unexpected arguments");
    int buf;
    if (info_->param_mode == ParamMode::Slots) {
        buf = emit(VGPU_OP_LDP, vreg(64), -1, -1, info_->printf_param_offset / 8);
    } else {
        int base = emit(VGPU_OP_LDP, vreg(64), -1, -1, 0);
        buf = emit(VGPU_OP_LD_U64, vreg(64), base, -1, info_->printf_param_offset);
    }
    int off = emit(VGPU_OP_ATOM_ADD64, vreg(64), buf, li(kPrintfRecord), 0);
    int end = k_.nlabels++;
    int room = emit(VGPU_OP_SLTU, vreg(1), off, li(kPrintfCapacity - kPrintfHeader - kPrintfRecord + 1));
    branch(VGPU_OP_BZ, room, end);
    int rec = emit(VGPU_OP_ADD, vreg(64), buf, off);
    emit(VGPU_OP_ST_U32, -1, rec, li(is_assert ? 2 : 1), kPrintfHeader);
    emit(VGPU_OP_ST_U32, -1, rec, li(kPrintfArgBytes), kPrintfHeader + 4);
    emit(VGPU_OP_ST_U64, -1, rec, param_value(in.call_args[0], 8), kPrintfHeader + 8);
    int p = kPrintfHeader + 16;
    if (!is_assert) {
        int args = param_value(in.call_args[1], 8);
        int none = k_.nlabels++;
        branch(VGPU_OP_BZ, args, none);
        for (uint32_t i = 0; i < kPrintfArgBytes; i += 8) {  // generic loads, 8 bytes at a time
            int v = vreg(64);
            generic_access(true, args, i, {'u', 64}, v);
            emit(VGPU_OP_ST_U64, -1, rec, v, p + i);
        }
        emit_label(none);
    } else {
        emit(VGPU_OP_ST_U64, -1, rec, param_value(in.call_args[1], 8), p);
        emit(VGPU_OP_ST_U64, -1, rec, param_value(in.call_args[2], 4), p + 8);
        emit(VGPU_OP_ST_U64, -1, rec, param_value(in.call_args[3], 8), p + 16);
        static const int ids[] = {VGPU_SR_CTAID_X, VGPU_SR_CTAID_Y, VGPU_SR_CTAID_Z,
                                  VGPU_SR_TID_X,   VGPU_SR_TID_Y,   VGPU_SR_TID_Z};
        for (int i = 0; i < 6; i++)
            emit(VGPU_OP_ST_U32, -1, rec, emit(VGPU_OP_S2R, vreg(32), -1, -1, ids[i]), p + 24 + 4 * i);
    }
    emit_label(end);
    if (is_assert) {
        emit(VGPU_OP_FENCE, -1);
        emit(VGPU_OP_LD_U8, vreg(64), li(0), -1, 0);  // the fault that stops the kernel
    } else if (!in.call_rets.empty()) {
        Operand r = in.call_rets[0];
        for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
            auto pv = scopes_[i].params.find(r.name);
            if (pv != scopes_[i].params.end()) {
                auto& slot = pv->second->slots[0];
                if (slot.second == 0)
                    slot = {vreg(32), 4};
                move(slot.first, li(0));
                break;
            }
        }
    }
}

// A local address (register) as a shared-memory address.
int Lowerer::local_addr(int local) { return emit(VGPU_OP_ADD, vreg(64), lbase_, local); }

// shfl.sync, vote.sync, activemask (and the deprecated forms without
// .sync, whose member mask is every lane): the ISA's warp instructions,
// whose group rule (sim-isa.rst, "Warps") gives PTX's result for every
// program PTX defines.
void Lowerer::warp(const Instr& in) {
    const std::string& op = in.op;
    if (op == "activemask") {
        emit(VGPU_OP_ACTIVEMASK, dst(in.ops.at(0)));
        return;
    }
    bool sync = has(in, "sync");
    if (op == "shfl") {
        static const std::map<std::string, int> modes = {
            {"idx", VGPU_SHFL_IDX}, {"up", VGPU_SHFL_UP}, {"down", VGPU_SHFL_DOWN}, {"bfly", VGPU_SHFL_BFLY}};
        int mode = -1;
        for (const auto& m : in.mods)
            if (modes.count(m))
                mode = modes.at(m);
        if (mode < 0 || last_type(in).bits != 32)
            fail("shfl needs a mode and .b32");
        const Operand& d = in.ops.at(0);
        int a = src(in.ops.at(1), {'b', 32}), b = src(in.ops.at(2), {'b', 32}), c = src(in.ops.at(3), {'b', 32});
        int mask = sync ? src(in.ops.at(4), {'b', 32}) : li(0xffffffff, 32);
        const Operand& dv = d.kind == Operand::Kind::Pair ? d.elems.at(0) : d;
        // Both results from operands read before either is written.
        int v = emit(VGPU_OP_SHFL, vreg(32), a, b, mode, c, mask);
        if (d.kind == Operand::Kind::Pair && d.elems.at(1).kind != Operand::Kind::Sink)
            emit(VGPU_OP_SHFL, dst(d.elems.at(1)), a, b, mode | VGPU_SHFL_PRED, c, mask);
        move(dst(dv), v);
        return;
    }
    // vote
    static const std::map<std::string, int> modes = {
        {"all", VGPU_VOTE_ALL}, {"any", VGPU_VOTE_ANY}, {"uni", VGPU_VOTE_UNI}, {"ballot", VGPU_VOTE_BALLOT}};
    int mode = -1;
    for (const auto& m : in.mods)
        if (modes.count(m))
            mode = modes.at(m);
    if (mode < 0)
        fail("vote needs a mode");
    int p = src(in.ops.at(1), {'p', 1});
    int mask = sync ? src(in.ops.at(2), {'b', 32}) : li(0xffffffff, 32);
    emit(VGPU_OP_VOTE, dst(in.ops.at(0)), p, mask, mode);
}

// bar.red.{popc.u32, and.pred, or.pred} d, 0, p (__syncthreads_count,
// _and, _or): every thread adds to a word of shared memory, then the
// barrier, then every thread reads it.  Round r uses word r % 3 and,
// before the barrier, zeroes word (r + 1) % 3: no thread can still read
// that word (its last readers passed the previous barrier) nor already
// add to it (its adders come after this barrier).  Round 0's word starts
// at zero because every block's shared memory does (sim-isa.rst).
void Lowerer::barrier_reduce(const Instr& in) {
    bool popc = has(in, "popc"), conj = has(in, "and");
    if ((!popc && !conj && !has(in, "or")) || in.ops.size() != 3 || in.ops[1].kind != Operand::Kind::Imm ||
        in.ops[1].imm != 0)
        fail("only bar.red of barrier 0 for every thread is supported");
    int p = src(in.ops[2], {'p', 1});
    int add = conj ? emit(VGPU_OP_XORI, vreg(1), p, -1, 1) : p;  // and: count the false ones
    int word = emit(VGPU_OP_SHLI, vreg(64), red_round_, -1, 2);
    int next = emit(VGPU_OP_ADDI, vreg(64), red_round_, -1, 1);
    int wrap = emit(VGPU_OP_SLTUI, vreg(1), next, -1, 3);
    next = emit(VGPU_OP_SELP, vreg(64), next, li(0), 0, wrap);
    int nword = emit(VGPU_OP_SHLI, vreg(64), next, -1, 2);
    emit(VGPU_OP_ATOMS_ADD, vreg(32), word, add, red_off_);
    emit(VGPU_OP_STS_U32, -1, nword, li(0), red_off_);
    emit(VGPU_OP_BAR, -1);
    int n = emit(VGPU_OP_LDS_U32, vreg(32), word, -1, red_off_);
    move(red_round_, next);
    int d = dst(in.ops[0]);
    if (popc)
        move(d, n);
    else if (conj)
        emit(VGPU_OP_SEQ, d, n, li(0));
    else
        emit(VGPU_OP_SNE, d, n, li(0));
}

void Lowerer::call(const Instr& in) {
    if (in.ops.empty() || in.ops[0].kind != Operand::Kind::Symbol)
        fail("indirect calls are not supported yet");
    const std::string& name = in.ops[0].name;
    auto it = layout_.functions.find(name);
    if (it == layout_.functions.end())
        fail("'" + name + "' is not a function");
    const Function* fn = it->second;
    if (!fn->has_body) {
        if (name == "vprintf" || name == "__assertfail")
            return device_printf(in, name == "__assertfail");
        fail("calls '" + name + "', which the module declares but does not define");
    }
    if (recursive(fn))  // a subroutine with a call stack (ptx_lower_call.cpp)
        return subroutine_call(in, fn);
    if (static_cast<int>(frames_.size()) > kMaxInlineDepth)
        fail("calls nest deeper than " + std::to_string(kMaxInlineDepth));
    if (fn->params.size() != in.call_args.size() || fn->rets.size() != in.call_rets.size())
        fail("the call's arguments do not match '" + name + "'");

    // The callee's parameters are the caller's .param variables.
    Scope callee;
    auto bind = [&](const VarDecl& p, const Operand& arg) {
        if (p.space == "param" && arg.kind == Operand::Kind::Symbol) {
            for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
                auto pv = scopes_[i].params.find(arg.name);
                if (pv != scopes_[i].params.end()) {
                    callee.params[p.name] = pv->second;
                    return;
                }
            }
        }
        fail("argument '" + arg.name + "' is not a .param variable of the caller");
    };
    for (size_t i = 0; i < fn->params.size(); i++)
        bind(fn->params[i], in.call_args[i]);
    for (size_t i = 0; i < fn->rets.size(); i++)
        bind(fn->rets[i], in.call_rets[i]);
    const Instr* saved = cur_;
    int ret = k_.nlabels++;
    frames_.push_back({fn, {}, ret, scopes_.size()});
    scopes_.push_back(std::move(callee));
    body(fn->body);
    scopes_.pop_back();
    frames_.pop_back();
    cur_ = saved;
    emit_label(ret);
}

}  // namespace gpuvm::ptx
