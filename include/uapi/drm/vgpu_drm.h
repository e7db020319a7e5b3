/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_drm.h - uAPI of the GPUvm render node (driver name "vgpu").
 *
 * dom0's native node (vgpu-back) and a guest's node (vgpu-front) expose
 * exactly this interface.  Every structure has a fixed size, is 64-bit
 * aligned, carries no kernel pointer and has explicit padding; padding,
 * reserved fields and flags not defined here must be zero or the ioctl
 * fails with -EINVAL.  Fields that carry user pointers (__u64) are only
 * read by the kernel that receives the ioctl; the guest frontend copies
 * the arrays they point to before forwarding anything.
 *
 * See Documentation/uapi.rst.
 */
#ifndef _UAPI_VGPU_DRM_H_
#define _UAPI_VGPU_DRM_H_

#ifdef __KERNEL__
#include <drm/drm.h>
#elif !defined(__has_include) || __has_include("drm.h")
#include "drm.h"	/* libdrm's include directory, as Mesa does */
#else
/*
 * No libdrm headers (a GPU host building vgpu-engined alone): the few
 * definitions of drm.h that this header uses, with drm.h's values.
 */
#include <linux/ioctl.h>
#include <linux/types.h>
#ifndef DRM_IOCTL_BASE
/* Spelt as drm.h spells them: a later drm.h redefines them identically. */
#define DRM_IOCTL_BASE			'd'
#define DRM_IOR(nr,type)		_IOR(DRM_IOCTL_BASE,nr,type)
#define DRM_IOW(nr,type)		_IOW(DRM_IOCTL_BASE,nr,type)
#define DRM_IOWR(nr,type)		_IOWR(DRM_IOCTL_BASE,nr,type)
#define DRM_COMMAND_BASE                0x40
#endif
#endif

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_VGPU_UAPI_VERSION		1

#define DRM_VGPU_GET_INFO		0x00
#define DRM_VGPU_CTX_CREATE		0x01
#define DRM_VGPU_CTX_DESTROY		0x02
#define DRM_VGPU_CTX_STATUS		0x03
#define DRM_VGPU_BO_CREATE		0x04
#define DRM_VGPU_BO_DESTROY		0x05
#define DRM_VGPU_BO_MMAP_OFFSET		0x06
#define DRM_VGPU_VM_BIND		0x07
#define DRM_VGPU_SUBMIT			0x08
#define DRM_VGPU_CTX_STACK		0x09

/* How the node reaches the engine. */
#define DRM_VGPU_MODE_NATIVE		0	/* dom0, local node      */
#define DRM_VGPU_MODE_NAIVE		1	/* guest, naive PV       */
#define DRM_VGPU_MODE_HP		2	/* guest, high-perf. PV  */

/* Features (drm_vgpu_info.features). */
#define DRM_VGPU_FEATURE_HOST_MEMORY	(1ULL << 0)
#define DRM_VGPU_FEATURE_PREEMPTION	(1ULL << 1)
#define DRM_VGPU_FEATURE_ATOMICS	(1ULL << 2)
/* The engine runs a LAUNCH's PTX (DRM_VGPU_LAUNCH_PTX) as itself. */
#define DRM_VGPU_FEATURE_PTX		(1ULL << 3)
/*
 * ... with the call stack its descriptor names (ptx_launch.stack_size),
 * up to what DRM_IOCTL_VGPU_CTX_STACK gave its context.
 */
#define DRM_VGPU_FEATURE_PTX_STACK	(1ULL << 4)

/* Limits. */
#define DRM_VGPU_MAX_BIND_OPS		256
#define DRM_VGPU_MAX_CMDS		4096
#define DRM_VGPU_MAX_IN_SYNCS		32
#define DRM_VGPU_NUM_PARAMS		8
#define DRM_VGPU_ENGINE_NAME_LEN	32

