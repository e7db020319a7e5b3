// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// launch_params.cu: the latency of an empty kernel and of one with 128
// bytes of parameters (more than the eight 64-bit slots: GPUvm's runtime
// passes them in a parameter buffer), each launch followed by
// cudaDeviceSynchronize, medians of 300; then checks the last result.
// Built by pack.sh; run with NVIDIA's libcudart and GPUvm's (GPUVM_CUDA_BACKEND=core).
#include <cstdio>
#include <chrono>
#include <algorithm>
#include <vector>
struct P { int v[32]; };
__global__ void k(P p, int* out) { if (threadIdx.x == 0) out[0] = p.v[31] + p.v[0]; }
__global__ void e() {}
int main() {
    int* o; cudaMalloc(&o, 4);
    P p; for (int i = 0; i < 32; i++) p.v[i] = i;
    for (int pass = 0; pass < 2; pass++) {
        std::vector<double> t;
        for (int r = 0; r < 300; r++) {
            auto a = std::chrono::steady_clock::now();
            if (pass) { p.v[0] = r; k<<<1, 32>>>(p, o); } else e<<<1, 1>>>();
            cudaDeviceSynchronize();
            t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
        }
        std::sort(t.begin(), t.end());
        printf("%s: median %.1f us\n", pass ? "128B params" : "empty", t[t.size() / 2]);
    }
    int h; cudaMemcpy(&h, o, 4, cudaMemcpyDeviceToHost);
    printf("%s %d\n", h == 299 + 31 ? "PASS" : "FAIL", h);
}
