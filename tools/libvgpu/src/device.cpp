// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// libvgpu runtime over the vgpu render node.
#include "vgpu/vgpu.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/sync_file.h>
#include <xf86drm.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <thread>
#include <utility>

extern "C" {
#include "vgpu_drm.h"
}
#include "copy.hpp"
#include "vgpu/latency.hpp"

namespace vgpu {

namespace {
std::string errtext(int err, const std::string& what) {
    return what + ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")";
}
// @v rounded up to the device's GPU page (INFO's page_size, checked to
// be a power of two when the device opened).
uint64_t page_align(const Device& dev, uint64_t v) {
    uint64_t page = dev.info().page_size;
    if (v > UINT64_MAX - (page - 1)) throw Error(ENOMEM, "size beyond the GPU address space");
    return (v + page - 1) & ~(page - 1);
}

// The process's forks so far, counted in each child (pthread_atfork):
// a Device opened before a fork is not the child's to pool syncobjs of.
// Where the handler could not be registered, forks cannot be told and
// no Device pools any.
std::atomic<unsigned> g_forks{0};
std::atomic<bool> g_forks_known{false};

unsigned fork_generation() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_forks_known = pthread_atfork(nullptr, nullptr, [] { g_forks.fetch_add(1, std::memory_order_relaxed); }) == 0;
    });
    return g_forks.load(std::memory_order_relaxed);
}
}  // namespace

Error::Error(int err, const std::string& what) : std::runtime_error(errtext(err, what)), err_(err) {}

const char* to_string(ContextState s) {
    switch (s) {
    case ContextState::Ok: return "ok";
    case ContextState::Faulted: return "faulted";
    case ContextState::Hung: return "hung";
    case ContextState::Banned: return "banned";
    }
    return "unknown";
}

const char* mode_name(uint32_t mode) {
    switch (mode) {
    case DRM_VGPU_MODE_NATIVE: return "native";
    case DRM_VGPU_MODE_NAIVE: return "naive";
    case DRM_VGPU_MODE_HP: return "hp";
    }
    return "unknown";
}

static std::string status_text(const ContextStatus& st) {
    std::string s = std::string("GPU context ") + to_string(st.state);
    if (st.state == ContextState::Faulted && st.fault_kind == DRM_VGPU_FAULT_ENGINE_LOST) {
        s += ": the engine lost its state (its engine process ended); create a new context";
    } else if (st.state == ContextState::Faulted) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), " at GPU address 0x%llx (kind %u)",
                      static_cast<unsigned long long>(st.fault_addr), st.fault_kind);
        s += buf;
    }
    return s;
}

ContextError::ContextError(const ContextStatus& st)
    : Error(st.state == ContextState::Faulted ? EFAULT : st.state == ContextState::Hung ? ETIMEDOUT : ECANCELED,
            status_text(st)),
      st_(st) {}

namespace {

// The render node: DRM ioctls (libdrm's, which retry on EINTR and
// EAGAIN), mmap of the node, DRM syncobjs.
class DrmTransport final : public Transport {
public:
    explicit DrmTransport(Fd fd) : fd_(std::move(fd)) {}
    int ioctl(unsigned long req, void* arg) override { return drmIoctl(fd_.get(), req, arg) ? errno : 0; }
    int map(uint64_t offset, size_t size, void** cpu) override {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), static_cast<off_t>(offset));
        if (p == MAP_FAILED) return errno;
        *cpu = p;
        return 0;
    }
    void unmap(void* cpu, size_t size) override { ::munmap(cpu, size); }
    int syncobj_create(uint32_t* handle) override { return drmSyncobjCreate(fd_.get(), 0, handle) ? errno : 0; }
    void syncobj_destroy(uint32_t handle) override { drmSyncobjDestroy(fd_.get(), handle); }
    int syncobj_wait(uint32_t handle, int64_t abs_ns) override {
        int ret = drmSyncobjWait(fd_.get(), &handle, 1, abs_ns, DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, nullptr);
        return ret ? (errno == ETIMEDOUT ? ETIME : errno) : 0;
    }
    int syncobj_status(uint32_t handle, int* status) override {
        int sfd = -1;
        if (drmSyncobjExportSyncFile(fd_.get(), handle, &sfd) != 0) return errno;
        Fd f(sfd);
        sync_file_info info{};
        if (::ioctl(f.get(), SYNC_IOC_FILE_INFO, &info) != 0) return errno;
        *status = info.status;
        return 0;
    }
    int fd() const noexcept override { return fd_.get(); }

