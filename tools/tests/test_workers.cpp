// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-engined with workers (router.hpp): the module's requests answered
// by a Router whose workers are real `vgpu-engined --worker -b interp`
// processes; the frames between them (worker_link.hpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <system_error>

#include "backend.hpp"
#include "bridge.hpp"
#include "cuda_api.hpp"
#include "fake_cuda.hpp"
#include "router.hpp"
#include "ue_requests.hpp"
#include "worker_link.hpp"

namespace {

using namespace vgpu::engine;
using test::Client;

constexpr uint64_t P = Client::P;
constexpr uint64_t kMem = 64 << 20;

struct Rig : Client {
    int fd = test::windows_fd();
    Router router{make_memfd_memory(kMem), exec_spawner(GPUVM_ENGINED, "interp"), fd};
    Rig() {
        handler = [this](const vgpu_ue_req& q, const uint8_t* p) { return router.handle(q, p); };
    }
    ~Rig() { close(fd); }

    int mem_alloc(uint64_t mem, uint64_t size) {
        vgpu_ue_req r = op(VGPU_UE_OP_MEM_ALLOC);
        r.mem_alloc.mem = mem;
        r.mem_alloc.size = size;
        return send(r).error;
    }
    void mem_free(uint64_t mem) {
        vgpu_ue_req r = op(VGPU_UE_OP_MEM_FREE);
        r.mem_free.mem = mem;
        send(r);
    }
    int map_dev(uint64_t ctx, uint64_t va, uint64_t size, uint64_t mem, uint64_t offset = 0) {
        vgpu_ue_req r = map_req(ctx, va, size, 0);
        r.map.kind = VGPU_UE_MAP_DEVICE;
        r.map.mem = mem;
        r.map.offset = offset;
        return send(r).error;
    }
    vgpu_ue_resp copy(uint64_t ctx, uint64_t job, uint64_t dst, uint64_t src, uint64_t size) {
        drm_vgpu_cmd c = test::copy_cmd(dst, src, size);
        return send(run_req(ctx, job, 1, &c), &c);
    }
    uint32_t window_word(uint64_t window, uint64_t off) {
        uint32_t w = 0;
        EXPECT_EQ(pread(fd, &w, 4, static_cast<off_t>((window << VGPU_UE_WINDOW_SHIFT) + off)), 4);
        return w;
    }
};

bool gone(pid_t pid) { return kill(pid, 0) < 0 && errno == ESRCH; }

// Context 1 of @r with window 1 at @host and its worker stopped
// (SIGSTOP, its pid in *@w), a grace of 50 ms.
void stopped_worker(Rig& r, uint64_t host, pid_t* w) {
    r.router.set_grace_ns(50'000'000);
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.map_host(1, host, 1, 1), 0);
    *w = r.router.worker_pid(1);
    ASSERT_EQ(kill(*w, SIGSTOP), 0);
}

// Whether @router reaps worker @pid within 2 s.
bool reaped(Router& router, pid_t pid) {
    for (int i = 0; i < 200 && !gone(pid); i++) {
        router.reap();
        if (!gone(pid))
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return gone(pid);
}

// Waits until worker @pid, killed from outside, is dead (a zombie or
// gone: its socket closed), 2 s at most.
void settle(pid_t pid) {
    for (int i = 0; i < 400; i++) {
        std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        if (!std::getline(f, line))
            return;
        auto paren = line.rfind(')');
        if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z')
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// Whether process @pid maps a file whose name holds @what.
bool maps(pid_t pid, const std::string& what) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    while (std::getline(f, line))
        if (line.find(what) != std::string::npos)
            return true;
    return false;
}

uint32_t status_of(const vgpu_ue_resp& a) { return a.run.status; }

TEST(Workers, EachContextRunsInAProcessOfItsOwn) {
    Rig r;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.ctx_create(2), 0);
    pid_t a = r.router.worker_pid(1), b = r.router.worker_pid(2);
    EXPECT_GT(a, 0);
    EXPECT_GT(b, 0);
    EXPECT_NE(a, b);
    EXPECT_NE(a, getpid());
    EXPECT_EQ(r.ctx_create(1), -EEXIST);
    r.ctx_destroy(1);
    EXPECT_TRUE(reaped(r.router, a)) << "the worker of a destroyed context is reaped";
    EXPECT_EQ(r.router.worker_pid(1), 0);
    EXPECT_FALSE(gone(b));
    EXPECT_EQ(r.router.stats().started, 2u);
    EXPECT_EQ(r.router.stats().lost, 0u);
}

// Device memory lives in the engine process and is shared with the
// worker; host windows are the session's.  A fill of device memory,
// copied to a window, reads back; another context cannot reach either.
TEST(Workers, DeviceMemoryAndWindowsReachTheWorker) {
    Rig r;
    const uint64_t dev = 0x100000, host = 0x400000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.ctx_create(2), 0);
    ASSERT_EQ(r.mem_alloc(10, 4 * P), 0);
    ASSERT_EQ(r.map_dev(1, dev, 2 * P, 10, 2 * P), 0);  // the second half of it
    ASSERT_EQ(r.map_host(1, host, 2, 7), 0);
    auto f = r.fill(1, 1, dev, 2 * P, 0x5eed1234);
    ASSERT_EQ(f.error, 0);
    ASSERT_EQ(status_of(f), uint32_t{VGPU_UE_RUN_DONE});
    auto c = r.copy(1, 2, host + 4, dev + 8, P);
    ASSERT_EQ(c.error, 0);
    ASSERT_EQ(status_of(c), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(7, 4), 0x5eed1234u);
    EXPECT_EQ(r.window_word(7, P), 0x5eed1234u);
    EXPECT_EQ(r.window_word(7, 0), 0u);
    // The first half of the memory, mapped in context 2, was not filled.
    ASSERT_EQ(r.map_dev(2, dev, 2 * P, 10, 0), 0);
    ASSERT_EQ(r.map_host(2, host + 16 * P, 1, 8), 0);
    auto c2 = r.copy(2, 3, host + 16 * P, dev, P);
    ASSERT_EQ(status_of(c2), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(8, 0), 0u);
    // Context 2 has nothing at context 1's window.
    auto f2 = r.fill(2, 4, host, P, 1);
    EXPECT_EQ(status_of(f2), uint32_t{VGPU_UE_RUN_FAULTED});
    EXPECT_EQ(f2.run.fault_kind, uint32_t{DRM_VGPU_FAULT_UNMAPPED});
    EXPECT_EQ(f2.run.fault_addr, host);
    EXPECT_EQ(r.window_word(7, 0), 0u);
}

