// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// constant_symbols.cu - __constant__ memory written with cudaMemcpyToSymbol
// (whole, and at an offset), __device__ variables (one with an
// initializer) read with cudaMemcpyFromSymbol, and a __device__ array
// reached through cudaGetSymbolAddress and written by a kernel that gets
// it as a pointer.  cudaGetSymbolSize too.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "constant_symbols"
#include "check.h"

constexpr int kN = 256;

__constant__ float coeffs[8];
__constant__ int cparams[4];
__device__ int counter;
__device__ int initialized[4] = {11, -22, 33, -44};
__device__ float table[kN];

// out[i] = the polynomial of coeffs at x[i] (Horner), times cparams[2],
// plus initialized[i % 4]; counts the threads in counter.
__global__ void poly(const float* x, float* out)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = x[i], acc = 0.0f;
    for (int k = 7; k >= 0; k--)
        acc = acc * v + coeffs[k];
    out[i] = acc * cparams[2] + initialized[i % 4];
    table[i] = out[i] - cparams[0];
    if (threadIdx.x == 0)
        atomicAdd(&counter, blockDim.x);
}

__global__ void scale(float* p, float s)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    p[i] *= s;
}

int main()
{
    float h_coeffs[8] = {1, -2, 0.5f, 0, 0.25f, 0, 0, 0.125f};
    int h_params[4] = {7, 0, 0, 0};
    int three = 3;
    float x[kN], out[kN], tab[kN];
    for (int i = 0; i < kN; i++)
        x[i] = static_cast<float>(i % 9 - 4) * 0.5f;  // small, so every step is exact
    CHECK(cudaMemcpyToSymbol(coeffs, h_coeffs, sizeof(h_coeffs)));
    CHECK(cudaMemcpyToSymbol(cparams, h_params, sizeof(h_params)));
    CHECK(cudaMemcpyToSymbol(cparams, &three, sizeof(int), 2 * sizeof(int)));  // cparams[2] = 3
    int zero = 0;
    CHECK(cudaMemcpyToSymbol(counter, &zero, sizeof(int)));
    size_t size = 0;
    CHECK(cudaGetSymbolSize(&size, table));
    if (size != sizeof(tab)) {
        printf("FAIL " PROG ": cudaGetSymbolSize(table) = %zu, expected %zu\n", size, sizeof(tab));
        return 1;
    }

    float *d_x, *d_out, *d_table;
    CHECK(cudaMalloc(&d_x, sizeof(x)));
    CHECK(cudaMalloc(&d_out, sizeof(out)));
    CHECK(cudaMemcpy(d_x, x, sizeof(x), cudaMemcpyHostToDevice));
    poly<<<kN / 64, 64>>>(d_x, d_out);
    CHECK(cudaGetLastError());
    CHECK(cudaGetSymbolAddress(reinterpret_cast<void**>(&d_table), table));
    scale<<<kN / 128, 128>>>(d_table, -2.0f);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());

    int count = 0, init_back[4];
    CHECK(cudaMemcpy(out, d_out, sizeof(out), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpyFromSymbol(tab, table, sizeof(tab)));
    CHECK(cudaMemcpyFromSymbol(&count, counter, sizeof(int)));
    CHECK(cudaMemcpyFromSymbol(init_back, initialized, 2 * sizeof(int), 2 * sizeof(int)));
    float via_ptr[4];
    CHECK(cudaMemcpy(via_ptr, d_table + 10, sizeof(via_ptr), cudaMemcpyDeviceToHost));
    const int init[4] = {11, -22, 33, -44};
    for (int i = 0; i < kN; i++) {
        float acc = 0.0f;
        for (int k = 7; k >= 0; k--)
            acc = acc * x[i] + h_coeffs[k];
        float r = acc * 3 + init[i % 4];
        float t = (r - 7) * -2.0f;
        if (out[i] != r || tab[i] != t) {
            printf("FAIL " PROG ": element %d: %g and table %g, expected %g and %g\n", i, out[i], tab[i], r, t);
            return 1;
        }
    }
    if (count != kN || init_back[0] != 33 || init_back[1] != -44) {
        printf("FAIL " PROG ": counter %d, initialized[2..3] %d %d, expected %d, 33 and -44\n", count, init_back[0],
               init_back[1], kN);
        return 1;
    }
    for (int k = 0; k < 4; k++)
        if (via_ptr[k] != tab[10 + k]) {
            printf("FAIL " PROG ": table through its address: %g, expected %g\n", via_ptr[k], tab[10 + k]);
            return 1;
        }
    CHECK(cudaFree(d_x));
    CHECK(cudaFree(d_out));
    printf("PASS " PROG "\n");
    return 0;
}
