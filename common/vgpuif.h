/* SPDX-License-Identifier: MIT */
/*
 * vgpuif.h - the GPUvm paravirtual GPU protocol between a guest's
 * vgpu-front and dom0's vgpu-back, over a Xen shared ring.
 *
 * Copyright (C) 2026 GPUvm developers
 *
 ******************************************************************************
 *                           Protocol version
 ******************************************************************************
 *
 * VGPUIF_PROTOCOL_VERSION is 1.  The backend lists the versions it speaks
 * in "protocol-versions"; the frontend writes the one it chose in
 * "protocol-version".  Later features (the high-performance mode) are
 * added through "feature-*" keys and new operations, never by changing
 * the layout of an existing one.
 *
 ******************************************************************************
 *                           XenStore layout
 ******************************************************************************
 *
 * Written by the toolstack (vgpuctl attach), for guest domid D, device 0:
 *
 *   /local/domain/0/backend/vgpu/D/0/
 *     frontend          = "/local/domain/D/device/vgpu/0"
 *     frontend-id       = "D"
 *     online            = "1"
 *     state             = "1"                 (XenbusStateInitialising)
 *     mode              = "naive" | "hp"      most the guest may use
 *                                             (absent: "naive")
 *     quota-devmem-mb   = "16"                optional, per guest: device
 *                                             memory promised to it
 *     quota-hostmem-mb  = "256"               optional: host-memory objects
 *     quota-contexts    = "16"                optional
 *     quota-objects     = "1024"              optional
 *     quota-grant-pages = "65536"             optional: guest pages mapped
 *                                             persistently in hp mode
 *     quota-jobs        = "256"               optional: submissions in
 *                                             flight
 *     weight            = "100"               optional: the domain's share
 *                                             of the GPU, 1..1000
 *     cap               = "0"                 optional: the most of the
 *                                             GPU it may use, percent
 *                                             (0: no cap)
 *   Numbers are unsigned decimal, nothing else; a key that is present but
 *   malformed, or out of range, makes the backend refuse the connection
 *   (xenbus error node) instead of using a default.  Absent quota keys
 *   take vgpu-back's module parameters.  The backend reads them at each
 *   connection; when the host changes one at run time (sysfs, vgpuctl
 *   set) the backend writes the new value to its key itself.  The
 *   guest can read these keys, never write them.
 *   /local/domain/D/device/vgpu/0/
 *     backend           = "/local/domain/0/backend/vgpu/D/0"
 *     backend-id        = "0"
 *     state             = "1"
 *
 * Written by the backend driver:
 *   .../backend/vgpu/D/0/protocol-versions = "1"
 *   .../backend/vgpu/D/0/feature-hp = "1"            hp mode offered: the
 *                                             toolstack's mode is "hp" and
 *                                             vgpu-back's hp parameter is
 *                                             on; absent or "0": naive only
 *   .../backend/vgpu/D/0/max-ring-page-order = "2"   log2 of the most ring
 *                                             pages the backend maps ("0"
 *                                             without hp)
 *
 * Written by the frontend, in one transaction, once it has found its
 * version in the backend's "protocol-versions" (a list of decimal
 * versions separated by spaces or commas; without its version the
 * frontend refuses the backend with a xenbus error):
 *   .../device/vgpu/0/ring-ref          = "<grant reference of the ring>"
 *   .../device/vgpu/0/event-channel     = "<port>"
 *   .../device/vgpu/0/protocol-version  = "1"
 *   .../device/vgpu/0/mode              = "naive" | "hp"
 * and, in hp mode with a ring of 2^N pages (0 < N <= the backend's
 * max-ring-page-order), as blkif does, instead of ring-ref:
 *   .../device/vgpu/0/ring-page-order   = "N"
 *   .../device/vgpu/0/ring-ref0 .. ring-ref<2^N - 1>
 *
 * A frontend asks for "hp" only where the backend writes feature-hp =
 * "1"; otherwise it uses naive mode and logs why, once.
 *
 * The backend reads exactly these frontend keys, as strict unsigned
 * decimals.  A malformed value is a protocol violation (below).  A
 * "mode" the toolstack did not allow (a frontend asking for "hp" where
 * the backend's "mode" is "naive"), or that this backend does not speak,
 * is refused cleanly: the backend reports -EOPNOTSUPP on the error node
 * and stays where it is.
 *
 * Worked example, domain 5 in naive mode:
 *   /local/domain/0/backend/vgpu/5/0/frontend = "/local/domain/5/device/vgpu/0"
 *   /local/domain/0/backend/vgpu/5/0/mode = "naive"
 *   /local/domain/5/device/vgpu/0/ring-ref = "8"
 *   /local/domain/5/device/vgpu/0/event-channel = "19"
 *
 ******************************************************************************
 *                           State diagrams
 ******************************************************************************
 *
 * Connection:
 *
 *   frontend                              backend
 *   Initialising                          Initialising
 *                                         (probe: writes protocol-versions)
 *                                         InitWait
 *   (sees InitWait: grants the ring,
 *    allocates the event channel,
 *    writes ring-ref, event-channel,
 *    protocol-version, mode)
 *   Initialised
 *                                         (maps the ring, binds the event
 *                                          channel, creates the client)
 *                                         Connected
 *   (registers the render node)
 *   Connected
 *
 * Close, either side first:
 *
 *   frontend Closing  -> backend frees everything of the guest (objects,
 *                        contexts, grant mappings) -> backend Closed
 *   backend Closing or removed (vgpuctl detach) -> frontend fails every
 *                        waiter with -ENODEV at once, unplugs the render
 *                        node -> frontend Closed
 *
 * Recovery after a backend restart: as every xenbus driver, vgpu-back is
 * pinned while one of its devices is bound.  To restart it with guests
 * attached, unbind the backend devices (sysfs), reload the modules: the
 * reloaded backend probes the devices again and goes to InitWait, and a
 * frontend that the unbind left Closed connects again from the top, with
 * a new ring.  Objects of the old connection are gone.
 *
 ******************************************************************************
 *                           Requests and responses
 ******************************************************************************
 *
 * Every request and response is 192 octets, little-endian:
 *
 *  0                   8    9           16                               191
 * +--------------------+----+------------+--------------------------------+
 * | id                 | op | reserved   | payload (176 octets)           |
 * +--------------------+----+------------+--------------------------------+
 *
 *  0                   8    9     12     16                               191
 * +--------------------+----+-----+------+--------------------------------+
 * | id                 | op | rsv |status| payload (176 octets)           |
 * +--------------------+----+-----+------+--------------------------------+
 *
 * id: chosen by the frontend, echoed in the response.
 * op: VGPUIF_OP_*; the response repeats it.
 * status: 0 or a negative VGPUIF_E* code.
 * Reserved octets and every payload octet an operation does not define
 * must be zero; otherwise the response is VGPUIF_EINVAL.
 *
 * The payloads are this header's own structures, fixed-size, with no
 * pointer.  Those that carry what a program gave its render node (a
 * context, an object, a bind operation, a command) have the layout and
 * the values of GPUvm's DRM uAPI (include/uapi/drm/vgpu_drm.h), so a
 * frontend forwards them unchanged; vgpuif_uapi.h asserts the two agree
 * field by field.  What they mean, and which values are valid, is the
 * uAPI's (Documentation/uapi.rst); the backend checks them as it checks
 * its own render node's.
 *
 * VGPUIF_OP_GET_INFO         request: -
 *                            response: struct vgpuif_info (mode is the
 *                            connection's)
 * VGPUIF_OP_CTX_CREATE       request and response: vgpuif_ctx_create
 * VGPUIF_OP_CTX_DESTROY      request: vgpuif_ctx_destroy
 * VGPUIF_OP_CTX_STATUS       request and response: vgpuif_ctx_status
 * VGPUIF_OP_BO_CREATE        request and response: vgpuif_bo_create
 * VGPUIF_OP_BO_DESTROY       request: vgpuif_bo_destroy
 * VGPUIF_OP_BO_WRITE         request: struct vgpuif_bo_io: the backend
 *                            maps gref read-only, copies length octets
 *                            into the host-domain object at offset,
 *                            unmaps
 * VGPUIF_OP_BO_READ          request: struct vgpuif_bo_io: the same,
 *                            the other way, gref mapped writable
 * VGPUIF_OP_VM_BIND          request: struct vgpuif_vm_bind (one
 *                            vgpuif_bind_op; naive mode: one GPU page,
 *                            GET_INFO's page_size)
 * VGPUIF_OP_SUBMIT           request: struct vgpuif_submit (one command);
 *                            response, once the command has run:
 *                            struct vgpuif_submit_rsp; status is the
 *                            job's error (VGPUIF_EFAULT after a fault,
 *                            VGPUIF_ETIMEDOUT after a hang)
 * VGPUIF_OP_CTX_STACK        request and response: vgpuif_ctx_stack (a
 *                            context's call stack, charged to the
 *                            guest's device-memory quota; both modes;
 *                            VGPUIF_EOPNOTSUPP from an engine without
 *                            the feature, as from a backend older
 *                            than the operation)
 *
 * Host-domain objects in naive mode live in dom0; the guest's pages are
 * copied in with BO_WRITE and out with BO_READ, one page per request.
 *
 * High-performance (hp) mode only; in naive mode these are
 * VGPUIF_EOPNOTSUPP:
 *
 * VGPUIF_OP_BO_CREATE_GRANTED request: struct vgpuif_bo_granted: a
 *                            host-domain object made of the guest's own
 *                            pages, listed in a page directory (below),
 *                            granted writable.  The backend maps every
 *                            page once, for the object's life: the engine
 *                            reads and writes them directly.  response:
 *                            struct vgpuif_bo_granted with the handle.
 *                            VGPUIF_EDQUOT when the guest's persistent
 *                            grant quota (quota-grant-pages) or host
 *                            memory quota is reached: the frontend then
 *                            falls back to a BO_CREATE object (copies).
 * VGPUIF_OP_VM_BIND_BATCH    request: struct vgpuif_vm_bind_batch: 1 to
 *                            VGPUIF_MAX_BIND_OPS operations of any
 *                            size, applied in order; one inline, more in
 *                            pages of a directory.  response: num_done.
 * VGPUIF_OP_SUBMIT_ASYNC     request: struct vgpuif_submit_async: 1 to
 *                            VGPUIF_MAX_CMDS commands, one inline, more
 *                            in pages of a directory.  The response comes
 *                            when the job has finished (responses of
 *                            different requests may come in any order):
 *                            struct vgpuif_submit_rsp, status the job's
 *                            error or the reason it was refused.  At most
 *                            one ring of requests is outstanding.
 *
 * Page directory: a chain of granted pages, each a struct vgpuif_page_dir
 * holding up to VGPUIF_DIR_GREFS grant references in order, and the
 * reference of the next directory page (0 on the last).  A request
 * naming n pages has exactly n references over ceil(n /
 * VGPUIF_DIR_GREFS) directory pages.  The backend reads directory pages
 * and command or bind pages with grant copies (never maps them) while it
 * serves the request; the frontend may end those grants once it has the
 * response.
 *
 * Notifications in hp mode are suppressed both ways with the ring's
 * event indices (RING_PUSH_*_AND_CHECK_NOTIFY, RING_FINAL_CHECK_FOR_*);
 * naive mode notifies every request and every response.
 *
 * Naive mode: a VM_BIND request maps or unmaps exactly one page
 * (op.size = 4096); anything else is VGPUIF_EINVAL.
 *
 ******************************************************************************
 *                  Misbehaving frontends (backend side)
 ******************************************************************************
 *
 * Protocol violations: a producer index more than a ring ahead (one ring
 * ahead exactly is a full ring and is served), malformed frontend keys,
 * a ring-ref or event-channel the backend cannot map or bind.  On each,
 * the backend writes the error node (rate-limited), stops serving the
 * ring and goes Closing; the frontend must go Closed, after which the
 * backend goes InitWait again.  It waits before the next connection:
 * 100 ms after the first violation, doubling, at most 12.8 s.  After
 * VGPU_XEN_MAX_VIOLATIONS (8) violations the backend goes Closed and
 * stays Closed until the toolstack attaches the device again (vgpuctl
 * detach, then attach).
 *
 * The backend serves at most 32 requests between two yields of its CPU,
 * acknowledges notifications late (a notification that brought nothing
 * is spurious, and Xen throttles a storm of them), and never logs more
 * than 10 messages per 5 s for one guest.
 *
 * A guest's hung contexts and its ban (vgpu-back's hang_limit) belong to
 * the domain, not to a connection: closing the ring and connecting again
 * keeps them, until the domain is destroyed.
 */
