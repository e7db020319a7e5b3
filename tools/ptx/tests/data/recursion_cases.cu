// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Recursive device functions for the PTX compiler's tests
// (test_ptx_call.cpp): compiled to PTX by nvcc at build time.  The
// functions stay recursive in nvcc's PTX (double recursion, results used
// after the call), so the compiler must give them a call stack.

__device__ int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__device__ int ack(int m, int n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

__device__ bool is_odd(unsigned n);
__device__ bool is_even(unsigned n) { return n == 0 ? true : is_odd(n - 1); }
__device__ bool is_odd(unsigned n) { return n == 0 ? false : is_even(n - 1); }

// A local array indexed at run time, live across the recursive call:
// each activation needs its own.
__device__ int digits(int n, int depth)
{
    int buf[6];
    for (int k = 0; k < 6; k++)
        buf[k] = n * (k + 1) + depth;
    int s = 0;
    if (depth > 0)
        s = digits(n / 3 + depth, depth - 1);
    return s + buf[(n + depth) % 6] - buf[(n * 7 + 1) % 6];
}

// One call per level, its result used after it: depth n.
__device__ int deep(int n, const int* p)
{
    if (n <= 0)
        return p[0];
    int r = deep(n - 1, p);
    return (r * 3 + n) ^ p[n & 3];
}

// Each lane its own depth: the warp's threads diverge inside the
// recursion and meet again at the warp instructions after it.
extern "C" __global__ void rec_fib(int* out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    int v = fib(i % 15);
    out[i] = v + __shfl_down_sync(0xffffffffu, v, 1) * 1000;
    out[n + i] = __ballot_sync(0xffffffffu, v & 1);
}

extern "C" __global__ void rec_ack(int* out) { out[threadIdx.x] = ack(threadIdx.x % 3, threadIdx.x % 4); }

extern "C" __global__ void rec_parity(int* out) { out[threadIdx.x] = is_even(threadIdx.x) ? 2 : 1; }

extern "C" __global__ void rec_digits(int* out) { out[threadIdx.x] = digits(threadIdx.x * 5 + 1, threadIdx.x % 5); }

extern "C" __global__ void rec_deep(int* out, const int* p, int n) { out[threadIdx.x] = deep(n + threadIdx.x, p); }

// 1 KiB of local memory per thread (indexed at run time: not in
// registers): blocks of 256 threads do not fit in shared memory and run
// the kernel's variant with its local memory in global memory.
extern "C" __global__ void local_big(int* out, const int* in, int n)
{
    int buf[256];
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    for (int k = 0; k < 256; k++)
        buf[k] = in[k & 63] * (k + 1) + t;
    int s = 0;
    for (int k = 0; k < n; k++) {
        s += buf[(t * 7 + k * 13) & 255] ^ k;
        buf[(s + k) & 255] += k;
    }
    out[t] = s;
}
