// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Calls of recursive functions (ptx_lower_call.cpp): nvcc's PTX of
// tests/data/recursion_cases.cu compiled to vgpu ISA and run in the
// interpreter against references computed here; the call stack's
// overflow as a fault; hand-written PTX for what nvcc does not emit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <fstream>
#include <functional>
#include <sstream>

#include "gpu_harness.hpp"
#include "ptx_test_util.hpp"

namespace {

using gpuvm::ptx::KernelInfo;
using gpuvm::ptx::ParamMode;
using gpuvm::ptx::Program;
using gpuvm::ptx::test::compile_text;

constexpr uint64_t kCodeVa = 0x100000, kOutVa = 0x400000, kInVa = 0x800000, kLocalVa = 0x10000000;

const Program& prog() {
    static Program p = [] {
        std::ifstream f(std::string(PTX_DATA_DIR) + "/recursion_cases.ptx");
        std::ostringstream s;
        s << f.rdbuf();
        return s.str().empty() ? Program{} : compile_text(s.str());
    }();
    return p;
}

// A launch of one block of @threads threads as the runtime makes it:
// parameters in slots, each thread's local slice @slice bytes (0: what
// 48 KiB leave, as the runtime gives a kernel with a call stack).  With
// @global, the kernel's variant with its local memory in global memory:
// 2^slots_log2 slots of a slice per thread of a block in a buffer at
// kLocalVa (after the slots' words, zero), each local_per_thread_global
// bytes plus (with a call stack) @stack, between two guard pages of 0xab
// that no thread may write.
struct Launch {
    vgpu::test::Gpu gpu;
    int32_t* out;
    int32_t* in;
    uint32_t slice = 0;
    bool global = false;
    uint32_t stack = 1024;
    unsigned slots_log2 = 0;
    std::function<void(uint8_t*)> before;  // sees the global buffer before the launch
    uint8_t* local = nullptr;
    uint64_t local_size = 0;

    explicit Launch(const Program& p) {
        auto code = gpuvm::ptx::link(p, 0);
        uint8_t* c = gpu.map(kCodeVa, code.size() * 8, VGPU_PTE_R | VGPU_PTE_X);
        std::memcpy(c, code.data(), code.size() * 8);
        out = reinterpret_cast<int32_t*>(gpu.map(kOutVa, 1 << 16, VGPU_PTE_R | VGPU_PTE_W));
        in = reinterpret_cast<int32_t*>(gpu.map(kInVa, 4096, VGPU_PTE_R | VGPU_PTE_W));
    }

    vgpu::test::Gpu::Result run(const KernelInfo& k, uint32_t threads, std::vector<uint64_t> args,
                                uint32_t grid = 1, uint64_t budget = ~0ull) {
        EXPECT_EQ(k.param_mode, ParamMode::Slots);
        std::vector<uint8_t> buf(k.param_size);
        for (size_t i = 0; i < args.size(); i++)
            std::memcpy(buf.data() + k.params.at(i).offset, &args[i], k.params.at(i).size);
        if (global) {
            EXPECT_TRUE(k.has_global_local) << k.name;
            uint64_t stride = k.local_per_thread_global;
            if (k.call_stack)
                stride = (stride + std::max<uint64_t>(stack, k.call_stack) + 15) & ~uint64_t{15};
            uint64_t header = gpuvm::ptx::local_slots_header(slots_log2);
            local_size = header + (stride * threads << slots_log2);
            local = gpu.map(kLocalVa - 4096, local_size + 8192, VGPU_PTE_R | VGPU_PTE_W) + 4096;
            std::memset(local - 4096, 0xab, local_size + 8192);
            std::memset(local, 0, header);
            if (before)
                before(local);
            uint64_t param = gpuvm::ptx::local_slots_param(kLocalVa, slots_log2, stride);
            std::memcpy(buf.data() + k.local_param_offset, &param, 8);
            vgpu_launch_desc d = vgpu::test::Gpu::desc(kCodeVa + k.entry_global, grid, threads, {}, k.static_shared);
            std::memcpy(d.params, buf.data(), buf.size());
            return gpu.run(d, budget);
        }
        EXPECT_GT(k.call_stack, 0u) << k.name;
        uint32_t start = (k.static_shared + 15) & ~15u;
        uint32_t s = slice ? slice : ((48 * 1024 - start) / threads) & ~15u;
        EXPECT_GE(s, k.local_per_thread + k.call_stack);
        std::memcpy(buf.data() + k.local_param_offset, &start, 4);
        std::memcpy(buf.data() + k.local_param_offset + 4, &s, 4);
        vgpu_launch_desc d = vgpu::test::Gpu::desc(kCodeVa + k.entry, grid, threads, {}, start + s * threads);
        std::memcpy(d.params, buf.data(), buf.size());
        return gpu.run(d, budget);
    }