// A worker killed between jobs is replaced at the context's next request,
// its mappings as they were (a partial unmap included) and its device
// memory intact.
TEST(Workers, AKilledWorkerIsReplacedWithTheContextIntact) {
    Rig r;
    const uint64_t dev = 0x100000, host = 0x800000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.mem_alloc(3, P), 0);
    ASSERT_EQ(r.map_dev(1, dev, P, 3), 0);
    ASSERT_EQ(r.map_host(1, host, 3, 5), 0);
    r.unmap(1, host + P, 1);
    ASSERT_EQ(status_of(r.fill(1, 1, dev, P, 0xabcdef01)), uint32_t{VGPU_UE_RUN_DONE});
    pid_t first = r.router.worker_pid(1);
    ASSERT_EQ(kill(first, SIGKILL), 0);
    settle(first);
    auto c = r.copy(1, 2, host + 2 * P, dev, P);
    ASSERT_EQ(c.error, 0);
    EXPECT_EQ(status_of(c), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(5, 2 * P + 8), 0xabcdef01u) << "device memory outlived the worker";
    pid_t second = r.router.worker_pid(1);
    EXPECT_NE(second, first);
    EXPECT_GT(second, 0);
    // The page unmapped before the kill is still unmapped.
    auto f = r.fill(1, 3, host + P, P, 9);
    EXPECT_EQ(status_of(f), uint32_t{VGPU_UE_RUN_FAULTED});
    EXPECT_EQ(f.run.fault_addr, host + P);
    EXPECT_EQ(status_of(r.fill(1, 4, host, P, 9)), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(5, 0), 9u);
    EXPECT_EQ(r.router.stats().started, 2u);
    EXPECT_EQ(r.router.stats().lost, 1u);
    EXPECT_EQ(r.router.stats().replayed, 2u);
    // Unmapped whole, the ranges leave nothing to replay.
    r.unmap(1, 0, 1ull << 40);
    ASSERT_EQ(kill(second, SIGKILL), 0);
    settle(second);
    EXPECT_EQ(status_of(r.fill(1, 5, host, P, 1)), uint32_t{VGPU_UE_RUN_FAULTED});
    EXPECT_EQ(r.router.stats().replayed, 2u);
}

// A worker that does not answer a RUN by budget + watchdog + grace is
// killed: the job times out, the next one runs in a new worker.
TEST(Workers, AWorkerPastItsDeadlineIsKilled) {
    Rig r;
    const uint64_t host = 0x100000;
    pid_t w = 0;
    ASSERT_NO_FATAL_FAILURE(stopped_worker(r, host, &w));
    drm_vgpu_cmd c = Client::fill_cmd(host, P, 7);
    vgpu_ue_req q = Client::run_req(1, 1, 1, &c);
    q.run.budget_ns = 20'000'000;
    q.run.watchdog_ns = 200'000'000;
    q.run.cmd_busy_ns = 50'000'000;
    auto t0 = std::chrono::steady_clock::now();
    auto a = r.send(q, &c);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(a.error, 0);
    EXPECT_EQ(status_of(a), uint32_t{VGPU_UE_RUN_TIMEDOUT});
    EXPECT_EQ(a.run.next_cmd, 0u);
    EXPECT_EQ(a.run.fault_kind, 0u);
    EXPECT_GE(a.run.cmd_busy_ns, 50'000'000u + a.run.busy_ns);
    EXPECT_GE(ms, 260) << "the budget's 20 ms, the watchdog's 200 ms and the 50 ms grace";
    EXPECT_LT(ms, 2000);
    EXPECT_TRUE(reaped(r.router, w));
    EXPECT_EQ(r.router.stats().killed, 1u);
    auto f = r.fill(1, 2, host, P, 8);
    EXPECT_EQ(status_of(f), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(1, 0), 8u);
}

// A RUN may start a command just before its budget ends, and that one may
// run for a whole watchdog: a worker slower than max(budget, watchdog
// left) but inside budget + watchdog is not killed.
TEST(Workers, ALongRunInsideBudgetAndWatchdogLives) {
    Rig r;
    const uint64_t host = 0x100000;
    pid_t w = 0;
    ASSERT_NO_FATAL_FAILURE(stopped_worker(r, host, &w));
    std::thread wake([w] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        kill(w, SIGCONT);
    });
    // Killed at 250 ms under max(budget, watchdog left) + grace; alive
    // until 1250 ms under budget + watchdog + grace.
    drm_vgpu_cmd c = Client::fill_cmd(host, P, 5);
    vgpu_ue_req q = Client::run_req(1, 1, 1, &c);
    q.run.budget_ns = 200'000'000;
    q.run.watchdog_ns = 1'000'000'000;
    q.run.cmd_busy_ns = 950'000'000;
    auto a = r.send(q, &c);
    wake.join();
    EXPECT_EQ(status_of(a), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.router.worker_pid(1), w);
    EXPECT_EQ(r.router.stats().killed, 0u);
    EXPECT_EQ(r.window_word(1, 0), 5u);
}

// A worker that reads nothing cannot hold the engine process up with a
// job longer than the socket's buffer: the send has the RUN's deadline.
TEST(Workers, AStoppedWorkerCannotBlockALongSend) {
    Rig r;
    const uint64_t host = 0x100000;
    pid_t w = 0;
    ASSERT_NO_FATAL_FAILURE(stopped_worker(r, host, &w));
    std::vector<drm_vgpu_cmd> cmds(DRM_VGPU_MAX_CMDS, Client::fill_cmd(host, 4, 1));
    vgpu_ue_req q = Client::run_req(1, 1, static_cast<uint32_t>(cmds.size()), cmds.data());
    q.run.budget_ns = 1'000'000;
    q.run.watchdog_ns = 100'000'000;
    auto a = r.send(q, cmds.data());
    EXPECT_EQ(status_of(a), uint32_t{VGPU_UE_RUN_TIMEDOUT});
    EXPECT_EQ(r.router.stats().killed, 1u);
    EXPECT_EQ(status_of(r.fill(1, 2, host, 4, 2)), uint32_t{VGPU_UE_RUN_DONE});
}