private:
    Fd fd_;
};

}  // namespace

std::unique_ptr<Transport> drm_transport(Fd fd) { return std::make_unique<DrmTransport>(std::move(fd)); }

void Device::ioctl(unsigned long req, void* arg, const char* what) const {
    if (int err = t_->ioctl(req, arg)) throw Error(err, what);
}

int Device::try_ioctl(unsigned long req, void* arg) const noexcept { return t_->ioctl(req, arg); }

Device::Device(Fd fd, std::string path) : Device(drm_transport(std::move(fd)), std::move(path)) {}

Device::~Device() {
    // In a child forked since the helpers started, their threads, locks
    // and condition variables are the parent's: left as they are (the
    // object's memory with them), never joined or signalled.
    if (copy_ && !copy_->started_here())
        static_cast<void>(copy_.release());
    // A fork's child shares the node's handles with its parent.
    if (!forked())
        for (uint32_t h : spare_syncobjs_) t_->syncobj_destroy(h);
}

void Device::cpu_copy(void* dst, const void* src, size_t n) const {
    const bool stream = detail::staging_stream();
    if (n >= detail::CopyHelpers::kMinBytes && detail::copy_helpers_wanted()) {
        // Threads the first large copy starts (none where none start).
        std::call_once(copy_once_, [&] {
            copy_ = std::make_unique<detail::CopyHelpers>(detail::copy_helpers_wanted());
        });
        return copy_->copy(dst, src, n, stream);
    }
    detail::copy_bytes(dst, src, n, stream);
}

Device::Device(std::unique_ptr<Transport> t, std::string path)
    : t_(std::move(t)), path_(std::move(path)), fork_gen_(fork_generation()) {
    spare_syncobjs_.reserve(kSpareSyncobjs);
    drm_vgpu_info in{};
    ioctl(DRM_IOCTL_VGPU_GET_INFO, &in, "VGPU_GET_INFO");
    if (in.uapi_version != DRM_VGPU_UAPI_VERSION)
        throw Error(EPROTO, "kernel speaks vgpu uAPI " + std::to_string(in.uapi_version) + ", libvgpu " +
                                std::to_string(DRM_VGPU_UAPI_VERSION));
    info_ = DeviceInfo{in.uapi_version, in.mode, std::string(in.engine, strnlen(in.engine, sizeof(in.engine))),
                       in.isa_version, in.page_size, in.features, in.va_start, in.va_end, in.device_memory_size,
                       in.device_memory_quota, in.max_contexts, in.max_objects, in.max_block_threads,
                       in.max_shared_size, in.max_grid_x ? in.max_grid_x : 65535u, in.context_memory};
    if (in.features & DRM_VGPU_FEATURE_PTX_STACK) {
        info_.max_stack_size = in.max_stack_size;
        info_.stack_threads = in.stack_threads;
    }
    // The engine's GPU page (4 KiB for vgpu-sim, 2 MiB for a GPU's
    // virtual-memory API): every size and address below is a multiple.
    uint64_t page = in.page_size;
    if (page < 4096 || page > (1u << 30) || (page & (page - 1)) || ((in.va_start | in.va_end) & (page - 1)) ||
        in.va_start >= in.va_end)
        throw Error(EPROTO, "kernel reports a GPU page of " + std::to_string(page) + " bytes and addresses [" +
                                std::to_string(in.va_start) + ", " + std::to_string(in.va_end) + ")");
}

