/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_engine.h - the interface between the vGPU core (vgpu-back) and
 * the engines that execute GPU work (vgpu-sim; later real GPUs).
 *
 * An engine module fills a struct vgpu_engine and calls
 * vgpu_engine_register() when it loads, once per engine it drives: each
 * engine becomes a device of its own (render node, scheduler, memory
 * accounting), up to VGPU_MAX_DEVICES.  The core calls the ops from
 * process context (ioctls, its scheduler thread), never from atomic
 * context, and serialises them per engine context: map/unmap and run for
 * one context never overlap.  An engine module is pinned (try_module_get)
 * for as long as any client uses it.
 *
 * run() is the engine's time contract: it returns within its budget plus
 * one bounded unit of work that the engine documents (vgpu-sim: one
 * chunk of a copy or fill, or one interpreter chunk), whatever the
 * commands ask, and ends a command that has used the engine's watchdog
 * time with VGPU_JOB_TIMEDOUT.  It waits for nothing but the CPU.
 */
#ifndef VGPU_ENGINE_H
#define VGPU_ENGINE_H

#include <linux/types.h>
#include <linux/module.h>
#include "../include/uapi/drm/vgpu_drm.h"
#include "../common/vgpu_run.h"	/* enum vgpu_job_status, the run loop */

struct vgpu_engine;
struct vgpu_engine_ctx;		/* engine state of a context: its address space */
struct vgpu_engine_mem;		/* engine device memory */

/**
 * struct vgpu_backing - memory behind a GPU mapping
 * @dev_mem: device memory of the engine, or NULL for host memory
 * @vaddr: host memory: kernel virtual address of the whole object, or
 *	NULL where the object has no single kernel mapping (a guest's
 *	pages mapped by vgpu-back in hp mode): then each page is at
 *	page_address() of its entry in @pages
 * @pages: host memory: the pages (for engines that DMA)
 * @npages: number of @pages
 */
struct vgpu_backing {
	struct vgpu_engine_mem *dev_mem;
	void *vaddr;
	struct page **pages;
	u64 npages;
};

/**
 * struct vgpu_engine_job - a submission as the engine sees it
 * @cmds: validated commands (kernel memory)
 * @num_cmds: number of @cmds
 * @next_cmd: progress: index of the next command to run (engine updates)
 * @cmd_done: progress inside command @next_cmd, e.g. bytes copied (engine
 *	updates; zero when a command starts)
 * @cmd_busy_ns: engine time command @next_cmd has used so far, for the
 *	engine's watchdog (engine updates; zero when a command starts)
 * @engine_priv: engine state of a command in progress (engine owns)
 * @busy_ns: engine time this job has consumed (engine updates)
 * @fault_kind: DRM_VGPU_FAULT_* when run() returned VGPU_JOB_FAULTED
 * @fault_addr: GPU address of that fault
 */
struct vgpu_engine_job {
	const struct drm_vgpu_cmd *cmds;
	u32 num_cmds;
	u32 next_cmd;
	u64 cmd_done;
	u64 cmd_busy_ns;
	void *engine_priv;
	u64 busy_ns;
	u32 fault_kind;
	u64 fault_addr;
};

/**
 * vgpu_engine_job_run() - the shared run loop (common/vgpu_run.h) on @job
 * @job: the core's job; its progress and fault are updated
 * @ops: the engine's step, release and clock
 * @arg: passed to @ops
 * @budget: clock time after which the job is preempted
 * @watchdog: clock time after which a launch is ended as hung
 *
 * Return: how the run ended (enum vgpu_job_status).
 */
static inline enum vgpu_job_status
vgpu_engine_job_run(struct vgpu_engine_job *job, const struct vgpu_run_ops *ops,
		    void *arg, u64 budget, u64 watchdog)
{
	struct vgpu_run run = {
		.cmds = job->cmds,
		.num_cmds = job->num_cmds,
		.next = job->next_cmd,
		.cmd_done = job->cmd_done,
		.cmd_busy = job->cmd_busy_ns,
	};
	enum vgpu_job_status st = vgpu_run_steps(&run, ops, arg, budget,
						 watchdog);

	job->next_cmd = run.next;
	job->cmd_done = run.cmd_done;
	job->cmd_busy_ns = run.cmd_busy;
	if (st == VGPU_JOB_FAULTED) {
		job->fault_kind = run.fault_kind;
		job->fault_addr = run.fault_addr;
	}
	return st;
}

