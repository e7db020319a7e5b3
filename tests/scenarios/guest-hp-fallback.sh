#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "hp", the guest's half against a backend without hp: the
# frontend asks for hp only where it is offered, so it connects in naive
# mode, says why, and everything works.
. /opt/gpuvm/guest-lib.sh

m=$(load_frontend) || { echo "GUEST fallback: FAIL $m"; exit 1; }
wait_node present 120 || { echo "GUEST fallback: FAIL no render node"; exit 1; }
r=PASS
dmesg | grep -q "naive mode: the backend does not offer hp" || r="FAIL no fallback message: $(dmesg | grep vgpu)"
for s in "vecadd 20000" "matmul 32"; do
	measure $s || r="FAIL $s"
done
vgpu-selftest inflight 20 || r="FAIL submissions"
echo "GUEST fallback: $r"
sleep 600	# dom0 checks the connection, then destroys this guest
