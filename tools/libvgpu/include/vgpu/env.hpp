// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu::env_number(): a number from the environment, read one way by
// every knob of libvgpu, vgpu-engined and the CUDA runtime.  Header-only
// (vgpu-engined and libcudart use it without libvgpu).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace vgpu {

// What @name holds: @set false where it is unset or empty; else @ok
// where it is a decimal number (digits only) in [lo, hi], then @value.
struct EnvNumber {
    bool set = false;
    bool ok = false;
    uint64_t value = 0;
};

inline EnvNumber env_number(const char* name, uint64_t lo, uint64_t hi) noexcept {
    EnvNumber n;
    const char* s = std::getenv(name);
    if (!s || !*s)
        return n;
    n.set = true;
    if (*s < '0' || *s > '9')  // strtoull takes signs and spaces
        return n;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (*end || errno == ERANGE || v < lo || v > hi)
        return n;
    n.ok = true;
    n.value = v;
    return n;
}

// @name's number in [lo, hi], or @dflt where unset or anything else.
inline uint64_t env_number_or(const char* name, uint64_t dflt, uint64_t lo, uint64_t hi) noexcept {
    EnvNumber n = env_number(name, lo, hi);
    return n.ok ? n.value : dflt;
}

}  // namespace vgpu
