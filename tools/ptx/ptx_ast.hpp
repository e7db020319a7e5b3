// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_ast.hpp - the syntax tree of a PTX module, as the PTX front end's
// parser (ptx_parser.hpp) builds it from the text nvcc and clang emit
// (PTX ISA 6.x to 9.x).  The tree keeps what the program says, checked
// for form only; ptx_check.hpp checks names and instructions, the
// compiler to the vgpu ISA reads it.  Every node carries the line it
// came from, for error messages that name the kernel, line and
// instruction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gpuvm::ptx {

// Where a node came from: 1-based line and column of the PTX text.
struct Pos {
    uint32_t line = 0, col = 0;
    bool operator==(const Pos&) const = default;
};

// An operand of an instruction.
struct Operand {
    enum class Kind {
        Reg,     // %r1, r0 (a register of an inner block), %tid.x (name with component)
        Imm,     // integer literal: value in imm (two's complement as written, 64 bits)
        FImm,    // 0fXXXXXXXX (f32 bits) or 0dXXXXXXXXXXXXXXXX (f64 bits): bits in imm
        Symbol,  // a variable, function, label or parameter name used as a value
        Addr,    // [base+offset], [base], [imm]: base in name (may be empty), offset in imm
        Vec,     // {a, b, ...}: elems
        Pair,    // a|b (setp's and shfl's second destination): elems
        Sink,    // _
    };
    Kind kind = Kind::Reg;
    std::string name;
    int64_t imm = 0;
    bool fimm_double = false;  // FImm: 0d (64 bits) rather than 0f
    bool negated = false;      // !%p (predicate operands)
    std::vector<Operand> elems;
    bool operator==(const Operand&) const = default;
};

// @%p or @!%p before an instruction.
struct Guard {
    std::string reg;
    bool negated = false;
    bool operator==(const Guard&) const = default;
};

struct Instr {
    Pos pos;
    std::optional<Guard> guard;
    std::string op;                 // base opcode: "ld", "add", "setp", ...
    std::vector<std::string> mods;  // its modifiers in order, without dots: {"global", "v2", "f32"}
    std::vector<Operand> ops;
    // call only: (results), target, (arguments)[, prototype or target list]
    std::vector<Operand> call_rets, call_args;
    bool operator==(const Instr&) const = default;
};

// A variable or register declaration: .reg .b32 %r<10>; .shared .align 4
// .b8 buf[1024]; .global .u32 x = 5; a parameter.
struct VarDecl {
    Pos pos;
    std::string space;                // "reg", "shared", "global", "const", "local", "param", "tex"
    std::vector<std::string> attrs;   // linkage: "visible", "extern", "weak", "common"
    uint32_t align = 0;               // .align N, 0: natural
    uint32_t vec = 0;                 // .v2/.v4: 2 or 4, else 0
    std::string type;                 // "b32", "f64", "pred", ...
    std::vector<std::string> ptr;     // .ptr .global .align 8 (kernel parameters): {"global", "align", "8"}
    std::string name;
    std::optional<uint32_t> range;    // %r<N>: N registers %r0..%r(N-1)
    std::vector<uint64_t> dims;       // [N][M]; 0 for [] (size from the initializer or extern)
    std::vector<Operand> init;        // = value or = {values} (flattened; Imm, FImm or Symbol)
    bool has_init = false;
    bool operator==(const VarDecl&) const = default;
};

struct Stmt;
using Body = std::vector<Stmt>;

struct Label {
    Pos pos;
    std::string name;
    bool operator==(const Label&) const = default;
};

// A directive inside a body that does not declare storage: .pragma,
// .loc, prototypes; kept for the printer and the checks.
struct Directive {
    Pos pos;
    std::string name;   // "pragma", "loc", "callprototype", ...
    std::string text;   // the rest of the statement as written
    bool operator==(const Directive&) const = default;
};

struct Block {
    Pos pos;
    Body body;
    bool operator==(const Block&) const;
};

struct Stmt {
    std::variant<Instr, VarDecl, Label, Directive, Block> v;
    bool operator==(const Stmt&) const = default;
};

inline bool Block::operator==(const Block& o) const { return pos == o.pos && body == o.body; }

struct Function {
    Pos pos;
    bool entry = false;                // .entry (a kernel) or .func
    std::vector<std::string> attrs;    // "visible", "extern", "weak"
    std::string name;
    std::vector<VarDecl> rets, params;
    // Performance directives: .maxntid 256, 1, 1 -> {"maxntid", {256, 1, 1}}
    std::vector<std::pair<std::string, std::vector<uint64_t>>> perf;
    bool noreturn = false;
    bool has_body = false;             // false: a declaration (extern .func vprintf(...);)
    Body body;
    bool operator==(const Function&) const = default;
};

struct Module {
    uint32_t version_major = 0, version_minor = 0;
    std::vector<std::string> target;   // {"sm_75"} or {"sm_90a", "texmode_independent"}
    uint32_t address_size = 64;
    // Globals and functions in source order (a function may use a global
    // declared before it only).
    std::vector<std::variant<VarDecl, Function>> items;
    bool operator==(const Module&) const = default;
};

}  // namespace gpuvm::ptx
