// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench report: medians of repeated, interleaved samples per
// workload, path and size, with per-operation ring costs.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace bench {

class Report {
public:
    struct Row {
        std::string workload, path;
        long long size = -1;  // -1: the workload has no size
        size_t reps = 0;
        double ops = 0;  // per repetition
        double seconds = 0, min_seconds = 0, max_seconds = 0;  // median, min, max
        double ops_per_s = 0, bytes_per_s = -1;
        // Per operation, over every repetition.
        double requests = 0, notify_out = 0, notify_in = 0, grant_maps = 0, grant_unmaps = 0, bytes_copied = 0;
    };

    // Reads samples, one JSON object per line; other lines are skipped.
    explicit Report(std::istream& in);
    const Row* find(const std::string& workload, const std::string& path, long long size) const;
    void write_json(std::ostream& out, const std::string& kernel, const std::string& engine) const;
    void write_markdown(std::ostream& out, const std::string& kernel, const std::string& engine) const;
    // h2d.dat, d2h.dat, costs.dat and plots.gp (gnuplot) in @dir.
    void write_plots(const std::string& dir) const;

    std::vector<Row> rows;
    // The fairness scenario's runs, JSON objects (vgpu-bench fairness):
    // results.json's "fairness" list; their summaries go in results.md.
    std::vector<std::string> fairness;
};

}  // namespace bench
