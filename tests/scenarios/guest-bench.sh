#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "bench", the guest's half (see bench.sh): two vGPUs, naive and
# hp; each repetition waits for dom0's turn, runs both, prints its
# measurements as BENCHJSON lines.
. /opt/gpuvm/guest-lib.sh
Q=
[ -n "$BENCH_QUICK" ] && Q=--quick
REPS=5
m=$(load_frontend) || { echo "GUEST bench: FAIL $m"; exit 1; }
i=0
while [ $i -lt 600 ] && [ "$(ls /dev/dri/renderD* 2>/dev/null | wc -l)" -lt 2 ]; do
	sleep 0.2
	i=$((i + 1))
done
echo "GUEST bench: ready ($(ls /dev/dri/renderD* | wc -l) render nodes)"
rep=1
while [ $rep -le $REPS ]; do
	vgpu-bench wait-key data/bench $rep 3000 || { echo "GUEST bench rep $rep: FAIL no turn"; exit 1; }
	r=PASS
	if [ $((rep % 2)) = 1 ]; then order="naive hp"; else order="hp naive"; fi
	for m in $order; do
		vgpu-bench rep --mode $m $Q > /tmp/$m.json || r="FAIL vgpu-bench --mode $m"
		sed 's/^/BENCHJSON /' /tmp/$m.json
	done
	echo "GUEST bench rep $rep: $r"
	rep=$((rep + 1))
done
sleep 600	# dom0 reads the counters, then destroys this guest
