#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Writes the fuzzer's seed corpus (fuzz/corpus/): request sequences in the
record format of fuzz_dispatch.c that reach every operation, a launch, a
fault, hangs up to a ban, one guest naming the other's handles, and the
hp mode's operations (guest 1: selector bit 0)."""
import os
import struct
import sys

OP = dict(GET_INFO=1, CTX_CREATE=2, CTX_DESTROY=3, CTX_STATUS=4, BO_CREATE=5,
          BO_DESTROY=6, BO_WRITE=7, BO_READ=8, VM_BIND=9, SUBMIT=10,
          BO_CREATE_GRANTED=11, VM_BIND_BATCH=12, SUBMIT_ASYNC=13, CTX_STACK=14)
DEV, HOST = 1, 2
R, W, X = 1, 2, 4


def rec(op, payload=b"", sel=2, page=None):
    out = struct.pack("BBB", sel, OP[op], len(payload)) + payload
    if op == "BO_WRITE":
        page = page or b"\0"
        out += struct.pack("B", len(page)) + page
    return out


def ctx_create(prio=1): return rec("CTX_CREATE", struct.pack("<IIII", 0, prio, 0, 0))
def ctx_destroy(c): return rec("CTX_DESTROY", struct.pack("<II", c, 0))
def ctx_status(c): return rec("CTX_STATUS", struct.pack("<II", c, 0) + bytes(40))
def ctx_stack(c, n): return rec("CTX_STACK", struct.pack("<IIQ", c, n, 0))
def bo_create(size, dom): return rec("BO_CREATE", struct.pack("<QIIII", size, dom, 0, 0, 0))
def bo_destroy(h): return rec("BO_DESTROY", struct.pack("<II", h, 0))
def bo_io(op, h, off, n, page=None, gref=8):
    return rec(op, struct.pack("<IIQII", h, gref, off, n, 0), page=page)
def bind(c, op, h, va, flags=R | W, off=0):
    return rec("VM_BIND", struct.pack("<II", c, 0) +
               struct.pack("<IIIIQQQ", op, flags, h, 0, off, va, 4096))
def cmd(op, dst=0, src=0, size=0, value=0, shared=0, grid=(0, 0, 0),
        block=(0, 0, 0), params=()):
    p = list(params) + [0] * (8 - len(params))
    return struct.pack("<IIQQQII3I3I8Q", op, 0, dst, src, size, value, shared,
                       *grid, *block, *p)
def submit(c, body, sel=2): return rec("SUBMIT", struct.pack("<II", c, 0) + body, sel=sel)
def insn(op, rd=0, ra=0, rb=0, imm=0):
    return struct.pack("<Q", op | rd << 8 | ra << 16 | rb << 24 | (imm & 0xffffffff) << 32)


# hp mode, guest 1 (selector 3: guest 1, run the jobs).
def granted(size, d=9): return rec("BO_CREATE_GRANTED", struct.pack("<QII", size, d, 0), sel=3)
def bind_batch(c, n, d=0, op=b""):
    return rec("VM_BIND_BATCH", struct.pack("<IIII", c, n, d, 0) + op, sel=3)
def submit_async(c, n, d=0, body=b"", sel=3):
    return rec("SUBMIT_ASYNC", struct.pack("<IIII", c, n, d, 0) + body, sel=sel)
def hp(r): return bytes([r[0] | 1]) + r[1:]


CODE, DATA = 0x100000, 0x200000
store_tid = b"".join([insn(0x14, 1), insn(0x13, 2, imm=0), insn(0x3d, 3, 2, imm=2),
                      insn(0x20, 4, 1, 3), insn(0x65, 0, 4, 2), insn(0x02)])
endless = insn(0x04, imm=0)

