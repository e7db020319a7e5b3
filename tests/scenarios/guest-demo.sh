#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Scenario "demo", the guest's half: the samples in naive mode.
. /opt/gpuvm/guest-lib.sh
modprobe vgpu-front && wait_node present 120 || { echo "GUEST demo: FAIL no vGPU"; exit 1; }
r=PASS
for s in "vecadd 20000" "saxpy 20000" "matmul 32" "reduction 20000"; do
	measure $s || r="FAIL $s"
done
echo "GUEST demo: $r"
sleep 600	# dom0 reads the counters, then destroys this guest
