// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// cuda_memory.cpp - the GPU's device memory as the engine process holds
// it for its workers (router.hpp's SharedMemory): each allocation of the
// module is one allocation of the driver's virtual memory API
// (cuMemCreate, whole 2 MiB pieces), one piece to share, exported as a
// POSIX descriptor when a worker imports it (an export costs about as
// much as a piece's: one per allocation, measured on the H200 in
// engines.rst).  The engine process maps it too, to zero it for its new
// owner and for the self-test's reads and writes.  A worker's death
// frees none of it (Documentation/engines.rst "Workers").
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <map>
#include <optional>
#include <vector>

#include "cuda_api.hpp"
#include "cuda_native.hpp"
#include "router.hpp"
#include "vgpu/fd.hpp"

namespace vgpu::engine {
namespace {

using namespace cu;

class CudaMemory final : public SharedMemory {
public:
    CudaMemory(const Api& a, uint64_t size, int gpu) : a_(a), size_(size) {
        name_errors_with(&a_);
        dev_ = device(a_, gpu, &name_);
        pci_ = pci_of(a_, dev_);
        ctx_.emplace(a_, dev_);
        prop_.type = CU_MEM_ALLOCATION_TYPE_PINNED;
        prop_.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
        prop_.location = {CU_MEM_LOCATION_TYPE_DEVICE, dev_};
        size_t g = 0;
        check("cuMemGetAllocationGranularity", a_.MemGetAllocationGranularity(&g, &prop_, 0));
        if (!g || g & (g - 1))
            throw std::runtime_error("the driver's allocation granularity is no power of two");
        gran_ = g;
        ctx_mem_ = worker_ctx_mem();
        // A stack is held for every thread the GPU holds: none where the
        // driver does not say how many.
        if ((stack_threads_ = gpu_threads(a_, dev_)))
            max_stack_ = ptx_stack_bound();
        if (!max_stack_)
            stack_threads_ = 0;
    }
    ~CudaMemory() override {
        while (!mems_.empty())
            free(mems_.begin()->first);
    }
    uint64_t size() const override { return size_; }
    uint64_t context_memory() const override { return ctx_mem_; }
    uint32_t max_stack() const override { return max_stack_; }
    uint64_t stack_threads() const override { return stack_threads_; }
    std::string device_name() const override { return name_; }
    std::string pci() const override { return pci_; }
    uint64_t granularity() const { return gran_; }

    int alloc(uint64_t mem, uint64_t size) override {
        size = (size + gran_ - 1) & ~(gran_ - 1);
        if (mems_.count(mem))
            return EEXIST;
        if (!size || size > size_ - used_)
            return ENOSPC;
        Mem m;
        m.size = size;
        CUmemGenericAllocationHandle h = 0;
        if (a_.MemCreate(&h, size, &prop_, 0) != CUDA_SUCCESS)
            return ENOSPC;
        m.pieces.push_back(h);
        try {
            m.map = std::make_shared<Mapping>(a_, m.pieces, size, dev_);
            // Zeroed for each new owner, and done before a worker (another
            // context, in another process: no order with this one's
            // work) can reach it.
            check("cuMemsetD8", a_.MemsetD8(m.map->get(), 0, size));
            check("cuCtxSynchronize", a_.CtxSynchronize());
            mems_.emplace(mem, std::move(m));
        } catch (const std::exception& e) {
            std::cerr << "vgpu-engined: device memory of " << size << " bytes: " << e.what() << "\n";
            release(m);
            return EIO;
        }
        used_ += size;
        return 0;
    }
    void free(uint64_t mem) override {
        auto it = mems_.find(mem);
        if (it == mems_.end())
            return;
        used_ -= it->second.size;
        release(it->second);  // each piece goes with its last mapping and descriptor
        mems_.erase(it);
    }
    uint64_t pieces(uint64_t mem, uint64_t* size) const override {
        auto it = mems_.find(mem);
        if (it == mems_.end())
            return 0;
        *size = it->second.size;
        return it->second.pieces.size();
    }
    vgpu::Fd export_piece(uint64_t mem, uint64_t i) const override {
        auto it = mems_.find(mem);
        int fd = -1;
        if (it == mems_.end() || i >= it->second.pieces.size() ||
            a_.MemExportToShareableHandle(&fd, it->second.pieces[i], CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0) !=
                CUDA_SUCCESS)
            return vgpu::Fd();
        vgpu::Fd owned(fd);
        // Never inherited by a worker (the driver makes no promise).
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
            return vgpu::Fd();
        return owned;
    }
    int read(uint64_t mem, uint64_t off, void* dst, uint64_t size) const override {
        const Mem* m = table_range(mems_, mem, off, size);
        if (!m)
            return EINVAL;
        return a_.MemcpyDtoH(dst, m->map->get() + off, size) == CUDA_SUCCESS ? 0 : EIO;
    }
    int write(uint64_t mem, uint64_t off, const void* src, uint64_t size) override {
        const Mem* m = table_range(mems_, mem, off, size);
        if (!m)
            return EINVAL;
        // A copy from pageable memory may return before it lands: the
        // worker that reads it next is ordered after nothing of this
        // context's.
        if (a_.MemcpyHtoD(m->map->get() + off, src, size) != CUDA_SUCCESS || a_.CtxSynchronize() != CUDA_SUCCESS)
            return EIO;
        return 0;
    }

private:
    struct Mem {
        std::vector<CUmemGenericAllocationHandle> pieces;  // one, of @size bytes
        uint64_t size = 0;
        std::shared_ptr<Mapping> map;  // this process's view, the pieces in order
    };
    void release(Mem& m) {
        m.map.reset();
        for (CUmemGenericAllocationHandle h : m.pieces)
            a_.MemRelease(h);
        m.pieces.clear();
    }
    const Api& a_;
    CUdevice dev_ = 0;
    std::optional<PrimaryContext> ctx_;
    std::string name_, pci_;
    CUmemAllocationProp prop_{};
    uint64_t size_, used_ = 0, gran_ = 0, ctx_mem_ = 0, stack_threads_ = 0;
    uint32_t max_stack_ = 0;
    std::map<uint64_t, Mem> mems_;
};

}  // namespace

std::unique_ptr<SharedMemory> make_cuda_memory(const cu::Api& api, uint64_t size, int gpu) {
    return std::make_unique<CudaMemory>(api, size, gpu);
}

std::unique_ptr<SharedMemory> make_cuda_memory(uint64_t size, int gpu) { return make_cuda_memory(cu::api(), size, gpu); }

}  // namespace vgpu::engine
