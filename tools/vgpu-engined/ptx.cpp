// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx.cpp - vgpu-sim ISA to PTX (see ptx.hpp).  Every instruction becomes
// a labelled sequence; the interpreter's semantics are in the comments
// where PTX differs from it.
#include "ptx.hpp"
#include "ptx_alu.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <set>
#include <sstream>

extern "C" {
#include "vgpu_isa_decode.h"
#include "vgpu_pt.h"
}

namespace vgpu::engine {
namespace {

// An instruction the interpreter would refuse when it executes it: the
// interpreter's own decoder says.
bool illegal(uint64_t w) {
    vgpu_dinsn d;
    return !vgpu_isa_decode(w, &d);
}

vgpu_dinsn decode(uint64_t w) {
    vgpu_dinsn d{};
    vgpu_isa_decode(w, &d);
    return d;
}

uint64_t target(uint64_t pc, uint64_t w) {
    return pc + static_cast<uint64_t>(static_cast<int64_t>(vgpu_insn_imm(w))) * VGPU_INSN_SIZE;
}

// What an instruction weighs in the stop checks' count: global accesses
// and atomics can take far longer than the others (host memory across the
// bus, contended words).
uint32_t insn_weight(uint64_t w) {
    vgpu_dinsn d;
    if (!vgpu_isa_decode(w, &d))
        return 1;
    if (d.flags & VGPU_OPF_ATOMIC)
        return kWeightAtomic;
    if (d.flags & VGPU_OPF_GLOBAL)
        return kWeightGlobal;
    return 1;
}

// The list of a .branchtargets directive.
std::string join(const std::vector<std::string>& labels) {
    std::string t;
    for (size_t i = 0; i < labels.size(); i++)
        t += (i ? ", " : "") + labels[i];
    return t;
}

std::string hex(uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof(b), "0x%016" PRIX64, v);
    return b;
}

class Emitter {
public:
    Emitter(const Program& p, int sm) : p_(p), sm_(sm) {
        int i = 0;
        prefix_.push_back(0);
        uint32_t in_window = 0;
        for (auto& [pc, f] : p.insns) {
            // Windows of consecutive instructions: at most kWindowInsns,
            // weighing at most kStopEvery together.
            size_t k = idx_.size();
            uint32_t w = f.fault ? 1 : insn_weight(f.word);
            if (k && (k - ws_.back() >= kWindowInsns || in_window + w > kStopEvery)) {
                ckpt_.insert(k);
                in_window = 0;
            }
            ws_.push_back(ckpt_.empty() || *ckpt_.rbegin() != k ? (k ? ws_.back() : 0) : k);
            in_window += w;
            prefix_.push_back(prefix_.back() + w);
            idx_[pc] = k;
            label_[pc] = i++;
            bool br = decode(f.word).flags & VGPU_OPF_BRANCH;
            if (!f.fault && !illegal(f.word) && br && target(pc, f.word) <= pc)
                backedges_all_.push_back(target(pc, f.word));  // the resume points
        }
    }
    std::string run();

private:
    void liveness();
    std::string L(uint64_t pc) { return "L" + std::to_string(label_.at(pc)); }
    std::string R(int r) { return "%r" + std::to_string(r); }
    void line(const std::string& s) { o_ << "\t" << s << ";\n"; }
    void prologue();
    void epilogue();
    void resume_prologue();
    void save_epilogue();
    void insn(uint64_t pc, uint64_t w);
    void branch(uint64_t pc, uint64_t to, const char* pred);
    void fault_now(uint32_t kind, uint64_t addr);
    void global(int ra, int32_t imm, int size, uint64_t need);
    void walk_block();
    void fadd_block();
    void warp_arrive(const vgpu_dinsn* d, size_t key);
    void warp_block();
    void count(uint32_t w, const std::string& cont);
    void charge(uint32_t w, const std::string& cont);
    void check_stub(uint32_t w, const std::string& to, int resume);
    uint32_t window_weight(size_t idx) const { return prefix_[idx + 1] - prefix_[ws_[idx]]; }
    void shared(int ra, int32_t imm, int size);
    void memory(const vgpu_dinsn& d);
    void atomic(const vgpu_dinsn& d);
    void cas_add(const vgpu_atom_info& a, const std::string& space);

