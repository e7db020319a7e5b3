#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "migrate", dom0's half: a guest whose program keeps device
# memory (vgpu-selftest keep: a pattern, fills and launches, each
# checked, the whole buffer read back every 20 s) is saved and restored
# (xl save / xl restore) and live-migrated (xl migrate) several times
# while it runs, in hp and naive mode, with a few MiB and with 256 MiB of
# device memory; `vgpuctl watch` gives the restored domain (a new id) its
# vGPU again.  The program must
# see pauses only: its final check reads every word back.  Then a restore
# onto a backend whose quota cannot hold the guest's device memory: the
# guest's program gets a clear ENODEV and dom0 keeps nothing of it.
# "MIGRATE" lines give each cycle's xl save and xl restore as dom0 sees
# them, then the guest's own times: the vGPU's part of the save, and of
# the restore (after xl restore returns, while the programs wait), and
# the pauses the program saw, on CLOCK_BOOTTIME (which counts the time
# the domain was stopped).
#
# A checkpoint (xl save -c) leaves the guest running where it was: its
# program goes on, on the same vGPU.
#
# The same guests are also live-migrated to this host (xl migrate GUEST
# "xl migrate-receive", the receiver run here): hp and naive with 4 MiB,
# hp with 256 MiB, once pre-copied.  Each guest goes through its cycles
# of every kind in turn (a guest's start is a third of the scenario's
# time).  That needs log-dirty paging, which
# Xen offers a PV guest only with shadow paging: the test bed boots a
# Debian Xen with it for this scenario (testbed/xen-shadow.sh).
# While the new domain restores, the old one may still hold its device
# memory: vgpu-sim gets room for both.
N=migrate
. /opt/gpuvm/lib.sh

SAVE=/save/guest.chk

# watch_config MODE QUOTA_MB: what `vgpuctl watch` attaches the guest with.
watch_config() {
	echo "guest --mode $1 --quota-devmem-mb $2" > /etc/gpuvm/vgpu.conf
}

# keep_rounds: the guest program's last round number.
keep_rounds() {
	grep -a "^keep: round" $GUEST_LOG | tail -n1 | tr -d '\r' | sed 's/keep: round \([0-9]*\).*/\1/'
}

# wait_rounds SECONDS: waits until the program reports a round past the
# one it reported when called.
wait_rounds() {
	r0=$(keep_rounds)
	i=0
	while [ $i -lt $(($1 * 5)) ]; do
		r=$(keep_rounds)
		[ -n "$r" ] && [ "$r" != "$r0" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# save_restore WHAT [SECONDS]: xl save, then xl restore SECONDS later
# (default at once); fails the scenario with xl's output.
save_restore() {
	timeout 300 $XL save guest $SAVE >/tmp/xl-save.log 2>&1 || { cat /tmp/xl-save.log; fail "xl save ($1)"; }
	[ -z "${2:-}" ] || sleep "$2"
	timeout 300 $XL restore $SAVE >/tmp/xl-restore.log 2>&1 || { cat /tmp/xl-restore.log; fail "xl restore ($1)"; }
}

# program_lost MESSAGE WHAT: the guest's program must end with ENODEV and
# the guest's log say MESSAGE.
program_lost() {
	r=$(wait_guest "GUEST keep: " 300) || { show_guest_log; fail "$r"; }
	case "$r" in *FAIL*) ;; *) show_guest_log; fail "the program passed ($2)" ;; esac
	grep -aq "No such device" $GUEST_LOG && grep -aq "$1" $GUEST_LOG ||
		{ show_guest_log; fail "no clear ENODEV and message ($2)"; }
}