// A job preempted in a worker that then dies cannot resume: its next RUN
// faults ENGINE_LOST (its state is gone), the context goes on.
TEST(Workers, APreemptedJobDiesWithItsWorker) {
    Rig r;
    const uint64_t dev = 0x100000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.mem_alloc(1, 16 << 20), 0);
    ASSERT_EQ(r.map_dev(1, dev, 16 << 20, 1), 0);
    drm_vgpu_cmd c = Client::fill_cmd(dev, 16 << 20, 3);
    vgpu_ue_req q = Client::run_req(1, 9, 1, &c);
    q.run.budget_ns = 1;  // one bounded step
    auto a = r.send(q, &c);
    ASSERT_EQ(status_of(a), uint32_t{VGPU_UE_RUN_PREEMPTED});
    ASSERT_GT(a.run.cmd_done, 0u);
    pid_t w = r.router.worker_pid(1);
    ASSERT_EQ(kill(w, SIGKILL), 0);
    settle(w);
    vgpu_ue_req more = Client::run_req(1, 9, 1, nullptr);
    more.run.cmd_done = a.run.cmd_done;
    auto b = r.send(more);
    ASSERT_EQ(b.error, 0);
    EXPECT_EQ(status_of(b), uint32_t{VGPU_UE_RUN_FAULTED});
    EXPECT_EQ(b.run.fault_kind, uint32_t{DRM_VGPU_FAULT_ENGINE_LOST});
    EXPECT_EQ(b.run.cmd_done, a.run.cmd_done);
    EXPECT_EQ(r.send(more).error, -ENOENT) << "the job is forgotten";
    EXPECT_EQ(status_of(r.fill(1, 10, dev, P, 4)), uint32_t{VGPU_UE_RUN_DONE});
}

// Memory freed is forgotten by the workers that mapped it and given back:
// all of it can be allocated again, zeroed.
TEST(Workers, FreedMemoryIsGivenBackZeroed) {
    Rig r;
    const uint64_t dev = 0x100000, host = 0x4000000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.mem_alloc(1, kMem), 0);
    EXPECT_EQ(r.mem_alloc(2, P), -ENOSPC);
    ASSERT_EQ(r.map_dev(1, dev, P, 1), 0);
    ASSERT_EQ(status_of(r.fill(1, 1, dev, P, 0xffffffff)), uint32_t{VGPU_UE_RUN_DONE});
    pid_t w = r.router.worker_pid(1);
    EXPECT_TRUE(maps(w, "vgpu-mem")) << "the worker maps the memory";
    r.unmap(1, dev, 1);
    r.mem_free(1);
    EXPECT_FALSE(maps(w, "vgpu-mem")) << "and lets go of it when it is freed";
    ASSERT_EQ(r.mem_alloc(1, kMem), 0);
    ASSERT_EQ(r.map_dev(1, dev, P, 1), 0);
    ASSERT_EQ(r.map_host(1, host, 1, 3), 0);
    ASSERT_EQ(status_of(r.copy(1, 2, host, dev, P)), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(3, 0), 0u);
    EXPECT_EQ(r.router.stats().lost, 0u);
}

// A worker of this test that answers its RUN out of format (DONE before
// the last command) and its MAP with @map_error as the errno, through
// the mailbox it is given where @mailbox, else through its socket.
Spawn lying_worker(int32_t map_error = 0, bool mailbox = false) {
    return [map_error, mailbox] {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        pid_t pid = fork();
        if (pid < 0)
            throw std::system_error(errno, std::generic_category(), "fork");
        if (!pid) {
            close(sv[0]);
            auto lie = [map_error](const uint8_t* body) {
                vgpu_ue_req q;
                std::memcpy(&q, body, sizeof(q));
                vgpu_ue_resp resp{};
                resp.seq = q.seq;
                if (q.op == VGPU_UE_OP_RUN)
                    resp.run.status = VGPU_UE_RUN_DONE;  // next_cmd 0 of 1: impossible
                if (q.op == VGPU_UE_OP_MAP)
                    resp.error = map_error;
                return resp;
            };
            std::unique_ptr<link::Mailbox> mb;
            std::vector<uint8_t> req;
            link::Frame f;
            for (;;) {
                if (mb && mb->next(sv[1], &req)) {
                    vgpu_ue_resp resp = lie(req.data());
                    mb->answer(&resp, sizeof(resp), 0, false);
                    continue;
                }
                if (link::recv_frame(sv[1], f, UINT64_MAX))
                    break;
                if (f.h.kind == uint32_t(link::Kind::Ring))
                    continue;
                link::Header h{};
                h.kind = f.h.kind;
                vgpu_ue_resp resp{};
                size_t len = 0;
                if (f.h.kind == uint32_t(link::Kind::Mailbox)) {
                    if (mailbox)
                        mb = link::Mailbox::attach(f.fd.get());
                    h.err = mb ? 0 : EINVAL;  // none: its requests stay on the socket
                }
                if (f.h.kind == uint32_t(link::Kind::Request)) {
                    resp = lie(f.body.data());
                    len = sizeof(resp);
                }
                if (link::send_frame(sv[1], h, &resp, len))
                    break;
            }
            _exit(0);
        }
        close(sv[1]);
        WorkerProc w;
        w.pid = pid;
        w.sock = vgpu::Fd(sv[0]);
        return w;
    };
}

// An answer the module would refuse (and end every context's session
// for) ends that worker only: the job faults ENGINE_LOST.
TEST(Workers, AnImpossibleAnswerEndsTheWorkerOnly) {
    for (bool mailbox : {false, true}) {
        int fd = test::windows_fd();
        Router router(make_memfd_memory(kMem), lying_worker(0, mailbox), fd);
        Client cl;
        cl.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return router.handle(q, p); };
        ASSERT_EQ(cl.ctx_create(1), 0);
        pid_t w = router.worker_pid(1);
        auto a = cl.fill(1, 1, 0x100000, P, 1);
        ASSERT_EQ(a.error, 0);
        EXPECT_EQ(status_of(a), uint32_t{VGPU_UE_RUN_FAULTED}) << "mailbox " << mailbox;
        EXPECT_EQ(a.run.fault_kind, uint32_t{DRM_VGPU_FAULT_ENGINE_LOST});
        EXPECT_EQ(a.run.next_cmd, 0u);
        EXPECT_TRUE(reaped(router, w));
        EXPECT_EQ(router.stats().lost, 1u);
        close(fd);
    }
}

