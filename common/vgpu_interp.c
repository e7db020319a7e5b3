// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_interp.c - the SIMT interpreter of vgpu-sim (see vgpu_interp.h and
 * Documentation/sim-isa.rst).
 */
#include "vgpu_interp.h"
#include "vgpu_interp_alu.h"
#include "vgpu_isa_decode.h"
#include "vgpu_softfloat64.h"

/**
 * vgpu_launch_init() - prepare a launch to run from its first instruction
 * @l: state to fill
 * @d: validated launch description
 *
 * Return: 0, -EINVAL or -ENOMEM.  On success, vgpu_launch_fini() frees.
 */
int vgpu_launch_init(struct vgpu_launch *l, const struct vgpu_launch_desc *d)
{
	struct vgpu_dinsn nop;
	int ret = vgpu_launch_check(d);
	u32 i;

	if (ret)
		return ret;
	memset(l, 0, sizeof(*l));
	l->d = *d;
	l->nthreads = d->block[0] * d->block[1] * d->block[2];
	l->nblocks = (u64)d->grid[0] * d->grid[1] * d->grid[2];
	l->t = kvcalloc(l->nthreads, sizeof(*l->t), VGPU_GFP_CLIENT_KV);
	l->dcache = kvmalloc_array(VGPU_DCACHE_ENTRIES, sizeof(*l->dcache),
				   VGPU_GFP_CLIENT_KV);
	if (d->shared_size)
		l->shared = kvzalloc(d->shared_size, VGPU_GFP_CLIENT_KV);
	if (!l->t || !l->dcache || (d->shared_size && !l->shared)) {
		vgpu_launch_fini(l);
		return -ENOMEM;
	}
	if (WARN_ON(!vgpu_isa_decode(VGPU_OP_NOP, &nop))) {
		vgpu_launch_fini(l);
		return -EINVAL;
	}
	for (i = 0; i < VGPU_DCACHE_ENTRIES; i++) {
		l->dcache[i].w = VGPU_OP_NOP;
		l->dcache[i].d = nop;
	}
	return 0;
}

void vgpu_launch_fini(struct vgpu_launch *l)
{
	kvfree(l->t);
	kvfree(l->shared);
	kvfree(l->dcache);
	l->t = NULL;
	l->shared = NULL;
	l->dcache = NULL;
}

/* Returns the work units it cost (see VGPU_BLOCK_START_COST). */
static u64 vgpu_block_start(struct vgpu_launch *l)
{
	u32 i;

	for (i = 0; i < l->nthreads; i++) {
		struct vgpu_thread *t = &l->t[i];

		memset(t->r, 0, sizeof(t->r));
		t->clock = 0;
		t->pc = l->d.code_va;
		t->state = VGPU_T_READY;
	}
	if (l->shared)
		memset(l->shared, 0, l->d.shared_size);
	l->cur = 0;
	l->exited = 0;
	l->warp_parked = 0;
	l->block_live = true;
	return VGPU_BLOCK_START_COST(l->nthreads, l->d.shared_size);
}

/*
 * Special register @sr of the running thread (@l->cur of block @l->block),
 * computed when read: the divisions cost more than the instructions
 * between two thread switches of a kernel with barriers.
 */
static u64 vgpu_sreg(const struct vgpu_launch *l, u32 sr)
{
	const struct vgpu_launch_desc *d = &l->d;
	u64 b = l->block;
	u32 t = l->cur;

	switch (sr) {
	case VGPU_SR_TID_X:
		return t % d->block[0];
	case VGPU_SR_TID_Y:
		return (t / d->block[0]) % d->block[1];
	case VGPU_SR_TID_Z:
		return t / (d->block[0] * d->block[1]);
	case VGPU_SR_NTID_X:
	case VGPU_SR_NTID_Y:
	case VGPU_SR_NTID_Z:
		return d->block[sr - VGPU_SR_NTID_X];
	case VGPU_SR_CTAID_X:
		return b % d->grid[0];
	case VGPU_SR_CTAID_Y:
		return (b / d->grid[0]) % d->grid[1];
	case VGPU_SR_CTAID_Z:
		return b / ((u64)d->grid[0] * d->grid[1]);
	case VGPU_SR_NCTAID_X:
	case VGPU_SR_NCTAID_Y:
	case VGPU_SR_NCTAID_Z:
		return d->grid[sr - VGPU_SR_NCTAID_X];
	case VGPU_SR_LANEID:
		return t % 32;
	default:
		/*
		 * VGPU_SR_WARPID: the decoder refused the others, and
		 * vgpu_run_thread() reads VGPU_SR_CLOCK64 itself.
		 */
		return t / 32;
	}
}

static inline unsigned long vgpu_tlb_lookup(struct vgpu_tlb_entry *tlb,
					    const struct vgpu_pt *pt, u64 va)
{
	u64 pn = va >> VGPU_PAGE_SHIFT;
	struct vgpu_tlb_entry *e = &tlb[pn & (VGPU_TLB_ENTRIES - 1)];
	unsigned long pte;

	if (likely(e->tag == pn + 1))
		return e->pte;
	pte = vgpu_pt_lookup(pt, va);
	if (pte) {
		e->tag = pn + 1;
		e->pte = pte;
	}
	return pte;
}

