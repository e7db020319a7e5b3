// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_isa.c - the decoder's view of the instruction table: format,
 * modifier class and flags by opcode (see vgpu_isa_decode.h).
 */
#include "vgpu_compat.h"
#include "vgpu_isa_decode.h"

const __u32 vgpu_op_bits_table[256] = {
#define VGPU_OP(name, mnem, fmt, mod, flags)				\
	[VGPU_OP_##name] = VGPU_OP_BITS(VGPU_FMT_##fmt, VGPU_MOD_##mod, flags),
#include "vgpu_isa_ops.h"
#undef VGPU_OP
};
