// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// router.hpp - vgpu-engined with workers (`--workers`; Documentation/
// engines.rst "Workers"): each context of the session runs in a worker
// process of its own (worker.cpp), with its own back end, so that a
// fault, a crash or a runaway job ends that process and nothing else.
// The engine process keeps what must outlive a worker: the device
// memory (SharedMemory, which workers map) and each context's mappings
// and call stack, replayed into the worker that replaces a dead one.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backend.hpp"
#include "mailbox.hpp"
#include "start_budget.hpp"
#include "vgpu/fd.hpp"
#include "vgpu_uengine.h"

namespace vgpu::engine {

// Device memory the engine process holds for its workers: one shareable
// object (a descriptor) per allocation.  Workers map it; their death
// frees none of it.
class SharedMemory {
public:
    virtual ~SharedMemory() = default;
    virtual uint64_t size() const = 0;
    // 0, or ENOSPC (no room), EEXIST (@mem taken) or another errno.
    virtual int alloc(uint64_t mem, uint64_t size) = 0;
    virtual void free(uint64_t mem) = 0;
    // How many pieces @mem is shared in (0: there is no @mem), its size
    // in *@size.  A worker imports every piece, in order.  Both memories
    // share each allocation as one piece (an export per 2 MiB piece cost
    // 1.4 ms a piece on the H200: engines.rst).
    virtual uint64_t pieces(uint64_t mem, uint64_t* size) const = 0;
    // A descriptor of piece @i of @mem, close-on-exec, the caller's to
    // close; none if there is no such piece or it cannot be exported.
    virtual vgpu::Fd export_piece(uint64_t mem, uint64_t i) const = 0;
    // The device memory each worker holds for its context beyond what
    // it maps of this memory, bytes (worker_ctx_mem(); 0 for host memory).
    virtual uint64_t context_memory() const { return 0; }
    // The call stack a worker's context may be given (CTX_STACK): the
    // largest, bytes a thread (0: none: host memory, whose workers run no
    // PTX, or a host that allows none, ptx_stack_bound()), and the
    // threads the GPU reserves it for (gpu_threads(); 0 with no stack).
    virtual uint32_t max_stack() const { return 0; }
    virtual uint64_t stack_threads() const { return 0; }
    // The device it is memory of ("" for host memory) and its PCI address.
    virtual std::string device_name() const { return ""; }
    virtual std::string pci() const { return ""; }
    // Reads or writes @mem here (the self-test): 0 or an errno.
    virtual int read(uint64_t mem, uint64_t offset, void* dst, uint64_t size) const = 0;
    virtual int write(uint64_t mem, uint64_t offset, const void* src, uint64_t size) = 0;
};
// For SharedMemory's implementations, whose tables map an id to an entry
// with a size: @mem's entry if [@off, @off + @size) lies inside it (else
// null).
template <typename Map>
const typename Map::mapped_type* table_range(const Map& mems, uint64_t mem, uint64_t off, uint64_t size) {
    auto it = mems.find(mem);
    if (it == mems.end() || off > it->second.size || size > it->second.size - off)
        return nullptr;
    return &it->second;
}

// Memory the interpreter's workers map: a memfd per allocation, zeroed,
// @size bytes in all.
std::unique_ptr<SharedMemory> make_memfd_memory(uint64_t size);
// Memory of GPU @gpu for its workers: cuMemCreate allocations of whole
// 2 MiB pieces (the driver's granularity), exported as descriptors.
// Throws Unavailable without the GPU.
std::unique_ptr<SharedMemory> make_cuda_memory(uint64_t size, int gpu);
namespace cu {
struct Api;
}
std::unique_ptr<SharedMemory> make_cuda_memory(const cu::Api& api, uint64_t size, int gpu);

// What a HELLO of workers over @mem says of a guest's PTX: where @gpu
// (the cuda back end's workers), that a LAUNCH's PTX runs, and with a
// call stack a context may be given (max_stack(), stack_threads()) where
// @mem has one; nothing for the interpreter's.
void hello_ptx(vgpu_ue_hello& hello, const SharedMemory& mem, bool gpu);

// A worker as the engine process holds it: its process and its end of
// the socket pair.
struct WorkerProc {
    pid_t pid = 0;
    vgpu::Fd sock;
    std::unique_ptr<link::Mailbox> mbox;  // its requests' way, once given (Router::start())
};
// Starts a worker.  Throws std::system_error.
using Spawn = std::function<WorkerProc()>;
// Runs `@exe --worker -b @backend -g @gpu`, its socket at descriptor 3,
// with this process's environment less the variables named in @unset,
// and CUDA_CACHE_DISABLE=1.
Spawn exec_spawner(const std::string& exe, const std::string& backend, int gpu = 0,
                   std::vector<std::string> unset = {});

struct RouterStats {
    uint64_t started = 0;   // workers started (restarts included)
    uint64_t lost = 0;      // workers that died or broke the protocol
    uint64_t killed = 0;    // workers killed past their RUN's deadline
    uint64_t replayed = 0;  // mappings replayed into a new worker
    uint64_t spares_taken = 0;  // workers that were a spare (set_spares())
    uint64_t spares_lost = 0;   // spares that ended before they were taken (or could not be started)
    // Starts put off, a group past its share (StartBudget): each
    // CTX_CREATE refused, a lost worker's successor once per wait.
    uint64_t paced = 0;
};

class Router {
public:
    // @windows_fd: the session's device (workers mmap() windows from
    // it; not owned, passed to each worker).  The Router reaps its
    // workers with waitpid(): SIGCHLD must not be ignored (vgpu-engined's
    // main() sees to it; a program that ignores it has its workers
    // reaped by the kernel, and one that reaps every child itself may
    // take theirs).
    Router(std::unique_ptr<SharedMemory> mem, Spawn spawn, int windows_fd);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // Answers one request of the module (as Bridge::handle does).
    vgpu_ue_resp handle(const vgpu_ue_req& req, const uint8_t* payload);
    // A RUN ends by budget + watchdog + @grace_ns, or its worker is
    // killed (TIMEDOUT).
    void set_grace_ns(uint64_t ns) { grace_ns_ = ns; }
    // Every other request, all its exchanges with workers together, ends
    // by @ns (keep it inside the module's op_timeout_ms).
    void set_op_ns(uint64_t ns) { op_ns_ = ns; }
    // The instance's GPU addresses (HELLO's answer), told to each worker
    // at its start: a worker that runs a guest's own code keeps them for
    // the context's memory at the context's addresses.
    void set_window(uint64_t start, uint64_t end) {
        va_start_ = start;
        va_end_ = end;
    }
    // The largest call stack a context may be given (HELLO's max_stack;
    // 0, the default: none, CTX_STACK refused with EOPNOTSUPP).  A
    // context's stack is kept here and given again to the worker that
    // replaces a lost one.
    void set_max_stack(uint32_t bytes) { max_stack_ = bytes; }
    uint32_t max_stack() const { return max_stack_; }
    // Keeps @n workers started ahead, for a new context or a lost
    // worker's successor to take at once: a worker's start (a process
    // and, on the GPU, a CUDA context: 180-194 ms on an H200) is then
    // not on the request path.  Each holds what an idle worker holds (a
    // CUDA context's device memory), serves no one until taken, and is
    // started by reap() (between requests, or at the next one).  0 (the
    // default): none.
    void set_spares(unsigned n) { spares_wanted_ = n; }
    // How much of this process's time each group's worker starts may
    // take (start_budget.hpp; default: start_limits_for(false)).
    void set_start_limits(StartBudget::Limits l) { budget_.set_limits(l); }
    // The clock the pacing reads (default now_ns()).  Tests.
    void set_budget_clock(std::function<uint64_t()> clock) { budget_clock_ = std::move(clock); }
    // The spare workers' processes, oldest first.  Tests.
    std::vector<pid_t> spare_pids() const;
    // The worker serving @ctx (0: none now).  Tests.
    pid_t worker_pid(uint64_t ctx) const;
    const RouterStats& stats() const { return stats_; }
    SharedMemory& memory() { return *mem_; }
    // Reaps the workers that were ended (each request does it first);
    // kills one that has not exited a second after its socket closed.
    void reap();

private:
    // The mappings of a context in effect, to replay: each MAP request
    // (by the order it came in) and the ranges still mapped by it.
    struct Entry {
        vgpu_ue_req_map m;
        uint64_t bytes;  // of it still mapped
    };
    struct Ctx {
        WorkerProc w;                  // pid 0: none running
        uint64_t group = 0;            // CTX_CREATE's: whose budget its starts take
        bool paced = false;            // its worker's start is put off (said once)
        uint64_t life = 0;             // which worker this is (a job's state lives in one)
        std::set<uint64_t> imported;   // memory the running worker maps
        std::map<uint64_t, Entry> maps;                             // entry -> its MAP
        std::map<uint64_t, std::pair<uint64_t, uint64_t>> ranges;  // va -> (bytes, entry)
        uint64_t next_entry = 0;
        uint64_t retry_at = 0;         // no new worker before (now_ns())
        std::vector<uint64_t> forget;  // memory freed, still to tell its worker
        uint64_t seen_up = 0;          // the reap() (looks_) that last found its worker running
        uint32_t stack = 0;            // the call stack CTX_STACK gave it (0: the base one)
    };
    // A job whose state a worker holds between RUNs.
    struct Job {
        uint64_t ctx, life;            // the context and the worker life holding it
        uint32_t base;                 // index of extents[0] in the job
        std::vector<uint64_t> extents;  // how far each command's progress may go
    };

