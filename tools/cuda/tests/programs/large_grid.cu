// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// large_grid.cu - grids as CUDA allows them: maxGridSize is 2^31 - 1 in x
// and 65535 in y and z; a one-dimensional launch of 70001 blocks (more
// than 65535, as (n + 255) / 256 gives for n past 16.7 million) writes
// one word per block, each right; 65536 blocks in y, or 2^31 in x, are
// refused with cudaErrorInvalidValue (NVIDIA's runtime says so of 65536
// in y: H100, driver 580).
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "large_grid"
#include "check.h"

__global__ void stamp(unsigned* out)
{
    if (threadIdx.x == 0)
        out[blockIdx.x] = blockIdx.x * 3u + gridDim.x;
}

int main()
{
    cudaDeviceProp p;
    CHECK(cudaGetDeviceProperties(&p, 0));
    if (p.maxGridSize[0] != 2147483647 || p.maxGridSize[1] != 65535 || p.maxGridSize[2] != 65535) {
        printf("FAIL " PROG ": maxGridSize %d x %d x %d, expected 2147483647 x 65535 x 65535\n",
               p.maxGridSize[0], p.maxGridSize[1], p.maxGridSize[2]);
        return 1;
    }
    const unsigned blocks = 70001;
    unsigned* d_out;
    CHECK(cudaMalloc(&d_out, blocks * sizeof(unsigned)));
    CHECK(cudaMemset(d_out, 0, blocks * sizeof(unsigned)));
    stamp<<<blocks, 32>>>(d_out);
    CHECK(cudaGetLastError());
    unsigned* out = static_cast<unsigned*>(malloc(blocks * sizeof(unsigned)));
    CHECK(cudaMemcpy(out, d_out, blocks * sizeof(unsigned), cudaMemcpyDeviceToHost));
    for (unsigned b = 0; b < blocks; b++)
        if (out[b] != b * 3u + blocks) {
            printf("FAIL " PROG ": block %u wrote %u, expected %u\n", b, out[b], b * 3u + blocks);
            return 1;
        }
    stamp<<<dim3(1, 65536, 1), 32>>>(d_out);
    cudaError_t e = cudaGetLastError();
    if (e != cudaErrorInvalidValue) {
        printf("FAIL " PROG ": 65536 blocks in y: %s, expected cudaErrorInvalidValue\n",
               cudaGetErrorName(e));
        return 1;
    }
    stamp<<<dim3(2147483648u, 1, 1), 32>>>(d_out);
    e = cudaGetLastError();
    if (e != cudaErrorInvalidValue) {
        printf("FAIL " PROG ": 2^31 blocks in x: %s, expected cudaErrorInvalidValue\n",
               cudaGetErrorName(e));
        return 1;
    }
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaFree(d_out));
    free(out);
    printf("PASS " PROG "\n");
    return 0;
}
