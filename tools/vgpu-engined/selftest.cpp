// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// selftest.cpp - the bit-for-bit comparison of a back end with the
// reference interpreter (see selftest.hpp, Documentation/engines.rst).
#include "selftest.hpp"
#include "selftest_cases.hpp"

#include <fcntl.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>

#include "router.hpp"
#include "vgpu/fd.hpp"
#include "vgpu_uengine.h"

extern "C" {
#include "vgpu_isa.h"
#include "vgpu_pt.h"
}

#ifndef GPUVM_KERNEL_SRC_DIR
#define GPUVM_KERNEL_SRC_DIR "tools/samples/kernels"
#endif

namespace vgpu::engine {

namespace {
uint64_t g_next_id = 1;
constexpr uint32_t R = VGPU_PTE_R, W = VGPU_PTE_W, X = VGPU_PTE_X;
constexpr uint64_t kWindows = 256;  // of 64 GiB each: the memfd's 16 TiB
std::set<uint64_t> g_windows;       // in use
}  // namespace

int host_windows() {
    static const vgpu::Fd fd = [] {
        vgpu::Fd f(memfd_create("vgpu-selftest-host", MFD_CLOEXEC));
        if (!f || ftruncate(f.get(), static_cast<off_t>(kWindows << VGPU_UE_WINDOW_SHIFT)) < 0)
            throw std::runtime_error("no memfd for the self-test's host memory");
        return f;
    }();
    return fd.get();
}

Session::HostMap::HostMap(uint64_t sz) : size(sz), window(1) {
    while (g_windows.count(window))
        window++;
    if (window >= kWindows || size > (uint64_t{1} << VGPU_UE_WINDOW_SHIFT))
        throw std::runtime_error("self-test: no window left for host memory");
    void* m = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, host_windows(),
                   static_cast<off_t>(window << VGPU_UE_WINDOW_SHIFT));
    if (m == MAP_FAILED)
        throw std::bad_alloc();
    p = static_cast<uint8_t*>(m);
    g_windows.insert(window);
}

