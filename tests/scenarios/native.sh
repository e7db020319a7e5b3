#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "native", run in dom0 under Xen: dom0's own programs use the
# GPU through vgpu-back's render node.
N=native
. /opt/gpuvm/lib.sh
stat() { stat_of "$1"; }

# A render node per engine: without an engine there is none, and a
# program says why.
modprobe vgpu-back || fail "modprobe vgpu-back"
ls /dev/dri/renderD* >/dev/null 2>&1 && fail "a render node with no engine: $(ls /dev/dri)"
if vecadd 1000 > /tmp/noengine.txt 2>&1; then
	fail "a program ran with no engine registered"
fi
grep -q "no engine" /tmp/noengine.txt || fail "unclear error without an engine: $(cat /tmp/noengine.txt)"
echo "  ok  : without an engine: $(cat /tmp/noengine.txt)"
[ -e /sys/devices/platform/vgpu.0 ] && fail "sysfs has a device before an engine is loaded"
E=/sys/devices/platform/vgpu.0/engine

# 3 s: reduction 200000 takes 0.6-1.6 s under TCG, more on a busy host.
modprobe vgpu-sim watchdog_ms=3000 || fail "modprobe vgpu-sim"
echo "  modules: $(lsmod | awk '/^vgpu/ { printf "%s ", $1 }')"

vecadd 200000 || fail "vecadd"
saxpy 200000 || fail "saxpy"
matmul 64 || fail "matmul"
reduction 200000 || fail "reduction"
vgpu-selftest fault || fail "fault isolation"
vgpu-selftest watchdog 3000 || fail "watchdog"
# The render node's own hostile cases.
vgpu-selftest bind-race || fail "VM_BIND racing context destruction"
vgpu-selftest bind-partial || fail "a MAP refused part way"
vgpu-selftest bind-rules || fail "an UNMAP across mappings, or an object destroyed while mapped"
vgpu-selftest job-flood || fail "a flood of queued jobs"
vgpu-selftest clients || fail "clients beyond the device's memory"

echo "  counters after the programs exited:"
sed 's/^/    /' /sys/kernel/debug/vgpu/stats
for k in objects device_bytes host_bytes contexts mappings; do
	v=$(stat $k)
	[ "$v" = 0 ] || fail "counter $k is $v after every program exited"
done
[ "$(stat faults)" -ge 1 ] || fail "the fault was not counted"
[ "$(stat hangs)" -ge 1 ] || fail "the hang was not counted"
[ "$(stat submissions)" -ge 10 ] || fail "submissions were not counted"
# The engine's sysfs attributes agree with the module and debugfs.
echo "  engine in sysfs: $(cd $E && for f in *; do printf "%s=%s " $f "$(cat $f)"; done)"
[ "$(cat $E/name)" = vgpu-sim ] && [ "$(cat $E/mem_mb)" = "$(cat /sys/module/vgpu_sim/parameters/vram_mb)" ] &&
	[ "$(cat $E/index)" = 0 ] && [ "$(cat $E/location)" = - ] &&
	[ "$(cat $E/clients)" = 0 ] && [ "$(cat $E/promised_mb)" = 0 ] &&
	[ "$(cat $E/faults)" = "$(stat faults)" ] && [ "$(cat $E/hangs)" = "$(stat hangs)" ] &&
	[ "$(cat $E/busy_ns)" = "$(stat busy_ns)" ] || fail "the engine's sysfs attributes are wrong"

unload_vgpu || fail "rmmod vgpu-sim vgpu-back"
lsmod | grep -q '^vgpu' && fail "modules still loaded"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dmesg"
echo "E2E $N: PASS"