/**
 * struct drm_vgpu_info - DRM_IOCTL_VGPU_GET_INFO, all fields out
 * @uapi_version: DRM_VGPU_UAPI_VERSION of the kernel
 * @mode: DRM_VGPU_MODE_*
 * @engine: NUL-terminated engine name ("vgpu-sim")
 * @isa_version: version of the engine's instruction set
 * @page_size: GPU page size; VM_BIND and BO sizes are multiples of it
 * @features: DRM_VGPU_FEATURE_*
 * @va_start: lowest GPU virtual address a context may map
 * @va_end: one past the highest
 * @device_memory_size: device memory of the engine, bytes
 * @device_memory_quota: device memory this client may allocate, bytes:
 *	whole GPU pages (@page_size), 0 when it may allocate none
 * @max_contexts: contexts this client may hold
 * @max_objects: buffer objects this client may hold
 * @max_block_threads: threads per block of a launch
 * @max_shared_size: shared memory per block of a launch, bytes
 * @max_grid_x: blocks in x of a launch's grid (65535 in y and z); 0 from
 *	a dom0 older than it, which takes 65535 in x too
 * @max_stack_size: the largest call stack a thread of a context's PTX
 *	may be given (DRM_IOCTL_VGPU_CTX_STACK), bytes, a power of two at
 *	most DRM_VGPU_PTX_MAX_STACK; 0 without DRM_VGPU_FEATURE_PTX_STACK
 *	and from a dom0 older than CTX_STACK (whose PTX_STACK meant a
 *	stack its owner gave every context)
 * @context_memory: device memory the engine holds for each context of
 *	the client beyond its objects, bytes (whole GPU pages): taken from
 *	@device_memory_quota while the context lives.  0 for an engine
 *	whose contexts hold none (vgpu-sim) and from an older dom0.  It
 *	covers a call stack of DRM_VGPU_PTX_BASE_STACK bytes a thread
 * @stack_threads: the threads the engine holds a context's call stack
 *	for (its GPU's resident threads): a stack of S bytes a thread
 *	(DRM_IOCTL_VGPU_CTX_STACK) holds (S - DRM_VGPU_PTX_BASE_STACK) *
 *	@stack_threads bytes beyond @context_memory.  0 without
 *	DRM_VGPU_FEATURE_PTX_STACK and from an older dom0
 * @reserved: zero
 */
struct drm_vgpu_info {
	__u32 uapi_version;
	__u32 mode;
	char engine[DRM_VGPU_ENGINE_NAME_LEN];
	__u32 isa_version;
	__u32 page_size;
	__u64 features;
	__u64 va_start;
	__u64 va_end;
	__u64 device_memory_size;
	__u64 device_memory_quota;
	__u32 max_contexts;
	__u32 max_objects;
	__u32 max_block_threads;
	__u32 max_shared_size;
	__u32 max_grid_x;
	__u32 max_stack_size;
	__u64 context_memory;
	__u64 stack_threads;
	__u64 reserved;
};

#define DRM_VGPU_PRIO_LOW		0
#define DRM_VGPU_PRIO_NORMAL		1
#define DRM_VGPU_PRIO_HIGH		2

/**
 * struct drm_vgpu_ctx_create - DRM_IOCTL_VGPU_CTX_CREATE
 * @flags: zero
 * @priority: DRM_VGPU_PRIO_*
 * @ctx_id: out, non-zero id of the new context (its own GPU address space)
 * @pad: zero
 */
struct drm_vgpu_ctx_create {
	__u32 flags;
	__u32 priority;
	__u32 ctx_id;
	__u32 pad;
};

/**
 * struct drm_vgpu_ctx_destroy - DRM_IOCTL_VGPU_CTX_DESTROY
 * @ctx_id: context to destroy; its queued work is cancelled and its
 *	mappings removed
 * @pad: zero
 */
struct drm_vgpu_ctx_destroy {
	__u32 ctx_id;
	__u32 pad;
};

#define DRM_VGPU_CTX_OK			0
#define DRM_VGPU_CTX_FAULTED		1
#define DRM_VGPU_CTX_HUNG		2
#define DRM_VGPU_CTX_BANNED		3

/* drm_vgpu_ctx_status.fault_kind */
#define DRM_VGPU_FAULT_NONE		0
#define DRM_VGPU_FAULT_UNMAPPED		1
#define DRM_VGPU_FAULT_PERM		2
#define DRM_VGPU_FAULT_MISALIGNED	3
#define DRM_VGPU_FAULT_SHARED		4
#define DRM_VGPU_FAULT_ILLEGAL		5
/* The engine lost the context's state (its engine process ended). */
#define DRM_VGPU_FAULT_ENGINE_LOST	6

/**
 * struct drm_vgpu_ctx_status - DRM_IOCTL_VGPU_CTX_STATUS
 * @ctx_id: in
 * @status: out, DRM_VGPU_CTX_*
 * @fault_addr: out, GPU address of the fault (status FAULTED)
 * @fault_kind: out, DRM_VGPU_FAULT_*
 * @pad: zero
 * @submitted: out, submissions accepted on this context
 * @completed: out, submissions finished (successfully or not)
 * @reserved: zero
 */
