// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx.hpp - translation of vgpu-sim ISA code to PTX with the ISA's exact
// semantics (Documentation/sim-isa.rst, Documentation/engines.rst).
//
// The translator finds the code a launch can reach by following control
// flow from its entry through the context's page tables (fetch faults and
// illegal instructions become faults raised where they would execute),
// then emits one PTX kernel in which every global access goes through the
// context's page tables in GPU memory (exact faults with the address),
// every float result is rounded and canonicalised as the interpreter
// does, barriers release as the interpreter's do (when every thread that
// has not exited has arrived), warp-collective instructions execute in
// the interpreter's groups (see warp_block() in ptx.cpp: a guest's
// membermask never makes a thread wait), and every loop and every stretch of
// straight code checks a stop word now and then (see kStopEvery), so the
// host can end a runaway launch within a bounded time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vgpu::engine {

// One instruction word fetched at a GPU address, or why it could not be.
struct Fetch {
    uint64_t word = 0;
    uint32_t fault = 0;  // 0, or VGPU_FAULT_UNMAPPED / VGPU_FAULT_PERM
};

using Fetcher = std::function<Fetch(uint64_t va)>;

// The code of one launch, as reached from its entry.
struct Program {
    uint64_t entry = 0;
    std::map<uint64_t, Fetch> insns;  // by address
    bool has_barrier = false;
    bool has_warp = false;   // warp-collective instructions (VGPU_OPF_WARP)
    bool too_large = false;  // more than kMaxInsns, kMaxMemInsns or kMaxJitCost
    enum class Bound : uint8_t { None, Insns, MemInsns, JitCost } bound = Bound::None;  // the one passed
    uint32_t jit_cost = 0;   // jit_cost() of the code reached (as far as discovered)
    // Threads save themselves at backward branches when preempted and
    // resume there: in kernels without barriers and warp-collective
    // instructions (a thread stopping alone would let the others past a
    // barrier, or leave its warp's group without it).
    bool resumable() const { return !has_barrier && !has_warp; }
    // The cache key: entry and every (address, word, fault) reached.
    std::string key() const;
};

// The most instructions a launch may reach (more: an ILLEGAL fault at its
// entry).  It bounds the driver's JIT, which runs inside a RUN: measured
// with ptxas on this translation (Documentation/engines.rst).
constexpr size_t kMaxInsns = 1 << 12;
// ... and at most this many global accesses and atomics, whose code costs
// the JIT far more than the rest (ptxas: 4000 ALU instructions 0.1-0.9 s,
// 256 atom.add.f32 2 s on a loaded 2-core machine).
constexpr size_t kMaxMemInsns = 256;
// ... and at most this much JIT cost: each instruction weighs what it
// costs ptxas (jit_cost(): 1 for plain ALU work, tens for a 64-bit
// division or a global access, 160 for a backward branch of a resumable
// kernel, which has its own save and resume code), so that the most
// expensive program of every class compiles in about 2 s (ptxas
// -arch=sm_90 on a loaded 2-core machine, Documentation/engines.rst).
constexpr uint32_t kMaxJitCost = 12288;
// What one instruction at @pc costs the JIT; @resumable: the kernel is
// Program::resumable() (save stubs at its backward branches).
uint32_t jit_cost(uint64_t pc, uint64_t word, bool resumable);
// ... and the warp block of a kernel with warp-collective instructions.
constexpr uint32_t kWarpBlockCost = 64;

// Stop checks: a thread reads the stop word after at most 2 * kStopEvery
// of weighted work (an instruction weighs 1, a global access
// kWeightGlobal, an atomic or a retry of atom.add.f32's CAS
// kWeightAtomic), counted at check points at least every kWindowInsns
// instructions of straight code and at every backward branch.
constexpr uint32_t kStopEvery = 4096, kWindowInsns = 64, kWeightGlobal = 32, kWeightAtomic = 512;

Program discover(uint64_t entry, const Fetcher& fetch);
// Why the translation refuses @p (Program::too_large), for a person to
// read ("JIT cost 13454, more than 12288"); empty where it does not.
std::string too_large_why(const Program& p);

// Kernel parameters of a translated launch, in this order (PTX .param).
//   u64 p0..p7     the launch's parameters (ldp)
//   u64 pt         GPU address of the context's top-level page table
//   u64 ctl        GPU address of a struct LaunchCtl (device memory)
//   u64 stop       address of the stop word (host memory mapped to the GPU;
//                  written by the kernel on a fault, read through LaunchCtl.stop)
//   u64 base       linear index of the first block of this chunk
//   u32 g0 g1 g2   the launch's grid
//   u32 shared     shared memory per block, bytes
//   u64 save       GPU address of the save area (resumable kernels;
//                  0: not preemptible inside a block), see save_bytes()
//   u32 mode       0: a fresh launch of the chunk, 1: resumed
//   u32 blkb       save_bytes() of one block
struct LaunchCtl {
    // The least (block in the chunk << 33 | barrier phase << 23 | warp << 18 |
    // warp round << 5 | lane), phase and round saturating; ~0: none.
    uint64_t fault_key;
    uint64_t fault_addr;
    uint32_t fault_kind;
    uint32_t lock;
    uint32_t abort;  // nonzero: blocks that start now leave at once (the watchdog fired)
    // The stop word as the threads read it at their check points: a copy
    // in device memory (an L2 hit), which the host updates by a copy
    // beside the kernel whenever it moves the stop word, so that millions
    // of check points do not each cross the bus to host memory.
    uint32_t stop;
    // Blocks of the chunk that saved their state (stopped part way at a
    // kStopPreempt): none, and the chunk is done however late the
    // preempt came.
    uint32_t saved;
    uint32_t pad;
};
// The translated code addresses these by offset.
static_assert(offsetof(LaunchCtl, abort) == 24 && offsetof(LaunchCtl, stop) == 28 &&
              offsetof(LaunchCtl, saved) == 32);

// Values of the stop word.
constexpr uint32_t kStopRun = 0, kStopAbort = 1, kStopFault = 2, kStopPreempt = 3;

// Page-table entry on the GPU: the page's GPU-usable address | R W X.
// Tables: 1024 entries (level 0), 512 (level 1), 512 (level 2), u64 each.
constexpr uint64_t kPtePerms = 7;

// Bytes of the save area of one block: a header, the shared memory and
// 272 bytes per thread (ptx.cpp).
constexpr uint64_t save_bytes(uint32_t nthreads, uint32_t shared) {
    return 16 + ((uint64_t{shared} + 7) & ~uint64_t{7}) + uint64_t{nthreads} * 272;
}

// PTX for @p, target sm_@sm (e.g. 90), as kernel "vgpu_kernel".
std::string translate(const Program& p, int sm);

}  // namespace vgpu::engine
