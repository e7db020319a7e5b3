// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include "fairness.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "clients.hpp"

namespace bench {
namespace {

double mean_share(const FairRun& r, size_t c) {
    double s = 0;
    for (const auto& w : r.windows) s += w.shares[c];
    return r.windows.empty() ? 0 : s / static_cast<double>(r.windows.size());
}

double length(const FairWindow& w) { return std::max(w.end - w.start, 0.0); }

// The mean of @f over @ws, each window weighted by its length: a window
// that a stalled sampler made longer counts for the time it spans.
template <class F>
double weighted_mean(const std::vector<const FairWindow*>& ws, F f) {
    double sum = 0, len = 0;
    for (const FairWindow* w : ws) {
        sum += f(*w) * length(*w);
        len += length(*w);
    }
    return len > 0 ? sum / len : 0;
}

FairVerdict base(const FairRun& r, const std::vector<const FairWindow*>& ws) {
    FairVerdict v;
    for (size_t c = 0; c < r.clients.size(); c++)
        v.shares.push_back(weighted_mean(ws, [c](const FairWindow& w) { return w.shares[c]; }));
    return v;
}

void fail(FairVerdict& v, const std::string& why) {
    if (v.pass) v.why = why;
    v.pass = false;
}

std::string pct(double x) {
    char b[32];
    std::snprintf(b, sizeof(b), "%.1f%%", 100 * x);
    return b;
}

}  // namespace

std::vector<size_t> active_clients(const FairRun& r) {
    std::vector<size_t> a;
    for (size_t c = 0; c < r.clients.size(); c++)
        if (mean_share(r, c) >= 0.02) a.push_back(c);
    return a;
}

std::vector<const FairWindow*> counted_windows(const FairRun& r, const std::vector<size_t>& act) {
    auto total = [&act](const FairWindow& w) {
        double t = 0;
        for (size_t c : act) t += w.shares[c];
        return t;
    };
    // A client may have begun part-way through the first window in which
    // it had engine time (any client through the run's first window: the
    // sampler does not know since when they run): the windows count from
    // the one after the last client's first.
    size_t from = 0;
    for (size_t c : act) {
        auto ran = std::find_if(r.windows.begin(), r.windows.end(),
                                [c](const FairWindow& w) { return w.shares[c] > 0; });
        from = std::max(from, static_cast<size_t>(ran - r.windows.begin()) + 1);
    }
    if (from >= r.windows.size()) return {};
    std::vector<double> totals;
    for (size_t i = from; i < r.windows.size(); i++) totals.push_back(total(r.windows[i]));
    std::nth_element(totals.begin(), totals.begin() + static_cast<std::ptrdiff_t>(totals.size() / 2), totals.end());
    const double median = totals[totals.size() / 2];
    // Still starting: the engine less busy than 90% of the median window
    // (clients not yet submitting all the time).  Only the windows before
    // the first busy one: later, an idle engine may be a client starved.
    while (from < r.windows.size() && total(r.windows[from]) < 0.9 * median) from++;
    std::vector<const FairWindow*> ws;
    for (size_t i = from; i < r.windows.size(); i++)
        if (total(r.windows[i]) >= median / 2 && total(r.windows[i]) > 0) ws.push_back(&r.windows[i]);
    return ws;
}

FairVerdict check_equal(const FairRun& r, size_t expect_clients) {
    auto act = active_clients(r);
    auto ws = counted_windows(r, act);
    FairVerdict v = base(r, ws);
    if (act.size() != expect_clients)
        fail(v, std::to_string(act.size()) + " clients used the engine, expected " + std::to_string(expect_clients));
    v.min_fraction = 1e9;
    for (const FairWindow* w : ws) {
        double total = 0;
        for (size_t c : act) total += w->shares[c];
        double fair = act.empty() ? 0 : total / static_cast<double>(act.size());
        for (size_t c : act) {
            double f = fair > 0 ? w->shares[c] / fair : 0;
            v.min_fraction = std::min(v.min_fraction, f);
            if (f < 0.9)
                fail(v, r.clients[c] + " had " + pct(w->shares[c]) + " in the window at " +
                            std::to_string(static_cast<int>(w->start)) + " s, below 90% of the fair " + pct(fair));
        }
    }
    v.jain = weighted_mean(ws, [&act](const FairWindow& w) {
        std::vector<double> x;
        for (size_t c : act) x.push_back(w.shares[c]);
        return vgpuctl::jain(x);
    });
    if (ws.empty()) fail(v, "no window while every client ran");
    if (v.jain < 0.99) fail(v, "Jain's index " + std::to_string(v.jain) + " < 0.99");
    if (v.pass) v.why = "Jain " + std::to_string(v.jain) + ", least share " + pct(v.min_fraction) + " of fair";
    return v;
}

FairVerdict check_weights(const FairRun& r, double tolerance) {
    auto act = active_clients(r);
    auto ws = counted_windows(r, act);
    FairVerdict v = base(r, ws);
    double wsum = 0, total = 0;
    for (size_t c : act) {
        wsum += r.weights[c];
        total += v.shares[c];
    }
    std::ostringstream sum;
    for (size_t c : act) {
        double target = total * r.weights[c] / wsum;
        double rel = target > 0 ? v.shares[c] / target - 1 : 1;
        sum << r.clients[c] << " weight " << r.weights[c] << ": " << pct(v.shares[c]) << " (target " << pct(target)
            << ", " << (rel >= 0 ? "+" : "") << pct(rel) << ") ";
        if (std::fabs(rel) > tolerance) fail(v, r.clients[c] + " off its weighted share: " + sum.str());
    }
    if (act.size() < 2) fail(v, "fewer than two clients used the engine");
    if (v.pass) v.why = sum.str();
    return v;
}

FairVerdict check_cap(const FairRun& r, double points) {
    auto act = active_clients(r);
    auto ws = counted_windows(r, act);
    FairVerdict v = base(r, ws);
    if (act.size() != 1) {
        fail(v, std::to_string(act.size()) + " clients used the engine, expected the capped one alone");
        return v;
    }
    size_t c = act[0];
    double cap = r.caps[c] / 100.0;
    double worst = 0;
    for (const FairWindow* w : ws) worst = std::max(worst, std::fabs(w->shares[c] - cap));
    std::string s = r.clients[c] + " capped at " + pct(cap) + ": mean " + pct(v.shares[c]) +
                    ", farthest window " + pct(worst) + " off";
    if (!r.caps[c]) fail(v, r.clients[c] + " has no cap");
    if (std::fabs(v.shares[c] - cap) > points) fail(v, s);
    if (v.pass) v.why = s;
    return v;
}

FairVerdict check_stop(const FairRun& r, unsigned int stopped) {
    auto act = active_clients(r);
    auto ws = counted_windows(r, act);
    FairVerdict v = base(r, ws);
    const FairWindow* w = nullptr;
    for (const FairWindow* x : ws)
        if (x->start >= r.stop_at) {
            w = x;
            break;
        }
    if (!w || r.stop_at < 0) {
        fail(v, "no whole window after the stop");
        return v;
    }
    double total = 0;
    size_t others = 0;
    for (size_t c : act) {
        total += w->shares[c];
        if (r.domids[c] != stopped) others++;
    }
    std::ostringstream s;
    s << "window " << w->start << "-" << w->end << " s after the stop at " << r.stop_at << " s:";
    for (size_t c : act) {
        s << " " << r.clients[c] << " " << pct(w->shares[c]);
        if (r.domids[c] == stopped) {
            if (w->shares[c] > 0.05) fail(v, "");
        } else if (others && w->shares[c] < 0.9 * total / static_cast<double>(others)) {
            fail(v, "");
        }
    }
    v.why = s.str();
    return v;
}

std::string fair_json(const FairRun& r, const FairVerdict& v) {
    std::ostringstream o;
    o.precision(5);
    auto list = [&](const auto& xs, bool quote) {
        o << "[";
        for (size_t i = 0; i < xs.size(); i++) {
            if (i) o << ",";
            if (quote) o << "\"" << xs[i] << "\"";
            else o << xs[i];
        }
        o << "]";
    };
    o << "{\"name\":\"" << r.name << "\",\"clients\":";
    list(r.clients, true);
    o << ",\"domids\":";
    list(r.domids, false);
    o << ",\"weights\":";
    list(r.weights, false);
    o << ",\"caps\":";
    list(r.caps, false);
    o << ",\"shares\":";
    list(v.shares, false);
    std::string why;
    for (char ch : v.why) why += ch == '"' || ch == '\\' ? '\'' : ch;
    o << ",\"jain\":" << v.jain << ",\"pass\":" << (v.pass ? "true" : "false") << ",\"summary\":\"" << why << "\"";
    if (r.stop_at >= 0) o << ",\"stop_at\":" << r.stop_at;
    o << ",\"windows\":[";
    for (size_t i = 0; i < r.windows.size(); i++) {
        o << (i ? "," : "") << "{\"t\":" << r.windows[i].start << ",\"shares\":";
        list(r.windows[i].shares, false);
        o << "}";
    }
    o << "]}";
    return o.str();
}

std::string fair_dat(const FairRun& r) {
    std::ostringstream o;
    o.precision(5);
    o << "FAIRHDR " << r.name;
    for (const auto& c : r.clients) {
        std::string n = c;
        std::replace(n.begin(), n.end(), ' ', '-');
        o << " " << n;
    }
    o << "\n";
    for (const auto& w : r.windows) {
        o << "FAIRDAT " << r.name << " " << w.start;
        for (double s : w.shares) o << " " << s;
        o << "\n";
    }
    return o.str();
}

std::vector<std::string> write_fairness(std::istream& in, const std::string& dir) {
    std::vector<std::string> runs, order;
    std::map<std::string, std::vector<std::string>> hdr;
    std::map<std::string, std::ostringstream> dat;
    for (std::string line; std::getline(in, line);) {
        std::istringstream w(line);
        std::string tag, name;
        w >> tag >> name;
        if (!line.empty() && line[0] == '{') {
            runs.push_back(line);
        } else if (tag == "FAIRHDR") {
            order.push_back(name);
            for (std::string c; w >> c;) hdr[name].push_back(c);
        } else if (tag == "FAIRDAT") {
            std::string rest;
            std::getline(w, rest);
            dat[name] << rest << "\n";
        }
    }
    std::ofstream gp(dir + "/fairness.gp");
    size_t n = order.size();
    gp << "set terminal pngcairo noenhanced size 1200," << 360 * ((n + 1) / 2) << "\nset output 'fairness.png'\n"
       << "set multiplot layout " << (n + 1) / 2 << ",2\nset yrange [0:1]\nset key outside right\n"
       << "set xlabel 'seconds'\nset ylabel 'share of the engine'\nset grid\n";
    for (const auto& name : order) {
        std::ofstream(dir + "/fairness-" + name + ".dat") << dat[name].str();
        gp << "set title '" << name << "'\nplot ";
        const auto& cs = hdr[name];
        for (size_t c = 0; c < cs.size(); c++)
            gp << (c ? ", " : "") << "'fairness-" << name << ".dat' using 1:" << c + 2 << " with linespoints title '"
               << cs[c] << "'";
        gp << "\n";
    }
    gp << "unset multiplot\n";
    return runs;
}

}  // namespace bench
