#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "engines", a guest's half (see engines.sh).  Role "two" has
# two vGPUs (on two engines) and runs a program on each render node;
# "hang" and "spin" keep their engine busy, then when dom0 says so the
# hang one hangs its engine until banned (data/hang) and the spin one
# computes a vecadd (data/check).
. /opt/gpuvm/guest-lib.sh
role=$(sed -n 's/.*gpuvm\.role=\([a-z]*\).*/\1/p' /proc/cmdline)
m=$(load_frontend) || { echo "GUEST engines $role: FAIL $m"; exit 1; }
wait_node present 120 || { echo "GUEST engines $role: FAIL no render node"; exit 1; }
if [ "$role" = two ]; then
	i=0
	while [ $i -lt 600 ] && [ "$(ls /dev/dri | grep -c '^renderD')" -lt 2 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	r=PASS
	n=0
	for d in /dev/dri/renderD*; do
		out=$(VGPU_DEVICE=$d vecadd 20000 2>&1) || r="FAIL vecadd on $d: $out"
		n=$((n + 1))
	done
	[ $n = 2 ] || r="FAIL $n render nodes, expected 2"
	# GPUvm's CUDA runtime sees both vGPUs as devices 0 and 1 (the test
	# bed stages the CUDA programs: tests/testbed/prepare.sh).
	C=/opt/gpuvm/cuda
	cuda=""
	[ -x $C/programs/multi_device ] || r="FAIL no $C/programs/multi_device staged"
	if [ "$r" = PASS ]; then
		out=$(cd $C/programs && LD_LIBRARY_PATH=$C/lib timeout 300 ./multi_device 2>&1)
		echo "$out" | grep -q '^devices: 2$' && echo "$out" | grep -q '^PASS multi_device$' ||
			r="FAIL multi_device: $(echo "$out" | tail -n 5 | tr '\n' ' ')"
		cuda="; CUDA: multi_device on 2 devices"
	fi
	# CUDA_VISIBLE_DEVICES=1 leaves the second only.
	if [ "$r" = PASS ]; then
		out=$(cd $C/programs && CUDA_VISIBLE_DEVICES=1 LD_LIBRARY_PATH=$C/lib timeout 300 ./multi_device 2>&1)
		echo "$out" | grep -q '^devices: 1$' && echo "$out" | grep -q '^PASS multi_device$' ||
			r="FAIL multi_device (CUDA_VISIBLE_DEVICES=1): $(echo "$out" | tail -n 5 | tr '\n' ' ')"
		cuda="$cuda, on 1 with CUDA_VISIBLE_DEVICES=1"
	fi
	# NVIDIA's deviceQuery, unmodified, lists both.
	if [ "$r" = PASS ] && [ -x $C/samples/deviceQuery ]; then
		out=$(cd $C/samples && LD_LIBRARY_PATH=$C/lib timeout 300 ./deviceQuery 2>&1)
		echo "$out" | grep -q 'Detected 2 CUDA Capable device(s)' ||
			r="FAIL deviceQuery: $(echo "$out" | grep -i 'detected\|error' | head -n 2 | tr '\n' ' ')"
		cuda="$cuda, deviceQuery detects 2"
	fi
	echo "GUEST engines two: $r ($n render nodes$cuda)"
	sleep 1200
fi
vgpu-bench spin --contexts 1 --seconds 1200 > /tmp/spin.log 2>&1 &
spin=$!
sleep 2
kill -0 $spin 2>/dev/null || { echo "GUEST engines spin: FAIL $(tail -n 3 /tmp/spin.log)"; exit 1; }
echo "GUEST engines spin: spinning ($role)"
if [ "$role" = hang ]; then
	vgpu-bench wait-key data/hang 1 1200 || { echo "GUEST engines hang: FAIL no turn"; exit 1; }
	kill $spin
	wait $spin 2>/dev/null
	# hang_limit=1: the endless kernel's watchdog bans this guest, so the
	# self-test's honest run after it is refused.
	vgpu-selftest watchdog 3000 > /tmp/hang.log 2>&1
	echo "GUEST engines hang: done ($(grep -c FAIL /tmp/hang.log) refused after the ban)"
else
	vgpu-bench wait-key data/check 1 1200 || { echo "GUEST engines check: FAIL no turn"; exit 1; }
	r=PASS
	out=$(vecadd 20000 2>&1) || r="FAIL vecadd: $out"
	kill -0 $spin 2>/dev/null || r="FAIL the spin load stopped: $(cat /tmp/spin.log)"
	echo "GUEST engines check: $r"
fi
sleep 1200	# dom0 destroys this guest
