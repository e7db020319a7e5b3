// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The lowerings of ptx_lower_math.cpp (ex2 lg2 sin cos tanh .approx) and
// ptx_lower_f16.cpp (binary16 and bfloat16), run in the interpreter over
// many inputs against references written here: the host's long double
// functions for the transcendentals, checked within PTX ISA 9.0's error
// bounds, and for the 16-bit formats an exact rounding of the exact
// (__float128) result by search in the table of every finite 16-bit
// value, independent of the compiler's bit arithmetic.
//
// GPUVM_MATH_SAMPLES=N runs N random inputs per case instead of the
// default (the numbers in Documentation/cuda.rst are from N = 16M), and
// GPUVM_MATH_REPORT=1 prints each case's maximum error.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "gpu_harness.hpp"
#include "ptx_test_util.hpp"

namespace {

using gpuvm::ptx::Program;
using gpuvm::ptx::test::compile_text;

size_t samples(size_t def) {
    const char* s = std::getenv("GPUVM_MATH_SAMPLES");
    return s ? std::strtoull(s, nullptr, 0) : def;
}
bool report() { return std::getenv("GPUVM_MATH_REPORT") != nullptr; }

// Runs @body once per 64-bit input: %rd10 the input, %r10/%r12 its low
// and high 32 bits, %f1 the low 32 bits as binary32, %fd1 the input as
// binary64, %rs1/%rs2 the low two 16-bit halves and %rs3 the third.  The
// body leaves its result in %rd11 (64 bits), stored per input.
std::vector<uint64_t> run(const std::string& body, const std::vector<uint64_t>& in) {
    std::string text = R"(.version 8.0
.target sm_75
.address_size 64
.visible .entry k(.param .u64 in, .param .u64 out, .param .u32 n)
{
  .reg .pred %p<8>;
  .reg .b16 %rs<16>;
  .reg .f16 %h<8>;
  .reg .b32 %r<32>;
  .reg .f32 %f<8>;
  .reg .f64 %fd<8>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %tid.x;
  mov.u32 %r3, %ctaid.x;
  mov.u32 %r4, %ntid.x;
  mad.lo.s32 %r5, %r3, %r4, %r2;
  mov.u32 %r6, %nctaid.x;
  mul.lo.s32 %r7, %r6, %r4;
$Lloop:
  setp.ge.u32 %p7, %r5, %r1;
  @%p7 bra $Ldone;
  mul.wide.u32 %rd3, %r5, 8;
  add.s64 %rd4, %rd1, %rd3;
  add.s64 %rd5, %rd2, %rd3;
  ld.global.u64 %rd10, [%rd4];
  mov.b64 {%r10, %r12}, %rd10;
  mov.b32 %f1, %r10;
  mov.b64 %fd1, %rd10;
  mov.b32 {%rs1, %rs2}, %r10;
  mov.b32 {%rs3, %rs4}, %r12;
  mov.u64 %rd11, 0;
)" + body + R"(
  st.global.u64 [%rd5], %rd11;
  add.s32 %r5, %r5, %r7;
  bra $Lloop;
$Ldone:
  ret;
}
)";
    Program p = compile_text(text);
    vgpu::test::Gpu gpu;
    auto code = gpuvm::ptx::link(p, 0);
    uint8_t* c = gpu.map(0x100000, code.size() * 8, VGPU_PTE_R | VGPU_PTE_X);
    std::memcpy(c, code.data(), code.size() * 8);
    size_t bytes = std::max<size_t>(in.size(), 1) * 8;
    uint8_t* i = gpu.map(0x10000000, bytes, VGPU_PTE_R | VGPU_PTE_W);
    std::memcpy(i, in.data(), in.size() * 8);
    uint8_t* o = gpu.map(0x80000000, bytes, VGPU_PTE_R | VGPU_PTE_W);
    auto d = vgpu::test::Gpu::desc(0x100000, 64, 256, {0x10000000, 0x80000000, in.size()});
    auto r = gpu.run(d);
    EXPECT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
    std::vector<uint64_t> out(in.size());
    std::memcpy(out.data(), o, in.size() * 8);
    return out;
}

float f32(uint64_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b)); }
uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
double f64(uint64_t b) { return std::bit_cast<double>(b); }
uint64_t bits(double d) { return std::bit_cast<uint64_t>(d); }

// The binary32 unit in the last place at |v| (subnormals: 2^-149).
long double ulp32(long double v) {
    int e;
    frexpl(v, &e);
    return ldexpl(1.0L, std::max(e, -125) - 24);
}

// ---- transcendentals -----------------------------------------------------------

struct Err {
    double max_ulp = 0, max_abs = 0, max_rel = 0;
    uint32_t worst = 0;
    size_t n = 0, not_cr = 0;  // results, and those not the correctly rounded one
    void add(uint32_t x, long double got, long double ref) {
        long double a = fabsl(got - ref);
        double u = static_cast<double>(a / ulp32(ref));
        if (u > max_ulp)
            max_ulp = u, worst = x;
        max_abs = std::max(max_abs, static_cast<double>(a));
        if (ref != 0 && fabsl(ref) >= 0x1p-126L)
            max_rel = std::max(max_rel, static_cast<double>(a / fabsl(ref)));
        n++;
        not_cr += static_cast<float>(got) != static_cast<float>(ref);
    }
    void print(const char* what) const {
        if (report())
            printf("%-34s %zu inputs: max %.6f ulp, abs 2^%.2f, rel 2^%.2f (normal results), %zu not correctly "
                   "rounded (worst input %#x)\n",
                   what, n, max_ulp, max_abs ? std::log2(max_abs) : -999.0, max_rel ? std::log2(max_rel) : -999.0,
                   not_cr, worst);
    }
};

