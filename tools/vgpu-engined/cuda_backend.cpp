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
// GPU in place, or staged in a device copy; registrations are intervals
// that every page mapping them references, and nothing a table entry
// reaches is freed before the entry is cleared on the GPU.  Launches run in chunks of blocks: between chunks the
// engine checks its budget (preemption at block boundaries) and while a
// chunk runs it watches the watchdog, which ends the chunk through the
// stop word the translated code reads at its check points (ptx.hpp).
#include <cerrno>
#include <cstddef>
#include <algorithm>
#include <bit>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

extern "C" {
#include "vgpu_interp.h"
}
#include "arena.hpp"
#include "backend.hpp"
#include "bridge.hpp"
#include "cuda_api.hpp"
#include "cuda_native.hpp"
#include "ptx.hpp"
#include "vgpu/env.hpp"
#include "vgpu/latency.hpp"

namespace vgpu::engine {
namespace {

using namespace cu;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kCopyChunk = 64ull << 20;  // bytes per copy/fill step
constexpr unsigned kBlockShift = 21;           // Space::blocks
constexpr uint64_t kBlock = uint64_t{1} << kBlockShift;
constexpr uint64_t kWholeBlocksPerSm = 16384;   // the first chunk of a job run whole, per SM
constexpr size_t kCacheMax = 512;             // translated kernels kept (unless in use)
// The longest a RUN waits for the JIT (it compiles on a thread of its
// own): well under the module's op_timeout_ms (5 s), which would end the
// session.  The wait for the job's own compile counts against its
// watchdog; a compile the watchdog abandons goes on in the background.
constexpr uint64_t kJitWaitNs = 2000000000ull;
// How long a guest's own module may take the driver's JIT before its
// launches give it up for the ISA (wall time from the compile's start;
// at least the watchdog): guest_jit_ns(), this or VGPU_ENGINED_GUEST_JIT_MS.
// Not the job's time: its RUNs spend their slices waiting meanwhile, as
// a program's first launch of a PTX-only binary waits for NVIDIA's JIT.
// Only a worker compiles guest PTX, and a worker serves one context: the
// wait holds up that context's compiles alone.  cub's radix sort (1.6 MB
// of PTX) takes ptxas 9 s here.  Under the guest's 30 s request timeout
// (vgpu-front's timeout_ms), which a naive-mode SUBMIT waits within.
constexpr uint64_t kGuestJitNs = 20000000000ull;
// Programs refused without a compile (abandoned by the watchdog, or
// rejected by the JIT): at most this many bytes of keys, oldest dropped.
constexpr uint64_t kRefusedBytes = 8ull << 20;
// Lines a worker says about a guest's PTX (its guest's, rate-limited by
// the count: a worker serves one context).
constexpr int kPtxLines = 10;
// A guest's own kernels: at most this much local memory a thread (else
// its ISA runs), and at most kMaxPtxModules compiled at once per worker.
constexpr uint32_t kMaxPtxLocal = 4096;
constexpr size_t kMaxPtxModules = 32;
constexpr CUresult kErrTooMuchLocal = 218;  // CUDA_ERROR_INVALID_PTX

// The translation cache's limit: kCacheMax, or VGPU_ENGINED_CACHE_MAX
// (the self-test makes it small to evict under a sliced launch); read
// when the back end is built.
size_t cache_limit() {
    return vgpu::env_number_or("VGPU_ENGINED_CACHE_MAX", kCacheMax, 1, SIZE_MAX);
}

// kGuestJitNs, or VGPU_ENGINED_GUEST_JIT_MS milliseconds (1..kGuestJitNs:
// tests make it short); read when the back end is built.
uint64_t guest_jit_ns() {
    return vgpu::env_number_or("VGPU_ENGINED_GUEST_JIT_MS", kGuestJitNs / 1000000, 1, kGuestJitNs / 1000000) * 1000000;
}

// One compile by the driver's JIT, on a thread of its own: the driver
// API is thread-safe, a compile cannot be cancelled.
struct Jit {
    std::string key;
    uint64_t started = now_ns();
    // A guest's own PTX (its launches may run the ISA instead).  Set and
    // read by the thread that serves RUNs only, as key and started.
    bool guest = false;
    std::mutex m;  // guards done, r, mod, fn, log
    std::condition_variable cv;
    bool done = false;
    CUresult r = CUDA_SUCCESS;
    CUmodule mod = nullptr;
    CUfunction fn = nullptr;
    char log[4096] = {};
};

// A loaded module: unloaded when the last holder (the cache, a launch in
// progress) lets go of it, never while a preempted launch still needs it.
// A translation's has its one kernel; a guest's own PTX module its
// entries, each found when first launched.
class Module {
public:
    Module(const Api& a, CUmodule m, CUfunction f) : a_(a), m_(m), f_(f) {}
    ~Module() { a_.ModuleUnload(m_); }
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;
    CUfunction function() const { return f_; }
    // The guest's entry @name, ready to launch: found, its dynamic shared
    // memory opened to VGPU_MAX_SHARED, its local memory checked, loaded.
    // Null where it cannot run here, the reason in *@r and *@why.
    // *@local: the bytes of local memory a thread of it takes (the
    // driver's CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, its callees' frames
    // included), at most kMaxPtxLocal.
    CUfunction entry(const std::string& name, CUresult* r, std::string* why, uint32_t* local);

private:
    const Api& a_;
    CUmodule m_;
    CUfunction f_;
    // The entries asked for that the module has (a name it lacks is not
    // kept: the guest chooses names), and their outcome.
    struct Entry {
        CUfunction f;
        CUresult r;
        std::string why;
        uint32_t local;
    };
    std::map<std::string, Entry> entries_;
};

// 4 KiB page-table pages carved out of 2 MiB device allocations.
class TablePool {
public:
    explicit TablePool(const Api& a) : a_(a) {}
    ~TablePool() {
        for (auto c : chunks_)
            a_.MemFree(c);
    }
    // A zeroed-or-not table page, 0 when device memory is short.
    CUdeviceptr get() {
        if (free_.empty()) {
            CUdeviceptr c;
            if (a_.MemAlloc(&c, 2u << 20) != CUDA_SUCCESS)
                return 0;
            chunks_.push_back(c);
            for (uint64_t o = 0; o < (2u << 20); o += kPage)
                free_.push_back(c + o);
        }
        CUdeviceptr p = free_.back();
        free_.pop_back();
        return p;
    }
    void put(CUdeviceptr p) { free_.push_back(p); }
    std::set<uint64_t> free_pages() const { return {free_.begin(), free_.end()}; }

private:
    const Api& a_;
    std::vector<CUdeviceptr> chunks_, free_;
};

struct Leaf {
    uint64_t gpu;      // GPU-usable address of the page
    uint8_t* host;     // the page in this process (host memory), or nullptr
    uint32_t perms;
    bool staged;       // host memory staged in device memory (gpu is the copy)
    uint64_t owner;    // what it references: a HostReg (host) or a Mem id
};

// Host memory the GPU reaches: a range registered with the driver (the
// GPU reaches it in place) or staged (a device copy).  Every leaf that
// maps one of its pages, in any context, holds a reference; the last
// one to go unregisters it or frees the stage, after the leaves are
// cleared on the GPU.  Registered ranges never overlap (the driver
// refuses it); a range inside one shares it.
struct HostReg {
    uintptr_t base;
    uint64_t len;
    CUdeviceptr dev;    // GPU address of base
    CUdeviceptr stage;  // the stage's allocation (staged), or 0
    uint64_t refs;      // leaves referencing it
};

// Device memory of the arena, or (a worker's, router.hpp) imported from
// the engine process and mapped here; freed by the module while still
// mapped, it stays until its last page is unmapped.
struct Mem {
    uint64_t off, size, refs = 0;  // off: into the arena
    bool freed = false;
    std::shared_ptr<cu::Mapping> imported;  // where it is mapped, if imported
    // Imported: its allocation (owned, released by drop()).
    CUmemGenericAllocationHandle handle = 0;
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
    // The 2 MiB blocks one map() covered whole (the engine's mapping
    // granularity on the GPU: every block of those): GPU addresses
    // contiguous from @gpu, one @perms.  Copies and fills take a block in
    // one look instead of 512; any page of it unmapped drops it.
    struct Block {
        uint64_t gpu;
        uint32_t perms;
    };
    std::unordered_map<uint64_t, Block> blocks;  // by va >> kBlockShift
    uint64_t staged_pages = 0;
    // Unmapped, released once the GPU's tables no longer reach them
    // (commit()), or with the context.
    std::vector<CUdeviceptr> limbo_tables;
    std::vector<Leaf> limbo_leaves;
    // Its device memory is also at its own addresses (the worker's
    // GuestWindow): the guest's own code can run.
    bool own = false;
    // The call stack its PTX may have, bytes a thread: the driver's
    // default until CTX_STACK gives more (vgpu-back charged it).
    uint32_t stack_given = DRM_VGPU_PTX_BASE_STACK;
};

struct Launch {
    std::shared_ptr<Module> mod;  // holds the translation while the launch lasts
    std::string key;              // of the code it runs (Program::key(), block size)
    uint64_t next_block = 0, nblocks = 0, chunk = 0;
    bool resumable = false;  // Program::resumable()
    // In-block preemption (resumable kernels, slices): the chunk's
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
    CudaBackend(const Api& a, uint64_t size, int gpu);
    ~CudaBackend() override;
    std::string name() const override { return "cuda:" + gpu_name_; }
    std::string pci() const override { return pci_; }
    uint64_t mem_size() const override { return size_; }
    int ctx_create(uint64_t ctx, uint64_t group) override;
    void ctx_destroy(uint64_t ctx) override;
    int mem_alloc(uint64_t mem, uint64_t size) override;
    int mem_import(uint64_t mem, int fd, uint64_t size, uint64_t piece) override;
    void use_window(uint64_t start, uint64_t end) override;
    bool lost() const override { return lost_; }
    uint32_t max_stack() const override;
    int ctx_stack(uint64_t ctx, uint32_t bytes) override;
    void mem_free(uint64_t mem) override;
    int map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) override;
    void unmap(uint64_t ctx, uint64_t va, uint64_t size) override;
    RunResult run(uint64_t ctx, Job& job, uint64_t budget_ns, uint64_t watchdog_ns) override;
    int mem_read(uint64_t mem, uint64_t off, void* dst, uint64_t size) override;
    int mem_write(uint64_t mem, uint64_t off, const void* src, uint64_t size) override;

private:
    bool set_leaf(Space& s, uint64_t pn, uint64_t pte, std::vector<CUdeviceptr>& emptied);
    void flush(Space& s);
    void commit(Space& s);
    int back(const Backing& b, uint64_t size, Leaf* first);
    int acquire_host(uint8_t* host, uint64_t size, Leaf* first);
    void unref(const Leaf& l);
    CUdeviceptr base(const Mem& m) const { return m.imported ? m.imported->get() : vram_.get() + m.off; }
    void drop(std::map<uint64_t, Mem>::iterator m);
    void release_space(Space& s);
    void sync_staged(Space& s, bool in);
    Program code(Space& s, uint64_t entry);
    enum class Got { Module, Fault, TimedOut, Wait, Rejected };
    Got compiled(Job& job, const std::string& key, const std::function<bool(std::string*)>& source,
                 uint32_t nthreads, const std::string& entry, uint64_t start, uint64_t budget, uint64_t watchdog,
                 std::shared_ptr<Module>* out, bool charged = true);
    Got module_for(Space& s, Job& job, Launch& st, const drm_vgpu_cmd& c, uint64_t start, uint64_t budget,
                   uint64_t watchdog);
    void start_jit(const std::string& key, std::string ptx, uint32_t nthreads, const std::string& entry);
    void reap_jit();
    void refuse(const std::string& key, bool timedout);
    void evict();
    uint32_t wait_chunk(Job& job, uint64_t t0, uint64_t start, uint64_t budget, uint64_t watchdog, bool save);
    vgpu_run_result copy(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind);
    vgpu_run_result fill(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind);
    StepResult launch(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t start, uint64_t budget,
                      uint64_t watchdog, uint64_t* addr, uint32_t* kind);
    StepResult run_chunks(Space& s, Job& job, Launch& st, const drm_vgpu_cmd& c, uint64_t start, uint64_t budget,
                          uint64_t watchdog, uint64_t* addr, uint32_t* kind);
    const Leaf* leaf(Space& s, uint64_t va, uint32_t need, uint64_t* addr, uint32_t* kind);
    uint64_t span(Space& s, uint64_t va, uint32_t need, uint64_t* gpu, uint64_t* addr, uint32_t* kind);
    bool read_va(Space& s, uint64_t va, void* dst, uint64_t n, uint64_t* addr, uint32_t* kind);
    void mirror(uint64_t va, uint64_t size, const Backing& b);
    void unmirror(const std::map<uint64_t, uint64_t>& gone);
    void make_room_for_ptx();
    std::optional<StepResult> launch_ptx(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t start, uint64_t budget,
                                         uint64_t watchdog, uint64_t* addr, uint32_t* kind);

