/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Copyright (C) 2026 GPUvm developers
 *
 * vgpu_isa.h - instruction set of the vgpu-sim reference GPU.
 *
 * This header is the binary contract between code generators (vgpu-as,
 * applications) and the interpreter.  Documentation/sim-isa.rst explains
 * it in prose.  Mnemonics and operand formats are in vgpu_isa_table.h,
 * used by the assembler; a test checks that it names exactly the opcodes
 * the interpreter executes.
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

/* Opcode values are ABI: never renumber, only add. */
enum vgpu_opcode {
	VGPU_OP_NOP = 0x01,
	VGPU_OP_EXIT = 0x02,
	VGPU_OP_BAR = 0x03,
	VGPU_OP_BRA = 0x04,
	VGPU_OP_BZ = 0x05,
	VGPU_OP_BNZ = 0x06,
	VGPU_OP_MOV = 0x10,
	VGPU_OP_LI = 0x11,
	VGPU_OP_LIH = 0x12,
	VGPU_OP_S2R = 0x13,
	VGPU_OP_LDP = 0x14,
	VGPU_OP_ADD = 0x20,
	VGPU_OP_SUB = 0x21,
	VGPU_OP_MUL = 0x22,
	VGPU_OP_DIVU = 0x23,
	VGPU_OP_REMU = 0x24,
	VGPU_OP_DIV = 0x25,
	VGPU_OP_REM = 0x26,
	VGPU_OP_AND = 0x27,
	VGPU_OP_OR = 0x28,
	VGPU_OP_XOR = 0x29,
	VGPU_OP_SHL = 0x2a,
	VGPU_OP_SHR = 0x2b,
	VGPU_OP_SAR = 0x2c,
	VGPU_OP_MIN = 0x2d,
	VGPU_OP_MAX = 0x2e,
	VGPU_OP_MINU = 0x2f,
	VGPU_OP_MAXU = 0x30,
	VGPU_OP_ADDI = 0x38,
	VGPU_OP_MULI = 0x39,
	VGPU_OP_ANDI = 0x3a,
	VGPU_OP_ORI = 0x3b,
	VGPU_OP_XORI = 0x3c,
	VGPU_OP_SHLI = 0x3d,
	VGPU_OP_SHRI = 0x3e,
	VGPU_OP_SARI = 0x3f,
	VGPU_OP_SEQ = 0x40,
	VGPU_OP_SNE = 0x41,
	VGPU_OP_SLT = 0x42,
	VGPU_OP_SLE = 0x43,
	VGPU_OP_SLTU = 0x44,
	VGPU_OP_SLEU = 0x45,
	VGPU_OP_SLTI = 0x46,
	VGPU_OP_SLTUI = 0x47,
	VGPU_OP_FADD = 0x50,
	VGPU_OP_FSUB = 0x51,
	VGPU_OP_FMUL = 0x52,
	VGPU_OP_FDIV = 0x53,
	VGPU_OP_FMIN = 0x54,
	VGPU_OP_FMAX = 0x55,
	VGPU_OP_FMAD = 0x56,
	VGPU_OP_FNEG = 0x57,
	VGPU_OP_FABS = 0x58,
	VGPU_OP_I2F = 0x59,
	VGPU_OP_U2F = 0x5a,
	VGPU_OP_F2I = 0x5b,
	VGPU_OP_FSEQ = 0x5c,
	VGPU_OP_FSLT = 0x5d,
	VGPU_OP_FSLE = 0x5e,
	VGPU_OP_LD_U8 = 0x60,
	VGPU_OP_LD_U32 = 0x61,
	VGPU_OP_LD_S32 = 0x62,
	VGPU_OP_LD_U64 = 0x63,
	VGPU_OP_ST_U8 = 0x64,
	VGPU_OP_ST_U32 = 0x65,
	VGPU_OP_ST_U64 = 0x66,
	VGPU_OP_LDS_U32 = 0x68,
	VGPU_OP_LDS_U64 = 0x69,
	VGPU_OP_STS_U32 = 0x6a,
	VGPU_OP_STS_U64 = 0x6b,
	VGPU_OP_ATOM_ADD = 0x70,
	VGPU_OP_ATOM_MIN = 0x71,
	VGPU_OP_ATOM_MAX = 0x72,
	VGPU_OP_ATOM_XCHG = 0x73,
	VGPU_OP_ATOM_CAS = 0x74,
	VGPU_OP_ATOM_ADD64 = 0x75,
	VGPU_OP_ATOM_FADD = 0x76,
};

/* Special registers read by s2r. */
enum vgpu_sreg {
	VGPU_SR_TID_X = 0,
	VGPU_SR_TID_Y = 1,
	VGPU_SR_TID_Z = 2,
	VGPU_SR_NTID_X = 3,
	VGPU_SR_NTID_Y = 4,
	VGPU_SR_NTID_Z = 5,
	VGPU_SR_CTAID_X = 6,
	VGPU_SR_CTAID_Y = 7,
	VGPU_SR_CTAID_Z = 8,
	VGPU_SR_NCTAID_X = 9,
	VGPU_SR_NCTAID_Y = 10,
	VGPU_SR_NCTAID_Z = 11,
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
