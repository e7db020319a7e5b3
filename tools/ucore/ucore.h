/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * ucore.h - vgpu-back's core (backend/vgpu_core.c, vgpu_device.c,
 * vgpu_sched.c) in a process: the same code as the module, built against
 * the fuzzer's kernel shim (fuzz/shim) as the fuzzer builds it, behind a
 * small C interface, with an engine given as callbacks.  It lets a
 * program on a machine without Xen or kernel modules (the GPU machine)
 * reach an engine the way a dom0 program reaches it through the render
 * node: every request checked by the core's vgpu_op_*, its objects,
 * quotas and mappings kept there, its jobs run by the core's scheduler in
 * slices (Documentation/engines.rst "The core in a process").
 *
 * What differs from a dom0: no DRM file (the ioctls' decoding, which is
 * vgpu_uapi's checks, is called here as vgpu_drv.c calls it); one
 * thread at a time: every call below, for every ucore of the process,
 * is made under one lock of the caller's (the shim's locks only count,
 * and its state is the process's), the scheduler's slices too, one per
 * ucore_run_once() (as the fuzzer runs them), where the module has a
 * scheduler thread per device; and host memory comes from the caller's
 * allocator.
 */
#ifndef GPUVM_UCORE_H
#define GPUVM_UCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vgpu_drm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ucore;

/* A job as the engine sees it (struct vgpu_engine_job's fields). */
struct ucore_job {
	const struct drm_vgpu_cmd *cmds;
	uint32_t num_cmds;
	uint32_t next_cmd;	/* progress, the engine's to update */
	uint64_t cmd_done;
	uint64_t cmd_busy_ns;
	uint64_t busy_ns;
	uint32_t fault_kind;	/* when run() says UCORE_FAULTED */
	uint64_t fault_addr;
	void *priv;		/* the engine's, freed by job_release() */
};

enum ucore_status {
	UCORE_DONE,
	UCORE_PREEMPTED,
	UCORE_FAULTED,
	UCORE_TIMEDOUT,
};

/*
 * The engine (struct vgpu_engine_ops, in ids): each returns 0 or a
 * positive errno.  map(): device memory @mem at @offset, or (@mem 0)
 * host memory at @host + @offset, which host_alloc() made.  The core
 * serialises calls per context, as the module's engines are promised.
 */
struct ucore_engine_ops {
	void *arg;
	int (*ctx_create)(void *arg, uint64_t group, uint64_t *ctx);
	void (*ctx_destroy)(void *arg, uint64_t ctx);
	int (*mem_alloc)(void *arg, uint64_t size, uint64_t *mem);
	void (*mem_free)(void *arg, uint64_t mem);
	int (*map)(void *arg, uint64_t ctx, uint64_t va, uint64_t mem,
		   uint8_t *host, uint64_t offset, uint64_t size,
		   uint32_t perms);
	void (*unmap)(void *arg, uint64_t ctx, uint64_t va, uint64_t size);
	enum ucore_status (*run)(void *arg, uint64_t ctx, struct ucore_job *job,
				 uint64_t budget_ns);
	void (*job_release)(void *arg, struct ucore_job *job);
	/* Host memory of host-domain objects: page-aligned, zeroed, or NULL. */
	void *(*host_alloc)(void *arg, uint64_t size);
	void (*host_free)(void *arg, void *p, uint64_t size);
	/*
	 * Optional (NULL: the engine gives no call stack, CTX_STACK
	 * answers -EOPNOTSUPP): @ctx's PTX may now have a call stack of
	 * @stack_size bytes a thread, which the core has charged to its
	 * client (struct vgpu_engine_ops.ctx_stack).
	 */
	int (*ctx_stack)(void *arg, uint64_t ctx, uint32_t stack_size);
};

/*
 * The engine's layout (struct vgpu_engine's) and a client's quotas (0:
 * the core's defaults, the module parameters' defaults).
 */
struct ucore_config {
	const char *name;
	uint64_t mem_size;
	uint64_t ctx_mem;	/* struct vgpu_engine.ctx_mem */
	uint32_t max_stack;	/* struct vgpu_engine.max_stack */
	uint64_t stack_threads;	/* struct vgpu_engine.stack_threads */
	uint64_t features;	/* DRM_VGPU_FEATURE_* */
	uint32_t page_shift;
	uint64_t va_start, va_end;
	unsigned int watchdog_ms;
	unsigned int timeslice_ms;	/* 0: the core's default */
	uint64_t quota_devmem, quota_hostmem, quota_mapped;
	uint32_t quota_objects, quota_jobs;
};

/* The engine registered: a device of the core.  NULL on error, said in @err. */
struct ucore *ucore_create(const struct ucore_engine_ops *ops,
			   const struct ucore_config *cfg, char *err,
			   size_t errlen);
/* Unregisters the engine: every client closed first. */
void ucore_destroy(struct ucore *u);

/*
 * A client of the device, as an open render node: in the device's native
 * group (dom0's programs) when @weight is 0, else in a group of its own
 * (a guest domain) with @weight (1-10000) and @cap (0: none, else a
 * percentage of the engine), with @cfg's quotas.  NULL on error, said in
 * @err.
 */
struct ucore_client;
struct ucore_client *ucore_client_open(struct ucore *u, const char *name,
				       uint32_t weight, uint32_t cap,
				       const struct ucore_config *cfg,
				       char *err, size_t errlen);
/* Closes it: its contexts, objects and jobs (cancelled). */
void ucore_client_close(struct ucore_client *c);
/* A group's new @weight and @cap (a client in a group of its own). */
int ucore_client_set(struct ucore_client *c, uint32_t weight, uint32_t cap);
/* Engine time its jobs used, ns (its busy_ns in sysfs). */
uint64_t ucore_client_busy_ns(struct ucore_client *c);

/*
 * The ioctls of vgpu_drv.c, each decoded as there and answered by the
 * core's vgpu_op_*: 0 or a negative errno, as the ioctl would return.
 */
void ucore_info(struct ucore_client *c, struct drm_vgpu_info *out);
int ucore_ctx_create(struct ucore_client *c, struct drm_vgpu_ctx_create *a);
int ucore_ctx_destroy(struct ucore_client *c, struct drm_vgpu_ctx_destroy *a);
int ucore_ctx_status(struct ucore_client *c, struct drm_vgpu_ctx_status *a);
int ucore_ctx_stack(struct ucore_client *c, struct drm_vgpu_ctx_stack *a);
/* A host-domain object's memory in *@cpu (NULL for device memory). */
int ucore_bo_create(struct ucore_client *c, struct drm_vgpu_bo_create *a,
		    void **cpu);
int ucore_bo_destroy(struct ucore_client *c, struct drm_vgpu_bo_destroy *a);
/* BO_MMAP_OFFSET's checks; the host memory in *@cpu (no offset: one process). */
int ucore_bo_host(struct ucore_client *c, struct drm_vgpu_bo_mmap_offset *a,
		  void **cpu);
int ucore_vm_bind(struct ucore_client *c, struct drm_vgpu_vm_bind *a);
/* A job's completion (a dma_fence of the core's), counted. */
struct ucore_fence;
/*
 * SUBMIT: the job's sequence number in @a->seqno, its fence in *@done
 * (the caller's syncobjs hold fences: @a->out_sync is theirs).  In
 * fences (@a->num_in_syncs) are not taken here: -EOPNOTSUPP.
 */
int ucore_submit(struct ucore_client *c, struct drm_vgpu_submit *a,
		 struct ucore_fence **done);
/* SUBMIT's decode checks alone (vgpu_check_submit), which come first. */
int ucore_check_submit(const struct drm_vgpu_submit *a);
/*
 * One slice of the next runnable job of the device, on the caller's
 * thread (the module's scheduler thread's loop body): false if none was
 * runnable (nothing queued, or only capped groups waiting for their
 * time).
 */
bool ucore_run_once(struct ucore *u);
/* Whether a job is queued on the device (another slice may run one). */
bool ucore_queued(struct ucore *u);
/* 1 signalled, 0 pending, < 0 signalled with that error. */
int ucore_fence_status(struct ucore_fence *f);
/*
 * Calls @fn(@arg, status) once when @f signals (dma_fence_add_callback()),
 * with the fence's status then (ucore_fence_status()): on the thread that
 * signals it, under the caller's lock, so @fn must be short and must not
 * call into the core.  0 if armed; -ENOENT if @f has already signalled,
 * -ENOMEM: then @fn is never called.  A fence is only freed signalled,
 * so an armed @fn always runs.
 */
int ucore_fence_notify(struct ucore_fence *f, void (*fn)(void *arg, int status),
		       void *arg);
void ucore_fence_put(struct ucore_fence *f);
/* Log lines the core printed (the shim counts them; UKERNEL_LOG=1 shows them). */
unsigned long ucore_log_lines(void);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_UCORE_H */