/* Translate an access; on failure record the fault and return NULL. */
static inline u8 *vgpu_access(struct vgpu_launch *l, const struct vgpu_pt *pt,
			      u64 va, u32 size, unsigned long need)
{
	unsigned long pte;

	if (unlikely(va & (size - 1))) {
		l->fault_kind = VGPU_FAULT_MISALIGNED;
		l->fault_addr = va;
		return NULL;
	}
	pte = vgpu_tlb_lookup(l->tlb, pt, va);
	if (unlikely(!pte)) {
		l->fault_kind = VGPU_FAULT_UNMAPPED;
		l->fault_addr = va;
		return NULL;
	}
	if (unlikely((pte & need) != need)) {
		l->fault_kind = VGPU_FAULT_PERM;
		l->fault_addr = va;
		return NULL;
	}
	return (u8 *)(pte & ~(unsigned long)VGPU_PAGE_MASK) + (va & VGPU_PAGE_MASK);
}

static inline u8 *vgpu_shared(struct vgpu_launch *l, u64 off, u32 size)
{
	if (unlikely(off & (size - 1) || off >= l->d.shared_size ||
		     l->d.shared_size - off < size)) {
		l->fault_kind = VGPU_FAULT_SHARED;
		l->fault_addr = off;
		return NULL;
	}
	return l->shared + off;
}

static inline u64 vgpu_div(s64 a, s64 b)
{
	if (!b)
		return U64_MAX;
	if (a == S64_MIN && b == -1)
		return (u64)a;
	return (u64)(a / b);
}

static inline u64 vgpu_rem(s64 a, s64 b)
{
	if (!b)
		return (u64)a;
	if (a == S64_MIN && b == -1)
		return 0;
	return (u64)(a % b);
}

/* Bytes a load or store moves; VGPU_MEM_SIGNED: sign-extends. */
#define VGPU_MEM_SIGNED 0x10
static inline u32 vgpu_mem_shape(u32 op, u32 flags)
{
	if (flags & VGPU_OPF_ATOMIC)
		return vgpu_atom_of(op).size;
	switch (op) {
	case VGPU_OP_LD_U8: case VGPU_OP_ST_U8:
	case VGPU_OP_LDS_U8: case VGPU_OP_STS_U8:
		return 1;
	case VGPU_OP_LD_S8: case VGPU_OP_LDS_S8:
		return 1 | VGPU_MEM_SIGNED;
	case VGPU_OP_LD_U16: case VGPU_OP_ST_U16:
	case VGPU_OP_LDS_U16: case VGPU_OP_STS_U16:
		return 2;
	case VGPU_OP_LD_S16: case VGPU_OP_LDS_S16:
		return 2 | VGPU_MEM_SIGNED;
	case VGPU_OP_LD_S32: case VGPU_OP_LDS_S32:
		return 4 | VGPU_MEM_SIGNED;
	case VGPU_OP_LD_U64: case VGPU_OP_ST_U64:
	case VGPU_OP_LDS_U64: case VGPU_OP_STS_U64:
		return 8;
	default:	/* the other 32-bit accesses */
		return 4;
	}
}

static inline u64 vgpu_mem_load(const u8 *p, u32 shape)
{
	switch (shape & 0xf) {
	case 1:
		return shape & VGPU_MEM_SIGNED ? (u64)(s64)(s8)*p : *p;
	case 2:
		return vgpu_ext((u64)p[0] | ((u64)p[1] << 8), 16,
				shape & VGPU_MEM_SIGNED);
	case 4:
		return vgpu_ext(vgpu_load32(p), 32, shape & VGPU_MEM_SIGNED);
	default:
		return vgpu_load64(p);
	}
}

static inline void vgpu_mem_store(u8 *p, u32 size, u64 v)
{
	switch (size) {
	case 1:
		*p = (u8)v;
		break;
	case 2:
		p[0] = (u8)v;
		p[1] = (u8)(v >> 8);
		break;
	case 4:
		vgpu_store32(p, (u32)v);
		break;
	default:
		vgpu_store64(p, v);
	}
}

/* The value atomic @a leaves in memory: from @old, operand @v, compare @c. */
static u64 vgpu_atom_new(struct vgpu_atom_info a, u64 old, u64 v, u64 c)
{
	bool lt = a.sign ? (a.size == 4 ? (s32)old < (s32)v : (s64)old < (s64)v) :
			   old < v;

	switch (a.kind) {
	case VGPU_ATOM_ADD:
		return old + v;
	case VGPU_ATOM_MIN:
		return lt ? old : v;
	case VGPU_ATOM_MAX:
		return lt ? v : old;
	case VGPU_ATOM_AND:
		return old & v;
	case VGPU_ATOM_OR:
		return old | v;
	case VGPU_ATOM_XOR:
		return old ^ v;
	case VGPU_ATOM_XCHG:
		return v;
	case VGPU_ATOM_CAS:
		return old == c ? v : old;
	case VGPU_ATOM_INC:
		return old >= v ? 0 : old + 1;
	case VGPU_ATOM_DEC:
		return old == 0 || old > v ? v : old - 1;
	default:	/* FADD */
		return a.size == 4 ? vgpu_f32_add((u32)old, (u32)v) :
				     vgpu_f64_add(old, v, VGPU_RN);
	}
}

/*
 * The interpreter runs one GPU thread at a time, so a read-modify-write
 * is atomic for every GPU thread.  32-bit operands are bits 31:0 of the
 * registers; rd gets the old value, sign-extended for the signed ones.
 */
