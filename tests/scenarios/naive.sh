#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "naive", dom0's half: a PV guest gets a vGPU in naive mode and
# runs the samples and the isolation tests (guest-naive.sh); then the
# vGPU is detached while the guest is idle, attached again and detached
# while a program runs, attached again; dom0 restarts vgpu-back (unbind,
# reload) and the guest must reconnect by itself; last, the guest is
# destroyed while it holds objects.  Nothing may leak.
N=naive
. /opt/gpuvm/lib.sh

start_xen || fail "starting xenstored, xenconsoled"
modprobe vgpu-sim watchdog_ms=1000 || fail "modprobe vgpu-sim"
start_guest naive || fail "xl create"
vgpuctl attach guest --mode naive || fail "vgpuctl attach"
vgpuctl list

guest_pass "GUEST phase1: " 900
grep -a "^GUEST cost" $GUEST_LOG | tr -d '\r' | sed 's/^GUEST /  naive /'
echo "  backend counters after phase 1:"
vgpuctl stats guest | sed 's/^/  /'
# The ring costs of Documentation/performance.rst count grant operations
# as twice the frontend's grants: the backend's own counters must agree.
fe_grants=$(tr -d '\r' < $GUEST_LOG | awk '$1 == "grants" { g = $2 } END { print g + 0 }')
be_maps=$(vgpuctl stats guest | awk '$1 == "grant_maps" { print $2 }')
be_unmaps=$(vgpuctl stats guest | awk '$1 == "grant_unmaps" { print $2 }')
echo "  grants: vgpu-front issued $fe_grants, vgpu-back mapped $be_maps and unmapped $be_unmaps"
[ "$fe_grants" -gt 0 ] && [ "$be_maps" = "$fe_grants" ] && [ "$be_unmaps" = "$fe_grants" ] ||
	fail "grant operations do not add up"

vgpuctl detach guest || fail "detach (idle)"
guest_pass "GUEST detached-idle: " 120
wait_released 10 "detach" objects contexts mappings

vgpuctl attach guest --mode naive || fail "attach again"
r=$(wait_guest "longrun: started" 120) || { show_guest_log; fail "longrun did not start"; }
sleep 3
vgpuctl detach guest || fail "detach (busy)"
guest_pass "GUEST longrun: " 120
wait_released 10 "a busy detach" objects contexts mappings

vgpuctl attach guest --mode naive || fail "attach a third time"
r=$(wait_guest "GUEST ready-for-restart" 120) || { show_guest_log; fail "$r"; }
bedev=/sys/bus/xen-backend/devices/vgpu-$($XL domid guest)-0
# Settings changed at run time outlive the connection, and vgpu-back.
vgpuctl set guest --weight 300 --cap 60 --quota-contexts 9 >/dev/null || fail "vgpuctl set"
[ "$(cat $bedev/sched/weight) $(cat $bedev/sched/cap) $(cat $bedev/quota/contexts)" = "300 60 9" ] ||
	fail "vgpuctl set did not apply: $(cat $bedev/sched/weight $bedev/sched/cap $bedev/quota/contexts)"
if vgpuctl set guest --weight 1001 2>/dev/null || echo 0 > $bedev/sched/weight 2>/dev/null; then
	fail "a weight out of range was accepted"
fi
# A bound xenbus device pins its driver: unbind, reload, and the reloaded
# backend probes the device again.
echo "$(basename $bedev)" > $bedev/driver/unbind || fail "unbinding the backend device"
# The unbind returns at once; the guest's client goes on vgpu-back's
# workqueue, and until then it pins the engine.
i=0
while [ $i -lt 50 ] && ! rmmod vgpu-sim 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
lsmod | grep -q vgpu_sim && fail "rmmod vgpu-sim after the unbind"
rmmod vgpu-back || fail "rmmod vgpu-back after the unbind"
modprobe vgpu-sim watchdog_ms=1000 || fail "modprobe vgpu-sim again"
guest_pass "GUEST restart: " 120
[ "$(cat $bedev/sched/weight) $(cat $bedev/sched/cap) $(cat $bedev/quota/contexts)" = "300 60 9" ] ||
	fail "settings lost across vgpu-back's reload: $(cat $bedev/sched/weight $bedev/sched/cap $bedev/quota/contexts)"
echo "  ok  : weight 300, cap 60%, 9 contexts set at run time, kept across the reconnection"
r=$(wait_guest "hold: holding" 120) || { show_guest_log; fail "hold did not start"; }
echo "  guest: $r"
wait_guest "GUEST old-holder: exiting" 60 >/dev/null || { show_guest_log; fail "no old holder"; }
held=$(stat_of objects)
wait_guest "GUEST old-holder: gone" 60 >/dev/null || { show_guest_log; fail "the old holder hangs"; }
sleep 1
[ "$held" -gt 0 ] || fail "no objects while the guest holds some"
# A file of the connection before the restart sent nothing on this one.
[ "$(stat_of objects)" = "$held" ] ||
	fail "the old connection's file destroyed objects of the new one ($held -> $(stat_of objects))"
echo "  the old connection's file exited: the new holder keeps its $held objects"
echo "  backend holds $held objects; destroying the guest"
domid=$($XL domid guest)
$XL destroy guest || fail "xl destroy"
wait_released 20 "destroying the guest" objects contexts mappings device_bytes host_bytes grants_mapped
echo "  counters after the guest was destroyed:"
sed 's/^/    /' /sys/kernel/debug/vgpu/stats
sed 's/^/    /' /sys/kernel/debug/vgpu/xen
vgpuctl detach "$domid" --timeout 1 || fail "removing the destroyed guest's nodes"
[ "$(vgpuctl list | wc -l)" = 1 ] || fail "nodes left: $(vgpuctl list)"

show_guest_log
unload_vgpu || fail "rmmod vgpu-sim vgpu-back"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dom0"
echo "E2E $N: PASS"
