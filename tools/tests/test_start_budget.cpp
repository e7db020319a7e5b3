// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The pacing of worker starts per group (start_budget.hpp), on a clock
// of the test's own.
#include <gtest/gtest.h>

#include "start_budget.hpp"

namespace {

using vgpu::engine::StartBudget;

constexpr uint64_t ms = 1'000'000;

// The defaults: 4 s of starts at once, then 5% of the wall clock.
TEST(StartBudget, ABurstThenAShareOfTheClock) {
    StartBudget b;
    uint64_t now = 1'000 * ms, at = 0;
    int starts = 0;
    while (b.allows(7, now, &at)) {
        b.charge(7, 190 * ms, now);
        starts++;
    }
    EXPECT_EQ(starts, 22) << "4 s of 190 ms starts: 21 and one past";
    // 22 * 190 ms = 4180 ms owed, 180 ms past the burst: 3.6 s at 5%.
    EXPECT_GE(at, now + 3'600 * ms);
    EXPECT_LE(at, now + 3'601 * ms);
    uint64_t later = 0;
    EXPECT_FALSE(b.allows(7, at - 2 * ms, &later));
    EXPECT_FALSE(b.allows(7, now + 3'000 * ms, &later));
    EXPECT_TRUE(b.allows(7, at, &later));
    // Sustained: one 190 ms start per 3.8 s.
    b.charge(7, 190 * ms, at);
    EXPECT_FALSE(b.allows(7, at + 3'700 * ms, &later));
    EXPECT_TRUE(b.allows(7, at + 3'810 * ms, &later));
}

// Each group has its own bucket; group 0 (none) is never paced.
TEST(StartBudget, GroupsApartAndGroupZeroUnpaced) {
    StartBudget b({.burst_ns = 100 * ms, .per_mille = 100, .floor_ns = 1 * ms});
    uint64_t at = 0;
    b.charge(1, 150 * ms, 0);
    EXPECT_FALSE(b.allows(1, 0, &at));
    EXPECT_TRUE(b.allows(2, 0, &at));
    for (int i = 0; i < 1000; i++)
        b.charge(0, 1'000 * ms, 0);
    EXPECT_TRUE(b.allows(0, 0, &at));
    EXPECT_EQ(b.groups(), 1u);
}

// A start costs at least the floor, and at most the burst (one stuck
// start does not shut its group out for longer than a burst takes to
// refill).
TEST(StartBudget, FloorAndCeilingOfACharge) {
    StartBudget b({.burst_ns = 100 * ms, .per_mille = 1000, .floor_ns = 20 * ms});
    uint64_t at = 0;
    for (int i = 0; i < 4; i++)
        b.charge(3, 1, 0);  // 4 x 20 ms
    EXPECT_TRUE(b.allows(3, 0, &at));
    b.charge(3, 1, 0);
    EXPECT_FALSE(b.allows(3, 0, &at));  // 100 ms owed
    StartBudget c({.burst_ns = 100 * ms, .per_mille = 1000, .floor_ns = 20 * ms});
    c.charge(4, 3'600'000 * ms, 0);  // an hour
    EXPECT_FALSE(c.allows(4, 0, &at));
    EXPECT_LE(at, 100 * ms) << "at most a burst's refill";
    EXPECT_TRUE(c.allows(4, 1 * ms + 1'000, &at));
}

// Groups whose bucket is full again are forgotten; the others kept.
TEST(StartBudget, PruneForgetsOnlyTheRefilled) {
    StartBudget b({.burst_ns = 100 * ms, .per_mille = 500, .floor_ns = 10 * ms});
    b.charge(1, 10 * ms, 0);
    b.charge(2, 80 * ms, 0);
    EXPECT_EQ(b.groups(), 2u);
    b.prune(20 * ms);  // group 1 refilled (10 ms at 50%), group 2 owes 70 ms
    EXPECT_EQ(b.groups(), 1u);
    uint64_t at = 0;
    EXPECT_TRUE(b.allows(2, 20 * ms, &at));
    b.charge(2, 50 * ms, 20 * ms);  // 120 ms owed
    EXPECT_FALSE(b.allows(2, 20 * ms, &at));
    b.prune(1'000 * ms);
    EXPECT_EQ(b.groups(), 0u);
    EXPECT_TRUE(b.allows(2, 1'000 * ms, &at));
}

// However often the bucket is looked at (the Router prunes at every
// request), no refill is lost to rounding: a start is allowed at the
// time allows() named.
TEST(StartBudget, LookingOftenLosesNoRefill) {
    StartBudget b({.burst_ns = 100 * ms, .per_mille = 300, .floor_ns = 150 * ms});
    uint64_t at = 0, later = 0;
    b.charge(1, 150 * ms, 0);
    ASSERT_FALSE(b.allows(1, 0, &at));
    for (uint64_t t = 997; t < at; t += 997) {
        b.prune(t);
        ASSERT_FALSE(b.allows(1, t, &later)) << t;
    }
    EXPECT_TRUE(b.allows(1, at, &later));
}

}  // namespace
