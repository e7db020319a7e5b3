#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "fairness", a guest's half (see fairness.sh).  Role "many"
# keeps the GPU busy from 8 contexts, "one" and "hog" from one; when dom0
# says so (data/hog), the hog takes device memory until its quota
# refuses more and holds it, and the others, when dom0 says so
# (data/check), allocate and compute a vecadd meanwhile.
. /opt/gpuvm/guest-lib.sh
role=$(sed -n 's/.*gpuvm\.role=\([a-z]*\).*/\1/p' /proc/cmdline)
m=$(load_frontend) || { echo "GUEST fair: FAIL $m"; exit 1; }
wait_node present 120 || { echo "GUEST fair: FAIL no render node"; exit 1; }
n=1
[ "$role" = many ] && n=8
vgpu-bench spin --contexts $n --seconds 1200 > /tmp/spin.log 2>&1 &
spin=$!
echo "GUEST fair: spinning with $n contexts ($role)"
vgpu-bench wait-key data/hog 1 1200 || { echo "GUEST fair hog: FAIL no turn"; exit 1; }
if [ "$role" = hog ]; then
	vgpu-bench hog --hold 300 > /tmp/hog.log 2>&1 &
	i=0
	while [ $i -lt 300 ] && ! [ -s /tmp/hog.log ]; do
		sleep 0.2
		i=$((i + 1))
	done
	echo "GUEST fair hog: $(head -n 1 /tmp/hog.log)"
else
	vgpu-bench wait-key data/check 1 600 || { echo "GUEST fair check: FAIL no turn"; exit 1; }
	r=PASS
	out=$(vecadd 20000 2>&1) || r="FAIL vecadd: $out"
	kill -0 $spin 2>/dev/null || r="FAIL the spin load stopped: $(cat /tmp/spin.log)"
	echo "GUEST fair check: $r"
fi
sleep 1200	# dom0 destroys this guest
