// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fake_cuda.cpp - a fake libcuda for tests (see fake_cuda.hpp).
#include "fake_cuda.hpp"

#include "ptx.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <fcntl.h>
#include <set>
#include <sstream>

namespace vgpu::engine::test {
namespace {

using namespace cu;

FakeCuda* g_fake = nullptr;  // the one fake the static table serves

constexpr uint64_t kPg = 4096;
constexpr uint64_t kGranularity = 2 << 20;  // the virtual memory API's, as on an H200

uint64_t u(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Every entry point: the fake's, or CUDA_ERROR_DEINITIALIZED (4) without one.
template <typename F>
CUresult with(F&& f) {
    return g_fake ? f(*g_fake) : 4;
}

CUresult f_copy(const char* what, uint64_t dst, uint64_t src, size_t n, bool dst_dev, bool src_dev) {
    return with([&](FakeCuda& k) {
        if ((dst_dev && !k.check_range(what, dst, n)) || (src_dev && !k.check_range(what, src, n)))
            return kErrInvalidValue;
        std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), n);
        return CUDA_SUCCESS;
    });
}

CUresult f_set(const char* what, uint64_t dst, unsigned v, size_t n, size_t unit) {
    return with([&](FakeCuda& k) {
        if (!k.check_range(what, dst, n * unit))
            return kErrInvalidValue;
        for (size_t i = 0; i < n; i++)
            std::memcpy(reinterpret_cast<uint8_t*>(dst) + i * unit, &v, unit);
        return CUDA_SUCCESS;
    });
}

int g_pageable_access = 0;  // FakeCuda::pageable_access

CUresult f_attr(int* v, int attr, CUdevice) {
    *v = attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR   ? 9
         : attr == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR ? 0
         : attr == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT     ? 4
         : attr == CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR ? 2048
         : attr == CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING       ? 1
         : attr == CU_DEVICE_ATTRIBUTE_PCI_BUS_ID               ? 0x3b
         : attr == CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS   ? g_pageable_access
                                                                : 0;
    return CUDA_SUCCESS;
}

Api make_table() {
    Api a{};
    a.Init = [](unsigned) { return CUDA_SUCCESS; };
    a.DeviceGet = [](CUdevice* d, int i) { return *d = i, CUDA_SUCCESS; };
    a.DeviceGetCount = [](int* n) { return *n = 1, CUDA_SUCCESS; };
    a.DeviceGetName = [](char* s, int n, CUdevice) {
        std::snprintf(s, n, "Fake GPU");
        return CUDA_SUCCESS;
    };
    a.DeviceGetAttribute = f_attr;
    a.DeviceGetPCIBusId = [](char* s, int n, CUdevice) {
        std::snprintf(s, n, "0000:3B:00.1");  // upper case, as CUDA writes it
        return CUDA_SUCCESS;
    };
    a.DevicePrimaryCtxRetain = [](CUcontext* c, CUdevice) {
        static int ctx;
        *c = reinterpret_cast<CUcontext>(&ctx);
        return with([](FakeCuda& k) { return k.ctx_retains++, CUDA_SUCCESS; });
    };
    a.DevicePrimaryCtxRelease = [](CUdevice) { return with([](FakeCuda& k) { return k.ctx_retains--, CUDA_SUCCESS; }); };
    a.CtxSetCurrent = [](CUcontext) { return CUDA_SUCCESS; };
    a.CtxSynchronize = [] { return with([](FakeCuda& k) { return k.ctx_syncs++, CUDA_SUCCESS; }); };
    a.MemAlloc = [](CUdeviceptr* p, size_t n) { return with([&](FakeCuda& k) { return k.mem_alloc(p, n, false); }); };
    a.MemFree = [](CUdeviceptr p) { return with([&](FakeCuda& k) { return k.mem_free(p, false); }); };
    a.MemcpyHtoD = [](CUdeviceptr d, const void* s, size_t n) {
        if (g_fake && g_fake->htod_fails())
            return kErrInvalidValue;
        return f_copy("cuMemcpyHtoD", d, u(s), n, true, false);
    };
    a.MemcpyDtoH = [](void* d, CUdeviceptr s, size_t n) { return f_copy("cuMemcpyDtoH", u(d), s, n, false, true); };
    a.MemcpyAsync = [](CUdeviceptr d, CUdeviceptr s, size_t n, CUstream) {
        return f_copy("cuMemcpyAsync", d, s, n, true, true);
    };
    a.MemcpyHtoDAsync = [](CUdeviceptr d, const void* s, size_t n, CUstream) {
        return f_copy("cuMemcpyHtoDAsync", d, u(s), n, true, false);
    };
    a.MemsetD32Async = [](CUdeviceptr d, unsigned v, size_t n, CUstream) { return f_set("cuMemsetD32", d, v, n, 4); };
    a.MemsetD8 = [](CUdeviceptr d, unsigned char v, size_t n) { return f_set("cuMemsetD8", d, v, n, 1); };
    a.MemsetD8Async = [](CUdeviceptr d, unsigned char v, size_t n, CUstream) { return f_set("cuMemsetD8", d, v, n, 1); };
    a.MemHostAlloc = [](void** p, size_t n, unsigned) {
        return with([&](FakeCuda& k) {
            CUdeviceptr d = 0;
            CUresult r = k.mem_alloc(&d, n, true);
            *p = reinterpret_cast<void*>(d);
            return r;
        });
    };
    a.MemFreeHost = [](void* p) { return with([&](FakeCuda& k) { return k.mem_free(u(p), true); }); };
    a.MemHostGetDevicePointer = [](CUdeviceptr* d, void* p, unsigned) {
        return with([&](FakeCuda& k) { return k.device_pointer(d, p); });
    };
    a.MemHostRegister = [](void* p, size_t n, unsigned) { return with([&](FakeCuda& k) { return k.host_register(p, n); }); };
    a.MemHostUnregister = [](void* p) { return with([&](FakeCuda& k) { return k.host_unregister(p); }); };
    a.ModuleLoadDataEx = [](CUmodule* m, const void* ptx, unsigned, int*, void**) {
        return with([&](FakeCuda& k) { return k.load_module(m, ptx); });
    };
    a.ModuleGetFunction = [](CUfunction* f, CUmodule m, const char* name) {
        return with([&](FakeCuda& k) { return k.get_function(f, m, name); });
    };
    a.FuncGetAttribute = [](int* v, int attr, CUfunction) {
        return with([&](FakeCuda& k) {
            *v = attr == cu::CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES ? k.local_bytes : 0;
            return CUDA_SUCCESS;
        });
    };
    a.CtxSetLimit = [](int limit, size_t value) {
        return with([&](FakeCuda& k) {
            k.limits.emplace_back(limit, value);
            return k.on_set_limit ? k.on_set_limit() : CUDA_SUCCESS;
        });
    };
    a.FuncSetAttribute = [](CUfunction f, int attr, int value) {
        return with([&](FakeCuda& k) { return k.set_attribute(f, attr, value); });
    };
    a.ModuleUnload = [](CUmodule m) { return with([&](FakeCuda& k) { return k.unload_module(m); }); };
    a.LaunchKernel = [](CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned sh, CUstream, void** args, void** extra) {
        return with([&](FakeCuda& k) { return k.launch({f, {gx, gy, gz}, {bx, by, bz}, sh, args, extra, {}}); });
    };
    a.StreamCreate = [](CUstream* s, unsigned) {
        static int st;
        *s = reinterpret_cast<CUstream>(&st);
        return with([](FakeCuda& k) { return k.live_streams++, CUDA_SUCCESS; });
    };
    a.StreamDestroy = [](CUstream) { return with([](FakeCuda& k) { return k.live_streams--, CUDA_SUCCESS; }); };
    a.StreamQuery = [](CUstream) {
        return with([](FakeCuda& k) { return k.on_query ? k.on_query() : CUDA_SUCCESS; });
    };
    a.StreamSynchronize = [](CUstream) {
        return with([](FakeCuda& k) { return k.on_sync ? k.on_sync() : CUDA_SUCCESS; });
    };
    a.EventCreate = [](CUevent* e, unsigned) {
        static int ev;
        *e = reinterpret_cast<CUevent>(&ev);
        return with([](FakeCuda& k) { return k.live_events++, CUDA_SUCCESS; });
    };
    a.EventDestroy = [](CUevent) { return with([](FakeCuda& k) { return k.live_events--, CUDA_SUCCESS; }); };
    a.EventRecord = [](CUevent, CUstream) { return CUDA_SUCCESS; };
    a.StreamWaitEvent = [](CUstream, CUevent, unsigned) { return CUDA_SUCCESS; };
    a.EventSynchronize = [](CUevent) { return CUDA_SUCCESS; };
    a.EventElapsedTime = [](float* ms, CUevent, CUevent) { return *ms = 0, CUDA_SUCCESS; };
    a.GetErrorString = [](CUresult, const char** s) { return *s = "fake CUDA error", CUDA_SUCCESS; };
    a.MemCreate = [](CUmemGenericAllocationHandle* h, size_t n, const CUmemAllocationProp* p, unsigned long long) {
        if (!p || p->requestedHandleTypes != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
            return kErrInvalidValue;
        return with([&](FakeCuda& k) { return k.vmm_create(h, n); });
    };
    a.MemRelease = [](CUmemGenericAllocationHandle h) { return with([&](FakeCuda& k) { return k.vmm_release(h); }); };
    a.MemExportToShareableHandle = [](void* out, CUmemGenericAllocationHandle h, int type, unsigned long long) {
        if (type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
            return kErrInvalidValue;
        return with([&](FakeCuda& k) { return k.vmm_export(static_cast<int*>(out), h); });
    };
    a.MemImportFromShareableHandle = [](CUmemGenericAllocationHandle* h, void* os, int type) {
        if (type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
            return kErrInvalidValue;
        return with([&](FakeCuda& k) { return k.vmm_import(h, static_cast<int>(reinterpret_cast<intptr_t>(os))); });
    };
    a.MemAddressReserve = [](CUdeviceptr* p, size_t n, size_t, CUdeviceptr hint, unsigned long long) {
        return with([&](FakeCuda& k) { return k.vmm_reserve(p, n, hint); });
    };
    a.MemAddressFree = [](CUdeviceptr p, size_t n) { return with([&](FakeCuda& k) { return k.vmm_free(p, n); }); };
    a.MemMap = [](CUdeviceptr p, size_t n, size_t off, CUmemGenericAllocationHandle h, unsigned long long) {
        return with([&](FakeCuda& k) { return k.vmm_map(p, n, off, h); });
    };
    a.MemUnmap = [](CUdeviceptr p, size_t n) { return with([&](FakeCuda& k) { return k.vmm_unmap(p, n); }); };
    a.MemSetAccess = [](CUdeviceptr p, size_t n, const CUmemAccessDesc*, size_t count) {
        return count == 1 ? with([&](FakeCuda& k) { return k.vmm_access(p, n); }) : kErrInvalidValue;
    };
    a.MemGetAllocationGranularity = [](size_t* g, const CUmemAllocationProp*, int) {
        *g = kGranularity;
        return CUDA_SUCCESS;
    };
    return a;
}

}  // namespace

FakeCuda::FakeCuda() {
    if (g_fake)
        throw std::logic_error("one FakeCuda at a time");
    g_fake = this;
}

void FakeCuda::pageable_access(int v) { g_pageable_access = v; }

FakeCuda::~FakeCuda() {
    g_pageable_access = 0;
    for (auto& [p, b] : blocks_)
        munmap(reinterpret_cast<void*>(p), b.mapped);
    for (auto& [p, n] : reservations_)
        munmap(reinterpret_cast<void*>(p), n);
    for (auto& [id, h] : handles_)
        close(h.fd);
    g_fake = nullptr;
}

const Api& FakeCuda::api() {
    static const Api table = make_table();
    return table;
}

std::string FakeCuda::errors() const {
    std::lock_guard<std::mutex> g(emu_);
    std::string s;
    for (auto& e : errors_)
        s += e + "\n";
    return s;
}

const FakeCuda::Block* FakeCuda::block_at(uint64_t p, uint64_t* base) const {
    auto it = blocks_.upper_bound(p);
    if (it == blocks_.begin())
        return nullptr;
    --it;
    if (p >= it->first + it->second.mapped)
        return nullptr;
    *base = it->first;
    return &it->second;
}

bool FakeCuda::device_live(uint64_t addr, uint64_t len) const {
    uint64_t base;
    const Block* b = block_at(addr, &base);
    return b && b->live && !b->host && len <= b->size && addr - base <= b->size - len;
}

bool FakeCuda::registered(uint64_t addr, uint64_t len) const {
    auto it = regs_.upper_bound(addr);
    if (it == regs_.begin())
        return false;
    --it;
    return len <= it->second && addr - it->first <= it->second - len;
}

uint64_t FakeCuda::live_allocs() const {
    uint64_t n = 0;
    for (auto& [p, b] : blocks_)
        n += b.live && !b.host;
    return n;
}

uint64_t FakeCuda::modules_live() const {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t n = 0;
    for (auto& m : modules_)
        n += m.live;
    return n;
}

std::string FakeCuda::unmapped_registrations() const {
    std::ostringstream s;
    for (auto& [p, n] : regs_)
        if (msync(reinterpret_cast<void*>(p & ~(kPg - 1)), n + (p & (kPg - 1)), MS_ASYNC))
            s << "registration 0x" << std::hex << p << "+0x" << n << " is no longer mapped\n";
    return s.str();
}

bool FakeCuda::check_range(const char* what, uint64_t p, uint64_t n) {
    uint64_t base;
    const Block* b = block_at(p, &base);
    if (registered(p, n))
        return true;
    // Device memory: one allocation, or several mapped side by side (the
    // virtual memory API's pieces), as the driver allows; a range past
    // the end of a cuMemAlloc allocation is an error even where another
    // follows it.
    for (uint64_t q = p, left = n; b && b->live && !b->host;) {
        if (q - base >= b->size)
            break;
        uint64_t in = std::min(left, b->size - (q - base));
        left -= in;
        q += in;
        if (!left)
            return true;
        const Block* next = block_at(q, &base);
        if (!b->piece || !next || !next->piece)
            break;
        b = next;
    }
    b = block_at(p, &base);
    std::ostringstream s;
    s << what << ": 0x" << std::hex << p << "+0x" << n
      << (b && !b->live ? " is in freed memory (use after free)" : " is not device memory");
    error(s.str());
    return false;
}

CUresult FakeCuda::mem_alloc(CUdeviceptr* p, size_t n, bool host) {
    if (!host && ++allocs_ == fail_at_)
        return kErrOutOfMemory;
    if (!n || (!host && limit_ && (n > limit_ || live_bytes_ > limit_ - n)))
        return kErrOutOfMemory;
    uint64_t mapped = (n + kPg - 1) & ~(kPg - 1);
    void* m = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return kErrOutOfMemory;
    std::memset(m, 0xa5, std::min<uint64_t>(mapped, 1 << 16));  // device memory is not zeroed
    blocks_[u(m)] = {n, mapped, true, host};
    if (!host)
        live_bytes_ += n;
    *p = u(m);
    return CUDA_SUCCESS;
}

CUresult FakeCuda::mem_free(CUdeviceptr p, bool host) {
    auto it = blocks_.find(p);
    if (it == blocks_.end() || it->second.host != host) {
        std::ostringstream s;
        s << (host ? "cuMemFreeHost" : "cuMemFree") << ": 0x" << std::hex << p << " was never allocated";
        error(s.str());
        return kErrInvalidValue;
    }
    if (!it->second.live) {
        std::ostringstream s;
        s << (host ? "cuMemFreeHost" : "cuMemFree") << ": 0x" << std::hex << p << " freed twice";
        error(s.str());
        return kErrInvalidValue;
    }
    // Kept reserved and inaccessible: the address is never reused.
    it->second.live = false;
    if (!host)
        live_bytes_ -= it->second.size;
    madvise(reinterpret_cast<void*>(p), it->second.mapped, MADV_DONTNEED);
    mprotect(reinterpret_cast<void*>(p), it->second.mapped, PROT_NONE);
    return CUDA_SUCCESS;
}

CUresult FakeCuda::host_register(void* p, size_t n) {
    uint64_t a = u(p);
    if (!n || a + n < a)
        return kErrInvalidValue;
    auto it = regs_.lower_bound(a + n);  // the first registration past the range
    if (it != regs_.begin() && std::prev(it)->first + std::prev(it)->second > a) {
        overlaps_++;
        return kErrAlreadyRegistered;
    }
    if (msync(reinterpret_cast<void*>(a & ~(kPg - 1)), n + (a & (kPg - 1)), MS_ASYNC))
        return kErrInvalidValue;  // not mapped memory of this process
    regs_[a] = n;
    return CUDA_SUCCESS;
}

CUresult FakeCuda::host_unregister(void* p) {
    auto it = regs_.find(u(p));
    if (it == regs_.end()) {
        std::ostringstream s;
        s << "cuMemHostUnregister: 0x" << std::hex << u(p) << " is not the start of a registration";
        error(s.str());
        return kErrNotRegistered;
    }
    regs_.erase(it);
    return CUDA_SUCCESS;
}

CUresult FakeCuda::device_pointer(CUdeviceptr* d, void* p) {
    uint64_t base;
    const Block* b = block_at(u(p), &base);
    if (!registered(u(p), 1) && !(b && b->host && b->live)) {
        error("cuMemHostGetDevicePointer: memory neither registered nor allocated");
        return kErrInvalidValue;
    }
    *d = u(p);
    return CUDA_SUCCESS;
}

CUresult FakeCuda::load_module(CUmodule* m, const void* ptx) {
    if (on_load)
        on_load();
    std::lock_guard<std::mutex> g(mu_);
    modules_.push_back({static_cast<const char*>(ptx), true});
    *m = reinterpret_cast<CUmodule>(static_cast<uintptr_t>(modules_.size()));
    return CUDA_SUCCESS;
}

CUresult FakeCuda::get_function(CUfunction* f, CUmodule m, const char* name) {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t i = u(m);
    if (!i || i > modules_.size() || !modules_[i - 1].live) {
        error("cuModuleGetFunction: not a loaded module");
        return kErrInvalidHandle;
    }
    if (modules_[i - 1].ptx.find(".entry " + std::string(name) + "(") == std::string::npos)
        return kErrNotFound;
    for (size_t k = 0; k < functions_.size(); k++)
        if (functions_[k].module == i && functions_[k].name == name) {
            *f = reinterpret_cast<CUfunction>(kFunctionBase + k + 1);
            return CUDA_SUCCESS;
        }
    functions_.push_back({i, name});
    *f = reinterpret_cast<CUfunction>(kFunctionBase + functions_.size());
    return CUDA_SUCCESS;
}

FakeCuda::Function* FakeCuda::function_of(CUfunction f) {
    uint64_t k = u(f);
    if (k <= kFunctionBase || k - kFunctionBase > functions_.size())
        return nullptr;
    Function* fn = &functions_[k - kFunctionBase - 1];
    return modules_[fn->module - 1].live ? fn : nullptr;
}

CUresult FakeCuda::unload_module(CUmodule m) {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t i = u(m);
    if (!i || i > modules_.size() || !modules_[i - 1].live) {
        error("cuModuleUnload: not a loaded module (unloaded twice?)");
        return kErrInvalidHandle;
    }
    modules_[i - 1].live = false;
    return CUDA_SUCCESS;
}

std::string FakeCuda::ptx_of(CUfunction f) const {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t k = u(f);
    if (k <= kFunctionBase || k - kFunctionBase > functions_.size())
        return "";
    return modules_[functions_[k - kFunctionBase - 1].module - 1].ptx;
}

// As NVIDIA's driver: dynamic shared memory beyond 48 KiB only up to
// what cuFuncSetAttribute allowed (the GPU's opt-in limit: 227 KiB).
CUresult FakeCuda::set_attribute(CUfunction f, int attr, int value) {
    std::lock_guard<std::mutex> g(mu_);
    Function* fn = function_of(f);
    if (!fn) {
        error("cuFuncSetAttribute: not a function");
        return kErrInvalidHandle;
    }
    if (attr != cu::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES || value < 0 || value > 227 * 1024) {
        error("cuFuncSetAttribute: attribute " + std::to_string(attr) + " value " + std::to_string(value));
        return 1;  // CUDA_ERROR_INVALID_VALUE
    }
    fn->max_dynamic_shared = static_cast<uint32_t>(value);
    return CUDA_SUCCESS;
}

CUresult FakeCuda::launch(const LaunchCall& call) {
    LaunchCall c = call;
    bool live;
    uint32_t max_shared = 0;
    {
        std::lock_guard<std::mutex> g(mu_);
        const Function* fn = function_of(c.f);
        live = fn != nullptr;
        if (live) {
            max_shared = fn->max_dynamic_shared;
            c.entry = fn->name;
        }
    }
    if (!live) {
        error("cuLaunchKernel: a function of an unloaded module");
        return kErrInvalidHandle;
    }
    if (c.shared > max_shared) {
        error("cuLaunchKernel: " + std::to_string(c.shared) + " bytes of dynamic shared memory");
        return 1;  // CUDA_ERROR_INVALID_VALUE
    }
    CUresult r = on_launch ? on_launch(c) : CUDA_SUCCESS;
    launches.push_back(c);
    launches.back().args = nullptr;
    launches.back().extra = nullptr;
    return r;
}

std::string audit_tables(const FakeCuda& fake, const Backend& backend) {
    cu::Debug d = cu::debug(backend);
    std::ostringstream s;
    std::set<uint64_t> linked;
    s << std::hex;
    auto table = [&](uint64_t t, uint64_t bytes, const char* what, uint64_t ctx) {
        if (!fake.device_live(t, bytes)) {
            s << "ctx " << ctx << ": " << what << " 0x" << t << " is not live device memory\n";
            return false;
        }
        if (!linked.insert(t).second)
            s << "ctx " << ctx << ": " << what << " 0x" << t << " is linked twice\n";
        if (d.pool_free.count(t))
            s << "ctx " << ctx << ": " << what << " 0x" << t << " is in the pool's free list\n";
        return true;
    };
    auto entries = [](uint64_t t) { return reinterpret_cast<const uint64_t*>(t); };
    for (auto& [ctx, root] : d.roots) {
        if (!table(root, 1024 * 8, "root", ctx))
            continue;
        const uint64_t* e0 = entries(root);
        for (int i = 0; i < 1024; i++) {
            uint64_t l1 = e0[i] & ~kPtePerms;
            if (!e0[i] || !table(l1, 512 * 8, "level-1 table", ctx))
                continue;
            const uint64_t* e1 = entries(l1);
            for (int j = 0; j < 512; j++) {
                uint64_t l2 = e1[j] & ~kPtePerms;
                if (!e1[j] || !table(l2, 512 * 8, "level-2 table", ctx))
                    continue;
                const uint64_t* e2 = entries(l2);
                for (int k = 0; k < 512; k++) {
                    uint64_t pg = e2[k] & ~kPtePerms;
                    if (e2[k] && !fake.device_live(pg, kPg) && !fake.registered(pg, kPg))
                        s << "ctx " << ctx << ": page 0x" << ((uint64_t(i) << 18 | j << 9 | k) << 12) << " -> 0x"
                          << pg << " is neither live device memory nor registered\n";
                }
            }
        }
    }
    return s.str();
}

uint64_t gpu_leaf(const FakeCuda& fake, const Backend& backend, uint64_t ctx, uint64_t va) {
    cu::Debug d = cu::debug(backend);
    auto r = d.roots.find(ctx);
    uint64_t pn = va >> 12, t = r == d.roots.end() ? 0 : r->second;
    uint64_t idx[3] = {pn >> 18, (pn >> 9) & 511, pn & 511};
    for (int level = 0; level < 3; level++) {
        if (!t || !fake.device_live(t, (level ? 512 : 1024) * 8) || idx[level] >= (level ? 512u : 1024u))
            return 0;
        uint64_t e = reinterpret_cast<const uint64_t*>(t)[idx[level]];
        if (level == 2)
            return e;
        t = e & ~kPtePerms;
    }
    return 0;
}

}  // namespace vgpu::engine::test

namespace vgpu::engine::test {

CUresult FakeCuda::vmm_create(CUmemGenericAllocationHandle* h, size_t n) {
    if (!n || n % kGranularity || (limit_ && (n > limit_ || live_bytes_ > limit_ - n)))
        return !n || n % kGranularity ? kErrInvalidValue : kErrOutOfMemory;
    int fd = memfd_create("fake-vmm", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(n)) < 0) {
        if (fd >= 0)
            close(fd);
        return kErrOutOfMemory;
    }
    // Device memory is not zeroed.
    std::vector<uint8_t> junk(kPg, 0xa5);
    if (pwrite(fd, junk.data(), junk.size(), 0) < 0) {
        close(fd);
        return kErrOutOfMemory;
    }
    *h = next_handle_++;
    handles_[*h] = {fd, n};
    return CUDA_SUCCESS;
}

CUresult FakeCuda::vmm_release(CUmemGenericAllocationHandle h) {
    auto it = handles_.find(h);
    if (it == handles_.end()) {
        error("cuMemRelease: an unknown handle");
        return kErrInvalidValue;
    }
    close(it->second.fd);  // a mapping keeps the memory
    handles_.erase(it);
    return CUDA_SUCCESS;
}

CUresult FakeCuda::vmm_export(int* fd, CUmemGenericAllocationHandle h) {
    auto it = handles_.find(h);
    if (it == handles_.end())
        return kErrInvalidValue;
    *fd = fcntl(it->second.fd, F_DUPFD_CLOEXEC, 0);
    return *fd < 0 ? kErrOutOfMemory : CUDA_SUCCESS;
}

CUresult FakeCuda::vmm_import(CUmemGenericAllocationHandle* h, int fd) {
    struct stat st;
    if (fstat(fd, &st) < 0 || !st.st_size)
        return kErrInvalidValue;
    int mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (mine < 0)
        return kErrOutOfMemory;
    *h = next_handle_++;
    handles_[*h] = {mine, static_cast<uint64_t>(st.st_size)};
    return CUDA_SUCCESS;
}

// @hint: where the caller would like it, taken if free (as the driver).
CUresult FakeCuda::vmm_reserve(CUdeviceptr* p, size_t n, CUdeviceptr hint) {
    if (!n || n % kGranularity)
        return kErrInvalidValue;
    void* m = mmap(reinterpret_cast<void*>(hint), n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return kErrOutOfMemory;
    *p = u(m);
    reserved_[*p] = n;
    reservations_.push_back({*p, n});  // never reused: kept until the end
    return CUDA_SUCCESS;
}

CUresult FakeCuda::vmm_free(CUdeviceptr p, size_t n) {
    auto it = reserved_.find(p);
    if (it == reserved_.end() || it->second != n) {
        error("cuMemAddressFree: not a reservation");
        return kErrInvalidValue;
    }
    uint64_t base;
    const Block* b = block_at(p, &base);
    if (b && b->live && base < p + n) {
        error("cuMemAddressFree: a range still mapped");
        return kErrInvalidValue;
    }
    reserved_.erase(it);
    return CUDA_SUCCESS;
}

CUresult FakeCuda::vmm_map(CUdeviceptr p, size_t n, size_t off, CUmemGenericAllocationHandle h) {
    auto r = reserved_.upper_bound(p);
    auto it = handles_.find(h);
    if (r == reserved_.begin() || it == handles_.end() || off || n != it->second.size)
        return kErrInvalidValue;  // the driver's rule: whole allocations, offset 0
    --r;
    if (p + n > r->first + r->second)
        return kErrInvalidValue;
    void* m = mmap(reinterpret_cast<void*>(p), n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, it->second.fd, 0);
    if (m == MAP_FAILED)
        return kErrOutOfMemory;
    blocks_[p] = {n, n, true, false, true};
    return CUDA_SUCCESS;
}

CUresult FakeCuda::vmm_unmap(CUdeviceptr p, size_t n) {
    auto it = blocks_.find(p);
    if (it == blocks_.end() || !it->second.live || it->second.size != n) {
        error("cuMemUnmap: not a mapping");
        return kErrInvalidValue;
    }
    it->second.live = false;
    mmap(reinterpret_cast<void*>(p), n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    return CUDA_SUCCESS;
}

// Over one mapping or several side by side (each piece its own).
CUresult FakeCuda::vmm_access(CUdeviceptr p, size_t n) {
    for (uint64_t o = 0; o < n; o += kGranularity)
        if (!device_live(p + o, std::min<uint64_t>(kGranularity, n - o)))
            return kErrInvalidValue;
    return CUDA_SUCCESS;
}

}  // namespace vgpu::engine::test