#ifndef __XEN_PUBLIC_IO_VGPUIF_H__
#define __XEN_PUBLIC_IO_VGPUIF_H__

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define VGPUIF_PROTOCOL_VERSION		1
#define XENBUS_DEVICE_TYPE_VGPU		"vgpu"

#define VGPUIF_OP_GET_INFO		1
#define VGPUIF_OP_CTX_CREATE		2
#define VGPUIF_OP_CTX_DESTROY		3
#define VGPUIF_OP_CTX_STATUS		4
#define VGPUIF_OP_BO_CREATE		5
#define VGPUIF_OP_BO_DESTROY		6
#define VGPUIF_OP_BO_WRITE		7
#define VGPUIF_OP_BO_READ		8
#define VGPUIF_OP_VM_BIND		9
#define VGPUIF_OP_SUBMIT		10
#define VGPUIF_OP_BO_CREATE_GRANTED	11	/* hp */
#define VGPUIF_OP_VM_BIND_BATCH		12	/* hp */
#define VGPUIF_OP_SUBMIT_ASYNC		13	/* hp */
#define VGPUIF_OP_CTX_STACK		14
#define VGPUIF_OP_MAX			VGPUIF_OP_CTX_STACK

/* Status codes: negative Linux errno values, fixed here for other OSes. */
#define VGPUIF_OK			0
#define VGPUIF_ENOENT			(-2)
#define VGPUIF_EIO			(-5)
#define VGPUIF_ENOMEM			(-12)
#define VGPUIF_EFAULT			(-14)
#define VGPUIF_EBUSY			(-16)	/* CTX_CREATE: paced, try later */
#define VGPUIF_EEXIST			(-17)
#define VGPUIF_EINVAL			(-22)
#define VGPUIF_ENOSPC			(-28)
#define VGPUIF_EOPNOTSUPP		(-95)
#define VGPUIF_ETIMEDOUT		(-110)
#define VGPUIF_EDQUOT			(-122)
#define VGPUIF_ECANCELED		(-125)

