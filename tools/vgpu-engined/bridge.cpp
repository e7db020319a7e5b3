// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// bridge.cpp - the request loop of vgpu-engined (see bridge.hpp).
#include "bridge.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <system_error>

namespace vgpu::engine {

// The protocol's sizes are fixed (vgpu_uengine.h), as the module asserts
// (uengine/vgpu_ue_check.c): a header and a union of one member per
// operation, each of its documented size.
static_assert(sizeof(vgpu_ue_req) == 72);
static_assert(sizeof(vgpu_ue_req) == VGPU_UE_REQ_HDR_LEN + VGPU_UE_REQ_BODY_LEN);
static_assert(offsetof(vgpu_ue_req, raw) == VGPU_UE_REQ_HDR_LEN);
static_assert(sizeof(vgpu_ue_resp) == 64);
static_assert(sizeof(vgpu_ue_resp) == VGPU_UE_RESP_HDR_LEN + VGPU_UE_RESP_BODY_LEN);
static_assert(offsetof(vgpu_ue_resp, raw) == VGPU_UE_RESP_HDR_LEN);
static_assert(sizeof(vgpu_ue_req_ctx_create) == 16 && sizeof(vgpu_ue_req_ctx_destroy) == 8);
static_assert(sizeof(vgpu_ue_req_mem_alloc) == 16 && sizeof(vgpu_ue_req_mem_free) == 8);
static_assert(sizeof(vgpu_ue_req_map) == 48 && sizeof(vgpu_ue_req_unmap) == 24);
static_assert(sizeof(vgpu_ue_req_run) == 56 && sizeof(vgpu_ue_req_job_release) == 8);
static_assert(sizeof(vgpu_ue_req_run) <= VGPU_UE_REQ_BODY_LEN && sizeof(vgpu_ue_req_map) <= VGPU_UE_REQ_BODY_LEN);
static_assert(sizeof(vgpu_ue_req_ctx_stack) == 16);
static_assert(sizeof(vgpu_ue_resp_run) == VGPU_UE_RESP_BODY_LEN);
static_assert(sizeof(vgpu_ue_hello) == 168);

Bridge::Bridge(Backend& backend, const std::string& device) : backend_(backend) {
    hello_ = make_hello(backend);
    fd_ = register_engine(device, hello_);
}

Fd register_engine(const std::string& device, vgpu_ue_hello& hello) {
    Fd fd(open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd)
        throw std::system_error(errno, std::generic_category(), "open " + device);
    std::string pci = hello.pci;
    if (ioctl(fd.get(), VGPU_UE_IOC_HELLO, &hello) < 0) {
        int e = errno;
        throw std::system_error(e, std::generic_category(),
                                e == EBUSY    ? "another engine process is registered on " + device
                                : e == ENOSPC ? "less device memory than vgpu-uengine's mem_mb"
                                : e == EDOM   ? layout_refused(hello)
                                : e == EINVAL ? "PCI address \"" + pci + "\" or address layout refused"
                                : e == EPROTO || e == ENOTTY
                                    ? "vgpu-uengine speaks another protocol version than this vgpu-engined (" +
                                          std::to_string(VGPU_UE_VERSION) + "): install the pair of one release"
                                    : "HELLO refused");
    }
    return fd;
}

std::string layout_refused(const vgpu_ue_hello& h) {
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "this back end maps %llu KiB pages in [%#llx, %#llx), the instance %llu KiB pages in [%#llx, "
                  "%#llx): load vgpu-uengine with a page_kb, va_start_gb and va_end_gb it can serve",
                  (1ull << h.page_shift) >> 10, static_cast<unsigned long long>(h.va_lo),
                  static_cast<unsigned long long>(h.va_hi),
                  h.engine_page_shift < 64 ? (1ull << h.engine_page_shift) >> 10 : 0ull,
                  static_cast<unsigned long long>(h.engine_va_start),
                  static_cast<unsigned long long>(h.engine_va_end));
    return buf;
}

vgpu_ue_hello make_hello(const Backend& backend) {
    return make_hello(backend.name(), backend.mem_size(), backend.layout(), backend.pci());
}