/*
 * ctx_create()'s @group: the number of the scheduling group the new
 * context's client is in (struct vgpu_group.id): the same for every
 * context a guest makes on the device, over all its connections, and for
 * all of dom0's clients of the device.  An engine may bound what one
 * group makes it do: vgpu-uengine's engine process paces the worker
 * processes one group's contexts make it start, and refuses a context
 * past that with -EBUSY (try again later; the core says so to the
 * client).  vgpu-sim ignores it.
 */
struct vgpu_engine_ops {
	int (*ctx_create)(struct vgpu_engine *e, u64 group,
			  struct vgpu_engine_ctx **out);
	void (*ctx_destroy)(struct vgpu_engine *e, struct vgpu_engine_ctx *c);
	int (*mem_alloc)(struct vgpu_engine *e, u64 size,
			 struct vgpu_engine_mem **out);
	void (*mem_free)(struct vgpu_engine *e, struct vgpu_engine_mem *m);
	int (*map)(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		   const struct vgpu_backing *b, u64 offset, u64 size,
		   u32 perms);
	void (*unmap)(struct vgpu_engine *e, struct vgpu_engine_ctx *c, u64 va,
		      u64 size);
	enum vgpu_job_status (*run)(struct vgpu_engine *e,
				    struct vgpu_engine_ctx *c,
				    struct vgpu_engine_job *job, u64 budget_ns);
	/* Frees engine_priv of a job that will not run again. */
	void (*job_release)(struct vgpu_engine *e, struct vgpu_engine_job *job);
	/*
	 * Optional: host memory, bytes, that the engine holds for the
	 * translation of @c's addresses (its page tables).  The core calls
	 * it after each map and unmap, under the same serialisation, and
	 * charges the change to the client's host-memory quota: a map that
	 * takes the client past it is undone and refused with -EDQUOT.
	 */
	u64 (*ctx_table_bytes)(struct vgpu_engine *e, struct vgpu_engine_ctx *c);
	/*
	 * Optional: the PCI address of the engine's GPU now, written to
	 * @buf (at most @size bytes, NUL-terminated): "" while it has none
	 * (an engine whose GPU is named by a process, none registered).
	 * The core calls it from sysfs, with the device's lock held: it
	 * must not call into the core.  An engine whose address never
	 * changes sets @location instead.
	 */
	void (*pci_address)(struct vgpu_engine *e, char *buf, size_t size);
	/*
	 * Optional, with DRM_VGPU_FEATURE_PTX_STACK: @c's PTX may now be
	 * given a call stack of @stack_size bytes a thread (a power of
	 * two, above any it was told before, at most @max_stack), which
	 * the core has charged to the client.  0 or a negative errno (the
	 * core then returns the charge).  Serialised with the context's
	 * other calls by the core (DRM_IOCTL_VGPU_CTX_STACK).
	 */
	int (*ctx_stack)(struct vgpu_engine *e, struct vgpu_engine_ctx *c,
			 u32 stack_size);
};

/*
 * The threads an engine may say a context's stack is held for
 * (struct vgpu_engine.stack_threads): 2^24, far above a GPU's.
 */
#define VGPU_MAX_STACK_THREADS	BIT_ULL(24)

/*
 * Whether @max is a largest call stack an engine may give a context
 * (struct vgpu_engine.max_stack): a power of two above the base stack,
 * at most DRM_VGPU_PTX_MAX_STACK.
 */
static inline bool vgpu_stack_bound_ok(u32 max)
{
	return max >= 2 * DRM_VGPU_PTX_BASE_STACK &&
	       max <= DRM_VGPU_PTX_MAX_STACK && !(max & (max - 1));
}

/* Bytes of the longest PCI address the core shows, its NUL included. */
#define VGPU_ENGINE_PCI_LEN	32

