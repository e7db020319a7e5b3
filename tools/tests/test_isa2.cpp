// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ISA version 2, instruction by instruction: each one runs in the
// interpreter (the code vgpu-sim runs in the kernel) over operands of
// every class and is compared with a reference computed here, on the
// host's IEEE hardware for floating point (under fesetround for the
// rounding modifiers) and by plain definitions for the integer ones.
// Also the one decoder (vgpu_isa_decode.h) and vgpu-as's modifiers.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cfenv>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "gpu_harness.hpp"
#include "vgpu/asm.hpp"

extern "C" {
#include "vgpu_isa_decode.h"
}

namespace {

using vgpu::test::Gpu;
using In = std::array<uint64_t, 3>;
constexpr uint64_t kIn = 0x200000, kOut = 0x400000;

// Runs @word (rd = r4; ra, rb, rc = r1, r2, r3; r4 starts as r3) once per
// input, one thread each; returns r4 after it.
std::vector<uint64_t> run_insn(uint64_t word, const std::vector<In>& in) {
    Gpu g;
    size_t n = in.size();
    auto* pin = reinterpret_cast<uint64_t*>(g.map(kIn, (n * 24 + 4095) & ~4095ul, VGPU_PTE_R));
    auto* pout = reinterpret_cast<uint64_t*>(g.map(kOut, (n * 8 + 4095) & ~4095ul, VGPU_PTE_R | VGPU_PTE_W));
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) pin[i * 3 + k] = in[i][k];
    char w[32];
    std::snprintf(w, sizeof(w), "%llx", static_cast<unsigned long long>(word));
    std::string src = R"(.kernel k
        s2r r30, %tid.x
        s2r r29, %ctaid.x
        s2r r28, %ntid.x
        mul r29, r29, r28
        add r30, r30, r29
        muli r27, r30, 24
        ldp r31, 0
        add r27, r31, r27
        ld.u64 r1, [r27]
        ld.u64 r2, [r27+8]
        ld.u64 r3, [r27+16]
        mov r4, r3
        .word 0x)" + std::string(w) + R"(
        shli r26, r30, 3
        ldp r25, 1
        add r26, r25, r26
        st.u64 [r26], r4
        exit
)";
    auto code = g.load(src);
    EXPECT_EQ(n % 64, 0u);
    auto r = g.run(Gpu::desc(code, static_cast<uint32_t>(n / 64), 64, {kIn, kOut}));
    EXPECT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind;
    return {pout, pout + n};
}

// rd = r4, ra = r1, rb = r2 and, where the format has it, rc = r3.
uint64_t insn(uint8_t op, uint32_t mod = 0) {
    uint32_t fmt = vgpu_op_bits(op) & 0xff;
    bool rc = fmt == VGPU_FMT_RRRR || fmt == VGPU_FMT_RRRRR;
    return vgpu::test::word(op, 4, 1, 2, VGPU_IMM_REGS(rc ? 3 : 0, 0, mod));
}

// Operands of every class, for binary32 (low 32 bits) or binary64.
class Gen {
public:
    explicit Gen(uint32_t seed) : rng_(seed) {}
    uint64_t f64() {
        uint64_t r = rng_();
        switch (rng_() % 12) {
        case 0: return r & 0x800fffffffffffffULL;                        // subnormal, zero
        case 1: return (r & (1ULL << 63)) | 0x7ff0000000000000ULL;       // infinity
        case 2: return 0x7ff0000000000001ULL | (r & 0x800fffffffffffffULL);  // NaN
        case 3: return (r & 0x803fffffffffffffULL) | 0x3fc0000000000000ULL;  // near 1
        case 4: return std::bit_cast<uint64_t>(static_cast<double>(static_cast<int32_t>(r)) / 4);
        case 5: return (r & 0x800fffffffffffffULL) | 0x4330000000000000ULL;  // near 2^52
        default: return r;
        }
    }
    uint64_t f32() {
        uint32_t r = static_cast<uint32_t>(rng_());
        switch (rng_() % 12) {
        case 0: return r & 0x807fffffu;
        case 1: return (r & 0x80000000u) | 0x7f800000u;
        case 2: return 0x7f800001u | (r & 0x807fffffu);
        case 3: return (r & 0x81ffffffu) | 0x3e000000u;
        case 4: return std::bit_cast<uint32_t>(static_cast<float>(static_cast<int16_t>(r)) / 4);
        case 5: return (r & 0x807fffffu) | 0x4b000000u;  // near 2^23
        default: return r;
        }
    }
    uint64_t any() { return rng_(); }

private:
    std::mt19937_64 rng_;
};

double D(uint64_t b) { return std::bit_cast<double>(b); }
float F(uint64_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b)); }
uint64_t dbits(double d) { return std::isnan(d) ? 0x7ff8000000000000ULL : std::bit_cast<uint64_t>(d); }
uint64_t fbits(float f) { return std::isnan(f) ? 0x7fc00000u : std::bit_cast<uint32_t>(f); }

const int kModes[] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

