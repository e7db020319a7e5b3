// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_ue_chan.c - the channel of an instance of vgpu-uengine: its
 * device (/dev/vgpu-uengine for instance 0, /dev/vgpu-uengineN for
 * N >= 1), the session of its registered engine process, and
 * vgpu_ue_call(), which queues a request for the process and waits,
 * bounded, for its answer.  Instances share nothing but the counter of
 * generations: a process, its requests and its windows belong to one.
 *
 * The protocol is include/uapi/drm/vgpu_uengine.h.  Requests live on
 * their caller's stack: the caller removes its request from the session
 * under the instance's lock before it returns, whether it was answered,
 * timed out or the session died, so neither read() nor write() can
 * touch a request whose caller has gone.  read() copies the request
 * into the session's own buffer under the lock and to the process
 * without it: no wait for the lock is ever behind the process's memory
 * (a userfaultfd-registered buffer cannot stall the callers).
 *
 * The process maps windows page by page on fault.  When its session
 * ends while the file stays open (a timeout, an impossible answer), its
 * mappings are zapped and refused from then on: the dead process keeps
 * no access to host memory (nor to the shadows, which are its
 * generation's own anyway, vgpu_ue_shadow.c).
 */
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vgpu_ue.h"

struct vgpu_ue_msg {
	struct list_head node;	/* in the session's queue or in_flight */
	struct vgpu_ue_req req;
	const void *payload;
	struct vgpu_ue_resp resp;
	int error;		/* 0: answered; else why not */
	bool finished;
	struct completion done;
};

/* What the engine reports only while a process that runs PTX is registered. */
#define VGPU_UE_PTX_FEATURES	(DRM_VGPU_FEATURE_PTX | DRM_VGPU_FEATURE_PTX_STACK)

/*
 * Sessions registered so far, on every instance: a generation names one
 * process of one instance (the shadows are keyed by it).
 */
static atomic64_t vgpu_ue_gen = ATOMIC64_INIT(0);

/* The generation of @ue's registered process, 0 if none. */
u64 vgpu_ue_generation(struct vgpu_ue *ue)
{
	u64 gen = 0;

	mutex_lock(&ue->lock);
	if (ue->live)
		gen = ue->live->gen;
	mutex_unlock(&ue->lock);
	return gen;
}

/**
 * vgpu_ue_pci_address() - the PCI address of an engine's GPU
 * @e: an engine of vgpu-uengine
 * @buf: out, the address its registered process named, or ""
 * @size: bytes of @buf
 *
 * vgpu-back's sysfs shows it (struct vgpu_engine_ops.pci_address).
 */
void vgpu_ue_pci_address(struct vgpu_engine *e, char *buf, size_t size)
{
	struct vgpu_ue *ue = container_of(e, struct vgpu_ue, engine);

	mutex_lock(&ue->lock);
	strscpy(buf, ue->live ? ue->pci : "", size);
	mutex_unlock(&ue->lock);
}

static void vgpu_ue_finish(struct vgpu_ue_msg *m, int error)
{
	list_del_init(&m->node);
	m->error = error;
	m->finished = true;
	complete(&m->done);
}

/* Ends @s: its requests fail, its objects are lost. */
static void vgpu_ue_kill(struct vgpu_ue_session *s, const char *why)
{
	struct vgpu_ue *ue = s->ue;
	struct vgpu_ue_msg *m, *tmp;

	lockdep_assert_held(&ue->lock);
	if (s->dead)
		return;
	s->dead = true;
	if (ue->live == s) {
		ue->live = NULL;
		/* No process runs PTX now (read without this lock). */
		WRITE_ONCE(ue->engine.features,
			   ue->engine.features & ~VGPU_UE_PTX_FEATURES);
	}
	list_for_each_entry_safe(m, tmp, &s->queue, node)
		vgpu_ue_finish(m, -ENODEV);
	list_for_each_entry_safe(m, tmp, &s->in_flight, node)
		vgpu_ue_finish(m, -ENODEV);
	wake_up_interruptible(&s->wq);
	schedule_work(&s->zap);
	vgpu_ue_warn(ue, "engine process of generation %llu gone (%s); its contexts are lost\n",
		     s->gen, why);
}

/**
 * vgpu_ue_chan_kill() - end the session of generation @gen
 * @ue: the instance
 * @gen: the generation whose process answered what cannot be true
 * @why: for the log
 *
 * As a timeout does: every operation in flight fails, the process's
 * read() and write() get -ENODEV, its contexts are lost.
 */
void vgpu_ue_chan_kill(struct vgpu_ue *ue, u64 gen, const char *why)
{
	mutex_lock(&ue->lock);
	if (ue->live && ue->live->gen == gen)
		vgpu_ue_kill(ue->live, why);
	mutex_unlock(&ue->lock);
}

/* Windows of its timeout a request may wait behind others: a bound. */
#define VGPU_UE_MAX_RESTARTS	3

/* Requests of @s queued before @m and not answered yet. */
static unsigned int vgpu_ue_ahead(struct vgpu_ue_session *s,
				  const struct vgpu_ue_msg *m)
{
	const struct vgpu_ue_msg *o;
	unsigned int n = 0;

	lockdep_assert_held(&s->ue->lock);
	list_for_each_entry(o, &s->queue, node)
		n += o->req.seq < m->req.seq;
	list_for_each_entry(o, &s->in_flight, node)
		n += o->req.seq < m->req.seq;
	return n;
}

/**
 * vgpu_ue_call() - run one operation in an instance's engine process
 * @ue: the instance
 * @gen: generation the operation's objects belong to
 * @req: the request; @seq is filled in
 * @payload: @req->payload_len bytes sent after it, or NULL
 * @timeout_ns: how long the process may take to answer it
 * @resp: out, the answer
 *
 * The process answers one request after the other.  When @timeout_ns
 * passes with requests queued before this one still unanswered, the wait
 * goes on for another @timeout_ns if some of them were answered in the
 * meantime (at most VGPU_UE_MAX_RESTARTS times): a request behind a long
 * one (a RUN of a kernel the GPU cannot preempt, up to a slice + the
 * watchdog) is not taken for a hung process.  Answers to requests queued
 * after it buy nothing.
 *
 * Return: the answer's error (0 or negative), -ENODEV when no process of
 * generation @gen is registered (any more) on @ue, -ETIMEDOUT when it did not
 * answer in time (the session is ended: its state is unknown), or
 * -EINTR never: the wait is not interruptible, it is bounded (by
 * @timeout_ns times 1 + VGPU_UE_MAX_RESTARTS).
 */
int vgpu_ue_call(struct vgpu_ue *ue, u64 gen, struct vgpu_ue_req *req,
		 const void *payload, u64 timeout_ns,
		 struct vgpu_ue_resp *resp)
{
	struct vgpu_ue_session *s;
	struct vgpu_ue_msg m = { .payload = payload };
	unsigned int ahead, now_ahead, restarts;
	ktime_t start = ktime_get();
	unsigned long left;

	init_completion(&m.done);
	INIT_LIST_HEAD(&m.node);
	mutex_lock(&ue->lock);
	s = ue->live;
	if (!s || s->gen != gen) {
		mutex_unlock(&ue->lock);
		return -ENODEV;
	}
	req->seq = s->next_seq++;
	m.req = *req;
	ahead = vgpu_ue_ahead(s, &m);
	list_add_tail(&m.node, &s->queue);
	wake_up_interruptible(&s->wq);
	mutex_unlock(&ue->lock);

	restarts = min_t(unsigned int, ahead, VGPU_UE_MAX_RESTARTS);
	for (;;) {
		left = wait_for_completion_timeout(&m.done,
						   nsecs_to_jiffies(timeout_ns) + 1);
		if (left || !restarts--)
			break;
		mutex_lock(&ue->lock);
		/* Unfinished, @m is still on @s's lists: @s is alive. */
		now_ahead = m.finished ? ahead : vgpu_ue_ahead(s, &m);
		mutex_unlock(&ue->lock);
		if (now_ahead >= ahead)
			break;	/* none of those ahead was answered */
		ahead = now_ahead;
	}
	mutex_lock(&ue->lock);
	if (!m.finished) {
		/* Not answered in time: the session cannot be trusted. */
		vgpu_ue_finish(&m, -ETIMEDOUT);
		vgpu_ue_kill(s, "operation timed out");
	}
	mutex_unlock(&ue->lock);
	if (!left && m.error == -ETIMEDOUT)
		vgpu_ue_warn(ue, "operation %u timed out after %lld ms\n",
			     req->op, ktime_ms_delta(ktime_get(), start));
	if (m.error)
		return m.error;
	*resp = m.resp;
	return resp->error;
}

/*
 * The session ended: every page of its mappings goes, and no fault
 * gives one again.  A fault that saw the session live has inserted its
 * page before @unmapped is set, so the zap after takes it.  (The zap
 * covers every mapping of the device's address space: one of a live
 * session just faults its pages in again.)
 */
static void vgpu_ue_zap(struct work_struct *work)
{
	struct vgpu_ue_session *s = container_of(work, struct vgpu_ue_session,
						 zap);

	mutex_lock(&s->map_lock);
	s->unmapped = true;
	mutex_unlock(&s->map_lock);
	if (s->mapping)
		unmap_mapping_range(s->mapping, 0, 0, 1);
}

/**
 * vgpu_ue_session_new() - a session of @ue, not yet registered
 * @ue: the instance whose device is opened
 * @mapping: the file's address space (its mappings are zapped when the
 *	session ends), or NULL where nothing can map it (KUnit)
 *
 * Return: the session, or an ERR_PTR().
 */
struct vgpu_ue_session *vgpu_ue_session_new(struct vgpu_ue *ue,
					    struct address_space *mapping)
{
	struct vgpu_ue_session *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		goto err;
	s->buf = kvmalloc(VGPU_UE_MAX_MSG, GFP_KERNEL);
	if (!s->buf)
		goto err_free;
	s->ue = ue;
	s->dead = true;		/* until HELLO */
	INIT_LIST_HEAD(&s->queue);
	INIT_LIST_HEAD(&s->in_flight);
	init_waitqueue_head(&s->wq);
	s->next_seq = 1;
	mutex_init(&s->read_lock);
	mutex_init(&s->map_lock);
	s->mapping = mapping;
	INIT_WORK(&s->zap, vgpu_ue_zap);
	return s;

err_free:
	kfree(s);
err:
	return ERR_PTR(-ENOMEM);
}

/**
 * vgpu_ue_session_end() - close a session and free it
 * @s: a session of vgpu_ue_session_new()
 *
 * Its operations in flight fail, its contexts are lost (as a timeout).
 */
void vgpu_ue_session_end(struct vgpu_ue_session *s)
{
	mutex_lock(&s->ue->lock);
	if (s->gen)
		vgpu_ue_kill(s, "closed");
	mutex_unlock(&s->ue->lock);
	/* No mapping is left (each holds the file); the zap may still run. */
	flush_work(&s->zap);
	mutex_destroy(&s->map_lock);
	mutex_destroy(&s->read_lock);
	kvfree(s->buf);
	kfree(s);
}

/* The generation of @s, 0 before its HELLO. */
u64 vgpu_ue_session_gen(struct vgpu_ue_session *s)
{
	u64 gen;

	mutex_lock(&s->ue->lock);
	gen = s->gen;
	mutex_unlock(&s->ue->lock);
	return gen;
}

static int vgpu_ue_open(struct inode *inode, struct file *f)
{
	/* misc_open() left the misc device there. */
	struct vgpu_ue *ue = container_of(f->private_data, struct vgpu_ue,
					  misc);
	struct vgpu_ue_session *s;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/*
	 * Not before the module is loaded: a module whose init fails at a
	 * later instance is freed whatever files it has open.
	 */
	if (!vgpu_ue_module_live(THIS_MODULE))
		return -ENODEV;
	s = vgpu_ue_session_new(ue, f->f_mapping);
	if (IS_ERR(s))
		return PTR_ERR(s);
	f->private_data = s;
	return 0;
}

static int vgpu_ue_release(struct inode *inode, struct file *f)
{
	vgpu_ue_session_end(f->private_data);
	return 0;
}

/*
 * The layout a process's back end can serve (@h's in fields) against its
 * instance's (fixed at load, told to clients): fills the out fields.
 * Return: 0, -EINVAL for a malformed offer, -EDOM for one that cannot
 * serve the instance.
 */
static int vgpu_ue_hello_layout(struct vgpu_ue *ue, struct vgpu_ue_hello *h)
{
	const struct vgpu_engine *e = &ue->engine;

	h->engine_page_shift = e->page_shift;
	h->engine_va_start = e->va_start;
	h->engine_va_end = e->va_end;
	if (h->page_shift < 12 || h->page_shift > 30 ||
	    (h->va_lo | h->va_hi) & (SZ_4K - 1) || h->va_lo >= h->va_hi) {
		vgpu_ue_warn(ue, "engine process %d offered a malformed address layout: refused\n",
			     task_pid_nr(current));
		return -EINVAL;
	}
	if (h->page_shift > e->page_shift || h->va_lo > e->va_start ||
	    h->va_hi < e->va_end) {
		vgpu_ue_warn(ue, "engine process %d maps %llu KiB pages in [%#llx, %#llx), this instance %llu KiB pages in [%#llx, %#llx): load vgpu-uengine with page_kb, va_start_gb and va_end_gb it can serve\n",
			     task_pid_nr(current), BIT_ULL(h->page_shift) >> 10,
			     h->va_lo, h->va_hi, vgpu_engine_page_size(e) >> 10,
			     e->va_start, e->va_end);
		return -EDOM;
	}
	return 0;
}

/**
 * vgpu_ue_session_hello() - register @s as its instance's process
 * @s: a session not yet registered
 * @h: the process's VGPU_UE_IOC_HELLO, in the kernel; its answer is
 *	filled in on success
 *
 * Everything in @h is the process's: the version, the flags, the memory,
 * the PCI address and the address layout are checked, the name is cut at
 * its last byte.
 *
 * Return: 0; -EPROTO for another version or flags, -ENOSPC for too
 * little memory or more for each context than the instance promises,
 * -EINVAL for a malformed PCI address or layout, a call stack's bounds
 * outside the protocol's or a non-zero @pad, -EDOM
 * for a layout that cannot serve the instance's (the instance's is in
 * @h's out fields), -EALREADY when @s said HELLO already, -EBUSY when
 * another process is registered on the instance.
 */
int vgpu_ue_session_hello(struct vgpu_ue_session *s, struct vgpu_ue_hello *h)
{
	struct vgpu_ue *ue = s->ue;
	u64 page = vgpu_engine_page_size(&ue->engine), room;
	int ret = 0;
	size_t i;

	if (h->version != VGPU_UE_VERSION) {
		vgpu_ue_warn(ue, "engine process %d speaks protocol version %u, this module %u: install the vgpu-engined of this module\n",
			     task_pid_nr(current), h->version, VGPU_UE_VERSION);
		return -EPROTO;
	}
	if ((h->flags & ~(VGPU_UE_HELLO_PTX | VGPU_UE_HELLO_PTX_STACK)) ||
	    (h->flags & VGPU_UE_HELLO_PTX_STACK &&
	     !(h->flags & VGPU_UE_HELLO_PTX)))
		return -EPROTO;
	if (h->mem_size < ((u64)vgpu_ue_mem_mb << 20))
		return -ENOSPC;
	/* The core charges it in whole pages, out of whole pages. */
	room = round_down((u64)vgpu_ue_mem_mb << 20, page);
	if (h->ctx_mem > room || round_up(h->ctx_mem, page) > room) {
		vgpu_ue_warn(ue, "engine process %d holds %llu MiB for each context, more than the %u MiB of mem_mb: refused\n",
			     task_pid_nr(current), h->ctx_mem >> 20,
			     vgpu_ue_mem_mb);
		return -ENOSPC;
	}
	if (h->pad || (h->flags & VGPU_UE_HELLO_PTX_STACK ?
		       !vgpu_stack_bound_ok(h->max_stack) || !h->stack_threads ||
		       h->stack_threads > VGPU_MAX_STACK_THREADS :
		       h->max_stack || h->stack_threads)) {
		vgpu_ue_warn(ue, "engine process %d named a call stack outside the protocol's bounds: refused\n",
			     task_pid_nr(current));
		return -EINVAL;
	}
	if (vgpu_ue_check_pci(h->pci)) {
		vgpu_ue_warn(ue, "engine process %d named a malformed PCI address: refused\n",
			     task_pid_nr(current));
		return -EINVAL;
	}
	ret = vgpu_ue_hello_layout(ue, h);
	if (ret)
		return ret;
	h->name[VGPU_UE_NAME_LEN - 1] = '\0';
	for (i = 0; h->name[i]; i++)	/* shown in sysfs and the log */
		if (!isprint(h->name[i]))
			h->name[i] = '?';
	mutex_lock(&ue->lock);
	if (s->gen)
		ret = -EALREADY;	/* one HELLO per open file */
	else if (ue->live)
		ret = -EBUSY;
	if (!ret) {
		s->gen = atomic64_inc_return(&vgpu_ue_gen);
		s->dead = false;
		ue->live = s;
		strscpy(ue->backend, h->name, sizeof(ue->backend));
		strscpy(ue->pci, h->pci, sizeof(ue->pci));
		/*
		 * Read by CTX_STACK and GET_INFO without this lock, after the
		 * features (vgpu_engine_stack()): written before them.
		 */
		WRITE_ONCE(ue->engine.max_stack, h->max_stack);
		WRITE_ONCE(ue->engine.stack_threads, h->stack_threads);
		smp_wmb();	/* pairs with vgpu_engine_stack()'s smp_rmb() */
		/* Read by the core's GET_INFO without this lock. */
		WRITE_ONCE(ue->engine.features,
			   (ue->engine.features & ~VGPU_UE_PTX_FEATURES) |
			   (h->flags & VGPU_UE_HELLO_PTX ?
			    DRM_VGPU_FEATURE_PTX : 0) |
			   (h->flags & VGPU_UE_HELLO_PTX_STACK ?
			    DRM_VGPU_FEATURE_PTX_STACK : 0));
		/* Read once per new context by the core, without this lock. */
		WRITE_ONCE(ue->engine.ctx_mem, h->ctx_mem);
	}
	mutex_unlock(&ue->lock);
	if (ret)
		return ret;
	vgpu_ue_info(ue, "engine process %d registered (generation %llu, %s, %llu MiB, %llu MiB a context, PCI %s)\n",
		     task_pid_nr(current), s->gen, h->name,
		     h->mem_size >> 20, h->ctx_mem >> 20,
		     h->pci[0] ? h->pci : "none");
	h->generation = s->gen;
	h->engine_mem = (u64)vgpu_ue_mem_mb << 20;
	h->watchdog_ns = (u64)READ_ONCE(vgpu_ue_watchdog_ms) * NSEC_PER_MSEC;
	return 0;
}

static long vgpu_ue_hello(struct vgpu_ue_session *s, void __user *arg)
{
	struct vgpu_ue_hello h;
	int ret;

	if (copy_from_user(&h, arg, sizeof(h)))
		return -EFAULT;
	ret = vgpu_ue_session_hello(s, &h);
	if (ret && ret != -EDOM)
		return ret;
	/* -EDOM: the process learns the layout it would have to serve. */
	if (copy_to_user(arg, &h, sizeof(h)))
		return -EFAULT;
	return ret;
}

/*
 * A HELLO of another size is another version's (the size is part of the
 * ioctl's number): say so, as for a HELLO that names another version.
 */
static long vgpu_ue_hello_other(struct vgpu_ue_session *s, void __user *arg,
				unsigned int size)
{
	u32 version = 0;

	if (size >= sizeof(version) &&
	    copy_from_user(&version, arg, sizeof(version)))
		return -EFAULT;
	vgpu_ue_warn(s->ue, "engine process %d speaks protocol version %u (a HELLO of %u bytes), this module %u: install the vgpu-engined of this module\n",
		     task_pid_nr(current), version, size, VGPU_UE_VERSION);
	return -EPROTO;
}

static long vgpu_ue_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	if (cmd == VGPU_UE_IOC_HELLO)
		return vgpu_ue_hello(f->private_data, (void __user *)arg);
	if (_IOC_TYPE(cmd) == _IOC_TYPE(VGPU_UE_IOC_HELLO) &&
	    _IOC_NR(cmd) == _IOC_NR(VGPU_UE_IOC_HELLO))
		return vgpu_ue_hello_other(f->private_data, (void __user *)arg,
					   _IOC_SIZE(cmd));
	return -ENOTTY;
}

