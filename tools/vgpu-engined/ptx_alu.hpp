// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_alu.hpp - PTX for the ISA's register-only instructions that need
// more than one PTX operator: floating point (binary32 and binary64) and
// the integer instructions of ISA version 2 (see ptx_alu.cpp).
#pragma once

#include <functional>
#include <string>

extern "C" {
#include "vgpu_isa_decode.h"
}

namespace vgpu::engine {

using LineFn = std::function<void(const std::string&)>;

// Declarations of the temporaries emit_alu() uses; part of every kernel.
extern const char* const kAluRegs;

// Writes @d's PTX through @line (one instruction per call, without the
// ';'); false when @d is not one of these instructions.
bool emit_alu(const vgpu_dinsn& d, const LineFn& line);

}  // namespace vgpu::engine
