// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// cuda_native.hpp - a guest's own code on the GPU (Documentation/
// engines.rst "The guest's own PTX"): what a LAUNCH with
// DRM_VGPU_LAUNCH_PTX names, checked, and the window of a worker's GPU
// addresses where its context's device memory sits at the context's own
// addresses, so that the guest's kernels dereference its pointers as
// they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cuda_api.hpp"

namespace vgpu::engine {

// A LAUNCH's struct drm_vgpu_ptx_launch and what follows it, checked.
struct PtxLaunch {
    uint64_t ptx = 0, ptx_size = 0, ptx_hash = 0;
    std::string entry;
    std::vector<uint8_t> params;
    uint32_t shared = 0;
    uint32_t stack = 0;  // a thread's call stack, bytes (0: the driver's default)
    // What the engine keeps the compiled module by: its text (every
    // entry of a module is compiled at once, by one load).
    std::string key() const;
};

// Parses the @n bytes a command's dst held; nullopt, the reason in
// *@why, for anything the uAPI does not allow.
std::optional<PtxLaunch> parse_ptx_launch(const uint8_t* d, size_t n, std::string* why);

// FNV-1a, 64 bits (drm_vgpu_ptx_launch.ptx_hash).
uint64_t ptx_hash(const void* p, size_t n);

// Whether @n bytes of PTX text end with their only NUL.
bool ptx_text_ok(const char* p, size_t n);

// Why a guest's PTX text is not run as itself, or nullptr: it declares
// variables of its own (the driver would allocate them, charged to no
// one; the guest's runtime keeps its copies at its own addresses) or
// calls functions outside it (vprintf, malloc: served by GPUvm's runtime
// in the ISA).
const char* ptx_not_runnable(const std::string& text);

// The largest call stack a context's PTX may be given, bytes a thread
// (DRM_IOCTL_VGPU_CTX_STACK, which vgpu-back charges to the context's
// client: the driver reserves it for every thread the GPU holds):
// DRM_VGPU_PTX_MAX_STACK by default; VGPU_PTX_STACK_KB (0 to
// DRM_VGPU_PTX_MAX_STACK / 1024, rounded down to a power of two) in the
// engine's environment, which its workers inherit, lowers it.  0 (for 1
// KiB or less, and for a value out of range, said on stderr): none
// beyond the driver's DRM_VGPU_PTX_BASE_STACK, the feature not announced.
uint32_t ptx_stack_bound();

// The threads GPU @dev holds at once (its multiprocessors times the
// threads of each), for each of which the driver reserves a context's
// call stack: at most 2^24 (vgpu_uengine.h's bound); 0 where the driver
// does not say.
uint64_t gpu_threads(const cu::Api& a, cu::CUdevice dev);

// The device memory a GPU worker holds for its context beyond the
// objects it maps, bytes, told to the module at HELLO (vgpu-back takes
// it from the quota of the context's client): VGPU_CTX_MEM_MB where set
// (0 to kCtxMemMaxMb; a bad value is said once and not used), else
// kWorkerCtxMemMb (an H100's worker, engines.rst), which holds the
// driver's call stack of DRM_VGPU_PTX_BASE_STACK.  A larger stack is
// the client's to ask for (CTX_STACK) and is charged then, apart.
constexpr uint64_t kWorkerCtxMemMb = 640;
constexpr uint64_t kCtxMemMaxMb = uint64_t{1} << 20;
uint64_t worker_ctx_mem();

// The CUDA error a guest's kernel ended with, as a fault kind
// (DRM_VGPU_FAULT_*): the GPU tells no address.
uint32_t fault_of(cu::CUresult r);

// GPU addresses [start, end) of this process reserved for one context
// (a worker's), where each allocation the context maps is mapped whole,
// read-write, at the context's address of its first byte; absent where
// the context maps nothing of it (a guest's kernel that reaches there
// faults on the GPU).  Host memory is not mapped here.
class GuestWindow {
public:
    // Throws std::runtime_error where the driver will not reserve there.
    GuestWindow(const cu::Api& a, cu::CUdevice dev, uint64_t start, uint64_t end);
    GuestWindow(const GuestWindow&) = delete;
    GuestWindow& operator=(const GuestWindow&) = delete;
    ~GuestWindow() { clear(); }
    // Maps allocation @h of @size bytes at @va: false (nothing mapped)
    // where it is not inside the window, overlaps a mapping, or the
    // driver refuses.
    bool map(uint64_t va, cu::CUmemGenericAllocationHandle h, uint64_t size);
    // Unmaps what map() put at @va (false: the driver refused; forgotten
    // all the same).  Nothing of the context's may run meanwhile.
    bool unmap(uint64_t va);
    void clear();
    uint64_t start() const { return start_; }
    uint64_t end() const { return end_; }
    size_t mapped() const { return mapped_.size(); }

private:
    const cu::Api& a_;
    cu::CUdevice dev_;
    uint64_t start_, end_;
    cu::Reservation res_;
    std::map<uint64_t, uint64_t> mapped_;  // address -> bytes
};

}  // namespace vgpu::engine
