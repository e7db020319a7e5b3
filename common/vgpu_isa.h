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
 * each); their top three bits must be zero, and a field the instruction's
 * format does not use must be zero.  imm32 is sign-extended to
 * 64 bits where an instruction uses it as an integer.  Opcode 0 is not an
 * instruction, so zero-filled memory faults instead of running.
 */
#ifndef VGPU_ISA_H
#define VGPU_ISA_H

#include <linux/types.h>

#define VGPU_ISA_VERSION	2
#define VGPU_INSN_SIZE		8
#define VGPU_NUM_REGS		32
#define VGPU_NUM_PARAMS		8
#define VGPU_MAX_BLOCK_THREADS	1024
/* Blocks in a grid, as CUDA allows them: 2^31 - 1 in x, 65535 in y and z. */
#define VGPU_MAX_GRID_DIM_X	0x7fffffff
#define VGPU_MAX_GRID_DIM	65535
/*
 * Shared memory per block: 49 KiB, the 48 KiB a CUDA block may use
 * (sharedMemPerBlock) and 1 KiB that GPUvm's PTX compiler may add for
 * itself (bar.red's words), as NVIDIA's GPUs keep 1 KiB of each block's
 * shared memory for the system.
 */
#define VGPU_MAX_SHARED		(49 * 1024)
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
	VGPU_FMT_RRRR,	/* op rd, ra, rb, rc        */
	VGPU_FMT_RRRRR,	/* op rd, ra, rb, rc, re    */
	VGPU_FMT_R,	/* op rd                    */
};

/*
 * Opcode values are ABI: never renumber, only add.  Every opcode has its
 * row in the instruction table, vgpu_isa_ops.h.
 */
