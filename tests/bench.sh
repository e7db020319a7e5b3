#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# bench.sh bench|demo: make bench and make demo.  Boots the test bed once
# (scenario bench: every workload, or demo: the short version), keeps
# QEMU's console in build/<name>/console.log and shows the progress, then
# turns the measurements into build/<name>/results.json, results.md and
# PNG plots (gnuplot).
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

log "booting the test bed for '$name'; console in $out/console.log"
E2E_TIMEOUT=${E2E_TIMEOUT:-5400} bash "$TOP/tests/testbed/run.sh" "$name" > "$out/run.log" 2>&1 &
pid=$!
: > "$TB/console-$name.log"
tail -n +1 -F "$TB/console-$name.log" 2>/dev/null |
	grep --line-buffered -E "^(BENCH |E2E )" | sed -u 's/^/  /' &
tailer=$!
wait $pid
rc=$?
sleep 1
kill $tailer 2>/dev/null
cp "$TB/console-$name.log" "$out/console.log"
[ $rc = 0 ] || { tail -n 5 "$out/run.log"; die "the $name scenario failed (console: $out/console.log)"; }

grep -a '^BENCHJSON ' "$out/console.log" | sed 's/^BENCHJSON //' > "$out/raw.jsonl"
"$BUILD/user/vgpu-bench" report --out "$out" --kernel "$(cat "$TB/kernel-abi")" \
	--engine vgpu-sim "$out/raw.jsonl" || die "vgpu-bench report"
(cd "$out" && gnuplot plots.gp) || die "gnuplot"
log "results: $out/results.json, $out/results.md, $out/h2d.png, $out/d2h.png, $out/costs.png"
