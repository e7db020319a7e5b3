// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_compile.hpp - the PTX front end's compiler: a parsed and checked
// module (ptx_parser.hpp, ptx_check.hpp) to vgpu ISA version 2 code, the
// "JIT" of GPUvm's CUDA runtime (Documentation/cuda.rst, "How PTX becomes
// ISA").
//
// One Program holds the code of every kernel of the module (device
// functions are inlined at their calls), the layout of each kernel's
// parameters and shared memory, and the module's global data (.global
// and .const variables with their initial values).  The code refers to
// global data through relocations that link() resolves once the loader
// has placed the data at a GPU address.
//
// What the compiler does not support yet is refused with a CompileError
// naming the kernel, the line and the instruction; it never emits code
// whose result would differ from PTX's definition (except where
// Documentation/cuda.rst says which bound of PTX an approximate
// instruction's exact result satisfies).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptx_ast.hpp"

namespace gpuvm::ptx {

class CompileError : public std::runtime_error {
public:
    CompileError(const std::string& function, Pos pos, const std::string& what)
        : std::runtime_error((function.empty() ? std::string("module") : "kernel " + function) + ", line " +
                             std::to_string(pos.line) + ": " + what),
          function_(function),
          pos_(pos) {}
    const std::string& function() const { return function_; }
    Pos pos() const { return pos_; }

private:
    std::string function_;
    Pos pos_;
};

// A kernel parameter: where it lies in the parameter buffer (CUDA's
// layout: each at the next multiple of its alignment).
struct ParamInfo {
    uint32_t offset = 0, size = 0, align = 0;
};

// How a launch passes the parameter buffer (Documentation/cuda.rst):
// up to 64 bytes in the eight 64-bit launch parameters (byte i of the
// buffer is byte i % 8 of parameter i / 8, little-endian); larger
// buffers in GPU memory whose address is launch parameter 0.
// A CUDA block's shared memory (sharedMemPerBlock): the engines give a
// block 1 KiB more (VGPU_MAX_SHARED), which the compiler may use.
constexpr uint32_t kProgramShared = 48 * 1024;

enum class ParamMode { Slots, Memory };

struct KernelInfo {
    std::string name;
    uint64_t entry = 0;            // byte offset of its first instruction in Program::code
    std::vector<ParamInfo> params;
    uint32_t param_size = 0;       // bytes of the parameter buffer
    ParamMode param_mode = ParamMode::Slots;
    uint32_t static_shared = 0;    // bytes of .shared variables the kernel uses
    uint32_t dynamic_shared_offset = 0;  // where extern .shared (dynamic) memory starts
    // The program's own .shared variables (static_shared less the
    // compiler's own words, bar.red's, which follow them).
    uint32_t program_shared = 0;
    // How much later dynamic memory starts than it would for the program
    // alone: the compiler's words beyond the program's kProgramShared, in
    // the 1 KiB more the engines give a block (VGPU_MAX_SHARED).  What a
    // launch's shared memory is for CUDA: its size less these bytes.
    uint32_t reserved_shared = 0;
    // The most dynamic shared memory a launch may ask for.
    uint32_t max_dynamic_shared() const {
        int64_t used = int64_t{dynamic_shared_offset} - reserved_shared;
        return used < kProgramShared ? static_cast<uint32_t>(kProgramShared - used) : 0;
    }
    // Per-thread local memory (.local variables, spilled registers): a
    // slice of the block's shared memory, local_per_thread bytes per
    // thread from the byte offset the launch passes as a hidden u32
    // parameter at local_param_offset of the parameter buffer (see
    // Documentation/cuda.rst, "Local memory").  0: none.
    uint32_t local_per_thread = 0;
    uint32_t local_param_offset = 0;
    // Calls of recursive functions (Documentation/cuda.rst, "Recursion"):
    // when not 0, the thread's slice is as large as the launch can make it
    // (at least local_per_thread + call_stack bytes, a multiple of 16),
    // and the launch passes its size as a u32 at local_param_offset + 4;
    // the call stack takes what local_per_thread leaves of it.
    uint32_t call_stack = 0;
    // The variant whose local memory is in global memory, for launches
    // whose slices do not fit in the block's shared memory (cuda.rst,
    // "Local memory"): its entry, and its local_per_thread (its spills
    // may differ).  The launch passes a u64 at local_param_offset (see
    // local_slots_param()): a buffer of slots, each a slice per thread of
    // one block, that blocks take at their start and give back when
    // their last thread exits, so that the buffer grows with the blocks
    // that run at once, not with the grid.
    bool has_global_local = false;
    uint64_t entry_global = 0;
    uint32_t local_per_thread_global = 0;
    uint32_t spilled = 0;          // registers spilled to local memory
    // Device printf and assert: the launch passes the GPU address of the
    // printf buffer (see kPrintf*) as a hidden u64 parameter at this
    // offset of the parameter buffer, when uses_printf.
    bool uses_printf = false;
    uint32_t printf_param_offset = 0;
    uint32_t registers = 0;        // ISA registers used
    uint32_t instructions = 0;
    uint32_t maxntid[3] = {0, 0, 0};  // .maxntid, 0: not given
};

// The global variant's local memory (KernelInfo::has_global_local;
// Documentation/cuda.rst, "Local memory"): a buffer of 2^log2 slots, each
// a slice per thread of a block.  It starts with a u64 word per slot
// (local_slots_header() bytes, zero when the launch starts): 0 when the
// slot is free, else the linear index + 1 of the block that holds it
// (bits 12-63) and how many threads hold it (bits 0-11).  A thread takes
// a free slot for its block with a compare-and-swap, or joins the one
// its block holds with an add, looking from slot (block index mod
// 2^log2) on, and gives it back when it exits (the last frees it); the
// thread in slot s with linear index t in its block of n threads has the
// slice at header + (s * n + t) * slice.  Any number of slots >= 1 is
// correct: a thread of a block that holds a slot finds it, and a block
// that holds none waits for one that blocks holding them give back when
// they end (unless blocks wait for each other, which CUDA does not
// promise to work).
constexpr unsigned kLocalSlotsMaxLog2 = 11;
constexpr unsigned kLocalSlotCountBits = 12;
constexpr uint64_t local_slots_header(unsigned log2) { return ((uint64_t{8} << log2) + 15) & ~uint64_t{15}; }
// The u64 the launch passes: the buffer's address (page aligned, below
// 2^47), log2 in bits 0-3, the slice's size in 16-byte units in bits
// 47-63.
constexpr uint64_t local_slots_param(uint64_t va, unsigned log2, uint64_t slice) {
    return va | log2 | (slice / 16) << 47;
}

// A module-level .global or .const variable in the data segment.
struct GlobalInfo {
    std::string name;
    std::string space;             // "global" or "const"
    uint64_t offset = 0, size = 0;
    uint32_t align = 1;
    bool visible = false;          // .visible or .extern: cudaMemcpyToSymbol may name it
};

// The code word pair (li, lih) at word index @word loads the data
// segment's address plus @offset.
struct Reloc {
    uint64_t word = 0;
    uint64_t offset = 0;
};

struct Program {
    std::vector<uint64_t> code;    // ISA words, every kernel's
    std::vector<KernelInfo> kernels;
    std::vector<GlobalInfo> globals;
    std::vector<uint8_t> data;     // initial data segment (zeros where no initializer)
    uint32_t data_align = 8;
    std::vector<Reloc> relocs;