struct drm_vgpu_ctx_status {
	__u32 ctx_id;
	__u32 status;
	__u64 fault_addr;
	__u32 fault_kind;
	__u32 pad;
	__u64 submitted;
	__u64 completed;
	__u64 reserved[2];
};

/**
 * struct drm_vgpu_ctx_stack - DRM_IOCTL_VGPU_CTX_STACK: the call stack
 *	a context's PTX may use (CUDA's cudaLimitStackSize), charged to
 *	the client as device memory
 * @ctx_id: in, the context
 * @stack_size: in, bytes a thread, 1..drm_vgpu_info.max_stack_size; out,
 *	what the context now has: a power of two, at least
 *	DRM_VGPU_PTX_BASE_STACK and what was asked.  A stack is never
 *	lowered (a smaller one asked leaves it as it is)
 * @charged: in, zero; out, device memory the context holds for its
 *	stack beyond drm_vgpu_info.context_memory, bytes (whole GPU pages):
 *	taken from the client's device-memory quota until the context is
 *	destroyed
 *
 * Only where the engine has DRM_VGPU_FEATURE_PTX_STACK (-EOPNOTSUPP
 * otherwise).  The charge is (stack_size - DRM_VGPU_PTX_BASE_STACK) *
 * drm_vgpu_info.stack_threads, what the GPU's driver reserves for the
 * context; a raise past the quota is refused with -EDQUOT and changes
 * nothing.  A LAUNCH with DRM_VGPU_LAUNCH_PTX naming a larger stack
 * (drm_vgpu_ptx_launch.stack_size) than its context has runs its ISA.
 */
struct drm_vgpu_ctx_stack {
	__u32 ctx_id;
	__u32 stack_size;
	__u64 charged;
};

/* The call stack a context has before any CTX_STACK, bytes a thread. */
#define DRM_VGPU_PTX_BASE_STACK		1024U

#define DRM_VGPU_DOMAIN_DEVICE		1	/* device memory, no CPU map */
#define DRM_VGPU_DOMAIN_HOST		2	/* host pages, mmap-able     */

/**
 * struct drm_vgpu_bo_create - DRM_IOCTL_VGPU_BO_CREATE
 * @size: bytes, non-zero; rounded up to the page size
 * @domain: DRM_VGPU_DOMAIN_*
 * @flags: zero
 * @handle: out, non-zero handle, private to the file
 * @pad: zero
 */
struct drm_vgpu_bo_create {
	__u64 size;
	__u32 domain;
	__u32 flags;
	__u32 handle;
	__u32 pad;
};

/**
 * struct drm_vgpu_bo_destroy - DRM_IOCTL_VGPU_BO_DESTROY
 * @handle: object to release; its memory is freed once no mapping and no
 *	CPU mapping use it any more
 * @pad: zero
 */
struct drm_vgpu_bo_destroy {
	__u32 handle;
	__u32 pad;
};

/**
 * struct drm_vgpu_bo_mmap_offset - DRM_IOCTL_VGPU_BO_MMAP_OFFSET
 * @handle: a DRM_VGPU_DOMAIN_HOST object
 * @pad: zero
 * @offset: out, offset to pass to mmap(2) on the node
 */
struct drm_vgpu_bo_mmap_offset {
	__u32 handle;
	__u32 pad;
	__u64 offset;
};

#define DRM_VGPU_BIND_MAP		1
#define DRM_VGPU_BIND_UNMAP		2

#define DRM_VGPU_BIND_READ		(1U << 0)
#define DRM_VGPU_BIND_WRITE		(1U << 1)
#define DRM_VGPU_BIND_EXEC		(1U << 2)

/**
 * struct drm_vgpu_vm_bind_op - one operation of DRM_IOCTL_VGPU_VM_BIND
 * @op: DRM_VGPU_BIND_MAP or DRM_VGPU_BIND_UNMAP
 * @flags: MAP: DRM_VGPU_BIND_READ/WRITE/EXEC, at least one; UNMAP: zero
 * @handle: MAP: object to map; UNMAP: zero
 * @pad: zero
 * @bo_offset: MAP: page-aligned offset in the object; UNMAP: zero
 * @va: page-aligned GPU virtual address
 * @size: page-aligned, non-zero; UNMAP removes a range that lies inside
 *	one existing mapping (the rest of it stays mapped)
 */
