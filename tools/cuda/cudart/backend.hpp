// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend.hpp - where GPUvm's CUDA runtime runs its work.  The runtime
// (runtime.hpp) speaks to one Backend a device:
//   vgpu    the vGPU's render node through libvgpu: a Xen guest or dom0
//           (the default);
//   interp  the vgpu-sim interpreter in the calling process, on host
//           memory: the same ISA and results, no driver; for tests and for
//           trying a program where no vGPU is (GPUVM_CUDA_BACKEND=interp);
//   engine, engine-interp
//           one of vgpu-engined's back ends in the calling process (an
//           NVIDIA GPU through libcuda.so.1, or its interpreter): GPUvm's
//           whole path to a real GPU where there is no Xen, to compare
//           it with NVIDIA's (backend_engine.cpp).
// Every address is a GPU virtual address the backend gave out; every
// operation runs in the order it was called.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "vgpu_drm.h"
#include "vgpu_isa.h"

namespace vgpu {
class Device;
}

namespace gpuvm::cudart {

struct LaunchDesc {
    uint64_t code = 0;         // GPU address of the kernel's first instruction
    uint32_t grid[3] = {1, 1, 1};
    uint32_t block[3] = {1, 1, 1};
    uint32_t shared = 0;       // bytes per block
    uint64_t params[8] = {};
    // The same kernel as its PTX (DRM_VGPU_LAUNCH_PTX): the GPU address
    // and size of its struct drm_vgpu_ptx_launch, 0 when not named.
    uint64_t ptx_desc = 0;
    uint32_t ptx_desc_size = 0;
};

// The engine command of a launch (the vgpu and engine backends).
inline drm_vgpu_cmd launch_cmd(const LaunchDesc& d) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_LAUNCH;
    c.src = d.code;
    c.shared_size = d.shared;
    std::memcpy(c.grid, d.grid, sizeof(c.grid));
    std::memcpy(c.block, d.block, sizeof(c.block));
    std::memcpy(c.params, d.params, sizeof(c.params));
    if (d.ptx_desc) {
        c.flags = DRM_VGPU_LAUNCH_PTX;
        c.dst = d.ptx_desc;
        c.size = d.ptx_desc_size;
    }
    return c;
}

// The GPU stopped the work: a fault (kind and address as the ISA reports
// them), a hang or a ban.  Sticky: every later call fails the same way.
// A backend does not know its ordinal: the runtime names the device
// that faulted (set_device) on the way out, so that the fault is
// recorded on that device, whichever is current.
class DeviceFault : public std::runtime_error {
public:
    DeviceFault(const std::string& what, uint32_t kind, uint64_t addr)
        : std::runtime_error(what), kind_(kind), addr_(addr) {}
    uint32_t kind() const { return kind_; }
    uint64_t addr() const { return addr_; }
    // The ordinal of the device that faulted; -1 until named.
    int device() const { return device_; }
    // Names the device (the first name given stays).
    void set_device(int ordinal) {
        if (device_ < 0)
            device_ = ordinal;
    }

private:
    uint32_t kind_;
    uint64_t addr_;
    int device_ = -1;
};

