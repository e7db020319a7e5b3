#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# pack.sh [DIR]: gathers what tests/gpu/cuda-compare.sh needs on a GPU
# machine into DIR (build/gpu-carry): the CUDA programs the build made
# (make userspace: build/user/gpuvm-cuda), GPUvm's libcudart.so.13 and
# libcuda.so.1 with
# the libraries it loads that a bare machine may lack, the d2h_hash.so
# shim, the manifest of the programs (tests/testbed/cuda-list.sh),
# vgpu-engined, vgpu-bench and tests/gpu/bench_kernels.cu built.
# Never NVIDIA's libraries: the GPU machine has its own.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
G=${BUILD:-$top/build}/user/gpuvm-cuda
D=${1:-${BUILD:-$top/build}/gpu-carry}
[ -f "$G/lib/libcudart.so.13" ] || { echo "pack.sh: no $G/lib/libcudart.so.13 (make userspace)" >&2; exit 1; }
rm -rf "$D"
mkdir -p "$D/lib" "$D/programs" "$D/samples"
for lib in libcudart.so.13 libcuda.so.1; do
	cp -L "$G/lib/$lib" "$D/lib/"
	strip --strip-debug "$D/lib/$lib"
done
for l in $(ldd "$G/lib/libcuda.so.1" | awk '/=>/ { print $3 }'); do
	case "$(basename "$l")" in libdrm.so*|libzstd.so*|liblz4.so*) cp -L "$l" "$D/lib/" ;; esac
done
gcc -O2 -Wall -Wextra -Werror -shared -fPIC "$top/tests/gpu/d2h_hash.c" -o "$D/d2h_hash.so" -ldl -lpthread
# The samples too slow for the interpreter where the build made them
# (cmake -DGPUVM_CUDA_SLOW_SAMPLES=ON): the GPU runs them.
GPUVM_SLOW_SAMPLES=1 bash "$top/tests/testbed/cuda-list.sh" "$top" "$G" > "$D/list"
while IFS='|' read -r suite name _; do
	cp "$G/$suite/$name" "$D/$suite/"
done < "$D/list"
cp "$G"/samples/*.fatbin "$D/samples/" 2>/dev/null || true  # the driver-API samples' kernels
cp "$top/tests/gpu/cuda-compare.sh" "$top/tests/gpu/bench-kernels.sh" "$top/tests/gpu/latency-trace.sh" "$top/tests/scenarios/cuda-judge.sh" "$D/"
# vgpu-engined for the engine-workers backend (its workers run the
# programs' own PTX), and the benchmark of issue 19's targets, built as
# a program for the H200 would be: sm_90 code for NVIDIA's runtime, the
# compute_75 PTX beside it for GPUvm's (which compiles PTX itself).
# vgpu-bench for fairness-core --gpu (the core's scheduler sharing the
# GPU; it finds vgpu-engined beside it).
for t in vgpu-engined vgpu-bench; do
	cp "${BUILD:-$top/build}/user/$t" "$D/"
	strip --strip-debug "$D/$t"
done
nvcc -O2 -cudart shared -gencode arch=compute_75,code=compute_75 -gencode arch=compute_90,code=sm_90 \
	-o "$D/bench_kernels" "$top/tests/gpu/bench_kernels.cu"
nvcc -O2 -cudart shared -gencode arch=compute_75,code=compute_75 -gencode arch=compute_90,code=sm_90 \
	-o "$D/launch_params" "$top/tests/gpu/launch_params.cu"
echo "pack.sh: $(wc -l < "$D/list") programs in $D ($(du -sh "$D" | cut -f1))"
