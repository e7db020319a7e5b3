// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// selftest_ptx.cpp - the self-test's launches that name their PTX
// (DRM_VGPU_LAUNCH_PTX): every engine computes what the interpreter
// computes from the ISA; a worker of the GPU back end runs the PTX
// itself, at the context's addresses (noted, not compared: the
// reference runs the ISA).  A kernel that faults on the GPU ends its
// worker, and the context's next launch runs in a new one.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "cuda_native.hpp"
#include "router.hpp"
#include "selftest_cases.hpp"

namespace vgpu::engine {
namespace {

constexpr uint32_t R = VGPU_PTE_R, W = VGPU_PTE_W, X = VGPU_PTE_X;
constexpr uint64_t kMiB = 1 << 20;
// Inside the GPU workers' window (kSelfTestVaStart), whole 2 MiB pieces.
constexpr uint64_t kBase = kSelfTestVaStart, kA = kBase + 2 * kMiB, kB = kBase + 4 * kMiB,
                   kC = kBase + 6 * kMiB, kMark = kBase + 8 * kMiB, kDesc = kBase + 10 * kMiB,
                   kText = kBase + 12 * kMiB;

const char* kIsa = R"(
.kernel k
    s2r r1, %ctaid.x
    s2r r2, %ntid.x
    mul r1, r1, r2
    s2r r3, %tid.x
    add r1, r1, r3
    shli r4, r1, 2
    ldp r5, 0
    add r5, r5, r4
    ld.u32 r6, [r5]
    ldp r7, 1
    add r7, r7, r4
    ld.u32 r8, [r7]
    fadd r9, r6, r8
    ldp r10, 2
    add r10, r10, r4
    st.u32 [r10], r9
    exit
)";

const char* kIsaStore = R"(
.kernel k
    ldp r1, 0
    st.u32 [r1], r1
    exit
)";

// Waits for ever for a word that stays zero.
const char* kIsaSpin = R"(
.kernel k
    ldp r1, 0
loop:
    ld.u32 r2, [r1]
    bz r2, loop
    exit
)";

const char* kIsaEnds = R"(
.kernel k
    ldp r1, 0
    ldp r2, 1
    li r3, 7
    st.u32 [r1], r3
    st.u32 [r2], r3
    exit
)";

// The same kernels as the guest's compiler would have written them; vadd
// also marks that it ran (word 0 of its last parameter).
const char* kPtx = R"(.version 7.0
.target sm_70
.address_size 64
.visible .entry vadd(.param .u64 a, .param .u64 b, .param .u64 c, .param .u32 n, .param .u64 mark)
{
    .reg .pred %p<3>;
    .reg .b32 %r<8>;
    .reg .f32 %f<4>;
    .reg .b64 %rd<12>;
    ld.param.u64 %rd1, [a];
    ld.param.u64 %rd2, [b];
    ld.param.u64 %rd3, [c];
    ld.param.u32 %r1, [n];
    ld.param.u64 %rd10, [mark];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %ntid.x;
    mov.u32 %r4, %tid.x;
    mad.lo.s32 %r5, %r2, %r3, %r4;
    setp.ge.u32 %p1, %r5, %r1;
    @%p1 bra DONE;
    mul.wide.u32 %rd4, %r5, 4;
    add.s64 %rd5, %rd1, %rd4;
    add.s64 %rd6, %rd2, %rd4;
    add.s64 %rd7, %rd3, %rd4;
    ld.global.f32 %f1, [%rd5];
    ld.global.f32 %f2, [%rd6];
    add.rn.f32 %f3, %f1, %f2;
    st.global.f32 [%rd7], %f3;
    setp.ne.u32 %p2, %r5, 0;
    @%p2 bra DONE;
    mov.u32 %r6, 1;
    st.global.u32 [%rd10], %r6;
DONE:
    ret;
}
.visible .entry store(.param .u64 p)
{
    .reg .b64 %rd<2>;
    ld.param.u64 %rd1, [p];
    st.global.u32 [%rd1], 7;
    ret;
}
.visible .entry spin(.param .u64 p)
{
    .reg .pred %p<2>;
    .reg .b32 %r<2>;
    .reg .b64 %rd<2>;
    ld.param.u64 %rd1, [p];
LOOP:
    ld.volatile.global.u32 %r1, [%rd1];
    setp.eq.u32 %p1, %r1, 0;
    @%p1 bra LOOP;
    ret;
}
.visible .entry ends(.param .u64 a, .param .u64 b)
{
    .reg .b64 %rd<3>;
    ld.param.u64 %rd1, [a];
    ld.param.u64 %rd2, [b];
    st.global.u32 [%rd1], 7;
    st.global.u32 [%rd2], 7;
    ret;
}
)";

