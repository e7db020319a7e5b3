/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * ukernel.h - just enough of the kernel's API, in userspace, for the
 * vGPU core (backend/vgpu_core.c, vgpu_sched.c) and the common logic to
 * build unchanged into the fuzzer.  Every <linux/...> header the core
 * includes is a one-line file in this folder that includes this one.
 *
 * The fuzzer is single-threaded: locks only count (a lock taken twice or
 * released unheld aborts, so lock bugs still show), the scheduler thread
 * is never started (the fuzzer runs slices itself through
 * vgpu_sched_run_once()), and waits never block.
 */
#ifndef VGPU_UKERNEL_H
#define VGPU_UKERNEL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef u16 domid_t;

/* Kernel-only errno values the core may use. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif
#define MAX_ERRNO 4095

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __always_unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define fallthrough __attribute__((__fallthrough__))
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
/* The kernel's read barrier, as a C11 fence (one thread here). */
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
/* The kernel's write barrier, as a C11 fence. */
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define U32_MAX UINT32_MAX
#define U64_MAX UINT64_MAX
#define S64_MAX INT64_MAX
#define S64_MIN INT64_MIN
#define ULONG_MAX_ ULONG_MAX
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(p, t, m) ((t *)((char *)(p) - offsetof(t, m)))
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
/* As <linux/build_bug.h>: the message is optional. */
#define static_assert(expr, ...) __static_assert(expr, ##__VA_ARGS__, #expr)
#define __static_assert(expr, msg, ...) _Static_assert(expr, msg)
#define WARN_ON(x) ({ bool __w = !!(x); if (__w) ukernel_warn(__FILE__, __LINE__); __w; })
#define BUG_ON(x) do { if (x) abort(); } while (0)
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min_t(t, a, b) min((t)(a), (t)(b))
#define div_u64(a, b) ((u64)(a) / (u32)(b))
#define div64_u64(a, b) ((u64)(a) / (u64)(b))
#define max_t(t, a, b) max((t)(a), (t)(b))
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
#define array_size(a, b) ((size_t)(a) * (size_t)(b))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
/* As the kernel's: @y a power of two. */
#define round_up(x, y) ((((x) - 1) | (__typeof__(x))((y) - 1)) + 1)
#define round_down(x, y) ((x) & ~(__typeof__(x))((y) - 1))

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL
#define MSEC_PER_SEC 1000UL
#define HZ 100

void ukernel_warn(const char *file, int line);

/* Memory: plain malloc, so AddressSanitizer sees every object. */
#define GFP_KERNEL 0
#define GFP_KERNEL_ACCOUNT 0
#define __GFP_NORETRY 0
#define __GFP_NOWARN 0
#define __GFP_ZERO 0
#define __GFP_RETRY_MAYFAIL 0
#define kmalloc(n, gfp) malloc(n)
#define kzalloc(n, gfp) calloc(1, (n))
#define kcalloc(n, s, gfp) calloc((n), (s))
#define kvzalloc(n, gfp) calloc(1, (n))
#define kvcalloc(n, s, gfp) calloc((n), (s))
#define kvmalloc(n, gfp) malloc(n)
#define kvmalloc_array(n, s, gfp) calloc((n), (s))
#define kfree(p) free((void *)(p))
#define kvfree(p) free((void *)(p))
void *ukernel_vzalloc(size_t n);	/* whole pages, as vmalloc's */
#define vzalloc(n) ukernel_vzalloc(n)
#define __vmalloc(n, gfp) ukernel_vzalloc(n)
#define vfree(p) free(p)
/* A page is its own memory here (aligned_alloc'ed by the user). */
struct page;
#define page_address(p) ((void *)(p))

static inline size_t strscpy(char *d, const char *s, size_t n)
{
	snprintf(d, n, "%s", s);
	return strlen(d);
}

/* Error pointers. */
static inline void *ERR_PTR(long e) { return (void *)e; }
static inline long PTR_ERR(const void *p) { return (long)p; }
static inline bool IS_ERR(const void *p)
{
	return (unsigned long)p >= (unsigned long)-MAX_ERRNO;
}
static inline int PTR_ERR_OR_ZERO(const void *p)
{
	return IS_ERR(p) ? (int)PTR_ERR(p) : 0;
}

/* Logging: counted, not printed (set UKERNEL_LOG=1 to see it). */
extern unsigned long ukernel_log_lines;
__printf(1, 2) void ukernel_printk(const char *fmt, ...);
struct va_format {
	const char *fmt;
	va_list *va;
};
#define pr_info(fmt, ...) ukernel_printk(fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) ukernel_printk(fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) ukernel_printk(fmt, ##__VA_ARGS__)
#define pr_info_ratelimited(fmt, ...) ukernel_printk(fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...) ukernel_printk(fmt, ##__VA_ARGS__)

struct ratelimit_state {
	int burst, printed;
};
static inline void ratelimit_state_init(struct ratelimit_state *rs,
					int interval, int burst)
{
	rs->burst = burst;
	rs->printed = 0;
}
/* No clock: a client may print its burst, then never again. */
static inline int __ratelimit(struct ratelimit_state *rs)
{
	return rs->printed < rs->burst ? ++rs->printed : 0;
}

