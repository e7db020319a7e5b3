// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The shared checks, built into vgpu-front as well: Kbuild must not put
 * one object file into two modules (see Kbuild).
 */
#include "../common/vgpu_uapi.c"
#include "../common/vgpuif.c"