struct drm_vgpu_vm_bind_op {
	__u32 op;
	__u32 flags;
	__u32 handle;
	__u32 pad;
	__u64 bo_offset;
	__u64 va;
	__u64 size;
};

/**
 * struct drm_vgpu_vm_bind - DRM_IOCTL_VGPU_VM_BIND
 * @ctx_id: context whose address space changes
 * @num_ops: 1..DRM_VGPU_MAX_BIND_OPS
 * @ops: user pointer to an array of struct drm_vgpu_vm_bind_op
 * @flags: zero
 * @num_done: out, operations applied; they are applied in order and
 *	the first failing one stops the call, so on error @num_done tells
 *	exactly which operations took effect
 */
struct drm_vgpu_vm_bind {
	__u32 ctx_id;
	__u32 num_ops;
	__u64 ops;
	__u32 flags;
	__u32 num_done;
};

#define DRM_VGPU_CMD_COPY		1
#define DRM_VGPU_CMD_FILL		2
#define DRM_VGPU_CMD_LAUNCH		3

/* Flags of a command (drm_vgpu_cmd.flags). */
#define DRM_VGPU_LAUNCH_PTX		(1U << 0)	/* LAUNCH only */

/**
 * struct drm_vgpu_ptx_launch - what a LAUNCH with DRM_VGPU_LAUNCH_PTX
 *	names at its @dst: the same kernel as the ISA at its @src, as the
 *	PTX it was compiled from (64 bytes)
 * @magic: DRM_VGPU_PTX_MAGIC
 * @version: DRM_VGPU_PTX_VERSION
 * @ptx: GPU address of the module's PTX text: @ptx_size bytes, the
 *	last one NUL and no other
 * @ptx_size: 2..DRM_VGPU_PTX_MAX_TEXT
 * @ptx_hash: FNV-1a (64 bits) of the @ptx_size bytes.  An engine may
 *	keep what it compiled by (@ptx, @ptx_size, @ptx_hash) for the
 *	context's later launches without reading the text again: a context
 *	that changes its PTX in place under the same hash runs the old code
 *	(its own; no other context's)
 * @entry_len: bytes of the entry's name (1..DRM_VGPU_PTX_MAX_ENTRY)
 * @param_size: bytes of parameters (0..DRM_VGPU_PTX_MAX_PARAMS), laid
 *	out as the PTX entry declares them (as cuLaunchKernel's
 *	CU_LAUNCH_PARAM_BUFFER_POINTER)
 * @shared_size: dynamic shared memory per block, bytes (the PTX's
 *	.extern .shared), beside what the PTX declares
 * @stack_size: bytes of call stack each thread may use (CUDA's
 *	cudaLimitStackSize, for a kernel that recurses), at most
 *	DRM_VGPU_PTX_MAX_STACK; 0: the engine's default.  Non-zero only
 *	where the engine has DRM_VGPU_FEATURE_PTX_STACK: an engine that runs
 *	PTX without it (VGPU_UE_VERSION 10) faults such a launch ILLEGAL;
 *	one with it runs the ISA for a stack larger than its context was
 *	given (DRM_IOCTL_VGPU_CTX_STACK).  An engine keeps the largest
 *	stack a context's launches named for the context's life
 * @reserved: zero
 *
 * The command's @dst holds this header, then the entry's name (no NUL),
 * then the parameters; its @size is the sum (at most
 * DRM_VGPU_PTX_MAX_DESC).  The grid and block are the command's.
 * Engines without DRM_VGPU_FEATURE_PTX, and one that cannot run this
 * PTX, run the ISA at @src: both must compute the same.  The GPU
 * addresses in the parameters and in memory are the context's.
 */
struct drm_vgpu_ptx_launch {
	__u32 magic;
	__u32 version;
	__u64 ptx;
	__u64 ptx_size;
	__u64 ptx_hash;
	__u32 entry_len;
	__u32 param_size;
	__u32 shared_size;
	__u32 stack_size;
	__u32 reserved[4];
};