static void vgpu_exec_atom(u8 *p, u64 *r, const struct vgpu_dinsn *d)
{
	struct vgpu_atom_info a = vgpu_atom_of(d->op);
	u64 old, v = r[d->rb], c = r[d->rd];

	if (a.size == 4) {
		old = vgpu_load32(p);
		vgpu_store32(p, (u32)vgpu_atom_new(a, old, (u32)v, (u32)c));
		r[d->rd] = vgpu_ext(old, 32, a.sign);
	} else {
		old = vgpu_load64(p);
		vgpu_store64(p, vgpu_atom_new(a, old, v, c));
		r[d->rd] = old;
	}
}

/* Loads, stores and atomics; false on a fault (recorded in @l). */
static bool vgpu_exec_mem(struct vgpu_launch *l, const struct vgpu_pt *pt,
			  u64 *r, struct vgpu_dinsn d)
{
	u32 shape = vgpu_mem_shape(d.op, d.flags), size = shape & 0xf;
	u64 va = r[d.ra] + (u64)(s64)d.imm;
	unsigned long need;
	u8 *p;

	if (d.flags & VGPU_OPF_SHARED) {	/* atomics too: the block's own */
		p = vgpu_shared(l, va, size);
	} else {
		need = d.flags & VGPU_OPF_ATOMIC ? VGPU_PTE_R | VGPU_PTE_W :
		       d.fmt == VGPU_FMT_LD ? VGPU_PTE_R : VGPU_PTE_W;
		p = vgpu_access(l, pt, va, size, need);
	}
	if (!p)
		return false;
	if (d.flags & VGPU_OPF_ATOMIC)
		vgpu_exec_atom(p, r, &d);
	else if (d.fmt == VGPU_FMT_LD)
		r[d.rd] = vgpu_mem_load(p, shape);
	else
		vgpu_mem_store(p, size, r[d.rb]);
	return true;
}

/* The soft-float's rounding for an IRND modifier (rzi, rni, rmi, rpi). */
static inline enum vgpu_round vgpu_irnd(u32 irnd)
{
	static const enum vgpu_round r[4] = { VGPU_RZ, VGPU_RN, VGPU_RM, VGPU_RP };

	return r[irnd & 3];
}

/* Float-to-integer conversion of the class CVTI (f2i, f2u, d2i, d2u). */
static u64 vgpu_cvt_f2i(const struct vgpu_dinsn *d, u64 a)
{
	enum vgpu_round mode = vgpu_irnd(d->mod);
	u32 iw = d->mod >> 2;

	switch (d->op) {
	case VGPU_OP_F2I:
		return vgpu_narrow_sat((u64)vgpu_f32_to_s64_r((u32)a, mode), iw, true);
	case VGPU_OP_F2U:
		return vgpu_narrow_sat(vgpu_f32_to_u64_r((u32)a, mode), iw, false);
	case VGPU_OP_D2I:
		return vgpu_narrow_sat((u64)vgpu_f64_to_s64(a, mode), iw, true);
	default:
		return vgpu_narrow_sat(vgpu_f64_to_u64(a, mode), iw, false);
	}
}

/* Binary32 instructions; @m is the rounding modifier. */
static u64 vgpu_exec_f32(const struct vgpu_dinsn *d, u64 a, u64 b, u64 c)
{
	u32 m = d->mod;

	switch (d->op) {
	case VGPU_OP_FADD:	/* version 1's function: the fastest */
		return m ? vgpu_f32_add_r((u32)a, (u32)b, m) :
			   vgpu_f32_add((u32)a, (u32)b);
	case VGPU_OP_FSUB:	/* version 1's function: the fastest */
		return m ? vgpu_f32_sub_r((u32)a, (u32)b, m) :
			   vgpu_f32_sub((u32)a, (u32)b);
	case VGPU_OP_FMUL:	/* version 1's function: the fastest */
		return m ? vgpu_f32_mul_r((u32)a, (u32)b, m) :
			   vgpu_f32_mul((u32)a, (u32)b);
	case VGPU_OP_FDIV:	/* version 1's function: the fastest */
		return m ? vgpu_f32_div_r((u32)a, (u32)b, m) :
			   vgpu_f32_div((u32)a, (u32)b);
	case VGPU_OP_FMIN:
		return vgpu_f32_min((u32)a, (u32)b);
	case VGPU_OP_FMAX:
		return vgpu_f32_max((u32)a, (u32)b);
	case VGPU_OP_FMAD: /* rd = ra * rb + rd, rounded twice */
		return vgpu_f32_add(vgpu_f32_mul((u32)a, (u32)b), (u32)c);
	case VGPU_OP_FFMA:
		return vgpu_f32_fma_r((u32)a, (u32)b, (u32)c, m);
	case VGPU_OP_FSQRT:
		return vgpu_f32_sqrt_r((u32)a, m);
	case VGPU_OP_FRND:
		return vgpu_f32_round_int((u32)a, vgpu_irnd(m));
	case VGPU_OP_FNEG:
		return (u32)a ^ 0x80000000u;
	case VGPU_OP_FABS:
		return (u32)a & 0x7fffffffu;
	case VGPU_OP_I2F:
		return vgpu_s64_to_f32_r((s64)a, m);
	case VGPU_OP_U2F:
		return vgpu_u64_to_f32_r(a, m);
	case VGPU_OP_FSEQ:
		return vgpu_f32_eq((u32)a, (u32)b);
	case VGPU_OP_FSLT:
		return vgpu_f32_lt((u32)a, (u32)b);
	case VGPU_OP_FSLE:
		return vgpu_f32_le((u32)a, (u32)b);
	case VGPU_OP_FSNAN:
		return VGPU_F32_ISNAN((u32)a) || VGPU_F32_ISNAN((u32)b);
	default:
		return vgpu_cvt_f2i(d, a);
	}
}

