// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// libvgpu: the application runtime of GPUvm, in the spirit of the CUDA
// driver API.  Every kernel handle is owned by an RAII object; errors are
// exceptions that carry the errno and, for GPU-side failures, the
// context's status.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "vgpu/fd.hpp"
#include "vgpu/va_space.hpp"
#include <vector>

#include "vgpu/asm.hpp"

struct drm_vgpu_cmd;
struct drm_vgpu_vm_bind_op;

namespace vgpu {

// A failed call into the driver: errno and what was being done.
class Error : public std::runtime_error {
public:
    Error(int err, const std::string& what);
    int code() const noexcept { return err_; }

private:
    int err_;
};

enum class ContextState : uint32_t { Ok = 0, Faulted = 1, Hung = 2, Banned = 3 };
const char* to_string(ContextState s);

struct ContextStatus {
    ContextState state = ContextState::Ok;
    uint64_t fault_addr = 0;
    uint32_t fault_kind = 0;
    uint64_t submitted = 0;
    uint64_t completed = 0;
};

// The GPU stopped this context's work: fault, hang or ban.
class ContextError : public Error {
public:
    ContextError(const ContextStatus& st);
    const ContextStatus& status() const noexcept { return st_; }

private:
    ContextStatus st_;
};


struct DeviceInfo {
    uint32_t uapi_version;
    uint32_t mode;
    std::string engine;
    uint32_t isa_version;
    uint32_t page_size;
    uint64_t features;
    uint64_t va_start, va_end;
    uint64_t device_memory_size, device_memory_quota;
    uint32_t max_contexts, max_objects, max_block_threads, max_shared_size;
    // Blocks in x of a launch's grid (65535 in y and z): 65535 where dom0
    // predates CUDA's 2^31-1 (its GET_INFO says 0).
    uint32_t max_grid_x;
    // Device memory the engine holds for each context, taken from
    // @device_memory_quota while it lives (0: none, or an older dom0).
    uint64_t context_memory;
    // With DRM_VGPU_FEATURE_PTX_STACK: the largest call stack a context
    // may be given (Context::raise_stack()), bytes a thread, and the
    // threads each byte of it is held for (0 and 0 without).
    uint32_t max_stack_size = 0;
    uint64_t stack_threads = 0;
};
const char* mode_name(uint32_t mode);

// How a Device reaches its driver: the render node's ioctls, mmap and
// DRM syncobjs (the default), or another implementation of the same
// uAPI (vgpu-back's core in a process: tools/ucore, GPUvm's CUDA
// runtime's core backends).  Every call returns 0 or an errno.
class Transport {
public:
    virtual ~Transport() = default;
    // DRM_IOCTL_VGPU_*: @arg as the uAPI defines it.
    virtual int ioctl(unsigned long req, void* arg) = 0;
    // A host object's memory at the offset BO_MMAP_OFFSET gave, @size
    // bytes, in *@cpu; unmapped with unmap().
    virtual int map(uint64_t offset, size_t size, void** cpu) = 0;
    virtual void unmap(void* cpu, size_t size) = 0;
    virtual int syncobj_create(uint32_t* handle) = 0;
    virtual void syncobj_destroy(uint32_t handle) = 0;
    // Waits until @handle's fence signals or CLOCK_MONOTONIC passes
    // @abs_ns: 0, ETIME, or another errno.
    virtual int syncobj_wait(uint32_t handle, int64_t abs_ns) = 0;
    // Its fence's status in *@status: 1 signalled, 0 pending, < 0
    // signalled with that error.
    virtual int syncobj_status(uint32_t handle, int* status) = 0;
    // The render node's descriptor (-1: none).
    virtual int fd() const noexcept { return -1; }
};
// The render node open as @fd.
std::unique_ptr<Transport> drm_transport(Fd fd);

namespace detail {
class CopyHelpers;
}

class Device {
public:
    // The first render node whose DRM driver is "vgpu" (or @path).
    static std::shared_ptr<Device> open(const std::string& path = {});
    // The first vgpu render node whose connection is in @mode ("native",
    // "naive" or "hp"; empty: open()).
    static std::shared_ptr<Device> open_mode(const std::string& mode);
    // Every render node of GPUvm's (a guest's vgpu-front, dom0's
    // vgpu-back), in /dev/dri name order, once each (a node with two
    // names is listed by its first).  Found through sysfs without
    // opening any node: an open of a vgpu node makes a client of it, and
    // another driver's node may wake its GPU.  @dev_dir and @sys_dir:
    // /dev/dri and /sys elsewhere (tests).
    static std::vector<std::string> list(const std::string& dev_dir = "/dev/dri",
                                         const std::string& sys_dir = "/sys");
    explicit Device(Fd fd, std::string path);
    // Over another transport; @path names it in messages.
    Device(std::unique_ptr<Transport> t, std::string path);
    // The render node's descriptor, -1 over another transport.
    int fd() const noexcept { return t_->fd(); }
    const std::string& path() const noexcept { return path_; }
    const DeviceInfo& info() const noexcept { return info_; }
    // ioctl with EINTR/EAGAIN retry; throws Error on failure.
    void ioctl(unsigned long req, void* arg, const char* what) const;
    // The same, 0 or an errno (destructors).
    int try_ioctl(unsigned long req, void* arg) const noexcept;
    Transport& transport() const noexcept { return *t_; }
    ~Device();

private:
    friend class Buffer;
    friend class Fence;
    // A syncobj for a submission's fence: one a Fence of this device let
    // go of (still holding its last fence, which the submission
    // replaces), else a new one.  Each launch would otherwise cost a
    // syncobj's create and destroy (two ioctls).  In a child forked
    // since the device opened, always a new one: the spares are handles
    // of the file the parent shares.  Throws Error.
    uint32_t take_syncobj();
    // Back to the spares (kSpareSyncobjs at most), else destroyed (in a
    // forked child, destroyed).
    void give_syncobj(uint32_t handle) noexcept;
    // Whether this process forked since the device opened (its spares
    // are not this process's to use), or forks cannot be told.
    bool forked() const noexcept;
    // The forks of this process's line so far (counted in each child).
    static unsigned forks() noexcept;
    static constexpr size_t kSpareSyncobjs = 16;
    // The CPU's part of a staged copy (Buffer::write, read): @n bytes, a
    // large copy split among helper threads (copy.hpp).
    void cpu_copy(void* dst, const void* src, size_t n) const;

