#!/bin/sh
# SPDX-License-Identifier: MIT
# run_cuda_program.sh LIBDIR EXPECT PROGRAM [ARGS...]
#
# Runs a CUDA program built with nvcc -cudart shared (or -lcuda) against
# GPUvm's libcudart.so.13 and libcuda.so.1 in LIBDIR, in the program's
# directory (where a driver-API sample finds its fatbinary), with the
# interpreter backend unless GPUVM_CUDA_BACKEND says otherwise, and
# judges it:
#   pass     exit status 0, no line of GPUvm's runtime or driver, no "FAIL"
#   refused  GPUvm's runtime or driver said what it does not support
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
ok=fail
case $expect in
pass)
	if [ $rc -eq 0 ] && ! grep -Eq "GPUvm CUDA (runtime|driver):" "$out" && ! grep -qw "FAIL" "$out"; then
		ok=pass
	fi ;;
refused)
	if grep -Eq "GPUvm CUDA (runtime|driver):.*not supported" "$out"; then
		ok=pass
	fi ;;
esac
echo "RESULT $name $expect $ok rc=$rc ${secs}s"
[ $ok = pass ]
