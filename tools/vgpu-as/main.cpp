// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-as: assembler and disassembler for the vgpu-sim ISA.
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "vgpu/asm.hpp"

static int usage(std::ostream& o, int ret) {
    o << "usage: vgpu-as SOURCE.vas -o MODULE.vgpu     assemble\n"
         "       vgpu-as -d MODULE.vgpu                disassemble to stdout\n";
    return ret;
}

int main(int argc, char** argv) {
    std::string in, out;
    bool dis = false;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) return usage(std::cout, 0);
        if (!std::strcmp(argv[i], "-d")) {
            dis = true;
        } else if (!std::strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-' || !in.empty()) {
            return usage(std::cerr, 2);
        } else {
            in = argv[i];
        }
    }
    if (in.empty() || (!dis && out.empty())) return usage(std::cerr, 2);
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