// Checks @op under each rounding modifier against @ref (evaluated under
// the matching host rounding mode).
void check_fp(uint8_t op, bool f32, int nmod, const std::function<uint64_t(const In&)>& ref) {
    Gen g(op);
    std::vector<In> in(1024);
    for (auto& x : in)
        x = f32 ? In{g.f32(), g.f32(), g.f32()} : In{g.f64(), g.f64(), g.f64()};
    for (int m = 0; m < nmod; m++) {
        auto got = run_insn(insn(op, static_cast<uint32_t>(m)), in);
        std::fesetround(kModes[m]);
        int bad = 0;
        for (size_t i = 0; i < in.size() && bad < 5; i++) {
            uint64_t want = ref(in[i]);
            if (got[i] != want) {
                bad++;
                ADD_FAILURE() << "op 0x" << std::hex << int(op) << " mod " << m << " on " << in[i][0] << ", "
                              << in[i][1] << ", " << in[i][2] << ": got " << got[i] << ", want " << want;
            }
        }
        std::fesetround(FE_TONEAREST);
    }
}

// The host's operations, kept from being folded at compile time.
template <typename T> T vol(T v) { volatile T x = v; return x; }

TEST(Isa2, Binary64Arithmetic) {
    check_fp(VGPU_OP_DADD, false, 4, [](const In& x) { return dbits(vol(D(x[0])) + vol(D(x[1]))); });
    check_fp(VGPU_OP_DSUB, false, 4, [](const In& x) { return dbits(vol(D(x[0])) - vol(D(x[1]))); });
    check_fp(VGPU_OP_DMUL, false, 4, [](const In& x) { return dbits(vol(D(x[0])) * vol(D(x[1]))); });
    check_fp(VGPU_OP_DDIV, false, 4, [](const In& x) { return dbits(vol(D(x[0])) / vol(D(x[1]))); });
    check_fp(VGPU_OP_DFMA, false, 4, [](const In& x) { return dbits(std::fma(vol(D(x[0])), D(x[1]), D(x[2]))); });
    check_fp(VGPU_OP_DSQRT, false, 4, [](const In& x) { return dbits(std::sqrt(vol(D(x[0])))); });
}

TEST(Isa2, Binary32ArithmeticWithRounding) {
    check_fp(VGPU_OP_FADD, true, 4, [](const In& x) { return fbits(vol(F(x[0])) + vol(F(x[1]))); });
    check_fp(VGPU_OP_FSUB, true, 4, [](const In& x) { return fbits(vol(F(x[0])) - vol(F(x[1]))); });
    check_fp(VGPU_OP_FMUL, true, 4, [](const In& x) { return fbits(vol(F(x[0])) * vol(F(x[1]))); });
    check_fp(VGPU_OP_FDIV, true, 4, [](const In& x) { return fbits(vol(F(x[0])) / vol(F(x[1]))); });
    check_fp(VGPU_OP_FFMA, true, 4, [](const In& x) { return fbits(std::fma(vol(F(x[0])), F(x[1]), F(x[2]))); });
    check_fp(VGPU_OP_FSQRT, true, 4, [](const In& x) { return fbits(std::sqrt(vol(F(x[0])))); });
}

// minNum/maxNum: a NaN loses to a number; equal values give the first.
template <typename T> T minnum(T a, T b, bool max) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    return (max ? a < b : b < a) ? b : a;
}

TEST(Isa2, Binary64MinMaxCompareSignAndRounding) {
    check_fp(VGPU_OP_DMIN, false, 1, [](const In& x) { return dbits(minnum(D(x[0]), D(x[1]), false)); });
    check_fp(VGPU_OP_DMAX, false, 1, [](const In& x) { return dbits(minnum(D(x[0]), D(x[1]), true)); });
    check_fp(VGPU_OP_DSEQ, false, 1, [](const In& x) { return uint64_t{D(x[0]) == D(x[1])}; });
    check_fp(VGPU_OP_DSLT, false, 1, [](const In& x) { return uint64_t{D(x[0]) < D(x[1])}; });
    check_fp(VGPU_OP_DSLE, false, 1, [](const In& x) { return uint64_t{D(x[0]) <= D(x[1])}; });
    check_fp(VGPU_OP_DSNAN, false, 1,
             [](const In& x) { return uint64_t{std::isnan(D(x[0])) || std::isnan(D(x[1]))}; });
    check_fp(VGPU_OP_FSNAN, true, 1,
             [](const In& x) { return uint64_t{std::isnan(F(x[0])) || std::isnan(F(x[1]))}; });
    // Sign operations are bit operations: a NaN keeps its payload.
    check_fp(VGPU_OP_DNEG, false, 1, [](const In& x) { return x[0] ^ (1ULL << 63); });
    check_fp(VGPU_OP_DABS, false, 1, [](const In& x) { return x[0] & ~(1ULL << 63); });
    // Round to an integral value: rzi, rni, rmi, rpi.
    auto rint_mode = [](int m) { return m == 0 ? FE_TOWARDZERO : m == 1 ? FE_TONEAREST : m == 2 ? FE_DOWNWARD : FE_UPWARD; };
    for (int m = 0; m < 4; m++) {
        Gen g(77 + m);
        std::vector<In> in(512);
        for (auto& x : in) x = In{g.f64(), g.f32(), 0};
        auto gd = run_insn(insn(VGPU_OP_DRND, m), in);
        std::vector<In> inf(512);
        for (size_t i = 0; i < in.size(); i++) inf[i] = In{in[i][1], 0, 0};
        auto gf = run_insn(insn(VGPU_OP_FRND, m), inf);
        std::fesetround(rint_mode(m));
        for (size_t i = 0; i < in.size(); i++) {
            ASSERT_EQ(gd[i], dbits(std::nearbyint(vol(D(in[i][0]))))) << "drnd mode " << m << " of " << D(in[i][0]);
            ASSERT_EQ(gf[i], fbits(std::nearbyint(vol(F(inf[i][0]))))) << "frnd mode " << m << " of " << F(inf[i][0]);
        }
        std::fesetround(FE_TONEAREST);
    }
}