    std::unique_ptr<Transport> t_;
    std::string path_;
    DeviceInfo info_{};
    mutable std::once_flag copy_once_;                      // starts copy_
    mutable std::unique_ptr<detail::CopyHelpers> copy_;     // made at the first large copy
    std::mutex spare_m_;                   // protects spare_syncobjs_ (never taken in a forked child)
    std::vector<uint32_t> spare_syncobjs_;  // take_syncobj()'s
    const unsigned fork_gen_;               // the process's forks when it opened (forked())
};

// A drm_syncobj, signalled when a submission completes.
class Fence {
public:
    explicit Fence(std::shared_ptr<Device> dev);
    // A submission's (Context::submit): its syncobj may be one an earlier
    // submission's Fence held, which a SUBMIT's out_sync replaces (wait()
    // before that SUBMIT sees the old fence), and goes back to @dev's
    // spares at the end.
    struct ForSubmit {};
    Fence(ForSubmit, std::shared_ptr<Device> dev);
    Fence(Fence&& o) noexcept;
    Fence& operator=(Fence&&) = delete;
    ~Fence();
    uint32_t handle() const noexcept { return handle_; }
    // false on timeout.
    bool wait(std::chrono::nanoseconds timeout = std::chrono::seconds(60)) const;
    // 1: signalled, 0: pending, < 0: signalled with that error (-errno).
    int status() const;

private:
    friend class Context;
    std::shared_ptr<Device> dev_;
    uint32_t handle_ = 0;
    bool spare_ = false;  // its syncobj goes back to dev_'s spares
    unsigned forks_ = 0;  // Device::forks() when it was made (a spare's)
};

enum class Domain : uint32_t { Device = 1, Host = 2 };

class Context;

// A buffer object mapped into one context's GPU address space.
class Buffer {
public:
    Buffer(Context& ctx, size_t size, Domain domain, uint32_t perms = 3);
    Buffer(Buffer&& o) noexcept;
    Buffer& operator=(Buffer&&) = delete;
    ~Buffer();
    uint64_t gpu_addr() const noexcept { return va_; }
    uint32_t handle() const noexcept { return handle_; }
    size_t size() const noexcept { return size_; }
    Domain domain() const noexcept { return domain_; }
    // CPU view of a host-memory buffer (nullptr for device memory).
    void* data() const noexcept { return cpu_; }
    // Copy in or out through the context's host staging buffers and the
    // GPU's copy engine (Context::staging).
    void write(std::span<const std::byte> src, size_t offset = 0);
    void read(std::span<std::byte> dst, size_t offset = 0) const;
    // Change the GPU permissions (DRM_VGPU_BIND_*) of the mapping.
    void protect(uint32_t perms);
    template <typename T> void upload(const std::vector<T>& v) { write(std::as_bytes(std::span(v))); }
    template <typename T> std::vector<T> download(size_t n) const {
        std::vector<T> v(n);
        read(std::as_writable_bytes(std::span(v)));
        return v;
    }

private:
    Context* ctx_;
    uint32_t handle_ = 0;
    uint64_t va_ = 0;
    size_t size_ = 0;
    Domain domain_;
    void* cpu_ = nullptr;
};

struct Dim3 {
    uint32_t x = 1, y = 1, z = 1;
};

class Kernel {
public:
    uint64_t entry = 0;
    uint32_t shared_size = 0;
    uint32_t num_params = 0;
    std::string name;
};

// Code loaded into GPU memory, mapped read+execute.
class Module {
public:
    Module(Context& ctx, const ModuleImage& img);
    static ModuleImage load_file(const std::string& path);
    Kernel kernel(const std::string& name) const;

private:
    std::unique_ptr<Buffer> code_;
    ModuleImage img_;
};

// One launch argument: a buffer's GPU address, an integer or a float.
struct Arg {
    uint64_t bits;
    Arg(const Buffer& b) : bits(b.gpu_addr()) {}
    Arg(float f) { uint32_t u; std::memcpy(&u, &f, 4); bits = u; }
    template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
    Arg(T v) : bits(static_cast<uint64_t>(v)) {}
};

class Context {
public:
    explicit Context(std::shared_ptr<Device> dev, uint32_t priority = 1);
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    ~Context();
    Device& device() const noexcept { return *dev_; }
    const std::shared_ptr<Device>& device_ptr() const noexcept { return dev_; }
    uint32_t id() const noexcept { return id_; }

