#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "hostile": a test-only frontend (tests/hostile) sends crafted
# requests; each must get the documented answer, the ring overflow the
# documented disconnect, dom0 must stay up, and an honest client (dom0's
# own programs) must keep computing correct results throughout.
N=hostile
. /opt/gpuvm/lib.sh

start_xen || fail "starting Xen's toolstack"
modprobe vgpu-sim || fail "modprobe vgpu-sim"

# The honest client: vecadd, checked against the CPU, over and over.
rm -f /tmp/stop-honest
( while [ ! -e /tmp/stop-honest ]; do
	vecadd 20000 || echo "honest client: FAILED"
  done ) > /tmp/honest.log 2>&1 &
honest=$!

start_guest hostile || fail "xl create"
vgpuctl attach guest --mode naive || fail "vgpuctl attach"
r=$(wait_guest "GUEST HOSTILE summary" 600) || { show_guest_log; fail "$r"; }
grep -a "^GUEST HOSTILE" $GUEST_LOG | tr -d '\r' | sed 's/^GUEST /  /'
echo "  backend counters for the hostile guest:"
vgpuctl stats guest | sed 's/^/  /'

touch /tmp/stop-honest
wait $honest
good=$(grep -c "vecadd: .*PASS" /tmp/honest.log)
bad=$(grep -c "FAIL" /tmp/honest.log)
echo "  honest client meanwhile: $good correct runs, $bad failed"

tried=$(echo "$r" | sed -n 's/.*tried \([0-9]*\),.*/\1/p')
ok=$(echo "$r" | sed -n 's/.*documented \([0-9]*\).*/\1/p')
[ -n "$tried" ] && [ "$tried" -ge 20 ] || fail "too few cases tried: $r"
[ "$tried" = "$ok" ] || fail "$((tried - ok)) of $tried cases were not answered as documented"
[ "$good" -ge 1 ] && [ "$bad" = 0 ] || fail "the honest client failed ($bad) or never ran ($good)"

$XL destroy guest || fail "xl destroy"
i=0
while [ $i -lt 100 ] && [ "$(stat_of objects)" != 0 ]; do sleep 0.2; i=$((i + 1)); done
for k in objects contexts mappings; do
	[ "$(stat_of $k)" = 0 ] || fail "$k left after the hostile guest: $(stat_of $k)"
done
vecadd 20000 || fail "dom0's programs after the attack"
rmmod vgpu-sim vgpu-back || fail "rmmod"
dmesg | grep -E "BUG|WARNING|Oops|general protection" && fail "kernel warnings in dom0"
echo "  dom0 stayed up: $tried bad-input cases tried, $ok answered as documented"
echo "E2E $N: PASS"
