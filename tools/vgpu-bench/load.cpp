// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "load.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <deque>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels.hpp"
#include "vgpu_drm.h"
#include "vgpu/asm.hpp"

namespace bench {

std::string SpinResult::json() const {
    char b[160];
    std::snprintf(b, sizeof(b), "{\"workload\":\"spin\",\"launches\":%llu,\"seconds\":%.3f}",
                  static_cast<unsigned long long>(launches), seconds);
    return b;
}

SpinResult spin(const std::shared_ptr<vgpu::Device>& dev, const SpinOptions& o) {
    struct Lane {
        vgpu::Context ctx;
        vgpu::Module mod;
        vgpu::Buffer out;
        vgpu::Kernel k;
        std::deque<std::shared_ptr<vgpu::Fence>> inflight;
        explicit Lane(const std::shared_ptr<vgpu::Device>& d)
            : ctx(d), mod(ctx, vgpu::assemble(kAluKernel, "spin")), out(ctx, 4 * 64 * 8, vgpu::Domain::Device),
              k(mod.kernel("alu")) {}
    };
    std::vector<std::unique_ptr<Lane>> lanes;
    for (unsigned int i = 0; i < o.contexts; i++) lanes.push_back(std::make_unique<Lane>(dev));
    using Clock = std::chrono::steady_clock;
    auto t0 = Clock::now();
    auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    SpinResult r;
    while (Clock::now() < end && !(o.stop && o.stop->load())) {
        for (auto& l : lanes) {
            while (l->inflight.size() < o.depth) {
                l->inflight.push_back(l->ctx.launch(l->k, {4}, {64}, {o.iterations, l->out}));
                r.launches++;
            }
        }
        // Wait for the oldest launch of the first lane; the others keep
        // their queues meanwhile.
        for (auto& l : lanes) {
            for (int st; !l->inflight.empty() && (st = l->inflight.front()->status()) != 0;) {
                if (st < 0) l->ctx.check();
                l->inflight.pop_front();
            }
        }
        auto& first = lanes.front()->inflight;
        if (first.size() >= o.depth && !first.front()->wait(std::chrono::seconds(60)))
            throw std::runtime_error("spin: a launch did not complete in 60 s");
    }
    for (auto& l : lanes) l->ctx.synchronize();
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

StormResult storm(const std::shared_ptr<vgpu::Device>& dev, const std::atomic<bool>& stop) {
    const vgpu::DeviceInfo& in = dev->info();
    StormResult r;
    while (!stop.load()) {
        drm_vgpu_ctx_create c{};
        if (int e = dev->try_ioctl(DRM_IOCTL_VGPU_CTX_CREATE, &c)) {
            if (e != EBUSY) throw vgpu::Error(e, "storm: VGPU_CTX_CREATE");
            r.refused++;
            continue;
        }
        r.contexts++;
        drm_vgpu_cmd fill{};
        fill.op = DRM_VGPU_CMD_FILL;
        fill.dst = in.va_end - in.page_size;  // nothing is mapped there
        fill.size = 4096;
        fill.value = 0xbad;
        drm_vgpu_submit s{};
        s.ctx_id = c.ctx_id;
        s.num_cmds = 1;
        s.cmds = reinterpret_cast<uintptr_t>(&fill);
        if (!dev->try_ioctl(DRM_IOCTL_VGPU_SUBMIT, &s)) {
            // Its fault, within a second.
            drm_vgpu_ctx_status st{};
            st.ctx_id = c.ctx_id;
            for (int k = 0; k < 1000 && !stop.load(); k++) {
                if (dev->try_ioctl(DRM_IOCTL_VGPU_CTX_STATUS, &st) || st.status != DRM_VGPU_CTX_OK) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            r.faults += st.status == DRM_VGPU_CTX_FAULTED;
        }
        drm_vgpu_ctx_destroy d{c.ctx_id, 0};
        dev->try_ioctl(DRM_IOCTL_VGPU_CTX_DESTROY, &d);
    }
    return r;
}

unsigned int hog(const std::shared_ptr<vgpu::Device>& dev, double hold_s, unsigned int limit_mib) {
    vgpu::Context ctx(dev);
    std::vector<std::unique_ptr<vgpu::Buffer>> held;
    for (unsigned int i = 0; i < limit_mib; i++) {
        try {
            held.push_back(std::make_unique<vgpu::Buffer>(ctx, 1 << 20, vgpu::Domain::Device));
        } catch (const vgpu::Error& e) {
            if (e.code() != EDQUOT) throw;
            std::printf("hog: %zu MiB, then EDQUOT\n", held.size());
            std::fflush(stdout);
            std::this_thread::sleep_for(std::chrono::duration<double>(hold_s));
            return static_cast<unsigned int>(held.size());
        }
    }
    throw std::runtime_error("hog: no quota stopped it at " + std::to_string(limit_mib) + " MiB");
}

}  // namespace bench
