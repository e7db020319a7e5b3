// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// cuda_api.cpp - libcuda.so.1 loaded at run time (see cuda_api.hpp).
#include "cuda_api.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.hpp"

namespace vgpu::engine::cu {
namespace {

std::atomic<const Api*> g_named{nullptr};  // names error codes

template <typename F>
void sym(void* lib, F& f, const char* name) {
    f = reinterpret_cast<F>(dlsym(lib, name));
    if (!f)
        throw Unavailable(std::string("libcuda.so.1 lacks ") + name);
}

// Where NVIDIA's libcuda.so.1 may be, in order: GPUVM_NVIDIA_LIBCUDA,
// the dynamic linker's choice, LD_LIBRARY_PATH's directories, the usual
// places.  GPUvm's own (tools/cuda/driver, marked by gpuvm_cuda_driver)
// may already be loaded in this process, as in libcudart's engine
// backend: dlopen("libcuda.so.1") then returns it, so NVIDIA's is taken
// by path, bound to its own symbols first (RTLD_DEEPBIND) so that its
// calls never reach GPUvm's cu* functions.  A candidate without every
// function below (an old driver, the toolkit's stub) is passed over.
std::vector<std::string> candidates() {
    std::vector<std::string> c;
    if (const char* path = std::getenv("GPUVM_NVIDIA_LIBCUDA"))
        c.emplace_back(path);
    c.emplace_back("libcuda.so.1");
    if (const char* dirs = std::getenv("LD_LIBRARY_PATH")) {
        std::string d;
        for (const char* p = dirs;; p++) {
            if (*p == ':' || !*p) {
                if (!d.empty())
                    c.push_back(d + "/libcuda.so.1");
                d.clear();
                if (!*p)
                    break;
            } else {
                d += *p;
            }
        }
    }
    for (const char* path : {"/usr/local/nvidia/lib64/libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                             "/usr/lib/aarch64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1",
                             "/usr/lib/libcuda.so.1", "/usr/lib/nvidia/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"})
        c.emplace_back(path);
    return c;
}

Api resolve(void* lib);

Api load() {
    std::string why;
    for (const std::string& path : candidates()) {
        int flags = RTLD_NOW | RTLD_LOCAL | (path.find('/') != std::string::npos ? RTLD_DEEPBIND : 0);
        void* lib = dlopen(path.c_str(), flags);
        if (!lib) {
            if (const char* e = dlerror(); e && why.empty())
                why = e;
            continue;
        }
        if (dlsym(lib, "gpuvm_cuda_driver")) {  // GPUvm's own
            dlclose(lib);
            continue;
        }
        try {
            return resolve(lib);
        } catch (const Unavailable& e) {
            why = path + ": " + e.what();
            dlclose(lib);
        }
    }
    throw Unavailable("cannot load NVIDIA's libcuda.so.1" + (why.empty() ? std::string() : ": " + why) +
                      " (GPUVM_NVIDIA_LIBCUDA names it where it is not found; GPUvm's own is never taken for it)");
}

// The functions of NVIDIA's driver @lib, and cuInit.
Api resolve(void* lib) {
    Api a{};
    sym(lib, a.Init, "cuInit");
    sym(lib, a.DeviceGet, "cuDeviceGet");
    sym(lib, a.DeviceGetCount, "cuDeviceGetCount");
    sym(lib, a.DeviceGetName, "cuDeviceGetName");
    sym(lib, a.DeviceGetAttribute, "cuDeviceGetAttribute");
    sym(lib, a.DeviceGetPCIBusId, "cuDeviceGetPCIBusId");
    sym(lib, a.DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    sym(lib, a.DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    sym(lib, a.CtxSetCurrent, "cuCtxSetCurrent");
    sym(lib, a.CtxSynchronize, "cuCtxSynchronize");
    sym(lib, a.MemAlloc, "cuMemAlloc_v2");
    sym(lib, a.MemFree, "cuMemFree_v2");
    sym(lib, a.MemcpyHtoD, "cuMemcpyHtoD_v2");
    sym(lib, a.MemcpyDtoH, "cuMemcpyDtoH_v2");
    sym(lib, a.MemcpyAsync, "cuMemcpyAsync");
    sym(lib, a.MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    sym(lib, a.MemsetD32Async, "cuMemsetD32Async");
    sym(lib, a.MemsetD8, "cuMemsetD8_v2");
    sym(lib, a.MemsetD8Async, "cuMemsetD8Async");
    sym(lib, a.MemHostAlloc, "cuMemHostAlloc");
    sym(lib, a.MemFreeHost, "cuMemFreeHost");
    sym(lib, a.MemHostGetDevicePointer, "cuMemHostGetDevicePointer_v2");
    sym(lib, a.MemHostRegister, "cuMemHostRegister_v2");
    sym(lib, a.MemHostUnregister, "cuMemHostUnregister");
    sym(lib, a.ModuleLoadDataEx, "cuModuleLoadDataEx");
    sym(lib, a.ModuleGetFunction, "cuModuleGetFunction");
    sym(lib, a.FuncSetAttribute, "cuFuncSetAttribute");
    sym(lib, a.FuncGetAttribute, "cuFuncGetAttribute");
    sym(lib, a.CtxSetLimit, "cuCtxSetLimit");
    sym(lib, a.ModuleUnload, "cuModuleUnload");
    sym(lib, a.LaunchKernel, "cuLaunchKernel");
    sym(lib, a.StreamCreate, "cuStreamCreate");
    sym(lib, a.StreamDestroy, "cuStreamDestroy_v2");
    sym(lib, a.StreamQuery, "cuStreamQuery");
    sym(lib, a.StreamSynchronize, "cuStreamSynchronize");
    sym(lib, a.EventCreate, "cuEventCreate");
    sym(lib, a.EventDestroy, "cuEventDestroy_v2");
    sym(lib, a.EventRecord, "cuEventRecord");
    sym(lib, a.StreamWaitEvent, "cuStreamWaitEvent");
    sym(lib, a.EventSynchronize, "cuEventSynchronize");
    sym(lib, a.EventElapsedTime, "cuEventElapsedTime");
    sym(lib, a.GetErrorString, "cuGetErrorString");
    sym(lib, a.MemCreate, "cuMemCreate");
    sym(lib, a.MemRelease, "cuMemRelease");
    sym(lib, a.MemExportToShareableHandle, "cuMemExportToShareableHandle");
    sym(lib, a.MemImportFromShareableHandle, "cuMemImportFromShareableHandle");
    sym(lib, a.MemAddressReserve, "cuMemAddressReserve");
    sym(lib, a.MemAddressFree, "cuMemAddressFree");
    sym(lib, a.MemMap, "cuMemMap");
    sym(lib, a.MemUnmap, "cuMemUnmap");
    sym(lib, a.MemSetAccess, "cuMemSetAccess");
    sym(lib, a.MemGetAllocationGranularity, "cuMemGetAllocationGranularity");
    a.FuncLoad = reinterpret_cast<decltype(a.FuncLoad)>(dlsym(lib, "cuFuncLoad"));
    // Modules load whole in cuModuleLoadDataEx, which runs on the JIT's
    // thread: with lazy loading the JIT of a translation would run
    // inside its first launch, in a RUN (measured on an H200: a RUN of
    // 998 ms with 10 ms slices).  Read by cuInit.
    setenv("CUDA_MODULE_LOADING", "EAGER", 1);
    CUresult r = a.Init(0);
    if (r != CUDA_SUCCESS)
        throw Unavailable("cuInit failed (" + std::to_string(r) + "): no usable NVIDIA GPU");
    return a;
}

}  // namespace

const Api& api() {
    static std::once_flag once;
    static Api a;
    static std::string failure;
    std::call_once(once, [] {
        try {
            a = load();
            g_named = &a;
        } catch (const Unavailable& e) {
            failure = e.what();
        }
    });
    if (!failure.empty())
        throw Unavailable(failure);
    return a;
}

void name_errors_with(const Api* a) { g_named = a; }

std::string error(const char* what, CUresult r) {
    const char* s = nullptr;
    const Api* a = g_named;
    if (!a || a->GetErrorString(r, &s) != CUDA_SUCCESS || !s)
        s = "unknown error";
    return std::string(what) + ": " + s + " (" + std::to_string(r) + ")";
}

void check(const char* what, CUresult r) {
    if (r != CUDA_SUCCESS)
        throw std::runtime_error(error(what, r));
}

Mapping::Mapping(const Api& a, const std::vector<CUmemGenericAllocationHandle>& pieces, size_t piece, CUdevice dev)
    : api_(a), size_(pieces.size() * piece), piece_(piece) {
    check("cuMemAddressReserve", a.MemAddressReserve(&va_, size_, 0, 0, 0));
    CUresult r = CUDA_SUCCESS;
    for (; mapped_ < pieces.size() && r == CUDA_SUCCESS; mapped_++)
        if ((r = a.MemMap(va_ + mapped_ * piece_, piece_, 0, pieces[mapped_], 0)) != CUDA_SUCCESS)
            break;
    if (r == CUDA_SUCCESS) {
        CUmemAccessDesc acc{};
        acc.location = {CU_MEM_LOCATION_TYPE_DEVICE, dev};
        acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
        r = a.MemSetAccess(va_, size_, &acc, 1);
    }
    if (r != CUDA_SUCCESS) {
        const char* what = mapped_ == pieces.size() ? "cuMemSetAccess" : "cuMemMap";
        release();  // no destructor for a constructor that throws
        check(what, r);
    }
}

Mapping::~Mapping() { release(); }

void Mapping::release() {
    while (mapped_)
        api_.MemUnmap(va_ + --mapped_ * piece_, piece_);
    if (va_)
        api_.MemAddressFree(va_, size_);
    va_ = 0;
}

namespace {
std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
    return b;
}
}  // namespace

Reservation::Reservation(const Api& a, CUdeviceptr start, size_t size) : api_(a), size_(size) {
    check("cuMemAddressReserve", a.MemAddressReserve(&va_, size, 0, start, 0));
    if (va_ != start) {
        a.MemAddressFree(va_, size);
        throw std::runtime_error("cuMemAddressReserve placed " + std::to_string(size >> 20) + " MiB at " +
                                 hex(va_) + ", not at " + hex(start));
    }
}

CUdevice device(const Api& a, int gpu, std::string* name) {
    int n = 0;
    check("cuDeviceGetCount", a.DeviceGetCount(&n));
    if (gpu < 0 || gpu >= n)
        throw Unavailable("no GPU " + std::to_string(gpu) + " (" + std::to_string(n) + " found)");
    CUdevice dev = 0;
    check("cuDeviceGet", a.DeviceGet(&dev, gpu));
    char buf[128] = {};
    a.DeviceGetName(buf, sizeof(buf) - 1, dev);
    *name = buf;
    return dev;
}

std::string pci_of(const Api& a, CUdevice dev) {
    char pci[32] = {};
    unsigned dom = 0, bus = 0, slot = 0, fn = 0;
    int end = 0;
    if (a.DeviceGetPCIBusId(pci, sizeof(pci) - 1, dev) != CUDA_SUCCESS ||
        std::sscanf(pci, "%8x:%2x:%2x.%1x%n", &dom, &bus, &slot, &fn, &end) != 4 || pci[end] || slot >= 32 ||
        fn >= 8)
        return "";
    std::string s = pci;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

}  // namespace vgpu::engine::cu
