// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// worker_link.cpp - frames between vgpu-engined and its workers (see
// worker_link.hpp).
#include "worker_link.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "backend.hpp"
#include "vgpu/spin.hpp"
#include "vgpu_uengine.h"

namespace vgpu::engine::link {

const size_t kMaxBody = VGPU_UE_MAX_MSG;

// Waits until @sock can take bytes (POLLOUT) or has bytes or its end
// (POLLIN) by @deadline_ns.
static int wait_for(int sock, short events, uint64_t deadline_ns) {
    for (;;) {
        int ms = -1;
        bool last = false;
        if (deadline_ns != UINT64_MAX) {
            uint64_t now = now_ns();
            // Past the deadline, one look still (what is there is taken).
            last = now >= deadline_ns;
            ms = last ? 0 : static_cast<int>(std::min<uint64_t>((deadline_ns - now + 999999) / 1000000, INT_MAX));
        }
        pollfd p{sock, events, 0};
        int n = poll(&p, 1, ms);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return errno;
        if (last)
            return ETIMEDOUT;
    }
}

int send_frame(int sock, Header h, const void* body, size_t len, int fd, uint64_t deadline_ns) {
    if (len > kMaxBody)
        return EMSGSIZE;
    h.len = static_cast<uint32_t>(len);
    if (h.kind != uint32_t(Kind::Import) && h.kind != uint32_t(Kind::Request))
        h.arg = 0;
    iovec iov[2] = {{&h, sizeof(h)}, {const_cast<void*>(body), len}};
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = len ? 2 : 1;
    if (fd >= 0) {
        m.msg_control = ctl;
        m.msg_controllen = sizeof(ctl);
        cmsghdr* c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    // The descriptor goes with the first bytes; a short send (a signal)
    // goes on with the rest, without it.
    size_t left = sizeof(h) + len;
    while (left) {
        ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                if (int e = wait_for(sock, POLLOUT, deadline_ns))
                    return e;
                continue;
            }
            return errno;
        }
        left -= static_cast<size_t>(n);
        m.msg_control = nullptr;
        m.msg_controllen = 0;
        while (n > 0 && m.msg_iovlen) {
            size_t k = std::min<size_t>(static_cast<size_t>(n), m.msg_iov[0].iov_len);
            m.msg_iov[0].iov_base = static_cast<char*>(m.msg_iov[0].iov_base) + k;
            m.msg_iov[0].iov_len -= k;
            n -= static_cast<ssize_t>(k);
            if (!m.msg_iov[0].iov_len) {
                m.msg_iov++;
                m.msg_iovlen--;
            }
        }
    }
    return 0;
}

// Reads @len bytes into @dst, the first read with room for a descriptor.
// Waits first where @wait (a frame's header: the other side may not have
// sent it yet), else reads first (its body, which came with it: one
// system call, not two).
static int recv_all(int sock, void* dst, size_t len, uint64_t deadline_ns, vgpu::Fd* fd, bool wait) {
    auto* p = static_cast<uint8_t*>(dst);
    while (len) {
        if (wait) {
            if (int e = wait_for(sock, POLLIN, deadline_ns))
                return e;
            wait = false;
        }
        iovec iov{p, len};
        alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
        msghdr m{};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        if (fd) {
            m.msg_control = ctl;
            m.msg_controllen = sizeof(ctl);
        }
        ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN) {
            // Past the deadline, wait_for() still looks once (0 ms).
            wait = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (fd) {
            for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                    continue;
                int got;
                std::memcpy(&got, CMSG_DATA(c), sizeof(int));
                *fd = vgpu::Fd(got);  // one descriptor a frame; room for no more
            }
            if (m.msg_flags & MSG_CTRUNC)
                return EPROTO;
            fd = nullptr;
        }
        if (n == 0)
            return EPIPE;
        p += n;
        len -= static_cast<size_t>(n);
    }
    return 0;
}

// Polls @sock for a frame for a while before recv_all() sleeps in
// poll() (vgpu/spin.hpp): an answer to a short request, or a program's
// next request, is usually microseconds away.  No further than
// @deadline_ns.
static void spin_for_frame(int sock, uint64_t deadline_ns) {
    uint64_t budget = vgpu::spin_budget_ns();
    if (!budget)
        return;
    if (deadline_ns != UINT64_MAX) {
        uint64_t now = now_ns();
        budget = now >= deadline_ns ? 0 : std::min(budget, deadline_ns - now);
    }
    vgpu::spin_until(
        [sock] {
            pollfd p{sock, POLLIN, 0};
            return poll(&p, 1, 0) != 0;  // bytes, its end, or an error for recvmsg() to say
        },
        budget);
}

int recv_frame(int sock, Frame& f, uint64_t deadline_ns) {
    f.fd.reset();
    spin_for_frame(sock, deadline_ns);
    if (int e = recv_all(sock, &f.h, sizeof(f.h), deadline_ns, &f.fd, true))
        return e;
    if (f.h.len > kMaxBody || (f.h.arg && f.h.kind != uint32_t(Kind::Import) && f.h.kind != uint32_t(Kind::Request)))
        return EPROTO;
    f.body.resize(f.h.len);
    return recv_all(sock, f.body.data(), f.h.len, deadline_ns, nullptr, false);
}

}  // namespace vgpu::engine::link
