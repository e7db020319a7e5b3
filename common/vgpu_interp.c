// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_interp.c - the SIMT interpreter of vgpu-sim (see vgpu_interp.h and
 * Documentation/sim-isa.rst).
 */
#include "vgpu_interp.h"
#include "vgpu_softfloat.h"

/**
 * vgpu_launch_init() - prepare a launch to run from its first instruction
 * @l: state to fill
 * @d: validated launch description
 *
 * Return: 0, -EINVAL or -ENOMEM.  On success, vgpu_launch_fini() frees.
 */
int vgpu_launch_init(struct vgpu_launch *l, const struct vgpu_launch_desc *d)
{
	int ret = vgpu_launch_check(d);

	if (ret)
		return ret;
	memset(l, 0, sizeof(*l));
	l->d = *d;
	l->nthreads = d->block[0] * d->block[1] * d->block[2];
	l->nblocks = (u64)d->grid[0] * d->grid[1] * d->grid[2];
	l->t = kvcalloc(l->nthreads, sizeof(*l->t), VGPU_GFP_CLIENT_KV);
	if (!l->t)
		return -ENOMEM;
	if (d->shared_size) {
		l->shared = kvzalloc(d->shared_size, VGPU_GFP_CLIENT_KV);
		if (!l->shared) {
			kvfree(l->t);
			l->t = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

void vgpu_launch_fini(struct vgpu_launch *l)
{
	kvfree(l->t);
	kvfree(l->shared);
	l->t = NULL;
	l->shared = NULL;
}

/* Returns the work units it cost (see VGPU_BLOCK_START_COST). */
static u64 vgpu_block_start(struct vgpu_launch *l)
{
	u32 i;

	for (i = 0; i < l->nthreads; i++) {
		struct vgpu_thread *t = &l->t[i];

		memset(t->r, 0, sizeof(t->r));
		t->pc = l->d.code_va;
		t->state = VGPU_T_READY;
	}
	if (l->shared)
		memset(l->shared, 0, l->d.shared_size);
	l->cur = 0;
	l->exited = 0;
	l->block_live = true;
	return VGPU_BLOCK_START_COST(l->nthreads, l->d.shared_size);
}

static void vgpu_thread_sregs(struct vgpu_launch *l)
{
	const struct vgpu_launch_desc *d = &l->d;
	u64 b = l->block;
	u32 t = l->cur;

	l->sr[VGPU_SR_TID_X] = t % d->block[0];
	l->sr[VGPU_SR_TID_Y] = (t / d->block[0]) % d->block[1];
	l->sr[VGPU_SR_TID_Z] = t / (d->block[0] * d->block[1]);
	l->sr[VGPU_SR_NTID_X] = d->block[0];
	l->sr[VGPU_SR_NTID_Y] = d->block[1];
	l->sr[VGPU_SR_NTID_Z] = d->block[2];
	l->sr[VGPU_SR_CTAID_X] = b % d->grid[0];
	l->sr[VGPU_SR_CTAID_Y] = (b / d->grid[0]) % d->grid[1];
	l->sr[VGPU_SR_CTAID_Z] = b / ((u64)d->grid[0] * d->grid[1]);
	l->sr[VGPU_SR_NCTAID_X] = d->grid[0];
	l->sr[VGPU_SR_NCTAID_Y] = d->grid[1];
	l->sr[VGPU_SR_NCTAID_Z] = d->grid[2];
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

/* Runs one thread until it blocks, exits, faults or @budget runs out. */
static enum vgpu_run_result vgpu_run_thread(struct vgpu_launch *l,
					    const struct vgpu_pt *pt,
					    struct vgpu_thread *t, u64 *budget)
{
	u64 *r = t->r;
	u64 pc = t->pc;
	u64 ipc = pc;		/* address of the instruction executing */
	u64 left = *budget;
	u64 cpage_pn = U64_MAX;
	const u8 *cpage = NULL;

	while (left) {
		u64 w, va;
		u32 op, rd, ra, rb, old, nv;
		s64 imm;
		u8 *p;

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
		if (unlikely(w & VGPU_INSN_MBZ_MASK))
			goto illegal;
		op = w & 0xff;
		rd = (w >> 8) & 0xff;
		ra = (w >> 16) & 0xff;
		rb = (w >> 24) & 0xff;
		imm = (s32)(u32)(w >> 32);
		pc += VGPU_INSN_SIZE;

		switch (op) {
		case VGPU_OP_NOP:
			break;
		case VGPU_OP_EXIT:
			t->state = VGPU_T_EXITED;
			l->exited++;
			goto out;
		case VGPU_OP_BAR:
			t->state = VGPU_T_BARRIER;
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
			if ((u64)imm >= VGPU_SR_COUNT)
				goto illegal;
			r[rd] = l->sr[imm];
			break;
		case VGPU_OP_LDP:
			if ((u64)imm >= VGPU_NUM_PARAMS)
				goto illegal;
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
		case VGPU_OP_FADD:
			r[rd] = vgpu_f32_add((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FSUB:
			r[rd] = vgpu_f32_sub((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FMUL:
			r[rd] = vgpu_f32_mul((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FDIV:
			r[rd] = vgpu_f32_div((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FMIN:
			r[rd] = vgpu_f32_min((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FMAX:
			r[rd] = vgpu_f32_max((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FMAD:
			r[rd] = vgpu_f32_add(vgpu_f32_mul((u32)r[ra], (u32)r[rb]),
					     (u32)r[rd]);
			break;
		case VGPU_OP_FNEG:
			r[rd] = (u32)r[ra] ^ 0x80000000u;
			break;
		case VGPU_OP_FABS:
			r[rd] = (u32)r[ra] & 0x7fffffffu;
			break;
		case VGPU_OP_I2F:
			r[rd] = vgpu_s64_to_f32((s64)r[ra]);
			break;
		case VGPU_OP_U2F:
			r[rd] = vgpu_u64_to_f32(r[ra]);
			break;
		case VGPU_OP_F2I:
			r[rd] = (u64)vgpu_f32_to_s64((u32)r[ra]);
			break;
		case VGPU_OP_FSEQ:
			r[rd] = vgpu_f32_eq((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FSLT:
			r[rd] = vgpu_f32_lt((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_FSLE:
			r[rd] = vgpu_f32_le((u32)r[ra], (u32)r[rb]);
			break;
		case VGPU_OP_LD_U8:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 1, VGPU_PTE_R);
			if (!p)
				goto fault;
			r[rd] = *p;
			break;
		case VGPU_OP_LD_U32:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 4, VGPU_PTE_R);
			if (!p)
				goto fault;
			r[rd] = vgpu_load32(p);
			break;
		case VGPU_OP_LD_S32:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 4, VGPU_PTE_R);
			if (!p)
				goto fault;
			r[rd] = (u64)(s64)(s32)vgpu_load32(p);
			break;
		case VGPU_OP_LD_U64:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 8, VGPU_PTE_R);
			if (!p)
				goto fault;
			r[rd] = vgpu_load64(p);
			break;
		case VGPU_OP_ST_U8:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 1, VGPU_PTE_W);
			if (!p)
				goto fault;
			*p = (u8)r[rb];
			break;
		case VGPU_OP_ST_U32:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 4, VGPU_PTE_W);
			if (!p)
				goto fault;
			vgpu_store32(p, (u32)r[rb]);
			break;
		case VGPU_OP_ST_U64:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 8, VGPU_PTE_W);
			if (!p)
				goto fault;
			vgpu_store64(p, r[rb]);
			break;
		case VGPU_OP_LDS_U32:
			p = vgpu_shared(l, r[ra] + (u64)imm, 4);
			if (!p)
				goto fault;
			r[rd] = *(u32 *)p;
			break;
		case VGPU_OP_LDS_U64:
			p = vgpu_shared(l, r[ra] + (u64)imm, 8);
			if (!p)
				goto fault;
			r[rd] = *(u64 *)p;
			break;
		case VGPU_OP_STS_U32:
			p = vgpu_shared(l, r[ra] + (u64)imm, 4);
			if (!p)
				goto fault;
			*(u32 *)p = (u32)r[rb];
			break;
		case VGPU_OP_STS_U64:
			p = vgpu_shared(l, r[ra] + (u64)imm, 8);
			if (!p)
				goto fault;
			*(u64 *)p = r[rb];
			break;
		case VGPU_OP_ATOM_ADD64:
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 8,
					VGPU_PTE_R | VGPU_PTE_W);
			if (!p)
				goto fault;
			va = vgpu_load64(p);
			vgpu_store64(p, va + r[rb]);
			r[rd] = va;
			break;
		case VGPU_OP_ATOM_ADD:
		case VGPU_OP_ATOM_MIN:
		case VGPU_OP_ATOM_MAX:
		case VGPU_OP_ATOM_XCHG:
		case VGPU_OP_ATOM_CAS:
		case VGPU_OP_ATOM_FADD:
			/*
			 * The interpreter runs one GPU thread at a time, so a
			 * read-modify-write is atomic for every GPU thread.
			 */
			p = vgpu_access(l, pt, r[ra] + (u64)imm, 4,
					VGPU_PTE_R | VGPU_PTE_W);
			if (!p)
				goto fault;
			old = vgpu_load32(p);
			nv = (u32)r[rb];
			if (op == VGPU_OP_ATOM_ADD)
				nv = old + nv;
			else if (op == VGPU_OP_ATOM_MIN)
				nv = old < nv ? old : nv;
			else if (op == VGPU_OP_ATOM_MAX)
				nv = old > nv ? old : nv;
			else if (op == VGPU_OP_ATOM_CAS)
				nv = old == (u32)r[rd] ? nv : old;
			else if (op == VGPU_OP_ATOM_FADD)
				nv = vgpu_f32_add(old, nv);
			vgpu_store32(p, nv);
			r[rd] = old;
			break;
		default:
			goto illegal;
		}
	}
out:
	t->pc = pc;
	*budget = left;
	return VGPU_RUN_BUDGET;

illegal:
	l->fault_kind = VGPU_FAULT_ILLEGAL;
	l->fault_addr = ipc;
fault:
	l->fault_pc = ipc;
	t->pc = ipc;
	*budget = left;
	return VGPU_RUN_FAULT;
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
 *	starting a block (VGPU_BLOCK_START_COST) and of releasing a barrier
 *	(VGPU_BARRIER_COST); the run stops before the first instruction it
 *	can no longer pay for
 * @executed: out, work units used
 *
 * A block start or a barrier release goes ahead when any budget is left
 * and is charged in full, so one call overruns @budget by at most one
 * VGPU_BLOCK_START_COST, and *@executed counts that overrun too.
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
		vgpu_thread_sregs(l);
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
