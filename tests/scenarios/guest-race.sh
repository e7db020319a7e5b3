#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Scenario "race", the guest's half (see race.sh).
. /opt/gpuvm/guest-lib.sh

phase1_start
t0=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime)
vgpu-race && r=PASS || r=FAIL
echo "GUEST race-naive: $r in $(( $(awk '{ printf "%d", $1 * 1000 }' /proc/uptime) - t0 )) ms"
wait_node absent 120
wait_node present 120 || { echo "GUEST race-hp: FAIL no node"; exit 1; }
t0=$(awk '{ printf "%d", $1 * 1000 }' /proc/uptime)
vgpu-race && r=PASS || r=FAIL
echo "GUEST race-hp: $r in $(( $(awk '{ printf "%d", $1 * 1000 }' /proc/uptime) - t0 )) ms"
sleep 600
