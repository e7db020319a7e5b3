/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * udma_fence.h - the part of dma_fence the core uses, for the fuzzer's
 * shim, with the kernel's reference and callback rules (a fence freed
 * with callbacks pending, or signalled twice, aborts).
 */
#ifndef VGPU_UDMA_FENCE_H
#define VGPU_UDMA_FENCE_H

struct dma_fence;
struct dma_fence_cb;
typedef void (*dma_fence_func_t)(struct dma_fence *f, struct dma_fence_cb *cb);

struct dma_fence_cb {
	struct list_head node;
	dma_fence_func_t func;
};

struct dma_fence_ops {
	const char *(*get_driver_name)(struct dma_fence *f);
	const char *(*get_timeline_name)(struct dma_fence *f);
	void (*release)(struct dma_fence *f);
};

struct dma_fence {
	spinlock_t *lock;
	const struct dma_fence_ops *ops;
	struct list_head cb_list;
	u64 context;
	u64 seqno;
	bool signaled;
	int error;
	struct kref refcount;
};

u64 dma_fence_context_alloc(unsigned int num);
void dma_fence_init(struct dma_fence *f, const struct dma_fence_ops *ops,
		    spinlock_t *lock, u64 context, u64 seqno);
struct dma_fence *dma_fence_get(struct dma_fence *f);
void dma_fence_put(struct dma_fence *f);
void dma_fence_free(struct dma_fence *f);
int dma_fence_signal(struct dma_fence *f);
void dma_fence_set_error(struct dma_fence *f, int error);
int dma_fence_get_status(struct dma_fence *f);
bool dma_fence_is_signaled(struct dma_fence *f);
int dma_fence_add_callback(struct dma_fence *f, struct dma_fence_cb *cb,
			   dma_fence_func_t func);
bool dma_fence_remove_callback(struct dma_fence *f, struct dma_fence_cb *cb);

#endif
