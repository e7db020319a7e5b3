#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# run.sh OUT DISPATCH_S ENGINED_S PTX_S: runs the three fuzzers built in
# OUT (make fuzz) for those seconds each, from fresh copies of their seed
# corpora.  Each libFuzzer run uses one CPU: with two or more, the
# dispatcher's runs beside the engine bridge's and then the PTX front
# end's (each still has a CPU of its own: as many executions as alone),
# so make check waits for the longest, not the sum.  Prints each one's
# final statistics and errors; fails if any fuzzer found something (its
# input is kept as OUT/NAME-crash-*).
set -uo pipefail
out=$1 dispatch_s=$2 engined_s=$3 ptx_s=$4
{
	rm -rf "$out/corpus" "$out/corpus-engined" "$out/corpus-ptx" &&
		cp -r fuzz/corpus "$out/corpus" &&
		mkdir -p "$out/corpus-engined" "$out/corpus-ptx" &&
		cp fuzz/corpus-ptx/* "$out/corpus-ptx/"
} || { echo "fuzz/run.sh: the seed corpora could not be copied to $out" >&2; exit 1; }

# fuzz NAME SECONDS ARGS...: one run, its lines worth keeping on stdout.
fuzz() {
	local name=$1 s=$2
	shift 2
	"$out/fuzz-$name" -max_total_time="$s" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "$@" 2>&1 |
		grep -E "^(stat::|==|SUMMARY|INFO: Seed|Done)|ERROR|WARNING|fuzz-$name"
	local rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || echo "fuzz-$name: exit status $rc"
	return "$rc"
}

rc=0
if [ "$(nproc)" -ge 2 ]; then
	fuzz dispatch "$dispatch_s" "$out/corpus" > "$out/dispatch.log" &
	pid=$!
else
	fuzz dispatch "$dispatch_s" "$out/corpus" || rc=1
fi
fuzz engined "$engined_s" -max_len=2048 "$out/corpus-engined" || rc=1
fuzz ptx "$ptx_s" -max_len=8192 "$out/corpus-ptx" || rc=1
if [ -n "${pid:-}" ]; then
	wait "$pid" || rc=1
	echo "fuzz-dispatch (beside the others):"
	cat "$out/dispatch.log"
fi
exit $rc
