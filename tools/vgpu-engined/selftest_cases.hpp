// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// selftest_cases.hpp - the self-test's cases (selftest_cases.cpp): every
// opcode, every fault class, barriers with exited threads, warps, atomics,
// copies and fills, preemption and the watchdog.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "selftest.hpp"

namespace vgpu::engine {

constexpr uint64_t kCode = 0x100000, kIn = 0x1000000, kOut = 0x4000000, kAux = 0x8000000;

// What a test produced: statuses and bytes, compared as a whole.
struct Digest {
    std::string bytes;
    std::string what;  // the statuses, readable
    std::string note;  // printed, not compared (slices differ between back ends)
    bool late = false; // a watchdog's end came late: a failure whatever the reference did
    void status(const char* name, const RunResult& r) {
        char b[160];
        std::snprintf(b, sizeof(b), "%s: status %d fault %u at 0x%llx; ", name, static_cast<int>(r.status),
                      r.fault_kind, static_cast<unsigned long long>(r.fault_addr));
        what += b;
        bytes += b;
    }
    void data(const std::vector<uint8_t>& v) { bytes.append(v.begin(), v.end()); }
    // Whether a watchdog's end came in time (compared, and a failure alone).
    void timing(bool in_time) {
        what += in_time ? "ended in time; " : "LATE; ";
        bytes += in_time ? "in time" : "late";
        late = late || !in_time;
    }
};

struct Test {
    std::string name;
    std::function<Digest(Session&)> run;
};

// Runs @c as vgpu-back does (RUNs of kSliceNs, a kWatchdogNs watchdog)
// until it ends; records its status and whether the watchdog ended it in
// time: the whole within watchdog + kBoundNs, every RUN within its slice
// + kBoundNs.
constexpr uint64_t kSliceNs = 10000000, kWatchdogNs = 500000000, kBoundNs = 1000000000;
void watched(Session& s, Digest& d, const char* name, const drm_vgpu_cmd& c);

std::vector<Test> isa_cases(const std::string& kernel_dir);
// Launches that name their PTX (selftest_ptx.cpp).
std::vector<Test> ptx_cases();

}  // namespace vgpu::engine
