// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Kernels of vgpu-bench, shared by the interpreter's measurement and the
// GPU workloads.
#pragma once

namespace bench {

// ALU-bound: each thread runs a loop of integer and float work.
inline constexpr const char* kAluKernel = R"(
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

inline constexpr const char* kFloatKernel = R"(
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

// An empty kernel: the launch round trip.
inline constexpr const char* kEmptyKernel = R"(
.kernel empty
    exit
)";

}  // namespace bench
