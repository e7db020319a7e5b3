/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_isa.h - instruction set of the vgpu-sim reference GPU.
 *
 * This header is the binary contract between code generators (vgpu-as,
 * applications) and the interpreter.  Documentation/sim-isa.rst explains
 * it in prose; the tables here are the single source both the interpreter
 * and the assembler use.
 *
 * Every instruction is one 64-bit little-endian word:
 *
 *   63                              32 31    24 23    16 15     8 7      0
 *  +----------------------------------+--------+--------+--------+--------+
 *  |              imm32               |   rb   |   ra   |   rd   | opcode |
 *  +----------------------------------+--------+--------+--------+--------+
 *
 * rd, ra and rb name one of the 32 general registers r0..r31 (64 bits
 * each); their top three bits must be zero.  imm32 is sign-extended to
 * 64 bits where an instruction uses it as an integer.  Opcode 0 is not an
 * instruction, so zero-filled memory faults instead of running.
 */
#ifndef VGPU_ISA_H
#define VGPU_ISA_H

#include <linux/types.h>

#define VGPU_ISA_VERSION	1
#define VGPU_INSN_SIZE		8
#define VGPU_NUM_REGS		32
#define VGPU_NUM_PARAMS		8
#define VGPU_MAX_BLOCK_THREADS	1024
#define VGPU_MAX_GRID_DIM	65535
#define VGPU_MAX_SHARED		(48 * 1024)
/* Bits of an instruction word that must be zero (top bits of rd/ra/rb). */
#define VGPU_INSN_MBZ_MASK	0xe0e0e000ULL

/* Operand formats, used by the assembler, disassembler and docs. */
enum vgpu_fmt {
	VGPU_FMT_NONE,	/* op                       */
	VGPU_FMT_RRR,	/* op rd, ra, rb            */
	VGPU_FMT_RRI,	/* op rd, ra, imm           */
	VGPU_FMT_RR,	/* op rd, ra                */
	VGPU_FMT_RI,	/* op rd, imm               */
	VGPU_FMT_RS,	/* op rd, %special          */
	VGPU_FMT_LD,	/* op rd, [ra + imm]        */
	VGPU_FMT_ST,	/* op [ra + imm], rb        */
	VGPU_FMT_ATOM,	/* op rd, [ra + imm], rb    */
	VGPU_FMT_BR,	/* op label (imm: insns)    */
	VGPU_FMT_BRC,	/* op ra, label             */
};

/*
 * VGPU_OPS(X): X(enum suffix, mnemonic, opcode, format).
 * Opcode values are ABI: never renumber, only add.
 */
