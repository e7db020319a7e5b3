// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// runtime.cpp - see runtime.hpp.
#include "runtime.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>
#include <tuple>

#include <cuda_runtime_api.h>

#include "fatbin.hpp"
#include "vgpu/latency.hpp"
#include "../../vgpu-engined/cuda_native.hpp"
#include "../../vgpu-engined/ptx.hpp"
#include "ptx_check.hpp"
#include "ptx_parser.hpp"
#include "ptx_place.hpp"
#include "ptx_printf.hpp"

namespace gpuvm::cudart {

Runtime& Runtime::get() {
    // Never destroyed: nvcc's atexit unregistrations run late.  What the
    // kernels printed and nobody synchronised for is printed at exit, as
    // CUDA's context teardown does.
    static Runtime* r = [] {
        auto* rt = new Runtime();
        std::atexit([] {
            // Never waits for the lock: another thread may hold it (or a
            // fork()ed child inherit it held).
            Runtime& x = Runtime::get();
            std::unique_lock<std::mutex> lk(x.lock(), std::try_to_lock);
            if (lk.owns_lock())
                x.drain_at_exit();
        });
        return rt;
    }();
    return *r;
}

namespace {
// The calling thread's current device (cudaSetDevice; CUDA's is per thread).
thread_local int t_device = 0;
}  // namespace

int Runtime::device_count() {
    if (!listed_) {
        try {
            listed_ = list_devices();
        } catch (const std::exception& e) {
            throw CudaError(cudaErrorNoDevice, std::string("no GPUvm device: ") + e.what());
        }
        devices_.resize(static_cast<size_t>(listed_->count));
        for (auto& d : devices_)
            d = std::make_unique<DeviceState>();
    }
    return listed_->count;
}

int Runtime::device() const { return t_device; }

void Runtime::check_device(int ordinal) {
    if (ordinal < 0 || ordinal >= device_count())
        throw CudaError(cudaErrorInvalidDevice, "device " + std::to_string(ordinal) + " of " +
                                                    std::to_string(device_count()));
}

void Runtime::set_device(int ordinal) {
    check_device(ordinal);
    t_device = ordinal;
}

DeviceState& Runtime::state(int ordinal) const {
    // Every caller has listed the devices (device_count) and checked the
    // ordinal; a thread's device is always one of them.
    return *devices_.at(static_cast<size_t>(ordinal));
}

Backend& Runtime::backend() { return backend(device()); }

Backend& Runtime::backend(int ordinal) {
    check_device(ordinal);
    DeviceState& d = state(ordinal);
    if (!d.backend) {
        try {
            d.backend = make_backend(*listed_, ordinal);
        } catch (const std::exception& e) {
            if (listed_->count == 1)
                throw CudaError(cudaErrorNoDevice, std::string("no GPUvm device: ") + e.what());
            // One of several: the others may serve (cudaSetDevice).
            throw CudaError(cudaErrorDevicesUnavailable,
                            "device " + std::to_string(ordinal) + " unavailable: " + e.what());
        }
    }
    return *d.backend;
}

std::string Runtime::device_name(int ordinal) {
    std::string name = backend(ordinal).device_name();
    return device_count() > 1 ? name + " #" + std::to_string(ordinal) : name;
}

bool Runtime::has_backend() const { return is_open(device()); }

bool Runtime::is_open(int ordinal) const {
    return listed_ && ordinal >= 0 && ordinal < listed_->count && state(ordinal).backend != nullptr;
}

int Runtime::sticky() const { return listed_ ? cur().sticky : 0; }

void Runtime::reset() { reset(device()); }

// The device's memory goes with its backend; the modules are placed
// again when next used there.
void Runtime::reset(int ordinal) {
    check_device(ordinal);
    DeviceState& d = state(ordinal);
    if (d.backend) {
        try {
            d.backend->synchronize();
        } catch (const std::exception&) {
        }
        drain_printf(ordinal);
    }
    for (auto& m : modules_) {
        m->placed.erase(ordinal);
        m->load_error = 0;
    }
    d = DeviceState{};
}

int Runtime::device_of(uint64_t va, size_t n) const {
    for (size_t i = 0; i < devices_.size(); i++) {
        const auto& allocs = devices_[i]->allocs;
        auto it = allocs.upper_bound(va);
        if (it == allocs.begin())
            continue;
        --it;
        if (va - it->first < it->second.size && n <= it->second.size - (va - it->first))
            return static_cast<int>(i);
    }
    return -1;
}

void Runtime::refuse_foreign(uint64_t va, size_t n, const std::string& what) const {
    int owner = device_of(va, n);
    if (owner >= 0 && owner != device() && !find(va, n).second)
        throw CudaError(cudaErrorInvalidValue, what + " is memory of device " + std::to_string(owner) +
                                                   ", not of the current device " + std::to_string(device()) +
                                                   " (GPUvm's devices have no peer access)");
}

int Runtime::owner(uint64_t va, size_t n, const char* what) const {
    int d = device_of(va, n);
    if (d < 0)
        throw CudaError(cudaErrorInvalidValue, std::string(what) + " is not device memory");
    return d;
}

// Staged through the host in bounded chunks.
void Runtime::copy_peer(uint64_t dst, int dst_dev, uint64_t src, int src_dev, size_t n) {
    check_device(dst_dev);
    check_device(src_dev);
    if (!n)
        return;
    if (device_of(dst, n) != dst_dev || device_of(src, n) != src_dev)
        throw CudaError(cudaErrorInvalidValue, "cudaMemcpyPeer: a pointer is not memory of the device named with it");
    if (dst_dev == src_dev) {
        on(src_dev, [&](Backend& b) { b.copy(dst, src, n); });
        return;
    }
    constexpr size_t kChunk = size_t{8} << 20;
    std::vector<uint8_t> staging(std::min(n, kChunk));
    for (size_t done = 0; done < n; done += staging.size()) {
        size_t k = std::min(staging.size(), n - done);
        on(src_dev, [&](Backend& b) { b.read(src + done, staging.data(), k); });
        on(dst_dev, [&](Backend& b) { b.write(dst + done, staging.data(), k); });
    }
}

// From and to pinned memory (cudaMallocHost, cudaHostAlloc: a host
// object the GPU maps), the engine copies: one COPY between the two GPU
// addresses, where pageable memory goes through libvgpu's staging
// objects (a CPU copy, then the engine's).  Synchronous, as the staged
// path is, and after the work before it (whose fault it reports).
void Runtime::engine_copy(int dev, uint64_t dst, uint64_t src, size_t n) {
    on(dev, [&](Backend& b) {
        b.synchronize();
        b.copy(dst, src, n);
        b.synchronize();
    });
}

void Runtime::write(uint64_t dst, const void* src, size_t n) {
    int d = owner(dst, n, "the destination");
    if (auto va = pinned_va(d, src, n))
        engine_copy(d, dst, *va, n);
    else
        on(d, [&](Backend& b) { b.write(dst, src, n); });
}

void Runtime::read(void* dst, uint64_t src, size_t n) {
    int d = owner(src, n, "the source");
    if (auto va = pinned_va(d, dst, n))
        engine_copy(d, *va, src, n);
    else
        on(d, [&](Backend& b) { b.read(src, dst, n); });
}

void Runtime::copy(uint64_t dst, uint64_t src, size_t n) {
    int d = owner(dst, n, "the destination"), s = owner(src, n, "the source");
    copy_peer(dst, d, src, s, n);
}

int Runtime::record_fault(const DeviceFault& e) {
    int ordinal = e.device() >= 0 ? e.device() : device();
    drain_printf(ordinal);  // an assert's message, and what was printed before the fault
    DeviceState& d = state(ordinal);
    d.sticky = std::exchange(d.assert_seen, false) ? cudaErrorAssert : fault_error(e);
    return d.sticky;
}

Module* Runtime::register_module(const void* wrapper) {
    modules_.push_back(std::make_unique<Module>());
    modules_.back()->wrapper = wrapper;
    return modules_.back().get();
}

void Runtime::unregister_module(Module* m) {
    for (auto it = functions_.begin(); it != functions_.end();)
        it = it->second.module == m ? functions_.erase(it) : std::next(it);
    for (auto it = variables_.begin(); it != variables_.end();)
        it = it->second.module == m ? variables_.erase(it) : std::next(it);
    // The module's memory stays until exit or cudaDeviceReset: a late
    // unregistration (atexit) must not reach a backend being torn down.
    for (auto& p : modules_)
        if (p.get() == m)
            p->wrapper = nullptr;
}

void Runtime::register_function(Module* m, const void* host_fn, const char* name) {
    functions_[host_fn] = Function{m, name, nullptr};
}

void Runtime::register_variable(Module* m, const void* host_var, const char* name, size_t size) {
    variables_[host_var] = Variable{m, name, size};
}

namespace {

constexpr size_t kDescChunk = 2u << 20;  // launch descriptors: host memory in chunks of this

// Whether the module's own PTX, run by a device that runs PTX itself,
// may compute what the program expects of GPUvm's compile of it: it
// calls nothing outside it (printf's vprintf, malloc, __assertfail:
// GPUvm's runtime serves those from the program's memory), as the GPU's
// workers judge the text (cuda_native.cpp).  A module with variables is
// judged once they are placed (place_ptx()): the program reaches its
// __device__ and __constant__ variables at the runtime's addresses,
// where the driver would make others.
bool may_run_as_itself(const std::string& text, const ptx::Program& p) {
    if (!p.globals.empty())
        return true;
    return p.data.empty() && !vgpu::engine::ptx_not_runnable(text);
}

}  // namespace

// Compiles the module's PTX once.
void Runtime::compile(Module& m) {
    if (m.compiled)
        return;
    if (m.load_error)
        throw CudaError(m.load_error, "the module failed to load before");
    if (!m.wrapper && m.ptx.empty())
        throw CudaError(cudaErrorInvalidResourceHandle, "the module was unregistered");
    auto fail = [&](int code, const std::string& why) {
        m.load_error = code;
        std::fprintf(stderr, "GPUvm CUDA runtime: %s\n", why.c_str());
        throw CudaError(code, why);
    };
    std::string ptx_text = m.ptx;
    if (m.wrapper) try {
        auto entries = cuda::parse_wrapper(m.wrapper);
        const cuda::FatbinEntry* e = cuda::best_ptx(entries);
        if (!e)
            fail(cudaErrorNoKernelImageForDevice,
                 "the program has no PTX for GPUvm to compile (build it with nvcc -arch=sm_XX or "
                 "-gencode ...,code=compute_XX so that its fatbinary carries PTX)");
        ptx_text = e->data;
    } catch (const cuda::FatbinError& err) {
        fail(cudaErrorInvalidKernelImage, std::string("the program's fatbinary: ") + err.what());
    }
    try {
        auto mod = ptx::parse(ptx_text);
        auto errs = ptx::check(mod);
        if (!errs.empty())
            fail(cudaErrorInvalidPtx, "PTX: " + errs.front().text());
        m.program = ptx::compile(mod);
        m.native_ptx = may_run_as_itself(ptx_text, m.program) ? ptx_text : std::string();
        // Every handle into the program replaced, before anything below can fail.
        for (auto& [k, f] : functions_)
            if (f.module == &m)
                f.info = m.program.kernel(f.name);
        for (auto& [name, f] : m.by_name)
            f->info = m.program.kernel(name);
    } catch (const ptx::ParseError& err) {
        fail(cudaErrorInvalidPtx, std::string("PTX: ") + err.what());
    } catch (const ptx::CompileError& err) {
        fail(cudaErrorInvalidPtx, std::string("PTX not supported by GPUvm: ") + err.what());
    }
    m.compiled = true;
}

// Compiles the module and puts its code and data on the current device.
Placement& Runtime::load(Module& m) {
    if (auto it = m.placed.find(device()); it != m.placed.end())
        return it->second;
    compile(m);
    Backend& b = backend();
    Placement p;
    try {
        if (!m.program.data.empty()) {
            p.data_va = b.alloc(m.program.data.size(), false, nullptr);
            b.write(p.data_va, m.program.data.data(), m.program.data.size());
        }
        auto code = ptx::link(m.program, p.data_va);
        p.code_va = b.alloc(code.size() * 8, false, nullptr, true);
        b.write(p.code_va, code.data(), code.size() * 8);
    } catch (const OutOfMemory& e) {
        if (p.data_va)  // nothing stays of a load that failed: the next use tries again
            b.free(p.data_va);
        throw CudaError(cudaErrorMemoryAllocation, e.what());
    }
    if (p.data_va)  // device memory to copies and memset (cudaGetSymbolAddress), not to cudaFree
        cur().allocs[p.data_va] = Allocation{m.program.data.size(), false, nullptr, true};
    place_ptx(m, p);
    return m.placed[device()] = p;
}

// Where the device runs PTX itself: the module's text in its memory, for
// launches to name (launch_buffer()).  Without room the ISA runs alone.
void Runtime::place_ptx(const Module& m, Placement& p) {
    Backend& b = backend();
    // GPUVM_CUDA_NAME_PTX=1: named where the device runs the ISA anyway
    // (tests: the descriptors reach the engine, which checks them).
    static const bool always = [] {
        const char* e = std::getenv("GPUVM_CUDA_NAME_PTX");
        return e && *e == '1';
    }();
    if (m.native_ptx.empty() || !(b.runs_ptx() || always))
        return;
    std::string text = m.native_ptx;
    if (!m.program.globals.empty()) {
        // Its variables at the addresses this device's copy of them has;
        // what the placement refuses, or the text still needs (printf),
        // leaves the ISA alone.
        std::string why;
        auto placed = p.data_va ? ptx::place_variables(text, m.program.globals, p.data_va, &why) : std::nullopt;
        if (!placed || !define_printf(m, p, *placed) || vgpu::engine::ptx_not_runnable(*placed))
            return;
        text = std::move(*placed);
    }
    if (text.size() >= DRM_VGPU_PTX_MAX_TEXT)
        return;
    text.push_back('\0');  // the uAPI's text ends with its NUL
    try {
        p.ptx_va = b.alloc(text.size(), false, nullptr);
        b.write(p.ptx_va, text.data(), text.size());
    } catch (const std::exception&) {  // no room: the ISA alone
        if (p.ptx_va)
            free_quietly(cur(), p.ptx_va);
        p.ptx_va = 0;
        return;
    }
    p.ptx_size = text.size();
    p.ptx_hash = ptx::ptx_hash(text);
}

bool Runtime::define_printf(const Module& m, Placement& p, std::string& text) {
    if (text.find("vprintf") == std::string::npos && text.find("__assertfail") == std::string::npos)
        return true;  // it calls neither
    std::string why;
    auto trial = ptx::define_printf(text, 0, {}, &why);  // the text runnable once they are defined?
    if (!trial || vgpu::engine::ptx_not_runnable(*trial))
        return false;
    if (*trial == text)
        return true;  // it calls neither
    DeviceState& dev = cur();
    Backend& b = backend();
    if (!dev.printf_dev_va) {
        const uint64_t zero = 0;
        try {
            dev.printf_dev_va = b.alloc(ptx::kPrintfCapacity, false, nullptr);
            b.write(dev.printf_dev_va, &zero, 8);
        } catch (const std::exception&) {  // no room: the ISA, with the host buffer
            if (dev.printf_dev_va)
                free_quietly(dev, dev.printf_dev_va);
            dev.printf_dev_va = 0;
            return false;
        }
    }
    // The bytes each of the module's strings reads as a format.
    std::vector<ptx::PrintfFormat> formats;
    for (const auto& g : m.program.globals) {
        if (g.offset + g.size > m.program.data.size() || !g.size)
            continue;
        const char* c = reinterpret_cast<const char*>(m.program.data.data() + g.offset);
        const std::string_view str(c, ::strnlen(c, g.size));
        if (str.size() < g.size && str.find('%') != std::string_view::npos)
            formats.push_back({p.data_va + g.offset, printf_arg_bytes(str)});
    }
    auto defined = ptx::define_printf(text, dev.printf_dev_va, formats, &why);
    if (!defined)
        return false;
    text = std::move(*defined);
    p.printf_defined = true;
    return true;
}

Function& Runtime::function(const void* host_fn) {
    auto it = functions_.find(host_fn);
    if (it == functions_.end())
        throw CudaError(cudaErrorInvalidDeviceFunction, "not a registered kernel");
    load(*it->second.module);
    if (!it->second.info)
        throw CudaError(cudaErrorInvalidDeviceFunction,
                        "kernel '" + it->second.name + "' is not in the module's PTX");
    return it->second;
}

std::pair<uint64_t, size_t> Runtime::symbol(const void* host_var) {
    auto it = variables_.find(host_var);
    if (it == variables_.end())
        throw CudaError(cudaErrorInvalidSymbol, "not a registered __device__ or __constant__ variable");
    Module& m = *it->second.module;
    uint64_t data_va = load(m).data_va;
    const ptx::GlobalInfo* g = m.program.global(it->second.name);
    if (!g)
        throw CudaError(cudaErrorInvalidSymbol, "variable '" + it->second.name + "' is not in the module's PTX");
    return {data_va + g->offset, g->size};
}

Module* Runtime::load_module(std::string ptx, const void* owner) {
    auto m = std::make_unique<Module>();
    m->ptx = std::move(ptx);
    m->owner = owner;
    load(*m);  // throws: nothing stays of a module that did not load
    modules_.push_back(std::move(m));
    return modules_.back().get();
}

bool Runtime::is_module(const Module* m) const {
    for (const auto& p : modules_)
        if (p.get() == m)
            return !p->ptx.empty();
    return false;
}

const void* Runtime::create_stream() {
    auto tag = std::make_unique<int>(device());
    const void* s = tag.get();
    streams_.emplace(s, std::move(tag));
    return s;
}

Event* Runtime::create_event() {
    auto ev = std::make_unique<Event>();
    Event* e = ev.get();
    events_.emplace(e, std::move(ev));
    return e;
}

int Runtime::stream_device(const void* s) const {
    auto it = streams_.find(s);
    return it == streams_.end() ? device() : *it->second;
}

void Runtime::check_stream(const void* s) const {
    if (!is_stream(s))
        throw CudaError(cudaErrorInvalidResourceHandle, "not a stream");
}

Event& Runtime::event_of(const void* e) {
    if (Event* ev = event(e))
        return *ev;
    throw CudaError(cudaErrorInvalidResourceHandle, "not an event");
}

Function* Runtime::find_function(const void* handle) const {
    for (const auto& m : modules_)
        for (const auto& [name, f] : m->by_name)
            if (f.get() == handle)
                return f.get();
    return nullptr;
}

// Waits for the work queued (a launch may run the module's code), then
// frees the module's code and data.  A fault met while waiting stays for
// the next call that synchronises.
void Runtime::unload_module(Module* m) {
    quiesce();
    for (auto it = modules_.begin(); it != modules_.end(); ++it) {
        if (it->get() != m)
            continue;
        for (auto& [ordinal, p] : m->placed) {
            DeviceState& d = state(ordinal);
            if (p.data_va) {
                d.allocs.erase(p.data_va);
                free_quietly(d, p.data_va);
            }
            if (p.code_va)
                free_quietly(d, p.code_va);
            if (p.ptx_va)
                free_quietly(d, p.ptx_va);
        }
        m->placed.clear();
        m->program = ptx::Program{};
        std::string().swap(m->ptx);
        std::string().swap(m->native_ptx);
        m->compiled = false;
        for (auto& [name, f] : m->by_name) {
            f->info = nullptr;
            f->module = nullptr;
        }
        dead_modules_.push_back(std::move(*it));
        modules_.erase(it);
        return;
    }
}

// Waits for every open device's queued work without reporting its fault
// (a teardown).
void Runtime::quiesce() {
    for (auto& d : devices_) {
        if (!d->backend)
            continue;
        try {
            d->backend->synchronize();
        } catch (const std::exception&) {
        }
    }
}

// A teardown's free: a backend that lost its device has nothing to free.
void Runtime::free_quietly(DeviceState& d, uint64_t va) {
    if (!d.backend)
        return;
    try {
        d.backend->free(va);
    } catch (const std::exception&) {
    }
}

Function& Runtime::module_function(Module& m, const std::string& name) {
    auto it = m.by_name.find(name);
    if (it != m.by_name.end())
        return *it->second;
    const ptx::KernelInfo* k = m.program.kernel(name);
    if (!k)
        throw CudaError(cudaErrorSymbolNotFound, "no kernel '" + name + "' in the module");
    auto f = std::make_unique<Function>(Function{&m, name, k});
    return *m.by_name.emplace(name, std::move(f)).first->second;
}

std::pair<uint64_t, size_t> Runtime::module_global(Module& m, const std::string& name) {
    const ptx::GlobalInfo* g = m.program.global(name);
    if (!g)
        throw CudaError(cudaErrorSymbolNotFound, "no variable '" + name + "' in the module");
    return {load(m).data_va + g->offset, g->size};
}

void Runtime::release_owner(const void* owner) {
    if (!owner)
        return;
    quiesce();
    for (auto& d : devices_) {
        for (auto it = d->allocs.begin(); it != d->allocs.end();) {
            if (it->second.owner == owner && !it->second.module) {
                free_quietly(*d, it->first);
                d->host_allocs -= it->second.host;
                if (it->second.host)
                    d->pinned.erase(reinterpret_cast<uintptr_t>(it->second.cpu));
                it = d->allocs.erase(it);
            } else {
                ++it;
            }
        }
    }
    std::vector<Module*> owned;
    for (const auto& m : modules_)
        if (m->owner == owner)
            owned.push_back(m.get());
    for (Module* m : owned)
        unload_module(m);
}

void Runtime::launch(const void* host_fn, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block, void** args,
                     size_t shared) {
    vgpu::latency::stamp("program: launch");
    launch(function(host_fn), grid, block, args, shared);
    vgpu::latency::stamp("program: launched");
}

void Runtime::launch(Function& f, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block, void** args,
                     size_t shared) {
    load(*f.module);  // a driver module after a reset, or on another device
    const ptx::KernelInfo& k = *f.info;
    std::vector<uint8_t> buf(k.param_size);
    if (!k.params.empty() && !args)
        throw CudaError(cudaErrorInvalidValue, "launch of '" + f.name + "': no parameters given");
    for (size_t i = 0; i < k.params.size(); i++)
        std::memcpy(buf.data() + k.params[i].offset, args[i], k.params[i].size);
    launch_buffer(f, grid, block, std::move(buf), shared);
}

void Runtime::launch_packed(Function& f, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block,
                            const void* params, size_t size, size_t shared) {
    load(*f.module);
    const ptx::KernelInfo& k = *f.info;
    size_t need = 0;  // the end of the last declared parameter
    for (const auto& p : k.params)
        need = std::max<size_t>(need, p.offset + p.size);
    if (size < need || (need && !params))
        throw CudaError(cudaErrorInvalidValue, "launch of '" + f.name + "': a parameter buffer of " +
                                                   std::to_string(size) + " bytes for " + std::to_string(need) +
                                                   " bytes of parameters");
    std::vector<uint8_t> buf(k.param_size);
    if (need)
        std::memcpy(buf.data(), params, need);
    launch_buffer(f, grid, block, std::move(buf), shared);
}

// Checks the configuration, fills the hidden parameters (local memory,
// the printf buffer) into @buf and queues the launch.
void Runtime::launch_buffer(Function& f, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block,
                            std::vector<uint8_t> buf, size_t shared) {
    const ptx::KernelInfo& k = *f.info;
    uint64_t threads = uint64_t{block[0]} * block[1] * block[2];
    const auto max_grid = max_grid_size(backend().max_grid_x());
    // A grid past maxGridSize is cudaErrorInvalidValue, as NVIDIA's
    // runtime says it (65536 blocks in y: H100, driver 580); an empty
    // grid or a block past its limits cudaErrorInvalidConfiguration.
    for (int i = 0; i < 3; i++)
        if (!grid[i] || !block[i] || grid[i] > max_grid[i] || block[i] > (i == 2 ? 64u : 1024u))
            throw CudaError(grid[i] > max_grid[i] ? cudaErrorInvalidValue : cudaErrorInvalidConfiguration,
                            "launch of '" + f.name + "': grid " + std::to_string(grid[0]) + "x" +
                                std::to_string(grid[1]) + "x" + std::to_string(grid[2]) + ", block " +
                                std::to_string(block[0]) + "x" + std::to_string(block[1]) + "x" +
                                std::to_string(block[2]) +
                                (grid[i] > max_grid[i] ? " (beyond this device's maxGridSize: " +
                                                             std::to_string(max_grid[0]) + " x 65535 x 65535)"
                                                       : std::string()), true);
    if (threads > 1024)
        throw CudaError(cudaErrorInvalidConfiguration, "launch of '" + f.name + "': more than 1024 threads per block");
    uint64_t smem = shared ? uint64_t{k.dynamic_shared_offset} + shared : k.static_shared;
    // The block's shared memory as CUDA counts it leaves out the
    // compiler's own bytes (bar.red's), which the engines' 1 KiB more holds.
    const uint64_t limit = uint64_t{ptx::kProgramShared} + k.reserved_shared;
    bool global_local = false;
    if (k.local_per_thread) {
        // Local memory: a slice per thread after the block's shared memory.
        uint32_t start = static_cast<uint32_t>((smem + 15) & ~uint64_t{15});
        std::memcpy(buf.data() + k.local_param_offset, &start, 4);
        uint64_t slice = k.local_per_thread;
        if (k.call_stack) {
            // Recursion: the call stack takes what the 48 KiB leave (cuda.rst).
            uint64_t room = start < limit ? (limit - start) / threads & ~uint64_t{15} : 0;
            slice = std::max(room, (slice + k.call_stack + 15) & ~uint64_t{15});
            uint32_t s32 = static_cast<uint32_t>(std::min<uint64_t>(slice, UINT32_MAX));
            std::memcpy(buf.data() + k.local_param_offset + 4, &s32, 4);
        }
        bool fits = start + slice * threads <= limit;
        // A call stack in shared memory smaller than CUDA's (cudaLimitStackSize)
        // would overflow where CUDA's does not: global memory gives that.
        if (fits && k.call_stack && k.has_global_local && slice < k.local_per_thread + cur().stack_size)
            fits = false;
        if (fits) {
            smem = start + slice * threads;
        } else if (!k.has_global_local || smem > limit) {
            throw CudaError(cudaErrorInvalidConfiguration,
                            "launch of '" + f.name + "': " + std::to_string(slice) +
                                " bytes of local memory per thread for " + std::to_string(threads) +
                                " threads beside " + std::to_string(start) +
                                " bytes of shared memory: more than 48 KiB is not supported (GPUvm keeps local "
                                "memory in the block's shared memory" +
                                (k.has_global_local ? ")" : "; the module is too large for a variant in global memory)"));
        } else {
            // They do not fit: the kernel's variant with its slices in a
            // buffer of global memory, slots of a slice per thread of a
            // block that the blocks running at once share (ptx_compile.hpp,
            // local_slots_param); a call stack gets cudaLimitStackSize
            // bytes (at least one frame).
            global_local = true;
            slice = k.local_per_thread_global;
            if (k.call_stack)
                slice = (slice + std::max<uint64_t>(cur().stack_size, k.call_stack) + 15) & ~uint64_t{15};
            uint64_t blocks = uint64_t{grid[0]} * grid[1] * grid[2];
            uint64_t block_bytes = slice * threads;
            if (slice >= (uint64_t{1} << 21) || block_bytes > kLocalCap)
                throw CudaError(cudaErrorInvalidConfiguration,
                                "launch of '" + f.name + "': " + std::to_string(slice) +
                                    " bytes of local memory per thread (" + std::to_string(cur().stack_size) +
                                    " of stack) for a block of " + std::to_string(threads) +
                                    " threads: " +
                                    (block_bytes > kLocalCap
                                         ? "more than " + std::to_string(kLocalCap >> 20) +
                                               " MiB of local memory a block is not supported"
                                         : std::string("2 MiB or more of local memory a thread is not supported")));
            uint64_t param = local_slots(f.name, blocks, block_bytes, slice);
            std::memcpy(buf.data() + k.local_param_offset, &param, 8);
        }
    }
    if (smem > limit)
        throw CudaError(cudaErrorInvalidValue, "launch of '" + f.name + "': more than 48 KiB of shared memory");
    Backend& b = backend();
    if (smem > b.max_shared())
        throw CudaError(cudaErrorNotSupported, "launch of '" + f.name + "': " + std::to_string(smem) +
                                                   " bytes of shared memory (with the compiler's own) is not "
                                                   "supported by this vGPU, which gives a block " +
                                                   std::to_string(b.max_shared()) +
                                                   " (a dom0 older than GPUvm's 49 KiB blocks)");
    DeviceState& dev = cur();
    if (k.uses_printf) {
        if (!dev.printf_va) {
            void* cpu = nullptr;
            try {
                dev.printf_va = b.alloc(ptx::kPrintfCapacity, true, &cpu);
            } catch (const OutOfMemory& e) {
                throw CudaError(cudaErrorMemoryAllocation, std::string("printf buffer: ") + e.what());
            }
            dev.printf_cpu = static_cast<uint8_t*>(cpu);
        }
        std::memcpy(buf.data() + k.printf_param_offset, &dev.printf_va, 8);
    }
    LaunchDesc d;
    const Placement& placed = load(*f.module);
    d.code = placed.code_va + (global_local ? k.entry_global : k.entry);
    for (int i = 0; i < 3; i++) {
        d.grid[i] = grid[i];
        d.block[i] = block[i];
    }
    d.shared = static_cast<uint32_t>(smem);
    if (k.param_mode == ptx::ParamMode::Slots) {
        std::memcpy(d.params, buf.data(), buf.size());
    } else if (auto [hva, cpu] = b.host_memory_cheap() ? desc_buffer(buf.size()) : std::pair<uint64_t, uint8_t*>{};
               hva) {
        // Host memory the CPU writes in place, as a PTX descriptor: no
        // copy, no wait for the work before.
        std::memcpy(cpu, buf.data(), buf.size());
        d.params[0] = hva;
    } else {  // a device buffer, written after the work before
        uint64_t pb = param_buffer(buf.size());
        b.write(pb, buf.data(), buf.size());
        d.params[0] = pb;
    }
    // The program's host memory is not at its addresses where the PTX
    // runs itself (engines.rst): then only the ISA.  Nor recursion,
    // unless the device's context gives the PTX cudaLimitStackSize
    // (DRM_VGPU_FEATURE_PTX_STACK, stack_given()); a larger one than
    // the host gives is in the context's own memory, which the ISA's
    // stack slots are: charged to it.
    // (A stack is asked for only where the PTX would otherwise run: its
    // memory is the guest's.)
    const bool stack_ok = !k.call_stack || (placed.ptx_va && !dev.host_allocs && stack_given(dev, b));
    if (placed.ptx_va && !dev.host_allocs && stack_ok)
        name_ptx(d, placed, f, buf, shared, k.call_stack ? static_cast<uint32_t>(dev.stack_size) : 0);
    if (d.ptx_desc && placed.printf_defined && k.uses_printf)  // (GPUvm compiles no indirect call)
        dev.printf_dev_pending = true;  // its records may be in either buffer
    if (!d.ptx_desc && b.translates_isa())
        say_if_isa_refused(f, placed, d.code,
                           !b.runs_ptx()          ? "this engine runs the program's kernels as vgpu ISA only"
                           : !placed.ptx_va       ? "its module's PTX cannot run as itself on GPUvm: it calls "
                                                    "functions outside it, or holds data the runtime cannot place "
                                                    "(cuda.rst)"
                           : dev.host_allocs      ? "the program maps host memory into the GPU"
                           : !stack_ok && !b.ptx_stack()
                               ? "it recurses, and the device gives its PTX no call stack (dom0's GPUvm older "
                                 "than CTX_STACK, or VGPU_PTX_STACK_KB 0 or 1 in vgpu-engined's environment)"
                           : !stack_ok ? "it recurses, and its context was not given cudaLimitStackSize (" +
                                             std::to_string(dev.stack_size) + " bytes: more than the device's " +
                                             std::to_string(b.max_ptx_stack()) +
                                             ", or refused: the client's device-memory quota)"
                                                  : "its parameters or name do not fit a PTX launch descriptor");
    b.launch(d);
}

void Runtime::set_stack_size(size_t bytes) {
    Backend& b = backend();
    DeviceState& d = cur();
    if (b.ptx_stack() && bytes > b.ptx_stack() && bytes <= b.max_ptx_stack()) {
        const int e = b.raise_stack(static_cast<uint32_t>(bytes));
        if (e == EDQUOT || e == ENOMEM || e == ENOSPC)
            throw CudaError(cudaErrorMemoryAllocation,
                            "cudaDeviceSetLimit(cudaLimitStackSize, " + std::to_string(bytes) +
                                "): the device memory that stack holds on every thread of the GPU is past "
                                "this client's quota, or the GPU's (" + std::strerror(e) + ")");
        // Another error (the engine gone): recursion runs the ISA.
        if (!e)
            d.stack_refused = 0;
    }
    d.stack_size = bytes;
}

bool Runtime::stack_given(DeviceState& d, Backend& b) {
    if (!b.ptx_stack())
        return false;
    if (d.stack_size <= b.ptx_stack())
        return true;
    if (d.stack_size > b.max_ptx_stack() || (d.stack_refused && d.stack_size >= d.stack_refused))
        return false;
    if (b.raise_stack(static_cast<uint32_t>(d.stack_size)) == 0)
        return true;
    d.stack_refused = static_cast<uint32_t>(d.stack_size);
    return false;
}

// Where the GPU engine runs kernel @f's ISA (at @code) translated, which
// it does only within the translation's bounds (vgpu::engine::discover(),
// ILLEGAL at the entry past them): says once per kernel and variant,
// naming why its PTX does not run instead (@why), when this ISA is past
// them, since the fault its launches report does not say.  The engine
// decides; this only explains.
void Runtime::say_if_isa_refused(const Function& f, const Placement& pl, uint64_t code, const std::string& why) {
    if (!isa_judged_.emplace(f.info, code - pl.code_va).second)
        return;
    const std::vector<uint64_t>& words = f.module->program.code;
    auto fetch = [&](uint64_t va) -> vgpu::engine::Fetch {
        const uint64_t i = (va - pl.code_va) / 8;
        if (va < pl.code_va || (va - pl.code_va) % 8 || i >= words.size())
            return {0, VGPU_FAULT_UNMAPPED};
        return {words[i], 0};
    };
    const std::string past = vgpu::engine::too_large_why(vgpu::engine::discover(code, fetch));
    if (!past.empty())
        std::fprintf(stderr,
                     "GPUvm CUDA runtime: kernel '%s' runs as vgpu ISA translated for the GPU (%s), and that ISA is "
                     "past what the translation takes (%s): its launches fault (cudaErrorIllegalInstruction)\n",
                     f.name.c_str(), why.c_str(), past.c_str());
}

// Names the kernel's PTX in launch @d (struct drm_vgpu_ptx_launch, in
// host memory the CPU writes in place: no copy, no wait): the text @pl
// holds, the entry, the parameters as the PTX declares them (the first
// bytes of @buf) and @shared bytes of dynamic shared memory.  Where there
// is no room, it is not named (the ISA runs).  @stack: each thread's
// call stack, bytes (0: the engine's default).
void Runtime::name_ptx(LaunchDesc& d, const Placement& pl, const Function& f, const std::vector<uint8_t>& buf,
                       size_t shared, uint32_t stack) {
    size_t need = 0;  // the end of the last declared parameter
    for (const auto& p : f.info->params)
        need = std::max<size_t>(need, p.offset + p.size);
    if (need > DRM_VGPU_PTX_MAX_PARAMS || f.name.size() > DRM_VGPU_PTX_MAX_ENTRY || shared > UINT32_MAX)
        return;
    drm_vgpu_ptx_launch h{};
    h.magic = DRM_VGPU_PTX_MAGIC;
    h.version = DRM_VGPU_PTX_VERSION;
    h.ptx = pl.ptx_va;
    h.ptx_size = pl.ptx_size;
    h.ptx_hash = pl.ptx_hash;
    h.entry_len = static_cast<uint32_t>(f.name.size());
    h.param_size = static_cast<uint32_t>(need);
    h.shared_size = static_cast<uint32_t>(shared);
    h.stack_size = stack;
    const size_t size = sizeof(h) + f.name.size() + need;
    auto [va, cpu] = desc_buffer(size);
    if (!va)
        return;
    std::memcpy(cpu, &h, sizeof(h));
    std::memcpy(cpu + sizeof(h), f.name.data(), f.name.size());
    std::memcpy(cpu + sizeof(h) + f.name.size(), buf.data(), need);
    d.ptx_desc = va;
    d.ptx_desc_size = static_cast<uint32_t>(size);
}

// @size bytes for a launch descriptor, or {0, nullptr} where no host
// memory is left for one.
std::pair<uint64_t, uint8_t*> Runtime::desc_buffer(size_t size) {
    DeviceState& d = cur();
    size = (size + 15) & ~size_t{15};
    if (size > kDescChunk)
        return {0, nullptr};
    if (d.desc_chunk < d.desc_chunks.size() && d.desc_used + size > kDescChunk) {
        d.desc_chunk++;
        d.desc_used = 0;
    }
    if (d.desc_chunk == d.desc_chunks.size()) {
        void* cpu = nullptr;
        try {
            // The GPU reads them; the CPU writes the next while it runs.
            uint64_t va = backend().alloc(kDescChunk, true, &cpu, false, false);
            d.desc_chunks.push_back({va, static_cast<uint8_t*>(cpu)});
        } catch (const std::exception&) {
            return {0, nullptr};
        }
        d.desc_used = 0;
    }
    auto& c = d.desc_chunks[d.desc_chunk];
    std::pair<uint64_t, uint8_t*> r{c.va + d.desc_used, c.cpu + d.desc_used};
    d.desc_used += size;
    return r;
}

void Runtime::synchronize() { synchronize(device()); }

void Runtime::synchronize_at(uint64_t va) {
    int d = device_of(va, 1);
    synchronize(d >= 0 ? d : device());
}

void Runtime::synchronize(int ordinal) {
    vgpu::latency::stamp("program: synchronize");
    Backend& b = backend(ordinal);
    on(ordinal, [](Backend& be) { be.synchronize(); });  // a fault: record_fault drains the printf buffer
    vgpu::latency::stamp("program: synchronized");
    drain_printf(ordinal);
    if (state(ordinal).assert_seen) {  // a kernel's own PTX recorded it and went on: sticky now
        DeviceFault f("a kernel's assertion failed", 0, 0);
        f.set_device(ordinal);
        throw f;
    }
    // The launches that read them are done: their buffers serve again.
    DeviceState& d = state(ordinal);
    d.desc_chunk = d.desc_used = 0;  // the launches that read them are done
    while (d.desc_chunks.size() > 2) {  // the rest go back
        b.free(d.desc_chunks.back().va);
        d.desc_chunks.pop_back();
    }
    d.param_free.insert(d.param_free.end(), d.param_buffers.begin(), d.param_buffers.end());
    d.param_buffers.clear();
    std::sort(d.param_free.begin(), d.param_free.end(), [](auto& a, auto& b) { return a.second < b.second; });
    while (d.param_free.size() > kParamPool) {  // the largest go
        b.free(d.param_free.back().first);
        d.param_free.pop_back();
    }
    recycle_local(d);
}

// After a synchronize: the local-memory buffers serve again, but for the
// largest beyond two or kLocalKeep bytes, which go back to the program.
void Runtime::recycle_local(DeviceState& d) {
    auto& local_free_ = d.local_free;
    auto& local_buffers_ = d.local_buffers;
    local_free_.insert(local_free_.end(), local_buffers_.begin(), local_buffers_.end());
    local_buffers_.clear();
    std::sort(local_free_.begin(), local_free_.end(), [](auto& a, auto& b) { return a.second < b.second; });
    uint64_t kept = 0;
    for (auto& l : local_free_)
        kept += l.second;
    while (!local_free_.empty() && (local_free_.size() > 2 || kept > kLocalKeep)) {
        kept -= local_free_.back().second;
        d.backend->free(local_free_.back().first);
        local_free_.pop_back();
    }
}

std::array<uint32_t, 3> max_grid_size(uint32_t engine_x) {
    auto g = kMaxGridSize;
    g[0] = engine_x ? std::min(engine_x, g[0]) : 65535u;
    return g;
}

// The hidden parameter of a launch of the global variant of @kernel
// (ptx_compile.hpp, local_slots_param): a buffer of slots of @block_bytes
// each, a slot for every one of its @blocks (a power of two at least the
// blocks) within kLocalTarget and 2^kLocalSlotsMaxLog2, fewer where
// memory is short (one is enough: the blocks then take turns); every
// slot free when the launch starts.
uint64_t Runtime::local_slots(const std::string& kernel, uint64_t blocks, uint64_t block_bytes, uint64_t slice) {
    unsigned log2 = 0;
    while (log2 < ptx::kLocalSlotsMaxLog2 && (uint64_t{1} << log2) < blocks &&
           (uint64_t{2} << log2) * block_bytes <= kLocalTarget)
        log2++;
    uint64_t header, va;
    bool fresh = false;
    for (;; log2--) {
        header = ptx::local_slots_header(log2);
        try {
            va = local_buffer(kernel, header + (uint64_t{1} << log2) * block_bytes, fresh);
            break;
        } catch (const CudaError& e) {
            if (!log2 || e.code() != cudaErrorMemoryAllocation)
                throw;
        }
    }
    if (va >> 47 || (va & 4095))  // said: a limit of GPUvm's, not the program's
        throw CudaError(cudaErrorMemoryAllocation, "launch of '" + kernel + "': local memory out of range", true);
    if (!fresh)  // a launch that faulted may have left some taken
        backend().fill(va, header, 0);
    return ptx::local_slots_param(va, log2, slice);
}

// A buffer of @size bytes of global memory for a launch's local memory
// until the next synchronize: a free one that fits or a new one (device
// memory, charged to the program like its own allocations).  When the
// queued launches' buffers would pass kLocalInFlight, or the allocation
// fails, it waits for them first (their errors are this launch's).  Its
// address is a 4 KiB page's (local_slots_param() keeps the slot count
// in the low bits): an allocation may be only 256-byte aligned (a piece
// of a 2 MiB page, suballoc.hpp), so each has a page more than it needs
// and the buffer starts at its first whole page.
uint64_t Runtime::local_buffer(const std::string& kernel, uint64_t size, bool& fresh) {
    constexpr uint64_t kPage = 4096;
    auto aligned = [](uint64_t va) { return (va + kPage - 1) & ~(kPage - 1); };
    size = ((size + kPage - 1) & ~(kPage - 1)) + kPage;
    auto& local_free_ = cur().local_free;
    auto& local_buffers_ = cur().local_buffers;
    uint64_t queued = 0;
    for (auto& l : local_buffers_)
        queued += l.second;
    if (queued + size > kLocalInFlight)
        synchronize();
    for (int attempt = 0;; attempt++) {
        for (auto it = local_free_.begin(); it != local_free_.end(); ++it) {
            if (it->second >= size) {
                auto l = *it;
                local_free_.erase(it);
                local_buffers_.push_back(l);
                fresh = false;
                return aligned(l.first);
            }
        }
        try {
            uint64_t va = backend().alloc(size, false, nullptr);
            local_buffers_.emplace_back(va, size);
            fresh = true;  // zero-filled
            return aligned(va);
        } catch (const OutOfMemory& e) {
            if (attempt || (local_buffers_.empty() && local_free_.empty()))
                throw CudaError(cudaErrorMemoryAllocation,
                                "launch of '" + kernel + "': " + std::to_string(size) +
                                    " bytes of local memory: " + e.what());
        }
        synchronize();  // the queued launches' buffers, then the free ones, go back
        for (auto& l : local_free_)
            backend().free(l.first);
        local_free_.clear();
    }
}

// A parameter buffer of at least @size bytes until the next synchronize:
// a free one of the pool (the smallest that fits) or a new one, in whole
// pages.  A guest's vGPU makes a buffer object per allocation, whose
// pages it grants and dom0 maps: a program that launches a kernel with
// large parameters in a loop (LargeKernelParameter) makes one, not one
// per launch.
uint64_t Runtime::param_buffer(size_t size) {
    uint64_t pb = 0;
    size_t cap = (size + 4095) & ~size_t{4095};
    auto& param_free = cur().param_free;
    for (auto it = param_free.begin(); it != param_free.end(); ++it) {
        if (it->second >= size) {
            std::tie(pb, cap) = *it;
            param_free.erase(it);
            break;
        }
    }
    if (!pb) {
        try {
            pb = backend().alloc(cap, false, nullptr);
        } catch (const OutOfMemory& e) {
            throw CudaError(cudaErrorMemoryAllocation, std::string("a kernel's parameter buffer: ") + e.what());
        }
    }
    cur().param_buffers.emplace_back(pb, cap);
    return pb;
}

uint64_t Runtime::malloc(size_t size, bool host, void** cpu, const void* owner) {
    try {
        uint64_t va = backend().alloc(size, host, cpu);
        cur().allocs[va] = Allocation{size, host, cpu ? *cpu : nullptr, false, owner};
        cur().host_allocs += host;
        if (host && cpu)
            cur().pinned[reinterpret_cast<uintptr_t>(*cpu)] = va;
        return va;
    } catch (const OutOfMemory& e) {
        throw CudaError(cudaErrorMemoryAllocation, e.what());
    }
}

// As CUDA's, cudaFree and cudaFreeHost take memory of any device.
void Runtime::free(uint64_t va) {
    int owner = device_of(va, 1);
    if (owner < 0)
        throw CudaError(cudaErrorInvalidValue, "not a pointer cudaMalloc returned");
    auto& allocs = state(owner).allocs;
    auto it = allocs.find(va);
    if (it == allocs.end() || it->second.host || it->second.module)
        throw CudaError(cudaErrorInvalidValue, "not a pointer cudaMalloc returned");
    on(owner, [&](Backend& b) { b.free(va); });
    allocs.erase(it);
}

void Runtime::free_host(void* cpu) {
    for (size_t i = 0; i < devices_.size(); i++) {
        auto& allocs = devices_[i]->allocs;
        for (auto it = allocs.begin(); it != allocs.end(); ++it) {
            if (it->second.host && it->second.cpu == cpu) {
                on(static_cast<int>(i), [&](Backend& b) { b.free(it->first); });
                devices_[i]->pinned.erase(reinterpret_cast<uintptr_t>(cpu));
                allocs.erase(it);
                devices_[i]->host_allocs--;
                return;
            }
        }
    }
    throw CudaError(cudaErrorInvalidValue, "not a pointer cudaMallocHost returned");
}

std::pair<uint64_t, const Allocation*> Runtime::find(uint64_t va, size_t n) const {
    if (!listed_)
        return {0, nullptr};
    const auto& allocs = cur().allocs;
    auto it = allocs.upper_bound(va);
    if (it == allocs.begin())
        return {0, nullptr};
    --it;
    if (va - it->first > it->second.size || n > it->second.size - (va - it->first))
        return {0, nullptr};
    return {it->first, &it->second};
}

std::optional<uint64_t> Runtime::pinned_va(int dev, const void* cpu, size_t n) const {
    const DeviceState& d = state(dev);
    auto p = reinterpret_cast<uintptr_t>(cpu);
    auto it = d.pinned.upper_bound(p);
    if (!n || it == d.pinned.begin())
        return std::nullopt;
    --it;
    auto a = d.allocs.find(it->second);
    if (a == d.allocs.end() || !a->second.host || reinterpret_cast<uintptr_t>(a->second.cpu) != it->first ||
        p - it->first >= a->second.size)
        return std::nullopt;
    if (n <= a->second.size - (p - it->first))
        return it->second + (p - it->first);
    // Past its end into the next pinned allocation: cudaErrorInvalidValue,
    // as NVIDIA's runtime says of a copy across two pinned allocations
    // side by side (H100, driver 580).  Into other memory: the CPU's copy.
    auto next = std::next(it);
    if (next != d.pinned.end() && next->first - p < n)
        throw CudaError(cudaErrorInvalidValue, std::to_string(n) + " bytes of host memory from one pinned allocation "
                                                                   "into the next");
    return std::nullopt;
}

std::optional<uint64_t> Runtime::device_of_host(const void* cpu) const {
    if (!listed_)
        return std::nullopt;
    return pinned_va(device(), cpu, 1);
}

void Runtime::memset(uint64_t va, int value, size_t n) {
    Backend& b = backend();
    uint32_t pat = static_cast<uint8_t>(value) * 0x01010101u;
    size_t head = std::min(n, static_cast<size_t>((4 - va % 4) % 4));
    size_t body = (n - head) & ~size_t{3};
    size_t tail = n - head - body;
    std::vector<uint8_t> bytes(4, static_cast<uint8_t>(value));
    if (head)
        b.write(va, bytes.data(), head);
    if (body)
        b.fill(va + head, body, pat);
    if (tail)
        b.write(va + head + body, bytes.data(), tail);
}

}  // namespace gpuvm::cudart