    // The word of slot @i (the global variant).
    uint64_t slot_word(unsigned i) const {
        uint64_t w;
        std::memcpy(&w, local + 8 * i, 8);
        return w;
    }
    // Every slot is free again.
    bool slots_free() const {
        for (unsigned i = 0; i < 1u << slots_log2; i++)
            if (slot_word(i))
                return false;
        return true;
    }

    // The guard pages around the global slices are untouched.
    bool guards_intact() const {
        for (size_t i = 0; i < 4096; i++)
            if (local[-1 - static_cast<ptrdiff_t>(i)] != 0xab || local[local_size + i] != 0xab)
                return false;
        return true;
    }
};

class Recursion : public ::testing::Test {
protected:
    void SetUp() override {
        if (prog().kernels.empty())
            GTEST_SKIP() << "no nvcc PTX data (GPUVM_NO_NVCC_DATA or no nvcc)";
    }
    const KernelInfo& k(const std::string& name) { return *prog().kernel(name); }
};

int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int ack(int m, int n) { return m == 0 ? n + 1 : n == 0 ? ack(m - 1, 1) : ack(m - 1, ack(m, n - 1)); }
int digits(int n, int depth) {
    int buf[6];
    for (int k = 0; k < 6; k++)
        buf[k] = n * (k + 1) + depth;
    int s = depth > 0 ? digits(n / 3 + depth, depth - 1) : 0;
    return s + buf[(n + depth) % 6] - buf[(n * 7 + 1) % 6];
}
int deep(int n, const int* p) { return n <= 0 ? p[0] : (deep(n - 1, p) * 3 + n) ^ p[n & 3]; }

// Double recursion, a different depth in every lane (the warp's threads
// diverge inside it), then shfl and ballot where they meet again; in two
// blocks of 64 and preempted after every 101 work units.
TEST_F(Recursion, FibonacciWithWarpsDivergingInside) {
    for (uint64_t budget : {~0ull, 101ull}) {
        Launch l(prog());
        const int n = 128;
        auto r = l.run(k("rec_fib"), 64, {kOutVa, n}, 2, budget);
        ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
        for (int w = 0; w < n / 32; w++) {
            uint32_t ballot = 0;
            for (int lane = 0; lane < 32; lane++)
                ballot |= static_cast<uint32_t>(fib((w * 32 + lane) % 15) & 1) << lane;
            for (int lane = 0; lane < 32; lane++) {
                int i = w * 32 + lane;
                int down = lane < 31 ? fib((i + 1) % 15) : fib(i % 15);
                EXPECT_EQ(l.out[i], fib(i % 15) + down * 1000) << i;
                EXPECT_EQ(static_cast<uint32_t>(l.out[n + i]), ballot) << i;
            }
        }
        if (budget != ~0ull) {
            EXPECT_GT(r.slices, 100);
        }
    }
}

TEST_F(Recursion, AckermannSmall) {
    Launch l(prog());
    auto r = l.run(k("rec_ack"), 12, {kOutVa});
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (int i = 0; i < 12; i++)
        EXPECT_EQ(l.out[i], ack(i % 3, i % 4)) << i;  // up to ack(2, 3) = 9
}

TEST_F(Recursion, MutualRecursion) {
    Launch l(prog());
    auto r = l.run(k("rec_parity"), 40, {kOutVa});
    ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
    for (int i = 0; i < 40; i++)
        EXPECT_EQ(l.out[i], i % 2 ? 1 : 2) << i;  // depth up to 39
}

// Each activation's local array is its own: the caller's is read after
// the callee wrote its.
TEST_F(Recursion, LocalArraysPerActivation) {
    Launch l(prog());
    auto r = l.run(k("rec_digits"), 40, {kOutVa});
    ASSERT_EQ(r.status, VGPU_RUN_DONE);
    for (int i = 0; i < 40; i++)
        EXPECT_EQ(l.out[i], digits(i * 5 + 1, i % 5)) << i;
}

// Deep recursion fits the stack the slice gives; deeper faults cleanly:
// a SHARED fault at the stack-overflow offset, before any thread writes
// beyond its slice (the other threads' slices keep their values).
TEST_F(Recursion, StackOverflowFaults) {
    const int p[4] = {7, 1, 2, 3};
    {
        Launch l(prog());
        std::memcpy(l.in, p, sizeof(p));
        auto r = l.run(k("rec_deep"), 4, {kOutVa, kInVa, 200});  // 12 KiB of stack each
        ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
        for (int i = 0; i < 4; i++)
            EXPECT_EQ(l.out[i], deep(200 + i, p)) << i;
    }
    for (int depth : {1000, 100000}) {
        Launch l(prog());
        std::memcpy(l.in, p, sizeof(p));
        l.slice = 1024;  // 16 threads: 16 KiB of slices
        auto r = l.run(k("rec_deep"), 16, {kOutVa, kInVa, static_cast<uint64_t>(depth)});
        EXPECT_EQ(r.status, VGPU_RUN_FAULT) << depth;
        EXPECT_EQ(r.fault_kind, static_cast<uint32_t>(VGPU_FAULT_SHARED));
        EXPECT_EQ(r.fault_addr, 0x57ac0000u);
        EXPECT_EQ(l.out[0], 0);  // no thread got past its recursion
    }
}

// Local memory in global memory (the kernel's global variant, which the
// runtime launches when the slices do not fit in shared memory).
int local_big(const int* in, int t, int n) {
    int buf[256];
    for (int k = 0; k < 256; k++)
        buf[k] = in[k & 63] * (k + 1) + t;
    uint32_t s = 0;
    for (int k = 0; k < n; k++) {
        s += static_cast<uint32_t>(buf[(t * 7 + k * 13) & 255] ^ k);
        buf[(s + static_cast<uint32_t>(k)) & 255] += k;
    }
    return static_cast<int>(s);
}

// 1 KiB of .local per thread: 256 threads need 256 KiB a block, which
// only the global variant runs (3 blocks); 16 threads run either way and
// agree.
TEST_F(Recursion, LargeLocalArraysInGlobalMemory) {
    const KernelInfo& lk = k("local_big");
    EXPECT_GE(lk.local_per_thread, 1024u);
    EXPECT_EQ(lk.call_stack, 0u);
    ASSERT_TRUE(lk.has_global_local);
    int in[64];
    for (int i = 0; i < 64; i++)
        in[i] = i * 37 % 101 - 50;
    for (auto [threads, grid, global] : {std::tuple{256u, 3u, true}, {16u, 2u, true}, {16u, 2u, false}}) {
        Launch l(prog());
        std::memcpy(l.in, in, sizeof(in));
        l.global = global;
        vgpu::test::Gpu::Result r;
        if (global) {
            r = l.run(lk, threads, {kOutVa, kInVa, 300}, grid);
            EXPECT_TRUE(l.guards_intact());
            EXPECT_TRUE(l.slots_free());
        } else {  // the shared variant, as the runtime launches it
            std::vector<uint8_t> buf(lk.param_size);
            uint64_t a[3] = {kOutVa, kInVa, 300};
            for (int i = 0; i < 3; i++)
                std::memcpy(buf.data() + lk.params.at(i).offset, &a[i], lk.params.at(i).size);
            uint32_t start = (lk.static_shared + 15) & ~15u;
            std::memcpy(buf.data() + lk.local_param_offset, &start, 4);
            vgpu_launch_desc d = vgpu::test::Gpu::desc(kCodeVa + lk.entry, grid, threads, {},
                                                       start + lk.local_per_thread * threads);
            std::memcpy(d.params, buf.data(), buf.size());
            r = l.gpu.run(d);
        }
        ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
        for (uint32_t t = 0; t < threads * grid; t++)
            ASSERT_EQ(l.out[t], local_big(in, static_cast<int>(t), 300)) << threads << " " << t;
    }
}

// Recursion with the call stack in global memory: 1 KiB a thread (CUDA's
// default) for two blocks of 64 (Fibonacci), and 16 KiB each for 64
// threads of deep recursion (1 MiB: far beyond a block's 48 KiB); with
// 1 KiB, deeper recursion faults at the overflow offset and no thread
// writes outside the slices.
TEST_F(Recursion, CallStackInGlobalMemory) {
    {
        Launch l(prog());
        l.global = true;
        const int n = 128;
        auto r = l.run(k("rec_fib"), 64, {kOutVa, n}, 2, 101);
        ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
        for (int i = 0; i < n; i++)
            EXPECT_EQ(l.out[i] % 1000, fib(i % 15)) << i;
        EXPECT_TRUE(l.guards_intact());
    }
    const int p[4] = {7, 1, 2, 3};
    {
        Launch l(prog());
        std::memcpy(l.in, p, sizeof(p));
        l.global = true;
        l.stack = 16 * 1024;
        auto r = l.run(k("rec_deep"), 64, {kOutVa, kInVa, 200});
        ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
        for (int i = 0; i < 64; i++)
            EXPECT_EQ(l.out[i], deep(200 + i, p)) << i;
        EXPECT_TRUE(l.guards_intact());
    }
    for (int depth : {1000, 100000}) {
        Launch l(prog());
        std::memcpy(l.in, p, sizeof(p));
        l.global = true;
        auto r = l.run(k("rec_deep"), 64, {kOutVa, kInVa, static_cast<uint64_t>(depth)}, 2);
        EXPECT_EQ(r.status, VGPU_RUN_FAULT) << depth;
        EXPECT_EQ(r.fault_kind, static_cast<uint32_t>(VGPU_FAULT_SHARED));
        EXPECT_EQ(r.fault_addr, 0x57ac0000u);
        EXPECT_EQ(l.out[0], 0);
        EXPECT_TRUE(l.guards_intact());
    }
}

// The global variant's slots: 5 blocks take turns in 1, 2 or 4 slots
// (more blocks than slots), each thread's slice is its own, and every
// slot is free after the launch.  A slot another block holds (a word set
// before the launch) is passed over and left as it was.
TEST_F(Recursion, BlocksTakeTurnsInTheSlots) {
    const KernelInfo& lk = k("local_big");
    int in[64];
    for (int i = 0; i < 64; i++)
        in[i] = i * 53 % 97 - 40;
    for (unsigned log2 : {0u, 1u, 2u}) {
        for (bool held : {false, true}) {
            if (held && !log2)
                continue;
            Launch l(prog());
            std::memcpy(l.in, in, sizeof(in));
            l.global = true;
            l.slots_log2 = log2;
            const uint64_t other = (uint64_t{1000} << gpuvm::ptx::kLocalSlotCountBits) | 7;
            // Slot 0 taken by a block that is not this launch's: its
            // slices (a pattern) are that block's, which no thread of
            // this launch may touch.
            const uint64_t header = gpuvm::ptx::local_slots_header(log2);
            const uint64_t slot_bytes = uint64_t{lk.local_per_thread_global} * 64;
            if (held)
                l.before = [&](uint8_t* local) {
                    std::memcpy(local, &other, 8);
                    std::memset(local + header, 0x5a, slot_bytes);
                };
            auto r = l.run(lk, 64, {kOutVa, kInVa, 100}, 5);
            ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
            for (uint32_t t = 0; t < 64 * 5; t++)
                ASSERT_EQ(l.out[t], local_big(in, static_cast<int>(t), 100)) << log2 << " " << t;
            EXPECT_TRUE(l.guards_intact());
            if (held) {
                EXPECT_EQ(std::count(l.local + header, l.local + header + slot_bytes, uint8_t{0x5a}),
                          static_cast<ptrdiff_t>(slot_bytes))
                    << log2;
            }
            EXPECT_EQ(l.slot_word(0), held ? other : 0) << log2;
            for (unsigned i = 1; i < 1u << log2; i++)
                EXPECT_EQ(l.slot_word(i), 0u) << log2 << " " << i;
        }
    }
}

// Every thread of a block writes its 2 KiB of .local, meets the others
// at a barrier, then reads it back: slices shared by two threads of the
// block, or by two blocks' threads in one slot at once, would give
// wrong sums.  Three blocks of 64 threads in 1 or 2 slots.
TEST(LocalGlobalPtx, SlicesAreEachThreadsOwnAcrossABarrier) {
    Program p = compile_text(R"(.version 8.0
.target sm_75
.address_size 64
.visible .entry k(.param .u64 out)
{
  .local .align 4 .b8 a[2048];
  .reg .pred %p<2>;
  .reg .b32 %r<10>;
  .reg .b64 %rd<8>;
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mad.lo.s32 %r4, %r2, %r3, %r1;
  mov.u64 %rd1, a;
  mov.u32 %r5, 0;
$Lw:
  mul.wide.u32 %rd2, %r5, 4;
  add.s64 %rd3, %rd1, %rd2;
  mad.lo.s32 %r6, %r4, 1000, %r5;
  st.local.u32 [%rd3], %r6;
  add.s32 %r5, %r5, 1;
  setp.lt.u32 %p1, %r5, 512;
  @%p1 bra $Lw;
  bar.sync 0;
  mov.u32 %r7, 0;
  mov.u32 %r5, 0;
$Lr:
  mul.wide.u32 %rd2, %r5, 4;
  add.s64 %rd3, %rd1, %rd2;
  ld.local.u32 %r6, [%rd3];
  add.s32 %r7, %r7, %r6;
  add.s32 %r5, %r5, 1;
  setp.lt.u32 %p1, %r5, 512;
  @%p1 bra $Lr;
  ld.param.u64 %rd5, [out];
  mul.wide.u32 %rd6, %r4, 4;
  add.s64 %rd5, %rd5, %rd6;
  st.global.u32 [%rd5], %r7;
  ret;
}
)");
    const KernelInfo& k = p.kernels.at(0);
    ASSERT_TRUE(k.has_global_local);
    for (unsigned log2 : {0u, 1u}) {
        Launch l(p);
        l.global = true;
        l.slots_log2 = log2;
        auto r = l.run(k, 64, {kOutVa}, 3);
        ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
        for (uint32_t g = 0; g < 3 * 64; g++)
            ASSERT_EQ(static_cast<uint32_t>(l.out[g]), 512u * g * 1000u + 512u * 511u / 2) << log2 << " " << g;
        EXPECT_TRUE(l.guards_intact());
        EXPECT_TRUE(l.slots_free());
    }
}

// Registers spilled to local memory in the global variant: 70 values
// live at once, in 2 blocks of 256 threads.
TEST(LocalGlobalPtx, SpilledRegisters) {
    const int live = 70;
    std::string text = ".version 8.0\n.target sm_75\n.address_size 64\n"
                       ".visible .entry k(.param .u64 out)\n{\n"
                       "  .reg .b32 %r<4>;\n  .reg .b64 %rd<10>;\n  .reg .b64 %rx<" +
                       std::to_string(live) +
                       ">;\n"
                       "  mov.u32 %r1, %tid.x;\n  mov.u32 %r2, %ctaid.x;\n  mad.lo.s32 %r3, %r2, 256, %r1;\n"
                       "  cvt.u64.u32 %rd6, %r3;\n";
    for (int i = 0; i < live; i++)
        text += "  add.s64 %rx" + std::to_string(i) + ", %rd6, " + std::to_string(i) + ";\n";
    text += "  mov.u64 %rd8, 0;\n";
    for (int i = 0; i < live; i++)
        text += "  mul.lo.s64 %rd9, %rx" + std::to_string(i) + ", " + std::to_string(i + 1) +
                ";\n  add.s64 %rd8, %rd8, %rd9;\n";
    text += "  ld.param.u64 %rd5, [out];\n  mul.wide.u32 %rd7, %r3, 8;\n  add.s64 %rd5, %rd5, %rd7;\n"
            "  st.global.u64 [%rd5], %rd8;\n}\n";
    Program p = compile_text(text);
    const KernelInfo& k = p.kernels.at(0);
    EXPECT_GT(k.spilled, 0u);
    EXPECT_GE(k.local_per_thread_global, 8 * k.spilled);
    Launch l(p);
    l.global = true;
    auto r = l.run(k, 256, {kOutVa}, 2);
    ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
    auto* out = reinterpret_cast<const uint64_t*>(l.out);
    for (uint64_t t = 0; t < 512; t++) {
        uint64_t want = 0;
        for (int i = 0; i < live; i++)
            want += (t + i) * (i + 1);
        ASSERT_EQ(out[t], want) << t;
    }
    EXPECT_TRUE(l.guards_intact());
}

// Hand-written: a recursive function with the parameter read after the
// recursive call, a result stored before it, and a .local array whose
// generic address goes to the callee.
TEST(RecursionPtx, ValuesLiveAcrossCallsAndFramesByAddress) {
    std::string text = R"(.version 8.0
.target sm_75
.address_size 64
.func (.param .b32 r) f(.param .b32 x, .param .b64 up)
{
  .local .align 4 .b8 depot[8];
  .reg .pred %p<2>;
  .reg .b32 %r<12>;
  .reg .b64 %rd<6>;
  .reg .b64 %SPL;
  mov.u64 %SPL, depot;
  cvta.local.u64 %rd1, %SPL;
  ld.param.b32 %r1, [x];
  st.param.b32 [r], %r1;
  st.u32 [%rd1], %r1;
  setp.eq.s32 %p1, %r1, 0;
  @%p1 bra $Lend;
  ld.param.b64 %rd2, [up];
  ld.u32 %r5, [%rd2];
  add.s32 %r2, %r1, -1;
  {
    .param .b32 a;
    st.param.b32 [a], %r2;
    .param .b64 b;
    st.param.b64 [b], %rd1;
    .param .b32 c;
    call.uni (c), f, (a, b);
    ld.param.b32 %r3, [c];
  }
  ld.param.b32 %r4, [x];
  ld.u32 %r6, [%rd1];
  mad.lo.s32 %r7, %r3, 10, %r4;
  add.s32 %r7, %r7, %r6;
  sub.s32 %r7, %r7, %r5;
  st.param.b32 [r], %r7;
$Lend:
  ret;
}
.visible .entry k(.param .u64 out)
{
  .local .align 4 .b8 top[4];
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  mov.u32 %r1, %tid.x;
  mov.u64 %rd3, top;
  st.local.u32 [%rd3], 1000;
  cvta.local.u64 %rd3, %rd3;
  {
    .param .b32 a;
    st.param.b32 [a], %r1;
    .param .b64 b;
    st.param.b64 [b], %rd3;
    .param .b32 c;
    call.uni (c), f, (a, b);
    ld.param.b32 %r2, [c];
  }
  ld.param.u64 %rd1, [out];
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd1, %rd1, %rd2;
  st.global.u32 [%rd1], %r2;
}
)";
    Program p = compile_text(text);
    const KernelInfo& k = p.kernels.at(0);
    for (bool global : {false, true}) {  // generic addresses of locals in global memory too
        Launch l(p);
        l.global = global;
        auto r = l.run(k, 10, {kOutVa});
        ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
        // f(x, up) = x ? f(x - 1, &mine) * 10 + x + x - *up : 0, where *up is
        // the caller's x (1000 for the kernel's)
        auto f = [](int x, int up, auto&& self) -> int { return x ? self(x - 1, x, self) * 10 + x + x - up : 0; };
        for (int i = 0; i < 10; i++)
            EXPECT_EQ(l.out[i], f(i, 1000, f)) << i << " " << global;
    }
}

