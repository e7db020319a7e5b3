/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_uengine.h - the engine bridge: how vgpu-uengine.ko forwards the
 * engine operations of vgpu-back (backend/vgpu_engine.h) to an engine
 * process in dom0 (vgpu-engined), through the character device
 * /dev/vgpu-uengine.  Documentation/engines.rst explains it in prose.
 *
 * Session
 * =======
 *
 *  1. The process opens /dev/vgpu-uengine (root only) and issues
 *     VGPU_UE_IOC_HELLO with VGPU_UE_VERSION and the device memory it
 *     has.  At most one process is registered at a time (-EBUSY); a
 *     version the module does not speak gives -EPROTO (and a line in
 *     the kernel's log); less memory than
 *     the engine announced to vgpu-back (module parameter mem_mb) gives
 *     -ENOSPC.  Each HELLO starts a new *generation*.
 *  2. The process loops: read() returns exactly one request, a struct
 *     vgpu_ue_req followed by @payload_len bytes; the buffer must hold
 *     VGPU_UE_MAX_MSG bytes, the longest request (else -EINVAL), and
 *     never gets less than the whole request (a buffer shorter than the
 *     request gives -EMSGSIZE); a refused read() leaves the request
 *     queued.  read() blocks (or -EAGAIN with O_NONBLOCK; poll() works).
 *  3. For each request the process write()s exactly one struct
 *     vgpu_ue_resp with the request's @seq, in any order.  A response to
 *     a request that is no longer waited for (timed out) gets -ENOENT.
 *     The module checks every value of a RUN's answer against what it
 *     asked (see struct vgpu_ue_resp); an answer that cannot be true
 *     ends the session as a timeout does.
 *  4. close() (or the process dying) ends the session: every operation
 *     in flight fails, every context and device memory object of that
 *     generation is lost (its jobs fault with DRM_VGPU_FAULT_ENGINE_LOST),
 *     vgpu-back stays up, and a new process may say HELLO.
 *
 * Every operation has a timeout (module parameter op_timeout_ms; a RUN
 * gets its budget and the watchdog on top).  A timeout ends the session
 * as close() does: the process's state is no longer known.
 *
 * Objects
 * =======
 *
 * The module names contexts and device memory objects with 64-bit ids
 * that it never reuses.  Host memory mapped into a context is a *window*:
 * the process mmap()s /dev/vgpu-uengine at offset
 * @window << VGPU_UE_WINDOW_SHIFT (bytes) for @size bytes, MAP_SHARED,
 * and gets the pages themselves (zero copy), or a shadow where the pages
 * cannot be mapped into a process (a guest's granted pages), page by
 * page on fault.  An object has one shadow per generation, shared by
 * every window on it (in any context), of the pages some window covers.
 * Before each RUN of a context the module copies in the pages its
 * windows still map whose source changed since they were last
 * synchronised; after it, it copies out, through the context's writable
 * windows only, the pages whose shadow changed since then (the engine
 * wrote them): a page the engine did not write keeps
 * what the guest's CPU wrote meanwhile; one both wrote gets the
 * engine's.  A window lives until its last page is unmapped from the
 * context or the context is destroyed; the process's mapping keeps the
 * pages until it unmaps them, or until its session ends: its mappings
 * are then zapped (a later access gets SIGBUS).  A RUN that timed out
 * or got an impossible answer copies nothing out.
 *
 * All fields are in the host's byte order (the process runs on the same
 * host); every padding and reserved field is zero.
 */
#ifndef VGPU_UENGINE_H
#define VGPU_UENGINE_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include "vgpu_drm.h"

#define VGPU_UE_VERSION		5	/* 5: %clock64 (VGPU_SR_CLOCK64) */
#define VGPU_UE_NAME_LEN	32
#define VGPU_UE_WINDOW_SHIFT	36	/* 64 GiB of offset per window; ids < 2^27 */

/**
 * struct vgpu_ue_hello - VGPU_UE_IOC_HELLO
 * @version: in, VGPU_UE_VERSION
 * @flags: in, zero
 * @mem_size: in, device memory the process can allocate, bytes
 * @name: in, what runs the work ("cuda:NVIDIA H200", "interp"), shown
 *	in vgpu-back's sysfs engine/backend
 * @generation: out, number of this session (from 1)
 * @engine_mem: out, device memory vgpu-back may promise to clients
 * @watchdog_ns: out, the watchdog the process applies per command
 */
struct vgpu_ue_hello {
	__u32 version;
	__u32 flags;
	__u64 mem_size;
	char name[VGPU_UE_NAME_LEN];
	__u64 generation;
	__u64 engine_mem;
	__u64 watchdog_ns;
};

#define VGPU_UE_IOC_HELLO	_IOWR('V', 0x40, struct vgpu_ue_hello)

/* Operations (struct vgpu_ue_req.op). */
#define VGPU_UE_OP_CTX_CREATE	1	/* ctx                                 */
#define VGPU_UE_OP_CTX_DESTROY	2	/* ctx                                 */
#define VGPU_UE_OP_MEM_ALLOC	3	/* mem, size                           */
#define VGPU_UE_OP_MEM_FREE	4	/* mem                                 */
#define VGPU_UE_OP_MAP		5	/* ctx, va, size, perms, mem|window, offset */
#define VGPU_UE_OP_UNMAP	6	/* ctx, va, size                       */
#define VGPU_UE_OP_RUN		7	/* ctx, job, budget: see below         */
#define VGPU_UE_OP_JOB_RELEASE	8	/* job                                 */

/* MAP: what backs the range. */
#define VGPU_UE_MAP_DEVICE	0	/* @mem at @offset                     */
#define VGPU_UE_MAP_HOST	1	/* @window at @offset                  */

/**
 * struct vgpu_ue_req - a request, followed by @payload_len bytes (72 bytes)
 * @seq: number of the request, echoed in the response
 * @op: VGPU_UE_OP_*
 * @payload_len: bytes after this header: RUN: num_cmds * 128 the first
 *	time a job runs (its struct drm_vgpu_cmd from @next_cmd on), 0 after
 * @ctx: context id (CTX_*, MAP, UNMAP, RUN)
 * @obj: MEM_*: device memory id; MAP: memory id (DEVICE) or window id
 *	(HOST); RUN, JOB_RELEASE: job id
 * @va: MAP, UNMAP: GPU virtual address, page-aligned; RUN: budget, ns
 * @size: MEM_ALLOC, MAP, UNMAP: bytes, page-aligned; RUN: watchdog, ns
 * @offset: MAP: byte offset in @obj, page-aligned; RUN: progress inside
 *	command @next_cmd (bytes copied, filled)
 * @perms: MAP: DRM_VGPU_MAP_READ/WRITE/EXEC; RUN: number of commands
 * @kind: MAP: VGPU_UE_MAP_*; RUN: index of the next command to run
 * @busy: RUN: engine time command @kind used in earlier RUNs, ns (for
 *	the watchdog)
 */
struct vgpu_ue_req {
	__u64 seq;
	__u32 op;
	__u32 payload_len;
	__u64 ctx;
	__u64 obj;
	__u64 va;
	__u64 size;
	__u64 offset;
	__u32 perms;
	__u32 kind;
	__u64 busy;
};

/* The longest request: a RUN that carries a whole job (524360 bytes). */
#define VGPU_UE_MAX_MSG		(sizeof(struct vgpu_ue_req) + \
				 DRM_VGPU_MAX_CMDS * sizeof(struct drm_vgpu_cmd))

