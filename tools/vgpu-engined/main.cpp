// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-engined - the dom0 engine process of GPUvm: registers with
// vgpu-uengine.ko and runs the engine operations of vgpu-back on an
// NVIDIA GPU (CUDA driver API, loaded at run time) or on the
// interpreter.  See vgpu-engined(8) and Documentation/engines.rst.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

#include "engined_args.hpp"
#include "bridge.hpp"
#include "router.hpp"
#include "selftest.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// A parameter of vgpu-uengine, @dflt if it cannot be read.
uint64_t module_param(const char* name, uint64_t dflt) {
    std::ifstream f(std::string("/sys/module/vgpu_uengine/parameters/") + name);
    uint64_t v = 0;
    return f >> v ? v : dflt;
}

// The device memory the module promises (its mem_mb), the default here.
uint64_t module_mem_mb() { return module_param("mem_mb", 256); }

vgpu::engine::BackendMakers makers(uint64_t mem, int gpu) {
    using namespace vgpu::engine;
    return {[=] { return make_cuda_backend(mem, gpu); }, [=] { return make_interp_backend(mem); }};
}

// --workers: each context in a worker process (router.hpp), device
// memory here; sessions as in main()'s loop.  The GPU's memory comes in
// its driver's 2 MiB pieces, so the instance must have pages of that size
// or more (offered at HELLO).
int serve_workers(const vgpu::engine::EnginedArgs& a, uint64_t mem_mb) {
    using namespace vgpu::engine;
    if (a.backend != "interp" && a.backend != "cuda") {
        std::cerr << "vgpu-engined: --workers needs -b cuda or -b interp\n";
        return 2;
    }
    const bool gpu = a.backend == "cuda";
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int err;
        {
            auto mem = gpu ? make_cuda_memory(mem_mb << 20, a.gpu) : make_memfd_memory(mem_mb << 20);
            Backend::Layout layout;
            if (gpu)
                layout.page_shift = 21;
            std::string name = gpu ? "cuda-workers:" + mem->device_name() : "interp-workers";
            vgpu_ue_hello hello = make_hello(name, mem_mb << 20, layout, mem->pci());
            // A worker per context: a guest's own PTX can run in it, with
            // the call stack its client asks for and is charged (CTX_STACK)
            // where the host allows one.
            hello_ptx(hello, *mem, gpu);
            // Each worker's own device memory, charged to its context's client.
            hello.ctx_mem = mem->context_memory();
            const uint64_t instance_mb = std::min(mem_mb, module_param("mem_mb", mem_mb));
            if (hello.ctx_mem > instance_mb << 20) {
                std::cerr << "vgpu-engined: a worker holds " << (hello.ctx_mem >> 20) << " MiB of the GPU for its context, "
                          << "more than the instance's " << instance_mb << " MiB: load vgpu-uengine with a larger mem_mb "
                          << "(or set VGPU_CTX_MEM_MB, vgpu-engined(8))\n";
                return 1;
            }
            vgpu::Fd fd = register_engine(a.device, hello);
            // The worker is this program, whatever its file has become since.
            Router router(std::move(mem), exec_spawner("/proc/self/exe", a.backend, a.gpu), fd.get());
            // Two fifths of the module's time for an answer (its wait goes
            // on while requests ahead are answered: a RUN of a slice + the
            // watchdog ahead does not count).
            router.set_window(hello.engine_va_start, hello.engine_va_end);
            router.set_max_stack(hello.max_stack);
            router.set_spares(a.spares);
            router.set_start_limits(start_limits_for(gpu));
            router.set_op_ns(std::max<uint64_t>(module_param("op_timeout_ms", 5000), 10) * 400000);
            std::cerr << "vgpu-engined: registered on " << a.device << " as generation " << hello.generation << " ("
                      << name << ", a worker per context, " << mem_mb << " MiB, " << (hello.ctx_mem >> 20) << " MiB a context"
                      << (hello.max_stack ? ", call stacks up to " + std::to_string(hello.max_stack) + " bytes" : "")
                      << ")\n";
            // Idle, ended workers are reaped all the same.
            err = serve_requests(
                fd.get(), &g_stop,
                [&](const vgpu_ue_req& req, const uint8_t* payload) { return router.handle(req, payload); },
                [&] { router.reap(); });
        }  // the workers end with the router
        if (g_stop || err != ENODEV)
            return err ? (std::cerr << "vgpu-engined: " << std::strerror(err) << "\n", 1) : 0;
        std::cerr << "vgpu-engined: session ended by the module; registering again\n";
    }
}

}  // namespace

int main(int argc, char** argv) {
    int status = 0;
    const auto args =
        vgpu::parse_main(vgpu::engine::engined_command(), vgpu::engine::parse_engined_args, argc, argv, status);
    if (!args)
        return status;
    const auto& a = *args;
    const std::string& kind = a.backend;
    uint64_t mem_mb = a.mem_mb;
    // Workers are reaped by their Router: never automatically (an ignored
    // SIGCHLD inherited from the caller would let a pid be reused under
    // kill()).  A Router in another program (libcudart's engine backends)
    // leaves that program's choice alone.
    std::signal(SIGCHLD, SIG_DFL);
    try {
        if (a.worker)
            return vgpu::engine::worker_main(3, kind, a.gpu);
        if (a.self_test)
            return vgpu::engine::self_test(kind == "auto" ? (a.workers ? "interp" : "cuda") : kind, a.gpu,
                                           a.kernels, a.workers);
        if (!mem_mb)
            mem_mb = module_mem_mb();
        if (a.workers)
            return serve_workers(a, mem_mb);
        auto m = makers(mem_mb << 20, a.gpu);
        auto backend = vgpu::engine::choose_backend(kind, "", m, std::cerr);
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        for (;;) {
            int err;
            {
                vgpu::engine::Bridge bridge(*backend, a.device);
                std::string pci = backend->pci();
                std::cerr << "vgpu-engined: registered on " << a.device << " as generation " << bridge.generation()
                          << " (" << backend->name() << ", " << mem_mb << " MiB"
                          << (pci.empty() ? "" : ", PCI " + pci) << ")\n";
                err = bridge.serve(&g_stop);
            }  // the session's contexts and windows go with the bridge
            if (g_stop || (err != ENODEV && err != ESTALE))
                return err ? (std::cerr << "vgpu-engined: " << std::strerror(err) << "\n", 1) : 0;
            // The module ended the session (an operation timed out), or
            // the back end's state was lost (ESTALE; closing the device
            // ended the session there, every context lost): its
            // objects are lost; start over with a fresh back end state,
            // the old one freed first.  -b auto that ran on the GPU stops
            // here rather than switch to the interpreter unannounced.
            std::cerr << "vgpu-engined: session ended " << (err == ENODEV ? "by the module" : "here")
                      << "; registering again\n";
            vgpu::engine::renew_backend(backend, kind, m, std::cerr);
        }
    } catch (const std::exception& e) {
        std::cerr << "vgpu-engined: " << e.what() << "\n";
        return 1;
    }
}
