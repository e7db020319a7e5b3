// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_check.cpp - see ptx_check.hpp.
#include "ptx_check.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace gpuvm::ptx {
namespace {

// Base opcodes of PTX ISA 9.0 (chapter 9), every class.
const std::set<std::string> kOpcodes = {
    // integer, extended precision, bit manipulation
    "add", "sub", "mul", "mad", "mul24", "mad24", "sad", "div", "rem", "abs", "neg", "min", "max", "popc", "clz",
    "bfind", "fns", "brev", "bfe", "bfi", "szext", "bmsk", "dp4a", "dp2a", "addc", "subc", "madc",
    // floating point
    "testp", "copysign", "fma", "rcp", "sqrt", "rsqrt", "sin", "cos", "lg2", "ex2", "tanh",
    // comparison and selection, logic and shift
    "set", "setp", "selp", "slct", "and", "or", "xor", "not", "cnot", "lop3", "shf", "shl", "shr",
    // data movement and conversion
    "mov", "shfl", "prmt", "ld", "ldu", "st", "multimem", "prefetch", "prefetchu", "isspacep", "cvta", "cvt",
    "cp", "stmatrix", "ldmatrix", "movmatrix", "mapa", "getctarank", "applypriority", "discard", "createpolicy",
    "tensormap", "red", "alloca", "stacksave", "stackrestore",
    // textures and surfaces
    "tex", "tld4", "txq", "istypep", "suld", "sust", "sured", "suq",
    // control flow
    "bra", "brx", "call", "ret", "exit",
    // synchronisation and communication
    "bar", "barrier", "elect", "mbarrier", "membar", "fence", "atom", "vote", "match", "activemask", "redux",
    "griddepcontrol", "nanosleep", "clusterlaunchcontrol",
    // matrix
    "wmma", "mma", "wgmma", "tcgen05",
    // video
    "vadd", "vsub", "vabsdiff", "vmin", "vmax", "vshl", "vshr", "vmad", "vset", "vadd2", "vsub2", "vavrg2",
    "vabsdiff2", "vmin2", "vmax2", "vset2", "vadd4", "vsub4", "vavrg4", "vabsdiff4", "vmin4", "vmax4", "vset4",
    // miscellaneous
    "brkpt", "pmevent", "trap", "setmaxnreg"};

// Special registers (PTX ISA 9.0, chapter 10), matched on the name before
// any component (.x) or index.
const std::set<std::string> kSpecial = {
    "%tid", "%ntid", "%laneid", "%warpid", "%nwarpid", "%ctaid", "%nctaid", "%smid", "%nsmid", "%gridid",
    "%is_explicit_cluster", "%clusterid", "%nclusterid", "%cluster_ctaid", "%cluster_nctaid",
    "%cluster_ctarank", "%cluster_nctarank", "%lanemask_eq", "%lanemask_le", "%lanemask_lt", "%lanemask_ge",
    "%lanemask_gt", "%clock", "%clock64", "%clock_hi", "%pm", "%pm64", "%envreg", "%globaltimer",
    "%globaltimer_lo", "%globaltimer_hi", "%reserved_smem_offset_begin", "%reserved_smem_offset_end",
    "%reserved_smem_offset_cap", "%reserved_smem_offset", "%total_smem_size", "%aggr_smem_size",
    "%dynamic_smem_size", "%current_graph_exec"};

bool special(const std::string& name) {
    if (name == "WARP_SZ")  // the predefined constant (32)
        return true;
    std::string base = name.substr(0, name.find('.'));
    if (kSpecial.count(base))
        return true;
    size_t e = base.size();
    while (e > 0 && std::isdigit(static_cast<unsigned char>(base[e - 1])))
        e--;
    return e < base.size() && kSpecial.count(base.substr(0, e));  // %pm0, %envreg3
}

// Names declared in one block: plain names, and %r<N> ranges by prefix.
struct Scope {
    std::set<std::string> names;
    std::map<std::string, uint32_t> ranges;

    bool has(const std::string& n) const {
        if (names.count(n))
            return true;
        size_t e = n.size();
        while (e > 0 && std::isdigit(static_cast<unsigned char>(n[e - 1])))
            e--;
        if (e == n.size() || e == 0 || (n.size() - e > 1 && n[e] == '0'))
            return false;
        auto it = ranges.find(n.substr(0, e));
        return it != ranges.end() && std::stoull(n.substr(e, 12)) < it->second;
    }
};

class Checker {
public:
    explicit Checker(std::vector<CheckError>& errs) : errs_(errs) {}

    void module(const Module& m) {
        scopes_.emplace_back();
        for (const auto& it : m.items) {
            if (const auto* v = std::get_if<VarDecl>(&it)) {
                fn_.clear();
                declare(*v);
            } else {
                function(std::get<Function>(it));
            }
        }
    }

private:
    std::vector<CheckError>& errs_;
    std::vector<Scope> scopes_;
    std::string fn_;
    std::set<std::string> labels_;
    std::set<std::string> functions_, defined_;