    // Queue commands; each call submits and returns its completion fence.
    std::shared_ptr<Fence> launch(const Kernel& k, Dim3 grid, Dim3 block, std::initializer_list<Arg> args);
    std::shared_ptr<Fence> copy(uint64_t dst, uint64_t src, uint64_t size);
    std::shared_ptr<Fence> fill(uint64_t dst, uint64_t size, uint32_t value);
    std::shared_ptr<Fence> submit(std::span<const drm_vgpu_cmd> cmds);
    // Wait for everything submitted; throws ContextError if the GPU
    // stopped the context (asks the context's status only when the last
    // submission's fence carries an error).
    void synchronize(std::chrono::nanoseconds timeout = std::chrono::seconds(60));
    ContextStatus status() const;
    // Throws ContextError unless the context is ok.
    void check() const;
    // DRM_IOCTL_VGPU_CTX_STACK: the call stack the context's PTX may be
    // given, at least @bytes a thread (never lowered), charged to the
    // client's device-memory quota.  Returns the stack it now has and the
    // memory it holds beyond DeviceInfo::context_memory; throws Error
    // (EOPNOTSUPP, EINVAL past max_stack_size, EDQUOT).
    struct Stack {
        uint32_t bytes;
        uint64_t charged;
    };
    Stack raise_stack(uint32_t bytes);

