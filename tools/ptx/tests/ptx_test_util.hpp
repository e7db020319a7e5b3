// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// What the PTX compiler's tests share: PTX text to a compiled program
// (parsed and checked first, as the runtime does).
#pragma once

#include <stdexcept>
#include <string>

#include "ptx_check.hpp"
#include "ptx_compile.hpp"
#include "ptx_parser.hpp"

namespace gpuvm::ptx::test {

inline Program compile_text(const std::string& text) {
    auto m = parse(text);
    auto errs = check(m);
    if (!errs.empty())
        throw std::runtime_error(errs.front().text());
    return compile(m);
}

}  // namespace gpuvm::ptx::test
