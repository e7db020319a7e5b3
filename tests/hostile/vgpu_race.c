// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_race.c - vgpu-race, a guest program for the test bed only: a
 * hostile process destroys its own context or object while another of
 * its threads is in the middle of an ioctl that checked it, and a victim
 * process creates a context or an object meanwhile.  Every guest process
 * shares the guest's one connection, whose backend hands out the lowest
 * free id: unless vgpu-front holds the handles for the whole operation,
 * the rest of the operation reaches the victim's context or object.
 *
 *   ctx-bind    a VM_BIND stalls (userfaultfd) after its context check,
 *               in copying its operations; the context is destroyed, the
 *               victim creates one; the bind must not land in the
 *               victim's context (the victim maps the same address).
 *   ctx-submit  the same for a SUBMIT: its FILL must not overwrite the
 *               victim's object mapped at that address.
 *   bo-bind     a long VM_BIND (naive mode: one request per page) of an
 *               object that another thread destroys; the victim creates
 *               an object full of its pattern; the attacker reads what
 *               its address range maps: never the victim's pattern.
 *   refused-whole  a malformed command or bind operation after a good
 *               one: the ioctl fails, the good one did not run.
 *
 * Both modes: the userfaultfd stalls make ctx-bind and ctx-submit
 * deterministic.  bo-bind races for real; it must be exercised (the
 * victim's object created while the bind runs) in naive mode, where the
 * window is a whole bind; in hp mode the bind is one request.
 *
 * Prints "vgpu-race: PASS ..." or "vgpu-race: FAIL ..." lines; exits 1
 * on any failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vgpu_drm.h"

#define PG		4096ULL
#define VICTIM_WORD	0x5ec2e700u	/* the victim's pattern */
#define ATTACK_WORD	0xa77ac400u	/* the attacker's */
#define BIND_PAGES	64		/* bo-bind: naive sends one request each */
#define BO_ITERS	12		/* bo-bind: tries at most */

static int failures;
static int mode;
static __u64 va_base;

static int vioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int open_node(void)
{
	struct drm_vgpu_info info;
	glob_t g;
	size_t i;
	int fd;

	if (glob("/dev/dri/renderD*", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc; i++) {
		fd = open(g.gl_pathv[i], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!vioctl(fd, DRM_IOCTL_VGPU_GET_INFO, &info)) {
			mode = info.mode;
			va_base = info.va_start;
			globfree(&g);
			return fd;
		}
		close(fd);
	}
	globfree(&g);
	return -1;
}

static int ctx_create(int fd, __u32 *id)
{
	struct drm_vgpu_ctx_create a = { .priority = DRM_VGPU_PRIO_NORMAL };
	int ret = vioctl(fd, DRM_IOCTL_VGPU_CTX_CREATE, &a);

	*id = a.ctx_id;
	return ret;
}

static int ctx_destroy(int fd, __u32 id)
{
	struct drm_vgpu_ctx_destroy a = { .ctx_id = id };

	return vioctl(fd, DRM_IOCTL_VGPU_CTX_DESTROY, &a);
}

static int bo_create(int fd, __u64 size, __u32 domain, __u32 *h)
{
	struct drm_vgpu_bo_create a = { .size = size, .domain = domain };
	int ret = vioctl(fd, DRM_IOCTL_VGPU_BO_CREATE, &a);

	*h = a.handle;
	return ret;
}

static int bo_destroy(int fd, __u32 h)
{
	struct drm_vgpu_bo_destroy a = { .handle = h };

	return vioctl(fd, DRM_IOCTL_VGPU_BO_DESTROY, &a);
}

static int bind(int fd, __u32 ctx, __u32 op, __u32 h, __u64 va,
		__u64 size)
{
	struct drm_vgpu_vm_bind_op o = {
		.op = op, .va = va, .size = size, .handle = h,
		.flags = op == DRM_VGPU_BIND_MAP ?
			 DRM_VGPU_BIND_READ | DRM_VGPU_BIND_WRITE : 0,
	};
	struct drm_vgpu_vm_bind a = {
		.ctx_id = ctx, .num_ops = 1, .ops = (uintptr_t)&o,
	};

	return vioctl(fd, DRM_IOCTL_VGPU_VM_BIND, &a);
}

/* One command; waits until its context has completed it. */
static int submit_wait(int fd, __u32 ctx, const struct drm_vgpu_cmd *cmd)
{
	struct drm_vgpu_submit s = {
		.ctx_id = ctx, .num_cmds = 1, .cmds = (uintptr_t)cmd,
	};
	struct drm_vgpu_ctx_status st;
	int i, ret = vioctl(fd, DRM_IOCTL_VGPU_SUBMIT, &s);

	for (i = 0; !ret && i < 10000; i++) {
		memset(&st, 0, sizeof(st));
		st.ctx_id = ctx;
		ret = vioctl(fd, DRM_IOCTL_VGPU_CTX_STATUS, &st);
		if (ret || st.completed >= s.seqno)
			break;
		usleep(1000);
	}
	if (!ret && st.status != DRM_VGPU_CTX_OK)
		ret = -EFAULT;
	return ret;
}

static int fill(int fd, __u32 ctx, __u64 va, __u64 size, __u32 v)
{
	struct drm_vgpu_cmd c = {
		.op = DRM_VGPU_CMD_FILL, .dst = va, .size = size, .value = v,
	};

	return submit_wait(fd, ctx, &c);
}

/*
 * Counts the words equal to @word in [@va, @va + @size) of @ctx, copied
 * into a host object; -errno on error.
 */
static long count_word(int fd, __u32 ctx, __u64 va, __u64 size,
		       __u32 word)
{
	struct drm_vgpu_bo_mmap_offset mo = { 0 };
	__u64 rva = va_base + (1ULL << 30);
	struct drm_vgpu_cmd c = {
		.op = DRM_VGPU_CMD_COPY, .dst = rva, .src = va, .size = size,
	};
	const __u32 *p;
	long n = 0;
	__u64 i;
	__u32 h;
	void *m;
	int ret;

	ret = bo_create(fd, size, DRM_VGPU_DOMAIN_HOST, &h);
	if (ret)
		return ret;
	ret = bind(fd, ctx, DRM_VGPU_BIND_MAP, h, rva, size);
	if (!ret)
		ret = submit_wait(fd, ctx, &c);
	mo.handle = h;
	if (!ret)
		ret = vioctl(fd, DRM_IOCTL_VGPU_BO_MMAP_OFFSET, &mo);
	if (!ret) {
		m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, mo.offset);
		if (m == MAP_FAILED) {
			ret = -errno;
		} else {
			p = m;
			for (i = 0; i < size / 4; i++)
				n += p[i] == word;
			munmap(m, size);
		}
	}
	bind(fd, ctx, DRM_VGPU_BIND_UNMAP, 0, rva, size);
	bo_destroy(fd, h);
	return ret ? ret : n;
}

/* The victim: a process of its own, driven over two pipes. */
struct vmsg {
	char op;	/* see victim() */
	__u32 id;
	__u64 size;
};

struct vrsp {
	__s32 ret;
	__u32 id;
	__s64 val;
};

static int to_victim[2], from_victim[2];

static void vreply(__s32 ret, __u32 id, __s64 val)
{
	struct vrsp r = { .ret = ret, .id = id, .val = val };

	if (write(from_victim[1], &r, sizeof(r)) != sizeof(r))
		_exit(2);
}

static void victim(void)
{
	__u32 ctx = 0, h = 0, vctx;
	struct vmsg m;
	int fd = open_node(), ret;

	if (fd < 0 || ctx_create(fd, &vctx))
		_exit(2);
	while (read(to_victim[0], &m, sizeof(m)) == sizeof(m)) {
		switch (m.op) {
		case 'C':	/* a new context */
			ret = ctx_create(fd, &ctx);
			vreply(ret, ctx, 0);
			break;
		case 'M':	/* an object of its own at va_base */
			ret = bo_create(fd, PG, DRM_VGPU_DOMAIN_DEVICE, &h);
			if (!ret)
				ret = bind(fd, ctx, DRM_VGPU_BIND_MAP, h, va_base, PG);
			vreply(ret, h, 0);
			break;
		case 'S':	/* the same, filled with the victim's pattern */
			ret = ctx_create(fd, &ctx);
			if (!ret)
				ret = bo_create(fd, PG, DRM_VGPU_DOMAIN_DEVICE, &h);
			if (!ret)
				ret = bind(fd, ctx, DRM_VGPU_BIND_MAP, h, va_base, PG);
			if (!ret)
				ret = fill(fd, ctx, va_base, PG, VICTIM_WORD);
			vreply(ret, ctx, 0);
			break;
		case 'V':	/* how much of the victim's pattern is left */
			vreply(0, 0, count_word(fd, ctx, va_base, PG, VICTIM_WORD));
			break;
		case 'E':	/* the end of a case: free its context, object */
			ctx_destroy(fd, ctx);
			bo_destroy(fd, h);
			vreply(0, 0, 0);
			break;
		case 'B':	/* an object full of the victim's pattern */
			ret = bo_create(fd, m.size, DRM_VGPU_DOMAIN_DEVICE, &h);
			vreply(ret, h, 0);	/* created: the attacker looks */
			if (!ret)
				ret = bind(fd, vctx, DRM_VGPU_BIND_MAP, h, va_base,
					   m.size);
			if (!ret)
				ret = fill(fd, vctx, va_base, m.size, VICTIM_WORD);
			bind(fd, vctx, DRM_VGPU_BIND_UNMAP, 0, va_base, m.size);
			vreply(ret, h, 0);
			break;
		case 'D':
			vreply(bo_destroy(fd, m.id), 0, 0);
			break;
		default:	/* 'Q' */
			vreply(0, 0, 0);
			_exit(0);
		}
	}
	_exit(0);
}

static struct vrsp vcall(char op, __u32 id, __u64 size)
{
	struct vmsg m = { .op = op, .id = id, .size = size };
	struct vrsp r = { .ret = -EPIPE };

	if (write(to_victim[1], &m, sizeof(m)) != sizeof(m))
		return r;
	if (read(from_victim[0], &r, sizeof(r)) != sizeof(r))
		r.ret = -EPIPE;
	return r;
}

static struct vrsp vnext(void)
{
	struct vrsp r = { .ret = -EPIPE };

	if (read(from_victim[0], &r, sizeof(r)) != sizeof(r))
		r.ret = -EPIPE;
	return r;
}

static void result(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("vgpu-race: %s %s (%s mode): ", ok ? "PASS" : "FAIL", name,
	       mode == DRM_VGPU_MODE_HP ? "hp" : "naive");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* An ioctl whose argument array is copied from a page that faults. */
struct stalled {
	int fd;
	unsigned long req;
	void *arg;
	int ret;
	atomic_bool done;
};

static void *stalled_thread(void *p)
{
	struct stalled *s = p;

	s->ret = vioctl(s->fd, s->req, s->arg);
	atomic_store(&s->done, true);
	return NULL;
}

/* A page registered with userfaultfd, not yet present. */
static void *uffd_page(int *uffd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	void *p;

	*uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (*uffd < 0 || ioctl(*uffd, UFFDIO_API, &api))
		return NULL;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	reg.range.start = (uintptr_t)p;
	reg.range.len = PG;
	if (ioctl(*uffd, UFFDIO_REGISTER, &reg))
		return NULL;
	return p;
}

/* Waits (5 s at most) until a thread faults on the page. */
static int uffd_wait(int uffd)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 5000) != 1)
		return -ETIMEDOUT;
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return -EIO;
	return 0;
}