Session::HostMap::~HostMap() {
    munmap(p, size);
    // Its pages given back (zero when the window serves again).
    fallocate(host_windows(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
              static_cast<off_t>(window << VGPU_UE_WINDOW_SHIFT), static_cast<off_t>(size));
    g_windows.erase(window);
}

Session::Session(Backend& b) : b_(b), ctx_(g_next_id++) {
    if (int e = b_.ctx_create(ctx_, 0))
        throw std::runtime_error("ctx_create: " + std::string(std::strerror(e)));
}

Session::~Session() {
    for (auto& [va, buf] : bufs_)
        b_.unmap(ctx_, va, buf.size);
    b_.ctx_destroy(ctx_);
    for (auto& [va, buf] : bufs_)
        if (buf.mem)
            b_.mem_free(buf.mem);
}

uint64_t Session::device(uint64_t va, uint64_t size, uint32_t perms) {
    size = (size + 4095) & ~uint64_t{4095};
    uint64_t mem = g_next_id++;
    uint64_t t0 = now_ns();
    if (int e = b_.mem_alloc(mem, size))
        throw std::runtime_error("mem_alloc: " + std::string(std::strerror(e)));
    uint64_t t1 = now_ns();
    Backing bk;
    bk.mem = mem;
    if (int e = b_.map(ctx_, va, size, perms, bk))
        throw std::runtime_error("map: " + std::string(std::strerror(e)));
    last_alloc_ns = t1 - t0;
    last_map_ns = now_ns() - t1;
    bufs_[va] = {mem, nullptr, size};
    return mem;
}

uint8_t* Session::host(uint64_t va, uint64_t size, uint32_t perms) {
    size = (size + 4095) & ~uint64_t{4095};
    host_.push_back(std::make_unique<HostMap>(size));
    uint8_t* p = host_.back()->p;
    Backing bk;
    bk.host = p;
    bk.fd = host_windows();
    bk.fd_offset = host_.back()->window << VGPU_UE_WINDOW_SHIFT;
    if (int e = b_.map(ctx_, va, size, perms, bk))
        throw std::runtime_error("map host: " + std::string(std::strerror(e)));
    bufs_[va] = {0, p, size};
    return p;
}

// The buffer that holds [@va, @va + @size), @va's offset in it in *@off.
Session::Buf& Session::holding(uint64_t va, uint64_t size, uint64_t* off) {
    auto it = bufs_.upper_bound(va);
    if (it == bufs_.begin() || va - std::prev(it)->first > std::prev(it)->second.size ||
        size > std::prev(it)->second.size - (va - std::prev(it)->first))
        throw std::out_of_range("no buffer holds that range");
    *off = va - std::prev(it)->first;
    return std::prev(it)->second;
}

void Session::write(uint64_t va, const void* data, uint64_t size) {
    uint64_t off;
    auto& buf = holding(va, size, &off);
    if (buf.host)
        std::memcpy(buf.host + off, data, size);
    else if (b_.mem_write(buf.mem, off, data, size))
        throw std::runtime_error("mem_write failed");
}

std::vector<uint8_t> Session::read(uint64_t va, uint64_t size) {
    uint64_t off;
    auto& buf = holding(va, size, &off);
    std::vector<uint8_t> out(size);
    if (buf.host)
        std::memcpy(out.data(), buf.host + off, size);
    else if (b_.mem_read(buf.mem, off, out.data(), size))
        throw std::runtime_error("mem_read failed");
    return out;
}

ModuleImage Session::code(uint64_t va, const std::string& src) {
    ModuleImage img = assemble(src);
    words(va, img.code);
    return img;
}

void Session::words(uint64_t va, const std::vector<uint64_t>& w) {
    device(va, w.size() * 8, R | X);
    write(va, w.data(), w.size() * 8);
}

drm_vgpu_cmd launch_cmd(const Session::Launch& l) {
    drm_vgpu_cmd c{};
    c.op = DRM_VGPU_CMD_LAUNCH;
    c.src = l.entry;
    c.shared_size = l.shared;
    std::memcpy(c.grid, l.grid, sizeof(c.grid));
    std::memcpy(c.block, l.block, sizeof(c.block));
    for (size_t i = 0; i < l.params.size() && i < 8; i++)
        c.params[i] = l.params[i];
    return c;
}

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    if (!f)
        throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::vector<uint32_t> test_floats(size_t n, uint32_t seed) {
    std::vector<uint32_t> v(n);
    uint32_t x = seed;
    for (auto& e : v) {
        x = x * 1664525u + 1013904223u;
        float f = static_cast<float>(static_cast<int32_t>(x >> 8) % 2000) / 64.0f - 15.0f;
        std::memcpy(&e, &f, 4);
    }
    return v;
}

RunResult Session::submit(const std::vector<drm_vgpu_cmd>& cmds, uint64_t budget_ns, uint64_t watchdog_ns,
                          int* slices) {
    Job job;
    job.cmds = cmds;
    RunResult r, total;
    int n = 0;
    do {
        r = b_.run(ctx_, job, budget_ns, watchdog_ns);
        total.busy_ns += r.busy_ns;
        total.units += r.units;
        n++;
    } while (r.status == RunStatus::Preempted);
    if (slices)
        *slices = n;
    r.busy_ns = total.busy_ns;
    r.units = total.units;
    return r;
}

RunResult Session::launch(const Launch& l, uint64_t budget_ns, uint64_t watchdog_ns, int* slices) {
    return submit({launch_cmd(l)}, budget_ns, watchdog_ns, slices);
}

namespace {

// The four samples of tools/samples at a given size.
std::vector<Test> sample_tests(const std::string& dir, uint64_t n, uint32_t mm) {
    std::vector<Test> t;
    t.push_back({"vecadd n=" + std::to_string(n), [=](Session& s) {
        auto img = s.code(kCode, read_text(dir + "/vecadd.vas"));
        s.device(kIn, n * 4, R);
        s.device(kAux, n * 4, R);
        s.device(kOut, n * 4, R | W);
        s.write(kIn, test_floats(n, 1).data(), n * 4);
        s.write(kAux, test_floats(n, 2).data(), n * 4);
        Digest d;
        uint32_t blocks = static_cast<uint32_t>((n + 255) / 256);
        d.status("vecadd", s.launch({kCode + img.kernel("vecadd").offset, {blocks, 1, 1}, {256, 1, 1}, 0,
                                     {kIn, kAux, kOut, n}}));
        d.data(s.read(kOut, n * 4));
        return d;
    }});
    t.push_back({"saxpy n=" + std::to_string(n), [=](Session& s) {
        auto img = s.code(kCode, read_text(dir + "/saxpy.vas"));
        s.device(kIn, n * 4, R);
        s.device(kOut, n * 4, R | W);
        s.write(kIn, test_floats(n, 3).data(), n * 4);
        s.write(kOut, test_floats(n, 4).data(), n * 4);
        Digest d;
        float a = 2.5f;
        uint32_t ab;
        std::memcpy(&ab, &a, 4);
        uint32_t blocks = static_cast<uint32_t>((n + 255) / 256);
        d.status("saxpy", s.launch({kCode + img.kernel("saxpy").offset, {blocks, 1, 1}, {256, 1, 1}, 0,
                                    {ab, kIn, kOut, n}}));
        d.data(s.read(kOut, n * 4));
        return d;
    }});
    t.push_back({"matmul n=" + std::to_string(mm), [=](Session& s) {
        auto img = s.code(kCode, read_text(dir + "/matmul.vas"));
        uint64_t bytes = uint64_t{mm} * mm * 4;
        s.device(kIn, bytes, R);
        s.device(kAux, bytes, R);
        s.device(kOut, bytes, R | W);
        s.write(kIn, test_floats(uint64_t{mm} * mm, 5).data(), bytes);
        s.write(kAux, test_floats(uint64_t{mm} * mm, 6).data(), bytes);
        Digest d;
        auto& k = img.kernel("matmul");
        d.status("matmul", s.launch({kCode + k.offset, {mm / 16, mm / 16, 1}, {16, 16, 1}, k.shared_size,
                                     {kIn, kAux, kOut, mm}}));
        d.data(s.read(kOut, bytes));
        return d;
    }});
    t.push_back({"reduction n=" + std::to_string(n), [=](Session& s) {
        auto img = s.code(kCode, read_text(dir + "/reduction.vas"));
        s.device(kIn, n * 4, R);
        s.device(kOut, 4096, R | W);
        s.write(kIn, test_floats(n, 7).data(), n * 4);
        Digest d;
        auto& k = img.kernel("reduce");
        uint32_t blocks = static_cast<uint32_t>((n + 255) / 256);
        d.status("reduce", s.launch({kCode + k.offset, {blocks, 1, 1}, {256, 1, 1}, k.shared_size, {kIn, kOut, n}}));
        d.data(s.read(kOut, 4));
        return d;
    }});
    return t;
}

}  // namespace

namespace {

// VGPU_SELFTEST_ONLY=a,b runs only the tests whose names contain a or b.
bool selected(const std::string& name) {
    const char* only = std::getenv("VGPU_SELFTEST_ONLY");
    if (!only || !*only)
        return true;
    std::stringstream list(only);
    for (std::string part; std::getline(list, part, ',');)
        if (!part.empty() && name.find(part) != std::string::npos)
            return true;
    return false;
}

// Runs every test on both back ends; prints one line per test.
int compare(Backend& ref, Backend& dut, const std::vector<Test>& tests, size_t* ran) {
    int failed = 0;
    *ran = 0;
    for (auto& t : tests) {
        if (!selected(t.name))
            continue;
        ++*ran;
        Digest a, b;
        double ta = 0, tb = 0;
        try {
            auto t0 = std::chrono::steady_clock::now();
            {
                Session s(ref);
                a = t.run(s);
            }
            auto t1 = std::chrono::steady_clock::now();
            {
                Session s(dut);
                b = t.run(s);
            }
            auto t2 = std::chrono::steady_clock::now();
            ta = std::chrono::duration<double>(t1 - t0).count();
            tb = std::chrono::duration<double>(t2 - t1).count();
        } catch (const std::exception& e) {
            std::printf("FAIL %-28s %s\n", t.name.c_str(), e.what());
            failed++;
            continue;
        }
        // Late on either side fails, even where both were (the bytes agree).
        bool same = a.bytes == b.bytes && !a.late && !b.late;
        std::printf("%s %-28s %8zu bytes  interp %.3f s  %s %.3f s  %s\n", same ? "ok  " : "FAIL", t.name.c_str(),
                    a.bytes.size(), ta, dut.name().c_str(), tb, (b.what + b.note).c_str());
        if (!same) {
            failed++;
            std::printf("     interp: %s\n", (a.what + a.note).c_str());
            size_t diff = 0, shown = 0, n = std::min(a.bytes.size(), b.bytes.size());
            for (size_t i = 0; i < n; i++) {
                if (a.bytes[i] == b.bytes[i])
                    continue;
                if (shown++ < 8)
                    std::printf("     byte %zu (data byte %lld): interp 0x%02x, %s 0x%02x\n", i,
                                static_cast<long long>(i) - static_cast<long long>(a.what.size()),
                                static_cast<uint8_t>(a.bytes[i]), dut.name().c_str(), static_cast<uint8_t>(b.bytes[i]));
                diff++;
            }
            std::printf("     %zu bytes differ (sizes %zu, %zu)\n", diff, a.bytes.size(), b.bytes.size());
            // Both results whole, for a closer look (the data after the status text).
            if (const char* dir = std::getenv("VGPU_SELFTEST_DUMP")) {
                for (auto [r, what] : {std::pair{&a, "interp"}, std::pair{&b, "dut"}}) {
                    std::string path = std::string(dir) + "/" + std::to_string(&t - tests.data()) + "." + what;
                    if (FILE* f = std::fopen(path.c_str(), "wb")) {
                        std::fwrite(r->bytes.data() + r->what.size(), 1, r->bytes.size() - r->what.size(), f);
                        std::fclose(f);
                    }
                }
            }
        }
        std::fflush(stdout);
    }
    return failed;
}

}  // namespace

int self_test(const std::string& backend, int gpu, const std::string& kernel_dir, bool workers) {
    std::string dir = kernel_dir.empty() ? GPUVM_KERNEL_SRC_DIR : kernel_dir;
    auto ref = make_interp_backend(1ull << 30);
    std::unique_ptr<Backend> dut;
    if (workers)
        dut = make_worker_backend(backend + "-workers",
                                  backend == "interp" ? make_memfd_memory(1ull << 30) : make_cuda_memory(1ull << 30, gpu),
                                  exec_spawner("/proc/self/exe", backend, gpu), host_windows());
    else if (backend == "interp")
        dut = make_interp_backend(1ull << 30);
    else
        dut = make_cuda_backend(1ull << 30, gpu);
    std::printf("self-test: %s against the interpreter\n", dut->name().c_str());
    std::vector<Test> tests = isa_cases(dir);
    for (auto& t : sample_tests(dir, 4096, 64))
        tests.push_back(t);
    for (auto& t : sample_tests(dir, 1 << 22, 256))
        tests.push_back(t);
    size_t ran = 0;
    int failed = compare(*ref, *dut, tests, &ran);
    std::printf("self-test: %zu tests, %d failed\n", ran, failed);
    return failed ? 1 : 0;
}

}  // namespace vgpu::engine
