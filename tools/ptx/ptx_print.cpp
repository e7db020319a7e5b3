// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_print.cpp - a syntax tree as PTX text again (ptx_parser.hpp's
// print()).  What parse() skipped (.file, .loc, .section, top-level
// .pragma) is not printed; everything else is, so that parsing the
// output gives the same tree (positions aside) and ptxas accepts it.
#include <cstdio>
#include <sstream>

#include "ptx_parser.hpp"

namespace gpuvm::ptx {
namespace {

std::string hex(uint64_t v, int digits) {
    char b[24];
    std::snprintf(b, sizeof(b), "%0*llX", digits, static_cast<unsigned long long>(v));
    return b;
}

// A string as the lexer reads it back (\" and \\ escaped).
std::string escaped(const std::string& t) {
    std::string s;
    for (char c : t) {
        if (c == '"' || c == '\\')
            s += '\\';
        s += c;
    }
    return s;
}

std::string operand(const Operand& o) {
    std::string s = o.negated ? "!" : "";
    switch (o.kind) {
    case Operand::Kind::Reg:
    case Operand::Kind::Sink:
        return s + o.name;
    case Operand::Kind::Symbol:
        return s + o.name + (o.imm ? "+" + std::to_string(o.imm) : "");
    case Operand::Kind::Imm:
        return s + std::to_string(o.imm);
    case Operand::Kind::FImm:
        return s + (o.fimm_double ? "0d" + hex(static_cast<uint64_t>(o.imm), 16)
                                  : "0f" + hex(static_cast<uint32_t>(o.imm), 8));
    case Operand::Kind::Addr: {
        s += "[" + (o.name.empty() ? std::to_string(static_cast<uint64_t>(o.imm)) : o.name);
        if (!o.name.empty() && o.imm)
            s += "+" + std::to_string(o.imm);  // [%rd1+-4]: ptxas refuses [%rd1-4]
        for (const auto& e : o.elems)
            s += ", " + operand(e);
        return s + "]";
    }
    case Operand::Kind::Vec:
    case Operand::Kind::Pair: {
        bool vec = o.kind == Operand::Kind::Vec;
        s += vec ? "{" : "";
        for (size_t i = 0; i < o.elems.size(); i++)
            s += (i ? (vec ? ", " : "|") : "") + operand(o.elems[i]);
        return s + (vec ? "}" : "");
    }
    }
    return s;
}

std::string list(const std::vector<Operand>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); i++)
        s += (i ? ", " : "") + operand(v[i]);
    return s;
}

std::string decl(const VarDecl& v) {
    std::string s;
    for (const auto& a : v.attrs)
        s += "." + a + " ";
    s += "." + v.space;
    if (v.align)
        s += " .align " + std::to_string(v.align);
    if (v.vec)
        s += " .v" + std::to_string(v.vec);
    s += " ." + v.type;
    for (size_t i = 0; i < v.ptr.size(); i++)
        s += (v.ptr[i][0] >= '0' && v.ptr[i][0] <= '9') ? " " + v.ptr[i] : " ." + v.ptr[i];
    s += " " + v.name;
    if (v.range)
        s += "<" + std::to_string(*v.range) + ">";
    for (auto d : v.dims)
        s += "[" + (d ? std::to_string(d) : "") + "]";
    if (v.has_init)
        s += v.dims.empty() && v.init.size() == 1 ? " = " + operand(v.init[0]) : " = {" + list(v.init) + "}";
    return s;
}

void body(std::ostream& o, const Body& b, int indent);

struct StmtPrinter {
    std::ostream& o;
    int indent;
    std::string pad() const { return std::string(static_cast<size_t>(indent), '\t'); }
    void operator()(const Instr& in) const {
        o << pad();
        if (in.guard)
            o << "@" << (in.guard->negated ? "!" : "") << in.guard->reg << " ";
        o << in.op;
        for (const auto& m : in.mods)
            o << "." << m;
        if (in.op == "call") {
            o << " ";
            if (!in.call_rets.empty())
                o << "(" << list(in.call_rets) << "), ";
            o << operand(in.ops.at(0));
            if (!in.call_args.empty())
                o << ", (" << list(in.call_args) << ")";
            for (size_t i = 1; i < in.ops.size(); i++)
                o << ", " << operand(in.ops[i]);
        } else if (!in.ops.empty()) {
            o << " " << list(in.ops);
        }
        o << ";\n";
    }
    void operator()(const VarDecl& v) const { o << pad() << decl(v) << ";\n"; }
    void operator()(const Label& l) const { o << l.name << ":\n"; }
    void operator()(const Directive& d) const {
        if (d.name == "pragma")
            o << pad() << ".pragma \"" << escaped(d.text) << "\";\n";
        else if (d.name == "callprototype")
            o << pad() << d.text.substr(0, d.text.find(' ')) << ": .callprototype "
              << d.text.substr(d.text.find(' ') + 1) << ";\n";
    }
    void operator()(const Block& b) const {
        o << pad() << "{\n";
        body(o, b.body, indent + 1);
        o << pad() << "}\n";
    }
};

void body(std::ostream& o, const Body& b, int indent) {
    for (const auto& s : b)
        std::visit(StmtPrinter{o, indent}, s.v);
}

void function(std::ostream& o, const Function& f) {
    for (const auto& a : f.attrs)
        o << "." << a << " ";
    o << (f.entry ? ".entry " : ".func ");
    auto params = [&](const std::vector<VarDecl>& ps) {
        o << "(";
        for (size_t i = 0; i < ps.size(); i++)
            o << (i ? ",\n\t" : "\n\t") << decl(ps[i]);
        o << "\n)";
    };
    if (!f.rets.empty()) {
        params(f.rets);
        o << " ";
    }
    o << f.name;
    if (!f.params.empty() || f.entry)
        params(f.params);
    o << "\n";
    for (const auto& [d, vals] : f.perf) {
        o << "." << d;
        for (size_t i = 0; i < vals.size(); i++)
            o << (i ? ", " : " ") << vals[i];
        o << "\n";
    }
    if (f.noreturn)
        o << ".noreturn\n";
    if (!f.has_body) {
        o << ";\n\n";
        return;
    }
    o << "{\n";
    body(o, f.body, 1);
    o << "}\n\n";
}

}  // namespace

std::string print(const Module& m) {
    std::ostringstream o;
    o << ".version " << m.version_major << "." << m.version_minor << "\n.target ";
    for (size_t i = 0; i < m.target.size(); i++)
        o << (i ? ", " : "") << m.target[i];
    o << "\n.address_size " << m.address_size << "\n\n";
    for (const auto& it : m.items) {
        if (const auto* v = std::get_if<VarDecl>(&it))
            o << decl(*v) << ";\n";
        else
            function(o, std::get<Function>(it));
    }
    return o.str();
}

}  // namespace gpuvm::ptx
