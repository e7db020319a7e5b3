#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "uengine", run in dom0 under Xen: the engine bridge.  vgpu-back
# with vgpu-uengine.ko, whose engine operations run in vgpu-engined (its
# interpreter back end: the test bed has no GPU).  dom0's programs and a
# guest's go through it; vgpu-engined is killed under load and restarted.
N=uengine
. /opt/gpuvm/lib.sh
stat() { stat_of "$1"; }
UE=/sys/class/misc/vgpu-uengine
LOG=/tmp/vgpu-engined.log

# start_engined: starts vgpu-engined (options $2...) and waits for
# generation $1 on $UE.
start_engined() {
	gen=$1
	shift
	vgpu-engined -b interp "$@" >>$LOG 2>&1 &
	ENGINED=$!
	i=0
	while [ "$(cat $UE/generation)" != "$gen" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(cat $UE/generation)" = "$gen" ] || { cat $LOG; return 1; }
	echo "  vgpu-engined $ENGINED registered: generation $(cat $UE/generation), backend $(cat $UE/backend)"
}

# children PID: the processes whose parent is PID (busybox has no pgrep).
children() {
	for s in /proc/[0-9]*/status; do
		awk -v pp="$1" '/^Pid:/ { pid = $2 } /^PPid:/ && $2 == pp { print pid }' "$s" 2>/dev/null
	done
}

modprobe vgpu-uengine watchdog_ms=2000 mem_mb=256 || fail "modprobe vgpu-uengine"
echo "  modules: $(lsmod | awk '/^vgpu/ { printf "%s ", $1 }')"
[ "$(cat /sys/devices/platform/vgpu.0/engine/name)" = vgpu-uengine ] || fail "vgpu-back's engine is not the bridge"

# No engine process: a clear error, nothing else.
if out=$(vecadd 1000 2>&1); then
	fail "a program ran with no engine process"
fi
echo "  ok  : without vgpu-engined: $out"
dmesg | grep -q "vgpu-uengine: no context: no engine process" || fail "no clear log line without vgpu-engined"

start_engined 1 || fail "vgpu-engined did not register"
# A second process is refused while one is registered.
if vgpu-engined -b interp >/tmp/second.log 2>&1; then
	fail "a second engine process registered"
fi
grep -q "another engine process is registered" /tmp/second.log || fail "unclear refusal: $(cat /tmp/second.log)"
echo "  ok  : a second vgpu-engined: $(cat /tmp/second.log)"

vecadd 200000 || fail "vecadd"
saxpy 200000 || fail "saxpy"
matmul 64 || fail "matmul"
reduction 200000 || fail "reduction"
vgpu-selftest fault || fail "fault isolation"
vgpu-selftest watchdog 2000 || fail "watchdog"
vgpu-selftest inflight 16 || fail "submissions in flight"


# A guest's work through the bridge (hp mode: its pages are granted, the
# bridge gives the process shadow copies of them).
start_xen || fail "Xen toolstack"
start_guest uengine || fail "xl create"
vgpuctl attach guest || fail "vgpuctl attach"
guest_pass "GUEST uengine: " 900
$XL destroy guest 2>/dev/null	# it may have powered off already
wait_released 20 "destroying the guest" objects contexts mappings device_bytes host_bytes grants_mapped
# The guest's granted objects had shadows (one per object); none is left.
echo "  shadows: $(cat $UE/shadow_in_bytes) bytes copied in, $(cat $UE/shadow_out_bytes) out"
[ "$(cat $UE/shadow_in_bytes)" -gt 0 ] || fail "the guest's work used no shadow"
[ "$(cat $UE/shadow_bytes)" = 0 ] || fail "shadow pages left after the guest: $(cat $UE/shadow_bytes) bytes"

# Kill vgpu-engined under load: the work in flight fails with a clear
# error, vgpu-back stays up, a new vgpu-engined registers and serves.
vgpu-bench spin --mode native --contexts 2 --depth 4 --seconds 30 >/tmp/spin.log 2>&1 &
SPIN=$!
sleep 3
kill -9 $ENGINED
wait $SPIN && fail "the load went on without its engine process"
grep -q "engine lost its state" /tmp/spin.log || fail "unclear error after the kill: $(cat /tmp/spin.log)"
echo "  ok  : load after kill -9: $(tail -n1 /tmp/spin.log)"
dmesg | grep -q "engine process of generation 1 gone" || fail "the module did not log the end of generation 1"
lsmod | grep -q '^vgpu_back ' || fail "vgpu-back went away"
start_engined 2 || fail "vgpu-engined did not register again"
vecadd 200000 || fail "vecadd after the restart"
matmul 64 || fail "matmul after the restart"

wait_released 10 "the programs" objects contexts mappings device_bytes host_bytes
kill $ENGINED
wait $ENGINED

# Launch latency of an empty kernel from dom0's render node: through the
# bridge (vgpu-engined's interpreter, in process and with workers) and on
# vgpu-sim, the engines swapped three times in this boot (20 launches
# each; medians in the report).
rm_engine() {
	i=0
	while [ $i -lt 50 ]; do
		rmmod "$1" 2>/dev/null && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
lat() { vgpu-bench rep --mode native --quick --only launch | sed -n 's/.*"ops": \([0-9]*\), "seconds": \([0-9.]*\).*/\1 \2/p' |
	awk '{ printf "%.0f", $2 / $1 * 1e6 }'; }
rm_engine vgpu-uengine || fail "rmmod vgpu-uengine"
for round in 1 2 3; do
	modprobe vgpu-uengine || fail "modprobe vgpu-uengine (round $round)"
	# A new module counts generations from 1 again.
	start_engined 1 >/dev/null || fail "vgpu-engined (round $round)"
	b=$(lat)
	kill $ENGINED
	wait $ENGINED
	# The same with a worker per context (one more process on the way).
	start_engined 2 --workers >/dev/null || fail "vgpu-engined --workers (round $round)"
	w=$(lat)
	kill $ENGINED
	wait $ENGINED
	rm_engine vgpu-uengine || fail "rmmod vgpu-uengine (round $round)"
	modprobe vgpu-sim || fail "modprobe vgpu-sim (round $round)"
	s=$(lat)
	rm_engine vgpu-sim || fail "rmmod vgpu-sim (round $round)"
	echo "  launch latency, round $round: bridge ${b} us, bridge with workers ${w} us, vgpu-sim ${s} us"
done

# Two GPUs: instances=2 makes two engines, registered in order, with a
# device and a process each (/dev/vgpu-uengine, /dev/vgpu-uengine1;
# vgpu-engined -g 1 takes instance 1's).  Instance 0 without its process
# fails its work as the single-GPU module does; instance 1 serves.
modprobe vgpu-uengine instances=2 || fail "modprobe vgpu-uengine instances=2"
[ -c /dev/vgpu-uengine ] && [ -c /dev/vgpu-uengine1 ] || fail "devices: $(ls /dev/vgpu-uengine*)"
[ "$(cat /sys/devices/platform/vgpu.1/engine/name)" = vgpu-uengine ] || fail "instance 1 is not engine 1"
UE=/sys/class/misc/vgpu-uengine1
start_engined 1 -g 1 || fail "vgpu-engined -g 1 did not register on instance 1"
[ "$(cat /sys/class/misc/vgpu-uengine/generation)" = 0 ] || fail "instance 0 has a process"
[ -z "$(cat /sys/devices/platform/vgpu.1/engine/pci)" ] || fail "the interpreter has a PCI address"
[ "$(cat /sys/devices/platform/vgpu.1/engine/location)" = - ] || fail "location of the interpreter"
node0=/dev/dri/$(ls /sys/devices/platform/vgpu.0/drm | grep renderD)
node1=/dev/dri/$(ls /sys/devices/platform/vgpu.1/drm | grep renderD)
VGPU_DEVICE=$node1 vecadd 10000 >/dev/null || fail "vecadd on instance 1"
if VGPU_DEVICE=$node0 vecadd 1000 >/dev/null 2>&1; then
	fail "a program ran on instance 0 without its process"
fi
vgpuctl engines | sed 's/^/  /'
kill $ENGINED
wait $ENGINED
rm_engine vgpu-uengine || fail "rmmod vgpu-uengine (instances=2)"
echo "  ok  : two instances, one process: instance 1 served, instance 0 refused"
UE=/sys/class/misc/vgpu-uengine

# A GPU's layout: 2 MiB pages in a window at 64 GiB (what the GPU back end
# will map guests' memory in).  The interpreter can serve it (its offer
# at HELLO: 4 KiB pages anywhere); programs map whole 2 MiB pages there.
modprobe vgpu-uengine page_kb=2048 va_start_gb=64 va_end_gb=1008 ||
	fail "modprobe vgpu-uengine page_kb=2048 va_start_gb=64 va_end_gb=1008"
dmesg | grep -q "vgpu-uengine registered, 256 MiB device memory, 2048 KiB pages" ||
	fail "vgpu-uengine did not register with 2 MiB pages"
start_engined 1 || fail "vgpu-engined did not register on an instance of 2 MiB pages"
vecadd 200000 || fail "vecadd on 2 MiB pages"
matmul 64 || fail "matmul on 2 MiB pages"
wait_released 10 "the programs" objects contexts mappings device_bytes host_bytes
kill $ENGINED
wait $ENGINED
rm_engine vgpu-uengine || fail "rmmod vgpu-uengine (page_kb=2048)"
echo "  ok  : an instance of 2 MiB pages at 64 GiB served by the interpreter"

# Workers (vgpu-engined --workers): each context in a process of its own,
# device memory in the engine process, one spare worker started ahead
# (the default --spare-workers 1).  Two loads, each its own context
# and worker; one worker killed: the other load never notices, and the
# killed one's context is served again by a new worker (its job in
# flight, if any, faults "engine lost").  Every worker ends with its
# context; the spare stays.
modprobe vgpu-uengine watchdog_ms=2000 || fail "modprobe vgpu-uengine (workers)"
start_engined 1 --workers || fail "vgpu-engined --workers did not register"
[ "$(cat $UE/backend)" = interp-workers ] || fail "backend with workers: $(cat $UE/backend)"
vecadd 200000 || fail "vecadd in a worker"
matmul 64 || fail "matmul in a worker"
vgpu-selftest fault || fail "fault isolation in workers"
vgpu-selftest watchdog 2000 || fail "watchdog in a worker"
# no_workers: every worker of $ENGINED gone (reaped, zombies too) within
# 3 s but the spare, a live process: a worker ends with its context, and
# vgpu-engined reaps it within 200 ms, requests or not.
no_workers() {
	i=0
	while [ "$(children $ENGINED | wc -w)" != 1 ] && [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(children $ENGINED | wc -w)" = 1 ] &&
		! grep -q '^State:.*Z' "/proc/$(children $ENGINED)/status"
}
no_workers || fail "workers left after the programs: $(children $ENGINED)"
spare=$(children $ENGINED)	# the next context's: the first load's
vgpu-bench spin --mode native --seconds 20 >/tmp/spin-a.log 2>&1 &
SPIN_A=$!
sleep 3
vgpu-bench spin --mode native --seconds 12 >/tmp/spin-b.log 2>&1 &
SPIN_B=$!
sleep 3
workers=$(children $ENGINED)
[ "$(echo $workers | wc -w)" = 3 ] || fail "two loads and a spare, workers: $workers"
echo " $workers " | tr '\n' ' ' | grep -q " $spare " || fail "the spare ($spare) does not serve the first load: $workers"
kill -9 "$spare"	# the first load's worker
wait $SPIN_B || fail "the other load failed when a worker was killed: $(cat /tmp/spin-b.log)"
if wait $SPIN_A; then
	echo "  ok  : the killed worker's load went on in a new worker: $(tail -n1 /tmp/spin-a.log)"
else
	grep -q "engine lost its state" /tmp/spin-a.log || fail "unclear error in the killed worker's load: $(cat /tmp/spin-a.log)"
	echo "  ok  : the killed worker's job faulted: $(tail -n1 /tmp/spin-a.log)"
fi
echo "  ok  : the other load: $(tail -n1 /tmp/spin-b.log)"
grep -q "the worker of context .* died" $LOG || fail "no log line for the killed worker"
vecadd 200000 || fail "vecadd after a worker was killed"
wait_released 10 "the programs" objects contexts mappings device_bytes host_bytes
no_workers || fail "workers left: $(children $ENGINED)"
echo " $workers " | tr '\n' ' ' | grep -q " $(children $ENGINED) " && fail "a worker of the loads is left: $(children $ENGINED)"
grep -q "a spare worker" $LOG && fail "a spare worker could not start: $(grep "a spare worker" $LOG)"
kill $ENGINED
wait $ENGINED
rm_engine vgpu-uengine || fail "rmmod vgpu-uengine (workers)"
echo "  ok  : a worker per context: programs, faults, the watchdog and a killed worker"

echo "  vgpu-engined log:"
sed 's/^/    /' $LOG
rm_engine vgpu-back || fail "rmmod vgpu-back"
lsmod | grep -q '^vgpu' && fail "modules still loaded: $(lsmod | grep '^vgpu')"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dmesg"
echo "E2E $N: PASS"