namespace gpuvm::cudart {

// A string of the program's device data (a printf format, %s argument,
// assert message): from the module's initial data when it lies there
// (readable even after a fault), else from device memory.
std::string Runtime::device_string(uint64_t va, int ordinal) const {
    for (const auto& m : modules_) {
        auto p = m->placed.find(ordinal);
        if (p == m->placed.end() || va < p->second.data_va || va >= p->second.data_va + m->program.data.size())
            continue;
        const auto& d = m->program.data;
        size_t i = va - p->second.data_va, e = i;
        while (e < d.size() && d[e] && e - i < 4096)
            e++;
        return std::string(reinterpret_cast<const char*>(d.data() + i), e - i);
    }
    char buf[48];
    std::snprintf(buf, sizeof(buf), "(string at 0x%llx)", static_cast<unsigned long long>(va));
    return buf;
}

namespace {

// printf's arguments as CUDA packs them: each aligned to its size.
class ArgReader {
public:
    explicit ArgReader(const uint8_t* p) : p_(p) {}
    bool take(size_t size, uint64_t& v) {
        off_ = (off_ + size - 1) / size * size;
        if (off_ + size > ptx::kPrintfArgBytes)
            return false;
        v = 0;
        std::memcpy(&v, p_ + off_, size);
        off_ += size;
        return true;
    }

