// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fuzz_ptx.cpp - libFuzzer target of the PTX front end (tools/ptx): any
// text parses or is a ParseError; what parses goes through the checks,
// and its print parses again to the same print; what passes the checks
// compiles to vgpu ISA or is a CompileError, and the program is
// consistent (entries, relocations and data inside it).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ptx_check.hpp"
#include "ptx_compile.hpp"
#include "ptx_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    gpuvm::ptx::Module m;
    try {
        m = gpuvm::ptx::parse(text);
    } catch (const gpuvm::ptx::ParseError&) {
        return 0;
    }
    bool good = gpuvm::ptx::check(m).empty();
    gpuvm::ptx::instruction_histogram(m);
    if (good) {
        try {
            auto p = gpuvm::ptx::compile(m);
            for (const auto& k : p.kernels)
                if (k.entry / 8 >= p.code.size() || k.registers > 32 || k.param_size > 32764)
                    std::abort();
            for (const auto& r : p.relocs)
                if (r.word + 1 >= p.code.size() || r.offset > p.data.size())
                    std::abort();
            gpuvm::ptx::link(p, 0x10000);
        } catch (const gpuvm::ptx::CompileError&) {
        }
    }
    std::string once = gpuvm::ptx::print(m);
    try {
        if (gpuvm::ptx::print(gpuvm::ptx::parse(once)) != once)
            std::abort();  // the printer and the parser disagree
    } catch (const gpuvm::ptx::ParseError&) {
        std::abort();  // the printer wrote what the parser refuses
    }
    return 0;
}
