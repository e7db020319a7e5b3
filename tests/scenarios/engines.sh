#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "engines", dom0's half: one host, two engines (vgpu-sim
# instances=2), each a device of vgpu-back with its own render node,
# scheduler and counters.
#   nodes    two render nodes and sysfs devices vgpu.0, vgpu.1; a dom0
#            program runs on each (VGPU_DEVICE)
#   place    g1 on engine 0, g2 on engine 1 (--engine); g3 gets two
#            vGPUs by --policy spread (engine 0, then 1) and runs a
#            program on each of its two render nodes
#   fair     dom0 and g1 share engine 0 equally while g2 has engine 1:
#            each engine's time is its own clients' time
#   hang     g1 hangs engine 0 until banned (hang_limit=1) while g2
#            computes on engine 1: engine 1 counts no hang, g2 is not
#            banned and its result is right, dom0 on engine 0 goes on
N=engines
. /opt/gpuvm/lib.sh

start_xen || fail "starting Xen's toolstack"
modprobe vgpu-back timeslice_ms=5 hang_limit=1 || fail "modprobe vgpu-back"
modprobe vgpu-sim instances=2 watchdog_ms=3000 || fail "modprobe vgpu-sim instances=2"
E0=/sys/devices/platform/vgpu.0/engine
E1=/sys/devices/platform/vgpu.1/engine
[ "$(cat $E0/index)" = 0 ] && [ "$(cat $E1/index)" = 1 ] &&
	[ "$(cat $E0/name)" = vgpu-sim ] && [ "$(cat $E1/name)" = vgpu-sim ] ||
	fail "sysfs: not two vgpu-sim devices 0 and 1"
nodes=$(ls /dev/dri | grep -c '^renderD')
[ "$nodes" = 2 ] || fail "$nodes render nodes, expected one per engine"
vgpuctl engines | sed 's/^/  /'
for n in /dev/dri/renderD*; do
	VGPU_DEVICE=$n vecadd 10000 >/dev/null || fail "dom0's vecadd on $n"
done
[ "$(cat $E0/busy_ns)" -gt 0 ] && [ "$(cat $E1/busy_ns)" -gt 0 ] ||
	fail "a dom0 program did not run on each engine: busy $(cat $E0/busy_ns) $(cat $E1/busy_ns)"
# Each device's debugfs counts its own clients' work, as sysfs does.
D=/sys/kernel/debug/vgpu
for i in 0 1; do
	b=$(awk '$1 == "busy_ns" { print $2 }' $D/$i/stats)
	[ -n "$b" ] && [ "$b" -gt 0 ] && [ "$b" -le "$(cat /sys/devices/platform/vgpu.$i/engine/busy_ns)" ] ||
		fail "debugfs vgpu/$i/stats: busy_ns '$b' against sysfs $(cat /sys/devices/platform/vgpu.$i/engine/busy_ns)"
	grep -q '^engine id name' $D/$i/clients || fail "debugfs vgpu/$i/clients has no header"
done
echo "  ok  : nodes: two render nodes, a dom0 program ran on each, debugfs per device"

start_named_guest g1 engines hang || fail "xl create g1"
start_named_guest g2 engines spin || fail "xl create g2"
start_named_guest g3 engines two || fail "xl create g3"
vgpuctl attach g1 --engine 0 >/dev/null || fail "attach g1 --engine 0"
vgpuctl attach g2 --engine 1 >/dev/null || fail "attach g2 --engine 1"
vgpuctl attach g3 --devid 0 --policy spread >/dev/null || fail "attach g3 vgpu 0 --policy spread"
vgpuctl attach g3 --devid 1 --policy spread >/dev/null || fail "attach g3 vgpu 1 --policy spread"
g1=$($XL domid g1) g2=$($XL domid g2) g3=$($XL domid g3)
B=/local/domain/0/backend/vgpu
[ "$(xenstore-read $B/$g3/0/engine)" = 0 ] && [ "$(xenstore-read $B/$g3/1/engine)" = 1 ] ||
	fail "spread placed g3's vGPUs on $(xenstore-read $B/$g3/0/engine) and $(xenstore-read $B/$g3/1/engine), expected 0 and 1"
vgpuctl list | sed 's/^/  /'