TEST(Isa2, ConversionsBetweenFloatFormats) {
    check_fp(VGPU_OP_F2D, true, 1, [](const In& x) { return dbits(static_cast<double>(F(x[0]))); });
    check_fp(VGPU_OP_D2F, false, 4, [](const In& x) { return fbits(static_cast<float>(vol(D(x[0])))); });
}

TEST(Isa2, IntegerToFloatWithRounding) {
    Gen g(5);
    std::vector<In> in(1024);
    for (auto& x : in) {
        uint64_t r = g.any();
        x = In{(r & 1) ? r : r >> (r % 64), 0, 0};
    }
    for (int m = 0; m < 4; m++) {
        auto i2d = run_insn(insn(VGPU_OP_I2D, m), in), u2d = run_insn(insn(VGPU_OP_U2D, m), in);
        auto i2f = run_insn(insn(VGPU_OP_I2F, m), in), u2f = run_insn(insn(VGPU_OP_U2F, m), in);
        std::fesetround(kModes[m]);
        for (size_t i = 0; i < in.size(); i++) {
            uint64_t v = in[i][0];
            ASSERT_EQ(i2d[i], dbits(static_cast<double>(vol(static_cast<int64_t>(v))))) << v << " mode " << m;
            ASSERT_EQ(u2d[i], dbits(static_cast<double>(vol(v)))) << v << " mode " << m;
            ASSERT_EQ(i2f[i], fbits(static_cast<float>(vol(static_cast<int64_t>(v))))) << v << " mode " << m;
            ASSERT_EQ(u2f[i], fbits(static_cast<float>(vol(v)))) << v << " mode " << m;
        }
        std::fesetround(FE_TONEAREST);
    }
}

// Float to integer: rounded as the modifier says, NaN -> 0, saturated to
// the destination width, signed results sign-extended.
uint64_t f2int(long double v, int irnd, int bits, bool sign) {
    if (std::isnan(v)) return 0;
    long double r = irnd == 0 ? std::trunc(v) : irnd == 2 ? std::floor(v) : irnd == 3 ? std::ceil(v) : v;
    if (irnd == 1) {  // nearest, ties to even
        long double f = std::floor(v), d = v - f;
        r = d > 0.5L ? f + 1 : d < 0.5L ? f : (std::fmod(f, 2.0L) == 0 ? f : f + 1);
    }
    long double lo = sign ? -std::ldexp(1.0L, bits - 1) : 0;
    long double hi = sign ? std::ldexp(1.0L, bits - 1) - 1 : std::ldexp(1.0L, bits) - 1;
    if (r < lo) r = lo;
    if (r > hi) r = hi;
    if (sign) return static_cast<uint64_t>(static_cast<int64_t>(r));
    return static_cast<uint64_t>(r);
}

TEST(Isa2, FloatToIntegerEveryRoundingAndWidth) {
    Gen g(9);
    std::vector<In> in(1024);
    for (size_t i = 0; i < in.size(); i++) {
        // Around the widths' limits and the halves, and anything.
        static const double edges[] = {0.5, -0.5, 1.5, 2.5, -2.5, 127.5, 128.0, -128.5, 255.5, 32767.5,
                                       65535.5, 2147483647.5, -2147483648.5, 4294967295.5, 9.2233720368547758e18,
                                       -9.2233720368547758e18, 1.8446744073709552e19, 1e300, -0.0};
        double v = i < std::size(edges) ? edges[i] : D(g.f64());
        if (i % 3 == 1) v = std::ldexp(static_cast<double>(static_cast<int32_t>(g.any())), -static_cast<int>(g.any() % 8)) + 0.0;
        in[i] = In{std::bit_cast<uint64_t>(v), fbits(static_cast<float>(v)), 0};
    }
    std::vector<In> inf(in.size());
    for (size_t i = 0; i < in.size(); i++) inf[i] = In{in[i][1], 0, 0};
    for (uint32_t mod = 0; mod < 16; mod++) {
        int irnd = mod & 3, bits = 64 >> (mod >> 2);
        auto d2i = run_insn(insn(VGPU_OP_D2I, mod), in), d2u = run_insn(insn(VGPU_OP_D2U, mod), in);
        auto f2i = run_insn(insn(VGPU_OP_F2I, mod), inf), f2u = run_insn(insn(VGPU_OP_F2U, mod), inf);
        for (size_t i = 0; i < in.size(); i++) {
            long double dv = D(in[i][0]), fv = F(inf[i][0]);
            ASSERT_EQ(d2i[i], f2int(dv, irnd, bits, true)) << "d2i mod " << mod << " of " << D(in[i][0]);
            ASSERT_EQ(d2u[i], f2int(dv, irnd, bits, false)) << "d2u mod " << mod << " of " << D(in[i][0]);
            ASSERT_EQ(f2i[i], f2int(fv, irnd, bits, true)) << "f2i mod " << mod << " of " << F(inf[i][0]);
            ASSERT_EQ(f2u[i], f2int(fv, irnd, bits, false)) << "f2u mod " << mod << " of " << F(inf[i][0]);
        }
    }
}

