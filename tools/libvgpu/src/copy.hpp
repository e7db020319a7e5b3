// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// copy.hpp - the CPU's part of a staged copy (Buffer::write and read):
// the one copy of every byte that a pageable cudaMemcpy makes on the
// CPU, into or out of a staging object (Documentation/design.rst).  One
// thread copied at 4-7 GB/s on the H100 machine, where NVIDIA's runtime
// moved pageable memory at 5-11 GB/s; split among four threads it
// copied at 13-16 GB/s.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace vgpu::detail {

// Copies @n bytes from @src to @dst (not overlapping) with stores that
// bypass the CPU's caches where the CPU has them (x86-64: SSE2's
// non-temporal stores, then a store fence), memcpy() elsewhere and for
// a copy too small to gain from it: no read of the destination's lines
// before they are written, and a copy that does not evict what the
// program holds in the cache.
void stream_copy(void* dst, const void* src, size_t n) noexcept;

// stream_copy() where @stream, else memcpy().
void copy_bytes(void* dst, const void* src, size_t n, bool stream) noexcept;

// The staging chunk, whether copies stream, and how many helper threads
// copy beside the caller, as the environment says (VGPU_STAGING_CHUNK_KB,
// VGPU_STAGING_STREAM, VGPU_COPY_THREADS; Documentation/design.rst),
// read once.
size_t staging_chunk_bytes(size_t dflt) noexcept;
bool staging_stream() noexcept;
unsigned copy_helpers_wanted() noexcept;

// Threads that copy parts of a large copy beside its caller, one call at
// a time: a call made while another has them, or from a process forked
// since they started, copies alone.  A helper between calls polls for
// the next one for the process's spin budget (vgpu/spin.hpp), then
// sleeps.
class CopyHelpers {
public:
    // Below this a copy is made by its caller alone.
    static constexpr size_t kMinBytes = 1 << 20;

    // Up to @n helpers (fewer where the system refuses threads).
    explicit CopyHelpers(unsigned n);
    ~CopyHelpers();
    CopyHelpers(const CopyHelpers&) = delete;
    CopyHelpers& operator=(const CopyHelpers&) = delete;

    // Copies @n bytes (stream_copy() where @stream, else memcpy() each
    // part); returns once every byte is copied.
    void copy(void* dst, const void* src, size_t n, bool stream);
    unsigned helpers() const noexcept { return static_cast<unsigned>(threads_.size()); }
    // Parts the helpers have copied (tests).
    unsigned long parts_copied() const noexcept { return parts_copied_.load(std::memory_order_relaxed); }
    // Whether this process started the helpers: a child forked since
    // has none of their threads, and must neither use nor end them
    // (Device::~Device leaves them be there).
    bool started_here() const noexcept;

private:
    struct Part {
        unsigned char* dst = nullptr;
        const unsigned char* src = nullptr;
        size_t n = 0;
        bool stream = false;
    };
    void run(unsigned i);

    std::mutex busy_;              // held by the call that has the helpers
    std::mutex m_;                 // protects parts_, stop_; gen_ changes under it
    std::condition_variable go_;   // a new call's parts, or the end
    std::condition_variable done_; // left_ reached 0
    std::vector<Part> parts_;      // helper i's part of the current call
    std::atomic<unsigned long> gen_{0};  // one more per call
    std::atomic<unsigned> left_{0};      // parts of the call not yet copied
    std::atomic<unsigned long> parts_copied_{0};
    bool stop_ = false;
    const pid_t pid_;
    std::vector<std::thread> threads_;   // last: they start once the rest is made
};

}  // namespace vgpu::detail
