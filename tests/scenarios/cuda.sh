#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "cuda", dom0's half: CUDA programs built with an ordinary
# nvcc -cudart shared (the project's own, tools/cuda/tests/programs, and
# the NVIDIA cuda-samples subset) run unmodified over GPUvm's
# libcudart.so.13: every one in a guest in hp mode (guest-cuda.sh); then
# a few of them, ROUNDS times, in dom0 natively and in the guest in turn
# (the hp/native ratios: medians of interleaved runs in one boot); then
# the same few in the guest in naive mode, vgpu-sim loaded again with
# 2 MiB GPU pages (page_kb=2048).  Each must pass or, where
# GPUvm does not support what it needs yet, be refused with the runtime's
# "not supported" line; an out-of-bounds store (fault_reset) reports an
# error to that program alone.  Prints the table of program, mode,
# result and time.  gpuvm.cuda_rounds=N and gpuvm.cuda_set=few|all on
# dom0's command line (E2E_APPEND) change the interleaved runs (all of
# them three times takes about 40 minutes: raise E2E_TIMEOUT).
N=cuda
. /opt/gpuvm/lib.sh
. /opt/gpuvm/cuda-lib.sh

rounds=$(sed -n 's/.*gpuvm\.cuda_rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
rounds=${rounds:-3}
set=$(sed -n 's/.*gpuvm\.cuda_set=\([a-z]*\).*/\1/p' /proc/cmdline)
set=${set:-few}
[ -s $CUDA/list ] || fail "no CUDA programs in the test bed (nvcc or GPUvm's libcudart missing at prepare)"
echo "  $(awk -F'|' '$1 == "programs"' $CUDA/list | wc -l) of the project's programs and" \
     "$(awk -F'|' '$1 == "samples"' $CUDA/list | wc -l) cuda-samples; interleaved: $rounds rounds of the set '$set'"

start_xen || fail "starting xenstored, xenconsoled"
# CUDA programs allocate more than the default 16 MiB per client (160
# MiB is enough for every program of the set), and under QEMU's emulation one launch can
# take tens of seconds (asyncAPI: 16 Mi elements).
modprobe vgpu-back quota_devmem_mb=160 || fail "modprobe vgpu-back"
# Room for two clients' promises: the guest's and dom0's native runs.
modprobe vgpu-sim vram_mb=320 watchdog_ms=60000 || fail "modprobe vgpu-sim"
start_named_guest guest cuda "$rounds-$set" || fail "xl create"
vgpuctl attach guest || fail "vgpuctl attach"
watch_guest "^CUDA " 900
guest_pass "GUEST cuda-hp: " 1200
domid=$($XL domid guest)

# Interleaved: a program natively here, then the same in the guest.
k=0
i=1
: > /tmp/cuda-native.log
while [ $i -le "$rounds" ]; do
	while IFS='|' read -r suite name expect reason s args; do
		k=$((k + 1))
		# shellcheck disable=SC2086
		cuda_run native "$suite" "$name" "$expect" "$reason" $args | tee -a /tmp/cuda-native.log
		xenstore-write /local/domain/$domid/data/cuda-step $k || fail "xenstore-write"
		r=$(wait_guest "GUEST cuda-step $k:" 600) || { show_guest_log; fail "$r"; }
	done <<LIST
$(cuda_lines "$set")
LIST
	i=$((i + 1))
done
guest_pass "GUEST cuda-ratio: " 60
if grep -q "^CUDA native [^ ]* fail" /tmp/cuda-native.log; then
	cuda_table $GUEST_LOG /tmp/cuda-native.log
	fail "a program failed natively in dom0"
fi

# The same few in naive mode, on an engine of 2 MiB GPU pages (a GPU's
# virtual-memory granularity): the guest's runtime must map whole pages
# inside the window INFO announces, small allocations sharing pages.
vgpuctl detach guest || fail "vgpuctl detach"
guest_pass "GUEST cuda-detached: " 120
wait_released 20 "the detach" objects contexts mappings
i=0
while lsmod | grep -q '^vgpu_sim ' && ! rmmod vgpu-sim 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "rmmod vgpu-sim after the detach"
	sleep 0.2
done
modprobe vgpu-sim vram_mb=320 watchdog_ms=60000 page_kb=2048 || fail "modprobe vgpu-sim page_kb=2048"
dmesg | grep -q "vgpu-sim registered, 320 MiB device memory, 2048 KiB pages" ||
	fail "vgpu-sim did not register with 2 MiB pages"
vgpuctl attach guest --mode naive || fail "vgpuctl attach --mode naive"
guest_pass "GUEST cuda-naive: " 600
[ "$(cat /sys/bus/xen-backend/devices/vgpu-$domid-0/mode)" = naive ] || fail "not in naive mode"
kill $watcher 2>/dev/null

echo "  CUDA programs (seconds; native and hp-r: medians [min-max] of $rounds interleaved runs):"
cuda_table $GUEST_LOG /tmp/cuda-native.log
$XL destroy guest || fail "xl destroy"
wait_released 20 "destroying the guest" objects contexts mappings device_bytes host_bytes grants_mapped
vgpuctl detach "$domid" --timeout 1 >/dev/null || fail "removing the destroyed guest's nodes"
unload_vgpu || fail "rmmod vgpu-sim vgpu-back"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dom0"
echo "E2E $N: PASS"