#define VGPUIF_MODE_NAIVE		"naive"
#define VGPUIF_MODE_HP			"hp"

/*
 * XenStore keys (Documentation/protocol.rst, "XenStore layout"); both
 * ends and the toolstack use these names.  Written by the toolstack in
 * the backend's directory (T), by the backend there (B), by the
 * frontend in its own (F).
 */
#define VGPUIF_KEY_MODE			"mode"		/* T: most allowed; F: asked */
#define VGPUIF_KEY_ENGINE		"engine"	/* T: device index, 0 if absent */
#define VGPUIF_KEY_QUOTA_DEVMEM_MB	"quota-devmem-mb"	/* T, optional */
#define VGPUIF_KEY_QUOTA_HOSTMEM_MB	"quota-hostmem-mb"	/* T, optional */
#define VGPUIF_KEY_QUOTA_CONTEXTS	"quota-contexts"	/* T, optional */
#define VGPUIF_KEY_QUOTA_OBJECTS	"quota-objects"		/* T, optional */
#define VGPUIF_KEY_QUOTA_GRANT_PAGES	"quota-grant-pages"	/* T, optional */
#define VGPUIF_KEY_QUOTA_JOBS		"quota-jobs"		/* T, optional */
#define VGPUIF_KEY_WEIGHT		"weight"	/* T, optional: 1..1000 */
#define VGPUIF_KEY_CAP			"cap"		/* T, optional: percent */
#define VGPUIF_KEY_PROTOCOL_VERSIONS	"protocol-versions"	/* B: a list */
#define VGPUIF_KEY_FEATURE_HP		"feature-hp"		/* B: 0 or 1 */
#define VGPUIF_KEY_MAX_RING_PAGE_ORDER	"max-ring-page-order"	/* B */
#define VGPUIF_KEY_PROTOCOL_VERSION	"protocol-version"	/* F: the one used */
#define VGPUIF_KEY_RING_PAGE_ORDER	"ring-page-order"	/* F: hp, optional */
#define VGPUIF_KEY_RING_REF		"ring-ref"	/* F: or "ring-ref%u" per page */
#define VGPUIF_KEY_EVENT_CHANNEL	"event-channel"		/* F */
/*
 * Pre-copy before a save or migration (Documentation/design.rst): the
 * frontend says it takes requests; the toolstack writes a request in the
 * frontend's directory (TF); the frontend answers there.
 */
