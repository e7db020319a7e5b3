// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// router.cpp - vgpu-engined's engine process with workers (see
// router.hpp): the module's requests for a context go to that context's
// worker; device memory stays here.  A worker that dies, breaks the
// protocol or overruns a RUN's deadline is ended; the job it ran faults
// (or times out), and a new worker, given the context's mappings again,
// serves the context's next request.
#include "router.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <system_error>
#include <utility>

#include "bridge.hpp"
#include "vgpu/latency.hpp"
#include "worker_link.hpp"

namespace vgpu::engine {

namespace {

constexpr uint64_t kRetryNs = 1'000'000'000;  // a context whose worker could not start, before another try
constexpr uint64_t kSpareCtx = UINT64_MAX;  // the context a spare's Dying entry names: none
constexpr uint64_t kSpareBackoffMaxNs = 64'000'000'000;  // the longest pause after a spare that could not start
constexpr uint64_t kDeathNs = 2'000'000'000;  // for a context's killed worker to be gone before the next
constexpr uint64_t kLogWindowNs = 5'000'000'000;
constexpr int32_t kMaxErrno = 4095;  // the kernel's MAX_ERRNO
constexpr uint64_t kExitNs = 1'000'000'000;  // for a worker to exit once its socket closed
constexpr unsigned kLogLines = 10;         // log lines per window

uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

}  // namespace

void hello_ptx(vgpu_ue_hello& hello, const SharedMemory& mem, bool gpu) {
    hello.flags &= ~uint32_t{VGPU_UE_HELLO_PTX | VGPU_UE_HELLO_PTX_STACK};
    hello.max_stack = 0;
    hello.stack_threads = 0;
    if (!gpu)  // the interpreter's workers run the ISA
        return;
    hello.flags |= VGPU_UE_HELLO_PTX;
    // A stack the module would refuse (vgpu_uengine.h) is none.
    const uint32_t max = mem.max_stack();
    const uint64_t threads = mem.stack_threads();
    if (!stack_bound_ok(max) || !threads || threads > uint64_t{1} << 24)
        return;
    hello.flags |= VGPU_UE_HELLO_PTX_STACK;
    hello.max_stack = max;
    hello.stack_threads = threads;
}

Router::Router(std::unique_ptr<SharedMemory> mem, Spawn spawn, int windows_fd)
    : mem_(std::move(mem)), spawn_(std::move(spawn)), windows_fd_(windows_fd), budget_clock_(now_ns) {}

class Router::Charge {
public:
    Charge(Router& r, uint64_t group) : r_(r), group_(group), t0_(r.budget_clock_()) {}
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge() {
        try {
            uint64_t t = r_.budget_clock_();
            r_.budget_.charge(group_, t - t0_, t);
        } catch (...) {  // no room to record it: the group goes uncharged once
        }
    }

private:
    Router& r_;
    uint64_t group_, t0_;
};

// Every worker killed at once, then reaped, for a few seconds at most (a
// worker in uninterruptible sleep is left to init).
Router::~Router() {
    for (auto& [id, c] : ctxs_)
        stop(id, c, true, nullptr);
    for (WorkerProc& w : spares_)
        retire(w, kSpareCtx);
    for (Dying& d : dying_)
        ::kill(d.pid, SIGKILL);
    uint64_t until = now_ns() + 5'000'000'000;
    while (!dying_.empty() && now_ns() < until) {
        std::erase_if(dying_, [](const Dying& d) { return waitpid(d.pid, nullptr, WNOHANG) != 0; });
        if (!dying_.empty())
            usleep(2000);
    }
}

std::vector<pid_t> Router::spare_pids() const {
    std::vector<pid_t> p;
    for (const WorkerProc& w : spares_)
        p.push_back(w.pid);
    return p;
}

// A spare writes nothing before it is taken: anything to read is its end.
static bool idle_alive(const WorkerProc& w) {
    pollfd p{w.sock.get(), POLLIN, 0};
    return w.pid && poll(&p, 1, 0) == 0;
}

void Router::retire(WorkerProc& w, uint64_t ctx) {
    if (!w.pid)
        return;
    pid_t pid = std::exchange(w.pid, 0);
    w.sock.reset();
    w.mbox.reset();
    ::kill(pid, SIGKILL);
    if (!waitpid(pid, nullptr, WNOHANG))
        dying_.push_back({pid, ctx, UINT64_MAX});
}

// A spare that ended before it was taken (it could not start: no GPU,
// GPU memory full): said (rate-limited), and no spare is started again
// for a while, 1 s doubling to 64 s until a worker starts.
void Router::spare_lost(WorkerProc& w, const char* why) {
    const pid_t pid = w.pid;
    retire(w, kSpareCtx);
    stats_.spares_lost++;
    spare_backoff_ns_ = std::min(spare_backoff_ns_ ? spare_backoff_ns_ * 2 : kRetryNs, kSpareBackoffMaxNs);
    spare_retry_at_ = now_ns() + spare_backoff_ns_;
    if (log_line())
        std::cerr << "vgpu-engined: a spare worker (pid " << pid << ") " << why << "; none started for "
                  << spare_backoff_ns_ / 1'000'000'000 << " s\n";
}

WorkerProc Router::take_worker() {
    while (!spares_.empty()) {
        WorkerProc w = std::move(spares_.front());
        spares_.erase(spares_.begin());
        if (idle_alive(w)) {
            stats_.spares_taken++;
            return w;
        }
        spare_lost(w, "ended before it was taken");
    }
    WorkerProc w = spawn_();
    stats_.started++;
    return w;
}

// One spare at most a call (each posix_spawn() holds this process up
// until the child has exec'ed; a request may be waiting); true if it
// tried one.  The spares that ended were taken out by reap(), which
// calls it.
bool Router::refill_spares() {
    if (spares_.size() >= spares_wanted_ || now_ns() < spare_retry_at_)
        return false;
    try {
        spares_.push_back(spawn_());
        stats_.started++;
    } catch (const std::system_error& e) {
        WorkerProc none;
        spare_lost(none, e.what());
    }
    return true;
}

pid_t Router::worker_pid(uint64_t ctx) const {
    auto it = ctxs_.find(ctx);
    return it == ctxs_.end() ? 0 : it->second.w.pid;
}

vgpu_ue_resp Router::handle(const vgpu_ue_req& req, const uint8_t* payload) {
    // Every exchange a request needs (a worker's start, a replay, a MAP
    // asked again) ends by one deadline, well inside the module's.
    deadline_ = now_ns() + op_ns_;
    reap();
    return answer(req, [&](vgpu_ue_resp& resp) { return dispatch(req, payload, resp); });
}

// A RUN's answer when its worker is gone: the job faults (ENGINE_LOST),
// or times out when its deadline passed; nothing past where it stood.
static void lost_run(const vgpu_ue_req_run& q, uint64_t elapsed, bool timedout, vgpu_ue_resp_run& out) {
    out = {};
    out.next_cmd = q.next_cmd;
    out.cmd_done = q.cmd_done;
    out.cmd_busy_ns = sat_add(q.cmd_busy_ns, elapsed);
    out.busy_ns = elapsed;
    if (timedout && q.next_cmd < q.num_cmds) {
        out.status = VGPU_UE_RUN_TIMEDOUT;
    } else {
        out.status = VGPU_UE_RUN_FAULTED;
        out.fault_kind = DRM_VGPU_FAULT_ENGINE_LOST;
    }
}

int Router::dispatch(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp) {
    if (req.payload_len && req.op != VGPU_UE_OP_RUN)
        return EINVAL;
    uint64_t id;
    switch (req.op) {
    case VGPU_UE_OP_CTX_CREATE:
        return ctx_create(req);
    case VGPU_UE_OP_CTX_DESTROY:
        ctx_destroy(req.ctx_destroy.ctx);
        return 0;
    case VGPU_UE_OP_MEM_ALLOC:
        return mem_->alloc(req.mem_alloc.mem, req.mem_alloc.size);
    case VGPU_UE_OP_MEM_FREE:
        mem_free(req.mem_free.mem);
        return 0;
    case VGPU_UE_OP_JOB_RELEASE: {
        auto j = jobs_.find(req.job_release.job);
        if (j == jobs_.end())
            return 0;
        auto c = ctxs_.find(j->second.ctx);
        if (c != ctxs_.end() && c->second.life == j->second.life && alive(c->second)) {
            vgpu_ue_resp r;
            if (call(c->second, req, nullptr, 0, deadline_, r))
                stop(c->first, c->second, true, "broke the protocol");
        }
        jobs_.erase(req.job_release.job);
        return 0;
    }
    case VGPU_UE_OP_MAP:
        id = req.map.ctx;
        break;
    case VGPU_UE_OP_UNMAP:
        id = req.unmap.ctx;
        break;
    case VGPU_UE_OP_RUN:
        id = req.run.ctx;
        break;
    case VGPU_UE_OP_CTX_STACK:
        // Checked here: what the worker is given again must be sound.
        if (int e = check_ctx_stack(req.ctx_stack, max_stack_))
            return e;
        id = req.ctx_stack.ctx;
        break;
    default:
        return EOPNOTSUPP;
    }
    auto it = ctxs_.find(id);
    if (it == ctxs_.end()) {
        if (req.op == VGPU_UE_OP_RUN)
            lost_run(req.run, 0, false, resp.run);
        return req.op == VGPU_UE_OP_MAP ? ENOENT : req.op == VGPU_UE_OP_CTX_STACK ? EINVAL : 0;
    }
    Ctx& c = it->second;
    int err = ensure(id, c);
    if (req.op == VGPU_UE_OP_UNMAP) {
        unmap(c, req);
        return 0;
    }
    if (err)
        return err;
    switch (req.op) {
    case VGPU_UE_OP_MAP: return map(id, c, req);
    case VGPU_UE_OP_CTX_STACK: return ctx_stack(id, c, req);
    default: return run(c, req, payload, resp);
    }
}

int Router::ctx_create(const vgpu_ue_req& req) {
    uint64_t id = req.ctx_create.ctx;
    if (ctxs_.count(id))
        return EEXIST;
    Ctx& c = ctxs_[id];
    c.group = req.ctx_create.group;
    int e = EBUSY;
    if (may_start(id, c, true)) {
        Charge charge(*this, c.group);
        e = start(id, c);
    }
    if (e)
        ctxs_.erase(id);
    return e;
}

bool Router::may_start(uint64_t id, Ctx& c, bool creating) {
    uint64_t now = budget_clock_(), at = 0;
    if (budget_.allows(c.group, now, &at)) {
        c.paced = false;
        return true;
    }
    // Once per context and wait: its requests meanwhile fail quietly.
    if (std::exchange(c.paced, true))
        return false;
    stats_.paced++;
    if (log_line()) {
        std::cerr << "vgpu-engined: group " << c.group << " has used its share of worker starts: ";
        if (creating)
            std::cerr << "new contexts refused (EBUSY) for " << (at - now) / 1'000'000 << " ms\n";
        else
            std::cerr << "context " << id << "'s new worker waits " << (at - now) / 1'000'000 << " ms\n";
    }
    return false;
}

void Router::ctx_destroy(uint64_t id) {
    auto it = ctxs_.find(id);
    if (it == ctxs_.end())
        return;
    // The worker's exit takes the context, its mappings and its jobs.
    stop(id, it->second, false, nullptr);
    ctxs_.erase(it);
    std::erase_if(jobs_, [id](const auto& j) { return j.second.ctx == id; });
}

void Router::mem_free(uint64_t mem) {
    for (auto& [id, c] : ctxs_) {
        if (!c.imported.erase(mem) || !alive(c))
            continue;
        // A worker that a stuck one before it left no time for is told at
        // its context's next request, not killed.
        if (now_ns() >= deadline_)
            c.forget.push_back(mem);
        else
            forget(id, c, mem);
    }
    mem_->free(mem);
}

void Router::forget(uint64_t id, Ctx& c, uint64_t mem) {
    int op_err = 0;
    if (int e = exchange(c, uint32_t(link::Kind::Forget), mem, 0, nullptr, 0, -1, deadline_, &op_err, nullptr))
        stop(id, c, true, e == EPIPE || e == ECONNRESET ? "died" : "broke the protocol");
}

int Router::map(uint64_t id, Ctx& c, const vgpu_ue_req& req) {
    const vgpu_ue_req_map& m = req.map;
    vgpu_ue_resp r;
    // A worker that died since the last request (its end not seen yet) is
    // replaced and asked again, once: the MAP took effect nowhere that
    // lives on.
    for (int tries = 0;; tries++) {
        int lost = 0;
        int e = m.kind == VGPU_UE_MAP_DEVICE ? import(c, m.mem, &lost) : 0;
        if (!lost && !e)
            lost = call(c, req, nullptr, 0, deadline_, r);
        if (!lost) {
            if (e)
                return e;
            break;
        }
        // Only a worker that is gone is asked again: one that does not
        // answer in time or answers out of format is not to be trusted.
        bool gone = lost == EPIPE || lost == ECONNRESET;
        stop(id, c, true, gone ? "died" : "broke the protocol");
        if (tries || !gone)
            return EIO;
        if ((e = ensure(id, c)))
            return e;
    }
    if (r.error)
        return -r.error;
    // Mapped in the worker: recorded for the next one.
    record_unmap(c, m.va, m.size);
    if (extends_latest(c, m))
        return 0;
    uint64_t entry = c.next_entry++;
    c.maps[entry] = {m, m.size};
    c.ranges[m.va] = {m.size, entry};
    return 0;
}

// The stack is the context's: kept here first, so that a worker found
// gone gets it from replay() with the rest; taken back where the worker
// refuses it or no worker can take it (vgpu-back then returns the
// charge: the context must not keep what it does not pay for).
int Router::ctx_stack(uint64_t id, Ctx& c, const vgpu_ue_req& req) {
    const uint32_t was = c.stack;
    c.stack = std::max(c.stack, req.ctx_stack.stack_size);
    vgpu_ue_resp r;
    int e = 0;
    if (int lost = call(c, req, nullptr, 0, deadline_, r)) {
        // As map(): only a worker that is gone is replaced (given the
        // stack it had by the replay), then asked again, so that its
        // refusal reaches the core (which gives the charge back); one
        // out of format is not trusted.
        const bool gone = lost == EPIPE || lost == ECONNRESET;
        stop(id, c, true, gone ? "died" : "broke the protocol");
        c.stack = was;
        e = gone ? ensure(id, c) : EIO;
        if (!e) {
            c.stack = std::max(was, req.ctx_stack.stack_size);
            if (call(c, req, nullptr, 0, deadline_, r)) {
                stop(id, c, true, "broke the protocol");
                e = EIO;
            } else {
                e = -r.error;
            }
        }
    } else {
        e = -r.error;
    }
    if (e)
        c.stack = was;
    return e;
}

void Router::unmap(Ctx& c, const vgpu_ue_req& req) {
    vgpu_ue_resp r;
    if (c.w.pid && call(c, req, nullptr, 0, deadline_, r))
        stop(req.unmap.ctx, c, true, "broke the protocol");
    record_unmap(c, req.unmap.va, req.unmap.size);
}

// A MAP that continues the latest one, whole and unbroken (naive mode
// maps an object a GPU page per request), is recorded as part of it:
// the replay then has one MAP to make, not one per page.  Only the
// latest: an earlier one's replay comes before later MAPs that may have
// held these addresses since.
bool Router::extends_latest(Ctx& c, const vgpu_ue_req_map& m) {
    auto last = c.maps.find(c.next_entry - 1);
    if (c.maps.empty() || last == c.maps.end())
        return false;
    vgpu_ue_req_map& p = last->second.m;
    uint64_t end = p.va + p.size;
    auto r = c.ranges.find(p.va);
    if (m.kind != VGPU_UE_MAP_DEVICE || p.kind != VGPU_UE_MAP_DEVICE || p.mem != m.mem || p.perms != m.perms ||
        end != m.va || p.offset + p.size != m.offset || last->second.bytes != p.size || r == c.ranges.end() ||
        r->second.first != p.size || r->second.second != last->first)
        return false;
    p.size += m.size;
    last->second.bytes += m.size;
    r->second.first += m.size;
    return true;
}

// Drops [va, va + size) from @c's record: ranges cut, a MAP none of
// whose bytes is mapped any longer forgotten.
void Router::record_unmap(Ctx& c, uint64_t va, uint64_t size) {
    uint64_t end = sat_add(va, size);
    auto it = c.ranges.upper_bound(va);
    if (it != c.ranges.begin())
        --it;
    while (it != c.ranges.end() && it->first < end) {
        uint64_t lo = it->first, hi = lo + it->second.first, entry = it->second.second;
        if (hi <= va) {
            ++it;
            continue;
        }
        uint64_t cut_lo = std::max(lo, va), cut_hi = std::min(hi, end);
        it = c.ranges.erase(it);
        if (lo < cut_lo)
            c.ranges[lo] = {cut_lo - lo, entry};
        if (cut_hi < hi)
            it = c.ranges.insert({cut_hi, {hi - cut_hi, entry}}).first;
        auto e = c.maps.find(entry);
        if (e != c.maps.end() && !(e->second.bytes -= std::min(e->second.bytes, cut_hi - cut_lo)))
            c.maps.erase(e);
    }
}

int Router::run(Ctx& c, const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp) {
    const vgpu_ue_req_run& q = req.run;
    auto j = jobs_.find(q.job);
    if (!req.payload_len) {
        if (j == jobs_.end())
            return ENOENT;  // as the bridge answers a job it never had
        if (j->second.life != c.life) {
            // Its state died with the worker that held it.
            jobs_.erase(j);
            lost_run(q, 0, false, resp.run);
            return 0;
        }
    } else {
        // How far each command's progress may go, for the answers' check.
        Job rec{q.ctx, c.life, q.next_cmd, {}};
        const auto* cmds = reinterpret_cast<const drm_vgpu_cmd*>(payload);
        for (size_t i = 0; i < req.payload_len / sizeof(drm_vgpu_cmd); i++)
            rec.extents.push_back(cmds[i].op == DRM_VGPU_CMD_COPY || cmds[i].op == DRM_VGPU_CMD_FILL ? cmds[i].size
                                                                                                      : 0);
        j = jobs_.insert_or_assign(q.job, std::move(rec)).first;
    }
    // A RUN may start a command just before its budget ends, and that
    // command may run for a whole watchdog.
    uint64_t start = now_ns();
    uint64_t deadline = sat_add(start, sat_add(sat_add(q.budget_ns, q.watchdog_ns), grace_ns_));
    vgpu_ue_resp r;
    vgpu::latency::stamp("router: to the worker");
    int e = call(c, req, payload, req.payload_len, deadline, r);
    vgpu::latency::stamp("router: answered");
    uint64_t elapsed = now_ns() - start;
    if (trace_)  // VGPU_ENGINED_TRACE
        std::fprintf(stderr, "vgpu-engined trace: RUN through the worker %.1f us\n", elapsed / 1e3);
    const char* why = !e && !r.error ? check_run(q, j->second, r.run, elapsed) : nullptr;
    if (why)
        e = EPROTO;
    if (e) {
        std::string how = e == ETIMEDOUT                     ? "ran past its RUN's deadline"
                          : e == EPIPE || e == ECONNRESET ? "died in a RUN"
                          : why                            ? std::string("answered a RUN impossibly: ") + why
                                                           : "broke the protocol";
        stop(q.ctx, c, true, how.c_str());
        stats_.killed += e == ETIMEDOUT;
        jobs_.erase(q.job);
        lost_run(q, elapsed, e == ETIMEDOUT, resp.run);
        return 0;
    }
    if (ending_)  // its answer said so: a new worker serves the next request
        stop(q.ctx, c, false, "lost its GPU context (a kernel of the guest's faulted on the GPU)");
    if (r.error) {
        jobs_.erase(q.job);
        return -r.error;
    }
    resp.run = r.run;
    if (r.run.status != VGPU_UE_RUN_PREEMPTED)
        jobs_.erase(q.job);
    return 0;
}

// What vgpu-uengine checks of a RUN's answer (uengine/vgpu_ue_check.c,
// vgpu_ue_check_run()): an answer it would refuse ends every context's
// session, so a worker's is checked here first and ends that worker only.
const char* Router::check_run(const vgpu_ue_req_run& q, const Job& job, const vgpu_ue_resp_run& r,
                              uint64_t elapsed) {
    uint64_t next = r.next_cmd, busy_max = r.busy_ns;
    if (r.status > VGPU_UE_RUN_TIMEDOUT)
        return "undefined status";
    if (next < q.next_cmd || next > q.num_cmds || next < job.base || next - job.base > job.extents.size())
        return "next command outside the job";
    if (r.status == VGPU_UE_RUN_DONE && next != q.num_cmds)
        return "done before the last command";
    if ((r.status == VGPU_UE_RUN_PREEMPTED || r.status == VGPU_UE_RUN_TIMEDOUT) && next == q.num_cmds)
        return "no command left";
    if (r.cmd_done > (next < q.num_cmds && next - job.base < job.extents.size() ? job.extents[next - job.base] : 0))
        return "progress beyond the command's size";
    if (r.busy_ns > elapsed)
        return "more engine time than the RUN took";
    if (next == q.next_cmd)
        busy_max = sat_add(busy_max, q.cmd_busy_ns);
    if (r.cmd_busy_ns > busy_max)
        return "more command time than the command can have used";
    if (r.status != VGPU_UE_RUN_FAULTED ? r.fault_kind || r.fault_addr : r.fault_kind > DRM_VGPU_FAULT_ENGINE_LOST)
        return "a fault record out of place";
    return nullptr;
}

bool Router::alive(Ctx& c) {
    if (!c.w.pid)
        return false;
    // A worker writes only answers: anything to read is its end.
    pollfd p{c.w.sock.get(), POLLIN, 0};
    return poll(&p, 1, 0) == 0;
}

int Router::ensure(uint64_t id, Ctx& c) {
    // One poll per look: none where this request's reap() found it
    // running (nothing was sent to it since), one after each forget()
    // (which may end the worker), none again before the answer it just
    // gave.
    bool up = (c.w.pid && c.seen_up == looks_) || alive(c);
    while (up && !c.forget.empty()) {
        uint64_t mem = c.forget.back();
        c.forget.pop_back();
        forget(id, c, mem);
        up = alive(c);
    }
    c.forget.clear();  // a new worker imports nothing of the past
    if (up)
        return 0;
    if (c.w.pid)
        stop(id, c, true, "died");
    // A context whose worker could not start or be given its mappings
    // fails at once for a while, rather than hold every request up.
    if (now_ns() < c.retry_at)
        return EIO;
    if (!may_start(id, c, false))
        return EIO;
    // All of it is the group's: the wait, the start, the replay.
    Charge charge(*this, c.group);
    // A killed worker's kernels may still write the context's memory
    // until the process is gone: its successor waits for that.
    if (!wait_gone(id)) {
        c.retry_at = now_ns() + kRetryNs;
        return EIO;
    }
    int e = start(id, c);
    if (!e && (e = replay(id, c)))
        stop(id, c, true, "could not be given the context's stack and mappings again");
    if (e)
        c.retry_at = now_ns() + kRetryNs;
    return e;
}

bool Router::wait_gone(uint64_t id) {
    uint64_t until = std::min(deadline_, now_ns() + kDeathNs);
    for (;;) {
        reap();
        bool left = std::any_of(dying_.begin(), dying_.end(), [id](const Dying& d) { return d.ctx == id; });
        if (!left)
            return true;
        if (now_ns() >= until)
            return false;
        usleep(2000);
    }
}

// A new worker for context @id: started, given the windows, its context
// created.
int Router::start(uint64_t id, Ctx& c) {
    try {
        c.w = take_worker();
        c.seen_up = 0;  // not looked at yet
    } catch (const std::system_error& e) {
        std::cerr << "vgpu-engined: " << e.what() << "\n";
        return EAGAIN;
    }
    c.life = ++lives_;
    c.imported.clear();
    int op_err = 0;
    vgpu_ue_req req{};
    req.op = VGPU_UE_OP_CTX_CREATE;
    req.ctx_create.ctx = id;
    vgpu_ue_resp r;
    if (exchange(c, uint32_t(link::Kind::Start), va_start_, va_end_ - va_start_, nullptr, 0, windows_fd_, deadline_,
                 &op_err, nullptr) ||
        op_err || give_mailbox(c) || call(c, req, nullptr, 0, deadline_, r)) {
        stop(id, c, true, "did not start");
        return EIO;
    }
    if (r.error)
        stop(id, c, true, nullptr);
    else
        spare_backoff_ns_ = 0;  // workers start: a spare that ends again is news
    return -r.error;
}

// Gives a new worker its mailbox (mailbox.hpp), through which its
// requests go from now on; a mailbox this process cannot make, or the
// worker cannot map, leaves them on the socket.  An errno where the
// exchange failed (the worker is stopped).
int Router::give_mailbox(Ctx& c) {
    std::unique_ptr<link::Mailbox> mb;
    try {
        mb = link::Mailbox::create();
    } catch (const std::system_error& e) {
        if (log_line())
            std::cerr << "vgpu-engined: " << e.what() << ": a worker's requests go through its socket\n";
        return 0;
    }
    int op_err = 0;
    if (int e = exchange(c, uint32_t(link::Kind::Mailbox), 0, 0, nullptr, 0, mb->fd(), deadline_, &op_err, nullptr))
        return e;
    if (!op_err) {
        mb->close_fd();  // the worker has its own
        c.w.mbox = std::move(mb);
    }
    return 0;
}

// Gives a new worker @c's call stack (before any launch can name it),
// then its mappings: each MAP in the order it came, then unmaps of what
// of it is no longer mapped (ranges unmapped since, or mapped by a later
// MAP after that).  A stack the new worker's driver refuses (the GPU's
// memory taken meanwhile) is not fatal: the worker keeps the base one
// and launches naming more run their ISA, as on any engine without it.
int Router::replay(uint64_t id, Ctx& c) {
    vgpu_ue_req req{};
    vgpu_ue_resp r;
    if (c.stack) {
        req.op = VGPU_UE_OP_CTX_STACK;
        req.ctx_stack.ctx = id;
        req.ctx_stack.stack_size = c.stack;
        if (call(c, req, nullptr, 0, deadline_, r))
            return EIO;
        if (r.error && log_line())
            std::cerr << "vgpu-engined: context " << id << "'s call stack (" << c.stack
                      << " bytes a thread) refused by its new worker (" << std::strerror(-r.error)
                      << "): its launches naming it run their ISA\n";
        req = {};
    }
    auto unmap = [&](uint64_t va, uint64_t size) {
        vgpu_ue_req u{};
        u.op = VGPU_UE_OP_UNMAP;
        u.unmap = {req.map.ctx, va, size};
        return call(c, u, nullptr, 0, deadline_, r) ? EIO : 0;
    };
    req.op = VGPU_UE_OP_MAP;
    for (auto& [entry, e] : c.maps) {
        req.map = e.m;
        int lost = 0;
        if (e.m.kind == VGPU_UE_MAP_DEVICE) {
            if (int err = import(c, e.m.mem, &lost))
                return lost ? EIO : err;
        }
        if (call(c, req, nullptr, 0, deadline_, r))
            return EIO;
        if (r.error)
            return -r.error;
        stats_.replayed++;
        uint64_t at = e.m.va, end = e.m.va + e.m.size;
        for (auto it = c.ranges.lower_bound(at); it != c.ranges.end() && it->first < end; ++it) {
            if (it->second.second != entry)
                continue;
            if (it->first > at) {
                if (int err = unmap(at, it->first - at))
                    return err;
            }
            at = it->first + it->second.first;
        }
        if (at < end) {
            if (int err = unmap(at, end - at))
                return err;
        }
    }
    return 0;
}

int Router::import(Ctx& c, uint64_t mem, int* lost) {
    if (c.imported.count(mem))
        return 0;
    uint64_t size = 0, n = mem_->pieces(mem, &size);
    if (!n)
        return EINVAL;  // as a back end answers a MAP of memory it has not
    int op_err = 0;
    for (uint64_t i = 0; i < n && !op_err; i++) {
        vgpu::Fd fd = mem_->export_piece(mem, i);
        if (!fd) {
            op_err = EIO;
            break;
        }
        if (int e = exchange(c, uint32_t(link::Kind::Import), mem, size, nullptr, 0, fd.get(), deadline_, &op_err,
                             nullptr, static_cast<uint32_t>(i))) {
            *lost = e;
            return EIO;
        }
    }
    if (!op_err) {
        c.imported.insert(mem);
        return 0;
    }
    // The pieces the worker took go again (it drops what it failed on).
    int ignored = 0;
    if (int e = exchange(c, uint32_t(link::Kind::Forget), mem, 0, nullptr, 0, -1, deadline_, &ignored, nullptr))
        *lost = e;
    return op_err;
}

int Router::call(Ctx& c, const vgpu_ue_req& req, const uint8_t* payload, size_t len, uint64_t deadline_ns,
                 vgpu_ue_resp& resp) {
    std::vector<uint8_t> answer;
    int op_err = 0;
    if (c.w.mbox) {
        if (!c.w.pid)
            return EPIPE;
        bool ending = false;
        if (int e = c.w.mbox->call(c.w.sock.get(), &req, sizeof(req), payload, len, deadline_ns, &op_err, &ending,
                                   &answer))
            return e;
        ending_ = ending;
    } else {
        std::vector<uint8_t> body(sizeof(req) + len);
        std::memcpy(body.data(), &req, sizeof(req));
        if (len)
            std::memcpy(body.data() + sizeof(req), payload, len);
        if (int e = exchange(c, uint32_t(link::Kind::Request), 0, 0, body.data(), body.size(), -1, deadline_ns,
                             &op_err, &answer))
            return e;
    }
    if (op_err || answer.size() != sizeof(resp))
        return EPROTO;
    std::memcpy(&resp, answer.data(), sizeof(resp));
    // As the module checks an answer (vgpu_ue_check_answer()): one out of
    // range would end every context's session.
    if (resp.seq != req.seq || resp.error > 0 || resp.error < -kMaxErrno || resp.reserved)
        return EPROTO;
    return 0;
}

int Router::exchange(Ctx& c, uint32_t kind, uint64_t mem, uint64_t size, const void* body, size_t len, int fd,
                     uint64_t deadline_ns, int* op_err, std::vector<uint8_t>* answer, uint32_t piece) {
    if (!c.w.pid)
        return EPIPE;
    link::Header h{};
    h.kind = kind;
    h.mem = mem;
    h.size = size;
    h.arg = piece;
    if (int e = link::send_frame(c.w.sock.get(), h, body, len, fd, deadline_ns))
        return e;
    link::Frame f;
    if (int e = link::recv_frame(c.w.sock.get(), f, deadline_ns))
        return e;
    if (f.h.kind != kind || f.fd || (!answer && !f.body.empty()) || f.h.err < 0 || f.h.err > kMaxErrno)
        return EPROTO;
    *op_err = f.h.err;
    ending_ = kind == uint32_t(link::Kind::Request) && f.h.arg;
    if (answer)
        *answer = std::move(f.body);
    return 0;
}

void Router::stop(uint64_t id, Ctx& c, bool kill, const char* why) {
    if (!c.w.pid)
        return;
    pid_t pid = std::exchange(c.w.pid, 0);
    c.w.sock.reset();  // a worker ends when its socket does
    c.w.mbox.reset();
    c.imported.clear();
    if (kill)
        ::kill(pid, SIGKILL);
    // Not waited for here: a process with a CUDA context takes a while
    // to die (the driver stops its kernels), and this answer must not.
    int st = 0;
    pid_t got = waitpid(pid, &st, WNOHANG);
    if (!got)
        dying_.push_back({pid, id, kill ? UINT64_MAX : now_ns() + kExitNs});
    if (!why)
        return;
    stats_.lost++;
    std::string how = got > 0 && WIFSIGNALED(st) ? " (signal " + std::to_string(WTERMSIG(st)) + ")"
                      : kill                     ? " (killed)"
                                                 : "";
    if (log_line())
        std::cerr << "vgpu-engined: the worker of context " << id << " (pid " << pid << ") " << why << how
                  << "; a new one serves the context's next request\n";
}

bool Router::log_line() {
    uint64_t now = now_ns();
    if (now - log_window_ns_ > kLogWindowNs) {
        log_window_ns_ = now;
        log_lines_ = 0;
    }
    return log_lines_++ < kLogLines;
}

void Router::reap() {
    // Workers that died on their own, whatever context's request comes,
    // and spares that ended: one poll() for all (neither writes unasked,
    // so anything to read is its end).  A context found running is not
    // looked at again by this request's ensure() (seen_up), unless a
    // spare's start came between (posix_spawn() holds this process up).
    int n = -1;
    try {
        polls_.clear();
        for (auto& [id, c] : ctxs_)
            if (c.w.pid)
                polls_.push_back({c.w.sock.get(), POLLIN, 0});
        for (const WorkerProc& w : spares_)
            polls_.push_back({w.pid ? w.sock.get() : -1, POLLIN, 0});
        n = polls_.empty() ? 0 : poll(polls_.data(), polls_.size(), 0);
    } catch (const std::bad_alloc&) {
        // No look this time: each context's ensure() looks at its own.
    }
    looks_++;
    if (n >= 0) {  // else nothing was looked at: nothing is marked
        size_t i = 0;
        for (auto& [id, c] : ctxs_) {
            if (!c.w.pid)
                continue;
            if (n && polls_[i].revents)
                stop(id, c, true, "died");
            else
                c.seen_up = looks_;
            i++;
        }
        for (auto it = spares_.begin(); it != spares_.end(); i++) {
            if (it->pid && !(n && polls_[i].revents)) {
                ++it;
                continue;
            }
            spare_lost(*it, "ended before it was taken");
            it = spares_.erase(it);
        }
    }
    if (refill_spares())
        looks_++;  // the looks above are too old for ensure() to trust
    uint64_t now = now_ns();
    budget_.prune(budget_clock_());
    std::erase_if(dying_, [now](Dying& d) {
        if (waitpid(d.pid, nullptr, WNOHANG))
            return true;  // reaped (or not ours: ECHILD)
        if (now >= d.kill_at) {
            ::kill(d.pid, SIGKILL);  // it did not exit when its socket closed
            d.kill_at = UINT64_MAX;
        }
        return false;
    });
}

}  // namespace vgpu::engine