vgpu_ue_hello make_hello(const std::string& name, uint64_t mem_size, const Backend::Layout& l,
                         const std::string& pci) {
    vgpu_ue_hello h{};
    h.version = VGPU_UE_VERSION;
    h.mem_size = mem_size;
    h.page_shift = l.page_shift;
    h.va_lo = l.va_lo;
    h.va_hi = l.va_hi;
    std::snprintf(h.name, sizeof(h.name), "%s", name.c_str());
    // Cut to fit, NUL-terminated, every byte after it zero (as the
    // module checks; it refuses the address if it is no address).
    std::memcpy(h.pci, pci.data(), std::min(pci.size(), sizeof(h.pci) - 1));
    return h;
}

std::string device_for_gpu(int gpu) {
    return gpu ? "/dev/vgpu-uengine" + std::to_string(gpu) : "/dev/vgpu-uengine";
}

Bridge::~Bridge() {
    // The session is over: its contexts go before the windows they map.
    for (auto& [ctx, r] : host_) {
        backend_.ctx_destroy(ctx);
        unmap_host(r, 0, UINT64_MAX);
    }
    for (auto& [k, w] : windows_)  // none left; defensive
        munmap(w.p, w.size);
}

// Drops the pages of [va, va + size) from @r; a window whose last page
// goes is munmap()ed whole.  The back end has let go of it already: its
// unmap() returns once the GPU's tables no longer reach the pages, or
// throws BackendLost (the session ends, nothing is munmap()ed before
// every context is destroyed).
void Bridge::unmap_host(Ranges& r, uint64_t va, uint64_t size) {
    uint64_t end = size > UINT64_MAX - va ? UINT64_MAX : va + size;
    auto it = r.upper_bound(va);
    if (it != r.begin())
        --it;
    while (it != r.end() && it->first < end) {
        uint64_t lo = it->first, hi = lo + it->second.len;
        Seg seg = it->second;
        if (hi <= va) {
            ++it;
            continue;
        }
        uint64_t cut_lo = std::max(lo, va), cut_hi = std::min(hi, end);
        it = r.erase(it);
        if (lo < cut_lo)
            r[lo] = {seg.window, seg.off, cut_lo - lo};
        if (cut_hi < hi)
            it = r.insert({cut_hi, {seg.window, seg.off + (cut_hi - lo), hi - cut_hi}}).first;
        auto w = windows_.find(seg.window);
        uint64_t pages = (cut_hi - cut_lo) / 4096;
        if (w == windows_.end() || (w->second.pages -= std::min(pages, w->second.pages)))
            continue;
        munmap(w->second.p, w->second.size);
        windows_.erase(w);
    }
}

int Bridge::map_host(const vgpu_ue_req_map& m) {
    // The window's offset must fit a signed off_t (vgpu_uengine.h); a
    // window starts where the range's memory does (offset zero).
    if (m.window > (uint64_t{INT64_MAX} >> VGPU_UE_WINDOW_SHIFT) || !m.size || m.size & 4095 || m.offset)
        return EINVAL;
    void* p = mmap(nullptr, m.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(),
                   static_cast<off_t>(m.window << VGPU_UE_WINDOW_SHIFT));
    if (p == MAP_FAILED)
        return errno;
    // munmap()s the window unless it is handed over below (an error, or
    // bad_alloc from the back end or the maps here).
    auto unmap_window = [&](void* w) { munmap(w, m.size); };
    std::unique_ptr<void, decltype(unmap_window)> guard(p, unmap_window);
    Backing b;
    b.host = static_cast<uint8_t*>(p);
    b.fd = fd_.get();
    b.fd_offset = m.window << VGPU_UE_WINDOW_SHIFT;
    if (int ret = backend_.map(m.ctx, m.va, m.size, m.perms, b))
        return ret;
    // The back end mapped every page, so none of them was mapped before.
    try {
        Ranges& r = host_[m.ctx];
        unmap_host(r, m.va, m.size);
        uint64_t key = next_window_++;
        auto w = windows_.emplace(key, Window{b.host, m.size, m.size / 4096}).first;
        try {
            r[m.va] = {key, 0, m.size};
        } catch (const std::bad_alloc&) {
            windows_.erase(w);
            throw;
        }
        guard.release();
    } catch (const std::bad_alloc&) {
        backend_.unmap(m.ctx, m.va, m.size);  // before the window goes
        throw;
    }
    return 0;
}

