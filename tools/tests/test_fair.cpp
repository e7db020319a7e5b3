// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The weighted fair-share policy (common/vgpu_fair.c), driven as
// vgpu-back's scheduler drives it, against a simulated engine clock:
// clients with contexts, slices on a preemptible engine or whole jobs on
// one that cannot preempt, shares measured over 1-second windows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <vector>

extern "C" {
#include "vgpu_fair.h"
}

namespace {

constexpr uint64_t kMs = 1000000;
constexpr uint64_t kSec = 1000 * kMs;

struct Ctx {
    vgpu_fair_ent fair{};
    uint64_t job_ns = 20 * kMs;  // length of each job
    uint64_t left = 0;           // of the job in progress
};

struct Client {
    vgpu_fair_ent fair{};
    vgpu_fair level{};  // its contexts' level
    std::vector<Ctx> ctxs;
    bool busy = true;  // has work
    uint64_t overrun = 1;       // its slices take this many times their work
    unsigned stall_every = 0;   // every n-th slice of it the thread waits...
    uint64_t stall_ns = 0;      // ...this long for a CPU (dom0 preemption)
    unsigned slices = 0;
    uint64_t work_ns = 0;       // engine time its jobs used, stalls excluded
    std::vector<uint64_t> window_busy;
};

struct Sim {
    vgpu_fair top{};
    std::vector<Client> clients;
    uint64_t now = 0;
    uint64_t slice = 10 * kMs;
    bool preemptible = true;
    uint64_t idle_ns = 0;
    std::mt19937_64 rng{42};
    uint64_t jitter = 0;  // slices overrun by up to this much (TCG)

    explicit Sim(std::vector<uint32_t> weights, unsigned ctxs_each = 1) {
        vgpu_fair_init(&top);
        for (auto w : weights) {
            Client c;
            vgpu_fair_ent_init(&c.fair, w);
            vgpu_fair_init(&c.level);
            c.ctxs.resize(ctxs_each);
            for (auto& x : c.ctxs) vgpu_fair_ent_init(&x.fair, 2);
            clients.push_back(std::move(c));
        }
    }

    // One pick and one slice (or job), as vgpu_sched.c makes them.
    void step() {
        Client* best = nullptr;
        Ctx* best_ctx = nullptr;
        uint64_t wake = UINT64_MAX;
        for (auto& c : clients) {
            if (!c.busy) continue;
            if (vgpu_fair_throttled(&c.fair, now)) {
                wake = std::min<uint64_t>(wake, vgpu_fair_ready_at(&c.fair));
                continue;
            }
            Ctx* cx = nullptr;
            for (auto& x : c.ctxs) {
                vgpu_fair_compete(&c.level, &x.fair);
                if (!cx || vgpu_fair_before(&x.fair, &cx->fair)) cx = &x;
            }
            vgpu_fair_compete(&top, &c.fair);
            if (!best || vgpu_fair_before(&c.fair, &best->fair)) {
                best = &c;
                best_ctx = cx;
            }
        }
        if (!best) {
            uint64_t to = wake == UINT64_MAX ? now + kMs : wake;
            idle_ns += to - now;
            now = to;
            return;
        }
        vgpu_fair_picked(&top, &best->fair);
        vgpu_fair_picked(&best->level, &best_ctx->fair);
        if (!best_ctx->left) best_ctx->left = best_ctx->job_ns;
        uint64_t run = preemptible ? std::min(slice, best_ctx->left) : best_ctx->left;
        best_ctx->left -= run;
        run *= best->overrun;  // e.g. the bridge's shadow syncs
        if (jitter) run += rng() % jitter;
        best->work_ns += run;
        uint64_t waited = 0;
        if (best->stall_every && ++best->slices % best->stall_every == 0) waited = best->stall_ns;
        run += waited;
        account(*best, now, run);
        now += run;
        // As vgpu_sched.c charges a slice.
        uint64_t charge = vgpu_fair_slice_charge(run, waited);
        vgpu_fair_charge(&best->fair, charge, now);
        vgpu_fair_charge(&best_ctx->fair, charge, now);
    }

    // Splits @run at window boundaries into the client's windows.
    void account(Client& c, uint64_t t, uint64_t run) {
        while (run) {
            size_t w = t / kSec;
            uint64_t in = std::min(run, (w + 1) * kSec - t);
            if (c.window_busy.size() <= w) c.window_busy.resize(w + 1);
            c.window_busy[w] += in;
            t += in;
            run -= in;
        }
    }

    void run_until(uint64_t t) {
        while (now < t) step();
    }

    // Share of client @i in window @w (fraction of the window).
    double share(size_t i, size_t w) const {
        const auto& v = clients[i].window_busy;
        return w < v.size() ? static_cast<double>(v[w]) / kSec : 0;
    }

