#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Scenario "hostile", the guest's half: the test-only hostile frontend.
insmod /opt/gpuvm/vgpu-hostile.ko || { echo "GUEST hostile: FAIL insmod"; exit 1; }
i=0
while [ $i -lt 1500 ] && ! dmesg | grep -q "HOSTILE summary"; do
	sleep 0.2
	i=$((i + 1))
done
dmesg | grep "HOSTILE" | sed 's/^\[[^]]*\] //; s/^/GUEST /'
sleep 600	# dom0 destroys this guest