RING = 16  # fuzz_dispatch.c's FUZZ_RING_GREF
seeds = {
    "ring-read": bo_create(4096, HOST) + bo_io("BO_READ", 1, 0, 4096, gref=RING) +
    hp(bo_create(4096, HOST)) + hp(bo_io("BO_READ", 1, 0, 4096, gref=RING)),
    "every-op": ctx_create() + bo_create(65536, DEV) + bind(1, 1, 1, DATA) +
    submit(1, cmd(2, dst=DATA, size=4096, value=7)) + ctx_status(1) +
    rec("GET_INFO") + bind(1, 2, 0, DATA, flags=0) + bo_destroy(1) + ctx_destroy(1),
    "launch": ctx_create() + bo_create(4096, HOST) + bo_io("BO_WRITE", 1, 0, 4096, store_tid) +
    bind(1, 1, 1, CODE, flags=R | X) + bo_create(4096, HOST) + bind(1, 1, 2, DATA) +
    submit(1, cmd(3, src=CODE, grid=(1, 1, 1), block=(32, 1, 1), params=(DATA,))) +
    bo_io("BO_READ", 2, 0, 4096) + ctx_status(1),
    "copy-fault": ctx_create() + bo_create(8192, DEV) + bind(1, 1, 1, DATA) +
    submit(1, cmd(1, dst=DATA, src=DATA + 4096, size=8192)) + ctx_status(1) +
    submit(1, cmd(2, dst=DATA, size=4)),
    "hangs-ban": ctx_create() + bo_create(4096, HOST) + bo_io("BO_WRITE", 1, 0, 8, endless) +
    bind(1, 1, 1, CODE, flags=R | X) +
    submit(1, cmd(3, src=CODE, grid=(1, 1, 1), block=(1, 1, 1))) + ctx_create() +
    bind(2, 1, 1, CODE, flags=R | X) +
    submit(2, cmd(3, src=CODE, grid=(1, 1, 1), block=(1, 1, 1))) + ctx_create(),
    "two-guests": ctx_create() + bo_create(4096, DEV) + rec("BO_DESTROY", struct.pack("<II", 1, 0), sel=3) +
    rec("VM_BIND", struct.pack("<II", 1, 0) + struct.pack("<IIIIQQQ", 1, 1, 1, 0, 0, DATA, 4096), sel=3) +
    bind(1, 1, 1, DATA),
    "queued-then-gone": ctx_create() + bo_create(65536, DEV) + bind(1, 1, 1, DATA) +
    submit(1, cmd(2, dst=DATA, size=4096), sel=0) + submit(1, cmd(2, dst=DATA, size=4096), sel=0) +
    rec("GET_INFO", sel=8),
    "stack": ctx_create() + ctx_stack(1, 5000) + ctx_stack(1, 2048) + ctx_stack(1, 16384) +
    ctx_stack(1, 16385) + ctx_create() + ctx_stack(2, 16384) + bo_create(1 << 20, DEV) +
    hp(ctx_create()) + hp(ctx_stack(1, 8192)) + ctx_destroy(1),
    "hp-granted": hp(ctx_create()) + granted(8192) +
    bind_batch(1, 1, op=struct.pack("<IIIIQQQ", 1, R | W, 1, 0, 0, DATA, 8192)) +
    submit_async(1, 1, body=cmd(2, dst=DATA, size=8192, value=5)) + hp(ctx_status(1)) +
    hp(bo_io("BO_READ", 1, 0, 4096)) + hp(bo_destroy(1)) + hp(ctx_destroy(1)),
    "hp-batches": hp(ctx_create()) + hp(bo_create(65536, DEV)) +
    hp(bo_io("BO_WRITE", 9, 0, 4096, cmd(2, dst=DATA, size=64, value=3))) +
    bind_batch(1, 1, op=struct.pack("<IIIIQQQ", 1, R | W, 1, 0, 0, DATA, 65536)) +
    submit_async(1, 8, d=9) + submit_async(1, 300, d=9, sel=1) + bind_batch(1, 3, d=9) +
    granted(1 << 20) + granted(4096, d=0x80000001),
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
