#!/bin/sh
# SPDX-License-Identifier: MIT
# run_cuda_program.sh LIBDIR EXPECT PROGRAM [ARGS...]
#
# Runs a CUDA program built with nvcc -cudart shared (or -lcuda) against
# GPUvm's libcudart.so.13 and libcuda.so.1 in LIBDIR, in the program's
# directory (where a driver-API sample finds its fatbinary), with the
# interpreter backend unless GPUVM_CUDA_BACKEND says otherwise, and
# judges it as tests/scenarios/cuda-judge.sh says (EXPECT: pass or
# refused).
# Prints the program's output and one line: RESULT <name> <pass|fail> <seconds>.
libdir=$1 expect=$2
shift 2
prog=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s.%N)
(cd "$(dirname "$prog")" &&
	LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	GPUVM_CUDA_BACKEND=${GPUVM_CUDA_BACKEND:-interp} "$prog" "$@") >"$out" 2>&1
rc=$?
end=$(date +%s.%N)
cat "$out"
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
name=$(basename "$prog")
. "$(dirname "$0")/../../../tests/scenarios/cuda-judge.sh"
res=$(cuda_judge "$out" $rc samples "$name" "$expect")
ok=fail
case $expect-$res in pass-pass|refused-refused) ok=pass ;; esac
echo "RESULT $name $expect $ok rc=$rc ${secs}s"
[ $ok = pass ]
