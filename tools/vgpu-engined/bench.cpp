// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// bench.cpp - `vgpu-bench engine` (see bench.hpp).  Every number is the
// median of interleaved repetitions, with min and max.
#include "bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engined_args.hpp"
#include "cuda_api.hpp"
#include "selftest.hpp"
#include "selftest_cases.hpp"

#ifndef GPUVM_KERNEL_SRC_DIR
#define GPUVM_KERNEL_SRC_DIR "tools/samples/kernels"
#endif

namespace vgpu::engine {
namespace {

using namespace cu;
constexpr uint32_t R = 1, W = 2;
// Buffers up to 256 MiB each, apart.
constexpr uint64_t bIn = 0x10000000, bAux = 0x20000000, bOut = 0x30000000;

double secs() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stat {
    std::vector<double> v;
    double med() const {
        auto s = v;
        std::sort(s.begin(), s.end());
        return s.empty() ? 0 : s[s.size() / 2];
    }
    double min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
    double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
};

// A sample on a back end: its inputs, its launch, its output.
struct Sample {
    std::string name;
    uint64_t n;
    std::vector<std::vector<uint32_t>> in;  // up to two inputs
    uint64_t out_words;
    Session::Launch launch;
};

Sample make(const std::string& dir, Session& s, const std::string& name, uint64_t n) {
    Sample m{name, n, {}, 0, {}};
    auto img = s.code(kCode, read_text(dir + "/" + name + ".vas"));
    auto& k = img.kernel(name);
    uint64_t words = name == "matmul" ? n * n : n;
    m.in = {test_floats(words, 11), test_floats(words, 12)};
    m.out_words = words;
    s.device(bIn, words * 4, R);
    s.device(bAux, words * 4, R);
    s.device(bOut, words * 4, R | W);
    s.write(bIn, m.in[0].data(), words * 4);
    s.write(bAux, m.in[1].data(), words * 4);
    m.launch.entry = kCode + k.offset;
    m.launch.shared = k.shared_size;
    float a = 2.5f;
    uint32_t ab;
    std::memcpy(&ab, &a, 4);
    if (name == "matmul") {
        m.launch.grid[0] = m.launch.grid[1] = static_cast<uint32_t>(n / 16);
        m.launch.block[0] = m.launch.block[1] = 16;
        m.launch.params = {bIn, bAux, bOut, n};
    } else {
        m.launch.grid[0] = static_cast<uint32_t>((n + 255) / 256);
        m.launch.block[0] = 256;
        if (name == "saxpy") {
            m.launch.params = {ab, bIn, bOut, n};
            s.write(bOut, m.in[1].data(), words * 4);
        } else {
            m.launch.params = {bIn, bAux, bOut, n};
        }
    }
    return m;
}

// The same algorithm from nvcc (ref_kernels.cu) on the same inputs.
class Ref {
public:
    Ref(const std::string& ptx_path) : a_(api()) {
        std::string ptx = read_text(ptx_path);
        check("cuModuleLoadDataEx (ref)", a_.ModuleLoadDataEx(&mod_, ptx.c_str(), 0, nullptr, nullptr));
    }
    ~Ref() {
        for (auto p : bufs_)
            a_.MemFree(p);
        a_.ModuleUnload(mod_);
    }
    CUdeviceptr buf(const std::vector<uint32_t>& v, size_t words) {
        CUdeviceptr p;
        check("cuMemAlloc", a_.MemAlloc(&p, words * 4));
        bufs_.push_back(p);
        if (!v.empty())
            check("cuMemcpyHtoD", a_.MemcpyHtoD(p, v.data(), words * 4));
        return p;
    }
    double run(const std::string& fn, unsigned gx, unsigned gy, unsigned bx, unsigned by, void** args) {
        CUfunction f;
        check("cuModuleGetFunction", a_.ModuleGetFunction(&f, mod_, fn.c_str()));
        double t0 = secs();
        check("cuLaunchKernel (ref)", a_.LaunchKernel(f, gx, gy, 1, bx, by, 1, 0, nullptr, args, nullptr));
        check("cuStreamSynchronize", a_.StreamSynchronize(nullptr));
        return secs() - t0;
    }
    std::vector<uint32_t> read(CUdeviceptr p, size_t words) {
        std::vector<uint32_t> v(words);
        check("cuMemcpyDtoH", a_.MemcpyDtoH(v.data(), p, words * 4));
        return v;
    }

private:
    const Api& a_;
    CUmodule mod_ = nullptr;
    std::vector<CUdeviceptr> bufs_;
};

void row(const char* what, const Stat& s, const char* unit, double scale) {
    std::printf("  %-34s median %10.3f %s  (min %.3f, max %.3f)\n", what, s.med() * scale, unit, s.min() * scale,
                s.max() * scale);
}

// Translated sample vs nvcc's, interleaved; prints the ratio.
void versus(const std::string& dir, Backend& gpu, Ref* ref, const std::string& name, uint64_t n, int reps,
            std::FILE* json) {
    Session s(gpu);
    Sample m = make(dir, s, name, n);
    s.launch(m.launch);  // translate once (cached afterwards)
    Stat t_tr, t_ref;
    CUdeviceptr a = 0, b = 0, c = 0;
    uint32_t ab = static_cast<uint32_t>(name == "saxpy" ? m.launch.params[0] : 0);
    unsigned long long nn = n;
    if (ref) {
        a = ref->buf(m.in[0], m.out_words);
        b = ref->buf(m.in[1], m.out_words);
        c = ref->buf(name == "saxpy" ? m.in[1] : std::vector<uint32_t>{}, m.out_words);
    }
    for (int i = 0; i < reps; i++) {
        if (name == "saxpy")
            s.write(bOut, m.in[1].data(), m.out_words * 4);
        double t0 = secs();
        auto r = s.launch(m.launch);
        t_tr.v.push_back(secs() - t0);
        if (r.status != RunStatus::Done)
            throw std::runtime_error(name + ": translated launch did not complete: fault " +
                                     std::to_string(r.fault_kind) + " at " + std::to_string(r.fault_addr));
        if (!ref)
            continue;
        if (name == "saxpy") {
            std::vector<uint32_t> y = m.in[1];
            api().MemcpyHtoD(c, y.data(), m.out_words * 4);
            void* args[] = {&ab, &a, &c, &nn};
            t_ref.v.push_back(ref->run("saxpy_ref", m.launch.grid[0], 1, 256, 1, args));
        } else if (name == "vecadd") {
            void* args[] = {&a, &b, &c, &nn};
            t_ref.v.push_back(ref->run("vecadd_ref", m.launch.grid[0], 1, 256, 1, args));
        } else {
            void* args[] = {&a, &b, &c, &nn};
            t_ref.v.push_back(ref->run("matmul_ref", m.launch.grid[0], m.launch.grid[1], 16, 16, args));
        }
    }
    std::printf("%s n=%llu\n", name.c_str(), static_cast<unsigned long long>(n));
    row("translated (vgpu ISA -> PTX)", t_tr, "ms", 1e3);
    if (ref) {
        row("CUDA C (nvcc)", t_ref, "ms", 1e3);
        bool same = ref->read(c, m.out_words) == [&] {
            auto v = s.read(bOut, m.out_words * 4);
            std::vector<uint32_t> w(m.out_words);
            std::memcpy(w.data(), v.data(), v.size());
            return w;
        }();
        double ratio = t_ref.med() / t_tr.med();
        std::printf("  speed of translated / CUDA C: %.3fx (results identical: %s)\n", ratio, same ? "yes" : "no");
        std::fprintf(json, "{\"bench\":\"versus\",\"kernel\":\"%s\",\"n\":%llu,\"translated_ms\":%.4f,"
                           "\"translated_min_ms\":%.4f,\"translated_max_ms\":%.4f,\"cuda_ms\":%.4f,"
                           "\"cuda_min_ms\":%.4f,\"cuda_max_ms\":%.4f,\"ratio\":%.4f,\"identical\":%s}\n",
                     name.c_str(), nn, t_tr.med() * 1e3, t_tr.min() * 1e3, t_tr.max() * 1e3, t_ref.med() * 1e3,
                     t_ref.min() * 1e3, t_ref.max() * 1e3, ratio, same ? "true" : "false");
    }
}

// Thread-instructions per second, interpreter vs GPU, on the same launch.
void tips(const std::string& dir, Backend& interp, Backend& gpu, const std::string& name, uint64_t n, int reps,
          std::FILE* json) {
    Stat ti, tg;
    uint64_t units = 0;
    Session si(interp), sg(gpu);
    Sample mi = make(dir, si, name, n), mg = make(dir, sg, name, n);
    sg.launch(mg.launch);
    for (int i = 0; i < reps; i++) {
        double t0 = secs();
        units = si.launch(mi.launch).units;
        double t1 = secs();
        sg.launch(mg.launch);
        double t2 = secs();
        ti.v.push_back(t1 - t0);
        tg.v.push_back(t2 - t1);
    }
    std::printf("%s n=%llu: %llu thread-instructions\n", name.c_str(), static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(units));
    double ri = units / ti.med(), rg = units / tg.med();
    std::printf("  interpreter %.3g/s, GPU %.3g/s: %.0fx\n", ri, rg, rg / ri);
    std::fprintf(json, "{\"bench\":\"tips\",\"kernel\":\"%s\",\"n\":%llu,\"units\":%llu,\"interp_s\":%.5f,"
                       "\"gpu_s\":%.6f,\"interp_tips\":%.4g,\"gpu_tips\":%.4g,\"speedup\":%.1f}\n",
                 name.c_str(), static_cast<unsigned long long>(n), static_cast<unsigned long long>(units), ti.med(),
                 tg.med(), ri, rg, rg / ri);
}

// An empty kernel: one RUN of the back end vs one bare launch.
void launch_cost(Backend& gpu, Ref* ref, int reps, std::FILE* json) {
    Session s(gpu);
    s.code(kCode, ".kernel e\n    exit\n");
    Session::Launch l{kCode, {1, 1, 1}, {1, 1, 1}, 0, {}};
    s.launch(l);
    Stat tb, tr;
    for (int i = 0; i < reps; i++) {
        double t0 = secs();
        s.launch(l);
        tb.v.push_back(secs() - t0);
        if (ref)
            tr.v.push_back(ref->run("empty_ref", 1, 1, 1, 1, nullptr));
    }
    std::printf("launch of an empty kernel (%d repetitions)\n", reps);
    row("back end RUN (fetch, cache, launch)", tb, "us", 1e6);
    if (ref)
        row("bare cuLaunchKernel + sync", tr, "us", 1e6);
    std::fprintf(json, "{\"bench\":\"launch\",\"run_us\":%.2f,\"run_min_us\":%.2f,\"run_max_us\":%.2f,\"bare_us\":%.2f}\n",
                 tb.med() * 1e6, tb.min() * 1e6, tb.max() * 1e6, tr.med() * 1e6);
}

}  // namespace

int bench_main(int argc, char** argv) {
    BenchArgs a;
    try {
        a = parse_bench_args(vgpu::words(argc, argv, 1), GPUVM_KERNEL_SRC_DIR);
    } catch (const vgpu::UsageError& e) {
        return vgpu::usage_error(bench_command(), e);
    }
    const std::string &ref_path = a.ref, &dir = a.kernels, &json_path = a.json;
    const int reps = a.reps, gpu_index = a.gpu;
    try {
        auto gpu = make_cuda_backend(4ull << 30, gpu_index);
        auto interp = make_interp_backend(1ull << 30);
        std::unique_ptr<Ref> ref;
        if (!ref_path.empty())
            ref = std::make_unique<Ref>(ref_path);
        std::FILE* json = std::fopen(json_path.c_str(), "w");
        if (!json)
            throw std::runtime_error("cannot write " + json_path);
        std::printf("engine benchmark on %s, %d repetitions each, interleaved\n", gpu->name().c_str(), reps);
        launch_cost(*gpu, ref.get(), std::max(reps, 200), json);
        tips(dir, *interp, *gpu, "saxpy", 1 << 22, reps, json);
        tips(dir, *interp, *gpu, "matmul", 256, reps, json);
        // 65535 blocks of 256 threads, as measured before grids went past
        // 65535 blocks in x (engines.rst): the numbers stay comparable.
        versus(dir, *gpu, ref.get(), "vecadd", 65535ull * 256, reps, json);
        versus(dir, *gpu, ref.get(), "saxpy", 65535ull * 256, reps, json);
        versus(dir, *gpu, ref.get(), "matmul", 2048, reps, json);
        std::fclose(json);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vgpu-bench engine: %s\n", e.what());
        return 1;
    }
}

}  // namespace vgpu::engine