std::vector<uint64_t> to64(const std::vector<uint32_t>& v) { return {v.begin(), v.end()}; }

// Random binary32 bits, and uniform values in [lo, hi].
std::vector<uint32_t> random_bits(size_t n, uint32_t seed) {
    std::mt19937 g(seed);
    std::vector<uint32_t> v(n);
    for (auto& x : v)
        x = g();
    return v;
}
std::vector<uint32_t> uniform(size_t n, double lo, double hi, uint32_t seed) {
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<uint32_t> v(n);
    for (auto& x : v)
        x = bits(static_cast<float>(u(g)));
    return v;
}

const std::vector<uint32_t> kSpecials = {0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
                                         0x7f800001, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000,
                                         0x3f800000, 0xbf800000, 0x7f7fffff, 0xff7fffff, 0x3f000000, 0x40000000};

bool is_sub(float v) { return v != 0 && std::fabs(v) < 0x1p-126f; }

TEST(PtxMath, Ex2WithinTwoUlps) {
    for (bool ftz : {false, true}) {
        std::vector<uint32_t> xs = uniform(samples(1 << 18), -152, 130, 1);
        auto more = random_bits(samples(1 << 16), 2);
        xs.insert(xs.end(), more.begin(), more.end());
        xs.insert(xs.end(), kSpecials.begin(), kSpecials.end());
        for (int i = -160; i <= 130; i++)  // integers: exact powers of two
            xs.push_back(bits(static_cast<float>(i)));
        auto out = run(std::string("  ex2.approx") + (ftz ? ".ftz" : "") + ".f32 %f2, %f1;  mov.b32 %r11, %f2;"
                       "  cvt.u64.u32 %rd11, %r11;", to64(xs));
        Err err;
        for (size_t i = 0; i < xs.size(); i++) {
            float x = f32(xs[i]), got = f32(out[i]);
            if (ftz && is_sub(x))
                x = 0;
            if (std::isnan(x)) {
                EXPECT_TRUE(std::isnan(got)) << std::hex << xs[i];
                continue;
            }
            long double ref = exp2l(static_cast<long double>(x));
            if (ftz && ref < 0x1p-126L) {  // flushed, or rounded up to the smallest normal
                EXPECT_TRUE(got == 0 || got == 0x1p-126f) << std::hex << xs[i];
                continue;
            }
            if (std::isinf(got) || std::isinf(static_cast<float>(ref))) {
                EXPECT_EQ(got, static_cast<float>(ref)) << std::hex << xs[i];
                continue;
            }
            if (std::floor(x) == x && x >= -149 && x <= 127) {
                EXPECT_EQ(static_cast<long double>(got), ref) << x;  // powers of two exactly
            }
            err.add(xs[i], got, ref);
        }
        err.print(ftz ? "ex2.approx.ftz.f32" : "ex2.approx.f32");
        EXPECT_LE(err.max_ulp, 2.0);  // PTX: 2 ulp across the full range
        EXPECT_LE(err.max_ulp, 0.51);  // what the sequence gives (cuda.rst)
    }
}

TEST(PtxMath, Lg2WithinPtxBounds) {
    for (bool ftz : {false, true}) {
        auto xs = random_bits(samples(1 << 18), 3);
        for (auto& x : xs)
            x &= 0x7fffffff;  // positive
        std::mt19937 g(4);
        for (size_t i = 0; i < samples(1 << 16); i++)  // near 1
            xs.push_back(bits(1.0f) + static_cast<uint32_t>(g() % 4096) - 2048);
        auto more = random_bits(1 << 12, 5);
        xs.insert(xs.end(), more.begin(), more.end());
        xs.insert(xs.end(), kSpecials.begin(), kSpecials.end());
        auto out = run(std::string("  lg2.approx") + (ftz ? ".ftz" : "") + ".f32 %f2, %f1;  mov.b32 %r11, %f2;"
                       "  cvt.u64.u32 %rd11, %r11;", to64(xs));
        Err err;
        double worst_abs_near1 = 0;
        for (size_t i = 0; i < xs.size(); i++) {
            float x = f32(xs[i]), got = f32(out[i]);
            if (ftz && is_sub(x))
                x = std::copysign(0.0f, x);
            if (std::isnan(x) || x < 0) {
                EXPECT_TRUE(std::isnan(got)) << std::hex << xs[i];
                continue;
            }
            if (x == 0 || std::isinf(x)) {
                EXPECT_EQ(got, x == 0 ? -INFINITY : INFINITY) << std::hex << xs[i];
                continue;
            }
            long double ref = log2l(static_cast<long double>(x));
            long double a = fabsl(got - ref);
            if (x > 0.5f && x < 2.0f) {
                worst_abs_near1 = std::max(worst_abs_near1, static_cast<double>(a));
                EXPECT_LE(a, 0x1p-22L) << x;  // PTX: absolute 2^-22 in (0.5, 2)
            } else {
                EXPECT_LE(a / fabsl(ref), 0x1p-22L) << x;  // relative 2^-22 elsewhere
            }
            err.add(xs[i], got, ref);
        }
        err.print(ftz ? "lg2.approx.ftz.f32" : "lg2.approx.f32");
        if (report())
            printf("%-34s abs in (0.5, 2): 2^%.2f\n", "", std::log2(worst_abs_near1));
        EXPECT_LE(err.max_ulp, 0.51);
    }
}

