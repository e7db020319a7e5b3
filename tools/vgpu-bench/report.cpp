// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu-bench report: turns the samples of repeated, interleaved runs
// (one JSON object per line, as Sample::json() writes them) into
// results.json, results.md and the data and gnuplot scripts of the plots.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace bench {
namespace {

// A flat JSON object of strings, numbers and nulls (what Sample writes).
using Object = std::map<std::string, std::string>;

Object parse_line(const std::string& line) {
    Object o;
    size_t i = line.find('{');
    if (i == std::string::npos) throw std::runtime_error("not a JSON object: " + line);
    auto skip = [&] {
        while (i < line.size() && (line[i] == ' ' || line[i] == ',' || line[i] == '{')) i++;
    };
    auto str = [&] {
        if (line[i] != '"') throw std::runtime_error("expected a string: " + line);
        size_t e = line.find('"', i + 1);
        std::string s = line.substr(i + 1, e - i - 1);
        i = e + 1;
        return s;
    };
    for (skip(); i < line.size() && line[i] != '}'; skip()) {
        std::string k = str();
        while (line[i] == ' ' || line[i] == ':') i++;
        if (line[i] == '"') {
            o[k] = str();
        } else {
            size_t e = line.find_first_of(",}", i);
            o[k] = line.substr(i, e - i);
            i = e;
        }
    }
    return o;
}

double num(const Object& o, const char* k) {
    auto it = o.find(k);
    if (it == o.end() || it->second == "null") return 0;
    return std::stod(it->second);
}

struct Key {
    std::string workload, path;
    long long size;  // -1: none
    auto operator<=>(const Key&) const = default;
};

struct Agg {
    std::vector<double> seconds;
    double ops = 0, requests = 0, notify_out = 0, notify_in = 0, maps = 0, unmaps = 0, copied = 0;
    double ops_per_rep = 0;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const char* kPaths[] = {"native", "naive", "hp"};

std::string fmt(double v, int prec = 2) {
    char b[64];
    std::snprintf(b, sizeof(b), "%.*f", prec, v);
    return b;
}

std::string size_name(long long s) {
    if (s < 0) return "-";
    if (s >= (1 << 20)) return std::to_string(s >> 20) + " MiB";
    return std::to_string(s >> 10) + " KiB";
}

}  // namespace

Report::Report(std::istream& in) {
    std::map<Key, Agg> aggs;
    std::string line;
    while (std::getline(in, line)) {
        if (line.find('{') == std::string::npos) continue;
        Object o = parse_line(line);
        Key k{o.at("workload"), o.at("path"), o.at("size") == "null" ? -1 : std::stoll(o.at("size"))};
        Agg& a = aggs[k];
        a.seconds.push_back(num(o, "seconds"));
        a.ops += num(o, "ops");
        a.ops_per_rep = num(o, "ops");
        a.requests += num(o, "requests");
        a.notify_out += num(o, "notify_out");
        a.notify_in += num(o, "notify_in");
        a.maps += num(o, "grant_maps");
        a.unmaps += num(o, "grant_unmaps");
        a.copied += num(o, "bytes_copied");
    }
    for (auto& [k, a] : aggs) {
        Row r;
        r.workload = k.workload;
        r.path = k.path;
        r.size = k.size;
        r.reps = a.seconds.size();
        r.ops = a.ops_per_rep;
        r.seconds = median(a.seconds);
        r.min_seconds = *std::min_element(a.seconds.begin(), a.seconds.end());
        r.max_seconds = *std::max_element(a.seconds.begin(), a.seconds.end());
        r.ops_per_s = r.seconds > 0 ? r.ops / r.seconds : 0;
        r.bytes_per_s = k.size >= 0 && r.seconds > 0 ? r.ops * k.size / r.seconds : -1;
        r.requests = a.requests / a.ops;
        r.notify_out = a.notify_out / a.ops;
        r.notify_in = a.notify_in / a.ops;
        r.grant_maps = a.maps / a.ops;
        r.grant_unmaps = a.unmaps / a.ops;
        r.bytes_copied = a.copied / a.ops;
        rows.push_back(r);
    }
}

const Report::Row* Report::find(const std::string& w, const std::string& path, long long size) const {
    for (const auto& r : rows)
        if (r.workload == w && r.path == path && r.size == size) return &r;
    return nullptr;
}

void Report::write_json(std::ostream& out, const std::string& kernel, const std::string& engine) const {
    out << "{\"kernel\": \"" << kernel << "\", \"engine\": \"" << engine << "\", \"results\": [\n";
    for (size_t i = 0; i < rows.size(); i++) {
        const Row& r = rows[i];
        out << "  {\"workload\": \"" << r.workload << "\", \"path\": \"" << r.path << "\", \"size\": "
            << (r.size < 0 ? "null" : std::to_string(r.size)) << ", \"ops\": " << r.ops
            << ", \"seconds\": " << fmt(r.seconds, 6) << ", \"min_seconds\": " << fmt(r.min_seconds, 6)
            << ", \"max_seconds\": " << fmt(r.max_seconds, 6) << ", \"reps\": " << r.reps
            << ", \"ops_per_s\": " << fmt(r.ops_per_s, 3)
            << ", \"bytes_per_s\": " << (r.bytes_per_s < 0 ? "null" : fmt(r.bytes_per_s, 0))
            << ", \"requests\": " << fmt(r.requests, 3)
            << ", \"notifications\": " << fmt(r.notify_out + r.notify_in, 3)
            << ", \"notify_out\": " << fmt(r.notify_out, 3) << ", \"notify_in\": " << fmt(r.notify_in, 3)
            << ", \"grant_maps\": " << fmt(r.grant_maps, 3) << ", \"grant_unmaps\": " << fmt(r.grant_unmaps, 3)
            << ", \"bytes_copied\": " << fmt(r.bytes_copied, 1) << "}" << (i + 1 < rows.size() ? "," : "")
            << "\n";
    }
    out << "]";
    if (!fairness.empty()) {
        out << ",\n\"fairness\": [\n";
        for (size_t i = 0; i < fairness.size(); i++)
            out << "  " << fairness[i] << (i + 1 < fairness.size() ? "," : "") << "\n";
        out << "]";
    }
    out << "}\n";
}

namespace {

// A string field of a fairness run's JSON object ("" if absent).
std::string json_field(const std::string& obj, const std::string& key) {
    auto k = obj.find("\"" + key + "\":\"");
    if (k == std::string::npos) return "";
    k += key.size() + 4;
    return obj.substr(k, obj.find('"', k) - k);
}

}  // namespace

namespace {

// A ratio with three significant digits (0.00312x, 0.245x, 1.13x, 12.4x):
// a small one must not print as 0.00x.
std::string ratio_text(double r) {
    char b[64];
    int digits = r > 0 ? std::max(0, 2 - static_cast<int>(std::floor(std::log10(r)))) : 2;
    std::snprintf(b, sizeof(b), "%.*fx", std::min(digits, 12), r);
    return b;
}

// The transfers, whose rates are MB/s (every other workload's are
// operations per second).
bool is_transfer(const std::string& w) { return w == "h2d" || w == "d2h"; }

// naive and hp make the same requests and notifications per operation.
bool same_work(const Report::Row& a, const Report::Row& b) {
    auto near = [](double x, double y) { return std::abs(x - y) <= 0.1 * std::max({x, y, 1.0}); };
    return near(a.requests, b.requests) && near(a.notify_out + a.notify_in, b.notify_out + b.notify_in) &&
           near(a.grant_maps + a.grant_unmaps, b.grant_maps + b.grant_unmaps) &&
           near(a.bytes_copied, b.bytes_copied);
}

}  // namespace

void Report::write_markdown(std::ostream& out, const std::string& kernel, const std::string& engine) const {
    out << "# vgpu-bench: native, naive and hp\n\nKernel " << kernel << ", engine " << engine
        << "; medians of " << (rows.empty() ? 0 : rows[0].reps)
        << " interleaved repetitions, [min-max] in brackets.  Rates are MB/s for the transfers (h2d, d2h) and"
           " operations per second for the rest (bind_4m: binds of 4 MiB with their unbinds); ratios are each"
           " path's rate over native's (1x: as fast as dom0's own programs).  Per-operation costs: requests /"
           " notifications (to the backend + from it) / grant maps + unmaps / octets copied.\n\n";
    out << "| workload | size | unit | native | naive | hp | naive/native | hp/native | hp vs naive | naive cost "
           "| hp cost |\n"
        << "|---|---|---|---|---|---|---|---|---|---|---|\n";
    std::vector<std::pair<std::string, long long>> keys;
    for (const auto& r : rows)
        if (std::find(keys.begin(), keys.end(), std::make_pair(r.workload, r.size)) == keys.end())
            keys.emplace_back(r.workload, r.size);
    bool noted = false;
    for (const auto& [w, size] : keys) {
        const Row* p[3] = {find(w, "native", size), find(w, "naive", size), find(w, "hp", size)};
        const bool mbps = is_transfer(w) && size >= 0;
        auto value = [&](const Row* r, double seconds) {
            return mbps ? r->ops * r->size / seconds / 1e6 : r->ops / seconds;
        };
        auto rate = [&](const Row* r) {
            if (!r || r->seconds <= 0) return std::string("-");
            int prec = value(r, r->seconds) >= 100 ? 0 : 1;
            std::string hi = r->min_seconds > 0 ? fmt(value(r, r->min_seconds), prec) : std::string("-");
            return fmt(value(r, r->seconds), prec) + " [" + fmt(value(r, r->max_seconds), prec) + "-" + hi + "]";
        };
        auto ratio = [&](const Row* r) {
            return r && p[0] && p[0]->seconds > 0 && r->seconds > 0 ? ratio_text(p[0]->seconds / r->seconds)
                                                                     : std::string("-");
        };
        auto cost = [&](const Row* r) {
            if (!r) return std::string("-");
            return fmt(r->requests, 2) + " / " + fmt(r->notify_out, 2) + "+" + fmt(r->notify_in, 2) + " / " +
                   fmt(r->grant_maps, 2) + "+" + fmt(r->grant_unmaps, 2) + " / " + fmt(r->bytes_copied, 0);
        };
        // hp against naive: the speed-up, or "same work" where both make
        // the same requests per operation (their difference is then the
        // machine's noise: compare the [min-max] ranges).
        std::string vs = "-";
        if (p[1] && p[2] && p[1]->seconds > 0 && p[2]->seconds > 0) {
            vs = ratio_text(p[1]->seconds / p[2]->seconds);
            if (same_work(*p[1], *p[2])) {
                vs += " (same work)";
                noted = true;
            }
        }
        out << "| " << w << " | " << size_name(size) << " | " << (mbps ? "MB/s" : "ops/s") << " | " << rate(p[0])
            << " | " << rate(p[1]) << " | " << rate(p[2]) << " | " << ratio(p[1]) << " | " << ratio(p[2]) << " | "
            << vs << " | " << cost(p[1]) << " | " << cost(p[2]) << " |\n";
    }
    if (noted)
        out << "\n\"same work\": naive and hp make the same requests and notifications per operation there"
               " (one synchronous call each: a launch, a short job), so neither path has less to do; what"
               " differs is how the backend waits for the next request (hp polls its ring for poll_us before"
               " it sleeps) and, under emulation, noise: compare the [min-max] ranges.  hp's gains are where it"
               " does less work: batched submissions (submit_d32), transfers (one request instead of one per"
               " page) and binds.\n";
    if (fairness.empty()) return;
    out << "\n## Fairness\n\nThe fairness scenario: four clients saturating the engine, shares over 1-second"
           " windows (fairness.png).\n\n| run | result |\n|---|---|\n";
    for (const auto& f : fairness) out << "| " << json_field(f, "name") << " | " << json_field(f, "summary") << " |\n";
}

void Report::write_plots(const std::string& dir) const {
    // Bandwidth against size, one file per direction: size native naive hp.
    for (const char* w : {"h2d", "d2h"}) {
        std::ofstream d(dir + "/" + w + ".dat");
        d << "# size_bytes native_MBps naive_MBps hp_MBps\n";
        std::vector<long long> sizes;
        for (const auto& r : rows)
            if (r.workload == w && std::find(sizes.begin(), sizes.end(), r.size) == sizes.end())
                sizes.push_back(r.size);
        std::sort(sizes.begin(), sizes.end());
        for (long long s : sizes) {
            d << s;
            for (const char* p : kPaths) {
                const Row* r = find(w, p, s);
                d << " " << (r ? fmt(r->bytes_per_s / 1e6, 3) : std::string("NaN"));
            }
            d << "\n";
        }
    }
    // Per-operation cost by mode, every workload (the transfers and
    // binds by size: where the modes differ most).
    std::ofstream c(dir + "/costs.dat");
    c << "# workload naive_requests naive_notifications naive_grant_ops hp_requests hp_notifications "
         "hp_grant_ops\n";
    for (const auto& r : rows) {
        if (r.path != "naive") continue;
        const Row* h = find(r.workload, "hp", r.size);
        std::string label = r.workload;
        if (r.size >= 0) {
            label += " " + size_name(r.size);
            label.erase(std::remove(label.begin() + r.workload.size() + 1, label.end(), ' '), label.end());
        }
        c << '"' << label << "\" " << fmt(r.requests, 3) << " " << fmt(r.notify_out + r.notify_in, 3) << " "
          << fmt(r.grant_maps + r.grant_unmaps, 3);
        if (h)
            c << " " << fmt(h->requests, 3) << " " << fmt(h->notify_out + h->notify_in, 3) << " "
              << fmt(h->grant_maps + h->grant_unmaps, 3);
        else
            c << " NaN NaN NaN";
        c << "\n";
    }
    std::ofstream g(dir + "/plots.gp");
    g << "set terminal pngcairo size 900,600 noenhanced\n"
         "set grid\nset key top left\nset logscale x 2\nset logscale y 10\n"
         "set format x '%.0b %BB'\n"
         "set xlabel 'transfer size'\nset ylabel 'MB/s'\n";
    for (const char* w : {"h2d", "d2h"}) {
        if (std::none_of(rows.begin(), rows.end(), [&](const Row& r) { return r.workload == w; }))
            continue;  // not measured: no plot (gnuplot refuses an empty one)
        g << "set output '" << w << ".png'\nset title '" << w << " bandwidth: native, naive, hp'\n"
          << "plot '" << w << ".dat' using 1:2 with linespoints title 'native', '' using 1:3 with linespoints "
          << "title 'naive', '' using 1:4 with linespoints title 'hp'\n";
    }
    g << "unset logscale\nset format x '%g'\nset logscale y 10\nset yrange [0.01:*]\nset style data histogram\n"
         "set style histogram cluster gap 1\nset style fill solid 0.8\nset xtics rotate by -30\n"
         "set key outside right top vertical\nset terminal pngcairo size 1200,600 noenhanced\n"
         "set xlabel ''\nset ylabel 'per operation (log)'\n"
         "set output 'costs.png'\nset title 'per-operation cost by mode: requests, notifications, grant ops'\n"
         "plot 'costs.dat' using ($2+0.01):xtic(1) title 'naive requests', '' using ($3+0.01) title "
         "'naive notifications', '' using ($4+0.01) title 'naive grant ops', '' using ($5+0.01) title "
         "'hp requests', '' using ($6+0.01) title 'hp notifications', '' using ($7+0.01) title 'hp grant ops'\n";
}

}  // namespace bench