/**
 * vgpu_ue_session_take() - the first queued request of @s, in flight
 * @s: the session; the caller holds its @read_lock
 * @nonblock: -EAGAIN rather than a wait when none is queued
 * @len: bytes the process's buffer holds
 * @seq: out, the request's number
 *
 * The request is copied to @s->buf.
 *
 * Return: its length, or an error (-ENODEV once the session ended).
 */
ssize_t vgpu_ue_session_take(struct vgpu_ue_session *s, bool nonblock,
			     size_t len, u64 *seq)
{
	struct vgpu_ue *ue = s->ue;
	struct vgpu_ue_msg *m;
	ssize_t ret;

	lockdep_assert_held(&s->read_lock);
	mutex_lock(&ue->lock);
	while (!s->dead && list_empty(&s->queue)) {
		mutex_unlock(&ue->lock);
		if (nonblock)
			return -EAGAIN;
		if (wait_event_interruptible(s->wq, READ_ONCE(s->dead) ||
					     !list_empty_careful(&s->queue)))
			return -ERESTARTSYS;
		mutex_lock(&ue->lock);
	}
	if (s->dead) {
		ret = -ENODEV;
		goto out;
	}
	m = list_first_entry(&s->queue, struct vgpu_ue_msg, node);
	/* Never a byte past the buffer: a request too long stays queued. */
	ret = vgpu_ue_read_fits(len, &m->req);
	if (ret)
		goto out;
	memcpy(s->buf, &m->req, sizeof(m->req));
	if (m->req.payload_len)
		memcpy(s->buf + sizeof(m->req), m->payload,
		       m->req.payload_len);
	*seq = m->req.seq;
	list_move_tail(&m->node, &s->in_flight);
	ret = sizeof(m->req) + m->req.payload_len;
out:
	mutex_unlock(&ue->lock);
	return ret;
}