/* Binary64 instructions and the conversions from or to binary64. */
static u64 vgpu_exec_f64(const struct vgpu_dinsn *d, u64 a, u64 b, u64 c)
{
	u32 m = d->mod;

	switch (d->op) {
	case VGPU_OP_DADD:
		return vgpu_f64_add(a, b, m);
	case VGPU_OP_DSUB:
		return vgpu_f64_sub(a, b, m);
	case VGPU_OP_DMUL:
		return vgpu_f64_mul(a, b, m);
	case VGPU_OP_DDIV:
		return vgpu_f64_div(a, b, m);
	case VGPU_OP_DFMA:
		return vgpu_f64_fma(a, b, c, m);
	case VGPU_OP_DSQRT:
		return vgpu_f64_sqrt(a, m);
	case VGPU_OP_DMIN:
		return vgpu_f64_min(a, b);
	case VGPU_OP_DMAX:
		return vgpu_f64_max(a, b);
	case VGPU_OP_DNEG:
		return a ^ 0x8000000000000000ULL;
	case VGPU_OP_DABS:
		return a & 0x7fffffffffffffffULL;
	case VGPU_OP_DSEQ:
		return vgpu_f64_eq(a, b);
	case VGPU_OP_DSLT:
		return vgpu_f64_lt(a, b);
	case VGPU_OP_DSLE:
		return vgpu_f64_le(a, b);
	case VGPU_OP_DSNAN:
		return VGPU_F64_ISNAN(a) || VGPU_F64_ISNAN(b);
	case VGPU_OP_DRND:
		return vgpu_f64_round_int(a, vgpu_irnd(m));
	case VGPU_OP_F2D:
		return vgpu_f32_to_f64((u32)a);
	case VGPU_OP_D2F:
		return vgpu_f64_to_f32(a, m);
	case VGPU_OP_I2D:
		return vgpu_s64_to_f64((s64)a, m);
	case VGPU_OP_U2D:
		return vgpu_u64_to_f64(a, m);
	default:
		return vgpu_cvt_f2i(d, a);
	}
}

/* The integer instructions of version 2. */
static u64 vgpu_exec_int2(const struct vgpu_dinsn *d, u64 a, u64 b, u64 c,
			  u64 e)
{
	bool w32 = d->mod;

	switch (d->op) {
	case VGPU_OP_MULHI:
		return vgpu_mulhs64((s64)a, (s64)b);
	case VGPU_OP_MULHIU:
		return vgpu_mulhu64(a, b);
	case VGPU_OP_SELP:
		return c ? a : b;
	case VGPU_OP_POPC:
		return vgpu_popc64(a);
	case VGPU_OP_CLZ:
		return vgpu_clz64(a);
	case VGPU_OP_BREV:
		return vgpu_brev64(a);
	case VGPU_OP_PRMT:
		return vgpu_prmt(a, b, c, d->mod);
	case VGPU_OP_BFE:
		return vgpu_bfe(a, b, c, true, w32);
	case VGPU_OP_BFEU:
		return vgpu_bfe(a, b, c, false, w32);
	case VGPU_OP_BFI:
		return vgpu_bfi(a, b, c, e, w32);
	case VGPU_OP_SEXT:
		return vgpu_ext(a, d->imm, true);
	default:
		return vgpu_ext(a, d->imm, false);	/* ZEXT */
	}
}

/*
 * Work units an instruction costs beyond the one every instruction costs:
 * the soft-float's long operations take 10 to 40 times an integer add
 * (measured in userspace), and a unit stands for about one add's time.
 */
static inline u64 vgpu_alu_extra(u32 op)
{
	switch (op) {
	case VGPU_OP_DSQRT:
	case VGPU_OP_FSQRT:
	case VGPU_OP_DDIV:
	case VGPU_OP_DFMA:
		return 15;
	case VGPU_OP_DADD:
	case VGPU_OP_DSUB:
	case VGPU_OP_DMUL:
	case VGPU_OP_FFMA:
	case VGPU_OP_FDIV:
	case VGPU_OP_ATOM_DADD:		/* the same addition, on memory */
	case VGPU_OP_ATOMS_DADD:
		return 7;
	default:
		return 0;
	}
}

/*
 * Every legal instruction that reads and writes registers only and is
 * not handled in vgpu_run_thread()'s switch: floating point and the
 * integer instructions of version 2.
 */
static void vgpu_exec_alu(u64 *r, struct vgpu_dinsn d)
{
	u64 a = r[d.ra], b = r[d.rb], c, v;

	c = d.flags & VGPU_OPF_RD_IN ? r[d.rd] : r[d.rc];
	switch (d.op) {
	case VGPU_OP_FADD ... VGPU_OP_FSLE:
	case VGPU_OP_FFMA ... VGPU_OP_F2U:
		v = vgpu_exec_f32(&d, a, b, c);
		break;
	case VGPU_OP_DADD ... VGPU_OP_D2U:
		v = vgpu_exec_f64(&d, a, b, c);
		break;
	default:
		v = vgpu_exec_int2(&d, a, b, c, r[d.re]);
	}
	r[d.rd] = v;
}

/*
 * Takes an instruction's @extra units from *@left, as far as they are
 * there, and adds what it took to *@taken.
 */
static inline void vgpu_take_extra(u64 *left, u64 *taken, u64 extra)
{
	if (extra > *left)
		extra = *left;
	*left -= extra;
	*taken += extra;
}

