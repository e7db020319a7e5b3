#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# cuda-compare.sh DIR: on a machine with an NVIDIA GPU and the CUDA
# toolkit, runs every CUDA program of DIR (made by tests/gpu/pack.sh on a
# development machine: the same binaries as the test bed's cuda
# scenario) twice, over NVIDIA's libcudart.so.13 and over GPUvm's with
# its engine backend (GPUVM_CUDA_BACKEND=engine: PTX -> GPUvm's ISA ->
# vgpu-engined's cuda back end -> the GPU), and compares the bytes of
# every device-to-host copy (d2h_hash.so, preloaded into both).  Prints
# one row per program:
#   NAME  NVIDIA-RESULT SECONDS  GPUVM-RESULT SECONDS  COPIES  MATCH
# RESULT: pass, fail (exit status or FAIL/error line), refused (GPUvm's
# runtime said what it does not support).  MATCH: identical (every copy
# bit for bit), differs@K (the first copy that differs), count(A/B) (the
# runs made A and B copies; ",first-K-identical" when the copies both
# made are), or - (nothing to compare).
# Outputs and logs are kept in $OUT (or DIR/out); DUMP=1 keeps the bytes
# of every copy there too (NAME.SIDE.bin.INDEX).
set -uo pipefail
C=$(cd "${1:?usage: cuda-compare.sh DIR}" && pwd)
O=${OUT:-$C/out}
mkdir -p "$O"
# NVIDIA_LIBDIR and CMP_BACKEND (engine-interp) make a dry run possible
# where there is no GPU: GPUvm's runtime on both sides.
nv=${NVIDIA_LIBDIR:-}
[ -n "$nv" ] || for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64; do
	[ -e "$d/libcudart.so.13" ] && { nv=$d; break; }
done
[ -n "$nv" ] || { echo "cuda-compare: no NVIDIA libcudart.so.13 found" >&2; exit 1; }

# judge OUTFILE RC SUITE NAME: pass, refused or fail (cuda-judge.sh)
. "$C/cuda-judge.sh"
judge() {
	cuda_judge "$1" "$2" "$3" "$4" any
}

# run SIDE SUITE NAME ARGS...: prints "RESULT SECONDS"
run() {
	local side=$1 suite=$2 name=$3 t0 t1 rc
	shift 3
	rm -f "$O/$name.$side".*  # nothing of an earlier run compares
	t0=$(date +%s.%N)
	# In the program's directory: a driver-API sample finds its fatbinary
	# there.  NVIDIA's side gets the system's libcuda.so.1 (never GPUvm's).
	if [ "$side" = nvidia ]; then
		(cd "$C/$suite" && LD_LIBRARY_PATH=$nv LD_PRELOAD=$C/d2h_hash.so GPUVM_D2H_LOG=$O/$name.$side.d2h \
			GPUVM_D2H_DUMP=${DUMP:+$O/$name.$side.bin} GPUVM_CUDA_BACKEND=interp timeout 300 "./$name" "$@") </dev/null >"$O/$name.$side.out" 2>&1
	else
		(cd "$C/$suite" && LD_LIBRARY_PATH=$C/lib LD_PRELOAD=$C/d2h_hash.so GPUVM_D2H_LOG=$O/$name.$side.d2h \
			GPUVM_D2H_DUMP=${DUMP:+$O/$name.$side.bin} GPUVM_CUDA_BACKEND=${CMP_BACKEND:-engine} timeout 300 "./$name" "$@") </dev/null >"$O/$name.$side.out" 2>&1
	fi
	rc=$?
	t1=$(date +%s.%N)
	echo "$(judge "$O/$name.$side.out" $rc "$suite" "$name") $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}

printf "%-24s %-8s %-8s %7s  %-8s %7s  %6s  %s\n" program suite nvidia s gpuvm s copies match
while IFS='|' read -r suite name expect reason set args; do
	# shellcheck disable=SC2086
	read -r nres ns <<<"$(run nvidia "$suite" "$name" $args)"
	# shellcheck disable=SC2086
	read -r gres gs <<<"$(run gpuvm "$suite" "$name" $args)"
	a=$O/$name.nvidia.d2h b=$O/$name.gpuvm.d2h
	touch "$a" "$b"
	na=$(wc -l <"$a") nb=$(wc -l <"$b")
	if [ "$na" = 0 ] && [ "$nb" = 0 ]; then
		m=-
	elif [ "$na" != "$nb" ]; then
		k=$((na < nb ? na : nb))
		if cmp -s <(head -n "$k" "$a") <(head -n "$k" "$b"); then
			m="count($na/$nb),first-$k-identical"
		else
			m="count($na/$nb)"
		fi
	elif cmp -s "$a" "$b"; then
		m=identical
	else
		m="differs@$(diff "$a" "$b" | sed -n 's/^< \([0-9]*\) .*/\1/p' | head -n1)"
	fi
	printf "%-24s %-8s %-8s %7s  %-8s %7s  %6s  %s\n" "$name" "$suite" "$nres" "$ns" "$gres" "$gs" "$na" "$m"
done <"$C/list"
