// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_ir.hpp - the compiler's intermediate form (internal to
// ptx_compile): one kernel as a list of vgpu ISA instructions on
// virtual registers, with labels.  ptx_lower.cpp makes it from the
// syntax tree, ptx_regalloc.cpp gives the virtual registers ISA
// registers and encodes the words.
//
// Invariant of the lowering: a virtual register of width W < 64 holds
// its value zero-extended from W bits; a predicate holds 0 or 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ptx_ast.hpp"

namespace gpuvm::ptx::ir {

// Pseudo-instructions beside the ISA's opcodes (which are < 256).
enum : uint16_t {
    kLabel = 0x100,  // defines label @label; no word
    kLi64 = 0x101,   // d = imm (64 bits): li, then lih when needed
    kAddr = 0x102,   // d = data segment address + imm: li, lih (a relocation)
    // Calls of recursive functions (ptx_lower_call.cpp), expanded before
    // assemble(); imm: the call site's or the function's index.
    kCallSave = 0x103,     // push the return index and the values live across the call
    kCallJump = 0x104,     // to the function's entry
    kCallRestore = 0x105,  // pop them
    kRet = 0x106,          // the function's return: to the return site its caller pushed
};

struct Insn {
    uint16_t op = 0;
    int d = -1, a = -1, b = -1, c = -1, e = -1;  // virtual registers, -1: none
    int64_t imm = 0;    // immediate, or the modifier of a register-only format
    int label = -1;     // branch target, or the label a kLabel defines
    bool frame_imm = false;  // imm is the local slice's size (Kernel::frame_size), set by assemble()
};

struct Kernel {
    std::vector<Insn> code;
    int nvregs = 0;
    int nlabels = 0;
    int local_base = -1;  // vreg of the thread's local slice (shared address), -1: none
    bool local_global = false;  // local_base is a global address (spills use LD/ST)
    int frame_insn = -1;  // the instruction whose immediate is the slice's size
    uint32_t frame_size = 0;  // bytes of the slice: .local variables, then spill slots
};

// Register allocation and encoding.  Appends the kernel's words to
// @out and the relocations' word indexes to @relocs; returns the number
// of ISA registers used.  A kernel with local memory (local_base) gets
// registers spilled to its local slice when it needs more than the ISA
// has: @spilled says how many, and frame_size grows by 8 bytes each.
// Throws std::runtime_error when it needs more registers and has no
// local memory.
int assemble(Kernel& k, std::vector<uint64_t>& out, std::vector<std::pair<uint64_t, uint64_t>>& relocs,
             uint32_t& spilled);

}  // namespace gpuvm::ptx::ir
