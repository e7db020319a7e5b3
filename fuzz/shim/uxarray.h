/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * uxarray.h - the part of the kernel's xarray the core uses, for the
 * fuzzer's shim: a growable array indexed by id, allocating the lowest
 * free id as the kernel's allocating xarrays do.
 */
#ifndef VGPU_UXARRAY_H
#define VGPU_UXARRAY_H

struct xarray {
	void **slot;
	unsigned long size;
	unsigned int flags;
};

struct xa_limit {
	u32 min, max;
};

#define XA_FLAGS_ALLOC1 1U
#define XA_PRESENT 0
#define xa_limit_31b ((struct xa_limit){ 0, INT_MAX })
#define DEFINE_XARRAY(n) struct xarray n = { NULL, 0, 0 }

static inline void xa_init_flags(struct xarray *xa, unsigned int flags)
{
	xa->slot = NULL;
	xa->size = 0;
	xa->flags = flags;
}

static inline void xa_init(struct xarray *xa)
{
	xa_init_flags(xa, 0);
}

static inline void *xa_load(struct xarray *xa, unsigned long i)
{
	return i < xa->size ? xa->slot[i] : NULL;
}

static inline void xa_destroy(struct xarray *xa)
{
	free(xa->slot);
	xa->slot = NULL;
	xa->size = 0;
}

static inline int xa_err(void *e)
{
	return (int)(long)e;
}

int ukernel_xa_grow(struct xarray *xa, unsigned long need);

static inline void *xa_store(struct xarray *xa, unsigned long i, void *p,
			     int gfp)
{
	void *old;

	if (ukernel_xa_grow(xa, i + 1))
		return (void *)(long)-ENOMEM;
	old = xa->slot[i];
	xa->slot[i] = p;
	return old;
}

static inline void *xa_erase(struct xarray *xa, unsigned long i)
{
	void *old = xa_load(xa, i);

	if (old)
		xa->slot[i] = NULL;
	return old;
}

static inline int xa_alloc(struct xarray *xa, u32 *id, void *p,
			   struct xa_limit lim, int gfp)
{
	unsigned long i = lim.min;

	if ((xa->flags & XA_FLAGS_ALLOC1) && i < 1)
		i = 1;
	for (; i <= lim.max; i++) {
		if (i < xa->size && xa->slot[i])
			continue;
		if (ukernel_xa_grow(xa, i + 1))
			return -ENOMEM;
		xa->slot[i] = p;
		*id = (u32)i;
		return 0;
	}
	return -EBUSY;
}

static inline void *xa_find(struct xarray *xa, unsigned long *i,
			    unsigned long max, int filter)
{
	for (; *i < xa->size && *i <= max; (*i)++)
		if (xa->slot[*i])
			return xa->slot[*i];
	return NULL;
}

#define xa_for_each(xa, i, e)						\
	for (i = 0; (e = xa_find(xa, &i, ULONG_MAX, XA_PRESENT)); i++)

#endif
