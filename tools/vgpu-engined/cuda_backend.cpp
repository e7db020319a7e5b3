// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// cuda_backend.cpp - engine operations on an NVIDIA GPU through the CUDA
// driver API (Documentation/engines.rst).
//
// Device memory is one cuMemAlloc() block cut by an Arena.  Each context
// has page tables in GPU memory in the interpreter's layout (10 + 9 + 9
// bits, 4 KiB pages), whose leaf entries hold the page's GPU-usable
// address and its R/W/X bits; the translated code walks them (ptx.cpp).
// Host memory (a window of the bridge, or any process memory in the
// self-test) is registered with cuMemHostRegister() and reached by the
// GPU in place.  Launches run in chunks of blocks: between chunks the
// engine checks its budget (preemption at block boundaries) and while a
// chunk runs it watches the watchdog, which ends the chunk through the
// stop word the translated code reads at backward branches.
#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

extern "C" {
#include "vgpu_interp.h"
}
#include "arena.hpp"
#include "backend.hpp"
#include "cuda_api.hpp"
#include "ptx.hpp"

namespace vgpu::engine {
namespace {

using namespace cu;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kCopyChunk = 64ull << 20;  // bytes per copy/fill step
constexpr size_t kCacheMax = 512;             // translated kernels kept

// 4 KiB page-table pages carved out of 2 MiB device allocations.
class TablePool {
public:
    explicit TablePool(const Api& a) : a_(a) {}
    ~TablePool() {
        for (auto c : chunks_)
            a_.MemFree(c);
    }
    CUdeviceptr get() {
        if (free_.empty()) {
            CUdeviceptr c;
            check("cuMemAlloc (page tables)", a_.MemAlloc(&c, 2u << 20));
            chunks_.push_back(c);
            for (uint64_t o = 0; o < (2u << 20); o += kPage)
                free_.push_back(c + o);
        }
        CUdeviceptr p = free_.back();
        free_.pop_back();
        return p;
    }
    void put(CUdeviceptr p) { free_.push_back(p); }

private:
    const Api& a_;
    std::vector<CUdeviceptr> chunks_, free_;
};

struct Leaf {
    uint64_t gpu;      // GPU-usable address of the page
    uint8_t* host;     // the page in this process (host memory), or nullptr
    uint32_t perms;
    bool staged;       // host memory staged in device memory (gpu is the copy)
};

// A context's address space: the authoritative page map here, and its
// image in GPU memory (tables uploaded when they change).
struct Space {
    struct Table {
        CUdeviceptr dev = 0;
        std::vector<uint64_t> e;
        int used = 0;
        bool dirty = true;
    };
    Table root;
    std::map<uint64_t, Table> l1;  // by level-0 index
    std::map<uint64_t, Table> l2;  // by (level-0 << 9 | level-1) index
    std::unordered_map<uint64_t, Leaf> pages;  // by page number
    struct Reg {
        uint8_t* base;
        uint64_t pages_left;
        CUdeviceptr stage;  // device copy of staged host memory, or 0
    };
    std::map<uint8_t*, Reg> regs;  // host registrations and stages by first page
    uint64_t staged_pages = 0;
};

struct Launch {
    CUfunction f = nullptr;
    uint64_t next_block = 0, nblocks = 0, chunk = 0;
    bool has_barrier = false;
    // In-block preemption (kernels without barriers, slices): the chunk's
    // save area, and whether the chunk stopped part way (resume it).
    const Api* api = nullptr;
    CUdeviceptr save = 0;
    uint64_t save_blocks = 0;
    bool resume = false;
    ~Launch() {
        if (save)
            api->MemFree(save);
    }
};

constexpr uint64_t kSaveBytes = 16ull << 20;  // save area of a sliced launch

class CudaBackend final : public Backend {
public:
    CudaBackend(uint64_t size, int gpu);
    ~CudaBackend() override;
    std::string name() const override { return "cuda:" + gpu_name_; }
    uint64_t mem_size() const override { return size_; }
    int ctx_create(uint64_t ctx) override;
    void ctx_destroy(uint64_t ctx) override;
    int mem_alloc(uint64_t mem, uint64_t size) override;
    void mem_free(uint64_t mem) override;
    int map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) override;
    void unmap(uint64_t ctx, uint64_t va, uint64_t size) override;
    RunResult run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) override;
    int mem_read(uint64_t mem, uint64_t off, void* dst, uint64_t size) override;
    int mem_write(uint64_t mem, uint64_t off, const void* src, uint64_t size) override;

private:
    void set_leaf(Space& s, uint64_t pn, uint64_t pte);
    void flush(Space& s);
    void drop_regs(Space& s, uint8_t* host_page);
    void sync_staged(Space& s, bool in);
    CUfunction kernel(Space& s, uint64_t entry, uint32_t nthreads, uint64_t* fault_addr, uint32_t* kind,
                      bool* has_barrier);
    vgpu_run_result copy(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind);
    vgpu_run_result fill(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind);
    vgpu_run_result launch(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t start, uint64_t budget,
                           uint64_t watchdog, uint64_t* addr, uint32_t* kind, bool* timedout);
    const Leaf* leaf(Space& s, uint64_t va, uint32_t need, uint64_t* addr, uint32_t* kind);

