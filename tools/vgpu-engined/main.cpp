// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-engined - the dom0 engine process of GPUvm: registers with
// vgpu-uengine.ko and runs the engine operations of vgpu-back on an
// NVIDIA GPU (CUDA driver API, loaded at run time) or on the
// interpreter.  See vgpu-engined(8) and Documentation/engines.rst.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

#include "bridge.hpp"
#include "selftest.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

int usage(const char* why) {
    if (why)
        std::cerr << "vgpu-engined: " << why << "\n";
    std::cerr << "usage: vgpu-engined [-b auto|cuda|interp] [-d DEVICE] [-m MEM_MB] [-g GPU]\n"
                 "       (DEVICE defaults to GPU's: /dev/vgpu-uengine for 0, /dev/vgpu-uengineN for N)\n"
                 "       vgpu-engined --self-test [-b cuda|interp] [-k KERNEL_DIR] [-g GPU]\n";
    return 2;
}

// The device memory the module promises (its mem_mb), the default here.
uint64_t module_mem_mb() {
    std::ifstream f("/sys/module/vgpu_uengine/parameters/mem_mb");
    uint64_t mb = 0;
    if (!(f >> mb))
        mb = 256;
    return mb;
}

vgpu::engine::BackendMakers makers(uint64_t mem, int gpu) {
    using namespace vgpu::engine;
    return {[=] { return make_cuda_backend(mem, gpu); }, [=] { return make_interp_backend(mem); }};
}

}  // namespace

int main(int argc, char** argv) {
    std::string kind = "auto", device, kernels;
    uint64_t mem_mb = 0;
    int gpu = 0;
    bool selftest = false;

    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto arg = [&](const char* what) -> std::string {
            if (i + 1 >= argc)
                std::exit(usage((a + " needs " + what).c_str()));
            return argv[++i];
        };
        try {
            if (a == "-b" || a == "--backend")
                kind = arg("a back end");
            else if (a == "-d" || a == "--device")
                device = arg("a path");
            else if (a == "-m" || a == "--mem-mb")
                mem_mb = std::stoull(arg("MiB"));
            else if (a == "-g" || a == "--gpu")
                gpu = std::stoi(arg("a number"));
            else if (a == "-k" || a == "--kernels")
                kernels = arg("a directory");
            else if (a == "--self-test")
                selftest = true;
            else if (a == "-h" || a == "--help")
                return usage(nullptr), 0;
            else
                return usage(("unknown option " + a).c_str());
        } catch (const std::logic_error&) {
            return usage(("bad value for " + a).c_str());
        }
    }
    if (kind != "auto" && kind != "cuda" && kind != "interp")
        return usage("the back end is auto, cuda or interp");
    if (gpu < 0)
        return usage("the GPU is a number from 0");
    // One process per GPU: GPU N serves the module's instance N.
    if (device.empty())
        device = vgpu::engine::device_for_gpu(gpu);
    try {
        if (selftest)
            return vgpu::engine::self_test(kind == "auto" ? "cuda" : kind, gpu, kernels);
        if (!mem_mb)
            mem_mb = module_mem_mb();
        auto m = makers(mem_mb << 20, gpu);
        auto backend = vgpu::engine::choose_backend(kind, "", m, std::cerr);
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        for (;;) {
            int err;
            {
                vgpu::engine::Bridge bridge(*backend, device);
                std::string pci = backend->pci();
                std::cerr << "vgpu-engined: registered on " << device << " as generation " << bridge.generation()
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