void sincos_case(bool cos, bool ftz) {
    struct Range {
        const char* name;
        double lo, hi, bound;  // bound: PTX's absolute error, 0: none
    };
    const double pi = 3.14159265358979323846;
    const Range ranges[] = {{"[-2pi, 2pi]", -2 * pi, 2 * pi, std::exp2(-20.5)},
                            {"[-100pi, 100pi]", -100 * pi, 100 * pi, std::exp2(-14.7)},
                            {"[-2^20, 2^20]", -0x1p20, 0x1p20, 0},
                            {"[-2^40, 2^40]", -0x1p40, 0x1p40, 0}};
    std::string op = std::string(cos ? "cos" : "sin") + ".approx" + (ftz ? ".ftz" : "") + ".f32";
    std::string body = "  " + op + " %f2, %f1;  mov.b32 %r11, %f2;  cvt.u64.u32 %rd11, %r11;";
    uint32_t seed = 10;
    for (const Range& r : ranges) {
        auto xs = uniform(samples(1 << 18), r.lo, r.hi, seed++);
        auto out = run(body, to64(xs));
        Err err;
        for (size_t i = 0; i < xs.size(); i++) {
            float x = f32(xs[i]), got = f32(out[i]);
            if (ftz && is_sub(x))
                x = std::copysign(0.0f, x);
            long double ref = cos ? cosl(x) : sinl(x);
            if (ftz && fabsl(ref) < 0x1p-126L && !(got == 0 || fabsl(got) == 0x1p-126L))
                ADD_FAILURE() << std::hex << xs[i];
            err.add(xs[i], got, ref);
            if (r.bound != 0.0) {
                EXPECT_LE(fabsl(got - ref), r.bound) << op << " " << x;
            }
        }
        err.print((op + " " + r.name).c_str());
        EXPECT_LE(err.max_abs, 0x1p-24) << r.name;  // the sequence's own accuracy, |x| < 2^40
    }
    // Every finite input gives a value of [-1, 1]; inf and NaN a NaN; sin(+-0) = +-0.
    auto xs = random_bits(samples(1 << 18), seed);
    xs.insert(xs.end(), kSpecials.begin(), kSpecials.end());
    auto out = run(body, to64(xs));
    Err big;
    for (size_t i = 0; i < xs.size(); i++) {
        float x = f32(xs[i]), got = f32(out[i]);
        if (!std::isfinite(x)) {
            EXPECT_TRUE(std::isnan(got)) << std::hex << xs[i];
            continue;
        }
        EXPECT_LE(std::fabs(got), 1.0f) << std::hex << xs[i];
        if (x == 0 || (ftz && is_sub(x))) {
            EXPECT_EQ(bits(got), cos ? bits(1.0f) : (xs[i] & 0x80000000u)) << std::hex << xs[i];
        }
        if (ftz && is_sub(x))
            x = 0;
        if (std::fabs(x) < 0x1p52f)
            big.add(xs[i], got, cos ? cosl(x) : sinl(x));
    }
    big.print((op + " random bits, |x| < 2^52").c_str());
    EXPECT_LE(big.max_abs, 0x1p-24);
}

TEST(PtxMath, SinWithinPtxBounds) {
    sincos_case(false, false);
    sincos_case(false, true);
}

TEST(PtxMath, CosWithinPtxBounds) {
    sincos_case(true, false);
    sincos_case(true, true);
}

TEST(PtxMath, TanhWithinPtxBound) {
    auto xs = random_bits(samples(1 << 18), 30);
    auto more = uniform(samples(1 << 17), -10, 10, 31);
    xs.insert(xs.end(), more.begin(), more.end());
    xs.insert(xs.end(), kSpecials.begin(), kSpecials.end());
    auto out = run("  tanh.approx.f32 %f2, %f1;  mov.b32 %r11, %f2;  cvt.u64.u32 %rd11, %r11;", to64(xs));
    Err err;
    for (size_t i = 0; i < xs.size(); i++) {
        float x = f32(xs[i]), got = f32(out[i]);
        if (std::isnan(x)) {
            EXPECT_TRUE(std::isnan(got)) << std::hex << xs[i];
            continue;
        }
        long double ref = tanhl(x);
        if (x == 0 || is_sub(x)) {
            EXPECT_EQ(bits(got), xs[i]) << std::hex << xs[i];  // zeros and subnormals pass through
        }
        EXPECT_LE(fabsl(got - ref), fabsl(ref) * 0x1p-11L) << x;  // PTX: relative 2^-11
        err.add(xs[i], got, ref);
    }
    err.print("tanh.approx.f32");
    EXPECT_LE(err.max_ulp, 0.51);
}

// ---- 16-bit floats ---------------------------------------------------------------