int Bridge::map(const vgpu_ue_req_map& m) {
    if (m.kind == VGPU_UE_MAP_HOST)
        return map_host(m);
    if (m.kind != VGPU_UE_MAP_DEVICE)
        return EINVAL;
    Backing b;
    b.mem = m.mem;
    b.offset = m.offset;
    return backend_.map(m.ctx, m.va, m.size, m.perms, b);
}

int Bridge::run(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp_run& out) {
    const vgpu_ue_req_run& q = req.run;
    auto it = jobs_.find(q.job);
    if (req.payload_len) {
        if (req.payload_len % sizeof(drm_vgpu_cmd) ||
            q.next_cmd + uint64_t{req.payload_len / sizeof(drm_vgpu_cmd)} != q.num_cmds)
            return EINVAL;
        Job j;
        j.cmds.resize(req.payload_len / sizeof(drm_vgpu_cmd));
        std::memcpy(j.cmds.data(), payload, req.payload_len);
        j.base = q.next_cmd;
        it = jobs_.insert_or_assign(q.job, std::move(j)).first;
    }
    if (it == jobs_.end())
        return ENOENT;
    Job& job = it->second;
    if (q.next_cmd < job.base || q.next_cmd > job.base + job.cmds.size())
        return EINVAL;
    job.next = q.next_cmd;
    job.cmd_done = q.cmd_done;
    job.cmd_busy_ns = q.cmd_busy_ns;
    stats_.runs++;
    RunResult r;
    try {
        r = backend_.run(q.ctx, job, q.budget_ns, q.watchdog_ns);
    } catch (...) {
        jobs_.erase(it);
        throw;
    }
    out.status = r.status == RunStatus::Done        ? VGPU_UE_RUN_DONE
                 : r.status == RunStatus::Preempted ? VGPU_UE_RUN_PREEMPTED
                 : r.status == RunStatus::Faulted   ? VGPU_UE_RUN_FAULTED
                                                    : VGPU_UE_RUN_TIMEDOUT;
    out.next_cmd = job.next;
    out.cmd_done = job.cmd_done;
    out.cmd_busy_ns = job.cmd_busy_ns;
    out.busy_ns = r.busy_ns;
    // A fault's record only in a FAULTED answer (the module checks).
    if (r.status == RunStatus::Faulted) {
        out.fault_kind = r.fault_kind;
        out.fault_addr = r.fault_addr;
        stats_.faults++;
    }
    if (r.status != RunStatus::Preempted)
        jobs_.erase(it);
    return 0;
}

int check_ctx_stack(const vgpu_ue_req_ctx_stack& s, uint32_t max) {
    if (!max)
        return EOPNOTSUPP;
    const uint32_t n = s.stack_size;
    return s.pad || n < 2 * DRM_VGPU_PTX_BASE_STACK || n > max || (n & (n - 1)) ? EINVAL : 0;
}

vgpu_ue_resp Bridge::handle(const vgpu_ue_req& req, const uint8_t* payload) {
    stats_.requests++;
    return answer(req, [&](vgpu_ue_resp& resp) { return dispatch(req, payload, resp); });
}

vgpu_ue_resp answer(const vgpu_ue_req& req, const std::function<int(vgpu_ue_resp&)>& dispatch) {
    vgpu_ue_resp resp{};
    int err;

    try {
        err = dispatch(resp);
    } catch (const BackendLost&) {
        throw;
    } catch (const std::bad_alloc&) {
        err = ENOMEM;
    } catch (const std::exception& e) {
        std::cerr << "vgpu-engined: op " << req.op << ": " << e.what() << "\n";
        err = EIO;
    }
    // Only a RUN that succeeded answers a body; the module refuses any
    // other answer that has one.
    if (err)
        resp = {};
    resp.seq = req.seq;
    resp.error = -err;
    return resp;
}

