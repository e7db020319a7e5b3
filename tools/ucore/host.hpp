// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// host.hpp - what code driving vgpu-engined's back ends in its own
// process shares (libcudart's engine backends, the core in a process:
// core_transport.hpp): the thread every call into a back end is made
// on, and host memory that the back end's workers can map.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "vgpu/fd.hpp"
#include "vgpu/latency.hpp"
#include "vgpu/spin.hpp"
#include "vgpu_uengine.h"

namespace vgpu::engine {
class Backend;
}

namespace gpuvm::ucore {

// vgpu-engined's back end in workers of @exe (`-b cuda` on GPU @dev
// when @gpu, else `-b interp`) through a Router in this process, with
// @mem bytes of device memory this process holds, host memory from
// @windows_fd's windows; the program's LD_PRELOAD not passed on.
// *@ctx_mem (where given): the device memory each worker holds for its
// context (SharedMemory::context_memory()); *@max_stack and
// *@stack_threads (where given): the largest call stack a context may be
// given and the threads it is held for (SharedMemory::max_stack(),
// stack_threads(); 0 where none is, as vgpu-engined's HELLO says).
// Throws vgpu::engine::Unavailable (no GPU) or std::system_error.
std::unique_ptr<vgpu::engine::Backend> make_worker_engine(bool gpu, int dev, uint64_t mem, int windows_fd,
                                                          const std::string& exe, uint64_t* ctx_mem = nullptr,
                                                          uint32_t* max_stack = nullptr,
                                                          uint64_t* stack_threads = nullptr);

// One thread that makes every call into the engine's back end: a CUDA
// driver context is current on the thread that made it, and programs call
// the runtime from any thread (simpleCallback: eight).  vgpu-engined runs
// its back end on one thread too.  call() runs @f there and returns its
// result or rethrows its exception; the runtime's lock already makes
// calls one at a time.  post() queues @f there without waiting for it.
class EngineThread {
public:
    EngineThread() : t_([this] { loop(); }) {}
    ~EngineThread() {
        {
            std::lock_guard<std::mutex> g(m_);
            stop_ = true;
        }
        cv_.notify_all();
        t_.join();
    }
    template <typename F>
    auto call(F&& f) -> decltype(f()) {
        // Shared: the engine thread may still be inside the task when
        // the caller's get() returns.
        auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::forward<F>(f));
        auto fut = task->get_future();
        {
            std::lock_guard<std::mutex> g(m_);
            jobs_.push_back({[task] { (*task)(); }, true});
            queued_.fetch_add(1, std::memory_order_release);
        }
        cv_.notify_all();
        return fut.get();
    }
    // Queues @f to run there, in order with call()s; not waited for.
    // @f must not throw (nobody would see it).  @hot: more is likely to
    // follow at once (a SUBMIT's slice), so the thread polls for it
    // before it sleeps; a tick's slice is not.
    void post(std::function<void()> f, bool hot = true) {
        {
            std::lock_guard<std::mutex> g(m_);
            jobs_.push_back({std::move(f), hot});
            queued_.fetch_add(1, std::memory_order_release);
        }
        cv_.notify_all();
    }
    // Whether the caller is the engine's thread.
    bool here() const noexcept { return std::this_thread::get_id() == t_.get_id(); }

private:
    std::mutex m_;  // protects jobs_, stop_
    std::condition_variable cv_;
    struct Task {
        std::function<void()> f;
        bool hot;  // poll for the next one after it
    };
    std::deque<Task> jobs_;
    // jobs_.size(), also read without m_: the idle thread polls it for a
    // while (vgpu/spin.hpp) before it sleeps on cv_.
    std::atomic<size_t> queued_{0};
    bool stop_ = false;
    std::thread t_;  // last: starts once the rest is built

