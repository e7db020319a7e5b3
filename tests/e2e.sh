#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# e2e.sh SCENARIO...: prepares the test bed for each kernel series in
# $KERNELS ("default" is Debian's default kernel) and runs every scenario
# on it; fails if any fails.  SCENARIO@SERIES runs on that series only.
set -uo pipefail
here=$(dirname "$0")
build=${BUILD:-$(cd "$here/.." && pwd)/build}

# failure_lines SCENARIO KSERIES: the lines of a failed run's console
# that say why (CI keeps only the end of the output: they are repeated
# there).
failure_lines() {
	local log=$build/testbed${2:+-$2}/console-$1.log
	echo "--- $1${2:+@$2}: $log"
	grep -aE "FAIL|GUEST HUNG|blocked for more|BUG|WARNING|Oops|timed out" "$log" 2>/dev/null |
		grep -v '^(XEN)' | tail -n 12
	# A kernel oops: the first 50 lines of the first report (where, the
	# modules loaded, the call trace), which say whose code failed.
	grep -aqE "Oops|BUG:|general protection" "$log" 2>/dev/null || return 0
	echo "--- the first kernel report in $log:"
	grep -av '^(XEN)' "$log" |
		awk '/Oops|BUG:|general protection/ && !n { n = 1 } n && n++ <= 50'
}
# foreign_crash SCENARIO KSERIES: true when the run gave no result
# because dom0's kernel crashed outside GPUvm: the console has no "E2E"
# result line, and dom0's first kernel report (its lines with the
# kernel's timestamp: a guest's come prefixed) has a "Modules linked in:"
# line and names no vgpu module anywhere in its first 50 lines.  A crash
# of Debian's kernel, Xen or QEMU's emulation: such a run is retried once,
# and said so.
foreign_crash() {
	local log=$build/testbed${2:+-$2}/console-$1.log report
	grep -aqE "^E2E $1: (PASS|FAIL)" "$log" 2>/dev/null && return 1
	report=$(grep -aE '^\[ *[0-9]+\.[0-9]+\] ' "$log" 2>/dev/null |
		awk '/Oops|BUG:|general protection/ && !n { n = 1 } n && n++ <= 50')
	echo "$report" | grep -q "Modules linked in:" && ! echo "$report" | grep -qi vgpu
}
failed=()
why=()
retried=()
passed=0
for k in ${KERNELS:-default}; do
	[ "$k" = default ] && k=
	if ! KSERIES=$k bash "$here/testbed/prepare.sh"; then
		failed+=("prepare${k:+-$k}")
		continue
	fi
	for s in "$@"; do
		case "$s" in
		*@*)
			[ "${s#*@}" = "${k:-default}" ] || continue
			s=${s%@*}
			;;
		esac
		if KSERIES=$k bash "$here/testbed/run.sh" "$s"; then
			passed=$((passed + 1))
		elif foreign_crash "$s" "$k" && {
			retried+=("$(failure_lines "$s" "$k")")
			log=$build/testbed${k:+-$k}/console-$s.log
			cp "$log" "${log%.log}.crashed.log"
			echo "e2e: $s${k:+@$k}: dom0's kernel crashed outside GPUvm (console kept in ${log%.log}.crashed.log); running it again"
			KSERIES=$k bash "$here/testbed/run.sh" "$s"
		}; then
			passed=$((passed + 1))
		else
			failed+=("$s${k:+@$k}")
			why+=("$(failure_lines "$s" "$k")")
		fi
	done
done
for w in "${retried[@]}"; do echo "e2e: retried after a crash outside GPUvm:"; echo "$w"; done
for w in "${why[@]}"; do echo "$w"; done
echo "e2e: ${passed} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}, ${#retried[@]} retried after a crash outside GPUvm"
[ ${#failed[@]} -eq 0 ]