/*
 * Runs one thread until it blocks, exits, faults or @budget runs out.
 * Every instruction fetched takes one unit of @budget (its extra units,
 * vgpu_alu_extra(), are counted in @xtra), so the thread's clock
 * (%clock64) is t->clock + *@budget - left - xtra: exact, and free of
 * cost in the loop.
 */
static enum vgpu_run_result vgpu_run_thread(struct vgpu_launch *l,
					    const struct vgpu_pt *pt,
					    struct vgpu_thread *t, u64 *budget)
{
	u64 *r = t->r;
	u64 pc = t->pc;
	u64 ipc = pc;		/* address of the instruction executing */
	u64 left = *budget, xtra = 0;
	u64 cpage_pn = U64_MAX;
	const u8 *cpage = NULL;

	while (left) {
		struct vgpu_dcache_entry *e;
		struct vgpu_dinsn d;
		u32 rd, ra, rb;
		u64 w, extra;
		s64 imm;

		ipc = pc;
		if (unlikely((pc >> VGPU_PAGE_SHIFT) != cpage_pn)) {
			unsigned long pte = vgpu_tlb_lookup(l->tlb, pt, pc);

			if (!pte || !(pte & VGPU_PTE_X)) {
				l->fault_kind = pte ? VGPU_FAULT_PERM :
						      VGPU_FAULT_UNMAPPED;
				l->fault_addr = pc;
				goto fault;
			}
			cpage = (const u8 *)(pte & ~(unsigned long)VGPU_PAGE_MASK);
			cpage_pn = pc >> VGPU_PAGE_SHIFT;
		}
		w = vgpu_load64(cpage + (pc & VGPU_PAGE_MASK));
		left--;
		e = &l->dcache[(pc / VGPU_INSN_SIZE) & (VGPU_DCACHE_ENTRIES - 1)];
		if (likely(e->w == w)) {
			d = e->d;
		} else {
			if (unlikely(!vgpu_isa_decode(w, &d)))
				goto illegal;
			e->w = w;
			e->d = d;
		}
		rd = d.rd;
		ra = d.ra;
		rb = d.rb;
		imm = d.imm;
		pc += VGPU_INSN_SIZE;

		if (d.flags & (VGPU_OPF_GLOBAL | VGPU_OPF_SHARED | VGPU_OPF_ATOMIC)) {
			if (!vgpu_exec_mem(l, pt, r, d))
				goto fault;
			extra = vgpu_alu_extra(d.op);
			vgpu_take_extra(&left, &xtra, extra);
			continue;
		}
		switch (d.op) {
		case VGPU_OP_NOP:
		case VGPU_OP_FENCE:	/* one thread at a time: always ordered */
			break;
		case VGPU_OP_EXIT:
			t->state = VGPU_T_EXITED;
			l->exited++;
			goto out;
		case VGPU_OP_BAR:
			t->state = VGPU_T_BARRIER;
			goto out;
		case VGPU_OP_WSYNC:
		case VGPU_OP_SHFL:
		case VGPU_OP_VOTE:
		case VGPU_OP_ACTIVEMASK:
			/* Parked on it: its warp's group executes it. */
			t->state = VGPU_T_WARP;
			pc = ipc;
			l->warp_parked++;
			l->warp_end = (l->cur | (VGPU_WARP_SIZE - 1)) + 1;
			if (l->warp_end > l->nthreads)
				l->warp_end = l->nthreads;
			goto out;
		case VGPU_OP_BRA:
			pc += (u64)(imm - 1) * VGPU_INSN_SIZE;
			break;
		case VGPU_OP_BZ:
			if (!r[ra])
				pc += (u64)(imm - 1) * VGPU_INSN_SIZE;
			break;
		case VGPU_OP_BNZ:
			if (r[ra])
				pc += (u64)(imm - 1) * VGPU_INSN_SIZE;
			break;
		case VGPU_OP_MOV:
			r[rd] = r[ra];
			break;
		case VGPU_OP_LI:
			r[rd] = (u64)imm;
			break;
		case VGPU_OP_LIH:
			r[rd] = (r[rd] & 0xffffffffULL) | ((u64)(u32)imm << 32);
			break;
		case VGPU_OP_S2R:
			/* The clock: instructions before this one. */
			if (imm == VGPU_SR_CLOCK64)
				r[rd] = t->clock + *budget - left - xtra - 1;
			else
				r[rd] = vgpu_sreg(l, imm);
			break;
		case VGPU_OP_LDP:
			r[rd] = l->d.params[imm];
			break;
		case VGPU_OP_ADD:
			r[rd] = r[ra] + r[rb];
			break;
		case VGPU_OP_SUB:
			r[rd] = r[ra] - r[rb];
			break;
		case VGPU_OP_MUL:
			r[rd] = r[ra] * r[rb];
			break;
		case VGPU_OP_DIVU:
			r[rd] = r[rb] ? r[ra] / r[rb] : U64_MAX;
			break;
		case VGPU_OP_REMU:
			r[rd] = r[rb] ? r[ra] % r[rb] : r[ra];
			break;
		case VGPU_OP_DIV:
			r[rd] = vgpu_div((s64)r[ra], (s64)r[rb]);
			break;
		case VGPU_OP_REM:
			r[rd] = vgpu_rem((s64)r[ra], (s64)r[rb]);
			break;
		case VGPU_OP_AND:
			r[rd] = r[ra] & r[rb];
			break;
		case VGPU_OP_OR:
			r[rd] = r[ra] | r[rb];
			break;
		case VGPU_OP_XOR:
			r[rd] = r[ra] ^ r[rb];
			break;
		case VGPU_OP_SHL:
			r[rd] = r[ra] << (r[rb] & 63);
			break;
		case VGPU_OP_SHR:
			r[rd] = r[ra] >> (r[rb] & 63);
			break;
		case VGPU_OP_SAR:
			r[rd] = (u64)((s64)r[ra] >> (r[rb] & 63));
			break;
		case VGPU_OP_MIN:
			r[rd] = (s64)r[ra] < (s64)r[rb] ? r[ra] : r[rb];
			break;
		case VGPU_OP_MAX:
			r[rd] = (s64)r[ra] > (s64)r[rb] ? r[ra] : r[rb];
			break;
		case VGPU_OP_MINU:
			r[rd] = r[ra] < r[rb] ? r[ra] : r[rb];
			break;
		case VGPU_OP_MAXU:
			r[rd] = r[ra] > r[rb] ? r[ra] : r[rb];
			break;
		case VGPU_OP_ADDI:
			r[rd] = r[ra] + (u64)imm;
			break;
		case VGPU_OP_MULI:
			r[rd] = r[ra] * (u64)imm;
			break;
		case VGPU_OP_ANDI:
			r[rd] = r[ra] & (u64)imm;
			break;
		case VGPU_OP_ORI:
			r[rd] = r[ra] | (u64)imm;
			break;
		case VGPU_OP_XORI:
			r[rd] = r[ra] ^ (u64)imm;
			break;
		case VGPU_OP_SHLI:
			r[rd] = r[ra] << (imm & 63);
			break;
		case VGPU_OP_SHRI:
			r[rd] = r[ra] >> (imm & 63);
			break;
		case VGPU_OP_SARI:
			r[rd] = (u64)((s64)r[ra] >> (imm & 63));
			break;
		case VGPU_OP_SEQ:
			r[rd] = r[ra] == r[rb];
			break;
		case VGPU_OP_SNE:
			r[rd] = r[ra] != r[rb];
			break;
		case VGPU_OP_SLT:
			r[rd] = (s64)r[ra] < (s64)r[rb];
			break;
		case VGPU_OP_SLE:
			r[rd] = (s64)r[ra] <= (s64)r[rb];
			break;
		case VGPU_OP_SLTU:
			r[rd] = r[ra] < r[rb];
			break;
		case VGPU_OP_SLEU:
			r[rd] = r[ra] <= r[rb];
			break;
		case VGPU_OP_SLTI:
			r[rd] = (s64)r[ra] < imm;
			break;
		case VGPU_OP_SLTUI:
			r[rd] = r[ra] < (u64)imm;
			break;
		default:	/* every other legal instruction: registers only */
			vgpu_exec_alu(r, d);
			extra = vgpu_alu_extra(d.op);
			vgpu_take_extra(&left, &xtra, extra);
			break;
		}
	}
out:
	t->pc = pc;
	t->clock += *budget - left - xtra;
	*budget = left;
	return VGPU_RUN_BUDGET;

illegal:
	l->fault_kind = VGPU_FAULT_ILLEGAL;
	l->fault_addr = ipc;
fault:
	l->fault_pc = ipc;
	t->pc = ipc;
	t->clock += *budget - left - xtra;
	*budget = left;
	return VGPU_RUN_FAULT;
}