#define VGPUIF_KEY_FEATURE_PRECOPY	"feature-precopy"	/* F: 1 */
#define VGPUIF_KEY_PRECOPY		"precopy"	/* TF: N: a pass; 0: drop */
#define VGPUIF_KEY_PRECOPY_DONE		"precopy-done"		/* F: its report */

#define VGPUIF_PAYLOAD_SIZE		176
#define VGPUIF_PAGE_SIZE		4096
/* The largest ring-page-order a frontend may ask for (blkif's limit). */
#define VGPUIF_MAX_RING_PAGE_ORDER	4

/* A page of a page directory. */
#define VGPUIF_DIR_GREFS		1023
struct vgpuif_page_dir {
	uint32_t next_gref;		/* next directory page, 0: last */
	uint32_t gref[VGPUIF_DIR_GREFS];
};

/* VGPUIF_OP_BO_WRITE / VGPUIF_OP_BO_READ */
struct vgpuif_bo_io {
	uint32_t handle;	/* host-domain object */
	uint32_t gref;		/* one guest page granted to the backend */
	uint64_t offset;	/* in the object, page aligned */
	uint32_t length;	/* 1..VGPUIF_PAGE_SIZE octets */
	uint32_t reserved;
};

/* Operations in one VM_BIND_BATCH, commands in one SUBMIT_ASYNC. */
#define VGPUIF_MAX_BIND_OPS		256
#define VGPUIF_MAX_CMDS			4096

