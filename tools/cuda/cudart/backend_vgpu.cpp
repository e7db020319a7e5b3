// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend_vgpu.cpp - the "vgpu" backend (backend.hpp): one libvgpu context
// on the vGPU's render node; each allocation is a buffer object mapped in
// it (device memory, or host memory the CPU maps too).  Where the engine's
// GPU page is large (2 MiB: a GPU's virtual-memory API, announced in
// INFO), allocations of up to half a page share page-sized objects (a
// first-fit sub-allocator, 256-byte aligned as cudaMalloc's), as NVIDIA's
// runtime shares its own; on 4 KiB pages each has its object and an
// unmapped guard page after it (suballoc.hpp).
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "backend.hpp"
#include "suballoc.hpp"
#include "vgpu/vgpu.hpp"

extern "C" {
#include "vgpu_drm.h"
}

namespace gpuvm::cudart {
namespace {

// @node, or else GPUVM_CUDA_NODE: a render node's path, or a mode
// (native, naive, hp): the first node whose connection is in it; by
// default libvgpu's (VGPU_DEVICE, else the first vgpu node).
std::shared_ptr<vgpu::Device> open_node(const std::string& node) {
    if (!node.empty())
        return vgpu::Device::open(node);
    const char* n = std::getenv("GPUVM_CUDA_NODE");
    std::string named = n ? n : "";
    if (named == "native" || named == "naive" || named == "hp")
        return vgpu::Device::open_mode(named);
    return vgpu::Device::open(named);
}

class VgpuBackend : public Backend {
public:
    // Device @index of @count hands out addresses from its own slice of
    // the context's address space (device_va_range): the addresses
    // below it are reserved, never mapped; an allocation that would
    // pass its end is out of memory.
    VgpuBackend(std::shared_ptr<vgpu::Device> dev, int index, int count)
        : dev_(std::move(dev)), ctx_(std::make_unique<vgpu::Context>(dev_)), shared_(dev_->info().page_size) {
        const auto& i = dev_->info();
        uint64_t start = std::max<uint64_t>(i.va_start, 0x100000);
        VaRange r = device_va_range(start, i.va_end, index, count);
        end_ = r.end;
        if (uint64_t skip = r.start - start)
            ctx_->reserve_va(skip);
    }

    std::string name() const override { return "vgpu"; }
    std::string device_name() const override {
        return "GPUvm vGPU (" + dev_->info().engine + ", " + vgpu::mode_name(dev_->info().mode) + ")";
    }
    // What this client may allocate: its quota (whole GPU pages; 0 when
    // it holds none), at most the device's memory.
    uint64_t total_memory() const override {
        const auto& i = dev_->info();
        return std::min(i.device_memory_quota, i.device_memory_size);
    }
    // What the allocations hold of the device's memory: whole GPU pages
    // of device objects (host memory, pinned and mapped, is the host's,
    // as NVIDIA's runtime counts it), and what the engine holds for the
    // runtime's context (a GPU worker's own), which the quota counts too.
    uint64_t used_memory() const override {
        const uint64_t page = dev_->info().page_size;
        auto device = [](const vgpu::Buffer& b) { return b.domain() == vgpu::Domain::Device; };
        uint64_t n = dev_->info().context_memory + shared_.pages_if(device) * page;
        for (const auto& [va, b] : whole_)
            if (device(*b))
                n += (b->size() + page - 1) & ~(page - 1);
        return n;
    }
    uint32_t max_shared() const override { return dev_->info().max_shared_size; }
    uint32_t max_grid_x() const override { return dev_->info().max_grid_x; }
    bool runs_ptx() const override { return dev_->info().features & DRM_VGPU_FEATURE_PTX; }
    uint32_t ptx_stack() const override { return ptx_stack_; }
    uint32_t max_ptx_stack() const override { return ptx_stack_ ? dev_->info().max_stack_size : 0; }
    int raise_stack(uint32_t bytes) override {
        if (!ptx_stack_)
            return EOPNOTSUPP;
        try {
            ptx_stack_ = std::max(ptx_stack_, ctx_->raise_stack(bytes).bytes);
            return 0;
        } catch (const vgpu::Error& e) {
            return e.code() ? e.code() : EIO;
        }
    }
    // Only vgpu-engined's GPU workers say DRM_VGPU_FEATURE_PTX.
    bool translates_isa() const override { return runs_ptx(); }
    bool host_memory_cheap() const override { return dev_->info().mode != DRM_VGPU_MODE_NAIVE; }