    void loop() {
        std::unique_lock<std::mutex> g(m_);
        bool hot = false;  // the last task's
        for (;;) {
            if (hot && jobs_.empty() && !stop_) {
                g.unlock();
                vgpu::spin_until([this] { return queued_.load(std::memory_order_acquire) != 0; },
                                 vgpu::spin_budget_ns());
                g.lock();
            }
            cv_.wait(g, [this] { return stop_ || !jobs_.empty(); });
            if (jobs_.empty())
                return;
            Task job = std::move(jobs_.front());
            jobs_.pop_front();
            queued_.fetch_sub(1, std::memory_order_relaxed);
            g.unlock();
            if (job.hot)  // not the tick's slices (an idle core's, each 1 ms)
                vgpu::latency::stamp("engine thread: task");
            job.f();
            hot = job.hot;
            g.lock();
        }
    }
};

// Host memory a worker can map: WorkerBackend passes host memory to its
// workers only as whole windows of one descriptor (router.hpp), as
// vgpu-uengine passes a guest's pages as windows of the bridge's device.
// A window of a memfd per allocation; used on the engine's thread only.
class HostWindows {
public:
    // Of 64 GiB each: the memfd's 2^52 bytes, sparse (vgpu-uengine's
    // window ids go to 2^27).
    static constexpr uint64_t kWindows = uint64_t{1} << 16;
    HostWindows() : fd_(memfd_create("gpuvm-cuda-host", MFD_CLOEXEC)) {
        if (!fd_ || ftruncate(fd_.get(), static_cast<off_t>(kWindows << VGPU_UE_WINDOW_SHIFT)) < 0)
            throw std::runtime_error(std::string("no memfd for host memory: ") + std::strerror(errno));
    }
    int fd() const { return fd_.get(); }
    // @bytes of a free window mapped here (null if none is left, it is
    // larger than a window, or memory runs out); its offset in the memfd
    // in *@off.
    void* take(uint64_t bytes, uint64_t* off) noexcept {
        uint64_t w = free_.empty() ? next_ : *free_.begin();
        if (w >= kWindows || !bytes || bytes > (uint64_t{1} << VGPU_UE_WINDOW_SHIFT))
            return nullptr;
        *off = w << VGPU_UE_WINDOW_SHIFT;
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), static_cast<off_t>(*off));
        if (p == MAP_FAILED)
            return nullptr;
        try {
            maps_[static_cast<uint8_t*>(p)] = {bytes, *off};
        } catch (const std::bad_alloc&) {
            munmap(p, bytes);
            return nullptr;
        }
        if (free_.empty())
            next_++;
        else
            free_.erase(free_.begin());
        return p;
    }
    // The window holding [@p, @p + @n): its memfd offset of @p, or false.
    bool find(const uint8_t* p, uint64_t n, uint64_t* off) const {
        auto it = maps_.upper_bound(p);
        if (it == maps_.begin())
            return false;
        --it;
        uint64_t at = static_cast<uint64_t>(p - it->first);
        if (at > it->second.first || n > it->second.first - at)
            return false;
        *off = it->second.second + at;
        return true;
    }
    // Its pages freed, so that the window is zero when it serves again
    // (zeroed here where they cannot be).
    void give_back(void* p, uint64_t bytes, uint64_t off) noexcept {
        if (fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                      static_cast<off_t>(bytes)) != 0)
            std::memset(p, 0, bytes);
        munmap(p, bytes);
        maps_.erase(static_cast<uint8_t*>(p));
        try {
            free_.insert(off >> VGPU_UE_WINDOW_SHIFT);
        } catch (const std::bad_alloc&) {
            // The window is not used again: nothing worse.
        }
    }

private:
    vgpu::Fd fd_;
    uint64_t next_ = 1;          // the lowest window id never taken
    std::set<uint64_t> free_;    // window ids given back
    std::map<const uint8_t*, std::pair<uint64_t, uint64_t>> maps_;  // mapping -> (bytes, memfd offset)
};

}  // namespace gpuvm::ucore
