// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_vm.c - the GPU address-space manager (see vgpu_vm.h).
 */
#include "vgpu_vm.h"
#include "vgpu_pt.h"

void vgpu_vm_init(struct vgpu_vm *vm, u64 va_start, u64 va_end,
		  u32 max_mappings)
{
	memset(vm, 0, sizeof(*vm));
	vm->va_start = va_start;
	vm->va_end = va_end;
	vm->max_mappings = max_mappings;
}

void vgpu_vm_fini(struct vgpu_vm *vm)
{
	kvfree(vm->maps);
	vm->maps = NULL;
	vm->count = 0;
	vm->capacity = 0;
	vm->mapped_bytes = 0;
}

/* Index of the first mapping whose end is above @va. */
static u32 vgpu_vm_lower_bound(const struct vgpu_vm *vm, u64 va)
{
	u32 lo = 0, hi = vm->count;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct vgpu_mapping *m = &vm->maps[mid];

		if (m->va + m->size <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/**
 * vgpu_vm_check_map() - may [@va, @va + @size) be mapped?
 * @vm: address space
 * @va: page-aligned start
 * @size: page-aligned, non-zero size
 *
 * Return: 0; -EINVAL if the range is misaligned, empty, wraps or leaves
 * the address space; -EEXIST if it overlaps a mapping; -ENOSPC if the
 * context already holds its maximum number of mappings.
 */
int vgpu_vm_check_map(const struct vgpu_vm *vm, u64 va, u64 size)
{
	u64 end;
	u32 i;

	if ((va | size) & VGPU_PAGE_MASK || !size)
		return -EINVAL;
	if (check_add_overflow(va, size, &end))
		return -EINVAL;
	if (va < vm->va_start || end > vm->va_end)
		return -EINVAL;
	i = vgpu_vm_lower_bound(vm, va);
	if (i < vm->count && vm->maps[i].va < end)
		return -EEXIST;
	if (vm->count >= vm->max_mappings)
		return -ENOSPC;
	return 0;
}

/**
 * vgpu_vm_insert() - record a mapping accepted by vgpu_vm_check_map()
 * @vm: address space
 * @m: the mapping
 *
 * Return: 0, an error of vgpu_vm_check_map(), or -ENOMEM.
 */
int vgpu_vm_insert(struct vgpu_vm *vm, const struct vgpu_mapping *m)
{
	int ret = vgpu_vm_check_map(vm, m->va, m->size);
	u32 i;

	if (ret)
		return ret;
	if (vm->count == vm->capacity) {
		u32 cap = vm->capacity ? vm->capacity * 2 : 16;
		struct vgpu_mapping *n;

		if (cap > vm->max_mappings)
			cap = vm->max_mappings;
		n = kvcalloc(cap, sizeof(*n), VGPU_GFP_CLIENT_KV);
		if (!n)
			return -ENOMEM;
		if (vm->count)
			memcpy(n, vm->maps, vm->count * sizeof(*n));
		kvfree(vm->maps);
		vm->maps = n;
		vm->capacity = cap;
	}
	i = vgpu_vm_lower_bound(vm, m->va);
	memmove(&vm->maps[i + 1], &vm->maps[i],
		(vm->count - i) * sizeof(*vm->maps));
	vm->maps[i] = *m;
	vm->count++;
	vm->mapped_bytes += m->size;
	return 0;
}

/**
 * vgpu_vm_find_addr() - index of the mapping that contains @va
 * @vm: address space
 * @va: any GPU address
 *
 * Return: the index, or -ENOENT.
 */
int vgpu_vm_find_addr(const struct vgpu_vm *vm, u64 va)
{
	u32 i = vgpu_vm_lower_bound(vm, va);

	if (i < vm->count && vm->maps[i].va <= va)
		return i;
	return -ENOENT;
}

/**
 * vgpu_vm_remove() - forget a mapping
 * @vm: address space
 * @index: from vgpu_vm_find()
 * @out: receives the mapping, so the caller can release its object
 */
void vgpu_vm_remove(struct vgpu_vm *vm, u32 index, struct vgpu_mapping *out)
{
	if (WARN_ON(index >= vm->count))
		return;
	*out = vm->maps[index];
	memmove(&vm->maps[index], &vm->maps[index + 1],
		(vm->count - index - 1) * sizeof(*vm->maps));
	vm->count--;
	vm->mapped_bytes -= out->size;
}

/**
 * vgpu_vm_mergeable() - does @m continue the mapping just below it?
 * @vm: address space
 * @m: a mapping accepted by vgpu_vm_check_map()
 *
 * A mapping continues its left neighbour when it starts where the
 * neighbour ends, maps the same object with the same permissions, and
 * its object offset continues the neighbour's.  Mapping a buffer page by
 * page then makes one mapping, not one per page.
 *
 * Return: the neighbour's index, or -ENOENT.
 */
int vgpu_vm_mergeable(const struct vgpu_vm *vm, const struct vgpu_mapping *m)
{
	const struct vgpu_mapping *l;
	int i;

	if (m->va <= vm->va_start)
		return -ENOENT;
	i = vgpu_vm_find_addr(vm, m->va - 1);
	if (i < 0)
		return -ENOENT;
	l = &vm->maps[i];
	if (l->va + l->size != m->va || l->bo != m->bo ||
	    l->perms != m->perms || l->bo_offset + l->size != m->bo_offset)
		return -ENOENT;
	return i;
}

/**
 * vgpu_vm_extend() - grow a mapping found by vgpu_vm_mergeable()
 * @vm: address space
 * @index: the mapping
 * @size: bytes added at its end (checked with vgpu_vm_check_map())
 */
void vgpu_vm_extend(struct vgpu_vm *vm, u32 index, u64 size)
{
	if (WARN_ON(index >= vm->count))
		return;
	vm->maps[index].size += size;
	vm->mapped_bytes += size;
}

/**
 * vgpu_vm_cut() - unmap a range that lies inside one mapping
 * @vm: address space
 * @va: page-aligned start
 * @size: page-aligned, non-zero size
 * @removed: out: the mapping before the cut (same object either way)
 *
 * Return: a VGPU_VM_CUT_* value; -EINVAL for a bad range; -ENOENT if no
 * single mapping covers the range; -ENOSPC if splitting would exceed the
 * mapping limit; -ENOMEM.  On error nothing changes.
 */
int vgpu_vm_cut(struct vgpu_vm *vm, u64 va, u64 size,
		struct vgpu_mapping *removed)
{
	struct vgpu_mapping *m, tail;
	u64 end, mend;
	int i, ret;

	if ((va | size) & VGPU_PAGE_MASK || !size ||
	    check_add_overflow(va, size, &end))
		return -EINVAL;
	i = vgpu_vm_find_addr(vm, va);
	if (i < 0)
		return -ENOENT;
	m = &vm->maps[i];
	mend = m->va + m->size;
	if (end > mend)
		return -ENOENT;
	*removed = *m;
	if (va == m->va && end == mend) {
		vgpu_vm_remove(vm, i, removed);
		return VGPU_VM_CUT_REMOVED;
	}
	if (va == m->va || end == mend) {
		if (va == m->va) {
			m->va += size;
			m->bo_offset += size;
		}
		m->size -= size;
		vm->mapped_bytes -= size;
		return VGPU_VM_CUT_SHRUNK;
	}
	/* A hole in the middle: the tail becomes a mapping of its own. */
	if (vm->count >= vm->max_mappings)
		return -ENOSPC;
	tail = *m;
	tail.va = end;
	tail.size = mend - end;
	tail.bo_offset = m->bo_offset + (end - m->va);
	m->size = va - m->va;
	vm->mapped_bytes -= size + tail.size;
	ret = vgpu_vm_insert(vm, &tail);
	if (ret) {
		m = &vm->maps[i];
		m->size = mend - m->va;
		vm->mapped_bytes += size + tail.size;
		return ret;
	}
	return VGPU_VM_CUT_SPLIT;
}
