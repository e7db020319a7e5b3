// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lower.hpp - PTX syntax tree to the compiler's intermediate form
// (internal to ptx_compile).  One Lowerer compiles one kernel, inlining
// the device functions it calls.  ptx_lower.cpp holds the frame,
// operands, memory, control flow and calls; ptx_lower_alu.cpp the
// arithmetic, comparisons and conversions; ptx_lower_math.cpp the
// approximate transcendentals; ptx_lower_f16.cpp the 16-bit floats.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
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

// The instruction's rounding modifier as the ISA's RND class (.rn .rz .rm
// .rp) or IRND class (.rzi .rni .rmi .rpi), @def when it has none
// (ptx_lower_alu.cpp).
int rnd_of(const Instr& in, int def = 0 /* VGPU_RND_RN */);
int irnd_of(const Instr& in, int def = 0 /* VGPU_IRND_RZI */);

// A type modifier of an instruction on 16-bit floats (ptx_lower_f16.cpp):
// k 'h' binary16 or 'b' bfloat16, x2 a packed pair (.f16x2, .bf16x2), its
// bits as t; k 0: the ordinary type t.
struct HalfTy {
    char k = 0;
    bool x2 = false;
    Ty t;
    bool half() const { return k != 0; }
    bool bf() const { return k == 'b'; }
    int bits() const { return k ? (x2 ? 32 : 16) : t.bits; }
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
    // @global_local: the variant whose local memory is in global memory
    // (Documentation/cuda.rst, "Local memory"), for launches whose slices
    // do not fit in the block's shared memory.
    Lowerer(const ModuleLayout& layout, const Function& kernel, bool with_local = false,
            bool global_local = false);
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
        int sub = -1;           // a recursive function's body: its subs_ index (ptx_lower_call.cpp)
    };
    // A recursive function, compiled once per kernel as a subroutine
    // (ptx_lower_call.cpp); its .local variables are on the call stack.
    struct Sub {
        const Function* fn = nullptr;
        int entry = -1, ret = -1;  // labels: the body, the return (kRet)
        std::vector<int> sites;    // return labels, by return index
        std::vector<std::shared_ptr<ParamVar>> in, out;  // parameters' and results' slots
        uint32_t frame = 0;        // bytes of .local variables per activation
        int fp = -1;               // vreg: the activation's .local variables' local address
        bool lowered = false;
    };
    struct CallSite {
        int sub = -1, ret = -1;    // the callee, the return label
        std::vector<int> results;  // the caller's vregs that the return fills
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
    bool global_local_ = false;  // the slices are in global memory: lbase_ is a global address
    bool uses_printf_ = false; // calls vprintf or __assertfail
    int red_off_ = -1;         // shared offset of bar.red's three words, -1: no bar.red
    int red_round_ = -1;       // vreg: this thread's bar.red round, modulo 3
    const Instr* cur_ = nullptr;
    uint64_t budget_ = 0;      // instructions emitted, bounded by kMaxCodeWords
    std::vector<Sub> subs_;    // recursive functions (ptx_lower_call.cpp)
    std::vector<CallSite> sites_;
    std::map<const Function*, bool> recursive_;  // functions in a cycle of calls, once known
    uint64_t call_graph_work_ = 0;                // instructions scanned by recursive()
    static constexpr uint64_t kMaxCallGraphWork = uint64_t{1} << 24;
    bool has_stack_ = false;   // the kernel reaches a recursive function: a call stack
    int sp_ = -1;              // vreg: the stack's top, a shared-memory address

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
    int linear_index(int x, int y, int z, int nx, int ny);
    int block_threads();
    int local_slot_take(int param, int tid, int& slices, int& word);
    void local_slot_release(uint32_t word_at);
    void give_back(int word);
    void device_printf(const Instr& in, bool is_assert);
    int param_value(const Operand& arg, int bytes);
    int local_addr(int local_offset_vreg);

    // ptx_lower_call.cpp: recursive functions as subroutines
    bool recursive(const Function* fn);
    bool reaches_recursion(const std::set<std::string>& functions);
    void subroutine_call(const Instr& in, const Function* fn);
    void lower_subroutines();
    void expand_calls();
    int local_var(int64_t off, int bits);
    bool frame_local(const VarDecl& v, uint64_t size, uint32_t align);

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

    // ptx_lower_math.cpp: ex2 lg2 sin cos tanh .approx
    void approx(const Instr& in, Ty t);
    int approx_f32(const std::string& op, int x, bool ftz);
    int dpoly(int x, const uint64_t* c, int n);
    int dpow2(int n);
    int nan_if(int cond, int r);

    // ptx_lower_f16.cpp: .f16 .f16x2 .bf16 .bf16x2
    static bool is_half(const Instr& in);
    void half(const Instr& in);
    void half_cvt(const Instr& in, const std::vector<HalfTy>& ts);
    void half_compare(const Instr& in, const std::vector<HalfTy>& ts);
    int h_lane(int v, int lane);
    int h_flush(int h, bool bf);
    int h_widen(int h, bool bf, bool to64);
    int h_narrow(int v, bool from64, bool bf, int rnd);
    int fma_odd(int a, int b, int c);
    int h_lanes(bool x2, const std::vector<int>& ops, const std::function<int(const std::vector<int>&)>& one);

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