/*
 * The source lane of shfl for lane @lane, as PTX defines shfl.sync: @b
 * holds the lane or offset (bits 4:0), @c the clamp (4:0) and the
 * segment mask (12:8).  *@pval says whether the lane is in range; when
 * it is not, the lane reads itself.
 */
static u32 vgpu_shfl_src(u32 mode, u32 lane, u32 b, u32 c, bool *pval)
{
	int bval = b & 31, cval = c & 31, seg = (c >> 8) & 31, self = lane;
	int max = (self & seg) | (cval & ~seg), j;

	switch (mode) {
	case VGPU_SHFL_UP:
		j = self - bval;
		*pval = j >= max;
		break;
	case VGPU_SHFL_DOWN:
		j = self + bval;
		*pval = j <= max;
		break;
	case VGPU_SHFL_BFLY:
		j = self ^ bval;
		*pval = j <= max;
		break;
	default:	/* VGPU_SHFL_IDX */
		j = (self & seg) | (bval & ~seg);
		*pval = j <= max;
		break;
	}
	return *pval ? (u32)j : lane;
}

/* vote of mode @mode over members @m whose predicates are the bits of @p. */
static u64 vgpu_vote(u32 mode, u32 m, u32 p)
{
	switch (mode) {
	case VGPU_VOTE_ALL:
		return !(m & ~p);
	case VGPU_VOTE_ANY:
		return !!(m & p);
	case VGPU_VOTE_UNI:
		return !(m & p) || (m & p) == m;
	default:	/* VGPU_VOTE_BALLOT */
		return m & p;
	}
}

/*
 * Warp-collective instruction @d executed by the lanes of @group among
 * the @n threads @t of a warp; lane i's M is @group & its membermask.
 * Every operand is read (into @v) before any result is written.
 */
