// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// PTX front-end test data: device printf and assert, whose PTX the tests
// rewrite for a GPU running it itself (ptx_printf.hpp) and run through
// GPUvm's compiler in the interpreter (test_ptx_compile.cpp, Cases).
#include <cassert>
#include <cstdio>

__global__ void say(int a, long long b, double c, const char* s, int* out)
{
    int i = threadIdx.x;
    printf("t%d a=%d b=%lld c=%f s=%s ch=%c\n", i, a, b, c, s, 'x' + i);
    printf("plain\n");
    out[i] = i + 1;
}

__global__ void check_below(const int* v, int limit, int* out)
{
    int i = threadIdx.x;
    assert(v[i] < limit);
    out[i] = v[i] * 2;
}
