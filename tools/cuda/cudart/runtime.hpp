// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// runtime.hpp - the state GPUvm's CUDA libraries share in a process: the
// modules a program registered (its fatbinaries, compiled from their PTX
// to vgpu ISA when first used) or loaded through the driver API, its
// kernels and variables, its device memory, the launch configurations of
// <<<...>>>, and the sticky error.  It lives in libcuda.so.1 (GPUvm's
// driver API, tools/cuda/driver), which exports it to libcudart.so.13
// under the private symbol version GPUVM_CUDA_1: both APIs of one program
// see the same memory and modules, as NVIDIA's runtime sits on its driver.
// api.cpp (the runtime API) and driver/*.cpp (the driver API) turn calls
// into calls of Runtime; every call runs under one lock (the runtime is
// thread-safe, not concurrent).
//
// Several devices (backend.hpp, list_devices): each has a DeviceState of
// its own (its backend, opened on first use, its memory, buffers, printf
// buffer and sticky error) and each module is placed on a device when
// first used there.  The calling thread's current device (set_device:
// cudaSetDevice, or the device of the driver's current context) is the
// one every call acts on.  Registrations, streams and events are the
// process's.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "ptx_compile.hpp"

struct cudaDeviceProp;  // cuda_runtime_api.h

namespace gpuvm::cudart {

// The bytes of arguments printf's format @fmt reads from its argument
// buffer (CUDA's layout: each argument aligned to its size), at most
// ptx::kPrintfArgBytes: as the runtime prints a record.
uint32_t printf_arg_bytes(std::string_view fmt);

// Blocks in a grid, per dimension, as CUDA allows them and the engines
// run them (VGPU_MAX_GRID_DIM_X, VGPU_MAX_GRID_DIM); a device's
// maxGridSize in x is the smaller of this and its back end's
// (Backend::max_grid_x: a dom0 older than 2^31-1 takes 65535).
inline constexpr std::array<uint32_t, 3> kMaxGridSize = {0x7fffffff, 65535, 65535};
// @engine_x: Backend::max_grid_x (0: a dom0 older than it, 65535).
std::array<uint32_t, 3> max_grid_size(uint32_t engine_x);

// A CUDA error, as cudaError_t's value, with the reason logged once.
class CudaError : public std::runtime_error {
public:
    // @said: the front ends print @what (a limit of GPUvm's the program
    // could not know of), as they do for every cudaErrorNotSupported.
    CudaError(int code, const std::string& what, bool said = false)
        : std::runtime_error(what), code_(code), said_(said) {}
    int code() const { return code_; }
    bool said() const { return said_; }

private:
    int code_;
    bool said_;
};

struct Function;

// Where a module lies on one device.
struct Placement {
    uint64_t code_va = 0, data_va = 0;
    // The module's PTX in the device's memory, NUL-terminated, where the
    // device runs PTX itself and the module may (Module::native_ptx).
    uint64_t ptx_va = 0, ptx_size = 0, ptx_hash = 0;
    // That text has printf and assert defined to write the device's
    // printf_dev_va buffer (Runtime::define_printf()).
    bool printf_defined = false;
};

struct Module {
    const void* wrapper = nullptr;    // the program's __fatbinwrap (registered modules)
    std::string ptx;                  // driver modules: the PTX cuModuleLoadData took
    const void* owner = nullptr;      // driver modules: the context that loaded it
    bool compiled = false;            // program holds the compiled PTX
    int load_error = 0;               // cudaError_t of a failed load, sticky
    ptx::Program program;
    // The PTX a device may run itself instead of the ISA compiled from it
    // (runtime.cpp, may_run_as_itself(); its variables placed at each
    // device's addresses by place_ptx()); empty where only the ISA
    // computes what the program expects.
    std::string native_ptx;
    std::map<int, Placement> placed;  // by device ordinal
    // cuModuleGetFunction's handles, made on first request.
    std::map<std::string, std::unique_ptr<Function>> by_name;
};

struct Function {
    Module* module = nullptr;
    std::string name;
    const ptx::KernelInfo* info = nullptr;  // once the module is loaded
};

struct Variable {
    Module* module = nullptr;
    std::string name;
    size_t size = 0;
};

struct Allocation {
    size_t size = 0;
    bool host = false;   // cudaMallocHost / cudaHostAlloc
    void* cpu = nullptr;
    bool module = false; // a module's data (its __device__ variables): not for cudaFree
    const void* owner = nullptr;  // the driver context that allocated it; nullptr: the primary one
};

// An event of either API (cudaEvent_t and CUevent are its address):
// times on the host, after waiting for the work before it.
struct Event {
    std::chrono::steady_clock::time_point t;
    bool recorded = false;
};

struct LaunchConfig {
    std::array<uint32_t, 3> grid{1, 1, 1}, block{1, 1, 1};
    size_t shared = 0;
    void* stream = nullptr;
};

// One device's part of the runtime.
struct DeviceState {
    std::unique_ptr<Backend> backend;  // opened on first use
    std::map<uint64_t, Allocation> allocs;
    // Kernel parameter buffers (address, bytes): those of the launches
    // queued since the last synchronize, and the pool of free ones that
    // launches take again; local memory in global memory likewise.
    std::vector<std::pair<uint64_t, size_t>> param_buffers, param_free;
    std::vector<std::pair<uint64_t, size_t>> local_buffers, local_free;
    int sticky = 0;
    uint64_t printf_va = 0;  // device printf's buffer (host memory the GPU maps)
    // The program's host memory mapped into the GPU (cudaMallocHost,
    // cudaHostAlloc): a kernel's own PTX would not reach it (the engine
    // maps device memory only at the program's addresses).
    uint64_t host_allocs = 0;
    // Those allocations by their CPU address (the key) and GPU address:
    // a copy between one of them and device memory is the engine's
    // (Runtime::pinned_va), not staged by the CPU.
    std::map<uintptr_t, uint64_t> pinned;
    // Launch descriptors (name_ptx()): host memory the CPU writes in
    // place, chunks handed out in order, all free again at synchronize.
    struct DescChunk {
        uint64_t va;
        uint8_t* cpu;
    };
    std::vector<DescChunk> desc_chunks;
    size_t desc_chunk = 0, desc_used = 0;  // the chunk in use, bytes of it used
    uint8_t* printf_cpu = nullptr;
    // The buffer of kernels that run their own PTX (device memory, which
    // that PTX reaches at its address: ptx_printf.hpp), made when a
    // module calling printf or assert is placed; pending: a launch that
    // named such PTX since it was last read back.
    uint64_t printf_dev_va = 0;
    bool printf_dev_pending = false;
    bool assert_seen = false;
    // cudaLimitStackSize of this device's context (Runtime::set_stack_size).
    size_t stack_size = 1024;
    // The smallest call stack this device's context was refused
    // (Backend::raise_stack(); 0: none): not asked again at launches.
    uint32_t stack_refused = 0;
};

class Runtime {
public:
    static Runtime& get();
    std::mutex& lock() { return mu_; }

