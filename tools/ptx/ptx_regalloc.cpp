// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_regalloc.cpp - register allocation and encoding of the compiler's
// intermediate form (ptx_ir.hpp).
//
// Liveness is computed on the basic blocks (labels and branches delimit
// them) to a fixed point; each virtual register's live range is the
// span of instruction positions from its first to its last appearance,
// widened to every block where it is live in or out.  Linear scan then
// gives each range one of the 32 ISA registers; ranges that meet at one
// instruction (a use ending there, a definition starting there) may
// share a register because an ISA instruction reads all its operands
// before it writes rd.
#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>

#include "ptx_ir.hpp"

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_isa_table.h"
}

namespace gpuvm::ptx::ir {
namespace {

struct OpInfo {
    uint8_t fmt = 0, flags = 0;
    bool valid = false;
};

const std::array<OpInfo, 256>& op_infos() {
    static const std::array<OpInfo, 256> t = [] {
        std::array<OpInfo, 256> a{};
        for (const auto& o : vgpu_op_table)
            a[o.opcode] = {o.fmt, o.flags, true};
        return a;
    }();
    return t;
}

bool is_regs_fmt(uint8_t f) {
    return f == VGPU_FMT_NONE || f == VGPU_FMT_R || f == VGPU_FMT_RR || f == VGPU_FMT_RRR || f == VGPU_FMT_RRRR ||
           f == VGPU_FMT_RRRRR;
}

// The virtual registers an instruction reads and the one it writes.
void uses_defs(const Insn& in, int use[5], int& nuse, int& def) {
    nuse = 0;
    def = -1;
    if (in.op >= 0x100) {
        if (in.op != kLabel)
            def = in.d;
        return;
    }
    const OpInfo& o = op_infos()[in.op];
    for (int r : {in.a, in.b, in.c, in.e})
        if (r >= 0)
            use[nuse++] = r;
    if (in.d >= 0) {
        if (o.fmt == VGPU_FMT_ST || o.fmt == VGPU_FMT_BRC)
            use[nuse++] = in.d;  // not used by these formats; kept for safety
        else
            def = in.d;
        if (o.flags & VGPU_OPF_RD_IN)
            use[nuse++] = in.d;
    }
}

bool ends_block(const Insn& in) {
    return in.op == VGPU_OP_BRA || in.op == VGPU_OP_BZ || in.op == VGPU_OP_BNZ || in.op == VGPU_OP_EXIT;
}

// Four liveness sets of nv x nb bits take at most 128 MiB.
constexpr uint64_t kMaxLivenessBits = uint64_t{1} << 28;

struct Bits {
    std::vector<uint64_t> w;
    explicit Bits(int n = 0) : w((n + 63) / 64) {}
    bool get(int i) const { return (w[i / 64] >> (i % 64)) & 1; }
    void set(int i) { w[i / 64] |= uint64_t{1} << (i % 64); }
    void clear(int i) { w[i / 64] &= ~(uint64_t{1} << (i % 64)); }
};

struct BlockInfo {
    int first = 0, last = 0;  // instruction positions [first, last]
    std::vector<int> succ;
    Bits use, def, in, out;
};

// Live ranges of every virtual register: [start, end] positions.
void live_ranges(const Kernel& k, std::vector<int>& start, std::vector<int>& end) {
    const auto& code = k.code;
    const int n = static_cast<int>(code.size());
    const int nv = k.nvregs;

    // Basic blocks.
    std::vector<int> label_block(k.nlabels, -1);
    std::vector<BlockInfo> blocks;
    for (int i = 0; i < n;) {
        BlockInfo b;
        b.first = i;
        while (code[i].op == kLabel) {
            label_block[code[i].label] = static_cast<int>(blocks.size());
            if (++i == n)
                break;
        }
        while (i < n && code[i].op != kLabel && !ends_block(code[i]))
            i++;
        if (i < n && code[i].op != kLabel)
            i++;  // the branch ends its block
        b.last = i - 1;
        blocks.push_back(std::move(b));
    }
    const int nb = static_cast<int>(blocks.size());
    // Liveness takes four bit sets of nv bits per block: bound the work
    // and memory a hostile kernel can ask for (the largest kernels of the
    // cuda-samples need under 1% of this).
    if (static_cast<uint64_t>(nv) * static_cast<uint64_t>(nb) > kMaxLivenessBits)
        throw std::runtime_error("is too large to compile (" + std::to_string(nv) + " values in " +
                                 std::to_string(nb) + " basic blocks)");
    for (int bi = 0; bi < nb; bi++) {
        BlockInfo& b = blocks[bi];
        b.use = b.def = b.in = b.out = Bits(nv);
        const Insn& last = code[b.last];
        bool falls = last.op != VGPU_OP_BRA && last.op != VGPU_OP_EXIT;
        if (last.op == VGPU_OP_BRA || last.op == VGPU_OP_BZ || last.op == VGPU_OP_BNZ) {
            if (last.label < 0 || last.label >= k.nlabels || label_block[last.label] < 0)
                throw std::runtime_error("branch to a label the function does not define");
            b.succ.push_back(label_block[last.label]);
        }
        if (falls && bi + 1 < nb)
            b.succ.push_back(bi + 1);
        for (int i = b.first; i <= b.last; i++) {
            int use[5], nuse, def;
            uses_defs(code[i], use, nuse, def);
            for (int u = 0; u < nuse; u++)
                if (!b.def.get(use[u]))
                    b.use.set(use[u]);
            if (def >= 0)
                b.def.set(def);
        }
    }
    // Liveness to a fixed point (backwards).
    for (bool changed = true; changed;) {
        changed = false;
        for (int bi = nb - 1; bi >= 0; bi--) {
            BlockInfo& b = blocks[bi];
            for (int s : b.succ)
                for (size_t w = 0; w < b.out.w.size(); w++)
                    b.out.w[w] |= blocks[s].in.w[w];
            for (size_t w = 0; w < b.in.w.size(); w++) {
                uint64_t v = b.use.w[w] | (b.out.w[w] & ~b.def.w[w]);
                if (v != b.in.w[w]) {
                    b.in.w[w] = v;
                    changed = true;
                }
            }
        }
    }
    // Live ranges.
    start.assign(nv, n);
    end.assign(nv, -1);
    auto touch = [&](int v, int pos) {
        start[v] = std::min(start[v], pos);
        end[v] = std::max(end[v], pos);
    };
    for (const BlockInfo& b : blocks) {
        for (int v = 0; v < nv; v++) {
            if (b.in.get(v))
                touch(v, b.first);
            if (b.out.get(v))
                touch(v, b.last);
        }
        for (int i = b.first; i <= b.last; i++) {
            int use[5], nuse, def;
            uses_defs(code[i], use, nuse, def);
            for (int u = 0; u < nuse; u++)
                touch(use[u], i);
            if (def >= 0)
                touch(def, i);
        }
    }
}

// Linear scan.  A range defined and never used still needs a register
// at its one instruction.  Returns the ranges that found no register
// (each time one is missing, the active range that ends last gives its
// register up, unless it may not be spilled).
std::vector<int> linear_scan(const Kernel& k, const std::vector<int>& start, const std::vector<int>& end,
                             const std::vector<bool>& no_spill, std::vector<int>& phys, int& used) {
    const int nv = k.nvregs;
    std::vector<int> order;
    for (int v = 0; v < nv; v++)
        if (end[v] >= 0)
            order.push_back(v);
    std::sort(order.begin(), order.end(), [&](int x, int y) { return start[x] < start[y]; });
    phys.assign(nv, -1);
    std::array<int, VGPU_NUM_REGS> busy_until, owner;
    busy_until.fill(-1);
    owner.fill(-1);
    std::vector<int> victims;
    used = 0;
    for (int v : order) {
        int r = -1;
        for (int p = 0; p < VGPU_NUM_REGS; p++)
            if (busy_until[p] <= start[v]) {
                r = p;
                break;
            }
        if (r < 0) {
            // Spill the active range that ends last (or @v itself).
            int worst = no_spill[v] ? -1 : v, wp = -1;
            for (int p = 0; p < VGPU_NUM_REGS; p++) {
                int o = owner[p];
                if (!no_spill[o] && (worst < 0 || end[o] > end[worst]))
                    worst = o, wp = p;
            }
            if (worst < 0)
                throw std::runtime_error("needs more registers than the ISA has, even spilling");
            victims.push_back(worst);
            if (worst == v)
                continue;
            r = wp;
            phys[worst] = -1;
        }
        phys[v] = r;
        busy_until[r] = end[v];
        owner[r] = v;
        used = std::max(used, r + 1);
    }
    return victims;
}

// Rewrites @k so that each register of @victims lives in an 8-byte slot
// of the thread's local slice: loaded into a new register before each
// use, stored after each definition.
void spill(Kernel& k, const std::vector<int>& victims, std::vector<bool>& no_spill) {
    std::map<int, int64_t> slot;
    for (int v : victims) {
        slot[v] = k.frame_size;
        k.frame_size += 8;
    }
    std::vector<Insn> out;
    out.reserve(k.code.size() * 2);
    auto fresh = [&] {
        no_spill.push_back(true);
        return k.nvregs++;
    };
    int new_frame_insn = -1;
    uint16_t ld = k.local_global ? VGPU_OP_LD_U64 : VGPU_OP_LDS_U64;
    uint16_t st = k.local_global ? VGPU_OP_ST_U64 : VGPU_OP_STS_U64;
    for (size_t idx = 0; idx < k.code.size(); idx++) {
        Insn in = k.code[idx];
        std::vector<Insn> after;
        bool rd_in = in.op < 0x100 && (op_infos()[in.op].flags & VGPU_OPF_RD_IN);
        for (int* r : {&in.a, &in.b, &in.c, &in.e}) {
            auto it = slot.find(*r);
            if (*r < 0 || it == slot.end())
                continue;
            int t = fresh();
            out.push_back({ld, t, k.local_base, -1, -1, -1, it->second, -1});
            for (int* q : {&in.a, &in.b, &in.c, &in.e})  // the same register twice: one load
                if (*q == *r && q != r)
                    *q = t;
            *r = t;
        }
        auto d = slot.find(in.d);
        if (in.d >= 0 && d != slot.end() && in.op != kLabel) {
            int t = fresh();
            if (rd_in)
                out.push_back({ld, t, k.local_base, -1, -1, -1, d->second, -1});
            in.d = t;
            after.push_back({st, -1, k.local_base, t, -1, -1, d->second, -1});
        }
        if (static_cast<int>(idx) == k.frame_insn)
            new_frame_insn = static_cast<int>(out.size());
        out.push_back(in);
        out.insert(out.end(), after.begin(), after.end());
    }
    k.code = std::move(out);
    k.frame_insn = new_frame_insn;
}

}  // namespace

int assemble(Kernel& k, std::vector<uint64_t>& out, std::vector<std::pair<uint64_t, uint64_t>>& relocs,
             uint32_t& spilled) {
    std::vector<bool> no_spill(k.nvregs, false);
    if (k.local_base >= 0)
        no_spill[k.local_base] = true;
    std::vector<int> start, end, phys;
    int used = 0;
    spilled = 0;
    for (int pass = 0;; pass++) {
        live_ranges(k, start, end);
        auto victims = linear_scan(k, start, end, no_spill, phys, used);
        if (victims.empty())
            break;
        if (k.local_base < 0)
            throw std::runtime_error("needs more than " + std::to_string(VGPU_NUM_REGS) +
                                     " registers at one time");
        if (pass == 64)
            throw std::runtime_error("needs more registers than the ISA has, even spilling");
        for (int v : victims)
            no_spill[v] = true;  // a spilled register's new ranges are short
        spill(k, victims, no_spill);
        spilled += static_cast<uint32_t>(victims.size());
    }
    if (k.frame_insn >= 0)
        k.code[k.frame_insn].imm = k.frame_size;
    for (Insn& in : k.code)
        if (in.frame_imm)
            in.imm = k.frame_size;
    const auto& code = k.code;

    // Encoding: label positions in words first.
    std::vector<int64_t> label_word(k.nlabels, -1);
    uint64_t base = out.size();
    uint64_t w = base;
    auto R = [&](int v) -> uint8_t { return v < 0 ? 0 : static_cast<uint8_t>(phys[v]); };
    // A move between ranges that share a register is no instruction.
    auto nothing = [&](const Insn& in) { return in.op == VGPU_OP_MOV && R(in.d) == R(in.a); };
    for (const Insn& in : code) {
        if (nothing(in))
            continue;
        if (in.op == kLabel)
            label_word[in.label] = static_cast<int64_t>(w);
        else if (in.op == kLi64)
            w += (in.imm >= INT32_MIN && in.imm <= INT32_MAX) ? 1 : 2;
        else if (in.op == kAddr)
            w += 2;
        else
            w++;
    }
    for (const Insn& in : code) {
        if (nothing(in))
            continue;
        switch (in.op) {
        case kLabel:
            continue;
        case kLi64:
            out.push_back(vgpu_insn(VGPU_OP_LI, R(in.d), 0, 0, static_cast<int32_t>(in.imm)));
            if (!(in.imm >= INT32_MIN && in.imm <= INT32_MAX))
                out.push_back(vgpu_insn(VGPU_OP_LIH, R(in.d), 0, 0, static_cast<int32_t>(in.imm >> 32)));
            continue;
        case kAddr:
            relocs.emplace_back(out.size(), static_cast<uint64_t>(in.imm));
            out.push_back(vgpu_insn(VGPU_OP_LI, R(in.d), 0, 0, 0));
            out.push_back(vgpu_insn(VGPU_OP_LIH, R(in.d), 0, 0, 0));
            continue;
        default:
            break;
        }
        const OpInfo& o = op_infos()[in.op];
        if (!o.valid)
            throw std::logic_error("compiler emitted opcode " + std::to_string(in.op));
        int32_t imm = static_cast<int32_t>(in.imm);
        if (o.flags & VGPU_OPF_BRANCH)
            imm = static_cast<int32_t>(label_word.at(in.label) - static_cast<int64_t>(out.size()));
        else if (is_regs_fmt(o.fmt))
            imm = VGPU_IMM_REGS(R(in.c), R(in.e), in.imm);
        uint8_t rd = R(in.d), ra = R(in.a), rb = R(in.b);
        if (o.fmt == VGPU_FMT_BRC) {
            ra = R(in.a);
            rd = 0;
        }
        out.push_back(vgpu_insn(static_cast<uint8_t>(in.op), rd, ra, rb, imm));
    }
    return used;
}

}  // namespace gpuvm::ptx::ir