/* Lets the stalled copy go on, with @src as the page's content. */
static int uffd_resolve(int uffd, void *page, const void *src)
{
	struct uffdio_copy c = {
		.dst = (uintptr_t)page, .src = (uintptr_t)src, .len = PG,
	};

	return ioctl(uffd, UFFDIO_COPY, &c) ? -errno : 0;
}

/*
 * Starts @req with its array in a faulting page, waits for the fault,
 * destroys @ctx (the return value), lets the victim do @vop and
 * resolves the fault with @content; the thread's result in *@ioctl_ret.
 */
static int stall_destroy(int fd, unsigned long req, void *arg, __u32 ctx,
			 void *page, int uffd, const void *content,
			 char vop, struct vrsp *vr, int *ioctl_ret)
{
	struct stalled s = { .fd = fd, .req = req, .arg = arg };
	pthread_t t;
	int dret, ret;

	if (pthread_create(&t, NULL, stalled_thread, &s))
		return -EAGAIN;
	ret = uffd_wait(uffd);
	dret = ctx_destroy(fd, ctx);
	*vr = vcall(vop, 0, 0);
	if (!ret)
		ret = uffd_resolve(uffd, page, content);
	pthread_join(t, NULL);
	*ioctl_ret = s.ret;
	return ret ? ret : dret;
}

