// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lexer.hpp - PTX text to tokens, for ptx_parser.cpp.  Comments
// (// and /* */) are dropped; every token keeps its position.
//
//   Ident      [A-Za-z_$%][A-Za-z0-9_$.]*  (opcodes with their modifiers,
//              "ld.global.v2.f32", and %tid.x are one token each)
//   Directive  .[A-Za-z_][A-Za-z0-9_]*      (.reg .b32 .global .v2)
//   Number     decimal, 0x hex, 0b binary, 0f/0d hex floats, decimal
//              floats, an optional U suffix
//   String     "..." (no escapes beyond \" and \\)
//   Punct      one of { } [ ] ( ) ; , : < > + - ! @ | =
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ptx_ast.hpp"

namespace gpuvm::ptx {

struct Token {
    enum class Kind { Ident, Directive, Number, String, Punct, End };
    Kind kind = Kind::End;
    std::string text;  // as written (Directive without its dot, String without quotes)
    Pos pos;
};

// Throws ParseError on a character no token starts with, or an
// unterminated comment or string.
std::vector<Token> lex(std::string_view text);

}  // namespace gpuvm::ptx
