// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_printf.cpp - see ptx_printf.hpp.  Works on tokens (ptx_lexer.hpp)
// and edits the text in place, as ptx_place.cpp does.
#include "ptx_printf.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "ptx_compile.hpp"
#include "ptx_edit.hpp"
#include "ptx_lexer.hpp"
#include "ptx_parser.hpp"

namespace gpuvm::ptx {
namespace {

using K = Token::Kind;

struct Refused {
    std::string why;
};

// CUDA's declarations: the types of the return value (vprintf's) and
// of each parameter, in order.
const std::map<std::string, std::vector<std::string>> kSignatures = {
    {"vprintf", {"b32", "b64", "b64"}},
    {"__assertfail", {"b64", "b64", "b32", "b64", "b64"}},
};

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
    return b;
}

// The start of a record at %gv4 (kind @kind, the string at %gv0), or a
// jump to @done where the buffer at @buffer is full.
std::string record(uint64_t buffer, int kind, const std::string& done) {
    const uint64_t last = kPrintfCapacity - kPrintfHeader - kPrintfRecord;
    std::string s;
    s += "\tmov.u64 %gv2, " + hex(buffer) + ";\n";
    s += "\tatom.global.add.u64 %gv3, [%gv2], " + std::to_string(kPrintfRecord) + ";\n";
    s += "\tsetp.gt.u64 %gp0, %gv3, " + std::to_string(last) + ";\n";
    s += "\t@%gp0 bra " + done + ";\n";
    s += "\tadd.u64 %gv4, %gv2, %gv3;\n";
    s += "\tst.global.u32 [%gv4+" + std::to_string(kPrintfHeader) + "], " + std::to_string(kind) + ";\n";
    s += "\tst.global.u32 [%gv4+" + std::to_string(kPrintfHeader + 4) + "], " + std::to_string(kPrintfArgBytes) +
         ";\n";
    s += "\tst.global.u64 [%gv4+" + std::to_string(kPrintfHeader + 8) + "], %gv0;\n";
    return s;
}

std::string define_vprintf(uint64_t buffer, const std::vector<PrintfFormat>& formats) {
    const std::string done = "$__gpuvm_vprintf_done";
    std::string s = "// GPUvm: printf's records to the runtime's buffer (ptx_printf.hpp)\n"
                    ".func (.param .b32 __gpuvm_vprintf_ret) __gpuvm_vprintf(.param .b64 __gpuvm_vprintf_fmt, "
                    ".param .b64 __gpuvm_vprintf_args)\n{\n"
                    "\t.reg .b64 %gv<6>;\n\t.reg .b32 %gw<3>;\n\t.reg .pred %gp<3>;\n"
                    "\tld.param.u64 %gv0, [__gpuvm_vprintf_fmt];\n"
                    "\tld.param.u64 %gv1, [__gpuvm_vprintf_args];\n";
    s += record(buffer, 1, done);
    // The argument bytes its format reads: as many as the record holds
    // for a format the module does not hold; none without a buffer.
    s += "\tmov.u32 %gw0, " + std::to_string(kPrintfArgBytes) + ";\n";
    for (size_t i = 0; i < formats.size() && i < kMaxPrintfFormats; i++) {
        s += "\tsetp.eq.u64 %gp1, %gv0, " + hex(formats[i].va) + ";\n";
        s += "\t@%gp1 mov.u32 %gw0, " + std::to_string(std::min(formats[i].arg_bytes, kPrintfArgBytes)) + ";\n";
    }
    s += "\tsetp.eq.u64 %gp1, %gv1, 0;\n\t@%gp1 mov.u32 %gw0, 0;\n";
    const uint32_t args = kPrintfHeader + 16;
    for (uint32_t i = 0; i < kPrintfArgBytes; i += 4) {
        s += "\tsetp.gt.u32 %gp2, %gw0, " + std::to_string(i) + ";\n";
        s += "\t@%gp2 ld.u32 %gw1, [%gv1+" + std::to_string(i) + "];\n";
        s += "\t@%gp2 st.global.u32 [%gv4+" + std::to_string(args + i) + "], %gw1;\n";
    }
    s += done + ":\n\tmov.u32 %gw2, 0;\n\tst.param.b32 [__gpuvm_vprintf_ret], %gw2;\n\tret;\n}\n";
    return s;
}

std::string define_assertfail(uint64_t buffer) {
    const std::string done = "$__gpuvm_assertfail_done";
    std::string s = "// GPUvm: an assertion's record to the runtime's buffer, then the thread exits (ptx_printf.hpp)\n"
                    ".func __gpuvm_assertfail(.param .b64 __gpuvm_assert_msg, .param .b64 __gpuvm_assert_file, "
                    ".param .b32 __gpuvm_assert_line, .param .b64 __gpuvm_assert_fn, .param .b64 "
                    "__gpuvm_assert_size)\n{\n"
                    "\t.reg .b64 %gv<7>;\n\t.reg .b32 %gw<2>;\n\t.reg .pred %gp<1>;\n"
                    "\tld.param.u64 %gv0, [__gpuvm_assert_msg];\n"
                    "\tld.param.u64 %gv1, [__gpuvm_assert_file];\n"
                    "\tld.param.u32 %gw0, [__gpuvm_assert_line];\n"
                    "\tld.param.u64 %gv5, [__gpuvm_assert_fn];\n";
    s += record(buffer, 2, done);
    const uint32_t p = kPrintfHeader + 16;
    s += "\tst.global.u64 [%gv4+" + std::to_string(p) + "], %gv1;\n";
    s += "\tcvt.u64.u32 %gv6, %gw0;\n\tst.global.u64 [%gv4+" + std::to_string(p + 8) + "], %gv6;\n";
    s += "\tst.global.u64 [%gv4+" + std::to_string(p + 16) + "], %gv5;\n";
    static const char* ids[] = {"%ctaid.x", "%ctaid.y", "%ctaid.z", "%tid.x", "%tid.y", "%tid.z"};
    for (int i = 0; i < 6; i++)
        s += std::string("\tmov.u32 %gw1, ") + ids[i] + ";\n\tst.global.u32 [%gv4+" +
             std::to_string(p + 24 + 4 * i) + "], %gw1;\n";
    // The buffer's word at 8 says an assertion failed, even where its
    // record did not fit.
    s += done + ":\n\tst.global.u32 [%gv2+" + std::to_string(kPrintfAssertFlag) + "], 1;\n\tmembar.gl;\n\texit;\n}\n";
    return s;
}

class Definer {
public:
    Definer(std::string_view text, uint64_t buffer, const std::vector<PrintfFormat>& formats)
        : text_(text), buffer_(buffer), formats_(formats), edits_(text) {}

