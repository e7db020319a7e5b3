// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * ukernel.c - the functions behind ukernel.h: a deterministic clock,
 * counted log lines, xarray growth and dma_fence.
 */
#include "ukernel.h"

unsigned long ukernel_log_lines;

void ukernel_warn(const char *file, int line)
{
	fprintf(stderr, "WARNING at %s:%d\n", file, line);
	abort();
}

void ukernel_printk(const char *fmt, ...)
{
	va_list ap;

	ukernel_log_lines++;
	if (!getenv("UKERNEL_LOG"))
		return;
	va_start(ap, fmt);
	if (!strcmp(fmt, "vgpu: client %s: %pV")) {
		/* vgpu_client_msg(): a name, then a nested format */
		const char *name = va_arg(ap, const char *);
		struct va_format *vaf = va_arg(ap, struct va_format *);
		va_list inner;

		fprintf(stderr, "vgpu: client %s: ", name);
		va_copy(inner, *vaf->va);
		vfprintf(stderr, vaf->fmt, inner);
		va_end(inner);
	} else {
		vfprintf(stderr, fmt, ap);
	}
	va_end(ap);
}

void *ukernel_vzalloc(size_t n)
{
	size_t size = (n + PAGE_SIZE - 1) & PAGE_MASK;
	void *p = size ? aligned_alloc(PAGE_SIZE, size) : NULL;

	if (p)
		memset(p, 0, size);
	return p;
}

static struct task_struct ukernel_task;

struct task_struct *ukernel_kthread_run(int (*fn)(void *), void *arg)
{
	(void)fn;
	(void)arg;
	return &ukernel_task;
}

bool ukernel_real_clock;

/*
 * Each look at the clock moves it 50 us: budgets run out,
 * deterministically.  The core in a process (tools/ucore) sets
 * ukernel_real_clock and gets CLOCK_MONOTONIC.
 */
u64 ktime_get_ns(void)
{
	static u64 now;
	struct timespec ts;

	if (!ukernel_real_clock)
		return now += 50000;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

int ukernel_xa_grow(struct xarray *xa, unsigned long need)
{
	unsigned long size = xa->size ? xa->size : 16;
	void **s;

	if (need <= xa->size)
		return 0;
	while (size < need)
		size *= 2;
	s = realloc(xa->slot, size * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s + xa->size, 0, (size - xa->size) * sizeof(*s));
	xa->slot = s;
	xa->size = size;
	return 0;
}

u64 dma_fence_context_alloc(unsigned int num)
{
	static u64 next = 1;
	u64 c = next;

	next += num;
	return c;
}

void dma_fence_init(struct dma_fence *f, const struct dma_fence_ops *ops,
		    spinlock_t *lock, u64 context, u64 seqno)
{
	f->ops = ops;
	f->lock = lock;
	f->context = context;
	f->seqno = seqno;
	f->signaled = false;
	f->error = 0;
	INIT_LIST_HEAD(&f->cb_list);
	kref_init(&f->refcount);
}

struct dma_fence *dma_fence_get(struct dma_fence *f)
{
	if (f)
		kref_get(&f->refcount);
	return f;
}

void dma_fence_free(struct dma_fence *f)
{
	free(f);
}

static void dma_fence_release(struct kref *ref)
{
	struct dma_fence *f = container_of(ref, struct dma_fence, refcount);

	if (!list_empty(&f->cb_list))
		abort();	/* freed with a callback armed */
	if (f->ops->release)
		f->ops->release(f);
	else
		dma_fence_free(f);
}

void dma_fence_put(struct dma_fence *f)
{
	if (f)
		kref_put(&f->refcount, dma_fence_release);
}

int dma_fence_signal(struct dma_fence *f)
{
	struct dma_fence_cb *cb, *tmp;
	struct list_head cbs;

	if (f->signaled)
		return -EINVAL;
	f->signaled = true;
	INIT_LIST_HEAD(&cbs);
	if (!list_empty(&f->cb_list)) {
		cbs = f->cb_list;
		cbs.next->prev = &cbs;
		cbs.prev->next = &cbs;
		INIT_LIST_HEAD(&f->cb_list);
	}
	list_for_each_entry_safe(cb, tmp, &cbs, node) {
		INIT_LIST_HEAD(&cb->node);
		cb->func(f, cb);
	}
	return 0;
}

void dma_fence_set_error(struct dma_fence *f, int error)
{
	if (f->signaled || error >= 0 || error < -MAX_ERRNO)
		abort();	/* the kernel WARNs on both */
	f->error = error;
}

int dma_fence_get_status(struct dma_fence *f)
{
	return f->signaled ? (f->error ? f->error : 1) : 0;
}

bool dma_fence_is_signaled(struct dma_fence *f)
{
	return f->signaled;
}

int dma_fence_add_callback(struct dma_fence *f, struct dma_fence_cb *cb,
			   dma_fence_func_t func)
{
	if (f->signaled) {
		INIT_LIST_HEAD(&cb->node);
		return -ENOENT;
	}
	cb->func = func;
	list_add_tail(&cb->node, &f->cb_list);
	return 0;
}

bool dma_fence_remove_callback(struct dma_fence *f, struct dma_fence_cb *cb)
{
	bool armed = !list_empty(&cb->node);

	if (armed)
		list_del_init(&cb->node);
	return armed;
}