    size_t used() const { return off_; }

private:
    const uint8_t* p_;
    size_t off_ = 0;
};

}  // namespace

// The text of one printf record.
// @used: the argument bytes the format read.
static std::string format_record(const std::string& fmt, const uint8_t* args,
                                 const std::function<std::string(uint64_t)>& str, size_t* used = nullptr) {
    std::string out;
    ArgReader r(args);
    for (size_t i = 0; i < fmt.size(); i++) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        size_t j = i + 1;
        while (j < fmt.size() && std::strchr("-+ #0", fmt[j]))
            j++;
        while (j < fmt.size() && (std::isdigit(static_cast<unsigned char>(fmt[j])) || fmt[j] == '.' || fmt[j] == '*'))
            j++;
        std::string len;
        while (j < fmt.size() && std::strchr("hlLzjt", fmt[j]))
            len += fmt[j++];
        if (j >= fmt.size())
            break;
        char conv = fmt[j];
        std::string spec = fmt.substr(i, j - i - len.size());  // "%-08.3"
        i = j;
        bool short_args = false;  // '*' width and precision: int arguments, written into the spec
        for (size_t k; (k = spec.find('*')) != std::string::npos;) {
            uint64_t w;
            if (!r.take(4, w)) {
                short_args = true;
                break;
            }
            int32_t n = static_cast<int32_t>(w);
            if (k > 0 && spec[k - 1] == '.' && n < 0)
                spec.erase(k - 1, 2);  // a negative precision is none (C's rule)
            else if (n < 0)
                spec.replace(k, 1, "-" + std::to_string(-static_cast<int64_t>(n)));
            else
                spec.replace(k, 1, std::to_string(n));
        }
        if (short_args)
            break;
        if (conv == '%') {
            out += '%';
            continue;
        }
        bool wide = len == "l" || len == "ll" || len == "z" || len == "j" || len == "t";
        uint64_t v;
        char tmp[512];
        if (std::strchr("diuxXoc", conv)) {
            if (!r.take(wide ? 8 : 4, v))
                break;
            if (conv == 'c')
                std::snprintf(tmp, sizeof(tmp), (spec + "c").c_str(), static_cast<int>(v));
            else if (conv == 'd' || conv == 'i')
                std::snprintf(tmp, sizeof(tmp), (spec + "lld").c_str(),
                              wide ? static_cast<long long>(v) : static_cast<long long>(static_cast<int32_t>(v)));
            else
                std::snprintf(tmp, sizeof(tmp), (spec + "ll" + conv).c_str(),
                              static_cast<unsigned long long>(wide ? v : static_cast<uint32_t>(v)));
        } else if (std::strchr("fFeEgGaA", conv)) {
            if (!r.take(8, v))
                break;
            double d;
            std::memcpy(&d, &v, 8);
            std::snprintf(tmp, sizeof(tmp), (spec + conv).c_str(), d);
        } else if (conv == 's') {
            if (!r.take(8, v))
                break;
            std::string s = str(v);
            std::snprintf(tmp, sizeof(tmp), (spec + "s").c_str(), s.c_str());
        } else if (conv == 'p') {
            if (!r.take(8, v))
                break;
            std::snprintf(tmp, sizeof(tmp), (spec + "p").c_str(), reinterpret_cast<void*>(v));
        } else {
            tmp[0] = 0;  // %n and unknown conversions print nothing
        }
        out += tmp;
    }
    if (used)
        *used = r.used();
    return out;
}