/* Modules. */
struct module {
	int refs;
};
#define THIS_MODULE ((struct module *)0)
#define EXPORT_SYMBOL_GPL(s)
#define MODULE_PARM_DESC(n, d)
#define module_param_named(n, v, t, p)
/* Module parameters' callbacks (the engines' watchdog_ms): never called here. */
struct kernel_param {
	void *arg;
};
struct kernel_param_ops {
	int (*set)(const char *val, const struct kernel_param *kp);
	int (*get)(char *buf, const struct kernel_param *kp);
};
static inline int param_set_uint_minmax(const char *val, const struct kernel_param *kp, unsigned int min,
					unsigned int max)
{
	(void)val;
	(void)kp;
	(void)min;
	(void)max;
	return -EINVAL;
}
static inline int param_get_uint(char *buf, const struct kernel_param *kp)
{
	(void)buf;
	(void)kp;
	return -EINVAL;
}
#define MODULE_LICENSE(l)
static inline bool try_module_get(struct module *m)
{
	if (m)
		m->refs++;
	return true;
}
static inline void module_put(struct module *m)
{
	if (m && --m->refs < 0)
		abort();
}

/* Atomics: single-threaded. */
typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
#define atomic_set(a, v) ((a)->counter = (v))
#define atomic_read(a) ((a)->counter)
#define atomic_dec(a) ((a)->counter--)
#define atomic_dec_and_test(a) (--(a)->counter == 0)
#define atomic_xchg(a, v) ({ int __o = (a)->counter; (a)->counter = (v); __o; })
#define atomic64_read(a) ((a)->counter)
#define atomic64_add(v, a) ((a)->counter += (v))
#define atomic64_inc(a) ((a)->counter++)
#define atomic64_set(a, v) ((a)->counter = (v))
#define atomic64_inc_return(a) (++(a)->counter)
#define ATOMIC64_INIT(v) { (v) }
static inline s64 atomic64_cmpxchg(atomic64_t *a, s64 old, s64 new)
{
	s64 seen = a->counter;

	if (seen == old)
		a->counter = new;
	return seen;
}

struct kref {
	int refcount;
};
static inline void kref_init(struct kref *k) { k->refcount = 1; }
static inline void kref_get(struct kref *k)
{
	if (k->refcount <= 0)
		abort();	/* use after free */
	k->refcount++;
}
static inline int kref_put(struct kref *k, void (*release)(struct kref *))
{
	if (k->refcount <= 0)
		abort();
	if (--k->refcount)
		return 0;
	release(k);
	return 1;
}

/* Locks: held or not; misuse aborts. */
struct mutex {
	int held;
};
typedef struct mutex spinlock_t;
#define DEFINE_MUTEX(n) struct mutex n = { 0 }
#define DEFINE_SPINLOCK(n) spinlock_t n = { 0 }
static inline void mutex_init(struct mutex *m) { m->held = 0; }
static inline void mutex_destroy(struct mutex *m)
{
	if (m->held)
		abort();
}
static inline void mutex_lock(struct mutex *m)
{
	if (m->held++)
		abort();	/* a deadlock in a kernel */
}
static inline void mutex_unlock(struct mutex *m)
{
	if (--m->held)
		abort();
}
/* The shim's locks know whether they are held: check it. */
#define lockdep_assert_held(m) do { if (!(m)->held) abort(); } while (0)
#define spin_lock_init(l) mutex_init(l)
#define spin_lock(l) mutex_lock(l)
#define spin_unlock(l) mutex_unlock(l)
#define spin_lock_irqsave(l, f) do { (void)(f); mutex_lock(l); } while (0)
#define spin_unlock_irqrestore(l, f) mutex_unlock(l)

/* Threads and waits: the scheduler thread is driven by the fuzzer. */
struct task_struct {
	int unused;
};
typedef struct { int unused; } wait_queue_head_t;
#define init_waitqueue_head(w) ((void)(w))
#define wake_up(w) ((void)(w))
#define wake_up_all(w) ((void)(w))
/* One thread: a condition waited for must already hold. */
#define wait_event(w, cond) do { (void)(w); if (!(cond)) abort(); } while (0)
#define cond_resched() do { } while (0)
#define kthread_should_stop() true
#define wait_event_interruptible(w, cond) ({ (void)(cond); 0; })
#define wait_event_interruptible_hrtimeout(w, cond, t) ({ (void)(cond); (void)(t); 0; })
#define ns_to_ktime(n) ((s64)(n))
struct task_struct *ukernel_kthread_run(int (*fn)(void *), void *arg);
#define kthread_run(fn, arg, name, ...) ukernel_kthread_run((fn), (arg))
static inline int kthread_stop(struct task_struct *t)
{
	(void)t;
	return 0;
}
/* The fuzzer's deterministic clock, or the real one (ukernel_real_clock). */
extern bool ukernel_real_clock;
u64 ktime_get_ns(void);

struct seq_file;
#define seq_puts(m, s) ((void)(m))
#define seq_printf(m, fmt, ...) ((void)(m))

#include "ulist.h"
#include "uxarray.h"
#include "udma_fence.h"

#endif /* VGPU_UKERNEL_H */
