#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# migrate-plot.sh [CONSOLE] [OUT]: the downtime of the migrate scenario's
# saves and restores against the device memory the guest held, from the
# "MIGRATE" lines of its console (default build/testbed/console-migrate.log):
# OUT/migrate.dat (one line per cycle), OUT/migrate.md (the table) and
# OUT/migrate.png (gnuplot; installed if missing, as make bench does).
#
# Per cycle: xl save and xl restore (or xl migrate, or xl save -c, whole)
# as dom0 timed them; the vGPU's part of the save (the guest copying device memory out,
# inside xl save) and of the restore (after xl restore returned, while the
# programs wait); the downtime: for a save, xl save + xl restore + the
# vGPU's restore, for a migration or a checkpoint the program's pause (what the domain
# being stopped cost it, on CLOCK_BOOTTIME); what a pre-copy (vgpuctl
# precopy) had copied before, which the save did not copy again; and the
# longest pause the program saw in that cycle.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
log=${1:-$here/build/testbed/console-migrate.log}
out=${2:-$here/build/migrate}
mkdir -p "$out"
[ -f "$log" ] || { echo "migrate-plot: no $log (run: make e2e SCENARIO=migrate KERNELS=default)" >&2; exit 1; }
tr -d '\r' < "$log" | awk '
function max_pause(k, lo, hi,    e, m) {
	m = 0
	for (e = 1; e <= ep[k]; e++)
		if (efirst[k, e] > lo && efirst[k, e] <= hi && eboot[k, e] > m) m = eboot[k, e]
	return m
}
# A guest goes through cycles of several kinds (migrate.sh cycles()): its
# lines are keyed by its mode and memory, each cycle keeps its kind.
/^MIGRATE [a-z-]+ [0-9]+MiB cycle/ {
	g = $2; sub(/-(live|checkpoint)$/, "", g)
	k = g " " $3; n = ++cyc[k]; keys[k] = 1; kind[k, n] = $2
	for (i = 1; i < NF; i++) {
		if ($i == "save" || $i == "migrate") save[k, n] = $(i + 1)
		if ($i == "save" && $(i + 1) == "-c") save[k, n] = $(i + 2)
		if ($i == "restore") restore[k, n] = $(i + 1)
		if ($i == "round") after[k, n] = $(i + 1) + 0
	}
}
/^MIGRATE [a-z-]+ [0-9]+MiB guest: .*suspend: saved/ {
	k = $2 " " $3; n = ++gs[k]; kept[k, n] = 0
	for (i = 1; i < NF; i++) {
		if ($i == "in" && $(i + 2) ~ /^ms/) gsave[k, n] = $(i + 1)
		if ($i ~ /^\([0-9]+$/ && $(i + 1) == "KiB") kept[k, n] = substr($i, 2)
	}
}
/^MIGRATE [a-z-]+ [0-9]+MiB guest: .*resume: restored [0-9]+ of / {
	k = $2 " " $3; n = ++gr[k]
	for (i = 1; i <= NF; i++) if ($i == "in") grest[k, n] = $(i + 1)
}
# "keep: paused X ms, the domain stopped for Y ms of it, at rounds A-B"
/^MIGRATE [a-z-]+ [0-9]+MiB program: keep: paused [0-9]+ ms, .* at rounds / {
	k = $2 " " $3; e = ++ep[k]
	eboot[k, e] = $7 + 0
	split($NF, r, "-"); efirst[k, e] = r[1] + 0
}
END {
	print "# mode MiB cycle xl_save_or_migrate_ms xl_restore_ms vgpu_save_ms vgpu_restore_ms downtime_ms precopied_kib program_paused_ms"
	for (k in keys) {
		split(k, a, " "); mib = a[2]; sub("MiB", "", mib)
		for (n = 1; n <= cyc[k]; n++) {
			# The program pause after this cycle began and before the next.
			p = max_pause(k, after[k, n], n < cyc[k] ? after[k, n + 1] : 1e18)
			live = kind[k, n] ~ /-(live|checkpoint)$/
			# The guest says "resume: restored" for a restore and a
			# migration, not for a checkpoint (it goes on where it was).
			vr = kind[k, n] ~ /-checkpoint$/ ? 0 : grest[k, ++nr[k]]
			down = live ? p : save[k, n] + restore[k, n] + vr
			printf "%s %d %d %d %d %d %d %d %d %d\n", kind[k, n], mib, n, save[k, n], restore[k, n],
			       gsave[k, n], vr, down, kept[k, n], p
		}
	}
}' | sort -k1,1 -k2,2n -k3,3n > "$out/migrate.dat"
[ "$(grep -vc '^#' "$out/migrate.dat")" -gt 0 ] || { echo "migrate-plot: no MIGRATE cycle in $log" >&2; exit 1; }
{
	echo "| mode | device memory | cycle | xl save (or migrate) | xl restore | vGPU save | vGPU restore | downtime | pre-copied | program paused |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	grep -v '^#' "$out/migrate.dat" | awk '{ printf "| %s | %d MiB | %d | %d ms | %d ms | %d ms | %d ms | %d ms | %d KiB | %d ms |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
} > "$out/migrate.md"
cat "$out/migrate.md"
command -v gnuplot >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null ||
	{ echo "migrate-plot: installing gnuplot-nox failed" >&2; exit 1; }
(cd "$out" && gnuplot <<'GP'
set terminal pngcairo size 800,500 noenhanced
set output "migrate.png"
set title "Downtime of a guest with a vGPU: xl save + restore, xl migrate (QEMU TCG test bed)"
set xlabel "device memory held by the guest (MiB)"
set ylabel "ms"
set logscale x 2
set xrange [3:320]
set yrange [0:*]
set key top left
plot "< grep '^hp ' migrate.dat | awk '$9 == 0'" using 2:8 with points pt 7 title "hp, save+restore", \
     "< grep '^hp ' migrate.dat | awk '$9 > 0'" using 2:8 with points pt 9 title "hp, save+restore, pre-copied", \
     "< grep '^naive ' migrate.dat | awk '$9 == 0'" using 2:8 with points pt 5 title "naive, save+restore", \
     "< grep '^naive ' migrate.dat | awk '$9 > 0'" using 2:8 with points pt 11 title "naive, save+restore, pre-copied", \
     "< grep '^hp-live ' migrate.dat | awk '$9 == 0'" using 2:8 with points pt 6 title "hp, xl migrate", \
     "< grep '^hp-live ' migrate.dat | awk '$9 > 0'" using 2:8 with points pt 8 title "hp, xl migrate, pre-copied", \
     "< grep '^naive-live ' migrate.dat" using 2:8 with points pt 4 title "naive, xl migrate"
GP
) || { echo "migrate-plot: gnuplot failed" >&2; exit 1; }
echo "migrate-plot: $out/migrate.dat, $out/migrate.md, $out/migrate.png"