// Every finite non-negative value of a 16-bit format, ascending, and the
// exact rounding of a real value to it.
struct Fmt16 {
    bool bf;
    std::vector<__float128> vals;  // index = encoding
    explicit Fmt16(bool b) : bf(b) {
        uint32_t inf = bf ? 0x7f80 : 0x7c00;
        for (uint32_t e = 0; e < inf; e++)
            vals.push_back(value(e));
    }
    __float128 value(uint32_t h) const {  // finite h
        int eb = bf ? 8 : 5, mb = bf ? 7 : 10, bias = bf ? 127 : 15;
        int e = (h >> mb) & ((1 << eb) - 1);
        __float128 m = h & ((1u << mb) - 1);
        __float128 v = e ? (m / (1 << mb) + 1) : m / (1 << mb);
        int p = e ? e - bias : 1 - bias;
        for (; p > 0; p--)
            v *= 2;
        for (; p < 0; p++)
            v /= 2;
        return (h & 0x8000) ? -v : v;
    }
    uint32_t inf() const { return bf ? 0x7f80 : 0x7c00; }
    uint32_t one() const { return bf ? 0x3f80 : 0x3c00; }
    // mode: 0 rn, 1 rz, 2 rm, 3 rp (the ISA's numbering).
    uint32_t round(__float128 x, int mode) const {
        bool neg = x < 0 || (x == 0 && 1 / x < 0);  // -0 too
        __float128 a = neg ? -x : x;
        uint32_t s = neg ? 0x8000 : 0;
        bool away = (mode == 3 && !neg) || (mode == 2 && neg);
        uint32_t maxf = inf() - 1;
        size_t hi = std::upper_bound(vals.begin(), vals.end(), a) - vals.begin();  // first > a
        size_t lo = hi - 1;                                                        // vals[lo] <= a
        if (vals[lo] == a)
            return s | static_cast<uint32_t>(lo);
        __float128 up = hi < vals.size() ? vals[hi] : vals[maxf] + (vals[maxf] - vals[maxf - 1]);  // "inf" as next
        uint32_t uh = hi < vals.size() ? static_cast<uint32_t>(hi) : inf();
        if (mode == 1 || (mode >= 2 && !away))
            return s | static_cast<uint32_t>(lo);
        if (mode >= 2)
            return s | uh;
        __float128 dl = a - vals[lo], du = up - a;
        if (dl < du)
            return s | static_cast<uint32_t>(lo);
        if (du < dl)
            return s | uh;
        return s | ((lo & 1) ? uh : static_cast<uint32_t>(lo));
    }
    bool nan(uint32_t h) const { return (h & 0x7fff) > inf(); }
};

const Fmt16& fmt(bool bf) {
    static const Fmt16 h(false), b(true);
    return bf ? b : h;
}

// A 16-bit result against the reference; NaNs compare as NaNs.
void expect16(uint32_t got, uint32_t want, bool bf, const std::string& what) {
    if (fmt(bf).nan(want)) {
        EXPECT_EQ(got, 0x7fffu) << what;
        return;
    }
    EXPECT_EQ(got, want) << what << std::hex << " got " << got << " want " << want;
}

const char* kRnd[] = {"rn", "rz", "rm", "rp"};

TEST(PtxHalf, WideningIsExactForEveryValue) {
    for (bool bf : {false, true}) {
        std::vector<uint64_t> xs(65536);
        for (uint32_t i = 0; i < 65536; i++)
            xs[i] = i;
        std::string t = bf ? "bf16" : "f16";
        auto out = run("  cvt.f32." + t + " %f2, %rs1;  mov.b32 %r11, %f2;  cvt.f64." + t +
                           " %fd2, %rs1;  mov.b64 {%r13, %r14}, %fd2;  xor.b32 %r13, %r13, %r14;"
                           "  mov.b64 %rd11, {%r11, %r13};",
                       xs);
        for (uint32_t h = 0; h < 65536; h++) {
            float got = f32(out[h]);
            uint32_t dhi = static_cast<uint32_t>(out[h] >> 32);
            if (fmt(bf).nan(h)) {
                EXPECT_TRUE(std::isnan(got)) << h;
                continue;
            }
            uint32_t mag = h & 0x7fff;
            float want = mag == fmt(bf).inf() ? INFINITY : static_cast<float>(fmt(bf).value(mag));
            if (h & 0x8000)
                want = -want;
            EXPECT_EQ(bits(got), bits(want)) << t << " " << std::hex << h;
            // the binary64 conversion's words, xor-ed: the same value
            uint64_t d = bits(static_cast<double>(want));
            EXPECT_EQ(dhi, static_cast<uint32_t>(d) ^ static_cast<uint32_t>(d >> 32)) << std::hex << h;
        }
    }
}

// cvt.{rn,rz,rm,rp}.{f16,bf16}.{f32,f64}: every 16-bit value and the
// values either side of every midpoint, subnormals, overflow, random bits.
TEST(PtxHalf, NarrowingIsCorrectlyRoundedInEveryMode) {
    for (bool bf : {false, true}) {
        const Fmt16& F = fmt(bf);
        for (bool from64 : {false, true}) {
            std::vector<uint64_t> xs;
            auto add = [&](__float128 v) {
                if (from64)
                    xs.push_back(bits(static_cast<double>(v)));
                else
                    xs.push_back(bits(static_cast<float>(v)));
            };
            for (uint32_t h = 0; h < F.inf(); h++) {
                __float128 v = F.vals[h];
                __float128 next = h + 1 < F.inf() ? F.vals[h + 1] : v + (v - F.vals[h - 1]);
                __float128 mid = (v + next) / 2;
                for (double s : {1.0, -1.0}) {
                    add(s * v);
                    add(s * mid);
                    if (from64) {  // one binary64 ulp either side, and far below binary32's ulp
                        double m = static_cast<double>(mid);
                        xs.push_back(bits(s * std::nextafter(m, 0.0)));
                        xs.push_back(bits(s * std::nextafter(m, 1e300)));
                        xs.push_back(bits(s * (m + m * 0x1p-40)));
                    } else {
                        float m = static_cast<float>(mid);
                        xs.push_back(bits(static_cast<float>(s) * std::nextafter(m, 0.0f)));
                        xs.push_back(bits(static_cast<float>(s) * std::nextafter(m, 1e30f)));
                    }
                }
            }
            std::mt19937_64 g(40 + from64 + 2 * bf);
            for (size_t i = 0; i < samples(1 << 17); i++)
                xs.push_back(from64 ? g() : static_cast<uint32_t>(g()));
            for (uint32_t s : kSpecials)
                xs.push_back(from64 ? bits(static_cast<double>(f32(s))) : s);
            std::string t = bf ? "bf16" : "f16", a = from64 ? "f64" : "f32";
            std::string body;
            for (int m = 0; m < 4; m++)
                body += "  cvt." + std::string(kRnd[m]) + "." + t + "." + a + " %rs" + std::to_string(8 + m) +
                        (from64 ? ", %fd1;" : ", %f1;");
            body += "  mov.b64 %rd11, {%rs8, %rs9, %rs10, %rs11};";
            auto out = run(body, xs);
            for (size_t i = 0; i < xs.size(); i++) {
                __float128 x = from64 ? __float128(f64(xs[i])) : __float128(f32(xs[i]));
                bool isnan = from64 ? std::isnan(f64(xs[i])) : std::isnan(f32(xs[i]));
                bool isinf = from64 ? std::isinf(f64(xs[i])) : std::isinf(f32(xs[i]));
                for (int m = 0; m < 4; m++) {
                    uint32_t got = static_cast<uint32_t>(out[i] >> (16 * m)) & 0xffff;
                    uint32_t want = isnan ? 0x7fff : isinf ? ((x < 0 ? 0x8000 : 0) | F.inf()) : F.round(x, m);
                    expect16(got, want, bf,
                             "cvt." + std::string(kRnd[m]) + "." + t + "." + a + " of " + std::to_string(xs[i]));
                }
            }
        }
    }
}