    const KernelInfo* kernel(const std::string& name) const;
    const GlobalInfo* global(const std::string& name) const;
};

// The printf buffer a kernel that calls printf or assert appends to: a
// u64 count of bytes used at offset 0, records from kPrintfHeader on, each
// kPrintfRecord bytes: u32 kind (1 printf, 2 assert), u32 payload bytes,
// u64 format (printf) or message (assert) generic address, then 64 bytes:
// printf's argument buffer as CUDA lays it out (each argument aligned to
// its size), or for assert: u64 file, u64 line, u64 function, u32
// ctaid.x/y/z, u32 tid.x/y/z.  A record that does not fit is dropped (the
// count still grows: the runtime reports how many).
constexpr uint32_t kPrintfCapacity = 1u << 20;
constexpr uint32_t kPrintfHeader = 64;
constexpr uint32_t kPrintfRecord = 80;
constexpr uint32_t kPrintfArgBytes = 64;
// The buffer of a module's own PTX (ptx_printf.hpp) has a u32 here:
// nonzero once one of its assertions failed, even where the record did
// not fit.
constexpr uint32_t kPrintfAssertFlag = 8;

// Limits that bound the compiler's work on hostile text.
constexpr uint64_t kMaxCodeWords = 1u << 20;     // per program (8 MiB of code)
constexpr int kMaxInlineDepth = 16;              // nested calls of device functions
constexpr uint64_t kMaxDataSize = 64u << 20;     // bytes of .global/.const data

// Compiles every kernel (.entry with a body) of @m, which must have
// passed check().  Throws CompileError.
Program compile(const Module& m);

// The code with the data segment placed at @data_va.
std::vector<uint64_t> link(const Program& p, uint64_t data_va);

// A hash of PTX text for the runtime's cache of compiled programs
// (FNV-1a, 64 bits: stable across runs and builds).
uint64_t ptx_hash(const std::string& text);

}  // namespace gpuvm::ptx