#define DRM_VGPU_PTX_MAGIC		0x58545056	/* "VPTX" */
#define DRM_VGPU_PTX_VERSION		1
#define DRM_VGPU_PTX_MAX_TEXT		(64U << 20)
#define DRM_VGPU_PTX_MAX_ENTRY		1024
#define DRM_VGPU_PTX_MAX_PARAMS		32764
#define DRM_VGPU_PTX_MAX_STACK		(16U << 10)
#define DRM_VGPU_PTX_MAX_DESC		(sizeof(struct drm_vgpu_ptx_launch) + \
					 DRM_VGPU_PTX_MAX_ENTRY + \
					 DRM_VGPU_PTX_MAX_PARAMS)

/**
 * struct drm_vgpu_cmd - one command of a submission (128 bytes)
 * @op: DRM_VGPU_CMD_*
 * @flags: zero, or for a LAUNCH DRM_VGPU_LAUNCH_PTX
 * @dst: COPY, FILL: destination GPU address (FILL: 4-byte aligned);
 *	LAUNCH with DRM_VGPU_LAUNCH_PTX: GPU address of its
 *	struct drm_vgpu_ptx_launch
 * @src: COPY: source GPU address; LAUNCH: GPU address of the code
 * @size: COPY, FILL: bytes, non-zero (FILL: a multiple of 4); LAUNCH
 *	with DRM_VGPU_LAUNCH_PTX: bytes at @dst
 * @value: FILL: 32-bit pattern
 * @shared_size: LAUNCH: shared memory per block, bytes
 * @grid: LAUNCH: blocks in x, y, z (each >= 1)
 * @block: LAUNCH: threads per block in x, y, z (each >= 1)
 * @params: LAUNCH: parameters the kernel reads with ldp
 *
 * Fields an operation does not use must be zero.
 */
struct drm_vgpu_cmd {
	__u32 op;
	__u32 flags;
	__u64 dst;
	__u64 src;
	__u64 size;
	__u32 value;
	__u32 shared_size;
	__u32 grid[3];
	__u32 block[3];
	__u64 params[DRM_VGPU_NUM_PARAMS];
};

/**
 * struct drm_vgpu_submit - DRM_IOCTL_VGPU_SUBMIT
 * @ctx_id: context to run on
 * @num_cmds: 1..DRM_VGPU_MAX_CMDS
 * @cmds: user pointer to an array of struct drm_vgpu_cmd, run in order
 * @in_syncs: user pointer to @num_in_syncs syncobj handles to wait for
 * @num_in_syncs: 0..DRM_VGPU_MAX_IN_SYNCS
 * @out_sync: syncobj handle that receives the completion fence, or 0
 * @flags: zero
 * @pad: zero
 * @seqno: out, number of this submission on the context (from 1)
 *
 * The fence signals when every command has run, or with an error when
 * the context faulted (-EFAULT), hung (-ETIMEDOUT) or was destroyed or
 * banned (-ECANCELED).
 */
struct drm_vgpu_submit {
	__u32 ctx_id;
	__u32 num_cmds;
	__u64 cmds;
	__u64 in_syncs;
	__u32 num_in_syncs;
	__u32 out_sync;
	__u32 flags;
	__u32 pad;
	__u64 seqno;
};

#define DRM_IOCTL_VGPU_GET_INFO \
	DRM_IOR(DRM_COMMAND_BASE + DRM_VGPU_GET_INFO, struct drm_vgpu_info)
#define DRM_IOCTL_VGPU_CTX_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_CTX_CREATE, struct drm_vgpu_ctx_create)
#define DRM_IOCTL_VGPU_CTX_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VGPU_CTX_DESTROY, struct drm_vgpu_ctx_destroy)
#define DRM_IOCTL_VGPU_CTX_STATUS \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_CTX_STATUS, struct drm_vgpu_ctx_status)
#define DRM_IOCTL_VGPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_BO_CREATE, struct drm_vgpu_bo_create)
#define DRM_IOCTL_VGPU_BO_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_VGPU_BO_DESTROY, struct drm_vgpu_bo_destroy)
#define DRM_IOCTL_VGPU_BO_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_BO_MMAP_OFFSET, struct drm_vgpu_bo_mmap_offset)
#define DRM_IOCTL_VGPU_VM_BIND \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_VM_BIND, struct drm_vgpu_vm_bind)
#define DRM_IOCTL_VGPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_SUBMIT, struct drm_vgpu_submit)
#define DRM_IOCTL_VGPU_CTX_STACK \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_VGPU_CTX_STACK, struct drm_vgpu_ctx_stack)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_VGPU_DRM_H_ */
