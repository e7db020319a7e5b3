// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// libvgpu's GPU address allocator (vgpu/va_space.hpp), on 4 KiB and on a
// GPU's 2 MiB pages.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "vgpu/va_space.hpp"

namespace {

using vgpu::VaSpace;
constexpr uint64_t kBig = 2 << 20;

TEST(VaSpace, HandsOutInOrderThenRunsOut) {
    VaSpace s(kBig, 8 * kBig, kBig);
    EXPECT_EQ(s.take(2 * kBig), kBig);
    EXPECT_EQ(s.take(kBig), 3 * kBig);
    EXPECT_EQ(s.take(4 * kBig), 4 * kBig);
    EXPECT_EQ(s.take(kBig), std::nullopt);  // the window is full
    EXPECT_THROW(s.take(4096), std::invalid_argument);  // not a whole page
    EXPECT_THROW(s.take(0), std::invalid_argument);
    EXPECT_THROW(VaSpace(4096, 3 * kBig, kBig), std::invalid_argument);
    EXPECT_THROW(VaSpace(kBig, kBig, kBig), std::invalid_argument);
}

TEST(VaSpace, ARangeGivenBackServesAgainFirstFit) {
    VaSpace s(kBig, 64 * kBig, kBig);
    uint64_t a = *s.take(2 * kBig), b = *s.take(2 * kBig), c = *s.take(2 * kBig);
    s.give_back(b, 2 * kBig);
    EXPECT_EQ(s.take(kBig), b);        // first fit, in the hole
    EXPECT_EQ(s.take(kBig), b + kBig);
    EXPECT_EQ(s.take(kBig), c + 2 * kBig);  // the hole is used up
    (void)a;
}

TEST(VaSpace, NeighboursMergeAndTheTopComesDown) {
    VaSpace s(kBig, 64 * kBig, kBig);
    uint64_t a = *s.take(kBig), b = *s.take(kBig), c = *s.take(kBig);
    s.give_back(a, kBig);
    s.give_back(c, kBig);  // the top range: the top comes down to it
    EXPECT_EQ(s.top(), c);
    EXPECT_EQ(s.holes(), 1u);
    s.give_back(b, kBig);  // merges with a and with the top
    EXPECT_EQ(s.top(), a);
    EXPECT_EQ(s.holes(), 0u);
    EXPECT_EQ(s.take(3 * kBig), a);  // one range again
}

// A hole and the space above it together fit what neither fits alone.
TEST(VaSpace, AHoleBelowTheTopJoinsIt) {
    VaSpace s(kBig, 4 * kBig, kBig);
    uint64_t a = *s.take(kBig), b = *s.take(kBig);
    s.give_back(b, kBig);
    EXPECT_EQ(s.take(2 * kBig), b);
    (void)a;
}

// Random traffic: live ranges never overlap, stay inside the window,
// and everything given back leaves the space as it began.
TEST(VaSpace, RandomTrafficNeverOverlaps) {
    for (uint64_t page : {uint64_t{4096}, kBig}) {
        const uint64_t start = 16 * page, end = 4096 * page;
        VaSpace s(start, end, page);
        std::mt19937 rng(7);
        std::vector<std::pair<uint64_t, uint64_t>> live;
        for (int step = 0; step < 5000; step++) {
            if (live.empty() || rng() % 2) {
                uint64_t n = page * (1 + rng() % 40);
                if (auto va = s.take(n))
                    live.emplace_back(*va, n);
            } else {
                size_t i = rng() % live.size();
                s.give_back(live[i].first, live[i].second);
                live.erase(live.begin() + static_cast<long>(i));
            }
            auto sorted = live;
            std::sort(sorted.begin(), sorted.end());
            for (size_t i = 0; i < sorted.size(); i++) {
                ASSERT_GE(sorted[i].first, start);
                ASSERT_LE(sorted[i].first + sorted[i].second, end);
                ASSERT_EQ(sorted[i].first % page, 0u);
                if (i) {
                    ASSERT_LE(sorted[i - 1].first + sorted[i - 1].second, sorted[i].first);
                }
            }
        }
        for (auto& [va, n] : live)
            s.give_back(va, n);
        EXPECT_EQ(s.top(), start);
        EXPECT_EQ(s.holes(), 0u);
    }
}

}  // namespace