/**
 * struct vgpu_engine - an engine, registered by its module
 * @name: short name reported to userspace ("vgpu-sim")
 * @owner: THIS_MODULE
 * @ops: operations
 * @mem_size: device memory in bytes
 * @ctx_mem: device memory each context holds on the engine beyond its
 *	objects, bytes (vgpu-uengine's GPU workers: a CUDA context each);
 *	at most @mem_size.  The core charges it, in whole GPU pages, to
 *	the client's device-memory quota while the context lives.  The
 *	engine may change it while registered (WRITE_ONCE; the core reads
 *	it once per context, READ_ONCE, and returns what it charged)
 * @max_stack: with DRM_VGPU_FEATURE_PTX_STACK, the largest call stack a
 *	context may be given (@ops->ctx_stack), bytes a thread: a power of
 *	two from 2 * DRM_VGPU_PTX_BASE_STACK to DRM_VGPU_PTX_MAX_STACK;
 *	else 0.  Changed with @features (WRITE_ONCE, read with READ_ONCE)
 * @stack_threads: the threads a context's stack is held for: a stack of
 *	S bytes a thread holds (S - DRM_VGPU_PTX_BASE_STACK) *
 *	@stack_threads bytes of device memory beyond @ctx_mem, at most
 *	2^24 (WRITE_ONCE, read with READ_ONCE)
 * @isa_version: version of the instruction set kernels are written in
 * @features: DRM_VGPU_FEATURE_*; the engine may change them while
 *	registered (vgpu-uengine: DRM_VGPU_FEATURE_PTX with each engine
 *	process's HELLO), with WRITE_ONCE, read with READ_ONCE
 * @flags: VGPU_ENGINE_*
 * @watchdog_ms: the engine's watchdog (its module parameter), or NULL:
 *	the core counts a hang for each watchdog's worth of engine time of
 *	commands left unfinished by a destroyed context or a closed client
 *	(vgpu_client_abandon())
 * @location: where the engine is, for sysfs: a GPU's PCI address that
 *	never changes, or NULL (a software engine, or one whose address
 *	@ops->pci_address tells)
 * @page_shift: log2 of the engine's GPU page, the granularity at which
 *	it can map (12 to 30; 0 means 12, 4 KiB): every VM_BIND's address,
 *	size and object offset is a multiple of it and device-memory
 *	objects are rounded up to it.  A real GPU's virtual-memory API maps
 *	2 MiB at a time (21).
 * @va_start: lowest GPU address a context may map, a multiple of the
 *	page, at least VGPU_CTX_VA_START (0: that, rounded up to the page)
 * @va_end: one past the highest, a multiple of the page, at most
 *	VGPU_VA_SIZE (0: VGPU_VA_SIZE).  An engine whose contexts' GPU
 *	addresses are a process's own (the GPU running the guest's code)
 *	announces the window it keeps free for them.
 * @dev: the core's device of the engine, set by vgpu_engine_register()
 *	(its index numbers the render node and sysfs directory)
 */
struct vgpu_engine {
	const char *name;
	struct module *owner;
	const struct vgpu_engine_ops *ops;
	u64 mem_size;
	u64 ctx_mem;
	u32 max_stack;
	u64 stack_threads;
	u32 isa_version;
	u64 features;
	u32 flags;
	const unsigned int *watchdog_ms;
	const char *location;
	u32 page_shift;
	u64 va_start;
	u64 va_end;
	struct vgpu_device *dev;
};

/*
 * The watchdog_ms parameter of every engine module: 1 ms to an hour.  0
 * would end every launch after its first step as hung, and no engine
 * runs a guest's launch unbounded.
 */
#define VGPU_WATCHDOG_MAX_MS	3600000U
extern const struct kernel_param_ops vgpu_watchdog_param_ops;

/* An engine's GPU page in bytes, and its low bits. */
#define vgpu_engine_page_size(e)	BIT_ULL((e)->page_shift)
#define vgpu_engine_page_mask(e)	(vgpu_engine_page_size(e) - 1)

/*
 * The engine's run() stops at its budget (and resumes where it stopped):
 * the scheduler slices time (timeslice_ms).  Without it, run() gets an
 * unlimited budget, each job runs to its end (or the engine's watchdog)
 * and the scheduler charges the job's measured time after it.
 */
#define VGPU_ENGINE_PREEMPTIBLE		BIT(0)

struct vgpu_device;

int vgpu_engine_layout_check(struct vgpu_engine *e);
int vgpu_engine_register(struct vgpu_engine *e);
void vgpu_engine_unregister(struct vgpu_engine *e);

#endif /* VGPU_ENGINE_H */
