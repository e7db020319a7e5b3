#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "hp", the guest's half (see hp.sh).
. /opt/gpuvm/guest-lib.sh

phase1_start
dmesg | grep -q "hp mode" || { echo "GUEST phase1: FAIL not connected in hp mode: $(dmesg | grep vgpu)"; exit 1; }

samples_and_isolation
# Many submissions in flight: 200 on each of two contexts, and 300
# commands in one submission.  The ring has 64 slots: requests wait for
# room, and notifications are suppressed while the backend is busy.
q0=$(counter requests); n0=$(( $(counter notify_out) + $(counter notify_in) ))
vgpu-selftest inflight 200 || r="FAIL submissions in flight"
q=$(( $(counter requests) - q0 )); n=$(( $(counter notify_out) + $(counter notify_in) - n0 ))
echo "GUEST cost inflight 200: requests=$q notifications=$n"
[ "$n" -lt "$q" ] || r="FAIL notifications were not suppressed ($n for $q requests)"
echo "guest counters:"
cat /sys/kernel/debug/vgpu-front/*
echo "GUEST phase1: $r"

# dom0 compares its counters with these, then lets the next phase start.
vgpu-bench wait-key data/phase busy 300 || echo "GUEST busy: FAIL no turn from dom0"
# Detach while submissions are in flight: every waiter gets an error.
echo "GUEST busy: started"
if timeout 300 vgpu-selftest longrun 240; then
	echo "GUEST busy: PASS"
else
	echo "GUEST busy: FAIL"
fi
wait_node present 120 || { echo "GUEST busy2: FAIL no node after re-attach"; exit 1; }
echo "GUEST busy2: started"
vgpu-selftest longrun 240
sleep 600
