#!/bin/sh
# SPDX-License-Identifier: MIT
# test_judge.sh: tests/scenarios/cuda-judge.sh judges outputs as it says,
# above all a sample that prints a wrong result and exits 0 (reduction's
# "Test failed!") fails.
. "$(dirname "$0")/../../../tests/scenarios/cuda-judge.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
bad=0
# check WANT RC SUITE NAME EXPECT REASON -- output lines...
check() {
	want=$1 rc=$2 suite=$3 name=$4 expect=$5 reason=$6
	shift 7
	printf '%s\n' "$@" > "$t/out"
	got=$(cuda_judge "$t/out" "$rc" "$suite" "$name" "$expect" "$reason")
	if [ "$got" != "$want" ]; then
		echo "FAIL: $suite $name expect=$expect rc=$rc: got $got, want $want for: $*"
		bad=1
	fi
}
check pass 0 samples s pass "" -- "GPU result = 8" "CPU result = 8" "Test passed"
check fail 0 samples s pass "" -- "GPU result = 1071927424" "CPU result = 8374433" "Test failed!"
check fail 0 samples s pass "" -- "Result = FAIL"
check fail 0 samples s pass "" -- "	TEST FAILURE"
check fail 0 samples s pass "" -- " ***64-bin histograms do not match!!!***"
check fail 0 samples s pass "" -- "checkOrder() failed!!!"
check fail 1 samples s pass "" -- "Test passed"
check pass 0 samples s pass "" -- "[simpleTemplates] -> Test Results: 0 Failures"
check fail 0 samples s pass "" -- "[alignedTypes] -> Test Results: 10 Failures"
check pass 0 samples s pass "" -- "Launch kernel to generate assertion failures" \
	"x.cu:64: void k(int): block: [1,0,0], thread: [28,0,0] Assertion \`gtid < N\` failed." \
	"Device assert failed as expected"
check fail 0 samples s pass "" -- "GPUvm CUDA runtime: cudaFoo is not supported"
check refused 0 samples s refused "" -- "GPUvm CUDA runtime: textures are not supported"
check fail 0 samples s refused "" -- "Test passed"
check refused 1 programs p refused "recursion" -- "GPUvm CUDA runtime: recursion is not supported"
check fail 1 programs p refused "textures" -- "GPUvm CUDA runtime: recursion is not supported"
check fail 0 programs p refused "recursion" -- "GPUvm CUDA runtime: recursion is not supported" "PASS p"
check pass 0 programs p pass "" -- "PASS p"
check fail 0 programs p pass "" -- "PASS q"
check fail 1 programs p pass "" -- "PASS p"
check refused 0 samples s any "" -- "GPUvm CUDA driver: cuTexRefCreate is not supported"
check pass 0 samples s any "" -- "Test passed"
check fail 0 samples s any "" -- "Test failed!"
check pass 0 programs p any "" -- "GPUvm CUDA runtime: cudaIpcGetMemHandle is not supported" "PASS p"
check refused 1 programs p any "" -- "GPUvm CUDA runtime: textures are not supported"
check fail 1 programs p any "" -- "FAIL p: wrong"
check fail 0 samples s any "" -- "GPUvm CUDA runtime: cudaFoo is not supported" "Test failed!"
check refused 1 programs p any "" -- "GPUvm CUDA runtime: cudaMallocManaged (managed memory) is not supported" \
	"FAIL p: line 9: cudaMallocManaged(&x, 64): cudaErrorNotSupported (operation not supported)"
check fail 1 programs p any "" -- "GPUvm CUDA runtime: cudaIpcGetMemHandle is not supported" \
	"FAIL p: element 3 is 7, expected 9"
# A long output (beyond a pipe's buffer) of failures, judged under pipefail.
yes "element 7: wrong value, Test failed!" | head -n 20000 > "$t/long"
got=$(bash -o pipefail -c ". '$(dirname "$0")/../../../tests/scenarios/cuda-judge.sh'; cuda_judge '$t/long' 0 samples s pass")
[ "$got" = fail ] || { echo "FAIL: 20000 failure lines under pipefail: got $got"; bad=1; }
[ $bad = 0 ] && echo "cuda-judge: all cases as expected"
exit $bad
