#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Scenario "hostile", the guest's half: the test-only hostile frontend.
# Its "HOSTILE" kernel lines are copied to the console as they come, so
# that dom0 can act on its markers while it runs; each ends with the
# guest's uptime, for the scenario's timeline.
insmod /opt/gpuvm/vgpu-hostile.ko || { echo "GUEST hostile: FAIL insmod"; exit 1; }
seen=0
i=0
while [ $i -lt 9000 ]; do	# 30 minutes at most
	n=$(dmesg | grep -c "HOSTILE")
	if [ "$n" -gt "$seen" ]; then
		dmesg | grep "HOSTILE" |
			sed "1,${seen}d; s/^\[ *\([0-9.]*\)\] \(.*\)/GUEST \2 [\1]/"
		seen=$n
	fi
	dmesg | grep -q "HOSTILE summary" && break
	sleep 0.2
	i=$((i + 1))
done
sleep 600	# dom0 destroys this guest