// Integer references, bit by bit from PTX's definitions.
uint64_t ref_bfe(uint64_t a, uint64_t pos, uint64_t len, bool sign, bool w32) {
    int msb = w32 ? 31 : 63;
    unsigned p = pos & 0xff, n = len & 0xff;
    unsigned sb = std::min<unsigned>(p + n - 1, msb);
    uint64_t sbit = (sign && n) ? (a >> sb) & 1 : 0, d = 0;
    for (int i = 0; i <= msb; i++) {
        uint64_t bit = (static_cast<unsigned>(i) < n && p + i <= static_cast<unsigned>(msb)) ? (a >> (p + i)) & 1 : sbit;
        d |= bit << i;
    }
    if (w32) return sign ? static_cast<uint64_t>(static_cast<int32_t>(d)) : static_cast<uint32_t>(d);
    return d;
}

uint64_t ref_bfi(uint64_t a, uint64_t b, uint64_t pos, uint64_t len, bool w32) {
    int msb = w32 ? 31 : 63;
    unsigned p = pos & 0xff, n = len & 0xff;
    uint64_t f = w32 ? static_cast<uint32_t>(b) : b;
    for (unsigned i = 0; i < n && p + i <= static_cast<unsigned>(msb); i++)
        f = (f & ~(1ULL << (p + i))) | (((a >> i) & 1) << (p + i));
    return f;
}

TEST(Isa2, IntegerInstructions) {
    Gen g(11);
    std::vector<In> in(1024);
    for (auto& x : in) {
        uint64_t r = g.any();
        x = In{g.any(), g.any(), (r & 1) ? r % 80 : r};  // small positions and lengths too
        if (r & 2) x[1] %= 80;
    }
    auto run = [&](uint8_t op, uint32_t mod, const std::function<uint64_t(const In&)>& ref) {
        auto got = run_insn(insn(op, mod), in);
        for (size_t i = 0; i < in.size(); i++)
            ASSERT_EQ(got[i], ref(in[i])) << "op 0x" << std::hex << int(op) << " mod " << mod << " on " << in[i][0]
                                          << ", " << in[i][1] << ", " << in[i][2];
    };
    run(VGPU_OP_MULHIU, 0, [](const In& x) {
        return static_cast<uint64_t>((static_cast<unsigned __int128>(x[0]) * x[1]) >> 64);
    });
    run(VGPU_OP_MULHI, 0, [](const In& x) {
        return static_cast<uint64_t>((static_cast<__int128>(static_cast<int64_t>(x[0])) * static_cast<int64_t>(x[1])) >> 64);
    });
    run(VGPU_OP_SELP, 0, [](const In& x) { return x[2] ? x[0] : x[1]; });
    run(VGPU_OP_POPC, 0, [](const In& x) { return static_cast<uint64_t>(std::popcount(x[0])); });
    run(VGPU_OP_CLZ, 0, [](const In& x) { return static_cast<uint64_t>(std::countl_zero(x[0])); });
    run(VGPU_OP_BREV, 0, [](const In& x) {
        uint64_t r = 0;
        for (int i = 0; i < 64; i++) r |= ((x[0] >> i) & 1) << (63 - i);
        return r;
    });
    for (uint32_t w32 = 0; w32 < 2; w32++) {
        run(VGPU_OP_BFE, w32, [w32](const In& x) { return ref_bfe(x[0], x[1], x[2], true, w32); });
        run(VGPU_OP_BFEU, w32, [w32](const In& x) { return ref_bfe(x[0], x[1], x[2], false, w32); });
    }
}

TEST(Isa2, BitFieldInsertAndSelectWithTheFifthRegister) {
    Gen g(12);
    std::vector<In> in(512);
    for (auto& x : in) x = In{g.any(), g.any(), g.any() % 72};
    for (uint32_t w32 = 0; w32 < 2; w32++) {
        // bfi r4, r1, r2, r3, r2: the length is the base's low byte.
        uint64_t word = vgpu_insn(VGPU_OP_BFI, 4, 1, 2, VGPU_IMM_REGS(3, 2, w32));
        auto got = run_insn(word, in);
        for (size_t i = 0; i < in.size(); i++)
            ASSERT_EQ(got[i], ref_bfi(in[i][0], in[i][1], in[i][2], in[i][1], w32)) << i;
    }
}

