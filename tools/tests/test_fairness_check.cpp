// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The checks of `vgpu-bench fairness` (what the fairness scenario
// asserts), on runs made up to pass and to fail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../vgpu-bench/fairness.hpp"

namespace {

bench::FairRun make_run(std::vector<std::vector<double>> windows, std::vector<unsigned int> weights = {},
                        std::vector<unsigned int> caps = {}) {
    bench::FairRun r;
    r.name = "t";
    size_t n = windows.front().size();
    for (size_t c = 0; c < n; c++) {
        r.clients.push_back("c" + std::to_string(c));
        r.domids.push_back(static_cast<unsigned int>(c));
    }
    r.weights = weights.empty() ? std::vector<unsigned int>(n, 100) : weights;
    r.caps = caps.empty() ? std::vector<unsigned int>(n, 0) : caps;
    double t = 0;
    for (auto& w : windows) {
        r.windows.push_back({t, t + 1, w});
        t += 1;
    }
    return r;
}

TEST(FairnessCheck, EqualSharesPass) {
    auto r = make_run({{0.25, 0.24, 0.26, 0.25}, {0.24, 0.25, 0.25, 0.26}});
    auto v = bench::check_equal(r, 4);
    EXPECT_TRUE(v.pass) << v.why;
    EXPECT_GT(v.jain, 0.999);
}

TEST(FairnessCheck, OneStarvedWindowFails) {
    // Jain's mean stays high, but one window leaves a client at 80% of fair.
    auto r = make_run({{0.25, 0.25, 0.25, 0.25}, {0.28, 0.26, 0.26, 0.2}, {0.25, 0.25, 0.25, 0.25}});
    auto v = bench::check_equal(r, 4);
    EXPECT_FALSE(v.pass);
    EXPECT_NE(v.why.find("c3"), std::string::npos) << v.why;
}

TEST(FairnessCheck, MissingClientFails) {
    auto r = make_run({{0.5, 0.5, 0.0, 0.0}});
    EXPECT_FALSE(bench::check_equal(r, 4).pass);
}

// The fairness scenario's failed run on a loaded 2-core machine: the
// first window began before the clients ran and the sampler stalled, so
// the next window came 11 s later; every window after it gave each client
// 24-25%.  Today's check failed it ("dom0 had 0.0% in the window at 0 s,
// below 90% of the fair 0.0%", Jain 0.906).
bench::FairRun stalled_start() {
    auto r = make_run({{0.0, 0.0004, 0.0, 0.0},
                       {0.25, 0.24, 0.25, 0.25},
                       {0.24, 0.25, 0.25, 0.25},
                       {0.25, 0.25, 0.24, 0.25},
                       {0.25, 0.25, 0.25, 0.24},
                       {0.24, 0.25, 0.25, 0.25},
                       {0.25, 0.24, 0.25, 0.25},
                       {0.25, 0.25, 0.24, 0.25}});
    r.clients = {"dom0", "domain 1", "domain 2", "domain 3"};
    r.windows[0].end = 11;
    for (size_t i = 1; i < r.windows.size(); i++) {
        r.windows[i].start = 10.0 + static_cast<double>(i);
        r.windows[i].end = r.windows[i].start + 1;
    }
    return r;
}

TEST(FairnessCheck, IdleFirstWindowAndStalledSamplerPass) {
    auto v = bench::check_equal(stalled_start(), 4);
    EXPECT_TRUE(v.pass) << v.why;
    EXPECT_GT(v.jain, 0.99) << v.why;
    EXPECT_GT(v.min_fraction, 0.9) << v.why;
    for (double s : v.shares) EXPECT_NEAR(s, 0.247, 0.005);
}

TEST(FairnessCheck, WindowsCountOnlyWhileEveryClientRuns) {
    // dom0, domain 2 and 3 first ran in window 1, and may have begun
    // anywhere in it: window 2 is the first they ran through.
    auto r = stalled_start();
    auto counted = bench::counted_windows(r, bench::active_clients(r));
    ASSERT_EQ(counted.size(), 6u);
    EXPECT_EQ(counted.front(), &r.windows[2]);
}

TEST(FairnessCheck, StallInTheMiddlePasses) {
    // The machine stalled for 5 s: nobody ran, the window is not judged.
    auto r = make_run({{0.25, 0.25, 0.25, 0.25},
                       {0.25, 0.25, 0.25, 0.25},
                       {0, 0, 0, 0},
                       {0.25, 0.25, 0.25, 0.25}});
    r.windows[2].end = 7;
    r.windows[3].start = 7;
    r.windows[3].end = 8;
    auto v = bench::check_equal(r, 4);
    EXPECT_TRUE(v.pass) << v.why;
    auto counted = bench::counted_windows(r, bench::active_clients(r));
    ASSERT_EQ(counted.size(), 2u);
    EXPECT_EQ(counted[0], &r.windows[1]);
    EXPECT_EQ(counted[1], &r.windows[3]);
}

TEST(FairnessCheck, StarvedAfterTheStartFails) {
    // Not a stall: the engine was busy, c3 got nothing.
    auto r = make_run({{0.25, 0.25, 0.25, 0.25}, {0.33, 0.33, 0.33, 0.0}, {0.25, 0.25, 0.25, 0.25}});
    auto v = bench::check_equal(r, 4);
    EXPECT_FALSE(v.pass);
    EXPECT_NE(v.why.find("c3"), std::string::npos) << v.why;
}

// The fairness scenario's failed run of 2 December (build/testbed/
// console-fairness.log), as vgpu-bench recorded it: after 3 s of warm-up
// every client had engine time in the first window, but the engine was
// busy only 76% of it ("domain 3 had 13.8% in the window at 0 s, below
// 90% of the fair 18.9%").
bench::FairRun logged_run() {
    auto r = make_run({{0.20975, 0.19105, 0.21917, 0.13755},
                       {0.2161, 0.20253, 0.21006, 0.21168},
                       {0.22702, 0.23912, 0.21373, 0.24747},
                       {0.24547, 0.26581, 0.24289, 0.22944},
                       {0.28396, 0.19877, 0.20668, 0.21977},
                       {0.25081, 0.24171, 0.25362, 0.25391},
                       {0.21527, 0.25498, 0.25598, 0.26504},
                       {0.13629, 0.18549, 0.36364, 0.26}});
    r.clients = {"dom0", "domain 1", "domain 2", "domain 3"};
    const double t[] = {0, 1.1094, 2.161, 3.2497, 4.3602, 5.4239, 6.4844, 7.5231, 8.58};
    for (size_t i = 0; i < r.windows.size(); i++) {
        r.windows[i].start = t[i];
        r.windows[i].end = t[i + 1];
    }
    return r;
}

TEST(FairnessCheck, StartUpWindowThatEveryClientTouchedPasses) {
    // The logged run's first two windows (the engine busy 76%, then 84%),
    // then windows in which each client has 24-25%.
    auto r = logged_run();
    for (size_t i = 2; i < r.windows.size(); i++) {
        r.windows[i].shares = {0.24, 0.245, 0.25, 0.245};
        std::rotate(r.windows[i].shares.begin(), r.windows[i].shares.begin() + static_cast<std::ptrdiff_t>(i % 4),
                    r.windows[i].shares.end());
    }
    auto v = bench::check_equal(r, 4);
    EXPECT_TRUE(v.pass) << v.why;
    EXPECT_GT(v.min_fraction, 0.9) << v.why;
    auto counted = bench::counted_windows(r, bench::active_clients(r));
    ASSERT_FALSE(counted.empty());
    EXPECT_EQ(counted.front(), &r.windows[2]);  // nor the second, the engine still at 84%
    EXPECT_EQ(counted.size(), 6u);
}

TEST(FairnessCheck, ClientStartingInsideAWindowPasses) {
    // c3 began 0.85 s into window 1: that window is not a whole one of its.
    auto r = make_run({{0.33, 0.33, 0.34, 0.0},
                       {0.32, 0.32, 0.32, 0.04},
                       {0.25, 0.25, 0.25, 0.25},
                       {0.24, 0.26, 0.25, 0.25},
                       {0.25, 0.25, 0.26, 0.24}});
    auto v = bench::check_equal(r, 4);
    EXPECT_TRUE(v.pass) << v.why;
    EXPECT_EQ(bench::counted_windows(r, bench::active_clients(r)).size(), 3u);
}

TEST(FairnessCheck, UnfairSteadyStateFails) {
    // After the start-up, c3 gets 60% of its fair share in every window.
    auto r = make_run({{0.2, 0.2, 0.2, 0.1},
                       {0.2833, 0.2833, 0.2834, 0.15},
                       {0.2834, 0.2833, 0.2833, 0.15},
                       {0.2833, 0.2834, 0.2833, 0.15},
                       {0.2833, 0.2833, 0.2834, 0.15},
                       {0.2834, 0.2833, 0.2833, 0.15}});
    auto v = bench::check_equal(r, 4);
    EXPECT_FALSE(v.pass);
    EXPECT_NE(v.why.find("c3"), std::string::npos) << v.why;
    EXPECT_NEAR(v.min_fraction, 0.6, 0.01);
    EXPECT_EQ(bench::counted_windows(r, bench::active_clients(r)).size(), 5u);
}

TEST(FairnessCheck, IdleEngineWhileOneStarvesFails) {
    // Past the start-up the engine idles while c3 waits: the window is
    // not busy enough to look like the start, nor idle enough to be a stall.
    auto r = make_run({{0.2, 0.2, 0.2, 0.2},
                       {0.25, 0.25, 0.25, 0.25},
                       {0.25, 0.25, 0.25, 0.25},
                       {0.25, 0.25, 0.25, 0.02},
                       {0.25, 0.25, 0.25, 0.25}});
    auto v = bench::check_equal(r, 4);
    EXPECT_FALSE(v.pass);
    EXPECT_NE(v.why.find("c3"), std::string::npos) << v.why;
}

TEST(FairnessCheck, LoggedRunFailsPastItsStartUp) {
    // Without its first two windows the logged run still fails: domain 1
    // had 87.5% of the fair share at 4.4 s, dom0 57.7% at 7.5 s (domain 2
    // 154%), Jain's index 0.97.
    auto r = logged_run();
    auto v = bench::check_equal(r, 4);
    EXPECT_FALSE(v.pass);
    EXPECT_EQ(v.why.find("in the window at 0 s"), std::string::npos) << v.why;
    EXPECT_NE(v.why.find("domain 1 had 19.9% in the window at 4 s"), std::string::npos) << v.why;
    EXPECT_NEAR(v.min_fraction, 0.577, 0.001);
    EXPECT_LT(v.jain, 0.99);
}

TEST(FairnessCheck, LongWindowWeighsByItsLength) {
    // After the start-up, 1 s at 30:70, then a stalled sampler's 9 s
    // window at 50:50: over the 10 s the clients had 48:52 (unweighted:
    // 40:60).
    auto r = make_run({{0.5, 0.5}, {0.3, 0.7}, {0.5, 0.5}}, {100, 100});
    r.windows[2].end = 11;
    auto v = bench::check_weights(r);
    EXPECT_TRUE(v.pass) << v.why;
    EXPECT_NEAR(v.shares[0], 0.48, 1e-9);
}

TEST(FairnessCheck, WeightedShares) {
    // Each after a start-up window, which does not count.
    auto good = make_run({{0.2, 0.3, 0.5}, {1.0 / 7, 2.0 / 7, 4.0 / 7}}, {100, 200, 400});
    EXPECT_TRUE(bench::check_weights(good).pass) << bench::check_weights(good).why;
    auto bad = make_run({{1.0 / 7, 2.0 / 7, 4.0 / 7}, {0.2, 0.3, 0.5}}, {100, 200, 400});  // 0.2 is 40% over 1/7
    EXPECT_FALSE(bench::check_weights(bad).pass);
}

TEST(FairnessCheck, Cap) {
    EXPECT_TRUE(bench::check_cap(make_run({{0.26, 0, 0}, {0.24, 0, 0}}, {}, {25, 0, 0})).pass);
    EXPECT_FALSE(bench::check_cap(make_run({{0.30, 0, 0}, {0.29, 0, 0}}, {}, {25, 0, 0})).pass);
    EXPECT_FALSE(bench::check_cap(make_run({{0.25, 0.3, 0}}, {}, {25, 0, 0})).pass);  // not alone
}

TEST(FairnessCheck, StopRedistributesInTheNextWindow) {
    auto r = make_run({{0.25, 0.25, 0.25, 0.25}, {0.3, 0.3, 0.3, 0.1}, {0.33, 0.33, 0.33, 0.0}});
    r.stop_at = 1.2;  // during window 1: window 2 is the first after it
    EXPECT_TRUE(bench::check_stop(r, 3).pass) << bench::check_stop(r, 3).why;
    auto slow = make_run({{0.25, 0.25, 0.25, 0.25}, {0.3, 0.3, 0.3, 0.1}, {0.25, 0.25, 0.25, 0.25}});
    slow.stop_at = 1.2;  // the stopped client still runs a whole window later
    EXPECT_FALSE(bench::check_stop(slow, 3).pass);
    auto late = make_run({{0.25, 0.25, 0.25, 0.25}});
    late.stop_at = 0.5;  // no window after it
    EXPECT_FALSE(bench::check_stop(late, 3).pass);
}

TEST(FairnessCheck, JsonHasWhatResultsJsonNeeds) {
    auto r = make_run({{0.5, 0.5}});
    auto j = bench::fair_json(r, bench::check_equal(r, 2));
    for (const char* k : {"\"name\":", "\"clients\":", "\"weights\":", "\"caps\":", "\"shares\":", "\"jain\":"})
        EXPECT_NE(j.find(k), std::string::npos) << k << " in " << j;
}

TEST(FairnessCheck, BenchKeepsRunsAndPlotsThem) {
    auto r = make_run({{0.5, 0.5}, {0.4, 0.6}});
    r.clients = {"dom0", "domain 1"};
    std::stringstream in;
    in << bench::fair_json(r, bench::check_equal(r, 2)) << "\n" << bench::fair_dat(r) << "BENCH noise\n";
    auto dir = std::filesystem::temp_directory_path() / ("fair-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto runs = bench::write_fairness(in, dir.string());
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].front(), '{');
    std::ifstream dat(dir / "fairness-t.dat");
    std::string l1, l2;
    std::getline(dat, l1);
    std::getline(dat, l2);
    EXPECT_EQ(l1, " 0 0.5 0.5");
    EXPECT_EQ(l2, " 1 0.4 0.6");
    std::stringstream gp;
    gp << std::ifstream(dir / "fairness.gp").rdbuf();
    EXPECT_NE(gp.str().find("title 'domain-1'"), std::string::npos) << gp.str();
    std::filesystem::remove_all(dir);
}

}  // namespace
