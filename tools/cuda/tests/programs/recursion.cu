// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// recursion.cu - recursive __device__ functions of small depth: Fibonacci
// by double recursion (depth up to 16), the sum of a binary tree stored
// in an array (depth 7) and mutual recursion (is_even/is_odd, depth up
// to 40).  Each thread has its own arguments.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "recursion"
#include "check.h"

constexpr int kNodes = 127;  // a complete binary tree of depth 7

__host__ __device__ int fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__host__ __device__ long long tree_sum(const int* v, int node, int depth)
{
    if (node >= kNodes)
        return 0;
    return v[node] * static_cast<long long>(depth) + tree_sum(v, 2 * node + 1, depth + 1) +
           tree_sum(v, 2 * node + 2, depth + 1);
}

__host__ __device__ bool is_odd(unsigned n);
__host__ __device__ bool is_even(unsigned n) { return n == 0 ? true : is_odd(n - 1); }
__host__ __device__ bool is_odd(unsigned n) { return n == 0 ? false : is_even(n - 1); }

__global__ void kernel(const int* tree, int* fibs, long long* sums, int* parity, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    fibs[i] = fib(i % 17);
    sums[i] = tree_sum(tree, i % kNodes, 1);
    parity[i] = is_even(static_cast<unsigned>(i % 41)) ? 2 : 1;
}

int main()
{
    const int n = 64;
    int tree[kNodes], fibs[n], parity[n];
    long long sums[n];
    for (int k = 0; k < kNodes; k++)
        tree[k] = (k * 37) % 101 - 50;
    int *d_tree, *d_fibs, *d_parity;
    long long* d_sums;
    CHECK(cudaMalloc(&d_tree, sizeof(tree)));
    CHECK(cudaMalloc(&d_fibs, sizeof(fibs)));
    CHECK(cudaMalloc(&d_sums, sizeof(sums)));
    CHECK(cudaMalloc(&d_parity, sizeof(parity)));
    CHECK(cudaMemcpy(d_tree, tree, sizeof(tree), cudaMemcpyHostToDevice));
    kernel<<<2, 32>>>(d_tree, d_fibs, d_sums, d_parity, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(fibs, d_fibs, sizeof(fibs), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(sums, d_sums, sizeof(sums), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(parity, d_parity, sizeof(parity), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        int rf = fib(i % 17);
        long long rs = tree_sum(tree, i % kNodes, 1);
        int rp = (i % 41) % 2 == 0 ? 2 : 1;
        if (fibs[i] != rf || sums[i] != rs || parity[i] != rp) {
            printf("FAIL " PROG ": thread %d: fib %d tree %lld parity %d, expected %d, %lld and %d\n", i, fibs[i],
                   sums[i], parity[i], rf, rs, rp);
            return 1;
        }
    }
    CHECK(cudaFree(d_tree));
    CHECK(cudaFree(d_fibs));
    CHECK(cudaFree(d_sums));
    CHECK(cudaFree(d_parity));
    printf("PASS " PROG "\n");
    return 0;
}
