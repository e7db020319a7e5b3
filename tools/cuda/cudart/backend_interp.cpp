// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend_interp.cpp - the "interp" backend (backend.hpp): the vgpu-sim
// interpreter and page tables (common/vgpu_interp.c, vgpu_pt.c) over host
// memory of this process.  Work runs when it is queued, in slices of a
// million thread-instructions; a fault is kept and reported by the next
// synchronize().
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <map>

#include "backend.hpp"
#include "../../vgpu-engined/cuda_native.hpp"

extern "C" {
#include "vgpu_interp.h"
}

namespace gpuvm::cudart {
namespace {

constexpr uint64_t kVaStart = 0x10000000;
constexpr uint64_t kTotal = 4ull << 30;
constexpr uint64_t kSlice = 1u << 20;

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

class InterpBackend : public Backend {
public:
    explicit InterpBackend(VaRange range) : next_(range.start), end_(range.end) { vgpu_pt_init(&pt_); }
    ~InterpBackend() override { vgpu_pt_fini(&pt_); }

    std::string name() const override { return "interp"; }
    std::string device_name() const override { return "GPUvm vgpu-sim (in-process interpreter)"; }
    uint64_t total_memory() const override { return kTotal; }
    uint64_t used_memory() const override { return used_; }

    // Device memory counts in used_memory(); host memory (pinned,
    // mapped) is the host's, as NVIDIA's runtime counts it.
    uint64_t alloc(size_t size, bool host, void** cpu, bool exec, bool gpu_writes) override {
        size_t bytes = (std::max<size_t>(size, 1) + 4095) & ~size_t{4095};
        if ((host ? host_used_ : used_) + bytes > kTotal)  // host memory bounded alike, apart
            throw OutOfMemory("interp backend: out of memory");
        if (next_ > end_ || bytes > end_ - next_)
            throw OutOfMemory("interp backend: out of GPU addresses");
        void* p = std::aligned_alloc(4096, bytes);
        if (!p)
            throw OutOfMemory("interp backend: out of host memory");
        std::memset(p, 0, bytes);
        uint64_t va = next_;
        next_ += bytes + 4096;  // a guard page: overruns fault
        uint32_t perms = VGPU_PTE_R | (gpu_writes ? VGPU_PTE_W : 0) | (exec ? VGPU_PTE_X : 0);
        if (vgpu_pt_map(&pt_, va, static_cast<uint8_t*>(p), bytes, perms)) {
            std::free(p);
            throw OutOfMemory("interp backend: page tables");
        }
        blocks_[va] = {std::unique_ptr<void, FreeDeleter>(p), bytes, host};
        (host ? host_used_ : used_) += bytes;
        if (cpu)
            *cpu = p;
        return va;
    }

    void free(uint64_t va) override {
        auto it = blocks_.find(va);
        if (it == blocks_.end())
            return;
        vgpu_pt_unmap(&pt_, va, it->second.bytes);
        (it->second.host ? host_used_ : used_) -= it->second.bytes;
        blocks_.erase(it);
    }

    void write(uint64_t va, const void* src, size_t n) override {
        check_sticky();
        std::memcpy(host(va, n), src, n);
    }
    void read(uint64_t va, void* dst, size_t n) override {
        check_sticky();
        std::memcpy(dst, host(va, n), n);
    }

    void copy(uint64_t dst, uint64_t src, size_t n) override {
        check_sticky();
        std::memmove(host(dst, n), host(src, n), n);
    }

    void fill(uint64_t va, size_t n, uint32_t pattern) override {
        check_sticky();
        auto* p = static_cast<uint8_t*>(host(va, n));
        for (size_t i = 0; i + 4 <= n; i += 4)
            std::memcpy(p + i, &pattern, 4);
    }

    void launch(const LaunchDesc& ld) override {
        if (fault_kind_)
            return;  // the context is dead, as on the GPU
        if (ld.ptx_desc && !ptx_named_well(ld)) {
            fault_kind_ = VGPU_FAULT_ILLEGAL;
            fault_addr_ = ld.ptx_desc;
            return;
        }
        vgpu_launch_desc d{};
        d.code_va = ld.code;
        for (int i = 0; i < 3; i++) {
            d.grid[i] = ld.grid[i];
            d.block[i] = ld.block[i];
        }
        d.shared_size = ld.shared;
        std::memcpy(d.params, ld.params, sizeof(d.params));
        vgpu_launch l;
        if (vgpu_launch_init(&l, &d)) {
            fault_kind_ = VGPU_FAULT_ILLEGAL;
            fault_addr_ = ld.code;
            return;
        }
        enum vgpu_run_result r;
        do {
            u64 n = 0;
            r = vgpu_launch_run(&l, &pt_, kSlice, &n);
        } while (r == VGPU_RUN_BUDGET);
        if (r == VGPU_RUN_FAULT) {
            fault_kind_ = l.fault_kind;
            fault_addr_ = l.fault_addr;
            fault_pc_ = l.fault_pc;
        }
        vgpu_launch_fini(&l);
    }

