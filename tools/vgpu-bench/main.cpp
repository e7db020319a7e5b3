// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench: measurements of GPUvm.
//   vgpu-bench interp   thread-instructions per second of the vgpu-sim
//                       interpreter (the kernel's code, built for userspace)
#include <chrono>
#include <cstring>
#include <iostream>

#include "../tests/gpu_harness.hpp"

namespace {

// ALU-bound: each thread runs a loop of integer and float work.
constexpr const char* kAluKernel = R"(
.kernel alu
    s2r r1, %tid.x
    li r2, 0
    li r3, 1.0
    li r4, 0.5
    ldp r5, 0
loop:
    add r2, r2, r1
    xor r6, r2, r5
    shli r7, r6, 3
    sub r2, r7, r2
    muli r8, r2, 3
    and r2, r8, r5
    addi r5, r5, -1
    bnz r5, loop
    ldp r9, 1
    shli r1, r1, 3
    add r9, r9, r1
    st.u64 [r9], r2
    exit
)";

constexpr const char* kFloatKernel = R"(
.kernel fp
    s2r r1, %tid.x
    i2f r2, r1
    li r3, 1.0001
    li r4, 0.5
    ldp r5, 0
loop:
    fmul r2, r2, r3
    fadd r2, r2, r4
    fmad r2, r3, r4
    addi r5, r5, -1
    bnz r5, loop
    ldp r9, 1
    shli r1, r1, 3
    add r9, r9, r1
    st.u64 [r9], r2
    exit
)";

double measure(const char* name, const char* src, uint64_t iters) {
    vgpu::test::Gpu g;
    constexpr uint64_t kOut = 0x400000;
    g.map(kOut, 256 * 1024, VGPU_PTE_R | VGPU_PTE_W);
    auto code = g.load(src);
    auto d = vgpu::test::Gpu::desc(code, 64, 256, {iters, kOut});
    auto t0 = std::chrono::steady_clock::now();
    auto r = g.run(d, 1 << 20);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.status != VGPU_RUN_DONE) {
        std::cerr << name << ": kernel did not complete\n";
        return 0;
    }
    double rate = static_cast<double>(r.executed) / s;
    std::printf("%-10s %12llu thread-insns in %.3f s: %.1f M thread-insns/s\n", name,
                static_cast<unsigned long long>(r.executed), s, rate / 1e6);
    return rate;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "interp") != 0) {
        std::cerr << "usage: vgpu-bench interp [ITERATIONS]\n";
        return 2;
    }
    uint64_t iters = argc > 2 ? std::strtoull(argv[2], nullptr, 0) : 2000;
    double alu = measure("alu-int", kAluKernel, iters);
    measure("alu-f32", kFloatKernel, iters / 2);
    std::printf("interp_rate_mips %.1f\n", alu / 1e6);
    return alu > 0 ? 0 : 1;
}