    const Api& a_;
    CUdevice dev_ = 0;
    CUcontext cuctx_ = nullptr;
    CUstream stream_ = nullptr;
    std::string gpu_name_;
    int sm_ = 0, nsm_ = 0;
    uint64_t size_;
    Arena arena_;
    CUdeviceptr vram_ = 0, ctl_ = 0, scratch_ = 0;
    bool ctl_dirty_ = true;  // the launch control block needs its reset
    bool force_staging_ = std::getenv("VGPU_ENGINED_STAGE_HOST") != nullptr;  // tests the staged path
    int warned_stage_ = 0;
    volatile uint32_t* stop_ = nullptr;
    CUdeviceptr stop_dev_ = 0;
    TablePool pool_;
    std::map<uint64_t, Space> spaces_;
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> mems_;
    struct Cached {
        CUmodule mod;
        CUfunction f;
    };
    std::map<std::string, Cached> cache_;
};

CudaBackend::CudaBackend(uint64_t size, int gpu) : a_(api()), size_(size), arena_(size), pool_(a_) {
    int n = 0;
    check("cuDeviceGetCount", a_.DeviceGetCount(&n));
    if (gpu < 0 || gpu >= n)
        throw Unavailable("no GPU " + std::to_string(gpu) + " (" + std::to_string(n) + " found)");
    check("cuDeviceGet", a_.DeviceGet(&dev_, gpu));
    char name[128] = {};
    a_.DeviceGetName(name, sizeof(name) - 1, dev_);
    gpu_name_ = name;
    int major = 0, minor = 0, uva = 0;
    a_.DeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev_);
    a_.DeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev_);
    a_.DeviceGetAttribute(&nsm_, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev_);
    a_.DeviceGetAttribute(&uva, CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, dev_);
    sm_ = major * 10 + minor;
    if (sm_ < 70 || !uva)
        throw Unavailable("GPU " + gpu_name_ + " is older than sm_70 or lacks unified addressing");
    check("cuDevicePrimaryCtxRetain", a_.DevicePrimaryCtxRetain(&cuctx_, dev_));
    check("cuCtxSetCurrent", a_.CtxSetCurrent(cuctx_));
    check("cuStreamCreate", a_.StreamCreate(&stream_, CU_STREAM_NON_BLOCKING));
    check("cuMemAlloc (device memory)", a_.MemAlloc(&vram_, size));
    check("cuMemAlloc (control)", a_.MemAlloc(&ctl_, sizeof(LaunchCtl)));
    check("cuMemAlloc (scratch)", a_.MemAlloc(&scratch_, kCopyChunk));
    void* h = nullptr;
    check("cuMemHostAlloc (stop word)", a_.MemHostAlloc(&h, kPage, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
    stop_ = static_cast<volatile uint32_t*>(h);
    check("cuMemHostGetDevicePointer", a_.MemHostGetDevicePointer(&stop_dev_, h, 0));
}

CudaBackend::~CudaBackend() {
    a_.StreamSynchronize(stream_);
    for (auto& [k, c] : cache_)
        a_.ModuleUnload(c.mod);
    for (auto& [id, s] : spaces_) {
        for (auto& [p, r] : s.regs)
            r.stage ? a_.MemFree(r.stage) : a_.MemHostUnregister(r.base);
        a_.MemFree(s.root.dev);
    }
    spaces_.clear();
    a_.MemFreeHost(const_cast<uint32_t*>(stop_));
    a_.MemFree(scratch_);
    a_.MemFree(ctl_);
    a_.MemFree(vram_);
    a_.StreamDestroy(stream_);
    a_.DevicePrimaryCtxRelease(dev_);
}

int CudaBackend::ctx_create(uint64_t ctx) {
    if (spaces_.count(ctx))
        return EEXIST;
    Space& s = spaces_[ctx];
    s.root.e.assign(1024, 0);  // 8 KiB: its own allocation, not a pool page
    try {
        check("cuMemAlloc (page table root)", a_.MemAlloc(&s.root.dev, 1024 * 8));
        flush(s);
    } catch (const std::exception& e) {
        std::cerr << "vgpu-engined: " << e.what() << "\n";
        if (s.root.dev)
            a_.MemFree(s.root.dev);
        spaces_.erase(ctx);
        return ENOMEM;
    }
    return 0;
}

void CudaBackend::ctx_destroy(uint64_t ctx) {
    auto it = spaces_.find(ctx);
    if (it == spaces_.end())
        return;
    Space& s = it->second;
    a_.StreamSynchronize(stream_);
    for (auto& [p, r] : s.regs)
        r.stage ? a_.MemFree(r.stage) : a_.MemHostUnregister(r.base);
    for (auto& [i, t] : s.l1)
        pool_.put(t.dev);
    for (auto& [i, t] : s.l2)
        pool_.put(t.dev);
    a_.MemFree(s.root.dev);
    spaces_.erase(it);
}

int CudaBackend::mem_alloc(uint64_t mem, uint64_t size) {
    if (mems_.count(mem))
        return EEXIST;
    auto off = arena_.alloc(size);
    if (!off)
        return ENOSPC;
    if (a_.MemsetD8(vram_ + *off, 0, size) != CUDA_SUCCESS) {  // zeroed for each new owner
        arena_.free(*off);
        return EIO;
    }
    mems_[mem] = {*off, size};
    return 0;
}

void CudaBackend::mem_free(uint64_t mem) {
    auto it = mems_.find(mem);
    if (it == mems_.end())
        return;
    arena_.free(it->second.first);
    mems_.erase(it);
}

void CudaBackend::set_leaf(Space& s, uint64_t pn, uint64_t pte) {
    uint64_t i0 = pn >> 18, i1 = (pn >> 9) & 511, i2 = pn & 511, k2 = pn >> 9;
    auto t1 = s.l1.find(i0);
    if (t1 == s.l1.end()) {
        if (!pte)
            return;
        Space::Table t;
        t.dev = pool_.get();
        t.e.assign(512, 0);
        t1 = s.l1.emplace(i0, std::move(t)).first;
        s.root.e[i0] = t1->second.dev;
        s.root.dirty = true;
    }
    auto t2 = s.l2.find(k2);
    if (t2 == s.l2.end()) {
        if (!pte)
            return;
        Space::Table t;
        t.dev = pool_.get();
        t.e.assign(512, 0);
        t2 = s.l2.emplace(k2, std::move(t)).first;
        t1->second.e[i1] = t2->second.dev;
        t1->second.used++;
        t1->second.dirty = true;
    }
    Space::Table& l2 = t2->second;
    l2.used += (pte != 0) - (l2.e[i2] != 0);
    l2.e[i2] = pte;
    l2.dirty = true;
    if (l2.used)
        return;
    // Empty tables go back to the pool, as vgpu_pt frees them.
    pool_.put(l2.dev);
    s.l2.erase(t2);
    t1->second.e[i1] = 0;
    t1->second.dirty = true;
    if (--t1->second.used)
        return;
    pool_.put(t1->second.dev);
    s.l1.erase(t1);
    s.root.e[i0] = 0;
    s.root.dirty = true;
}

void CudaBackend::flush(Space& s) {
    auto up = [&](Space::Table& t) {
        if (t.dirty)
            check("cuMemcpyHtoD (page table)", a_.MemcpyHtoD(t.dev, t.e.data(), t.e.size() * 8));
        t.dirty = false;
    };
    for (auto& [i, t] : s.l2)
        up(t);
    for (auto& [i, t] : s.l1)
        up(t);
    up(s.root);
}

int CudaBackend::map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) {
    auto it = spaces_.find(ctx);
    if (it == spaces_.end())
        return ENOENT;
    Space& s = it->second;
    if ((va | size) & (kPage - 1) || !size || va >= VGPU_VA_SIZE || size > VGPU_VA_SIZE - va)
        return EINVAL;
    uint64_t gpu;
    bool staged = false;
    if (b.host) {
        // The GPU reaches host memory in place (registered, mapped) where
        // the driver allows it; else the range is staged: a device copy
        // synchronised around each RUN of the context.
        CUresult r = force_staging_ ? CUDA_SUCCESS + 1
                                    : a_.MemHostRegister(b.host, size,
                                                         CU_MEMHOSTREGISTER_DEVICEMAP | CU_MEMHOSTREGISTER_PORTABLE);
        CUdeviceptr d = 0;
        if (r == CUDA_SUCCESS) {
            a_.MemHostGetDevicePointer(&d, b.host, 0);
            s.regs[b.host] = {b.host, size / kPage, 0};
        } else {
            if (!force_staging_ && !warned_stage_++)
                std::cerr << "vgpu-engined: " << error("cuMemHostRegister", r) << ": host memory staged\n";
            // Page-aligned: a leaf keeps R/W/X in the address's low bits.
            CUdeviceptr raw;
            if (a_.MemAlloc(&raw, size + kPage) != CUDA_SUCCESS)
                return ENOMEM;
            d = (raw + kPage - 1) & ~(kPage - 1);
            staged = true;
            s.staged_pages += size / kPage;
            s.regs[b.host] = {b.host, size / kPage, raw};
        }
        gpu = d;
    } else {
        auto m = mems_.find(b.mem);
        if (m == mems_.end() || b.offset > m->second.second || size > m->second.second - b.offset)
            return EINVAL;
        gpu = vram_ + m->second.first + b.offset;
    }
    for (uint64_t o = 0; o < size; o += kPage) {
        uint64_t pn = (va + o) >> 12;
        set_leaf(s, pn, (gpu + o) | (perms & kPtePerms));
        s.pages[pn] = {gpu + o, b.host ? b.host + o : nullptr, perms, staged};
    }
    try {
        flush(s);
    } catch (const std::exception& e) {
        std::cerr << "vgpu-engined: " << e.what() << "\n";
        unmap(ctx, va, size);
        return EIO;
    }
    return 0;
}

