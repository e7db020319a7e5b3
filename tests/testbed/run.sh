#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# run.sh SCENARIO: boots Xen + dom0 under QEMU (TCG), runs the scenario
# in dom0 and reads its result from the serial console.  The scenario's
# last line is "E2E <name>: PASS" or "E2E <name>: FAIL <reason>"; the exit
# status follows it.  A boot or a scenario that hangs is killed after
# $E2E_TIMEOUT seconds and fails.  $E2E_APPEND goes on dom0's command line
# (gpuvm.poll_us=N: the bench scenario loads vgpu-back with poll_us=N).
set -uo pipefail
. "$(dirname "$0")/common.sh"

name=${1:?usage: run.sh SCENARIO}
# The hostile scenario runs its abuse for several minutes by design; the
# cuda scenario runs 50 programs on the emulated machine.
case "$name" in
hostile|cuda) timeout_s=${E2E_TIMEOUT:-1500} ;;
migrate) timeout_s=${E2E_TIMEOUT:-1200} ;;
*) timeout_s=${E2E_TIMEOUT:-600} ;;
esac
# migrate keeps a saved guest (and the device memory it saves) in dom0,
# and migrates guests to this host (two copies of the guest for a while).
dom0_mem=1024M
mem=3072
[ "$name" = migrate ] && dom0_mem=1792M && mem=4096
[ -f "$TB/xen.elf" ] && [ -f "$TB/dom0-initrd.gz" ] || die "run prepare.sh first"
out=$TB/console-$name.log
rm -f "$out"	# no earlier run's console read as this one's
# migrate runs xl migrate: a Debian Xen with shadow paging.
xen=$TB/xen.elf
if [ "$name" = migrate ]; then
	bash "$(dirname "$0")/xen-shadow.sh" "$TB/xen/boot/xen-4.17-amd64.config" || exit 1
	xen=$BUILD/xen-shadow/xen.elf
fi

log "booting Xen + dom0 for scenario '$name' (timeout ${timeout_s}s)"
start=$(date +%s)
timeout --foreground -k 10 "$timeout_s" \
	qemu-system-x86_64 -accel tcg -cpu qemu64 -m $mem -smp 2 -nographic \
	-no-reboot -monitor none -serial stdio \
	-kernel "$xen" \
	-append "console=com1 com1=115200,8n1 dom0_mem=$dom0_mem loglvl=warning" \
	-initrd "$TB/vmlinuz console=hvc0 panic=-1 quiet gpuvm.scenario=$name gpuvm.deadline=$((timeout_s - 120)) ${E2E_APPEND:-},$TB/dom0-initrd.gz" \
	</dev/null 2>&1 | stdbuf -oL tr -d '\r' |
	sed -u 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b][^\x07]*\x07//g; s/\x1b[()][A-Z0-9]//g; s/\x1bc//g' |
	tee "$out"
rc=${PIPESTATUS[0]}
log "QEMU finished after $(( $(date +%s) - start ))s (status $rc); console in $out"

kernel=$(cat "$TB/kernel-abi")
result=$(grep -E "^E2E $name: (PASS|FAIL)" "$out" | tail -n1)
if [ -z "$result" ]; then
	if [ "$rc" = 124 ]; then
		echo "E2E $name: FAIL timed out after ${timeout_s}s (kernel $kernel)"
	else
		echo "E2E $name: FAIL no result on the console (kernel $kernel)"
	fi
	exit 1
fi
echo "$result (kernel $kernel)"
case "$result" in *": PASS") exit 0 ;; *) exit 1 ;; esac
