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
# make demo: a CUDA sample on the hp vGPU, in turn with dom0 (bench.sh).
if [ -n "$BENCH_QUICK" ] && [ -s /opt/gpuvm/cuda/list ]; then
	. /opt/gpuvm/cuda-lib.sh
	IFS='|' read -r suite name expect reason s args <<LINE
$(grep "^samples|scalarProd|" $CUDA/list)
LINE
	for r in 1 2 3; do
		vgpu-bench wait-key data/bench cuda$r 3000 || { echo "GUEST cuda $r: FAIL no turn"; exit 1; }
		# shellcheck disable=SC2086
		GPUVM_CUDA_NODE=hp cuda_run hp "$suite" "$name" "$expect" "$reason" $args
		echo "GUEST cuda $r: done"
	done
fi
sleep 600	# dom0 reads the counters, then destroys this guest
