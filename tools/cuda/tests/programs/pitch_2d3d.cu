// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// pitch_2d3d.cu - multi-dimensional launches and pitched memory: a 2D grid
// of 2D blocks over a cudaMallocPitch image of 100 x 37 floats (copied in
// and out with cudaMemcpy2D, and a sub-rectangle copied device to device),
// then a 3D grid of 3D blocks in which every thread records its own
// coordinates and the dimensions it sees.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "pitch_2d3d"
#include "check.h"

__global__ void image(const float* in, size_t in_pitch, float* out, size_t out_pitch, int w, int h)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h)
        return;
    const float* row = reinterpret_cast<const float*>(reinterpret_cast<const char*>(in) + y * in_pitch);
    float* orow = reinterpret_cast<float*>(reinterpret_cast<char*>(out) + y * out_pitch);
    orow[x] = row[x] * 2.0f + x + y * 1000.0f;
}

__global__ void coords(unsigned* out)
{
    unsigned x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned y = blockIdx.y * blockDim.y + threadIdx.y;
    unsigned z = blockIdx.z * blockDim.z + threadIdx.z;
    unsigned nx = gridDim.x * blockDim.x, ny = gridDim.y * blockDim.y;
    unsigned* o = out + 2 * ((z * ny + y) * nx + x);
    o[0] = x | y << 8 | z << 16;
    o[1] = blockDim.x | blockDim.y << 4 | blockDim.z << 8 | gridDim.x << 12 | gridDim.y << 16 | gridDim.z << 20;
}

int main()
{
    const int w = 100, h = 37;
    static float in[h][w], out[h][w], sub[10][20];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            in[y][x] = static_cast<float>((x * 31 + y * 17) % 97) - 48.0f;
    float *d_in, *d_out, *d_sub;
    size_t in_pitch, out_pitch, sub_pitch;
    CHECK(cudaMallocPitch(reinterpret_cast<void**>(&d_in), &in_pitch, w * sizeof(float), h));
    CHECK(cudaMallocPitch(reinterpret_cast<void**>(&d_out), &out_pitch, w * sizeof(float), h));
    CHECK(cudaMallocPitch(reinterpret_cast<void**>(&d_sub), &sub_pitch, 20 * sizeof(float), 10));
    if (in_pitch < w * sizeof(float)) {
        printf("FAIL " PROG ": pitch %zu for rows of %zu bytes\n", in_pitch, w * sizeof(float));
        return 1;
    }
    CHECK(cudaMemcpy2D(d_in, in_pitch, in, w * sizeof(float), w * sizeof(float), h, cudaMemcpyHostToDevice));
    dim3 block(16, 8), grid((w + 15) / 16, (h + 7) / 8);
    image<<<grid, block>>>(d_in, in_pitch, d_out, out_pitch, w, h);
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy2D(out, w * sizeof(float), d_out, out_pitch, w * sizeof(float), h, cudaMemcpyDeviceToHost));
    // The 20 x 10 rectangle at (30, 5), device to device, then to the host.
    CHECK(cudaMemcpy2D(d_sub, sub_pitch, reinterpret_cast<char*>(d_out) + 5 * out_pitch + 30 * sizeof(float),
                       out_pitch, 20 * sizeof(float), 10, cudaMemcpyDeviceToDevice));
    CHECK(cudaMemcpy2D(sub, 20 * sizeof(float), d_sub, sub_pitch, 20 * sizeof(float), 10, cudaMemcpyDeviceToHost));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float want = in[y][x] * 2.0f + x + y * 1000.0f;
            if (out[y][x] != want || (y >= 5 && y < 15 && x >= 30 && x < 50 && sub[y - 5][x - 30] != want)) {
                printf("FAIL " PROG ": pixel (%d, %d) = %g, expected %g\n", x, y, out[y][x], want);
                return 1;
            }
        }

    dim3 b3(4, 3, 2), g3(5, 2, 3);
    const int nx = 20, ny = 6, nz = 6;
    static unsigned c[nz][ny][nx][2];
    unsigned* d_c;
    CHECK(cudaMalloc(&d_c, sizeof(c)));
    coords<<<g3, b3>>>(d_c);
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy(c, d_c, sizeof(c), cudaMemcpyDeviceToHost));
    unsigned dims = 4 | 3 << 4 | 2 << 8 | 5 << 12 | 2 << 16 | 3 << 20;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++)
                if (c[z][y][x][0] != static_cast<unsigned>(x | y << 8 | z << 16) || c[z][y][x][1] != dims) {
                    printf("FAIL " PROG ": 3D thread (%d, %d, %d) recorded %#x %#x\n", x, y, z, c[z][y][x][0],
                           c[z][y][x][1]);
                    return 1;
                }
    CHECK(cudaFree(d_in));
    CHECK(cudaFree(d_out));
    CHECK(cudaFree(d_sub));
    CHECK(cudaFree(d_c));
    printf("PASS " PROG "\n");
    return 0;
}