uint32_t printf_arg_bytes(std::string_view fmt) {
    const uint8_t none[ptx::kPrintfArgBytes] = {};
    size_t used = 0;
    format_record(std::string(fmt), none, [](uint64_t) { return std::string(); }, &used);
    return static_cast<uint32_t>(used);
}

void Runtime::drain_at_exit() {
    for (auto& d : devices_) {
        if (!d->backend || (!d->printf_cpu && !d->printf_dev_pending))
            continue;
        try {
            d->backend->synchronize();  // the kernels still running finish their records
        } catch (const std::exception&) {
        }
        drain_printf(static_cast<int>(&d - devices_.data()));
    }
}

void Runtime::drain_printf() {
    if (listed_)
        drain_printf(device());
}

void Runtime::drain_printf(int ordinal) {
    DeviceState& dev = state(ordinal);
    if (uint8_t* cpu = dev.printf_cpu) {
        uint64_t used;
        std::memcpy(&used, cpu, 8);
        print_records(dev, cpu, used, ordinal);
        std::memset(cpu, 0, 8);
    }
    if (std::exchange(dev.printf_dev_pending, false))
        drain_device_printf(dev, ordinal);
}

// The records of kernels that ran their own PTX, read back from device
// memory.  A context that faulted has none to give (what its kernels
// recorded is lost, and said so).
void Runtime::drain_device_printf(DeviceState& dev, int ordinal) {
    Backend& b = *dev.backend;
    try {
        uint64_t head[2] = {0, 0};  // the count, the assertion's flag word
        static_assert(ptx::kPrintfAssertFlag + 4 <= sizeof(head));
        b.read(dev.printf_dev_va, head, sizeof(head));
        uint32_t asserted;
        std::memcpy(&asserted, reinterpret_cast<const uint8_t*>(head) + ptx::kPrintfAssertFlag, 4);
        dev.assert_seen = dev.assert_seen || asserted;  // kept, whatever fails below
        const uint64_t used = head[0];
        if (!used && !asserted)
            return;
        const uint64_t room = ptx::kPrintfCapacity - ptx::kPrintfHeader;
        const uint64_t n = std::min(used, room - room % ptx::kPrintfRecord) / ptx::kPrintfRecord;
        std::vector<uint8_t> buf(ptx::kPrintfHeader + n * ptx::kPrintfRecord);
        if (n)
            b.read(dev.printf_dev_va + ptx::kPrintfHeader, buf.data() + ptx::kPrintfHeader, n * ptx::kPrintfRecord);
        const uint64_t zero[2] = {0, 0};
        b.write(dev.printf_dev_va, zero, sizeof(zero));
        print_records(dev, buf.data(), used, ordinal);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "GPUvm CUDA runtime: what kernels printed in their own PTX is lost: %s\n", e.what());
    }
}

