// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// test_run_steps.cpp - vgpu-engined's face of the shared run loop
// (backend.hpp's run_steps() over common/vgpu_run.c): a Job's progress
// goes to the C loop and back, a step's exception is rethrown with the
// launch's state released, a back end that charges its own time is not
// charged twice.  The loop's own rules are KUnit's (kunit/vgpu_run_test.c).
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "backend.hpp"

namespace vgpu::engine {
namespace {

Job make_job(uint32_t base, uint32_t next) {
    Job job;
    job.cmds.resize(3);
    job.cmds[0].op = DRM_VGPU_CMD_FILL;
    job.cmds[1].op = DRM_VGPU_CMD_LAUNCH;
    job.cmds[2].op = DRM_VGPU_CMD_COPY;
    job.base = base;
    job.next = next;
    return job;
}

TEST(RunSteps, ProgressIsTheJobsAbsoluteIndex) {
    Job job = make_job(10, 11);  // resumes at the launch of a submission's 10..12
    job.cmd_done = 7;
    std::vector<uint32_t> seen;
    auto res = run_steps(job, ~0ull, ~0ull, false, [&](const drm_vgpu_cmd& c, uint64_t*, uint32_t*) {
        seen.push_back(job.next);
        if (c.op == DRM_VGPU_CMD_LAUNCH && job.cmd_done == 7) {
            job.cmd_done = 8;  // the step's progress reaches the loop
            return StepResult::More;
        }
        return StepResult::Done;
    });
    EXPECT_EQ(res.status, RunStatus::Done);
    EXPECT_EQ(seen, (std::vector<uint32_t>{11, 11, 12}));
    EXPECT_EQ(job.next, 13u);
    EXPECT_EQ(job.cmd_done, 0u);
}

TEST(RunSteps, FaultCarriesKindAndAddressAndReleasesTheLaunch) {
    Job job = make_job(0, 1);
    job.state = std::make_shared<int>(1);
    auto res = run_steps(job, ~0ull, ~0ull, false, [&](const drm_vgpu_cmd&, uint64_t* addr, uint32_t* kind) {
        *addr = 0xabc0;
        *kind = DRM_VGPU_FAULT_PERM;
        return StepResult::Fault;
    });
    EXPECT_EQ(res.status, RunStatus::Faulted);
    EXPECT_EQ(res.fault_addr, 0xabc0u);
    EXPECT_EQ(res.fault_kind, uint32_t{DRM_VGPU_FAULT_PERM});
    EXPECT_EQ(job.next, 1u);
    EXPECT_FALSE(job.state);
}

TEST(RunSteps, AnExceptionPassesThroughTheCLoop) {
    Job job = make_job(0, 0);
    job.state = std::make_shared<int>(1);
    int calls = 0;
    EXPECT_THROW(run_steps(job, ~0ull, ~0ull, false,
                           [&](const drm_vgpu_cmd&, uint64_t*, uint32_t*) -> StepResult {
                               if (++calls == 2)
                                   throw BackendLost("tables lost");
                               return StepResult::Done;
                           }),
                 BackendLost);
    EXPECT_EQ(calls, 2);  // no step after the throw
    EXPECT_EQ(job.next, 1u);
    EXPECT_FALSE(job.state);
}

TEST(RunSteps, YieldKeepsTheLaunchForTheNextRun) {
    Job job = make_job(0, 1);
    job.state = std::make_shared<int>(1);
    auto res = run_steps(job, ~0ull, ~0ull, true,
                         [&](const drm_vgpu_cmd&, uint64_t*, uint32_t*) { return StepResult::Yield; });
    EXPECT_EQ(res.status, RunStatus::Preempted);
    EXPECT_EQ(job.next, 1u);
    EXPECT_TRUE(job.state);
}

TEST(RunSteps, AStepThatChargesItselfIsNotChargedAgain) {
    for (bool charges : {false, true}) {
        Job job = make_job(0, 1);
        int steps = 0;
        auto res = run_steps(job, ~0ull, 1000000, charges, [&](const drm_vgpu_cmd&, uint64_t*, uint32_t*) {
            job.cmd_busy_ns += 1;  // what a GPU's launch says it used
            uint64_t t = now_ns();
            while (now_ns() - t < 200000) {  // 0.2 ms of the loop's clock
            }
            return ++steps < 20 ? StepResult::More : StepResult::Done;
        });
        if (charges) {  // 20 ns charged: no watchdog at 1 ms
            EXPECT_EQ(res.status, RunStatus::Done);
        } else {  // 0.2 ms a step: the watchdog ends the launch
            EXPECT_EQ(res.status, RunStatus::TimedOut);
            EXPECT_LT(steps, 20);
        }
    }
}

}  // namespace
}  // namespace vgpu::engine
