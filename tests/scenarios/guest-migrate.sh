#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "migrate", the guest's half (see migrate.sh): vgpu-selftest
# keep (or keep-cold) runs until dom0 says stop; saves, restores and
# pre-copies come meanwhile.
. /opt/gpuvm/guest-lib.sh

m=$(load_frontend) || { echo "GUEST keep: FAIL $m"; exit 1; }
wait_node present 120 || { echo "GUEST keep: FAIL no render node"; exit 1; }
# gpuvm.role=MIB, or MIBc: keep-cold (a read-only buffer, for pre-copy)
role=$(sed -n 's/.*gpuvm\.role=\([0-9]*c\{0,1\}\).*/\1/p' /proc/cmdline)
test=keep
case "$role" in *c) test=keep-cold ;; esac
mib=${role%c}
vgpu-selftest $test ${mib:-4} > /tmp/keep.log 2>&1 &
pid=$!
tail -f /tmp/keep.log &
tailer=$!
# Until dom0 says stop, or the program ends on its own (an error).
( vgpu-bench wait-key data/stop yes 3000; touch /tmp/keep.stop ) &
wait $pid
rc=$?
sleep 1
kill $tailer
dmesg | grep -E "vgpu.*(suspend|resume):" | sed 's/^\[[^]]*\] //; s/^/GUEST pm: /'
[ $rc = 0 ] && echo "GUEST keep: PASS" || echo "GUEST keep: FAIL (status $rc)"
sleep 600