    void error(Pos p, const std::string& msg) { errs_.push_back({p, fn_, msg}); }

    bool known(const std::string& n) const {
        for (const auto& s : scopes_)
            if (s.has(n))
                return true;
        return false;
    }

    void declare(const VarDecl& v) {
        Scope& s = scopes_.back();
        bool dup = v.range ? s.ranges.count(v.name) > 0 : s.names.count(v.name) > 0;
        if (dup && !(scopes_.size() == 1 && std::count(v.attrs.begin(), v.attrs.end(), "extern")))
            error(v.pos, "'" + v.name + "' is declared twice");
        if (v.range)
            s.ranges[v.name] = *v.range;
        else
            s.names.insert(v.name);
    }

    void function(const Function& f) {
        fn_ = f.name;
        // A definition after a declaration is fine; two definitions are not.
        if (f.has_body && !defined_.insert(f.name).second)
            error(f.pos, "function '" + f.name + "' is defined twice");
        functions_.insert(f.name);
        scopes_.back().names.insert(f.name);
        if (!f.has_body)
            return;
        scopes_.emplace_back();
        for (const auto& p : f.rets)
            declare(p);
        for (const auto& p : f.params)
            declare(p);
        labels_.clear();
        collect_labels(f.body);
        block(f.body);
        scopes_.pop_back();
    }

    void collect_labels(const Body& b) {
        for (const auto& s : b) {
            if (const auto* l = std::get_if<Label>(&s.v)) {
                if (!labels_.insert(l->name).second)
                    error(l->pos, "label '" + l->name + "' is defined twice");
            } else if (const auto* d = std::get_if<Directive>(&s.v)) {
                if (d->name == "callprototype")
                    labels_.insert(d->text.substr(0, d->text.find(' ')));
            } else if (const auto* blk = std::get_if<Block>(&s.v)) {
                collect_labels(blk->body);
            }
        }
    }

    void block(const Body& b) {
        for (const auto& s : b) {
            if (const auto* v = std::get_if<VarDecl>(&s.v)) {
                declare(*v);
            } else if (const auto* in = std::get_if<Instr>(&s.v)) {
                instr(*in);
            } else if (const auto* blk = std::get_if<Block>(&s.v)) {
                scopes_.emplace_back();
                block(blk->body);
                scopes_.pop_back();
            }
        }
    }

    void name(const std::string& n, Pos p, const Instr& in) {
        if (n.empty() || n == "_" || known(n) || labels_.count(n) || special(n))
            return;
        error(p, "'" + n + "' is not declared (in '" + in.op + "')");
    }

    void operand(const Operand& o, const Instr& in) {
        switch (o.kind) {
        case Operand::Kind::Reg:
        case Operand::Kind::Symbol:
        case Operand::Kind::Addr:
            name(o.name, in.pos, in);
            break;
        default:
            break;
        }
        for (const auto& e : o.elems)
            operand(e, in);
    }

    void instr(const Instr& in) {
        if (!is_ptx_opcode(in.op)) {
            error(in.pos, "'" + in.op + "' is not a PTX instruction");
            return;
        }
        if (in.guard)
            name(in.guard->reg, in.pos, in);
        for (const auto& o : in.ops)
            operand(o, in);
        for (const auto& o : in.call_rets)
            operand(o, in);
        for (const auto& o : in.call_args)
            operand(o, in);
        if ((in.op == "bra" || in.op == "brx") && !in.ops.empty() && in.ops[0].kind == Operand::Kind::Symbol &&
            !labels_.count(in.ops[0].name) && !known(in.ops[0].name))
            error(in.pos, "branch to '" + in.ops[0].name + "', which is not a label of this function");
    }
};

void histogram(const Body& b, std::map<std::string, uint64_t>& h) {
    for (const auto& s : b) {
        if (const auto* in = std::get_if<Instr>(&s.v)) {
            std::string k = in->op;
            for (const auto& m : in->mods)
                k += "." + m;
            h[k]++;
        } else if (const auto* blk = std::get_if<Block>(&s.v)) {
            histogram(blk->body, h);
        }
    }
}

}  // namespace

std::string CheckError::text() const {
    return (function.empty() ? std::string("module") : "function " + function) + ", line " + std::to_string(pos.line) +
           ": " + message;
}

bool is_ptx_opcode(const std::string& op) { return kOpcodes.count(op) > 0; }

std::vector<CheckError> check(const Module& m) {
    std::vector<CheckError> errs;
    Checker(errs).module(m);
    return errs;
}

std::map<std::string, uint64_t> instruction_histogram(const Module& m) {
    std::map<std::string, uint64_t> h;
    for (const auto& it : m.items)
        if (const auto* f = std::get_if<Function>(&it))
            histogram(f->body, h);
    return h;
}

}  // namespace gpuvm::ptx
