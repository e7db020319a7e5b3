// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower_call.cpp - see ptx_lower.hpp: calls of recursive functions
// (Documentation/cuda.rst, "Recursion").
//
// A function in a cycle of calls cannot be inlined: each kernel that
// reaches one gets its body once, as a subroutine after the kernel's
// code, and every call of it is a real call through a software stack in
// the thread's local slice (the ISA has no call instruction: none is
// needed).  Other functions are still inlined, into the kernel or into a
// subroutine's body.
//
// A call site, as lowered:
//
//   kCallSave c       push the return index and the values live after
//                     the call (found below), checking for overflow
//   moves             the arguments into the callee's parameter slots
//   kCallJump c       bra to the callee's entry
//   R_c:              the return label
//   moves             the callee's result slots into the caller's
//   kCallRestore c    pop the values, free the frame
//
// and a function's return (kRet) loads the return index its caller
// pushed and branches to that return label through a chain of
// compare-and-branch over the function's call sites.  Every virtual
// register is one per thread, shared by all activations; so a call saves
// every value that is live after it (computed on the flow graph where a
// call goes straight to its return label and defines the callee's
// results), except the stack pointer, the slice's base and bar.red's
// round, which are the thread's.  The register allocator then works on
// the real flow graph, where the return branches reach every return
// label: values that are not saved stay in registers the subroutines do
// not use.
//
// The stack grows down from the end of the thread's slice, whose size
// the launch chooses (KernelInfo::call_stack), towards its static part
// (.local variables of the kernel and inlined functions, spill slots).
// A frame is, from the stack pointer up: the callee's .local variables,
// the return index, the saved values.  A push that would reach the
// static part loads from shared memory offset kStackFault instead,
// which no block has: the launch faults SHARED at that offset, and no
// other thread's memory is touched.
#include <algorithm>
#include <array>
#include <functional>
#include <set>

#include "ptx_lower.hpp"

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_isa_table.h"
}

