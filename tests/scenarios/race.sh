#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "race" (not in the default list: the naive and hp scenarios
# run the same program): vgpu-race in a guest, naive mode then hp mode.
N=race
. /opt/gpuvm/lib.sh

start_xen || fail "starting Xen's toolstack"
modprobe vgpu-sim watchdog_ms=1000 || fail "modprobe vgpu-sim"
start_guest race || fail "xl create"
vgpuctl attach guest --mode naive || fail "vgpuctl attach"
r=$(wait_guest "GUEST race-naive: " 300) || { show_guest_log; fail "$r"; }
grep -a "vgpu-race:" $GUEST_LOG | tr -d '\r' | sed 's/^/  /'
vgpuctl detach guest || fail "detach"
vgpuctl attach guest --mode hp || fail "vgpuctl attach hp"
r2=$(wait_guest "GUEST race-hp: " 300) || { show_guest_log; fail "$r2"; }
grep -a "vgpu-race:.*hp mode" $GUEST_LOG | tr -d '\r' | sed 's/^/  /'
$XL destroy guest
echo "  guest: $r; $r2"
case "$r$r2" in *FAIL*) fail "$r / $r2" ;; esac
echo "E2E $N: PASS"
