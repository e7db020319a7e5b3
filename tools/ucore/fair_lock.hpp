// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fair_lock.hpp - the userspace core's lock (core_transport.cpp's
// g_core): handed to its waiters in the order they came.
//
// The core's scheduler slice holds the lock across its engine RUN (a
// whole time slice), and the engine thread takes it again for the next
// slice at once.  With a plain mutex the thread that lets go wins the
// race to take it again, so a program's SUBMIT waited behind slice after
// slice: its client's queue ran dry and the scheduler gave its share to
// the others (the fairness checks on the H100: a client at 0% for the
// first seconds).  In vgpu-back an ioctl never waits for a slice.  Here
// unlock() hands the lock to the first waiter; a waiter polls for its
// turn for a while (vgpu/spin.hpp) before it sleeps, and one with a
// deadline leaves the queue at it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "vgpu/spin.hpp"

namespace gpuvm::ucore {

class FairLock {
public:
    using Clock = std::chrono::steady_clock;

    // Taken now if it is free and nobody waits.
    bool try_lock() {
        std::lock_guard<std::mutex> g(m_);
        if (held_ || head_)
            return false;
        held_ = true;
        return true;
    }
    void lock() { lock_until(Clock::time_point::max()); }
    // Taken in turn by @until, or false (out of the queue again).  Never
    // throws: the queue is the waiters' own nodes.
    bool lock_until(Clock::time_point until) {
        std::unique_lock<std::mutex> g(m_);
        if (!held_ && !head_) {
            held_ = true;
            return true;
        }
        Waiter w;
        (tail_ ? tail_->next : head_) = &w;
        tail_ = &w;
        waiting_++;
        g.unlock();
        vgpu::spin_until([&w] { return w.granted.load(std::memory_order_acquire); }, vgpu::spin_budget_ns(until));
        g.lock();
        if (until == Clock::time_point::max())
            w.cv.wait(g, [&w] { return w.granted.load(std::memory_order_relaxed); });
        else
            w.cv.wait_until(g, until, [&w] { return w.granted.load(std::memory_order_relaxed); });
        if (w.granted.load(std::memory_order_relaxed))
            return true;  // handed over (unlock() took it off the queue)
        Waiter** at = &head_;
        Waiter* prev = nullptr;
        while (*at != &w) {
            prev = *at;
            at = &(*at)->next;
        }
        *at = w.next;
        if (tail_ == &w)
            tail_ = prev;
        waiting_--;
        return false;
    }
    // To the first waiter, if any (it stays held: nobody can take it
    // between), else free.
    void unlock() {
        std::lock_guard<std::mutex> g(m_);
        Waiter* w = head_;
        if (!w) {
            held_ = false;
            return;
        }
        head_ = w->next;
        if (!head_)
            tail_ = nullptr;
        waiting_--;
        w->granted.store(true, std::memory_order_release);
        w->cv.notify_one();  // under m_: the waiter leaves only once it has seen this under m_
    }
    // Threads waiting for it (tests).
    size_t waiting() {
        std::lock_guard<std::mutex> g(m_);
        return waiting_;
    }

private:
    struct Waiter {
        std::condition_variable cv;
        std::atomic<bool> granted{false};  // set under m_; polled without it
        Waiter* next = nullptr;            // under m_
    };
    std::mutex m_;  // protects held_, head_, tail_, waiting_ and each Waiter's next
    bool held_ = false;
    Waiter* head_ = nullptr;  // the oldest waiter; each on its thread's stack
    Waiter* tail_ = nullptr;
    size_t waiting_ = 0;
};

}  // namespace gpuvm::ucore
