// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// mailbox.cpp - see mailbox.hpp.
#include "mailbox.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "backend.hpp"
#include "vgpu/latency.hpp"
#include "vgpu/spin.hpp"
#include "worker_link.hpp"

namespace vgpu::engine::link {
namespace {

constexpr size_t kSize = (sizeof(MailboxLayout) + 4095) & ~size_t{4095};
constexpr unsigned kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
// How long the engine process sleeps on an answer before it looks at the
// socket again (a worker that died without answering): 1 ms, doubling to
// 8 ms over a long RUN.
constexpr uint64_t kLookNs = 1'000'000, kLookMaxNs = 8'000'000;
// Polls of a sequence number between looks at the socket.
constexpr unsigned kSocketEvery = 64;

uint32_t* word(std::atomic<uint32_t>& a) { return reinterpret_cast<uint32_t*>(&a); }

// Sleeps while *@a is @val, at most @ns (shared: the futex is in memory
// two processes map).
void futex_wait(std::atomic<uint32_t>& a, uint32_t val, uint64_t ns) {
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    syscall(SYS_futex, word(a), FUTEX_WAIT, val, &ts, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>& a) { syscall(SYS_futex, word(a), FUTEX_WAKE, 1, nullptr, nullptr, 0); }

bool readable(int sock) {
    pollfd p{sock, POLLIN, 0};
    return poll(&p, 1, 0) != 0;  // bytes, the end, or an error: recv_frame() tells
}

// What a worker's socket that became readable during a mailbox call
// says: EPIPE (its end), else EPROTO (it wrote unasked).
int gone_or_broken(int sock) {
    char c;
    ssize_t n = recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 ? EPROTO : EPIPE;
}

// A field the worker writes, read once (the compiler may not read it
// again between the check and the use).
template <typename T>
T once(const T& field) {
    return __atomic_load_n(&field, __ATOMIC_RELAXED);
}

void unmap_box(MailboxLayout* p) { munmap(p, kSize); }
using BoxMap = std::unique_ptr<MailboxLayout, decltype(&unmap_box)>;

BoxMap map(int fd) {
    void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return BoxMap(p == MAP_FAILED ? nullptr : static_cast<MailboxLayout*>(p), unmap_box);
}

}  // namespace

std::unique_ptr<Mailbox> Mailbox::create() {
    vgpu::Fd fd(memfd_create("vgpu-engined mailbox", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd)
        throw std::system_error(errno, std::generic_category(), "memfd_create (mailbox)");
    if (ftruncate(fd.get(), kSize) || fcntl(fd.get(), F_ADD_SEALS, kSeals))
        throw std::system_error(errno, std::generic_category(), "sizing the mailbox");
    BoxMap box = map(fd.get());
    if (!box)
        throw std::system_error(errno, std::generic_category(), "mmap (mailbox)");
    // A fresh memfd reads as zeros: every sequence number 0, no one asleep.
    auto m = std::unique_ptr<Mailbox>(new Mailbox(std::move(fd), box.get()));
    box.release();  // the Mailbox's now
    return m;
}

std::unique_ptr<Mailbox> Mailbox::attach(int fd) {
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    if (fstat(fd, &st) || static_cast<uint64_t>(st.st_size) != kSize || seals < 0 ||
        (seals & kSeals) != static_cast<int>(kSeals))
        return nullptr;
    BoxMap box = map(fd);
    if (!box)
        return nullptr;
    // Its first request is number 1: none comes before the Mailbox
    // frame's answer.
    auto m = std::unique_ptr<Mailbox>(new Mailbox(vgpu::Fd(), box.get()));
    box.release();
    return m;
}

Mailbox::~Mailbox() { unmap_box(box_); }

size_t Mailbox::bytes() { return kSize; }

int Mailbox::call(int sock, const void* head, size_t hlen, const void* body, size_t len, uint64_t deadline_ns,
                  int* err, bool* ending, std::vector<uint8_t>* answer) {
    if (hlen > sizeof(box_->req) || len > sizeof(box_->req) - hlen)
        return EMSGSIZE;
    MailboxLayout& b = *box_;
    const uint32_t n = ++seq_;
    b.req_len = static_cast<uint32_t>(hlen + len);
    std::memcpy(b.req, head, hlen);
    if (len)
        std::memcpy(b.req + hlen, body, len);
    b.req_seq.store(n, std::memory_order_seq_cst);
    if (b.worker_asleep.load(std::memory_order_seq_cst)) {
        // Never waited for: a socket too full for it holds bytes the
        // worker has not read, which wake it anyway.
        Header ring{};
        ring.kind = uint32_t(Kind::Ring);
        int e = send_frame(sock, ring, nullptr, 0, -1, now_ns());
        if (e && e != ETIMEDOUT)
            return e;
    }
    auto answered = [&] { return b.ans_seq.load(std::memory_order_acquire) == n; };
    unsigned polls = 0;
    bool ended = false;
    uint64_t now = now_ns();
    vgpu::spin_until(
        [&] {
            if (answered())
                return true;
            return ++polls % kSocketEvery == 0 && (ended = readable(sock));
        },
        now >= deadline_ns ? 0 : std::min(vgpu::spin_budget_ns(), deadline_ns - now));
    // Asleep, woken by the worker's futex wake, or each look (a worker
    // that flips ans_seq or wakes the futex for nothing makes this loop
    // spin until the deadline: its own RUN's time).
    for (uint64_t look = kLookNs; !answered(); look = std::min(2 * look, kLookMaxNs)) {
        if (ended || readable(sock))
            return gone_or_broken(sock);
        now = now_ns();
        if (now >= deadline_ns)
            return ETIMEDOUT;
        b.engine_asleep.store(1, std::memory_order_seq_cst);
        uint32_t seen = b.ans_seq.load(std::memory_order_seq_cst);
        if (seen != n)
            futex_wait(b.ans_seq, seen, std::min(look, deadline_ns - now));
        b.engine_asleep.store(0, std::memory_order_relaxed);
    }
    // Read once, then checked: the worker may write on meanwhile.
    uint32_t alen = once(b.ans_len);
    int32_t aerr = once(b.ans_err);
    uint32_t aend = once(b.ans_ending);
    if (alen > sizeof(b.ans) || aend > 1)
        return EPROTO;
    answer->assign(b.ans, b.ans + alen);
    *err = aerr;
    *ending = aend;
    return 0;
}

bool Mailbox::next(int sock, std::vector<uint8_t>* req) {
    MailboxLayout& b = *box_;
    auto posted = [&] { return b.req_seq.load(std::memory_order_acquire) != seq_; };
    unsigned polls = 0;
    bool frame = false;
    vgpu::spin_until(
        [&] {
            if (posted())
                return true;
            return ++polls % kSocketEvery == 0 && (frame = readable(sock));
        },
        vgpu::spin_budget_ns());
    if (!posted()) {
        if (frame)
            return false;
        b.worker_asleep.store(1, std::memory_order_seq_cst);
        if (b.req_seq.load(std::memory_order_seq_cst) == seq_) {
            pollfd p{sock, POLLIN, 0};
            int r;
            while ((r = poll(&p, 1, -1)) < 0 && errno == EINTR) {
            }
            if (r > 0)  // else still asleep to the engine: recv_frame() says why poll() failed
                b.worker_asleep.store(0, std::memory_order_relaxed);
            return false;  // a Ring (or a frame): recv_frame(), then next() again
        }
        b.worker_asleep.store(0, std::memory_order_relaxed);
    }
    seq_ = b.req_seq.load(std::memory_order_acquire);
    vgpu::latency::stamp("worker: request");
    uint32_t len = std::min<uint32_t>(b.req_len, sizeof(b.req));
    req->assign(b.req, b.req + len);
    return true;
}

void Mailbox::answer(const void* ans, size_t len, int err, bool ending) {
    MailboxLayout& b = *box_;
    b.ans_len = static_cast<uint32_t>(std::min(len, sizeof(b.ans)));
    std::memcpy(b.ans, ans, b.ans_len);
    b.ans_err = err;
    b.ans_ending = ending;
    b.ans_seq.store(seq_, std::memory_order_seq_cst);
    vgpu::latency::stamp("worker: answered");
    if (b.engine_asleep.load(std::memory_order_seq_cst))
        futex_wake(b.ans_seq);
}

}  // namespace vgpu::engine::link
