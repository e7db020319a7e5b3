// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// bridge.hpp - vgpu-engined's side of the engine bridge: registers with
// /dev/vgpu-uengine, reads each request, runs it on a Backend, answers
// (protocol: include/uapi/drm/vgpu_uengine.h).
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "backend.hpp"
#include "vgpu/fd.hpp"
#include "vgpu_uengine.h"

namespace vgpu::engine {

using vgpu::Fd;

struct BridgeStats {
    uint64_t requests = 0;
    uint64_t runs = 0;
    uint64_t faults = 0;
};

class Bridge {
public:
    Bridge(Backend& backend, const std::string& device);
    // For tests and the fuzzer: serves @fd (owned; e.g. a memfd standing
    // in for the device's windows), without HELLO.
    Bridge(Backend& backend, int fd) : backend_(backend), fd_(fd) {}
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    uint64_t generation() const { return hello_.generation; }
    // Serves requests until the session ends or *stop becomes true;
    // returns the errno that ended it (0: stopped; ENODEV: the module
    // ended it; ESTALE: the back end is lost, BackendLost).
    int serve(const volatile std::sig_atomic_t* stop);
    const BridgeStats& stats() const { return stats_; }
    // Answers one request (the loop's body; also for tests).  A failed
    // operation answers an error; only BackendLost is thrown (serve()
    // then ends the session with ESTALE).
    vgpu_ue_resp handle(const vgpu_ue_req& req, const uint8_t* payload);
    // Windows mapped in this process (tests).
    size_t windows() const { return windows_.size(); }

private:
    // A window mmap()ed whole, kept whole until the last of its pages is
    // unmapped from the context: no part of it is ever munmap()ed alone,
    // so no later window can land inside a range the back end still has
    // registered.
    struct Window {
        uint8_t* p;
        uint64_t size;
        uint64_t pages;  // pages still mapped
    };
    // Host memory of a context: GPU address -> (window key, bytes into
    // it, bytes), split by partial unmaps; each page counts in its window.
    struct Seg {
        uint64_t window, off, len;
    };
    using Ranges = std::map<uint64_t, Seg>;

    int map(const vgpu_ue_req_map& m);
    int map_host(const vgpu_ue_req_map& m);
    void unmap_host(Ranges& r, uint64_t va, uint64_t size);
    int run(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp_run& out);
    int dispatch(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp);

    Backend& backend_;
    Fd fd_;
    vgpu_ue_hello hello_{};
    std::map<uint64_t, Ranges> host_;    // per context
    std::map<uint64_t, Window> windows_;  // by a key of this process
    uint64_t next_window_ = 1;
    std::map<uint64_t, Job> jobs_;
    BridgeStats stats_;
};

// The HELLO that registers @backend: this protocol's version, its memory,
// its name and its GPU's PCI address ("" for none), each cut to fit.
vgpu_ue_hello make_hello(const Backend& backend);
vgpu_ue_hello make_hello(const std::string& name, uint64_t mem_size, const Backend::Layout& layout,
                         const std::string& pci);
// Opens @device and registers there with @hello (its out fields filled);
// throws std::system_error saying why the module refused it.
Fd register_engine(const std::string& device, vgpu_ue_hello& hello);

// Whether @max may be announced as the largest call stack a context may
// be given (HELLO's max_stack): a power of two from
// 2 * DRM_VGPU_PTX_BASE_STACK to DRM_VGPU_PTX_MAX_STACK.
inline bool stack_bound_ok(uint32_t max) {
    return max >= 2 * DRM_VGPU_PTX_BASE_STACK && max <= DRM_VGPU_PTX_MAX_STACK && !(max & (max - 1));
}

// Whether CTX_STACK's @s may be asked of an engine whose contexts may
// be given @max bytes a thread at most: 0, EOPNOTSUPP where @max is 0
// (no stack announced), else EINVAL for a non-zero pad or a size that
// is no power of two from 2 * DRM_VGPU_PTX_BASE_STACK to @max.  The
// context is the caller's to look up.
int check_ctx_stack(const vgpu_ue_req_ctx_stack& s, uint32_t max);

// The answer to @req from @dispatch, which returns 0 or an errno and may
// fill the answer's body: an exception is an error (std::bad_alloc
// ENOMEM, another EIO, logged), BackendLost goes through; only a RUN that
// succeeded keeps a body.
vgpu_ue_resp answer(const vgpu_ue_req& req, const std::function<int(vgpu_ue_resp&)>& dispatch);

// Answers one request of the module (Bridge::handle, Router::handle);
// throws BackendLost when the session must end.
using Handler = std::function<vgpu_ue_resp(const vgpu_ue_req&, const uint8_t*)>;
// The request loop over the device @fd: reads each request, answers it
// with @handle, until the session ends or *@stop becomes true; returns
// the errno that ended it (0: stopped; ENODEV: the module ended it;
// ESTALE: BackendLost).  @idle, if set, runs after every 200 ms without
// a request.
int serve_requests(int fd, const volatile std::sig_atomic_t* stop, const Handler& handle,
                   const std::function<void()>& idle = {});
// What to tell the host's owner when the module refused @h's layout
// (-EDOM; the instance's layout is in @h's out fields).
std::string layout_refused(const vgpu_ue_hello& h);

// The device of vgpu-uengine's instance @gpu, vgpu-engined's default for
// -g @gpu: /dev/vgpu-uengine for 0, /dev/vgpu-uengineN for N (one
// process per GPU, instance N serving GPU N).
std::string device_for_gpu(int gpu);

// How vgpu-engined builds its back ends (tests pass others).
struct BackendMakers {
    std::function<std::unique_ptr<Backend>()> cuda, interp;
};
// The back end for -b @kind (auto, cuda, interp).  @previous names the
// last session's ("" at start): auto takes the GPU where there is one
// and else the interpreter, saying so on @log; after a session on the GPU
// it does not fall back silently: Unavailable, with the reason on @log.
std::unique_ptr<Backend> choose_backend(const std::string& kind, const std::string& previous,
                                        const BackendMakers& m, std::ostream& log);
// A new session's back end in place of @b: the old one is freed first
// (its device memory may leave no room for a second), then built again.
void renew_backend(std::unique_ptr<Backend>& b, const std::string& kind, const BackendMakers& m, std::ostream& log);

}  // namespace vgpu::engine