/* The process did not get request @seq: it goes back, first in line. */
static void vgpu_ue_untake(struct vgpu_ue_session *s, u64 seq)
{
	struct vgpu_ue_msg *m;

	mutex_lock(&s->ue->lock);
	list_for_each_entry(m, &s->in_flight, node) {
		if (m->req.seq == seq) {
			list_move(&m->node, &s->queue);
			break;
		}
	}
	mutex_unlock(&s->ue->lock);
}

static ssize_t vgpu_ue_read(struct file *f, char __user *buf, size_t len,
			    loff_t *pos)
{
	struct vgpu_ue_session *s = f->private_data;
	ssize_t ret;
	u64 seq;

	if (mutex_lock_interruptible(&s->read_lock))
		return -ERESTARTSYS;
	ret = vgpu_ue_session_take(s, f->f_flags & O_NONBLOCK, len, &seq);
	/* Without the instance's lock: the buffer may fault, even on userfaultfd. */
	if (ret > 0 && copy_to_user(buf, s->buf, ret)) {
		vgpu_ue_untake(s, seq);
		ret = -EFAULT;
	}
	mutex_unlock(&s->read_lock);
	return ret;
}

/**
 * vgpu_ue_session_answer() - the process's answer to a request of @s
 * @s: the session that read the request
 * @r: the answer, in the kernel
 *
 * Only a request in flight on @s itself is answered: the process of one
 * instance never answers another's.
 *
 * Return: 0; -ENODEV once the session ended, -ENOENT when no request of
 * @s with @r->seq waits, -EINVAL for an answer of the wrong format (the
 * request still waits).
 */