// An errno the module would refuse (positive, or past MAX_ERRNO) ends that
// worker too; the request answers EIO.
TEST(Workers, AnErrnoOutOfRangeEndsTheWorkerOnly) {
    for (int32_t bad : {5, -4096, -4096 - 1}) {
        const bool mailbox = bad != -4096;
        int fd = test::windows_fd();
        Router router(make_memfd_memory(kMem), lying_worker(bad, mailbox), fd);
        Client cl;
        cl.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return router.handle(q, p); };
        ASSERT_EQ(cl.ctx_create(1), 0);
        EXPECT_EQ(cl.map_host(1, 0x100000, 1, 1), -EIO) << "errno " << bad;
        EXPECT_EQ(router.stats().lost, 1u);
        close(fd);
    }
}

// Naive mode maps an object a GPU page per request: the record keeps one
// MAP for them, so a new worker gets it back in one request, holes and all.
TEST(Workers, PageByPageMapsReplayAsOne) {
    Rig r;
    const uint64_t dev = 0x200000, host = 0x4000000;
    ASSERT_EQ(r.ctx_create(1), 0);
    ASSERT_EQ(r.mem_alloc(1, 64 * P), 0);
    for (uint64_t i = 0; i < 64; i++)
        ASSERT_EQ(r.map_dev(1, dev + i * P, P, 1, i * P), 0);
    r.unmap(1, dev + 10 * P, 1);
    ASSERT_EQ(status_of(r.fill(1, 1, dev, 64 * P, 0)), uint32_t{VGPU_UE_RUN_FAULTED});  // the hole
    ASSERT_EQ(status_of(r.fill(1, 2, dev + 11 * P, 53 * P, 0x77)), uint32_t{VGPU_UE_RUN_DONE});
    pid_t w = r.router.worker_pid(1);
    ASSERT_EQ(kill(w, SIGKILL), 0);
    settle(w);
    ASSERT_EQ(r.map_host(1, host, 1, 2), 0);
    EXPECT_EQ(r.router.stats().replayed, 1u) << "64 page MAPs replayed as one";
    ASSERT_EQ(status_of(r.copy(1, 3, host, dev + 63 * P, P)), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(2, 0), 0x77u);
    auto f = r.fill(1, 4, dev + 10 * P, P, 1);
    EXPECT_EQ(status_of(f), uint32_t{VGPU_UE_RUN_FAULTED}) << "the hole is still one";
    EXPECT_EQ(f.run.fault_addr, dev + 10 * P);
}

TEST(Workers, BadRequestsAnswerErrors) {
    Rig r;
    EXPECT_EQ(r.send(Client::op(99)).error, -EOPNOTSUPP);
    EXPECT_EQ(r.map_host(7, 0x1000, 1, 1), -ENOENT);
    ASSERT_EQ(r.ctx_create(1), 0);
    EXPECT_EQ(r.map_dev(1, 0x1000, P, 42), -EINVAL);  // no such memory
    EXPECT_NE(r.send(Client::map_req(1, 0x1001, P, 1)).error, 0);  // unaligned: the worker's bridge says
    drm_vgpu_cmd c = Client::fill_cmd(0x1000, P, 1);
    vgpu_ue_req q = Client::op(VGPU_UE_OP_MEM_FREE);
    q.payload_len = sizeof(c);
    EXPECT_EQ(r.send(q, &c).error, -EINVAL);
    EXPECT_EQ(r.send(Client::run_req(1, 5, 1, nullptr)).error, -ENOENT);
    auto a = r.send(Client::run_req(9, 5, 1, &c), &c);  // no such context
    EXPECT_EQ(status_of(a), uint32_t{VGPU_UE_RUN_FAULTED});
    EXPECT_EQ(a.run.fault_kind, uint32_t{DRM_VGPU_FAULT_ENGINE_LOST});
    EXPECT_EQ(r.router.stats().lost, 0u);
}

// What the workers of recording_worker() were asked: in memory shared
// with them (mmap()ed before their fork).
struct StackLog {
    struct Entry {
        pid_t pid;
        uint32_t op;
        uint64_t ctx;
        uint32_t stack_size;
    };
    std::atomic<int> n{0};
    std::atomic<int> stack_error{0};  // CTX_STACK's answer (a negative errno or 0)
    Entry e[64];
    // The CTX_STACK sizes worker @pid was given, in order.
    std::vector<uint32_t> stacks(pid_t pid) const {
        std::vector<uint32_t> v;
        for (int i = 0; i < std::min(n.load(), 64); i++)
            if (e[i].pid == pid && e[i].op == VGPU_UE_OP_CTX_STACK)
                v.push_back(e[i].stack_size);
        return v;
    }
    int stack_requests() const {
        int k = 0;
        for (int i = 0; i < std::min(n.load(), 64); i++)
            k += e[i].op == VGPU_UE_OP_CTX_STACK;
        return k;
    }
};

