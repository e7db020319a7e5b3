// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * KUnit tests of the GPU page tables and the address-space manager.
 */
#include <kunit/test.h>
#include <linux/vmalloc.h>

#include "../common/vgpu_pt.h"
#include "../common/vgpu_vm.h"

static void pt_map_lookup_unmap(struct kunit *test)
{
	struct vgpu_pt *pt = kunit_kzalloc(test, sizeof(*pt), GFP_KERNEL);
	u8 *mem = vzalloc(2 * PAGE_SIZE);
	const u64 va = 0x40000000ULL - PAGE_SIZE;	/* straddles 1 GiB */
	unsigned long pte;

	KUNIT_ASSERT_TRUE(test, pt && mem);
	vgpu_pt_init(pt);
	KUNIT_ASSERT_EQ(test, vgpu_pt_map(pt, va, mem, 2 * PAGE_SIZE,
					  VGPU_PTE_R | VGPU_PTE_W), 0);
	KUNIT_EXPECT_EQ(test, pt->mapped_pages, 2ULL);
	KUNIT_EXPECT_EQ(test, pt->tables, 4U);
	pte = vgpu_pt_lookup(pt, va + PAGE_SIZE + 12);
	KUNIT_EXPECT_EQ(test, pte & ~(unsigned long)VGPU_PAGE_MASK,
			(unsigned long)(mem + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, pte & VGPU_PTE_PERMS, VGPU_PTE_R | VGPU_PTE_W);
	KUNIT_EXPECT_EQ(test, vgpu_pt_lookup(pt, va + 2 * PAGE_SIZE), 0UL);
	KUNIT_EXPECT_EQ(test, vgpu_pt_map(pt, va + PAGE_SIZE, mem, PAGE_SIZE,
					  VGPU_PTE_R), -EEXIST);
	KUNIT_EXPECT_EQ(test, vgpu_pt_map(pt, va + 1, mem, PAGE_SIZE,
					  VGPU_PTE_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_pt_map(pt, VGPU_VA_SIZE - PAGE_SIZE, mem,
					  2 * PAGE_SIZE, VGPU_PTE_R), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_pt_map(pt, 0x1000, mem, PAGE_SIZE, 0),
			-EINVAL);
	vgpu_pt_unmap(pt, va, 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pt->mapped_pages, 0ULL);
	KUNIT_EXPECT_EQ(test, pt->tables, 0U);
	vgpu_pt_fini(pt);
	vfree(mem);
}

static void pt_failed_map_leaves_nothing(struct kunit *test)
{
	struct vgpu_pt *pt = kunit_kzalloc(test, sizeof(*pt), GFP_KERNEL);
	u8 *mem = vzalloc(4 * PAGE_SIZE);

	KUNIT_ASSERT_TRUE(test, pt && mem);
	vgpu_pt_init(pt);
	KUNIT_ASSERT_EQ(test, vgpu_pt_map(pt, 0x13000, mem, PAGE_SIZE,
					  VGPU_PTE_R), 0);
	KUNIT_EXPECT_EQ(test, vgpu_pt_map(pt, 0x10000, mem, 4 * PAGE_SIZE,
					  VGPU_PTE_R), -EEXIST);
	KUNIT_EXPECT_EQ(test, pt->mapped_pages, 1ULL);
	KUNIT_EXPECT_EQ(test, vgpu_pt_lookup(pt, 0x10000), 0UL);
	vgpu_pt_fini(pt);
	vfree(mem);
}

static int vm_map(struct vgpu_vm *vm, u64 va, u64 size)
{
	struct vgpu_mapping m = { .va = va, .size = size, .perms = 1 };

	return vgpu_vm_insert(vm, &m);
}

static void vm_bounds_overlap_limit(struct kunit *test)
{
	struct vgpu_vm vm;
	struct vgpu_mapping out;
	int i;

	vgpu_vm_init(&vm, 0x10000, VGPU_VA_SIZE, 4);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x10000, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x10800, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, VGPU_VA_SIZE - 0x1000, 0x2000), -EINVAL);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0xfffffffffffff000ULL, 0x2000), -EINVAL);
	KUNIT_ASSERT_EQ(test, vm_map(&vm, 0x20000, 0x4000), 0);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x1f000, 0x2000), -EEXIST);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x23000, 0x1000), -EEXIST);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x18000, 0x20000), -EEXIST);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x1c000, 0x4000), 0);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x24000, 0x1000), 0);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x40000, 0x1000), 0);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x50000, 0x1000), -ENOSPC);
	for (i = 1; i < vm.count; i++)
		KUNIT_EXPECT_LT(test, vm.maps[i - 1].va, vm.maps[i].va);
	i = vgpu_vm_find_addr(&vm, 0x20000);
	KUNIT_ASSERT_GE(test, i, 0);
	KUNIT_EXPECT_EQ(test, vgpu_vm_find_addr(&vm, 0x23fff), i);
	vgpu_vm_remove(&vm, i, &out);
	KUNIT_EXPECT_EQ(test, out.va, 0x20000ULL);
	KUNIT_EXPECT_EQ(test, vm.mapped_bytes, 0x6000ULL);
	KUNIT_EXPECT_EQ(test, vm_map(&vm, 0x50000, 0x1000), 0);
	vgpu_vm_fini(&vm);
}

