// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fuzz_engined.cpp - libFuzzer target over vgpu-engined's message
// handling: sequences of struct vgpu_ue_req (and RUN payloads) fed to
// Bridge::handle, with the CUDA back end over the fake libcuda
// (tools/tests/fake_cuda.hpp) or the interpreter, windows being a memfd.
// After every request: no exception, a valid answer, and (CUDA) every
// page table reaches live memory only, every registration covers mapped
// memory, the driver saw no misuse; at the end nothing is left allocated
// or registered.  Fields are drawn mostly from small ranges so that
// requests meet each other (the same contexts, windows, pages), with raw
// values now and then.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
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

vgpu_ue_req request(Input& in, std::vector<drm_vgpu_cmd>& cmds) {
    vgpu_ue_req r{};
    uint64_t sel = in.get(1);
    r.op = sel % 10;  // 0 and 9: invalid
    r.ctx = in.get(1) % 4;
    uint64_t obj = in.get(1);
    r.obj = obj & 0x80 ? (uint64_t{1} << 27) + obj : obj % kWindows;  // beyond 2^27: refused
    r.va = va_of(in);
    uint64_t sz = in.get(1);
    r.size = (sz & 0x1f) * kPage + (sz & 0x20 ? 1 : 0);
    if (r.op == VGPU_UE_OP_MEM_ALLOC)
        r.size = (sz & 0x7f) * kPage * 4;
    r.offset = (in.get(1) % 8) * kPage;
    r.perms = static_cast<uint32_t>(in.get(1) % 9);
    r.kind = static_cast<uint32_t>(in.get(1) % 3);
    if (r.op == VGPU_UE_OP_RUN) {
        uint32_t n = sel & 0x80 ? 0 : 1 + in.get(1) % 3;  // 0: a RUN that resumes a job
        cmds.clear();
        for (uint32_t i = 0; i < n; i++)
            cmds.push_back(command(in));
        r.kind = static_cast<uint32_t>(in.get(1) % 2);   // first command
        r.perms = r.kind + n;
        r.payload_len = static_cast<uint32_t>(n * sizeof(drm_vgpu_cmd));
        r.va = 200000 + in.get(1) * 10000;   // budget, ns
        r.size = 20000000;                   // watchdog, ns
        r.offset = 0;
        r.busy = 0;
    }
    return r;
}

void check(const FakeCuda* fake, const Backend& be, const vgpu_ue_req& r, const vgpu_ue_resp& resp) {
    if (resp.seq != r.seq || resp.error > 0 || resp.error < -4095)
        fail("a bad answer", "op " + std::to_string(r.op) + " error " + std::to_string(resp.error));
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
