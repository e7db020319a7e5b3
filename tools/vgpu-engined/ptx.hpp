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
// has not exited has arrived), and every backward branch checks a stop
// word now and then, so the host can end a runaway launch.
#pragma once

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
    bool too_large = false;  // more than kMaxInsns reachable
    // The cache key: entry and every (address, word, fault) reached.
    std::string key() const;
};

constexpr size_t kMaxInsns = 1 << 16;

Program discover(uint64_t entry, const Fetcher& fetch);

// Kernel parameters of a translated launch, in this order (PTX .param).
//   u64 p0..p7     the launch's parameters (ldp)
//   u64 pt         GPU address of the context's top-level page table
//   u64 ctl        GPU address of a struct LaunchCtl (device memory)
//   u64 stop       address of the stop word (host memory mapped to the GPU)
//   u64 base       linear index of the first block of this chunk
//   u32 g0 g1 g2   the launch's grid
//   u32 shared     shared memory per block, bytes
//   u64 save       GPU address of the save area (kernels without barriers;
//                  0: not preemptible inside a block), see save_bytes()
//   u32 mode       0: a fresh launch of the chunk, 1: resumed
//   u32 blkb       save_bytes() of one block
struct LaunchCtl {
    uint64_t fault_key;   // least (block << 16 | barrier phase << 10 | thread); ~0: none
    uint64_t fault_addr;
    uint32_t fault_kind;
    uint32_t lock;
};

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
