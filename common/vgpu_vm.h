/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_vm.h - the GPU address-space manager of the vGPU core.
 *
 * Tracks the mappings of one context's GPU virtual address space: which
 * range of which buffer object is mapped where, with which permissions.
 * It decides whether a map request is acceptable (alignment, bounds,
 * overlap, mapping count) before anything is programmed into an engine,
 * and finds the mapping an unmap request cuts.  A map that continues its
 * left neighbour extends it, and an unmap may remove any range inside one
 * mapping, so binding page by page stays cheap.  Mappings are kept in an
 * array sorted by address: lookups are binary searches, and the count is
 * bounded by a per-context limit.
 *
 * Not locked: the core serialises calls per context.
 */
#ifndef VGPU_VM_H
#define VGPU_VM_H

#include "vgpu_compat.h"

struct vgpu_mapping {
	u64 va;
	u64 size;
	u64 bo_offset;
	void *bo;		/* opaque to the manager */
	u32 perms;		/* VGPU_PTE_R/W/X */
	u32 pad;
};

struct vgpu_vm {
	u64 va_start;
	u64 va_end;
	u32 count;
	u32 capacity;
	u32 max_mappings;
	u64 mapped_bytes;
	struct vgpu_mapping *maps;
};

void vgpu_vm_init(struct vgpu_vm *vm, u64 va_start, u64 va_end,
		  u32 max_mappings);
void vgpu_vm_fini(struct vgpu_vm *vm);
int vgpu_vm_check_map(const struct vgpu_vm *vm, u64 va, u64 size);
int vgpu_vm_insert(struct vgpu_vm *vm, const struct vgpu_mapping *m);
int vgpu_vm_find_addr(const struct vgpu_vm *vm, u64 va);
void vgpu_vm_remove(struct vgpu_vm *vm, u32 index, struct vgpu_mapping *out);
int vgpu_vm_mergeable(const struct vgpu_vm *vm, const struct vgpu_mapping *m);
void vgpu_vm_extend(struct vgpu_vm *vm, u32 index, u64 size);

enum vgpu_vm_cut {
	VGPU_VM_CUT_REMOVED,	/* the whole mapping went: release its object */
	VGPU_VM_CUT_SHRUNK,	/* a head or tail went: nothing to release */
	VGPU_VM_CUT_SPLIT,	/* a middle went: two mappings share the object */
};

int vgpu_vm_cut(struct vgpu_vm *vm, u64 va, u64 size,
		struct vgpu_mapping *removed);

#endif /* VGPU_VM_H */