// A StackLog in shared memory, unmapped with the last reference.
std::shared_ptr<StackLog> shared_log() {
    void* p = mmap(nullptr, sizeof(StackLog), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        throw std::system_error(errno, std::generic_category(), "mmap");
    return std::shared_ptr<StackLog>(new (p) StackLog, [](StackLog* l) {
        l->~StackLog();
        munmap(l, sizeof(StackLog));
    });
}

// A worker of this test (through its socket, no mailbox) that answers
// every request 0 but CTX_STACK (@log's stack_error) and records each
// CTX_CREATE and CTX_STACK in @log.
Spawn recording_worker(std::shared_ptr<StackLog> log) {
    return [log] {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        pid_t pid = fork();
        if (pid < 0)
            throw std::system_error(errno, std::generic_category(), "fork");
        if (!pid) {
            close(sv[0]);
            link::Frame f;
            while (!link::recv_frame(sv[1], f, UINT64_MAX)) {
                link::Header h{};
                h.kind = f.h.kind;
                vgpu_ue_resp resp{};
                size_t len = 0;
                if (f.h.kind == uint32_t(link::Kind::Mailbox))
                    h.err = EINVAL;  // its requests stay on the socket
                if (f.h.kind == uint32_t(link::Kind::Request) && f.body.size() >= sizeof(vgpu_ue_req)) {
                    vgpu_ue_req q;
                    std::memcpy(&q, f.body.data(), sizeof(q));
                    resp.seq = q.seq;
                    len = sizeof(resp);
                    if (q.op == VGPU_UE_OP_CTX_CREATE || q.op == VGPU_UE_OP_CTX_STACK) {
                        int i = log->n++;
                        if (i < 64)
                            log->e[i] = {getpid(), q.op,
                                         q.op == VGPU_UE_OP_CTX_STACK ? q.ctx_stack.ctx : q.ctx_create.ctx,
                                         q.op == VGPU_UE_OP_CTX_STACK ? q.ctx_stack.stack_size : 0};
                    }
                    if (q.op == VGPU_UE_OP_CTX_STACK)
                        resp.error = log->stack_error.load();
                }
                if (link::send_frame(sv[1], h, &resp, len))
                    break;
            }
            _exit(0);
        }
        close(sv[1]);
        WorkerProc w;
        w.pid = pid;
        w.sock = vgpu::Fd(sv[0]);
        return w;
    };
}

// A context's call stack (CTX_STACK) is the engine process's to keep: a
// worker that replaces a lost one is given it before anything else, and
// one the worker refused is not kept.  The Router checks each request
// first (nothing bad reaches a worker: EINVAL), and refuses every one
// where it announced no stack (EOPNOTSUPP).
TEST(Workers, AContextsStackIsGivenAgainToItsNextWorker) {
    auto log = shared_log();
    int fd = test::windows_fd();
    Router router(make_memfd_memory(kMem), recording_worker(log), fd);
    Client cl;
    cl.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return router.handle(q, p); };
    ASSERT_EQ(cl.ctx_create(1), 0);
    EXPECT_EQ(cl.ctx_stack(1, 8192), -EOPNOTSUPP) << "no stack announced";
    router.set_max_stack(16384);
    EXPECT_EQ(cl.ctx_stack(2, 8192), -EINVAL) << "no such context";
    EXPECT_EQ(cl.send(test::ctx_stack_req(1, 8192, 1)).error, -EINVAL) << "pad";
    for (uint32_t bad : {0u, 1024u, 3072u, 32768u, UINT32_MAX})
        EXPECT_EQ(cl.ctx_stack(1, bad), -EINVAL) << bad;
    EXPECT_EQ(log->stack_requests(), 0) << "none of them reached the worker";

    const pid_t first = router.worker_pid(1);
    ASSERT_EQ(cl.ctx_stack(1, 8192), 0);
    EXPECT_EQ(log->stacks(first), std::vector<uint32_t>{8192});
    ASSERT_EQ(kill(first, SIGKILL), 0);
    settle(first);
    ASSERT_EQ(cl.map_host(1, 0x100000, 1, 1), 0);
    const pid_t second = router.worker_pid(1);
    ASSERT_NE(second, first);
    EXPECT_EQ(log->stacks(second), std::vector<uint32_t>{8192}) << "given again";
    // In the worker's order: its context first, then its stack.
    int created = -1, stacked = -1;
    for (int i = 0; i < log->n.load(); i++) {
        if (log->e[i].pid != second)
            continue;
        (log->e[i].op == VGPU_UE_OP_CTX_CREATE ? created : stacked) = i;
        EXPECT_EQ(log->e[i].ctx, 1u);
    }
    EXPECT_LT(created, stacked);

    // A stack the worker refuses is not kept (vgpu-back returns its charge).
    log->stack_error = -ENOMEM;
    EXPECT_EQ(cl.ctx_stack(1, 16384), -ENOMEM);
    log->stack_error = 0;
    ASSERT_EQ(kill(second, SIGKILL), 0);
    settle(second);
    // The request itself finds the worker gone: a new one, given 8192,
    // then asked for 16384.
    ASSERT_EQ(cl.ctx_stack(1, 16384), 0);
    const pid_t third = router.worker_pid(1);
    ASSERT_NE(third, second);
    EXPECT_EQ(log->stacks(third), (std::vector<uint32_t>{8192, 16384}));

    // A successor whose driver refuses the stack (the GPU's memory taken
    // meanwhile) still serves the context: its launches naming the
    // stack run their ISA; the request that started it succeeds.
    log->stack_error = -ENOMEM;
    ASSERT_EQ(kill(third, SIGKILL), 0);
    settle(third);
    EXPECT_EQ(cl.map_host(1, 0x200000, 1, 1), 0) << "a refused stack in the replay is not fatal";
    const pid_t fourth = router.worker_pid(1);
    ASSERT_NE(fourth, third);
    EXPECT_EQ(log->stacks(fourth), std::vector<uint32_t>{16384});
    log->stack_error = 0;
    close(fd);
}

// Interpreter workers give no stack: the worker refuses it, the Router
// keeps none, and the worker that replaces a lost one starts as before.
TEST(Workers, AStackTheWorkerRefusesIsNotGivenAgain) {
    Rig r;
    r.router.set_max_stack(16384);
    ASSERT_EQ(r.ctx_create(1), 0);
    EXPECT_EQ(r.ctx_stack(1, 8192), -EOPNOTSUPP);
    pid_t w = r.router.worker_pid(1);
    ASSERT_EQ(kill(w, SIGKILL), 0);
    settle(w);
    EXPECT_EQ(r.map_host(1, 0x100000, 1, 1), 0) << "its replay asks for no stack";
    EXPECT_NE(r.router.worker_pid(1), w);
    EXPECT_EQ(status_of(r.fill(1, 1, 0x100000, P, 3)), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(1, 0), 3u);
}

