// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fuzz_engined.cpp - libFuzzer target over vgpu-engined's message
// handling: sequences of struct vgpu_ue_req (and RUN payloads) fed to
// Bridge::handle, with the CUDA back end over the fake libcuda
// (tools/tests/fake_cuda.hpp) or the interpreter, windows being a memfd.
// After every request: no exception, an answer the module would take
// (vgpu_ue_check_answer()'s rules; a RUN's status, fault record and next
// command), and (CUDA) every page table reaches live memory only, every
// registration covers mapped memory, the driver saw no misuse; at the
// end nothing is left allocated or registered.  Fields are drawn mostly from small ranges so that
// requests meet each other (the same contexts, windows, pages), with raw
// values now and then.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "bridge.hpp"
#include "cuda_api.hpp"
#include "fake_cuda.hpp"

namespace {

using namespace vgpu::engine;
using vgpu::engine::test::FakeCuda;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kWindows = 16;  // window ids below this are backed by the memfd

struct Input {
    const uint8_t* p;
    size_t n;
    uint64_t get(unsigned bytes) {
        uint64_t v = 0;
        for (unsigned i = 0; i < bytes && n; i++, p++, n--)
            v |= uint64_t{*p} << (8 * i);
        return v;
    }
};

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz-engined: %s\n%s\n", what, detail.c_str());
    std::abort();
}

uint64_t va_of(Input& in) {
    uint64_t v = in.get(2);
    uint64_t va = (v & 0x3ff) * kPage;
    if (v & 0x400)
        va += 0x3ff00000;  // near a 1 GiB boundary: more tables
    if ((v & 0xf000) == 0xf000)
        va = in.get(8);  // raw
    return va;
}

drm_vgpu_cmd command(Input& in) {
    drm_vgpu_cmd c{};
    uint64_t sel = in.get(1);
    c.op = sel % 4;  // 0: invalid
    c.dst = va_of(in) + (sel & 0x10 ? in.get(1) * 4 : 0);
    c.src = va_of(in) + (sel & 0x20 ? in.get(1) * 4 : 0);
    c.size = in.get(2) * 4;
    c.value = static_cast<uint32_t>(in.get(4));
    for (int i = 0; i < 3; i++) {
        c.grid[i] = 1 + in.get(1) % 3;
        c.block[i] = 1 + in.get(1) % 8;
    }
    c.shared_size = static_cast<uint32_t>(in.get(1) * 16);
    for (auto& prm : c.params)
        prm = va_of(in);
    return c;
}

// The fields drawn for a request, whatever its operation (the same bytes
// of input in the same order for each, so that inputs stay meaningful).
struct Draw {
    uint64_t sel, ctx, obj, va, size, mem_size, offset;
    uint32_t perms, kind;
};

Draw draw(Input& in) {
    Draw d{};
    d.sel = in.get(1);
    d.ctx = in.get(1) % 4;
    uint64_t obj = in.get(1);
    d.obj = obj & 0x80 ? (uint64_t{1} << 27) + obj : obj % kWindows;  // beyond 2^27: refused
    d.va = va_of(in);
    uint64_t sz = in.get(1);
    d.size = (sz & 0x1f) * kPage + (sz & 0x20 ? 1 : 0);
    d.mem_size = (sz & 0x7f) * kPage * 4;
    d.offset = (in.get(1) % 8) * kPage;
    d.perms = static_cast<uint32_t>(in.get(1) % 9);
    d.kind = static_cast<uint32_t>(in.get(1) % 3);
    return d;
}

void run_request(Input& in, const Draw& d, vgpu_ue_req& r, std::vector<drm_vgpu_cmd>& cmds) {
    uint32_t n = d.sel & 0x80 ? 0 : 1 + in.get(1) % 3;  // 0: a RUN that resumes a job
    cmds.clear();
    for (uint32_t i = 0; i < n; i++)
        cmds.push_back(command(in));
    r.payload_len = static_cast<uint32_t>(n * sizeof(drm_vgpu_cmd));
    r.run.ctx = d.ctx;
    r.run.job = d.obj;
    r.run.next_cmd = static_cast<uint32_t>(in.get(1) % 2);  // first command
    r.run.num_cmds = r.run.next_cmd + n;
    r.run.budget_ns = 200000 + in.get(1) * 10000;
    r.run.watchdog_ns = 20000000;
}

void map_request(const Draw& d, vgpu_ue_req& r) {
    r.map.ctx = d.ctx;
    r.map.va = d.va;
    r.map.size = d.size;
    r.map.perms = d.perms;
    r.map.kind = d.kind;
    if (d.kind == VGPU_UE_MAP_HOST) {
        r.map.window = d.obj;
        r.map.offset = d.sel & 0x40 ? d.offset : 0;  // an offset: refused
    } else {
        r.map.mem = d.obj;
        r.map.offset = d.offset;
    }
}