// PTX's prmt, from its table of modes (d.b3 d.b2 d.b1 d.b0 per selector).
uint64_t ref_prmt(uint64_t a, uint64_t b, uint64_t c, int mode) {
    static const int kSel[7][4][4] = {
        {},
        {{3, 2, 1, 0}, {4, 3, 2, 1}, {5, 4, 3, 2}, {6, 5, 4, 3}},  // f4e
        {{5, 6, 7, 0}, {6, 7, 0, 1}, {7, 0, 1, 2}, {0, 1, 2, 3}},  // b4e
        {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 3, 3}},  // rc8
        {{3, 2, 1, 0}, {3, 2, 1, 1}, {3, 2, 2, 2}, {3, 3, 3, 3}},  // ecl
        {{0, 0, 0, 0}, {1, 1, 1, 0}, {2, 2, 1, 0}, {3, 2, 1, 0}},  // ecr
        {{1, 0, 1, 0}, {3, 2, 3, 2}, {1, 0, 1, 0}, {3, 2, 3, 2}},  // rc16
    };
    uint64_t bytes = (static_cast<uint64_t>(static_cast<uint32_t>(b)) << 32) | static_cast<uint32_t>(a);
    uint32_t d = 0;
    for (int i = 0; i < 4; i++) {
        int s = mode ? kSel[mode][c & 3][3 - i] : static_cast<int>((c >> (4 * i)) & 0xf);
        uint32_t byte = (bytes >> ((s & 7) * 8)) & 0xff;
        if (!mode && (s & 8)) byte = (byte & 0x80) ? 0xff : 0;
        d |= byte << (8 * i);
    }
    return d;
}

TEST(Isa2, BytePermuteEveryMode) {
    Gen g(13);
    std::vector<In> in(512);
    for (auto& x : in) x = In{g.any(), g.any(), g.any()};
    for (int mode = 0; mode < VGPU_PRMT_COUNT; mode++) {
        auto got = run_insn(insn(VGPU_OP_PRMT, mode), in);
        for (size_t i = 0; i < in.size(); i++)
            ASSERT_EQ(got[i], ref_prmt(in[i][0], in[i][1], in[i][2], mode)) << "mode " << mode << " c " << std::hex
                                                                             << in[i][2];
    }
}

TEST(Isa2, ExtensionsAndNarrowLoadsStores) {
    Gpu g;
    auto* d = g.map(0x200000, 4096, VGPU_PTE_R | VGPU_PTE_W);
    const uint8_t pattern[8] = {0x80, 0x7f, 0xfe, 0xff, 0x01, 0x80, 0x34, 0x12};
    std::memcpy(d, pattern, 8);
    auto code = g.load(R"(.kernel k
        ldp r1, 0
        ld.s8 r2, [r1]
        st.u64 [r1+64], r2
        ld.u16 r2, [r1+2]
        st.u64 [r1+72], r2
        ld.s16 r2, [r1+2]
        st.u64 [r1+80], r2
        li r3, 0x1234
        lih r3, -1
        st.u16 [r1+8], r3
        sext r4, r3, 16
        st.u64 [r1+88], r4
        zext r4, r3, 8
        st.u64 [r1+96], r4
        sext r4, r3, 32
        st.u64 [r1+104], r4
        li r5, 0xff80
        sts.u16 [r0+2], r5
        lds.s8 r6, [r0+2]
        st.u64 [r1+112], r6
        lds.s16 r6, [r0+2]
        st.u64 [r1+120], r6
        lds.u8 r6, [r0+3]
        st.u64 [r1+128], r6
        li r7, -5
        sts.u8 [r0+5], r7
        lds.u16 r6, [r0+4]
        st.u64 [r1+136], r6
        sts.u32 [r0+8], r7
        lds.s32 r6, [r0+8]
        st.u64 [r1+144], r6
        exit
)");
    auto desc = Gpu::desc(code, 1, 1, {0x200000});
    desc.shared_size = 16;
    auto r = g.run(desc);
    ASSERT_EQ(r.status, VGPU_RUN_DONE) << r.fault_kind;
    auto* o = reinterpret_cast<uint64_t*>(d + 64);
    EXPECT_EQ(o[0], static_cast<uint64_t>(-128));
    EXPECT_EQ(o[1], 0xfffeu);
    EXPECT_EQ(o[2], static_cast<uint64_t>(-2));
    EXPECT_EQ(d[8], 0x34);
    EXPECT_EQ(d[9], 0x12);
    EXPECT_EQ(o[3], 0x1234u);
    EXPECT_EQ(o[4], 0x34u);
    EXPECT_EQ(o[5], 0x1234u);
    EXPECT_EQ(o[6], static_cast<uint64_t>(-128)) << "byte 2 of 0xff80 little-endian is 0x80";
    EXPECT_EQ(o[7], static_cast<uint64_t>(static_cast<int16_t>(0xff80)));
    EXPECT_EQ(o[8], 0xffu);
    EXPECT_EQ(o[9], 0xfb00u);
    EXPECT_EQ(o[10], static_cast<uint64_t>(-5));
}

