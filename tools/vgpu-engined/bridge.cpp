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

#include <cerrno>
#include <cstring>
#include <system_error>

namespace vgpu::engine {

Bridge::Bridge(Backend& backend, const std::string& device) : backend_(backend) {
    fd_ = open(device.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "open " + device);
    hello_.version = VGPU_UE_VERSION;
    hello_.mem_size = backend.mem_size();
    std::snprintf(hello_.name, sizeof(hello_.name), "%s", backend.name().c_str());
    if (ioctl(fd_, VGPU_UE_IOC_HELLO, &hello_) < 0) {
        int e = errno;
        close(fd_);
        throw std::system_error(e, std::generic_category(),
                                e == EBUSY    ? "another engine process is registered"
                                : e == ENOSPC ? "less device memory than vgpu-uengine's mem_mb"
                                              : "HELLO refused");
    }
}

Bridge::~Bridge() {
    for (auto& [ctx, r] : host_)
        unmap_host(r, 0, UINT64_MAX);
    close(fd_);
}

void Bridge::unmap_host(Ranges& r, uint64_t va, uint64_t size) {
    uint64_t end = size > UINT64_MAX - va ? UINT64_MAX : va + size;
    for (auto it = r.begin(); it != r.end();) {
        uint64_t lo = it->first, hi = lo + it->second.second;
        uint8_t* p = it->second.first;
        if (hi <= va || lo >= end) {
            ++it;
            continue;
        }
        uint64_t cut_lo = std::max(lo, va), cut_hi = std::min(hi, end);
        munmap(p + (cut_lo - lo), cut_hi - cut_lo);
        it = r.erase(it);
        if (lo < cut_lo)
            r[lo] = {p, cut_lo - lo};
        if (cut_hi < hi)
            r[cut_hi] = {p + (cut_hi - lo), hi - cut_hi};
    }
}

int Bridge::map_host(const vgpu_ue_req& req) {
    void* p = mmap(nullptr, req.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_,
                   static_cast<off_t>(req.obj << VGPU_UE_WINDOW_SHIFT));
    if (p == MAP_FAILED)
        return errno;
    Backing b;
    b.host = static_cast<uint8_t*>(p);
    int ret = backend_.map(req.ctx, req.va, req.size, req.perms, b);
    if (ret) {
        munmap(p, req.size);
        return ret;
    }
    host_[req.ctx][req.va] = {b.host, req.size};
    return 0;
}

int Bridge::run(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp) {
    auto it = jobs_.find(req.obj);
    if (req.payload_len) {
        if (req.payload_len % sizeof(drm_vgpu_cmd) || req.kind + req.payload_len / sizeof(drm_vgpu_cmd) != req.perms)
            return EINVAL;
        Job j;
        j.cmds.resize(req.payload_len / sizeof(drm_vgpu_cmd));
        std::memcpy(j.cmds.data(), payload, req.payload_len);
        j.base = req.kind;
        it = jobs_.insert_or_assign(req.obj, std::move(j)).first;
    }
    if (it == jobs_.end())
        return ENOENT;
    Job& job = it->second;
    if (req.kind < job.base || req.kind > job.base + job.cmds.size())
        return EINVAL;
    job.next = req.kind;
    job.cmd_done = req.offset;
    job.cmd_busy_ns = req.busy;
    stats_.runs++;
    RunResult r = backend_.run(req.ctx, job, req.va, req.size);
    resp.status = r.status == RunStatus::Done        ? VGPU_UE_RUN_DONE
                  : r.status == RunStatus::Preempted ? VGPU_UE_RUN_PREEMPTED
                  : r.status == RunStatus::Faulted   ? VGPU_UE_RUN_FAULTED
                                                     : VGPU_UE_RUN_TIMEDOUT;
    resp.next_cmd = job.next;
    resp.cmd_done = job.cmd_done;
    resp.cmd_busy_ns = job.cmd_busy_ns;
    resp.busy_ns = r.busy_ns;
    resp.fault_kind = r.fault_kind;
    resp.fault_addr = r.fault_addr;
    if (r.status == RunStatus::Faulted)
        stats_.faults++;
    if (r.status != RunStatus::Preempted)
        jobs_.erase(it);
    return 0;
}

vgpu_ue_resp Bridge::handle(const vgpu_ue_req& req, const uint8_t* payload) {
    vgpu_ue_resp resp{};
    int err = 0;

    resp.seq = req.seq;
    stats_.requests++;
    switch (req.op) {
    case VGPU_UE_OP_CTX_CREATE:
        err = backend_.ctx_create(req.ctx);
        break;
    case VGPU_UE_OP_CTX_DESTROY:
        backend_.ctx_destroy(req.ctx);
        if (auto h = host_.find(req.ctx); h != host_.end()) {
            unmap_host(h->second, 0, UINT64_MAX);
            host_.erase(h);
        }
        break;
    case VGPU_UE_OP_MEM_ALLOC:
        err = backend_.mem_alloc(req.obj, req.size);
        break;
    case VGPU_UE_OP_MEM_FREE:
        backend_.mem_free(req.obj);
        break;
    case VGPU_UE_OP_MAP:
        if (req.kind == VGPU_UE_MAP_HOST) {
            err = map_host(req);
        } else {
            Backing b;
            b.mem = req.obj;
            b.offset = req.offset;
            err = backend_.map(req.ctx, req.va, req.size, req.perms, b);
        }
        break;
    case VGPU_UE_OP_UNMAP:
        backend_.unmap(req.ctx, req.va, req.size);
        if (auto h = host_.find(req.ctx); h != host_.end())
            unmap_host(h->second, req.va, req.size);
        break;
    case VGPU_UE_OP_RUN:
        err = run(req, payload, resp);
        break;
    case VGPU_UE_OP_JOB_RELEASE:
        jobs_.erase(req.obj);
        break;
    default:
        err = EOPNOTSUPP;
    }
    resp.error = -err;
    return resp;
}

int Bridge::serve(const volatile bool* stop) {
    std::vector<uint8_t> buf(VGPU_UE_MAX_MSG);

    while (!*stop) {
        pollfd p{fd_, POLLIN, 0};
        int n = poll(&p, 1, 200);
        if (n < 0 && errno != EINTR)
            return errno;
        if (n <= 0)
            continue;
        if (p.revents & (POLLHUP | POLLERR))
            return ENODEV;
        ssize_t len = read(fd_, buf.data(), buf.size());
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
        vgpu_ue_resp resp = handle(req, buf.data() + sizeof(req));
        if (write(fd_, &resp, sizeof(resp)) < 0 && errno != ENOENT)
            return errno;
    }
    return 0;
}

}  // namespace vgpu::engine
