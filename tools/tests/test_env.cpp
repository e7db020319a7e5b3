// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu::env_number() (vgpu/env.hpp): how every numeric knob is read.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "scoped_env.hpp"
#include "vgpu/env.hpp"

namespace {

constexpr const char* kName = "GPUVM_TEST_ENV_NUMBER";

// @kName set to @v (null: unset) for one scope.
struct Set : vgpu::test::ScopedEnv {
    explicit Set(const char* v) : ScopedEnv(kName, v) {}
};

}  // namespace

TEST(Env, ANumberIsDecimalDigitsInItsRange) {
    {
        Set s(nullptr);
        vgpu::EnvNumber n = vgpu::env_number(kName, 0, 10);
        EXPECT_FALSE(n.set);
        EXPECT_FALSE(n.ok);
        EXPECT_EQ(vgpu::env_number_or(kName, 7, 0, 10), 7u);
    }
    {
        Set s("");
        EXPECT_FALSE(vgpu::env_number(kName, 0, 10).set) << "empty is unset";
    }
    for (auto [v, want] : {std::pair{"0", 0ull}, {"10", 10ull}, {"007", 7ull}}) {
        Set s(v);
        vgpu::EnvNumber n = vgpu::env_number(kName, 0, 10);
        EXPECT_TRUE(n.set && n.ok) << v;
        EXPECT_EQ(n.value, want) << v;
    }
    for (const char* bad : {"11", "-1", "+1", " 1", "1 ", "0x1", "1k", "99999999999999999999999"}) {
        Set s(bad);
        vgpu::EnvNumber n = vgpu::env_number(kName, 0, 10);
        EXPECT_TRUE(n.set) << bad;
        EXPECT_FALSE(n.ok) << bad;
        EXPECT_EQ(vgpu::env_number_or(kName, 3, 0, 10), 3u) << bad;
    }
    {
        Set s("2");
        EXPECT_FALSE(vgpu::env_number(kName, 3, 10).ok) << "below the range";
    }
    Set s("99999999999999999999999");
    EXPECT_FALSE(vgpu::env_number(kName, 0, UINT64_MAX).ok) << "past 2^64: no number, not 2^64 - 1";
}