#define VGPU_OPS(X)						\
	X(NOP,       "nop",         0x01, VGPU_FMT_NONE)	\
	X(EXIT,      "exit",        0x02, VGPU_FMT_NONE)	\
	X(BAR,       "bar",         0x03, VGPU_FMT_NONE)	\
	X(BRA,       "bra",         0x04, VGPU_FMT_BR)		\
	X(BZ,        "bz",          0x05, VGPU_FMT_BRC)		\
	X(BNZ,       "bnz",         0x06, VGPU_FMT_BRC)		\
	X(MOV,       "mov",         0x10, VGPU_FMT_RR)		\
	X(LI,        "li",          0x11, VGPU_FMT_RI)		\
	X(LIH,       "lih",         0x12, VGPU_FMT_RI)		\
	X(S2R,       "s2r",         0x13, VGPU_FMT_RS)		\
	X(LDP,       "ldp",         0x14, VGPU_FMT_RI)		\
	X(ADD,       "add",         0x20, VGPU_FMT_RRR)		\
	X(SUB,       "sub",         0x21, VGPU_FMT_RRR)		\
	X(MUL,       "mul",         0x22, VGPU_FMT_RRR)		\
	X(DIVU,      "divu",        0x23, VGPU_FMT_RRR)		\
	X(REMU,      "remu",        0x24, VGPU_FMT_RRR)		\
	X(DIV,       "div",         0x25, VGPU_FMT_RRR)		\
	X(REM,       "rem",         0x26, VGPU_FMT_RRR)		\
	X(AND,       "and",         0x27, VGPU_FMT_RRR)		\
	X(OR,        "or",          0x28, VGPU_FMT_RRR)		\
	X(XOR,       "xor",         0x29, VGPU_FMT_RRR)		\
	X(SHL,       "shl",         0x2a, VGPU_FMT_RRR)		\
	X(SHR,       "shr",         0x2b, VGPU_FMT_RRR)		\
	X(SAR,       "sar",         0x2c, VGPU_FMT_RRR)		\
	X(MIN,       "min",         0x2d, VGPU_FMT_RRR)		\
	X(MAX,       "max",         0x2e, VGPU_FMT_RRR)		\
	X(MINU,      "minu",        0x2f, VGPU_FMT_RRR)		\
	X(MAXU,      "maxu",        0x30, VGPU_FMT_RRR)		\
	X(ADDI,      "addi",        0x38, VGPU_FMT_RRI)		\
	X(MULI,      "muli",        0x39, VGPU_FMT_RRI)		\
	X(ANDI,      "andi",        0x3a, VGPU_FMT_RRI)		\
	X(ORI,       "ori",         0x3b, VGPU_FMT_RRI)		\
	X(XORI,      "xori",        0x3c, VGPU_FMT_RRI)		\
	X(SHLI,      "shli",        0x3d, VGPU_FMT_RRI)		\
	X(SHRI,      "shri",        0x3e, VGPU_FMT_RRI)		\
	X(SARI,      "sari",        0x3f, VGPU_FMT_RRI)		\
	X(SEQ,       "seq",         0x40, VGPU_FMT_RRR)		\
	X(SNE,       "sne",         0x41, VGPU_FMT_RRR)		\
	X(SLT,       "slt",         0x42, VGPU_FMT_RRR)		\
	X(SLE,       "sle",         0x43, VGPU_FMT_RRR)		\
	X(SLTU,      "sltu",        0x44, VGPU_FMT_RRR)		\
	X(SLEU,      "sleu",        0x45, VGPU_FMT_RRR)		\
	X(SLTI,      "slti",        0x46, VGPU_FMT_RRI)		\
	X(SLTUI,     "sltui",       0x47, VGPU_FMT_RRI)		\
	X(FADD,      "fadd",        0x50, VGPU_FMT_RRR)		\
	X(FSUB,      "fsub",        0x51, VGPU_FMT_RRR)		\
	X(FMUL,      "fmul",        0x52, VGPU_FMT_RRR)		\
	X(FDIV,      "fdiv",        0x53, VGPU_FMT_RRR)		\
	X(FMIN,      "fmin",        0x54, VGPU_FMT_RRR)		\
	X(FMAX,      "fmax",        0x55, VGPU_FMT_RRR)		\
	X(FMAD,      "fmad",        0x56, VGPU_FMT_RRR)		\
	X(FNEG,      "fneg",        0x57, VGPU_FMT_RR)		\
	X(FABS,      "fabs",        0x58, VGPU_FMT_RR)		\
	X(I2F,       "i2f",         0x59, VGPU_FMT_RR)		\
	X(U2F,       "u2f",         0x5a, VGPU_FMT_RR)		\
	X(F2I,       "f2i",         0x5b, VGPU_FMT_RR)		\
	X(FSEQ,      "fseq",        0x5c, VGPU_FMT_RRR)		\
	X(FSLT,      "fslt",        0x5d, VGPU_FMT_RRR)		\
	X(FSLE,      "fsle",        0x5e, VGPU_FMT_RRR)		\
	X(LD_U8,     "ld.u8",       0x60, VGPU_FMT_LD)		\
	X(LD_U32,    "ld.u32",      0x61, VGPU_FMT_LD)		\
	X(LD_S32,    "ld.s32",      0x62, VGPU_FMT_LD)		\
	X(LD_U64,    "ld.u64",      0x63, VGPU_FMT_LD)		\
	X(ST_U8,     "st.u8",       0x64, VGPU_FMT_ST)		\
	X(ST_U32,    "st.u32",      0x65, VGPU_FMT_ST)		\
	X(ST_U64,    "st.u64",      0x66, VGPU_FMT_ST)		\
	X(LDS_U32,   "lds.u32",     0x68, VGPU_FMT_LD)		\
	X(LDS_U64,   "lds.u64",     0x69, VGPU_FMT_LD)		\
	X(STS_U32,   "sts.u32",     0x6a, VGPU_FMT_ST)		\
	X(STS_U64,   "sts.u64",     0x6b, VGPU_FMT_ST)		\
	X(ATOM_ADD,  "atom.add.u32", 0x70, VGPU_FMT_ATOM)	\
	X(ATOM_MIN,  "atom.min.u32", 0x71, VGPU_FMT_ATOM)	\
	X(ATOM_MAX,  "atom.max.u32", 0x72, VGPU_FMT_ATOM)	\
	X(ATOM_XCHG, "atom.xchg.u32", 0x73, VGPU_FMT_ATOM)	\
	X(ATOM_CAS,  "atom.cas.u32", 0x74, VGPU_FMT_ATOM)	\
	X(ATOM_ADD64, "atom.add.u64", 0x75, VGPU_FMT_ATOM)	\
	X(ATOM_FADD, "atom.add.f32", 0x76, VGPU_FMT_ATOM)

