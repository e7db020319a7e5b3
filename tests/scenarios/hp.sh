#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "hp", dom0's half: a PV guest gets a vGPU in the
# high-performance mode (vgpuctl's default) and runs the samples, the
# fault and watchdog tests and many submissions in flight
# (guest-hp.sh); dom0 checks the mode and the counters of a steady
# state: objects persistently mapped, no grant map per operation.  Then
# the guest is detached and destroyed with submissions in flight: 0
# objects and 0 mapped grants are left.  Then vgpu-back is loaded with
# hp=0: the guest asks for hp, falls back to naive and still passes.
# Last, `vgpuctl watch` gives a guest its vGPU at creation and after a
# reboot.
N=hp
. /opt/gpuvm/lib.sh

be_field() {	# be_field NAME: mode, or a counter, of the guest's vGPU in sysfs
	d=/sys/bus/xen-backend/devices/vgpu-$($XL domid guest)-0
	if [ "$1" = mode ]; then cat $d/mode; else cat $d/statistics/$1; fi
}

# passes COUNT SECONDS: waits until the guest's console holds
# COUNT "GUEST persist: PASS" lines (xenconsoled appends across reboots).
passes() {
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		[ "$(grep -ac "^GUEST persist: PASS" $GUEST_LOG)" -ge "$1" ] && return 0
		grep -aq "^GUEST persist: FAIL" $GUEST_LOG && break
		sleep 0.2
		i=$((i + 1))
	done
	show_guest_log
	fail "no 'GUEST persist: PASS' number $1 in $2 s"
}

# vGPUs that persist: `vgpuctl watch` attaches the configured guest's
# vGPU when `xl create` makes it and again when it reboots (a new domain
# id), and removes the nodes of the domain that went.
persist() {
	mkdir -p /etc/gpuvm
	echo "guest --mode hp   # the test bed's guest" > /etc/gpuvm/vgpu.conf
	vgpuctl watch > /tmp/watch.log 2>&1 &
	watcher=$!
	start_guest persist || fail "xl create (persist)"
	passes 1 300
	d1=$($XL domid guest)
	xenstore-write /local/domain/$d1/data/reboot yes || fail "xenstore-write"
	i=0
	while [ $i -lt 600 ]; do
		d2=$($XL domid guest 2>/dev/null)
		[ -n "$d2" ] && [ "$d2" != "$d1" ] && break
		sleep 0.2
		i=$((i + 1))
	done
	[ -n "$d2" ] && [ "$d2" != "$d1" ] || fail "the guest did not come back after its reboot"
	passes 2 300
	sed 's/^/  /' /tmp/watch.log
	grep -q "attached to domain guest ($d1)" /tmp/watch.log &&
		grep -q "attached to domain guest ($d2)" /tmp/watch.log ||
		fail "vgpuctl watch did not attach domains $d1 and $d2"
	grep -q "nodes of domain $d1, which is gone" /tmp/watch.log ||
		fail "the nodes of domain $d1 were not removed"
	echo "  persistent vGPU: attached to domain $d1, then after its reboot to domain $d2, by vgpuctl watch"
	kill $watcher
	$XL destroy guest
}

start_xen || fail "starting xenstored, xenconsoled"
modprobe vgpu-sim watchdog_ms=1000 || fail "modprobe vgpu-sim"
start_guest hp || fail "xl create"
vgpuctl attach guest || fail "vgpuctl attach"
vgpuctl list

guest_pass "GUEST phase1: " 900
grep -a "^GUEST cost" $GUEST_LOG | tr -d '\r' | sed 's/^GUEST /  hp /'
echo "  backend counters after phase 1:"
vgpuctl stats guest | sed 's/^/  /'
[ "$(be_field mode)" = hp ] || fail "the connection is not in hp mode: $(be_field mode)"
# sysfs and debugfs tell the same; the quotas are the module's defaults.
[ "$(be_field requests)" = "$(awk -v d="$($XL domid guest)" '$1 == d { print $3 }' /sys/kernel/debug/vgpu/xen)" ] ||
	fail "sysfs and debugfs disagree on the requests"
q=/sys/bus/xen-backend/devices/vgpu-$($XL domid guest)-0/quota
[ "$(cat $q/devmem_mb)" = "$(cat /sys/module/vgpu_back/parameters/quota_devmem_mb)" ] &&
	[ "$(cat $q/grant_pages)" = "$(cat /sys/module/vgpu_back/parameters/max_grant_pages)" ] ||
	fail "quotas in sysfs: devmem_mb $(cat $q/devmem_mb), grant_pages $(cat $q/grant_pages)"
# Every sample ran with its host objects mapped once: the steady state
# of vecadd costs no grant map per operation (guest-hp.sh checks the
# per-operation counts; here, that maps and unmaps balance).
maps=$(be_field grant_maps)
unmaps=$(be_field grant_unmaps)
held=$(be_field grants_mapped)
echo "  grants: $maps maps, $unmaps unmaps, $held mapped now"
[ "$maps" -gt 0 ] && [ $((maps - unmaps)) = "$held" ] || fail "grant maps do not add up"
# vgpu-front counts the maps and unmaps the protocol makes the backend
# do (the per-operation costs in Documentation/performance.rst): they
# must be the backend's own.
fe_maps=$(tr -d '\r' < $GUEST_LOG | awk '$1 == "grant_maps" { g = $2 } END { print g + 0 }')
fe_unmaps=$(tr -d '\r' < $GUEST_LOG | awk '$1 == "grant_unmaps" { g = $2 } END { print g + 0 }')
echo "  vgpu-front counted $fe_maps maps and $fe_unmaps unmaps"
[ "$fe_maps" = "$maps" ] && [ "$fe_unmaps" = "$unmaps" ] || fail "the guest's grant counts differ from the backend's"
xenstore-write /local/domain/$($XL domid guest)/data/phase busy || fail "xenstore-write"

# Detach with submissions in flight.
r=$(wait_guest "GUEST busy: started" 120) || { show_guest_log; fail "$r"; }
sleep 2
vgpuctl detach guest || fail "detach (busy)"
guest_pass "GUEST busy: " 120
wait_released 10 "a busy detach" objects contexts mappings grants_mapped

# Destroy the guest with submissions in flight.
vgpuctl attach guest || fail "attach again"
r=$(wait_guest "GUEST busy2: started" 120) || { show_guest_log; fail "$r"; }
sleep 2
domid=$($XL domid guest)
$XL destroy guest || fail "xl destroy"
wait_released 20 "destroying the guest" objects contexts mappings device_bytes host_bytes grants_mapped
echo "  guest destroyed with submissions in flight: 0 objects, 0 mapped grants"
vgpuctl detach "$domid" --timeout 1 >/dev/null || fail "removing the destroyed guest's nodes"

# A backend without hp: the guest falls back to naive.
unload_vgpu || fail "rmmod before reloading without hp"
modprobe vgpu-back hp=0 || fail "modprobe vgpu-back hp=0"
modprobe vgpu-sim watchdog_ms=1000 || fail "modprobe vgpu-sim"
start_guest hp-fallback || fail "xl create (fallback)"
vgpuctl attach guest || fail "vgpuctl attach (fallback)"
guest_pass "GUEST fallback: " 600
[ "$(be_field mode)" = naive ] || fail "the fallback connection is not naive: '$(be_field mode)'"
$XL destroy guest
persist

show_guest_log
unload_vgpu || fail "rmmod vgpu-sim vgpu-back"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dom0"
echo "E2E $N: PASS"
