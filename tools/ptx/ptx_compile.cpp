// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_compile.cpp - see ptx_compile.hpp: the module-level pass (data
// segment, shared variables, functions), one Lowerer per kernel, the
// register allocator, and link().
#include "ptx_compile.hpp"

#include <algorithm>
#include <cstring>

#include "ptx_ir.hpp"
#include "ptx_lower.hpp"

namespace gpuvm::ptx {
namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Bytes of one element of a variable's type.
uint32_t elem_size(const VarDecl& v) {
    bool ok;
    Ty t = Lowerer::type_of(v.type, ok);
    if (!ok)
        throw CompileError("", v.pos, "variable '" + v.name + "' of type ." + v.type + " is not supported yet");
    return std::max(1, t.bits / 8) * (v.vec ? v.vec : 1);
}

void global_var(const VarDecl& v, ModuleLayout& lay, Program& p) {
    uint32_t es = elem_size(v);
    uint64_t n = 1;
    bool open = false;
    for (uint64_t d : v.dims) {
        if (!d)
            open = true;
        n *= d ? d : 1;
        if (n > kMaxDataSize)
            throw CompileError("", v.pos, "variable '" + v.name + "' is too large");
    }
    bool is_extern = std::count(v.attrs.begin(), v.attrs.end(), "extern") > 0;
    if (open && v.has_init)
        n = std::max<uint64_t>(1, v.init.size());
    uint32_t align = v.align ? v.align : es;
    if (!align || (align & (align - 1)) || align > 4096)
        throw CompileError("", v.pos, "variable '" + v.name + "' has an invalid alignment");
    ModuleLayout::Var var;
    var.space = v.space;
    var.align = align;
    var.size = n * es;
    if (v.space == "shared") {
        var.dynamic = open && !v.has_init;
        if (var.dynamic && !is_extern)
            throw CompileError("", v.pos, "shared variable '" + v.name + "' has no size");
        lay.vars[v.name] = var;
        return;
    }
    if (is_extern)
        throw CompileError("", v.pos, "extern ." + v.space + " variable '" + v.name +
                                          "' (separate compilation) is not supported");
    uint64_t off = align_up(p.data.size(), align);
    if (off + var.size > kMaxDataSize)
        throw CompileError("", v.pos, "the module's data exceeds " + std::to_string(kMaxDataSize) + " bytes");
    var.offset = off;
    p.data.resize(off + var.size, 0);
    p.data_align = std::max(p.data_align, align);
    if (v.has_init) {
        if (v.init.size() > n)
            throw CompileError("", v.pos, "variable '" + v.name + "' has more initial values than elements");
        uint32_t scalar = es / (v.vec ? v.vec : 1);
        for (size_t i = 0; i < v.init.size(); i++) {
            const Operand& o = v.init[i];
            uint64_t bits;
            if (o.kind == Operand::Kind::Imm) {
                bits = static_cast<uint64_t>(o.imm);
                if (v.type[0] == 'f')
                    throw CompileError("", v.pos, "an integer initial value of a float variable");
            } else if (o.kind == Operand::Kind::FImm) {
                bits = static_cast<uint64_t>(o.imm);
                if (scalar == 8 && !o.fimm_double) {  // a binary32 literal of a binary64 variable: exact
                    float f;
                    uint32_t b = static_cast<uint32_t>(bits);
                    std::memcpy(&f, &b, 4);
                    double d = f;
                    std::memcpy(&bits, &d, 8);
                } else if (scalar == 4 && o.fimm_double) {  // decimal or 0d: rounded to nearest, as ptxas does
                    double d;
                    std::memcpy(&d, &bits, 8);
                    float f = static_cast<float>(d);
                    uint32_t b;
                    std::memcpy(&b, &f, 4);
                    bits = b;
                }
            } else {
                throw CompileError("", v.pos, "variable '" + v.name +
                                                  "' is initialised with an address, which is not supported yet");
            }
            std::memcpy(p.data.data() + off + i * scalar, &bits, scalar);
        }
    }
    lay.vars[v.name] = var;
    GlobalInfo g;
    g.name = v.name;
    g.space = v.space;
    g.offset = off;
    g.size = var.size;
    g.align = align;
    g.visible = std::count(v.attrs.begin(), v.attrs.end(), "visible") > 0;
    p.globals.push_back(g);
}

// Variables declared inside function bodies ("demoted" __shared__ and
// static variables of nvcc): module variables under their unique names.
void demoted_vars(const Body& b, ModuleLayout& lay, Program& p) {
    for (const auto& s : b) {
        if (const auto* v = std::get_if<VarDecl>(&s.v)) {
            if (v->space != "shared" && v->space != "global" && v->space != "const")
                continue;
            if (lay.vars.count(v->name))
                throw CompileError("", v->pos, "variable '" + v->name + "' is declared twice");
            global_var(*v, lay, p);
        } else if (const auto* blk = std::get_if<Block>(&s.v)) {
            demoted_vars(blk->body, lay, p);
        }
    }
}

}  // namespace

static Program compile_module(const Module& m);

const KernelInfo* Program::kernel(const std::string& name) const {
    for (const auto& k : kernels)
        if (k.name == name)
            return &k;
    return nullptr;
}