int vgpu_ue_session_answer(struct vgpu_ue_session *s,
			   const struct vgpu_ue_resp *r)
{
	struct vgpu_ue_msg *m;
	int ret = -ENOENT;

	mutex_lock(&s->ue->lock);
	if (s->dead) {
		ret = -ENODEV;
		goto out;
	}
	list_for_each_entry(m, &s->in_flight, node) {
		if (m->req.seq != r->seq)
			continue;
		/* Refused, the request still waits for its answer. */
		ret = vgpu_ue_check_answer(&m->req, r);
		if (!ret) {
			m->resp = *r;
			vgpu_ue_finish(m, 0);
		}
		break;
	}
out:
	mutex_unlock(&s->ue->lock);
	return ret;
}

static ssize_t vgpu_ue_write(struct file *f, const char __user *buf,
			     size_t len, loff_t *pos)
{
	struct vgpu_ue_resp r;
	int ret;

	if (len != sizeof(r))
		return -EINVAL;
	if (copy_from_user(&r, buf, sizeof(r)))
		return -EFAULT;
	ret = vgpu_ue_session_answer(f->private_data, &r);
	return ret ? ret : len;
}

static __poll_t vgpu_ue_poll(struct file *f, poll_table *wait)
{
	struct vgpu_ue_session *s = f->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(f, &s->wq, wait);
	mutex_lock(&s->ue->lock);
	if (s->dead)
		mask |= EPOLLHUP;
	else if (!list_empty(&s->queue))
		mask |= EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&s->ue->lock);
	return mask;
}

