// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The busy wait before a sleep (vgpu/spin.hpp): its budget and its end.
// The waits that use it are tested with it on by the ctest entry
// gpuvm-tests.spinning (VGPU_SPIN_US=200: CoreTransport, Workers).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "vgpu/spin.hpp"

TEST(Spin, TheBudgetIsNvidiasAutoPolicyBounded) {
    EXPECT_EQ(vgpu::parse_spin_ns(nullptr, 2), 0u);  // the test bed: a spinner takes its peer's CPU
    EXPECT_EQ(vgpu::parse_spin_ns(nullptr, 7), 0u);
    EXPECT_EQ(vgpu::parse_spin_ns(nullptr, 8), 500000u);
    EXPECT_EQ(vgpu::parse_spin_ns(nullptr, 16), 500000u);
    EXPECT_EQ(vgpu::parse_spin_ns("0", 16), 0u);
    EXPECT_EQ(vgpu::parse_spin_ns("250", 2), 250000u);
    EXPECT_EQ(vgpu::parse_spin_ns("10000", 2), 10000000u);
}

TEST(Spin, AnUnreadableBudgetIsRefusedForTheDefault) {
    for (const char* bad : {"", "-1", "10001", "5us", " 5", "0x10", "99999999999999999999"})
        EXPECT_EQ(vgpu::parse_spin_ns(bad, 16), 500000u) << bad;
    EXPECT_EQ(vgpu::parse_spin_ns("x", 2), 0u);
}

// Where VGPU_SPIN_US is set (gpuvm-tests.spinning), the process's budget
// is that: the waits there are tested polling.
TEST(Spin, TheVariableIsTheProcesssBudget) {
    const char* e = std::getenv("VGPU_SPIN_US");
    if (!e)
        GTEST_SKIP() << "VGPU_SPIN_US not set";
    EXPECT_EQ(vgpu::spin_budget_ns(), std::strtoull(e, nullptr, 10) * 1000);
}

TEST(Spin, ItEndsWhenReadyOrAtItsBudget) {
    using namespace std::chrono;
    int calls = 0;
    EXPECT_TRUE(vgpu::spin_until([&] { return ++calls == 3; }, 1000000000));
    EXPECT_EQ(calls, 3);
    calls = 0;
    EXPECT_FALSE(vgpu::spin_until([&] { return ++calls, false; }, 0));
    EXPECT_EQ(calls, 0);  // no budget: not even one look
    auto t0 = steady_clock::now();
    EXPECT_FALSE(vgpu::spin_until([] { return false; }, 2000000));
    EXPECT_GE(steady_clock::now() - t0, milliseconds(2));
}

TEST(Spin, ItSeesAnotherThreadsStore) {
    std::atomic<bool> flag{false};
    std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        flag.store(true, std::memory_order_release);
    });
    // A budget of 10 s: it ends at the store, long before.
    bool seen = vgpu::spin_until([&] { return flag.load(std::memory_order_acquire); }, 10000000000ull);
    t.join();
    EXPECT_TRUE(seen);
}
