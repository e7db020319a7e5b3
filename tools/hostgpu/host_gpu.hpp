// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// host_gpu.hpp - a userspace "GPU" for tests and benchmarks (vgpu-bench
// interp): the kernel's page tables and interpreter over page-aligned
// host memory.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vgpu/asm.hpp"

extern "C" {
#include "vgpu_interp.h"
#include "vgpu_isa_decode.h"
#include "vgpu_isa_table.h"
}

namespace vgpu::hostgpu {

// An instruction word with the register fields its format does not use
// zeroed (the decoder refuses anything else there).
inline uint64_t word(uint8_t op, uint8_t rd, uint8_t ra, uint8_t rb, int32_t imm) {
    return vgpu_insn(op, rd, ra, rb, imm) & (0xffffffff00000000ull | vgpu_op_descs[op].lo_ok);
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

class Gpu {
public:
    Gpu() { vgpu_pt_init(pt_.get()); }
    ~Gpu() { vgpu_pt_fini(pt_.get()); }
    Gpu(const Gpu&) = delete;
    Gpu& operator=(const Gpu&) = delete;

    // Allocates zeroed host memory and maps it at @va.
    uint8_t* map(uint64_t va, size_t size, unsigned long perms) {
        size = (size + 4095) & ~size_t{4095};
        void* p = std::aligned_alloc(4096, size);
        if (!p) throw std::bad_alloc();
        std::memset(p, 0, size);
        mem_.emplace_back(p);
        int ret = vgpu_pt_map(pt_.get(), va, static_cast<uint8_t*>(p), size, static_cast<uint32_t>(perms));
        if (ret) throw std::runtime_error("vgpu_pt_map failed: " + std::to_string(ret));
        return static_cast<uint8_t*>(p);
    }

    // Assembles @src and maps its code read+exec at @va.
    uint64_t load(const std::string& src, uint64_t va = kCodeVa) {
        auto img = vgpu::assemble(src);
        uint8_t* p = map(va, img.code.size() * 8, VGPU_PTE_R | VGPU_PTE_X);
        std::memcpy(p, img.code.data(), img.code.size() * 8);
        return va + img.kernels.front().offset;
    }

    struct Result {
        vgpu_run_result status;
        uint32_t fault_kind;
        uint64_t fault_addr;
        uint64_t executed;
        int slices;
    };

    // Runs a launch to completion (or fault, or @limit instructions) in
    // slices of @slice thread-instructions.
    Result run(vgpu_launch_desc d, uint64_t slice = ~0ULL, uint64_t limit = ~0ULL) {
        vgpu_launch l;
        int ret = vgpu_launch_init(&l, &d);
        if (ret) throw std::runtime_error("vgpu_launch_init failed: " + std::to_string(ret));
        Result r{VGPU_RUN_BUDGET, 0, 0, 0, 0};
        while (r.executed < limit) {
            u64 n = 0;
            uint64_t b = std::min(slice, limit - r.executed);
            r.status = vgpu_launch_run(&l, pt_.get(), b, &n);
            r.executed += n;
            r.slices++;
            if (r.status != VGPU_RUN_BUDGET) break;
        }
        r.fault_kind = l.fault_kind;
        r.fault_addr = l.fault_addr;
        vgpu_launch_fini(&l);
        return r;
    }

    static vgpu_launch_desc desc(uint64_t code, uint32_t grid, uint32_t block,
                                 std::initializer_list<uint64_t> params = {}, uint32_t shared = 0) {
        vgpu_launch_desc d{};
        d.code_va = code;
        d.grid[0] = grid;
        d.grid[1] = d.grid[2] = 1;
        d.block[0] = block;
        d.block[1] = d.block[2] = 1;
        d.shared_size = shared;
        size_t i = 0;
        for (uint64_t p : params) d.params[i++] = p;
        return d;
    }

    vgpu_pt* pt() { return pt_.get(); }

    static constexpr uint64_t kCodeVa = 0x100000;

private:
    std::unique_ptr<vgpu_pt> pt_ = std::make_unique<vgpu_pt>();
    std::vector<std::unique_ptr<void, FreeDeleter>> mem_;
};

}  // namespace vgpu::hostgpu
