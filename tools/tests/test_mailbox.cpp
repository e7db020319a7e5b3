// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// A worker's mailbox (tools/vgpu-engined/mailbox.hpp): requests and
// answers of every size round-trip whether the peer polls or sleeps (the
// default here, on 2 CPUs: every hand-off sleeps and rings; the ctest
// entry gpuvm-tests.spinning runs these polling), and a worker that
// breaks the protocol, shrinks the memory, goes silent or ends costs the
// engine process its request only.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "backend.hpp"
#include "mailbox.hpp"
#include "worker_link.hpp"

namespace {

using vgpu::engine::now_ns;
namespace link = vgpu::engine::link;

struct Pair {
    vgpu::Fd engine, worker;
    Pair() {
        int sv[2];
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        engine = vgpu::Fd(sv[0]);
        worker = vgpu::Fd(sv[1]);
    }
};

// A worker thread as worker_main() runs one: next(), Ring frames skipped;
// each answer is the request's first byte repeated and its length, err
// the request's count.
void echo_worker(int sock, int mfd, int requests) {
    auto mb = link::Mailbox::attach(mfd);
    EXPECT_TRUE(mb);
    if (!mb)
        return;
    std::vector<uint8_t> req;
    link::Frame f;
    for (int served = 0; served < requests;) {
        if (mb->next(sock, &req)) {
            uint8_t ans[sizeof(vgpu_ue_resp)];
            std::memset(ans, req.empty() ? 0 : req[0], sizeof(ans));
            uint32_t len = static_cast<uint32_t>(req.size());
            std::memcpy(ans, &len, sizeof(len));
            mb->answer(ans, served % 2 ? sizeof(ans) : 17, served, false);
            served++;
            continue;
        }
        int e = link::recv_frame(sock, f, UINT64_MAX);
        EXPECT_EQ(e, 0);
        EXPECT_EQ(f.h.kind, uint32_t(link::Kind::Ring));
        if (e || f.h.kind != uint32_t(link::Kind::Ring))
            return;
    }
}

// Spins (yielding) until @ready or 10 s passed.
template <typename F>
bool await(F&& ready) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!ready()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::yield();
    }
    return true;
}

TEST(Mailbox, RequestsOfEverySizeRoundTrip) {
    Pair p;
    auto mb = link::Mailbox::create();
    const int n = 300;
    std::jthread w(echo_worker, p.worker.get(), mb->fd(), n);
    std::vector<uint8_t> head(sizeof(vgpu_ue_req)), body(VGPU_UE_MAX_MSG - sizeof(vgpu_ue_req)), answer;
    for (int i = 0; i < n; i++) {
        size_t len = i == n - 1 ? body.size() : static_cast<size_t>(i) * 97 % 4096;
        head[0] = static_cast<uint8_t>(i);
        int err = -1;
        bool ending = true;
        ASSERT_EQ(mb->call(p.engine.get(), head.data(), head.size(), body.data(), len, now_ns() + 10'000'000'000ull,
                           &err, &ending, &answer),
                  0)
            << "request " << i;
        EXPECT_EQ(err, i);
        EXPECT_FALSE(ending);
        ASSERT_EQ(answer.size(), i % 2 ? sizeof(vgpu_ue_resp) : 17u);
        uint32_t got;
        std::memcpy(&got, answer.data(), sizeof(got));
        EXPECT_EQ(got, head.size() + len);
        EXPECT_EQ(answer.back(), static_cast<uint8_t>(i));
    }
    w.join();
    int err;
    bool ending;
    EXPECT_EQ(mb->call(p.engine.get(), head.data(), head.size(), body.data(), body.size() + 1, UINT64_MAX, &err,
                       &ending, &answer),
              EMSGSIZE);
}

