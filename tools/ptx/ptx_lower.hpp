// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower.hpp - PTX syntax tree to the compiler's intermediate form
// (internal to ptx_compile).  One Lowerer compiles one kernel, inlining
// the device functions it calls.  ptx_lower.cpp holds the frame,
// operands, memory, control flow and calls; ptx_lower_alu.cpp the
// arithmetic, comparisons and conversions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ptx_ast.hpp"
#include "ptx_compile.hpp"
#include "ptx_ir.hpp"

namespace gpuvm::ptx {

// Generic addresses: global below 2^47, local from 2^47, shared from 2^48
// (Documentation/cuda.rst, "How PTX becomes ISA").
constexpr int kLocalWindowShift = 47;
constexpr int kSharedWindowShift = 48;
constexpr uint64_t kLocalWindow = uint64_t{1} << kLocalWindowShift;
constexpr uint64_t kSharedWindow = uint64_t{1} << kSharedWindowShift;

// A PTX type as an instruction names it: kind 'u', 's', 'b', 'f' or 'p'
// (predicate), and its width in bits.
struct Ty {
    char kind = 'b';
    int bits = 32;
    bool sgn() const { return kind == 's'; }
    bool flt() const { return kind == 'f'; }
};

// What the module-level pass (ptx_compile.cpp) knows of variables.
struct ModuleLayout {
    struct Var {
        std::string space;   // "global", "const", "shared"
        uint64_t offset = 0; // data segment offset (global, const)
        uint64_t size = 0;
        uint32_t align = 1;
        bool dynamic = false;  // extern .shared with no size
    };
    std::map<std::string, Var> vars;
    std::map<std::string, const Function*> functions;
};

class Lowerer {
public:
    // @with_local: give the kernel local memory even when it declares
    // none (the register allocator's second try, which spills).
    Lowerer(const ModuleLayout& layout, const Function& kernel, bool with_local = false);
    // Lowers the kernel; fills @info's parameter and shared memory layout.
    ir::Kernel run(KernelInfo& info);

    // The error of the instruction being lowered.
    [[noreturn]] void fail(const std::string& what) const;

private:
    struct ParamVar {  // a .param variable of a call sequence or a function
        std::map<int64_t, std::pair<int, int>> slots;  // offset -> (vreg, bytes)
    };
    struct Scope {
        std::map<std::string, int> regs;                  // register -> vreg
        std::map<std::string, std::pair<uint32_t, int>> ranges;  // %r<N>: prefix -> (N, width)
        std::map<std::string, int> widths;                // declared, not yet used registers
        std::map<std::string, std::shared_ptr<ParamVar>> params;
        std::map<std::string, uint32_t> locals;           // .local variable -> offset in the thread's slice
    };
    struct Frame {
        const Function* fn = nullptr;
        std::map<std::string, int> labels;
        int ret_label = -1;
        size_t scope_base = 0;  // scopes_ index of its outermost scope
    };

    const ModuleLayout& layout_;
    const Function& kernel_;
    KernelInfo* info_ = nullptr;
    ir::Kernel k_;
    std::vector<Scope> scopes_;
    std::vector<Frame> frames_;
    std::vector<int> vwidth_;  // width of each vreg in bits
    std::map<std::string, ParamInfo> kparams_;
    std::map<std::string, uint32_t> shared_off_;
    int cc_ = -1;              // the carry flag (add.cc and friends)
    bool uses_local_ = false;  // the kernel or a function it calls declares .local
    uint32_t local_size_ = 0;  // bytes of .local variables per thread so far
    uint32_t local_align_ = 8;
    int lbase_ = -1;           // shared-memory address of the thread's local slice
    bool uses_printf_ = false; // calls vprintf or __assertfail
    int red_off_ = -1;         // shared offset of bar.red's three words, -1: no bar.red
    int red_round_ = -1;       // vreg: this thread's bar.red round, modulo 3
    const Instr* cur_ = nullptr;
    uint64_t budget_ = 0;      // instructions emitted, bounded by kMaxCodeWords

    // ptx_lower.cpp
    void layout_params();
    void layout_shared();
    void body(const Body& b);
    void instr(const Instr& in);
    void guarded(const Instr& in);
    void dispatch(const Instr& in);
    void declare(const VarDecl& v);
    int label(const std::string& name);
    int vreg_of(const std::string& name);
    bool is_reg(const std::string& name) const;
    int width_of_decl(const std::string& type) const;
    void call(const Instr& in);
    void memory(const Instr& in);
    void atomic(const Instr& in);
    void param_access(const Instr& in, bool load, const Operand& addr, Ty t, const Operand& val);
    int address(const Operand& a, const std::string& space, int64_t& off);
    void load_into(int d, bool shared, Ty t, int base, int64_t off);
    void access_one(bool load, bool shared, int base, int64_t off, Ty t, int v);
    void generic_access(bool load, int base, int64_t off, Ty t, int v);
    void generic(int base, const std::function<void(bool, int)>& one);
    int low_bits(int v, int bits);
    int special(const std::string& name);
    void control(const Instr& in);
    void warp(const Instr& in);
    void barrier_reduce(const Instr& in);
    void local_prologue();
    void device_printf(const Instr& in, bool is_assert);
    int param_value(const Operand& arg, int bytes);
    int local_addr(int local_offset_vreg);

    // ptx_lower_alu.cpp
    void integer(const Instr& in, Ty t);
    void mul_mad(const Instr& in, Ty t);
    void shift(const Instr& in, Ty t);
    void bits(const Instr& in, Ty t);
    void floating(const Instr& in, Ty t);
    void setp(const Instr& in);
    void selp_set(const Instr& in);
    void cvt(const Instr& in);
    void mov(const Instr& in);
    void carry(const Instr& in, Ty t);
    int compare(const std::string& cmp, Ty t, int a, int b);
    int flush(int v, Ty t);
    int fimm(const Operand& o, Ty t);

public:
    // Helpers shared by both files.
    int vreg(int width);
    int emit(uint16_t op, int d, int a = -1, int b = -1, int64_t imm = 0, int c = -1, int e = -1);
    void emit_label(int l);
    void branch(uint16_t op, int cond, int l);
    int li(int64_t v, int width = 64);
    int src(const Operand& o, Ty t, bool sign = false);
    int dst(const Operand& o);
    void canon(int v, int bits_valid);
    void move(int d, int s);
    int width(int v) const { return vwidth_[v]; }
    static Ty type_of(const std::string& m, bool& ok);
    Ty last_type(const Instr& in) const;
    bool has(const Instr& in, const std::string& mod) const;
};

}  // namespace gpuvm::ptx
