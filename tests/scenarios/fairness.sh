#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "fairness", dom0's half: four clients share the engine, each
# saturating it with the same kernel (vgpu-bench spin): dom0's programs
# and three guests in hp mode, g1 from 8 contexts, g2 and g3 from one.
# vgpu-bench fairness samples every client's engine time from sysfs over
# 1-second windows and checks each phase; its FAIRJSON lines are the
# results (make bench keeps them in results.json under "fairness"):
#   equal    equal weights: Jain's index >= 0.99 on average, and no client
#            below 90% of its fair share in any window (g1's 8 contexts
#            get no more than the others' one)
#   weights  g1:g2:g3 = 1:2:4, dom0 idle: each within 5% of its target
#   cap      g2 capped at 25%, the others idle: 25% within 2 points
#   stop     all four, then g3 stops (xl pause): in the next window the
#            other three share its time
#   hog      g3 takes device memory until its quota refuses; its quota is
#            lowered below its use (nothing taken away); g1 and g2
#            meanwhile allocate and compute a correct vecadd
N=fairness
. /opt/gpuvm/lib.sh
W=${FAIR_WINDOWS:-8}

start_xen || fail "starting Xen's toolstack"
# 5 ms slices: a 1-second window holds about 50 of each of four
# clients', so one slice more or less is 2% of a share, not 4%.
modprobe vgpu-back timeslice_ms=5 || fail "modprobe vgpu-back"
modprobe vgpu-sim vram_mb=256 watchdog_ms=20000 || fail "modprobe vgpu-sim"
start_named_guest g1 fair many || fail "xl create g1"
start_named_guest g2 fair one || fail "xl create g2"
start_named_guest g3 fair hog || fail "xl create g3"
for g in g1 g2 g3; do
	vgpuctl attach $g --mode hp --quota-devmem-mb 32 >/dev/null || fail "attach $g"
done
for g in g1 g2 g3; do
	GUEST_LOG=/var/log/xen/console/guest-$g.log
	r=$(wait_guest "GUEST fair:" 300) || { show_guest_log; fail "$g: $r"; }
	echo "  $g: $r"
	case "$r" in *FAIL*) show_guest_log; fail "$g: $r" ;; esac
done
g3=$($XL domid g3)

fairness() {	# NAME EXPECT [OPTION...]
	n=$1 e=$2
	shift 2
	vgpu-bench fairness --name $n --expect $e --windows $W "$@" > /tmp/fair-$n.txt 2>&1
	rc=$?
	cat /tmp/fair-$n.txt
	[ $rc = 0 ] || fail "phase $n: $(grep '^fairness' /tmp/fair-$n.txt || tail -n 3 /tmp/fair-$n.txt)"
}

vgpu-bench spin --contexts 1 --seconds 1200 > /tmp/spin0.log 2>&1 &
spin0=$!
fairness equal equal --clients 4 --warmup 3
vgpuctl top -b -n 1 | sed 's/^/  top| /'

kill $spin0
wait $spin0 2>/dev/null
vgpuctl set g1 --weight 100 >/dev/null &&
	vgpuctl set g2 --weight 200 >/dev/null &&
	vgpuctl set g3 --weight 400 >/dev/null || fail "vgpuctl set --weight"
fairness weights weights --warmup 2

for g in g1 g2 g3; do vgpuctl set $g --weight 100 >/dev/null || fail "set $g --weight 100"; done
vgpuctl set g2 --cap 25 >/dev/null || fail "vgpuctl set g2 --cap 25"
$XL pause g1 && $XL pause g3 || fail "xl pause"
fairness cap cap --warmup 3
$XL unpause g1 && $XL unpause g3 || fail "xl unpause"
vgpuctl set g2 --cap 0 >/dev/null || fail "vgpuctl set g2 --cap 0"

vgpu-bench spin --contexts 1 --seconds 1200 > /tmp/spin0.log 2>&1 &
spin0=$!
fairness stop stop --warmup 3 --stop-after 2.3 --stop-cmd "$XL pause g3" --stopped $g3
$XL unpause g3 || fail "xl unpause g3"

# The memory hog, while everyone computes.
S=/sys/bus/xen-backend/devices/vgpu-$g3-0
for g in g1 g2 g3; do xenstore-write /local/domain/$($XL domid $g)/data/hog 1; done
GUEST_LOG=/var/log/xen/console/guest-g3.log
r=$(wait_guest "GUEST fair hog:" 120) || { show_guest_log; fail "$r"; }
echo "  g3: $r"
case "$r" in *"MiB, then EDQUOT"*) ;; *) show_guest_log; fail "g3's hog: $r" ;; esac
# Its spin load holds a page or two: the hog gets the rest of 32 MiB.
used=$(cat $S/sched/device_bytes)
[ "$used" -gt $((31 << 20)) ] && [ "$used" -le $((32 << 20)) ] ||
	fail "g3 holds $used bytes of device memory, expected all of its 32 MiB quota"
vgpuctl set g3 --quota-devmem-mb 8 >/dev/null || fail "vgpuctl set g3 --quota-devmem-mb 8"
[ "$(cat $S/quota/devmem_mb)" = 8 ] || fail "sysfs quota/devmem_mb: $(cat $S/quota/devmem_mb), expected 8"
[ "$(xenstore-read /local/domain/0/backend/vgpu/$g3/0/quota-devmem-mb)" = 8 ] ||
	fail "the lowered quota is not kept in XenStore"
[ "$(cat $S/sched/device_bytes)" = "$used" ] || fail "lowering the quota took memory away"
echo "  ok  : g3 at its quota (EDQUOT), quota lowered to 8 MiB below its use: it keeps $((used >> 20)) MiB"
for g in g1 g2; do xenstore-write /local/domain/$($XL domid $g)/data/check 1; done
for g in g1 g2; do
	GUEST_LOG=/var/log/xen/console/guest-$g.log
	r=$(wait_guest "GUEST fair check:" 300) || { show_guest_log; fail "$g: $r"; }
	echo "  $g: $r"
	case "$r" in *PASS*) ;; *) show_guest_log; fail "$g: $r" ;; esac
done
vecadd 20000 >/dev/null || fail "dom0's vecadd beside the hog"
echo "  ok  : g1, g2 and dom0 allocated and computed correctly beside the hog"
vgpuctl stats --json | sed 's/^/  stats| /'

kill $spin0
wait $spin0 2>/dev/null
for g in g1 g2 g3; do $XL destroy $g; done
wait_released 30 "destroying the guests" objects contexts mappings grants_mapped
echo "E2E $N: PASS"