static void case_ctx_bind(int fd)
{
	struct drm_vgpu_vm_bind_op op = {
		.op = DRM_VGPU_BIND_MAP, .flags = DRM_VGPU_BIND_READ,
		.va = 0, .size = PG,
	};
	struct drm_vgpu_vm_bind a = { .num_ops = 1 };
	struct vrsp vc, vm;
	static __u8 content[PG];
	int uffd, dret, bret;
	__u32 ctx, h;
	void *page = uffd_page(&uffd);

	if (!page || ctx_create(fd, &ctx) ||
	    bo_create(fd, PG, DRM_VGPU_DOMAIN_DEVICE, &h)) {
		result("ctx-bind", false, "setup: %s", strerror(errno));
		return;
	}
	op.handle = h;
	op.va = va_base;
	memcpy(content, &op, sizeof(op));
	a.ctx_id = ctx;
	a.ops = (uintptr_t)page;
	dret = stall_destroy(fd, DRM_IOCTL_VGPU_VM_BIND, &a, ctx, page, uffd,
			     content, 'C', &vc, &bret);
	vm = vcall('M', 0, 0);	/* its own object at the same address */
	result("ctx-bind", dret == 0 && vc.ret == 0 && vm.ret == 0,
	       "destroy %d, victim's context %u (attacker's %u), bind %d, the victim's map at that address %d (-EEXIST: the attacker's bind landed in the victim's context)",
	       dret, vc.id, ctx, bret, vm.ret);
	result("ctx-bind-destroyed", ctx_destroy(fd, ctx) == -ENOENT,
	       "a second destroy of the context is refused");
	vcall('E', 0, 0);
	bo_destroy(fd, h);
	close(uffd);
	munmap(page, PG);
}