namespace {

// The render nodes of @dev_dir in name order.  Enumerated directly:
// libdrm's drmGetDevices2() skips devices on buses it does not know,
// such as a guest's xenbus.
std::vector<std::string> render_nodes(const std::string& dev_dir = "/dev/dri") {
    std::error_code ec;
    std::vector<std::string> nodes;
    for (const auto& e : std::filesystem::directory_iterator(
             dev_dir, std::filesystem::directory_options::skip_permission_denied, ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind("renderD", 0) == 0) nodes.push_back(e.path().string());
    }
    std::sort(nodes.begin(), nodes.end());
    return nodes;
}

// Whether the DRM driver behind @fd is GPUvm's ("vgpu").
bool is_vgpu(int fd) {
    drmVersionPtr v = drmGetVersion(fd);
    bool ours = v && std::string(v->name, v->name_len) == "vgpu";
    drmFreeVersion(v);
    return ours;
}

// Whether render node @name's device is GPUvm's, from sysfs alone
// (@sys_dir/class/drm/@name/device/uevent): a guest's xenbus device of
// type "vgpu" (XENBUS_TYPE; vgpu-front's driver is named after the type)
// or dom0's platform device "vgpu.N" that vgpu-back registers for each
// engine (MODALIAS=platform:vgpu, no driver bound).
bool is_vgpu_in_sysfs(const std::string& sys_dir, const std::string& name, const struct stat& st) {
    // A device node by its number, not its name: a container may show a
    // node under another node's name (docker --device A:B).
    std::ifstream f(S_ISCHR(st.st_mode) ? sys_dir + "/dev/char/" + std::to_string(major(st.st_rdev)) + ":" +
                                              std::to_string(minor(st.st_rdev)) + "/device/uevent"
                                        : sys_dir + "/class/drm/" + name + "/device/uevent");
    for (std::string line; std::getline(f, line);)
        if (line == "XENBUS_TYPE=vgpu" || line == "MODALIAS=platform:vgpu" || line == "MODALIAS=xen:vgpu")
            return true;
    return false;
}

// What names one node: its device number (a link or a second name of a
// node is the same node), else the file's identity.
std::pair<uint64_t, uint64_t> node_key(const struct stat& st) {
    if (S_ISCHR(st.st_mode)) return {0, st.st_rdev};
    return {st.st_dev + 1, st.st_ino};
}

}  // namespace

namespace {

// The nodes open() tries: the vgpu nodes sysfs names, else (no sysfs)
// every render node.
std::vector<std::string> candidate_nodes() {
    auto nodes = Device::list();
    return nodes.empty() ? render_nodes() : nodes;
}

}  // namespace

std::vector<std::string> Device::list(const std::string& dev_dir, const std::string& sys_dir) {
    std::vector<std::string> ours;
    std::set<std::pair<uint64_t, uint64_t>> seen;
    for (const auto& node : render_nodes(dev_dir)) {
        struct stat st {};
        std::string name = std::filesystem::path(node).filename().string();
        // One this process may not open is no device of its (EACCES).
        if (::stat(node.c_str(), &st) || !is_vgpu_in_sysfs(sys_dir, name, st) || ::access(node.c_str(), R_OK | W_OK))
            continue;
        if (seen.insert(node_key(st)).second) ours.push_back(node);
    }
    return ours;
}

std::shared_ptr<Device> Device::open(const std::string& path) {
    // VGPU_DEVICE: the render node of the engine (or vGPU) to use, where
    // a host or a guest has several; by default the first vgpu node.
    if (const char* env = std::getenv("VGPU_DEVICE"); path.empty() && env && *env) return open(std::string(env));
    if (!path.empty()) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) throw Error(errno, "open " + path);
        return std::make_shared<Device>(Fd(fd), path);
    }
    std::string found, refused;
    int last_err = ENODEV;
    Fd kept;  // the node found, kept open (a second open could be refused)
    for (const auto& node : candidate_nodes()) {
        Fd fd(::open(node.c_str(), O_RDWR | O_CLOEXEC));
        if (fd.get() < 0) {
            last_err = errno;
            refused = node;
            continue;
        }
        if (is_vgpu(fd.get())) {
            found = node;
            kept = std::move(fd);
            break;
        }
    }
    if (found.empty() && !refused.empty() && last_err == ENODEV)
        throw Error(last_err, "render node " + refused + " refused to open: vgpu-back has no engine (load vgpu-sim)");
    if (found.empty() && !refused.empty() && last_err == ENOSPC)
        throw Error(last_err, "render node " + refused + " refused to open: the engine's memory is all promised to "
                              "other clients (vgpu-back's quota_devmem_mb per client)");
    if (found.empty() && !refused.empty() && last_err == EMFILE)
        throw Error(last_err, "render node " + refused + " refused to open: vgpu-back serves its max_clients already");
    // vgpu-back makes a render node per engine: loaded with none, it has none.
    if (found.empty() && std::filesystem::exists("/sys/module/vgpu_back"))
        throw Error(ENODEV, "no vgpu render node: vgpu-back has no engine (load vgpu-sim)");
    if (found.empty()) throw Error(last_err, "no render node with DRM driver 'vgpu' (is vgpu-back, or vgpu-front in a guest, loaded?)");
    return std::make_shared<Device>(std::move(kept), found);
}

