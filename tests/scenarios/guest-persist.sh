#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "hp", the guest of its last part: nobody attaches this guest's
# vGPU by hand; dom0's `vgpuctl watch` does, at creation and again after
# the guest reboots (a new domain).  Each boot loads vgpu-front by
# modalias, runs vecadd and, when dom0 asks, reboots.
. /opt/gpuvm/guest-lib.sh

m=$(load_frontend) || { echo "GUEST persist: FAIL $m"; exit 1; }
wait_node present 120 || { echo "GUEST persist: FAIL no render node"; exit 1; }
if vecadd 20000; then
	echo "GUEST persist: PASS"
else
	echo "GUEST persist: FAIL vecadd"
fi
vgpu-bench wait-key data/reboot yes 120 && reboot -f
sleep 600
