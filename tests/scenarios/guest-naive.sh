#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "naive", the guest's half (see naive.sh).  Lines starting with
# "GUEST " are read by dom0 from this guest's console.
. /opt/gpuvm/guest-lib.sh

modprobe vgpu-front || { echo "GUEST phase1: FAIL modprobe vgpu-front"; exit 1; }
wait_node present 120 || { echo "GUEST phase1: FAIL no render node"; exit 1; }

r=PASS
for s in "vecadd 20000" "saxpy 20000" "matmul 32" "reduction 20000"; do
	measure $s || r="FAIL $s"
done
vgpu-selftest fault || r="FAIL fault isolation"
vgpu-selftest watchdog 1000 || r="FAIL watchdog"
echo "guest counters:"
cat /sys/kernel/debug/vgpu-front/*
echo "GUEST phase1: $r"

# Detach while idle: the node goes, and a program gets a clear error.
wait_node absent 120 || { echo "GUEST detached-idle: FAIL the node stayed"; exit 1; }
if out=$(vecadd 1000 2>&1); then
	echo "GUEST detached-idle: FAIL a program ran without a vGPU"
else
	echo "GUEST detached-idle: PASS ($out)"
fi

# Detach while a program runs.
wait_node present 120 || { echo "GUEST longrun: FAIL no node after re-attach"; exit 1; }
if timeout 300 vgpu-selftest longrun 240; then
	echo "GUEST longrun: PASS"
else
	echo "GUEST longrun: FAIL"
fi

# Backend restart: dom0 unbinds its backend device and reloads vgpu-back
# and vgpu-sim; this guest's frontend must reconnect by itself.
wait_node present 120 || { echo "GUEST restart: FAIL no node"; exit 1; }
echo "GUEST ready-for-restart"
wait_node absent 120 && wait_node present 120 && vecadd 5000 &&
	echo "GUEST restart: PASS" || echo "GUEST restart: FAIL no working node after the backend restart"

# Hold objects until dom0 destroys this guest.
vgpu-selftest hold
