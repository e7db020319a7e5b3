#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "uengine", the guest's half (see uengine.sh): the samples, a
# fault and the watchdog, run by vgpu-engined in dom0 through the bridge.
. /opt/gpuvm/guest-lib.sh

phase1_start
r=PASS
for s in "vecadd 20000" "saxpy 20000" "matmul 32" "reduction 20000"; do
	measure $s || r="FAIL $s"
done
vgpu-selftest fault || r="FAIL fault isolation"
vgpu-selftest watchdog 2000 || r="FAIL watchdog"
echo "GUEST mode: $(cat /sys/kernel/debug/vgpu-front/* | awk '$1 == "mode" { print $2 }')"
echo "GUEST uengine: $r"