    uint64_t alloc(size_t size, bool host, void** cpu, bool exec, bool gpu_writes) override {
        size = std::max<size_t>(size, 1);
        const uint64_t page = dev_->info().page_size;
        const Access acc{host, exec, gpu_writes};
        if (page > kSharedPageMin && size <= page / 2)
            return alloc_piece(size, acc, cpu);
        std::unique_ptr<vgpu::Buffer> b = new_buffer(size, acc);
        vgpu::Buffer* raw = b.get();
        uint64_t va = raw->gpu_addr();
        auto w = whole_.emplace(va, std::move(b)).first;
        try {
            allocs_[va] = Alloc{raw, 0, raw->size(), false};
        } catch (...) {
            whole_.erase(w);
            throw;
        }
        if (cpu)
            *cpu = raw->data();
        return va;
    }

    void free(uint64_t va) override {
        auto it = allocs_.find(va);
        if (it == allocs_.end())
            return;
        ctx_->synchronize();  // the GPU may still use it
        Alloc a = it->second;
        allocs_.erase(it);
        if (a.piece)
            shared_.give_back({a.buf, a.off, a.size, false});  // its page goes with its last piece
        else
            whole_.erase(va);
    }

    void write(uint64_t va, const void* src, size_t n) override {
        auto [b, off] = find(va, n);
        sync();
        b->write(std::span(static_cast<const std::byte*>(src), n), off);
    }
    void read(uint64_t va, void* dst, size_t n) override {
        auto [b, off] = find(va, n);
        sync();
        b->read(std::span(static_cast<std::byte*>(dst), n), off);
    }
    void copy(uint64_t dst, uint64_t src, size_t n) override {
        queue([&] { ctx_->copy(dst, src, n); });
    }
    void fill(uint64_t va, size_t n, uint32_t pattern) override {
        queue([&] { ctx_->fill(va, n, pattern); });
    }

    void launch(const LaunchDesc& d) override {
        drm_vgpu_cmd c = launch_cmd(d);
        queue([&] { ctx_->submit(std::span(&c, 1)); });
    }

    void synchronize() override { sync(); }

private:
    // GPU pages above this are shared by small allocations.
    static constexpr uint64_t kSharedPageMin = 64 << 10;

    // An allocation: a whole object, or a piece of a shared one (@piece
    // set); @size: the bytes it may reach.
    struct Alloc {
        vgpu::Buffer* buf;
        size_t off, size;
        bool piece;
    };

    std::shared_ptr<vgpu::Device> dev_;
    std::unique_ptr<vgpu::Context> ctx_;
    // The call stack the context gives PTX (ptx_stack()): the base one
    // where the device runs PTX with a stack a context asks for (a dom0
    // older than CTX_STACK says PTX_STACK with no max_stack_size: none),
    // raised by raise_stack().
    uint32_t ptx_stack_ = (dev_->info().features & (DRM_VGPU_FEATURE_PTX | DRM_VGPU_FEATURE_PTX_STACK)) ==
                                          (DRM_VGPU_FEATURE_PTX | DRM_VGPU_FEATURE_PTX_STACK) &&
                                      dev_->info().max_stack_size
                              ? DRM_VGPU_PTX_BASE_STACK
                              : 0;
    std::map<uint64_t, Alloc> allocs_;                          // by GPU address
    std::map<uint64_t, std::unique_ptr<vgpu::Buffer>> whole_;  // objects of one allocation
    SubAllocator<vgpu::Buffer> shared_;                         // pages small ones share
    uint64_t end_ = 0;  // the end of the device's slice

    // What an allocation is and how the GPU may reach it.
    struct Access {
        bool host, exec, gpu_writes;
        int key() const { return (host ? 1 : 0) | (exec ? 2 : 0) | (gpu_writes ? 0 : 4); }  // pages shared alike
    };