/* VGPUIF_OP_GET_INFO's response: what the vGPU is and allows. */
struct vgpuif_info {
	uint32_t uapi_version;
	uint32_t mode;			/* 1: naive, 2: hp */
	char engine[32];		/* engine's name, NUL-terminated */
	uint32_t isa_version;
	uint32_t page_size;
	uint64_t features;
	uint64_t va_start;		/* GPU addresses a context may map */
	uint64_t va_end;
	uint64_t device_memory_size;
	uint64_t device_memory_quota;
	uint32_t max_contexts;
	uint32_t max_objects;
	uint32_t max_block_threads;
	uint32_t max_shared_size;
	uint32_t max_grid_x;		/* blocks in x; 0: an older dom0, 65535 */
	uint32_t max_stack_size;	/* CTX_STACK's largest; 0: none */
	/* Held per context, taken from the quota (0: none; an older dom0) */
	uint64_t context_memory;
	uint64_t stack_threads;		/* a stack's bytes are held for each */
	uint64_t reserved;
};

/* VGPUIF_OP_CTX_CREATE */
struct vgpuif_ctx_create {
	uint32_t flags;
	uint32_t priority;
	uint32_t ctx_id;		/* response: the context */
	uint32_t pad;
};

/* VGPUIF_OP_CTX_DESTROY */
struct vgpuif_ctx_destroy {
	uint32_t ctx_id;
	uint32_t pad;
};

/* VGPUIF_OP_CTX_STATUS: the response fills all but ctx_id */
struct vgpuif_ctx_status {
	uint32_t ctx_id;
	uint32_t status;
	uint64_t fault_addr;
	uint32_t fault_kind;
	uint32_t pad;
	uint64_t submitted;
	uint64_t completed;
	uint64_t reserved[2];
};

/* VGPUIF_OP_CTX_STACK: the response fills stack_size and charged */
struct vgpuif_ctx_stack {
	uint32_t ctx_id;
	uint32_t stack_size;
	uint64_t charged;
};

/* VGPUIF_OP_BO_CREATE */
struct vgpuif_bo_create {
	uint64_t size;
	uint32_t domain;		/* 1: device memory, 2: host memory */
	uint32_t flags;
	uint32_t handle;		/* response: the object */
	uint32_t pad;
};

/* VGPUIF_OP_BO_DESTROY */
struct vgpuif_bo_destroy {
	uint32_t handle;
	uint32_t pad;
};

/* One map or unmap of a context's GPU addresses. */
struct vgpuif_bind_op {
	uint32_t op;			/* 1: map, 2: unmap */
	uint32_t flags;			/* map: 1 read, 2 write, 4 execute */
	uint32_t handle;		/* map: the object */
	uint32_t pad;
	uint64_t bo_offset;		/* map: in the object */
	uint64_t va;
	uint64_t size;
};