// A spare worker, started between requests, serves the next context
// created and a lost worker's successor; one that died waiting is not
// given to anyone (a new worker is), and none is started again for a
// while.  Every context computes.
TEST(Workers, SpareWorkersServeNewContextsAndSuccessors) {
    Rig r;
    r.router.set_spares(1);
    r.router.reap();
    ASSERT_EQ(r.router.spare_pids().size(), 1u);
    const pid_t spare = r.router.spare_pids()[0];
    EXPECT_EQ(r.router.stats().started, 1u);
    ASSERT_EQ(r.ctx_create(1), 0);
    EXPECT_EQ(r.router.worker_pid(1), spare) << "the spare serves the new context";
    EXPECT_EQ(r.router.stats().spares_taken, 1u);
    ASSERT_EQ(r.mem_alloc(1, 2 * P), 0);
    ASSERT_EQ(r.map_dev(1, 0x100000, 2 * P, 1), 0);
    drm_vgpu_cmd fill = test::fill_cmd(0x100000, 2 * P, 0x5a5a5a5a);
    EXPECT_EQ(status_of(r.send(r.run_req(1, 1, 1, &fill), &fill)), uint32_t(VGPU_UE_RUN_DONE));
    r.router.reap();  // between requests: a new spare
    ASSERT_EQ(r.router.spare_pids().size(), 1u);
    const pid_t next = r.router.spare_pids()[0];
    EXPECT_NE(next, spare);
    // The context's worker dies: its successor is the spare, mappings
    // and memory as they were.
    ASSERT_EQ(kill(spare, SIGKILL), 0);
    settle(spare);
    drm_vgpu_cmd copy = test::copy_cmd(0x100000 + P, 0x100000, 64);
    EXPECT_EQ(status_of(r.send(r.run_req(1, 2, 1, &copy), &copy)), uint32_t(VGPU_UE_RUN_DONE));
    EXPECT_EQ(r.router.worker_pid(1), next);
    EXPECT_EQ(r.router.stats().spares_taken, 2u);
    // A spare that died waiting: the next context gets a new worker, and
    // no spare is started again at once.
    r.router.reap();
    ASSERT_EQ(r.router.spare_pids().size(), 1u);
    const pid_t dead = r.router.spare_pids()[0];
    ASSERT_EQ(kill(dead, SIGKILL), 0);
    settle(dead);
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(r.ctx_create(2), 0);
    EXPECT_NE(r.router.worker_pid(2), dead);
    EXPECT_GT(r.router.worker_pid(2), 0);
    EXPECT_EQ(r.router.stats().spares_taken, 2u);
    EXPECT_EQ(r.router.stats().spares_lost, 1u);
    r.router.reap();
    if (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(900)) {  // the pause is 1 s
        EXPECT_TRUE(r.router.spare_pids().empty()) << "not again at once after one died";
    }
    EXPECT_TRUE(reaped(r.router, dead));
    ASSERT_EQ(r.map_dev(2, 0x100000, 2 * P, 1), 0);
    EXPECT_EQ(status_of(r.send(r.run_req(2, 3, 1, &copy), &copy)), uint32_t(VGPU_UE_RUN_DONE));
}

// Worker starts are paced per group (start_budget.hpp): a group past its
// share gets EBUSY for a new context and its lost worker's successor
// waits (its requests fail EIO), while another group's contexts and
// group 0's are served; once the share has refilled, both go on.  The
// pacing reads the test's clock, on which starts take no time.
TEST(Workers, AGroupPastItsShareOfStartsIsPaced) {
    Rig r;
    uint64_t clock = 1'000'000'000;
    r.router.set_budget_clock([&] { return clock; });
    // Each start costs 100 ms, refilled at 10% of the clock: one start,
    // then none for a second.
    r.router.set_start_limits({.burst_ns = 1'000'000, .per_mille = 100, .floor_ns = 100'000'000});
    ASSERT_EQ(r.ctx_create(1, 5), 0);
    EXPECT_EQ(r.ctx_create(2, 5), -EBUSY);
    EXPECT_EQ(r.router.worker_pid(2), 0);
    EXPECT_EQ(r.map_host(2, 0x1000, 1, 1), -ENOENT) << "a paced context is not made";
    ASSERT_EQ(r.ctx_create(3, 6), 0) << "another group is not paced by group 5";
    ASSERT_EQ(r.ctx_create(4, 0), 0) << "group 0 (none) is not paced";
    ASSERT_EQ(r.ctx_create(7, 0), 0);
    EXPECT_EQ(r.router.stats().paced, 1u);

    // Context 1's worker dies: its successor waits for the group's share.
    const uint64_t host = 0x400000;
    ASSERT_EQ(r.map_host(1, host, 1, 3), 0);
    pid_t first = r.router.worker_pid(1);
    ASSERT_EQ(kill(first, SIGKILL), 0);
    settle(first);
    EXPECT_EQ(r.fill(1, 1, host, P, 0x600d).error, -EIO);
    EXPECT_EQ(r.router.worker_pid(1), 0) << "no successor started past the share";
    EXPECT_EQ(r.router.stats().paced, 2u);

    clock += 500'000'000;  // half refilled
    EXPECT_EQ(r.ctx_create(2, 5), -EBUSY);
    clock += 500'000'000 + 1'000'000;
    ASSERT_EQ(r.ctx_create(2, 5), 0);
    // Context 2's start took the share again: context 1 waits on (its
    // wait counted once).
    EXPECT_EQ(r.fill(1, 2, host, P, 0x600d).error, -EIO);
    EXPECT_EQ(r.router.stats().paced, 3u);
    clock += 1'001'000'000;
    auto f = r.fill(1, 3, host, P, 0x600d);
    ASSERT_EQ(f.error, 0);
    EXPECT_EQ(status_of(f), uint32_t{VGPU_UE_RUN_DONE});
    EXPECT_EQ(r.window_word(3, 0), 0x600du) << "the successor has the context's mappings";
    EXPECT_NE(r.router.worker_pid(1), first);
}

TEST(Workers, AWorkerThatCannotStartFailsItsContext) {
    int fd = test::windows_fd();
    Router router(make_memfd_memory(kMem), exec_spawner("/nonexistent/vgpu-engined", "interp"), fd);
    Client cl;
    cl.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return router.handle(q, p); };
    EXPECT_EQ(cl.ctx_create(1), -EAGAIN);
    EXPECT_EQ(router.worker_pid(1), 0);
    EXPECT_EQ(cl.map_host(1, 0x1000, 1, 1), -ENOENT);
    close(fd);
}

