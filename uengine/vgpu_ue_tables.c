// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue_tables.c - what the engine process's page tables of a context
 * take, for vgpu_engine_ops.ctx_table_bytes: the core charges them to
 * the client's host-memory quota, as it does vgpu-sim's.
 *
 * vgpu-engined's tables have the interpreter's layout (common/vgpu_pt.h:
 * 10 + 9 + 9 bits of 4 KiB pages): a level-1 table per 1 GiB region with
 * a page mapped, a level-2 table per 2 MiB region with a page mapped.
 * The module counts them with vgpu-sim's sizes (VGPU_PT_L1_BYTES,
 * VGPU_PT_L2_BYTES), so a client pays the same whichever engine runs its
 * work.  Each 2 MiB region remembers which of its pages are mapped, so
 * that an unmap of a page not mapped (or a map of one mapped twice)
 * cannot make the count drift.
 */
#include <linux/bitmap.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "../common/vgpu_compat.h"
#include "../common/vgpu_pt.h"
#include "vgpu_ue.h"

#define VGPU_UE_L2_SHIFT	(VGPU_PAGE_SHIFT + VGPU_PT_L2_BITS)

/* One 2 MiB region: its mapped pages. */
struct vgpu_ue_l2 {
	DECLARE_BITMAP(mapped, VGPU_PT_L2_ENTRIES);
	unsigned int n;
};

void vgpu_ue_tables_init(struct vgpu_ue_tables *t)
{
	xa_init(&t->l2);
	xa_init(&t->l1);
	t->bytes = 0;
}

void vgpu_ue_tables_fini(struct vgpu_ue_tables *t)
{
	struct vgpu_ue_l2 *r;
	unsigned long i;

	xa_for_each(&t->l2, i, r)
		kfree(r);
	xa_destroy(&t->l2);
	xa_destroy(&t->l1);
	t->bytes = 0;
}

/* Adds @d (+1 or -1) to the 2 MiB regions of 1 GiB region @i1. */
static int vgpu_ue_l1_add(struct vgpu_ue_tables *t, unsigned long i1, long d)
{
	unsigned long n = xa_to_value(xa_load(&t->l1, i1)) + d;
	int ret = 0;

	if (!n)
		xa_erase(&t->l1, i1);
	else
		ret = xa_err(xa_store(&t->l1, i1, xa_mk_value(n),
				      VGPU_GFP_CLIENT));
	if (ret)
		return ret;
	if (n == 1 && d > 0)
		t->bytes += VGPU_PT_L1_BYTES;
	else if (!n)
		t->bytes -= VGPU_PT_L1_BYTES;
	return 0;
}

/* Unmaps pages [@lo, @hi) of the 2 MiB region @i2; frees it when empty. */
static void vgpu_ue_l2_clear(struct vgpu_ue_tables *t, unsigned long i2,
			     struct vgpu_ue_l2 *r, unsigned int lo,
			     unsigned int hi)
{
	unsigned int k;

	for (k = lo; k < hi; k++)
		if (__test_and_clear_bit(k, r->mapped))
			r->n--;
	if (r->n)
		return;
	xa_erase(&t->l2, i2);
	kfree(r);
	t->bytes -= VGPU_PT_L2_BYTES;
	/* Only shrinks the value or erases it: cannot fail. */
	vgpu_ue_l1_add(t, i2 >> VGPU_PT_L1_BITS, -1);
}

/*
 * Maps pages [@lo, @hi) of the 2 MiB region @i2, which it creates (and
 * counts in its 1 GiB region) if needed.
 */
static int vgpu_ue_l2_set(struct vgpu_ue_tables *t, unsigned long i2,
			  unsigned int lo, unsigned int hi)
{
	struct vgpu_ue_l2 *r = xa_load(&t->l2, i2);
	unsigned int k;
	int ret;

	if (!r) {
		r = kzalloc(sizeof(*r), VGPU_GFP_CLIENT);
		if (!r)
			return -ENOMEM;
		ret = xa_err(xa_store(&t->l2, i2, r, VGPU_GFP_CLIENT));
		if (!ret) {
			ret = vgpu_ue_l1_add(t, i2 >> VGPU_PT_L1_BITS, 1);
			if (ret)
				xa_erase(&t->l2, i2);
		}
		if (ret) {
			kfree(r);
			return ret;
		}
		t->bytes += VGPU_PT_L2_BYTES;
	}
	for (k = lo; k < hi; k++)
		if (!__test_and_set_bit(k, r->mapped))
			r->n++;
	return 0;
}

/**
 * vgpu_ue_tables_map() - pages [@va, @va + @size) are mapped
 * @t: the context's tables
 * @va: GPU address, page aligned
 * @size: bytes, page aligned, the range within VGPU_VA_SIZE; the core
 *	maps no page twice
 *
 * Return: 0, -EINVAL (a range outside the address space), or -ENOMEM:
 * then nothing changed.
 */
int vgpu_ue_tables_map(struct vgpu_ue_tables *t, u64 va, u64 size)
{
	u64 a, next, end = va + size;
	unsigned int lo;
	int ret;

	if (!size || (va | size) & VGPU_PAGE_MASK || va >= VGPU_VA_SIZE ||
	    size > VGPU_VA_SIZE - va)
		return -EINVAL;
	for (a = va; a < end; a = next) {
		next = min(end, (a | (BIT_ULL(VGPU_UE_L2_SHIFT) - 1)) + 1);
		lo = (a >> VGPU_PAGE_SHIFT) & (VGPU_PT_L2_ENTRIES - 1);
		ret = vgpu_ue_l2_set(t, a >> VGPU_UE_L2_SHIFT, lo,
				     lo + ((next - a) >> VGPU_PAGE_SHIFT));
		if (ret) {
			vgpu_ue_tables_unmap(t, va, a - va);
			return ret;
		}
	}
	return 0;
}

/**
 * vgpu_ue_tables_unmap() - pages [@va, @va + @size) are unmapped
 * @t: the context's tables
 * @va: GPU address, page aligned
 * @size: bytes, page aligned; the range may reach past the address
 *	space (it is cut there) and hold pages that are not mapped
 */
void vgpu_ue_tables_unmap(struct vgpu_ue_tables *t, u64 va, u64 size)
{
	unsigned long i2;
	struct vgpu_ue_l2 *r;
	u64 end, rs, a, b;

	if (!size || va >= VGPU_VA_SIZE)
		return;
	end = size > VGPU_VA_SIZE - va ? VGPU_VA_SIZE : va + size;
	/* Only the regions that exist: the range may be the whole space. */
	xa_for_each_range(&t->l2, i2, r, va >> VGPU_UE_L2_SHIFT,
			  (end - 1) >> VGPU_UE_L2_SHIFT) {
		rs = (u64)i2 << VGPU_UE_L2_SHIFT;
		a = max(va, rs);
		b = min(end, rs + BIT_ULL(VGPU_UE_L2_SHIFT));
		vgpu_ue_l2_clear(t, i2, r, (a - rs) >> VGPU_PAGE_SHIFT,
				 (b - rs) >> VGPU_PAGE_SHIFT);
	}
}
