// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-as: assembler and disassembler for the vgpu-sim ISA.
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "args.hpp"
#include "vgpu/asm.hpp"

int main(int argc, char** argv) {
    int status = 0;
    const auto a = vgpu::parse_main(vgpu::as::command(), vgpu::as::parse_args, argc, argv, status);
    if (!a)
        return status;
    const std::string &in = a->input, &out = a->output;
    const bool dis = a->disassemble;
    std::ifstream f(in, std::ios::binary);
    if (!f) {
        std::cerr << "vgpu-as: cannot open " << in << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    try {
        if (dis) {
            std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            std::cout << vgpu::disassemble(vgpu::ModuleImage::parse(bytes));
            return 0;
        }
        std::stringstream src;
        src << f.rdbuf();
        auto bytes = vgpu::assemble(src.str(), in).serialize();
        std::ofstream o(out, std::ios::binary | std::ios::trunc);
        o.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!o) {
            std::cerr << "vgpu-as: cannot write " << out << "\n";
            return 1;
        }
    } catch (const std::exception& e) {
        std::cerr << "vgpu-as: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
