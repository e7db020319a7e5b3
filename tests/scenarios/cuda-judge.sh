# SPDX-License-Identifier: GPL-2.0 OR MIT
# Sourced (POSIX sh, busybox too): the one judgement of a CUDA program's
# run, shared by make check's ctests (tools/cuda/tests/run_cuda_program.sh),
# the test bed's cuda scenario (cuda-lib.sh) and the GPU comparison
# (tests/gpu/cuda-compare.sh).  The project's own programs are also
# judged by tools/cuda/tests/programs/run_program.cmake, with the same
# rule for them.
#
# cuda_judge OUTFILE RC SUITE NAME EXPECT [REASON] prints pass, refused
# or fail:
#   programs, pass   exit status 0 and the line "PASS NAME";
#   samples, pass    exit status 0, no line of GPUvm's runtime or driver
#                    ("GPUvm CUDA runtime:" / "GPUvm CUDA driver:") and
#                    no line saying the sample failed: "FAIL", "Test
#                    failed!", "TEST FAILURE", "... do not match": samples
#                    often exit 0 after finding a wrong result;
#   refused          GPUvm's "not supported" line, holding REASON when
#                    given (samples often exit 0 after one); a program of
#                    the project that passes anyway is a failure;
#   any              pass when it passes as above, else refused when the
#                    refusal line is there and nothing failed beyond it
#                    (a sample: no line says it failed; a program: its
#                    FAIL lines name cudaErrorNotSupported), else fail (the GPU
#                    comparison, which has no expectations: a program may
#                    pass beside a call GPUvm refuses).

# cuda_failed OUTFILE: true when a line says the program failed (device
# assert() reports and "0 Failures" are not failures).  No "grep -q" at
# the end of a pipeline: its early exit would kill the grep before it
# (SIGPIPE), a failure under pipefail.
cuda_failed() {
	grep -Ei "fail|do not match|mismatch" "$1" |
		grep -Eiv "(^|[^0-9])0 failures|Assertion \`|assert failed as expected|generate assertion failures" | grep . >/dev/null
}

# cuda_failed_beyond_refusal SUITE OUTFILE: a sample that says it failed;
# a project's program with a FAIL line (check.h) that is not its refused
# call's cudaErrorNotSupported.
cuda_failed_beyond_refusal() {
	if [ "$1" = programs ]; then
		grep "^FAIL " "$2" | grep -Ev "cudaErrorNotSupported|CUDA_ERROR_NOT_SUPPORTED" | grep . >/dev/null
	else
		cuda_failed "$2"
	fi
}

cuda_judge() {
	_out=$1 _rc=$2 _suite=$3 _name=$4 _expect=$5 _reason=${6:-}
	if [ "$_expect" = any ]; then
		_res=$(cuda_judge "$_out" "$_rc" "$_suite" "$_name" pass)
		if [ "$_res" != pass ] && ! cuda_failed_beyond_refusal "$_suite" "$_out"; then
			_res=$(cuda_judge "$_out" "$_rc" "$_suite" "$_name" refused "$_reason")
		fi
		echo "$_res"
		return
	fi
	if [ "$_expect" = refused ]; then
		if grep -E "GPUvm CUDA (runtime|driver):" "$_out" | grep "not supported" |
		   grep -F -- "$_reason" >/dev/null; then
			if [ "$_suite" = programs ] && { [ "$_rc" = 0 ] || grep -qx "PASS $_name" "$_out"; }; then
				echo fail
			else
				echo refused
			fi
			return
		fi
		echo fail
		return
	fi
	if [ "$_suite" = programs ]; then
		if [ "$_rc" = 0 ] && grep -qx "PASS $_name" "$_out"; then echo pass; else echo fail; fi
		return
	fi
	if [ "$_rc" = 0 ] && ! grep -Eq "GPUvm CUDA (runtime|driver):" "$_out" && ! cuda_failed "$_out"; then
		echo pass
	else
		echo fail
	fi
}
