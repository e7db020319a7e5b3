/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_uengine.h - the engine bridge: how vgpu-uengine.ko forwards the
 * engine operations of vgpu-back (backend/vgpu_engine.h) to an engine
 * process in dom0 (vgpu-engined), through the character device
 * /dev/vgpu-uengine.  Documentation/engines.rst explains it in prose.
 *
 * One device per GPU: the module's parameter instances=N makes N
 * engines, registered with vgpu-back in order, each with a device of
 * its own: instance 0 is /dev/vgpu-uengine (as with one GPU), instance
 * N >= 1 is /dev/vgpu-uengineN.  Each device has its own session and
 * process; everything below is per device.
 *
 * Session
 * =======
 *
 *  1. The process opens /dev/vgpu-uengine (root only) and issues
 *     VGPU_UE_IOC_HELLO with VGPU_UE_VERSION, the device memory it
 *     has and its GPU's PCI address.  At most one process is
 *     registered at a time per device (-EBUSY); a
 *     version the module does not speak gives -EPROTO (and a line in
 *     the kernel's log); less memory than
 *     the engine announced to vgpu-back (module parameter mem_mb) gives
 *     -ENOSPC.  Each HELLO starts a new *generation*
 *     (numbered across all the devices of the module).
 *  2. The process loops: read() returns exactly one request, a struct
 *     vgpu_ue_req followed by @payload_len bytes; the buffer must hold
 *     VGPU_UE_MAX_MSG bytes, the longest request (else -EINVAL), and
 *     never gets less than the whole request (a buffer shorter than the
 *     request gives -EMSGSIZE); a refused read() leaves the request
 *     queued.  read() blocks (or -EAGAIN with O_NONBLOCK; poll() works).
 *  3. For each request the process write()s exactly one struct
 *     vgpu_ue_resp with the request's @seq, in any order.  A response to
 *     a request that is no longer waited for (timed out) gets -ENOENT,
 *     one that breaks the format (see Responses below) -EINVAL.  The
 *     module checks every value of a RUN's answer against what it asked
 *     (see struct vgpu_ue_resp_run); an answer that cannot be true ends
 *     the session as a timeout does.
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
 * @window << VGPU_UE_WINDOW_SHIFT (bytes) for the MAP's @size bytes,
 * MAP_SHARED, and gets the pages themselves (zero copy), or a shadow
 * where the pages cannot be mapped into a process (a guest's granted
 * pages), page by page on fault.  An object has one shadow per generation, shared by
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

/*
 * 13: a context's call stack is its client's to ask and pay for:
 *    VGPU_UE_IOC_HELLO carries @max_stack and @stack_threads (a stack of
 *    S bytes a thread holds (S - DRM_VGPU_PTX_BASE_STACK) *
 *    @stack_threads bytes, which vgpu-back charges to the context's
 *    client; @ctx_mem covers DRM_VGPU_PTX_BASE_STACK), and CTX_STACK
 *    tells the process the stack a context may now give its PTX.
 *    VGPU_UE_HELLO_PTX_STACK: the process gives a PTX launch the stack
 *    its descriptor names up to what CTX_STACK gave its context.
 * 12: VGPU_UE_IOC_HELLO carries @ctx_mem, the device memory each context
 *    holds in the process beyond its objects (a GPU worker's CUDA
 *    context): vgpu-back charges it to the context's client.
 * 11: VGPU_UE_IOC_HELLO's @flags may say VGPU_UE_HELLO_PTX_STACK (with
 *    VGPU_UE_HELLO_PTX): the process gives a PTX launch the call stack
 *    its descriptor names, and the engine reports
 *    DRM_VGPU_FEATURE_PTX_STACK while it is registered.
 * 10: CTX_CREATE names the context's scheduling group
 *    (struct vgpu_ue_req_ctx_create.group), and the process may refuse a
 *    context with EBUSY: it paces the worker processes one group makes
 *    it start.
 * 9: VGPU_UE_IOC_HELLO's @flags may say VGPU_UE_HELLO_PTX: the process
 *    runs a LAUNCH's PTX (DRM_VGPU_LAUNCH_PTX), and the engine reports
 *    DRM_VGPU_FEATURE_PTX while it is registered.
 * 8: VGPU_UE_IOC_HELLO carries the address layout the back end can serve
 *    (@page_shift, @va_lo, @va_hi) and answers the instance's (the
 *    module's page_kb, va_start_gb, va_end_gb); a back end that cannot
 *    serve it is refused (-EDOM).
 * 7: VGPU_UE_IOC_HELLO carries the GPU's PCI address (@pci); the module
 *    serves several GPUs, one device and one process each
 *    (/dev/vgpu-uengine, /dev/vgpu-uengine1, ...).
 * 6: struct vgpu_ue_req and struct vgpu_ue_resp are a header and a union
 *    with one member per operation, every field named for what it means
 *    (version 5 reused fields: a RUN's budget travelled in @va); the
 *    sizes stayed, the places of the fields did not.
 * 5: %clock64 (VGPU_SR_CLOCK64).
 */
#define VGPU_UE_VERSION		13
#define VGPU_UE_NAME_LEN	32
#define VGPU_UE_PCI_LEN		32
#define VGPU_UE_WINDOW_SHIFT	36	/* 64 GiB of offset per window; ids < 2^27 */

/**
 * struct vgpu_ue_hello - VGPU_UE_IOC_HELLO
 * @version: in, VGPU_UE_VERSION
 * @flags: in, VGPU_UE_HELLO_* (others: -EPROTO)
 * @mem_size: in, device memory the process can allocate, bytes
 * @name: in, what runs the work ("cuda:NVIDIA H200", "interp"), shown
 *	in vgpu-back's sysfs engine/backend
 * @pci: in, the PCI address of the process's GPU as the driver names it
 *	("0000:01:00.0"), NUL-terminated, only the characters 0-9, a-f,
 *	A-F, ':' and '.', every byte after the NUL zero; "" for a back end
 *	that is no PCI device (the interpreter).  Else -EINVAL.  Shown in
 *	sysfs as the engine's pci and location
 * @va_lo: in, lowest GPU address the back end can give a context
 * @va_hi: in, one past the highest (4 KiB multiples, @va_lo < @va_hi)
 * @page_shift: in, log2 of the smallest GPU page the back end can map
 *	on its own: 12 (4 KiB) for the interpreter and translated code, 21
 *	for a GPU's virtual-memory API (12..30, else -EINVAL)
 * @engine_page_shift: out, the instance's GPU page (what the core maps
 *	in), at least @page_shift
 * @engine_va_start: out, the instance's window of GPU addresses, inside
 *	[@va_lo, @va_hi)
 * @engine_va_end: out
 * @generation: out, number of this session (from 1)
 * @engine_mem: out, device memory vgpu-back may promise to clients
 * @watchdog_ns: out, the watchdog the process applies per command
 * @ctx_mem: in, device memory each context holds beyond its objects,
 *	bytes (a worker's CUDA context with a call stack of
 *	DRM_VGPU_PTX_BASE_STACK bytes a thread); at most the memory the
 *	module promises (mem_mb), else -ENOSPC.  vgpu-back takes it from
 *	the device-memory quota of the context's client while the context
 *	lives
 * @max_stack: in, with VGPU_UE_HELLO_PTX_STACK: the largest call stack
 *	a context may be given (CTX_STACK), bytes a thread, a power of two
 *	from 2 * DRM_VGPU_PTX_BASE_STACK to DRM_VGPU_PTX_MAX_STACK; else 0
 *	(-EINVAL otherwise)
 * @pad: zero
 * @stack_threads: in, with VGPU_UE_HELLO_PTX_STACK: the threads the GPU
 *	holds at once, for each of which a context's stack is reserved
 *	(1 to 2^24); else 0 (-EINVAL otherwise)
 *
 * The instance's layout is fixed when the module loads (clients learn it
 * from GET_INFO): a process that cannot serve it is refused with -EDOM,
 * the out fields filled so that it can say what it would need.
 */
struct vgpu_ue_hello {
	__u32 version;
	__u32 flags;
	__u64 mem_size;
	char name[VGPU_UE_NAME_LEN];
	char pci[VGPU_UE_PCI_LEN];
	__u64 va_lo;
	__u64 va_hi;
	__u32 page_shift;
	__u32 engine_page_shift;
	__u64 engine_va_start;
	__u64 engine_va_end;
	__u64 generation;
	__u64 engine_mem;
	__u64 watchdog_ns;
	__u64 ctx_mem;
	__u32 max_stack;
	__u32 pad;
	__u64 stack_threads;
};

#define VGPU_UE_IOC_HELLO	_IOWR('V', 0x40, struct vgpu_ue_hello)

/* The process runs a LAUNCH's PTX (struct drm_vgpu_ptx_launch). */
#define VGPU_UE_HELLO_PTX	(1U << 0)
#define VGPU_UE_HELLO_PTX_STACK	(1U << 1)	/* only with VGPU_UE_HELLO_PTX */

/*
 * Requests
 * ========
 *
 * A request is 72 bytes: a 16-byte header (@seq, @op, @payload_len)
 * and a 56-byte body, the member of the union that @op names.  Every
 * byte of the body past that member is zero.  Only a RUN has a payload.
 */

/* Operations (struct vgpu_ue_req.op) and the member each one uses. */
#define VGPU_UE_OP_CTX_CREATE	1	/* ctx_create  */
#define VGPU_UE_OP_CTX_DESTROY	2	/* ctx_destroy */
#define VGPU_UE_OP_MEM_ALLOC	3	/* mem_alloc   */
#define VGPU_UE_OP_MEM_FREE	4	/* mem_free    */
#define VGPU_UE_OP_MAP		5	/* map         */
#define VGPU_UE_OP_UNMAP	6	/* unmap       */
#define VGPU_UE_OP_RUN		7	/* run         */
#define VGPU_UE_OP_JOB_RELEASE	8	/* job_release */
#define VGPU_UE_OP_CTX_STACK	9	/* ctx_stack   */

#define VGPU_UE_REQ_HDR_LEN	16	/* bytes before the union */
#define VGPU_UE_REQ_BODY_LEN	56	/* bytes of the union */

/**
 * struct vgpu_ue_req_ctx_create - CTX_CREATE: a new address space (16 bytes)
 * @ctx: id of the new context
 * @group: the scheduling group of the context's client, never 0: one
 *	number for every context of a guest on this device (all its
 *	connections), one for dom0's clients.  The process may bound
 *	per group what contexts make it do: vgpu-engined --workers answers
 *	EBUSY (try again later) to a group that has used up its share of
 *	worker starts (Documentation/engines.rst, "Paced starts").
 */
struct vgpu_ue_req_ctx_create {
	__u64 ctx;
	__u64 group;
};

/**
 * struct vgpu_ue_req_ctx_destroy - CTX_DESTROY: the context and its
 *	mappings go (8 bytes)
 * @ctx: the context's id
 */
struct vgpu_ue_req_ctx_destroy {
	__u64 ctx;
};

/**
 * struct vgpu_ue_req_ctx_stack - CTX_STACK: the call stack a context's
 *	PTX may now be given (16 bytes)
 * @ctx: the context's id
 * @stack_size: bytes a thread: a power of two from
 *	2 * DRM_VGPU_PTX_BASE_STACK to the HELLO's @max_stack (vgpu-back
 *	has charged it, and sends only a larger one than the context was
 *	told before; the process keeps the larger of the two).  A PTX
 *	launch naming more runs its ISA
 * @pad: zero
 *
 * The answer: 0, -EINVAL for an unknown context or a field out of these
 * bounds, -EOPNOTSUPP from a process that announced no stack, or the
 * worker's error (the context keeps the stack it had).
 */
struct vgpu_ue_req_ctx_stack {
	__u64 ctx;
	__u32 stack_size;
	__u32 pad;
};

/**
 * struct vgpu_ue_req_mem_alloc - MEM_ALLOC: device memory (16 bytes)
 * @mem: id of the new object
 * @size: bytes, page-aligned
 */
struct vgpu_ue_req_mem_alloc {
	__u64 mem;
	__u64 size;
};

/**
 * struct vgpu_ue_req_mem_free - MEM_FREE (8 bytes)
 * @mem: the object's id
 */
struct vgpu_ue_req_mem_free {
	__u64 mem;
};

/* MAP: what backs the range (struct vgpu_ue_req_map.kind). */
#define VGPU_UE_MAP_DEVICE	0	/* @mem at @offset */
#define VGPU_UE_MAP_HOST	1	/* @window, whole  */

/**
 * struct vgpu_ue_req_map - MAP: memory at a GPU address (48 bytes)
 * @ctx: the context's id
 * @va: GPU virtual address, page-aligned
 * @size: bytes, page-aligned
 * @perms: DRM_VGPU_MAP_READ/WRITE/EXEC
 * @kind: VGPU_UE_MAP_*: which of @mem and @window names the memory
 * @mem: DEVICE: id of the device memory object
 * @window: HOST: window id (mmap() it at @window << VGPU_UE_WINDOW_SHIFT,
 *	@size bytes)
 * @offset: DEVICE: byte offset in @mem, page-aligned; HOST: zero (a
 *	window starts where the range's memory does)
 */
struct vgpu_ue_req_map {
	__u64 ctx;
	__u64 va;
	__u64 size;
	__u32 perms;
	__u32 kind;
	union {
		__u64 mem;
		__u64 window;
	};
	__u64 offset;
};

/**
 * struct vgpu_ue_req_unmap - UNMAP: a range of GPU addresses (24 bytes)
 * @ctx: the context's id
 * @va: first address, page-aligned
 * @size: bytes, page-aligned (to the top of the address space at most;
 *	pages not mapped are skipped)
 */
struct vgpu_ue_req_unmap {
	__u64 ctx;
	__u64 va;
	__u64 size;
};

/**
 * struct vgpu_ue_req_run - RUN: a job, for a budget of engine time
 *	(56 bytes)
 * @ctx: the context's id
 * @job: the job's id: the process keeps the job's commands from its
 *	first RUN (the payload) until JOB_RELEASE or an answer other than
 *	PREEMPTED
 * @budget_ns: engine time the RUN may use before it answers PREEMPTED
 * @watchdog_ns: engine time after which a launch is ended (TIMEDOUT)
 * @num_cmds: commands of the job
 * @next_cmd: index of the next command to run
 * @cmd_done: progress inside command @next_cmd (bytes copied, filled)
 *	from earlier RUNs
 * @cmd_busy_ns: engine time command @next_cmd used in earlier RUNs (for
 *	the watchdog)
 *
 * The payload, @payload_len bytes: the first time the job runs, its
 * struct drm_vgpu_cmd from @next_cmd on ((@num_cmds - @next_cmd) * 128
 * bytes); none after.
 */
struct vgpu_ue_req_run {
	__u64 ctx;
	__u64 job;
	__u64 budget_ns;
	__u64 watchdog_ns;
	__u32 num_cmds;
	__u32 next_cmd;
	__u64 cmd_done;
	__u64 cmd_busy_ns;
};

/**
 * struct vgpu_ue_req_job_release - JOB_RELEASE: the process forgets a
 *	job's commands (8 bytes)
 * @job: the job's id
 */
struct vgpu_ue_req_job_release {
	__u64 job;
};

/**
 * struct vgpu_ue_req - a request, followed by @payload_len bytes (72 bytes)
 * @seq: number of the request, echoed in the response
 * @op: VGPU_UE_OP_*: which member of the union follows
 * @payload_len: bytes after the request (RUN only, else 0)
 * @ctx_create: CTX_CREATE
 * @ctx_destroy: CTX_DESTROY
 * @mem_alloc: MEM_ALLOC
 * @mem_free: MEM_FREE
 * @map: MAP
 * @unmap: UNMAP
 * @run: RUN
 * @job_release: JOB_RELEASE
 * @ctx_stack: CTX_STACK
 * @raw: the body as bytes: fixes its size (VGPU_UE_REQ_BODY_LEN); those
 *	past @op's member are zero
 */
struct vgpu_ue_req {
	__u64 seq;
	__u32 op;
	__u32 payload_len;
	union {
		struct vgpu_ue_req_ctx_create ctx_create;
		struct vgpu_ue_req_ctx_destroy ctx_destroy;
		struct vgpu_ue_req_mem_alloc mem_alloc;
		struct vgpu_ue_req_mem_free mem_free;
		struct vgpu_ue_req_map map;
		struct vgpu_ue_req_unmap unmap;
		struct vgpu_ue_req_run run;
		struct vgpu_ue_req_job_release job_release;
		struct vgpu_ue_req_ctx_stack ctx_stack;
		__u8 raw[VGPU_UE_REQ_BODY_LEN];
	};
};

/* The longest request: a RUN that carries a whole job (524360 bytes). */
#define VGPU_UE_MAX_MSG		(sizeof(struct vgpu_ue_req) + \
				 DRM_VGPU_MAX_CMDS * sizeof(struct drm_vgpu_cmd))

