/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * fuzz.h - the userspace fuzzer of vgpu-back's request checks and
 * dispatcher (see Documentation/testing.rst).
 */
#ifndef VGPU_FUZZ_H
#define VGPU_FUZZ_H

#include <linux/types.h>

/* Steps per slice, and work units a command may use (the watchdog). */
#define FUZZ_SLICE_STEPS	4
#define FUZZ_WATCHDOG_UNITS	16384

extern struct vgpu_engine fuzz_engine;
extern u64 fuzz_engine_mem_used;
extern u64 fuzz_units;

#endif
