// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_isa.c - the decoder's view of the instruction table: format,
 * modifier class, flags and the immediate bits allowed, by opcode (see
 * vgpu_isa_decode.h).
 */
#include "vgpu_compat.h"
#include "vgpu_isa_decode.h"

const struct vgpu_op_desc vgpu_op_descs[256] = {
#define VGPU_OP(name, mnem, fmt, mod, flags)				\
	[VGPU_OP_##name] = {						\
		VGPU_OP_BITS(VGPU_FMT_##fmt, VGPU_MOD_##mod, flags),	\
		VGPU_IMM_OK(VGPU_FMT_##fmt, VGPU_MOD_##mod),		\
		VGPU_LO_OK(VGPU_FMT_##fmt)				\
	},
#include "vgpu_isa_ops.h"
#undef VGPU_OP
};
