#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# cuda-compare.sh DIR: on a machine with an NVIDIA GPU and the CUDA
# toolkit, runs every CUDA program of DIR (made by tests/gpu/pack.sh on a
# development machine: the same binaries as the test bed's cuda
# scenario) over NVIDIA's libcudart.so.13 and over GPUvm's with each of
# the backends SIDES names (default "engine core"; "engine": PTX ->
# GPUvm's ISA -> vgpu-engined's cuda back end -> the GPU, in the
# process; "core": libvgpu -> vgpu-back's core built in the process ->
# vgpu-engined's Router and a GPU worker per context, which runs the
# program's own PTX; "engine-workers": the same without the core:
# Documentation/engines.rst), REPEAT times interleaved (default 1), and
# compares the bytes of every
# device-to-host copy (d2h_hash.so, preloaded into all) with NVIDIA's
# run.  Prints one row per program:
#   NAME SUITE  NVIDIA-RESULT SECONDS  then per side: RESULT SECONDS RATIO MATCH
# SECONDS: the median of the REPEAT runs' wall times (process start
# included); RATIO: NVIDIA's seconds / the side's (1.00: as fast).
# RESULT: pass, fail (exit status or FAIL/error line), refused (GPUvm's
# runtime said what it does not support).  MATCH (of the first run):
# identical (every copy bit for bit), differs@K (the first copy that
# differs), count(A/B) (the runs made A and B copies;
# ",first-K-identical" when the copies both made are), or - (nothing to
# compare).
# Outputs and logs are kept in $OUT (or DIR/out); DUMP=1 keeps the bytes
# of every copy there too (NAME.SIDE.bin.INDEX).  vgpu-engined for the
# workers is DIR/vgpu-engined unless GPUVM_CUDA_ENGINED says otherwise.
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

SIDES=${SIDES:-${CMP_BACKEND:-engine core}}
REPEAT=${REPEAT:-1}
export GPUVM_CUDA_ENGINED=${GPUVM_CUDA_ENGINED:-$C/vgpu-engined}

# run SIDE ROUND SUITE NAME ARGS...: prints "RESULT SECONDS" (SIDE:
# nvidia or a GPUvm backend); the first round's files are NAME.SIDE.*,
# a later one's NAME.SIDE.rROUND.*
run() {
	local side=$1 round=$2 suite=$3 name=$4 t0 t1 rc side_files
	shift 4
	[ "$round" = 0 ] || side_files="$side.r$round"
	[ "$round" = 0 ] && side_files=$side
	rm -f "$O/$name.$side_files".*  # nothing of an earlier run compares
	t0=$(date +%s.%N)
	# In the program's directory: a driver-API sample finds its fatbinary
	# there.  NVIDIA's side gets the system's libcuda.so.1 (never GPUvm's).
	if [ "$side" = nvidia ]; then
		(cd "$C/$suite" && LD_LIBRARY_PATH=$nv LD_PRELOAD=$C/d2h_hash.so GPUVM_D2H_LOG=$O/$name.$side_files.d2h \
			GPUVM_D2H_DUMP=${DUMP:+$O/$name.$side_files.bin} GPUVM_CUDA_BACKEND=interp timeout 300 "./$name" "$@") </dev/null >"$O/$name.$side_files.out" 2>&1
	else
		(cd "$C/$suite" && LD_LIBRARY_PATH=$C/lib LD_PRELOAD=$C/d2h_hash.so GPUVM_D2H_LOG=$O/$name.$side_files.d2h \
			GPUVM_D2H_DUMP=${DUMP:+$O/$name.$side_files.bin} GPUVM_CUDA_BACKEND=$side timeout 300 "./$name" "$@") </dev/null >"$O/$name.$side_files.out" 2>&1
	fi
	rc=$?
	t1=$(date +%s.%N)
	echo "$(judge "$O/$name.$side_files.out" $rc "$suite" "$name") $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}

# match A B: how the copies of log B compare with those of log A
match() {
	local a=$1 b=$2 na nb k
	touch "$a" "$b"
	na=$(wc -l <"$a") nb=$(wc -l <"$b")
	if [ "$na" = 0 ] && [ "$nb" = 0 ]; then
		echo -
	elif [ "$na" != "$nb" ]; then
		k=$((na < nb ? na : nb))
		if cmp -s <(head -n "$k" "$a") <(head -n "$k" "$b"); then
			echo "count($na/$nb),first-$k-identical"
		else
			echo "count($na/$nb)"
		fi
	elif cmp -s "$a" "$b"; then
		echo identical
	else
		echo "differs@$(diff "$a" "$b" | sed -n 's/^< \([0-9]*\) .*/\1/p' | head -n1)"
	fi
}

median() {
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "-") }'
}

printf "%-24s %-8s %-8s %7s" program suite nvidia s
for side in $SIDES; do
	printf "  %-8s %7s %5s %s" "$side" s ratio match
done
printf "\n"
while IFS='|' read -r suite name expect reason set args; do
	declare -A res=() times=() m=()
	for ((r = 0; r < REPEAT; r++)); do
		for side in nvidia $SIDES; do
			# shellcheck disable=SC2086
			read -r x t <<<"$(run "$side" "$r" "$suite" "$name" $args)"
			[ "$r" = 0 ] && res[$side]=$x
			[ "$x" = pass ] || res[$side]=$x  # a failure in any run shows
			times[$side]="${times[$side]:-} $t"
			if [ "$r" = 0 ] && [ "$side" != nvidia ]; then
				m[$side]=$(match "$O/$name.nvidia.d2h" "$O/$name.$side.d2h")
			fi
		done
	done
	ns=$(median <<<"${times[nvidia]}")
	printf "%-24s %-8s %-8s %7s" "$name" "$suite" "${res[nvidia]}" "$ns"
	for side in $SIDES; do
		gs=$(median <<<"${times[$side]}")
		printf "  %-8s %7s %5s %s" "${res[$side]}" "$gs" \
			"$(awk -v a="$ns" -v b="$gs" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" "${m[$side]}"
	done
	printf "\n"
	unset res times m
done <"$C/list"
