#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "bench" (make bench), dom0's half: one boot measures the three
# paths with the same engine and workloads: native (dom0's render node),
# naive and hp (one guest with two vGPUs, devid 0 naive and devid 1 hp).
# Repetitions are interleaved: in each, dom0 runs the native one, then
# hands the turn to the guest through XenStore (data/bench = N), which
# runs naive and hp (alternating which goes first) and says it is done.
# Every measurement is printed as a "BENCHJSON {...}" line for the
# harness.  BENCH_QUICK=1 (scenario "demo") runs the short version.
N=${N:-bench}
. /opt/gpuvm/lib.sh
REPS=5
Q=
[ -n "$BENCH_QUICK" ] && Q=--quick

start_xen || fail "starting Xen's toolstack"
# Room for 64 MiB transfers: 80 MiB of device memory for each of dom0's
# program and the guest's two vGPUs.
poll=$(sed -n 's/.*gpuvm\.poll_us=\([0-9]*\).*/\1/p' /proc/cmdline)
modprobe vgpu-back quota_devmem_mb=80 ${poll:+poll_us=$poll} || fail "modprobe vgpu-back"
modprobe vgpu-sim vram_mb=256 watchdog_ms=20000 || fail "modprobe vgpu-sim"
echo "BENCH kernel $(uname -r), engine vgpu-sim, $REPS repetitions${Q:+ (quick)}," \
	"poll_us $(cat /sys/module/vgpu_back/parameters/poll_us)"
start_guest ${GUEST_SCENARIO:-bench} || fail "xl create"
vgpuctl attach guest --mode naive --quota-devmem-mb 80 >/dev/null || fail "attach naive"
vgpuctl attach guest --devid 1 --mode hp --quota-devmem-mb 80 >/dev/null || fail "attach hp"
domid=$($XL domid guest)
r=$(wait_guest "GUEST bench: ready" 300) || { show_guest_log; fail "$r"; }
echo "BENCH guest ready: $r"

rep=1
while [ $rep -le $REPS ]; do
	echo "BENCH repetition $rep of $REPS: native"
	vgpu-bench rep $Q > /tmp/native-$rep.json || fail "vgpu-bench (native), repetition $rep"
	sed 's/^/BENCHJSON /' /tmp/native-$rep.json
	xenstore-write /local/domain/$domid/data/bench $rep || fail "xenstore-write"
	echo "BENCH repetition $rep of $REPS: naive and hp, in the guest"
	r=$(wait_guest "GUEST bench rep $rep:" 3000) || { show_guest_log; fail "$r"; }
	case "$r" in *PASS*) ;; *) show_guest_log; fail "$r" ;; esac
	rep=$((rep + 1))
done
grep -a "^BENCHJSON " $GUEST_LOG | tr -d '\r'

# make demo: a CUDA sample built with nvcc, unmodified, over GPUvm's
# libcudart.so.13: natively here, then in the guest on its hp vGPU, in
# turn, three times (tests/scenarios/cuda-lib.sh runs and judges it).
if [ -n "$BENCH_QUICK" ] && [ -s /opt/gpuvm/cuda/list ]; then
	. /opt/gpuvm/cuda-lib.sh
	IFS='|' read -r suite name expect reason s args <<LINE
$(grep "^samples|scalarProd|" $CUDA/list)
LINE
	echo "BENCH CUDA: $name${args:+ $args} (built with nvcc -cudart shared), dom0 native and the guest's hp vGPU in turn"
	for r in 1 2 3; do
		# shellcheck disable=SC2086
		cuda_run native "$suite" "$name" "$expect" "$reason" $args | sed 's/^/BENCH /' | tee -a /tmp/cuda-demo.log
		xenstore-write /local/domain/$domid/data/bench cuda$r || fail "xenstore-write"
		w=$(wait_guest "GUEST cuda $r:" 600) || { show_guest_log; fail "$w"; }
		case "$w" in *FAIL*) show_guest_log; fail "$w" ;; esac
	done
	grep -a "^CUDA hp " $GUEST_LOG | tr -d '\r' | sed 's/^/BENCH /' | tee -a /tmp/cuda-demo.log
	grep -q " fail " /tmp/cuda-demo.log && fail "the CUDA sample failed"
	awk '$3 == "native" { n[++a] = $6 } $3 == "hp" { h[++b] = $6 }
	     function med(v, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
	         if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t } return v[int((k + 1) / 2)] }
	     END { if (a && b) printf "BENCH CUDA %s: dom0 native %.2f s, guest hp %.2f s (medians of %d), ratio %.2f\n",
	           "'"$name"'", med(n, a), med(h, b), a, med(h, b) / med(n, a) }' /tmp/cuda-demo.log
fi
# What each of the guest's two vGPUs cost dom0 over the whole run, one
# line each (vgpuctl stats guest has every counter).
echo "BENCH what the guest's vGPUs cost dom0 (vgpuctl stats guest):"
vgpuctl stats guest | awk '
	/^domain / { if (t) print t; t = sprintf("BENCH   %-26s", $0) }
	$1 == "requests" || $1 == "grant_maps" || $1 == "bytes_copied" { t = t sprintf(" %s %s", $1, $2) }
	$1 == "notify_in" { n = $2 } $1 == "notify_out" { t = t sprintf(" notifications %.0f", n + $2) }
	$1 == "busy_ns" { t = t sprintf(" engine %.1f s", $2 / 1e9) }
	END { if (t) print t }'
$XL destroy guest
echo "E2E $N: PASS"
