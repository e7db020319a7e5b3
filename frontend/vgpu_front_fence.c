// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_front_fence.c - the fences of submissions: naive mode's, signalled
 * when created (the submission has run), and hp mode's, one timeline per
 * context, signalled by the response (vgpu_front_ring.c).
 */
#include <linux/dma-fence.h>
#include <linux/slab.h>

#include "vgpu_front.h"

/* Completion fences of naive submissions, signalled when created. */
static DEFINE_SPINLOCK(vgpu_front_fence_lock);
static atomic64_t vgpu_front_fence_seqno;
static u64 vgpu_front_fence_ctx;

static const char *vgpu_front_fence_name(struct dma_fence *f)
{
	return "vgpu-front";
}

static const struct dma_fence_ops vgpu_front_fence_ops = {
	.get_driver_name = vgpu_front_fence_name,
	.get_timeline_name = vgpu_front_fence_name,
};

/* Called once, at module load, before any render node exists. */
void vgpu_front_fences_init(void)
{
	vgpu_front_fence_ctx = dma_fence_context_alloc(1);
}

/**
 * vgpu_front_done_fence() - a fence signalled now
 * @err: its error, or 0
 *
 * Return: the fence (a reference), or NULL without memory.
 */
struct dma_fence *vgpu_front_done_fence(int err)
{
	struct dma_fence *fence = kzalloc(sizeof(*fence), GFP_KERNEL);

	if (!fence)
		return NULL;
	dma_fence_init(fence, &vgpu_front_fence_ops, &vgpu_front_fence_lock,
		       vgpu_front_fence_ctx,
		       atomic64_inc_return(&vgpu_front_fence_seqno));
	if (err)
		dma_fence_set_error(fence, err);
	dma_fence_signal(fence);
	return fence;
}

/**
 * vgpu_front_ctx_fence() - the fence of a new submission of @ctx
 * @ff: the file, whose lock numbers the submissions
 * @ctx: the context, on whose timeline it is
 * @seqno: out, the submission's number
 *
 * Return: the fence (a reference), or ERR_PTR(-ENOMEM).
 */
struct dma_fence *vgpu_front_ctx_fence(struct vgpu_front_file *ff,
				       struct vgpu_front_ctx *ctx, u64 *seqno)
{
	struct dma_fence *fence = kzalloc(sizeof(*fence), GFP_KERNEL);

	if (!fence)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&ff->lock);
	*seqno = ++ctx->seqno;
	dma_fence_init(fence, &vgpu_front_fence_ops, &vgpu_front_fence_lock,
		       ctx->fence_ctx, *seqno);
	mutex_unlock(&ff->lock);
	return fence;
}

/**
 * vgpu_front_gpu_error() - does a response's status come from the GPU?
 * @status: the status
 *
 * Return: true for a fault, a hang or a cancellation, which a fence
 * carries (the call itself succeeded).
 */
bool vgpu_front_gpu_error(int status)
{
	return status == -EFAULT || status == -ETIMEDOUT ||
	       status == -ECANCELED;
}
