// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The PTX compiler's tests: nvcc's PTX of tests/data/compile_cases.cu
// compiled to vgpu ISA and run in the interpreter (the kernel's own
// interpreter, built for userspace) against CPU references; hand-written
// PTX for what nvcc seldom emits; refusals with clear errors.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "gpu_harness.hpp"
#include "ptx_place.hpp"
#include "ptx_printf.hpp"
#include "ptx_test_util.hpp"

namespace {

using gpuvm::ptx::CompileError;
using gpuvm::ptx::KernelInfo;
using gpuvm::ptx::ParamMode;
using gpuvm::ptx::Program;

std::string read_data(const std::string& name) {
    std::ifstream f(std::string(PTX_DATA_DIR) + "/" + name);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

using gpuvm::ptx::test::compile_text;

// A compiled module loaded into a userspace GPU, with buffers.
class Module {
public:
    // @p's code, and the variables of @vars (@p's own by default: a
    // program whose PTX had its variables placed at kDataVa has none).
    explicit Module(const Program& p, const Program* vars = nullptr) : p_(p), vars_(vars ? *vars : p) {
        if (!vars_.data.empty()) {
            data_host_ = gpu_.map(kDataVa, vars_.data.size(), VGPU_PTE_R | VGPU_PTE_W);
            std::memcpy(data_host_, vars_.data.data(), vars_.data.size());
        }
        auto code = gpuvm::ptx::link(p, kDataVa);
        uint8_t* c = gpu_.map(kCodeVa, code.size() * 8, VGPU_PTE_R | VGPU_PTE_X);
        std::memcpy(c, code.data(), code.size() * 8);
    }

    template <typename T>
    std::pair<uint64_t, T*> alloc(size_t n) {
        size_t bytes = (n * sizeof(T) + 4095) & ~size_t{4095};
        uint64_t va = next_;
        next_ += bytes + 4096;  // a guard page between buffers
        return {va, reinterpret_cast<T*>(gpu_.map(va, bytes, VGPU_PTE_R | VGPU_PTE_W))};
    }
    template <typename T>
    std::pair<uint64_t, T*> upload(const std::vector<T>& v) {
        auto b = alloc<T>(v.size());
        std::memcpy(b.second, v.data(), v.size() * sizeof(T));
        return b;
    }

    // The parameter buffer: arguments in the kernel's order, each copied
    // to its offset (CUDA's layout).
    class Args {
    public:
        explicit Args(const KernelInfo& k) : k_(k), buf_(k.param_size) {}
        template <typename T>
        Args& operator<<(const T& v) {
            const auto& p = k_.params.at(i_++);
            EXPECT_EQ(p.size, sizeof(T));
            std::memcpy(buf_.data() + p.offset, &v, std::min<size_t>(p.size, sizeof(T)));
            return *this;
        }
        const std::vector<uint8_t>& bytes() const { return buf_; }

    private:
        const KernelInfo& k_;
        std::vector<uint8_t> buf_;
        size_t i_ = 0;
    };

    const KernelInfo& kernel(const std::string& name) const {
        const KernelInfo* k = p_.kernel(name);
        if (!k)
            throw std::runtime_error("no kernel " + name);
        return *k;
    }

    vgpu::test::Gpu::Result launch(const std::string& name, std::array<uint32_t, 3> grid,
                                   std::array<uint32_t, 3> block, const Args& args, uint32_t dyn_shared = 0,
                                   uint64_t slice = ~0ull) {
        const KernelInfo& k = kernel(name);
        vgpu_launch_desc d{};
        d.code_va = kCodeVa + k.entry;
        for (int i = 0; i < 3; i++) {
            d.grid[i] = grid[i];
            d.block[i] = block[i];
        }
        d.shared_size = dyn_shared ? k.dynamic_shared_offset + dyn_shared : k.static_shared;
        std::vector<uint8_t> b = args.bytes();
        if (k.local_per_thread && !k.call_stack) {  // local memory after the shared, as the runtime puts it
            uint32_t start = (d.shared_size + 15) & ~15u;
            std::memcpy(b.data() + k.local_param_offset, &start, 4);
            d.shared_size = start + k.local_per_thread * block[0] * block[1] * block[2];
        }
        if (k.param_mode == ParamMode::Slots) {
            std::memcpy(d.params, b.data(), b.size());
        } else {
            auto buf = upload(b);
            d.params[0] = buf.first;
        }
        return gpu_.run(d, slice);
    }
    template <typename T>
    T* data(const std::string& global) {
        return reinterpret_cast<T*>(data_host_ + vars_.global(global)->offset);
    }

    static constexpr uint64_t kCodeVa = 0x100000, kDataVa = 0x4000000;

private:
    const Program& p_;
    const Program& vars_;
    vgpu::test::Gpu gpu_;
    uint8_t* data_host_ = nullptr;
    uint64_t next_ = 0x10000000;
};

std::array<uint32_t, 3> d1(uint32_t x) { return {x, 1, 1}; }

class Cases : public ::testing::Test {
protected:
    static const Program& prog() {
        static Program p = [] {
            std::string t = read_data("compile_cases.ptx");
            if (t.empty())
                return Program{};
            return compile_text(t);
        }();
        return p;
    }
    void SetUp() override {
        if (prog().kernels.empty())
            GTEST_SKIP() << "no nvcc PTX data (GPUVM_NO_NVCC_DATA or no nvcc)";
        m_ = std::make_unique<Module>(prog());
    }
    std::unique_ptr<Module> m_;
    Module& m() { return *m_; }
};

uint32_t f2u(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
uint64_t d2u(double f) {
    uint64_t u;
    std::memcpy(&u, &f, 8);
    return u;
}

TEST_F(Cases, VecAdd) {
    const int n = 1000;
    std::vector<float> a(n), b(n);
    for (int i = 0; i < n; i++)
        a[i] = i * 0.25f, b[i] = 1000.0f / (i + 1);
    auto A = m().upload(a), B = m().upload(b);
    auto C = m().alloc<float>(n);
    auto r = m().launch("vec_add", d1(8), d1(128), Module::Args(m().kernel("vec_add")) << A.first << B.first
                                                                                         << C.first << n);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(f2u(C.second[i]), f2u(a[i] + b[i])) << i;
}

TEST_F(Cases, Daxpy) {
    const int n = 300;
    std::vector<double> x(n), y(n);
    for (int i = 0; i < n; i++)
        x[i] = std::sqrt(i + 0.5), y[i] = -i / 3.0;
    auto X = m().upload(x), Y = m().upload(y);
    double a = 1.0 / 7;
    auto r = m().launch("daxpy", d1(3), d1(128), Module::Args(m().kernel("daxpy")) << a << X.first << Y.first << n);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(d2u(Y.second[i]), d2u(std::fma(a, x[i], y[i]))) << i;
}

TEST_F(Cases, BlockSumWithSharedMemoryAndBarriers) {
    const int n = 1000;
    std::vector<int> in(n);
    for (int i = 0; i < n; i++)
        in[i] = i * 3 - 700;
    auto I = m().upload(in);
    auto O = m().alloc<int>(4);
    // Sliced into runs of 97 thread-instructions: preemption anywhere.
    auto r = m().launch("block_sum", d1(4), d1(256), Module::Args(m().kernel("block_sum")) << I.first << O.first << n,
                        0, 97);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    EXPECT_GT(r.slices, 100);
    for (int b = 0; b < 4; b++) {
        int s = 0;
        for (int i = b * 256; i < std::min(n, (b + 1) * 256); i++)
            s += in[i];
        EXPECT_EQ(O.second[b], s) << b;
    }
}

TEST_F(Cases, DynamicSharedMemory) {
    const int n = 200;
    std::vector<int> v(n);
    for (int i = 0; i < n; i++)
        v[i] = i * i;
    auto D = m().upload(v);
    auto r = m().launch("reverse_dyn", d1(2), d1(100), Module::Args(m().kernel("reverse_dyn")) << D.first << n,
                        100 * 4);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 100; t++)
            EXPECT_EQ(D.second[b * 100 + t], v[b * 100 + 99 - t]);
}

TEST_F(Cases, HistogramWithSharedAndGlobalAtomics) {
    const int n = 5000;
    std::vector<uint8_t> in(n);
    std::vector<unsigned> want(16, 0);
    for (int i = 0; i < n; i++) {
        in[i] = static_cast<uint8_t>(i * 131 + (i >> 3));
        want[in[i] & 15]++;
    }
    auto I = m().upload(in);
    auto B = m().alloc<unsigned>(16);
    auto r = m().launch("histogram", d1(3), d1(64), Module::Args(m().kernel("histogram")) << I.first << B.first << n);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (int i = 0; i < 16; i++)
        EXPECT_EQ(B.second[i], want[i]) << i;
}

TEST_F(Cases, MixedAtomics) {
    auto mn = m().upload(std::vector<int>{1000});
    auto mx = m().upload(std::vector<int>{-1000});
    auto sum = m().upload(std::vector<unsigned long long>{7});
    auto fs = m().upload(std::vector<float>{0.25f});
    auto cas = m().upload(std::vector<int>{11});
    auto r = m().launch("atomics_mixed", d1(1), d1(200),
                        Module::Args(m().kernel("atomics_mixed"))
                            << mn.first << mx.first << sum.first << fs.first << cas.first);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    int lo = 1000, hi = -1000;
    unsigned long long s = 7;
    for (unsigned t = 0; t < 200; t++) {
        int v = static_cast<int>(t * 37u % 101u) - 50;
        lo = std::min(lo, v), hi = std::max(hi, v);
        s += static_cast<unsigned long long>(t) << 33;
    }
    EXPECT_EQ(*mn.second, lo);
    EXPECT_EQ(*mx.second, hi);
    EXPECT_EQ(*sum.second, s);
    EXPECT_EQ(*fs.second, 100.25f);
    EXPECT_EQ(*cas.second, 11 + 3 * 200);
}

TEST_F(Cases, DeviceFunctionCallsAreInlined) {
    const int n = 100;
    std::vector<float> in(n);
    for (int i = 0; i < n; i++)
        in[i] = i * 0.37f - 9.0f;
    auto I = m().upload(in);
    auto O = m().alloc<float>(n);
    auto IO = m().alloc<int>(n);
    auto r = m().launch("calls", d1(1), d1(128), Module::Args(m().kernel("calls")) << I.first << O.first << IO.first
                                                                                    << n);
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (int i = 0; i < n; i++) {
        float x = in[i];
        // nvcc contracts (x * a + 1) * x - 2 into two fma.rn
        float want = std::fma(std::fma(x, 0.5f, 1.0f), x, -2.0f);
        EXPECT_EQ(f2u(O.second[i]), f2u(want)) << i;
        EXPECT_EQ(IO.second[i], std::clamp(i * 7 - 40, -10, 100)) << i;
    }
}

TEST_F(Cases, Templates) {
    std::vector<int> vi = {1, -2, 3, 400000};
    std::vector<double> vd = {1.5, -2.25, 1e300, 3.0};
    auto I = m().upload(vi);
    auto D = m().upload(vd);
    const auto& ki = m().kernel("_Z5scaleIiEvPT_S0_i");
    const auto& kd = m().kernel("_Z5scaleIdEvPT_S0_i");
    ASSERT_EQ(m().launch(ki.name, d1(1), d1(4), Module::Args(ki) << I.first << -3 << 4).status, VGPU_RUN_DONE);
    ASSERT_EQ(m().launch(kd.name, d1(1), d1(4), Module::Args(kd) << D.first << 10.0 << 4).status, VGPU_RUN_DONE);
    for (int i = 0; i < 4; i++) {
        EXPECT_EQ(I.second[i], vi[i] * -3);
        EXPECT_EQ(D.second[i], vd[i] * 10.0);
    }
}

TEST_F(Cases, IntegerOperations) {
    std::vector<int> a = {7, -7, 1000000007, INT32_MIN, -1, 123456, 0, 0x7fffffff, -99};
    std::vector<int> b = {2, 3, -13, -1, 31, 0, 5, 33, -64};
    const int n = static_cast<int>(a.size());
    auto A = m().upload(a), B = m().upload(b);
    auto O = m().alloc<int>(n * 16);
    ASSERT_EQ(m().launch("int_ops", d1(1), d1(32), Module::Args(m().kernel("int_ops")) << A.first << B.first
                                                                                        << O.first << n)
                  .status,
              VGPU_RUN_DONE);
    for (int i = 0; i < n; i++) {
        int x = a[i], y = b[i];
        unsigned ux = x, uy = y;
        int* o = O.second + i * 16;
        // INT32_MIN / -1: PTX's div.s32 gives INT32_MIN, like the ISA's div
        EXPECT_EQ(o[0], y ? (x == INT32_MIN && y == -1 ? INT32_MIN : x / y) : 0) << i;
        EXPECT_EQ(o[1], y ? (y == -1 ? 0 : x % y) : 0) << i;
        EXPECT_EQ(o[2], uy ? static_cast<int>(ux / uy) : 0) << i;
        EXPECT_EQ(o[3], uy ? static_cast<int>(ux % uy) : 0) << i;
        EXPECT_EQ(o[4], x >> (y & 31)) << i;
        EXPECT_EQ(o[5], static_cast<int>(ux >> (uy & 31))) << i;
        EXPECT_EQ(o[6], static_cast<int>(ux << (uy & 31))) << i;
        EXPECT_EQ(o[7], std::min(x, y)) << i;
        EXPECT_EQ(o[8], std::max(x, y)) << i;
        EXPECT_EQ(o[9], static_cast<int>(std::min(ux, uy))) << i;
        EXPECT_EQ(o[10], x == INT32_MIN ? INT32_MIN : std::abs(x)) << i;
        EXPECT_EQ(o[11], __builtin_popcount(ux)) << i;
        EXPECT_EQ(o[12], ux ? __builtin_clz(ux) : 32) << i;
        unsigned rev = 0;
        for (int k = 0; k < 32; k++)
            rev |= ((ux >> k) & 1u) << (31 - k);
        EXPECT_EQ(static_cast<unsigned>(o[13]), rev) << i;
        EXPECT_EQ(o[14], static_cast<int>((static_cast<int64_t>(x) * y) >> 32)) << i;
        EXPECT_EQ(static_cast<unsigned>(o[15]), static_cast<unsigned>((static_cast<uint64_t>(ux) * uy) >> 32)) << i;
    }
}

TEST_F(Cases, Integer64Operations) {
    std::vector<unsigned long long> a = {1, 0xffffffffffffffffull, 0x8000000000000000ull, 123456789012345ull, 7, 0};
    std::vector<unsigned long long> b = {0xfedcba9876543210ull, 2, 0xffffffffffffffffull, 1000, 65, 0};
    const int n = static_cast<int>(a.size());
    auto A = m().upload(a), B = m().upload(b);
    auto O = m().alloc<unsigned long long>(n * 10);
    ASSERT_EQ(m().launch("u64_ops", d1(1), d1(8), Module::Args(m().kernel("u64_ops")) << A.first << B.first
                                                                                       << O.first << n)
                  .status,
              VGPU_RUN_DONE);
    for (int i = 0; i < n; i++) {
        unsigned long long x = a[i], y = b[i];
        long long sx = static_cast<long long>(x), sy = static_cast<long long>(y);
        auto* o = O.second + i * 10;
        EXPECT_EQ(o[0], x * y) << i;
        EXPECT_EQ(o[1], static_cast<unsigned long long>((static_cast<unsigned __int128>(x) * y) >> 64)) << i;
        EXPECT_EQ(o[2], static_cast<unsigned long long>((static_cast<__int128>(sx) * sy) >> 64)) << i;
        EXPECT_EQ(o[3], y ? x / y : 0) << i;
        EXPECT_EQ(o[4], sy && !(sx == INT64_MIN && sy == -1) ? static_cast<unsigned long long>(sx / sy) : 0) << i;
        EXPECT_EQ(o[5], x >> (y & 63)) << i;
        EXPECT_EQ(o[6], static_cast<unsigned long long>(sx >> (y & 63))) << i;
        EXPECT_EQ(o[7], static_cast<unsigned long long>(__builtin_popcountll(x) + 100 * (y ? __builtin_clzll(y) : 64)))
            << i;
        unsigned long long rev = 0;
        for (int k = 0; k < 64; k++)
            rev |= ((x >> k) & 1ull) << (63 - k);
        EXPECT_EQ(o[8], rev) << i;
        EXPECT_EQ(o[9], x + y + (x < y)) << i;
    }
}

TEST_F(Cases, ConversionsInEveryRounding) {
    std::vector<float> f = {2.5f, -2.5f, 3.49f, -0.0f, 1e10f, -1e10f, NAN, 65537.75f, 0.5f};
    std::vector<double> d = {2.5, -3.5, 1e300, -1e-300, 123456789.987654321, NAN, 1.0 / 3, -0.5, 7.0};
    const int n = static_cast<int>(f.size());
    auto F = m().upload(f);
    auto D = m().upload(d);
    auto O = m().alloc<int>(n * 8);
    auto FO = m().alloc<float>(n * 4);
    auto DO = m().alloc<double>(n * 2);
    ASSERT_EQ(m().launch("conversions", d1(1), d1(16),
                         Module::Args(m().kernel("conversions"))
                             << F.first << D.first << O.first << FO.first << DO.first << n)
                  .status,
              VGPU_RUN_DONE);
    // PTX's float-to-integer conversions saturate and give 0 for NaN.
    auto sat = [](double v) -> int64_t {
        if (std::isnan(v))
            return 0;
        return static_cast<int64_t>(std::max<double>(std::min<double>(v, INT32_MAX), INT32_MIN));
    };
    auto sat64 = [](double v) -> int64_t {
        if (std::isnan(v))
            return 0;
        if (v >= 9.2233720368547758e18)
            return INT64_MAX;
        if (v <= -9.2233720368547758e18)
            return INT64_MIN;
        return static_cast<int64_t>(v);
    };
    for (int i = 0; i < n; i++) {
        float x = f[i];
        double y = d[i];
        int* o = O.second + i * 8;
        EXPECT_EQ(o[0], sat(std::trunc(x))) << i;
        EXPECT_EQ(o[1], sat(std::nearbyint(x))) << i;
        EXPECT_EQ(o[2], sat(std::floor(x))) << i;
        EXPECT_EQ(o[3], sat(std::ceil(x))) << i;
        double u = std::isnan(x) ? 0 : std::max(0.0, std::min<double>(std::nearbyint(x), UINT32_MAX));
        EXPECT_EQ(static_cast<uint32_t>(o[4]), static_cast<uint32_t>(u)) << i;
        EXPECT_EQ(o[5], sat(std::nearbyint(y))) << i;
        EXPECT_EQ(o[6], static_cast<int>(sat64(std::trunc(y)))) << i;
        EXPECT_EQ(o[7], static_cast<int>(static_cast<short>(static_cast<int>(sat(std::trunc(x)))))) << i;
        float* fo = FO.second + i * 4;
        EXPECT_EQ(f2u(fo[0]), f2u(static_cast<float>(y))) << i;
        volatile double vy = y;  // converted under the mode, not folded
        volatile int vi = i * 1234567 + 1;
        std::fesetround(FE_TOWARDZERO);
        float rz = static_cast<float>(vy);
        float irz = static_cast<float>(vi);
        std::fesetround(FE_TONEAREST);
        EXPECT_EQ(std::isnan(fo[1]) ? 0x7fc00000u : f2u(fo[1]), std::isnan(rz) ? 0x7fc00000u : f2u(rz)) << i;
        EXPECT_EQ(f2u(fo[2]), f2u(static_cast<float>(i * 1234567 + 1))) << i;
        EXPECT_EQ(f2u(fo[3]), f2u(irz)) << i;
        double* dd = DO.second + i * 2;
        EXPECT_EQ(std::isnan(x) ? 0 : d2u(dd[0]), std::isnan(x) ? 0 : d2u(static_cast<double>(x))) << i;
        EXPECT_EQ(dd[1], static_cast<double>(static_cast<long long>(i * -987654321LL))) << i;
    }
}

TEST_F(Cases, FloatArithmetic) {
    std::vector<float> a = {1.0f, -3.5f, 1e-40f, NAN, 7.25f, -0.0f, 3.0f, 1e30f};
    std::vector<float> b = {3.0f, 2.0f, 1e-3f, 1.0f, INFINITY, 0.0f, 3.0f, -1e30f};
    std::vector<double> da = {1.0, -2.0, 1e-310, 4.0, 1e300, -0.0, 9.0, 2.0};
    std::vector<double> db = {3.0, 0.5, 3.0, -4.0, 1e-300, 1.0, 9.0, NAN};
    const int n = static_cast<int>(a.size());
    auto A = m().upload(a), B = m().upload(b);
    auto DA = m().upload(da), DB = m().upload(db);
    auto O = m().alloc<float>(n * 10);
    auto DO = m().alloc<double>(n * 6);
    ASSERT_EQ(m().launch("float_ops", d1(1), d1(8),
                         Module::Args(m().kernel("float_ops"))
                             << A.first << B.first << O.first << DA.first << DB.first << DO.first << n)
                  .status,
              VGPU_RUN_DONE);
    // NaNs compare by class: the ISA's results are canonical NaNs.
    auto same = [](float got, float want) { return std::isnan(want) ? std::isnan(got) : f2u(got) == f2u(want); };
    auto samed = [](double got, double want) { return std::isnan(want) ? std::isnan(got) : d2u(got) == d2u(want); };
    for (int i = 0; i < n; i++) {
        float x = a[i], y = b[i];
        float* o = O.second + i * 10;
        EXPECT_TRUE(same(o[0], x + y)) << i;
        volatile float vx = x, vy = y;
        std::fesetround(FE_TOWARDZERO);
        float mz = vx * vy;
        std::fesetround(FE_TONEAREST);
        EXPECT_TRUE(same(o[1], mz)) << i;
        EXPECT_TRUE(same(o[2], x / y)) << i;
        EXPECT_TRUE(same(o[3], std::sqrt(std::fabs(x)))) << i;
        EXPECT_TRUE(same(o[4], std::fma(x, y, 1.0f))) << i;
        // Zeros of two signs: either is IEEE 754-2008's minNum/maxNum (the
        // ISA gives the first operand, sim-isa.rst).
        bool zeros = x == 0 && y == 0;
        EXPECT_TRUE(zeros ? o[5] == 0 : same(o[5], std::fmin(x, y))) << i;
        EXPECT_TRUE(zeros ? o[6] == 0 : same(o[6], std::fmax(x, y))) << i;
        EXPECT_TRUE(same(o[7], std::copysign(x, y))) << i;
        EXPECT_EQ(o[8], x < y ? 1.0f : (x == y ? 2.0f : 3.0f)) << i;
        EXPECT_EQ(o[9], std::isnan(x) ? 4.0f : (std::isinf(y) ? 5.0f : 6.0f)) << i;
        double p = da[i], q = db[i];
        double* dd = DO.second + i * 6;
        EXPECT_TRUE(samed(dd[0], p + q)) << i;
        EXPECT_TRUE(samed(dd[1], p * q)) << i;
        EXPECT_TRUE(samed(dd[2], p / q)) << i;
        EXPECT_TRUE(samed(dd[3], std::sqrt(std::fabs(p)))) << i;
        EXPECT_TRUE(samed(dd[4], std::fma(p, q, -1.0))) << i;
        EXPECT_TRUE(samed(dd[5], p < q ? std::fmin(p, q) : std::fmax(p, q) + 1.0)) << i;
    }
}

// use_globals run in @m, whose variables hold what compile_cases.cu
// initialised them with.
void use_globals(Module& m) {
    const float c[4] = {1.5f, -2.0f, 0.25f, 3.0f};
    std::memcpy(m.data<float>("coeffs"), c, sizeof(c));  // cudaMemcpyToSymbol
    EXPECT_EQ(*m.data<int>("bias"), 5);
    const int n = 10;
    std::vector<float> in(n);
    for (int i = 0; i < n; i++)
        in[i] = i * 0.5f - 2.0f;
    auto I = m.upload(in);
    auto O = m.alloc<float>(n);
    auto IO = m.alloc<int>(n);
    ASSERT_EQ(m.launch("use_globals", d1(1), d1(16), Module::Args(m.kernel("use_globals")) << I.first << O.first
                                                                                              << IO.first << n)
                  .status,
              VGPU_RUN_DONE);
    const unsigned long long table[3] = {1, 0x123456789abcdefull, 3};
    for (int i = 0; i < n; i++) {
        float x = in[i];
        float want = std::fma(std::fma(std::fma(c[3], x, c[2]), x, c[1]), x, c[0]);
        EXPECT_EQ(f2u(O.second[i]), f2u(want)) << i;
        // every thread read bias before thread 0 stored 7? No: threads run
        // one after the other, thread 0 first; the others read 7.
        EXPECT_EQ(IO.second[i], (i == 0 ? 5 : 7) + static_cast<int>(table[i % 3] >> 32)) << i;
    }
    EXPECT_EQ(*m.data<int>("bias"), 7);
}

TEST_F(Cases, ConstantAndInitialisedGlobals) { use_globals(m()); }

// The module's own PTX with its variables placed at the data segment's
// address, as a GPU that runs the program's PTX gets it: compiled again
// it declares no variable and computes the same, reading and writing
// the variables where the runtime keeps them (__constant__ ones too:
// their loads read the global space).
TEST_F(Cases, PtxWithItsVariablesPlacedComputesTheSame) {
    std::string why;
    auto placed = gpuvm::ptx::place_variables(read_data("compile_cases.ptx"), prog().globals, Module::kDataVa, &why);
    ASSERT_TRUE(placed) << why;
    EXPECT_EQ(placed->find(".const"), std::string::npos);
    EXPECT_NE(placed->find("mov.u64 coeffs, 0x4000000;"), std::string::npos);
    Program again = compile_text(*placed);
    EXPECT_TRUE(again.globals.empty());
    EXPECT_TRUE(again.data.empty());
    Module m(again, &prog());
    use_globals(m);
}

// printf and assert defined in the module's own PTX (ptx_printf.hpp),
// as a GPU running that PTX gets it, compiled by GPUvm and run in the
// interpreter: each call's record in the buffer as the ISA's
// device_printf() writes it, the argument bytes the format reads and no
// more, none for a call without arguments; a failed assertion's record,
// that thread gone and the others done.
class PrintfDefined : public ::testing::Test {
protected:
    static constexpr uint64_t kBuffer = 0x10000000;  // Module's first allocation
    void SetUp() override { build(36); }
    // The module, its first format said to read @bytes of arguments.
    void build(uint32_t bytes) {
        text_ = read_data("printf_cases.ptx");
        if (text_.empty())
            GTEST_SKIP() << "no nvcc PTX data";
        vars_ = compile_text(text_);
        std::string why;
        auto placed = gpuvm::ptx::place_variables(text_, vars_.globals, Module::kDataVa, &why);
        ASSERT_TRUE(placed) << why;
        fmt_ = Module::kDataVa + vars_.global("$str")->offset;
        auto defined = gpuvm::ptx::define_printf(*placed, kBuffer, {{fmt_, bytes}}, &why);
        ASSERT_TRUE(defined) << why;
        EXPECT_EQ(defined->find(".extern"), std::string::npos) << *defined;
        prog_ = compile_text(*defined);
        m_ = std::make_unique<Module>(prog_, &vars_);
        buf_ = m_->alloc<uint8_t>(gpuvm::ptx::kPrintfCapacity);
        ASSERT_EQ(buf_.first, kBuffer);
    }
    uint64_t count() const {
        uint64_t n;
        std::memcpy(&n, buf_.second, 8);
        return n;
    }
    const uint8_t* record(uint64_t i) const {
        return buf_.second + gpuvm::ptx::kPrintfHeader + i * gpuvm::ptx::kPrintfRecord;
    }
    template <typename T>
    static T at(const uint8_t* p, size_t off) {
        T v;
        std::memcpy(&v, p + off, sizeof(T));
        return v;
    }
    std::string text_;
    Program vars_, prog_;
    std::unique_ptr<Module> m_;
    std::pair<uint64_t, uint8_t*> buf_;
    uint64_t fmt_ = 0;
};

TEST_F(PrintfDefined, EachCallAppendsItsRecord) {
    auto S = m_->upload(std::vector<char>{'h', 'i', 0});
    auto O = m_->alloc<int>(2);
    const long long b = -5000000000LL;
    const double c = 2.5;
    auto run = m_->launch("_Z3sayixdPKcPi", d1(1), d1(2),
                          Module::Args(m_->kernel("_Z3sayixdPKcPi")) << 7 << b << c << S.first << O.first);
    ASSERT_EQ(run.status, VGPU_RUN_DONE) << run.fault_kind << " at " << std::hex << run.fault_addr;
    EXPECT_EQ(O.second[0], 1);
    EXPECT_EQ(O.second[1], 2);
    ASSERT_EQ(count(), 4 * uint64_t{gpuvm::ptx::kPrintfRecord});
    int seen[2] = {0, 0}, plain = 0;
    for (uint64_t i = 0; i < 4; i++) {
        const uint8_t* r = record(i);
        EXPECT_EQ(at<uint32_t>(r, 0), 1u);
        EXPECT_EQ(at<uint32_t>(r, 4), gpuvm::ptx::kPrintfArgBytes);
        if (at<uint64_t>(r, 8) != fmt_) {
            EXPECT_EQ(at<uint64_t>(r, 8), Module::kDataVa + vars_.global("$str$1")->offset);
            EXPECT_EQ(at<uint64_t>(r, 16), 0u) << "no arguments: none copied";
            plain++;
            continue;
        }
        uint32_t t = at<uint32_t>(r, 16);
        ASSERT_LT(t, 2u);
        seen[t]++;
        EXPECT_EQ(at<int32_t>(r, 20), 7);
        EXPECT_EQ(at<int64_t>(r, 24), b);
        EXPECT_EQ(at<double>(r, 32), c);
        EXPECT_EQ(at<uint64_t>(r, 40), S.first);
        EXPECT_EQ(at<int32_t>(r, 48), 'x' + static_cast<int>(t));
        for (size_t k = 52; k < 16 + gpuvm::ptx::kPrintfArgBytes; k++)
            EXPECT_EQ(r[k], 0) << "beyond the format's 36 bytes, at " << k;
    }
    EXPECT_EQ(seen[0], 1);
    EXPECT_EQ(seen[1], 1);
    EXPECT_EQ(plain, 2);
}

// The format's bytes bound the copy: told 8, the record has the first
// two arguments alone.
TEST_F(PrintfDefined, TheFormatsBytesBoundTheCopy) {
    m_.reset();
    build(8);
    auto O = m_->alloc<int>(1);
    ASSERT_EQ(m_->launch("_Z3sayixdPKcPi", d1(1), d1(1),
                         Module::Args(m_->kernel("_Z3sayixdPKcPi")) << 7 << -1LL << 2.5 << uint64_t{0} << O.first)
                  .status,
              VGPU_RUN_DONE);
    ASSERT_EQ(count(), 2 * uint64_t{gpuvm::ptx::kPrintfRecord});
    const uint8_t* r = at<uint64_t>(record(0), 8) == fmt_ ? record(0) : record(1);
    EXPECT_EQ(at<int32_t>(r, 20), 7);
    EXPECT_EQ(at<uint64_t>(r, 24), 0u) << "b, past the 8 bytes, not copied";
}

TEST_F(PrintfDefined, AFailedAssertionRecordsAndEndsItsThread) {
    std::vector<int> v(64);
    for (int i = 0; i < 64; i++)
        v[i] = i;
    auto V = m_->upload(v);
    auto O = m_->alloc<int>(64);
    ASSERT_EQ(m_->launch("_Z11check_belowPKiiPi", d1(1), d1(64),
                         Module::Args(m_->kernel("_Z11check_belowPKiiPi")) << V.first << 63 << O.first)
                  .status,
              VGPU_RUN_DONE);
    for (int i = 0; i < 63; i++)
        ASSERT_EQ(O.second[i], 2 * i) << i;
    EXPECT_EQ(O.second[63], 0) << "the thread whose assertion failed went no further";
    ASSERT_EQ(count(), uint64_t{gpuvm::ptx::kPrintfRecord});
    const uint8_t* r = record(0);
    EXPECT_EQ(at<uint32_t>(r, 0), 2u);
    EXPECT_EQ(at<uint64_t>(r, 8), Module::kDataVa + vars_.global("$str$2")->offset);  // "v[i] < limit"
    EXPECT_EQ(at<uint64_t>(r, 16), Module::kDataVa + vars_.global("$str$3")->offset);  // the file
    EXPECT_EQ(at<uint64_t>(r, 24), 21u);                                              // its line
    EXPECT_EQ(at<uint64_t>(r, 32), Module::kDataVa + vars_.global("__unnamed_1")->offset);
    const uint32_t ids[6] = {0, 0, 0, 63, 0, 0};
    for (int k = 0; k < 6; k++)
        EXPECT_EQ(at<uint32_t>(r, 40 + 4 * k), ids[k]) << k;
}

TEST_F(Cases, ThreeDimensionalGrid) {
    const int w = 20, h = 6, depth = 3;
    auto O = m().alloc<unsigned>(w * h * depth);
    ASSERT_EQ(m().launch("grid3d", {3, 2, 3}, {8, 4, 1}, Module::Args(m().kernel("grid3d")) << O.first << w << h)
                  .status,
              VGPU_RUN_DONE);
    for (int z = 0; z < depth; z++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                ASSERT_EQ(O.second[(z * h + y) * w + x], x * 10000u + y * 100u + z + 3000000u) << x << "," << y;
}

TEST_F(Cases, ParameterBufferInMemory) {
    const auto& k = m().kernel("big_params");
    EXPECT_EQ(k.param_mode, ParamMode::Memory);
    EXPECT_EQ(k.param_size, 184u);  // Big: 168 bytes at 0, k at 168, out at 176
    struct Big {
        int v[40];
        double d;
    } b;
    for (int i = 0; i < 40; i++)
        b.v[i] = i * i - 17;
    b.d = 1000.75;
    auto O = m().alloc<int>(41);
    ASSERT_EQ(m().launch("big_params", d1(1), d1(64), Module::Args(k) << b << 3 << O.first).status, VGPU_RUN_DONE);
    for (int i = 0; i < 40; i++)
        EXPECT_EQ(O.second[i], b.v[i] * 3 + 1000) << i;
    EXPECT_EQ(O.second[40], b.v[6]);
}

TEST_F(Cases, OutOfBoundsStoreFaultsWithItsAddress) {
    auto P = m().alloc<int>(4);
    long long index = 5000;  // past the buffer and its guard page
    auto r = m().launch("oob_store", d1(1), d1(1), Module::Args(m().kernel("oob_store")) << P.first << index);
    EXPECT_EQ(r.status, VGPU_RUN_FAULT);
    EXPECT_EQ(r.fault_kind, static_cast<uint32_t>(VGPU_FAULT_UNMAPPED));
    EXPECT_EQ(r.fault_addr, P.first + 5000 * 4);
}

}  // namespace