    // GPU virtual address allocation: whole GPU pages and an unmapped
    // guard page after them, first fit among the ranges given back, else
    // above every range handed out.
    uint64_t reserve_va(uint64_t size);
    // Gives back what reserve_va(@size) returned as @va, once nothing is
    // mapped there: it serves again when the work submitted so far has
    // finished (a job still running may use the old addresses).
    void release_va(uint64_t va, uint64_t size) noexcept;
    void bind(uint32_t handle, uint64_t va, uint64_t size, uint32_t perms);
    void unbind(uint64_t va, uint64_t size);
    // One VM_BIND operation; returns 0 or the errno, never throws.
    int vm_bind(const drm_vgpu_vm_bind_op& op) noexcept;

    // Host memory Buffer::write and read of device memory go through
    // (Documentation/design.rst): two objects, each as large as the
    // largest chunk copied through it (kStagingChunk bytes: a larger copy
    // goes in chunks, the CPU's part of one overlapping the engine's COPY
    // of the other; one object where the copy is one chunk, or where the
    // client's quota has room for no second).  A dom0 client keeps them
    // between calls, and a host object its quota refuses is asked again
    // once the idle ones are given back; a guest frees them at the end
    // of each call, but for an object of kStagingKeptInGuest bytes or
    // less, or of one GPU page, in hp mode (see Context::staging_kept).  In naive mode, whose
    // frontend copies every host object of the file around each
    // submission, one object of the whole copy.
    static constexpr size_t kStagingChunk = 8 << 20;
    static constexpr size_t kStagingKeptInGuest = 64 << 10;

private:
    friend class Buffer;
    // The chunk a copy of @n bytes goes in.
    size_t staging_chunk(size_t n) const;
    // Whether staging object @b stays between calls: a dom0 client's
    // always; in hp mode a small one (kStagingKeptInGuest: a few pages of
    // the guest's grants and persistent-grant quota, where making and
    // freeing one costs each small copy five requests more); in naive
    // mode none (the frontend copies every host object of the file
    // around each submission).
    bool staging_kept(const Buffer& b) const;
    // Staging object @i (0 or 1) of at least @n bytes (a chunk), once
    // the COPY that last used it is done (throws if it failed).
    Buffer& staging(int i, size_t n);
    // Records that @f is the COPY now using staging object @i.
    void staging_busy(int i, std::shared_ptr<Fence> f) { staging_fence_[i] = std::move(f); }
    // A call of @total bytes in chunks of @chunk begins: makes the
    // objects it uses (two where there are two chunks or more and the
    // quota has room); how many.
    size_t staging_slots(size_t total, size_t chunk);
    // After a call: waits for both objects' COPYs, releases them, and
    // throws the first COPY's failure.
    void staging_done();
    // The call's end, however it ends: where the objects are not kept,
    // each is freed once its COPY is done.
    void staging_release() noexcept;
    // Frees the staging objects no call uses: whether there was one.
    bool drop_idle_staging() noexcept;

    std::shared_ptr<Device> dev_;
    uint32_t id_ = 0;
    VaSpace va_;  // guard pages included in its ranges
    std::unique_ptr<Buffer> staging_[2];
    std::shared_ptr<Fence> staging_fence_[2];
    bool in_staging_call_ = false;  // a write or read is using the staging objects
    std::vector<std::pair<uint64_t, uint64_t>> pending_va_;  // given back while pending_fence_ runs
    std::shared_ptr<Fence> pending_fence_;
    std::shared_ptr<Fence> last_;

    void reclaim_va() noexcept;
};

}  // namespace vgpu
