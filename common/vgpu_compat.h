/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_compat.h - the few kernel facilities the pure-logic parts of GPUvm
 * (ISA interpreter, soft-float, page tables, address-space manager, uAPI
 * validation) use, so that the very same sources build in the kernel,
 * under KUnit on User Mode Linux, and in userspace for tests, fuzzing
 * and benchmarks.
 */
#ifndef VGPU_COMPAT_H
#define VGPU_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/bug.h>
#include <linux/bitops.h>
#include <linux/overflow.h>
#include <linux/build_bug.h>
#include <linux/math64.h>
#include <asm/byteorder.h>

/*
 * Memory a guest or a render-node user makes dom0 allocate (page tables,
 * objects, contexts, jobs): charged to the memory cgroup of the task
 * that asks, and failing with -ENOMEM under pressure rather than waking
 * the OOM killer or warning.
 */
#define VGPU_GFP_CLIENT		(GFP_KERNEL_ACCOUNT | __GFP_NORETRY | \
				 __GFP_NOWARN)
/* The same for kvmalloc() and __vmalloc(), which take no __GFP_NORETRY. */
#define VGPU_GFP_CLIENT_KV	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)
#else
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))

#define GFP_KERNEL 0
#define VGPU_GFP_CLIENT 0
#define VGPU_GFP_CLIENT_KV 0
#define kzalloc(n, gfp) calloc(1, (n))
#define kcalloc(n, s, gfp) calloc((n), (s))
#define kvzalloc(n, gfp) calloc(1, (n))
#define kvcalloc(n, s, gfp) calloc((n), (s))
#define kvmalloc_array(n, s, gfp) calloc((n), (s))
#define kfree(p) free(p)
#define kvfree(p) free(p)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
#define WARN_ON(x) (!!(x))
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
#define div_u64(a, b) ((u64)(a) / (u32)(b))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define fallthrough __attribute__((__fallthrough__))
#define U32_MAX UINT32_MAX
#define U64_MAX UINT64_MAX
#define S64_MAX INT64_MAX
#define S64_MIN INT64_MIN

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "userspace builds of the GPUvm logic assume a little-endian host"
#endif
#define le64_to_cpup(p) (*(const u64 *)(p))
#define le32_to_cpup(p) (*(const u32 *)(p))
#define cpu_to_le64(x) ((__le64)(x))
#define cpu_to_le32(x) ((__le32)(x))
#endif /* __KERNEL__ */

/* GPU memory is little-endian. */
static inline u32 vgpu_load32(const void *p)
{
	return le32_to_cpup((const __le32 *)p);
}

static inline u64 vgpu_load64(const void *p)
{
	return le64_to_cpup((const __le64 *)p);
}

static inline void vgpu_store32(void *p, u32 v)
{
	*(__le32 *)p = cpu_to_le32(v);
}

static inline void vgpu_store64(void *p, u64 v)
{
	*(__le64 *)p = cpu_to_le64(v);
}

#endif /* VGPU_COMPAT_H */
