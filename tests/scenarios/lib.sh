# SPDX-License-Identifier: GPL-2.0 OR MIT
# Helpers of the dom0 halves of the scenarios (sourced).

# A failure, with the kernel's last words (an oops kills the program that
# caused it: the shell then only says "Segmentation fault").
fail() {
	dmesg | tail -n 25 | sed 's/^/  dmesg| /'
	echo "E2E $N: FAIL $*"
	exit 1
}

# Xen's toolstack in dom0, as the test bed's TESTBED notes describe.
start_xen() {
	for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs; do
		modprobe $m || return 1
	done
	mount -t xenfs xenfs /proc/xen || return 1
	/usr/lib/xen-4.17/bin/xenstored --pid-file /var/run/xenstored.pid || return 1
	/usr/lib/xen-4.17/bin/xenconsoled --log=guest --log-dir=/var/log/xen/console || return 1
	/usr/lib/xen-4.17/bin/xen-init-dom0 >/dev/null || return 1
}

XL=/usr/lib/xen-4.17/bin/xl

# start_named_guest NAME SCENARIO [ROLE]: starts guest NAME running the
# guest half of SCENARIO (ROLE: gpuvm.role= on its command line), with
# $GUEST_MEMORY MiB (default 320) and $GUEST_EXTRA on its command line.
start_named_guest() {
	cat > /etc/xen/$1.cfg <<CFG
name = "$1"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu-initrd.gz"
extra = "console=hvc0 quiet gpuvm.scenario=$2 gpuvm.role=${3:-none} ${GUEST_EXTRA:-}"
memory = ${GUEST_MEMORY:-320}
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
CFG
	$XL create /etc/xen/$1.cfg >/tmp/xl-create-$1.log 2>&1 ||
		{ cat /tmp/xl-create-$1.log; return 1; }
}

# Starts guest "guest" running the guest half of scenario $1.
start_guest() { start_named_guest guest "$1"; }

GUEST_LOG=/var/log/xen/console/guest-guest.log

# Written by watch_guest when the guest stopped making progress: every
# wait_guest fails at once with its content.
STALLED=/tmp/e2e-guest-stalled

# wait_guest PATTERN SECONDS: waits for a line of the guest's console
# starting with PATTERN; prints it.  Fails on timeout, and as soon as
# watch_guest found the guest stalled.
wait_guest() {
	i=0
	while [ $i -lt $(($2 * 5)) ]; do
		line=$(grep -a "^$1" $GUEST_LOG 2>/dev/null | tail -n1 | tr -d '\r')
		if [ -n "$line" ]; then
			echo "$line"
			return 0
		fi
		if [ -s $STALLED ]; then
			echo "(waiting for '$1': $(cat $STALLED))"
			return 1
		fi
		# The guest's kernel reported a stuck task (domu-init): no
		# point waiting on.
		if [ $((i % 25)) = 0 ] && grep -aq "^GUEST HUNG:" $GUEST_LOG 2>/dev/null; then
			sleep 5	# its stacks come after the line
			echo "(the guest's kernel has a stuck task, waiting for '$1')"
			return 1
		fi
		sleep 0.2
		i=$((i + 1))
	done
	echo "(no '$1' from the guest in $2 s)"
	return 1
}

uptime_s() { cut -d. -f1 /proc/uptime; }