std::shared_ptr<Device> Device::open_mode(const std::string& mode) {
    if (mode.empty()) return open();
    std::optional<Error> refused;
    for (const auto& n : candidate_nodes()) {
        try {
            auto dev = open(n);
            if (mode == mode_name(dev->info().mode)) return dev;
        } catch (const Error& e) {
            // Not a vgpu node, or one that refuses to open: try the next,
            // and say why this one refused if none is found.
            if (e.code() != ENODEV && e.code() != EACCES) refused = e;
        }
    }
    if (refused) throw *refused;
    throw Error(ENODEV, "no vgpu render node in " + mode + " mode");
}

Fence::Fence(std::shared_ptr<Device> dev) : dev_(std::move(dev)) {
    if (int err = dev_->transport().syncobj_create(&handle_)) throw Error(err, "drmSyncobjCreate");
}

Fence::Fence(ForSubmit, std::shared_ptr<Device> dev)
    : dev_(std::move(dev)), handle_(dev_->take_syncobj()), spare_(true), forks_(Device::forks()) {}

Fence::Fence(Fence&& o) noexcept
    : dev_(std::move(o.dev_)), handle_(std::exchange(o.handle_, 0)), spare_(o.spare_), forks_(o.forks_) {}

Fence::~Fence() {
    if (!handle_) return;
    if (!spare_) {
        dev_->transport().syncobj_destroy(handle_);
    } else if (Device::forks() == forks_) {
        dev_->give_syncobj(handle_);
    }
    // Else a submission's fence a forked child inherited: its syncobj is
    // the parent's too (which may pool it again), left as it is.
}

unsigned Device::forks() noexcept { return g_forks.load(std::memory_order_relaxed); }

bool Device::forked() const noexcept {
    return !g_forks_known.load(std::memory_order_relaxed) || g_forks.load(std::memory_order_relaxed) != fork_gen_;
}

uint32_t Device::take_syncobj() {
    if (!forked()) {
        std::lock_guard<std::mutex> g(spare_m_);
        if (!spare_syncobjs_.empty()) {
            uint32_t h = spare_syncobjs_.back();
            spare_syncobjs_.pop_back();
            return h;
        }
    }
    uint32_t h = 0;
    if (int err = t_->syncobj_create(&h)) throw Error(err, "drmSyncobjCreate");
    return h;
}

void Device::give_syncobj(uint32_t handle) noexcept {
    if (!forked()) {
        std::lock_guard<std::mutex> g(spare_m_);
        if (spare_syncobjs_.size() < kSpareSyncobjs) {
            spare_syncobjs_.push_back(handle);  // reserved: no allocation
            return;
        }
    }
    t_->syncobj_destroy(handle);
}

bool Fence::wait(std::chrono::nanoseconds timeout) const {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t abs = now.tv_sec * 1000000000LL + now.tv_nsec + timeout.count();
    int err = dev_->transport().syncobj_wait(handle_, abs);
    if (err == 0) return true;
    if (err == ETIME) return false;
    throw Error(err, "drmSyncobjWait");
}

int Fence::status() const {
    int st = 0;
    if (int err = dev_->transport().syncobj_status(handle_, &st)) throw Error(err, "the fence's status");
    return st;
}

namespace {

// Where a context's addresses begin: 1 MiB or the window's start, in
// whole pages (the window's start if that leaves nothing).
uint64_t first_va(const Device& dev) {
    const DeviceInfo& i = dev.info();
    uint64_t start = page_align(dev, std::max<uint64_t>(i.va_start, 0x100000));
    return start < i.va_end ? start : i.va_start;
}

}  // namespace

