/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_pt.h - page tables of the vgpu-sim reference GPU.
 *
 * A GPU virtual address space of 2^40 bytes is translated in 4 KiB pages
 * by three levels of tables (10 + 9 + 9 bits of page number).  A leaf
 * entry holds the host address of the backing page ORed with permission
 * bits.  Tables are allocated on demand and freed as soon as they hold no
 * entry, so the memory they take is bounded by what is mapped, whatever
 * pattern of addresses a client chooses.
 *
 * The tables are not locked here: the owner serialises map/unmap against
 * lookups (vgpu-sim holds the context's address-space lock while a job
 * runs and while bindings change).
 */
#ifndef VGPU_PT_H
#define VGPU_PT_H

#include "vgpu_compat.h"

#define VGPU_PAGE_SHIFT		12
#define VGPU_PAGE_SIZE		BIT_ULL(VGPU_PAGE_SHIFT)
#define VGPU_PAGE_MASK		(VGPU_PAGE_SIZE - 1)
#define VGPU_VA_BITS		40
#define VGPU_VA_SIZE		BIT_ULL(VGPU_VA_BITS)

#define VGPU_PTE_R		0x1UL
#define VGPU_PTE_W		0x2UL
#define VGPU_PTE_X		0x4UL
#define VGPU_PTE_PERMS		0x7UL

#define VGPU_PT_L0_BITS		10
#define VGPU_PT_L1_BITS		9
#define VGPU_PT_L2_BITS		9
#define VGPU_PT_L0_ENTRIES	BIT(VGPU_PT_L0_BITS)
#define VGPU_PT_L1_ENTRIES	BIT(VGPU_PT_L1_BITS)
#define VGPU_PT_L2_ENTRIES	BIT(VGPU_PT_L2_BITS)

struct vgpu_pt_l2 {
	unsigned long pte[VGPU_PT_L2_ENTRIES];
};

struct vgpu_pt_l1 {
	struct vgpu_pt_l2 *l2[VGPU_PT_L1_ENTRIES];
	u16 l2_used[VGPU_PT_L1_ENTRIES];	/* valid PTEs in each l2 */
	u16 used;				/* non-NULL l2 tables */
};

/*
 * Host memory one table takes as the slab allocator hands it out: an l1
 * table (a little over 5 KiB) comes from the 8 KiB cache.
 */
#define VGPU_PT_L1_BYTES	8192U
#define VGPU_PT_L2_BYTES	4096U

struct vgpu_pt {
	struct vgpu_pt_l1 *l1[VGPU_PT_L0_ENTRIES];
	u64 mapped_pages;
	u32 tables;			/* l1 + l2 tables allocated */
	u32 l1_tables;			/* of which l1 */
};

void vgpu_pt_init(struct vgpu_pt *pt);
void vgpu_pt_fini(struct vgpu_pt *pt);
int vgpu_pt_map(struct vgpu_pt *pt, u64 va, u8 *host, u64 size, u32 perms);
void vgpu_pt_unmap(struct vgpu_pt *pt, u64 va, u64 size);

/**
 * vgpu_pt_bytes() - host memory the tables of @pt take
 * @pt: page tables
 *
 * What an engine charges its client for them (vgpu_engine_ops'
 * ctx_table_bytes): 8 KiB mappings that straddle a 1 GiB boundary take
 * 24 KiB of tables each, whatever the mapping quota says.
 *
 * Return: bytes, the tables' slab objects.
 */
static inline u64 vgpu_pt_bytes(const struct vgpu_pt *pt)
{
	return (u64)pt->l1_tables * VGPU_PT_L1_BYTES +
	       (u64)(pt->tables - pt->l1_tables) * VGPU_PT_L2_BYTES;
}

/**
 * vgpu_pt_lookup() - translate one GPU page
 * @pt: page tables
 * @va: GPU virtual address, any offset within the page
 *
 * Return: the entry (host page address | VGPU_PTE_* bits), or 0 when
 * nothing is mapped at @va.
 */
static inline unsigned long vgpu_pt_lookup(const struct vgpu_pt *pt, u64 va)
{
	u64 pn = va >> VGPU_PAGE_SHIFT;
	const struct vgpu_pt_l1 *l1;
	const struct vgpu_pt_l2 *l2;

	if (unlikely(va >= VGPU_VA_SIZE))
		return 0;
	l1 = pt->l1[pn >> (VGPU_PT_L1_BITS + VGPU_PT_L2_BITS)];
	if (!l1)
		return 0;
	l2 = l1->l2[(pn >> VGPU_PT_L2_BITS) & (VGPU_PT_L1_ENTRIES - 1)];
	if (!l2)
		return 0;
	return l2->pte[pn & (VGPU_PT_L2_ENTRIES - 1)];
}

#endif /* VGPU_PT_H */