    const Program& p_;
    int sm_;
    std::map<uint64_t, int> label_;
    int cas_loops_ = 0;  // the inline compare-and-swap loops (cas_add())
    std::vector<std::pair<int, uint64_t>> backedges_;  // (id, target)
    std::vector<uint64_t> backedges_all_;              // target of each id (resume points)
    std::map<uint64_t, uint32_t> live_;                // registers live into each instruction
    // Stop checks (see charge()): position of each instruction in address
    // order, the weights' prefix sums, the window each one is in (its
    // first position), and the windows' first positions.
    std::map<uint64_t, size_t> idx_;
    std::vector<uint32_t> prefix_;
    std::vector<size_t> ws_;
    std::set<size_t> ckpt_;
    std::ostringstream stub_o_;       // out-of-line checks, emitted with the epilogue
    std::vector<std::string> bars_;   // return labels of the barrier sites
    std::vector<std::string> walks_;  // return labels of the global accesses (walk_block())
    std::vector<std::string> fadds_;  // return labels of atom.add.f32 (fadd_block())
    std::vector<std::string> wrets_;  // return labels of the warp block's arrivals (warp_block())
    int uniq_ = 0;
    std::ostringstream o_;
};

void Emitter::prologue() {
    o_ << ".version 7.8\n.target sm_" << sm_ << "\n.address_size 64\n\n"
       << ".extern .shared .align 16 .b8 smem[];\n\n";
    o_ << ".visible .entry vgpu_kernel(\n";
    for (int i = 0; i < 8; i++)
        o_ << "\t.param .u64 p" << i << ",\n";
    o_ << "\t.param .u64 pt, .param .u64 ctl, .param .u64 stop, .param .u64 base,\n"
       << "\t.param .u32 g0, .param .u32 g1, .param .u32 g2, .param .u32 shsz,\n"
       << "\t.param .u64 save, .param .u32 mode, .param .u32 blkb)\n{\n"
       << "\t.reg .b64 %r<32>;\n\t.reg .b64 %s<14>;\n\t.reg .b64 %t<8>;\n\t.reg .b32 %w<6>;\n"
       << "\t.reg .f32 %f<3>;\n\t.reg .pred %p<3>;\n\t.reg .pred %pT, %pF;\n"
       << "\t.reg .b64 %pt, %ctl, %stop, %blk, %sb, %sl4, %sl8, %fa, %key, %tg0, %te0, %tg1, %te1;\n"
       << "\t.reg .b32 %sh, %fk, %bc, %ph, %lt, %nt, %rid;\n"
       << "\t.reg .b64 %save, %hdr, %slot;\n"
       << "\t.reg .b32 %bret, %bpop, %wret, %fret;\n\t.reg .pred %pB;\n"
       << "\t.reg .b64 %sl1, %sl2;\n" << kAluRegs;
    if (p_.has_warp)
        o_ << "\t.reg .b64 %wa, %wb, %wc, %we, %wr;\n"
           << "\t.reg .b32 %wpc, %wk, %xret, %wlive, %wgrp, %wrnd, %wln, %wy<8>;\n"
           << "\t.reg .pred %wx, %wq<3>;\n";
    line("ld.param.u64 %pt, [pt]");
    line("ld.param.u64 %ctl, [ctl]");
    line("ld.param.u64 %stop, [stop]");
    line("ld.param.u64 %blk, [base]");
    line("ld.param.u32 %sh, [shsz]");
    line("setp.eq.u32 %pT, 0, 0");
    line("setp.ne.u32 %pF, 0, 0");
    // The linear block of this chunk and the interpreter's special registers.
    line("mov.u32 %w0, %ctaid.x");
    line("cvt.u64.u32 %t0, %w0");
    line("add.u64 %blk, %blk, %t0");
    line("ld.param.u32 %w0, [g0]");
    line("cvt.u64.u32 %s9, %w0");
    line("ld.param.u32 %w0, [g1]");
    line("cvt.u64.u32 %s10, %w0");
    line("ld.param.u32 %w0, [g2]");
    line("cvt.u64.u32 %s11, %w0");
    // ctaid from the linear block: no division for a 1-D grid, 32-bit
    // division where the block number fits (64-bit division is a long
    // emulated sequence on the GPU).
    line("mov.b64 %s6, %blk");
    line("mov.b64 %s7, 0");
    line("mov.b64 %s8, 0");
    line("setp.eq.u64 %p0, %s10, 1");
    line("setp.eq.and.u64 %p0, %s11, 1, %p0");
    line("@%p0 bra $CTAID");
    line("setp.gt.u64 %p0, %blk, 0xFFFFFFFF");
    line("@%p0 bra $CTAID64");
    line("cvt.u32.u64 %w1, %blk");
    line("cvt.u32.u64 %w2, %s9");
    line("cvt.u32.u64 %w3, %s10");
    line("rem.u32 %w4, %w1, %w2");
    line("cvt.u64.u32 %s6, %w4");
    line("div.u32 %w1, %w1, %w2");
    line("rem.u32 %w4, %w1, %w3");
    line("cvt.u64.u32 %s7, %w4");
    line("div.u32 %w1, %w1, %w3");
    line("cvt.u64.u32 %s8, %w1");
    line("bra $CTAID");
    o_ << "$CTAID64:\n";
    line("rem.u64 %s6, %blk, %s9");
    line("div.u64 %t1, %blk, %s9");
    line("rem.u64 %s7, %t1, %s10");
    line("div.u64 %s8, %t1, %s10");
    o_ << "$CTAID:\n";
    const char* sr[] = {"%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z"};
    for (int i = 0; i < 6; i++) {
        line(std::string("mov.u32 %w0, ") + sr[i]);
        line("cvt.u64.u32 %s" + std::to_string(i) + ", %w0");
    }
    // Linear thread index (the interpreter's order) and threads per block.
    line("mov.u32 %lt, %tid.z");
    line("mov.u32 %w1, %ntid.y");
    line("mov.u32 %w2, %tid.y");
    line("mad.lo.u32 %lt, %lt, %w1, %w2");
    line("mov.u32 %w1, %ntid.x");
    line("mov.u32 %w2, %tid.x");
    line("mad.lo.u32 %lt, %lt, %w1, %w2");
    line("and.b32 %w1, %lt, 31");  // %laneid, %warpid: of the linear index
    line("cvt.u64.u32 %s12, %w1");
    line("shr.u32 %w1, %lt, 5");
    line("cvt.u64.u32 %s13, %w1");
    line("mov.u32 %nt, %ntid.x");
    line("mov.u32 %w1, %ntid.y");
    line("mul.lo.u32 %nt, %nt, %w1");
    line("mov.u32 %w1, %ntid.z");
    line("mul.lo.u32 %nt, %nt, %w1");
    if (p_.has_warp) {
        // The warp's live lanes (warp_block()): those that exist, fewer in
        // the last warp of a block whose size is no multiple of 32 (a
        // shift by 32 gives 0 in PTX).
        line("and.b32 %wln, %lt, 31");
        line("sub.u32 %w1, %lt, %wln");
        line("sub.u32 %w1, %nt, %w1");
        line("min.u32 %w1, %w1, 32");
        line("mov.b32 %wlive, 1");
        line("shl.b32 %wlive, %wlive, %w1");
        line("sub.u32 %wlive, %wlive, 1");
        line("mov.u32 %wrnd, 0");
        line("mov.pred %wx, %pF");
    }
    for (int i = 0; i < 32; i++)
        line("mov.b64 " + R(i) + ", 0");
    line("mov.b64 %tg0, -1");
    line("mov.b64 %tg1, -1");
    line("mov.b64 %te0, 0");
    line("mov.b64 %te1, 0");
    line("mov.u32 %bc, 0");
    line("mov.u32 %ph, 0");
    line("mov.u64 %sb, smem");
    line("cvt.u64.u32 %sl4, %sh");
    line("sub.u64 %sl4, %sl4, 3");
    line("cvt.u64.u32 %sl8, %sh");
    line("sub.u64 %sl8, %sl8, 7");
    line("setp.lt.u32 %p0, %sh, 4");
    line("@%p0 mov.b64 %sl4, 0");
    line("setp.lt.u32 %p0, %sh, 8");
    line("@%p0 mov.b64 %sl8, 0");
    line("cvt.u64.u32 %sl1, %sh");
    line("cvt.u64.u32 %sl2, %sh");
    line("sub.u64 %sl2, %sl2, 1");
    line("setp.lt.u32 %p0, %sh, 2");
    line("@%p0 mov.b64 %sl2, 0");
    if (p_.resumable())
        resume_prologue();
    // Shared memory starts zeroed, as the interpreter's does.
    line("setp.eq.u32 %p0, %sh, 0");
    line("@%p0 bra $START");
    line("mov.u32 %w0, %lt");
    o_ << "$ZERO:\n";
    line("setp.ge.u32 %p0, %w0, %sh");
    line("@%p0 bra $ZDONE");
    line("cvt.u64.u32 %t0, %w0");
    line("add.u64 %t0, %t0, %sb");
    line("mov.u32 %w1, 0");
    line("st.shared.u8 [%t0], %w1");
    line("add.u32 %w0, %w0, %nt");
    line("bra $ZERO");
    o_ << "$ZDONE:\n";
    line("barrier.sync 0");
    o_ << "$START:\n";
    // A block that starts after the watchdog fired leaves at once: the
    // first thread to see kStopAbort (or the host) sets LaunchCtl.abort.
    line("ld.volatile.global.u32 %w5, [%ctl+24]");
    line("setp.ne.u32 %p2, %w5, 0");
    line("@%p2 bra $EXIT");
    line("bra " + L(p_.entry));
}

// The save area of a block (resumable kernels, launched with a save
// area): a 16-byte header {status, finished, saved, 0}, the block's
// shared memory, then 272 bytes per thread (r0..r31, resume point,
// exited, barrier phase, back-edge count).  A resumed launch skips the
// blocks that are done, restores the saved ones, starts the others.
void Emitter::resume_prologue() {
    line("ld.param.u64 %save, [save]");
    line("setp.eq.u64 %p0, %save, 0");
    line("@%p0 bra $FRESH");
    line("ld.param.u32 %w1, [blkb]");
    line("mov.u32 %w0, %ctaid.x");
    line("mul.wide.u32 %t0, %w0, %w1");
    line("add.u64 %hdr, %save, %t0");
    line("add.u32 %w1, %sh, 7");
    line("and.b32 %w1, %w1, -8");
    line("add.u32 %w1, %w1, 16");
    line("mul.wide.u32 %t0, %lt, 272");
    line("cvt.u64.u32 %t1, %w1");
    line("add.u64 %t0, %t0, %t1");
    line("add.u64 %slot, %hdr, %t0");
    line("ld.param.u32 %w0, [mode]");
    line("setp.eq.u32 %p0, %w0, 0");
    line("@%p0 bra $FRESH");
    line("ld.volatile.global.u32 %w0, [%hdr]");
    line("setp.eq.u32 %p0, %w0, 1");
    line("@%p0 ret");  // done in an earlier launch
    line("setp.ne.u32 %p0, %w0, 2");
    line("@%p0 bra $FRESH");  // never started
    line("ld.global.u32 %rid, [%slot+256]");
    line("ld.global.u32 %w3, [%slot+260]");
    line("ld.global.u32 %ph, [%slot+264]");
    line("ld.global.u32 %bc, [%slot+268]");
    // Shared memory as the block left it.
    line("setp.eq.u32 %p0, %sh, 0");
    line("@%p0 bra $RDONE");
    line("mov.u32 %w0, %lt");
    o_ << "$RCOPY:\n";
    line("setp.ge.u32 %p0, %w0, %sh");
    line("@%p0 bra $RSYNC");
    line("cvt.u64.u32 %t0, %w0");
    line("add.u64 %t1, %t0, %hdr");
    line("ld.global.u8 %w1, [%t1+16]");
    line("add.u64 %t0, %t0, %sb");
    line("st.shared.u8 [%t0], %w1");
    line("add.u32 %w0, %w0, %nt");
    line("bra $RCOPY");
    o_ << "$RSYNC:\n";
    line("barrier.sync 0");
    o_ << "$RDONE:\n";
    line("setp.ne.u32 %p0, %w3, 0");
    line("@%p0 bra $FIN");  // it had exited
    for (size_t k = 0; k < backedges_all_.size(); k++) {
        line("setp.eq.u32 %p0, %rid, " + std::to_string(k));
        line("@%p0 bra $RS" + std::to_string(k));
    }
    line("bra $FIN");
    // Each resume point restores the registers live there (only those are
    // saved: saving every register would keep all of them live at every
    // backward branch and cost registers in every run).
    for (size_t k = 0; k < backedges_all_.size(); k++) {
        o_ << "$RS" << k << ":\n";
        uint32_t live = live_[backedges_all_[k]];
        for (int i = 0; i < 32; i++)
            if (live & (1u << i))
                line("ld.global.u64 " + R(i) + ", [%slot+" + std::to_string(8 * i) + "]");
        line("bra " + L(backedges_all_[k]));
    }
    o_ << "$FRESH:\n";
}

// A thread of a kernel without barriers stops at a backward branch when
// the host asks (kStopPreempt): it saves its state and finishes; the last
// thread of the block saves the shared memory and the block's status.
void Emitter::save_epilogue() {
    for (size_t k = 0; k < backedges_all_.size(); k++) {
        o_ << "$SV" << k << ":\n";
        uint32_t live = live_[backedges_all_[k]];
        for (int i = 0; i < 32; i++)
            if (live & (1u << i))
                line("st.global.u64 [%slot+" + std::to_string(8 * i) + "], " + R(i));
        line("mov.u32 %rid, " + std::to_string(k));
        line("bra $SAVE");
    }
    o_ << "$SAVE:\n";
    line("st.global.u32 [%slot+256], %rid");
    line("mov.u32 %w1, 0");
    line("st.global.u32 [%slot+260], %w1");
    line("st.global.u32 [%slot+264], %ph");
    line("st.global.u32 [%slot+268], %bc");
    line("membar.gl");
    line("mov.u32 %w1, 1");
    line("atom.global.or.b32 %w2, [%hdr+8], %w1");
    line("bra $FIN");
    o_ << "$EXITED:\n";  // an exited thread stays exited if the block is resumed
    line("setp.eq.u64 %p0, %save, 0");
    line("@%p0 ret");
    line("mov.u32 %w1, 1");
    line("st.global.u32 [%slot+260], %w1");
    o_ << "$FIN:\n";
    line("setp.eq.u64 %p0, %save, 0");
    line("@%p0 ret");
    line("membar.gl");
    line("mov.u32 %w1, 1");
    line("atom.global.add.u32 %w0, [%hdr+4], %w1");
    line("add.u32 %w0, %w0, 1");
    line("setp.ne.u32 %p0, %w0, %nt");
    line("@%p0 ret");
    line("membar.gl");
    line("ld.volatile.global.u32 %w1, [%hdr+8]");
    line("mov.u32 %w2, 1");
    line("setp.eq.u32 %p0, %w1, 0");
    line("@%p0 bra $FSET");
    line("mov.u32 %w2, 2");
    line("mov.u32 %w0, 0");
    o_ << "$SCOPY:\n";
    line("setp.ge.u32 %p0, %w0, %sh");
    line("@%p0 bra $FSET");
    line("cvt.u64.u32 %t0, %w0");
    line("add.u64 %t1, %t0, %sb");
    line("ld.shared.u8 %w1, [%t1]");
    line("add.u64 %t1, %t0, %hdr");
    line("st.global.u8 [%t1+16], %w1");
    line("add.u32 %w0, %w0, 1");
    line("bra $SCOPY");
    o_ << "$FSET:\n";
    line("setp.eq.u32 %p0, %w2, 2");  // saved: counted in LaunchCtl.saved
    line("mov.u32 %w1, 1");
    line("@%p0 atom.global.add.u32 %w0, [%ctl+32], %w1");
    line("mov.u32 %w1, 0");
    line("st.global.u32 [%hdr+4], %w1");
    line("st.global.u32 [%hdr+8], %w1");
    line("membar.gl");
    line("st.volatile.global.u32 [%hdr], %w2");
    line("ret");
}

void Emitter::epilogue() {
    o_ << stub_o_.str();
    walk_block();
    fadd_block();
    // A thread that saw kStopAbort tells blocks yet to start (LaunchCtl.abort).
    o_ << "$ABORT:\n";
    line("setp.eq.u32 %p2, %w5, " + std::to_string(kStopAbort));
    line("@%p2 st.volatile.global.u32 [%ctl+24], %w5");
    line("bra $EXIT");
    if (p_.resumable())
        save_epilogue();
    o_ << "$MIS:\n";
    line("mov.u32 %fk, " + std::to_string(VGPU_FAULT_MISALIGNED));
    line("mov.b64 %fa, %t0");
    line("bra $FAULT");
    o_ << "$UNM:\n";
    line("mov.u32 %fk, " + std::to_string(VGPU_FAULT_UNMAPPED));
    line("mov.b64 %fa, %t0");
    line("bra $FAULT");
    o_ << "$PERM:\n";
    line("setp.eq.u64 %p0, %te0, 0");  // the walk found no leaf (walk_block())
    line("@%p0 bra $UNM");
    line("mov.u32 %fk, " + std::to_string(VGPU_FAULT_PERM));
    line("mov.b64 %fa, %t0");
    line("bra $FAULT");
    o_ << "$SHF:\n";
    line("mov.u32 %fk, " + std::to_string(VGPU_FAULT_SHARED));
    line("mov.b64 %fa, %t0");
    // The first fault in the interpreter's order wins: least block, then
    // barrier phase, then warp, then the warp's round (warp_block(): the
    // interpreter runs a warp until it has no group left to release),
    // then lane.  Blocks of one chunk: %ctaid.x < 2^31.
    o_ << "$FAULT:\n";
    line("mov.u32 %w0, %ctaid.x");
    line("cvt.u64.u32 %key, %w0");
    line("shl.b64 %key, %key, 33");
    line("min.u32 %w0, %ph, 1023");
    line("cvt.u64.u32 %t1, %w0");
    line("shl.b64 %t1, %t1, 23");
    line("or.b64 %key, %key, %t1");
    line("shr.u32 %w0, %lt, 5");
    line("shl.b32 %w0, %w0, 18");
    line("and.b32 %w1, %lt, 31");
    line("or.b32 %w0, %w0, %w1");
    if (p_.has_warp) {
        line("min.u32 %w1, %wrnd, 8191");
        line("shl.b32 %w1, %w1, 5");
        line("or.b32 %w0, %w0, %w1");
    }
    line("cvt.u64.u32 %t1, %w0");
    line("or.b64 %key, %key, %t1");
    line("atom.global.min.u64 %t1, [%ctl], %key");
    line("setp.ge.u64 %p0, %key, %t1");
    line("@%p0 bra $FDONE");
    o_ << "$FLOCK:\n";
    line("mov.u32 %w2, 0");
    line("mov.u32 %w3, 1");
    line("atom.global.cas.b32 %w1, [%ctl+20], %w2, %w3");
    line("setp.ne.u32 %p0, %w1, 0");
    line("@%p0 bra $FLOCK");
    line("ld.volatile.global.u64 %t1, [%ctl]");
    line("setp.ne.u64 %p0, %t1, %key");
    line("@%p0 bra $FUNLOCK");
    line("st.volatile.global.u64 [%ctl+8], %fa");
    line("st.volatile.global.u32 [%ctl+16], %fk");
    o_ << "$FUNLOCK:\n";
    line("membar.gl");
    line("mov.u32 %w2, 0");
    line("atom.global.exch.b32 %w1, [%ctl+20], %w2");
    o_ << "$FDONE:\n";
    line("mov.u32 %w1, " + std::to_string(kStopFault));
    line("st.volatile.global.u32 [%ctl+28], %w1");  // the other threads stop
    line("st.volatile.global.u32 [%stop], %w1");    // the host sees the fault
    o_ << "$EXIT:\n";
    if (p_.has_warp) {
        // Leaving the warp goes through the warp block too.
        line("mov.pred %wx, %pT");
        line("mov.u32 %wpc, 0xFFFFFFFF");
        line("mov.u32 %xret, " + std::to_string(wrets_.size()));
        wrets_.push_back("$WEXIT");
        line("bra $WARP");
        warp_block();
        o_ << "$WEXIT:\n";
    }
    if (p_.resumable())
        line("bra $EXITED");
    if (p_.has_barrier) {
        // An exited thread keeps arriving at the block's barriers until
        // every thread has exited: a barrier releases when every thread
        // that has not exited has reached it, as in the interpreter.
        o_ << "$XL:\n";
        line("mov.u32 %bret, " + std::to_string(bars_.size()));
        line("mov.pred %pB, %pF");
        line("bra $BAR");
        o_ << "$XR:\n";
        line("setp.ne.u32 %p0, %bpop, 0");
        line("@%p0 bra $XL");
        line("ret");
        // Every arrival, of live and of exited threads, at one barrier
        // instruction: threads of one warp waiting at two different
        // barrier.red instructions (a live one, an exited one) got a
        // register of the live ones overwritten with the count (GPU
        // self-test, "barriers, half of each warp exited").  %bret says
        // where to go on.
        std::vector<std::string> targets = bars_;
        targets.push_back("$XR");
        o_ << "$BT: .branchtargets " << join(targets) << ";\n";
        o_ << "$BAR:\n";
        line("barrier.red.popc.u32 %bpop, 0, %pB");
        line("brx.idx %bret, $BT");
    }
    line("ret");
    o_ << "}\n";
}

// A backward branch, or a forward one that skips the start of a window,
// goes through a stub that counts the work done in the branch's window
// (check_stub()); other branches stay inside their window.
void Emitter::branch(uint64_t pc, uint64_t to, const char* pred) {
    std::string p = pred ? std::string("@") + pred + " " : "";
    size_t from = idx_.at(pc);
    if (to <= pc) {
        int id = static_cast<int>(backedges_.size());  // in program order, as backedges_all_
        backedges_.push_back({id, to});
        std::string stub = "$BE" + std::to_string(id);
        line(p + "bra " + stub);
        o_.swap(stub_o_);
        o_ << stub << ":\n";
        check_stub(window_weight(from), L(to), id);
        o_.swap(stub_o_);
        return;
    }
    auto t = idx_.find(to);
    auto c = ckpt_.upper_bound(from);
    if (t != idx_.end() && (c == ckpt_.end() || *c > t->second)) {
        line(p + "bra " + L(to));
        return;
    }
    std::string stub = "$FX" + std::to_string(uniq_++);
    line(p + "bra " + stub);
    o_.swap(stub_o_);
    o_ << stub << ":\n";
    check_stub(window_weight(from), L(to), -1);
    o_.swap(stub_o_);
}

// Stop checks.  A per-thread count (%bc) adds the weight of the work done
// since the last check point (insn_weight()); when it reaches kStopEvery
// the thread reads the stop word.  Check points: the first instruction of
// every window (kWindowInsns instructions at most, kStopEvery of weight),
// every backward branch and every forward branch that skips a window's
// start, each counting the weight of its window (up to itself).  Between
// two check points a thread stays in one window, so it reads the stop
// word after at most 2 * kStopEvery of weight, in loops and in straight
// code alike, and every loop (the CAS loop of atom.add.f32 too) counts.
void Emitter::charge(uint32_t w, const std::string& cont) {
    count(w, cont);
    line("setp.ne.u32 %p2, %w5, " + std::to_string(kStopRun));
    line("setp.ne.and.u32 %p2, %w5, " + std::to_string(kStopPreempt) + ", %p2");
    line("@%p2 bra $ABORT");
}

// Adds @w to the count: below kStopEvery on at @cont, else the stop word
// is read into %w5 (and the count starts again).
void Emitter::count(uint32_t w, const std::string& cont) {
    line("add.u32 %bc, %bc, " + std::to_string(w));
    line("setp.lt.u32 %p2, %bc, " + std::to_string(kStopEvery));
    line("@%p2 bra " + cont);
    line("mov.u32 %bc, 0");
    line("ld.volatile.global.u32 %w5, [%ctl+28]");  // LaunchCtl.stop
}

// The check of a branch to @to; at a backward branch (@resume >= 0) of a
// resumable kernel, kStopPreempt saves the thread to resume at @to.
void Emitter::check_stub(uint32_t w, const std::string& to, int resume) {
    count(w, to);
    if (resume >= 0 && p_.resumable()) {
        line("setp.eq.u32 %p2, %w5, " + std::to_string(kStopPreempt));
        line("setp.ne.and.u64 %p2, %save, 0, %p2");
        line("@%p2 bra $SV" + std::to_string(resume));
    }
    line("setp.ne.u32 %p2, %w5, " + std::to_string(kStopRun));
    line("setp.ne.and.u32 %p2, %w5, " + std::to_string(kStopPreempt) + ", %p2");
    line("@%p2 bra $ABORT");
    line("bra " + to);
}

void Emitter::fault_now(uint32_t kind, uint64_t addr) {
    line("mov.u32 %fk, " + std::to_string(kind));
    line("mov.b64 %fa, " + hex(addr));
    line("bra $FAULT");
}

// %t0 = ra + imm, checked and translated for @need; %t1 = its address.
// A hit in the first entry of the per-thread TLB costs a compare; a miss
// goes to the one page walk of the kernel (walk_block()): the JIT's time
// grew with every inlined walk (29 s for 512 loads) and with every call.
void Emitter::global(int ra, int32_t imm, int size, uint64_t need) {
    std::string hit = "$H" + std::to_string(walks_.size());
    line("add.u64 %t0, " + R(ra) + ", " + std::to_string(imm));
    if (size > 1) {
        line("and.b64 %t2, %t0, " + std::to_string(size - 1));
        line("setp.ne.u64 %p0, %t2, 0");
        line("@%p0 bra $MIS");
    }
    line("shr.u64 %t3, %t0, 12");
    line("setp.ne.u64 %p0, %t3, %tg0");
    line("@%p0 mov.u32 %wret, " + std::to_string(walks_.size()));
    line("@%p0 bra $WALK");
    walks_.push_back(hit);
    o_ << hit << ":\n";
    line("and.b64 %t6, %te0, " + std::to_string(need));
    line("setp.ne.u64 %p0, %t6, " + std::to_string(need));
    line("@%p0 bra $PERM");
    line("and.b64 %t1, %te0, -4096");
    line("and.b64 %t6, %t0, 4095");
    line("or.b64 %t1, %t1, %t6");
}

// The page walk, one copy per kernel (a shared block that returns
// through brx.idx to the access, %wret): the second TLB entry if it holds
// the page, else the tables; the page goes to the first entry.  An entry
// may cache an unmapped page (0): the tables do not change during a
// launch, and $PERM tells UNMAPPED (entry 0) from PERM.
void Emitter::walk_block() {
    if (walks_.empty())
        return;
    o_ << "$WT: .branchtargets " << join(walks_) << ";\n";
    o_ << "$WALK:\n";
    line("mov.b64 %t4, %te1");
    line("setp.eq.u64 %p0, %t3, %tg1");
    line("@%p0 bra $WHIT");
    line("mov.b64 %t4, 0");
    line("setp.ge.u64 %p0, %t0, " + hex(VGPU_VA_SIZE));
    line("@%p0 bra $WHIT");
    line("shr.u64 %t5, %t0, 30");
    line("shl.b64 %t5, %t5, 3");
    line("add.u64 %t5, %t5, %pt");
    line("ld.global.u64 %t5, [%t5]");
    line("setp.eq.u64 %p0, %t5, 0");
    line("@%p0 bra $WHIT");
    line("shr.u64 %t6, %t0, 21");
    line("and.b64 %t6, %t6, 511");
    line("shl.b64 %t6, %t6, 3");
    line("add.u64 %t5, %t5, %t6");
    line("ld.global.u64 %t5, [%t5]");
    line("setp.eq.u64 %p0, %t5, 0");
    line("@%p0 bra $WHIT");
    line("and.b64 %t6, %t3, 511");
    line("shl.b64 %t6, %t6, 3");
    line("add.u64 %t5, %t5, %t6");
    line("ld.global.u64 %t4, [%t5]");
    o_ << "$WHIT:\n";
    line("mov.b64 %tg1, %tg0");
    line("mov.b64 %te1, %te0");
    line("mov.b64 %tg0, %t3");
    line("mov.b64 %te0, %t4");
    line("brx.idx %wret, $WT");
}

// atom.add.f32 at %t1 of the float bits in %w4, old value to %w3, back
// to the instruction through %fret.  PTX's atom.add.f32 flushes
// subnormals: a CAS loop with the ISA's add.  A retry means another
// writer won (a CPU rewriting host memory can win every time): each one
// counts as an atomic towards the stop check.
void Emitter::fadd_block() {
    if (fadds_.empty())
        return;
    o_ << "$FT: .branchtargets " << join(fadds_) << ";\n";
    o_ << "$FADD:\n";
    line("mov.b32 %f1, %w4");
    line("ld.volatile.global.u32 %w3, [%t1]");
    o_ << "$FA:\n";
    line("mov.b32 %f0, %w3");
    line("add.rn.f32 %f2, %f0, %f1");
    line("mov.b32 %w2, %f2");
    line("testp.notanumber.f32 %p0, %f2");
    line("@%p0 mov.b32 %w2, 0x7FC00000");
    line("atom.global.cas.b32 %w5, [%t1], %w3, %w2");
    line("setp.eq.u32 %p0, %w5, %w3");
    line("mov.b32 %w3, %w5");
    line("@%p0 brx.idx %fret, $FT");
    charge(kWeightAtomic, "$FA");
    line("bra $FA");
}

// Warp-collective instructions (kernels that have them).  The interpreter
// runs a warp's threads until none can run (each is parked at a warp-
// collective instruction, at a barrier or has exited), then lets the ones
// parked at the lowest pc execute the instruction together (the group).
// Here every thread of a warp that stops, at a warp-collective
// instruction (%wpc: its index in address order), at a barrier or at its
// exit (%wpc ~0), arrives at this one block: a round starts when every
// live lane of the warp (%wlive) is here, and
//   - lanes that exit leave the warp (and %wlive);
//   - the lanes at the least %wpc are the group: they execute their
//     instruction with M = group & membermask exactly as the interpreter
//     does (vgpu_warp_exec()), with the group as the PTX membermask, and
//     go back to it (%xret);
//   - with no lane at a warp-collective instruction, the barrier's lanes
//     go on to it;
//   - the others wait for the next round, counting towards the stop check.
// PTX's own shfl.sync/vote.sync with the guest's membermask would make a
// thread wait for the lanes named there: for one that exited (or sits at
// a barrier, or at another warp instruction with another mask) it would
// wait for ever, deaf to the stop word.  Here a thread waits only at
// bar.warp.sync of the live lanes, each of which comes here in a bounded
// time (a stop, a fault and an exit come here too); the group's own
// instructions name the group, all of whose lanes run them together.
void Emitter::warp_arrive(const vgpu_dinsn* d, size_t key) {
    if (d && d->op == VGPU_OP_SHFL) {
        line("mov.b64 %wa, " + R(d->ra));
        line("mov.b64 %wb, " + R(d->rb));
        line("mov.b64 %wc, " + R(d->rc));
        line("mov.b64 %we, " + R(d->re));
    } else if (d && d->op == VGPU_OP_VOTE) {
        line("mov.b64 %wa, " + R(d->ra));
        line("mov.b64 %wb, " + R(d->rb));
    }
    if (d) {
        // The kind (0 wsync, 1 activemask, 2 vote, 3 shfl) and the modifier.
        uint32_t kind = d->op == VGPU_OP_SHFL ? 3 : d->op == VGPU_OP_VOTE ? 2 : d->op == VGPU_OP_ACTIVEMASK ? 1 : 0;
        line("mov.u32 %wk, " + std::to_string(kind << 4 | d->mod));
        line("mov.u32 %wpc, " + std::to_string(key));
    } else {
        line("mov.u32 %wpc, 0xFFFFFFFF");
    }
    line("mov.u32 %xret, " + std::to_string(wrets_.size()));
    line("bra $WARP");
    wrets_.push_back("$WR" + std::to_string(wrets_.size()));
    o_ << wrets_.back() << ":\n";
}

void Emitter::warp_block() {
    o_ << "$XT: .branchtargets " << join(wrets_) << ";\n";
    o_ << "$WARP:\n";
    o_ << "$WROUND:\n";
    line("bar.warp.sync %wlive");
    line("add.u32 %wrnd, %wrnd, 1");
    line("vote.sync.ballot.b32 %wy0, %wx, %wlive");  // leaving
    line("setp.ne.u32 %wq0, %wpc, 0xFFFFFFFF");
    line("vote.sync.ballot.b32 %wy1, %wq0, %wlive");  // at warp-collective instructions
    // The group: of those, the lanes at the least index.
    if (sm_ >= 80) {
        line("redux.sync.min.u32 %wy2, %wpc, %wlive");
        line("setp.eq.u32 %wq0, %wpc, %wy2");
        line("vote.sync.ballot.b32 %wgrp, %wq0, %wlive");
        line("and.b32 %wgrp, %wgrp, %wy1");
    } else {  // bit by bit from the top (indices < kMaxInsns)
        static_assert(kMaxInsns <= 1 << 12);
        line("mov.b32 %wgrp, %wy1");
        for (int bit = 11; bit >= 0; bit--) {
            line("and.b32 %wy2, %wpc, " + std::to_string(1u << bit));
            line("setp.eq.u32 %wq0, %wy2, 0");
            line("vote.sync.ballot.b32 %wy2, %wq0, %wlive");
            line("and.b32 %wy2, %wy2, %wgrp");
            line("setp.ne.u32 %wq0, %wy2, 0");
            line("@%wq0 mov.b32 %wgrp, %wy2");
        }
    }
    line("not.b32 %wy0, %wy0");
    line("and.b32 %wlive, %wlive, %wy0");
    line("@%wx bra $WRET");  // to $WEXIT
    line("setp.eq.u32 %wq0, %wy1, 0");
    line("@%wq0 bra $WRET");  // no group: on to the barrier
    line("shr.b32 %wy2, %wgrp, %wln");
    line("and.b32 %wy2, %wy2, 1");
    line("setp.eq.u32 %wq0, %wy2, 0");
    line("@%wq0 bra $WWAIT");
    // The group (one instruction: its kind branches alike in every lane).
    line("shr.u32 %wy2, %wk, 4");
    line("setp.eq.u32 %wq0, %wy2, 3");
    line("@%wq0 bra $WSHFL");
    line("setp.eq.u32 %wq0, %wy2, 2");
    line("@%wq0 bra $WVOTE");
    line("cvt.u64.u32 %wr, %wgrp");  // activemask (wsync: nothing)
    line("bra $WRET");
    // vote: M = group & membermask, P = the group's lanes whose ra != 0.
    o_ << "$WVOTE:\n";
    line("setp.ne.u64 %wq0, %wa, 0");
    line("vote.sync.ballot.b32 %wy2, %wq0, %wgrp");
    line("cvt.u32.u64 %wy3, %wb");
    line("and.b32 %wy3, %wy3, %wgrp");
    line("and.b32 %wy4, %wy3, %wy2");  // M & P: ballot
    line("and.b32 %wy5, %wk, 3");
    line("setp.eq.u32 %wq0, %wy4, %wy3");
    line("selp.u32 %wy6, 1, 0, %wq0");  // all
    line("setp.ne.u32 %wq1, %wy4, 0");
    line("selp.u32 %wy7, 1, 0, %wq1");  // any
    line("setp.eq.u32 %wq2, %wy5, " + std::to_string(VGPU_VOTE_ANY));
    line("@%wq2 mov.b32 %wy6, %wy7");
    line("not.pred %wq1, %wq1");
    line("or.pred %wq1, %wq1, %wq0");
    line("selp.u32 %wy7, 1, 0, %wq1");  // uni: none or all of M
    line("setp.eq.u32 %wq2, %wy5, " + std::to_string(VGPU_VOTE_UNI));
    line("@%wq2 mov.b32 %wy6, %wy7");
    line("setp.eq.u32 %wq2, %wy5, " + std::to_string(VGPU_VOTE_BALLOT));
    line("@%wq2 mov.b32 %wy6, %wy4");
    line("cvt.u64.u32 %wr, %wy6");
    line("bra $WRET");
    // shfl: PTX's source lane j and pval (vgpu_shfl_src()), then ra of
    // lane j if j is in M = group & membermask, 0 if it is not, the
    // lane's own ra if not pval.
    o_ << "$WSHFL:\n";
    line("cvt.u32.u64 %wy2, %wb");
    line("and.b32 %wy2, %wy2, 31");  // bval
    line("cvt.u32.u64 %wy3, %wc");
    line("shr.u32 %wy4, %wy3, 8");
    line("and.b32 %wy4, %wy4, 31");  // segmask
    line("and.b32 %wy3, %wy3, 31");  // cval
    line("not.b32 %wy5, %wy4");
    line("and.b32 %wy3, %wy3, %wy5");
    line("and.b32 %wy6, %wln, %wy4");  // minLane
    line("or.b32 %wy3, %wy3, %wy6");   // maxLane
    line("and.b32 %wy7, %wy2, %wy5");
    line("or.b32 %wy7, %wy7, %wy6");  // j of .idx
    line("and.b32 %wy5, %wk, 3");
    line("sub.s32 %wy6, %wln, %wy2");
    line("setp.eq.u32 %wq0, %wy5, " + std::to_string(VGPU_SHFL_UP));
    line("@%wq0 mov.b32 %wy7, %wy6");
    line("add.s32 %wy6, %wln, %wy2");
    line("setp.eq.u32 %wq1, %wy5, " + std::to_string(VGPU_SHFL_DOWN));
    line("@%wq1 mov.b32 %wy7, %wy6");
    line("xor.b32 %wy6, %wln, %wy2");
    line("setp.eq.u32 %wq1, %wy5, " + std::to_string(VGPU_SHFL_BFLY));
    line("@%wq1 mov.b32 %wy7, %wy6");
    line("setp.le.s32 %wq1, %wy7, %wy3");
    line("setp.ge.s32 %wq2, %wy7, %wy3");
    line("@%wq0 mov.pred %wq1, %wq2");  // pval: .up j >= maxLane, else j <= maxLane
    line("@!%wq1 mov.b32 %wy7, %wln");
    line("mov.b64 {%wy2, %wy3}, %wa");
    line("shfl.sync.idx.b32 %wy2, %wy2, %wy7, 31, %wgrp");
    line("shfl.sync.idx.b32 %wy3, %wy3, %wy7, 31, %wgrp");
    line("mov.b64 %wr, {%wy2, %wy3}");
    line("cvt.u32.u64 %wy4, %we");
    line("and.b32 %wy4, %wy4, %wgrp");
    line("shr.b32 %wy4, %wy4, %wy7");
    line("and.b32 %wy4, %wy4, 1");
    line("setp.eq.u32 %wq0, %wy4, 0");
    line("@%wq0 mov.b64 %wr, 0");  // in range, not in M: 0, as the GPU gives
    line("@!%wq1 mov.b64 %wr, %wa");  // out of range: its own
    line("and.b32 %wy4, %wk, " + std::to_string(VGPU_SHFL_PRED));
    line("setp.ne.u32 %wq0, %wy4, 0");
    line("@%wq0 selp.u64 %wr, 1, 0, %wq1");
    // One indirect branch: each costs ptxas as much as its targets.
    o_ << "$WRET:\n";
    line("brx.idx %xret, $XT");
    o_ << "$WWAIT:\n";
    charge(1, "$WROUND");
    line("bra $WROUND");
}

// %t0 = ra + imm, checked against the block's shared memory; %t1 = address.
void Emitter::shared(int ra, int32_t imm, int size) {
    // In bounds: off < shared_size - size + 1 (%sl1..%sl8 from the prologue).
    line("add.u64 %t0, " + R(ra) + ", " + std::to_string(imm));
    line("and.b64 %t2, %t0, " + std::to_string(size - 1));
    line("setp.ne.u64 %p0, %t2, 0");
    const char* limit = size == 1 ? "%sl1" : size == 2 ? "%sl2" : size == 4 ? "%sl4" : "%sl8";
    line(std::string("setp.ge.or.u64 %p0, %t0, ") + limit + ", %p0");
    line("@%p0 bra $SHF");
    line("add.u64 %t1, %sb, %t0");
}

// Loads and stores of every width: global ones through the page walk,
// shared ones bounds-checked; PTX extends a narrow load into the 64-bit
// register as the interpreter does (.s: sign, .u: zero).
void Emitter::memory(const vgpu_dinsn& d) {
    static const std::map<uint32_t, std::pair<const char*, int>> kType = {
        {VGPU_OP_LD_U8, {"u8", 1}},   {VGPU_OP_LD_S8, {"s8", 1}},   {VGPU_OP_LD_U16, {"u16", 2}},
        {VGPU_OP_LD_S16, {"s16", 2}}, {VGPU_OP_LD_U32, {"u32", 4}}, {VGPU_OP_LD_S32, {"s32", 4}},
        {VGPU_OP_LD_U64, {"u64", 8}}, {VGPU_OP_ST_U8, {"u8", 1}},   {VGPU_OP_ST_U16, {"u16", 2}},
        {VGPU_OP_ST_U32, {"u32", 4}}, {VGPU_OP_ST_U64, {"u64", 8}}, {VGPU_OP_LDS_U8, {"u8", 1}},
        {VGPU_OP_LDS_S8, {"s8", 1}},  {VGPU_OP_LDS_U16, {"u16", 2}}, {VGPU_OP_LDS_S16, {"s16", 2}},
        {VGPU_OP_LDS_U32, {"u32", 4}}, {VGPU_OP_LDS_S32, {"s32", 4}}, {VGPU_OP_LDS_U64, {"u64", 8}},
        {VGPU_OP_STS_U8, {"u8", 1}},  {VGPU_OP_STS_U16, {"u16", 2}}, {VGPU_OP_STS_U32, {"u32", 4}},
        {VGPU_OP_STS_U64, {"u64", 8}},
    };
    auto [type, size] = kType.at(d.op);
    bool load = d.fmt == VGPU_FMT_LD;
    std::string space = d.flags & VGPU_OPF_SHARED ? "shared." : "global.";
    if (d.flags & VGPU_OPF_SHARED)
        shared(d.ra, d.imm, size);
    else
        global(d.ra, d.imm, size, load ? VGPU_PTE_R : VGPU_PTE_W);
    if (load)
        line("ld." + space + type + " " + R(d.rd) + ", [%t1]");
    else
        line("st." + space + type + " [%t1], " + R(d.rb));
}

// IEEE add in a compare-and-swap loop (PTX's atom.add.f32 flushes
// subnormals; its NaNs are not the interpreter's): old value in %x2, the
// operand in %x1, address %t1.  A retry counts towards the stop checks.
void Emitter::cas_add(const vgpu_atom_info& a, const std::string& space) {
    bool f32 = a.size == 4;
    std::string n = std::to_string(cas_loops_++), loop = "$CL" + n, done = "$CD" + n;
    std::string b = f32 ? "32" : "64";
    line("ld.volatile." + space + ".u" + b + " %x2, [%t1]");
    o_ << loop << ":\n";
    if (f32) {
        line("cvt.u32.u64 %v0, %x2");
        line("mov.b32 %g0, %v0");
        line("cvt.u32.u64 %v1, %x1");
        line("mov.b32 %g1, %v1");
        line("add.rn.f32 %g2, %g0, %g1");
        line("mov.b32 %v2, %g2");
        line("testp.notanumber.f32 %q0, %g2");
        line("@%q0 mov.b32 %v2, 0x7FC00000");
        line("atom." + space + ".cas.b32 %v3, [%t1], %v0, %v2");
        line("cvt.u64.u32 %x0, %v3");
    } else {
        line("mov.b64 %d0, %x2");
        line("mov.b64 %d1, %x1");
        line("add.rn.f64 %d2, %d0, %d1");
        line("mov.b64 %x0, %d2");
        line("testp.notanumber.f64 %q0, %d2");
        line("@%q0 mov.b64 %x0, 0x7FF8000000000000");
        line("atom." + space + ".cas.b64 %x0, [%t1], %x2, %x0");
    }
    line("setp.eq.u64 %q1, %x0, %x2");
    line("mov.b64 %x2, %x0");
    line("@%q1 bra " + done);
    charge(kWeightAtomic, loop);
    line("bra " + loop);
    o_ << done << ":\n";
}

// Atomics of every operation and type, on global memory through the page
// walk or on the block's shared memory.  32-bit ones use bits 31:0 of the
// registers; rd gets the old value, sign-extended for .s32.
void Emitter::atomic(const vgpu_dinsn& d) {
    static const char* const kOp[] = {"add", "min", "max", "and", "or", "xor", "exch", "cas", "inc", "dec", "add"};
    vgpu_atom_info a = vgpu_atom_of(d.op);
    bool shared_space = d.flags & VGPU_OPF_SHARED;
    std::string space = shared_space ? "shared" : "global", D = R(d.rd);
    if (shared_space)
        shared(d.ra, d.imm, a.size);
    else
        global(d.ra, d.imm, a.size, VGPU_PTE_R | VGPU_PTE_W);
    if (a.kind == VGPU_ATOM_FADD && a.size == 4 && !shared_space) {
        // One copy of the global loop per kernel (fadd_block()), as the walk.
        line("cvt.u32.u64 %w4, " + R(d.rb));
        line("mov.u32 %fret, " + std::to_string(fadds_.size()));
        line("bra $FADD");
        fadds_.push_back("$FR" + std::to_string(fadds_.size()));
        o_ << fadds_.back() << ":\n";
        line("cvt.u64.u32 " + D + ", %w3");
        return;
    }
    if (a.kind == VGPU_ATOM_FADD) {
        line("mov.b64 %x1, " + R(d.rb));
        cas_add(a, space);
        line("mov.b64 " + D + ", %x2");
        return;
    }
    std::string type = a.kind == VGPU_ATOM_MIN || a.kind == VGPU_ATOM_MAX
                           ? std::string(a.sign ? "s" : "u") + (a.size == 4 ? "32" : "64")
                       : a.kind == VGPU_ATOM_ADD || a.kind == VGPU_ATOM_INC || a.kind == VGPU_ATOM_DEC
                           ? (a.size == 4 ? "u32" : "u64")
                           : (a.size == 4 ? "b32" : "b64");
    std::string ins = "atom." + space + "." + kOp[a.kind] + "." + type;
    if (a.size == 8) {
        if (a.kind == VGPU_ATOM_CAS)
            line(ins + " " + D + ", [%t1], " + D + ", " + R(d.rb));
        else
            line(ins + " " + D + ", [%t1], " + R(d.rb));
        return;
    }
    line("cvt.u32.u64 %w0, " + R(d.rb));
    if (a.kind == VGPU_ATOM_CAS) {
        line("cvt.u32.u64 %w1, " + D);
        line(ins + " %w2, [%t1], %w1, %w0");
    } else {
        line(ins + " %w2, [%t1], %w0");
    }
    line(std::string(a.sign ? "cvt.s64.s32 " : "cvt.u64.u32 ") + D + ", %w2");
}

void Emitter::insn(uint64_t pc, uint64_t w) {
    uint32_t op = vgpu_insn_op(w);
    int d = vgpu_insn_rd(w), a = vgpu_insn_ra(w), b = vgpu_insn_rb(w);
    int32_t imm = vgpu_insn_imm(w);
    std::string D = R(d), A = R(a), B = R(b), I = std::to_string(imm);
    auto rrr = [&](const char* o) { line(std::string(o) + " " + D + ", " + A + ", " + B); };
    auto rri = [&](const char* o) { line(std::string(o) + " " + D + ", " + A + ", " + I); };
    auto set = [&](const char* cmp, const std::string& rhs) {
        line(std::string("setp.") + cmp + " %p1, " + A + ", " + rhs);
        line("selp.u64 " + D + ", 1, 0, %p1");
    };
    auto shamt = [&]() {
        line("cvt.u32.u64 %w0, " + B);
        line("and.b32 %w0, %w0, 63");
    };
    vgpu_dinsn di = decode(w);
    if (di.flags & VGPU_OPF_ATOMIC) {
        atomic(di);
        op = VGPU_OP_NOP;  // done: fall through to the next instruction
    } else if (di.flags & (VGPU_OPF_GLOBAL | VGPU_OPF_SHARED)) {
        memory(di);
        op = VGPU_OP_NOP;
    } else if (emit_alu(di, [this](const std::string& s) { line(s); })) {
        op = VGPU_OP_NOP;
    }
    switch (op) {
    case VGPU_OP_NOP: break;
    case VGPU_OP_FENCE: line("fence.sc.gpu"); break;  // orders this thread's accesses for the GPU
    case VGPU_OP_EXIT: line("bra $EXIT"); return;
    case VGPU_OP_WSYNC:
    case VGPU_OP_SHFL:
    case VGPU_OP_VOTE:
    case VGPU_OP_ACTIVEMASK:
        warp_arrive(&di, idx_.at(pc));
        if (op != VGPU_OP_WSYNC)
            line("mov.b64 " + D + ", %wr");
        break;
    case VGPU_OP_BAR: {  // through the one barrier instruction (epilogue())
        if (p_.has_warp)
            warp_arrive(nullptr, 0);  // with the whole warp
        std::string ret = "$BR" + std::to_string(bars_.size());
        line("mov.u32 %bret, " + std::to_string(bars_.size()));
        bars_.push_back(ret);
        line("mov.pred %pB, %pT");
        line("bra $BAR");
        o_ << ret << ":\n";
        line("add.u32 %ph, %ph, 1");
        break;
    }
    case VGPU_OP_BRA: branch(pc, target(pc, w), nullptr); return;
    case VGPU_OP_BZ:
    case VGPU_OP_BNZ:
        line("setp." + std::string(op == VGPU_OP_BZ ? "eq" : "ne") + ".u64 %p1, " + A + ", 0");
        branch(pc, target(pc, w), "%p1");
        break;
    case VGPU_OP_MOV: line("mov.b64 " + D + ", " + A); break;
    case VGPU_OP_LI: line("mov.b64 " + D + ", " + I); break;
    case VGPU_OP_LIH:
        line("and.b64 " + D + ", " + D + ", 0xFFFFFFFF");
        line("or.b64 " + D + ", " + D + ", " + hex(static_cast<uint64_t>(static_cast<uint32_t>(imm)) << 32));
        break;
    case VGPU_OP_S2R:  // %clock64: the SM's own clock (sim-isa.rst: scales differ)
        line(imm == VGPU_SR_CLOCK64 ? "mov.u64 " + D + ", %clock64" : "mov.b64 " + D + ", %s" + I);
        break;
    case VGPU_OP_LDP: line("ld.param.u64 " + D + ", [p" + I + "]"); break;
    case VGPU_OP_ADD: rrr("add.u64"); break;
    case VGPU_OP_SUB: rrr("sub.u64"); break;
    case VGPU_OP_MUL: rrr("mul.lo.u64"); break;
    case VGPU_OP_DIVU:  // x / 0 = all ones
        line("setp.eq.u64 %p1, " + B + ", 0");
        line("@!%p1 div.u64 %t0, " + A + ", " + B);
        line("@%p1 mov.b64 %t0, -1");
        line("mov.b64 " + D + ", %t0");
        break;
    case VGPU_OP_REMU:  // x % 0 = x
        line("setp.eq.u64 %p1, " + B + ", 0");
        line("@!%p1 rem.u64 %t0, " + A + ", " + B);
        line("@%p1 mov.b64 %t0, " + A);
        line("mov.b64 " + D + ", %t0");
        break;
    case VGPU_OP_DIV:  // x / 0 = -1, MIN / -1 = MIN
    case VGPU_OP_REM:  // x % 0 = x, MIN % -1 = 0
        line("setp.eq.u64 %p1, " + B + ", 0");
        line("setp.eq.u64 %p2, " + B + ", -1");
        line("setp.eq.and.u64 %p2, " + A + ", 0x8000000000000000, %p2");
        line("or.pred %p0, %p1, %p2");
        if (op == VGPU_OP_DIV) {
            line("@!%p0 div.s64 %t0, " + A + ", " + B);
            line("@%p1 mov.b64 %t0, -1");
            line("@%p2 mov.b64 %t0, " + A);
        } else {
            line("@!%p0 rem.s64 %t0, " + A + ", " + B);
            line("@%p1 mov.b64 %t0, " + A);
            line("@%p2 mov.b64 %t0, 0");
        }
        line("mov.b64 " + D + ", %t0");
        break;
    case VGPU_OP_AND: rrr("and.b64"); break;
    case VGPU_OP_OR: rrr("or.b64"); break;
    case VGPU_OP_XOR: rrr("xor.b64"); break;
    case VGPU_OP_SHL: shamt(); line("shl.b64 " + D + ", " + A + ", %w0"); break;
    case VGPU_OP_SHR: shamt(); line("shr.u64 " + D + ", " + A + ", %w0"); break;
    case VGPU_OP_SAR: shamt(); line("shr.s64 " + D + ", " + A + ", %w0"); break;
    case VGPU_OP_MIN: rrr("min.s64"); break;
    case VGPU_OP_MAX: rrr("max.s64"); break;
    case VGPU_OP_MINU: rrr("min.u64"); break;
    case VGPU_OP_MAXU: rrr("max.u64"); break;
    case VGPU_OP_ADDI: rri("add.u64"); break;
    case VGPU_OP_MULI: rri("mul.lo.u64"); break;
    case VGPU_OP_ANDI: rri("and.b64"); break;
    case VGPU_OP_ORI: rri("or.b64"); break;
    case VGPU_OP_XORI: rri("xor.b64"); break;
    case VGPU_OP_SHLI: line("shl.b64 " + D + ", " + A + ", " + std::to_string(imm & 63)); break;
    case VGPU_OP_SHRI: line("shr.u64 " + D + ", " + A + ", " + std::to_string(imm & 63)); break;
    case VGPU_OP_SARI: line("shr.s64 " + D + ", " + A + ", " + std::to_string(imm & 63)); break;
    case VGPU_OP_SEQ: set("eq.u64", B); break;
    case VGPU_OP_SNE: set("ne.u64", B); break;
    case VGPU_OP_SLT: set("lt.s64", B); break;
    case VGPU_OP_SLE: set("le.s64", B); break;
    case VGPU_OP_SLTU: set("lt.u64", B); break;
    case VGPU_OP_SLEU: set("le.u64", B); break;
    case VGPU_OP_SLTI: set("lt.s64", I); break;
    case VGPU_OP_SLTUI: set("lt.u64", hex(static_cast<uint64_t>(static_cast<int64_t>(imm)))); break;
    default:  // every instruction is handled above or here
        break;
    }
    // Fall through to the next instruction in memory.
    uint64_t next = pc + VGPU_INSN_SIZE;
    auto it = p_.insns.find(pc);
    if (std::next(it) == p_.insns.end() || std::next(it)->first != next)
        line("bra " + L(next));
}

// Registers an instruction reads and writes (bit i: r<i>), from its
// format in the instruction table.
void uses_defs(uint64_t w, uint32_t* use, uint32_t* def) {
    vgpu_dinsn di = decode(w);
    uint32_t d = 1u << di.rd, a = 1u << di.ra, b = 1u << di.rb, c = 1u << di.rc, e = 1u << di.re;
    *use = *def = 0;
    switch (di.fmt) {
    case VGPU_FMT_NONE: case VGPU_FMT_BR: break;
    case VGPU_FMT_R: *def = d; break;
    case VGPU_FMT_BRC: *use = a; break;
    case VGPU_FMT_RI: case VGPU_FMT_RS: *def = d; break;
    case VGPU_FMT_RR: case VGPU_FMT_RRI: case VGPU_FMT_LD: *use = a; *def = d; break;
    case VGPU_FMT_ST: *use = a | b; break;
    case VGPU_FMT_RRR: case VGPU_FMT_ATOM: *use = a | b; *def = d; break;
    case VGPU_FMT_RRRR: *use = a | b | c; *def = d; break;
    case VGPU_FMT_RRRRR: *use = a | b | c | e; *def = d; break;
    }
    if (di.flags & VGPU_OPF_RD_IN)
        *use |= d;
}

// Backward dataflow over the reached code: live_[pc] = registers read
// before written on some path from pc.
void Emitter::liveness() {
    bool changed = true;
    while (changed) {
        changed = false;
        for (auto it = p_.insns.rbegin(); it != p_.insns.rend(); ++it) {
            uint64_t pc = it->first;
            const Fetch& f = it->second;
            uint32_t out = 0, use = 0, def = 0;
            if (!f.fault && !illegal(f.word)) {
                uint32_t op = vgpu_insn_op(f.word);
                auto in_of = [&](uint64_t to) {
                    auto l = live_.find(to);
                    return l == live_.end() ? 0u : l->second;
                };
                if (op == VGPU_OP_BRA || op == VGPU_OP_BZ || op == VGPU_OP_BNZ)
                    out |= in_of(target(pc, f.word));
                if (op != VGPU_OP_BRA && op != VGPU_OP_EXIT)
                    out |= in_of(pc + VGPU_INSN_SIZE);
                uses_defs(f.word, &use, &def);
            }
            uint32_t in = use | (out & ~def);
            if (live_[pc] != in) {
                live_[pc] = in;
                changed = true;
            }
        }
    }
}

std::string Emitter::run() {
    liveness();
    prologue();
    for (auto& [pc, f] : p_.insns) {
        o_ << L(pc) << ":\n";
        size_t k = idx_.at(pc);
        if (ckpt_.count(k)) {  // the start of a window: count the one before
            std::string cont = "$K" + std::to_string(k);
            charge(window_weight(k - 1), cont);
            o_ << cont << ":\n";
        }
        if (f.fault)
            fault_now(f.fault, pc);
        else if (illegal(f.word))
            fault_now(VGPU_FAULT_ILLEGAL, pc);
        else
            insn(pc, f.word);
    }
    epilogue();
    return o_.str();
}

}  // namespace

