// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// GPU page tables and the address-space manager.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

extern "C" {
#include "vgpu_pt.h"
#include "vgpu_vm.h"
}

namespace {

struct Pt {
    Pt() { vgpu_pt_init(pt.get()); }
    ~Pt() { vgpu_pt_fini(pt.get()); }
    std::unique_ptr<vgpu_pt> pt = std::make_unique<vgpu_pt>();
};

alignas(4096) uint8_t page_mem[8 * 4096];

TEST(PageTable, MapLookupUnmapAndFreeTables) {
    Pt p;
    ASSERT_EQ(vgpu_pt_map(p.pt.get(), 0x40000000ULL - 4096, page_mem, 2 * 4096, VGPU_PTE_R | VGPU_PTE_W), 0);
    EXPECT_EQ(p.pt->mapped_pages, 2u);
    EXPECT_EQ(p.pt->tables, 4u) << "the range straddles a 1 GiB boundary: two l1 and two l2 tables";
    unsigned long pte = vgpu_pt_lookup(p.pt.get(), 0x40000000ULL + 12);
    EXPECT_EQ(pte & ~0xfffUL, reinterpret_cast<unsigned long>(page_mem + 4096));
    EXPECT_EQ(pte & VGPU_PTE_PERMS, VGPU_PTE_R | VGPU_PTE_W);
    EXPECT_EQ(vgpu_pt_lookup(p.pt.get(), 0x40000000ULL + 4096), 0u);
    vgpu_pt_unmap(p.pt.get(), 0x40000000ULL - 4096, 2 * 4096);
    EXPECT_EQ(p.pt->mapped_pages, 0u);
    EXPECT_EQ(p.pt->tables, 0u) << "empty tables are freed";
}

TEST(PageTable, RejectsBadRangesAndDoubleMaps) {
    Pt p;
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), 0x1001, page_mem, 4096, VGPU_PTE_R), -EINVAL);
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), 0x1000, page_mem + 1, 4096, VGPU_PTE_R), -EINVAL);
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), 0x1000, page_mem, 0, VGPU_PTE_R), -EINVAL);
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), 0x1000, page_mem, 4096, 0), -EINVAL);
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), 0x1000, page_mem, 4096, 8), -EINVAL);
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), VGPU_VA_SIZE - 4096, page_mem, 8192, VGPU_PTE_R), -EINVAL);
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), ~0ULL & ~0xfffULL, page_mem, 8192, VGPU_PTE_R), -EINVAL);
    ASSERT_EQ(vgpu_pt_map(p.pt.get(), 0x3000, page_mem, 4096, VGPU_PTE_R), 0);
    EXPECT_EQ(vgpu_pt_map(p.pt.get(), 0x1000, page_mem, 3 * 4096, VGPU_PTE_R), -EEXIST);
    EXPECT_EQ(p.pt->mapped_pages, 1u) << "a failed map leaves nothing behind";
    EXPECT_EQ(vgpu_pt_lookup(p.pt.get(), 0x1000), 0u);
}

TEST(PageTable, SparseMapsDoNotAccumulateTables) {
    Pt p;
    for (uint64_t i = 0; i < 2000; i++) {
        uint64_t va = (i * 0x7654321000ULL) % (VGPU_VA_SIZE - 4096) & ~0xfffULL;
        ASSERT_EQ(vgpu_pt_map(p.pt.get(), va, page_mem, 4096, VGPU_PTE_R), 0);
        vgpu_pt_unmap(p.pt.get(), va, 4096);
        ASSERT_EQ(p.pt->tables, 0u);
    }
}

struct Vm {
    Vm(uint32_t max = 8) { vgpu_vm_init(&vm, 0x10000, 1ULL << 40, max); }
    ~Vm() { vgpu_vm_fini(&vm); }
    int map(uint64_t va, uint64_t size) {
        vgpu_mapping m{va, size, 0, nullptr, VGPU_PTE_R, 0};
        return vgpu_vm_insert(&vm, &m);
    }
    vgpu_vm vm;
};

TEST(AddressSpace, BoundsAlignmentAndOverlap) {
    Vm v;
    EXPECT_EQ(v.map(0x0, 0x1000), -EINVAL) << "below va_start";
    EXPECT_EQ(v.map(0x10000, 0), -EINVAL);
    EXPECT_EQ(v.map(0x10800, 0x1000), -EINVAL);
    EXPECT_EQ(v.map(0x10000, 0x800), -EINVAL);
    EXPECT_EQ(v.map((1ULL << 40) - 0x1000, 0x2000), -EINVAL);
    EXPECT_EQ(v.map(0xfffffffffffff000ULL, 0x2000), -EINVAL) << "wraps";
    ASSERT_EQ(v.map(0x20000, 0x4000), 0);
    EXPECT_EQ(v.map(0x1f000, 0x2000), -EEXIST);
    EXPECT_EQ(v.map(0x23000, 0x1000), -EEXIST);
    EXPECT_EQ(v.map(0x18000, 0x20000), -EEXIST) << "covers it";
    EXPECT_EQ(v.map(0x1c000, 0x4000), 0) << "adjacent below";
    EXPECT_EQ(v.map(0x24000, 0x1000), 0) << "adjacent above";
    EXPECT_EQ(v.vm.count, 3u);
    EXPECT_EQ(v.vm.mapped_bytes, 0x9000u);
}