/* A VMA split in two (a partial munmap) holds the window twice. */
static void vgpu_ue_vma_open(struct vm_area_struct *vma)
{
	struct vgpu_ue_window *w = vma->vm_private_data;

	kref_get(&w->ref);
}

static void vgpu_ue_vma_close(struct vm_area_struct *vma)
{
	vgpu_ue_window_put(vma->vm_private_data);
}

/* A page of the window, while the session lives. */
static vm_fault_t vgpu_ue_fault(struct vm_fault *vmf)
{
	struct vgpu_ue_session *s = vmf->vma->vm_file->private_data;
	struct vgpu_ue_window *w = vmf->vma->vm_private_data;
	u64 i = vmf->pgoff & (BIT_ULL(VGPU_UE_WINDOW_SHIFT - PAGE_SHIFT) - 1);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	mutex_lock(&s->map_lock);
	if (!s->unmapped && i < w->npages)
		ret = vmf_insert_page(vmf->vma, vmf->address,
				      vgpu_ue_window_page(w, i));
	mutex_unlock(&s->map_lock);
	return ret;
}

static const struct vm_operations_struct vgpu_ue_vm_ops = {
	.open = vgpu_ue_vma_open,
	.close = vgpu_ue_vma_close,
	.fault = vgpu_ue_fault,
};

