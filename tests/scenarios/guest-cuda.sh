#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "cuda", the guest's half (see cuda.sh).  gpuvm.role=ROUNDS-SET
# on the command line: the rounds of interleaved runs and the set (few or
# all) they cover.
. /opt/gpuvm/guest-lib.sh
. /opt/gpuvm/cuda-lib.sh

role=$(sed -n 's/.*gpuvm\.role=\([0-9a-z-]*\).*/\1/p' /proc/cmdline)
rounds=${role%%-*}
set=${role#*-}

phase1_start
dmesg | grep -q "hp mode" || { echo "GUEST cuda-hp: FAIL not connected in hp mode"; exit 1; }

# Every program once, in hp mode.
if sum=$(cuda_run_set hp all | tee /dev/console | tail -n1) && echo "$sum" | grep -q " 0 failed"; then
	echo "GUEST cuda-hp: PASS $sum"
else
	echo "GUEST cuda-hp: FAIL $sum"
fi

# Interleaved with dom0's native runs: dom0 runs a program, then gives
# this guest step K (XenStore data/cuda-step) to run the same.
k=0 r=PASS
i=1
while [ $i -le "$rounds" ]; do
	while IFS='|' read -r suite name expect reason s args; do
		k=$((k + 1))
		vgpu-bench wait-key data/cuda-step $k 1200 || { echo "GUEST cuda-ratio: FAIL no step $k from dom0"; exit 1; }
		# shellcheck disable=SC2086
		cuda_run hp-r "$suite" "$name" "$expect" "$reason" $args || r="FAIL $name"
		echo "GUEST cuda-step $k: done"
	done <<LIST
$(cuda_lines "$set")
LIST
	i=$((i + 1))
done
echo "GUEST cuda-ratio: $r"

# dom0 detaches the vGPU and attaches it again in naive mode.
wait_node absent 120 || { echo "GUEST cuda-naive: FAIL the render node stayed"; exit 1; }
echo "GUEST cuda-detached: PASS"
wait_node present 300 || { echo "GUEST cuda-naive: FAIL no render node in naive mode"; exit 1; }
if sum=$(cuda_run_set naive few | tee /dev/console | tail -n1) && echo "$sum" | grep -q " 0 failed"; then
	echo "GUEST cuda-naive: PASS $sum"
else
	echo "GUEST cuda-naive: FAIL $sum"
fi
sleep 600
