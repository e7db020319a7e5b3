#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "naive", the guest's half (see naive.sh).  Lines starting with
# "GUEST " are read by dom0 from this guest's console.
node=/dev/dri/renderD128

wait_node() {	# wait_node present|absent SECONDS
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		if [ "$1" = present ] && [ -e $node ]; then return 0; fi
		if [ "$1" = absent ] && [ ! -e $node ]; then return 0; fi
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

modprobe vgpu-front || { echo "GUEST phase1: FAIL modprobe vgpu-front"; exit 1; }
wait_node present 120 || { echo "GUEST phase1: FAIL no render node"; exit 1; }

# counter NAME: one of vgpu-front's counters
counter() { awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/vgpu-front/*; }

r=PASS
for s in "vecadd 20000" "saxpy 20000" "matmul 32" "reduction 20000"; do
	set -- $s
	q0=$(counter requests); n0=$(( $(counter notify_out) + $(counter notify_in) ))
	g0=$(counter grants); b0=$(counter bytes_copied)
	$1 $2 || r="FAIL $1"
	echo "GUEST cost $1 $2: requests=$(( $(counter requests) - q0 ))" \
	     "notifications=$(( $(counter notify_out) + $(counter notify_in) - n0 ))" \
	     "grant_ops=$(( ($(counter grants) - g0) * 2 ))" \
	     "bytes_copied=$(( $(counter bytes_copied) - b0 ))"
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

# Hold objects until dom0 destroys this guest.
wait_node present 120 || { echo "GUEST hold: FAIL no node"; exit 1; }
vgpu-selftest hold