# dump_tasks WHY: the stack of every task (sysrq t, not only the blocked
# ones) of the guest and of dom0, with the vGPU state, to the console.
# The guest's kernel gets the request through XenStore's control/sysrq
# (domu-init enables it) and, at console log level 8, writes to its
# console; unless its own watcher (guest-hostile.sh) dumped already.
dump_tasks() {
	local n0 n1 i=0
	echo "E2E-DUMP: $1"
	if ! grep -aq "^GUEST DUMP" $GUEST_LOG 2>/dev/null; then
		timeout 10 $XL sysrq guest 8
		timeout 10 $XL sysrq guest t
		n0=-1
		n1=$(wc -c < $GUEST_LOG)
		while [ "$n0" != "$n1" ] && [ $i -lt 30 ]; do	# until it is written
			sleep 3
			n0=$n1
			n1=$(wc -c < $GUEST_LOG)
			i=$((i + 1))
		done
		timeout 10 $XL sysrq guest 4
	fi
	show_guest_log
	echo "  --- dom0: last messages, then every task (sysrq t) ---"
	dmesg | tail -n 150 | sed 's/^/  dom0 dmesg| /'
	dmesg -c >/dev/null
	echo t > /proc/sysrq-trigger
	sleep 2
	dmesg | sed 's/^/  dom0 task| /'
	for f in xen stats; do	# last: their locks may be held
		timeout 5 cat /sys/kernel/debug/vgpu/$f 2>/dev/null | sed "s/^/  $f| /"
	done
	echo "  ---"
}

# watch_guest PATTERN SECONDS: in the background, watches the guest's
# console for new lines matching PATTERN; after SECONDS without one, dumps
# every task (dump_tasks) and makes wait_guest fail at once, so that a
# stalled guest fails the scenario quickly, with its stacks.  Sets
# $watcher (kill it when the guest is done).
watch_guest() {
	rm -f $STALLED
	( n0=-1
	  t0=$(uptime_s)
	  while sleep 5; do
		n=$(grep -ac "$1" $GUEST_LOG 2>/dev/null)
		if [ "$n" != "$n0" ]; then
			n0=$n
			t0=$(uptime_s)
			continue
		fi
		[ $(( $(uptime_s) - t0 )) -ge "$2" ] || continue
		last=$(grep -a "$1" $GUEST_LOG 2>/dev/null | tail -n1 | tr -d '\r')
		why="no new line from the guest in $2 s; the last: ${last:-none}"
		dump_tasks "$why"
		echo "$why" > $STALLED
		break
	  done ) &
	watcher=$!
}

show_guest_log() {
	echo "  --- guest console ---"
	tr -d '\r' < $GUEST_LOG | sed 's/^/  | /'
	echo "  ---"
}

stat_of() { awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/vgpu/stats; }

# wait_released SECONDS WHAT STAT...: waits until each of vgpu-back's
# STATs (grants_mapped: the grants mapped for every guest) is 0, and
# fails the scenario with what is left after WHAT.  A guest's teardown
# runs on vgpu-back's workqueue and its contexts can outlive its objects
# by a running slice: every counter is waited for, not one.
wait_released() {
	local t=$1 what=$2 i=0 k v left
	shift 2
	while :; do
		left=
		for k in "$@"; do
			if [ "$k" = grants_mapped ]; then
				v=$(awk 'NR > 1 { s += $10 } END { print s + 0 }' /sys/kernel/debug/vgpu/xen)
			else
				v=$(stat_of "$k")
			fi
			[ "$v" = 0 ] || left="$left $k=$v"
		done
		[ -z "$left" ] && return 0
		[ $i -ge $((t * 5)) ] && fail "left $t s after $what:$left"
		sleep 0.2
		i=$((i + 1))
	done
}

# guest_pass PATTERN SECONDS: waits for the guest's PATTERN line, prints it
# and fails the scenario (with the guest's console) unless it says PASS.
guest_pass() {
	r=$(wait_guest "$1" "$2") || { show_guest_log; fail "$r"; }
	echo "  $r"
	case "$r" in *PASS*) ;; *) show_guest_log; fail "$r" ;; esac
}

# Unloads vgpu-sim and vgpu-back.  A guest's teardown runs on vgpu-back's
# workqueue after its device goes, and its client pins the engine until
# then: retry for up to 10 s.
unload_vgpu() {
	i=0
	while [ $i -lt 50 ]; do
		lsmod | grep -q '^vgpu_sim ' && rmmod vgpu-sim 2>/dev/null
		lsmod | grep -q '^vgpu_sim ' || rmmod vgpu-back 2>/dev/null
		lsmod | grep -q '^vgpu_' || return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