    std::string run() {
        t_ = lex(text_);
        int depth = 0;
        for (size_t i = 0; t_[i].kind != K::End; i++) {
            const Token& x = t_[i];
            if (x.kind == K::Ident && (x.text == "__gpuvm_vprintf" || x.text == "__gpuvm_assertfail"))
                throw Refused{"the text names " + x.text};
            if (x.kind == K::Punct && x.text == "{")
                depth++;
            else if (x.kind == K::Punct && x.text == "}")
                depth--;
            else if (!depth && x.kind == K::Directive && (x.text == "func" || x.text == "extern"))
                i = declaration(i);
        }
        // Every other use of a defined name (the calls) renamed.
        for (size_t i = 0; t_[i].kind != K::End; i++)
            if (t_[i].kind == K::Ident && defined_.count(t_[i].text) && !edits_.covered(at(t_[i])))
                edits_.replace(at(t_[i]), t_[i].text.size(),
                               t_[i].text == "vprintf" ? "__gpuvm_vprintf" : "__gpuvm_assertfail");
        return edits_.apply();
    }

private:
    std::string_view text_;
    uint64_t buffer_;
    const std::vector<PrintfFormat>& formats_;
    std::vector<Token> t_;
    TextEdits edits_;
    std::map<std::string, int> defined_;  // the names whose declarations were made definitions

    size_t at(const Token& t) const { return edits_.at(t); }

    // A module-scope statement from @i that declares or defines a
    // function (@i: .extern or .func, or a directive before them):
    // vprintf's and __assertfail's extern declarations become
    // definitions.  Returns the index of its last token (';' or the
    // body's '{', which the caller then counts).
    size_t declaration(size_t i) {
        size_t start = i;
        bool is_extern = false;
        int nest = 0;
        std::string name;
        std::vector<std::string> types;
        for (; t_[i].kind != K::End; i++) {
            const Token& x = t_[i];
            if (x.kind == K::Punct && (x.text == "(" || x.text == "["))
                nest++;
            else if (x.kind == K::Punct && (x.text == ")" || x.text == "]"))
                nest--;
            else if (x.kind == K::Punct && !nest && (x.text == ";" || x.text == "{"))
                break;
            else if (x.kind == K::Directive && x.text == "extern")
                is_extern = true;
            else if (x.kind == K::Directive && nest && x.text != "param" && x.text != "align" && x.text != "ptr")
                types.push_back(x.text);
            else if (x.kind == K::Ident && !nest && name.empty())
                name = x.text;
        }
        const bool ends = t_[i].kind == K::Punct && t_[i].text == ";";
        auto sig = kSignatures.find(name);
        if (sig == kSignatures.end())
            return ends ? i : i - 1;  // else the caller's loop goes on from the '{' (or the end)
        if (!is_extern || !ends)
            throw Refused{"a definition of " + name};
        if (types != sig->second)
            throw Refused{"a declaration of " + name + " unlike CUDA's"};
        if (defined_[name]++)
            throw Refused{"two declarations of " + name};
        const size_t from = at(t_[start]);
        edits_.replace(from, at(t_[i]) + 1 - from,
                       name == "vprintf" ? define_vprintf(buffer_, formats_) : define_assertfail(buffer_));
        return i;
    }
};

}  // namespace

std::optional<std::string> define_printf(std::string_view text, uint64_t buffer,
                                         const std::vector<PrintfFormat>& formats, std::string* why) {
    try {
        return Definer(text, buffer, formats).run();
    } catch (const Refused& r) {
        *why = r.why;
    } catch (const ParseError& e) {
        *why = std::string("PTX that does not lex: ") + e.what();
    }
    return std::nullopt;
}

}  // namespace gpuvm::ptx
