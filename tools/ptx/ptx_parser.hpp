// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_parser.hpp - PTX text to a syntax tree (ptx_ast.hpp).  Accepts the
// PTX that nvcc 11.8 to 13 and clang emit (PTX ISA 6.0 to 9.x): module
// directives, globals with initializers, kernels and device functions
// with their parameters and performance directives, nested blocks,
// labels, call prototypes, guards, every operand form (registers,
// vectors, a|b pairs, addresses, 0f/0d literals); .file, .loc and
// .section (debug information) are skipped.  Anything else is a
// ParseError naming the line, the column and what was found: the parser
// never crashes and bounds its work by the input (nesting is limited,
// see kMaxDepth), so it is safe on hostile text (fuzz/fuzz_ptx.cpp).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "ptx_ast.hpp"

namespace gpuvm::ptx {

class ParseError : public std::runtime_error {
public:
    ParseError(Pos pos, const std::string& what)
        : std::runtime_error("line " + std::to_string(pos.line) + ", column " + std::to_string(pos.col) + ": " +
                             what),
          pos_(pos) {}
    Pos pos() const { return pos_; }

private:
    Pos pos_;
};

// Nested blocks deeper than this are refused (nvcc nests two or three).
constexpr int kMaxDepth = 64;
// Inputs larger than this are refused (the largest PTX of the CUDA
// samples is under 2 MiB; the tokens take about 50 times the text).
constexpr size_t kMaxText = 16u << 20;

Module parse(std::string_view text);

// The module as PTX text again (the printer of the round-trip tests).
std::string print(const Module& m);

}  // namespace gpuvm::ptx
