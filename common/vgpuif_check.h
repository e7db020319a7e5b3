/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpuif_check.h - the backend's check of a vgpuif request's envelope
 * (vgpuif.c), apart from the protocol header, which holds no code.
 */
#ifndef VGPUIF_CHECK_H
#define VGPUIF_CHECK_H

#include "vgpuif.h"

int vgpuif_check_request(const struct vgpuif_request *req);
const char *vgpuif_op_name(unsigned int op);

#endif /* VGPUIF_CHECK_H */