template <typename T>
void put(std::vector<uint8_t>& v, T x) {
    const auto* p = reinterpret_cast<const uint8_t*>(&x);
    v.insert(v.end(), p, p + sizeof(x));
}

// The launch of @isa naming @entry of kPtx with @params (and a call
// stack of @stack bytes a thread): the text and the descriptor written
// at kText and kDesc.
drm_vgpu_cmd with_ptx(Session& s, const Session::Launch& isa, const std::string& entry,
                      const std::vector<uint8_t>& params, uint32_t stack = 0) {
    const size_t text_size = std::strlen(kPtx) + 1;
    s.write(kText, kPtx, text_size);
    drm_vgpu_ptx_launch h{};
    h.magic = DRM_VGPU_PTX_MAGIC;
    h.version = DRM_VGPU_PTX_VERSION;
    h.ptx = kText;
    h.ptx_size = text_size;
    h.ptx_hash = ptx_hash(kPtx, text_size);
    h.entry_len = static_cast<uint32_t>(entry.size());
    h.param_size = static_cast<uint32_t>(params.size());
    h.stack_size = stack;
    std::vector<uint8_t> d(sizeof(h));
    std::memcpy(d.data(), &h, sizeof(h));
    d.insert(d.end(), entry.begin(), entry.end());
    d.insert(d.end(), params.begin(), params.end());
    s.write(kDesc, d.data(), d.size());
    drm_vgpu_cmd c = launch_cmd(isa);
    c.flags = DRM_VGPU_LAUNCH_PTX;
    c.dst = kDesc;
    c.size = d.size();
    return c;
}

constexpr uint32_t kN = 256 * 1024;

// The ISA at kBase, kA and kB (@seed's floats), kC, kMark, the
// descriptor's and the text's objects.
void vadd_setup(Session& s, uint32_t seed) {
    s.code(kBase, kIsa);
    s.device(kA, 2 * kMiB, R);
    s.device(kB, 2 * kMiB, R);
    s.device(kC, 2 * kMiB, R | W);
    s.device(kMark, 2 * kMiB, R | W);
    s.device(kDesc, 2 * kMiB, R);
    s.device(kText, 2 * kMiB, R);
    auto a = test_floats(kN, seed), b = test_floats(kN, seed + 1);
    s.write(kA, a.data(), kN * 4);
    s.write(kB, b.data(), kN * 4);
}

// vadd's parameters as its PTX declares them, over @n elements.
std::vector<uint8_t> vadd_params(uint32_t n) {
    std::vector<uint8_t> p;
    put(p, kA);
    put(p, kB);
    put(p, kC);
    put(p, n);
    put(p, uint32_t{0});  // mark: 8-byte aligned
    put(p, kMark);
    return p;
}