now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# precopy_first MODE MIB: vgpuctl precopy before a save; its first round
# must find the whole read-only buffer quiet and copy it.
precopy_first() {
	timeout 900 vgpuctl precopy guest --timeout 600 >/tmp/precopy.log 2>&1 ||
		{ cat /tmp/precopy.log; show_guest_log; fail "vgpuctl precopy ($1, $2 MiB)"; }
	sed "s/^/MIGRATE $1 ${2}MiB /" /tmp/precopy.log
	clean=$(sed -n 's/.*round 1: .* \([0-9]*\) KiB clean.*/\1/p' /tmp/precopy.log)
	[ "${clean:-0}" -ge $(($2 * 1024)) ] ||
		{ cat /tmp/precopy.log; fail "the first pre-copy round left the read-only buffer unclean ($1, $2 MiB)"; }
}

# check_kept MODE MIB EXPECT: the guest's "suspend: saved" lines, one per
# cycle (a save, a checkpoint and a migration each suspend once), in
# order: EXPECT is a word per cycle, "pre" (the read-only buffer
# was not copied again) or "all" (nothing was copied before: a restore or
# a drop dropped the copies).  Whether the fills made after a pre-copy
# were copied at the stop is the program's own check (every word at the
# end): a save that kept a stale copy of the 64 KiB it fills fails it.
# How much the stop copied is printed, not judged: the program may not
# have filled anything between the last round and the stop (its full
# read-back every 20 s fills nothing).
check_kept() {
	n=0
	grep -a "^GUEST pm: .*suspend: saved" $GUEST_LOG | tr -d '\r' |
		sed 's/.* objects, \([0-9]*\) KiB, .*(\([0-9]*\) KiB of them copied before.*/\1 \2/' > /tmp/kept
	for want in $3; do
		n=$((n + 1))
		line=$(sed -n "${n}p" /tmp/kept)
		total=${line% *} kept=${line#* }
		case "$want" in
		pre) [ "${kept:-0}" -ge $(($2 * 1024)) ] ||
			fail "cycle $n copied the pre-copied buffer again ($1, $2 MiB: ${kept:-?} KiB kept)"
		     echo "  cycle $n ($1, $2 MiB, pre-copied): $((total - kept)) KiB copied at the stop" ;;
		all) [ "${kept:-x}" = 0 ] || fail "cycle $n used copies it should not have ($1, $2 MiB: ${kept:-?} KiB kept)" ;;
		esac
	done
}

# live_migrate MODE MIB: xl migrate to this host: the receiving xl runs
# here (-s ""), the domain is copied while it runs, then suspended, and
# resumes as a new domain; the old one is destroyed.
# xenconsoled names a domain's log after the domain's name when the
# domain comes: the new one is "guest--incoming" until the migration
# ends.  Its log is made a link to $GUEST_LOG (xenconsoled appends,
# following it), so that the guest's whole console stays in one file.
live_migrate() {
	ln -sf guest-guest.log /var/log/xen/console/guest-guest--incoming.log || fail "ln"
	timeout 300 $XL migrate -s "" guest "$XL migrate-receive" >/tmp/xl-migrate.log 2>&1 ||
		{ cat /tmp/xl-migrate.log; dump_tasks "xl migrate"; fail "xl migrate ($1, $2 MiB)"; }
	grep -q "^Migration successful" /tmp/xl-migrate.log ||
		{ cat /tmp/xl-migrate.log; fail "xl migrate said no success ($1, $2 MiB)"; }
}