    int dispatch(const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp);
    int ctx_create(const vgpu_ue_req& req);
    void ctx_destroy(uint64_t ctx);
    void mem_free(uint64_t mem);
    int map(uint64_t id, Ctx& c, const vgpu_ue_req& req);
    void unmap(Ctx& c, const vgpu_ue_req& req);
    int run(Ctx& c, const vgpu_ue_req& req, const uint8_t* payload, vgpu_ue_resp& resp);
    int ctx_stack(uint64_t id, Ctx& c, const vgpu_ue_req& req);
    static const char* check_run(const vgpu_ue_req_run& q, const Job& job, const vgpu_ue_resp_run& r,
                                 uint64_t elapsed);
    // Waits (by the request's deadline) until no killed worker of @id is
    // left; false if one still is.
    bool wait_gone(uint64_t id);
    void record_unmap(Ctx& c, uint64_t va, uint64_t size);
    bool extends_latest(Ctx& c, const vgpu_ue_req_map& m);
    void forget(uint64_t id, Ctx& c, uint64_t mem);

    // A worker for a context: a live spare, else a new one.  Throws
    // std::system_error (spawn_'s).
    WorkerProc take_worker();
    // Starts spares up to spares_wanted_ (none for a while after one
    // died before it was taken: a worker that cannot start).
    // true if it tried to start one.
    bool refill_spares();
    // Ends @w, to be reaped as a worker of context @ctx.
    void retire(WorkerProc& w, uint64_t ctx);
    // Ends spare @w (none: its start failed), @why said; backs off.
    void spare_lost(WorkerProc& w, const char* why);
    // Whether a log line may go out now (kLogLines per kLogWindowNs).
    bool log_line();
    int give_mailbox(Ctx& c);
    // Starts @c's worker if none runs (replaying its stack and mappings).
    int ensure(uint64_t id, Ctx& c);
    int start(uint64_t id, Ctx& c);
    // Whether @c's group may start a worker now (for a new context if
    // @creating); if not, says so (rate-limited).
    bool may_start(uint64_t id, Ctx& c, bool creating);
    // Gives a new worker of context @id its call stack, then its mappings.
    int replay(uint64_t id, Ctx& c);
    // Gives @c's worker memory @mem; *@lost: why the worker gave no
    // answer (EPIPE: it is gone).
    int import(Ctx& c, uint64_t mem, int* lost);
    // Sends @req to @c's worker and takes its answer by @deadline_ns:
    // 0, or why there is none (ETIMEDOUT, EPIPE, EPROTO...).
    int call(Ctx& c, const vgpu_ue_req& req, const uint8_t* payload, size_t len, uint64_t deadline_ns,
             vgpu_ue_resp& resp);
    // One frame of @kind there and its answer: the answer's errno in
    // *@op_err, its body in *@answer (none allowed if null).
    int exchange(Ctx& c, uint32_t kind, uint64_t mem, uint64_t size, const void* body, size_t len, int fd,
                 uint64_t deadline_ns, int* op_err, std::vector<uint8_t>* answer, uint32_t piece = 0);
    // Ends @c's worker: closes its socket (SIGKILL too if @kill), to be
    // reaped by reap().  @why: a line for the log, or null.
    void stop(uint64_t id, Ctx& c, bool kill, const char* why);
    bool alive(Ctx& c);

