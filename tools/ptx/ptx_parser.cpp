// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_parser.cpp - recursive descent over ptx_lexer.hpp's tokens (see
// ptx_parser.hpp for what is accepted).
#include "ptx_parser.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "ptx_lexer.hpp"

namespace gpuvm::ptx {
namespace {

using K = Token::Kind;

// State spaces a declaration may name; linkage attributes before it.
const std::set<std::string> kSpaces = {"reg", "shared", "global", "const", "local", "param", "tex", "sreg"};
const std::set<std::string> kLinkage = {"visible", "extern", "weak", "common"};
// Fundamental types (PTX ISA 9.0, 5.2), and the opaque ones of textures.
const std::set<std::string> kTypes = {
    "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64", "f16", "f16x2", "f32", "f64", "b8", "b16", "b32",
    "b64", "b128", "pred", "bf16", "bf16x2", "e4m3", "e5m2", "e4m3x2", "e5m2x2", "tf32", "texref", "samplerref",
    "surfref"};
// Performance tuning directives of a function, with their counts of values.
const std::set<std::string> kPerf = {"maxntid", "reqntid", "minnctapersm", "maxnctapersm", "maxnreg",
                                     "reqnctapercluster", "explicitcluster", "maxclusterrank"};

class Parser {
public:
    explicit Parser(std::vector<Token> t) : t_(std::move(t)) {}

    Module module() {
        Module m;
        header(m);
        while (!at_end())
            item(m);
        return m;
    }

private:
    std::vector<Token> t_;
    size_t i_ = 0;
    int depth_ = 0;

    const Token& peek(size_t k = 0) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
    bool at_end() const { return peek().kind == K::End; }
    const Token& get() {
        const Token& t = peek();
        if (t.kind != K::End)
            i_++;
        return t;
    }
    bool is(K k, std::string_view s = {}) const { return peek().kind == k && (s.empty() || peek().text == s); }
    bool punct(std::string_view s) const { return is(K::Punct, s); }
    bool dir(std::string_view s) const { return is(K::Directive, s); }
    bool accept(K k, std::string_view s) {
        if (!is(k, s))
            return false;
        get();
        return true;
    }

    [[noreturn]] void fail(const std::string& what) const {
        const Token& t = peek();
        std::string found = t.kind == K::End ? "the end of the text"
                            : t.kind == K::Directive ? "'." + t.text + "'"
                                                     : "'" + t.text + "'";
        throw ParseError(t.pos, "expected " + what + ", found " + found);
    }
    void expect(std::string_view punct_text) {
        if (!accept(K::Punct, punct_text))
            fail("'" + std::string(punct_text) + "'");
    }
    std::string ident(const char* what) {
        if (!is(K::Ident))
            fail(what);
        return get().text;
    }

    uint64_t unsigned_number(const char* what) {
        if (!is(K::Number))
            fail(what);
        Pos p = peek().pos;
        Operand o = number(get().text, p);
        if (o.kind != Operand::Kind::Imm || o.imm < 0)
            throw ParseError(p, std::string(what) + " must be a non-negative integer");
        return static_cast<uint64_t>(o.imm);
    }

    // Skips to the end of the line of the token before (.loc, .file).
    void skip_line() {
        uint32_t line = t_[i_ - 1].pos.line;
        while (!at_end() && peek().pos.line == line)
            get();
    }

    // A braced region skipped whole (.section's debug data).
    void skip_braces() {
        expect("{");
        for (int d = 1; d > 0;) {
            if (at_end())
                fail("'}'");
            const Token& t = get();
            if (t.kind == K::Punct && t.text == "{")
                d++;
            else if (t.kind == K::Punct && t.text == "}")
                d--;
        }
    }