# cycles MODE MIB KIND...: a guest keeps MIB MiB while, once per KIND in
# order, it is saved and restored (save), checkpointed (ckpt: xl save -c,
# the guest goes on where it was) or live-migrated (live); then its
# program checks every word.  One guest for all of them: each KIND is a
# cycle of the same program, as a host's owner would do them in turn.
# MIB ending in "c": keep-cold, and with PRECOPY=K every K-th cycle comes
# after a vgpuctl precopy (the one before the first cycle is dropped
# again, and that cycle must copy everything; a cycle after a restore
# must too: the restore dropped the copies).
cycles() {
	mode=$1 mib=${2%c} label=$2 expect=
	shift 2
	watch_config "$mode" $((mib + 16))
	: > $GUEST_LOG
	GUEST_MEMORY=$((mib + 320)) start_named_guest guest migrate "$label" || fail "xl create ($mode, $mib MiB)"
	r=$(wait_guest "keep: started" 600) || { show_guest_log; fail "$r"; }
	echo "  $mode, $label MiB: the program started in domain $($XL domid guest)"
	c=0
	for kind; do
		case "$kind" in
		save) tag=$mode ;;
		ckpt) tag=$mode-checkpoint ;;
		live) tag=$mode-live ;;
		*) fail "cycles: no cycle kind '$kind'" ;;
		esac
		wait_rounds 300 || { show_guest_log; fail "no round before cycle $((c + 1)) ($tag, $mib MiB)"; }
		pre=
		if [ -n "${PRECOPY:-}" ] && [ $(((c + 1) % PRECOPY)) = 0 ]; then
			precopy_first "$tag" "$mib"
			pre=" (pre-copied)"
			expect="$expect pre"
		elif [ -n "${PRECOPY:-}" ] && [ $c = 0 ]; then
			precopy_first "$tag" "$mib"
			vgpuctl precopy guest --drop >/tmp/precopy.log 2>&1 ||
				{ cat /tmp/precopy.log; fail "vgpuctl precopy --drop ($tag, $mib MiB)"; }
			grep -q "pre-copy dropped" /tmp/precopy.log || { cat /tmp/precopy.log; fail "no drop"; }
			expect="$expect all"
		elif [ -n "${PRECOPY:-}" ]; then
			expect="$expect all"	# the restore before dropped them
		else
			expect="$expect -"
		fi
		before=$(keep_rounds)	# the program's pause comes after this round
		t0=$(now_ms)
		case "$kind" in
		live)
			live_migrate "$mode" "$mib"
			t1=$(now_ms)
			;;
		ckpt)
			timeout 300 $XL save -c guest $SAVE >/tmp/xl-save.log 2>&1 ||
				{ cat /tmp/xl-save.log; dump_tasks "xl save -c"; fail "xl save -c ($mode, $mib MiB)"; }
			t1=$(now_ms)
			rm -f $SAVE
			;;
		save)
			timeout 300 $XL save guest $SAVE >/tmp/xl-save.log 2>&1 ||
				{ cat /tmp/xl-save.log; dump_tasks "xl save"; fail "xl save ($mode, $mib MiB)"; }
			t1=$(now_ms)
			timeout 300 $XL restore $SAVE >/tmp/xl-restore.log 2>&1 ||
				{ cat /tmp/xl-restore.log; dump_tasks "xl restore"; fail "xl restore ($mode, $mib MiB)"; }
			t2=$(now_ms)
			rm -f $SAVE
			;;
		esac
		wait_rounds 300 || { show_guest_log; fail "the program made no progress after cycle $((c + 1)) ($tag, $mib MiB)"; }
		c=$((c + 1))
		case "$kind" in
		live) echo "MIGRATE $tag ${mib}MiB cycle $c$pre: xl migrate $((t1 - t0)) ms, after round $before" ;;
		ckpt) echo "MIGRATE $tag ${mib}MiB cycle $c$pre: xl save -c $((t1 - t0)) ms, after round $before" ;;
		save) echo "MIGRATE $tag ${mib}MiB cycle $c$pre: xl save $((t1 - t0)) ms, xl restore $((t2 - t1)) ms, after round $before" ;;
		esac
	done
	xenstore-write /local/domain/$($XL domid guest)/data/stop yes || fail "xenstore-write"
	guest_pass "GUEST keep: " 600
	grep -a "^GUEST pm:" $GUEST_LOG | tr -d '\r' | sed "s/^GUEST pm: /MIGRATE $mode ${mib}MiB guest: /"
	grep -a "^keep: paused" $GUEST_LOG | tr -d '\r' | sed "s/^/MIGRATE $mode ${mib}MiB program: /"
	check_kept "$mode" "$mib" "$expect"
	$XL destroy guest
	wait_released 20 "destroying the guest ($mode, $mib MiB)" objects contexts mappings device_bytes host_bytes grants_mapped
}