/* RUN: what the process reports (struct vgpu_ue_resp.status). */
#define VGPU_UE_RUN_DONE	0	/* every command has run            */
#define VGPU_UE_RUN_PREEMPTED	1	/* budget used; RUN again to resume */
#define VGPU_UE_RUN_FAULTED	2	/* @fault_kind at @fault_addr       */
#define VGPU_UE_RUN_TIMEDOUT	3	/* the watchdog ended a command     */

/**
 * struct vgpu_ue_resp - the answer to one request (64 bytes)
 * @seq: the request's @seq
 * @error: 0 or a negative errno (-ENOMEM, -ENOSPC, -EINVAL, ...)
 * @status: RUN: VGPU_UE_RUN_*
 * @next_cmd: RUN: index of the next command to run, from the request's
 *	on; the job's length when DONE, below it when PREEMPTED or TIMEDOUT
 * @cmd_done: RUN: progress inside command @next_cmd, at most its @size
 *	(COPY, FILL; 0 for a LAUNCH and past the last command)
 * @cmd_busy_ns: RUN: engine time command @next_cmd has used so far (at
 *	most the request's @busy plus @busy_ns if it is the request's
 *	command, else at most @busy_ns)
 * @busy_ns: RUN: engine time this RUN used, at most the time the module
 *	waited for the answer
 * @fault_addr: RUN, FAULTED: GPU address (or shared-memory offset)
 * @fault_kind: RUN, FAULTED: DRM_VGPU_FAULT_* (NONE only if the fault's
 *	kind is unknown)
 * @reserved: zero
 */
struct vgpu_ue_resp {
	__u64 seq;
	__s32 error;
	__u32 status;
	__u64 next_cmd;
	__u64 cmd_done;
	__u64 cmd_busy_ns;
	__u64 busy_ns;
	__u64 fault_addr;
	__u32 fault_kind;
	__u32 reserved;
};

#endif /* VGPU_UENGINE_H */