// A registration ends when the last of its pages is unmapped.
void CudaBackend::drop_regs(Space& s, uint8_t* host_page) {
    auto it = s.regs.upper_bound(host_page);
    if (it == s.regs.begin())
        return;
    --it;
    if (--it->second.pages_left)
        return;
    a_.StreamSynchronize(stream_);
    if (it->second.stage)
        a_.MemFree(it->second.stage);
    else
        a_.MemHostUnregister(it->second.base);
    s.regs.erase(it);
}

// Staged host memory: copied in before a RUN (@in), out after it, page
// runs merged; only pages still mapped (the bridge unmaps the others).
void CudaBackend::sync_staged(Space& s, bool in) {
    if (!s.staged_pages)
        return;
    std::vector<std::pair<uint8_t*, uint64_t>> pg;
    for (auto& [pn, l] : s.pages)
        if (l.staged)
            pg.push_back({l.host, l.gpu});
    std::sort(pg.begin(), pg.end());
    for (size_t i = 0; i < pg.size();) {
        size_t j = i + 1;
        while (j < pg.size() && pg[j].first == pg[i].first + (j - i) * kPage && pg[j].second == pg[i].second + (j - i) * kPage)
            j++;
        uint64_t n = (j - i) * kPage;
        check(in ? "cuMemcpyHtoD (staged)" : "cuMemcpyDtoH (staged)",
              in ? a_.MemcpyHtoD(pg[i].second, pg[i].first, n) : a_.MemcpyDtoH(pg[i].first, pg[i].second, n));
        i = j;
    }
}

