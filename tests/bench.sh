#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# bench.sh bench|demo: make bench and make demo.  Boots the test bed once
# (scenario bench: every workload, or demo: the short version), keeps
# QEMU's console in build/<name>/console-<name>.log and shows the progress, then
# turns the measurements into build/<name>/results.json, results.md and
# PNG plots (gnuplot).  make bench boots it a second time for the
# fairness scenario, whose runs go into results.json under "fairness"
# and fairness.png.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/testbed/common.sh"
name=${1:-bench}
out=$BUILD/$name
mkdir -p "$out"
command -v gnuplot >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null ||
	die "installing gnuplot-nox"
bash "$TOP/tests/testbed/prepare.sh" || die "preparing the test bed"

# boot SCENARIO: runs it in the test bed, showing its progress; its
# console ends in $out/console-SCENARIO.log.
boot() {
	log "booting the test bed for '$1'; console in $out/console-$1.log"
	E2E_TIMEOUT=${E2E_TIMEOUT:-5400} bash "$TOP/tests/testbed/run.sh" "$1" > "$out/run-$1.log" 2>&1 &
	local pid=$! rc tailer
	: > "$TB/console-$1.log"
	# tail ends with the boot (--pid); grep and sed then see the end of
	# their input and end too: nothing is left running.
	tail -n +1 -F --pid=$pid "$TB/console-$1.log" 2>/dev/null |
		grep --line-buffered -E "^(BENCH |E2E |fairness )" | sed -u 's/^/  /' &
	tailer=$!
	wait $pid
	rc=$?
	wait $tailer
	cp "$TB/console-$1.log" "$out/console-$1.log"
	[ $rc = 0 ] || { tail -n 5 "$out/run-$1.log"; die "the $1 scenario failed (console: $out/console-$1.log)"; }
}

boot "$name"
fair=()
if [ "$name" = bench ]; then
	boot fairness
	grep -a -E '^(FAIRJSON|FAIRHDR|FAIRDAT) ' "$out/console-fairness.log" | tr -d '\r' |
		sed 's/^FAIRJSON //' > "$out/fairness.jsonl"
	fair=(--fairness "$out/fairness.jsonl")
fi

grep -a '^BENCHJSON ' "$out/console-$name.log" | sed 's/^BENCHJSON //' > "$out/raw.jsonl"
"$BUILD/user/vgpu-bench" report --out "$out" --kernel "$(cat "$TB/kernel-abi")" \
	--engine vgpu-sim "${fair[@]}" "$out/raw.jsonl" >/dev/null || die "vgpu-bench report"
(cd "$out" && gnuplot plots.gp && { [ ! -f fairness.gp ] || gnuplot fairness.gp; }) || die "gnuplot"
# The table, as a newcomer reads it at the end: rates and ratios (the
# per-operation costs are in results.md and costs.png).
echo
awk -F' *[|] *' '/^## / { exit } /^[|] workload/ || /^[|] [a-z]/ {
	printf "  %-11s %-7s %-6s %-22s %-22s %-22s %-10s %s\n", $2, $3, $4, $5, $6, $7, $9, $10 }' "$out/results.md"
awk '/^"same work"/ { print ""; print "  " $0 }' "$out/results.md" | fold -s -w 100 | sed 's/^\([^ ]\)/  \1/'
echo
log "results: $out/results.json, $out/results.md, $out/h2d.png, $out/d2h.png, $out/costs.png${fair:+, $out/fairness.png}"
