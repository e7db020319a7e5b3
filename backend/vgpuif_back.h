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
#include "../common/vgpuif_check.h"

struct dma_fence;
struct page;

/**
 * struct vgpuif_back_ops - what a transport does for the decoder
 * @bo_io: copy the guest page @io names into (@write) or out of @bo; the
 *	decoder has checked the range with vgpu_op_bo_host_range()
 * @wait: wait for a naive SUBMIT's job; return 0 when @fence signalled,
 *	-ECANCELED when the transport is going away
 * @copy_in: hp: copy @len (at most a page) octets from the start of the
 *	guest page @gref into @dst, without mapping it; -EFAULT for a bad
 *	grant
 * @map_pages: hp: map the @n guest pages @grefs for the life of an
 *	object; on success *@pages is the array of the mapped pages and
 *	*@mem what @granted_ops releases; -EDQUOT past the guest's
 *	persistent grant quota, -EFAULT for a bad grant (nothing stays
 *	mapped on error)
 * @granted_ops: releases what @map_pages mapped
 * @complete_later: hp: answer request @id once @fence has signalled,
 *	with @seqno; takes the reference to @fence; 0 or a negative errno
 *	(then the decoder answers at once)
 * @ring_gref: is @gref one of the grants of the connection's own shared
 *	ring?  Such a page is never a destination: a BO_READ into it, or
 *	an hp object made of it (which the GPU may write), is refused
 *	with -EINVAL.  NULL: the transport has no ring in guest pages.
 */
struct vgpuif_back_ops {
	int (*bo_io)(void *priv, struct vgpu_bo *bo,
		     const struct vgpuif_bo_io *io, bool write);
	int (*wait)(void *priv, struct dma_fence *fence);
	int (*copy_in)(void *priv, u32 gref, void *dst, u32 len);
	int (*map_pages)(void *priv, const u32 *grefs, u32 n,
			 struct page ***pages, void **mem);
	const struct vgpu_host_mem_ops *granted_ops;
	int (*complete_later)(void *priv, u64 id, struct dma_fence *fence,
			      u64 seqno);
	bool (*ring_gref)(void *priv, u32 gref);
};

/* vgpuif_back_handle(): the response comes later (complete_later). */
#define VGPUIF_BACK_LATER	1

int vgpuif_back_handle(struct vgpu_client *c, bool hp,
		       const struct vgpuif_back_ops *ops, void *priv,
		       const struct vgpuif_request *req,
		       struct vgpuif_response *rsp);

void vgpuif_back_async_response(u64 id, int err, u64 seqno,
				struct vgpuif_response *rsp);

#endif /* VGPUIF_BACK_H */