std::string Program::key() const {
    std::string k(reinterpret_cast<const char*>(&entry), sizeof(entry));
    for (auto& [pc, f] : insns) {
        k.append(reinterpret_cast<const char*>(&pc), sizeof(pc));
        k.append(reinterpret_cast<const char*>(&f.word), sizeof(f.word));
        k.append(reinterpret_cast<const char*>(&f.fault), sizeof(f.fault));
    }
    return k;
}

uint32_t jit_cost(uint64_t pc, uint64_t w, bool resumable) {
    uint32_t op = vgpu_insn_op(w);
    if (illegal(w))
        return 1;
    switch (op) {
    case VGPU_OP_BRA: case VGPU_OP_BZ: case VGPU_OP_BNZ:
        if (target(pc, w) > pc)
            return 3;  // a stub where it crosses a window
        return resumable ? 160 : 24;  // the check, a save stub, a resume point
    case VGPU_OP_BAR: return 6;
    case VGPU_OP_SHFL: return 10;  // the operands to the warp block, the result back
    case VGPU_OP_VOTE: case VGPU_OP_ACTIVEMASK: case VGPU_OP_WSYNC: return 6;
    case VGPU_OP_DIV: case VGPU_OP_DIVU: case VGPU_OP_REM: case VGPU_OP_REMU: case VGPU_OP_FDIV:
        return 36;  // an emulated 64-bit division, IEEE float division
    case VGPU_OP_DDIV: case VGPU_OP_DSQRT: case VGPU_OP_FSQRT: case VGPU_OP_MULHI:
        return 36;  // IEEE division and square root, 128-bit products: long sequences
    case VGPU_OP_FMIN: case VGPU_OP_FMAX: case VGPU_OP_DMIN: case VGPU_OP_DMAX: return 9;
    case VGPU_OP_FADD: case VGPU_OP_FSUB: case VGPU_OP_FMUL: case VGPU_OP_FMAD:
    case VGPU_OP_FSEQ: case VGPU_OP_FSLT: case VGPU_OP_FSLE: case VGPU_OP_FSNAN:
    case VGPU_OP_FFMA: case VGPU_OP_FRND:
    case VGPU_OP_DADD: case VGPU_OP_DSUB: case VGPU_OP_DMUL: case VGPU_OP_DFMA: case VGPU_OP_DRND:
    case VGPU_OP_DSEQ: case VGPU_OP_DSLT: case VGPU_OP_DSLE: case VGPU_OP_DSNAN:
    case VGPU_OP_F2D: case VGPU_OP_D2F: case VGPU_OP_PRMT: case VGPU_OP_BREV:
        return 4;
    case VGPU_OP_BFE: case VGPU_OP_BFEU: case VGPU_OP_BFI:  // 64-bit ones are emulated
        return decode(w).mod ? 4 : 16;
    case VGPU_OP_MULHIU:
        return 12;
    case VGPU_OP_I2F: case VGPU_OP_U2F: case VGPU_OP_I2D: case VGPU_OP_U2D:
        return 3;
    case VGPU_OP_F2I: case VGPU_OP_F2U: case VGPU_OP_D2I: case VGPU_OP_D2U:  // narrow: clamps
        return decode(w).mod >> 2 ? 8 : 3;
    case VGPU_OP_ATOM_FADD: return 48;  // the shared CAS loop's site
    case VGPU_OP_ATOM_DADD: case VGPU_OP_ATOMS_FADD: case VGPU_OP_ATOMS_DADD:
        return 64;  // an inline CAS loop
    default:
        return insn_weight(w) > 1 ? 32 : 1;  // global accesses and atomics: 32
    }
}

