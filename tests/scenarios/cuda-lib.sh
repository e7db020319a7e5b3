# SPDX-License-Identifier: GPL-2.0 OR MIT
# Helpers of both halves of the "cuda" scenario (sourced): the CUDA
# programs of the test bed, how one is run and judged, and the results
# table.
#
# /opt/gpuvm/cuda holds the programs built with nvcc -cudart shared
# (programs/: tools/cuda/tests/programs; samples/: the cuda-samples
# subset), GPUvm's libcudart.so.13 in lib/ (a program picks it through
# LD_LIBRARY_PATH: no NVIDIA library is in the test bed) and the manifest
# "list" that prepare.sh wrote (tests/testbed/cuda-list.sh), one program
# per line:
#   SUITE|NAME|EXPECT|REASON|SET|ARGS
# EXPECT is pass or refused (REASON: text the runtime's "not supported"
# line must hold); SET is "few" for the programs also run in dom0, in
# naive mode and for the hp/native ratios, "-" otherwise.
CUDA=/opt/gpuvm/cuda
. /opt/gpuvm/cuda-judge.sh

# cuda_lines all|few: the manifest's lines of that set.
cuda_lines() {
	if [ "$1" = all ]; then cat $CUDA/list; else awk -F'|' '$5 == "few"' $CUDA/list; fi
}

# cuda_run MODE SUITE NAME EXPECT REASON [ARGS...]: runs one program
# against GPUvm's runtime on this domain's render node and prints
#   CUDA MODE NAME RESULT SECONDS rc=STATUS
# RESULT: pass (it passed), refused (refused as expected) or fail; a
# failure prints the end of the program's output.  Returns non-zero on
# fail.  The judgement is make check's (cuda-judge.sh).
cuda_run() {
	local mode=$1 suite=$2 name=$3 expect=$4 reason=$5 out t0 t1 rc res
	shift 5
	out=/tmp/cuda-$name.out
	t0=$(cut -d' ' -f1 /proc/uptime)
	# In the program's directory: a driver-API sample finds its fatbinary there.
	(cd "$CUDA/$suite" && LD_LIBRARY_PATH=$CUDA/lib GPUVM_CUDA_BACKEND=vgpu \
		timeout 600 "./$name" "$@" </dev/null) >$out 2>&1
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	res=$(cuda_judge $out $rc "$suite" "$name" "$expect" "$reason")
	echo "CUDA $mode $name $res $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') rc=$rc"
	[ $res = fail ] && tail -n 25 $out | sed "s/^/  $name| /"
	rm -f $out
	[ $res != fail ]
}

# cuda_run_set MODE all|few: runs every program of the set once; prints
# "MODE: N passed, R refused as expected, F failed" and returns non-zero
# if one failed.
cuda_run_set() {
	local mode=$1 p=0 r=0 f=0 suite name expect reason set args
	while IFS='|' read -r suite name expect reason set args; do
		# shellcheck disable=SC2086 # ARGS are words
		if cuda_run "$mode" "$suite" "$name" "$expect" "$reason" $args; then
			if [ "$expect" = pass ]; then p=$((p + 1)); else r=$((r + 1)); fi
		else
			f=$((f + 1))
		fi
	done <<EOF
$(cuda_lines "$2")
EOF
	echo "$mode: $p passed, $r refused as expected, $f failed"
	[ $f = 0 ]
}

# cuda_table: reads "CUDA MODE NAME RESULT SECONDS" lines (any prefix
# before CUDA) and prints one row per program of the manifest: the first
# hp run (cold), the medians [min-max] of the interleaved native and
# hp-r runs, their ratio, and the naive run.
cuda_table() {
	sed -n 's/^.*\(CUDA [a-z-]* [A-Za-z0-9_]* [a-z]* [0-9.]*\).*/\1/p' "$@" | tr -d '\r' |
	awk -v list=$CUDA/list '
	function srt(s, a,   n, i, j, t) {	# "v v v" into a[1..n], ascending
		n = split(s, a, " ")
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n
	}
	function mid(s,   a, n) { n = srt(s, a); return a[int((n + 1) / 2)] }
	function med(s,   a, n) {	# median [min-max]
		n = srt(s, a)
		return sprintf("%.2f [%.2f-%.2f]", a[int((n + 1) / 2)], a[1], a[n])
	}
	{ key = $2 SUBSEP $3
	  if ($2 == "hp" && !((key) in res)) { res[key] = $4; secs[key] = $5 }
	  if ($2 == "naive") { res[key] = $4; secs[key] = $5 }
	  if ($2 == "native" || $2 == "hp-r") { runs[key] = runs[key] " " $5; if ($4 == "fail") bad[key] = 1 } }
	END {
		printf "  %-24s %-8s %-8s %7s  %-20s %-20s %6s  %-8s %7s\n", "program", "suite", "hp", "hp s",
			"native s (median)", "hp s (median)", "ratio", "naive", "naive s"
		while ((getline line < list) > 0) {
			split(line, f, "|")
			n = f[2]; h = "hp" SUBSEP n; nv = "native" SUBSEP n; hr = "hp-r" SUBSEP n; nn = "naive" SUBSEP n
			ratio = "-"
			if ((nv in runs) && (hr in runs) && mid(runs[nv]) > 0)
				ratio = sprintf("%.2f", mid(runs[hr]) / mid(runs[nv]))
			printf "  %-24s %-8s %-8s %7s  %-20s %-20s %6s  %-8s %7s\n", n, f[1],
				(h in res) ? res[h] : "missing", (h in secs) ? secs[h] : "-",
				(nv in runs) ? med(runs[nv]) (bad[nv] ? " FAIL" : "") : "-",
				(hr in runs) ? med(runs[hr]) (bad[hr] ? " FAIL" : "") : "-", ratio,
				(nn in res) ? res[nn] : "-", (nn in secs) ? secs[nn] : "-"
		}
	}'
}