    uint64_t va_start_ = 0, va_end_ = 0;  // set_window()
    uint32_t max_stack_ = 0;               // set_max_stack()
    bool ending_ = false;                  // the last answer's worker ends after it
    const bool trace_ = std::getenv("VGPU_ENGINED_TRACE") != nullptr;
    std::unique_ptr<SharedMemory> mem_;
    Spawn spawn_;
    int windows_fd_;
    uint64_t grace_ns_ = 100'000'000;
    uint64_t op_ns_ = 3'000'000'000;
    uint64_t deadline_ = 0;  // of the request being answered
    uint64_t lives_ = 0;
    std::map<uint64_t, Ctx> ctxs_;
    std::map<uint64_t, Job> jobs_;
    RouterStats stats_;
    struct Dying {
        pid_t pid;
        uint64_t ctx;      // whose worker it was
        uint64_t kill_at;  // now_ns() after which it is killed (UINT64_MAX: it was)
    };
    std::vector<Dying> dying_;  // ended, not yet reaped
    // reap()'s looks: one poll() for every worker (each a syscall of
    // ~0.5 us otherwise, on every request's path).
    uint64_t looks_ = 0;
    std::vector<pollfd> polls_;
    std::vector<WorkerProc> spares_;  // started ahead, serving no one (oldest first)
    unsigned spares_wanted_ = 0;
    uint64_t spare_retry_at_ = 0;     // no spare started before (now_ns())
    uint64_t spare_backoff_ns_ = 0;   // the pause after the last spare lost (0: none lost since a start)
    StartBudget budget_;              // each group's worker starts
    std::function<uint64_t()> budget_clock_;  // set_budget_clock()
    // Charges @group what its scope held this process up for (a worker's
    // start, with the wait before it and the replay after it).
    class Charge;
    uint64_t log_window_ns_ = 0;  // rate limit of the log lines
    unsigned log_lines_ = 0;
};

// A Backend whose contexts run in workers, through a Router (the
// self-test's `--workers`): each operation becomes the module's request.
// Host memory must come from @windows_fd (Backing::fd), window k at
// k << VGPU_UE_WINDOW_SHIFT.
// The GPU addresses make_worker_backend()'s workers keep for their
// context's own code: 64 GiB to 1008 GiB, as vgpu-uengine's va_start_gb
// and va_end_gb for a GPU.
constexpr uint64_t kSelfTestVaStart = uint64_t{64} << 30, kSelfTestVaEnd = uint64_t{1008} << 30;
std::unique_ptr<Backend> make_worker_backend(const std::string& name, std::unique_ptr<SharedMemory> mem,
                                             Spawn spawn, int windows_fd, StartLimits limits = {});

// A worker process's main loop on @sock (descriptor 3 of `vgpu-engined
// --worker`): serves its engine process until it closes the socket.
// Returns the exit status.
int worker_main(int sock, const std::string& backend, int gpu);

}  // namespace vgpu::engine
