// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// matmul_tiled.cu - C = A * B with 16 x 16 tiles of A and B in shared
// memory, for sizes that are not multiples of the tile (50 x 70 times
// 70 x 37: the edge tiles are padded with zeros).  Small integer values
// in float, so every sum is exact whatever the order or the contraction.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "matmul_tiled"
#include "check.h"

constexpr int kTile = 16;

// A is m x k, B is k x n, C is m x n, all row-major.
__global__ void matmul(const float* A, const float* B, float* C, int m, int k, int n)
{
    __shared__ float As[kTile][kTile];
    __shared__ float Bs[kTile][kTile];
    int tx = threadIdx.x, ty = threadIdx.y;
    int row = blockIdx.y * kTile + ty, col = blockIdx.x * kTile + tx;
    float acc = 0.0f;
    for (int t = 0; t < (k + kTile - 1) / kTile; t++) {
        int ac = t * kTile + tx, br = t * kTile + ty;
        As[ty][tx] = row < m && ac < k ? A[row * k + ac] : 0.0f;
        Bs[ty][tx] = br < k && col < n ? B[br * n + col] : 0.0f;
        __syncthreads();
        for (int j = 0; j < kTile; j++)
            acc += As[ty][j] * Bs[j][tx];
        __syncthreads();
    }
    if (row < m && col < n)
        C[row * n + col] = acc;
}

int main()
{
    const int m = 50, k = 70, n = 37;
    static float A[m * k], B[k * n], C[m * n];
    unsigned seed = 3;
    for (int i = 0; i < m * k; i++) {
        seed = seed * 1103515245u + 12345u;
        A[i] = static_cast<float>(static_cast<int>((seed >> 16) % 17) - 8);
    }
    for (int i = 0; i < k * n; i++) {
        seed = seed * 1103515245u + 12345u;
        B[i] = static_cast<float>(static_cast<int>((seed >> 16) % 13) - 6);
    }
    float *dA, *dB, *dC;
    CHECK(cudaMalloc(&dA, sizeof(A)));
    CHECK(cudaMalloc(&dB, sizeof(B)));
    CHECK(cudaMalloc(&dC, sizeof(C)));
    CHECK(cudaMemcpy(dA, A, sizeof(A), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(dB, B, sizeof(B), cudaMemcpyHostToDevice));
    CHECK(cudaMemset(dC, 0xff, sizeof(C)));  // NaNs where nothing is written
    dim3 block(kTile, kTile), grid((n + kTile - 1) / kTile, (m + kTile - 1) / kTile);
    matmul<<<grid, block>>>(dA, dB, dC, m, k, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(C, dC, sizeof(C), cudaMemcpyDeviceToHost));
    for (int r = 0; r < m; r++)
        for (int c = 0; c < n; c++) {
            float want = 0.0f;
            for (int j = 0; j < k; j++)
                want += A[r * k + j] * B[j * n + c];
            if (C[r * n + c] != want) {
                printf("FAIL " PROG ": C[%d][%d] = %g, expected %g\n", r, c, C[r * n + c], want);
                return 1;
            }
        }
    CHECK(cudaFree(dA));
    CHECK(cudaFree(dB));
    CHECK(cudaFree(dC));
    printf("PASS " PROG "\n");
    return 0;
}