// Random request sequences answered by the bridge in this process and by
// the Router's workers, each side over windows of its own: the same
// answers (error; a RUN's status, next command, progress and fault) and
// the same bytes in every window, while workers are killed now and then
// between requests (the context's mappings replayed into the next one).
TEST(Workers, RandomSequencesAnswerAsInProcess) {
    std::mt19937_64 rng(20261204);
    auto pick = [&](uint64_t n) { return rng() % n; };
    auto interp = make_interp_backend(kMem);
    int wa = test::windows_fd(), wb = test::windows_fd();
    Bridge br(*interp, dup(wa));
    Router router(make_memfd_memory(kMem), exec_spawner(GPUVM_ENGINED, "interp"), wb);
    Client a, b;
    a.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return br.handle(q, p); };
    b.handler = [&](const vgpu_ue_req& q, const uint8_t* p) { return router.handle(q, p); };
    std::map<uint64_t, std::map<uint64_t, uint64_t>> pages;  // ctx -> page -> mem (0: host)
    std::set<uint64_t> ctxs;
    uint64_t job = 1, kills = 0, runs = 0, faults = 0;
    auto va_of = [&](uint64_t k) { return 0x100000 + k * P; };
    auto mapped_anywhere = [&](uint64_t mem) {
        for (auto& [c, pg] : pages)
            for (auto& [p, m] : pg)
                if (m == mem)
                    return true;
        return false;
    };
    for (int i = 0; i < 1500; i++) {
        uint64_t ctx = 1 + pick(3), w = pick(100);
        vgpu_ue_req q{};
        drm_vgpu_cmd c{};
        bool run = false;
        std::ostringstream what;
        if (w < 8) {
            q = Client::op(VGPU_UE_OP_CTX_CREATE);
            q.ctx_create.ctx = ctx;
            what << "create " << ctx;
        } else if (w < 11) {
            q = Client::op(VGPU_UE_OP_CTX_DESTROY);
            q.ctx_destroy.ctx = ctx;
            what << "destroy " << ctx;
        } else if (w < 21) {
            q = Client::op(VGPU_UE_OP_MEM_ALLOC);
            q.mem_alloc = {1 + pick(5), (1 + pick(4)) * P};
            what << "alloc " << q.mem_alloc.mem;
        } else if (w < 26) {
            uint64_t mem = 1 + pick(5);
            if (mapped_anywhere(mem))
                continue;  // the core never frees memory still mapped
            q = Client::op(VGPU_UE_OP_MEM_FREE);
            q.mem_free.mem = mem;
            what << "free " << mem;
        } else if (w < 46) {
            q = Client::map_req(ctx, va_of(pick(24)), (1 + pick(4)) * P, 0);
            q.map.kind = VGPU_UE_MAP_DEVICE;
            q.map.mem = 1 + pick(5);
            q.map.offset = pick(4) * P;
            what << "map mem " << q.map.mem;
        } else if (w < 61) {
            q = Client::map_req(ctx, va_of(pick(24)), (1 + pick(3)) * P, 1 + pick(8));
            what << "map window " << q.map.window;
        } else if (w < 73) {
            q = Client::op(VGPU_UE_OP_UNMAP);
            q.unmap = {ctx, va_of(pick(24)), (1 + pick(6)) * P};
            what << "unmap";
        } else if (w < 98) {
            c = w < 88 ? test::fill_cmd(va_of(pick(24)) + 4 * pick(8), 4 * (1 + pick(2 * P / 4)),
                                        static_cast<uint32_t>(rng()))
                       : test::copy_cmd(va_of(pick(24)) + pick(P), va_of(pick(24)) + pick(P), 1 + pick(2 * P));
            q = Client::run_req(ctx, job++, 1, &c);
            run = true;
            what << (c.op == DRM_VGPU_CMD_FILL ? "fill" : "copy");
        } else {
            if (pid_t p = router.worker_pid(ctx)) {
                kill(p, SIGKILL);
                kills++;
                settle(p);
            }
            continue;
        }
        vgpu_ue_resp x = a.send(q, run ? &c : nullptr), y = b.send(q, run ? &c : nullptr);
        ASSERT_EQ(x.error, y.error) << "request " << i << ": " << what.str();
        if (run) {
            runs++;
            faults += x.run.status == VGPU_UE_RUN_FAULTED;
            ASSERT_EQ(x.run.status, y.run.status) << "request " << i << ": " << what.str();
            ASSERT_EQ(x.run.next_cmd, y.run.next_cmd) << "request " << i;
            ASSERT_EQ(x.run.cmd_done, y.run.cmd_done) << "request " << i;
            ASSERT_EQ(x.run.fault_kind, y.run.fault_kind) << "request " << i;
            ASSERT_EQ(x.run.fault_addr, y.run.fault_addr) << "request " << i;
        }
        if (x.error)
            continue;
        // What the generator knows of the mappings (both sides agreed).
        if (q.op == VGPU_UE_OP_CTX_DESTROY) {
            pages.erase(ctx);
        } else if (q.op == VGPU_UE_OP_MAP) {
            for (uint64_t o = 0; o < q.map.size; o += P)
                pages[ctx][q.map.va + o] = q.map.kind == VGPU_UE_MAP_DEVICE ? q.map.mem : 0;
        } else if (q.op == VGPU_UE_OP_UNMAP) {
            for (uint64_t o = 0; o < q.unmap.size; o += P)
                pages[ctx].erase(q.unmap.va + o);
        }
    }
    std::vector<uint8_t> pa(4 * P), pb(4 * P);
    for (uint64_t win = 1; win <= 8; win++) {
        off_t at = static_cast<off_t>(win << VGPU_UE_WINDOW_SHIFT);
        ASSERT_EQ(pread(wa, pa.data(), pa.size(), at), static_cast<ssize_t>(pa.size()));
        ASSERT_EQ(pread(wb, pb.data(), pb.size(), at), static_cast<ssize_t>(pb.size()));
        EXPECT_TRUE(pa == pb) << "window " << win << " differs";
    }
    EXPECT_GT(kills, 10u);
    EXPECT_GT(runs, 200u);
    EXPECT_GT(faults, 10u);
    EXPECT_LT(faults, runs) << "some runs must reach mapped memory";
    EXPECT_GT(router.stats().replayed, 0u);
    close(wa);
    close(wb);
}