GUEST_LOG=/var/log/xen/console/guest-g3.log
r=$(wait_guest "GUEST engines two:" 300) || { show_guest_log; fail "g3: $r"; }
echo "  g3: $r"
case "$r" in *PASS*) ;; *) show_guest_log; fail "g3: $r" ;; esac
X=/sys/bus/xen-backend/devices
[ "$(cat $X/vgpu-$g3-0/engine)" = 0 ] && [ "$(cat $X/vgpu-$g3-1/engine)" = 1 ] ||
	fail "g3's backends name engines $(cat $X/vgpu-$g3-0/engine), $(cat $X/vgpu-$g3-1/engine)"
[ "$(cat $X/vgpu-$g3-0/sched/busy_ns)" -gt 0 ] && [ "$(cat $X/vgpu-$g3-1/sched/busy_ns)" -gt 0 ] ||
	fail "g3 did not run on both engines"
echo "  ok  : place: g1 on 0, g2 on 1, g3's two vGPUs spread on 0 and 1, a program ran on each"

for g in g1 g2; do
	GUEST_LOG=/var/log/xen/console/guest-$g.log
	r=$(wait_guest "GUEST engines spin:" 300) || { show_guest_log; fail "$g: $r"; }
	case "$r" in *FAIL*) show_guest_log; fail "$g: $r" ;; esac
done
VGPU_DEVICE=/dev/dri/renderD128 vgpu-bench spin --contexts 1 --seconds 900 > /tmp/spin0.log 2>&1 &
spin0=$!
sleep 4
# One process reads the five counters, microseconds apart: five cats,
# each a process start under emulation, made the window of one counter
# differ from another's by a slice or more.
snap() {
	cat /sys/devices/platform/vgpu.0/native/busy_ns $X/vgpu-$g1-0/sched/busy_ns \
	    $X/vgpu-$g2-0/sched/busy_ns $E0/busy_ns $E1/busy_ns | tr '\n' ' '
}
a=$(snap)
sleep 6
b=$(snap)
echo "$a $b" | awk '{
	d0 = $6 - $1; d1 = $7 - $2; d2 = $8 - $3; e0 = $9 - $4; e1 = $10 - $5
	printf "  fair: engine 0: dom0 %.2f s, g1 %.2f s (ratio %.2f) of %.2f s; engine 1: g2 %.2f s of %.2f s\n",
	       d0 / 1e9, d1 / 1e9, d1 ? d0 / d1 : 0, e0 / 1e9, d2 / 1e9, e1 / 1e9
	bad = 0
	if (d1 <= 0 || d0 / d1 < 0.7 || d0 / d1 > 1.43) { print "  equal weights on engine 0 are not equal shares"; bad = 1 }
	if (e1 <= 0 || d2 < 0.95 * e1 || d2 > 1.05 * e1) { print "  engine 1 time is not g2 time"; bad = 1 }
	if (e0 < 0.95 * (d0 + d1) || e0 > 1.05 * (d0 + d1)) { print "  engine 0 time is not its clients time"; bad = 1 }
	exit bad }' || fail "fairness per engine"
echo "  ok  : fair: each engine shared by its own clients"

hangs1=$(cat $E1/hangs)
xenstore-write /local/domain/$g1/data/hang 1
xenstore-write /local/domain/$g2/data/check 1
GUEST_LOG=/var/log/xen/console/guest-g1.log
r=$(wait_guest "GUEST engines hang:" 120) || { show_guest_log; fail "g1: $r"; }
echo "  g1: $r"
GUEST_LOG=/var/log/xen/console/guest-g2.log
r=$(wait_guest "GUEST engines check:" 120) || { show_guest_log; fail "g2: $r"; }
echo "  g2: $r"
case "$r" in *PASS*) ;; *) show_guest_log; fail "g2 beside the hang: $r" ;; esac
[ "$(cat $X/vgpu-$g1-0/statistics/banned)" = 1 ] || fail "g1 was not banned after its hang"
[ "$(cat $E0/hangs)" -ge 1 ] || fail "engine 0 counted no hang"
[ "$(cat $E1/hangs)" = "$hangs1" ] || fail "engine 1 counted g1's hang"
[ "$(cat $X/vgpu-$g2-0/statistics/banned)" = 0 ] || fail "g2 banned for g1's hang"
kill -0 $spin0 2>/dev/null || fail "dom0's spin on engine 0 stopped: $(cat /tmp/spin0.log)"
echo "  ok  : hang: g1 banned on engine 0; engine 1 counted no hang, g2 computed right, dom0 went on"

kill $spin0
wait $spin0 2>/dev/null
for g in g1 g2 g3; do $XL destroy $g; done
wait_released 30 "destroying the guests" objects contexts mappings grants_mapped
unload_vgpu || fail "rmmod vgpu-sim vgpu-back"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dmesg"
echo "E2E $N: PASS"