static void vgpu_warp_exec(struct vgpu_thread *t, u32 n, u32 group,
			   const struct vgpu_dinsn *d, u64 *v)
{
	u32 p = 0, i, j;
	bool pval;

	if (d->op == VGPU_OP_WSYNC)
		return;
	for (i = 0; d->op == VGPU_OP_VOTE && i < n; i++)
		if (group & (1u << i) && t[i].r[d->ra])
			p |= 1u << i;
	for (i = 0; i < n; i++) {
		const u64 *r = t[i].r;

		if (!(group & (1u << i)))
			continue;
		switch (d->op) {
		case VGPU_OP_SHFL:
			j = vgpu_shfl_src(d->mod & 3, i, (u32)r[d->rb],
					  (u32)r[d->rc], &pval);
			/*
			 * A source lane in range that is not in M reads 0,
			 * as NVIDIA's GPUs give for a lane that is not
			 * executing the shfl (measured on an H200; the
			 * cuda-samples reduction relies on it).
			 */
			if (d->mod & VGPU_SHFL_PRED)
				v[i] = pval;
			else if (!pval)
				v[i] = r[d->ra];
			else if (group & (u32)r[d->re] & (1u << j))
				v[i] = t[j].r[d->ra];
			else
				v[i] = 0;
			break;
		case VGPU_OP_VOTE:
			v[i] = vgpu_vote(d->mod, group & (u32)r[d->rb], p);
			break;
		default:	/* VGPU_OP_ACTIVEMASK */
			v[i] = group;
			break;
		}
	}
	for (i = 0; i < n; i++)
		if (group & (1u << i))
			t[i].r[d->rd] = v[i];
}

/*
 * Releases a group of the running warp, none of whose threads can run (each
 * is parked at a warp-collective instruction, at a barrier or exited):
 * the threads parked at the lowest pc execute the instruction there
 * together and go on after it; the warp then runs again from its first
 * thread.  A word there that is no longer a warp-collective instruction
 * (the code or its mapping changed while they were parked) is left to the
 * group to execute, or fault on, one by one.  Returns the work units it
 * cost.
 */
static u64 vgpu_warp_release(struct vgpu_launch *l, const struct vgpu_pt *pt)
{
	u32 first = (l->warp_end - 1) & ~(VGPU_WARP_SIZE - 1);
	u32 n = l->warp_end - first, group = 0, i;
	struct vgpu_thread *t = &l->t[first];
	u64 pc = U64_MAX;
	unsigned long pte;
	struct vgpu_dinsn d;
	bool ok;

	for (i = 0; i < n; i++) {
		if (t[i].state != VGPU_T_WARP || t[i].pc > pc)
			continue;
		if (t[i].pc < pc)
			group = 0;
		pc = t[i].pc;
		group |= 1u << i;
	}
	pte = vgpu_tlb_lookup(l->tlb, pt, pc);
	ok = pte & VGPU_PTE_X;
	if (ok) {
		const u8 *page = (const u8 *)(pte & ~(unsigned long)VGPU_PAGE_MASK);

		ok = vgpu_isa_decode(vgpu_load64(page + (pc & VGPU_PAGE_MASK)), &d) &&
		     (d.flags & VGPU_OPF_WARP);
	}
	if (ok)
		vgpu_warp_exec(t, n, group, &d, l->warp_val);
	for (i = 0; i < n; i++) {
		if (!(group & (1u << i)))
			continue;
		t[i].state = VGPU_T_READY;
		if (ok)
			t[i].pc += VGPU_INSN_SIZE;
		l->warp_parked--;
	}
	l->cur = first;
	return VGPU_WARP_COST(n);
}

/* Takes @cost work units from *@left; what is not there goes to *@over. */
static inline void vgpu_charge(u64 *left, u64 *over, u64 cost)
{
	if (*left >= cost) {
		*left -= cost;
	} else {
		*over += cost - *left;
		*left = 0;
	}
}

/**
 * vgpu_launch_run() - run a launch for at most @budget work units
 * @l: launch state from vgpu_launch_init()
 * @pt: the context's page tables; must not change during the call
 * @budget: work units: one per thread-instruction, plus the cost of
 *	starting a block (VGPU_BLOCK_START_COST), of releasing a barrier
 *	(VGPU_BARRIER_COST) and of releasing a warp's group
 *	(VGPU_WARP_COST); the run stops before the first instruction it can
 *	no longer pay for
 * @executed: out, work units used
 *
 * A block start or a release goes ahead when any budget is left and is
 * charged in full, so one call overruns @budget by at most one
 * VGPU_BLOCK_START_COST, and *@executed counts that overrun too.  A long
 * instruction's extra units (vgpu_alu_extra()) come out of what is left:
 * the last one of a call may go up to 15 units unpaid and uncounted.
 *
 * Return: VGPU_RUN_DONE when the grid has completed, VGPU_RUN_BUDGET when
 * the budget ran out first (call again to resume), VGPU_RUN_FAULT when a
 * thread faulted (the launch cannot resume).
 */
