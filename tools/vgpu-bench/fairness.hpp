// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench fairness: samples each client's engine time from vgpu-back's
// sysfs (through vgpuctl's reader) over 1-second windows and checks the
// scheduler against what the host asked for: equal shares, shares by
// weight, a cap, or a client's share given to the others once it stops.
// The checks are apart from the sampling, for GoogleTest.
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace bench {

struct FairWindow {
    double start = 0, end = 0;   // seconds since the first sample
    std::vector<double> shares;  // per client of the run, 0..1 of the window
};

struct FairRun {
    std::string name;
    std::vector<std::string> clients;
    std::vector<unsigned int> domids, weights, caps;
    std::vector<FairWindow> windows;
    double stop_at = -1;  // "stop": when the stop command returned
};

struct FairVerdict {
    bool pass = true;
    std::string why;             // the first failed check, or a summary
    double jain = 0;             // mean over the windows, of the active clients
    double min_fraction = 0;     // least share in any window over the fair share
    std::vector<double> shares;  // mean per client
};

// Clients that used the engine: mean share at least 2% over the run.
std::vector<size_t> active_clients(const FairRun& r);

// The windows the checks judge: windows count only while every client
// of @act runs through the whole window.  A client's first window with
// engine time is left out (it may have begun inside it; the run's first
// window is so for every client), and the windows before and up to the
// last client's first; then, still the start-up, those in which the
// clients had less than 90% of the median window's engine time together
// (not all of them submitting yet), up to the first busy one.  After it,
// only a window in which they had less than half the median window's
// engine time together (the machine stalled: the sampler, the engine or
// the clients did not run) is left out: a busy engine that gives a
// client less than its share, or idles while it waits, is judged.  The
// checks weight each window by its length: a window that a stalled
// sampler stretched counts for the time it spans.
std::vector<const FairWindow*> counted_windows(const FairRun& r, const std::vector<size_t>& act);

// Every active client has an equal share (there are @expect_clients):
// Jain's index averaged over the counted windows >= 0.99, and none below
// 90% of the fair share (the window's engine time split evenly) in any
// counted window.
FairVerdict check_equal(const FairRun& r, size_t expect_clients);
// Shares in proportion to the active clients' weights, each mean within
// +-@tolerance (relative) of its target.
FairVerdict check_weights(const FairRun& r, double tolerance = 0.05);
// The one active client's mean share within +-@points of its cap.
FairVerdict check_cap(const FairRun& r, double points = 0.02);
// In the first counted window that starts after r.stop_at, client @stopped has
// at most 5% and each other active client at least 90% of the engine
// time the window had split evenly among them.
FairVerdict check_stop(const FairRun& r, unsigned int stopped);

// {"name":..., "clients":[...], "weights":[...], "caps":[...],
//  "shares":[...], "jain":..., "pass":..., "windows":[{"t":...,"shares":[...]}]}
std::string fair_json(const FairRun& r, const FairVerdict& v);

// "FAIRDAT <name> <t> <share>..." per window and one "FAIRHDR <name>
// <client>..." line before them: the plot's data, one line each.
std::string fair_dat(const FairRun& r);

// make bench: the runs' records (FAIRJSON lines without the prefix, and
// FAIRHDR/FAIRDAT lines) from @in.  Writes fairness-<name>.dat and
// fairness.gp (gnuplot: each client's share over time, one panel per
// run) to @dir; returns the JSON objects for results.json's "fairness".
std::vector<std::string> write_fairness(std::istream& in, const std::string& dir);

}  // namespace bench