/* One command: a copy, a fill or a kernel launch (128 octets). */
#define VGPUIF_NUM_PARAMS		8
struct vgpuif_cmd {
	uint32_t op;			/* 1: copy, 2: fill, 3: launch */
	uint32_t flags;
	uint64_t dst;
	uint64_t src;			/* launch: the code's GPU address */
	uint64_t size;
	uint32_t value;			/* fill: the 32-bit pattern */
	uint32_t shared_size;
	uint32_t grid[3];
	uint32_t block[3];
	uint64_t params[VGPUIF_NUM_PARAMS];
};

/* VGPUIF_OP_VM_BIND */
struct vgpuif_vm_bind {
	uint32_t ctx_id;
	uint32_t reserved;
	struct vgpuif_bind_op op;
};

/* VGPUIF_OP_SUBMIT */
struct vgpuif_submit {
	uint32_t ctx_id;
	uint32_t reserved;
	struct vgpuif_cmd cmd;
};

struct vgpuif_submit_rsp {
	uint64_t seqno;
};

/* VGPUIF_OP_BO_CREATE_GRANTED (hp) */
struct vgpuif_bo_granted {
	uint64_t size;		/* bytes, a multiple of VGPUIF_PAGE_SIZE */
	uint32_t dir_gref;	/* first page of the directory of its pages */
	uint32_t handle;	/* response: the object; zero in the request */
};

/* VGPUIF_OP_VM_BIND_BATCH (hp) */
struct vgpuif_vm_bind_batch {
	uint32_t ctx_id;
	uint32_t num_ops;	/* 1..VGPUIF_MAX_BIND_OPS */
	uint32_t dir_gref;	/* num_ops > 1: directory of the ops' pages */
	uint32_t num_done;	/* response: operations applied */
	struct vgpuif_bind_op op;	/* num_ops == 1: the operation */
};

/* VGPUIF_OP_SUBMIT_ASYNC (hp) */
struct vgpuif_submit_async {
	uint32_t ctx_id;
	uint32_t num_cmds;	/* 1..VGPUIF_MAX_CMDS */
	uint32_t dir_gref;	/* num_cmds > 1: directory of the cmds' pages */
	uint32_t reserved;
	struct vgpuif_cmd cmd;	/* num_cmds == 1: the command */
};

struct vgpuif_request {
	uint64_t id;
	uint8_t operation;
	uint8_t reserved[7];
	union {
		uint8_t raw[VGPUIF_PAYLOAD_SIZE];
		struct vgpuif_ctx_create ctx_create;
		struct vgpuif_ctx_destroy ctx_destroy;
		struct vgpuif_ctx_status ctx_status;
		struct vgpuif_bo_create bo_create;
		struct vgpuif_bo_destroy bo_destroy;
		struct vgpuif_bo_io bo_io;
		struct vgpuif_vm_bind vm_bind;
		struct vgpuif_submit submit;
		struct vgpuif_bo_granted bo_granted;
		struct vgpuif_vm_bind_batch vm_bind_batch;
		struct vgpuif_submit_async submit_async;
		struct vgpuif_ctx_stack ctx_stack;
	} u;
};

struct vgpuif_response {
	uint64_t id;
	uint8_t operation;
	uint8_t reserved[3];
	int32_t status;
	union {
		uint8_t raw[VGPUIF_PAYLOAD_SIZE];
		struct vgpuif_info info;
		struct vgpuif_ctx_create ctx_create;
		struct vgpuif_ctx_status ctx_status;
		struct vgpuif_bo_create bo_create;
		struct vgpuif_submit_rsp submit;
		struct vgpuif_bo_granted bo_granted;
		struct vgpuif_vm_bind_batch vm_bind_batch;
		struct vgpuif_ctx_stack ctx_stack;
	} u;
};

#ifdef __KERNEL__
#include <xen/interface/io/ring.h>
DEFINE_RING_TYPES(vgpuif, struct vgpuif_request, struct vgpuif_response);
#endif

/* Pages of a directory that holds @n references. */
#define VGPUIF_DIR_PAGES(n)	(((n) + VGPUIF_DIR_GREFS - 1) / VGPUIF_DIR_GREFS)

#endif /* __XEN_PUBLIC_IO_VGPUIF_H__ */