    void synchronize() override { check_sticky(); }

private:
    // Whether PTX @text declares entry @name (".entry name(").
    static bool has_entry(const std::string& text, const std::string& name) {
        for (size_t at = text.find(".entry"); at != std::string::npos; at = text.find(".entry", at + 1)) {
            size_t p = text.find_first_not_of(" \t\r\n", at + 6);
            if (p != std::string::npos && text.compare(p, name.size(), name) == 0) {
                size_t q = text.find_first_not_of(" \t\r\n", p + name.size());
                if (q != std::string::npos && text[q] == '(')
                    return true;
            }
        }
        return false;
    }
    // A launch that names its PTX (GPUVM_CUDA_NAME_PTX=1 here): the ISA
    // runs, but the descriptor is checked as the GPU's workers check it
    // (cuda_native.cpp), and its entry must be in its text.
    bool ptx_named_well(const LaunchDesc& ld) {
        std::string why;
        try {
            auto* d = static_cast<const uint8_t*>(host(ld.ptx_desc, ld.ptx_desc_size));
            auto pl = vgpu::engine::parse_ptx_launch(d, ld.ptx_desc_size, &why);
            if (pl) {
                const auto* text = static_cast<const char*>(host(pl->ptx, pl->ptx_size));
                if (!vgpu::engine::ptx_text_ok(text, pl->ptx_size) ||
                    vgpu::engine::ptx_hash(text, pl->ptx_size) != pl->ptx_hash)
                    why = "its text is not NUL-terminated text of its hash";
                else if (!has_entry(text, pl->entry))
                    why = "its text has no entry " + pl->entry;
                else {
                    if (!said_named_++)  // for the tests: the runtime named one
                        std::fprintf(stderr, "GPUvm CUDA runtime (interp): a launch named its PTX (entry %s), checked\n",
                                     pl->entry.c_str());
                    return true;
                }
            }
        } catch (const std::out_of_range& e) {
            why = e.what();
        }
        std::fprintf(stderr, "GPUvm CUDA runtime (interp): a launch's PTX descriptor: %s\n", why.c_str());
        return false;
    }

    int said_named_ = 0;
    struct Block {
        std::unique_ptr<void, FreeDeleter> mem;
        size_t bytes;
        bool host;  // not counted as device memory
    };
    vgpu_pt pt_{};
    std::map<uint64_t, Block> blocks_;
    uint64_t next_, end_, used_ = 0;  // addresses are handed out from [next_, end_)
    uint64_t host_used_ = 0;          // host memory, not counted as the device's
    uint32_t fault_kind_ = 0;
    uint64_t fault_addr_ = 0, fault_pc_ = 0;

    void check_sticky() const {
        if (fault_kind_) {
            char pc[64];
            std::snprintf(pc, sizeof(pc), "the GPU faulted at pc 0x%llx", static_cast<unsigned long long>(fault_pc_));
            throw DeviceFault(pc, fault_kind_, fault_addr_);
        }
    }

    // The host address of [va, va + n), which must lie in one allocation.
    void* host(uint64_t va, size_t n) {
        auto it = blocks_.upper_bound(va);
        if (it == blocks_.begin())
            throw std::out_of_range("not a GPU address");
        --it;
        if (va - it->first + n > it->second.bytes)
            throw std::out_of_range("outside its allocation");
        return static_cast<uint8_t*>(it->second.mem.get()) + (va - it->first);
    }
};

}  // namespace

std::unique_ptr<Backend> make_interp_backend(int index, int count) {
    return make_interp_backend(device_va_range(kVaStart, VGPU_VA_SIZE, index, count));
}

std::unique_ptr<Backend> make_interp_backend(VaRange range) { return std::make_unique<InterpBackend>(range); }

}  // namespace gpuvm::cudart
