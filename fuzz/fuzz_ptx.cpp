// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fuzz_ptx.cpp - libFuzzer target of the PTX front end (tools/ptx): any
// text parses or is a ParseError; what parses goes through the checks,
// and its print parses again to the same print.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ptx_check.hpp"
#include "ptx_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    gpuvm::ptx::Module m;
    try {
        m = gpuvm::ptx::parse(text);
    } catch (const gpuvm::ptx::ParseError&) {
        return 0;
    }
    gpuvm::ptx::check(m);
    gpuvm::ptx::instruction_histogram(m);
    std::string once = gpuvm::ptx::print(m);
    try {
        if (gpuvm::ptx::print(gpuvm::ptx::parse(once)) != once)
            std::abort();  // the printer and the parser disagree
    } catch (const gpuvm::ptx::ParseError&) {
        std::abort();  // the printer wrote what the parser refuses
    }
    return 0;
}
