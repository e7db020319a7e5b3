/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpuif_back.h - the backend half of the vgpuif protocol that needs no
 * Xen: decoding a request copied off the ring into the core's
 * vgpu_op_*() calls, and the response.  The ring server (vgpu_xen_ring.c)
 * supplies what only it can do, moving a guest page and waiting for a
 * job; the fuzzer supplies its own, so it runs this very decoder.
 */
#ifndef VGPUIF_BACK_H
#define VGPUIF_BACK_H

#include "vgpu_core.h"
#include "../common/vgpuif.h"

struct dma_fence;

/**
 * struct vgpuif_back_ops - what a transport does for the decoder
 * @bo_io: copy the guest page @io names into (@write) or out of @bo; the
 *	decoder has checked the range with vgpu_op_bo_host_range()
 * @wait: wait for a naive SUBMIT's job; return 0 when @fence signalled,
 *	-ECANCELED when the transport is going away
 */
struct vgpuif_back_ops {
	int (*bo_io)(void *priv, struct vgpu_bo *bo,
		     const struct vgpuif_bo_io *io, bool write);
	int (*wait)(void *priv, struct dma_fence *fence);
};

int vgpuif_back_handle(struct vgpu_client *c,
		       const struct vgpuif_back_ops *ops, void *priv,
		       const struct vgpuif_request *req,
		       struct vgpuif_response *rsp);

#endif /* VGPUIF_BACK_H */