/*
 * Maps (part of) a window into the process; its pages come on fault.
 * The window must belong to the registered session's generation (its id
 * is looked up in the instance's table, which holds only live windows).
 */
static int vgpu_ue_mmap(struct file *f, struct vm_area_struct *vma)
{
	struct vgpu_ue_session *s = f->private_data;
	u64 id = vma->vm_pgoff >> (VGPU_UE_WINDOW_SHIFT - PAGE_SHIFT);
	u64 first = vma->vm_pgoff & (BIT_ULL(VGPU_UE_WINDOW_SHIFT - PAGE_SHIFT) - 1);
	u64 n = vma_pages(vma), gen = 0;
	struct vgpu_ue_window *w;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	mutex_lock(&s->ue->lock);
	if (!s->dead)
		gen = s->gen;
	mutex_unlock(&s->ue->lock);
	if (!gen)
		return -EINVAL;
	w = vgpu_ue_window_get(s->ue, id);
	if (!w)
		return -ENOENT;
	/* Only the process of the generation whose context it is. */
	if (w->gen != gen || first >= w->npages || n > w->npages - first) {
		vgpu_ue_window_put(w);
		return -EINVAL;
	}
	/* Pages inserted on fault, under the mmap lock read only. */
	vgpu_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP |
			  VM_DONTCOPY);
	vma->vm_private_data = w;
	vma->vm_ops = &vgpu_ue_vm_ops;
	return 0;
}