// Out of device (or host-mapped) memory.
class OutOfMemory : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    // Device memory, or host memory the GPU maps (@cpu gets its CPU
    // address); zero-filled; @exec maps it executable (code); without
    // @gpu_writes the GPU may only read it (launch descriptors and
    // parameters the CPU writes while earlier work runs: an engine that
    // stages host memory copies back only what the GPU may write).
    virtual uint64_t alloc(size_t size, bool host, void** cpu, bool exec = false, bool gpu_writes = true) = 0;
    virtual void free(uint64_t va) = 0;
    // Synchronous with respect to earlier work: write() and read() wait
    // for what is queued.
    virtual void write(uint64_t va, const void* src, size_t n) = 0;
    virtual void read(uint64_t va, void* dst, size_t n) = 0;
    // Queued.
    virtual void copy(uint64_t dst, uint64_t src, size_t n) = 0;
    virtual void fill(uint64_t va, size_t n, uint32_t pattern) = 0;  // 4-byte aligned
    virtual void launch(const LaunchDesc& d) = 0;
    // Waits for everything queued; throws DeviceFault.
    virtual void synchronize() = 0;
    virtual uint64_t total_memory() const = 0;
    virtual uint64_t used_memory() const = 0;
    // What the device is called (cudaDeviceProp::name).
    virtual std::string device_name() const = 0;
    // The most shared memory a block may have (VGPU_MAX_SHARED; a dom0
    // older than 49 KiB says less).
    virtual uint32_t max_shared() const { return VGPU_MAX_SHARED; }
    // Blocks in x of a grid the engine takes (y and z: 65535).
    virtual uint32_t max_grid_x() const { return VGPU_MAX_GRID_DIM_X; }
    // Whether the device runs a launch's PTX itself
    // (DRM_VGPU_FEATURE_PTX): then the runtime names it beside the ISA.
    virtual bool runs_ptx() const { return false; }
    // The call stack the device's context gives a launch's PTX, bytes a
    // thread (DRM_VGPU_FEATURE_PTX_STACK: DRM_VGPU_PTX_BASE_STACK until
    // raise_stack()); 0 where the PTX of a kernel that recurses does not
    // run (its ISA does).  A launch whose cudaLimitStackSize is more runs
    // its ISA.
    virtual uint32_t ptx_stack() const { return 0; }
    // The largest stack raise_stack() gives (0: none).
    virtual uint32_t max_ptx_stack() const { return 0; }
    // Raises that stack to at least @bytes (at most max_ptx_stack()),
    // its device memory charged to the client: 0 or an errno (EDQUOT:
    // past the quota; nothing changed).
    virtual int raise_stack(uint32_t) { return EOPNOTSUPP; }
    // Whether the device runs the ISA translated to PTX for a GPU
    // (vgpu-engined's cuda back end), which refuses code past the
    // translation's bounds (vgpu::engine::discover()).
    virtual bool translates_isa() const { return false; }
    // Whether a launch may reach host memory the device maps at no cost
    // beyond its own bytes: not in a vGPU's naive mode, whose frontend
    // copies all the host memory a launch may reach, each time.
    virtual bool host_memory_cheap() const { return true; }
};

// The devices of a process (backend_select.cpp), numbered from 0 as
// CUDA's ordinals.  GPUVM_CUDA_BACKEND picks the kind (vgpu by default):
//   vgpu    a device per render node: the one node VGPU_DEVICE or
//           GPUVM_CUDA_NODE (a node or a mode) names, as before; else
//           every render node of GPUvm's, in /dev/dri order (libvgpu's
//           Device::list, which opens none);
//   interp, engine, engine-interp, engine-workers, engine-interp-workers,
//   core, core-interp
//           GPUVM_CUDA_DEVICES emulated devices (1 by default, at most
//           kMaxDevices), each a back end of its own in the process.
// CUDA_VISIBLE_DEVICES then selects and orders them (visible_devices).
// Listing opens no device: make_backend opens one when the runtime
// first uses it.
constexpr int kMaxDevices = 16;
struct DeviceList {
    std::string kind;                // GPUVM_CUDA_BACKEND's value
    std::vector<std::string> nodes;  // vgpu: a render node each ("": libvgpu's choice)
    int count = 0;
};
// Throws std::runtime_error: a bad variable, or no device at all.
DeviceList list_devices();
std::unique_ptr<Backend> make_backend(const DeviceList& devices, int index);

// CUDA_VISIBLE_DEVICES (@cuda_visible_devices; nullptr: not set) over
// @enumerated devices: the indexes it lists, comma-separated, in its
// order, up to the first that is not an index of one (a number out of
// range, a repeated one, or anything else: CUDA's rule).  Not set: all
// of them; empty: none.
std::vector<int> visible_devices(const char* cuda_visible_devices, int enumerated);

// GPU addresses [start, end).
struct VaRange {
    uint64_t start = 0, end = 0;
};
// The slice of [@start, @end) where device @index of @count hands out
// GPU addresses: a slice of its own, which its allocator never leaves
// (out of memory at its end), so that an address names one device.
VaRange device_va_range(uint64_t start, uint64_t end, int index, int count);

std::unique_ptr<Backend> make_interp_backend(int index = 0, int count = 1);
// An interpreter handing out the addresses of @range only (tests).
std::unique_ptr<Backend> make_interp_backend(VaRange range);
// @node: a render node, or "" for GPUVM_CUDA_NODE's (or libvgpu's) choice.
std::unique_ptr<Backend> make_vgpu_backend(const std::string& node, int index, int count);
// The vgpu backend over @dev, a device reached another way than a render
// node (make_core_backend's).
std::unique_ptr<Backend> make_vgpu_backend(std::shared_ptr<vgpu::Device> dev, int index, int count);
// @gpu: vgpu-back's core in this process (tools/ucore) over vgpu-engined's
// cuda workers, else its interpreter workers (backend_core.cpp).
std::unique_ptr<Backend> make_core_backend(bool gpu, int index, int count);
// @kind: engine, engine-interp, engine-workers or engine-interp-workers
// (backend_engine.cpp).
std::unique_ptr<Backend> make_engine_backend(const std::string& kind, int index, int count);

}  // namespace gpuvm::cudart
