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
    EXPECT_EQ(error_of("a\nb --mode turbo\n"), "vgpu.conf:2: --mode is naive or hp");
    EXPECT_EQ(error_of("--mode hp\n"), "vgpu.conf:1: a line starts with a domain name");
    EXPECT_EQ(error_of("a b\n"), "vgpu.conf:1: unexpected 'b'");
    EXPECT_EQ(error_of("a\n# x\na --mode naive\n"), "vgpu.conf:3: domain a has vgpu 0 twice");
    EXPECT_EQ(error_of("a\na --devid 1\n"), "");
}
