// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl's view of vgpu-back's clients, on a fake sysfs tree: what
// `top` and `stats --json` compute.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "clients.hpp"
#include "options.hpp"

namespace fs = std::filesystem;

namespace {

class FakeSysfs : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("vgpuctl-test-" + std::to_string(::getpid()));
        fs::remove_all(root_);
        group(root_ / "devices/platform/vgpu.0/native", {{"weight", "100"}, {"busy_ns", "1000000000"}});
    }
    void TearDown() override { fs::remove_all(root_); }

    void put(const fs::path& p, const std::string& v) {
        fs::create_directories(p.parent_path());
        std::ofstream(p) << v << "\n";
    }
    void group(const fs::path& dir, std::map<std::string, std::string> v) {
        for (const char* k : {"weight", "cap", "busy_ns", "device_bytes", "host_bytes", "jobs", "faults", "hangs"})
            put(dir / k, v.count(k) ? v[k] : "0");
    }
    void guest(unsigned int domid, unsigned int devid, const std::string& mode,
               std::map<std::string, std::string> v) {
        fs::path d = root_ / "bus/xen-backend/devices" / ("vgpu-" + std::to_string(domid) + "-" + std::to_string(devid));
        put(d / "mode", mode);
        group(d / "sched", std::move(v));
    }
    fs::path root_;
};

TEST_F(FakeSysfs, Dom0FirstThenOneClientPerGuestDomain) {
    guest(5, 0, "hp", {{"weight", "400"}, {"cap", "25"}, {"busy_ns", "7"}, {"device_bytes", "1048576"}});
    guest(5, 1, "naive", {{"weight", "400"}});  // the same domain's second vGPU
    guest(3, 0, "naive", {{"weight", "200"}, {"jobs", "4"}, {"hangs", "1"}});
    put(root_ / "bus/xen-backend/devices/vbd-3-768/mode", "x");  // not ours
    auto c = vgpuctl::read_clients(root_);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].name, "dom0");
    EXPECT_EQ(c[0].busy_ns, 1000000000u);
    EXPECT_EQ(c[1].domid, 3u);
    EXPECT_EQ(c[1].jobs, 4u);
    EXPECT_EQ(c[1].hangs, 1u);
    EXPECT_EQ(c[2].domid, 5u);
    EXPECT_EQ(c[2].weight, 400u);
    EXPECT_EQ(c[2].cap, 25u);
    EXPECT_EQ(c[2].mode, "hp");
    EXPECT_EQ(c[2].devids, (std::vector<unsigned int>{0, 1}));
    EXPECT_EQ(c[2].device_bytes, 1048576u);
}

TEST_F(FakeSysfs, WithoutVgpuBackItSaysSo) {
    fs::remove_all(root_ / "devices");
    EXPECT_THROW(vgpuctl::read_clients(root_), std::runtime_error);
}

TEST_F(FakeSysfs, SharesAreEngineTimeOverWallTime) {
    guest(3, 0, "hp", {{"busy_ns", "500000000"}});
    auto a = vgpuctl::read_clients(root_);
    group(root_ / "devices/platform/vgpu.0/native", {{"busy_ns", "1250000000"}});  // +0.25 s
    guest(3, 0, "hp", {{"busy_ns", "1250000000"}});                              // +0.75 s
    guest(4, 0, "hp", {{"busy_ns", "100000000"}});                               // new: from 0
    auto b = vgpuctl::read_clients(root_);
    auto s = vgpuctl::shares(a, b, 1.0);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_DOUBLE_EQ(s[0].share, 0.25);
    EXPECT_DOUBLE_EQ(s[1].share, 0.75);
    EXPECT_DOUBLE_EQ(s[2].share, 0.1);
    auto j = vgpuctl::top_json(2.0, 1.0, s);
    EXPECT_NE(j.find("\"share\":0.75"), std::string::npos) << j;
    EXPECT_NE(j.find("\"domid\":4"), std::string::npos) << j;
}

TEST(VgpuctlClients, JainIndex) {
    EXPECT_DOUBLE_EQ(vgpuctl::jain({0.25, 0.25, 0.25, 0.25}), 1.0);
    EXPECT_DOUBLE_EQ(vgpuctl::jain({1, 0, 0, 0}), 0.25);
    EXPECT_NEAR(vgpuctl::jain({0.3, 0.2, 0.25, 0.25}), 0.98, 0.005);
    EXPECT_DOUBLE_EQ(vgpuctl::jain({}), 1.0);
}

TEST(VgpuctlClients, JsonEscapesNames) {
    vgpuctl::ClientStats c;
    c.name = "a\"b\\c";
    auto j = vgpuctl::to_json({c});
    EXPECT_NE(j.find("\"a\\\"b\\\\c\""), std::string::npos) << j;
    EXPECT_EQ(j.front(), '[');
    EXPECT_EQ(j.back(), ']');
}

TEST(VgpuctlOptions, WeightCapAndTopOptions) {
    auto o = vgpuctl::parse_args({"g", "--weight", "400", "--cap=25", "--quota-jobs", "8", "-b", "--json", "-d",
                                  "0.5", "-n", "3"});
    EXPECT_EQ(o.settings.at("weight"), "400");
    EXPECT_EQ(o.settings.at("cap"), "25");
    EXPECT_EQ(o.settings.at("quota-jobs"), "8");
    EXPECT_TRUE(o.batch);
    EXPECT_TRUE(o.json);
    EXPECT_DOUBLE_EQ(o.interval_s, 0.5);
    EXPECT_EQ(o.iterations, 3u);
    EXPECT_THROW(vgpuctl::parse_args({"--weight", "0"}), vgpuctl::UsageError);
    EXPECT_THROW(vgpuctl::parse_args({"--weight", "1001"}), vgpuctl::UsageError);
    EXPECT_THROW(vgpuctl::parse_args({"--cap", "101"}), vgpuctl::UsageError);
    EXPECT_THROW(vgpuctl::parse_args({"-d", "0"}), vgpuctl::UsageError);
    EXPECT_THROW(vgpuctl::parse_args({"-d", "x"}), vgpuctl::UsageError);
    EXPECT_EQ(vgpuctl::sysfs_attr_of("quota-devmem-mb"), "quota/devmem_mb");
    EXPECT_EQ(vgpuctl::sysfs_attr_of("quota-grant-pages"), "quota/grant_pages");
    EXPECT_EQ(vgpuctl::sysfs_attr_of("cap"), "sched/cap");
    EXPECT_THROW(vgpuctl::sysfs_attr_of("mode"), vgpuctl::UsageError);
}

}  // namespace
