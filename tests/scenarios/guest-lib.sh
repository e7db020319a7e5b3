# SPDX-License-Identifier: GPL-2.0 OR MIT
# Helpers of the guests' halves of the scenarios (sourced).
# The guest's render node: renderD128, or the next minor while a file of
# an earlier connection keeps its old device alive.
has_node() { ls /dev/dri/renderD* >/dev/null 2>&1; }

wait_node() {	# wait_node present|absent SECONDS
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		if [ "$1" = present ] && has_node; then return 0; fi
		if [ "$1" = absent ] && ! has_node; then return 0; fi
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# counter NAME: one of vgpu-front's counters
counter() { awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/vgpu-front/*; }

# measure PROGRAM ARG: runs a sample and prints, on a "GUEST cost" line,
# its GPU time and what it cost on the ring.  Fails if the sample fails.
measure() {
	q0=$(counter requests); n0=$(( $(counter notify_out) + $(counter notify_in) ))
	g0=$(( $(counter grant_maps) + $(counter grant_unmaps) )); b0=$(counter bytes_copied)
	out=$("$1" "$2")
	rc=$?
	echo "$out"
	ms=$(echo "$out" | sed -n 's/.*gpu_ms=\([0-9.]*\).*/\1/p')
	total=$(echo "$out" | sed -n 's/.*total_ms=\([0-9.]*\).*/\1/p')
	echo "GUEST cost $1 $2: gpu_ms=${ms:-?} total_ms=${total:-?} requests=$(( $(counter requests) - q0 ))" \
	     "notifications=$(( $(counter notify_out) + $(counter notify_in) - n0 ))" \
	     "grant_ops=$(( $(counter grant_maps) + $(counter grant_unmaps) - g0 ))" \
	     "bytes_copied=$(( $(counter bytes_copied) - b0 ))"
	return $rc
}

# load_frontend: loads the driver of the vGPU as udev would, by the
# xenbus device's modalias ("xen:vgpu", which vgpu-front declares), once
# the device appears (up to 120 s); prints why it failed.
load_frontend() {
	i=0
	while [ $i -lt 600 ] && ! ls -d /sys/bus/xen/devices/vgpu-* >/dev/null 2>&1; do
		sleep 0.2
		i=$((i + 1))
	done
	d=$(ls -d /sys/bus/xen/devices/vgpu-* 2>/dev/null | head -n1)
	[ -n "$d" ] || { echo "no vgpu device on xenbus"; return 1; }
	a=$(cat "$d/modalias")
	modprobe "$a" || { echo "modprobe $a failed"; return 1; }
	lsmod | grep -q '^vgpu_front ' || { echo "modalias $a did not load vgpu-front"; return 1; }
	echo "GUEST modalias: $a loaded vgpu-front" >&2
}

# phase1_start: loads vgpu-front by modalias and waits for its render
# node; exits the guest's script with a "GUEST phase1: FAIL" line if that
# fails.
phase1_start() {
	m=$(load_frontend) || { echo "GUEST phase1: FAIL $m"; exit 1; }
	wait_node present 120 || { echo "GUEST phase1: FAIL no render node"; exit 1; }
}

# samples_and_isolation: the four samples with their ring costs, the
# fault and the watchdog tests, and the handle races of processes
# (vgpu-race, tests/hostile/vgpu_race.c); returns non-zero and sets $r
# to the first failure.
samples_and_isolation() {
	r=PASS
	for s in "vecadd 20000" "saxpy 20000" "matmul 32" "reduction 20000"; do
		measure $s || r="FAIL $s"
	done
	vgpu-selftest fault || r="FAIL fault isolation"
	vgpu-selftest watchdog 1000 || r="FAIL watchdog"
	vgpu-selftest bind-partial || r="FAIL a MAP refused part way"
	vgpu-selftest bind-rules || r="FAIL an UNMAP across mappings, or an object destroyed while mapped"
	vgpu-race || r="FAIL handle reuse across processes"
	[ "$r" = PASS ]
}