enum vgpu_run_result vgpu_launch_run(struct vgpu_launch *l,
				     const struct vgpu_pt *pt, u64 budget,
				     u64 *executed)
{
	u64 left = budget, over = 0;

	/* Mappings may have changed since the last slice. */
	memset(l->tlb, 0, sizeof(l->tlb));
	while (!l->done) {
		struct vgpu_thread *t;
		u32 i;

		if (!l->block_live) {
			if (!left)
				break;
			vgpu_charge(&left, &over, vgpu_block_start(l));
		}
		/* None of the running warp's threads can run. */
		if (l->warp_parked && l->cur == l->warp_end) {
			if (!left)
				break;
			vgpu_charge(&left, &over, vgpu_warp_release(l, pt));
			continue;
		}
		if (l->cur == l->nthreads) {
			if (l->exited == l->nthreads) {
				l->block_live = false;
				if (++l->block == l->nblocks)
					l->done = true;
				continue;
			}
			if (!left)
				break;
			for (i = 0; i < l->nthreads; i++)
				if (l->t[i].state == VGPU_T_BARRIER)
					l->t[i].state = VGPU_T_READY;
			vgpu_charge(&left, &over,
				    VGPU_BARRIER_COST(l->nthreads));
			l->cur = 0;
			continue;
		}
		t = &l->t[l->cur];
		if (t->state != VGPU_T_READY) {
			l->cur++;
			continue;
		}
		if (!left)
			break;
		if (vgpu_run_thread(l, pt, t, &left) == VGPU_RUN_FAULT) {
			*executed = budget - left + over;
			return VGPU_RUN_FAULT;
		}
		if (t->state != VGPU_T_READY)
			l->cur++;
	}
	*executed = budget - left + over;
	return l->done ? VGPU_RUN_DONE : VGPU_RUN_BUDGET;
}

static u8 *vgpu_mem_page(const struct vgpu_pt *pt, u64 va, unsigned long need,
			 u64 *fault_addr, u32 *fault_kind)
{
	unsigned long pte = vgpu_pt_lookup(pt, va);

	if (!pte || (pte & need) != need) {
		*fault_addr = va;
		*fault_kind = pte ? VGPU_FAULT_PERM : VGPU_FAULT_UNMAPPED;
		return NULL;
	}
	return (u8 *)(pte & ~(unsigned long)VGPU_PAGE_MASK) + (va & VGPU_PAGE_MASK);
}

/**
 * vgpu_mem_copy() - copy between GPU addresses, page by page, resumable
 * @pt: page tables
 * @dst: destination GPU address (needs W)
 * @src: source GPU address (needs R)
 * @size: bytes
 * @done: in/out, bytes already copied; the copy resumes there
 * @max: bytes to copy in this call at most (a chunk; not 0)
 * @fault_addr: out, the address that faulted
 * @fault_kind: out, VGPU_FAULT_*
 *
 * Ranges may overlap only if @dst <= @src or they do not overlap (copies
 * go forward, page piece by page piece, like a DMA engine).  A fault
 * stops the copy with the bytes before the faulting page already copied.
 * Bounding each call by @max lets the engine check its clock between
 * chunks whatever the size and however the pages alias.
 *
 * Return: VGPU_RUN_DONE, VGPU_RUN_BUDGET (@max bytes copied, more to go:
 * call again) or VGPU_RUN_FAULT.
 */
enum vgpu_run_result vgpu_mem_copy(const struct vgpu_pt *pt, u64 dst, u64 src,
				   u64 size, u64 *done, u64 max,
				   u64 *fault_addr, u32 *fault_kind)
{
	u64 moved = 0;

	while (*done < size) {
		u64 s_va = src + *done, d_va = dst + *done;
		u64 n = size - *done;
		u8 *s, *d;

		if (moved >= max)
			return VGPU_RUN_BUDGET;
		s = vgpu_mem_page(pt, s_va, VGPU_PTE_R, fault_addr, fault_kind);
		if (!s)
			return VGPU_RUN_FAULT;
		d = vgpu_mem_page(pt, d_va, VGPU_PTE_W, fault_addr, fault_kind);
		if (!d)
			return VGPU_RUN_FAULT;
		if (n > VGPU_PAGE_SIZE - (s_va & VGPU_PAGE_MASK))
			n = VGPU_PAGE_SIZE - (s_va & VGPU_PAGE_MASK);
		if (n > VGPU_PAGE_SIZE - (d_va & VGPU_PAGE_MASK))
			n = VGPU_PAGE_SIZE - (d_va & VGPU_PAGE_MASK);
		memmove(d, s, n);
		*done += n;
		moved += n;
	}
	return VGPU_RUN_DONE;
}

/**
 * vgpu_mem_fill() - fill GPU memory with a 32-bit pattern, resumable
 * @pt: page tables
 * @dst: destination GPU address, 4-byte aligned (needs W)
 * @size: bytes, a multiple of 4
 * @value: pattern
 * @done: in/out, bytes already filled; the fill resumes there
 * @max: bytes to fill in this call at most (a chunk; not 0)
 * @fault_addr: out, the address that faulted
 * @fault_kind: out, VGPU_FAULT_*
 *
 * Return: VGPU_RUN_DONE, VGPU_RUN_BUDGET (call again) or VGPU_RUN_FAULT.
 */
enum vgpu_run_result vgpu_mem_fill(const struct vgpu_pt *pt, u64 dst,
				   u64 size, u32 value, u64 *done, u64 max,
				   u64 *fault_addr, u32 *fault_kind)
{
	u64 moved = 0;

	if ((dst | size) & 3) {
		*fault_addr = dst;
		*fault_kind = VGPU_FAULT_MISALIGNED;
		return VGPU_RUN_FAULT;
	}
	while (*done < size) {
		u64 va = dst + *done;
		u64 n = VGPU_PAGE_SIZE - (va & VGPU_PAGE_MASK), i;
		u8 *d;

		if (moved >= max)
			return VGPU_RUN_BUDGET;
		d = vgpu_mem_page(pt, va, VGPU_PTE_W, fault_addr, fault_kind);
		if (!d)
			return VGPU_RUN_FAULT;
		if (n > size - *done)
			n = size - *done;
		for (i = 0; i < n; i += 4)
			vgpu_store32(d + i, value);
		*done += n;
		moved += n;
	}
	return VGPU_RUN_DONE;
}