// cvt between 16-bit floats and integers, and cvt.rXi.f16.f16.
TEST(PtxHalf, IntegerConversions) {
    for (bool bf : {false, true}) {
        const Fmt16& F = fmt(bf);
        std::string t = bf ? "bf16" : "f16";
        // Integers to the format, in every mode (s32, u16, s64 and u64).
        std::vector<uint64_t> xs;
        for (int64_t v = -70000; v <= 70000; v += 1)
            xs.push_back(static_cast<uint64_t>(v));
        std::mt19937_64 g(50);
        for (int i = 0; i < 4096; i++)
            xs.push_back(g() >> (g() % 64));
        std::string body;
        for (int m = 0; m < 4; m++)
            body += "  cvt." + std::string(kRnd[m]) + "." + t + ".s64 %rs" + std::to_string(8 + m) + ", %rd10;";
        body += "  mov.b64 %rd11, {%rs8, %rs9, %rs10, %rs11};";
        auto out = run(body, xs);
        for (size_t i = 0; i < xs.size(); i++)
            for (int m = 0; m < 4; m++)
                expect16(static_cast<uint32_t>(out[i] >> (16 * m)) & 0xffff,
                         F.round(__float128(static_cast<int64_t>(xs[i])), m), bf,
                         "s64 " + std::to_string(static_cast<int64_t>(xs[i])) + " " + kRnd[m]);
        body.clear();
        for (int m = 0; m < 2; m++)
            body += "  cvt." + std::string(kRnd[m * 3]) + "." + t + ".u64 %rs" + std::to_string(8 + m) + ", %rd10;";
        body += "  cvt.rn." + t + ".s32 %rs10, %r10;  cvt.rn." + t + ".u16 %rs11, %rs1;";
        body += "  mov.b64 %rd11, {%rs8, %rs9, %rs10, %rs11};";
        out = run(body, xs);
        for (size_t i = 0; i < xs.size(); i++) {
            std::string w = " of " + std::to_string(xs[i]);
            expect16(out[i] & 0xffff, F.round(__float128(xs[i]), 0), bf, "u64 rn" + w);
            expect16((out[i] >> 16) & 0xffff, F.round(__float128(xs[i]), 3), bf, "u64 rp" + w);
            expect16((out[i] >> 32) & 0xffff, F.round(__float128(static_cast<int32_t>(xs[i])), 0), bf, "s32" + w);
            expect16(out[i] >> 48, F.round(__float128(static_cast<uint16_t>(xs[i])), 0), bf, "u16" + w);
        }
        // Every 16-bit value to integers and to integral 16-bit values.
        xs.resize(65536);
        for (uint32_t h = 0; h < 65536; h++)
            xs[h] = h;
        out = run("  cvt.rni.s32." + t + " %r20, %rs1;  cvt.rzi.u16." + t + " %rs8, %rs1;"
                  "  cvt.rpi.s8." + t + " %rs10, %rs1;  mov.b32 %r21, {%rs8, %rs10};  mov.b64 %rd11, {%r20, %r21};",
                  xs);
        auto sat = [](long double x, long double lo, long double hi) { return std::min(std::max(x, lo), hi); };
        std::vector<long double> vs(65536);
        for (uint32_t h = 0; h < 65536; h++) {
            bool inf = (h & 0x7fff) == F.inf();
            vs[h] = F.nan(h) ? NAN : inf ? ((h & 0x8000) ? -INFINITY : INFINITY) : static_cast<long double>(F.value(h));
            if (F.nan(h)) {
                EXPECT_EQ(out[h], 0u) << h;  // NaN to 0
                continue;
            }
            long double v = vs[h];
            EXPECT_EQ(static_cast<int32_t>(out[h]), static_cast<int32_t>(sat(nearbyintl(v), INT32_MIN, INT32_MAX)))
                << t << " " << h;
            EXPECT_EQ((out[h] >> 32) & 0xffff, static_cast<uint64_t>(sat(truncl(v), 0, 65535))) << h;
            EXPECT_EQ(static_cast<int8_t>(out[h] >> 48), static_cast<int8_t>(sat(ceill(v), -128, 127))) << h;
        }
        out = run("  cvt.rni." + t + "." + t + " %rs8, %rs1;  cvt.rzi." + t + "." + t + " %rs9, %rs1;"
                  "  cvt.rmi." + t + "." + t + " %rs10, %rs1;  cvt.rpi." + t + "." + t + " %rs11, %rs1;"
                  "  mov.b64 %rd11, {%rs8, %rs9, %rs10, %rs11};",
                  xs);
        long double (*fns[4])(long double) = {nearbyintl, truncl, floorl, ceill};
        for (uint32_t h = 0; h < 65536; h++) {
            for (int m = 0; m < 4; m++) {
                uint32_t got = static_cast<uint32_t>(out[h] >> (16 * m)) & 0xffff;
                if (F.nan(h)) {
                    EXPECT_EQ(got, 0x7fffu) << h;
                    continue;
                }
                long double r = fns[m](vs[h]);
                uint32_t want = std::isinf(r) ? (h & 0x8000) | F.inf()
                                : r == 0       ? (std::signbit(r) ? 0x8000u : 0u)
                                               : F.round(__float128(r), 0);
                EXPECT_EQ(got, want) << t << " mode " << m << " of " << std::hex << h;
            }
        }
    }
}

