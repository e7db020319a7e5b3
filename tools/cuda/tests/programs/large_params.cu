// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// large_params.cu - kernel parameters larger than the 4 KiB CUDA allowed
// before 12.1: a 5 KiB structure followed by a pointer and an int, and one
// of 32000 bytes (close to the 32764-byte limit of CUDA 12.1 and later
// on Volta and newer), both indexed with per-thread (run-time) indices.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "large_params"
#include "check.h"

struct Medium {
    int count;
    short tag;
    double weights[639];  // 5120 bytes in all
};

struct Huge {
    float v[7998];
    int n;
    unsigned check;  // 32000 bytes
};

__global__ void medium(Medium m, int* out, int scale)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < m.count)
        out[i] = static_cast<int>(m.weights[(i * 7) % 639] * scale) + m.tag;
}

__global__ void huge(int first, Huge h, float* out)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < h.n)
        out[i] = h.v[i] + h.v[7997 - i] * first + (i == 0 ? static_cast<float>(h.check & 0xffff) : 0.0f);
}

int main()
{
    static Medium m;
    m.count = 500;
    m.tag = -7;
    for (int k = 0; k < 639; k++)
        m.weights[k] = k * 0.5 - 100.0;
    static Huge h;
    h.n = 7998;
    h.check = 0xabcd1234u;
    for (int k = 0; k < 7998; k++)
        h.v[k] = static_cast<float>(k % 1000) - 250.0f;
    if (sizeof(Medium) != 5120 || sizeof(Huge) != 32000) {
        printf("FAIL " PROG ": structure sizes %zu and %zu\n", sizeof(Medium), sizeof(Huge));
        return 1;
    }
    int* d_mo;
    float* d_ho;
    CHECK(cudaMalloc(&d_mo, m.count * sizeof(int)));
    CHECK(cudaMalloc(&d_ho, h.n * sizeof(float)));
    medium<<<(m.count + 127) / 128, 128>>>(m, d_mo, 3);
    CHECK(cudaGetLastError());
    huge<<<(h.n + 255) / 256, 256>>>(2, h, d_ho);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    static int mo[500];
    static float ho[7998];
    CHECK(cudaMemcpy(mo, d_mo, sizeof(mo), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(ho, d_ho, sizeof(ho), cudaMemcpyDeviceToHost));
    for (int i = 0; i < m.count; i++) {
        int want = static_cast<int>(m.weights[(i * 7) % 639] * 3) + m.tag;
        if (mo[i] != want) {
            printf("FAIL " PROG ": 5 KiB parameter: out[%d] = %d, expected %d\n", i, mo[i], want);
            return 1;
        }
    }
    for (int i = 0; i < h.n; i++) {
        float want = h.v[i] + h.v[7997 - i] * 2 + (i == 0 ? static_cast<float>(h.check & 0xffff) : 0.0f);
        if (ho[i] != want) {
            printf("FAIL " PROG ": 32000-byte parameter: out[%d] = %g, expected %g\n", i, ho[i], want);
            return 1;
        }
    }
    CHECK(cudaFree(d_mo));
    CHECK(cudaFree(d_ho));
    printf("PASS " PROG "\n");
    return 0;
}
