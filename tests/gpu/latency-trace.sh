#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# latency-trace.sh DIR [PROGRAM ARGS...]: where an empty launch's time
# goes through GPUvm's core on the GPU machine.  Runs DIR/launch_params
# (made by pack.sh; or DIR/PROGRAM with ARGS) over GPUvm's runtime with
# GPUVM_CUDA_BACKEND=core (BACKEND=core-interp: the interpreter's
# workers, where there is no GPU) and GPUVM_LATENCY_TRACE=$OUT/latency
# (vgpu/latency.hpp: each process, the program with its core's engine
# thread and the Router, and the worker, stamps named steps on one
# clock into a file of that directory), merges every process's stamps
# in time order and prints, for each step from one stamp to the next
# that happened at least MIN (default 200) times, the number of times
# and its median, 10th and 90th percentile in microseconds, in the order
# a launch first takes them.  The stamps cost about 30 ns each.
set -euo pipefail
C=$(cd "${1:?usage: latency-trace.sh DIR [PROGRAM ARGS...]}" && pwd)
shift
O=${OUT:-$C/out}
mkdir -p "$O"
MIN=${MIN:-200}
[ $# -gt 0 ] || set -- launch_params
prog=$1
shift
rm -rf "$O/latency"
mkdir "$O/latency"
LD_LIBRARY_PATH="$C/lib" GPUVM_CUDA_BACKEND="${BACKEND:-core}" GPUVM_CUDA_ENGINED="$C/vgpu-engined" \
	GPUVM_LATENCY_TRACE="$O/latency" "$C/$prog" "$@"
ls "$O"/latency/latency.* > /dev/null 2>&1 || { echo "latency-trace.sh: no stamps in $O/latency" >&2; exit 1; }
# One line per step taken: its first appearance, the step, microseconds;
# then each step's values in order (POSIX awk and sort: mawk has no asort).
cat "$O"/latency/latency.* | tr -d '\000' | grep -aE '^[0-9]{20} ' | sort -s -k1,1n | awk '
	{
		t1 = $1
		name = $2
		for (i = 3; i <= NF; i++) name = name " " $i
		if (have) {
			k = prev " -> " name
			if (!(k in order)) order[k] = ++keys
			printf "%d\t%s\t%.3f\n", order[k], k, (t1 - t) / 1000
		}
		prev = name; t = t1; have = 1
	}' | sort -t "$(printf '\t')" -k1,1n -k3,3g | awk -F '\t' -v min="$MIN" '
	function flush() {
		if (m >= min)
			printf "%-66s %6d %8.2f %8.2f %8.2f\n", k, m, v[int((m + 1) / 2)], v[int(m / 10) + 1],
				v[(int(m * 9 / 10) + 1 > m) ? m : int(m * 9 / 10) + 1]
		m = 0
	}
	BEGIN { printf "%-66s %6s %8s %8s %8s\n", "step", "times", "median", "p10", "p90" }
	$1 != o { if (o != "") flush(); o = $1; k = $2 }
	{ v[++m] = $3 }
	END { if (o != "") flush() }'
