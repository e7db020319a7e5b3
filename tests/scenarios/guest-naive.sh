#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "naive", the guest's half (see naive.sh).  Lines starting with
# "GUEST " are read by dom0 from this guest's console.
. /opt/gpuvm/guest-lib.sh

phase1_start

samples_and_isolation

# A backend that does not answer in timeout_ms gives a clear error at
# once, and the next call too (stalled), until its answer comes.  Here
# the endless kernel keeps the backend from answering for the watchdog's
# second, and the timeout is 300 ms.
p=/sys/module/vgpu_front/parameters/timeout_ms
echo 300 > $p
t0=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime)
out=$(vgpu-selftest watchdog 1000 2>&1)
t1=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime)
sleep 3	# the late answer arrives: the connection is alive again
echo 30000 > $p
if echo "$out" | grep -q "timed out" && [ $((t1 - t0)) -lt 3000 ] && vecadd 1000 >/dev/null; then
	echo "stall: clear error after $((t1 - t0)) ms, then served again"
else
	r="FAIL stalled backend ($((t1 - t0)) ms): $out"
fi
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
# and vgpu-sim; this guest's frontend must reconnect by itself.  A
# program holds objects across the restart: its file belongs to the old
# connection, and when it exits it must send nothing on the new one,
# where another program's objects carry the same handles.
wait_node present 120 || { echo "GUEST restart: FAIL no node"; exit 1; }
vgpu-selftest hold > /tmp/old-hold.log 2>&1 &
old=$!
i=0
while [ $i -lt 300 ] && ! grep -q holding /tmp/old-hold.log; do sleep 0.2; i=$((i + 1)); done
echo "GUEST ready-for-restart"
wait_node absent 120 && wait_node present 120 && vecadd 5000 &&
	echo "GUEST restart: PASS" || echo "GUEST restart: FAIL no working node after the backend restart"

# Hold objects on the new connection until dom0 destroys this guest; the
# old holder exits meanwhile.
vgpu-selftest hold &
sleep 5
echo "GUEST old-holder: exiting"
kill $old
wait $old
echo "GUEST old-holder: gone"
sleep 600