const GlobalInfo* Program::global(const std::string& name) const {
    for (const auto& g : globals)
        if (g.name == name)
            return &g;
    return nullptr;
}

Program compile(const Module& m) {
    try {
        return compile_module(m);
    } catch (const std::bad_alloc&) {
        throw CompileError("", {}, "out of memory compiling the module");
    }
}

// The kernel's variant with its local memory in global memory, after
// its code (KernelInfo::entry_global): the same code but for its
// prologue and the local accesses' instructions.  A module that it would
// take beyond kMaxCodeWords goes without: its launches need the slices to
// fit in shared memory, as before.
static void global_variant(const ModuleLayout& lay, const Function& f, bool with_local, KernelInfo& info,
                           Program& p, std::vector<std::pair<uint64_t, uint64_t>>& relocs) {
    // A variant that does not compile (an instruction budget, spilling)
    // is not made: the kernel then runs only where its local memory fits
    // in shared memory, as before there were variants.
    KernelInfo gi;
    ir::Kernel k;
    std::vector<uint64_t> words;
    std::vector<std::pair<uint64_t, uint64_t>> grelocs;
    uint32_t spilled = 0;
    try {
        k = Lowerer(lay, f, with_local, true).run(gi);
        ir::assemble(k, words, grelocs, spilled);
    } catch (const std::runtime_error&) {
        return;
    }
    if (k.local_base < 0 || gi.local_param_offset != info.local_param_offset || gi.param_mode != info.param_mode ||
        gi.call_stack != info.call_stack)
        throw CompileError(f.name, f.pos, "internal error: the global-memory variant's layout differs");
    if (p.code.size() + words.size() > kMaxCodeWords)
        return;
    for (auto& r : grelocs)
        relocs.push_back({r.first + p.code.size(), r.second});
    info.has_global_local = true;
    info.entry_global = p.code.size() * 8;
    info.local_per_thread_global = k.frame_size;
    p.code.insert(p.code.end(), words.begin(), words.end());
}

static Program compile_module(const Module& m) {
    Program p;
    ModuleLayout lay;
    for (const auto& it : m.items) {
        if (const auto* v = std::get_if<VarDecl>(&it)) {
            if (v->space == "global" || v->space == "const" || v->space == "shared")
                global_var(*v, lay, p);
            else
                throw CompileError("", v->pos, "module-level ." + v->space + " variable '" + v->name +
                                                   "' is not supported yet");
        } else {
            const Function& f = std::get<Function>(it);
            auto& slot = lay.functions[f.name];
            if (!slot || f.has_body)
                slot = &f;
            demoted_vars(f.body, lay, p);
        }
    }
    for (const auto& it : m.items) {
        const auto* f = std::get_if<Function>(&it);
        if (!f || !f->entry || !f->has_body)
            continue;
        KernelInfo info;
        ir::Kernel k = Lowerer(lay, *f).run(info);
        info.entry = p.code.size() * 8;
        std::vector<std::pair<uint64_t, uint64_t>> relocs;
        bool with_local = false;
        try {
            if (k.local_base < 0) {
                // Without local memory nothing can spill: try, and on
                // failure lower again with local memory to spill into.
                std::vector<uint64_t> words;
                try {
                    info.registers = static_cast<uint32_t>(ir::assemble(k, words, relocs, info.spilled));
                } catch (const std::runtime_error&) {
                    info = KernelInfo();
                    relocs.clear();
                    with_local = true;
                    k = Lowerer(lay, *f, true).run(info);
                    info.entry = p.code.size() * 8;
                    words.clear();
                    info.registers = static_cast<uint32_t>(ir::assemble(k, words, relocs, info.spilled));
                }
                for (auto& r : relocs)
                    r.first += p.code.size();
                p.code.insert(p.code.end(), words.begin(), words.end());
            } else {
                info.registers = static_cast<uint32_t>(ir::assemble(k, p.code, relocs, info.spilled));
            }
            if (k.local_base >= 0)
                info.local_per_thread = k.frame_size;
        } catch (const std::runtime_error& e) {
            throw CompileError(f->name, f->pos, e.what());
        }
        if (p.code.size() > kMaxCodeWords)
            throw CompileError(f->name, f->pos, "the module's code exceeds " + std::to_string(kMaxCodeWords) +
                                                    " instructions");
        info.instructions = static_cast<uint32_t>(p.code.size() - info.entry / 8);
        if (info.local_per_thread)
            global_variant(lay, *f, with_local, info, p, relocs);
        for (const auto& [w, off] : relocs)
            p.relocs.push_back({w, off});
        p.kernels.push_back(std::move(info));
    }
    return p;
}

std::vector<uint64_t> link(const Program& p, uint64_t data_va) {
    std::vector<uint64_t> code = p.code;
    for (const Reloc& r : p.relocs) {
        uint64_t a = data_va + r.offset;
        code.at(r.word) |= (a & 0xffffffffull) << 32;
        code.at(r.word + 1) |= (a >> 32) << 32;
    }
    return code;
}

uint64_t ptx_hash(const std::string& text) {
    // FNV-1a, 64 bits: stable, and collisions only cost a cache its hit
    // because the cache compares the text as well.
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

}  // namespace gpuvm::ptx
