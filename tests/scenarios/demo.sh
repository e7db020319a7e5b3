#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Scenario "demo" (make demo): the short version of "bench": the same
# workloads, smaller, on the three paths, interleaved and repeated.
N=demo
BENCH_QUICK=1
GUEST_SCENARIO=demo
. /opt/gpuvm/bench.sh