TEST(Isa2, NarrowAccessesFaultWhereMisalignedOrOutside) {
    struct Case { const char* body; uint32_t kind; };
    const Case cases[] = {
        {"ld.u16 r2, [r1+1]", VGPU_FAULT_MISALIGNED},
        {"st.u16 [r1+4095], r2", VGPU_FAULT_MISALIGNED},
        {"ld.s8 r2, [r1+4096]", VGPU_FAULT_UNMAPPED},
        {"lds.u16 r2, [r0+15]", VGPU_FAULT_SHARED},
        {"sts.u8 [r0+16], r2", VGPU_FAULT_SHARED},
        {"lds.s32 r2, [r0+14]", VGPU_FAULT_SHARED},
    };
    for (const auto& c : cases) {
        Gpu g;
        g.map(0x200000, 4096, VGPU_PTE_R | VGPU_PTE_W);
        auto code = g.load(std::string(".kernel k\n ldp r1, 0\n ") + c.body + "\n exit\n");
        auto desc = Gpu::desc(code, 1, 1, {0x200000});
        desc.shared_size = 16;
        auto r = g.run(desc);
        EXPECT_EQ(r.status, VGPU_RUN_FAULT) << c.body;
        EXPECT_EQ(r.fault_kind, c.kind) << c.body;
    }
}

// The decoder: every field an instruction does not use is zero, every
// modifier in its class's range; anything else is ILLEGAL.
TEST(Isa2, DecoderRefusesUnusedFieldsAndBadModifiers) {
    vgpu_dinsn d;
    EXPECT_TRUE(vgpu_isa_decode(insn(VGPU_OP_DFMA, VGPU_RND_RP), &d));
    EXPECT_EQ(d.rc, 3);
    EXPECT_EQ(d.mod, VGPU_RND_RP);
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_DFMA, 4, 1, 2, VGPU_IMM_REGS(32, 0, 0)), &d)) << "rc > 31";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_DADD, 4, 1, 2, VGPU_IMM_REGS(3, 0, 0)), &d)) << "rc in RRR";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_DFMA, 4, 1, 2, VGPU_IMM_REGS(3, 5, 0)), &d)) << "re in RRRR";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_DADD, 4, 1, 2, VGPU_IMM_REGS(0, 0, 4)), &d)) << "rounding 4";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_ADD, 4, 1, 2, VGPU_IMM_REGS(0, 0, 1)), &d)) << "mod on add";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_ADD, 4, 1, 2, 1 << 20), &d)) << "high imm bits";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_PRMT, 4, 1, 2, VGPU_IMM_REGS(3, 0, 7)), &d)) << "prmt mode 7";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_BFE, 4, 1, 2, VGPU_IMM_REGS(3, 0, 2)), &d)) << "bfe width 2";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_SEXT, 4, 1, 0, 12), &d)) << "sext 12";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_LDP, 4, 0, 0, VGPU_NUM_PARAMS), &d));
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_S2R, 4, 0, 0, VGPU_SR_COUNT), &d));
    EXPECT_TRUE(vgpu_isa_decode(vgpu_insn(VGPU_OP_F2I, 4, 1, 0, VGPU_IMM_REGS(0, 0, 15)), &d));
    // Register fields the format does not use must be zero.
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_NOP, 5, 0, 0, 0), &d)) << "nop with rd";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_MOV, 1, 2, 3, 0), &d)) << "mov with rb";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_LI, 1, 2, 0, 5), &d)) << "li with ra";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_ST_U64, 9, 1, 2, 0), &d)) << "st with rd";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_BRA, 0, 0, 1, 1), &d)) << "bra with rb";
    EXPECT_FALSE(vgpu_isa_decode(vgpu_insn(VGPU_OP_BZ, 1, 2, 0, 1), &d)) << "bz with rd";
    EXPECT_TRUE(vgpu_isa_decode(vgpu_insn(VGPU_OP_ST_U64, 0, 1, 2, 8), &d));
    EXPECT_TRUE(vgpu_isa_decode(vgpu_insn(VGPU_OP_LD_U16, 4, 1, 0, -2), &d));
    EXPECT_EQ(d.imm, -2) << "offsets stay signed";
    // The interpreter faults ILLEGAL on what the decoder refuses.
    Gpu g;
    g.map(Gpu::kCodeVa, 4096, VGPU_PTE_R | VGPU_PTE_X);
    auto* code = reinterpret_cast<uint64_t*>(vgpu_pt_lookup(g.pt(), Gpu::kCodeVa) & ~0xfffUL);
    code[0] = vgpu_insn(VGPU_OP_DADD, 4, 1, 2, VGPU_IMM_REGS(0, 0, 4));
    auto r = g.run(Gpu::desc(Gpu::kCodeVa, 1, 1));
    EXPECT_EQ(r.status, VGPU_RUN_FAULT);
    EXPECT_EQ(r.fault_kind, VGPU_FAULT_ILLEGAL);
}

