// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The soft-float used by the interpreter must give the same bits as the
// host's IEEE 754 hardware (round to nearest even), NaNs aside (always the
// canonical quiet NaN in vgpu-sim).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

extern "C" {
#include "vgpu_softfloat.h"
}

namespace {

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
float flt(uint32_t b) { return std::bit_cast<float>(b); }

uint32_t expect_bits(float host) { return std::isnan(host) ? VGPU_F32_NAN : bits(host); }

// Random floats over every class: normal, subnormal, zero, inf, NaN, and
// nearby exponents (which exercise cancellation and rounding).
class FloatGen {
public:
    explicit FloatGen(uint32_t seed) : rng_(seed) {}
    uint32_t next() {
        uint32_t kind = rng_() % 16;
        uint32_t r = static_cast<uint32_t>(rng_());
        switch (kind) {
        case 0: return r & 0x807fffffu;                      // subnormal or zero
        case 1: return (r & 0x80000000u) | 0x7f800000u;      // infinity
        case 2: return 0x7f800000u | (r & 0x807fffffu) | 1;  // NaN
        case 3: return (r & 0x80000000u);                    // signed zero
        case 4: return (r & 0x83ffffffu) | 0x3c000000u;      // near 1.0
        default: return r;
        }
    }

private:
    std::mt19937 rng_;
};

constexpr int kIterations = 2000000;

TEST(SoftFloat, AddSubMulDivMatchHardware) {
    FloatGen g(1);
    for (int i = 0; i < kIterations; i++) {
        uint32_t a = g.next(), b = g.next();
        ASSERT_EQ(vgpu_f32_add(a, b), expect_bits(flt(a) + flt(b))) << std::hex << a << " + " << b;
        ASSERT_EQ(vgpu_f32_sub(a, b), expect_bits(flt(a) - flt(b))) << std::hex << a << " - " << b;
        ASSERT_EQ(vgpu_f32_mul(a, b), expect_bits(flt(a) * flt(b))) << std::hex << a << " * " << b;
        ASSERT_EQ(vgpu_f32_div(a, b), expect_bits(flt(a) / flt(b))) << std::hex << a << " / " << b;
    }
}

TEST(SoftFloat, ComparisonsMatchHardware) {
    FloatGen g(2);
    for (int i = 0; i < kIterations / 4; i++) {
        uint32_t a = g.next(), b = g.next();
        ASSERT_EQ(vgpu_f32_eq(a, b), flt(a) == flt(b)) << std::hex << a << " " << b;
        ASSERT_EQ(vgpu_f32_lt(a, b), flt(a) < flt(b)) << std::hex << a << " " << b;
        ASSERT_EQ(vgpu_f32_le(a, b), flt(a) <= flt(b)) << std::hex << a << " " << b;
    }
}

TEST(SoftFloat, MinMaxPreferNumbers) {
    EXPECT_EQ(vgpu_f32_min(bits(1.0f), bits(2.0f)), bits(1.0f));
    EXPECT_EQ(vgpu_f32_max(bits(1.0f), bits(2.0f)), bits(2.0f));
    EXPECT_EQ(vgpu_f32_min(VGPU_F32_NAN, bits(-3.0f)), bits(-3.0f));
    EXPECT_EQ(vgpu_f32_max(bits(-3.0f), VGPU_F32_NAN), bits(-3.0f));
    EXPECT_EQ(vgpu_f32_min(VGPU_F32_NAN, VGPU_F32_NAN), VGPU_F32_NAN);
}

TEST(SoftFloat, IntegerConversionsMatchHardware) {
    std::mt19937_64 rng(3);
    for (int i = 0; i < kIterations / 4; i++) {
        uint64_t u = rng() >> (rng() % 64);
        int64_t s = static_cast<int64_t>(rng()) >> (rng() % 64);
        ASSERT_EQ(vgpu_u64_to_f32(u), bits(static_cast<float>(u))) << u;
        ASSERT_EQ(vgpu_s64_to_f32(s), bits(static_cast<float>(s))) << s;
    }
    EXPECT_EQ(vgpu_s64_to_f32(INT64_MIN), bits(-9.223372036854775808e18f));
    FloatGen g(4);
    for (int i = 0; i < kIterations / 4; i++) {
        uint32_t a = g.next();
        float f = flt(a);
        int64_t want;
        if (std::isnan(f))
            want = 0;
        else if (f >= 9.223372036854775807e18f)
            want = INT64_MAX;
        else if (f <= -9.223372036854775808e18f)
            want = INT64_MIN;
        else
            want = static_cast<int64_t>(f);
        ASSERT_EQ(vgpu_f32_to_s64(a), want) << std::hex << a;
    }
}

TEST(SoftFloat, SpecialCases) {
    EXPECT_EQ(vgpu_f32_add(bits(INFINITY), bits(-INFINITY)), VGPU_F32_NAN);
    EXPECT_EQ(vgpu_f32_mul(bits(0.0f), bits(INFINITY)), VGPU_F32_NAN);
    EXPECT_EQ(vgpu_f32_div(bits(1.0f), bits(0.0f)), bits(INFINITY));
    EXPECT_EQ(vgpu_f32_div(bits(-1.0f), bits(0.0f)), bits(-INFINITY));
    EXPECT_EQ(vgpu_f32_div(bits(0.0f), bits(0.0f)), VGPU_F32_NAN);
    EXPECT_EQ(vgpu_f32_add(bits(0.1f), bits(0.2f)), bits(0.1f + 0.2f));
    EXPECT_EQ(vgpu_f32_sub(bits(1.0f), bits(1.0f)), bits(0.0f));
    // Overflow rounds to infinity, the smallest subnormal survives.
    EXPECT_EQ(vgpu_f32_mul(bits(3e38f), bits(10.0f)), bits(INFINITY));
    EXPECT_EQ(vgpu_f32_mul(0x00000001u, bits(1.0f)), 0x00000001u);
}

}  // namespace