// vadd over kA, kB into kC (naming its PTX if @ptx, with a call stack
// of @stack bytes): its status and kC in @d, which code ran and how long
// the launch took in its note.
void vadd(Session& s, Digest& d, const char* name, bool ptx = true, uint32_t stack = 0) {
    const std::vector<uint8_t> p = vadd_params(kN);
    const uint32_t zero = 0;
    s.write(kMark, &zero, 4);
    Session::Launch l{kBase, {kN / 256, 1, 1}, {256, 1, 1}, 0, {kA, kB, kC}};
    drm_vgpu_cmd c = ptx ? with_ptx(s, l, "vadd", p, stack) : launch_cmd(l);
    uint64_t t0 = now_ns();
    d.status(name, s.submit({c}));
    char b[96];
    std::snprintf(b, sizeof(b), " (%.0f us)", (now_ns() - t0) / 1e3);
    d.data(s.read(kC, kN * 4));
    uint32_t mark = 0;
    std::memcpy(&mark, s.read(kMark, 4).data(), 4);
    d.note += std::string(name) + (mark ? ": its PTX ran" : ": its ISA ran") + b + "; ";
}

// Launch latency: 21 launches of one block, its PTX named and not, in
// turn; the medians in the note.
void latency(Session& s, Digest& d) {
    const std::vector<uint8_t> p = vadd_params(256);
    Session::Launch l{kBase, {1, 1, 1}, {256, 1, 1}, 0, {kA, kB, kC}};
    const drm_vgpu_cmd named = with_ptx(s, l, "vadd", p), isa = launch_cmd(l);
    std::vector<uint64_t> t[2];
    for (int i = 0; i < 21; i++)
        for (int k = 0; k < 2; k++) {
            uint64_t t0 = now_ns();
            RunResult r = s.submit({k ? isa : named});
            t[k].push_back(now_ns() - t0);
            if (r.status != RunStatus::Done)
                d.status("latency", r);
        }
    for (auto& v : t)
        std::sort(v.begin(), v.end());
    char b[128];
    std::snprintf(b, sizeof(b), "one block: its PTX named %.0f us, the ISA %.0f us (medians of 21); ", t[0][10] / 1e3,
                  t[1][10] / 1e3);
    d.note += b;
}

Test ptx_vadd_case() {
    return {"guest PTX: runs as itself, same result", [](Session& s) {
        vadd_setup(s, 11);
        Digest d;
        vadd(s, d, "vadd");
        vadd(s, d, "vadd again (compiled once)");
        vadd(s, d, "vadd as the ISA (no PTX named)", false);
        latency(s, d);
        return d;
    }};
}

// A launch naming a call stack of 8 KiB: its ISA runs until the context
// is given one (CTX_STACK, which vgpu-back charges to its client), its
// PTX after, with the stack the driver reserves (a worker of the GPU back
// end; the others give no stack and run the ISA).  Same result each time.
Test ptx_stack_case() {
    return {"guest PTX: the call stack its context was given", [](Session& s) {
        vadd_setup(s, 61);
        Digest d;
        vadd(s, d, "vadd naming 8 KiB of stack, none given", true, 8192);
        const int e = s.backend().ctx_stack(s.ctx(), 8192);
        d.note += e ? std::string("CTX_STACK 8192: ") + std::strerror(e) + "; " : "CTX_STACK 8192 given; ";
        vadd(s, d, "vadd naming 8 KiB, given", true, 8192);
        vadd(s, d, "vadd naming 16 KiB, more than given", true, 16384);
        return d;
    }};
}

// A store to an address the context never mapped: the ISA's faults
// UNMAPPED at it; the PTX's breaks the worker's GPU context (the GPU
// names no address).  Then the same context computes again.
Test ptx_fault_case() {
    return {"guest PTX: a GPU fault ends its worker only", [](Session& s) {
        vadd_setup(s, 21);
        s.code(kBase + 0x1000000, kIsaStore);
        const uint64_t nowhere = kBase + (uint64_t{200} << 30);
        std::vector<uint8_t> p;
        put(p, nowhere);
        Session::Launch l{kBase + 0x1000000, {1, 1, 1}, {1, 1, 1}, 0, {nowhere}};
        RunResult r = s.submit({with_ptx(s, l, "store", p)});
        Digest d;
        // Compared: that it faulted, and how; the address only the ISA knows.
        d.what += "store: status " + std::to_string(static_cast<int>(r.status)) + " fault " +
                  std::to_string(r.fault_kind) + "; ";
        d.bytes += d.what;
        d.note += r.fault_addr ? "store: faulted at its address; " : "store: faulted, no address (the GPU's); ";
        vadd(s, d, "vadd after the fault");
        return d;
    }};
}