// Random 16-bit operands: every exponent, and the specials.
std::vector<uint64_t> random16(size_t n, bool bf, uint32_t seed) {
    std::mt19937_64 g(seed);
    std::vector<uint64_t> v(n);
    uint32_t inf = fmt(bf).inf();
    const uint32_t sp[] = {0, 0x8000, inf, inf | 0x8000, 0x7fff, 1, 0x8001, fmt(bf).one(), inf - 1};
    for (auto& x : v) {
        x = g() & 0xffffffffffffull;
        for (int k = 0; k < 3; k++)
            if (g() % 16 == 0)
                x = (x & ~(0xffffull << (16 * k))) | (uint64_t{sp[g() % 9]} << (16 * k));
    }
    return v;
}

// add sub mul fma min max neg abs on .f16 and .bf16, and the same on the
// packed pairs: each element against the exactly rounded exact result.
TEST(PtxHalf, ArithmeticIsCorrectlyRounded) {
    for (bool bf : {false, true}) {
        const Fmt16& F = fmt(bf);
        std::string t = bf ? "bf16" : "f16";
        auto xs = random16(samples(1 << 18), bf, 60 + bf);
        auto val = [&](uint32_t h) -> __float128 {
            uint32_t m = h & 0x7fff;
            __float128 v = m == F.inf() ? __float128(INFINITY) : F.value(m);
            return (h & 0x8000) ? -v : v;
        };
        auto is_nan = [&](uint32_t h) { return F.nan(h); };
        auto round = [&](__float128 v, bool nan) -> uint32_t {
            if (nan || v != v)
                return 0x7fff;
            if (v == __float128(INFINITY))
                return F.inf();
            if (v == -__float128(INFINITY))
                return F.inf() | 0x8000;
            return F.round(v, 0);
        };
        for (bool x2 : {false, true}) {
            std::string ty = x2 ? t + "x2" : t;
            // Scalars on %rs1 %rs2 %rs3; pairs on {%rs1,%rs2} {%rs3,%rs4} {%rs2,%rs1}.
            std::string a = x2 ? "%r10" : "%rs1", b = x2 ? "%r12" : "%rs2", c = x2 ? "%r13" : "%rs3";
            std::string pre = x2 ? "  mov.b32 %r13, {%rs2, %rs1};" : "";
            std::string body;
            if (x2) {  // two runs: add/mul, then fma/sub
                body = pre + "  add.rn." + ty + " %r20, " + a + ", " + b + ";  mul.rn." + ty + " %r21, " + a + ", " +
                       b + ";  mov.b64 %rd11, {%r20, %r21};";
            } else {
                body = "  add.rn." + ty + " %rs8, " + a + ", " + b + ";  mul.rn." + ty + " %rs9, " + a + ", " + b +
                       ";  fma.rn." + ty + " %rs10, " + a + ", " + b + ", " + c + ";  sub.rn." + ty + " %rs11, " + a +
                       ", " + b + ";  mov.b64 %rd11, {%rs8, %rs9, %rs10, %rs11};";
            }
            auto out = run(body, xs);
            std::vector<uint64_t> out2;
            if (x2)
                out2 = run(pre + "  fma.rn." + ty + " %r22, " + a + ", " + b + ", " + c + ";  sub.rn." + ty +
                               " %r23, " + a + ", " + b + ";  mov.b64 %rd11, {%r22, %r23};",
                           xs);
            for (size_t i = 0; i < xs.size(); i++) {
                int lanes = x2 ? 2 : 1;
                for (int l = 0; l < lanes; l++) {
                    uint32_t ha, hb, hc;
                    if (x2) {
                        uint32_t e[4] = {static_cast<uint32_t>(xs[i]) & 0xffff, static_cast<uint32_t>(xs[i] >> 16) & 0xffff,
                                         static_cast<uint32_t>(xs[i] >> 32) & 0xffff,
                                         static_cast<uint32_t>(xs[i] >> 48) & 0xffff};
                        ha = e[l];
                        hb = e[2 + l];
                        hc = e[1 - l];  // {%rs2, %rs1}
                    } else {
                        ha = xs[i] & 0xffff, hb = (xs[i] >> 16) & 0xffff, hc = (xs[i] >> 32) & 0xffff;
                    }
                    __float128 va = val(ha), vb = val(hb), vc = val(hc);
                    bool na = is_nan(ha), nb = is_nan(hb), nc = is_nan(hc);
                    uint32_t want[4] = {round(va + vb, na || nb), round(va * vb, na || nb),
                                        round(va * vb + vc, na || nb || nc), round(va - vb, na || nb)};
                    uint32_t got[4];
                    for (int k = 0; k < 4; k++) {
                        uint64_t w = x2 ? (k < 2 ? out[i] : out2[i]) : out[i];
                        int word = x2 ? k % 2 : k;
                        got[k] = x2 ? static_cast<uint32_t>(w >> (32 * word + 16 * l)) & 0xffff
                                    : static_cast<uint32_t>(w >> (16 * word)) & 0xffff;
                    }
                    const char* names[4] = {"add", "mul", "fma", "sub"};
                    for (int k = 0; k < 4; k++) {
                        // The exact product and sum of bfloat16 values may not fit a __float128 (the
                        // reference): skip fma where the exponents are far apart.
                        if (bf && k == 2 && va * vb != 0 && vc != 0) {
                            __float128 p = va * vb, q = vc;
                            if (p < 0) p = -p;
                            if (q < 0) q = -q;
                            if (p > q * __float128(0x1p90) || q > p * __float128(0x1p90))
                                continue;
                        }
                        if (got[k] != want[k])
                            ADD_FAILURE() << names[k] << "." << ty << " lane " << l << std::hex << " of " << ha
                                          << ", " << hb << ", " << hc << ": got " << got[k] << " want " << want[k];
                    }
                }
            }
        }
        // min max neg abs and the comparisons on scalars.
        auto out = run("  min." + t + " %rs8, %rs1, %rs2;  max." + t + " %rs9, %rs1, %rs2;  neg." + t +
                           " %rs10, %rs1;  abs." + t + " %rs11, %rs1;  mov.b64 %rd11, {%rs8, %rs9, %rs10, %rs11};",
                       xs);
        auto cmp = run("  setp.lt." + t + " %p1, %rs1, %rs2;  selp.u64 %rd11, 1, 0, %p1;"
                       "  setp.equ." + t + " %p1, %rs1, %rs2;  selp.u64 %rd12, 2, 0, %p1;  or.b64 %rd11, %rd11, %rd12;"
                       "  setp.ge." + t + " %p1, %rs1, %rs2;  selp.u64 %rd12, 4, 0, %p1;  or.b64 %rd11, %rd11, %rd12;"
                       "  setp.ne." + t + " %p1, %rs1, %rs2;  selp.u64 %rd12, 8, 0, %p1;  or.b64 %rd11, %rd11, %rd12;"
                       "  set.gt." + t + "." + t + " %rs8, %rs1, %rs2;  cvt.u64.u16 %rd12, %rs8;"
                       "  shl.b64 %rd12, %rd12, 16;  or.b64 %rd11, %rd11, %rd12;",
                       xs);
        for (size_t i = 0; i < xs.size(); i++) {
            uint32_t ha = xs[i] & 0xffff, hb = (xs[i] >> 16) & 0xffff;
            __float128 va = val(ha), vb = val(hb);
            bool na = is_nan(ha), nb = is_nan(hb);
            uint32_t mn = na && nb ? 0x7fff : na ? hb : nb ? ha : vb < va ? hb : ha;
            uint32_t mx = na && nb ? 0x7fff : na ? hb : nb ? ha : va < vb ? hb : ha;
            EXPECT_EQ(out[i] & 0xffff, mn) << std::hex << ha << " min " << hb;
            EXPECT_EQ((out[i] >> 16) & 0xffff, mx) << std::hex << ha << " max " << hb;
            EXPECT_EQ((out[i] >> 32) & 0xffff, ha ^ 0x8000) << std::hex << ha;
            EXPECT_EQ(out[i] >> 48, ha & 0x7fff) << std::hex << ha;
            bool un = na || nb;
            uint64_t want = (!un && va < vb) | ((un || va == vb) << 1) | ((!un && va >= vb) << 2) |
                            ((!un && va != vb) << 3) | (uint64_t{!un && va > vb ? F.one() : 0u} << 16);
            EXPECT_EQ(cmp[i], want) << std::hex << ha << " cmp " << hb;
        }
    }
}