static void vm_cut_and_merge(struct kunit *test)
{
	struct vgpu_vm vm;
	struct vgpu_mapping m = { .va = 0x100000, .size = 0x1000, .perms = 1,
				  .bo = &vm }, out;
	u64 p;

	vgpu_vm_init(&vm, 0x10000, VGPU_VA_SIZE, 2);
	KUNIT_ASSERT_EQ(test, vgpu_vm_insert(&vm, &m), 0);
	for (p = 1; p < 8; p++) {
		m.va = 0x100000 + p * 0x1000;
		m.bo_offset = p * 0x1000;
		KUNIT_ASSERT_EQ(test, vgpu_vm_mergeable(&vm, &m), 0);
		vgpu_vm_extend(&vm, 0, m.size);
	}
	KUNIT_EXPECT_EQ(test, vm.count, 1U);
	KUNIT_EXPECT_EQ(test, vm.maps[0].size, 0x8000ULL);
	KUNIT_EXPECT_EQ(test, vgpu_vm_cut(&vm, 0x100000, 0x1000, &out),
			VGPU_VM_CUT_SHRUNK);
	KUNIT_EXPECT_EQ(test, vgpu_vm_cut(&vm, 0x103000, 0x1000, &out),
			VGPU_VM_CUT_SPLIT);
	KUNIT_EXPECT_EQ(test, vm.count, 2U);
	KUNIT_EXPECT_EQ(test, vm.maps[1].bo_offset, 0x4000ULL);
	KUNIT_EXPECT_EQ(test, vgpu_vm_cut(&vm, 0x105000, 0x1000, &out), -ENOSPC);
	KUNIT_EXPECT_EQ(test, vgpu_vm_cut(&vm, 0x102000, 0x2000, &out), -ENOENT);
	KUNIT_EXPECT_EQ(test, vgpu_vm_cut(&vm, 0x101000, 0x2000, &out),
			VGPU_VM_CUT_REMOVED);
	KUNIT_EXPECT_EQ(test, vm.mapped_bytes, 0x4000ULL);
	vgpu_vm_fini(&vm);
}

static struct kunit_case vm_cases[] = {
	KUNIT_CASE(vm_cut_and_merge),
	KUNIT_CASE(pt_map_lookup_unmap),
	KUNIT_CASE(pt_failed_map_leaves_nothing),
	KUNIT_CASE(vm_bounds_overlap_limit),
	{}
};

static struct kunit_suite vm_suite = {
	.name = "vgpu-vm",
	.test_cases = vm_cases,
};

kunit_test_suite(vm_suite);