void CudaBackend::unmap(uint64_t ctx, uint64_t va, uint64_t size) {
    auto it = spaces_.find(ctx);
    if (it == spaces_.end())
        return;
    Space& s = it->second;
    for (uint64_t o = 0; o < size; o += kPage) {
        auto p = s.pages.find((va + o) >> 12);
        if (p == s.pages.end())
            continue;
        uint8_t* host = p->second.host;
        if (p->second.staged)
            s.staged_pages--;
        s.pages.erase(p);
        set_leaf(s, (va + o) >> 12, 0);
        if (host)
            drop_regs(s, host);
    }
    try {
        flush(s);
    } catch (const std::exception& e) {
        std::cerr << "vgpu-engined: " << e.what() << "\n";
    }
}

const Leaf* CudaBackend::leaf(Space& s, uint64_t va, uint32_t need, uint64_t* addr, uint32_t* kind) {
    auto p = va < VGPU_VA_SIZE ? s.pages.find(va >> 12) : s.pages.end();
    if (p == s.pages.end() || (p->second.perms & need) != need) {
        *addr = va;
        *kind = p == s.pages.end() ? VGPU_FAULT_UNMAPPED : VGPU_FAULT_PERM;
        return nullptr;
    }
    return &p->second;
}

// Page by page as vgpu_mem_copy(), contiguous pieces merged into one DMA.
vgpu_run_result CudaBackend::copy(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind) {
    uint64_t moved = 0;
    while (job.cmd_done < c.size) {
        if (moved >= kCopyChunk)
            return VGPU_RUN_BUDGET;
        uint64_t sva = c.src + job.cmd_done, dva = c.dst + job.cmd_done;
        uint64_t sgpu = 0, dgpu = 0, n = 0;
        vgpu_run_result r = VGPU_RUN_DONE;
        // Extend the piece while both sides stay contiguous in GPU addresses.
        while (job.cmd_done + n < c.size && moved + n < kCopyChunk) {
            uint64_t sv = sva + n, dv = dva + n;
            const Leaf* ls = leaf(s, sv, VGPU_PTE_R, addr, kind);
            const Leaf* ld = ls ? leaf(s, dv, VGPU_PTE_W, addr, kind) : nullptr;
            if (!ld) {
                r = VGPU_RUN_FAULT;
                break;
            }
            uint64_t sg = ls->gpu + (sv & (kPage - 1)), dg = ld->gpu + (dv & (kPage - 1));
            if (n && (sg != sgpu + n || dg != dgpu + n))
                break;
            if (!n) {
                sgpu = sg;
                dgpu = dg;
            }
            uint64_t step = std::min(kPage - (sv & (kPage - 1)), kPage - (dv & (kPage - 1)));
            n += std::min<uint64_t>(step, c.size - job.cmd_done - n);
        }
        if (n) {
            bool overlap = sgpu < dgpu + n && dgpu < sgpu + n;
            if (overlap) {  // memmove, as the interpreter's forward copy for dst <= src
                check("cuMemcpyAsync", a_.MemcpyAsync(scratch_, sgpu, n, stream_));
                check("cuMemcpyAsync", a_.MemcpyAsync(dgpu, scratch_, n, stream_));
            } else {
                check("cuMemcpyAsync", a_.MemcpyAsync(dgpu, sgpu, n, stream_));
            }
            job.cmd_done += n;
            moved += n;
        }
        if (r == VGPU_RUN_FAULT) {
            check("cuStreamSynchronize", a_.StreamSynchronize(stream_));
            return r;
        }
    }
    check("cuStreamSynchronize", a_.StreamSynchronize(stream_));
    return job.cmd_done < c.size ? VGPU_RUN_BUDGET : VGPU_RUN_DONE;
}

