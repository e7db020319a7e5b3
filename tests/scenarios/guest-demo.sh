#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Scenario "demo", the guest's half: "bench" in its short version.
BENCH_QUICK=1
. /opt/gpuvm/guest-bench.sh