int Bridge::dispatch(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp) {
    int err = 0;

    // Only a RUN has a payload.
    if (req.payload_len && req.op != VGPU_UE_OP_RUN)
        return EINVAL;
    switch (req.op) {
    case VGPU_UE_OP_CTX_CREATE:
        err = backend_.ctx_create(req.ctx_create.ctx, req.ctx_create.group);
        break;
    case VGPU_UE_OP_CTX_DESTROY:
        backend_.ctx_destroy(req.ctx_destroy.ctx);
        if (auto h = host_.find(req.ctx_destroy.ctx); h != host_.end()) {
            unmap_host(h->second, 0, UINT64_MAX);
            host_.erase(h);
        }
        break;
    case VGPU_UE_OP_MEM_ALLOC:
        err = backend_.mem_alloc(req.mem_alloc.mem, req.mem_alloc.size);
        break;
    case VGPU_UE_OP_MEM_FREE:
        backend_.mem_free(req.mem_free.mem);
        break;
    case VGPU_UE_OP_MAP:
        err = map(req.map);
        break;
    case VGPU_UE_OP_UNMAP:
        backend_.unmap(req.unmap.ctx, req.unmap.va, req.unmap.size);
        if (auto h = host_.find(req.unmap.ctx); h != host_.end())
            unmap_host(h->second, req.unmap.va, req.unmap.size);
        break;
    case VGPU_UE_OP_RUN:
        err = run(req, payload, resp.run);
        break;
    case VGPU_UE_OP_JOB_RELEASE:
        jobs_.erase(req.job_release.job);
        break;
    case VGPU_UE_OP_CTX_STACK:
        // The back end looks the context up (EINVAL for none).
        err = check_ctx_stack(req.ctx_stack, backend_.max_stack());
        if (!err)
            err = backend_.ctx_stack(req.ctx_stack.ctx, req.ctx_stack.stack_size);
        break;
    default:
        err = EOPNOTSUPP;
    }
    return err;
}

int Bridge::serve(const volatile std::sig_atomic_t* stop) {
    return serve_requests(fd_.get(), stop, [this](const vgpu_ue_req& req, const uint8_t* payload) {
        return handle(req, payload);
    });
}

int serve_requests(int fd, const volatile std::sig_atomic_t* stop, const Handler& handle,
                   const std::function<void()>& idle) {
    std::vector<uint8_t> buf(VGPU_UE_MAX_MSG);

    while (!*stop) {
        pollfd p{fd, POLLIN, 0};
        int n = poll(&p, 1, 200);
        if (n < 0 && errno != EINTR)
            return errno;
        if (!n && idle)
            idle();
        if (n <= 0)
            continue;
        if (p.revents & (POLLHUP | POLLERR))
            return ENODEV;
        ssize_t len = read(fd, buf.data(), buf.size());
        if (len < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return errno;
        }
        vgpu_ue_req req;
        if (static_cast<size_t>(len) < sizeof(req))
            return EPROTO;
        std::memcpy(&req, buf.data(), sizeof(req));
        if (sizeof(req) + req.payload_len != static_cast<size_t>(len))
            return EPROTO;
        vgpu_ue_resp resp;
        try {
            resp = handle(req, buf.data() + sizeof(req));
        } catch (const BackendLost& e) {
            std::cerr << "vgpu-engined: " << e.what() << "; ending the session\n";
            return ESTALE;
        }
        if (write(fd, &resp, sizeof(resp)) < 0 && errno != ENOENT)
            return errno;
    }
    return 0;
}

std::unique_ptr<Backend> choose_backend(const std::string& kind, const std::string& previous,
                                        const BackendMakers& m, std::ostream& log) {
    if (kind == "interp")
        return m.interp();
    if (kind == "cuda")
        return m.cuda();
    try {
        return m.cuda();
    } catch (const Unavailable& e) {
        if (previous.rfind("cuda", 0) == 0) {
            log << "vgpu-engined: the GPU of the last session (" << previous << ") is gone: " << e.what()
                << "; not switching to the interpreter (-b auto); restart vgpu-engined to choose again\n";
            throw;
        }
        log << "vgpu-engined: no GPU (" << e.what() << "): using the interpreter\n";
        return m.interp();
    }
}

void renew_backend(std::unique_ptr<Backend>& b, const std::string& kind, const BackendMakers& m, std::ostream& log) {
    std::string previous = b ? b->name() : "";
    b.reset();  // its device memory first: a GPU may hold only one
    b = choose_backend(kind, previous, m, log);
    if (b->name() != previous)
        log << "vgpu-engined: back end " << (previous.empty() ? "(none)" : previous) << " -> " << b->name() << "\n";
}

}  // namespace vgpu::engine