// A guest's kernel that never ends, in RUNs as vgpu-back gives them: the
// ISA's is ended by the watchdog; its PTX, which the GPU cannot preempt,
// by the engine process killing its worker at the RUN's budget + the
// watchdog + 100 ms; both in time.  Then the context computes again.
Test ptx_spin_case() {
    return {"guest PTX: a kernel that never ends", [](Session& s) {
        vadd_setup(s, 31);
        s.code(kBase + 0x1000000, kIsaSpin);
        const uint32_t zero = 0;
        s.write(kMark, &zero, 4);
        std::vector<uint8_t> p;
        put(p, kMark);
        Session::Launch l{kBase + 0x1000000, {1, 1, 1}, {1, 1, 1}, 0, {kMark}};
        Digest d;
        watched(s, d, "spin", with_ptx(s, l, "spin", p));
        vadd(s, d, "vadd after the spin");
        return d;
    }};
}

// A large object (256 pieces of a GPU's 2 MiB) at the context's
// addresses: its first and last words written by the guest's kernel.
// How long its allocation and mapping took is noted.
Test ptx_large_case() {
    return {"guest PTX: 512 MiB at its addresses", [](Session& s) {
        const uint64_t va = kBase + (uint64_t{1} << 30), size = 512 * kMiB;
        s.code(kBase, kIsaEnds);
        s.device(kDesc, 2 * kMiB, R);
        s.device(kText, 2 * kMiB, R);
        s.device(va, size, R | W);
        char b[96];
        std::snprintf(b, sizeof(b), "512 MiB allocated in %.1f ms, mapped in %.1f ms; ", s.last_alloc_ns / 1e6,
                      s.last_map_ns / 1e6);
        Digest d;
        d.note += b;
        std::vector<uint8_t> p;
        put(p, va);
        put(p, va + size - 4);
        Session::Launch l{kBase, {1, 1, 1}, {1, 1, 1}, 0, {va, va + size - 4}};
        d.status("ends", s.submit({with_ptx(s, l, "ends", p)}));
        d.data(s.read(va, 4));
        d.data(s.read(va + size - 4, 4));
        return d;
    }};
}

// Grids at CUDA's limits (VGPU_MAX_GRID_DIM_X blocks in x, 65535 in y
// and z, 1024 threads each), as a guest may launch them: every engine
// ends them by its watchdog in time (the ISA's, run by the engine; the
// PTX's, which the GPU runs whole, by killing its worker), and the
// context computes again after each.
Test ptx_grid_limit_case() {
    return {"guest PTX: grids at CUDA's limits", [](Session& s) {
        vadd_setup(s, 51);
        const uint64_t code = kBase + 0x1000000;
        s.code(code, kIsaEnds);
        const uint32_t zero = 0;
        s.write(kMark, &zero, 4);
        s.write(kMark + 4, &zero, 4);
        std::vector<uint8_t> p;
        put(p, kMark);
        put(p, kMark + 4);
        const uint32_t x = VGPU_MAX_GRID_DIM_X, yz = VGPU_MAX_GRID_DIM;
        Session::Launch wide{code, {x, 1, 1}, {1024, 1, 1}, 0, {kMark, kMark + 4}};
        Session::Launch all{code, {x, yz, yz}, {1024, 1, 1}, 0, {kMark, kMark + 4}};
        Digest d;
        // Run whole (no slices: a budget past 100 ms): the watchdog
        // alone ends it.
        uint64_t t0 = now_ns();
        d.status("ISA, 2^31-1 blocks, run whole", s.submit({launch_cmd(wide)}, ~0ull, kWatchdogNs));
        const uint64_t whole = now_ns() - t0;
        d.timing(whole <= kWatchdogNs + kBoundNs);
        char b[96];
        std::snprintf(b, sizeof(b), "run whole: ended %.3f s after its start; ", whole / 1e9);
        d.note += b;
        vadd(s, d, "vadd after it");
        watched(s, d, "ISA, 2^31-1 blocks", launch_cmd(wide));
        vadd(s, d, "vadd after it");
        watched(s, d, "ISA, 2^31-1 x 65535 x 65535 blocks", launch_cmd(all));
        vadd(s, d, "vadd after it");
        watched(s, d, "PTX, 2^31-1 x 65535 x 65535 blocks", with_ptx(s, all, "ends", p));
        vadd(s, d, "vadd after it");
        return d;
    }};
}