    // Registration (__cudaRegister*): no device work.
    Module* register_module(const void* wrapper);
    void unregister_module(Module* m);
    void register_function(Module* m, const void* host_fn, const char* name);
    void register_variable(Module* m, const void* host_var, const char* name, size_t size);

    // The devices (listed on first call; CudaError(cudaErrorNoDevice)
    // when listing fails).
    int device_count();
    // The calling thread's current device (0 until set_device).
    int device() const;
    // CudaError(cudaErrorInvalidDevice) for an ordinal out of range.
    void set_device(int ordinal);
    void check_device(int ordinal);
    Backend& backend();         // the current device's, opened on first use
    Backend& backend(int ordinal);
    bool has_backend() const;   // the current device is open
    bool is_open(int ordinal) const;
    // The backend's name for it, with its ordinal where there are several.
    std::string device_name(int ordinal);
    void reset();               // cudaDeviceReset: the current device
    void reset(int ordinal);
    // The opened device whose memory holds [va, va + n), or -1.
    int device_of(uint64_t va, size_t n) const;
    // CudaError(cudaErrorInvalidValue) naming @what when [va, va + n) is
    // another device's memory (memset: GPUvm's devices have no peer
    // access).
    void refuse_foreign(uint64_t va, size_t n, const std::string& what) const;
    // cudaMemcpyPeer: @n bytes from device @src_dev's @src to device
    // @dst_dev's @dst, staged through the host.
    void copy_peer(uint64_t dst, int dst_dev, uint64_t src, int src_dev, size_t n);
    // Copies of both APIs, as CUDA's unified addressing has them: each
    // side is the memory of the device its address names, current or
    // not (CudaError(cudaErrorInvalidValue) naming @what for an address
    // no device's); between two devices, staged through the host.
    void write(uint64_t dst, const void* src, size_t n);
    void read(void* dst, uint64_t src, size_t n);
    void copy(uint64_t dst, uint64_t src, size_t n);
    // @f(backend) of device @ordinal; a fault it meets names that device.
    template <typename F>
    decltype(auto) on(int ordinal, F&& f) {
        try {
            return f(backend(ordinal));
        } catch (DeviceFault& e) {
            e.set_device(ordinal);
            throw;
        }
    }
    // A fault reached an entry point: what the faulted device printed is
    // drained, and its error (cudaErrorAssert when a kernel's assert
    // failed) becomes that device's sticky error.  Returns the error.
    int record_fault(const DeviceFault& e);
    Function& function(const void* host_fn);
    // Device address and size of a registered variable (loads its module).
    std::pair<uint64_t, size_t> symbol(const void* host_var);
    void launch(const void* host_fn, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block, void** args,
                size_t shared);
    // A launch of @f with its parameters as CUDA lays them out (@params,
    // @size bytes: cuLaunchKernel's CU_LAUNCH_PARAM_BUFFER_POINTER).
    void launch_packed(Function& f, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block,
                       const void* params, size_t size, size_t shared);
    void launch(Function& f, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block, void** args,
                size_t shared);

