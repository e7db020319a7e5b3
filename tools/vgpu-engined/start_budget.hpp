// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// start_budget.hpp - how much of the engine process's time the worker
// starts of one scheduling group may take (the Router's pacing;
// Documentation/engines.rst, "Workers": "Paced starts").
//
// A worker's start holds the engine process up (a new process and, on
// the GPU, its CUDA context: 180-194 ms on an H200) while every other
// context's request waits, and a spare taken at once has its successor
// started beside the requests on dom0's CPUs.  A guest whose kernels
// fault on purpose (each fault costs its worker), or that makes and
// destroys contexts in a loop, would have dom0 start workers for it
// without end.  So each group (CTX_CREATE's: a guest, or dom0's
// clients) has a bucket of engine-process time: full at first (@burst_ns:
// a guest making all its contexts at once, with room to spare), it
// refills at @per_mille of the wall clock, and each start takes what it
// held the engine process up for (the wait for the context's last
// worker to be gone, the start, the replay of its mappings), at least
// @floor_ns: what a start costs on that back end, which a taken spare
// costs too (its successor starts beside the requests).  A start is
// allowed while the bucket is not empty.  Group 0 (none: the self-test,
// GPUvm's runtime's in-process engine back end) is not paced: the module
// and the core built into a program (tools/ucore) number groups from 1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

namespace vgpu::engine {

struct StartLimits {
    uint64_t burst_ns = 4'000'000'000;
    uint64_t per_mille = 50;  // 5% of the wall clock: 1 in 20 s of the engine process
    uint64_t floor_ns = 20'000'000;
};

// The limits for a back end: on the GPU a start is a CUDA context
// (180-194 ms on an H200, engines.rst), which a taken spare's successor
// costs as well; the interpreter's worker starts in milliseconds.
inline StartLimits start_limits_for(bool gpu) {
    StartLimits l;
    if (gpu)
        l.floor_ns = 190'000'000;
    return l;
}

class StartBudget {
public:
    using Limits = StartLimits;

    explicit StartBudget(Limits l = {}) : l_(clamped(l)) {}
    void set_limits(Limits l) {
        l_ = clamped(l);
        debts_.clear();
    }
    const Limits& limits() const { return l_; }

    // Whether group @g may start a worker at @now (now_ns()); if not,
    // from when it may, in *@at.
    bool allows(uint64_t g, uint64_t now, uint64_t* at) {
        if (!g)
            return true;
        uint64_t d = debt(g, now), full = l_.burst_ns * 1000;
        if (d < full)
            return true;
        // Refilled by (d - full + 1) thousandths of a ns, per_mille a ns.
        *at = now + (d - full + 1 + l_.per_mille - 1) / l_.per_mille;
        return false;
    }
    // Charges @g a start that held the engine process @ns, at @now.
    void charge(uint64_t g, uint64_t ns, uint64_t now) {
        if (!g)
            return;
        // At least the floor, at most a burst (or the floor, if more).
        ns = std::max(l_.floor_ns, std::min(ns, std::max(l_.burst_ns, l_.floor_ns)));
        debts_[g] = {debt(g, now) + ns * 1000, now};
    }
    // Forgets the groups whose bucket is full again (bounded memory:
    // only groups that started a worker in the last burst_ns / per_mille
    // of the wall clock have an entry).
    void prune(uint64_t now) {
        for (auto it = debts_.begin(); it != debts_.end();)
            it = refill(it->second, now) ? std::next(it) : debts_.erase(it);
    }
    size_t groups() const { return debts_.size(); }

private:
    // In thousandths of a ns, so that a refill (per_mille thousandths a
    // ns of the clock) is exact however often the bucket is looked at.
    struct Debt {
        uint64_t m;   // what the group's bucket lacks of full (< 2 bursts)
        uint64_t at;  // as of (now_ns())
    };

    static Limits clamped(Limits l) {
        l.per_mille = std::clamp<uint64_t>(l.per_mille, 1, 1000);
        l.burst_ns = std::clamp<uint64_t>(l.burst_ns, 1, uint64_t{1} << 40);  // 18 min: no overflow below
        l.floor_ns = std::min<uint64_t>(l.floor_ns, uint64_t{1} << 40);
        return l;
    }
    // @e refilled up to @now; its debt after.
    uint64_t refill(Debt& e, uint64_t now) {
        if (now > e.at) {
            // 2^50 * 1000 < 2^64; 2^50 ns (13 days) refill any debt of
            // the default limits (at per_mille 1, up to 2^47 ns of it).
            uint64_t back = std::min<uint64_t>(now - e.at, uint64_t{1} << 50) * l_.per_mille;
            e.m -= std::min(e.m, back);
            e.at = now;
        }
        return e.m;
    }
    uint64_t debt(uint64_t g, uint64_t now) {
        auto it = debts_.find(g);
        return it == debts_.end() ? 0 : refill(it->second, now);
    }

    Limits l_;
    std::map<uint64_t, Debt> debts_;
};

}  // namespace vgpu::engine
