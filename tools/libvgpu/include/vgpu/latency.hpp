// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu::latency: where a launch's microseconds go, across the program,
// the core's engine thread, the Router and the worker.  With
// GPUVM_LATENCY_TRACE naming a directory, each call of stamp(NAME)
// records the CLOCK_MONOTONIC time (one clock for every process of the
// host) and NAME as a line of text in a file of that directory
// (latency.PID.N), mapped shared: what was stamped is there even when
// the process is killed (a worker dies with its engine process).
// tests/gpu/latency-trace.sh merges the files and prints the median of
// each step (a stamp to the next, whichever process stamped it).  Unset:
// one load of a constant per stamp.  A child forked without exec stamps
// nothing (its parent's file is not its own).  Header-only: vgpu-engined,
// libcudart and libvgpu stamp without linking each other (each shared
// object keeps a file of its own).
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

namespace vgpu::latency {

// Set in a child forked since a Recorder opened its file (pthread_atfork;
// not through Recorder::get(), which a fork during its first call would
// leave locked in the child).
inline std::atomic<bool> g_forked{false};

class Recorder {
public:
    // A line: 20 digits of nanoseconds, a space, the name (cut or padded
    // with spaces), a newline.
    static constexpr size_t kLine = 64, kName = kLine - 22;
    // The most stamps kept (later ones are dropped): about 5000 launches
    // of a dozen stamps each.
    static constexpr size_t kMax = size_t{1} << 16;

    // Null where there is no memory for it (then nothing is stamped).
    static Recorder* get() noexcept {
        // Never destroyed: threads may stamp while the process exits.
        static Recorder* r = new (std::nothrow) Recorder;
        return r;
    }
    bool on() const noexcept { return lines_ && !g_forked.load(std::memory_order_relaxed); }
    // @name at @ns (CLOCK_MONOTONIC); at most kName characters of it.
    void stamp_at(const char* name, uint64_t ns) noexcept {
        size_t i = next_.fetch_add(1, std::memory_order_relaxed);
        if (i >= kMax)
            return;
        // The name first, the time last: a line a kill cut short has no
        // 20 digits and is not read.
        char* l = lines_ + i * kLine;
        size_t n = strnlen(name, kName);
        std::memcpy(l + 21, name, n);
        std::memset(l + 21 + n, ' ', kName - n);
        l[kLine - 1] = '\n';
        l[20] = ' ';
        std::atomic_signal_fence(std::memory_order_release);  // the compiler keeps the digits last
        for (int d = 19; d >= 0; d--, ns /= 10)
            l[d] = char('0' + ns % 10);
    }
    static uint64_t now() noexcept {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
    }

private:
    std::atomic<size_t> next_{0};
    char* lines_ = nullptr;

    Recorder() noexcept {
        const char* dir = std::getenv("GPUVM_LATENCY_TRACE");
        if (!dir || !*dir)
            return;
        try {
            open_in(dir);
        } catch (const std::exception&) {
            lines_ = nullptr;  // no memory for the path: nothing stamped
        }
        if (lines_ && pthread_atfork(nullptr, nullptr, [] { g_forked.store(true, std::memory_order_relaxed); }))
            lines_ = nullptr;  // a forked child could not be told: nothing stamped
    }
    void open_in(const char* dir) {
        for (int n = 0; n < 16; n++) {
            std::string path = std::string(dir) + "/latency." + std::to_string(getpid()) + "." + std::to_string(n);
            int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0) {
                if (errno == EEXIST)
                    continue;
                return;
            }
            void* p = ftruncate(fd, kMax * kLine) ? MAP_FAILED
                                                  : mmap(nullptr, kMax * kLine, PROT_READ | PROT_WRITE, MAP_SHARED,
                                                         fd, 0);
            close(fd);
            if (p != MAP_FAILED)
                lines_ = static_cast<char*>(p);  // mapped for the process's life
            return;
        }
    }
};

// Whether stamps are recorded (to take a time for stamp_at()).
inline bool on() noexcept {
    Recorder* r = Recorder::get();
    return r && r->on();
}

// Records @name at @ns, taken earlier with Recorder::now() (a step known
// to matter only once it is over).
inline void stamp_at(const char* name, uint64_t ns) noexcept {
    if (on())
        Recorder::get()->stamp_at(name, ns);
}

// Records @name now where GPUVM_LATENCY_TRACE is set.
inline void stamp(const char* name) noexcept {
    if (on())
        Recorder::get()->stamp_at(name, Recorder::now());
}

}  // namespace vgpu::latency