    const Api& a_;
    CUdevice dev_ = 0;
    // Declared first, released last: everything below lives in it.
    std::optional<cu::PrimaryContext> ctx_;
    cu::Stream stream_;
    std::string gpu_name_;
    std::string pci_;  // domain:bus:device.function, lower case, as Linux names it
    int sm_ = 0, nsm_ = 0;
    uint64_t size_;
    Arena arena_;
    cu::DeviceMem vram_, ctl_, scratch_;
    bool force_staging_ = std::getenv("VGPU_ENGINED_STAGE_HOST") != nullptr;  // tests the staged path
    int warned_stage_ = 0;
    // The stop word (word 0 of a pinned page the GPU sees), and at
    // kTellPreempt/kTellAbort the {abort, stop} pairs copied into
    // LaunchCtl when the host moves it (tell()).
    cu::HostMem stop_mem_;
    volatile uint32_t* stop_ = nullptr;  // stop_mem_'s words
    CUdeviceptr stop_dev_ = 0;
    static constexpr size_t kTellPreempt = 4, kTellAbort = 6;
    TablePool pool_;
    std::map<uint64_t, Space> spaces_;
    std::map<uint64_t, Mem> mems_;
    std::map<uint64_t, HostReg> hregs_;        // by id
    std::map<uintptr_t, uint64_t> registered_;  // registered (not staged) ranges: base -> id
    uint64_t next_hreg_ = 1;
    struct Cached {
        std::shared_ptr<Module> mod;
        uint64_t used;  // last use, for LRU eviction
    };
    std::map<std::string, Cached> cache_;
    uint64_t cache_clock_ = 0;
    size_t cache_limit_ = cache_limit();
    const uint64_t guest_jit_ns_ = guest_jit_ns();
    // The JIT: one compile at a time (jit_, its thread jit_thread_),
    // reaped into the cache by the thread that serves RUNs.
    std::shared_ptr<Jit> jit_;
    std::thread jit_thread_;
    // Keys refused at once: true, too slow to compile (a hang); false,
    // rejected by the JIT (ILLEGAL).  Oldest first in refused_order_.
    std::map<std::string, bool> refused_;
    std::deque<std::string> refused_order_;
    uint64_t refused_bytes_ = 0;
    // Copies beside a running kernel into its LaunchCtl (tell()), each
    // ordered after the chunk's LaunchCtl reset (reset_event_, recorded
    // on stream_ after it): else a copy made just after the launch could
    // reach the GPU first and be wiped by the reset, and an abort be lost.
    cu::Stream abort_stream_;
    cu::Event reset_event_;
    bool stop_cas(uint32_t from, uint32_t to);
    bool tell(uint32_t from, uint32_t to);
    friend Debug cu::debug(const Backend& b);

