// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// worker_link.hpp - the messages between vgpu-engined and its worker
// processes (router.cpp, worker.cpp; Documentation/engines.rst
// "Workers"): frames over a Unix stream socket, each a fixed header and
// a body, a descriptor passed beside the header where the kind has one.
// Every frame but Ring is answered by one frame of the same kind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vgpu/fd.hpp"

namespace vgpu::engine::link {

enum class Kind : uint32_t {
    Start = 1,    // descriptor: the session's windows (the bridge's device);
                  // @mem, @size: the instance's GPU addresses (start, bytes)
    Import = 2,   // descriptor: piece @arg of memory @mem of @size bytes, to map
    Forget = 3,   // memory @mem is freed: unmap it
    Request = 4,  // body: a vgpu_ue_req and its payload; answer: a vgpu_ue_resp
    Mailbox = 5,  // descriptor: a mailbox (mailbox.hpp) for the requests from now on
    Ring = 6,     // a request waits in the mailbox; never answered
};

struct Header {
    uint32_t kind;      // enum Kind; an answer repeats its request's
    uint32_t len;       // bytes of body after the header
    int32_t err;        // an answer's errno (0: done)
    uint32_t arg;       // Import: which piece of the memory (from 0); the answer
                        // to a Request: 1 if the worker ends after it (its GPU
                        // context is lost); else zero
    uint64_t mem;       // Import, Forget: the memory's id; Start: the window's start
    uint64_t size;      // Import: its size; Start: the window's
};
static_assert(sizeof(Header) == 32);

// The longest body: a RUN that carries a whole job.
extern const size_t kMaxBody;

struct Frame {
    Header h{};
    std::vector<uint8_t> body;
    vgpu::Fd fd;  // the descriptor that came with it, if any
};

// Sends @h with @len bytes of @body (h.len is set) and @fd (-1: none),
// whole, by @deadline_ns (now_ns()'s clock; UINT64_MAX: none: a peer
// that does not read would hold a long frame up).  Returns 0, ETIMEDOUT
// or another errno (EPIPE: the other end is gone).  Never raises SIGPIPE.
int send_frame(int sock, Header h, const void* body, size_t len, int fd = -1, uint64_t deadline_ns = UINT64_MAX);

// Receives one frame by @deadline_ns (now_ns()'s clock; UINT64_MAX:
// none).  Returns 0, ETIMEDOUT, EPIPE (the other end closed), EPROTO (a
// frame that breaks the format: too long, reserved bits) or another
// errno.  After an error the stream is out of step: close it.
int recv_frame(int sock, Frame& f, uint64_t deadline_ns);

}  // namespace vgpu::engine::link
