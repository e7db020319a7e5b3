// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// spin.hpp - a short busy wait before a sleep, where a peer usually
// answers within microseconds: a worker's answer to its engine process,
// the next request to a worker, a job posted to the engine's thread, a
// fence a program waits on.  A sleeping thread's wake-up costs a system
// call on the waker's side and, on the sleeper's, the scheduler's and
// the idle CPU's exit latency (tens of microseconds in a virtual
// machine); an empty launch and its wait make four such hand-offs.
//
// The policy is NVIDIA's own for a CUDA context (cudaDeviceScheduleAuto:
// spin while there are CPUs to spare, else yield), bounded: a waiter
// polls for at most spin_budget_ns() and then sleeps as before.  Set
// VGPU_SPIN_US (0 .. 10000) to choose; the default is 500 us where the
// process may run on 8 CPUs or more (a 16 MiB copy's DMA and its
// answer: 0.31-0.36 ms on the H100, which a 100 us budget slept
// through, waking 20-40 us late) and none on fewer, where a spinning
// thread would take the CPU its peer needs (the 2-CPU test bed).
#pragma once

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace vgpu {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

// The default busy-wait budget for @cpus usable CPUs, ns.
constexpr uint64_t default_spin_ns(int cpus) { return cpus >= 8 ? 500000 : 0; }

// The budget from VGPU_SPIN_US's text @e (null: not set) on @cpus CPUs,
// ns; an unreadable or out-of-range value is said once on stderr and the
// default taken.
inline uint64_t parse_spin_ns(const char* e, int cpus) {
    if (e) {
        char* end = nullptr;
        unsigned long us = std::strtoul(e, &end, 10);
        if (*e >= '0' && *e <= '9' && end && !*end && us <= 10000)
            return uint64_t{us} * 1000;
        std::fprintf(stderr, "gpuvm: VGPU_SPIN_US=%s is not a number of microseconds from 0 to 10000: "
                             "ignored\n", e);
    }
    return default_spin_ns(cpus);
}

// This process's budget, read once.
inline uint64_t spin_budget_ns() {
    static const uint64_t ns = [] {
        cpu_set_t set;
        int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
        return parse_spin_ns(std::getenv("VGPU_SPIN_US"), cpus);
    }();
    return ns;
}

// This process's budget, no further than @until.
inline uint64_t spin_budget_ns(std::chrono::steady_clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(until - std::chrono::steady_clock::now()).count();
    return left > 0 ? std::min(spin_budget_ns(), static_cast<uint64_t>(left)) : 0;
}

// Polls @ready() until it is true or @budget_ns have passed; whether it
// became true.  @ready may be a system call (a poll with no timeout).
template <typename F>
bool spin_until(F&& ready, uint64_t budget_ns) {
    if (!budget_ns)
        return false;
    const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(budget_ns);
    for (;;) {
        if (ready())
            return true;
        if (std::chrono::steady_clock::now() >= end)
            return false;
        cpu_relax();
    }
}

}  // namespace vgpu
