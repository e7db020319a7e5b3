// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// selftest.hpp - runs kernels on a back end and on the reference
// interpreter and compares every result bit for bit (vgpu-engined
// --self-test), and the harness it and vgpu-bench share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "vgpu/asm.hpp"

namespace vgpu::engine {

// One context on a back end, with buffers at fixed GPU addresses.
class Session {
public:
    explicit Session(Backend& b);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Device memory of @size bytes mapped at @va; returns its memory id.
    uint64_t device(uint64_t va, uint64_t size, uint32_t perms);
    uint64_t last_alloc_ns = 0, last_map_ns = 0;  // the last device()'s two steps
    // Host memory (this process's) mapped at @va; returns the bytes.
    uint8_t* host(uint64_t va, uint64_t size, uint32_t perms);
    // Anywhere inside a buffer.
    void write(uint64_t va, const void* data, uint64_t size);
    std::vector<uint8_t> read(uint64_t va, uint64_t size);
    // Assembles @src into device memory at @va (R+X); returns the image.
    ModuleImage code(uint64_t va, const std::string& src);
    // Raw instruction words at @va (R+X).
    void words(uint64_t va, const std::vector<uint64_t>& w);

    struct Launch {
        uint64_t entry;
        uint32_t grid[3] = {1, 1, 1};
        uint32_t block[3] = {1, 1, 1};
        uint32_t shared = 0;
        std::vector<uint64_t> params;
    };
    // Runs commands to their end in slices of @budget_ns; counts slices.
    RunResult submit(const std::vector<drm_vgpu_cmd>& cmds, uint64_t budget_ns = ~0ull,
                     uint64_t watchdog_ns = 60000000000ull, int* slices = nullptr);
    RunResult launch(const Launch& l, uint64_t budget_ns = ~0ull, uint64_t watchdog_ns = 60000000000ull,
                     int* slices = nullptr);
    // One RUN of @job (for tests that interleave jobs of several contexts).
    RunResult run_once(Job& job, uint64_t budget_ns, uint64_t watchdog_ns) {
        return b_.run(ctx_, job, budget_ns, watchdog_ns);
    }
    Backend& backend() { return b_; }
    uint64_t ctx() const { return ctx_; }

private:
    struct Buf {
        uint64_t mem = 0;  // 0: host memory
        uint8_t* host = nullptr;
        uint64_t size = 0;
    };
    Backend& b_;
    uint64_t ctx_;
    // Host memory: a window of the self-test's memfd (host_windows()),
    // unmapped and given back with the session.
    struct HostMap {
        uint8_t* p;
        uint64_t size, window;
        HostMap(uint64_t size);
        ~HostMap();
        HostMap(const HostMap&) = delete;
        HostMap& operator=(const HostMap&) = delete;
    };
    std::map<uint64_t, Buf> bufs_;  // by GPU address
    Buf& holding(uint64_t va, uint64_t size, uint64_t* off);
    std::vector<std::unique_ptr<HostMap>> host_;
};

// The self-test's host memory is windows of one memfd (window k at k <<
// VGPU_UE_WINDOW_SHIFT), as the bridge's is windows of its device, so
// that a back end in a worker process (--workers) maps it too.
int host_windows();

drm_vgpu_cmd launch_cmd(const Session::Launch& l);
// A whole text file (a kernel's source); throws if it cannot be read.
std::string read_text(const std::string& path);
// @n float32 bit patterns in [-15, 16), the same for the same @seed.
std::vector<uint32_t> test_floats(size_t n, uint32_t seed);

// Returns the process exit status: 0 when every test matched.  @workers:
// the back end runs in worker processes (make_worker_backend()).
int self_test(const std::string& backend, int gpu, const std::string& kernel_dir, bool workers = false);

}  // namespace vgpu::engine
