#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Scenario "hostile", the guest's half: the test-only hostile frontend.
# Its "HOSTILE" kernel lines are copied to the console as they come, so
# that dom0 can act on its markers while it runs; each ends with the
# guest's uptime, for the scenario's timeline.  Lines are told apart by
# their kernel time stamps, not counted: the kernel's log buffer wraps.
# Without a new line for STALL_S seconds, the stack of every task goes to
# the console ("GUEST DUMP"), once: dom0 (hostile.sh) fails the run a
# little later.
STALL_S=240
insmod /opt/gpuvm/vgpu-hostile.ko || { echo "GUEST hostile: FAIL insmod"; exit 1; }
now() { cut -d. -f1 /proc/uptime; }

guest_dump() {
	echo "GUEST DUMP: $1"
	dmesg | tail -n 60 | sed 's/^/GUEST DUMP dmesg| /'
	for p in /proc/[0-9]*; do
		echo "${p#/proc/} $(cat $p/comm 2>/dev/null) $(awk '{ print $3 }' $p/stat 2>/dev/null)"
		cat $p/stack 2>/dev/null
	done | sed 's/^/GUEST DUMP task| /'
	dmesg -c >/dev/null
	echo t > /proc/sysrq-trigger
	sleep 1
	dmesg | sed 's/^/GUEST DUMP sysrq| /'
}

last=0		# time stamp of the last line copied
t_last=$(now)
dumped=
while [ "$(now)" -lt 1800 ]; do	# 30 minutes at most
	new=$(dmesg | awk -v t="$last" '/HOSTILE/ {
		s = $0; sub(/^\[ */, "", s); if (s + 0 > t + 0) print }')
	if [ -n "$new" ]; then
		# Before the summary (dom0 reads on when it sees it): whether
		# the log wrapped (the first line kept is not the boot's); when
		# it has, a copier that counted lines goes silent for good
		# (issue 16, 12(a)).
		echo "$new" | grep -q "HOSTILE summary" &&
			echo "GUEST log: first line kept $(dmesg | head -n1 | cut -c1-14), $(dmesg | wc -c) bytes kept, $(dmesg | grep -c HOSTILE) HOSTILE lines kept"
		echo "$new" | sed 's/^\[ *\([0-9.]*\)\] \(.*\)/GUEST \2 [\1]/'
		last=$(echo "$new" | tail -n1 | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
		t_last=$(now)
		echo "$new" | grep -q "HOSTILE summary" && break
	elif [ -z "$dumped" ] && [ $(( $(now) - t_last )) -ge $STALL_S ]; then
		dumped=1
		guest_dump "no HOSTILE line for $STALL_S s"
	fi
	sleep 0.2
done
sleep 600	# dom0 destroys this guest