enum vgpu_opcode {
	VGPU_OP_NOP = 0x01,
	VGPU_OP_EXIT = 0x02,
	VGPU_OP_BAR = 0x03,
	VGPU_OP_BRA = 0x04,
	VGPU_OP_BZ = 0x05,
	VGPU_OP_BNZ = 0x06,
	VGPU_OP_FENCE = 0x07,
	VGPU_OP_WSYNC = 0x08,
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
	VGPU_OP_FFMA = 0x80,
	VGPU_OP_FSQRT = 0x81,
	VGPU_OP_FRND = 0x82,
	VGPU_OP_FSNAN = 0x83,
	VGPU_OP_F2U = 0x84,
	VGPU_OP_DADD = 0x88,
	VGPU_OP_DSUB = 0x89,
	VGPU_OP_DMUL = 0x8a,
	VGPU_OP_DDIV = 0x8b,
	VGPU_OP_DFMA = 0x8c,
	VGPU_OP_DSQRT = 0x8d,
	VGPU_OP_DMIN = 0x8e,
	VGPU_OP_DMAX = 0x8f,
	VGPU_OP_DNEG = 0x90,
	VGPU_OP_DABS = 0x91,
	VGPU_OP_DSEQ = 0x92,
	VGPU_OP_DSLT = 0x93,
	VGPU_OP_DSLE = 0x94,
	VGPU_OP_DSNAN = 0x95,
	VGPU_OP_DRND = 0x96,
	VGPU_OP_F2D = 0x97,
	VGPU_OP_D2F = 0x98,
	VGPU_OP_I2D = 0x99,
	VGPU_OP_U2D = 0x9a,
	VGPU_OP_D2I = 0x9b,
	VGPU_OP_D2U = 0x9c,
	VGPU_OP_LD_S8 = 0xa0,
	VGPU_OP_LD_U16 = 0xa1,
	VGPU_OP_LD_S16 = 0xa2,
	VGPU_OP_ST_U16 = 0xa3,
	VGPU_OP_LDS_U8 = 0xa4,
	VGPU_OP_LDS_S8 = 0xa5,
	VGPU_OP_LDS_U16 = 0xa6,
	VGPU_OP_LDS_S16 = 0xa7,
	VGPU_OP_LDS_S32 = 0xa8,
	VGPU_OP_STS_U8 = 0xa9,
	VGPU_OP_STS_U16 = 0xaa,
	VGPU_OP_MULHI = 0xb0,
	VGPU_OP_MULHIU = 0xb1,
	VGPU_OP_SELP = 0xb2,
	VGPU_OP_POPC = 0xb3,
	VGPU_OP_CLZ = 0xb4,
	VGPU_OP_BREV = 0xb5,
	VGPU_OP_PRMT = 0xb6,
	VGPU_OP_BFE = 0xb7,
	VGPU_OP_BFEU = 0xb8,
	VGPU_OP_BFI = 0xb9,
	VGPU_OP_SEXT = 0xba,
	VGPU_OP_ZEXT = 0xbb,
	VGPU_OP_SHFL = 0xbc,
	VGPU_OP_VOTE = 0xbd,
	VGPU_OP_ACTIVEMASK = 0xbe,
	VGPU_OP_ATOM_MIN_S32 = 0xc0,
	VGPU_OP_ATOM_MAX_S32 = 0xc1,
	VGPU_OP_ATOM_AND = 0xc2,
	VGPU_OP_ATOM_OR = 0xc3,
	VGPU_OP_ATOM_XOR = 0xc4,
	VGPU_OP_ATOM_INC = 0xc5,
	VGPU_OP_ATOM_DEC = 0xc6,
	VGPU_OP_ATOM_MIN64 = 0xc8,
	VGPU_OP_ATOM_MAX64 = 0xc9,
	VGPU_OP_ATOM_MIN_S64 = 0xca,
	VGPU_OP_ATOM_MAX_S64 = 0xcb,
	VGPU_OP_ATOM_AND64 = 0xcc,
	VGPU_OP_ATOM_OR64 = 0xcd,
	VGPU_OP_ATOM_XOR64 = 0xce,
	VGPU_OP_ATOM_XCHG64 = 0xcf,
	VGPU_OP_ATOM_CAS64 = 0xd0,
	VGPU_OP_ATOM_DADD = 0xd1,
	VGPU_OP_ATOMS_ADD = 0xd8,
	VGPU_OP_ATOMS_MIN = 0xd9,
	VGPU_OP_ATOMS_MAX = 0xda,
	VGPU_OP_ATOMS_MIN_S32 = 0xdb,
	VGPU_OP_ATOMS_MAX_S32 = 0xdc,
	VGPU_OP_ATOMS_AND = 0xdd,
	VGPU_OP_ATOMS_OR = 0xde,
	VGPU_OP_ATOMS_XOR = 0xdf,
	VGPU_OP_ATOMS_XCHG = 0xe0,
	VGPU_OP_ATOMS_CAS = 0xe1,
	VGPU_OP_ATOMS_INC = 0xe2,
	VGPU_OP_ATOMS_DEC = 0xe3,
	VGPU_OP_ATOMS_FADD = 0xe4,
	VGPU_OP_ATOMS_ADD64 = 0xe8,
	VGPU_OP_ATOMS_MIN64 = 0xe9,
	VGPU_OP_ATOMS_MAX64 = 0xea,
	VGPU_OP_ATOMS_MIN_S64 = 0xeb,
	VGPU_OP_ATOMS_MAX_S64 = 0xec,
	VGPU_OP_ATOMS_AND64 = 0xed,
	VGPU_OP_ATOMS_OR64 = 0xee,
	VGPU_OP_ATOMS_XOR64 = 0xef,
	VGPU_OP_ATOMS_XCHG64 = 0xf0,
	VGPU_OP_ATOMS_CAS64 = 0xf1,
	VGPU_OP_ATOMS_DADD = 0xf2,
};

/*
 * Modifier classes.  An instruction of a register-only format (NONE, R,
 * RR, RRR, RRRR, RRRRR) keeps its modifiers in imm32:
 *
 *   31        20 19   16 15      8 7       0
 *  +------------+-------+---------+---------+
 *  |  zero      |  mod  |   re    |   rc    |
 *  +------------+-------+---------+---------+
 *
 * rc and re are the fourth and fifth registers of RRRR and RRRRR (zero
 * in the formats that do not use them); mod is read as the class says
 * and must be zero in class NONE.  Any other value is ILLEGAL.
 */
enum vgpu_mod {
	VGPU_MOD_NONE,
	VGPU_MOD_RND,	/* mod: enum vgpu_rnd; float result rounding     */
	VGPU_MOD_IRND,	/* mod: enum vgpu_irnd; rounding to an integer   */
	VGPU_MOD_CVTI,	/* mod[1:0]: enum vgpu_irnd, mod[3:2]: enum vgpu_iw */
	VGPU_MOD_W32,	/* mod: 0 = 64-bit operation, 1 = 32-bit         */
	VGPU_MOD_PRMT,	/* mod: enum vgpu_prmt                           */
	VGPU_MOD_SHFL,	/* mod[1:0]: enum vgpu_shfl, mod[2]: VGPU_SHFL_PRED */
	VGPU_MOD_VOTE,	/* mod: enum vgpu_vote                           */
};

