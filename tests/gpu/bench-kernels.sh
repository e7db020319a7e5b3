#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# bench-kernels.sh DIR: on the GPU machine, runs DIR/bench_kernels
# (tests/gpu/bench_kernels.cu, built by pack.sh) in each of its modes
# over NVIDIA's libcudart.so.13 and over GPUvm's with each backend SIDES
# names (default "engine core": cuda-compare.sh says what they are;
# SIDE@VAR=VALUE,VAR=VALUE runs backend SIDE with those variables set,
# "core@VGPU_SPIN_US=0" the core without polling waits),
# REPEAT rounds (default 5), of DIR/$BIN (default bench_kernels),
# the runtimes interleaved within each round.  Prints one row per
# measurement: for each runtime the median of the rounds' medians, with
# the rounds' min and max, and for GPUvm's the ratio NVIDIA/GPUvm of the
# time (1.00: as fast; for copies the same ratio is that of bandwidth).
# A run whose checks fail makes the script fail and counts in no median.
# Raw lines: $OUT (or DIR/out)/bench.SIDE.MODE.ROUND (.failed: failed).
set -uo pipefail
C=$(cd "${1:?usage: bench-kernels.sh DIR}" && pwd)
O=${OUT:-$C/out}
mkdir -p "$O"
SIDES=${SIDES:-engine core}
REPEAT=${REPEAT:-5}
MODES=${MODES:-kernels launch copy pinned}
BIN=${BIN:-bench_kernels}  # another build of bench_kernels.cu in DIR
export GPUVM_CUDA_ENGINED=${GPUVM_CUDA_ENGINED:-$C/vgpu-engined}
nv=${NVIDIA_LIBDIR:-}
[ -n "$nv" ] || for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64; do
	[ -e "$d/libcudart.so.13" ] && { nv=$d; break; }
done
[ -n "$nv" ] || { echo "bench-kernels: no NVIDIA libcudart.so.13 found" >&2; exit 1; }

rm -f "$O"/bench.*  # an earlier run's lines count for nothing
failed=0
for ((r = 0; r < REPEAT; r++)); do
	for mode in $MODES; do
		for side in nvidia $SIDES; do
			f=$O/bench.$side.$mode.$r
			if [ "$side" = nvidia ]; then
				# GPUVM_CUDA_BACKEND: a dry run with GPUvm's library in NVIDIA_LIBDIR.
				LD_LIBRARY_PATH=$nv GPUVM_CUDA_BACKEND=interp timeout 600 "$C/$BIN" "$mode" >"$f" 2>&1
			else
				vars=()
				[[ $side == *@* ]] && IFS=, read -r -a vars <<<"${side#*@}"
				env ${vars[@]+"${vars[@]}"} LD_LIBRARY_PATH="$C/lib" GPUVM_CUDA_BACKEND="${side%%@*}" \
					timeout 600 "$C/$BIN" "$mode" >"$f" 2>&1
			fi
			rc=$?
			if [ $rc != 0 ] || ! grep -q "^PASS bench_kernels" "$f"; then
				echo "bench-kernels: $side $mode round $r failed (exit $rc):" >&2
				tail -n 5 "$f" >&2
				mv "$f" "$f.failed"  # not in the medians
				failed=1
			fi
		done
	done
done

printf "%-16s %-34s" measurement "nvidia ms (min-max)"
for side in $SIDES; do
	printf " %-34s %5s" "$side ms (min-max)" ratio
done
printf "\n"
# stat SIDE NAME: "MEDIAN MIN MAX" of the rounds' medians
stat() {
	cat "$O"/bench."$1".*.[0-9]* 2>/dev/null | awk -v n="$2" '$1 == "BENCH" && $2 == n { print $4 }' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%s %s %s", v[int((NR + 1) / 2)], v[1], v[NR]; else print "- - -" }'
}
for name in $(cat "$O"/bench.nvidia.*.[0-9]* 2>/dev/null | awk '$1 == "BENCH" { print $2 }' | awk '!seen[$0]++'); do
	read -r nm nlo nhi <<<"$(stat nvidia "$name")"
	printf "%-16s %-34s" "$name" "$nm ($nlo-$nhi)"
	for side in $SIDES; do
		read -r gm glo ghi <<<"$(stat "$side" "$name")"
		printf " %-34s %5s" "$gm ($glo-$ghi)" \
			"$(awk -v a="$nm" -v b="$gm" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	done
	printf "\n"
done
exit $failed
