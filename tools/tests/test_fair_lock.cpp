// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The userspace core's lock (tools/ucore/fair_lock.hpp): handed to its
// waiters in the order they came, never taken back by the thread that
// lets it go while others wait, and left at a waiter's deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "fair_lock.hpp"

namespace {

using gpuvm::ucore::FairLock;
using namespace std::chrono;

bool await_waiting(FairLock& l, size_t n) {
    auto end = steady_clock::now() + seconds(10);
    while (l.waiting() < n && steady_clock::now() < end)
        std::this_thread::yield();
    return l.waiting() == n;
}

TEST(FairLock, HandedOverInTheOrderTheWaitersCame) {
    FairLock l;
    l.lock();
    std::mutex om;
    std::vector<int> order;
    std::vector<std::jthread> t;
    for (int i = 0; i < 4; i++) {
        t.emplace_back([&, i] {
            l.lock();
            {
                std::lock_guard<std::mutex> g(om);
                order.push_back(i);
            }
            l.unlock();
        });
        EXPECT_TRUE(await_waiting(l, static_cast<size_t>(i) + 1));
    }
    EXPECT_FALSE(l.try_lock()) << "held";
    l.unlock();
    for (auto& th : t)
        th.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_TRUE(l.try_lock());
    l.unlock();
}

// The engine thread's pattern: a slice, then at once the next one.  A
// program's thread that asks meanwhile gets the lock after the slice
// that held it, not after the ones that follow.
TEST(FairLock, TheThreadThatLetsGoDoesNotTakeItBackFromAWaiter) {
    FairLock l;
    std::atomic<bool> stop{false};
    std::atomic<int> slices{0};
    l.lock();
    std::jthread engine([&] {
        l.unlock();
        while (!stop.load()) {
            l.lock();
            slices++;
            std::this_thread::sleep_for(microseconds(200));  // its RUN
            l.unlock();
        }
    });
    for (int k = 0; k < 20; k++) {
        int before = slices.load();
        l.lock();
        int after = slices.load();
        l.unlock();
        EXPECT_LE(after - before, 1) << "waited behind more than the slice that held it";
        std::this_thread::sleep_for(microseconds(300));
    }
    stop = true;
}

TEST(FairLock, AWaiterLeavesTheQueueAtItsDeadline) {
    FairLock l;
    l.lock();
    std::jthread t([&] {
        auto t0 = steady_clock::now();
        EXPECT_FALSE(l.lock_until(t0 + milliseconds(20)));
        EXPECT_GE(steady_clock::now() - t0, milliseconds(20));
    });
    t.join();
    EXPECT_EQ(l.waiting(), 0u);
    l.unlock();
    EXPECT_TRUE(l.try_lock()) << "free: nobody was left to hand it to";
    l.unlock();
}

// Threads taking it with deadlines of a few microseconds, racing the
// hand-overs: one holder at a time, each true a holder and each false
// none, and free at the end (no hand-over lost to a waiter that left).
TEST(FairLock, DeadlinesRacingHandOversLoseNothing) {
    FairLock l;
    std::atomic<int> holders{0}, most{0};
    std::atomic<long> taken{0};
    std::vector<std::jthread> t;
    for (int i = 0; i < 4; i++) {
        t.emplace_back([&, i] {
            for (int k = 0; k < 3000; k++) {
                if (!l.lock_until(steady_clock::now() + microseconds((k * 7 + i) % 13)))
                    continue;
                int h = ++holders;
                int m = most.load();
                while (h > m && !most.compare_exchange_weak(m, h)) {
                }
                taken++;
                --holders;
                l.unlock();
            }
        });
    }
    for (auto& th : t)
        th.join();
    EXPECT_EQ(most.load(), 1);
    EXPECT_GT(taken.load(), 0);
    EXPECT_EQ(l.waiting(), 0u);
    EXPECT_TRUE(l.try_lock()) << "free at the end";
    l.unlock();
}

}  // namespace