// A recursive function passing its own parameters to itself in another
// order (hand-written PTX; nvcc copies them first): the argument moves
// are one parallel copy.  g(a, b, n) = n ? g(b, a, n - 1) * 3 + a - b : a.
TEST(RecursionPtx, OwnParametersPermuted) {
    std::string text = R"(.version 8.0
.target sm_75
.address_size 64
.func (.param .b32 r) g(.param .b32 a, .param .b32 b, .param .b32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  ld.param.b32 %r1, [a];
  ld.param.b32 %r2, [b];
  ld.param.b32 %r3, [n];
  setp.eq.s32 %p1, %r3, 0;
  @%p1 bra $Lbase;
  add.s32 %r4, %r3, -1;
  st.param.b32 [n], %r4;
  {
    .param .b32 c;
    call.uni (c), g, (b, a, n);
    ld.param.b32 %r5, [c];
  }
  mul.lo.s32 %r6, %r5, 3;
  add.s32 %r6, %r6, %r1;
  sub.s32 %r6, %r6, %r2;
  st.param.b32 [r], %r6;
  ret;
$Lbase:
  st.param.b32 [r], %r1;
  ret;
}
.visible .entry k(.param .u64 out)
{
  .reg .b32 %r<6>;
  .reg .b64 %rd<4>;
  mov.u32 %r1, %tid.x;
  add.s32 %r2, %r1, 100;
  {
    .param .b32 a;
    st.param.b32 [a], %r1;
    .param .b32 b;
    st.param.b32 [b], %r2;
    .param .b32 n;
    st.param.b32 [n], %r1;
    .param .b32 c;
    call.uni (c), g, (a, b, n);
    ld.param.b32 %r3, [c];
  }
  ld.param.u64 %rd1, [out];
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd1, %rd1, %rd2;
  st.global.u32 [%rd1], %r3;
}
)";
    Program p = compile_text(text);
    Launch l(p);
    auto r = l.run(p.kernels.at(0), 8, {kOutVa});
    ASSERT_EQ(r.status, VGPU_RUN_DONE) << "fault " << r.fault_kind << " at " << std::hex << r.fault_addr;
    auto g = [](int a, int b, int n, auto&& self) -> int { return n ? self(b, a, n - 1, self) * 3 + a - b : a; };
    for (int i = 0; i < 8; i++)
        EXPECT_EQ(l.out[i], g(i, i + 100, i, g)) << i;
}

// A chain of 20,000 functions, the last one recursive: every search for
// cycles scans the chain again (minutes of work, hours for longer
// chains), so the compiler bounds the work and refuses it, saying why.
TEST(RecursionPtx, AHugeCallGraphIsRefused) {
    const int n = 20000;
    std::string text = ".version 8.0\n.target sm_75\n.address_size 64\n";
    for (int i = n - 1; i >= 0; i--) {
        text += ".func f" + std::to_string(i) + "()\n{\n";
        text += "  call.uni f" + std::to_string(i + 1 < n ? i + 1 : i) + ", ();\n  ret;\n}\n";
    }
    text += ".visible .entry k()\n{\n  call.uni f0, ();\n  ret;\n}\n";
    try {
        compile_text(text);
        FAIL() << "compiled";
    } catch (const gpuvm::ptx::CompileError& e) {
        EXPECT_NE(std::string(e.what()).find("call graph is too large"), std::string::npos) << e.what();
    }
}

}  // namespace
