// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// mailbox.hpp - a worker's requests and their answers through memory the
// engine process and the worker both map, beside their socket
// (worker_link.hpp; Documentation/engines.rst "Workers").
//
// Over the socket a request and its answer cost six system calls and,
// where the peer sleeps, two wake-ups: 10 us of an empty launch's 24 us
// through the core on an H100.  Through the mailbox a side that is
// polling (vgpu/spin.hpp) sees the other's word change in a cache line's
// transfer; one that sleeps is woken: the worker, asleep in poll() on the
// socket, by a Ring frame; the engine process, asleep on the answer's
// sequence number, by a futex wake.  The socket keeps everything else:
// the descriptors (Start, Import), Forget, and the worker's end, which
// the engine process sees as the socket becoming readable (a worker
// writes nothing there unasked).
//
// Protocol, one request at a time (the engine process waits for each
// answer before it sends anything else):
//   engine: req_len, req; then req_seq = n (n = last + 1); if
//           worker_asleep, a Ring frame on the socket;
//   worker: sees req_seq != the last it served, copies the request out,
//           serves it; ans_len, ans_err, ans_ending, ans; then
//           ans_seq = n; if engine_asleep, FUTEX_WAKE on ans_seq.
// Each side sets its asleep flag before its last look at the other's
// sequence number (both sequentially consistent): a side about to sleep
// is rung or sees the number changed.  Stray Rings only wake the worker
// for a look.
//
// The worker is not trusted: the engine process reads the answer once,
// into its own memory, then checks it; the memory is a memfd sealed
// against shrinking (a mapping the worker truncated would fault the
// engine process), and a worker that writes nonsense, or never answers,
// ends only its own request (EPROTO, ETIMEDOUT), as over the socket.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "vgpu/fd.hpp"
#include "vgpu_uengine.h"

namespace vgpu::engine::link {

// The memory both map.  Each field names who writes it.
struct MailboxLayout {
    alignas(64) std::atomic<uint32_t> req_seq;  // engine: the request in req is number req_seq
    std::atomic<uint32_t> worker_asleep;         // worker: 1 while it sleeps in poll() (ring it)
    alignas(64) std::atomic<uint32_t> ans_seq;  // worker: ans answers request ans_seq (a futex)
    std::atomic<uint32_t> engine_asleep;         // engine: 1 while it sleeps on ans_seq (wake it)
    alignas(64) uint32_t ans_len;                // worker: bytes of ans
    int32_t ans_err;                             // worker: as a frame's err
    uint32_t ans_ending;                         // worker: 1 if it ends after this answer
    uint8_t ans[sizeof(vgpu_ue_resp)];
    alignas(64) uint32_t req_len;                // engine: bytes of req
    uint8_t req[VGPU_UE_MAX_MSG];
};
static_assert(std::atomic<uint32_t>::is_always_lock_free, "futexes and shared memory need plain words");

class Mailbox {
public:
    // The engine process's: a new mailbox, mapped here.  Throws
    // std::system_error.
    static std::unique_ptr<Mailbox> create();
    // The worker's: maps @fd (the engine's create()); null if it cannot
    // (not a sealed memfd of the layout's size, or no memory).
    static std::unique_ptr<Mailbox> attach(int fd);
    ~Mailbox();
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;
    // The memfd, to pass to the worker (the engine process's until
    // close_fd(); -1 in the worker's).
    int fd() const { return fd_.get(); }
    void close_fd() { fd_.reset(); }
    // The memfd's size.
    static size_t bytes();

    // The engine process: posts request @head (@hlen bytes) followed by
    // @body (@len bytes; at most VGPU_UE_MAX_MSG in all) and waits for its answer by @deadline_ns (now_ns()'s
    // clock), polling first (vgpu/spin.hpp).  0 with *@err, *@ending and
    // *@answer (at most a vgpu_ue_resp) as the worker gave them; EPIPE
    // once @sock says the worker ended; EPROTO where the worker wrote
    // there unasked or answered out of format; ETIMEDOUT; EMSGSIZE.
    int call(int sock, const void* head, size_t hlen, const void* body, size_t len, uint64_t deadline_ns, int* err,
             bool* ending, std::vector<uint8_t>* answer);

    // The worker: waits, polling first, for the next request (true, with
    // it copied into *@req) or for @sock to be readable (false: a frame,
    // a Ring among them, or the engine's end: recv_frame() says which).
    bool next(int sock, std::vector<uint8_t>* req);
    // The worker: answers the request next() gave.
    void answer(const void* ans, size_t len, int err, bool ending);

private:
    Mailbox(vgpu::Fd fd, MailboxLayout* box) : fd_(std::move(fd)), box_(box) {}
    vgpu::Fd fd_;
    MailboxLayout* box_;
    uint32_t seq_ = 0;  // the engine's last request; the worker's last served
};

}  // namespace vgpu::engine::link