    static Operand number(const std::string& s, Pos p);
    void header(Module& m);
    void item(Module& m);
    void function(Module& m, std::vector<std::string> attrs, Pos pos);
    void params(std::vector<VarDecl>& out);
    VarDecl param();
    std::vector<VarDecl> declaration(std::vector<std::string> attrs, Pos pos);
    void initializer(VarDecl& v);
    Body body();
    void statement(Body& b);
    Instr instruction(std::optional<Guard> g, Pos pos);
    void call_operands(Instr& in);
    Operand operand();
    Operand primary();
    Operand address();
    int64_t offset();
};

// Integer (decimal, 0x, 0b, octal with a leading 0, optional U suffix),
// 0f/0d hex float or decimal float.
Operand Parser::number(const std::string& s, Pos p) {
    Operand o;
    o.kind = Operand::Kind::Imm;
    if (s.size() > 2 && s[0] == '0' && std::strchr("fFdD", s[1])) {
        bool dbl = s[1] == 'd' || s[1] == 'D';
        std::string h = s.substr(2);
        if (h.size() != (dbl ? 16u : 8u) || h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            throw ParseError(p, "malformed floating-point literal '" + s + "'");
        o.kind = Operand::Kind::FImm;
        o.fimm_double = dbl;
        o.imm = static_cast<int64_t>(std::strtoull(h.c_str(), nullptr, 16));
        return o;
    }
    if (s.find_first_of(".eE") != std::string::npos && !(s.size() > 1 && (s[1] == 'x' || s[1] == 'X'))) {
        char* end = nullptr;
        errno = 0;
        double d = std::strtod(s.c_str(), &end);
        if (*end || errno)
            throw ParseError(p, "malformed number '" + s + "'");
        o.kind = Operand::Kind::FImm;
        o.fimm_double = true;
        std::memcpy(&o.imm, &d, 8);
        return o;
    }
    std::string d = s;
    if (!d.empty() && (d.back() == 'U' || d.back() == 'u'))
        d.pop_back();
    int base = 10;
    size_t skip = 0;
    if (d.size() > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
        base = 16, skip = 2;
    else if (d.size() > 2 && d[0] == '0' && (d[1] == 'b' || d[1] == 'B'))
        base = 2, skip = 2;
    else if (d.size() > 1 && d[0] == '0')
        base = 8, skip = 1;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(d.c_str() + skip, &end, base);
    if (d.size() == skip || *end || errno)
        throw ParseError(p, "malformed number '" + s + "'");
    o.imm = static_cast<int64_t>(v);
    return o;
}

// .version X.Y  .target a[, b]  .address_size N, in this order (the
// last may be left out: 64 then).
void Parser::header(Module& m) {
    while (accept(K::Directive, "file"))
        skip_line();
    if (!accept(K::Directive, "version"))
        fail("'.version' (the first directive of a PTX module)");
    Pos p = peek().pos;
    if (!is(K::Number))
        fail("a version number such as 9.0");
    std::string v = get().text;
    size_t dot = v.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 >= v.size() ||
        v.find_first_not_of("0123456789.") != std::string::npos || v.find('.', dot + 1) != std::string::npos)
        throw ParseError(p, "malformed PTX version '" + v + "'");
    m.version_major = static_cast<uint32_t>(std::strtoul(v.substr(0, dot).c_str(), nullptr, 10));
    m.version_minor = static_cast<uint32_t>(std::strtoul(v.substr(dot + 1).c_str(), nullptr, 10));
    if (!accept(K::Directive, "target"))
        fail("'.target'");
    do
        m.target.push_back(ident("a target such as sm_75"));
    while (accept(K::Punct, ","));
    if (accept(K::Directive, "address_size")) {
        Pos q = peek().pos;
        uint64_t n = unsigned_number("an address size");
        if (n != 32 && n != 64)
            throw ParseError(q, "address size must be 32 or 64");
        m.address_size = static_cast<uint32_t>(n);
    }
}

void Parser::item(Module& m) {
    Pos pos = peek().pos;
    if (accept(K::Directive, "file") || accept(K::Directive, "loc")) {
        skip_line();
        return;
    }
    if (accept(K::Directive, "section")) {
        while (!punct("{") && !at_end())
            get();
        skip_braces();
        return;
    }
    if (accept(K::Directive, "pragma")) {
        if (!is(K::String))
            fail("a string after .pragma");
        get();
        expect(";");
        return;
    }
    std::vector<std::string> attrs;
    while (is(K::Directive) && kLinkage.count(peek().text))
        attrs.push_back(get().text);
    if (dir("entry") || dir("func")) {
        function(m, std::move(attrs), pos);
        return;
    }
    if (is(K::Directive) && kSpaces.count(peek().text)) {
        for (auto& v : declaration(std::move(attrs), pos))
            m.items.emplace_back(std::move(v));
        return;
    }
    fail("a kernel (.entry), a function (.func) or a variable declaration");
}

// [.entry|.func] [(return params)] name [(params)] [perf directives] {body} | ;
void Parser::function(Module& m, std::vector<std::string> attrs, Pos pos) {
    Function f;
    f.pos = pos;
    f.attrs = std::move(attrs);
    f.entry = get().text == "entry";
    if (!f.entry && punct("("))
        params(f.rets);
    f.name = ident("a function name");
    if (punct("("))
        params(f.params);
    while (is(K::Directive)) {
        std::string d = peek().text;
        if (d == "noreturn") {
            get();
            f.noreturn = true;
        } else if (kPerf.count(d)) {
            get();
            std::vector<uint64_t> vals;
            if (is(K::Number)) {
                do
                    vals.push_back(unsigned_number("a number"));
                while (accept(K::Punct, ","));
            }
            f.perf.emplace_back(d, std::move(vals));
        } else if (d == "pragma") {
            get();
            if (!is(K::String))
                fail("a string after .pragma");
            get();
            expect(";");
        } else {
            fail("a performance directive or the function's body");
        }
    }
    if (accept(K::Punct, ";")) {
        m.items.emplace_back(std::move(f));
        return;
    }
    if (!punct("{"))
        fail("'{' or ';' after the function's signature");
    f.has_body = true;
    f.body = body();
    m.items.emplace_back(std::move(f));
}

void Parser::params(std::vector<VarDecl>& out) {
    expect("(");
    if (accept(K::Punct, ")"))
        return;
    do
        out.push_back(param());
    while (accept(K::Punct, ","));
    expect(")");
}

// .param [.align N] type [.ptr [.space] [.align N]] name [[N]]; also .reg type name.
VarDecl Parser::param() {
    VarDecl v;
    v.pos = peek().pos;
    if (!dir("param") && !dir("reg"))
        fail("'.param' or '.reg' (a parameter)");
    v.space = get().text;
    while (is(K::Directive)) {
        std::string d = get().text;
        if (d == "align") {
            v.align = static_cast<uint32_t>(unsigned_number("an alignment"));
        } else if (d == "ptr") {
            v.ptr.push_back("ptr");
            while (is(K::Directive) && (kSpaces.count(peek().text) || peek().text == "align")) {
                std::string q = get().text;
                v.ptr.push_back(q);
                if (q == "align")
                    v.ptr.push_back(std::to_string(unsigned_number("an alignment")));
            }
        } else if (d == "v2" || d == "v4" || d == "v8") {
            v.vec = static_cast<uint32_t>(d[1] - '0');
        } else if (kTypes.count(d)) {
            v.type = d;
        } else {
            throw ParseError(t_[i_ - 1].pos, "unknown parameter attribute '." + d + "'");
        }
    }
    if (v.type.empty())
        fail("the parameter's type");
    v.name = ident("the parameter's name");
    while (accept(K::Punct, "[")) {
        v.dims.push_back(punct("]") ? 0 : unsigned_number("an array size"));
        expect("]");
    }
    return v;
}

// [linkage] .space [.align N] [.vN] .type name[<N>][[N]...][= init][, name...];
std::vector<VarDecl> Parser::declaration(std::vector<std::string> attrs, Pos pos) {
    VarDecl v;
    v.pos = pos;
    v.attrs = std::move(attrs);
    v.space = get().text;
    while (is(K::Directive)) {
        std::string d = get().text;
        if (d == "align")
            v.align = static_cast<uint32_t>(unsigned_number("an alignment"));
        else if (d == "v2" || d == "v4" || d == "v8")
            v.vec = static_cast<uint32_t>(d[1] - '0');
        else if (kTypes.count(d))
            v.type = d;
        else if (kLinkage.count(d))
            v.attrs.push_back(d);
        else
            throw ParseError(t_[i_ - 1].pos, "unknown attribute '." + d + "' in a declaration");
    }
    if (v.type.empty())
        fail("the declaration's type");
    std::vector<VarDecl> out;
    do {
        VarDecl d = v;
        d.pos = peek().pos;
        d.name = ident("a name");
        if (accept(K::Punct, "<")) {
            d.range = static_cast<uint32_t>(unsigned_number("a register count"));
            expect(">");
        }
        while (accept(K::Punct, "[")) {
            d.dims.push_back(punct("]") ? 0 : unsigned_number("an array size"));
            expect("]");
        }
        if (accept(K::Punct, "="))
            initializer(d);
        out.push_back(std::move(d));
    } while (accept(K::Punct, ","));
    expect(";");
    return out;
}

// = value | = {v, v, ...} | nested braces for arrays of arrays (flattened).
void Parser::initializer(VarDecl& v) {
    v.has_init = true;
    if (!punct("{")) {
        v.init.push_back(operand());
        return;
    }
    int nest = 0;
    do {
        if (accept(K::Punct, "{")) {
            if (++nest > kMaxDepth)
                fail("an initializer nested less deeply");
            continue;
        }
        if (nest == 0)
            break;
        if (accept(K::Punct, "}")) {
            nest--;
            continue;
        }
        if (accept(K::Punct, ","))
            continue;
        v.init.push_back(operand());
        if (v.init.size() > (64u << 20))
            fail("a smaller initializer");
    } while (nest > 0 && !at_end());
    if (nest)
        fail("'}'");
}

Body Parser::body() {
    expect("{");
    if (++depth_ > kMaxDepth)
        fail("blocks nested less deeply (at most 64)");
    Body b;
    while (!punct("}")) {
        if (at_end())
            fail("'}'");
        statement(b);
    }
    get();
    depth_--;
    return b;
}

void Parser::statement(Body& b) {
    Pos pos = peek().pos;
    if (punct("{")) {
        Block blk;
        blk.pos = pos;
        blk.body = body();
        b.push_back({std::move(blk)});
        return;
    }
    if (is(K::Directive)) {
        std::string d = peek().text;
        if (d == "loc" || d == "file") {
            get();
            skip_line();
            return;
        }
        if (d == "pragma") {
            get();
            if (!is(K::String))
                fail("a string after .pragma");
            b.push_back({Directive{pos, "pragma", get().text}});
            expect(";");
            return;
        }
        if (kSpaces.count(d) || kLinkage.count(d)) {
            std::vector<std::string> attrs;
            while (is(K::Directive) && kLinkage.count(peek().text))
                attrs.push_back(get().text);
            if (!is(K::Directive) || !kSpaces.count(peek().text))
                fail("a state space after the linkage");
            for (auto& v : declaration(std::move(attrs), pos))
                b.push_back({std::move(v)});
            return;
        }
        fail("an instruction, a label or a declaration");
    }
    if (is(K::Ident) && peek(1).kind == K::Punct && peek(1).text == ":") {
        std::string name = get().text;
        get();
        if (accept(K::Directive, "callprototype")) {
            // name: .callprototype (ret) _ (params); kept as written.
            std::string text;
            while (!punct(";") && !at_end()) {
                const Token& t = get();
                std::string w = t.kind == K::Directive ? "." + t.text : t.kind == K::String ? "\"" + t.text + "\"" : t.text;
                text += (text.empty() ? "" : " ") + w;
            }
            expect(";");
            b.push_back({Directive{pos, "callprototype", name + " " + text}});
            return;
        }
        b.push_back({Label{pos, name}});
        return;
    }
    std::optional<Guard> g;
    if (accept(K::Punct, "@")) {
        Guard gd;
        gd.negated = accept(K::Punct, "!");
        gd.reg = ident("a predicate register after '@'");
        g = gd;
    }
    b.push_back({instruction(std::move(g), pos)});
}

Instr Parser::instruction(std::optional<Guard> g, Pos pos) {
    Instr in;
    in.pos = pos;
    in.guard = std::move(g);
    std::string w = ident("an instruction");
    size_t dot = w.find('.');
    in.op = w.substr(0, dot);
    while (dot != std::string::npos) {
        size_t next = w.find('.', dot + 1);
        std::string m = w.substr(dot + 1, next == std::string::npos ? std::string::npos : next - dot - 1);
        if (m.empty())
            throw ParseError(pos, "empty modifier in '" + w + "'");
        in.mods.push_back(m);
        dot = next;
    }
    if (in.op == "call") {
        call_operands(in);
    } else if (!punct(";")) {
        do
            in.ops.push_back(operand());
        while (accept(K::Punct, ","));
    }
    expect(";");
    return in;
}

// call [(rets),] target [, (args)] [, prototype | target list];
void Parser::call_operands(Instr& in) {
    auto list = [&](std::vector<Operand>& out) {
        expect("(");
        if (!punct(")")) {
            do
                out.push_back(operand());
            while (accept(K::Punct, ","));
        }
        expect(")");
    };
    if (punct("(")) {
        list(in.call_rets);
        expect(",");
    }
    in.ops.push_back(operand());  // the target: a function name or a register
    if (!accept(K::Punct, ","))
        return;
    if (punct("("))
        list(in.call_args);
    else
        in.ops.push_back(operand());
    if (accept(K::Punct, ","))
        in.ops.push_back(operand());  // prototype or jump table
}

// [!]primary [| primary]
Operand Parser::operand() {
    bool neg = accept(K::Punct, "!");
    Operand o = primary();
    o.negated = neg;
    if (accept(K::Punct, "|")) {
        Operand pair;
        pair.kind = Operand::Kind::Pair;
        pair.elems.push_back(std::move(o));
        pair.elems.push_back(primary());
        return pair;
    }
    return o;
}

Operand Parser::primary() {
    Pos pos = peek().pos;
    if (punct("["))
        return address();
    if (accept(K::Punct, "{")) {
        Operand v;
        v.kind = Operand::Kind::Vec;
        if (++depth_ > kMaxDepth)
            fail("operands nested less deeply");
        do
            v.elems.push_back(operand());
        while (accept(K::Punct, ","));
        expect("}");
        depth_--;
        return v;
    }
    bool minus = accept(K::Punct, "-");
    if (is(K::Number)) {
        Operand o = number(get().text, pos);
        if (minus) {
            if (o.kind == Operand::Kind::FImm && !o.fimm_double)
                o.imm ^= int64_t{1} << 31;
            else if (o.kind == Operand::Kind::FImm)
                o.imm ^= INT64_MIN;
            else
                o.imm = static_cast<int64_t>(0 - static_cast<uint64_t>(o.imm));
        }
        return o;
    }
    if (minus)
        fail("a number after '-'");
    Operand o;
    o.name = ident("an operand");
    o.kind = o.name == "_" ? Operand::Kind::Sink : o.name[0] == '%' ? Operand::Kind::Reg : Operand::Kind::Symbol;
    if (o.kind == Operand::Kind::Symbol)
        o.imm = offset();
    return o;
}

// After a name: +N, -N or +-N (as the printer writes a negative one), or
// nothing (0).
int64_t Parser::offset() {
    if (!punct("+") && !punct("-"))
        return 0;
    bool sub = get().text == "-";
    if (accept(K::Punct, "-"))
        sub = !sub;
    Pos q = peek().pos;
    if (!is(K::Number))
        fail("an offset");
    Operand n = number(get().text, q);
    if (n.kind != Operand::Kind::Imm)
        throw ParseError(q, "an offset must be an integer");
    return sub ? static_cast<int64_t>(0 - static_cast<uint64_t>(n.imm)) : n.imm;
}

// [base], [base+off], [base+-off], [base-off], [imm]; [a, {b, c}] (textures)
Operand Parser::address() {
    expect("[");
    if (++depth_ > kMaxDepth)
        fail("addresses nested less deeply");
    Operand a;
    a.kind = Operand::Kind::Addr;
    if (is(K::Number)) {
        Pos q = peek().pos;
        Operand n = number(get().text, q);
        if (n.kind != Operand::Kind::Imm)
            throw ParseError(q, "an address must be an integer");
        a.imm = n.imm;
        expect("]");
        depth_--;
        return a;
    }
    a.name = ident("an address");
    a.imm = offset();
    while (accept(K::Punct, ","))
        a.elems.push_back(operand());
    expect("]");
    depth_--;
    return a;
}

}  // namespace

Module parse(std::string_view text) {
    if (text.size() > kMaxText)
        throw ParseError({1, 1}, "PTX text of " + std::to_string(text.size()) + " bytes is larger than the limit");
    return Parser(lex(text)).module();
}

}  // namespace gpuvm::ptx
