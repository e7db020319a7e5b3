// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Assembler, disassembler and module image of the vgpu-sim ISA
// (Documentation/sim-isa.rst).
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vgpu {

// A syntax or semantic error in assembly source, with its location.
class AsmError : public std::runtime_error {
public:
    AsmError(std::string file, int line, const std::string& msg);
    int line() const noexcept { return line_; }

private:
    int line_;
};

// A module image is malformed (bad magic, truncated, inconsistent table).
class ModuleFormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct KernelInfo {
    std::string name;
    uint32_t offset = 0;       // byte offset of the entry in the code
    uint32_t shared_size = 0;  // bytes of shared memory per block
    uint32_t num_params = 0;   // parameters declared with .params
    bool operator==(const KernelInfo&) const = default;
};

struct ModuleImage {
    std::vector<uint64_t> code;  // instruction words
    std::vector<KernelInfo> kernels;

    const KernelInfo& kernel(std::string_view name) const;
    std::vector<uint8_t> serialize() const;
    static ModuleImage parse(std::span<const uint8_t> bytes);
    bool operator==(const ModuleImage&) const = default;
};

ModuleImage assemble(std::string_view source, std::string_view file = "<input>");
std::string disassemble(const ModuleImage& image);
// One instruction as text; branch targets are printed as relative offsets.
std::string disassemble_insn(uint64_t word);

}  // namespace vgpu
