// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// cuda_api.hpp - the part of the CUDA driver API vgpu-engined uses,
// loaded at run time from libcuda.so.1, so that the program builds and
// runs (with its other back end) where there is no CUDA and no GPU.  The
// types and constants are the driver API's ABI (cuda.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <utility>

namespace vgpu::engine::cu {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
using CUcontext = CUctx_st*;
using CUmodule = CUmod_st*;
using CUfunction = CUfunc_st*;
using CUstream = CUstream_st*;
using CUevent = CUevent_st*;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NOT_READY = 600;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR = 39;
constexpr int kLimitStackSize = 0;  // CU_LIMIT_STACK_SIZE
constexpr int CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33;
constexpr int CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID = 34;
constexpr int CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING = 41;
// The GPU reaches the process's pageable memory (HMM, ATS).
constexpr int CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS = 88;
constexpr int CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES = 100;
constexpr int CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID = 50;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr unsigned CU_MEMHOSTALLOC_PORTABLE = 0x01, CU_MEMHOSTALLOC_DEVICEMAP = 0x02;
constexpr unsigned CU_MEMHOSTREGISTER_PORTABLE = 0x01, CU_MEMHOSTREGISTER_DEVICEMAP = 0x02;
constexpr unsigned CU_STREAM_NON_BLOCKING = 0x1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 0x2;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3;
constexpr int CU_JIT_THREADS_PER_BLOCK = 1;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

// The virtual memory management API (cuMemCreate and its kin): memory
// whose allocation a process exports as a descriptor and another maps
// (the engine process and its workers, router.hpp).
using CUmemGenericAllocationHandle = unsigned long long;
constexpr int CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR = 1;
constexpr int CU_MEM_ALLOCATION_TYPE_PINNED = 1;
constexpr int CU_MEM_LOCATION_TYPE_DEVICE = 1;
constexpr int CU_MEM_ACCESS_FLAGS_PROT_READ = 1;
constexpr int CU_MEM_ACCESS_FLAGS_PROT_READWRITE = 3;
// cuLaunchKernel's @extra: the parameters as one buffer.
inline void* const CU_LAUNCH_PARAM_END = nullptr;
inline void* const CU_LAUNCH_PARAM_BUFFER_POINTER = reinterpret_cast<void*>(1);
inline void* const CU_LAUNCH_PARAM_BUFFER_SIZE = reinterpret_cast<void*>(2);
constexpr int CU_MEM_ALLOC_GRANULARITY_MINIMUM = 0;
struct CUmemLocation {
    int type;
    int id;
};
struct CUmemAllocationProp {
    int type;
    int requestedHandleTypes;
    CUmemLocation location;
    void* win32HandleMetaData;
    struct {
        unsigned char compressionType;
        unsigned char gpuDirectRDMACapable;
        unsigned short usage;
        unsigned char reserved[4];
    } allocFlags;
};
static_assert(sizeof(CUmemAllocationProp) == 32);
struct CUmemAccessDesc {
    CUmemLocation location;
    int flags;
};

// Function table; the names are the driver's (versioned where it has _v2).
struct Api {
    CUresult (*Init)(unsigned);
    CUresult (*DeviceGet)(CUdevice*, int);
    CUresult (*DeviceGetCount)(int*);
    CUresult (*DeviceGetName)(char*, int, CUdevice);
    CUresult (*DeviceGetAttribute)(int*, int, CUdevice);
    CUresult (*DeviceGetPCIBusId)(char*, int, CUdevice);
    CUresult (*DevicePrimaryCtxRetain)(CUcontext*, CUdevice);
    CUresult (*DevicePrimaryCtxRelease)(CUdevice);
    CUresult (*CtxSetCurrent)(CUcontext);
    CUresult (*CtxSynchronize)();
    CUresult (*MemAlloc)(CUdeviceptr*, size_t);
    CUresult (*MemFree)(CUdeviceptr);
    CUresult (*MemcpyHtoD)(CUdeviceptr, const void*, size_t);
    CUresult (*MemcpyDtoH)(void*, CUdeviceptr, size_t);
    CUresult (*MemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
    CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void*, size_t, CUstream);
    CUresult (*MemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
    CUresult (*MemsetD8)(CUdeviceptr, unsigned char, size_t);
    CUresult (*MemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
    CUresult (*MemHostAlloc)(void**, size_t, unsigned);
    CUresult (*MemFreeHost)(void*);
    CUresult (*MemHostGetDevicePointer)(CUdeviceptr*, void*, unsigned);
    CUresult (*MemHostRegister)(void*, size_t, unsigned);
    CUresult (*MemHostUnregister)(void*);
    CUresult (*ModuleLoadDataEx)(CUmodule*, const void*, unsigned, int*, void**);
    CUresult (*ModuleGetFunction)(CUfunction*, CUmodule, const char*);
    // Optional (CUDA 12.4+, else null): loads a function's code now, which
    // lazy loading (CUDA_MODULE_LOADING=LAZY, the default since 12.2)
    // would otherwise do in the first launch.
    CUresult (*FuncLoad)(CUfunction);
    // A block's shared memory beyond 48 KiB (VGPU_MAX_SHARED) must be asked for.
    CUresult (*FuncSetAttribute)(CUfunction, int, int);
    CUresult (*FuncGetAttribute)(int*, int, CUfunction);
    // kLimitStackSize: a thread's call stack, bytes.
    CUresult (*CtxSetLimit)(int, size_t);
    CUresult (*ModuleUnload)(CUmodule);
    CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             CUstream, void**, void**);
    CUresult (*StreamCreate)(CUstream*, unsigned);
    CUresult (*StreamDestroy)(CUstream);
    CUresult (*StreamQuery)(CUstream);
    CUresult (*StreamSynchronize)(CUstream);
    CUresult (*EventCreate)(CUevent*, unsigned);
    CUresult (*EventDestroy)(CUevent);
    CUresult (*EventRecord)(CUevent, CUstream);
    CUresult (*StreamWaitEvent)(CUstream, CUevent, unsigned);
    CUresult (*EventSynchronize)(CUevent);
    CUresult (*EventElapsedTime)(float*, CUevent, CUevent);
    CUresult (*GetErrorString)(CUresult, const char**);
    CUresult (*MemCreate)(CUmemGenericAllocationHandle*, size_t, const CUmemAllocationProp*, unsigned long long);
    CUresult (*MemRelease)(CUmemGenericAllocationHandle);
    CUresult (*MemExportToShareableHandle)(void*, CUmemGenericAllocationHandle, int, unsigned long long);
    CUresult (*MemImportFromShareableHandle)(CUmemGenericAllocationHandle*, void*, int);
    CUresult (*MemAddressReserve)(CUdeviceptr*, size_t, size_t, CUdeviceptr, unsigned long long);
    CUresult (*MemAddressFree)(CUdeviceptr, size_t);
    CUresult (*MemMap)(CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle, unsigned long long);
    CUresult (*MemUnmap)(CUdeviceptr, size_t);
    CUresult (*MemSetAccess)(CUdeviceptr, size_t, const CUmemAccessDesc*, size_t);
    CUresult (*MemGetAllocationGranularity)(size_t*, const CUmemAllocationProp*, int);
};

// Loads libcuda.so.1 once; throws vgpu::engine::Unavailable without it.
const Api& api();
// "cuFoo: CUDA_ERROR_..." for messages, named by the table last loaded
// or given to a back end (the code alone before either).
std::string error(const char* what, CUresult r);
void name_errors_with(const Api* a);
// Throws std::runtime_error with error() unless @r is CUDA_SUCCESS.
void check(const char* what, CUresult r);

// An owned driver handle: @Release runs once, through the table it was
// made with, when the owner goes (also when a constructor throws after
// making it).  Move-only; a null handle (H{}) owns nothing.
template <typename H, CUresult (*Api::*Release)(H)>
class Owned {
public:
    explicit Owned(const Api& a) : api_(&a) {}
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    Owned(Owned&& o) noexcept : api_(o.api_), h_(std::exchange(o.h_, H{})) {}
    Owned& operator=(Owned&& o) noexcept {
        if (this != &o) {
            reset();
            api_ = o.api_;
            h_ = std::exchange(o.h_, H{});
        }
        return *this;
    }
    ~Owned() { reset(); }
    H get() const { return h_; }
    explicit operator bool() const { return h_ != H{}; }
    // Where a create call writes the handle (releasing any held before).
    H* out() {
        reset();
        return &h_;
    }
    void reset() {
        if (api_ && h_ != H{})
            (api_->*Release)(h_);
        h_ = H{};
    }

private:
    const Api* api_ = nullptr;
    H h_{};
};
using DeviceMem = Owned<CUdeviceptr, &Api::MemFree>;
using HostMem = Owned<void*, &Api::MemFreeHost>;
using Stream = Owned<CUstream, &Api::StreamDestroy>;
using Event = Owned<CUevent, &Api::EventDestroy>;

// The device's primary context, retained (and made current) for the
// owner's life.
class PrimaryContext {
public:
    PrimaryContext(const Api& a, CUdevice dev) : api_(a), dev_(dev) {
        check("cuDevicePrimaryCtxRetain", a.DevicePrimaryCtxRetain(&ctx_, dev));
        retained_ = true;
        CUresult r = a.CtxSetCurrent(ctx_);
        if (r != CUDA_SUCCESS) {
            release();  // no destructor for a constructor that throws
            check("cuCtxSetCurrent", r);
        }
    }
    PrimaryContext(const PrimaryContext&) = delete;
    PrimaryContext& operator=(const PrimaryContext&) = delete;
    ~PrimaryContext() { release(); }
    CUcontext get() const { return ctx_; }

private:
    void release() {
        if (retained_)
            api_.DevicePrimaryCtxRelease(dev_);
        retained_ = false;
    }
    const Api& api_;
    CUdevice dev_;
    CUcontext ctx_ = nullptr;
    bool retained_ = false;
};

// Allocations of the virtual memory API (cuMemCreate, or imported from
// descriptors), @piece bytes each, mapped read-write for @dev one after
// the other in this process's GPU addresses: reserved, mapped, access
// set, undone in reverse when the owner goes.  The mapping holds the
// allocations (their handles may be released).  Throws
// std::runtime_error.
class Mapping {
public:
    Mapping(const Api& a, CUmemGenericAllocationHandle h, size_t size, CUdevice dev)
        : Mapping(a, std::vector<CUmemGenericAllocationHandle>{h}, size, dev) {}
    Mapping(const Api& a, const std::vector<CUmemGenericAllocationHandle>& pieces, size_t piece, CUdevice dev);
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();
    CUdeviceptr get() const { return va_; }
    size_t size() const { return size_; }

private:
    void release();
    const Api& api_;
    CUdeviceptr va_ = 0;
    size_t size_, piece_;
    size_t mapped_ = 0;  // pieces mapped
};

// GPU addresses [@start, @start + @size) reserved at exactly that place
// (the driver takes the address as a hint: another place is refused and
// given back).  Throws std::runtime_error.
class Reservation {
public:
    Reservation(const Api& a, CUdeviceptr start, size_t size);
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { api_.MemAddressFree(va_, size_); }
    CUdeviceptr get() const { return va_; }
    size_t size() const { return size_; }

private:
    const Api& api_;
    CUdeviceptr va_ = 0;
    size_t size_;
};

// CUDA device @gpu, its name in *@name.  Throws Unavailable if there is
// none of that index.
CUdevice device(const Api& a, int gpu, std::string* name);

// The PCI address of @dev as Linux writes it ("0000:3b:00.1": lower
// case, the function kept), "" if the driver's is not of that form.
std::string pci_of(const Api& a, CUdevice dev);

constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED = 712;

// For tests: a CUDA back end's page-table roots by context and the
// table pages its pool holds free (GPU addresses).
struct Debug {
    std::map<uint64_t, uint64_t> roots;
    std::set<uint64_t> pool_free;
};

}  // namespace vgpu::engine::cu

namespace vgpu::engine {

class Backend;
// The CUDA back end over the function table @api (make_cuda_backend()
// passes cu::api(); tests a fake driver, tools/tests/fake_cuda.hpp).
// Throws Unavailable where the device cannot be used.
std::unique_ptr<Backend> make_cuda_backend(const cu::Api& api, uint64_t mem_size, int device);

namespace cu {
// What cu::Debug says of @b, a CUDA back end (empty for another).
Debug debug(const Backend& b);
}  // namespace cu

}  // namespace vgpu::engine