start_xen || fail "starting xenstored, xenconsoled"
modprobe vgpu-sim watchdog_ms=1000 vram_mb=600 || fail "modprobe vgpu-sim"
mkdir -p /save /etc/gpuvm
mount -t tmpfs -o size=1g tmpfs /save || fail "tmpfs for the saved guest"
watch_config hp 16
vgpuctl watch > /tmp/watch.log 2>&1 &
watcher=$!

# refused MIB: the guest is saved with MIB MiB of device memory and
# restored where its quota is 16 MiB: its program gets ENODEV, the guest's
# log says why, and dom0 keeps nothing of it.
refused() {
	mib=$1
	watch_config hp $((mib + 16))
	: > $GUEST_LOG
	GUEST_MEMORY=$((mib + 320)) start_named_guest guest migrate "$mib" || fail "xl create (refused)"
	r=$(wait_guest "keep: started" 600) || { show_guest_log; fail "$r"; }
	wait_rounds 300 || { show_guest_log; fail "no round before the save (refused)"; }
	# The new quota before the restore: vgpuctl watch reads the file
	# again once a second.
	watch_config hp 16
	save_restore refused 3
	rm -f $SAVE
	program_lost "could not be restored on domain 0" "a vGPU too small for it"
	grep -a "could not be restored" $GUEST_LOG | tr -d '\r' | sed 's/^/  refused: /'
	$XL destroy guest
	wait_released 20 "destroying the refused guest" objects contexts mappings device_bytes host_bytes grants_mapped
	echo "  a restore onto a 16 MiB quota of a guest holding $mib MiB: refused with ENODEV, nothing left in dom0"
}

# late: the restored domain gets its vGPU only seconds later (no
# watcher: by hand); the program waits meanwhile and goes on.  Then a
# restore that gets no vGPU at all: after the guest's resume_timeout_s
# the program gets ENODEV and the guest's log says why.
late() {
	kill $watcher
	watch_config hp 20
	: > $GUEST_LOG
	GUEST_EXTRA="vgpu_front.resume_timeout_s=15" start_named_guest guest migrate 4 || fail "xl create (late)"
	vgpuctl attach guest --quota-devmem-mb 20 >/dev/null || fail "vgpuctl attach (late)"
	r=$(wait_guest "keep: started" 600) || { show_guest_log; fail "$r"; }
	wait_rounds 300 || { show_guest_log; fail "no round before the save (late)"; }
	save_restore late
	r0=$(keep_rounds)
	sleep 5
	[ "$(keep_rounds)" = "$r0" ] || { show_guest_log; fail "the program ran on with no vGPU (late)"; }
	vgpuctl attach guest --quota-devmem-mb 20 >/dev/null || fail "vgpuctl attach after the restore (late)"
	wait_rounds 300 || { show_guest_log; fail "the program made no progress once the vGPU came (late)"; }
	echo "  late: the program waited for the vGPU attached 5 s after the restore, then went on"
	save_restore "give up"
	rm -f $SAVE
	program_lost "no vGPU within 15 s of the restore" "no vGPU came"
	echo "  given up: no vGPU within 15 s of the restore, the program got ENODEV"
	$XL destroy guest
	wait_released 20 "destroying the guest (late)" objects contexts mappings device_bytes host_bytes grants_mapped
	vgpuctl watch > /tmp/watch.log 2>&1 &
	watcher=$!
}

cycles hp 4 save save ckpt ckpt live live
late
PRECOPY=2 cycles naive 4c save save live
PRECOPY=2 cycles hp 256c save save live live
refused 64

kill $watcher
sed 's/^/  /' /tmp/watch.log
unload_vgpu || fail "rmmod vgpu-sim vgpu-back"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dom0"
echo "E2E $N: PASS"