static const struct file_operations vgpu_ue_fops = {
	.owner = THIS_MODULE,
	.open = vgpu_ue_open,
	.release = vgpu_ue_release,
	.read = vgpu_ue_read,
	.write = vgpu_ue_write,
	.poll = vgpu_ue_poll,
	.mmap = vgpu_ue_mmap,
	.unlocked_ioctl = vgpu_ue_ioctl,
	.llseek = noop_llseek,
};

/* The instance of a misc device's sysfs device. */
static struct vgpu_ue *vgpu_ue_of(struct device *dev)
{
	return container_of(dev_get_drvdata(dev), struct vgpu_ue, misc);
}

/*
 * /sys/class/misc/vgpu-uengine[N]/{backend,pci,generation}: the
 * instance's live process.
 */
static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct vgpu_ue *ue = vgpu_ue_of(dev);
	ssize_t n;

	mutex_lock(&ue->lock);
	n = sysfs_emit(buf, "%s\n", ue->live ? ue->backend : "");
	mutex_unlock(&ue->lock);
	return n;
}
static DEVICE_ATTR_RO(backend);

static ssize_t pci_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	char pci[VGPU_UE_PCI_LEN];

	vgpu_ue_pci_address(&vgpu_ue_of(dev)->engine, pci, sizeof(pci));
	return sysfs_emit(buf, "%s\n", pci);
}
static DEVICE_ATTR_RO(pci);