// The GPU's memory for workers, over the fake driver: the engine
// process's allocation (cuMemCreate, 2 MiB pieces, zeroed, exported) is
// imported by a worker's back end, which has no memory of its own, and
// serves its page tables; what one side writes the other reads; freeing
// both sides leaves no handle, reservation or mapping.
TEST(CudaWorkers, TheEngineProcessesMemoryServesAWorker) {
    test::FakeCuda fake;
    auto mem = make_cuda_memory(test::FakeCuda::api(), 8 << 20, 0);
    EXPECT_EQ(mem->device_name(), "Fake GPU");
    EXPECT_EQ(mem->pci(), "0000:3b:00.1");
    ASSERT_EQ(mem->alloc(1, P), 0);
    uint64_t size = 0;
    ASSERT_EQ(mem->pieces(1, &size), 1u);
    EXPECT_EQ(size, 2u << 20) << "whole pieces of the driver's granularity";
    vgpu::Fd fd = mem->export_piece(1, 0);
    ASSERT_TRUE(fd);
    EXPECT_FALSE(mem->export_piece(1, 1)) << "one piece only";
    uint32_t word = 1;
    ASSERT_EQ(mem->read(1, 4096, &word, 4), 0);
    EXPECT_EQ(word, 0u) << "zeroed for its owner";
    ASSERT_EQ(mem->alloc(2, 6 << 20), 0);
    EXPECT_EQ(mem->alloc(3, 1), ENOSPC) << "8 MiB in all";
    const uint32_t pattern = 0xc0ffee11;
    uint64_t syncs = fake.ctx_syncs;
    ASSERT_EQ(mem->write(1, 64, &pattern, 4), 0);
    EXPECT_GT(fake.ctx_syncs, syncs) << "a write lands before a worker can read it";

    auto be = make_cuda_backend(test::FakeCuda::api(), 0, 0);
    EXPECT_EQ(be->mem_alloc(9, P), ENOSPC) << "a worker has no memory of its own";
    ASSERT_EQ(be->mem_import(1, fd.get(), size, 0), 0);
    EXPECT_EQ(be->mem_import(1, fd.get(), size, 0), EEXIST);
    EXPECT_EQ(be->mem_import(4, -1, size, 0), EINVAL);
    EXPECT_EQ(be->mem_import(5, fd.get(), size, 1), EINVAL) << "one piece: the allocation whole";
    ASSERT_EQ(be->ctx_create(1, 0), 0);
    Backing b;
    b.mem = 1;
    b.offset = P;
    const uint64_t va = 0x200000;
    ASSERT_EQ(be->map(1, va, P, 3, b), 0);
    uint64_t leaf = test::gpu_leaf(fake, *be, 1, va) & ~uint64_t{4095};
    ASSERT_NE(leaf, 0u);
    EXPECT_TRUE(fake.device_live(leaf, P)) << "the leaf is in the imported mapping";
    uint32_t got = 0;
    ASSERT_EQ(be->mem_read(1, 64, &got, 4), 0);
    EXPECT_EQ(got, pattern) << "the worker sees what the engine process wrote";
    Job job;
    job.cmds = {test::fill_cmd(va, P, 0x5a5a5a5a)};
    RunResult r = be->run(1, job, UINT64_MAX, UINT64_MAX);
    ASSERT_EQ(r.status, RunStatus::Done);
    ASSERT_EQ(mem->read(1, P + 8, &got, 4), 0);
    EXPECT_EQ(got, 0x5a5a5a5au) << "the engine process sees what the worker wrote";
    EXPECT_EQ(test::audit_tables(fake, *be), "");
    be->unmap(1, va, P);
    be->ctx_destroy(1);
    be->mem_free(1);
    be.reset();
    EXPECT_EQ(fake.vmm_handles(), 2u) << "the engine process's two";
    mem->free(1);
    mem.reset();
    EXPECT_EQ(fake.vmm_handles(), 0u);
    EXPECT_EQ(fake.vmm_reserved(), 0u);
    EXPECT_EQ(fake.errors(), "");
}

// Frames: a body of the longest size and a descriptor arrive whole; a
// frame out of format, a silent peer and a closed one are told apart.
TEST(WorkerLink, FramesCarryBodiesAndDescriptors) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    vgpu::Fd a(sv[0]), b(sv[1]);
    std::vector<uint8_t> body(link::kMaxBody);
    for (size_t i = 0; i < body.size(); i++)
        body[i] = static_cast<uint8_t>(i * 7);
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    vgpu::Fd pr(pipefd[0]), pw(pipefd[1]);
    link::Header h{};
    h.kind = 4;
    h.mem = 77;
    std::thread t([&] { EXPECT_EQ(link::send_frame(a.get(), h, body.data(), body.size(), pw.get()), 0); });
    link::Frame f;
    ASSERT_EQ(link::recv_frame(b.get(), f, now_ns() + 5'000'000'000ull), 0);
    t.join();
    EXPECT_EQ(f.h.kind, 4u);
    EXPECT_EQ(f.h.mem, 77u);
    EXPECT_EQ(f.body, body);
    ASSERT_TRUE(f.fd);
    ASSERT_EQ(write(f.fd.get(), "x", 1), 1) << "the descriptor is the pipe's";
    char ch = 0;
    EXPECT_EQ(read(pr.get(), &ch, 1), 1);
    EXPECT_EQ(ch, 'x');
    EXPECT_EQ(link::send_frame(a.get(), h, nullptr, link::kMaxBody + 1), EMSGSIZE);
    EXPECT_EQ(link::recv_frame(b.get(), f, now_ns() + 20'000'000), ETIMEDOUT);
    link::Header bad{};
    bad.len = static_cast<uint32_t>(link::kMaxBody + 1);
    ASSERT_EQ(write(a.get(), &bad, sizeof(bad)), static_cast<ssize_t>(sizeof(bad)));
    EXPECT_EQ(link::recv_frame(b.get(), f, UINT64_MAX), EPROTO);
    a.reset();
    EXPECT_EQ(link::recv_frame(b.get(), f, UINT64_MAX), EPIPE);
    EXPECT_EQ(link::send_frame(b.get(), h, nullptr, 0), EPIPE) << "no SIGPIPE";
}

}  // namespace

namespace {

// The request loop runs its idle hook when no request comes (vgpu-engined
// --workers reaps ended workers there), and stops when told.
TEST(Workers, TheRequestLoopRunsIdleWithoutRequests) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    vgpu::Fd a(sv[0]), b(sv[1]);
    static volatile std::sig_atomic_t stop = 0;
    stop = 0;
    int idles = 0, requests = 0;
    int err = serve_requests(
        a.get(), &stop,
        [&](const vgpu_ue_req&, const uint8_t*) {
            requests++;
            return vgpu_ue_resp{};
        },
        [&] {
            if (++idles == 2)
                stop = 1;
        });
    EXPECT_EQ(err, 0);
    EXPECT_EQ(idles, 2);
    EXPECT_EQ(requests, 0);
}

}  // namespace