// vgpu-as writes every modifier and reads back what it wrote.
TEST(Isa2, AssemblerModifiersRoundTrip) {
    auto img = vgpu::assemble(R"(.kernel k
        dadd.rz r1, r2, r3
        dfma.rp r1, r2, r3, r4
        fsqrt.rm r1, r2
        ffma r1, r2, r3, r4
        f2i.rni.32 r1, r2
        d2u.8.rpi r1, r2
        drnd.rmi r1, r2
        bfe.32 r1, r2, r3, r4
        bfi r1, r2, r3, r4, r5
        prmt.ecr r1, r2, r3, r4
        sext r1, r2, 16
        ld.s16 r1, [r2-6]
        exit
)", "t.vas");
    ASSERT_EQ(img.code.size(), 13u);
    EXPECT_EQ(img.code[0], vgpu_insn(VGPU_OP_DADD, 1, 2, 3, VGPU_IMM_REGS(0, 0, VGPU_RND_RZ)));
    EXPECT_EQ(img.code[1], vgpu_insn(VGPU_OP_DFMA, 1, 2, 3, VGPU_IMM_REGS(4, 0, VGPU_RND_RP)));
    EXPECT_EQ(img.code[4], vgpu_insn(VGPU_OP_F2I, 1, 2, 0, VGPU_IMM_REGS(0, 0, VGPU_IRND_RNI | VGPU_IW_32 << 2)));
    EXPECT_EQ(img.code[5], vgpu_insn(VGPU_OP_D2U, 1, 2, 0, VGPU_IMM_REGS(0, 0, VGPU_IRND_RPI | VGPU_IW_8 << 2)));
    EXPECT_EQ(img.code[8], vgpu_insn(VGPU_OP_BFI, 1, 2, 3, VGPU_IMM_REGS(4, 5, 0)));
    auto again = vgpu::assemble(vgpu::disassemble(img), "d.vas");
    EXPECT_EQ(again.code, img.code);
    EXPECT_THROW(vgpu::assemble(".kernel k\n dadd.rni r1, r2, r3\n", "t"), vgpu::AsmError);
    EXPECT_THROW(vgpu::assemble(".kernel k\n f2i.rni.rzi r1, r2\n", "t"), vgpu::AsmError);
    EXPECT_THROW(vgpu::assemble(".kernel k\n add.rz r1, r2, r3\n", "t"), vgpu::AsmError);
    EXPECT_THROW(vgpu::assemble(".kernel k\n sext r1, r2, 12\n", "t"), vgpu::AsmError);
    EXPECT_THROW(vgpu::assemble(".kernel k\n ffma r1, r2, r3\n", "t"), vgpu::AsmError);
}

}  // namespace