namespace gpuvm::ptx {
namespace {

// The shared-memory offset a stack overflow faults at (beyond 48 KiB).
constexpr int64_t kStackFault = 0x57ac0000;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// The direct callees of @b (functions with a body).
void callees(const Body& b, const ModuleLayout& lay, std::vector<const Function*>& out) {
    for (const auto& s : b) {
        if (const auto* in = std::get_if<Instr>(&s.v)) {
            if (in->op == "call" && !in->ops.empty() && in->ops[0].kind == Operand::Kind::Symbol) {
                auto it = lay.functions.find(in->ops[0].name);
                if (it != lay.functions.end() && it->second->has_body)
                    out.push_back(it->second);
            }
        } else if (const auto* blk = std::get_if<Block>(&s.v)) {
            callees(blk->body, lay, out);
        }
    }
}

bool declares_local(const Body& b) {
    for (const auto& s : b) {
        if (const auto* v = std::get_if<VarDecl>(&s.v)) {
            if (v->space == "local")
                return true;
        } else if (const auto* blk = std::get_if<Block>(&s.v)) {
            if (declares_local(blk->body))
                return true;
        }
    }
    return false;
}

// The (offset, bytes) of each ld.param (@load) or st.param of .param
// variable @name in @b: the slots of a subroutine's parameter or result.
void param_slots(const Body& b, const std::string& name, bool load, std::map<int64_t, int>& slots) {
    for (const auto& s : b) {
        if (const auto* blk = std::get_if<Block>(&s.v)) {
            param_slots(blk->body, name, load, slots);
            continue;
        }
        const auto* in = std::get_if<Instr>(&s.v);
        if (!in || in->op != (load ? "ld" : "st") || in->ops.size() != 2)
            continue;
        bool param = false;
        int n = 1, bits = 0;
        for (const auto& m : in->mods) {
            bool ok;
            Ty t = Lowerer::type_of(m, ok);
            if (ok)
                bits = t.bits;
            else if (m.rfind("param", 0) == 0)
                param = true;
            else if (m == "v2" || m == "v4" || m == "v8")
                n = m[1] - '0';
        }
        const Operand& a = in->ops[load ? 1 : 0];
        if (!param || bits < 8 || a.kind != Operand::Kind::Addr || a.name != name)
            continue;
        for (int i = 0; i < n; i++) {
            int& bytes = slots[a.imm + static_cast<int64_t>(i) * (bits / 8)];
            bytes = std::max(bytes, bits / 8);
        }
    }
}

}  // namespace

// Whether @fn is in a cycle of calls (it reaches itself).
bool Lowerer::recursive(const Function* fn) {
    auto known = recursive_.find(fn);
    if (known != recursive_.end())
        return known->second;
    std::set<const Function*> seen;
    std::vector<const Function*> todo;
    // Every search scans bodies again: bounded over the kernel, so that a
    // hostile call graph (a chain of 10^5 functions) is refused, not
    // searched for hours.
    auto scan = [&](const Function* f) {
        call_graph_work_ += f->body.size() + 1;
        if (call_graph_work_ > kMaxCallGraphWork)
            fail("the call graph is too large to check for recursion");
        callees(f->body, layout_, todo);
    };
    scan(fn);
    bool found = false;
    while (!todo.empty() && !found) {
        const Function* f = todo.back();
        todo.pop_back();
        if (f == fn)
            found = true;
        else if (seen.insert(f).second)
            scan(f);
    }
    return recursive_[fn] = found;
}

bool Lowerer::reaches_recursion(const std::set<std::string>& functions) {
    for (const auto& name : functions) {
        auto it = layout_.functions.find(name);
        if (it != layout_.functions.end() && it->second->has_body && recursive(it->second))
            return true;
    }
    return false;
}

// A .local variable of a recursive function's body: in its activation's
// frame, at the frame pointer plus its offset.
bool Lowerer::frame_local(const VarDecl& v, uint64_t size, uint32_t align) {
    int si = frames_.back().sub;
    if (si < 0)
        return false;
    Sub& s = subs_[si];
    if (align > 16 || s.fp < 0)
        throw CompileError(kernel_.name, v.pos, ".local '" + v.name + "' of a recursive function: alignments beyond "
                                                    "16 bytes are not supported");
    uint64_t off = align_up(s.frame, align);
    if (off + size > VGPU_MAX_SHARED)
        throw CompileError(kernel_.name, v.pos, ".local '" + v.name + "' does not fit in local memory");
    scopes_.back().locals[v.name] = static_cast<uint32_t>(off);
    s.frame = static_cast<uint32_t>(off + size);
    return true;
}

// The local-space address @off of a .local variable of the current
// frame: a constant, or in a recursive function's body the activation's
// frame pointer plus @off.
int Lowerer::local_var(int64_t off, int bits) {
    int si = frames_.back().sub;
    if (si < 0)
        return li(off, bits);
    int v = emit(VGPU_OP_ADDI, vreg(64), subs_[si].fp, -1, off);
    return bits < 64 ? emit(VGPU_OP_ZEXT, vreg(bits), v, -1, bits) : v;
}

void Lowerer::subroutine_call(const Instr& in, const Function* fn) {
    const std::string& name = fn->name;
    if (fn->params.size() != in.call_args.size() || fn->rets.size() != in.call_rets.size())
        fail("the call's arguments do not match '" + name + "'");
    int si = -1;
    for (size_t i = 0; i < subs_.size(); i++)
        if (subs_[i].fn == fn)
            si = static_cast<int>(i);
    if (si < 0) {
        Sub s;
        s.fn = fn;
        s.entry = k_.nlabels++;
        s.ret = k_.nlabels++;
        auto slots = [&](const VarDecl& p, bool load) {
            if (p.space != "param")
                throw CompileError(kernel_.name, p.pos, "'" + p.name + "' of '" + name + "' is not a .param");
            std::map<int64_t, int> found;
            param_slots(fn->body, p.name, load, found);
            auto pv = std::make_shared<ParamVar>();
            for (const auto& [off, bytes] : found)
                pv->slots[off] = {vreg(bytes * 8), bytes};
            return pv;
        };
        for (const VarDecl& p : fn->params)
            s.in.push_back(slots(p, true));
        for (const VarDecl& r : fn->rets)
            s.out.push_back(slots(r, false));
        if (declares_local(fn->body))
            s.fp = vreg(64);
        si = static_cast<int>(subs_.size());
        subs_.push_back(std::move(s));
    }
    // The caller's .param variable that an argument or result names.
    auto caller_param = [&](const Operand& arg) -> ParamVar& {
        if (arg.kind == Operand::Kind::Symbol)
            for (size_t i = scopes_.size(); i-- > frames_.back().scope_base;) {
                auto pv = scopes_[i].params.find(arg.name);
                if (pv != scopes_[i].params.end())
                    return *pv->second;
            }
        fail("argument '" + arg.name + "' is not a .param variable of the caller");
    };
    // The arguments' values, each a slot the callee reads (zero-extended
    // to its size), from what the caller stored.
    std::vector<std::pair<int, int>> args;
    for (size_t j = 0; j < fn->params.size(); j++) {
        ParamVar& cp = caller_param(in.call_args[j]);
        for (const auto& [off, slot] : subs_[si].in[j]->slots) {
            int bytes = slot.second, v = -1;
            for (const auto& [o, s] : cp.slots) {
                if (o > off || off + bytes > o + s.second)
                    continue;
                v = s.first;
                if (o < off)
                    v = emit(VGPU_OP_SHRI, vreg(64), v, -1, (off - o) * 8);
                if (o < off || s.second > bytes)
                    v = emit(VGPU_OP_ZEXT, vreg(bytes * 8), v, -1, bytes * 8);
                break;
            }
            if (v < 0)
                fail("'" + name + "' reads " + std::to_string(bytes) + " bytes at offset " + std::to_string(off) +
                     " of argument '" + in.call_args[j].name + "', which the caller did not store");
            args.emplace_back(slot.first, v);
        }
    }
    // The moves below are one parallel copy: a recursive function passing
    // its own parameters in another order reads a slot another move
    // writes, so such a source is copied first.
    auto parallel = [&](std::vector<std::pair<int, int>>& moves) {
        std::set<int> dests;
        for (const auto& [d, s] : moves)
            dests.insert(d);
        for (auto& [d, s] : moves)
            if (s != d && dests.count(s)) {
                int t = vreg(64);
                move(t, s);
                s = t;
            }
    };
    parallel(args);
    int site = static_cast<int>(sites_.size());
    int ret = k_.nlabels++;
    sites_.push_back({si, ret, {}});
    subs_[si].sites.push_back(ret);
    emit(ir::kCallSave, -1, -1, -1, site);
    for (const auto& [d, s] : args)
        move(d, s);
    emit(ir::kCallJump, -1, -1, -1, site);
    emit_label(ret);
    std::vector<std::pair<int, int>> results;
    for (size_t j = 0; j < fn->rets.size(); j++) {
        ParamVar& cr = caller_param(in.call_rets[j]);
        for (const auto& [off, slot] : subs_[si].out[j]->slots) {
            auto& mine = cr.slots[off];
            if (mine.second == 0)
                mine = {vreg(slot.second * 8), slot.second};
            else if (mine.second != slot.second)
                fail("results of two sizes in .param '" + in.call_rets[j].name + "' are not supported");
            results.emplace_back(mine.first, slot.first);
            sites_[site].results.push_back(mine.first);
        }
    }
    parallel(results);
    for (const auto& [d, s] : results)
        move(d, s);
    emit(ir::kCallRestore, -1, -1, -1, site);
}

// The bodies of the recursive functions the kernel calls (and those they
// call), each once, after the kernel's code; then their returns.
void Lowerer::lower_subroutines() {
    for (size_t i = 0; i < subs_.size(); i++) {  // lowering a body may add functions
        const Function* fn = subs_[i].fn;
        emit_label(subs_[i].entry);
        Scope sc;
        for (size_t j = 0; j < fn->params.size(); j++)
            sc.params[fn->params[j].name] = subs_[i].in[j];
        for (size_t j = 0; j < fn->rets.size(); j++)
            sc.params[fn->rets[j].name] = subs_[i].out[j];
        frames_.push_back({fn, {}, subs_[i].ret, scopes_.size(), static_cast<int>(i)});
        scopes_.push_back(std::move(sc));
        if (subs_[i].fp >= 0)
            emit(VGPU_OP_SUB, subs_[i].fp, sp_, lbase_);
        body(fn->body);
        scopes_.pop_back();
        frames_.pop_back();
        cur_ = nullptr;
        branch(VGPU_OP_BRA, -1, subs_[i].ret);  // the end of the body returns
        if (uses_printf_ && subs_[i].frame)
            subs_[i].frame += kPrintfArgBytes;  // printf's copy of its arguments stays in the frame
        subs_[i].lowered = true;
    }
    for (size_t i = 0; i < subs_.size(); i++) {
        emit_label(subs_[i].ret);
        emit(ir::kRet, -1, -1, -1, static_cast<int64_t>(i));
    }
}

// Replaces the call sites' and returns' pseudo-instructions with their
// code, once the values live across each call are known.
void Lowerer::expand_calls() {
    const std::vector<ir::Insn> code = std::move(k_.code);
    k_.code.clear();
    const int n = static_cast<int>(code.size());
    const int nv = k_.nvregs;
    static const std::array<std::pair<uint8_t, uint8_t>, 256> ops = [] {
        std::array<std::pair<uint8_t, uint8_t>, 256> a{};
        for (const auto& o : vgpu_op_table)
            a[o.opcode] = {o.fmt, o.flags};
        return a;
    }();
    // The registers each instruction reads and writes, on the flow graph
    // where a call goes to its return label.
    auto uses_defs = [&](const ir::Insn& in, const std::function<void(int)>& use,
                         const std::function<void(int)>& def) {
        switch (in.op) {
        case ir::kLabel: case ir::kCallSave: case ir::kCallRestore:
            return;
        case ir::kLi64: case ir::kAddr:
            def(in.d);
            return;
        case ir::kCallJump: {
            const Sub& s = subs_[sites_[in.imm].sub];
            for (const auto& p : s.in)
                for (const auto& [o, slot] : p->slots)
                    use(slot.first);
            for (const auto& p : s.out)
                for (const auto& [o, slot] : p->slots)
                    def(slot.first);
            return;
        }
        case ir::kRet:
            for (const auto& p : subs_[in.imm].out)
                for (const auto& [o, slot] : p->slots)
                    use(slot.first);
            return;
        default:
            break;
        }
        for (int r : {in.a, in.b, in.c, in.e})
            if (r >= 0)
                use(r);
        if (in.d >= 0) {  // every use before the definition
            auto [fmt, flags] = ops[in.op];
            bool stores = fmt == VGPU_FMT_ST || fmt == VGPU_FMT_BRC;
            if (stores || (flags & VGPU_OPF_RD_IN))
                use(in.d);
            if (!stores)
                def(in.d);
        }
    };
    auto ends = [](const ir::Insn& in) {
        return in.op == VGPU_OP_BRA || in.op == VGPU_OP_BZ || in.op == VGPU_OP_BNZ || in.op == VGPU_OP_EXIT ||
               in.op == ir::kCallJump || in.op == ir::kRet;
    };
    struct Blk {
        int first = 0, last = 0;
        std::vector<int> succ;
        std::vector<uint64_t> use, def, in, out;
    };
    std::vector<int> label_block(k_.nlabels, -1);
    std::vector<Blk> blocks;
    for (int i = 0; i < n;) {
        Blk b;
        b.first = i;
        while (i < n && code[i].op == ir::kLabel)
            label_block[code[i++].label] = static_cast<int>(blocks.size());
        while (i < n && code[i].op != ir::kLabel && !ends(code[i]))
            i++;
        if (i < n && code[i].op != ir::kLabel)
            i++;
        b.last = i - 1;
        blocks.push_back(std::move(b));
    }
    const int nb = static_cast<int>(blocks.size());
    const size_t words = (static_cast<size_t>(nv) + 63) / 64;
    if (static_cast<uint64_t>(nv) * static_cast<uint64_t>(nb) > (uint64_t{1} << 28))
        fail("the kernel is too large to compile its calls");
    auto set = [](std::vector<uint64_t>& s, int v) { s[v / 64] |= uint64_t{1} << (v % 64); };
    auto clr = [](std::vector<uint64_t>& s, int v) { s[v / 64] &= ~(uint64_t{1} << (v % 64)); };
    auto get = [](const std::vector<uint64_t>& s, int v) { return (s[v / 64] >> (v % 64)) & 1; };
    for (int bi = 0; bi < nb; bi++) {
        Blk& b = blocks[bi];
        b.use.assign(words, 0);
        b.def.assign(words, 0);
        b.in.assign(words, 0);
        b.out.assign(words, 0);
        const ir::Insn& last = code[b.last];
        if (last.op == VGPU_OP_BRA || last.op == VGPU_OP_BZ || last.op == VGPU_OP_BNZ) {
            int to = last.label >= 0 && last.label < k_.nlabels ? label_block[last.label] : -1;
            if (to < 0)
                fail("a branch to a label the function does not define");
            b.succ.push_back(to);
        }
        bool falls = last.op != VGPU_OP_BRA && last.op != VGPU_OP_EXIT && last.op != ir::kRet;
        if (falls && bi + 1 < nb)
            b.succ.push_back(bi + 1);
        for (int i = b.first; i <= b.last; i++)
            uses_defs(code[i], [&](int v) { if (!get(b.def, v)) set(b.use, v); }, [&](int v) { set(b.def, v); });
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (int bi = nb - 1; bi >= 0; bi--) {
            Blk& b = blocks[bi];
            for (int s : b.succ)
                for (size_t w = 0; w < words; w++)
                    b.out[w] |= blocks[s].in[w];
            for (size_t w = 0; w < words; w++) {
                uint64_t v = b.use[w] | (b.out[w] & ~b.def[w]);
                if (v != b.in[w]) {
                    b.in[w] = v;
                    changed = true;
                }
            }
        }
    }
    // What each call saves: the values live at its kCallRestore, but for
    // the results it has just received and the thread's own registers.
    std::vector<std::vector<int>> saves(sites_.size());
    std::vector<bool> global(nv, false);
    for (int g : {sp_, lbase_, red_round_})
        if (g >= 0)
            global[g] = true;
    for (const Blk& b : blocks) {
        std::vector<uint64_t> live = b.out;
        for (int i = b.last; i >= b.first; i--) {
            if (code[i].op == ir::kCallRestore) {
                const CallSite& c = sites_[code[i].imm];
                std::vector<int>& s = saves[code[i].imm];
                for (int v = 0; v < nv; v++) {
                    if (get(live, v) && !global[v] &&
                        std::find(c.results.begin(), c.results.end(), v) == c.results.end())
                        s.push_back(v);
                    if (s.size() * 8 > VGPU_MAX_SHARED)  // the frame check below, before the list grows on
                        fail("a call of '" + subs_[c.sub].fn->name + "' needs a frame larger than local memory");
                }
            }
            // live before = (live after - defs) + uses
            uses_defs(code[i], [](int) {}, [&](int v) { clr(live, v); });
            uses_defs(code[i], [&](int v) { set(live, v); }, [](int) {});
        }
    }
    // Frames: the callee's .local variables, the return index, the saves.
    auto locals = [&](int si) { return static_cast<int64_t>(align_up(subs_[si].frame, 16)); };
    std::vector<int64_t> frame(sites_.size());
    uint64_t deepest = 16;
    for (size_t c = 0; c < sites_.size(); c++) {
        frame[c] = static_cast<int64_t>(align_up(locals(sites_[c].sub) + 8 + 8 * saves[c].size(), 16));
        if (frame[c] > VGPU_MAX_SHARED)
            fail("a call of '" + subs_[sites_[c].sub].fn->name + "' needs a frame larger than local memory");
        deepest = std::max<uint64_t>(deepest, static_cast<uint64_t>(frame[c]));
    }
    info_->call_stack = static_cast<uint32_t>(deepest);
    // The stack is in the thread's slice: shared or global memory.
    uint16_t ld = global_local_ ? VGPU_OP_LD_U64 : VGPU_OP_LDS_U64;
    uint16_t st = global_local_ ? VGPU_OP_ST_U64 : VGPU_OP_STS_U64;
    for (const ir::Insn& in : code) {
        switch (in.op) {
        case ir::kCallSave: {
            const CallSite& c = sites_[in.imm];
            const Sub& s = subs_[c.sub];
            int64_t at = locals(c.sub);
            emit(VGPU_OP_ADDI, sp_, sp_, -1, -frame[in.imm]);
            int room = emit(VGPU_OP_SUB, vreg(64), sp_, lbase_);
            int over = emit(VGPU_OP_SLTI, vreg(1), room, -1, 0);
            k_.code.back().frame_imm = true;  // below the slice's static part
            int ok = k_.nlabels++;
            branch(VGPU_OP_BZ, over, ok);
            emit(VGPU_OP_LDS_U8, vreg(64), li(kStackFault), -1, 0);
            emit_label(ok);
            int index = static_cast<int>(std::find(s.sites.begin(), s.sites.end(), c.ret) - s.sites.begin());
            emit(st, -1, sp_, li(index), at);
            for (size_t i = 0; i < saves[in.imm].size(); i++)
                emit(st, -1, sp_, saves[in.imm][i], at + 8 + 8 * static_cast<int64_t>(i));
            break;
        }
        case ir::kCallJump:
            branch(VGPU_OP_BRA, -1, subs_[sites_[in.imm].sub].entry);
            break;
        case ir::kCallRestore: {
            int64_t at = locals(sites_[in.imm].sub);
            for (size_t i = 0; i < saves[in.imm].size(); i++)
                emit(ld, saves[in.imm][i], sp_, -1, at + 8 + 8 * static_cast<int64_t>(i));
            emit(VGPU_OP_ADDI, sp_, sp_, -1, frame[in.imm]);
            break;
        }
        case ir::kRet: {
            const Sub& s = subs_[in.imm];
            int index = emit(ld, vreg(64), sp_, -1, locals(static_cast<int>(in.imm)));
            for (size_t k = 0; k + 1 < s.sites.size(); k++)
                branch(VGPU_OP_BZ, k ? emit(VGPU_OP_ADDI, vreg(64), index, -1, -static_cast<int64_t>(k)) : index,
                       s.sites[k]);
            branch(VGPU_OP_BRA, -1, s.sites.back());
            break;
        }
        default:
            k_.code.push_back(in);
            break;
        }
    }
}

}  // namespace gpuvm::ptx
