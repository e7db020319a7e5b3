// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The checks of `vgpu-bench fairness` (what the fairness scenario
// asserts), on runs made up to pass and to fail.
#include <gtest/gtest.h>
#include <unistd.h>

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
    auto r = stalled_start();
    auto counted = bench::counted_windows(r, bench::active_clients(r));
    ASSERT_EQ(counted.size(), 7u);
    EXPECT_EQ(counted.front(), &r.windows[1]);
}

TEST(FairnessCheck, StallInTheMiddlePasses) {
    // The machine stalled for 5 s: nobody ran, the window is not judged.
    auto r = make_run({{0.25, 0.25, 0.25, 0.25}, {0, 0, 0, 0}, {0.25, 0.25, 0.25, 0.25}});
    r.windows[1].end = 6;
    r.windows[2].start = 6;
    r.windows[2].end = 7;
    auto v = bench::check_equal(r, 4);
    EXPECT_TRUE(v.pass) << v.why;
}

TEST(FairnessCheck, StarvedAfterTheStartFails) {
    // Not a stall: the engine was busy, c3 got nothing.
    auto r = make_run({{0.25, 0.25, 0.25, 0.25}, {0.33, 0.33, 0.33, 0.0}, {0.25, 0.25, 0.25, 0.25}});
    auto v = bench::check_equal(r, 4);
    EXPECT_FALSE(v.pass);
    EXPECT_NE(v.why.find("c3"), std::string::npos) << v.why;
}

TEST(FairnessCheck, LongWindowWeighsByItsLength) {
    // 1 s at 30:70, then a stalled sampler's 9 s window at 50:50: over
    // the 10 s the clients had 48:52 (unweighted: 40:60).
    auto r = make_run({{0.3, 0.7}, {0.5, 0.5}}, {100, 100});
    r.windows[1].end = 10;
    auto v = bench::check_weights(r);
    EXPECT_TRUE(v.pass) << v.why;
    EXPECT_NEAR(v.shares[0], 0.48, 1e-9);
}

TEST(FairnessCheck, WeightedShares) {
    auto good = make_run({{1.0 / 7, 2.0 / 7, 4.0 / 7}}, {100, 200, 400});
    EXPECT_TRUE(bench::check_weights(good).pass) << bench::check_weights(good).why;
    auto bad = make_run({{0.2, 0.3, 0.5}}, {100, 200, 400});  // 0.2 is 40% over 1/7
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
