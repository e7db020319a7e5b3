#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "demo" (make demo): the samples on every path the test bed
# offers, with their times and the engine's counters.
N=demo
fail() { echo "E2E $N: FAIL $*"; exit 1; }
modprobe vgpu-sim || fail "modprobe vgpu-sim"
echo
echo "GPUvm demo: dom0 under Xen 4.17 in QEMU (TCG), engine vgpu-sim"
echo "interpreter rate in this dom0 (userspace build of the same code):"
vgpu-bench interp 200 | sed 's/^/  /'
echo
printf "%-10s %-12s %-10s %s\n" sample size mode "GPU time (ms)"
for s in "vecadd 200000" "saxpy 200000" "matmul 64" "reduction 200000"; do
	set -- $s
	out=$($1 "$2") || fail "$1: $out"
	ms=$(echo "$out" | sed -n 's/.*gpu_ms=\([0-9.]*\).*/\1/p')
	printf "%-10s %-12s %-10s %s\n" "$1" "$2" native "$ms"
done
echo "naive, hp: need the Xen transport (vgpu-front), not built yet"
echo
echo "engine counters:"
sed 's/^/  /' /sys/kernel/debug/vgpu/stats
rmmod vgpu-sim vgpu-back || fail "rmmod"
echo "E2E $N: PASS"
