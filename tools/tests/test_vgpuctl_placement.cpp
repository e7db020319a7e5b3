// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl's placement of vGPUs on engines: --engine, --policy, the
// engines it reads from sysfs and the choice each policy makes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "options.hpp"
#include "placement.hpp"

using vgpuctl::choose_engine;
using vgpuctl::EngineLoad;
using vgpuctl::parse_args;
using vgpuctl::UsageError;

TEST(VgpuctlPlacement, EngineAndPolicyOptions) {
    auto o = parse_args({"guest", "--engine", "3"});
    ASSERT_TRUE(o.engine.has_value());
    EXPECT_EQ(*o.engine, 3u);
    EXPECT_TRUE(o.policy.empty());
    o = parse_args({"guest", "--policy=pack"});
    EXPECT_FALSE(o.engine.has_value());
    EXPECT_EQ(o.policy, "pack");
    EXPECT_THROW(parse_args({"g", "--engine", "16"}), UsageError);
    EXPECT_THROW(parse_args({"g", "--engine", "-1"}), UsageError);
    EXPECT_THROW(parse_args({"g", "--policy", "random"}), UsageError);
    EXPECT_THROW(parse_args({"g", "--engine", "1", "--policy", "spread"}), UsageError);
}

TEST(VgpuctlPlacement, SpreadTakesTheLeastUsedEngine) {
    std::vector<EngineLoad> e = {{0, "vgpu-sim", 128, 2, 32}, {1, "vgpu-sim", 128, 1, 16}, {2, "vgpu-sim", 128, 1, 64}};
    // Engines 1 and 2 have one vGPU each: 1 has more memory left.
    EXPECT_EQ(choose_engine(e, "spread", 16), 1u);
    e[1].placed = 3;
    EXPECT_EQ(choose_engine(e, "spread", 16), 2u);
    // An engine without the memory is passed over, however idle.
    e[2].placed_mb = 120;
    EXPECT_EQ(choose_engine(e, "spread", 16), 0u);
}

TEST(VgpuctlPlacement, PackFillsTheLowestEngineFirst) {
    std::vector<EngineLoad> e = {{0, "vgpu-sim", 64, 3, 48}, {1, "vgpu-sim", 128, 0, 0}};
    EXPECT_EQ(choose_engine(e, "pack", 16), 0u);
    EXPECT_EQ(choose_engine(e, "pack", 17), 1u);
}

TEST(VgpuctlPlacement, NoEngineFitsSaysWhy) {
    std::vector<EngineLoad> e = {{0, "vgpu-sim", 32, 2, 32}};
    try {
        choose_engine(e, "pack", 16);
        FAIL() << "placed on a full engine";
    } catch (const std::runtime_error& err) {
        EXPECT_NE(std::string(err.what()).find("16 MiB"), std::string::npos) << err.what();
    }
    EXPECT_THROW(choose_engine({}, "spread", 1), std::runtime_error);
}

TEST(VgpuctlPlacement, ReadsTheEnginesOfSysfs) {
    auto root = std::filesystem::temp_directory_path() / ("vgpuctl-sys-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    for (unsigned i : {2u, 0u}) {
        auto d = root / "devices/platform" / ("vgpu." + std::to_string(i)) / "engine";
        std::filesystem::create_directories(d);
        std::ofstream(d / "name") << "vgpu-sim\n";
        std::ofstream(d / "mem_mb") << (i + 1) * 64 << "\n";
    }
    std::filesystem::create_directories(root / "devices/platform/vgpu-other/engine");
    std::filesystem::create_directories(root / "devices/platform/vgpu.7x/engine");
    auto e = vgpuctl::read_engines(root);
    std::filesystem::remove_all(root);
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].index, 0u);
    EXPECT_EQ(e[0].mem_mb, 64u);
    EXPECT_EQ(e[1].index, 2u);
    EXPECT_EQ(e[1].name, "vgpu-sim");
    EXPECT_EQ(e[1].mem_mb, 192u);
}

extern "C" {
#include "vgpuif.h"
}

// The settings vgpuctl writes are the backend's XenStore keys, by the
// protocol header's names (a renamed key must not be missed here).
TEST(VgpuctlPlacement, SettingsAreTheProtocolsKeys) {
    auto o = parse_args({"g", "--quota-devmem-mb", "1", "--quota-hostmem-mb", "2", "--quota-contexts", "3",
                         "--quota-objects", "4", "--quota-grant-pages", "5", "--quota-jobs", "6", "--weight", "7",
                         "--cap", "8"});
    const std::map<std::string, std::string> want = {
        {VGPUIF_KEY_QUOTA_DEVMEM_MB, "1"}, {VGPUIF_KEY_QUOTA_HOSTMEM_MB, "2"}, {VGPUIF_KEY_QUOTA_CONTEXTS, "3"},
        {VGPUIF_KEY_QUOTA_OBJECTS, "4"},   {VGPUIF_KEY_QUOTA_GRANT_PAGES, "5"}, {VGPUIF_KEY_QUOTA_JOBS, "6"},
        {VGPUIF_KEY_WEIGHT, "7"},          {VGPUIF_KEY_CAP, "8"}};
    EXPECT_EQ(o.settings, want);
}