static ssize_t generation_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", vgpu_ue_generation(vgpu_ue_of(dev)));
}
static DEVICE_ATTR_RO(generation);

/*
 * shadow_bytes: shadow pages of granted objects now; shadow_in_bytes,
 * shadow_out_bytes: bytes copied into and out of shadows so far (of
 * every instance: each device shows the module's totals).
 */
static ssize_t shadow_bytes_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&vgpu_ue_shadow_bytes));
}
static DEVICE_ATTR_RO(shadow_bytes);

static ssize_t shadow_in_bytes_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&vgpu_ue_shadow_in_bytes));
}
static DEVICE_ATTR_RO(shadow_in_bytes);

static ssize_t shadow_out_bytes_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&vgpu_ue_shadow_out_bytes));
}
static DEVICE_ATTR_RO(shadow_out_bytes);

static struct attribute *vgpu_ue_attrs[] = {
	&dev_attr_backend.attr,
	&dev_attr_pci.attr,
	&dev_attr_generation.attr,
	&dev_attr_shadow_bytes.attr,
	&dev_attr_shadow_in_bytes.attr,
	&dev_attr_shadow_out_bytes.attr,
	NULL
};
ATTRIBUTE_GROUPS(vgpu_ue);

/**
 * vgpu_ue_chan_init() - register an instance's device
 * @ue: the instance, its @index and @dev_name set
 *
 * Return: 0, or misc_register()'s error (a name taken).
 */
int vgpu_ue_chan_init(struct vgpu_ue *ue)
{
	ue->misc.minor = MISC_DYNAMIC_MINOR;
	ue->misc.name = ue->dev_name;
	ue->misc.fops = &vgpu_ue_fops;
	ue->misc.mode = 0600;
	ue->misc.groups = vgpu_ue_groups;
	return misc_register(&ue->misc);
}

void vgpu_ue_chan_exit(struct vgpu_ue *ue)
{
	misc_deregister(&ue->misc);
}