    // The driver API's modules: compiled and loaded at once (CudaError
    // on bad or unsupported PTX), freed by unload_module.
    Module* load_module(std::string ptx, const void* owner);
    bool is_module(const Module* m) const;
    // @handle as a function module_function gave out, or nullptr.
    Function* find_function(const void* handle) const;
    void unload_module(Module* m);
    Function& module_function(Module& m, const std::string& name);
    std::pair<uint64_t, size_t> module_global(Module& m, const std::string& name);
    // A driver context is destroyed: its memory and modules go.
    void release_owner(const void* owner);

    uint64_t malloc(size_t size, bool host, void** cpu, const void* owner = nullptr);
    void free(uint64_t va);
    void free_host(void* cpu);
    // The allocation that contains [va, va + n), or nullptr.
    std::pair<uint64_t, const Allocation*> find(uint64_t va, size_t n) const;
    std::optional<uint64_t> device_of_host(const void* cpu) const;
    // The GPU address of @n bytes at @cpu when they lie within one
    // cudaMallocHost / cudaHostAlloc allocation of device @dev; throws
    // CudaError (cudaErrorInvalidValue) when they run from one into the
    // next, as NVIDIA's runtime refuses them.
    std::optional<uint64_t> pinned_va(int dev, const void* cpu, size_t n) const;
    void memset(uint64_t va, int value, size_t n);

    // Streams and events of both APIs (a cudaStream_t is a CUstream, as
    // with NVIDIA's libraries).  A stream is a name: everything runs in
    // one ordered queue.  nullptr, CU_STREAM_LEGACY (1) and
    // CU_STREAM_PER_THREAD (2) are streams too.  A stream is its
    // device's: synchronizing it waits for that device.
    const void* create_stream();
    bool destroy_stream(const void* s) { return streams_.erase(s) > 0; }
    bool is_stream(const void* s) const {
        return reinterpret_cast<uintptr_t>(s) <= 2 || streams_.count(s) > 0;
    }
    Event* create_event();
    bool destroy_event(const void* e) { return events_.erase(e) > 0; }
    Event* event(const void* e) {
        auto it = events_.find(e);
        return it == events_.end() ? nullptr : it->second.get();
    }
    // The device a stream was created on (the current one for the
    // default streams).
    int stream_device(const void* s) const;
    // The same, checked: CudaError(cudaErrorInvalidResourceHandle), which
    // the driver API returns as CUDA_ERROR_INVALID_HANDLE.
    void check_stream(const void* s) const;
    Event& event_of(const void* e);

    // The launch configuration stack of <<<...>>>.
    std::vector<LaunchConfig>& configs() { return configs_; }

    // Waits for the current device's (or @ordinal's) queued work; frees
    // the parameter buffers of finished launches.
    void synchronize();
    void synchronize(int ordinal);
    // Waits for the device whose memory @va is (the current one if none's).
    void synchronize_at(uint64_t va);
    // cudaLimitStackSize: the call stack of a recursive kernel, in its
    // slice of local memory (runtime.cpp, local_buffer) where its ISA
    // runs, given by the device's context where its PTX runs: raised on
    // the current device's context at once, as NVIDIA's driver reserves
    // it, its memory charged to the client (CudaError
    // cudaErrorMemoryAllocation past the quota, the limit unchanged).
    void set_stack_size(size_t bytes);
    size_t stack_size() const { return listed_ ? cur().stack_size : 1024; }

    // Prints what the kernels printed (device printf, a failed assert's
    // message) since the last time.
    void drain_printf();
    void drain_at_exit();  // waits for the GPU first
    int sticky() const;  // the current device's
    // The current device's buffer of printf and assert for kernels that
    // run their own PTX (0: none yet): for tests and diagnostics.
    uint64_t printf_device_buffer() const { return listed_ ? cur().printf_dev_va : 0; }

private:
    // @n bytes from @src to @dst, both GPU addresses of device @dev: one
    // engine COPY after the work before it, waited for.
    void engine_copy(int dev, uint64_t dst, uint64_t src, size_t n);