Context::Context(std::shared_ptr<Device> dev, uint32_t priority)
    : dev_(std::move(dev)), va_(first_va(*dev_), dev_->info().va_end, dev_->info().page_size) {
    // An engine that paces this client's new contexts (EBUSY: it started
    // its share of workers for the guest lately, Documentation/engines.rst
    // "Paced starts") is asked again, for a minute at most.
    auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    auto pause = std::chrono::milliseconds(20);
    for (;;) {
        drm_vgpu_ctx_create a{};
        a.priority = priority;
        int err = dev_->try_ioctl(DRM_IOCTL_VGPU_CTX_CREATE, &a);
        if (!err) {
            id_ = a.ctx_id;
            return;
        }
        if (err != EBUSY || std::chrono::steady_clock::now() >= give_up)
            throw Error(err, "VGPU_CTX_CREATE");
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
}

Context::~Context() {
    // The staging objects go first, explicitly: declared before
    // pending_va_ and last_, they would otherwise be destroyed after
    // them, and ~Buffer gives its addresses back through them.
    staging_fence_[0].reset();
    staging_fence_[1].reset();
    staging_[0].reset();  // unmapped while the context is there
    staging_[1].reset();
    drm_vgpu_ctx_destroy a{id_, 0};
    dev_->try_ioctl(DRM_IOCTL_VGPU_CTX_DESTROY, &a);
}

Buffer& Context::staging(int i, size_t n) {
    if (staging_fence_[i]) {
        if (!staging_fence_[i]->wait(std::chrono::seconds(60))) throw Error(ETIME, "timed out waiting for the GPU");
        // Done: the object is free again, whatever the COPY's outcome.
        std::shared_ptr<Fence> f = std::move(staging_fence_[i]);
        if (int st = f->status(); st < 0) {
            check();
            throw Error(-st, "a staging copy failed");
        }
    }
    if (!staging_[i] || staging_[i]->size() < n) {
        size_t size = std::max(page_align(*dev_, n), staging_[i] ? staging_[i]->size() : 0);
        staging_[i].reset();  // the smaller one goes first (the client's host-memory quota)
        staging_[i] = std::make_unique<Buffer>(*this, size, Domain::Host, DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE);
    }
    return *staging_[i];
}

// Kept between calls by a dom0 client (native mode), and in hp mode an
// object of kStagingKeptInGuest bytes or one GPU page: a guest's host
// objects cost per submission in naive mode (the frontend copies every
// one around each submission), and in hp mode they hold the guest's
// grants and persistent-grant quota, past which an object is kept by
// copies, which makes every submission of the file wait.
bool Context::staging_kept(const Buffer& b) const {
    const DeviceInfo& i = dev_->info();
    switch (i.mode) {
    case DRM_VGPU_MODE_NATIVE: return true;
    case DRM_VGPU_MODE_HP: return b.size() <= std::max<uint64_t>(kStagingKeptInGuest, i.page_size);
    default: return false;
    }
}

size_t Context::staging_chunk(size_t n) const {
    return dev_->info().mode == DRM_VGPU_MODE_NAIVE ? std::max<size_t>(n, 1) : detail::staging_chunk_bytes(kStagingChunk);
}

size_t Context::staging_slots(size_t total, size_t chunk) {
    in_staging_call_ = true;
    if (!total) return 1;
    size_t need = std::min(total, chunk);
    bool two = total > chunk;
    // An object that must grow: both go first, so that neither holds the
    // quota the other needs.
    if ((staging_[0] && staging_[0]->size() < need) || (two && staging_[1] && staging_[1]->size() < need)) {
        for (int i = 0; i < 2; i++) {
            if (staging_fence_[i]) staging(i, 0);
            staging_[i].reset();
        }
    }
    staging(0, need);
    if (!two) return 1;
    try {
        staging(1, need);
    } catch (const Error& e) {
        if (e.code() != EDQUOT) throw;
        return 1;  // the client's host-memory quota has room for one
    }
    return 2;
}

void Context::staging_done() {
    std::exception_ptr first;
    for (int i = 0; i < 2; i++) {
        if (!staging_fence_[i]) continue;
        try {
            staging(i, 0);  // waits, and throws if its COPY failed
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    staging_release();
    if (first) std::rethrow_exception(first);
}

void Context::staging_release() noexcept {
    in_staging_call_ = false;
    for (int i = 0; i < 2; i++) {
        if (!staging_[i] || staging_kept(*staging_[i])) continue;
        if (staging_fence_[i]) {
            try {
                staging_fence_[i]->wait(std::chrono::seconds(60));  // its COPY done first
            } catch (...) {
                // Freed all the same, as an object whose COPY timed out.
            }
            staging_fence_[i].reset();
        }
        staging_[i].reset();
    }
}

bool Context::drop_idle_staging() noexcept {
    if (in_staging_call_) return false;  // a call holds them (their memory between its COPYs)
    bool any = false;
    for (int i = 0; i < 2; i++) {
        if (staging_[i] && !staging_fence_[i]) {
            staging_[i].reset();
            any = true;
        }
    }
    return any;
}

uint64_t Context::reserve_va(uint64_t size) {
    // Leave an unmapped guard page between allocations, so overruns fault.
    reclaim_va();
    if (auto va = va_.take(page_align(*dev_, size) + dev_->info().page_size))
        return *va;
    throw Error(ENOSPC, "GPU virtual address space exhausted");
}

// The ranges given back while work was in flight serve again once the
// fence that was last then has signalled (a context's jobs run in order).
void Context::reclaim_va() noexcept {
    if (pending_va_.empty())
        return;
    try {
        if (pending_fence_ && pending_fence_->status() == 0)
            return;
        for (const auto& [va, n] : pending_va_)
            va_.give_back(va, n);
        pending_va_.clear();
        pending_fence_.reset();
    } catch (...) {
        // A failed status or an allocation: they wait for the next call.
    }
}

void Context::release_va(uint64_t va, uint64_t size) noexcept {
    try {
        pending_va_.emplace_back(va, page_align(*dev_, size) + dev_->info().page_size);
        pending_fence_ = last_;
    } catch (...) {
        // Out of memory for the list: the range stays unused, nothing worse.
    }
}

int Context::vm_bind(const drm_vgpu_vm_bind_op& op) noexcept {
    drm_vgpu_vm_bind b{id_, 1, reinterpret_cast<uintptr_t>(&op), 0, 0};
    return dev_->try_ioctl(DRM_IOCTL_VGPU_VM_BIND, &b);
}

void Context::bind(uint32_t handle, uint64_t va, uint64_t size, uint32_t perms) {
    if (int err = vm_bind({DRM_VGPU_BIND_MAP, perms, handle, 0, 0, va, page_align(*dev_, size)}))
        throw Error(err, "VGPU_VM_BIND map");
}

void Context::unbind(uint64_t va, uint64_t size) {
    if (int err = vm_bind({DRM_VGPU_BIND_UNMAP, 0, 0, 0, 0, va, page_align(*dev_, size)}))
        throw Error(err, "VGPU_VM_BIND unmap");
}

std::shared_ptr<Fence> Context::submit(std::span<const drm_vgpu_cmd> cmds) {
    auto f = std::make_shared<Fence>(Fence::ForSubmit{}, dev_);
    drm_vgpu_submit s{};
    s.ctx_id = id_;
    s.num_cmds = static_cast<uint32_t>(cmds.size());
    s.cmds = reinterpret_cast<uintptr_t>(cmds.data());
    s.out_sync = f->handle();
    latency::stamp("libvgpu: SUBMIT");
    try {
        dev_->ioctl(DRM_IOCTL_VGPU_SUBMIT, &s, "VGPU_SUBMIT");
    } catch (...) {
        f->spare_ = false;  // a syncobj the SUBMIT refused (gone?) is not pooled: destroyed
        throw;
    }
    latency::stamp("libvgpu: SUBMIT done");
    last_ = f;
    return f;
}

std::shared_ptr<Fence> Context::launch(const Kernel& k, Dim3 grid, Dim3 block, std::initializer_list<Arg> args) {
    if (args.size() > DRM_VGPU_NUM_PARAMS) throw Error(EINVAL, "more than 8 kernel arguments");
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_LAUNCH;
    c.src = k.entry;
    c.shared_size = k.shared_size;
    c.grid[0] = grid.x;
    c.grid[1] = grid.y;
    c.grid[2] = grid.z;
    c.block[0] = block.x;
    c.block[1] = block.y;
    c.block[2] = block.z;
    size_t i = 0;
    for (const Arg& a : args) c.params[i++] = a.bits;
    return submit(std::span(&c, 1));
}

std::shared_ptr<Fence> Context::copy(uint64_t dst, uint64_t src, uint64_t size) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_COPY;
    c.dst = dst;
    c.src = src;
    c.size = size;
    return submit(std::span(&c, 1));
}

std::shared_ptr<Fence> Context::fill(uint64_t dst, uint64_t size, uint32_t value) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_FILL;
    c.dst = dst;
    c.size = size;
    c.value = value;
    return submit(std::span(&c, 1));
}

ContextStatus Context::status() const {
    drm_vgpu_ctx_status a{};
    a.ctx_id = id_;
    dev_->ioctl(DRM_IOCTL_VGPU_CTX_STATUS, &a, "VGPU_CTX_STATUS");
    return ContextStatus{static_cast<ContextState>(a.status), a.fault_addr, a.fault_kind, a.submitted, a.completed};
}

Context::Stack Context::raise_stack(uint32_t bytes) {
    drm_vgpu_ctx_stack a{};
    a.ctx_id = id_;
    a.stack_size = bytes;
    dev_->ioctl(DRM_IOCTL_VGPU_CTX_STACK, &a, "VGPU_CTX_STACK");
    return Stack{a.stack_size, a.charged};
}

void Context::check() const {
    auto st = status();
    if (st.state != ContextState::Ok) throw ContextError(st);
}

void Context::synchronize(std::chrono::nanoseconds timeout) {
    if (!last_) return check();
    if (!last_->wait(timeout)) throw Error(ETIME, "timed out waiting for the GPU");
    latency::stamp("libvgpu: fence waited");
    // A context's jobs run in order and an error cancels the ones after
    // it: the last fence tells whether anything failed, and the status
    // (a round trip to dom0 in a guest) is asked only then.
    if (int st = last_->status(); st < 0) {
        check();
        throw Error(-st, "submission failed");
    }
}

Buffer::Buffer(Context& ctx, size_t size, Domain domain, uint32_t perms)
    : ctx_(&ctx), size_(size), domain_(domain) {
    Device& dev = ctx.device();
    drm_vgpu_bo_create c{page_align(dev, size), static_cast<uint32_t>(domain), 0, 0, 0};
    int err = dev.try_ioctl(DRM_IOCTL_VGPU_BO_CREATE, &c);
    // The client's host-memory quota: the context's idle staging objects
    // give way (Context::kStagingChunk).
    if (err == EDQUOT && domain == Domain::Host && ctx.drop_idle_staging())
        err = dev.try_ioctl(DRM_IOCTL_VGPU_BO_CREATE, &c);
    if (err) throw Error(err, "VGPU_BO_CREATE");
    handle_ = c.handle;
    try {
        if (domain == Domain::Host) {
            drm_vgpu_bo_mmap_offset m{handle_, 0, 0};
            dev.ioctl(DRM_IOCTL_VGPU_BO_MMAP_OFFSET, &m, "VGPU_BO_MMAP_OFFSET");
            void* p = nullptr;
            if (int err = dev.transport().map(m.offset, page_align(dev, size), &p))
                throw Error(err, "mmap of a host buffer");
            cpu_ = p;
        }
        va_ = ctx.reserve_va(size);
        // A failed bind may have mapped part of the range (naive mode
        // maps page by page): its addresses are not given back.
        ctx.bind(handle_, va_, size, perms);
    } catch (...) {
        if (cpu_) dev.transport().unmap(cpu_, page_align(dev, size_));
        drm_vgpu_bo_destroy d{handle_, 0};
        dev.try_ioctl(DRM_IOCTL_VGPU_BO_DESTROY, &d);
        throw;
    }
}

Buffer::Buffer(Buffer&& o) noexcept
    : ctx_(o.ctx_), handle_(std::exchange(o.handle_, 0)), va_(o.va_), size_(o.size_), domain_(o.domain_),
      cpu_(std::exchange(o.cpu_, nullptr)) {}

Buffer::~Buffer() {
    if (!handle_) return;
    const Device& dev = ctx_->device();
    // The addresses serve again only once nothing is mapped there.
    if (!ctx_->vm_bind({DRM_VGPU_BIND_UNMAP, 0, 0, 0, 0, va_, page_align(dev, size_)}))
        ctx_->release_va(va_, size_);
    if (cpu_) dev.transport().unmap(cpu_, page_align(dev, size_));
    drm_vgpu_bo_destroy d{handle_, 0};
    dev.try_ioctl(DRM_IOCTL_VGPU_BO_DESTROY, &d);
}

void Buffer::write(std::span<const std::byte> src, size_t offset) {
    if (offset > size_ || src.size() > size_ - offset) throw Error(EINVAL, "Buffer::write out of range");
    if (cpu_) {
        std::memcpy(static_cast<std::byte*>(cpu_) + offset, src.data(), src.size());
        return;
    }
    // Chunk by chunk, the staging objects in turn: one is filled while
    // the engine copies from the other (one alone where the quota allows
    // no second).
    struct Call {  // the objects released however the call ends
        Context* c;
        ~Call() { c->staging_release(); }
    } call{ctx_};
    const size_t chunk = ctx_->staging_chunk(src.size());
    const size_t slots = ctx_->staging_slots(src.size(), chunk);
    for (size_t done = 0, k = 0; done < src.size(); done += chunk, k++) {
        size_t n = std::min(chunk, src.size() - done);
        int i = static_cast<int>(k % slots);
        Buffer& st = ctx_->staging(i, n);
        ctx_->device().cpu_copy(st.data(), src.data() + done, n);
        ctx_->staging_busy(i, ctx_->copy(va_ + offset + done, st.gpu_addr(), n));
    }
    ctx_->staging_done();  // every chunk's COPY checked
    ctx_->synchronize();
}

void Buffer::read(std::span<std::byte> dst, size_t offset) const {
    if (offset > size_ || dst.size() > size_ - offset) throw Error(EINVAL, "Buffer::read out of range");
    if (cpu_) {
        ctx_->synchronize();
        std::memcpy(dst.data(), static_cast<const std::byte*>(cpu_) + offset, dst.size());
        return;
    }
    // Two chunks in flight (where the quota allows two staging objects):
    // the CPU copies one out while the engine copies the next into the
    // other.
    struct Call {  // the objects released however the call ends
        Context* c;
        ~Call() { c->staging_release(); }
    } call{ctx_};
    const size_t chunk = ctx_->staging_chunk(dst.size()), chunks = (dst.size() + chunk - 1) / chunk;
    const size_t slots = ctx_->staging_slots(dst.size(), chunk);
    auto start = [&](size_t k) {
        size_t n = std::min(chunk, dst.size() - k * chunk);
        int i = static_cast<int>(k % slots);
        Buffer& st = ctx_->staging(i, n);
        ctx_->staging_busy(i, ctx_->copy(st.gpu_addr(), va_ + offset + k * chunk, n));
    };
    for (size_t k = 0; k < chunks && k < slots; k++) start(k);
    for (size_t k = 0; k < chunks; k++) {
        size_t n = std::min(chunk, dst.size() - k * chunk);
        Buffer& st = ctx_->staging(static_cast<int>(k % slots), n);  // its COPY done
        ctx_->device().cpu_copy(dst.data() + k * chunk, st.data(), n);
        if (k + slots < chunks) start(k + slots);
    }
    ctx_->staging_done();
}

void Buffer::protect(uint32_t perms) {
    ctx_->synchronize();
    ctx_->unbind(va_, size_);
    ctx_->bind(handle_, va_, size_, perms);
}

Module::Module(Context& ctx, const ModuleImage& img) : img_(img) {
    // Upload through a writable mapping, then run from a read+execute one.
    size_t bytes = img.code.size() * sizeof(uint64_t);
    code_ = std::make_unique<Buffer>(ctx, bytes, Domain::Device, DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE);
    code_->write(std::as_bytes(std::span(img.code)));
    code_->protect(DRM_VGPU_BIND_READ | DRM_VGPU_BIND_EXEC);
}

ModuleImage Module::load_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(errno ? errno : ENOENT, "open module " + path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return ModuleImage::parse(bytes);
}

Kernel Module::kernel(const std::string& name) const {
    const KernelInfo& k = img_.kernel(name);
    return Kernel{code_->gpu_addr() + k.offset, k.shared_size, k.num_params, k.name};
}

}  // namespace vgpu
