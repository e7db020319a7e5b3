#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "hp", dom0's half: a PV guest gets a vGPU in the
# high-performance mode (vgpuctl's default) and runs the samples, the
# fault and watchdog tests and many submissions in flight
# (guest-hp.sh); dom0 checks the mode and the counters of a steady
# state: objects persistently mapped, no grant map per operation.  Then
# the guest is detached and destroyed with submissions in flight: 0
# objects and 0 mapped grants are left.  Last, vgpu-back is loaded with
# hp=0: the guest asks for hp, falls back to naive and still passes.
N=hp
. /opt/gpuvm/lib.sh

be_field() {	# be_field COLUMN: that column of the guest's line in vgpu/xen
	awk -v c="$1" -v d="$($XL domid guest)" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
		$1 == d && k { print $k; exit }' /sys/kernel/debug/vgpu/xen
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

show_guest_log
unload_vgpu || fail "rmmod vgpu-sim vgpu-back"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dom0"
echo "E2E $N: PASS"
