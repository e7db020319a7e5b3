// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// copy.cpp - the CPU's part of a staged copy (copy.hpp).
#include "copy.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

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
    const char* s = std::getenv(name);
    if (!s || !*s)
        return dflt;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (*end || v < lo || v > hi)
        return dflt;
    return static_cast<size_t>(v);
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

size_t staging_chunk_bytes(size_t dflt) noexcept {
    static const size_t kb = env_size("VGPU_STAGING_CHUNK_KB", dflt >> 10, 64, 64 << 10);
    return kb << 10;
}

bool staging_stream() noexcept {
    static const bool on = env_size("VGPU_STAGING_STREAM", 0, 0, 1) == 1;
    return on;
}

}  // namespace vgpu::detail
