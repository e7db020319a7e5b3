#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# e2e.sh SCENARIO...: runs each scenario on the test bed; fails if any fails.
set -uo pipefail
here=$(dirname "$0")
failed=()
passed=0
for s in "$@"; do
	if bash "$here/testbed/run.sh" "$s"; then
		passed=$((passed + 1))
	else
		failed+=("$s")
	fi
done
echo "e2e: ${passed} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
