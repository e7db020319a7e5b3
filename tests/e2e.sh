#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# e2e.sh SCENARIO...: prepares the test bed for each kernel series in
# $KERNELS ("default" is Debian's default kernel) and runs every scenario
# on it; fails if any fails.
set -uo pipefail
here=$(dirname "$0")
failed=()
passed=0
for k in ${KERNELS:-default}; do
	[ "$k" = default ] && k=
	if ! KSERIES=$k bash "$here/testbed/prepare.sh"; then
		failed+=("prepare${k:+-$k}")
		continue
	fi
	for s in "$@"; do
		if KSERIES=$k bash "$here/testbed/run.sh" "$s"; then
			passed=$((passed + 1))
		else
			failed+=("$s${k:+@$k}")
		fi
	done
done
echo "e2e: ${passed} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
