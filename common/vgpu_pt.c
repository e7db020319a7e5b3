// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_pt.c - page tables of the vgpu-sim reference GPU (see vgpu_pt.h).
 */
#include "vgpu_pt.h"

void vgpu_pt_init(struct vgpu_pt *pt)
{
	BUILD_BUG_ON(sizeof(struct vgpu_pt_l1) > VGPU_PT_L1_BYTES);
	BUILD_BUG_ON(sizeof(struct vgpu_pt_l2) > VGPU_PT_L2_BYTES);
	memset(pt, 0, sizeof(*pt));
}

void vgpu_pt_fini(struct vgpu_pt *pt)
{
	unsigned int i, j;

	for (i = 0; i < VGPU_PT_L0_ENTRIES; i++) {
		struct vgpu_pt_l1 *l1 = pt->l1[i];

		if (!l1)
			continue;
		for (j = 0; j < VGPU_PT_L1_ENTRIES; j++)
			kfree(l1->l2[j]);
		kfree(l1);
		pt->l1[i] = NULL;
	}
	pt->mapped_pages = 0;
	pt->tables = 0;
	pt->l1_tables = 0;
}

static void vgpu_pt_clear_one(struct vgpu_pt *pt, u64 pn)
{
	unsigned int i0 = pn >> (VGPU_PT_L1_BITS + VGPU_PT_L2_BITS);
	unsigned int i1 = (pn >> VGPU_PT_L2_BITS) & (VGPU_PT_L1_ENTRIES - 1);
	unsigned int i2 = pn & (VGPU_PT_L2_ENTRIES - 1);
	struct vgpu_pt_l1 *l1 = pt->l1[i0];
	struct vgpu_pt_l2 *l2;

	if (!l1)
		return;
	l2 = l1->l2[i1];
	if (!l2 || !l2->pte[i2])
		return;
	l2->pte[i2] = 0;
	pt->mapped_pages--;
	if (--l1->l2_used[i1])
		return;
	kfree(l2);
	l1->l2[i1] = NULL;
	pt->tables--;
	if (--l1->used)
		return;
	kfree(l1);
	pt->l1[i0] = NULL;
	pt->tables--;
	pt->l1_tables--;
}

/**
 * vgpu_pt_unmap() - remove the translations of a range
 * @pt: page tables
 * @va: first GPU address, page aligned
 * @size: bytes, page aligned; pages not mapped are skipped
 */
void vgpu_pt_unmap(struct vgpu_pt *pt, u64 va, u64 size)
{
	u64 pn = va >> VGPU_PAGE_SHIFT;
	u64 n = size >> VGPU_PAGE_SHIFT;

	while (n--)
		vgpu_pt_clear_one(pt, pn++);
}

/**
 * vgpu_pt_map() - translate a range of GPU addresses to host memory
 * @pt: page tables
 * @va: first GPU address, page aligned
 * @host: virtually contiguous host memory, page aligned
 * @size: bytes, page aligned, non-zero
 * @perms: VGPU_PTE_R/W/X
 *
 * The range must not be mapped already; the caller (the address-space
 * manager) has checked that.  On failure nothing stays mapped.  Tables
 * are the guest's doing: they are allocated with VGPU_GFP_CLIENT (the
 * 8 KiB level-1 tables with VGPU_GFP_CLIENT_KV, which retries compaction
 * for an order-1 page rather than fail at the first fragmentation), so
 * under memory pressure the map fails with -ENOMEM instead of waking the
 * OOM killer.
 *
 * Return: 0, -EINVAL for a bad range, -EEXIST if a page is mapped, or
 * -ENOMEM.
 */
int vgpu_pt_map(struct vgpu_pt *pt, u64 va, u8 *host, u64 size, u32 perms)
{
	u64 pn = va >> VGPU_PAGE_SHIFT;
	u64 n = size >> VGPU_PAGE_SHIFT;
	u64 end, i;

	if ((va | size | (unsigned long)host) & VGPU_PAGE_MASK || !size ||
	    !(perms & VGPU_PTE_PERMS) || (perms & ~VGPU_PTE_PERMS))
		return -EINVAL;
	if (check_add_overflow(va, size, &end) || end > VGPU_VA_SIZE)
		return -EINVAL;

	for (i = 0; i < n; i++, pn++) {
		unsigned int i0 = pn >> (VGPU_PT_L1_BITS + VGPU_PT_L2_BITS);
		unsigned int i1 = (pn >> VGPU_PT_L2_BITS) &
				  (VGPU_PT_L1_ENTRIES - 1);
		unsigned int i2 = pn & (VGPU_PT_L2_ENTRIES - 1);
		struct vgpu_pt_l1 *l1 = pt->l1[i0];
		struct vgpu_pt_l2 *l2;

		if (!l1) {
			l1 = kzalloc(sizeof(*l1), VGPU_GFP_CLIENT_KV);
			if (!l1)
				goto fail_nomem;
			pt->l1[i0] = l1;
			pt->tables++;
			pt->l1_tables++;
		}
		l2 = l1->l2[i1];
		if (!l2) {
			l2 = kzalloc(sizeof(*l2), VGPU_GFP_CLIENT);
			if (!l2) {
				if (!l1->used) {
					kfree(l1);
					pt->l1[i0] = NULL;
					pt->tables--;
					pt->l1_tables--;
				}
				goto fail_nomem;
			}
			l1->l2[i1] = l2;
			l1->used++;
			pt->tables++;
		}
		if (l2->pte[i2]) {
			vgpu_pt_unmap(pt, va, i << VGPU_PAGE_SHIFT);
			return -EEXIST;
		}
		l2->pte[i2] = (unsigned long)(host + (i << VGPU_PAGE_SHIFT)) |
			      perms;
		l1->l2_used[i1]++;
		pt->mapped_pages++;
	}
	return 0;

fail_nomem:
	vgpu_pt_unmap(pt, va, i << VGPU_PAGE_SHIFT);
	return -ENOMEM;
}