// Prints the records of a printf buffer at @buf whose count is @used.
void Runtime::print_records(DeviceState& dev, const uint8_t* buf, uint64_t used, int ordinal) {
    if (!used)
        return;
    auto device_string = [&](uint64_t va) { return this->device_string(va, ordinal); };
    uint64_t room = ptx::kPrintfCapacity - ptx::kPrintfHeader;
    uint64_t n = std::min(used, room - room % ptx::kPrintfRecord) / ptx::kPrintfRecord;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t* rec = buf + ptx::kPrintfHeader + i * ptx::kPrintfRecord;
        uint32_t kind;
        uint64_t str;
        std::memcpy(&kind, rec, 4);
        std::memcpy(&str, rec + 8, 8);
        if (kind == 1) {
            std::fputs(format_record(device_string(str), rec + 16, device_string).c_str(), stdout);
        } else if (kind == 2) {
            uint64_t file, line, fn;
            uint32_t id[6];
            std::memcpy(&file, rec + 16, 8);
            std::memcpy(&line, rec + 24, 8);
            std::memcpy(&fn, rec + 32, 8);
            std::memcpy(id, rec + 40, sizeof(id));
            std::fflush(stdout);
            std::fprintf(stderr, "%s:%u: %s: block: [%u,%u,%u], thread: [%u,%u,%u] Assertion `%s` failed.\n",
                         device_string(file).c_str(), static_cast<unsigned>(line), device_string(fn).c_str(), id[0],
                         id[1], id[2], id[3], id[4], id[5], device_string(str).c_str());
            dev.assert_seen = true;
        }
    }
    std::fflush(stdout);
    if (used > n * ptx::kPrintfRecord)
        std::fprintf(stderr, "GPUvm CUDA runtime: the printf buffer was full: %llu records lost\n",
                     static_cast<unsigned long long>((used - n * ptx::kPrintfRecord) / ptx::kPrintfRecord));
}

}  // namespace gpuvm::cudart