    std::mutex mu_;
    std::optional<DeviceList> listed_;
    std::vector<std::unique_ptr<DeviceState>> devices_;  // by ordinal
    std::vector<std::unique_ptr<Module>> modules_;
    // Unloaded driver modules, emptied but kept: their addresses (and
    // their functions') are never handed out again, so a stale handle
    // fails instead of naming another module.
    std::vector<std::unique_ptr<Module>> dead_modules_;
    std::map<const void*, Function> functions_;
    std::map<const void*, Variable> variables_;
    // The parameter buffers kept free per device, smallest first.
    static constexpr size_t kParamPool = 8;
    // Local memory in global memory (launches whose slices do not fit in
    // the block's shared memory): those of the queued launches, and a
    // few free ones (kLocalKeep bytes at most) to reuse.
    static constexpr uint64_t kLocalCap = uint64_t{512} << 20;      // a block's
    static constexpr uint64_t kLocalTarget = uint64_t{256} << 20;   // a launch's slots
    static constexpr uint64_t kLocalInFlight = uint64_t{1} << 30;    // queued at once
    static constexpr uint64_t kLocalKeep = uint64_t{64} << 20;
    // The kernels (and their variant's entry) say_if_isa_refused() judged.
    std::set<std::pair<const ptx::KernelInfo*, uint64_t>> isa_judged_;
    std::vector<LaunchConfig> configs_;
    std::map<const void*, std::unique_ptr<int>> streams_;   // by handle: its device
    std::map<const void*, std::unique_ptr<Event>> events_;   // by handle

    DeviceState& cur() const { return state(device()); }
    DeviceState& state(int ordinal) const;  // ordinal checked already
    // Whether the context of device @d (backend @b) gives a launch's PTX
    // its cudaLimitStackSize (DeviceState::stack_size).
    bool stack_given(DeviceState& d, Backend& b);
    void drain_printf(int ordinal);
    // The module compiled and placed on the current device.
    Placement& load(Module& m);
    void compile(Module& m);
    void quiesce();
    uint64_t param_buffer(size_t size);
    void place_ptx(const Module& m, Placement& p);
    std::pair<uint64_t, uint8_t*> desc_buffer(size_t size);
    // The PTX of module @m defined to append printf's and assert's
    // records to this device's buffer for it (made on first use); false
    // where it cannot be (the ISA runs).
    bool define_printf(const Module& m, Placement& p, std::string& text);
    void drain_device_printf(DeviceState& dev, int ordinal);
    void print_records(DeviceState& dev, const uint8_t* buf, uint64_t used, int ordinal);
    void say_if_isa_refused(const Function& f, const Placement& pl, uint64_t code, const std::string& why);
    void name_ptx(LaunchDesc& d, const Placement& pl, const Function& f, const std::vector<uint8_t>& buf,
                  size_t shared, uint32_t stack);
    uint64_t local_buffer(const std::string& kernel, uint64_t size, bool& fresh);
    uint64_t local_slots(const std::string& kernel, uint64_t blocks, uint64_t block_bytes, uint64_t slice);
    void recycle_local(DeviceState& d);
    void free_quietly(DeviceState& d, uint64_t va);
    // The device whose memory holds [va, va + n), else CudaError
    // (cudaErrorInvalidValue) naming @what.
    int owner(uint64_t va, size_t n, const char* what) const;
    void launch_buffer(Function& f, std::array<uint32_t, 3> grid, std::array<uint32_t, 3> block,
                       std::vector<uint8_t> buf, size_t shared);
    std::string device_string(uint64_t va, int ordinal) const;
};

// "GPUvm CUDA @api: @fn is not supported", once per process and @fn.
void say_unsupported_once(const char* api, const std::string& fn);

// The cudaError_t of a fault of the GPU (the ISA's fault kinds).
int fault_error(const DeviceFault& f);

// device.cpp: what the vGPU tells a program about itself (honest
// values: compute capability 7.5, one multiprocessor, 48 KiB of shared
// memory), for cudaGetDeviceProperties and both APIs' attribute queries
// (cudaDeviceAttr and CUdevice_attribute share their values).
void fill_properties(Runtime& rt, cudaDeviceProp& p, int device);
int attribute(Runtime& rt, int attr, int device);  // CudaError(cudaErrorNotSupported) for others
// Blocks of @k resident on one multiprocessor with @block threads and
// @dynamic bytes of dynamic shared memory (the occupancy queries).
int occupancy(const ptx::KernelInfo& k, int block, size_t dynamic);

// errors.cpp: cudaGetErrorName and cudaGetErrorString.
const char* error_name(int e);
const char* error_string(int e);

}  // namespace gpuvm::cudart

namespace gpuvm::cudriver {
// driver/context.cpp: a runtime API call reached the device on this
// thread: the driver API counts as initialised and, if no context is
// current here, the primary one becomes current, as NVIDIA's runtime
// does.  Runtime::lock() held.
void runtime_entered();
// cudaSetDevice(@ordinal) on this thread: a current context becomes that
// device's primary one.  Runtime::lock() held.
void runtime_set_device(int ordinal);
}  // namespace gpuvm::cudriver