Program discover(uint64_t entry, const Fetcher& fetch) {
    Program p;
    std::deque<uint64_t> work{entry};
    p.entry = entry;
    size_t mem = 0;
    while (!work.empty()) {
        uint64_t pc = work.front();
        work.pop_front();
        if (p.insns.count(pc))
            continue;
        if (p.insns.size() >= kMaxInsns) {
            p.too_large = true;
            p.bound = Program::Bound::Insns;
            break;
        }
        Fetch f = pc >= VGPU_VA_SIZE ? Fetch{0, VGPU_FAULT_UNMAPPED} : fetch(pc);
        p.insns[pc] = f;
        if (f.fault || illegal(f.word))
            continue;
        uint32_t op = vgpu_insn_op(f.word);
        if (insn_weight(f.word) > 1 && ++mem > kMaxMemInsns) {
            p.too_large = true;
            p.bound = Program::Bound::MemInsns;
            break;
        }
        if (op == VGPU_OP_EXIT)
            continue;
        if (op == VGPU_OP_BAR)
            p.has_barrier = true;
        if (decode(f.word).flags & VGPU_OPF_WARP)
            p.has_warp = true;
        if (op == VGPU_OP_BRA || op == VGPU_OP_BZ || op == VGPU_OP_BNZ)
            work.push_back(target(pc, f.word));
        if (op != VGPU_OP_BRA)
            work.push_back(pc + VGPU_INSN_SIZE);
    }
    // The JIT's cost, once whether the kernel is resumable is known.
    uint64_t cost = p.has_warp ? kWarpBlockCost : 0;
    for (auto& [pc, f] : p.insns)
        cost += f.fault ? 1 : jit_cost(pc, f.word, p.resumable());
    p.jit_cost = static_cast<uint32_t>(std::min<uint64_t>(cost, UINT32_MAX));
    if (cost > kMaxJitCost && !p.too_large) {
        p.too_large = true;
        p.bound = Program::Bound::JitCost;
    }
    return p;
}

std::string too_large_why(const Program& p) {
    switch (p.bound) {
    case Program::Bound::Insns: return "more than " + std::to_string(kMaxInsns) + " instructions";
    case Program::Bound::MemInsns:
        return "more than " + std::to_string(kMaxMemInsns) + " global accesses and atomics";
    case Program::Bound::JitCost:
        return "JIT cost " + std::to_string(p.jit_cost) + ", more than " + std::to_string(kMaxJitCost);
    case Program::Bound::None: break;
    }
    return {};
}

std::string translate(const Program& p, int sm) {
    return Emitter(p, sm).run();
}

}  // namespace vgpu::engine