    double mean_share(size_t i, size_t from, size_t to) const {
        double s = 0;
        for (size_t w = from; w < to; w++) s += share(i, w);
        return s / static_cast<double>(to - from);
    }
};

double jain(const std::vector<double>& x) {
    double s = std::accumulate(x.begin(), x.end(), 0.0), q = 0;
    for (double v : x) q += v * v;
    return s * s / (static_cast<double>(x.size()) * q);
}

TEST(Fair, EqualWeightsShareEquallyInEveryWindow) {
    Sim s({100, 100, 100, 100});
    s.jitter = 5 * kMs;
    s.run_until(10 * kSec);
    for (size_t w = 1; w < 10; w++) {
        std::vector<double> x;
        for (size_t i = 0; i < 4; i++) x.push_back(s.share(i, w));
        EXPECT_GE(jain(x), 0.99) << "window " << w;
        for (double v : x) EXPECT_GE(v, 0.9 * 0.25) << "window " << w;
    }
    EXPECT_EQ(s.idle_ns, 0u);
}

TEST(Fair, ClientsAreFairNotContexts) {
    // Client 0 has 8 contexts, the others 1: still a quarter each.
    Sim s({100, 100, 100, 100});
    s.clients[0].ctxs.resize(8);
    for (auto& x : s.clients[0].ctxs) vgpu_fair_ent_init(&x.fair, 2);
    s.run_until(10 * kSec);
    for (size_t i = 0; i < 4; i++) EXPECT_NEAR(s.mean_share(i, 1, 10), 0.25, 0.01) << i;
}

TEST(Fair, WeightsGiveProportionalShares) {
    Sim s({100, 200, 400});
    s.jitter = 3 * kMs;
    s.run_until(10 * kSec);
    const double target[] = {1.0 / 7, 2.0 / 7, 4.0 / 7};
    for (size_t i = 0; i < 3; i++) EXPECT_NEAR(s.mean_share(i, 1, 10) / target[i], 1.0, 0.03) << i;
}

TEST(Fair, CapHoldsWhenAlone) {
    Sim s({100});
    ASSERT_EQ(vgpu_fair_set(&s.clients[0].fair, 100, 25, 0), 0);
    s.jitter = 4 * kMs;
    s.run_until(10 * kSec);
    for (size_t w = 1; w < 10; w++) EXPECT_NEAR(s.share(0, w), 0.25, 0.02) << "window " << w;
    EXPECT_NEAR(s.mean_share(0, 0, 10), 0.25, 0.005);
}

TEST(Fair, CapLimitsAndTheRestGoesToOthers) {
    Sim s({100, 100});
    ASSERT_EQ(vgpu_fair_set(&s.clients[0].fair, 100, 25, 0), 0);
    s.run_until(10 * kSec);
    EXPECT_NEAR(s.mean_share(0, 1, 10), 0.25, 0.01);
    EXPECT_NEAR(s.mean_share(1, 1, 10), 0.75, 0.01);
    EXPECT_EQ(s.idle_ns, 0u);
}

TEST(Fair, AnIdleClientsShareIsRedistributedAtOnce) {
    Sim s({100, 100, 100});
    s.run_until(5 * kSec);
    s.clients[2].busy = false;
    s.run_until(10 * kSec);
    // The first whole window after it stopped: half each.
    EXPECT_NEAR(s.share(0, 5), 0.5, 0.02);
    EXPECT_NEAR(s.share(1, 5), 0.5, 0.02);
    s.clients[2].busy = true;
    s.run_until(15 * kSec);
    // Back: no credit for the time it sat out, a third each at once.
    for (size_t i = 0; i < 3; i++) EXPECT_NEAR(s.share(i, 10), 1.0 / 3, 0.02) << i;
}

TEST(Fair, NonPreemptibleEngineChargesWholeJobs) {
    // Jobs of 50 ms against jobs of 5 ms: per-job accounting of measured
    // time still shares time, not jobs, but only at job granularity.
    Sim s({100, 100});
    s.preemptible = false;
    s.clients[0].ctxs[0].job_ns = 50 * kMs;
    s.clients[1].ctxs[0].job_ns = 5 * kMs;
    s.run_until(20 * kSec);
    EXPECT_NEAR(s.mean_share(0, 1, 20), 0.5, 0.03);
    EXPECT_NEAR(s.mean_share(1, 1, 20), 0.5, 0.03);
    // A window holds whole jobs only: 1 s / 50 ms leaves a coarser error.
    double worst = 0;
    for (size_t w = 1; w < 20; w++) worst = std::max(worst, std::abs(s.share(0, w) - 0.5));
    EXPECT_LE(worst, 0.06);
}

TEST(Fair, ContextsShareTheirClientsTimeByPriority) {
    Sim s({100});
    s.clients[0].ctxs.resize(3);
    const uint32_t w[] = {1, 2, 4};  // low, normal, high
    for (size_t i = 0; i < 3; i++) vgpu_fair_ent_init(&s.clients[0].ctxs[i].fair, w[i]);
    s.run_until(7 * kSec);
    const auto& c = s.clients[0].ctxs;
    double total = static_cast<double>(c[0].fair.busy_ns + c[1].fair.busy_ns + c[2].fair.busy_ns);
    EXPECT_NEAR(c[0].fair.busy_ns / total, 1.0 / 7, 0.01);
    EXPECT_NEAR(c[2].fair.busy_ns / total, 4.0 / 7, 0.01);
}

TEST(Fair, WeightChangeTakesEffectAtOnce) {
    Sim s({100, 100});
    s.run_until(3 * kSec);
    ASSERT_EQ(vgpu_fair_set(&s.clients[1].fair, 300, 0, s.now), 0);
    s.run_until(6 * kSec);
    EXPECT_NEAR(s.share(1, 3), 0.75, 0.02);
    EXPECT_NEAR(s.share(1, 5), 0.75, 0.02);
}

TEST(Fair, SettingsOutOfRangeAreRefusedAndChangeNothing) {
    vgpu_fair_ent e;
    vgpu_fair_ent_init(&e, 100);
    EXPECT_EQ(vgpu_fair_set(&e, 0, 0, 0), -EINVAL);
    EXPECT_EQ(vgpu_fair_set(&e, 1001, 0, 0), -EINVAL);
    EXPECT_EQ(vgpu_fair_set(&e, 100, 101, 0), -EINVAL);
    EXPECT_EQ(e.weight, 100u);
    EXPECT_EQ(e.cap, 0u);
    EXPECT_EQ(vgpu_fair_set(&e, 1000, 100, 0), 0);  // 100%: no cap
    EXPECT_EQ(e.cap, 0u);
    EXPECT_FALSE(vgpu_fair_throttled(&e, 0));
}

TEST(Fair, ThrottledClientKnowsWhenItMayRunAgain) {
    vgpu_fair_ent e;
    vgpu_fair_ent_init(&e, 100);
    ASSERT_EQ(vgpu_fair_set(&e, 100, 10, 0), 0);
    vgpu_fair_charge(&e, 30 * kMs, 30 * kMs);  // bucket 10 ms: 20 ms of debt
    ASSERT_TRUE(vgpu_fair_throttled(&e, 30 * kMs));
    uint64_t at = vgpu_fair_ready_at(&e);
    EXPECT_NEAR(static_cast<double>(at - 30 * kMs), 200.0 * kMs, 1.0 * kMs);
    EXPECT_TRUE(vgpu_fair_throttled(&e, at - kMs));
    EXPECT_FALSE(vgpu_fair_throttled(&e, at));
}

TEST(Fair, AnEngineThatOverrunsTenfoldGetsNoMoreThanItsShare) {
    // Client 0's slices take 10x their budget (the bridge syncing shadow
    // windows around every RUN): it is charged all of it, so it gets a
    // quarter of the engine, not 5x the others as when charging stopped
    // at twice the budget.
    Sim s({100, 100, 100, 100});
    s.clients[0].overrun = 10;
    s.run_until(20 * kSec);
    EXPECT_NEAR(s.mean_share(0, 1, 20), 0.25, 0.01);
    for (size_t w = 1; w < 20; w++) {
        // Its slices are 100 ms: a window holds 2 or 3 of them.
        EXPECT_LE(s.share(0, w), 0.25 + 0.1 + 0.01) << "window " << w;
        for (size_t i = 1; i < 4; i++) EXPECT_GE(s.share(i, w), 0.25 - 0.05) << i << " window " << w;
    }
    EXPECT_EQ(s.idle_ns, 0u);
}

TEST(Fair, OverrunsAreChargedWithWeights) {
    // Weights 1:2, the heavier client's engine overruns 8x: still 1:2.
    Sim s({100, 200});
    s.clients[1].overrun = 8;
    s.run_until(20 * kSec);
    EXPECT_NEAR(s.mean_share(0, 1, 20), 1.0 / 3, 0.01);
    EXPECT_NEAR(s.mean_share(1, 1, 20), 2.0 / 3, 0.01);
}

TEST(Fair, TimeTheThreadWaitedForACpuIsNotCharged) {
    // Every 5th slice of client 0 loses 30 ms to dom0 preemption of the
    // scheduler's thread: not its work, so its engine work stays a half.
    Sim s({100, 100});
    s.clients[0].stall_every = 5;
    s.clients[0].stall_ns = 30 * kMs;
    s.run_until(20 * kSec);
    double w0 = static_cast<double>(s.clients[0].work_ns), w1 = static_cast<double>(s.clients[1].work_ns);
    EXPECT_NEAR(w0 / (w0 + w1), 0.5, 0.005);
}

TEST(Fair, SliceChargeIsTheMeasuredTimeLessTheThreadsWait) {
    // A 10 ms slice that took 100 ms: all of it, less the thread's wait.
    EXPECT_EQ(vgpu_fair_slice_charge(100 * kMs, 0), 100 * kMs);
    EXPECT_EQ(vgpu_fair_slice_charge(100 * kMs, 30 * kMs), 70 * kMs);
    EXPECT_EQ(vgpu_fair_slice_charge(5 * kMs, 9 * kMs), 0u);  // never negative
    EXPECT_EQ(vgpu_fair_slice_charge(3 * kSec, 0), 3 * kSec);  // whole jobs
}

}  // namespace