static void case_ctx_submit(int fd)
{
	struct drm_vgpu_cmd cmd = {
		.op = DRM_VGPU_CMD_FILL, .size = PG, .value = ATTACK_WORD,
	};
	struct drm_vgpu_submit a = { .num_cmds = 1 };
	static __u8 content[PG];
	int uffd, dret, sret;
	struct vrsp vs, vv;
	__u32 ctx;
	void *page = uffd_page(&uffd);

	if (!page || ctx_create(fd, &ctx)) {
		result("ctx-submit", false, "setup: %s", strerror(errno));
		return;
	}
	cmd.dst = va_base;
	memcpy(content, &cmd, sizeof(cmd));
	a.ctx_id = ctx;
	a.cmds = (uintptr_t)page;
	dret = stall_destroy(fd, DRM_IOCTL_VGPU_SUBMIT, &a, ctx, page, uffd,
			     content, 'S', &vs, &sret);
	usleep(200000);	/* hp: a submission that got through has run */
	vv = vcall('V', 0, 0);
	result("ctx-submit", dret == 0 && vs.ret == 0 && vv.val == PG / 4,
	       "destroy %d, victim's context %u (attacker's %u), submit %d, %lld of %llu words of the victim's object left (fewer: the attacker's FILL ran in the victim's context)",
	       dret, vs.id, ctx, sret, (long long)vv.val, PG / 4);
	vcall('E', 0, 0);
	close(uffd);
	munmap(page, PG);
}

struct bind_arg {
	int fd;
	__u32 ctx, h;
	int ret;
	atomic_bool started, done;
};

static void *bind_thread(void *p)
{
	struct bind_arg *b = p;

	atomic_store(&b->started, true);
	b->ret = bind(b->fd, b->ctx, DRM_VGPU_BIND_MAP, b->h, va_base,
		      BIND_PAGES * PG);
	atomic_store(&b->done, true);
	return NULL;
}

/* One try of bo-bind; 1 when the victim created its object in time. */
static int bo_bind_once(int fd, long *leaked, int *dret)
{
	struct bind_arg b = { .fd = fd };
	int exercised;
	struct vrsp v1, v2;
	pthread_t t;
	long n = 0;

	if (ctx_create(fd, &b.ctx))
		return -errno;
	if (bo_create(fd, BIND_PAGES * PG, DRM_VGPU_DOMAIN_DEVICE, &b.h) ||
	    pthread_create(&t, NULL, bind_thread, &b)) {
		ctx_destroy(fd, b.ctx);
		return -EIO;
	}
	while (!atomic_load(&b.started))
		sched_yield();
	usleep(3000);		/* a few pages into the bind */
	*dret = bo_destroy(fd, b.h);
	v1 = vcall('B', 0, BIND_PAGES * PG);
	exercised = v1.ret == 0 && !atomic_load(&b.done);
	v2 = vnext();
	pthread_join(t, NULL);
	if (!b.ret && v2.ret == 0)
		n = count_word(fd, b.ctx, va_base, BIND_PAGES * PG, VICTIM_WORD);
	if (n < 0)
		exercised = n;
	else
		*leaked += n;
	ctx_destroy(fd, b.ctx);
	if (v1.ret == 0)
		vcall('D', v1.id, 0);
	return exercised;
}