/* Rounding of a float result (PTX .rn .rz .rm .rp). */
enum vgpu_rnd {
	VGPU_RND_RN = 0,	/* to nearest, ties to even (the default) */
	VGPU_RND_RZ = 1,	/* toward zero                            */
	VGPU_RND_RM = 2,	/* toward minus infinity                  */
	VGPU_RND_RP = 3,	/* toward plus infinity                   */
};

/* Rounding to an integral value (PTX .rzi .rni .rmi .rpi). */
enum vgpu_irnd {
	VGPU_IRND_RZI = 0,	/* toward zero (C's conversion; the default) */
	VGPU_IRND_RNI = 1,	/* to nearest, ties to even                  */
	VGPU_IRND_RMI = 2,	/* toward minus infinity                     */
	VGPU_IRND_RPI = 3,	/* toward plus infinity                      */
};

/* Width of a float-to-integer conversion's result. */
enum vgpu_iw {
	VGPU_IW_64 = 0,
	VGPU_IW_32 = 1,
	VGPU_IW_16 = 2,
	VGPU_IW_8 = 3,
};

/* Byte permute modes (PTX prmt's default, .f4e .b4e .rc8 .ecl .ecr .rc16). */
enum vgpu_prmt {
	VGPU_PRMT_IDX = 0,
	VGPU_PRMT_F4E = 1,
	VGPU_PRMT_B4E = 2,
	VGPU_PRMT_RC8 = 3,
	VGPU_PRMT_ECL = 4,
	VGPU_PRMT_ECR = 5,
	VGPU_PRMT_RC16 = 6,
	VGPU_PRMT_COUNT
};

/* Modes of shfl (PTX shfl.sync .idx .up .down .bfly). */
enum vgpu_shfl {
	VGPU_SHFL_IDX = 0,
	VGPU_SHFL_UP = 1,
	VGPU_SHFL_DOWN = 2,
	VGPU_SHFL_BFLY = 3,
};

/* shfl's modifier bit: rd = the predicate (PTX's p of d|p), not the value. */
#define VGPU_SHFL_PRED	4

/* Modes of vote (PTX vote.sync .all .any .uni .ballot). */
enum vgpu_vote {
	VGPU_VOTE_ALL = 0,
	VGPU_VOTE_ANY = 1,
	VGPU_VOTE_UNI = 2,
	VGPU_VOTE_BALLOT = 3,
};

/* Threads of a warp: 32 consecutive linear thread indices of a block. */
#define VGPU_WARP_SIZE	32

/* The modifier field of a register-only instruction. */
#define VGPU_IMM_REGS(rc, re, mod)					\
	((__s32)((__u32)(__u8)(rc) | ((__u32)(__u8)(re) << 8) |	\
		 (((__u32)(mod) & 0xf) << 16)))
#define VGPU_IMM_MBZ_MASK	0xfff00000u

/* Flags of an instruction in the table. */
#define VGPU_OPF_BRANCH	0x01	/* imm32 is a branch offset            */
#define VGPU_OPF_RD_IN	0x02	/* reads rd as well as writing it      */
#define VGPU_OPF_GLOBAL	0x04	/* global load or store (not atomics)  */
#define VGPU_OPF_SHARED	0x08	/* shared memory access, atomics too   */
#define VGPU_OPF_ATOMIC	0x10	/* read-modify-write: global, or shared with VGPU_OPF_SHARED */
#define VGPU_OPF_PARAM	0x20	/* imm32 is a parameter index          */
#define VGPU_OPF_WIDTH	0x40	/* imm32 is a width: 8, 16 or 32       */
#define VGPU_OPF_WARP	0x80	/* warp-collective: runs with its warp  */

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
	VGPU_SR_LANEID = 12,	/* linear thread index % 32 (version 2) */
	VGPU_SR_WARPID = 13,	/* linear thread index / 32 (version 2) */
	VGPU_SR_CLOCK64 = 14,	/* the thread's clock: sim-isa.rst (version 2) */
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
