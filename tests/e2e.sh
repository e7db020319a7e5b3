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
}
failed=()
why=()
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
		else
			failed+=("$s${k:+@$k}")
			why+=("$(failure_lines "$s" "$k")")
		fi
	done
done
for w in "${why[@]}"; do echo "$w"; done
echo "e2e: ${passed} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
