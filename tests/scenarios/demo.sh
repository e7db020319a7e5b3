#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "demo" (make demo): the same samples on every path the test bed
# offers, side by side, with what each costs.
N=demo
. /opt/gpuvm/lib.sh
start_xen || fail "starting Xen's toolstack"
modprobe vgpu-sim || fail "modprobe vgpu-sim"
echo
echo "GPUvm demo: Xen 4.17 in QEMU (TCG), kernel $(uname -r), engine vgpu-sim"
echo "interpreter rate in dom0 (userspace build of the same code):"
vgpu-bench interp 200 | sed 's/^/  /'

for s in "vecadd 20000" "saxpy 20000" "matmul 32" "reduction 20000"; do
	set -- $s
	out=$($1 "$2") || fail "$1 (native): $out"
	echo "native $1 $2 $(echo "$out" | sed -n 's/.*gpu_ms=\([0-9.]*\).*/\1/p')" \
		"$(echo "$out" | sed -n 's/.*total_ms=\([0-9.]*\).*/\1/p')" >> /tmp/native.txt
done

start_guest demo || fail "xl create"
vgpuctl attach guest --mode naive || fail "vgpuctl attach"
guest_pass "GUEST demo: " 600

echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "?" }'; }
echo "GPU time = launch to completion; total = the whole program (open, allocate, upload, run, download)"
printf "%-10s %-6s | %9s %9s | %9s %9s %6s | %8s %8s %9s\n" sample size "native" "total" \
	"naive" "total" ratio requests notifs grant-ops
while read -r _ prog size ms total; do
	line=$(grep -a "^GUEST cost $prog $size:" $GUEST_LOG | tr -d '\r')
	v() { echo "$line" | sed -n "s/.* $1=\([0-9.?]*\).*/\1/p"; }
	printf "%-10s %-6s | %9s %9s | %9s %9s %6s | %8s %8s %9s\n" "$prog" "$size" "$ms" "$total" \
		"$(v gpu_ms)" "$(v total_ms)" "$(ratio "$(v total_ms)" "$total")" \
		"$(v requests)" "$(v notifications)" "$(v grant_ops)"
done < /tmp/native.txt
echo "(times in ms; ratio = naive total / native total)"
echo "hp: the high-performance mode is not built yet (its issue follows)"
echo
echo "backend counters for the guest:"
vgpuctl stats guest | sed 's/^/  /'
$XL destroy guest
echo "E2E $N: PASS"