// ex2 and tanh .approx on 16-bit floats: the binary32 sequence rounded to
// nearest, within PTX's relative error for ex2.approx.f16 (2^-9.9).
TEST(PtxHalf, Ex2AndTanh) {
    std::vector<uint64_t> xs(65536);
    for (uint32_t h = 0; h < 65536; h++)
        xs[h] = h | (uint64_t{h ^ 0x8000} << 16);
    auto out = run("  ex2.approx.f16 %rs8, %rs1;  tanh.approx.f16 %rs9, %rs1;  ex2.approx.f16x2 %r20, %r10;"
                   "  mov.b32 %r21, {%rs8, %rs9};  mov.b64 %rd11, {%r20, %r21};",
                   xs);
    const Fmt16& F = fmt(false);
    double worst = 0;
    int off = 0, toff = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint32_t e = (out[h] >> 32) & 0xffff, th = out[h] >> 48;
        EXPECT_EQ(out[h] & 0xffff, e) << h;                                     // the pair's element 0
        EXPECT_EQ((out[h] >> 16) & 0xffff, (out[(h ^ 0x8000)] >> 32) & 0xffff) << h;  // and element 1
        if (F.nan(h)) {
            EXPECT_EQ(e, 0x7fffu);
            EXPECT_EQ(th, 0x7fffu);
            continue;
        }
        bool inf = (h & 0x7fff) == F.inf();
        long double x = inf ? ((h & 0x8000) ? -INFINITY : INFINITY) : static_cast<long double>(F.value(h));
        long double r = exp2l(x);
        uint32_t want = std::isinf(r) || r > 65519 ? F.inf() : F.round(__float128(r), 0);
        // Correctly rounded but where the binary32 result's own rounding
        // lands on a binary16 midpoint (double rounding): one place off.
        EXPECT_LE(std::abs(static_cast<int>(e) - static_cast<int>(want)), 1) << "ex2 " << std::hex << h;
        off += e != want;
        if (r >= 0x1p-14L && r < 65504)
            worst = std::max(worst, static_cast<double>(fabsl(static_cast<long double>(F.value(e)) - r) / r));
        long double tr = tanhl(x);
        uint32_t tw = tr == 0 ? (h & 0x8000) : F.round(__float128(tr), 0);
        EXPECT_LE(std::abs(static_cast<int>(th) - static_cast<int>(tw)), 1) << "tanh " << std::hex << h;
        toff += th != tw;
    }
    if (report())
        printf("ex2.approx.f16: max relative error 2^%.2f over normal results, %d of 65536 not correctly rounded;"
               " tanh.approx.f16: %d\n", std::log2(worst), off, toff);
    EXPECT_LE(worst, std::exp2(-9.9));
}

