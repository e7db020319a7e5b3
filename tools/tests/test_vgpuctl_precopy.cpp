// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl precopy's reading of the guest's report (a guest writes what
// it likes there) and its decision to run another round.
#include <gtest/gtest.h>

#include "options.hpp"
#include "precopy.hpp"

using vgpuctl::parse_precopy_report;
using vgpuctl::PrecopyReport;

TEST(PrecopyReport, APassGivesEveryNumber) {
    auto r = parse_precopy_report("3 262144 258048 4096 1140");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->serial, 3u);
    EXPECT_EQ(r->kind, PrecopyReport::Kind::Pass);
    EXPECT_EQ(r->copied_kib, 262144u);
    EXPECT_EQ(r->clean_kib, 258048u);
    EXPECT_EQ(r->dirty_kib, 4096u);
    EXPECT_EQ(r->ms, 1140u);
}

TEST(PrecopyReport, DroppedAndErrors) {
    auto d = parse_precopy_report("0 dropped");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, PrecopyReport::Kind::Dropped);
    auto e = parse_precopy_report("7 error -16");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->kind, PrecopyReport::Kind::Error);
    EXPECT_EQ(e->serial, 7u);
    EXPECT_EQ(e->error, -16);
}

TEST(PrecopyReport, AnythingElseIsRefused) {
    for (const char* s : {"", " ", "3", "3 1 2 3", "3 1 2 3 4 5", "3  1 2 3 4", "3 1 2 3 4 ", "x 1 2 3 4",
                          "3 1 2 -3 4", "3 1 2 3 4\n", "3\t1 2 3 4", "3 error 16", "3 error", "3 error -x",
                          "3 dropped 1", "18446744073709551616 1 2 3 4", "3 0x10 2 3 4", "-1 dropped",
                          "3 error -2147483648", "3 error -4096"})
        EXPECT_FALSE(parse_precopy_report(s)) << "'" << s << "'";
    EXPECT_FALSE(parse_precopy_report(std::string(300, '1')));
}

TEST(PrecopyReport, WhatIsShownIsPrintable) {
    EXPECT_EQ(vgpuctl::printable("ok \x1b[2J\n\xff", 80), "ok ?[2J??");
    EXPECT_EQ(vgpuctl::printable(std::string(100, 'a'), 80), std::string(80, 'a'));
}

TEST(PrecopyReport, RoundsGoOnWhileTheyLeaveLess) {
    PrecopyReport first{.serial = 1, .copied_kib = 1000, .clean_kib = 900, .dirty_kib = 100};
    EXPECT_TRUE(vgpuctl::precopy_another_round(first, std::nullopt));
    PrecopyReport better{.serial = 2, .copied_kib = 100, .clean_kib = 990, .dirty_kib = 10};
    EXPECT_TRUE(vgpuctl::precopy_another_round(better, first));
    PrecopyReport same{.serial = 3, .copied_kib = 10, .clean_kib = 990, .dirty_kib = 10};
    EXPECT_FALSE(vgpuctl::precopy_another_round(same, better)) << "no progress";
    PrecopyReport done{.serial = 2, .copied_kib = 100, .clean_kib = 1000, .dirty_kib = 0};
    EXPECT_FALSE(vgpuctl::precopy_another_round(done, first)) << "nothing left";
    PrecopyReport stuck{.serial = 2, .copied_kib = 0, .clean_kib = 900, .dirty_kib = 50};
    EXPECT_FALSE(vgpuctl::precopy_another_round(stuck, first)) << "nothing could be copied";
    PrecopyReport err{.serial = 2, .kind = PrecopyReport::Kind::Error, .error = -16};
    EXPECT_FALSE(vgpuctl::precopy_another_round(err, first));
}

TEST(PrecopyOptions, RoundsDropAndTimeout) {
    auto o = vgpuctl::parse_args({"guest", "--rounds", "5", "--timeout", "30"});
    EXPECT_EQ(o.rounds, 5u);
    EXPECT_EQ(o.timeout_s.value_or(0), 30u);
    EXPECT_FALSE(o.drop);
    auto d = vgpuctl::parse_args({"guest", "--drop"});
    EXPECT_TRUE(d.drop);
    EXPECT_EQ(d.rounds, 3u);
    EXPECT_FALSE(d.timeout_s);
    EXPECT_THROW(vgpuctl::parse_args({"guest", "--rounds", "0"}), vgpuctl::UsageError);
}