vgpu_ue_req request(Input& in, std::vector<drm_vgpu_cmd>& cmds) {
    vgpu_ue_req r{};
    Draw d = draw(in);
    r.op = d.sel % 10;  // 0 and 9: invalid
    switch (r.op) {
    case VGPU_UE_OP_CTX_CREATE:
        r.ctx_create.ctx = d.ctx;
        r.ctx_create.group = d.sel >> 4 & 1;  // two groups
        break;
    case VGPU_UE_OP_CTX_DESTROY:
        r.ctx_destroy.ctx = d.ctx;
        break;
    case VGPU_UE_OP_MEM_ALLOC:
        r.mem_alloc.mem = d.obj;
        r.mem_alloc.size = d.mem_size;
        break;
    case VGPU_UE_OP_MEM_FREE:
        r.mem_free.mem = d.obj;
        break;
    case VGPU_UE_OP_MAP:
        map_request(d, r);
        break;
    case VGPU_UE_OP_UNMAP:
        r.unmap.ctx = d.ctx;
        r.unmap.va = d.va;
        r.unmap.size = d.size;
        break;
    case VGPU_UE_OP_RUN:
        run_request(in, d, r, cmds);
        break;
    case VGPU_UE_OP_JOB_RELEASE:
        r.job_release.job = d.obj;
        break;
    default:
        r.run.ctx = d.ctx;  // an undefined operation with a body
        break;
    }
    return r;
}

// The answer the module would take: the request's seq, an errno or 0,
// reserved zero, a body only for a RUN that succeeded, a fault's record
// only in a FAULTED one (uengine/vgpu_ue_check.c checks the rest).
std::string bad_answer(const vgpu_ue_req& r, const vgpu_ue_resp& resp) {
    if (resp.seq != r.seq || resp.error > 0 || resp.error < -4095 || resp.reserved)
        return "a bad header";
    bool body = r.op == VGPU_UE_OP_RUN && !resp.error;
    if (!body)
        return std::all_of(std::begin(resp.raw), std::end(resp.raw), [](uint8_t b) { return !b; }) ? ""
                                                                                                  : "a body";
    const vgpu_ue_resp_run& a = resp.run;
    if (a.status > VGPU_UE_RUN_TIMEDOUT)
        return "an undefined status";
    if (a.status != VGPU_UE_RUN_FAULTED && (a.fault_kind || a.fault_addr))
        return "a fault's record without a fault";
    if (a.next_cmd < r.run.next_cmd)
        return "next command before the asked one";
    return "";
}

void check(const FakeCuda* fake, const Backend& be, const vgpu_ue_req& r, const vgpu_ue_resp& resp) {
    if (std::string e = bad_answer(r, resp); !e.empty())
        fail(("op " + std::to_string(r.op) + ": " + e).c_str(), "error " + std::to_string(resp.error));
    if (!fake)
        return;
    std::string e = fake->errors() + fake->unmapped_registrations() + test::audit_tables(*fake, be);
    if (!e.empty())
        fail(("after op " + std::to_string(r.op)).c_str(), e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input in{data, size};
    bool interp = in.get(1) & 1;
    FakeCuda fake;
    fake.set_mem_limit(192ull << 20);
    fake.fail_mem_alloc(in.get(1) % 16);  // 0: none; a cuMemAlloc failing early or late
    std::unique_ptr<Backend> be;
    try {
        be = interp ? make_interp_backend(16 << 20) : make_cuda_backend(FakeCuda::api(), 16 << 20, 0);
    } catch (const Unavailable&) {
        return 0;  // the back end's own allocations failed
    }
    // The HELLO this back end registers with passes the module's check
    // of its PCI address (uengine/vgpu_ue_check.c, vgpu_ue_check_pci()).
    vgpu_ue_hello h = make_hello(*be);
    std::string_view pci(h.pci, strnlen(h.pci, sizeof(h.pci)));
    if (pci.size() == sizeof(h.pci) ||
        pci.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos ||
        !std::all_of(h.pci + pci.size(), std::end(h.pci), [](char c) { return c == 0; }))
        fail("HELLO", "PCI address \"" + std::string(pci) + "\" the module refuses");
    int fd = memfd_create("windows", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(kWindows << VGPU_UE_WINDOW_SHIFT)) < 0)
        fail("memfd", std::strerror(errno));
    {
        Bridge br(*be, fd);
        std::vector<drm_vgpu_cmd> cmds;
        for (uint64_t seq = 1; in.n && seq < 64; seq++) {
            vgpu_ue_req r = request(in, cmds);
            r.seq = seq;
            vgpu_ue_resp resp = br.handle(r, reinterpret_cast<const uint8_t*>(cmds.data()));
            check(interp ? nullptr : &fake, *be, r, resp);
        }
    }
    be.reset();
    if (!interp && (fake.live_allocs() || fake.live_registrations() || !fake.errors().empty()))
        fail("left behind", std::to_string(fake.live_allocs()) + " allocations, " +
                                std::to_string(fake.live_registrations()) + " registrations\n" + fake.errors());
    return 0;
}