// The memory is sealed: a worker cannot shrink it under the engine
// process (which would fault on its next look); attach() takes only such.
TEST(Mailbox, ItCannotBeResized) {
    auto mb = link::Mailbox::create();
    EXPECT_NE(ftruncate(mb->fd(), 0), 0);
    EXPECT_EQ(errno, EPERM);
    EXPECT_NE(ftruncate(mb->fd(), 1 << 30), 0);
    vgpu::Fd plain(memfd_create("not a mailbox", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    ASSERT_EQ(ftruncate(plain.get(), link::Mailbox::bytes()), 0);
    EXPECT_FALSE(link::Mailbox::attach(plain.get())) << "of the size, unsealed";
    FILE* f = tmpfile();  // a file that cannot be sealed at all
    ASSERT_TRUE(f);
    ASSERT_EQ(ftruncate(fileno(f), link::Mailbox::bytes()), 0);
    EXPECT_FALSE(link::Mailbox::attach(fileno(f)));
    fclose(f);
    EXPECT_TRUE(link::Mailbox::attach(mb->fd()));
}

// What a hostile worker writes, read once and checked: an answer longer
// than a response, or an ending flag out of range, is EPROTO.
TEST(Mailbox, AnAnswerOutOfFormatIsRefused) {
    for (int bad = 0; bad < 2; bad++) {
        Pair p;
        auto mb = link::Mailbox::create();
        auto* box = static_cast<link::MailboxLayout*>(
            mmap(nullptr, sizeof(link::MailboxLayout), PROT_READ | PROT_WRITE, MAP_SHARED, mb->fd(), 0));
        ASSERT_NE(box, MAP_FAILED);
        std::jthread w([&] {
            if (!await([&] { return box->req_seq.load() == 1; }))
                return;
            box->ans_len = bad ? 8 : sizeof(vgpu_ue_resp) + 1;
            box->ans_ending = bad ? 2 : 0;
            box->ans_seq.store(1);
            if (box->engine_asleep.load())
                syscall(SYS_futex, &box->ans_seq, FUTEX_WAKE, 1, nullptr, nullptr, 0);
        });
        vgpu_ue_req q{};
        std::vector<uint8_t> answer;
        int err;
        bool ending;
        EXPECT_EQ(mb->call(p.engine.get(), &q, sizeof(q), nullptr, 0, now_ns() + 10'000'000'000ull, &err, &ending,
                           &answer),
                  EPROTO);
        w.join();
        munmap(box, sizeof(link::MailboxLayout));
    }
}

// A worker that never answers costs its request's deadline; one that
// ends is seen at once (its socket), not at the deadline.
TEST(Mailbox, SilenceTimesOutAndAnEndIsSeenAtOnce) {
    Pair p;
    auto mb = link::Mailbox::create();
    vgpu_ue_req q{};
    std::vector<uint8_t> answer;
    int err;
    bool ending;
    uint64_t t0 = now_ns();
    EXPECT_EQ(mb->call(p.engine.get(), &q, sizeof(q), nullptr, 0, t0 + 30'000'000, &err, &ending, &answer), ETIMEDOUT);
    EXPECT_GE(now_ns() - t0, 30'000'000u);
    std::jthread w([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        p.worker.reset();  // it died
    });
    t0 = now_ns();
    EXPECT_EQ(mb->call(p.engine.get(), &q, sizeof(q), nullptr, 0, t0 + 10'000'000'000ull, &err, &ending, &answer),
              EPIPE);
    EXPECT_LT(now_ns() - t0, 2'000'000'000u) << "seen within a look or two, not at the deadline";
    w.join();
}

// An answer to another request number is no answer (the call waits on
// to its deadline); bytes a live worker writes on the socket unasked are
// a broken protocol (EPROTO), not its end.
TEST(Mailbox, AnotherNumberOrBytesUnaskedAreNoAnswer) {
    Pair p;
    auto mb = link::Mailbox::create();
    auto* box = static_cast<link::MailboxLayout*>(
        mmap(nullptr, sizeof(link::MailboxLayout), PROT_READ | PROT_WRITE, MAP_SHARED, mb->fd(), 0));
    ASSERT_NE(box, MAP_FAILED);
    vgpu_ue_req q{};
    std::vector<uint8_t> answer;
    int err;
    bool ending;
    {
        std::jthread w([&] {
            if (!await([&] { return box->req_seq.load() == 1; }))
                return;
            box->ans_len = sizeof(vgpu_ue_resp);
            box->ans_seq.store(7);
            syscall(SYS_futex, &box->ans_seq, FUTEX_WAKE, 1, nullptr, nullptr, 0);
        });
        EXPECT_EQ(mb->call(p.engine.get(), &q, sizeof(q), nullptr, 0, now_ns() + 50'000'000, &err, &ending, &answer),
                  ETIMEDOUT);
    }
    {
        std::jthread w([&] {
            if (await([&] { return box->req_seq.load() == 2; })) {
                EXPECT_EQ(write(p.worker.get(), "x", 1), 1);
            }
        });
        EXPECT_EQ(mb->call(p.engine.get(), &q, sizeof(q), nullptr, 0, now_ns() + 10'000'000'000ull, &err, &ending,
                           &answer),
                  EPROTO);
    }
    munmap(box, sizeof(link::MailboxLayout));
}

}  // namespace
