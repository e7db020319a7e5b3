// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// copy.cpp - the CPU's part of a staged copy (copy.hpp).
#include "copy.hpp"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "vgpu/env.hpp"
#include "vgpu/spin.hpp"

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace vgpu::detail {

namespace {

// Below this a copy stays in the cache (memcpy()): its lines are few
// and the fence would cost more than the reads it saves.
constexpr size_t kStreamMin = 64 << 10;

// @name as a number in [@lo, @hi], or @dflt where unset or not one.
size_t env_size(const char* name, size_t dflt, size_t lo, size_t hi) noexcept {
    return static_cast<size_t>(vgpu::env_number_or(name, dflt, lo, hi));
}

}  // namespace

void stream_copy(void* dst, const void* src, size_t n) noexcept {
#if defined(__x86_64__)
    if (n >= kStreamMin) {
        auto* d = static_cast<unsigned char*>(dst);
        const auto* s = static_cast<const unsigned char*>(src);
        size_t head = (16 - (reinterpret_cast<uintptr_t>(d) & 15)) & 15;
        std::memcpy(d, s, head);
        d += head;
        s += head;
        n -= head;
        for (; n >= 64; n -= 64, d += 64, s += 64) {
            __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
            __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
            __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32));
            __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 48));
            _mm_stream_si128(reinterpret_cast<__m128i*>(d), a);
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + 16), b);
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + 32), c);
            _mm_stream_si128(reinterpret_cast<__m128i*>(d + 48), e);
        }
        // The streamed stores are seen before anything after the copy
        // (the COPY's submission, the program's reads).
        _mm_sfence();
        std::memcpy(d, s, n);
        return;
    }
#endif
    std::memcpy(dst, src, n);
}

void copy_bytes(void* dst, const void* src, size_t n, bool stream) noexcept {
    if (stream)
        stream_copy(dst, src, n);
    else
        std::memcpy(dst, src, n);
}

size_t staging_chunk_bytes(size_t dflt) noexcept {
    static const size_t kb = env_size("VGPU_STAGING_CHUNK_KB", dflt >> 10, 64, 64 << 10);
    return kb << 10;
}

bool staging_stream() noexcept {
    static const bool on = env_size("VGPU_STAGING_STREAM", 1, 0, 1) == 1;
    return on;
}

// Three beside the caller where the process may use 4 CPUs or more,
// one fewer than it may use below that (none on one CPU).
unsigned copy_helpers_wanted() noexcept {
    static const unsigned n = [] {
        cpu_set_t set;
        int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
        size_t dflt = static_cast<size_t>(std::clamp(cpus - 1, 0, 3));
        return static_cast<unsigned>(env_size("VGPU_COPY_THREADS", dflt, 0, 15));
    }();
    return n;
}

namespace {
// While it lives, this thread blocks the signals sent to the process
// (threads it starts inherit the mask), not those a fault raises: a
// program's SIGSEGV handler (guard pages, a garbage collector's write
// barrier) still runs for a fault in a helper's part of its copy.
class AsyncSignalsBlocked {
public:
    AsyncSignalsBlocked() {
        sigset_t set;
        sigfillset(&set);
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS})
            sigdelset(&set, sig);
        pthread_sigmask(SIG_BLOCK, &set, &old_);
    }
    ~AsyncSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
    AsyncSignalsBlocked(const AsyncSignalsBlocked&) = delete;
    AsyncSignalsBlocked& operator=(const AsyncSignalsBlocked&) = delete;

private:
    sigset_t old_;
};
}  // namespace

CopyHelpers::CopyHelpers(unsigned n) : parts_(n), pid_(getpid()) {
    threads_.reserve(n);
    AsyncSignalsBlocked blocked;  // a signal for the process goes to the program's threads
    for (unsigned i = 0; i < n; i++) {
        try {
            threads_.emplace_back([this, i] { run(i); });
        } catch (...) {
            break;  // the system has no more threads or memory: fewer helpers
        }
    }
}

CopyHelpers::~CopyHelpers() {
    {
        std::lock_guard l(m_);
        stop_ = true;
    }
    go_.notify_all();
    for (auto& t : threads_)
        t.join();
}

void CopyHelpers::run(unsigned i) {
    unsigned long seen = 0;
    for (;;) {
        spin_until([&] { return gen_.load(std::memory_order_acquire) != seen; }, spin_budget_ns());
        Part p;
        {
            std::unique_lock l(m_);
            go_.wait(l, [&] { return stop_ || gen_.load(std::memory_order_relaxed) != seen; });
            if (stop_)
                return;
            seen = gen_.load(std::memory_order_relaxed);
            p = parts_[i];
        }
        copy_bytes(p.dst, p.src, p.n, p.stream);
        parts_copied_.fetch_add(1, std::memory_order_relaxed);
        if (left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard l(m_);  // the caller waits under it
            done_.notify_one();
        }
    }
}

bool CopyHelpers::started_here() const noexcept { return getpid() == pid_; }

void CopyHelpers::copy(void* dst, const void* src, size_t n, bool stream) {
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    std::unique_lock call(busy_, std::try_to_lock);
    const size_t h = threads_.size();
    if (!call || !h || n < kMinBytes || !started_here())
        return copy_bytes(d, s, n, stream);
    // Helper i copies part i, the caller the last (with the rest).
    const size_t part = (n / (h + 1)) & ~size_t{63};
    {
        std::lock_guard l(m_);
        for (size_t i = 0; i < h; i++)
            parts_[i] = {d + i * part, s + i * part, part, stream};
        left_.store(static_cast<unsigned>(h), std::memory_order_relaxed);
        gen_.fetch_add(1, std::memory_order_release);
    }
    go_.notify_all();
    copy_bytes(d + h * part, s + h * part, n - h * part, stream);
    if (!spin_until([&] { return left_.load(std::memory_order_acquire) == 0; }, spin_budget_ns())) {
        std::unique_lock l(m_);
        done_.wait(l, [&] { return left_.load(std::memory_order_acquire) == 0; });
    }
}

}  // namespace vgpu::detail
