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
    EXPECT_EQ(vgpu_vm_find(&v.vm, 0xe0000, 0x1000), -ENOENT) << "UNMAP must name the whole mapping";
    int i = vgpu_vm_find(&v.vm, 0xe0000, 0x2000);
    ASSERT_GE(i, 0);
    EXPECT_EQ(vgpu_vm_find_addr(&v.vm, 0xe1fff), i);
    EXPECT_EQ(vgpu_vm_find_addr(&v.vm, 0xe2000), -ENOENT);
    vgpu_mapping out;
    vgpu_vm_remove(&v.vm, static_cast<uint32_t>(i), &out);
    EXPECT_EQ(out.va, 0xe0000u);
    EXPECT_EQ(v.vm.count, 3u);
    EXPECT_EQ(v.map(0x200000, 0x1000), 0);
}

}  // namespace