// Issue 19's isolation, on one engine (one Router: the workers of two
// contexts): a hostile context's own kernels store to and load from the
// victim's addresses (mapped in the victim's context only), spin, and
// fault 8 times in a row, each act followed by the victim's vadd, whose
// result must be what it is alone.  Each hostile act is reported to the
// hostile context (compared: its status and fault kind); the victim's
// launches all end DONE with the same bytes.  The victim's launch times
// alone and after each act are noted.
Test ptx_isolation_case() {
    return {"guest PTX: a hostile context beside", [](Session& victim) {
        vadd_setup(victim, 41);
        Digest d;
        vadd(victim, d, "victim alone");
        Session hostile(victim.backend());
        const uint64_t code = kBase + 0x1000000;
        hostile.code(code, kIsaStore);
        hostile.device(kDesc, 2 * kMiB, R);
        hostile.device(kText, 2 * kMiB, R);
        hostile.code(code + 0x200000, kIsaSpin);
        hostile.device(kMark, 2 * kMiB, R | W);
        // A store (kIsaStore's) at @va of the hostile context's.
        auto act = [&](const char* name, uint64_t va) {
            std::vector<uint8_t> p;
            put(p, va);
            Session::Launch l{code, {1, 1, 1}, {1, 1, 1}, 0, {va}};
            RunResult r = hostile.submit({with_ptx(hostile, l, "store", p)});
            const std::string line = std::string(name) + ": status " + std::to_string(static_cast<int>(r.status)) +
                                     " fault " + std::to_string(r.fault_kind) + "; ";
            d.what += line;
            d.bytes += line;
            // The victim's words the stores aimed at, before it computes again.
            d.data(victim.read(kA, 64));
            d.data(victim.read(kC, 64));
            vadd(victim, d, (std::string("victim after ") + name).c_str());
        };
        act("hostile store at the victim's result", kC);
        act("hostile store at the victim's input", kA);
        act("hostile store where nothing is mapped", kBase + (uint64_t{300} << 30));
        const uint32_t zero = 0;
        hostile.write(kMark, &zero, 4);
        std::vector<uint8_t> p;
        put(p, kMark);
        Session::Launch spin{code + 0x200000, {1, 1, 1}, {1, 1, 1}, 0, {kMark}};
        watched(hostile, d, "hostile spin", with_ptx(hostile, spin, "spin", p));
        vadd(victim, d, "victim after the spin");
        for (int i = 0; i < 8; i++)
            act("hostile fault storm", kC + 4 * static_cast<uint64_t>(i));
        return d;
    }};
}

}  // namespace

std::vector<Test> ptx_cases() {
    return {ptx_vadd_case(),     ptx_fault_case(),      ptx_spin_case(),  ptx_large_case(),
            ptx_isolation_case(), ptx_grid_limit_case(), ptx_stack_case()};
}

}  // namespace vgpu::engine