TEST(AddressSpace, FindRemoveAndLimit) {
    Vm v(4);
    for (uint64_t i = 0; i < 4; i++) ASSERT_EQ(v.map(0x100000 - i * 0x10000, 0x2000), 0);
    EXPECT_EQ(v.map(0x200000, 0x1000), -ENOSPC);
    for (uint32_t i = 1; i < v.vm.count; i++) EXPECT_LT(v.vm.maps[i - 1].va, v.vm.maps[i].va) << "sorted";
    int i = vgpu_vm_find_addr(&v.vm, 0xe0000);
    ASSERT_GE(i, 0);
    EXPECT_EQ(vgpu_vm_find_addr(&v.vm, 0xe1fff), i);
    EXPECT_EQ(vgpu_vm_find_addr(&v.vm, 0xe2000), -ENOENT);
    vgpu_mapping out;
    vgpu_vm_remove(&v.vm, static_cast<uint32_t>(i), &out);
    EXPECT_EQ(out.va, 0xe0000u);
    EXPECT_EQ(v.vm.count, 3u);
    EXPECT_EQ(v.map(0x200000, 0x1000), 0);
}

TEST(AddressSpace, PageByPageMapsMergeIntoOneMapping) {
    Vm v(2);
    int token = 0;
    for (uint64_t p = 0; p < 16; p++) {
        vgpu_mapping m{0x100000 + p * 0x1000, 0x1000, p * 0x1000, &token, VGPU_PTE_R, 0};
        int i = vgpu_vm_mergeable(&v.vm, &m);
        if (p == 0) {
            EXPECT_EQ(i, -ENOENT);
            ASSERT_EQ(vgpu_vm_insert(&v.vm, &m), 0);
        } else {
            ASSERT_EQ(i, 0) << p;
            vgpu_vm_extend(&v.vm, static_cast<uint32_t>(i), m.size);
        }
    }
    EXPECT_EQ(v.vm.count, 1u);
    EXPECT_EQ(v.vm.maps[0].size, 0x10000u);
    int other = 0;
    vgpu_mapping gap{0x110000, 0x1000, 0x10000, &other, VGPU_PTE_R, 0};
    EXPECT_EQ(vgpu_vm_mergeable(&v.vm, &gap), -ENOENT) << "another object";
    gap.bo = &token;
    gap.perms = VGPU_PTE_W;
    EXPECT_EQ(vgpu_vm_mergeable(&v.vm, &gap), -ENOENT) << "other permissions";
    gap.perms = VGPU_PTE_R;
    gap.bo_offset = 0x20000;
    EXPECT_EQ(vgpu_vm_mergeable(&v.vm, &gap), -ENOENT) << "offset does not continue";
}

TEST(AddressSpace, CutShrinksSplitsAndRemoves) {
    Vm v(2);
    int token = 0;
    vgpu_mapping m{0x100000, 0x8000, 0x2000, &token, VGPU_PTE_R, 0}, out;
    ASSERT_EQ(vgpu_vm_insert(&v.vm, &m), 0);
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x100000, 0x1000, &out), VGPU_VM_CUT_SHRUNK);
    EXPECT_EQ(v.vm.maps[0].va, 0x101000u);
    EXPECT_EQ(v.vm.maps[0].bo_offset, 0x3000u);
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x107000, 0x1000, &out), VGPU_VM_CUT_SHRUNK);
    EXPECT_EQ(v.vm.maps[0].size, 0x6000u);
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x103000, 0x1000, &out), VGPU_VM_CUT_SPLIT);
    ASSERT_EQ(v.vm.count, 2u);
    EXPECT_EQ(v.vm.maps[0].size, 0x2000u);
    EXPECT_EQ(v.vm.maps[1].va, 0x104000u);
    EXPECT_EQ(v.vm.maps[1].size, 0x3000u);
    EXPECT_EQ(v.vm.maps[1].bo_offset, 0x6000u);
    EXPECT_EQ(v.vm.mapped_bytes, 0x5000u);
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x105000, 0x1000, &out), -ENOSPC) << "a third mapping is over the limit";
    EXPECT_EQ(v.vm.mapped_bytes, 0x5000u) << "a refused cut changes nothing";
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x102000, 0x3000, &out), -ENOENT) << "spans two mappings";
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x103000, 0x1000, &out), -ENOENT) << "the hole";
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x101000, 0x2000, &out), VGPU_VM_CUT_REMOVED);
    EXPECT_EQ(out.va, 0x101000u);
    EXPECT_EQ(v.vm.count, 1u);
    EXPECT_EQ(vgpu_vm_cut(&v.vm, 0x104800, 0x1000, &out), -EINVAL);
}

}  // namespace
