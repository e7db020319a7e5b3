// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The CUDA runtime's sub-allocator (cudart/suballoc.hpp): small
// allocations sharing the large pages of an engine like a GPU's (2 MiB).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "../cudart/suballoc.hpp"

namespace {

using gpuvm::cudart::SubAllocator;

struct Page {
    int id;
};
constexpr size_t kPage = 2 << 20;

struct Pages {
    int made = 0;
    std::unique_ptr<Page> operator()() { return std::make_unique<Page>(Page{made++}); }
};

TEST(SubAllocator, PiecesAreAlignedAndApart) {
    SubAllocator<Page> a(kPage);
    Pages make;
    auto p1 = a.take(0, 1, std::ref(make));
    auto p2 = a.take(0, 300, std::ref(make));
    auto p3 = a.take(0, 256, std::ref(make));
    EXPECT_EQ(make.made, 1);
    EXPECT_EQ(p1.page, p2.page);
    EXPECT_EQ(p1.off, 0u);
    EXPECT_EQ(p1.size, 256u);
    EXPECT_EQ(p2.off, 256u);
    EXPECT_EQ(p2.size, 512u);
    EXPECT_EQ(p3.off, 768u);
}

// A piece says whether any of it was handed out before: a new page is
// zero-filled, a hole is what its last piece left (the caller clears it).
TEST(SubAllocator, APieceSaysWhetherItWasAnothers) {
    SubAllocator<Page> a(kPage);
    Pages make;
    auto p1 = a.take(0, 1024, std::ref(make));
    auto p2 = a.take(0, 1024, std::ref(make));
    EXPECT_FALSE(p1.reused);
    EXPECT_FALSE(p2.reused);
    a.give_back(p1);
    auto again = a.take(0, 512, std::ref(make));
    EXPECT_EQ(again.off, 0u);
    EXPECT_TRUE(again.reused);
    auto beyond = a.take(0, 4096, std::ref(make));
    EXPECT_EQ(beyond.off, 2048u);
    EXPECT_FALSE(beyond.reused) << "past every piece so far";
    a.give_back(p2);
    auto straddle = a.take(0, 1280, std::ref(make));  // the hole 512..2048 is 1536 bytes
    EXPECT_EQ(straddle.off, 512u);
    EXPECT_TRUE(straddle.reused);
}

TEST(SubAllocator, KindsNeverSharePages) {
    SubAllocator<Page> a(kPage);
    Pages make;
    auto dev = a.take(0, 4096, std::ref(make));
    auto host = a.take(1, 4096, std::ref(make));
    auto code = a.take(2, 4096, std::ref(make));
    EXPECT_NE(dev.page, host.page);
    EXPECT_NE(dev.page, code.page);
    EXPECT_NE(host.page, code.page);
    EXPECT_EQ(a.pages(), 3u);
}

TEST(SubAllocator, AFullPageMakesAnotherAndTheLastPieceGivesItBack) {
    SubAllocator<Page> a(kPage);
    Pages make;
    auto h1 = a.take(0, kPage / 2, std::ref(make));
    auto h2 = a.take(0, kPage / 2, std::ref(make));
    auto h3 = a.take(0, 1, std::ref(make));
    EXPECT_EQ(h1.page, h2.page);
    EXPECT_NE(h3.page, h1.page);
    EXPECT_EQ(a.pages(), 2u);
    EXPECT_EQ(a.give_back(h1), nullptr);
    auto back = a.give_back(h2);
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(back->id, 0);
    EXPECT_EQ(a.pages(), 1u);
    EXPECT_NE(a.give_back(h3), nullptr);
    EXPECT_EQ(a.pages(), 0u);
}

TEST(SubAllocator, HolesCoalesce) {
    SubAllocator<Page> a(kPage);
    Pages make;
    std::vector<SubAllocator<Page>::Piece> q;
    for (int i = 0; i < 4; i++)
        q.push_back(a.take(0, kPage / 8, std::ref(make)));
    auto keep = a.take(0, kPage / 2, std::ref(make));  // the page's second half
    EXPECT_EQ(keep.off, kPage / 2);
    // Freed out of order, the four quarters of the first half merge into
    // one hole that a half-page piece fits again.
    for (int i : {2, 0, 3, 1})
        EXPECT_EQ(a.give_back(q[i]), nullptr);
    auto half = a.take(0, kPage / 2, std::ref(make));
    EXPECT_EQ(half.page, keep.page);
    EXPECT_EQ(half.off, 0u);
    EXPECT_EQ(make.made, 1);
}

TEST(SubAllocator, RefusesWhatIsNotSmall) {
    EXPECT_THROW(SubAllocator<Page>(3000), std::invalid_argument);
    SubAllocator<Page> a(kPage);
    Pages make;
    EXPECT_THROW(a.take(0, 0, std::ref(make)), std::invalid_argument);
    EXPECT_THROW(a.take(0, kPage / 2 + 1, std::ref(make)), std::invalid_argument);
    EXPECT_EQ(make.made, 0);
}

// A failing page maker leaves the allocator as it was.
TEST(SubAllocator, AFailedPageChangesNothing) {
    SubAllocator<Page> a(kPage);
    auto fail = []() -> std::unique_ptr<Page> { throw std::runtime_error("quota"); };
    EXPECT_THROW(a.take(0, 100, fail), std::runtime_error);
    EXPECT_EQ(a.pages(), 0u);
}

// Random takes and gives: no two live pieces overlap, and every page
// goes back once its pieces have.
TEST(SubAllocator, RandomTrafficNeverOverlaps) {
    SubAllocator<Page> a(kPage);
    Pages make;
    std::mt19937 rng(19);
    std::vector<SubAllocator<Page>::Piece> live;
    size_t returned = 0;
    for (int step = 0; step < 4000; step++) {
        if (live.empty() || rng() % 3) {
            size_t n = 1 + rng() % (rng() % 8 ? 8192 : kPage / 2);
            live.push_back(a.take(rng() % 2, n, std::ref(make)));
        } else {
            size_t i = rng() % live.size();
            if (a.give_back(live[i]))
                returned++;
            live.erase(live.begin() + static_cast<long>(i));
        }
        if (step % 97)
            continue;
        auto sorted = live;
        std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) {
            return x.page != y.page ? x.page < y.page : x.off < y.off;
        });
        for (size_t i = 0; i < sorted.size(); i++) {
            ASSERT_LE(sorted[i].off + sorted[i].size, kPage);
            ASSERT_EQ(sorted[i].off % SubAllocator<Page>::kAlign, 0u);
            if (i && sorted[i].page == sorted[i - 1].page) {
                ASSERT_LE(sorted[i - 1].off + sorted[i - 1].size, sorted[i].off);
            }
        }
    }
    for (auto& p : live) {
        if (a.give_back(p))
            returned++;
    }
    EXPECT_EQ(a.pages(), 0u);
    EXPECT_EQ(returned, static_cast<size_t>(make.made));
}

}  // namespace
