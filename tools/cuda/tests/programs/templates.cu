// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// templates.cu - templated kernels instantiated for int, float and double:
// an element-wise a*x+b with a type-dependent clamp (a template
// specialised for one type), and a block reduction templated on the type
// and on the block size (a non-type parameter) in static shared memory.
// The values are exact in every type.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define PROG "templates"
#include "check.h"

template <typename T>
struct Limit {
    static __host__ __device__ T clamp(T v) { return v > T(1000) ? T(1000) : v; }
};
template <>
struct Limit<int> {  // ints wrap to a range instead
    static __host__ __device__ int clamp(int v) { return ((v % 777) + 777) % 777; }
};

template <typename T>
__global__ void axpb(const T* x, T* y, T a, T b, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = Limit<T>::clamp(a * x[i] + b);
}

template <typename T, int BLOCK>
__global__ void reduce(const T* x, T* out, int n)
{
    __shared__ T s[BLOCK];
    int t = threadIdx.x;
    T acc = T(0);
    for (int i = t; i < n; i += BLOCK)
        acc += x[i];
    s[t] = acc;
    __syncthreads();
    for (int k = BLOCK / 2; k > 0; k /= 2) {
        if (t < k)
            s[t] += s[t + k];
        __syncthreads();
    }
    if (t == 0)
        *out = s[0];
}

template <typename T, int BLOCK>
static int run(const char* type, T a, T b)
{
    const int n = 1000;
    T x[n], y[n], sum;
    for (int i = 0; i < n; i++)
        x[i] = static_cast<T>((i * 37) % 200 - 100) / T(4);  // quarters for float and double
    T *dx, *dy, *dsum;
    CHECK(cudaMalloc(&dx, sizeof(x)));
    CHECK(cudaMalloc(&dy, sizeof(y)));
    CHECK(cudaMalloc(&dsum, sizeof(T)));
    CHECK(cudaMemcpy(dx, x, sizeof(x), cudaMemcpyHostToDevice));
    axpb<T><<<(n + 127) / 128, 128>>>(dx, dy, a, b, n);
    CHECK(cudaGetLastError());
    reduce<T, BLOCK><<<1, BLOCK>>>(dy, dsum, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(y, dy, sizeof(y), cudaMemcpyDeviceToHost));
    CHECK(cudaMemcpy(&sum, dsum, sizeof(T), cudaMemcpyDeviceToHost));
    T ref_sum = T(0);
    for (int i = 0; i < n; i++) {
        T r = Limit<T>::clamp(a * x[i] + b);
        ref_sum += r;
        if (y[i] != r) {
            printf("FAIL " PROG ": %s: y[%d] = %g, expected %g\n", type, i, static_cast<double>(y[i]),
                   static_cast<double>(r));
            return 1;
        }
    }
    if (sum != ref_sum) {
        printf("FAIL " PROG ": %s: sum %g, expected %g\n", type, static_cast<double>(sum),
               static_cast<double>(ref_sum));
        return 1;
    }
    CHECK(cudaFree(dx));
    CHECK(cudaFree(dy));
    CHECK(cudaFree(dsum));
    return 0;
}

int main()
{
    if (run<int, 128>("int", -13, 5) || run<float, 64>("float", 24.0f, -0.5f) ||
        run<double, 256>("double", 48.5, 0.25))
        return 1;
    printf("PASS " PROG "\n");
    return 0;
}
