// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-ptx.cpp - the PTX front end from the command line:
//   vgpu-ptx check FILE.ptx...   parse and check; one line per error
//   vgpu-ptx stats FILE.ptx...   kernels, functions and the instruction histogram
//   vgpu-ptx print FILE.ptx      the module as the front end sees it
//   vgpu-ptx compile FILE.ptx... compile to vgpu ISA; per kernel its size,
//                                registers, parameters and shared memory
//   vgpu-ptx disasm FILE.ptx     compile, and print the ISA code with byte offsets
// Exit status 0 when every file parses and passes the checks.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "ptx_check.hpp"
#include "ptx_compile.hpp"
#include "ptx_parser.hpp"
#include "vgpu/asm.hpp"
#include "vgpu_ptx_args.hpp"

namespace {

bool read(const char* path, std::string& out) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return false;
    std::ostringstream s;
    s << f.rdbuf();
    out = s.str();
    return true;
}

void stats(const gpuvm::ptx::Module& m) {
    for (const auto& it : m.items)
        if (const auto* f = std::get_if<gpuvm::ptx::Function>(&it))
            std::printf("  %s %s (%zu parameters)%s\n", f->entry ? "kernel" : "function", f->name.c_str(),
                        f->params.size(), f->has_body ? "" : ", declared");
    for (const auto& [k, n] : gpuvm::ptx::instruction_histogram(m))
        std::printf("  %8llu %s\n", static_cast<unsigned long long>(n), k.c_str());
}

void compile(const char* path, const gpuvm::ptx::Module& m) {
    auto p = gpuvm::ptx::compile(m);
    std::printf("%s: %zu instructions, %zu bytes of data\n", path, p.code.size(), p.data.size());
    for (const auto& k : p.kernels) {
        std::printf("  %s: %u instructions, %u registers, %u bytes of parameters (%s), %u bytes of shared memory\n",
                    k.name.c_str(), k.instructions, k.registers, k.param_size,
                    k.param_mode == gpuvm::ptx::ParamMode::Slots ? "slots" : "memory", k.static_shared);
        if (k.local_per_thread)
            std::printf("    local memory: %u bytes per thread, %u registers spilled\n", k.local_per_thread, k.spilled);
        if (k.has_global_local)
            std::printf("    a variant with local memory in global memory (%u bytes per thread) at word %llu\n",
                        k.local_per_thread_global, static_cast<unsigned long long>(k.entry_global / 8));
        if (k.call_stack)
            std::printf("    call stack (recursion): frames of up to %u bytes\n", k.call_stack);
    }
}

void disasm(const gpuvm::ptx::Module& m) {
    auto p = gpuvm::ptx::compile(m);
    for (size_t w = 0; w < p.code.size(); w++) {
        for (const auto& k : p.kernels)
            if (k.entry == w * 8)
                std::printf("%s:\n", k.name.c_str());
        std::printf("  %06zx  %s\n", w * 8, vgpu::disassemble_insn(p.code[w]).c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    int status = 0;
    const auto a = vgpu::parse_main(gpuvm::ptx::tool_command(), gpuvm::ptx::parse_tool_args, argc, argv, status);
    if (!a)
        return status;
    const std::string& cmd = a->verb;
    int bad = 0;
    for (const auto& file : a->files) {
        const char* path = file.c_str();
        std::string text;
        if (!read(path, text)) {
            std::fprintf(stderr, "%s: cannot read: %s\n", path, std::strerror(errno));
            bad++;
            continue;
        }
        try {
            auto m = gpuvm::ptx::parse(text);
            auto errs = gpuvm::ptx::check(m);
            for (const auto& e : errs)
                std::fprintf(stderr, "%s: %s\n", path, e.text().c_str());
            bad += !errs.empty();
            if (cmd == "stats") {
                std::printf("%s: PTX %u.%u, %s\n", path, m.version_major, m.version_minor,
                            m.target.empty() ? "?" : m.target[0].c_str());
                stats(m);
            } else if (cmd == "print") {
                std::fputs(gpuvm::ptx::print(m).c_str(), stdout);
            } else if (cmd == "compile" && errs.empty()) {
                compile(path, m);
            } else if (cmd == "disasm" && errs.empty()) {
                disasm(m);
            }
        } catch (const gpuvm::ptx::CompileError& e) {
            std::fprintf(stderr, "%s: %s\n", path, e.what());
            bad++;
        } catch (const gpuvm::ptx::ParseError& e) {
            std::fprintf(stderr, "%s: %s\n", path, e.what());
            bad++;
        }
    }
    return bad ? 1 : 0;
}
