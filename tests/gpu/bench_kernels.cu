// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// bench_kernels MODE: a CUDA program that times what issue 19's targets
// name, for one runtime (NVIDIA's or GPUvm's: tests/gpu/cuda-compare.sh
// runs it over both, interleaved).  Host wall-clock time of each
// repetition (launch or copy, then cudaDeviceSynchronize), the median,
// min and max of the repetitions; every result is checked.
//   kernels  vecadd and saxpy over 16.8M floats, matmul 2048 x 2048
//            (16 x 16 tiles in shared memory), 20 repetitions each;
//   launch   an empty kernel, one block of 32 threads, 2000 times;
//   copy     pageable host memory to the device and back, 16, 64 and
//            256 MiB, 5 times each (GB/s);
//   pinned   the same from cudaMallocHost memory.
// Output: one line per measurement,
//   BENCH NAME median MS min MS max MS [GB/s G] check ok|FAILED
// and "PASS bench_kernels MODE" when every check held.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (x);                                                                      \
        if (e_ != cudaSuccess) {                                                                   \
            std::printf("FAIL bench_kernels: line %d: %s: %s\n", __LINE__, #x, cudaGetErrorString(e_)); \
            std::exit(1);                                                                          \
        }                                                                                          \
    } while (0)

namespace {

__global__ void vecadd(const float* a, const float* b, float* c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}

__global__ void saxpy(float alpha, const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = alpha * x[i] + y[i];
}

constexpr int kTile = 16;
__global__ void matmul(const float* a, const float* b, float* c, int n) {
    __shared__ float ta[kTile][kTile], tb[kTile][kTile];
    int row = blockIdx.y * kTile + threadIdx.y, col = blockIdx.x * kTile + threadIdx.x;
    float sum = 0;
    for (int t = 0; t < n; t += kTile) {
        ta[threadIdx.y][threadIdx.x] = a[row * n + t + threadIdx.x];
        tb[threadIdx.y][threadIdx.x] = b[(t + threadIdx.y) * n + col];
        __syncthreads();
        for (int k = 0; k < kTile; k++)
            sum += ta[threadIdx.y][k] * tb[k][threadIdx.x];
        __syncthreads();
    }
    c[row * n + col] = sum;
}

__global__ void empty() {}

bool all_ok = true;
constexpr int kLaunchReps = 2000;

// Runs @f @reps times (after one unmeasured run), each followed by
// cudaDeviceSynchronize; prints the line for @name.
void measure(const char* name, int reps, double bytes, bool ok_after, const std::function<void()>& f,
             const std::function<bool()>& check) {
    f();
    CHECK(cudaDeviceSynchronize());
    std::vector<double> ms;
    for (int i = 0; i < reps; i++) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        CHECK(cudaDeviceSynchronize());
        auto t1 = std::chrono::steady_clock::now();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    bool ok = !ok_after || check();
    all_ok = all_ok && ok;
    std::printf("BENCH %-22s median %9.4f ms min %9.4f max %9.4f", name, ms[ms.size() / 2], ms.front(), ms.back());
    if (bytes > 0)
        std::printf(" GB/s %7.2f", bytes / (ms[ms.size() / 2] * 1e6));
    std::printf(" check %s\n", ok ? "ok" : "FAILED");
}

void kernels() {
    // 65536 blocks of 256 (2^24 = 16.8M): past the 65535 blocks in x
    // GPUvm's engines took before CUDA's 2^31-1 (2026-12-05).
    const int n = 1 << 24;
    std::vector<float> a(n), b(n), c(n);
    for (int i = 0; i < n; i++) {
        a[i] = static_cast<float>(i % 1000) * 0.5f;
        b[i] = static_cast<float>(i % 777) * 0.25f;
    }
    float *da, *db, *dc;
    CHECK(cudaMalloc(&da, n * sizeof(float)));
    CHECK(cudaMalloc(&db, n * sizeof(float)));
    CHECK(cudaMalloc(&dc, n * sizeof(float)));
    CHECK(cudaMemcpy(da, a.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(db, b.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    measure("vecadd-16M", 20, 0, true, [&] { vecadd<<<(n + 255) / 256, 256>>>(da, db, dc, n); },
            [&] {
                CHECK(cudaMemcpy(c.data(), dc, n * sizeof(float), cudaMemcpyDeviceToHost));
                for (int i = 0; i < n; i++)
                    if (c[i] != a[i] + b[i])
                        return false;
                return true;
            });
    // y = 2x + y, from y = b each time: the same result whatever the repetitions.
    measure("saxpy-16M", 20, 0, true,
            [&] {
                CHECK(cudaMemcpyAsync(dc, db, n * sizeof(float), cudaMemcpyDeviceToDevice));
                saxpy<<<(n + 255) / 256, 256>>>(2.0f, da, dc, n);
            },
            [&] {
                CHECK(cudaMemcpy(c.data(), dc, n * sizeof(float), cudaMemcpyDeviceToHost));
                for (int i = 0; i < n; i++)
                    if (c[i] != __builtin_fmaf(2.0f, a[i], b[i]) && c[i] != 2.0f * a[i] + b[i])
                        return false;
                return true;
            });
    CHECK(cudaFree(da));
    CHECK(cudaFree(db));
    CHECK(cudaFree(dc));

    // Small integers: every sum is exact in binary32, in any order.
    const int m = 2048;
    std::vector<float> ma(m * m), mb(m * m), mc(m * m);
    for (int i = 0; i < m * m; i++) {
        ma[i] = static_cast<float>(i % 3);
        mb[i] = static_cast<float>(i % 5);
    }
    CHECK(cudaMalloc(&da, m * m * sizeof(float)));
    CHECK(cudaMalloc(&db, m * m * sizeof(float)));
    CHECK(cudaMalloc(&dc, m * m * sizeof(float)));
    CHECK(cudaMemcpy(da, ma.data(), m * m * sizeof(float), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(db, mb.data(), m * m * sizeof(float), cudaMemcpyHostToDevice));
    measure("matmul-2048", 20, 0, true, [&] { matmul<<<dim3(m / kTile, m / kTile), dim3(kTile, kTile)>>>(da, db, dc, m); },
            [&] {
                CHECK(cudaMemcpy(mc.data(), dc, m * m * sizeof(float), cudaMemcpyDeviceToHost));
                for (int r = 0; r < m; r += 97)  // every 97th row, whole
                    for (int col = 0; col < m; col++) {
                        double s = 0;
                        for (int k = 0; k < m; k++)
                            s += static_cast<double>(ma[r * m + k]) * mb[k * m + col];
                        if (mc[r * m + col] != static_cast<float>(s))
                            return false;
                    }
                return true;
            });
    CHECK(cudaFree(da));
    CHECK(cudaFree(db));
    CHECK(cudaFree(dc));
}

void launch() {
    measure("launch-empty", kLaunchReps, 0, false,
            [] {
                empty<<<1, 32>>>();
                CHECK(cudaGetLastError());  // a refused launch is not timed as one
            },
            [] { return true; });
}

void copies(bool pinned) {
    for (size_t mib : {16, 64, 256}) {
        size_t bytes = mib << 20;
        unsigned char* h = nullptr;
        std::vector<unsigned char> pageable;
        if (pinned) {
            CHECK(cudaMallocHost(&h, bytes));
        } else {
            pageable.resize(bytes);
            h = pageable.data();
        }
        for (size_t i = 0; i < bytes; i++)
            h[i] = static_cast<unsigned char>(i * 7 + i / 4099);
        std::vector<unsigned char> want(h, h + bytes);
        unsigned char* d;
        CHECK(cudaMalloc(&d, bytes));
        std::string up = std::string(pinned ? "h2d-pinned-" : "h2d-") + std::to_string(mib) + "M";
        std::string down = std::string(pinned ? "d2h-pinned-" : "d2h-") + std::to_string(mib) + "M";
        measure(up.c_str(), 5, static_cast<double>(bytes), false,
                [&] { CHECK(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice)); }, [] { return true; });
        std::memset(h, 0, bytes);
        measure(down.c_str(), 5, static_cast<double>(bytes), true,
                [&] { CHECK(cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost)); },
                [&] { return std::memcmp(h, want.data(), bytes) == 0; });
        CHECK(cudaFree(d));
        if (pinned)
            CHECK(cudaFreeHost(h));
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "kernels";
    if (mode == "kernels")
        kernels();
    else if (mode == "launch")
        launch();
    else if (mode == "copy" || mode == "pinned")
        copies(mode == "pinned");
    else {
        std::printf("usage: bench_kernels kernels|launch|copy|pinned\n");
        return 2;
    }
    if (!all_ok) {
        std::printf("FAIL bench_kernels %s: a result differs\n", mode.c_str());
        return 1;
    }
    std::printf("PASS bench_kernels %s\n", mode.c_str());
    return 0;
}