static void case_bo_bind(int fd)
{
	int i, r, exercised = 0, errors = 0, dret = 0, bad_destroy = 0;
	long leaked = 0;

	for (i = 0; i < BO_ITERS && exercised < 3; i++) {
		r = bo_bind_once(fd, &leaked, &dret);
		if (r < 0)
			errors++;
		else
			exercised += r;
		bad_destroy += dret != 0;
	}
	result("bo-bind", !leaked && !errors && !bad_destroy &&
	       (exercised || mode == DRM_VGPU_MODE_HP),
	       "%d tries, %d with the victim's object created during the bind, %d errors, %d destroys refused, %ld words of the victim's pattern read by the attacker",
	       i, exercised, errors, bad_destroy, leaked);
}

/*
 * refused-whole: a malformed command or bind operation after a good one
 * fails the ioctl itself (-EINVAL), in both modes, and the good one has
 * not run: hp posts a submission without waiting for dom0, and naive
 * sends it command by command, so vgpu-front must refuse it whole first.
 */
static void case_refused_whole(int fd)
{
	__u64 va = va_base + (2ULL << 30);
	struct drm_vgpu_cmd cmds[2] = {
		{ .op = DRM_VGPU_CMD_FILL, .dst = va, .size = PG,
		  .value = ATTACK_WORD },
		{ .op = DRM_VGPU_CMD_FILL, .dst = va + 1, .size = 8 },
	};
	struct drm_vgpu_submit s = {
		.num_cmds = 2, .cmds = (uintptr_t)cmds,
	};
	struct drm_vgpu_vm_bind_op ops[2] = {
		{ .op = DRM_VGPU_BIND_MAP, .flags = DRM_VGPU_BIND_READ,
		  .va = va + PG, .size = PG },
		{ .op = DRM_VGPU_BIND_MAP, .va = va + 2 * PG, .size = PG },
	};
	struct drm_vgpu_vm_bind b = { .num_ops = 2, .ops = (uintptr_t)ops };
	int sret, bret, again;
	__u32 ctx, h;
	long words;

	if (ctx_create(fd, &ctx) ||
	    bo_create(fd, 4 * PG, DRM_VGPU_DOMAIN_DEVICE, &h) ||
	    bind(fd, ctx, DRM_VGPU_BIND_MAP, h, va, PG) || fill(fd, ctx, va, PG, 0)) {
		result("refused-whole", false, "setup: %s", strerror(errno));
		return;
	}
	s.ctx_id = ctx;
	sret = vioctl(fd, DRM_IOCTL_VGPU_SUBMIT, &s);
	usleep(200000);	/* a FILL that got through has run */
	words = count_word(fd, ctx, va, PG, ATTACK_WORD);
	ops[0].handle = h;
	ops[1].handle = h;	/* no rights: malformed */
	b.ctx_id = ctx;
	bret = vioctl(fd, DRM_IOCTL_VGPU_VM_BIND, &b);
	/* The first operation was not applied: its address is free. */
	again = bind(fd, ctx, DRM_VGPU_BIND_MAP, h, va + PG, PG);
	result("refused-whole", sret == -EINVAL && words == 0 &&
	       bret == -EINVAL && b.num_done == 0 && again == 0,
	       "submit %d, %ld words of its good FILL written (0: it did not run), bind %d with %u done, the good operation's address mapped again %d (-EEXIST: it was applied)",
	       sret, words, bret, b.num_done, again);
	ctx_destroy(fd, ctx);
	bo_destroy(fd, h);
}

int main(void)
{
	pid_t pid;
	int fd = open_node();

	if (fd < 0) {
		printf("vgpu-race: FAIL no vgpu render node\n");
		return 1;
	}
	if (pipe(to_victim) || pipe(from_victim))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(fd);
		close(to_victim[1]);
		close(from_victim[0]);
		victim();
	}
	close(to_victim[0]);
	close(from_victim[1]);
	case_ctx_bind(fd);
	case_ctx_submit(fd);
	case_bo_bind(fd);
	case_refused_whole(fd);
	vcall('Q', 0, 0);
	waitpid(pid, NULL, 0);
	return failures ? 1 : 0;
}
