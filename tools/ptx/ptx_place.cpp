// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_place.cpp - see ptx_place.hpp.  Works on tokens (ptx_lexer.hpp)
// and edits the text in place, so that what it does not touch reaches
// the driver's compiler exactly as nvcc wrote it (the syntax tree drops
// .loc and .section, which a JIT compile may use).
#include "ptx_place.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "ptx_edit.hpp"
#include "ptx_lexer.hpp"
#include "ptx_parser.hpp"

namespace gpuvm::ptx {
namespace {

using K = Token::Kind;

// A refusal: the text is left to the ISA.
struct Refused {
    std::string why;
};

class Placer {
public:
    Placer(std::string_view text, const std::vector<GlobalInfo>& globals, uint64_t data_va)
        : text_(text), edits_(text) {
        for (const auto& g : globals)
            addr_[g.name] = data_va + g.offset;
    }

    std::string run() {
        t_ = lex(text_);
        for (size_t i = 0; t_[i].kind != K::End;)
            i = statement(i);
        for (const auto& [name, va] : addr_)
            if (!declared_.count(name))
                throw Refused{"the variable " + name + " is not declared at module scope"};
        return edits_.apply();
    }

private:
    std::string_view text_;
    std::vector<Token> t_;
    std::map<std::string, uint64_t> addr_;  // variable -> its address
    std::set<std::string> declared_;        // the variables whose declaration went
    TextEdits edits_;

    size_t at(const Token& t) const { return edits_.at(t); }
    bool punct(size_t i, const char* p) const { return t_[i].kind == K::Punct && t_[i].text == p; }
    bool is_var(const Token& t) const { return t.kind == K::Ident && addr_.count(t.text); }

    // The index of the '}' that closes the '{' at @open.
    size_t closing(size_t open) const {
        int depth = 0;
        for (size_t k = open; t_[k].kind != K::End; k++) {
            if (punct(k, "{"))
                depth++;
            else if (punct(k, "}") && --depth == 0)
                return k;
        }
        throw Refused{"a '{' that is never closed"};
    }

    // One module-scope statement from @i; returns where the next starts.
    size_t statement(size_t i) {
        static const std::set<std::string> bare = {"version", "target", "address_size", "file", "loc"};
        if (t_[i].kind == K::Directive && bare.count(t_[i].text)) {  // no ';': its operands alone
            for (i++; t_[i].kind == K::Ident || t_[i].kind == K::Number || t_[i].kind == K::String || punct(i, ",");)
                i++;
            return i;
        }
        bool fn = false, var = false, init = false;
        int nest = 0;
        std::vector<size_t> names, params;
        size_t j = i;
        for (; t_[j].kind != K::End; j++) {
            const Token& x = t_[j];
            if (x.kind == K::Punct) {
                if (x.text == "(" || x.text == "[")
                    nest++;
                else if (x.text == ")" || x.text == "]")
                    nest--;
                else if (x.text == "=" && !nest)
                    init = true;
                else if (x.text == "{" && !nest && !init)
                    break;
                else if (x.text == "{")
                    j = closing(j);  // an initializer's braces
                else if (x.text == ";" && !nest)
                    break;
            } else if (x.kind == K::Directive && !nest && !init) {
                if (x.text == "entry" || x.text == "func")
                    fn = true;
                else if (x.text == "global" || x.text == "const")
                    var = true;
                else if (x.text == "texref" || x.text == "samplerref" || x.text == "surfref")
                    throw Refused{"a ." + x.text + " variable"};
            } else if (x.kind == K::Ident && !init) {
                (nest ? params : names).push_back(j);
            }
        }
        if (t_[j].kind == K::End)
            return j;
        if (fn) {
            for (size_t p : params)
                if (is_var(t_[p]))
                    throw Refused{"a parameter named as the variable " + t_[p].text};
            return punct(j, "{") ? body(j) + 1 : j + 1;
        }
        if (var) {
            if (std::find_if(t_.begin() + i, t_.begin() + j, [](const Token& x) {
                    return x.kind == K::Directive && x.text == "extern";
                }) != t_.begin() + j)
                throw Refused{"an .extern variable (another module's)"};
            if (!punct(j, ";"))
                throw Refused{"a variable declaration that does not end with ';'"};
            for (size_t n : names) {
                if (!is_var(t_[n]))
                    throw Refused{"the variable " + t_[n].text + " is not one the compile placed"};
                declared_.insert(t_[n].text);
            }
            size_t from = at(t_[i]);
            edits_.replace(from, at(t_[j]) + 1 - from, "");
            return j + 1;
        }
        return punct(j, "{") ? closing(j) + 1 : j + 1;  // .section's braces, a .pragma
    }

    // A function's body from its '{' at @open: the variables it names
    // get their registers, its constant-space instructions the global
    // space.  Returns the index of its '}'.
    size_t body(size_t open) {
        static const std::set<std::string> decl = {"reg", "shared", "local", "param", "tex", "sreg"};
        const size_t close = closing(open);
        std::set<std::string> used;
        bool declaring = false;  // the statement so far is a declaration
        for (size_t k = open + 1; k < close; k++) {
            const Token& x = t_[k];
            if (x.kind == K::Punct && (x.text == ";" || x.text == "{" || x.text == "}")) {
                declaring = false;
            } else if (x.kind == K::Directive) {
                if (x.text == "global" || x.text == "const")
                    throw Refused{"a ." + x.text + " declaration inside a function"};
                declaring = declaring || decl.count(x.text);
            } else if (is_var(x)) {
                if (declaring || punct(k + 1, ":"))
                    throw Refused{"a register, label or local named as the variable " + x.text};
                used.insert(x.text);
            } else if (x.kind == K::Ident) {
                constant_space(x);
            }
        }
        if (!used.empty()) {
            std::string add = "\n\t.reg .u64 ";
            for (const auto& n : used)
                add += n + (n == *used.rbegin() ? ";\n" : ", ");
            for (const auto& n : used) {
                char va[32];
                std::snprintf(va, sizeof(va), "0x%llx", static_cast<unsigned long long>(addr_.at(n)));
                add += "\tmov.u64 " + n + ", " + va + ";\n";
            }
            edits_.replace(at(t_[open]) + 1, 0, add);
        }
        return close;
    }

    // An opcode with the .const modifier: ld.const, ldu.const,
    // cvta.const and cvta.to.const read the global space instead;
    // another (isspacep.const) is refused.
    void constant_space(const Token& x) {
        size_t dot = x.text.find('.');
        if (dot == std::string::npos)
            return;
        const std::string base = x.text.substr(0, dot);
        for (size_t s = dot; s != std::string::npos; s = x.text.find('.', s + 1)) {
            size_t e = x.text.find('.', s + 1);
            if (x.text.compare(s + 1, (e == std::string::npos ? x.text.size() : e) - s - 1, "const") != 0)
                continue;
            if (base != "ld" && base != "ldu" && base != "cvta")
                throw Refused{"the instruction " + x.text + " (the constant space)"};
            edits_.replace(at(x) + s + 1, 5, "global");
        }
    }
};

}  // namespace

std::optional<std::string> place_variables(std::string_view text, const std::vector<GlobalInfo>& globals,
                                           uint64_t data_va, std::string* why) {
    try {
        return Placer(text, globals, data_va).run();
    } catch (const Refused& r) {
        *why = r.why;
    } catch (const ParseError& e) {
        *why = std::string("PTX that does not lex: ") + e.what();
    }
    return std::nullopt;
}

}  // namespace gpuvm::ptx
