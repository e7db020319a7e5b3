// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_check.hpp - the checks a parsed module must pass before anything
// compiles it: every instruction is a PTX instruction (the table of
// PTX ISA 9.0's base opcodes), every register it names is declared in
// its block or an enclosing one (%r<N> declares %r0..%r(N-1)), every
// branch target is a label of its function, every called function and
// every symbol is declared before use, no name is declared twice in one
// scope.  Errors name the function, the line and the instruction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ptx_ast.hpp"

namespace gpuvm::ptx {

struct CheckError {
    Pos pos;
    std::string function;  // empty for a module-level error
    std::string message;
    std::string text() const;  // "kernel K, line L: message"
};

// All errors of the module, in source order (empty: the module is good).
std::vector<CheckError> check(const Module& m);

// Whether @op is a base opcode of PTX ISA 9.0 (add, ld, shfl, ...).
bool is_ptx_opcode(const std::string& op);

// How many times each instruction (base opcode with its modifiers, as
// written: "ld.global.f32") occurs in the module's function bodies.
std::map<std::string, uint64_t> instruction_histogram(const Module& m);

}  // namespace gpuvm::ptx