// cvt.rn.f16x2.f32 / .bf16x2.f32 (a to the upper element), between the
// two 16-bit formats in every mode, and ex2.approx.ftz.bf16.
TEST(PtxHalf, PairsAndBetweenFormats) {
    std::mt19937_64 g(70);
    std::vector<uint64_t> xs(samples(1 << 16));
    for (auto& x : xs)
        x = g();
    auto out = run("  mov.b32 %f2, %r12;  cvt.rn.f16x2.f32 %r20, %f2, %f1;"
                   "  cvt.rz.bf16x2.f32 %r21, %f1, %f2;  mov.b64 %rd11, {%r20, %r21};",
                   xs);
    for (size_t i = 0; i < xs.size(); i++) {
        float lo = f32(xs[i]), hi = f32(xs[i] >> 32);
        auto ref = [&](float v, bool bf, int m) -> uint32_t {
            if (std::isnan(v))
                return 0x7fff;
            if (std::isinf(v))
                return (v < 0 ? 0x8000 : 0) | fmt(bf).inf();
            return fmt(bf).round(__float128(v), m);
        };
        uint32_t want = ref(hi, false, 0) << 16 | ref(lo, false, 0);
        EXPECT_EQ(static_cast<uint32_t>(out[i]), want) << std::hex << xs[i];
        uint32_t wbf = ref(lo, true, 1) << 16 | ref(hi, true, 1);
        EXPECT_EQ(static_cast<uint32_t>(out[i] >> 32), wbf) << std::hex << xs[i];
    }
    // f16 <-> bf16 in every mode, every value.
    xs.resize(65536);
    for (uint32_t h = 0; h < 65536; h++)
        xs[h] = h;
    for (bool to_bf : {false, true}) {
        std::string d = to_bf ? "bf16" : "f16", a = to_bf ? "f16" : "bf16";
        std::string body;
        for (int m = 0; m < 4; m++)
            body += "  cvt." + std::string(kRnd[m]) + "." + d + "." + a + " %rs" + std::to_string(8 + m) + ", %rs1;";
        body += "  mov.b64 %rd11, {%rs8, %rs9, %rs10, %rs11};";
        out = run(body, xs);
        const Fmt16 &A = fmt(!to_bf), &D = fmt(to_bf);
        for (uint32_t h = 0; h < 65536; h++)
            for (int m = 0; m < 4; m++) {
                uint32_t got = static_cast<uint32_t>(out[h] >> (16 * m)) & 0xffff;
                uint32_t want = A.nan(h) ? 0x7fff
                                : (h & 0x7fff) == A.inf() ? (h & 0x8000) | D.inf()
                                                          : D.round(A.value(h), m);
                if ((h & 0x7fff) == 0)
                    want = h;  // zeros keep their sign
                EXPECT_EQ(got, want) << a << " to " << d << " mode " << m << std::hex << " of " << h;
            }
    }
    // ex2.approx.ftz.bf16: subnormal inputs and results flushed.
    out = run("  ex2.approx.ftz.bf16 %rs8, %rs1;  cvt.u64.u16 %rd11, %rs8;", xs);
    for (uint32_t h = 0; h < 65536; h++) {
        const Fmt16& B = fmt(true);
        if (B.nan(h)) {
            EXPECT_EQ(out[h], 0x7fffu);
            continue;
        }
        long double x = (h & 0x7fff) == B.inf() ? ((h & 0x8000) ? -INFINITY : INFINITY)
                        : (h & 0x7f80) == 0     ? 0.0L
                                                : static_cast<long double>(B.value(h));
        long double r = exp2l(x);
        uint32_t got = static_cast<uint32_t>(out[h]);
        if (r < 0x1p-126L) {
            EXPECT_TRUE(got == 0 || got == 0x0080) << std::hex << h;
            continue;
        }
        uint32_t want = std::isinf(r) || r >= 0x1p128L ? B.inf() : B.round(__float128(r), 0);
        EXPECT_LE(std::abs(static_cast<int>(got) - static_cast<int>(want)), 1) << "ex2.bf16 " << std::hex << h;
    }
}

}  // namespace
