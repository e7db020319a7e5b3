// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// worker.cpp - a worker process of vgpu-engined (`--worker`, started by
// the Router, router.hpp): one context's back end in a process of its
// own.  Its requests are the module's, forwarded whole, answered by a
// Bridge of its own (bridge.cpp) over the session's windows; its device
// memory is the engine process's (memfd memory here), imported.  Also
// that memory and how workers are started.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bridge.hpp"
#include "router.hpp"
#include "worker_link.hpp"

extern char** environ;

namespace vgpu::engine {
namespace {

class MemfdMemory final : public SharedMemory {
public:
    explicit MemfdMemory(uint64_t size) : size_(size) {}
    uint64_t size() const override { return size_; }
    int alloc(uint64_t mem, uint64_t size) override {
        size = (size + 4095) & ~uint64_t{4095};
        if (mems_.count(mem))
            return EEXIST;
        if (!size || size > size_ - used_)
            return ENOSPC;
        vgpu::Fd fd(memfd_create("vgpu-mem", MFD_CLOEXEC));
        if (!fd)
            return errno;
        // Zero-filled, as every new owner's memory must be; its pages
        // come when first touched.
        if (ftruncate(fd.get(), static_cast<off_t>(size)) < 0)
            return errno;
        mems_.emplace(mem, Mem{std::move(fd), size});
        used_ += size;
        return 0;
    }
    void free(uint64_t mem) override {
        auto it = mems_.find(mem);
        if (it == mems_.end())
            return;
        used_ -= it->second.size;
        mems_.erase(it);
    }
    // One piece: the memfd.
    uint64_t pieces(uint64_t mem, uint64_t* size) const override {
        auto it = mems_.find(mem);
        if (it == mems_.end())
            return 0;
        *size = it->second.size;
        return 1;
    }
    vgpu::Fd export_piece(uint64_t mem, uint64_t i) const override {
        auto it = mems_.find(mem);
        if (it == mems_.end() || i)
            return vgpu::Fd();
        return vgpu::Fd(fcntl(it->second.fd.get(), F_DUPFD_CLOEXEC, 0));
    }
    int read(uint64_t mem, uint64_t off, void* dst, uint64_t size) const override {
        return io(mem, off, size, [&](int fd) { return pread(fd, dst, size, static_cast<off_t>(off)); });
    }
    int write(uint64_t mem, uint64_t off, const void* src, uint64_t size) override {
        return io(mem, off, size, [&](int fd) { return pwrite(fd, src, size, static_cast<off_t>(off)); });
    }

private:
    struct Mem {
        vgpu::Fd fd;
        uint64_t size;
    };
    template <typename F>
    int io(uint64_t mem, uint64_t off, uint64_t size, F&& rw) const {
        const Mem* m = table_range(mems_, mem, off, size);
        if (!m)
            return EINVAL;
        ssize_t n = rw(m->fd.get());
        return n < 0 ? errno : static_cast<uint64_t>(n) == size ? 0 : EIO;
    }
    uint64_t size_, used_ = 0;
    std::map<uint64_t, Mem> mems_;
};

// Answers @f (a frame of the engine process) on @be through @br.
int serve_frame(Backend& be, Bridge& br, link::Frame& f, int sock) {
    link::Header h{};
    h.kind = f.h.kind;
    vgpu_ue_resp resp{};
    size_t len = 0;
    switch (static_cast<link::Kind>(f.h.kind)) {
    case link::Kind::Import:
        h.err = f.fd ? be.mem_import(f.h.mem, f.fd.get(), f.h.size, f.h.arg) : EINVAL;
        break;
    case link::Kind::Forget:
        be.mem_free(f.h.mem);
        break;
    case link::Kind::Request: {
        vgpu_ue_req req;
        if (f.body.size() < sizeof(req))
            return EPROTO;
        std::memcpy(&req, f.body.data(), sizeof(req));
        if (req.payload_len != f.body.size() - sizeof(req))
            return EPROTO;
        resp = br.handle(req, f.body.data() + sizeof(req));  // BackendLost: the worker ends
        len = sizeof(resp);
        h.arg = be.lost();  // then it ends after this answer
        break;
    }
    default:
        return EPROTO;
    }
    return link::send_frame(sock, h, &resp, len);
}

// Answers request @req (a vgpu_ue_req and its payload) from @mb's
// mailbox on @be through @br.
int serve_mailbox(Backend& be, Bridge& br, link::Mailbox& mb, const std::vector<uint8_t>& req) {
    vgpu_ue_req r;
    if (req.size() < sizeof(r))
        return EPROTO;
    std::memcpy(&r, req.data(), sizeof(r));
    if (r.payload_len != req.size() - sizeof(r))
        return EPROTO;
    vgpu_ue_resp resp = br.handle(r, req.data() + sizeof(r));  // BackendLost: the worker ends
    mb.answer(&resp, sizeof(resp), 0, be.lost());
    return 0;
}

}  // namespace

std::unique_ptr<SharedMemory> make_memfd_memory(uint64_t size) { return std::make_unique<MemfdMemory>(size); }

Spawn exec_spawner(const std::string& exe, const std::string& backend, int gpu, std::vector<std::string> unset) {
    unset.emplace_back("CUDA_CACHE_DISABLE");
    return [exe, backend, gpu, unset] {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        WorkerProc w;
        w.sock = vgpu::Fd(sv[0]);
        vgpu::Fd child(sv[1]);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        // dup2() onto 3 clears close-on-exec there (and nowhere else).
        posix_spawn_file_actions_adddup2(&fa, child.get(), 3);
        // A guest's kernel has no printf to a worker's standard output.
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        const std::string g = std::to_string(gpu);
        const char* argv[] = {exe.c_str(), "--worker", "-b", backend.c_str(), "-g", g.c_str(), nullptr};
        // No compile cache on disk shared by the workers: how long a
        // guest's compile takes would tell it what other guests ran.
        std::vector<std::string> env{"CUDA_CACHE_DISABLE=1"};
        for (char** p = environ; *p; p++) {
            std::string_view v(*p);
            if (std::none_of(unset.begin(), unset.end(), [v](const std::string& u) {
                    return v.size() > u.size() && v[u.size()] == '=' && v.substr(0, u.size()) == u;
                }))
                env.emplace_back(*p);
        }
        std::vector<char*> envp;
        for (auto& v : env)
            envp.push_back(v.data());
        envp.push_back(nullptr);
        int e = posix_spawn(&w.pid, exe.c_str(), &fa, nullptr, const_cast<char**>(argv), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        if (e)
            throw std::system_error(e, std::generic_category(), "starting a worker (" + exe + ")");
        return w;
    };
}

int worker_main(int sock, const std::string& backend, int gpu) {
    // The engine process may die first: its socket closing ends the loop,
    // and its death kills a worker busy in a kernel (had it died before
    // this, the first read finds the socket closed).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGPIPE, SIG_IGN);
    // Nothing of the engine process but the socket: no descriptor of
    // another context's memory or of the driver's.
    close_range(static_cast<unsigned>(sock) + 1, ~0U, 0);
    signal(SIGINT, SIG_IGN);  // a terminal's ^C is the engine process's to act on
    if (backend != "interp" && backend != "cuda") {
        std::cerr << "vgpu-engined worker: no back end " << backend << "\n";
        return 2;
    }
    // No device memory of its own: it imports the engine process's.
    std::unique_ptr<Backend> be = backend == "cuda" ? make_cuda_backend(0, gpu) : make_interp_backend(0);
    link::Frame f;
    if (link::recv_frame(sock, f, UINT64_MAX) || f.h.kind != uint32_t(link::Kind::Start) || !f.fd)
        return 2;
    if (f.h.size)  // the instance's GPU addresses
        be->use_window(f.h.mem, f.h.mem + f.h.size);
    Bridge br(*be, dup(f.fd.get()));
    f.fd.reset();
    link::Header ok{};
    ok.kind = f.h.kind;
    if (link::send_frame(sock, ok, nullptr, 0))
        return 2;
    std::unique_ptr<link::Mailbox> mbox;
    std::vector<uint8_t> req;
    for (;;) {
        int e = 0;
        if (mbox && mbox->next(sock, &req)) {
            e = serve_mailbox(*be, br, *mbox, req);
        } else {
            e = link::recv_frame(sock, f, UINT64_MAX);
            if (e == EPIPE)
                return 0;  // the engine process let go of this worker
            if (!e && f.h.kind == uint32_t(link::Kind::Ring))
                continue;  // next() looks at the mailbox
            if (!e && f.h.kind == uint32_t(link::Kind::Mailbox)) {
                mbox = f.fd ? link::Mailbox::attach(f.fd.get()) : nullptr;
                link::Header h{};
                h.kind = f.h.kind;
                h.err = mbox ? 0 : EINVAL;
                e = link::send_frame(sock, h, nullptr, 0);
            } else if (!e) {
                e = serve_frame(*be, br, f, sock);
            }
        }
        if (!e && be->lost()) {
            // Its GPU context is gone (answered as a fault): a new worker
            // serves the context's next request.
            std::cerr << "vgpu-engined worker " << getpid() << ": its GPU context is lost, ending\n";
            return 3;
        }
        if (e) {
            std::cerr << "vgpu-engined worker " << getpid() << ": " << std::strerror(e) << "\n";
            return 2;
        }
    }
}

}  // namespace vgpu::engine