    std::unique_ptr<vgpu::Buffer> new_buffer(size_t size, Access acc) {
        uint32_t perms = DRM_VGPU_BIND_READ | (acc.gpu_writes ? DRM_VGPU_BIND_WRITE : 0) |
                         (acc.exec ? DRM_VGPU_BIND_EXEC : 0);
        std::unique_ptr<vgpu::Buffer> b;
        try {
            b = std::make_unique<vgpu::Buffer>(*ctx_, size, acc.host ? vgpu::Domain::Host : vgpu::Domain::Device,
                                               perms);
        } catch (const vgpu::Error& e) {
            if (e.code() == ENOMEM || e.code() == EDQUOT || e.code() == ENOSPC)
                throw OutOfMemory(e.what());
            throw;
        }
        uint64_t va = b->gpu_addr();
        if (va > end_ || b->size() > end_ - va)
            throw OutOfMemory("vGPU: out of the device's GPU addresses");
        return b;
    }

    uint64_t alloc_piece(size_t size, Access acc, void** cpu) {
        auto p = shared_.take(acc.key(), size, [&] { return new_buffer(dev_->info().page_size, acc); });
        uint64_t va = p.page->gpu_addr() + p.off;
        try {
            if (p.reused)
                clear_piece(p, va, acc);
            allocs_[va] = Alloc{p.page, p.off, p.size, true};
        } catch (...) {
            shared_.give_back(p);
            throw;
        }
        if (cpu)
            *cpu = static_cast<std::byte*>(p.page->data()) + p.off;
        return va;
    }

    // Zero-fills a piece that was another's (alloc() promises zeros; a
    // launch's local memory counts on them): host memory by the CPU (a
    // free() waited for the GPU), device memory the GPU writes by a FILL
    // queued before anything that uses it, other device memory (code,
    // read-only to the GPU) by a write.
    void clear_piece(const SubAllocator<vgpu::Buffer>::Piece& p, uint64_t va, Access acc) {
        if (acc.host) {
            std::memset(static_cast<std::byte*>(p.page->data()) + p.off, 0, p.size);
        } else if (acc.gpu_writes && !acc.exec) {
            fill(va, p.size, 0);
        } else {
            std::vector<std::byte> zeros(p.size);
            write(va, zeros.data(), zeros.size());
        }
    }

    // Submits with @submit; when the client's queue is full (vgpu-back's
    // quota_jobs or quota_cmds: EDQUOT), waits for the work queued and
    // submits again: a full queue makes CUDA's launches wait, never fail.
    // A context that faulted refuses work (EIO): the fault is what the
    // program is told (DeviceFault: sticky, as CUDA's), not the refusal.
    template <typename F>
    void queue(F&& submit) {
        try {
            submit();
        } catch (const vgpu::Error& e) {
            if (e.code() == EIO)
                sync();  // throws the context's fault, if that is why
            if (e.code() != EDQUOT)
                throw;
            sync();
            submit();
        }
    }

    void sync() {
        try {
            ctx_->synchronize();
        } catch (const vgpu::ContextError& e) {
            throw DeviceFault(e.what(), e.status().fault_kind, e.status().fault_addr);
        }
    }

    std::pair<vgpu::Buffer*, size_t> find(uint64_t va, size_t n) {
        auto it = allocs_.upper_bound(va);
        if (it == allocs_.begin())
            throw std::out_of_range("not a GPU address");
        --it;
        const Alloc& a = it->second;
        if (va - it->first > a.size || n > a.size - (va - it->first))
            throw std::out_of_range("outside its allocation");
        return {a.buf, a.off + (va - it->first)};
    }
};

}  // namespace

std::unique_ptr<Backend> make_vgpu_backend(const std::string& node, int index, int count) {
    return std::make_unique<VgpuBackend>(open_node(node), index, count);
}

std::unique_ptr<Backend> make_vgpu_backend(std::shared_ptr<vgpu::Device> dev, int index, int count) {
    return std::make_unique<VgpuBackend>(std::move(dev), index, count);
}

}  // namespace gpuvm::cudart
