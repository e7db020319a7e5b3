// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl's command-line options and its configuration file.
#include <gtest/gtest.h>

#include <sstream>

#include "options.hpp"

using vgpuctl::Options;
using vgpuctl::parse_args;
using vgpuctl::parse_config;
using vgpuctl::UsageError;

TEST(VgpuctlOptions, AttachOptions) {
    Options o = parse_args({"guest", "--mode", "naive", "--devid=2", "--quota-devmem-mb", "32"});
    EXPECT_EQ(o.mode, "naive");
    EXPECT_EQ(o.devid, 2u);
    ASSERT_EQ(o.args.size(), 1u);
    EXPECT_EQ(o.args[0], "guest");
    ASSERT_EQ(o.settings.count("quota-devmem-mb"), 1u);
    EXPECT_EQ(o.settings.at("quota-devmem-mb"), "32");
    EXPECT_EQ(parse_args({}).mode, "hp");
}

TEST(VgpuctlOptions, BadOptionsAreRefused) {
    EXPECT_THROW(parse_args({"--mode", "fast"}), UsageError);
    EXPECT_THROW(parse_args({"--devid"}), UsageError);
    EXPECT_THROW(parse_args({"--devid", "-1"}), UsageError);
    EXPECT_THROW(parse_args({"--quota-objects", "12x"}), UsageError);
    EXPECT_THROW(parse_args({"--quota-objects", "4294967296"}), UsageError);
    EXPECT_THROW(parse_args({"--frobnicate"}), UsageError);
    EXPECT_THROW(parse_args({"--weight", "0"}), UsageError);
    EXPECT_THROW(parse_args({"--cap", "101"}), UsageError);
    EXPECT_THROW(parse_args({"--engine", "16"}), UsageError);
    EXPECT_THROW(parse_args({"--policy", "random"}), UsageError);
    EXPECT_THROW(parse_args({"--engine", "1", "--policy", "pack"}), UsageError);
    EXPECT_THROW(parse_args({"-d", "0.05"}), UsageError);
    EXPECT_THROW(parse_args({"--json=1"}), UsageError);
}

// Every option of the table reaches its field (set, top, detach, watch).
TEST(VgpuctlOptions, EverySubcommandsOptions) {
    Options o = parse_args({"dom", "--weight", "500", "--cap=50", "--engine", "15", "--timeout", "3", "--json",
                            "-b", "-d", "0.5", "-n", "4", "--config", "/x.conf", "--quota-jobs", "8"});
    EXPECT_EQ(o.settings.at("weight"), "500");
    EXPECT_EQ(o.settings.at("cap"), "50");
    EXPECT_EQ(o.settings.at("quota-jobs"), "8");
    EXPECT_EQ(o.settings.size(), 3u);
    EXPECT_EQ(o.engine, 15u);
    EXPECT_EQ(o.timeout_s, 3u);
    EXPECT_TRUE(o.json);
    EXPECT_TRUE(o.batch);
    EXPECT_DOUBLE_EQ(o.interval_s, 0.5);
    EXPECT_EQ(o.iterations, 4u);
    EXPECT_EQ(o.config, "/x.conf");
    EXPECT_EQ(parse_args({"--policy", "spread"}).policy, "spread");
    Options d = parse_args({});
    EXPECT_FALSE(d.engine.has_value());
    EXPECT_FALSE(d.timeout_s.has_value()) << "each subcommand has its own default";
    EXPECT_DOUBLE_EQ(d.interval_s, 1.0);
    EXPECT_TRUE(d.settings.empty());
}

TEST(VgpuctlConfig, DomainsWithTheirOptions) {
    std::istringstream in(
        "# domain  options of vgpuctl attach\n"
        "\n"
        "web1   --mode naive   # a comment\n"
        "batch  --quota-devmem-mb 64 --quota-grant-pages=4096\n"
        "batch  --devid 1\n");
    auto c = parse_config(in, "vgpu.conf");
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].domain, "web1");
    EXPECT_EQ(c[0].options.mode, "naive");
    EXPECT_EQ(c[1].domain, "batch");
    EXPECT_EQ(c[1].options.mode, "hp");
    EXPECT_EQ(c[1].options.settings.at("quota-grant-pages"), "4096");
    EXPECT_EQ(c[2].options.devid, 1u);
}

// Each error names the file and the line.
TEST(VgpuctlConfig, ErrorsNameTheLine) {
    auto error_of = [](const std::string& text) -> std::string {
        std::istringstream in(text);
        try {
            parse_config(in, "vgpu.conf");
        } catch (const UsageError& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_EQ(error_of("a\nb --mode turbo\n"), "vgpu.conf:2: bad value for --mode: turbo (expected naive or hp)");
    EXPECT_EQ(error_of("--mode hp\n"), "vgpu.conf:1: a line starts with a domain name");
    EXPECT_EQ(error_of("a b\n"), "vgpu.conf:1: unexpected 'b'");
    EXPECT_EQ(error_of("a\n# x\na --mode naive\n"), "vgpu.conf:3: domain a has vgpu 0 twice");
    EXPECT_EQ(error_of("a\na --devid 1\n"), "");
}