vgpu_run_result CudaBackend::fill(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind) {
    uint64_t moved = 0;
    if ((c.dst | c.size) & 3) {
        *addr = c.dst;
        *kind = VGPU_FAULT_MISALIGNED;
        return VGPU_RUN_FAULT;
    }
    while (job.cmd_done < c.size) {
        if (moved >= kCopyChunk)
            break;
        uint64_t va = c.dst + job.cmd_done;
        const Leaf* l = leaf(s, va, VGPU_PTE_W, addr, kind);
        if (!l) {
            check("cuStreamSynchronize", a_.StreamSynchronize(stream_));
            return VGPU_RUN_FAULT;
        }
        uint64_t n = std::min<uint64_t>(kPage - (va & (kPage - 1)), c.size - job.cmd_done);
        check("cuMemsetD32Async", a_.MemsetD32Async(l->gpu + (va & (kPage - 1)), c.value, n / 4, stream_));
        job.cmd_done += n;
        moved += n;
    }
    check("cuStreamSynchronize", a_.StreamSynchronize(stream_));
    return job.cmd_done < c.size ? VGPU_RUN_BUDGET : VGPU_RUN_DONE;
}

// The translated kernel at @entry (cached by the code it reaches).
CUfunction CudaBackend::kernel(Space& s, uint64_t entry, uint32_t nthreads, uint64_t* addr, uint32_t* kind,
                               bool* has_barrier) {
    std::map<uint64_t, std::vector<uint8_t>> pages;  // code pages read for this launch
    auto fetch = [&](uint64_t va) -> Fetch {
        uint64_t a;
        uint32_t k;
        const Leaf* l = leaf(s, va, VGPU_PTE_X, &a, &k);
        if (!l)
            return {0, k};
        auto& pg = pages[va >> 12];
        if (pg.empty()) {
            pg.resize(kPage);
            if (l->host)
                std::memcpy(pg.data(), l->host, kPage);
            else
                check("cuMemcpyDtoH (code)", a_.MemcpyDtoH(pg.data(), l->gpu, kPage));
        }
        uint64_t w;
        std::memcpy(&w, pg.data() + (va & (kPage - 1)), 8);
        return {w, 0};
    };
    Program p = discover(entry, fetch);
    *has_barrier = p.has_barrier;
    *addr = entry;
    *kind = VGPU_FAULT_ILLEGAL;
    if (p.too_large)
        return nullptr;
    std::string key = p.key() + std::to_string(nthreads);
    auto hit = cache_.find(key);
    if (hit != cache_.end())
        return hit->second.f;
    if (cache_.size() >= kCacheMax) {
        a_.StreamSynchronize(stream_);
        for (auto& [k, c] : cache_)
            a_.ModuleUnload(c.mod);
        cache_.clear();
    }
    std::string ptx = translate(p, sm_);
    if (const char* dir = std::getenv("VGPU_ENGINED_DUMP_PTX")) {  // for debugging the translator
        std::ofstream(std::string(dir) + "/kernel-" + std::to_string(cache_.size()) + ".ptx") << ptx;
    }
    char log[4096] = {};
    int opts[] = {CU_JIT_THREADS_PER_BLOCK, CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void* vals[] = {reinterpret_cast<void*>(static_cast<uintptr_t>(nthreads)), log,
                    reinterpret_cast<void*>(static_cast<uintptr_t>(sizeof(log) - 1))};
    Cached c{};
    CUresult r = a_.ModuleLoadDataEx(&c.mod, ptx.c_str(), 3, opts, vals);
    if (r != CUDA_SUCCESS) {
        std::cerr << "vgpu-engined: translation rejected by the driver's JIT: " << error("cuModuleLoadDataEx", r)
                  << "\n" << log << "\n";
        return nullptr;
    }
    check("cuModuleGetFunction", a_.ModuleGetFunction(&c.f, c.mod, "vgpu_kernel"));
    cache_[key] = c;
    return c.f;
}

vgpu_run_result CudaBackend::launch(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t start, uint64_t budget,
                                    uint64_t watchdog, uint64_t* addr, uint32_t* kind, bool* timedout) {
    auto st = std::static_pointer_cast<Launch>(job.state);
    if (!st) {
        vgpu_launch_desc d{};
        d.code_va = c.src;
        d.shared_size = c.shared_size;
        std::memcpy(d.grid, c.grid, sizeof(d.grid));
        std::memcpy(d.block, c.block, sizeof(d.block));
        st = std::make_shared<Launch>();
        *addr = c.src;
        *kind = VGPU_FAULT_ILLEGAL;
        if (vgpu_launch_check(&d))
            return VGPU_RUN_FAULT;
        st->nblocks = uint64_t{c.grid[0]} * c.grid[1] * c.grid[2];
        // A slice of a few ms starts with a few blocks per SM and adapts;
        // a job run whole (no slicing) launches the grid at once.
        st->chunk = budget >= 100000000ull ? st->nblocks : uint64_t(nsm_) * 16;
        job.state = st;
    }
    uint32_t nthreads = c.block[0] * c.block[1] * c.block[2];
    // Translated once per launch: the page tables do not change during it.
    if (!st->f && !(st->f = kernel(s, c.src, nthreads, addr, kind, &st->has_barrier)))
        return VGPU_RUN_FAULT;
    uint64_t blkb = save_bytes(nthreads, c.shared_size);
    // Sliced (a budget of a few ms) and without barriers: threads can stop
    // at backward branches and resume; the save area bounds the chunk.
    if (budget < 100000000ull && !st->has_barrier && !st->save) {
        st->api = &a_;
        st->save_blocks = std::max<uint64_t>(1, kSaveBytes / blkb);
        if (a_.MemAlloc(&st->save, st->save_blocks * blkb) != CUDA_SUCCESS)
            st->save = 0;  // then it runs chunks to their end
    }
    if (st->save)
        st->chunk = std::min(st->chunk, st->save_blocks);
    if (ctl_dirty_) {  // a fault was recorded there: no fault recorded yet
        LaunchCtl ctl{~0ull, 0, 0, 0};
        check("cuMemcpyHtoD (control)", a_.MemcpyHtoD(ctl_, &ctl, sizeof(ctl)));
        ctl_dirty_ = false;
    }
    *stop_ = kStopRun;
    uint64_t p[8], pt = s.root.dev, ctl = ctl_, stop = stop_dev_, base, save = st->save;
    uint32_t g[3] = {c.grid[0], c.grid[1], c.grid[2]}, sh = c.shared_size, mode = 0;
    uint32_t blkb32 = static_cast<uint32_t>(blkb);
    std::memcpy(p, c.params, sizeof(p));
    void* args[] = {&p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &p[6], &p[7], &pt, &ctl, &stop, &base,
                    &g[0], &g[1], &g[2], &sh, &save, &mode, &blkb32};
    while (st->next_block < st->nblocks) {
        uint64_t n = std::min({st->chunk, st->nblocks - st->next_block, uint64_t{0x7fffffff}});
        if (st->resume)
            n = st->chunk;  // the same chunk again, its blocks' states saved
        uint64_t t0 = now_ns();
        base = st->next_block;
        mode = st->resume ? 1 : 0;
        if (save && !st->resume)
            check("cuMemsetD8Async (save area)", a_.MemsetD8Async(save, 0, n * blkb, stream_));
        check("cuLaunchKernel", a_.LaunchKernel(st->f, static_cast<unsigned>(n), 1, 1, c.block[0], c.block[1],
                                                c.block[2], sh, stream_, args, nullptr));
        CUresult q;
        while ((q = a_.StreamQuery(stream_)) == CUDA_ERROR_NOT_READY) {
            uint64_t ran = now_ns() - t0;
            if (job.cmd_busy_ns + ran >= watchdog && *stop_ != kStopAbort && *stop_ != kStopFault)
                *stop_ = kStopAbort;  // the kernel stops at its next backward branch
            else if (save && now_ns() - start >= budget && *stop_ == kStopRun)
                *stop_ = kStopPreempt;  // threads save their state at backward branches
            // Spin for short kernels (latency), then give the CPU back.
            if (ran > 1000000)
                std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        check("cuStreamQuery (launch)", q);
        uint64_t t1 = now_ns();
        job.cmd_busy_ns += t1 - t0;
        if (*stop_ == kStopFault) {
            LaunchCtl r;
            ctl_dirty_ = true;
            check("cuMemcpyDtoH (control)", a_.MemcpyDtoH(&r, ctl_, sizeof(r)));
            *addr = r.fault_addr;
            *kind = r.fault_kind;
            return VGPU_RUN_FAULT;
        }
        if (*stop_ == kStopAbort) {
            *timedout = true;
            return VGPU_RUN_BUDGET;
        }
        if (*stop_ == kStopPreempt) {
            // Some blocks may have stopped part way: the next RUN resumes
            // this chunk (blocks that finished are skipped).
            st->chunk = n;
            st->resume = true;
            return VGPU_RUN_BUDGET;
        }
        st->resume = false;
        st->next_block += n;
        if ((t1 - t0) * 8 < budget && st->chunk < (1ull << 30))
            st->chunk *= 2;  // chunks that fit the slice well
        else if ((t1 - t0) > budget && st->chunk > 1)
            st->chunk /= 2;
        if (save)
            st->chunk = std::min(st->chunk, st->save_blocks);
        if (t1 - start >= budget)
            break;
    }
    return st->next_block < st->nblocks ? VGPU_RUN_BUDGET : VGPU_RUN_DONE;
}

RunResult CudaBackend::run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) {
    RunResult res;
    uint64_t start = now_ns();
    auto it = spaces_.find(ctx);
    if (it == spaces_.end()) {
        res.status = RunStatus::Faulted;
        res.fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
        return res;
    }
    try {
        sync_staged(it->second, true);
        res = run_steps(job, start, budget_ns, watchdog_ns, [&](const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind) {
            uint64_t a = 0, last = now_ns();
            bool timedout = false;
            vgpu_run_result r;
            if (c.op == DRM_VGPU_CMD_LAUNCH) {
                r = launch(it->second, job, c, start, budget_ns, watchdog_ns, &a, kind, &timedout);
            } else {
                r = c.op == DRM_VGPU_CMD_COPY ? copy(it->second, job, c, &a, kind)
                                              : fill(it->second, job, c, &a, kind);
                job.cmd_busy_ns += now_ns() - last;
            }
            *addr = a;
            if (r == VGPU_RUN_FAULT)
                return StepResult::Fault;
            if (timedout)
                return StepResult::TimedOut;
            return r == VGPU_RUN_DONE ? StepResult::Done : StepResult::More;
        });
        sync_staged(it->second, false);
    } catch (const std::exception& e) {
        // A CUDA error: the context's work cannot go on; others may.
        std::cerr << "vgpu-engined: " << e.what() << "\n";
        job.state.reset();
        res.status = RunStatus::Faulted;
        res.fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
    }
    res.busy_ns = now_ns() - start;
    return res;
}

int CudaBackend::mem_read(uint64_t mem, uint64_t off, void* dst, uint64_t size) {
    auto m = mems_.find(mem);
    if (m == mems_.end() || off > m->second.second || size > m->second.second - off)
        return EINVAL;
    return a_.MemcpyDtoH(dst, vram_ + m->second.first + off, size) == CUDA_SUCCESS ? 0 : EIO;
}

int CudaBackend::mem_write(uint64_t mem, uint64_t off, const void* src, uint64_t size) {
    auto m = mems_.find(mem);
    if (m == mems_.end() || off > m->second.second || size > m->second.second - off)
        return EINVAL;
    return a_.MemcpyHtoD(vram_ + m->second.first + off, src, size) == CUDA_SUCCESS ? 0 : EIO;
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(uint64_t mem_size, int gpu) {
    try {
        return std::make_unique<CudaBackend>(mem_size, gpu);
    } catch (const Unavailable&) {
        throw;
    } catch (const std::exception& e) {
        throw Unavailable(e.what());
    }
}

}  // namespace vgpu::engine
