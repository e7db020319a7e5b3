// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_place.hpp - a module's variables placed at the runtime's addresses
// in the module's own PTX, so that a GPU running that PTX itself
// (vgpu-engined's workers, Documentation/engines.rst) reaches the
// program's __device__ and __constant__ variables where GPUvm's runtime
// keeps them: cudaMemcpyToSymbol, cudaGetSymbolAddress and the ISA
// compiled from the same text all use those addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ptx_compile.hpp"

namespace gpuvm::ptx {

// @text with each module-scope .global and .const variable of @globals
// (Program::globals of @text's compile, placed from @data_va on)
// declared no more.  Each function that names one declares a 64-bit
// register of the variable's own name holding its address, so that
// every use (mov, [name+offset], cvta) reads as before; the loads and
// address conversions of the constant space (ld.const, ldu.const,
// cvta.const, cvta.to.const) name the global space, where the runtime
// keeps __constant__ variables.  The rest of the text is unchanged.
//
// std::nullopt, with the reason in @why, where the rewrite would not be
// faithful: an .extern variable, a texture, sampler or surface, a
// .global or .const declaration inside a function, a label, register or
// parameter sharing a variable's name, another instruction of the
// constant space (isspacep.const: its answer would change), a variable
// @globals does not name, or text that does not lex.  The caller then
// runs the ISA compiled from the module.
std::optional<std::string> place_variables(std::string_view text, const std::vector<GlobalInfo>& globals,
                                           uint64_t data_va, std::string* why);

}  // namespace gpuvm::ptx