enum vgpu_opcode {
#define VGPU_OP_ENUM(e, m, v, f) VGPU_OP_##e = (v),
	VGPU_OPS(VGPU_OP_ENUM)
#undef VGPU_OP_ENUM
};

/* Special registers read by s2r. */
#define VGPU_SREGS(X)			\
	X(TID_X,    "tid.x",    0)	\
	X(TID_Y,    "tid.y",    1)	\
	X(TID_Z,    "tid.z",    2)	\
	X(NTID_X,   "ntid.x",   3)	\
	X(NTID_Y,   "ntid.y",   4)	\
	X(NTID_Z,   "ntid.z",   5)	\
	X(CTAID_X,  "ctaid.x",  6)	\
	X(CTAID_Y,  "ctaid.y",  7)	\
	X(CTAID_Z,  "ctaid.z",  8)	\
	X(NCTAID_X, "nctaid.x", 9)	\
	X(NCTAID_Y, "nctaid.y", 10)	\
	X(NCTAID_Z, "nctaid.z", 11)

enum vgpu_sreg {
#define VGPU_SREG_ENUM(e, m, v) VGPU_SR_##e = (v),
	VGPU_SREGS(VGPU_SREG_ENUM)
#undef VGPU_SREG_ENUM
	VGPU_SR_COUNT
};

/* Why a launch stopped with a fault (reported with the GPU address). */
enum vgpu_fault_kind {
	VGPU_FAULT_NONE = 0,
	VGPU_FAULT_UNMAPPED = 1,	/* no mapping at the address     */
	VGPU_FAULT_PERM = 2,		/* mapping lacks R, W or X       */
	VGPU_FAULT_MISALIGNED = 3,	/* access not naturally aligned  */
	VGPU_FAULT_SHARED = 4,		/* outside the block's shared mem */
	VGPU_FAULT_ILLEGAL = 5,		/* undefined opcode or operand   */
};

/* Encodes an instruction; a constant expression for constant operands. */
#define VGPU_INSN(op, rd, ra, rb, imm)					\
	((__u64)(__u8)(op) | ((__u64)(__u8)(rd) << 8) |		\
	 ((__u64)(__u8)(ra) << 16) | ((__u64)(__u8)(rb) << 24) |	\
	 ((__u64)(__u32)(__s32)(imm) << 32))

static inline __u64 vgpu_insn(__u8 op, __u8 rd, __u8 ra, __u8 rb, __s32 imm)
{
	return VGPU_INSN(op, rd, ra, rb, imm);
}

static inline __u8 vgpu_insn_op(__u64 w) { return w & 0xff; }
static inline __u8 vgpu_insn_rd(__u64 w) { return (w >> 8) & 0xff; }
static inline __u8 vgpu_insn_ra(__u64 w) { return (w >> 16) & 0xff; }
static inline __u8 vgpu_insn_rb(__u64 w) { return (w >> 24) & 0xff; }
static inline __s32 vgpu_insn_imm(__u64 w) { return (__s32)(__u32)(w >> 32); }

/*
 * Module file produced by vgpu-as and loaded by libvgpu: a header, a
 * table of kernels, then the code.  All fields little-endian.
 */
#define VGPU_MODULE_MAGIC	0x4d555056	/* "VPUM" */
#define VGPU_MODULE_NAME_LEN	48

struct vgpu_module_header {
	__u32 magic;
	__u32 version;		/* VGPU_ISA_VERSION */
	__u32 num_kernels;
	__u32 code_size;	/* bytes, multiple of VGPU_INSN_SIZE */
};

struct vgpu_module_kernel {
	char name[VGPU_MODULE_NAME_LEN];	/* NUL-terminated */
	__u32 offset;		/* byte offset of the entry in the code */
	__u32 shared_size;	/* bytes of shared memory per block */
	__u32 num_params;	/* parameters the kernel reads */
	__u32 reserved;
};

#endif /* VGPU_ISA_H */
