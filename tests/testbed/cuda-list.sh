#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# cuda-list.sh SRC BINDIR: the manifest of the "cuda" scenario
# (tests/scenarios/cuda-lib.sh says its format) for the CUDA programs
# built in BINDIR (programs/, samples/): the project's programs as
# tools/cuda/tests/programs/EXPECTED judges them, then the cuda-samples
# that tools/cuda/tests/samples.list says pass or are refused (the slow
# and skipped ones are not built by make; with GPUVM_SLOW_SAMPLES=1, the slow ones too,
# expected to pass, where the build made them (cmake
# -DGPUVM_CUDA_SLOW_SAMPLES=ON): tests/gpu/pack.sh, for a GPU machine;
# GPUVM_SLOW_SAMPLES="NAME..." those only: make e2e SCENARIO=cuda, for one measured
# boot).  FEW: the programs also run
# in dom0, in naive mode and for the hp/native ratios.  A suite that was
# built (its folder exists) must have every program its list names: a
# missing one is an error, never a shorter scenario.  Without nvcc no
# suite is built and the manifest is empty (the scenario fails saying so).
set -euo pipefail
src=$1 bin=$2
# have SUITE NAME: whether to list it; dies when the suite was built
# without it.
have() {
	[ -d "$bin/$1" ] || return 1
	[ -x "$bin/$1/$2" ] || { echo "cuda-list.sh: $bin/$1/$2 was not built" >&2; exit 1; }
}
FEW=" vectorAdd scalarProd simpleAtomicIntrinsics grid_stride f64_daxpy warp_shuffle launch_queue "
few() { case "$FEW" in *" $1 "*) echo few ;; *) echo - ;; esac; }

while read -r name rest; do
	case "$name" in ''|'#'*) continue ;; esac
	have programs "$name" || continue
	case "$rest" in
	pass) echo "programs|$name|pass||$(few "$name")|" ;;
	refused:*) echo "programs|$name|refused|$(echo "${rest#refused:}" | sed 's/^ *//')|$(few "$name")|" ;;
	*) echo "cuda-list.sh: bad line for $name in EXPECTED" >&2; exit 1 ;;
	esac
done < "$src/tools/cuda/tests/programs/EXPECTED"

sed 's/#.*//' "$src/tools/cuda/tests/samples.list" | while read -r name expect args; do
	case "$expect" in
	pass|refused) ;;
	slow)
		[ -x "$bin/samples/$name" ] || continue
		[ "${GPUVM_SLOW_SAMPLES:-}" = 1 ] || case " ${GPUVM_SLOW_SAMPLES:-} " in *" $name "*) ;; *) continue ;; esac
		expect=pass
		;;
	*) continue ;;
	esac
	have samples "$name" || continue
	echo "samples|$name|$expect||$(few "$name")|$args"
done