namespace {

// Reference of every atomic: the new memory value from old, v and c (the
// compare value), on @size bytes; signed min/max compare as signed.
uint64_t ref_atom(const std::string& m, uint64_t old, uint64_t v, uint64_t c, int size) {
    uint64_t mask = size == 4 ? 0xffffffffull : ~0ull;
    old &= mask, v &= mask, c &= mask;
    auto s = [&](uint64_t x) { return size == 4 ? static_cast<int64_t>(static_cast<int32_t>(x)) : static_cast<int64_t>(x); };
    auto has = [&](const char* k) { return m.find(k) != std::string::npos; };
    if (has(".add.f32")) return fbits(F(old) + F(v));
    if (has(".add.f64")) return dbits(D(old) + D(v));
    if (has(".add.")) return (old + v) & mask;
    if (has(".min.s")) return s(old) < s(v) ? old : v;
    if (has(".max.s")) return s(old) < s(v) ? v : old;
    if (has(".min.")) return std::min(old, v);
    if (has(".max.")) return std::max(old, v);
    if (has(".and.")) return old & v;
    if (has(".or.")) return old | v;
    if (has(".xor.")) return old ^ v;
    if (has(".xchg.")) return v;
    if (has(".cas.")) return old == c ? v : old;
    if (has(".inc.")) return old >= v ? 0 : old + 1;
    if (has(".dec.")) return old == 0 || old > v ? v : old - 1;
    ADD_FAILURE() << "no reference for " << m;
    return 0;
}

// Every atomic of the table, global and shared, on values chosen to tell
// signed from unsigned, equal from not, wrap-around and NaN: the memory
// left behind and rd (the old value, sign-extended for .s32).
TEST(Isa2, EveryAtomicGlobalAndShared) {
    const uint64_t vals[][3] = {
        {5, 9, 5},          {9, 5, 7},         {0xfffffff0ull, 3, 0xfffffff0ull},
        {0, 0, 1},          {3, 3, 3},         {0x8000000000000001ull, 1, 0},
        {0x7fffffffull, 0x80000000ull, 0}, {0x3f800000, 0x40000000, 0}, {0x3ff0000000000000ull, 0x4000000000000000ull, 0},
        {0x7f800000, 0xff800000, 0},       {0x00000001, 0x80000001, 1}, {0xfff0000000000000ull, 0x7ff0000000000000ull, 0},
    };
    int checked = 0;
    for (const auto& op : vgpu_op_table) {
        if (!(op.flags & VGPU_OPF_ATOMIC)) continue;
        bool sh = op.flags & VGPU_OPF_SHARED;
        vgpu_atom_info a = vgpu_atom_of(op.opcode);
        std::string m = op.name;
        for (const auto& x : vals) {
            Gpu g;
            auto* mem = reinterpret_cast<uint64_t*>(g.map(0x200000, 4096, VGPU_PTE_R | VGPU_PTE_W));
            mem[0] = x[0];
            mem[1] = x[1];
            mem[2] = x[2];
            std::string src = std::string(".kernel k\n.shared 64\n ldp r5, 0\n ld.u64 r3, [r5]\n ld.u64 r2, [r5+8]\n") +
                              " ld.u64 r4, [r5+16]\n" + (sh ? " li r1, 8\n sts.u64 [r1], r3\n" : " addi r1, r5, 64\n st.u64 [r1], r3\n") +
                              " " + m + " r4, [r1], r2\n st.u64 [r5+24], r4\n" +
                              (sh ? " lds.u64 r6, [r1]\n" : " ld.u64 r6, [r1]\n") + " st.u64 [r5+32], r6\n exit\n";
            auto code = g.load(src);
            auto d = Gpu::desc(code, 1, 1, {0x200000});
            d.shared_size = 64;
            auto r = g.run(d);
            ASSERT_EQ(r.status, VGPU_RUN_DONE) << m;
            uint64_t mask = a.size == 4 ? 0xffffffffull : ~0ull;
            uint64_t want_mem = ref_atom(m, x[0], x[1], x[2], a.size) | (x[0] & ~mask);
            uint64_t want_rd = a.size == 4 ? (a.sign ? static_cast<uint64_t>(static_cast<int32_t>(x[0])) : x[0] & mask) : x[0];
            EXPECT_EQ(mem[4], want_mem) << m << " on " << std::hex << x[0] << ", " << x[1] << ", " << x[2];
            EXPECT_EQ(mem[3], want_rd) << m << " rd on " << std::hex << x[0];
            checked++;
        }
    }
    EXPECT_EQ(checked, 48 * 12) << "every atomic of the table";
}

TEST(Isa2, LaneAndWarpOfTheLinearThreadIndex) {
    Gpu g;
    auto* mem = reinterpret_cast<uint64_t*>(g.map(0x200000, 4096 * 4, VGPU_PTE_R | VGPU_PTE_W));
    auto code = g.load(R"(.kernel k
        s2r r1, %laneid
        s2r r2, %warpid
        s2r r3, %tid.x
        s2r r4, %tid.y
        s2r r5, %ntid.x
        mul r4, r4, r5
        add r3, r3, r4
        shli r3, r3, 4
        ldp r6, 0
        add r6, r6, r3
        fence
        st.u64 [r6], r1
        st.u64 [r6+8], r2
        exit
)");
    auto d = Gpu::desc(code, 1, 1, {0x200000});
    d.block[0] = 20;
    d.block[1] = 7;
    ASSERT_EQ(g.run(d).status, VGPU_RUN_DONE);
    for (uint64_t t = 0; t < 140; t++) {
        EXPECT_EQ(mem[2 * t], t % 32);
        EXPECT_EQ(mem[2 * t + 1], t / 32);
    }
}

// %clock64 counts the thread's instructions since its block started,
// each one unit whatever its cost in work units (dsqrt), a warp
// instruction once, a barrier's wait nothing; the same wherever the
// launch is stopped and resumed, and in every block.
TEST(Isa2, ClockCountsTheThreadsInstructions) {
    for (uint64_t slice : {~0ull, 1ull, 2ull, 5ull, 16ull, 333ull}) {
        Gpu g;
        auto* mem = reinterpret_cast<uint64_t*>(g.map(0x200000, 4096 * 2, VGPU_PTE_R | VGPU_PTE_W));
        auto code = g.load(R"(.kernel k
        s2r r1, %clock64
        nop
        li r3, 2.0
        dsqrt r3, r3
        s2r r2, %clock64
        bar
        wsync
        s2r r4, %clock64
        s2r r5, %tid.x
        addi r5, r5, 1
loop:   addi r5, r5, -1
        bnz r5, loop
        s2r r6, %clock64
        s2r r7, %tid.x
        s2r r8, %ctaid.x
        muli r8, r8, 40
        add r7, r7, r8
        shli r7, r7, 5
        ldp r8, 0
        add r8, r8, r7
        st.u64 [r8], r1
        st.u64 [r8+8], r2
        st.u64 [r8+16], r4
        st.u64 [r8+24], r6
        exit
)");
        auto d = Gpu::desc(code, 2, 40, {0x200000});
        ASSERT_EQ(g.run(d, slice).status, VGPU_RUN_DONE) << slice;
        for (uint64_t t = 0; t < 80; t++) {
            EXPECT_EQ(mem[4 * t], 0u) << t << " slice " << slice;
            EXPECT_EQ(mem[4 * t + 1], 4u) << t << " slice " << slice;
            EXPECT_EQ(mem[4 * t + 2], 7u) << t << " slice " << slice;
            EXPECT_EQ(mem[4 * t + 3], 10 + 2 * (t % 40 + 1)) << t << " slice " << slice;
        }
    }
}

}  // namespace