    // A worker's: its context's device memory at the context's own
    // addresses too (use_window()), so that a LAUNCH's PTX runs as
    // itself; ptx_off_ once a mapping could not be mirrored there (its
    // launches then run the ISA).  Declared last, released first.
    uint64_t gran_ = 0;  // the driver's allocation granularity (what it imports)
    std::optional<GuestWindow> window_;
    struct Native {
        uint64_t base;   // where the allocation is in the window
        uint64_t bytes;  // of it the context maps
    };
    std::map<uint64_t, Native> native_;  // by memory id
    bool ptx_off_ = false;
    // A guest's kernel ended with a GPU exception: the CUDA context is
    // lost for good, and the worker with it (worker.cpp ends it).
    bool lost_ = false;
    int warned_ptx_ = 0;  // lines said about the guest's PTX (at most kPtxLines)
    // launch_ptx()'s, kept between launches (fewer allocations on a
    // launch's path): the descriptor's bytes, and the cache key of the
    // latest text with what it was made of.
    std::vector<uint8_t> desc_;
    std::string ptx_key_;
    uint64_t ptx_key_of_[3] = {};
    // A guest's call stack (cuCtxSetLimit): the most a context may be
    // given (CTX_STACK), the largest set (the driver's default at first),
    // the smallest the driver refused (never asked again).
    const uint32_t stack_bound_ = ptx_stack_bound();
    uint64_t stack_set_ = DRM_VGPU_PTX_BASE_STACK, stack_refused_ = UINT64_MAX;
    const bool trace_ = std::getenv("VGPU_ENGINED_TRACE") != nullptr;
};

// Every driver resource is owned by a member (cuda_api.hpp's Owned,
// PrimaryContext): a throw part way releases what was made, in reverse.
CudaBackend::CudaBackend(const Api& a, uint64_t size, int gpu)
    : a_(a), stream_(a), size_(size), arena_(size), vram_(a), ctl_(a), scratch_(a), stop_mem_(a), pool_(a_),
      abort_stream_(a), reset_event_(a) {
    name_errors_with(&a_);
    dev_ = device(a_, gpu, &gpu_name_);
    int major = 0, minor = 0, uva = 0;
    a_.DeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev_);
    a_.DeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev_);
    if (a_.DeviceGetAttribute(&nsm_, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev_) != CUDA_SUCCESS || nsm_ < 1)
        nsm_ = 1;  // chunks of blocks are sized by it: never 0
    a_.DeviceGetAttribute(&uva, CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, dev_);
    // The driver's "domain:bus:device.function"; anything else than that
    // form (which vgpu-uengine would refuse, and the process with it) is
    // no address.
    pci_ = pci_of(a_, dev_);
    sm_ = major * 10 + minor;
    if (sm_ < 70 || !uva)
        throw Unavailable("GPU " + gpu_name_ + " is older than sm_70 or lacks unified addressing");
    ctx_.emplace(a_, dev_);
    check("cuStreamCreate", a_.StreamCreate(stream_.out(), CU_STREAM_NON_BLOCKING));
    if (size)  // a worker's has none: it imports the engine process's
        check("cuMemAlloc (device memory)", a_.MemAlloc(vram_.out(), size));
    check("cuMemAlloc (control)", a_.MemAlloc(ctl_.out(), sizeof(LaunchCtl)));
    check("cuMemAlloc (scratch)", a_.MemAlloc(scratch_.out(), kCopyChunk));
    check("cuMemHostAlloc (stop word)",
          a_.MemHostAlloc(stop_mem_.out(), kPage, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
    stop_ = static_cast<volatile uint32_t*>(stop_mem_.get());
    check("cuMemHostGetDevicePointer", a_.MemHostGetDevicePointer(&stop_dev_, stop_mem_.get(), 0));
    // Pinned sources of the copies that update LaunchCtl.{abort,stop}.
    stop_[kTellPreempt] = 0;
    stop_[kTellPreempt + 1] = kStopPreempt;
    stop_[kTellAbort] = 1;
    stop_[kTellAbort + 1] = kStopAbort;
    check("cuEventCreate (control)", a_.EventCreate(reset_event_.out(), CU_EVENT_DISABLE_TIMING));
    if (!size) {  // a worker's: the memory it imports
        CUmemAllocationProp prop{};
        prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
        prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
        prop.location = {CU_MEM_LOCATION_TYPE_DEVICE, dev_};
        size_t g = 0;
        check("cuMemGetAllocationGranularity", a_.MemGetAllocationGranularity(&g, &prop, 0));
        gran_ = g;
    }
}

CudaBackend::~CudaBackend() {
    // A compile cannot be cancelled: wait for it (at most the JIT time
    // kMaxJitCost allows), then unload what it made.
    if (jit_thread_.joinable())
        jit_thread_.join();
    if (jit_ && jit_->mod)
        a_.ModuleUnload(jit_->mod);
    a_.StreamSynchronize(stream_.get());
    cache_.clear();  // modules a job still holds go with the job
    window_.reset();
    for (auto& [id, s] : spaces_)
        release_space(s);
    spaces_.clear();
    for (auto& [id, m] : mems_)
        if (m.handle)
            a_.MemRelease(m.handle);
    // The members release the rest: streams, event, memory, the context.
}

int CudaBackend::ctx_create(uint64_t ctx, uint64_t) {
    if (spaces_.count(ctx))
        return EEXIST;
    Space& s = spaces_[ctx];
    // The first context of a worker with a window: the guest's own.
    s.own = window_ && !window_->mapped() && std::none_of(spaces_.begin(), spaces_.end(), [](auto& e) { return e.second.own; });
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
    a_.StreamSynchronize(stream_.get());
    if (it->second.own) {
        window_->clear();
        native_.clear();
    }
    release_space(it->second);
    spaces_.erase(it);
}

// Only a worker's contexts (its memory imported) run a guest's PTX: in
// one process the contexts share one CUDA context, whose stack would be
// every context's.
uint32_t CudaBackend::max_stack() const { return !size_ && gran_ ? stack_bound_ : 0; }

// Kept for launch_ptx() to honour, and reserved at once, as NVIDIA's
// driver does at cudaDeviceSetLimit: a stack the driver refuses is
// refused here (ENOMEM: vgpu-back gives the charge back, GPUvm's runtime
// answers cudaErrorMemoryAllocation) rather than at a later launch,
// which would run the ISA.  A worker whose window could not be reserved
// keeps it too: its launches run the ISA whatever they name.
int CudaBackend::ctx_stack(uint64_t ctx, uint32_t bytes) {
    const uint32_t max = max_stack();
    if (!max)
        return EOPNOTSUPP;
    auto it = spaces_.find(ctx);
    if (it == spaces_.end() || check_ctx_stack(vgpu_ue_req_ctx_stack{ctx, bytes, 0}, max))
        return EINVAL;
    if (bytes > stack_set_) {
        if (bytes >= stack_refused_ || a_.CtxSetLimit(kLimitStackSize, bytes) != CUDA_SUCCESS) {
            stack_refused_ = std::min<uint64_t>(stack_refused_, bytes);
            return ENOMEM;
        }
        stack_set_ = bytes;
    }
    it->second.stack_given = std::max(it->second.stack_given, bytes);
    return 0;
}

// Top down: the root first (no launch can walk the tables after it), then
// the tables, then what the leaves reference.  Nothing runs meanwhile.
void CudaBackend::release_space(Space& s) {
    a_.MemFree(s.root.dev);
    s.root.dev = 0;
    for (auto& [i, t] : s.l1)
        pool_.put(t.dev);
    for (auto& [i, t] : s.l2)
        pool_.put(t.dev);
    for (CUdeviceptr t : s.limbo_tables)
        pool_.put(t);
    for (auto& [pn, l] : s.pages)
        unref(l);
    for (auto& l : s.limbo_leaves)
        unref(l);
    s.l1.clear();
    s.l2.clear();
    s.pages.clear();
    s.blocks.clear();
    s.limbo_tables.clear();
    s.limbo_leaves.clear();
}

int CudaBackend::mem_alloc(uint64_t mem, uint64_t size) {
    if (mems_.count(mem))
        return EEXIST;
    auto off = size ? arena_.alloc(size) : std::nullopt;
    if (!off)
        return ENOSPC;
    if (a_.MemsetD8(vram_.get() + *off, 0, size) != CUDA_SUCCESS) {  // zeroed for each new owner
        arena_.free(*off);
        return EIO;
    }
    mems_[mem] = {*off, size, 0, false, nullptr, 0};
    return 0;
}

void CudaBackend::mem_free(uint64_t mem) {
    auto it = mems_.find(mem);
    if (it == mems_.end() || it->second.freed)
        return;
    it->second.freed = true;
    if (it->second.refs)
        return;  // still mapped: freed with its last page
    drop(it);
}

void CudaBackend::drop(std::map<uint64_t, Mem>::iterator m) {
    if (!m->second.imported)
        arena_.free(m->second.off);
    if (m->second.handle)
        a_.MemRelease(m->second.handle);  // the mappings hold what they map
    mems_.erase(m);  // an import is unmapped with it
}

// The engine process's memory @mem, its descriptor @fd: one piece, the
// allocation whole (cuda_memory.cpp), mapped here as the translated code
// reaches it.
int CudaBackend::mem_import(uint64_t mem, int fd, uint64_t size, uint64_t piece) {
    if (!gran_ || !size || size % gran_ || piece)
        return EINVAL;
    if (mems_.count(mem))
        return EEXIST;
    CUmemGenericAllocationHandle h = 0;
    if (a_.MemImportFromShareableHandle(&h, reinterpret_cast<void*>(static_cast<uintptr_t>(fd)),
                                        CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) != CUDA_SUCCESS)
        return EINVAL;
    try {
        auto m = std::make_shared<cu::Mapping>(a_, h, size, dev_);
        mems_[mem] = {0, size, 0, false, std::move(m), h};
    } catch (const std::runtime_error& e) {
        a_.MemRelease(h);
        std::cerr << "vgpu-engined: importing memory " << mem << ": " << e.what() << "\n";
        return ENOMEM;
    }
    return 0;
}

// The instance's GPU addresses: reserved here for the worker's context,
// where its device memory is mapped at its own addresses too.  Where the
// driver will not reserve them, the guest's PTX is not run (the ISA is).
void CudaBackend::use_window(uint64_t start, uint64_t end) {
    if (size_ || !gran_ || start % gran_ || end % gran_ || start >= end)
        return;  // only a worker's, whose memory is imported
    // A GPU that reaches the process's pageable memory (HMM, ATS) would
    // let a guest's kernel reach the worker's own memory (its descriptors
    // among it): the guest's code then runs as the ISA, which checks
    // every access.
    int hmm = 0, ats = 0;
    a_.DeviceGetAttribute(&hmm, CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS, dev_);
    a_.DeviceGetAttribute(&ats, CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES, dev_);
    if (hmm || ats) {
        std::cerr << "vgpu-engined worker: no guest PTX runs as itself: the GPU reaches the process's pageable "
                     "memory (HMM or ATS; load nvidia-uvm with uvm_disable_hmm=1)\n";
        return;
    }
    try {
        window_.emplace(a_, dev_, start, end);
    } catch (const std::exception& e) {
        std::cerr << "vgpu-engined worker: no guest PTX runs as itself here: " << e.what() << "\n";
    }
}

// Sets the leaf of page @pn to @pte (0: clears it), growing the tables as
// needed; tables left empty go to @emptied, for the pool once the GPU no
// longer links them.  False (nothing changed) when no table page is left.
bool CudaBackend::set_leaf(Space& s, uint64_t pn, uint64_t pte, std::vector<CUdeviceptr>& emptied) {
    uint64_t i0 = pn >> 18, i1 = (pn >> 9) & 511, i2 = pn & 511, k2 = pn >> 9;
    auto t1 = s.l1.find(i0);
    auto t2 = s.l2.find(k2);
    if (t2 == s.l2.end() && !pte)
        return true;
    if (t1 == s.l1.end()) {
        Space::Table t;
        if (!(t.dev = pool_.get()))
            return false;
        t.e.assign(512, 0);
        t1 = s.l1.emplace(i0, std::move(t)).first;
        s.root.e[i0] = t1->second.dev;
        s.root.dirty = true;
    }
    if (t2 == s.l2.end()) {
        Space::Table t;
        if (!(t.dev = pool_.get())) {
            if (!t1->second.used) {  // made above for this page: undone
                pool_.put(t1->second.dev);
                s.l1.erase(t1);
                s.root.e[i0] = 0;
            }
            return false;
        }
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
        return true;
    // Empty tables are unlinked, as vgpu_pt frees them.
    emptied.push_back(l2.dev);
    s.l2.erase(t2);
    t1->second.e[i1] = 0;
    t1->second.dirty = true;
    if (--t1->second.used)
        return true;
    emptied.push_back(t1->second.dev);
    s.l1.erase(t1);
    s.root.e[i0] = 0;
    s.root.dirty = true;
    return true;
}

// Uploads the tables that changed, children before parents.
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

// Flushes @s; once the GPU's tables match, what was unmapped is released
// (table pages to the pool, registrations, stages, device memory).  A
// failed flush leaves the GPU's tables reaching what the bridge may
// munmap and map again elsewhere: the back end is lost (BackendLost ends
// the session; every context goes, then the back end).
void CudaBackend::commit(Space& s) {
    try {
        flush(s);
    } catch (const std::exception& e) {
        throw BackendLost(std::string(e.what()) + ": page tables out of date, the back end is lost");
    }
    for (CUdeviceptr t : s.limbo_tables)
        pool_.put(t);
    s.limbo_tables.clear();
    if (!s.limbo_leaves.empty())
        a_.StreamSynchronize(stream_.get());
    for (auto& l : s.limbo_leaves)
        unref(l);
    s.limbo_leaves.clear();
}

// Host memory for @size bytes at @host: a registration containing it
// (shared), a new one, or a stage; fills in @first (the first page's
// leaf) and takes one reference per page.
int CudaBackend::acquire_host(uint8_t* host, uint64_t size, Leaf* first) {
    uintptr_t h = reinterpret_cast<uintptr_t>(host);
    uint64_t n = size / kPage;
    if (h & (kPage - 1) || h + size < h)
        return EINVAL;
    auto it = registered_.upper_bound(h);
    if (it != registered_.begin()) {
        HostReg& r = hregs_.at(std::prev(it)->second);
        if (h + size <= r.base + r.len) {
            r.refs += n;
            *first = {r.dev + (h - r.base), host, 0, false, std::prev(it)->second};
            return 0;
        }
    }
    // The GPU reaches host memory in place (registered, mapped) where the
    // driver allows it; else the range is staged: a device copy
    // synchronised around each RUN of the context.  A range overlapping
    // a registration without lying inside it is staged (the driver says
    // it is already registered).
    CUresult r = force_staging_ ? CUDA_SUCCESS + 1
                                : a_.MemHostRegister(host, size, CU_MEMHOSTREGISTER_DEVICEMAP | CU_MEMHOSTREGISTER_PORTABLE);
    CUdeviceptr d = 0;
    if (r == CUDA_SUCCESS && a_.MemHostGetDevicePointer(&d, host, 0) != CUDA_SUCCESS) {
        a_.MemHostUnregister(host);
        r = CUDA_SUCCESS + 1;
    }
    uint64_t id = next_hreg_++;
    if (r == CUDA_SUCCESS) {
        hregs_[id] = {h, size, d, 0, n};
        registered_[h] = id;
        *first = {d, host, 0, false, id};
        return 0;
    }
    if (!force_staging_ && !warned_stage_++)
        std::cerr << "vgpu-engined: " << error("cuMemHostRegister", r) << ": host memory staged\n";
    // Page-aligned: a leaf keeps R/W/X in the address's low bits.
    CUdeviceptr raw;
    if (a_.MemAlloc(&raw, size + kPage) != CUDA_SUCCESS)
        return ENOMEM;
    d = (raw + kPage - 1) & ~(kPage - 1);
    hregs_[id] = {h, size, d, raw, n};
    *first = {d, host, 0, true, id};
    return 0;
}

// What @b gives the pages of a mapping of @size bytes: the first page's
// leaf in @first, one reference per page taken.
int CudaBackend::back(const Backing& b, uint64_t size, Leaf* first) {
    if (b.host)
        return acquire_host(b.host, size, first);
    auto m = mems_.find(b.mem);
    if (m == mems_.end() || m->second.freed || b.offset > m->second.size || size > m->second.size - b.offset ||
        b.offset & (kPage - 1))
        return EINVAL;
    m->second.refs += size / kPage;
    *first = {base(m->second) + b.offset, nullptr, 0, false, b.mem};
    return 0;
}

// Drops the reference of one leaf: the last one of a registration
// unregisters it (or frees its stage), the last one of device memory the
// module freed gives it back to the arena.  The caller has cleared the
// leaf on the GPU.
void CudaBackend::unref(const Leaf& l) {
    if (!l.host) {
        auto m = mems_.find(l.owner);
        if (m != mems_.end() && !--m->second.refs && m->second.freed)
            drop(m);
        return;
    }
    auto it = hregs_.find(l.owner);
    if (it == hregs_.end() || --it->second.refs)
        return;
    if (it->second.stage) {
        a_.MemFree(it->second.stage);
    } else {
        a_.MemHostUnregister(reinterpret_cast<void*>(it->second.base));
        registered_.erase(it->second.base);
    }
    hregs_.erase(it);
}

int CudaBackend::map(uint64_t ctx, uint64_t va, uint64_t size, uint32_t perms, const Backing& b) {
    auto it = spaces_.find(ctx);
    if (it == spaces_.end())
        return ENOENT;
    Space& s = it->second;
    if ((va | size) & (kPage - 1) || !size || va >= VGPU_VA_SIZE || size > VGPU_VA_SIZE - va || !(perms & kPtePerms) ||
        (perms & ~kPtePerms))
        return EINVAL;
    uint64_t n = size / kPage;
    for (uint64_t i = 0; i < n; i++)
        if (s.pages.count((va >> 12) + i))
            return EEXIST;  // as vgpu_pt_map(): the core unmaps first
    Leaf l;
    if (int e = back(b, size, &l))
        return e;
    l.perms = perms;
    std::vector<CUdeviceptr> emptied;
    uint64_t i = 0;
    for (; i < n; i++) {
        uint64_t o = i * kPage;
        if (!set_leaf(s, (va >> 12) + i, (l.gpu + o) | perms, emptied))
            break;
        s.pages[(va >> 12) + i] = {l.gpu + o, b.host ? b.host + o : nullptr, perms, l.staged, l.owner};
    }
    if (i < n) {
        // No table page left: undone.  The GPU has seen none of it.
        while (i--) {
            s.pages.erase((va >> 12) + i);
            set_leaf(s, (va >> 12) + i, 0, emptied);
        }
        for (CUdeviceptr t : emptied)
            pool_.put(t);
        for (i = 0; i < n; i++)
            unref(l);
        return ENOMEM;
    }
    if (l.staged)
        s.staged_pages += n;
    for (uint64_t bv = (va + kBlock - 1) & ~(kBlock - 1); bv + kBlock <= va + size; bv += kBlock)
        s.blocks[bv >> kBlockShift] = {l.gpu + (bv - va), perms};  // ENOMEM: thrown, as the pages' map
    s.limbo_tables.insert(s.limbo_tables.end(), emptied.begin(), emptied.end());
    commit(s);
    if (s.own && !b.host)
        mirror(va, size, b);
    return 0;
}

// Device memory mapped by the worker's context: its allocation, whole,
// at the context's address of its first byte too (one export and one
// map per allocation, where a map per 2 MiB page costs about 1.4 ms
// each: engines.rst), while the context maps any of it; read-write (the
// translated code's mapping of it is, in the same process).  An
// allocation mapped at two places, or overlapping another there, turns
// the guest's PTX off for this worker (its launches run the ISA, which
// reaches every mapping through the tables); one outside the window is
// not there (vgpu-back maps nothing outside it).  Host memory is not
// there: a guest's kernel that reaches it faults on the GPU.
void CudaBackend::mirror(uint64_t va, uint64_t size, const Backing& b) {
    const Mem& m = mems_.at(b.mem);
    if (ptx_off_ || !m.handle)
        return;
    if (auto it = native_.find(b.mem); it != native_.end()) {
        if (it->second.base == va - b.offset) {
            it->second.bytes += size;
            return;
        }
    } else if (va + size <= window_->start() || va >= window_->end()) {
        return;  // wholly outside: vgpu-back maps nothing there for a guest
    } else if (va >= b.offset && va - b.offset >= window_->start() && va - b.offset <= window_->end() &&
               m.size <= window_->end() - (va - b.offset) && window_->map(va - b.offset, m.handle, m.size)) {
        native_[b.mem] = {va - b.offset, size};
        return;
    }
    ptx_off_ = true;
    std::cerr << "vgpu-engined worker: memory mapped at " << std::hex << va << std::dec
              << " cannot be at the guest's address: its PTX runs as the ISA from now on\n";
}

// Staged host memory: copied in before a RUN (@in), out after it (the
// pages mapped writable only), page runs merged; only pages still mapped
// (the bridge unmaps the others).
void CudaBackend::sync_staged(Space& s, bool in) {
    if (!s.staged_pages)
        return;
    std::vector<std::pair<uint8_t*, uint64_t>> pg;
    for (auto& [pn, l] : s.pages)
        if (l.staged && (in || l.perms & VGPU_PTE_W))  // out: only what the GPU may have written
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

// Clears the leaves, uploads the tables, and only then releases what the
// leaves referenced (commit()).
void CudaBackend::unmap(uint64_t ctx, uint64_t va, uint64_t size) {
    auto it = spaces_.find(ctx);
    if (it == spaces_.end() || va >= VGPU_VA_SIZE)
        return;
    Space& s = it->second;
    size = std::min<uint64_t>(size, VGPU_VA_SIZE - va);
    uint64_t first = va >> 12, last = (va + size - 1) >> 12;
    std::vector<uint64_t> pns;
    if (!size)
        return;
    if (last - first >= s.pages.size()) {  // a wide range: the mapped pages in it
        for (auto& [pn, l] : s.pages)
            if (pn >= first && pn <= last)
                pns.push_back(pn);
    } else {
        for (uint64_t pn = first; pn <= last; pn++)
            pns.push_back(pn);
    }
    std::map<uint64_t, uint64_t> gone;  // device memory -> bytes unmapped
    for (uint64_t pn : pns) {
        auto p = s.pages.find(pn);
        if (p == s.pages.end())
            continue;
        if (!p->second.host)
            gone[p->second.owner] += kPage;
        if (p->second.staged)
            s.staged_pages--;
        s.limbo_leaves.push_back(p->second);
        s.pages.erase(p);
        s.blocks.erase(pn >> (kBlockShift - 12));
        set_leaf(s, pn, 0, s.limbo_tables);
    }
    commit(s);
    if (s.own)
        unmirror(gone);
}

// Memory of which the context maps nothing any more leaves the window.
void CudaBackend::unmirror(const std::map<uint64_t, uint64_t>& gone) {
    for (auto& [mem, bytes] : gone) {
        auto it = native_.find(mem);
        if (it == native_.end() || (it->second.bytes -= std::min(bytes, it->second.bytes)))
            continue;
        a_.StreamSynchronize(stream_.get());  // nothing of the context runs
        if (!window_->unmap(it->second.base) && !ptx_off_) {
            ptx_off_ = true;  // the window may still reach what the tables do not
            std::cerr << "vgpu-engined worker: cuMemUnmap refused: no guest PTX runs here from now on\n";
        }
        native_.erase(it);
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

// The bytes from @va on that one look finds mapped with @need, GPU
// addresses contiguous from *@gpu: the rest of its block (Space::blocks)
// or of its page.  0 where @va faults (*@addr, *@kind say how).
uint64_t CudaBackend::span(Space& s, uint64_t va, uint32_t need, uint64_t* gpu, uint64_t* addr, uint32_t* kind) {
    if (va < VGPU_VA_SIZE) {
        auto b = s.blocks.find(va >> kBlockShift);
        if (b != s.blocks.end() && (b->second.perms & need) == need) {
            *gpu = b->second.gpu + (va & (kBlock - 1));
            return kBlock - (va & (kBlock - 1));
        }
    }
    const Leaf* l = leaf(s, va, need, addr, kind);
    if (!l)
        return 0;
    *gpu = l->gpu + (va & (kPage - 1));
    return kPage - (va & (kPage - 1));
}

// Page by page as vgpu_mem_copy() (a block at a time where one map()
// covered it), contiguous pieces merged into one DMA.
vgpu_run_result CudaBackend::copy(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind) {
    uint64_t moved = 0, pieces = 0, t0 = trace_ ? now_ns() : 0;
    while (job.cmd_done < c.size) {
        if (moved >= kCopyChunk)
            break;  // a step's bytes done: they end before the step does (its time is theirs)
        uint64_t sva = c.src + job.cmd_done, dva = c.dst + job.cmd_done;
        uint64_t sgpu = 0, dgpu = 0, n = 0;
        vgpu_run_result r = VGPU_RUN_DONE;
        // Extend the piece while both sides stay contiguous in GPU addresses.
        while (job.cmd_done + n < c.size && moved + n < kCopyChunk) {
            uint64_t sv = sva + n, dv = dva + n, sg = 0, dg = 0;
            uint64_t ss = span(s, sv, VGPU_PTE_R, &sg, addr, kind);
            uint64_t ds = ss ? span(s, dv, VGPU_PTE_W, &dg, addr, kind) : 0;
            if (!ds) {
                r = VGPU_RUN_FAULT;
                break;
            }
            if (n && (sg != sgpu + n || dg != dgpu + n))
                break;
            if (!n) {
                sgpu = sg;
                dgpu = dg;
            }
            // No piece past kCopyChunk: the scratch an overlapping one
            // goes through holds no more.
            n += std::min<uint64_t>({ss, ds, c.size - job.cmd_done - n, kCopyChunk - moved - n});
        }
        if (n) {
            bool overlap = sgpu < dgpu + n && dgpu < sgpu + n;
            if (overlap) {  // memmove, as the interpreter's forward copy for dst <= src
                check("cuMemcpyAsync", a_.MemcpyAsync(scratch_.get(), sgpu, n, stream_.get()));
                check("cuMemcpyAsync", a_.MemcpyAsync(dgpu, scratch_.get(), n, stream_.get()));
            } else {
                check("cuMemcpyAsync", a_.MemcpyAsync(dgpu, sgpu, n, stream_.get()));
            }
            job.cmd_done += n;
            moved += n;
            pieces++;
        }
        if (r == VGPU_RUN_FAULT) {
            check("cuStreamSynchronize", a_.StreamSynchronize(stream_.get()));
            return r;
        }
    }
    uint64_t t1 = trace_ ? now_ns() : 0;
    check("cuStreamSynchronize", a_.StreamSynchronize(stream_.get()));
    if (trace_)  // VGPU_ENGINED_TRACE: where a copy's time goes
        std::fprintf(stderr, "vgpu-engined trace: COPY %llu bytes in %llu pieces: queued in %.1f us, done %.1f us later\n",
                     static_cast<unsigned long long>(moved), static_cast<unsigned long long>(pieces), (t1 - t0) / 1e3,
                     (now_ns() - t1) / 1e3);
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
        uint64_t va = c.dst + job.cmd_done, g = 0;
        uint64_t n = span(s, va, VGPU_PTE_W, &g, addr, kind);
        if (!n) {
            check("cuStreamSynchronize", a_.StreamSynchronize(stream_.get()));
            return VGPU_RUN_FAULT;
        }
        n = std::min<uint64_t>(n, c.size - job.cmd_done);
        check("cuMemsetD32Async", a_.MemsetD32Async(g, c.value, n / 4, stream_.get()));
        job.cmd_done += n;
        moved += n;
    }
    check("cuStreamSynchronize", a_.StreamSynchronize(stream_.get()));
    return job.cmd_done < c.size ? VGPU_RUN_BUDGET : VGPU_RUN_DONE;
}

// The code a launch at @entry reaches through the tables of @s.
Program CudaBackend::code(Space& s, uint64_t entry) {
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
    return discover(entry, fetch);
}

// Compiles @ptx on the JIT's thread, which makes the primary context
// current there first.
// @nthreads 0: the JIT is not told the block's size (a guest's PTX, run
// with any).
void CudaBackend::start_jit(const std::string& key, std::string ptx, uint32_t nthreads, const std::string& entry) {
    if (const char* dir = std::getenv("VGPU_ENGINED_DUMP_PTX"))  // for debugging the translator
        std::ofstream(std::string(dir) + "/kernel-" + std::to_string(cache_clock_) + ".ptx") << ptx;
    if (jit_thread_.joinable())
        jit_thread_.join();  // the last compile, reaped: finished
    auto j = std::make_shared<Jit>();
    j->key = key;
    jit_ = j;
    jit_thread_ = std::thread([j, &a = a_, ctx = ctx_->get(), ptx = std::move(ptx), nthreads, entry] {
        int opts[] = {CU_JIT_THREADS_PER_BLOCK, CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
        char log[sizeof(j->log)] = {};
        void* vals[] = {reinterpret_cast<void*>(static_cast<uintptr_t>(nthreads)), log,
                        reinterpret_cast<void*>(static_cast<uintptr_t>(sizeof(log) - 1))};
        CUmodule m = nullptr;
        CUfunction f = nullptr;
        CUresult r = a.CtxSetCurrent(ctx);
        if (r == CUDA_SUCCESS)
            r = nthreads ? a.ModuleLoadDataEx(&m, ptx.c_str(), 3, opts, vals)
                         : a.ModuleLoadDataEx(&m, ptx.c_str(), 2, opts + 1, vals + 1);
        // A translation: its one kernel, loaded here, not in the first
        // launch (a RUN).  A guest's module: its entries, as launched
        // (Module::entry()).
        if (r == CUDA_SUCCESS && nthreads && (r = a.ModuleGetFunction(&f, m, entry.c_str())) == CUDA_SUCCESS)
            r = a.FuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, VGPU_MAX_SHARED);
        if (r == CUDA_SUCCESS && nthreads && a.FuncLoad)
            r = a.FuncLoad(f);
        if (r != CUDA_SUCCESS && m) {
            a.ModuleUnload(m);
            m = nullptr;
        }
        std::lock_guard<std::mutex> g(j->m);
        j->r = r;
        j->mod = m;
        j->fn = f;
        std::memcpy(j->log, log, sizeof(log));
        j->done = true;
        j->cv.notify_all();
    });
}

CUfunction Module::entry(const std::string& name, CUresult* r, std::string* why, uint32_t* local_out) {
    if (auto it = entries_.find(name); it != entries_.end()) {
        *r = it->second.r;
        *why = it->second.why;
        *local_out = it->second.local;
        return it->second.f;
    }
    CUfunction f = nullptr;
    if ((*r = a_.ModuleGetFunction(&f, m_, name.c_str())) != CUDA_SUCCESS) {
        *why = error("cuModuleGetFunction", *r);
        return nullptr;
    }
    // A guest's own code: the driver sizes the context's local memory by
    // it for every thread the GPU can hold, charged to no one.
    int local = 0;
    if ((*r = a_.FuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, VGPU_MAX_SHARED)) !=
        CUDA_SUCCESS) {
        *why = error("cuFuncSetAttribute", *r);
    } else if (a_.FuncGetAttribute(&local, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, f) != CUDA_SUCCESS ||
               local > static_cast<int>(kMaxPtxLocal)) {
        *r = kErrTooMuchLocal;
        *why = std::to_string(local) + " bytes of local memory a thread (the most: " + std::to_string(kMaxPtxLocal) +
               ")";
    } else if (a_.FuncLoad && (*r = a_.FuncLoad(f)) != CUDA_SUCCESS) {
        *why = error("cuFuncLoad", *r);
    }
    if (*r != CUDA_SUCCESS)
        f = nullptr;
    *local_out = f ? static_cast<uint32_t>(std::max(local, 0)) : 0;
    entries_.emplace(name, Entry{f, *r, *why, *local_out});
    return f;
}

// A finished compile: into the cache, or unloaded if its key was refused
// meanwhile (the watchdog abandoned it); a rejected one is refused.
void CudaBackend::reap_jit() {
    if (!jit_)
        return;
    {
        std::lock_guard<std::mutex> g(jit_->m);
        if (!jit_->done)
            return;
    }
    jit_thread_.join();
    std::shared_ptr<Jit> j = std::move(jit_);
    if (j->r != CUDA_SUCCESS && j->key.rfind("ptx:", 0) == 0) {
        if (warned_ptx_ < kPtxLines && ++warned_ptx_ > 0)  // the guest's own text: not echoed
            std::cerr << "vgpu-engined worker: a guest's PTX not compiled (" << error("cuModuleLoadDataEx", j->r)
                      << "): its ISA runs\n";
        refuse(j->key, false);
        return;
    }
    if (j->r != CUDA_SUCCESS) {
        std::cerr << "vgpu-engined: translation rejected by the driver's JIT: "
                  << error("cuModuleLoadDataEx", j->r) << "\n" << j->log << "\n";
        refuse(j->key, false);
        return;
    }
    if (refused_.count(j->key)) {
        a_.ModuleUnload(j->mod);
        return;
    }
    evict();
    cache_[j->key] = {std::make_shared<Module>(a_, j->mod, j->fn), ++cache_clock_};
}

void CudaBackend::refuse(const std::string& key, bool timedout) {
    if (!refused_.emplace(key, timedout).second)
        return;
    refused_order_.push_back(key);
    refused_bytes_ += key.size();
    while (refused_bytes_ > kRefusedBytes && refused_order_.size() > 1) {
        refused_bytes_ -= refused_order_.front().size();
        refused_.erase(refused_order_.front());
        refused_order_.pop_front();
    }
}

// The module of launch @st: the one it has (if the code it reaches is
// unchanged: the guest may remap code pages between RUNs), or the
// translation's, cached or compiled (compiled()).
CudaBackend::Got CudaBackend::module_for(Space& s, Job& job, Launch& st, const drm_vgpu_cmd& c, uint64_t start,
                                         uint64_t budget, uint64_t watchdog) {
    uint32_t nthreads = c.block[0] * c.block[1] * c.block[2];
    Program p = code(s, c.src);
    if (p.too_large)
        return Got::Fault;
    std::string key = p.key() + std::to_string(nthreads);
    if (st.mod)  // a launch resumed: the code it started with, or ILLEGAL
        return key == st.key ? Got::Module : Got::Fault;
    st.key = key;
    st.resumable = p.resumable();
    auto translation = [&](std::string* ptx) {
        *ptx = translate(p, sm_);
        return true;
    };
    Got g = compiled(job, key, translation, nthreads, "vgpu_kernel", start, budget, watchdog, &st.mod);
    return g == Got::Rejected ? Got::Fault : g;
}

// The module compiled from what @source gives (called on a miss; false:
// it cannot, a Fault) under @key: cached, or compiled and waited for
// until the slice ends, kJitWaitNs have passed or, for the job's own
// compile, the watchdog is used up (that wait is its engine time).  The
// JIT's thread compiles one program at a time: a launch waiting for
// another's compile is not charged for it.  Rejected: the driver's JIT
// refused it (now or before).  Not @charged: the wait is not the job's
// (the guest's PTX, whose ISA can run instead), and a compile that has
// taken guest_jit_ns_ (or the watchdog, if longer) is Rejected.  A
// guest's compile given up so still holds the JIT (none can be
// cancelled): waits behind it are charged, as the job's own.
CudaBackend::Got CudaBackend::compiled(Job& job, const std::string& key,
                                       const std::function<bool(std::string*)>& source, uint32_t nthreads,
                                       const std::string& entry, uint64_t start, uint64_t budget, uint64_t watchdog,
                                       std::shared_ptr<Module>* out, bool charged) {
    for (int pass = 0;; pass++) {
        reap_jit();
        if (auto r = refused_.find(key); r != refused_.end())
            return r->second ? Got::TimedOut : Got::Rejected;
        if (auto hit = cache_.find(key); hit != cache_.end()) {
            hit->second.used = ++cache_clock_;
            *out = hit->second.mod;
            return Got::Module;
        }
        // Another job's compile ended in the first wait: start this one's
        // with what is left of the slice (else it would not start before
        // the next RUN).
        if (pass == 2 || (pass == 1 && jit_))
            break;
        if (!jit_) {
            if (charged && job.cmd_busy_ns >= watchdog)
                return Got::TimedOut;  // no compile for a job out of time
            std::string ptx;
            if (!source(&ptx))
                return Got::Fault;
            start_jit(key, std::move(ptx), nthreads, entry);
            jit_->guest = !charged;
        }
        const bool own = jit_->key == key;
        uint64_t t0 = now_ns(), left = std::min(kJitWaitNs, budget - std::min(budget, t0 - start));
        // Not the job's time (the ISA can run instead): a guest's compile
        // that has taken guest_jit_ns_ (or a longer watchdog) is given up
        // for the ISA, by whichever job looks (its own may be gone).
        const uint64_t limit = std::max(watchdog, guest_jit_ns_);
        if (jit_->guest && t0 - jit_->started >= limit && !refused_.count(jit_->key))
            refuse(jit_->key, false);
        if (own && !charged) {
            if (refused_.count(key))
                return Got::Rejected;
            left = std::min(left, limit - (t0 - jit_->started));
        }
        // A guest's compile given up for its time goes on and holds the
        // JIT: what the worker's one context compiles next waits for it,
        // charged, so that a compile that never ends costs the job a
        // watchdog (TIMEDOUT), not preemption for good.
        const bool abandoned = !own && jit_->guest && refused_.count(jit_->key);
        const bool charge = (own && charged) || abandoned;
        if (charge)
            left = std::min(left, watchdog - std::min(watchdog, job.cmd_busy_ns));
        {
            std::unique_lock<std::mutex> g(jit_->m);
            jit_->cv.wait_for(g, std::chrono::nanoseconds(left), [&] { return jit_->done; });
        }
        if (charge)
            job.cmd_busy_ns += now_ns() - t0;
        if (charge && job.cmd_busy_ns >= watchdog) {
            reap_jit();
            if (cache_.count(key))
                continue;
            if (own)
                refuse(key, true);  // a hang: a resubmission is not compiled again
            return Got::TimedOut;
        }
    }
    return Got::Wait;
}

// Makes room for one translation: drops the least recently used ones that
// no launch holds (a preempted launch keeps its module loaded).  With
// every entry in use the cache grows past its limit, by at most one entry
// per job in progress.
void CudaBackend::evict() {
    while (cache_.size() >= cache_limit_) {
        auto lru = cache_.end();
        for (auto it = cache_.begin(); it != cache_.end(); ++it)
            if (it->second.mod.use_count() == 1 && (lru == cache_.end() || it->second.used < lru->second.used))
                lru = it;
        if (lru == cache_.end())
            return;
        a_.StreamSynchronize(stream_.get());
        cache_.erase(lru);
    }
}

// The stop word (host memory the GPU reads and writes): the host moves it
// only from @from to @to, so a fault the GPU wrote (kStopFault) is never
// overwritten.
bool CudaBackend::stop_cas(uint32_t from, uint32_t to) {
    return __atomic_compare_exchange_n(const_cast<uint32_t*>(stop_), &from, to, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

StepResult CudaBackend::launch(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t start, uint64_t budget,
                               uint64_t watchdog, uint64_t* addr, uint32_t* kind) {
    auto st = std::static_pointer_cast<Launch>(job.state);
    // The guest's own PTX, where its memory is at its addresses; not once
    // the ISA has started the grid (a preempted launch goes on as it began).
    if (!st && c.flags & DRM_VGPU_LAUNCH_PTX && s.own && !ptx_off_)
        if (auto r = launch_ptx(s, job, c, start, budget, watchdog, addr, kind))
            return *r;
    *addr = c.src;
    *kind = VGPU_FAULT_ILLEGAL;
    if (!st) {
        vgpu_launch_desc d;
        vgpu_launch_desc_from_cmd(&d, &c);
        if (vgpu_launch_check(&d))
            return StepResult::Fault;
        st = std::make_shared<Launch>();
        st->nblocks = uint64_t{c.grid[0]} * c.grid[1] * c.grid[2];
        // A slice of a few ms starts with a few blocks per SM and adapts;
        // a job run whole (no slicing) launches up to kWholeBlocksPerSm
        // per SM at once: the watchdog's abort makes a chunk's blocks
        // yet to start leave, but each must still start, so a chunk of
        // 2^31 blocks would take seconds to drain.
        st->chunk = budget >= 100000000ull ? std::min(st->nblocks, uint64_t(nsm_) * kWholeBlocksPerSm)
                                           : uint64_t(nsm_) * 16;
        job.state = st;
    }
    switch (module_for(s, job, *st, c, start, budget, watchdog)) {
    case Got::Module: break;
    case Got::Fault: return StepResult::Fault;
    case Got::TimedOut: return StepResult::TimedOut;
    case Got::Wait: return StepResult::Yield;
    case Got::Rejected: return StepResult::Fault;  // module_for() answers Fault for it
    }
    return run_chunks(s, job, *st, c, start, budget, watchdog, addr, kind);
}

// @n bytes of the context's memory at @va, read here (the page's
// host memory, or a copy from the GPU); false, the fault in *@addr and
// *@kind, where a page is not mapped readable.
bool CudaBackend::read_va(Space& s, uint64_t va, void* dst, uint64_t n, uint64_t* addr, uint32_t* kind) {
    auto* out = static_cast<uint8_t*>(dst);
    for (uint64_t done = 0; done < n;) {
        uint64_t v = va + done, off = v & (kPage - 1);
        const Leaf* l = leaf(s, v, VGPU_PTE_R, addr, kind);
        if (!l)
            return false;
        uint64_t k = std::min(kPage - off, n - done);
        // Contiguous device pages: one copy.
        while (!l->host && done + k < n) {
            uint64_t a2;
            uint32_t k2;
            const Leaf* nx = leaf(s, v + k, VGPU_PTE_R, &a2, &k2);
            if (!nx || nx->host || nx->gpu != l->gpu + off + k - ((v + k) & (kPage - 1)))
                break;
            k += std::min(kPage, n - done - k);
        }
        if (l->host)
            std::memcpy(out + done, l->host + off, k);
        else
            check("cuMemcpyDtoH (guest memory)", a_.MemcpyDtoH(out + done, l->gpu + off, k));
        done += k;
    }
    return true;
}

// At most kMaxPtxModules of the guest's own modules stay compiled (each
// holds device memory no one is charged for): the least recently used
// that no launch holds goes.
void CudaBackend::make_room_for_ptx() {
    for (;;) {
        size_t n = 0;
        auto lru = cache_.end();
        for (auto it = cache_.begin(); it != cache_.end(); ++it) {
            if (it->first.rfind("ptx:", 0))
                continue;
            n++;
            if (it->second.mod.use_count() == 1 && (lru == cache_.end() || it->second.used < lru->second.used))
                lru = it;
        }
        if (n < kMaxPtxModules || lru == cache_.end())
            return;
        a_.StreamSynchronize(stream_.get());
        cache_.erase(lru);
    }
}

// A LAUNCH's PTX, run as itself (Documentation/engines.rst "The guest's
// own PTX"): the descriptor read and checked, the module compiled once
// per text (the driver's JIT, on its thread), the entry launched with the
// parameters the descriptor holds and waited for.  The GPU cannot be
// preempted: the kernel runs to its end in this step, and the engine
// process kills the worker if it outlasts the RUN's budget + the
// watchdog.  nullopt: this PTX does not run here (the driver's JIT or
// launch refused it): the ISA runs, as on any engine.
std::optional<StepResult> CudaBackend::launch_ptx(Space& s, Job& job, const drm_vgpu_cmd& c, uint64_t start,
                                                  uint64_t budget, uint64_t watchdog, uint64_t* addr,
                                                  uint32_t* kind) {
    const uint64_t t_start = now_ns();
    std::vector<uint8_t>& d = desc_;
    if (c.size > DRM_VGPU_PTX_MAX_DESC) {  // the core's bound (vgpu_uapi.h), the buffer's too
        *addr = c.dst;
        *kind = VGPU_FAULT_ILLEGAL;
        return StepResult::Fault;
    }
    d.resize(c.size);
    if (!read_va(s, c.dst, d.data(), d.size(), addr, kind))
        return StepResult::Fault;
    const uint64_t t_read = now_ns();
    vgpu::latency::stamp("worker: descriptor read");
    std::string why;
    auto pl = parse_ptx_launch(d.data(), d.size(), &why);
    auto say = [&](const std::string& what) {
        if (warned_ptx_ < kPtxLines && ++warned_ptx_ > 0)
            std::cerr << "vgpu-engined worker: " << what << "\n";
    };
    if (!pl) {
        say("a LAUNCH's PTX descriptor: " + why);
        *addr = c.dst;
        *kind = VGPU_FAULT_ILLEGAL;
        return StepResult::Fault;
    }
    // The call stack it names, a power of two from 1 KiB: at most four
    // raises in a context's life.  The driver reserves it for every
    // thread the GPU holds at once (8 KiB a thread: 2.1 GiB on an H100)
    // until the context ends, memory the context's client paid for when
    // it asked (CTX_STACK; cudaDeviceSetLimit in GPUvm's runtime).  More
    // than the context was given, or what the driver refused, runs the
    // ISA, decided before anything is compiled for it (and again once
    // the entry's own local memory is known, below).
    uint64_t want_stack = pl->stack > stack_set_ ? std::bit_ceil(uint64_t{pl->stack}) : 0;
    if (want_stack > s.stack_given || (want_stack && want_stack >= stack_refused_)) {
        say("a stack of " + std::to_string(pl->stack) + " bytes for the guest's kernel " + pl->entry +
            (want_stack > s.stack_given ? ": more than its context was given (CTX_STACK, cudaDeviceSetLimit)"
                                        : ": the driver refused it before") +
            ": its ISA runs");
        return std::nullopt;
    }
    if (ptx_key_.empty() || ptx_key_of_[0] != pl->ptx || ptx_key_of_[1] != pl->ptx_size ||
        ptx_key_of_[2] != pl->ptx_hash) {
        ptx_key_ = pl->key();
        ptx_key_of_[0] = pl->ptx;
        ptx_key_of_[1] = pl->ptx_size;
        ptx_key_of_[2] = pl->ptx_hash;
    }
    const std::string& key = ptx_key_;
    bool isa = false;  // the text is not for this worker to run: the ISA is
    auto text = [&](std::string* ptx) {
        ptx->resize(pl->ptx_size);
        if (!read_va(s, pl->ptx, ptx->data(), pl->ptx_size, addr, kind))
            return false;
        if (!ptx_text_ok(ptx->data(), ptx->size()) || ptx_hash(ptx->data(), ptx->size()) != pl->ptx_hash) {
            say("a LAUNCH's PTX text is not NUL-terminated text of its hash");
            *addr = pl->ptx;
            *kind = VGPU_FAULT_ILLEGAL;
            return false;
        }
        ptx->pop_back();  // the driver reads up to the NUL
        if (const char* why = ptx_not_runnable(*ptx)) {
            say(std::string("a guest's PTX ") + why + ": its ISA runs");
            refuse(key, false);
            return !(isa = true);
        }
        make_room_for_ptx();  // a miss: one more will be compiled
        return true;
    };
    std::shared_ptr<Module> mod;
    // The compile's wait is not charged to the launch (its RUNs spend
    // their slices waiting): one longer than guest_jit_ns_ is given up
    // and the ISA runs once the JIT is free (that wait charged).
    switch (compiled(job, key, text, 0, pl->entry, start, budget, watchdog, &mod, false)) {
    case Got::Module: break;
    case Got::Fault: return isa ? std::nullopt : std::optional(StepResult::Fault);
    case Got::TimedOut: return StepResult::TimedOut;  // its watchdog spent behind a compile given up
    case Got::Rejected: return std::nullopt;
    case Got::Wait: return StepResult::Yield;
    }
    CUresult r;
    std::string fwhy;
    uint32_t local = 0;
    CUfunction fn = mod->entry(pl->entry, &r, &fwhy, &local);
    if (!fn) {
        say("the guest's kernel " + pl->entry + ": " + fwhy + ": its ISA runs");
        return std::nullopt;
    }
    // The driver raises the context's stack by itself, at the launch, to
    // the entry's local memory a thread (a large .local array, deep
    // calls): as much device memory as a stack asked for, so no more than
    // the context was given either.  The limit is raised here, where the
    // worker sees it, rather than by the driver.
    if (local > stack_set_) {
        const uint64_t need = std::bit_ceil(uint64_t{local});
        if (need > s.stack_given || need >= stack_refused_) {
            say("the guest's kernel " + pl->entry + " takes " + std::to_string(local) +
                " bytes of local memory a thread, more than its context's stack (" +
                std::to_string(s.stack_given) + ": CTX_STACK, cudaDeviceSetLimit): its ISA runs");
            return std::nullopt;
        }
        want_stack = std::max(want_stack, need);
    }
    if (want_stack) {
        const uint64_t t_limit = now_ns();
        r = a_.CtxSetLimit(kLimitStackSize, want_stack);
        job.cmd_busy_ns += now_ns() - t_limit;  // the context's time
        if (r != CUDA_SUCCESS) {
            stack_refused_ = want_stack;
            say("a stack of " + std::to_string(want_stack) + " bytes for the guest's kernel " + pl->entry + " (" +
                error("cuCtxSetLimit", r) + "): its ISA runs");
            return std::nullopt;
        }
        stack_set_ = want_stack;
    }
    size_t psize = pl->params.size();
    void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, pl->params.data(), CU_LAUNCH_PARAM_BUFFER_SIZE, &psize,
                     CU_LAUNCH_PARAM_END};
    uint64_t t0 = now_ns();
    vgpu::latency::stamp("worker: cuLaunchKernel");
    r = a_.LaunchKernel(fn, c.grid[0], c.grid[1], c.grid[2], c.block[0], c.block[1], c.block[2], pl->shared,
                        stream_.get(), nullptr, psize ? extra : nullptr);
    if (r != CUDA_SUCCESS) {  // a configuration this kernel cannot have here
        say("the guest's kernel " + pl->entry + " not launched (" + error("cuLaunchKernel", r) + "): its ISA runs");
        return std::nullopt;
    }
    const uint64_t t_launched = now_ns();
    vgpu::latency::stamp("worker: cuStreamSynchronize");
    r = a_.StreamSynchronize(stream_.get());
    vgpu::latency::stamp("worker: synchronized");
    job.cmd_busy_ns += now_ns() - t0;
    if (trace_)  // VGPU_ENGINED_TRACE: where a launch's time goes
        std::fprintf(stderr, "vgpu-engined trace: PTX launch: descriptor %.1f us, compiled %.1f us, launch %.1f us, "
                             "run %.1f us\n",
                     (t_read - t_start) / 1e3, (t0 - t_read) / 1e3, (t_launched - t0) / 1e3,
                     (now_ns() - t_launched) / 1e3);
    if (r != CUDA_SUCCESS) {
        // The GPU's exceptions are sticky: this process's CUDA context is
        // gone, the worker goes (its context's next request starts
        // another, its mappings given again).  No address is known.
        say("the guest's kernel " + pl->entry + " ended the worker's GPU context: " + error("cuStreamSynchronize", r));
        lost_ = true;
        *addr = 0;
        *kind = fault_of(r);
        return StepResult::Fault;
    }
    return StepResult::Done;
}

// Runs the grid of launch @st in chunks of blocks until the slice ends.
StepResult CudaBackend::run_chunks(Space& s, Job& job, Launch& lst, const drm_vgpu_cmd& c, uint64_t start,
                                   uint64_t budget, uint64_t watchdog, uint64_t* addr, uint32_t* kind) {
    Launch* st = &lst;
    uint32_t nthreads = c.block[0] * c.block[1] * c.block[2];
    uint64_t blkb = save_bytes(nthreads, c.shared_size);
    // Sliced (a budget of a few ms) and resumable (no barriers, no warp
    // instructions): threads can stop at backward branches and resume;
    // the save area bounds the chunk.
    if (budget < 100000000ull && st->resumable && !st->save) {
        st->api = &a_;
        st->save_blocks = std::max<uint64_t>(1, kSaveBytes / blkb);
        if (a_.MemAlloc(&st->save, st->save_blocks * blkb) != CUDA_SUCCESS)
            st->save = 0;  // then it runs chunks to their end
    }
    if (st->save)
        st->chunk = std::min(st->chunk, st->save_blocks);
    uint64_t p[8], pt = s.root.dev, ctl = ctl_.get(), stop = stop_dev_, base, save = st->save;
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
            check("cuMemsetD8Async (save area)", a_.MemsetD8Async(save, 0, n * blkb, stream_.get()));
        // No fault recorded, no abort: the record may hold another
        // launch's (another context's) fault.
        static const LaunchCtl kFresh{~0ull, 0, 0, 0, 0, 0, 0, 0};
        check("cuMemcpyHtoDAsync (control)", a_.MemcpyHtoDAsync(ctl_.get(), &kFresh, sizeof(kFresh), stream_.get()));
        check("cuEventRecord (control)", a_.EventRecord(reset_event_.get(), stream_.get()));
        __atomic_store_n(const_cast<uint32_t*>(stop_), kStopRun, __ATOMIC_SEQ_CST);
        check("cuLaunchKernel", a_.LaunchKernel(st->mod->function(), static_cast<unsigned>(n), 1, 1, c.block[0],
                                                c.block[1], c.block[2], sh, stream_.get(), args, nullptr));
        uint32_t stop = wait_chunk(job, t0, start, budget, watchdog, save != 0);
        uint64_t t1 = now_ns();
        job.cmd_busy_ns += t1 - t0;
        if (stop == kStopFault) {
            LaunchCtl r;
            check("cuMemcpyDtoH (control)", a_.MemcpyDtoH(&r, ctl_.get(), sizeof(r)));
            *addr = r.fault_addr;
            *kind = r.fault_kind;
            return StepResult::Fault;
        }
        if (stop == kStopAbort)
            return StepResult::TimedOut;
        if (stop == kStopPreempt) {
            // Blocks that stopped part way: the next RUN resumes this
            // chunk (blocks that finished are skipped).  None: the
            // preempt came after the last check point, the chunk is done
            // (without this, a chunk relaunched only to skip its finished
            // blocks could be preempted again, and again: no progress).
            LaunchCtl r;
            check("cuMemcpyDtoH (control)", a_.MemcpyDtoH(&r, ctl_.get(), sizeof(r)));
            if (r.saved) {
                st->chunk = n;
                st->resume = true;
                return StepResult::More;
            }
        }
        st->resume = false;
        st->next_block += n;
        // Chunks that fit the slice well, and a quarter of the watchdog
        // (what an abort may have to drain).
        const uint64_t fit = watchdog ? std::min(budget, watchdog / 4) : budget;
        if ((t1 - t0) * 8 < fit && st->chunk < (1ull << 30))
            st->chunk *= 2;
        else if ((t1 - t0) > fit && st->chunk > 1)
            st->chunk /= 2;
        if (save)
            st->chunk = std::min(st->chunk, st->save_blocks);
        if (t1 - start >= budget)
            break;
    }
    return st->next_block < st->nblocks ? StepResult::More : StepResult::Done;
}

// Moves the stop word from @from to @to (kStopPreempt or kStopAbort) and
// tells the running kernel: its threads read the word's copy in
// LaunchCtl, which a copy beside the kernel updates (with
// LaunchCtl.abort for kStopAbort, so that blocks yet to start leave).
bool CudaBackend::tell(uint32_t from, uint32_t to) {
    if (!stop_cas(from, to))
        return false;
    if (!abort_stream_)
        check("cuStreamCreate", a_.StreamCreate(abort_stream_.out(), CU_STREAM_NON_BLOCKING));
    check("cuStreamWaitEvent (stop)", a_.StreamWaitEvent(abort_stream_.get(), reset_event_.get(), 0));
    const volatile uint32_t* src = stop_ + (to == kStopAbort ? kTellAbort : kTellPreempt);
    check("cuMemcpyHtoDAsync (stop)", a_.MemcpyHtoDAsync(ctl_.get() + offsetof(LaunchCtl, abort),
                                                         const_cast<const uint32_t*>(src), 8, abort_stream_.get()));
    return true;
}

// Waits for the chunk launched at @t0; at the watchdog the stop word says
// abort, at the end of the slice preempt (@save: the threads can save
// themselves); tell() passes either to the kernel.  Returns the stop
// word's last value.
uint32_t CudaBackend::wait_chunk(Job& job, uint64_t t0, uint64_t start, uint64_t budget, uint64_t watchdog,
                                 bool save) {
    bool aborted = false, told = false;
    CUresult q;
    while ((q = a_.StreamQuery(stream_.get())) == CUDA_ERROR_NOT_READY) {
        uint64_t ran = now_ns() - t0;
        if (!aborted && job.cmd_busy_ns + ran >= watchdog) {
            aborted = true;
            if (tell(kStopRun, kStopAbort) || tell(kStopPreempt, kStopAbort))
                told = true;
        } else if (save && !told && now_ns() - start >= budget) {
            told = tell(kStopRun, kStopPreempt);  // threads save their state at backward branches
        }
        // Spin for short kernels (latency), then give the CPU back.
        if (ran > 1000000)
            std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    check("cuStreamQuery (launch)", q);
    // The next chunk's LaunchCtl must not receive this one's copy.
    if (told)
        check("cuStreamSynchronize (stop)", a_.StreamSynchronize(abort_stream_.get()));
    return __atomic_load_n(const_cast<uint32_t*>(stop_), __ATOMIC_SEQ_CST);
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
        commit(it->second);  // the tables as mapped, before anything runs
        sync_staged(it->second, true);
        // A launch charges its chunks' time itself (not a JIT compile it
        // waits for); a copy or fill its step's.  The loop's budget is
        // what the table uploads left of the slice (its steps measure
        // from @start too).
        uint64_t used = now_ns() - start;
        res = run_steps(job, budget_ns - std::min(budget_ns, used), watchdog_ns, true, [&](const drm_vgpu_cmd& c, uint64_t* addr, uint32_t* kind) {
            if (c.op == DRM_VGPU_CMD_LAUNCH)
                return launch(it->second, job, c, start, budget_ns, watchdog_ns, addr, kind);
            uint64_t a = 0, last = now_ns();
            vgpu_run_result r = c.op == DRM_VGPU_CMD_COPY ? copy(it->second, job, c, &a, kind)
                                                          : fill(it->second, job, c, &a, kind);
            job.cmd_busy_ns += now_ns() - last;
            *addr = a;
            if (r == VGPU_RUN_FAULT)
                return StepResult::Fault;
            return r == VGPU_RUN_DONE ? StepResult::Done : StepResult::More;
        });
        if (!lost_)  // else the device can copy nothing more: the worker ends
            sync_staged(it->second, false);
    } catch (const BackendLost&) {
        throw;
    } catch (const std::exception& e) {
        // A CUDA error: the context's work cannot go on; others may.
        std::cerr << "vgpu-engined: " << e.what() << "\n";
        job.state.reset();
        res.status = RunStatus::Faulted;
        res.fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
    }
    res.busy_ns = now_ns() - start;
    if (trace_)
        std::fprintf(stderr, "vgpu-engined trace: RUN %.1f us\n", res.busy_ns / 1e3);
    return res;
}

int CudaBackend::mem_read(uint64_t mem, uint64_t off, void* dst, uint64_t size) {
    auto m = mems_.find(mem);
    if (m == mems_.end() || m->second.freed || off > m->second.size || size > m->second.size - off)
        return EINVAL;
    return a_.MemcpyDtoH(dst, base(m->second) + off, size) == CUDA_SUCCESS ? 0 : EIO;
}

int CudaBackend::mem_write(uint64_t mem, uint64_t off, const void* src, uint64_t size) {
    auto m = mems_.find(mem);
    if (m == mems_.end() || m->second.freed || off > m->second.size || size > m->second.size - off)
        return EINVAL;
    return a_.MemcpyHtoD(base(m->second) + off, src, size) == CUDA_SUCCESS ? 0 : EIO;
}

}  // namespace

cu::Debug cu::debug(const Backend& b) {
    cu::Debug d;
    auto* c = dynamic_cast<const CudaBackend*>(&b);
    if (!c)
        return d;
    for (auto& [id, s] : c->spaces_)
        d.roots[id] = s.root.dev;
    d.pool_free = c->pool_.free_pages();
    return d;
}

std::unique_ptr<Backend> make_cuda_backend(uint64_t mem_size, int gpu) {
    return make_cuda_backend(api(), mem_size, gpu);
}

std::unique_ptr<Backend> make_cuda_backend(const Api& a, uint64_t mem_size, int gpu) {
    try {
        return std::make_unique<CudaBackend>(a, mem_size, gpu);
    } catch (const Unavailable&) {
        throw;
    } catch (const std::exception& e) {
        throw Unavailable(e.what());
    }
}

}  // namespace vgpu::engine