/*
 * Responses
 * =========
 *
 * A response is 64 bytes: a 16-byte header (@seq, @error, @reserved)
 * and a 48-byte body.  Only the answer to a RUN that succeeded (@error
 * 0) has one, member @run; every other answer's body is zero.  write()
 * refuses (-EINVAL) a response that breaks these rules or the header's
 * (the request then still waits for its answer, or its timeout).
 */

#define VGPU_UE_RESP_HDR_LEN	16	/* bytes before the union */
#define VGPU_UE_RESP_BODY_LEN	48	/* bytes of the union */

/* RUN: what the process reports (struct vgpu_ue_resp_run.status). */
#define VGPU_UE_RUN_DONE	0	/* every command has run            */
#define VGPU_UE_RUN_PREEMPTED	1	/* budget used; RUN again to resume */
#define VGPU_UE_RUN_FAULTED	2	/* @fault_kind at @fault_addr       */
#define VGPU_UE_RUN_TIMEDOUT	3	/* the watchdog ended a command     */

/**
 * struct vgpu_ue_resp_run - what a RUN did (48 bytes)
 * @status: VGPU_UE_RUN_*
 * @fault_kind: FAULTED: DRM_VGPU_FAULT_* (NONE only if the fault's kind
 *	is unknown); else zero
 * @next_cmd: index of the next command to run, from the request's
 *	@next_cmd on; the job's length when DONE, below it when PREEMPTED
 *	or TIMEDOUT
 * @cmd_done: progress inside command @next_cmd, at most its @size
 *	(COPY, FILL; 0 for a LAUNCH and past the last command)
 * @cmd_busy_ns: engine time command @next_cmd has used so far (at most
 *	the request's @cmd_busy_ns plus @busy_ns if it is the request's
 *	command, else at most @busy_ns)
 * @busy_ns: engine time this RUN used, at most the time the module
 *	waited for the answer
 * @fault_addr: FAULTED: GPU address (or shared-memory offset); else zero
 *
 * The module checks every value against what it asked: an answer that
 * cannot be true ends the session as a timeout does.
 */
struct vgpu_ue_resp_run {
	__u32 status;
	__u32 fault_kind;
	__u64 next_cmd;
	__u64 cmd_done;
	__u64 cmd_busy_ns;
	__u64 busy_ns;
	__u64 fault_addr;
};

/**
 * struct vgpu_ue_resp - the answer to one request (64 bytes)
 * @seq: the request's @seq
 * @error: 0 or a negative errno (-ENOMEM, -ENOSPC, -EINVAL, ...)
 * @reserved: zero
 * @run: RUN, @error 0
 * @raw: the body as bytes: fixes its size (VGPU_UE_RESP_BODY_LEN); zero
 *	but for @run
 */
struct vgpu_ue_resp {
	__u64 seq;
	__s32 error;
	__u32 reserved;
	union {
		struct vgpu_ue_resp_run run;
		__u8 raw[VGPU_UE_RESP_BODY_LEN];
	};
};

#endif /* VGPU_UENGINE_H */
