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
#include <asm/byteorder.h>
#else
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define GFP_KERNEL 0
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
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define fallthrough __attribute__((__fallthrough__))
#define U32_MAX UINT32_MAX
#define U64_MAX UINT64_MAX
#define S64_MAX INT64_MAX
#define S64_MIN INT64_MIN

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "userspace builds of the GPUvm logic assume a little-endian host"
#endif
#define le64_to_cpu(x) ((u64)(x))
#define cpu_to_le64(x) ((u64)(x))
#define le32_to_cpu(x) ((u32)(x))
#define cpu_to_le32(x) ((u32)(x))
#endif /* __KERNEL__ */

#endif /* VGPU_COMPAT_H */
