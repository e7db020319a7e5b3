// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// cuda_memory.cpp - the GPU's device memory as the engine process holds
// it for its workers (router.hpp's SharedMemory): one allocation of the
// driver's virtual memory API per allocation of the module (cuMemCreate,
// whole 2 MiB pieces), exported as a POSIX descriptor that a worker
// imports and maps.  The engine process maps each too, to zero it for
// its new owner and for the self-test's reads and writes.  A worker's
// death frees none of it (Documentation/engines.rst "Workers").
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <map>
#include <optional>

#include "cuda_api.hpp"
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
    }
    ~CudaMemory() override {
        while (!mems_.empty())
            free(mems_.begin()->first);
    }
    uint64_t size() const override { return size_; }
    std::string device_name() const override { return name_; }
    std::string pci() const override { return pci_; }
    uint64_t granularity() const { return gran_; }

    int alloc(uint64_t mem, uint64_t size) override {
        size = (size + gran_ - 1) & ~(gran_ - 1);
        if (mems_.count(mem))
            return EEXIST;
        if (!size || size > size_ - used_)
            return ENOSPC;
        CUmemGenericAllocationHandle h = 0;
        if (a_.MemCreate(&h, size, &prop_, 0) != CUDA_SUCCESS)
            return ENOSPC;
        Mem m;
        m.h = h;
        m.size = size;
        int fd = -1;
        try {
            check("cuMemExportToShareableHandle",
                  a_.MemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
            m.fd = vgpu::Fd(fd);
            // Never inherited by a worker (the driver makes no promise).
            if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                throw std::runtime_error("F_SETFD on an exported allocation");
            m.map = std::make_shared<Mapping>(a_, h, size, dev_);
            // Zeroed for each new owner, and done before a worker (another
            // context, in another process: no order with this one's
            // work) can reach it.
            check("cuMemsetD8", a_.MemsetD8(m.map->get(), 0, size));
            check("cuCtxSynchronize", a_.CtxSynchronize());
            mems_.emplace(mem, std::move(m));
        } catch (const std::exception& e) {
            std::cerr << "vgpu-engined: device memory of " << size << " bytes: " << e.what() << "\n";
            m.map.reset();
            a_.MemRelease(h);
            return EIO;
        }
        used_ += size;
        return 0;
    }
    void free(uint64_t mem) override {
        auto it = mems_.find(mem);
        if (it == mems_.end())
            return;
        it->second.map.reset();
        a_.MemRelease(it->second.h);  // the allocation goes with the last mapping and descriptor
        used_ -= it->second.size;
        mems_.erase(it);
    }
    int fd(uint64_t mem, uint64_t* size) const override { return table_fd(mems_, mem, size); }
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
        CUmemGenericAllocationHandle h = 0;
        uint64_t size = 0;
        vgpu::Fd fd;                   // exported: what workers import
        std::shared_ptr<Mapping> map;  // this process's view
    };
    const Api& a_;
    CUdevice dev_ = 0;
    std::optional<PrimaryContext> ctx_;
    std::string name_, pci_;
    CUmemAllocationProp prop_{};
    uint64_t size_, used_ = 0, gran_ = 0;
    std::map<uint64_t, Mem> mems_;
};

}  // namespace

std::unique_ptr<SharedMemory> make_cuda_memory(const cu::Api& api, uint64_t size, int gpu) {
    return std::make_unique<CudaMemory>(api, size, gpu);
}

std::unique_ptr<SharedMemory> make_cuda_memory(uint64_t size, int gpu) { return make_cuda_memory(cu::api(), size, gpu); }

}  // namespace vgpu::engine
