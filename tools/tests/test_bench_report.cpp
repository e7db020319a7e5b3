// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench's report: medians over repetitions, per-operation costs,
// ratios and the files make bench writes.
#include <gtest/gtest.h>

#include <sstream>

#include "../vgpu-bench/report.hpp"

namespace {

std::string sample(const char* w, const char* path, const char* size, int ops, double s, int req, int maps) {
    char b[400];
    std::snprintf(b, sizeof(b),
                  "{\"workload\": \"%s\", \"path\": \"%s\", \"size\": %s, \"ops\": %d, \"seconds\": %.6f, "
                  "\"requests\": %d, \"notify_out\": %d, \"notify_in\": 1, \"grant_maps\": %d, \"grant_unmaps\": %d, "
                  "\"bytes_copied\": 0}\n",
                  w, path, size, ops, s, req, req, maps, maps);
    return b;
}

TEST(BenchReport, MedianMinMaxAndCostsPerOperation) {
    std::stringstream in;
    // Five repetitions, out of order, with a line the report must skip.
    for (double s : {0.5, 0.1, 0.3, 0.2, 0.4}) in << sample("launch", "naive", "null", 10, s, 20, 0);
    in << "testbed: noise\n";
    in << sample("launch", "native", "null", 10, 0.1, 0, 0);
    bench::Report r(in);
    ASSERT_EQ(r.rows.size(), 2u);
    const auto* n = r.find("launch", "naive", -1);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->reps, 5u);
    EXPECT_DOUBLE_EQ(n->seconds, 0.3);
    EXPECT_DOUBLE_EQ(n->min_seconds, 0.1);
    EXPECT_DOUBLE_EQ(n->max_seconds, 0.5);
    EXPECT_DOUBLE_EQ(n->ops_per_s, 10 / 0.3);
    EXPECT_DOUBLE_EQ(n->requests, 2.0);    // 100 requests over 50 operations
    EXPECT_DOUBLE_EQ(n->notify_in, 0.1);   // one per repetition of 10
    EXPECT_LT(n->bytes_per_s, 0);          // no size: no bandwidth
}

TEST(BenchReport, BandwidthAndTheFilesItWrites) {
    std::stringstream in;
    for (double s : {0.25, 0.5}) {
        in << sample("h2d", "hp", "1048576", 4, s, 4, 0);
        in << sample("h2d", "native", "1048576", 4, s / 2, 0, 0);
        in << sample("h2d", "naive", "1048576", 4, s * 4, 2048, 256);
    }
    bench::Report r(in);
    const auto* h = r.find("h2d", "hp", 1048576);
    ASSERT_NE(h, nullptr);
    EXPECT_DOUBLE_EQ(h->seconds, 0.375);  // median of two
    EXPECT_DOUBLE_EQ(h->bytes_per_s, 4.0 * 1048576 / 0.375);
    EXPECT_DOUBLE_EQ(r.find("h2d", "naive", 1048576)->grant_maps, 64.0);
    std::stringstream js, md;
    r.write_json(js, "6.1.0-56", "vgpu-sim");
    EXPECT_NE(js.str().find("\"kernel\": \"6.1.0-56\""), std::string::npos);
    EXPECT_NE(js.str().find("\"path\": \"naive\", \"size\": 1048576"), std::string::npos);
    EXPECT_NE(js.str().find("\"grant_maps\": 64.000"), std::string::npos);
    r.write_markdown(md, "6.1.0-56", "vgpu-sim");
    // hp took twice native's time: 0.500x; naive eight times: 0.125x;
    // hp four times faster than naive, doing less work.
    EXPECT_NE(md.str().find("| 1 MiB | MB/s |"), std::string::npos) << md.str();
    EXPECT_NE(md.str().find("| 0.125x | 0.500x | 4.00x |"), std::string::npos) << md.str();
    EXPECT_EQ(md.str().find("same work"), std::string::npos) << md.str();
}

// What a newcomer reads: a slow path is a small ratio, not "0.00x"; a
// workload without a size is in operations per second, even one named
// by a size (bind_4m); a repetition too short to time gives no "inf";
// where naive and hp do the same work the table says so.
TEST(BenchReport, RatiosUnitsAndSameWork) {
    std::stringstream in;
    for (double s : {0.0, 1.0, 2.0}) in << sample("madd", "native", "null", 4, s, 0, 0);
    for (double s : {2.0, 2.2, 2.4}) in << sample("madd", "naive", "null", 4, s, 4, 0);
    for (double s : {2.1, 2.3, 2.5}) in << sample("madd", "hp", "null", 4, s, 4, 0);
    in << sample("bind_4m", "native", "4194304", 100, 0.01, 0, 0);
    in << sample("bind_4m", "naive", "4194304", 100, 3.2, 409600, 0);
    in << sample("bind_4m", "hp", "4194304", 100, 0.32, 200, 0);
    bench::Report r(in);
    std::stringstream md;
    r.write_markdown(md, "6.1", "vgpu-sim");
    const std::string t = md.str();
    EXPECT_EQ(t.find("inf"), std::string::npos) << t;
    EXPECT_EQ(t.find("0.00x"), std::string::npos) << t;
    EXPECT_NE(t.find("| bind_4m | 4 MiB | ops/s |"), std::string::npos) << t;
    EXPECT_NE(t.find("| 0.00312x | 0.0312x | 10.0x |"), std::string::npos) << t;
    EXPECT_NE(t.find("(same work)"), std::string::npos) << t;
    EXPECT_NE(t.find("\"same work\": naive and hp make the same requests"), std::string::npos) << t;
}

TEST(BenchReport, RefusesMalformedSamples) {
    std::stringstream bad_key("{workload: 1}\n");
    EXPECT_ANY_THROW(bench::Report r(bad_key));
    std::stringstream no_size("{\"workload\": \"x\", \"path\": \"hp\", \"ops\": 3}\n");
    EXPECT_ANY_THROW(bench::Report r(no_size));
}

}  // namespace
