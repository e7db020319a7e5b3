// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl: dom0's administration tool for GPUvm, in the manner of xl.
// It attaches a virtual GPU to a domain by writing the backend and
// frontend XenStore nodes (common/vgpuif.h documents them), detaches it,
// lists attachments and prints the per-guest counters of vgpu-back;
// `watch` attaches configured vGPUs as domains start (watch.cpp).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "clients.hpp"
#include "nodes.hpp"
#include "options.hpp"
#include "placement.hpp"
#include "precopy.hpp"

extern "C" {
#include "vgpuif.h"  // the XenStore key names (VGPUIF_KEY_*)
}
#include "watch.hpp"
#include "xenstore.hpp"

namespace {

using vgpuctl::attach_nodes;
using vgpuctl::backend_path;
using vgpuctl::domid_of;
using vgpuctl::frontend_path;
using vgpuctl::Options;
using vgpuctl::parse_uint;
using vgpuctl::UsageError;
using vgpuctl::XenStore;

constexpr const char* kSysfsDevices = "/sys/bus/xen-backend/devices";
// dom0's share of each engine: /sys/devices/platform/vgpu.N/native.
std::string sysfs_native(unsigned int engine) {
    return "/sys/devices/platform/vgpu." + std::to_string(engine) + "/native";
}
constexpr int kStateClosed = 6;

int attach(const Options& o) {
    if (o.args.size() != 1) throw UsageError("attach takes one domain");
    XenStore xs;
    unsigned int domid = domid_of(xs, o.args[0]);
    if (domid == 0) throw UsageError("dom0 uses the local render node; attach a guest");
    if (xs.read(backend_path(domid, o.devid) + "/state"))
        throw std::runtime_error("domain " + o.args[0] + " already has vgpu " + std::to_string(o.devid));
    Options placed = vgpuctl::place(xs, o);
    attach_nodes(xs, domid, placed);
    std::printf("vgpu %u attached to domain %u (%s mode, engine %u)\n", o.devid, domid, o.mode.c_str(),
                placed.engine.value_or(0));
    return 0;
}

int detach(const Options& o) {
    if (o.args.size() != 1) throw UsageError("detach takes one domain");
    XenStore xs;
    unsigned int domid = domid_of(xs, o.args[0], true);
    std::string be = backend_path(domid, o.devid), fe = frontend_path(domid, o.devid);
    if (!xs.read(be + "/state")) throw std::runtime_error("domain " + o.args[0] + " has no vgpu " +
                                                          std::to_string(o.devid));
    // The backend driver sees its node go, frees everything of the guest
    // and the frontend sees its backend leave.
    xs.transaction([&](xs_transaction_t t) {
        xs.write(t, be + "/online", "0");
        xs.remove(t, be);
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s.value_or(10));
    bool closed = false;
    while (std::chrono::steady_clock::now() < deadline) {
        auto st = xs.read(fe + "/state");
        if (!st || parse_uint(*st, "state") == kStateClosed) {
            closed = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    xs.transaction([&](xs_transaction_t t) { xs.remove(t, fe); });
    std::printf("vgpu %u detached from domain %u%s\n", o.devid, domid,
                closed ? "" : " (the frontend did not close in time; removed anyway)");
    return 0;
}

// Waits for the guest's report of request @serial (its "precopy-done"),
// at most @timeout_s seconds.
vgpuctl::PrecopyReport precopy_wait(XenStore& xs, const std::string& fe, std::uint64_t serial,
                                    unsigned int timeout_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    std::optional<std::string> last;
    while (std::chrono::steady_clock::now() < deadline) {
        last = xs.read(fe + "/" VGPUIF_KEY_PRECOPY_DONE);
        if (last)
            if (auto r = vgpuctl::parse_precopy_report(*last); r && r->serial == serial) return *r;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("the guest did not answer pre-copy request " + std::to_string(serial) + " within " +
                             std::to_string(timeout_s) + " s" +
                             (last ? " (its last report: '" + vgpuctl::printable(*last, 80) + "')" : ""));
}

// Copies a guest's device memory into its own memory while it runs, in
// rounds (each copies what the last left), before xl save or xl migrate;
// or, with --drop, drops those copies.  Prints each round's numbers.
int precopy(const Options& o) {
    if (o.args.size() != 1) throw UsageError("precopy takes one domain");
    XenStore xs;
    unsigned int domid = domid_of(xs, o.args[0]);
    if (domid == 0) throw UsageError("dom0 is not saved: precopy a guest");
    const std::string fe = frontend_path(domid, o.devid);
    if (!xs.read(fe + "/state"))
        throw std::runtime_error("domain " + o.args[0] + " has no vgpu " + std::to_string(o.devid));
    if (xs.read(fe + "/" VGPUIF_KEY_FEATURE_PRECOPY).value_or("") != "1")
        throw std::runtime_error("domain " + o.args[0] + "'s vgpu-front takes no pre-copy request (no " +
                                 VGPUIF_KEY_FEATURE_PRECOPY + ")");
    // The guest's own key: the last request number, if it is one.
    std::uint64_t serial = 0;
    if (auto v = xs.read(fe + "/" VGPUIF_KEY_PRECOPY); v && !v->empty() && v->size() < 20 &&
                                                       v->find_first_not_of("0123456789") == std::string::npos)
        serial = std::stoull(*v);
    // A request, and no report but its own: the last one goes with it.
    auto request = [&](std::uint64_t n) {
        xs.transaction([&](xs_transaction_t t) {
            xs.remove(t, fe + "/" VGPUIF_KEY_PRECOPY_DONE);
            xs.write(t, fe + "/" VGPUIF_KEY_PRECOPY, std::to_string(n));
        });
    };
    const unsigned int timeout_s = o.timeout_s.value_or(600);
    if (o.drop) {
        if (serial == 0) {
            std::printf("domain %u: no pre-copy to drop\n", domid);
            return 0;
        }
        request(0);
        auto r = precopy_wait(xs, fe, 0, timeout_s);
        if (r.kind == vgpuctl::PrecopyReport::Kind::Error)
            throw std::runtime_error("the guest refused to drop its copies: " + std::string(std::strerror(-r.error)));
        std::printf("domain %u: pre-copy dropped\n", domid);
        return 0;
    }
    std::optional<vgpuctl::PrecopyReport> prev;
    for (unsigned int round = 1; round <= o.rounds; round++) {
        serial++;
        request(serial);
        auto r = precopy_wait(xs, fe, serial, timeout_s);
        if (r.kind != vgpuctl::PrecopyReport::Kind::Pass)
            throw std::runtime_error("pre-copy round " + std::to_string(round) + " failed in the guest: " +
                                     (r.kind == vgpuctl::PrecopyReport::Kind::Error ? std::strerror(-r.error)
                                                                                   : "dropped"));
        std::printf("domain %u: pre-copy round %u: copied %llu KiB in %llu ms; %llu KiB clean, %llu KiB left\n",
                    domid, round, static_cast<unsigned long long>(r.copied_kib),
                    static_cast<unsigned long long>(r.ms), static_cast<unsigned long long>(r.clean_kib),
                    static_cast<unsigned long long>(r.dirty_kib));
        std::fflush(stdout);
        if (!vgpuctl::precopy_another_round(r, prev)) break;
        prev = r;
    }
    return 0;
}

const char* state_name(const std::optional<std::string>& s) {
    static const char* names[] = {"unknown", "initialising", "initwait", "initialised",
                                  "connected", "closing", "closed", "reconfiguring", "reconfigured"};
    if (!s) return "-";
    unsigned int v = std::strtoul(s->c_str(), nullptr, 10);
    return v < 9 ? names[v] : "?";
}

int list(const Options& o) {
    if (!o.args.empty()) throw UsageError("list takes no argument");
    XenStore xs;
    std::printf("%-16s %5s %5s %6s %-6s %-13s %-13s\n", "Name", "ID", "Dev", "Engine", "Mode", "BE-state",
                "FE-state");
    for (const auto& dom : xs.list("/local/domain/0/backend/vgpu")) {
        unsigned int domid = parse_uint(dom, "domain id");
        for (const auto& dev : xs.list("/local/domain/0/backend/vgpu/" + dom)) {
            std::string be = "/local/domain/0/backend/vgpu/" + dom + "/" + dev;
            auto fe = xs.read(be + "/frontend").value_or("");
            std::printf("%-16s %5u %5s %6s %-6s %-13s %-13s\n",
                        xs.read("/local/domain/" + dom + "/name").value_or("(gone)").c_str(), domid, dev.c_str(),
                        xs.read(be + "/" VGPUIF_KEY_ENGINE).value_or("0").c_str(),
                        xs.read(be + "/" VGPUIF_KEY_MODE).value_or("-").c_str(),
                        state_name(xs.read(be + "/state")), state_name(xs.read(fe + "/state")));
        }
    }
    return 0;
}

// One line of a sysfs file, or nullopt when it cannot be read (a quota
// of a device with no guest connected reads ENOTCONN).
std::optional<std::string> sysfs_read(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::string v;
    if (!f || !std::getline(f, v)) return std::nullopt;
    return v;
}

// The host's engines: vgpu-back's devices and the vGPUs placed on each.
int engines(const Options& o) {
    if (!o.args.empty()) throw UsageError("engines takes no argument");
    auto list = vgpuctl::read_engines("/sys");
    std::map<unsigned int, unsigned int> placed;
    try {
        XenStore xs;
        const std::string root = "/local/domain/0/backend/vgpu";
        for (const auto& dom : xs.list(root))
            for (const auto& dev : xs.list(root + "/" + dom))
                placed[parse_uint(xs.read(root + "/" + dom + "/" + dev + "/" VGPUIF_KEY_ENGINE).value_or("0"), "engine")]++;
    } catch (const std::exception&) {
        // No XenStore (a host without Xen): no vGPU is placed.
    }
    std::printf("%6s %-14s %8s %11s %7s %6s %s\n", "Engine", "Name", "Mem_MB", "Promised_MB", "Clients", "vGPUs",
                "PCI");
    for (const auto& e : list) {
        const std::string dir = "/sys/devices/platform/vgpu." + std::to_string(e.index) + "/engine/";
        // The GPU's address; "-" for none (a software engine, an engine
        // process not registered) or a vgpu-back without the attribute.
        std::string pci = sysfs_read(dir + "pci").value_or("");
        std::printf("%6u %-14s %8llu %11s %7s %6u %s\n", e.index, e.name.c_str(), e.mem_mb,
                    sysfs_read(dir + "promised_mb").value_or("-").c_str(),
                    sysfs_read(dir + "clients").value_or("-").c_str(), placed[e.index],
                    pci.empty() ? "-" : pci.c_str());
    }
    if (list.empty()) std::printf("(no engine: load vgpu-back and an engine, e.g. modprobe vgpu-sim)\n");
    return 0;
}

// The guests' vGPUs from vgpu-back's sysfs attributes on their xenbus
// devices (Documentation/admin-guide.rst), one block per device.
// The domains' names, where XenStore can tell (a host without Xen has
// only dom0).
void name_clients(std::vector<vgpuctl::ClientStats>& clients) {
    std::unique_ptr<XenStore> xs;
    try {
        xs = std::make_unique<XenStore>();
    } catch (const std::exception&) {
        return;
    }
    for (auto& c : clients)
        if (c.domid)
            if (auto n = xs->read("/local/domain/" + std::to_string(c.domid) + "/name")) c.name = *n;
}

int stats(const Options& o) {
    if (o.args.size() > 1) throw UsageError("stats takes at most one domain");
    if (o.json) {
        if (!o.args.empty()) throw UsageError("stats --json prints every client");
        auto clients = vgpuctl::read_clients("/sys");
        name_clients(clients);
        std::printf("%s\n", vgpuctl::to_json(clients).c_str());
        return 0;
    }
    std::optional<unsigned int> only;
    if (o.args.size() == 1) {
        XenStore xs;
        only = domid_of(xs, o.args[0]);
    }
    static const char* const kCounters[] = {"requests",      "responses",    "errors",       "notify_in",
                                            "notify_out",    "grant_maps",   "grant_unmaps", "grants_mapped",
                                            "bytes_copied",  "objects",      "busy_ns",      "hangs",
                                            "banned",        "violations"};
    static const char* const kQuotas[] = {"devmem_mb", "hostmem_mb", "contexts", "objects", "grant_pages", "jobs"};
    std::vector<std::pair<std::pair<unsigned int, unsigned int>, std::filesystem::path>> devs;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(kSysfsDevices, ec)) {
        unsigned int domid = 0, devid = 0;
        char tail = 0;
        if (std::sscanf(e.path().filename().c_str(), "vgpu-%u-%u%c", &domid, &devid, &tail) != 2) continue;
        if (!only || *only == domid) devs.push_back({{domid, devid}, e.path()});
    }
    if (ec) throw std::runtime_error(std::string("cannot read ") + kSysfsDevices + ": " + ec.message());
    std::sort(devs.begin(), devs.end());
    for (const auto& [id, dir] : devs) {
        auto mode = sysfs_read(dir / "mode");
        if (!mode) continue;  // not bound to vgpu-back (any more)
        std::printf("domain %u, vgpu %u (%s)\n", id.first, id.second, mode->c_str());
        std::printf("  %-14s %s\n", "state", sysfs_read(dir / "state").value_or("-").c_str());
        for (const char* k : kCounters)
            std::printf("  %-14s %s\n", k, sysfs_read(dir / "statistics" / k).value_or("-").c_str());
        std::printf("  %-14s %u\n  %-14s %s\n", "devid", id.second, "mode", mode->c_str());
        std::printf("  %-14s %s\n", "engine", sysfs_read(dir / "engine").value_or("-").c_str());
        for (const char* k : kQuotas)
            std::printf("  quota_%-8s %s\n", k, sysfs_read(dir / "quota" / k).value_or("-").c_str());
        for (const char* k : {"weight", "cap"})
            std::printf("  %-14s %s\n", k, sysfs_read(dir / "sched" / k).value_or("-").c_str());
    }
    if (only && devs.empty()) throw std::runtime_error("domain " + o.args[0] + " has no vgpu device");
    return 0;
}

// Writes @value to the sysfs attribute @path, as vgpu-back checks it.
void sysfs_write(const std::filesystem::path& path, const std::string& value) {
    std::ofstream f(path);
    if (!f) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
    f << value << std::flush;
    if (!f) throw std::runtime_error("vgpu-back refused " + value + " for " + path.string() +
                                     (errno ? std::string(": ") + std::strerror(errno) : ""));
}

// Changes a running vGPU's weight, cap or quotas (dom0: weight and cap of
// its render-node clients).  sysfs applies them at once; vgpu-back keeps
// a guest's in XenStore for its next connection.
int set(const Options& o) {
    if (o.args.size() != 1) throw UsageError("set takes one domain");
    if (o.settings.empty()) throw UsageError("set needs --weight, --cap or --quota-*");
    unsigned int domid = 0;
    if (o.args[0] != "0" && o.args[0] != "Domain-0" && o.args[0] != "dom0") {
        XenStore xs;
        domid = domid_of(xs, o.args[0]);
    }
    std::filesystem::path dir;
    if (domid == 0) {
        dir = sysfs_native(o.engine.value_or(0));
        for (const auto& [k, v] : o.settings)
            if (k != "weight" && k != "cap")
                throw UsageError("dom0's programs have per-program quotas (module parameters), not --" + k);
    } else {
        dir = std::filesystem::path(kSysfsDevices) /
              ("vgpu-" + std::to_string(domid) + "-" + std::to_string(o.devid));
        if (!std::filesystem::exists(dir / "mode"))
            throw std::runtime_error("domain " + o.args[0] + " has no vgpu " + std::to_string(o.devid) +
                                     " bound to vgpu-back");
    }
    for (const auto& [k, v] : o.settings) {
        std::string attr = domid == 0 ? k : vgpuctl::sysfs_attr_of(k);
        errno = 0;
        sysfs_write(dir / attr, v);
        std::printf("domain %u: %s = %s\n", domid, k.c_str(), v.c_str());
    }
    return 0;
}

// A live view of each client's share of the engine, like xentop.
int top(const Options& o) {
    if (!o.args.empty()) throw UsageError("top takes no argument");
    using Clock = std::chrono::steady_clock;
    auto t0 = Clock::now();
    auto before = vgpuctl::read_clients("/sys");
    auto tb = Clock::now();
    for (unsigned int n = 0; o.iterations == 0 || n < o.iterations; n++) {
        std::this_thread::sleep_until(tb + std::chrono::duration<double>(o.interval_s));
        auto after = vgpuctl::read_clients("/sys");
        auto ta = Clock::now();
        name_clients(after);
        double dt = std::chrono::duration<double>(ta - tb).count();
        auto sh = vgpuctl::shares(before, after, dt);
        if (o.json) {
            std::printf("%s\n", vgpuctl::top_json(std::chrono::duration<double>(ta - t0).count(), dt, sh).c_str());
        } else {
            if (!o.batch) std::printf("\033[H\033[2J");
            std::map<unsigned int, double> busy;  // per engine
            for (const auto& s : sh) busy[s.client->engine] += s.share;
            std::printf("vgpuctl top over %.2f s:", dt);
            for (const auto& [e, b] : busy) std::printf(" engine %u %.1f%% busy", e, 100 * b);
            std::printf("\n%-16s %5s %3s %-6s %6s %4s %7s %9s %9s %5s %6s %5s\n", "NAME", "ID", "ENG", "MODE",
                        "WEIGHT", "CAP", "SHARE%", "DEVMEM_MB", "HOSTMEM_MB", "JOBS", "FAULTS", "HANGS");
            for (const auto& s : sh) {
                const auto& c = *s.client;
                std::printf("%-16s %5u %3u %-6s %6u %4s %7.1f %9.1f %9.1f %5llu %6llu %5llu\n", c.name.c_str(),
                            c.domid, c.engine, c.mode.c_str(), c.weight, c.cap ? std::to_string(c.cap).c_str() : "-",
                            100 * s.share,
                            c.device_bytes / 1048576.0, c.host_bytes / 1048576.0,
                            static_cast<unsigned long long>(c.jobs), static_cast<unsigned long long>(c.faults),
                            static_cast<unsigned long long>(c.hangs));
            }
        }
        std::fflush(stdout);
        before = std::move(after);
        tb = ta;
    }
    return 0;
}

// The subcommands: name, arguments, what it does.  Their options are
// the table of options.cpp.
struct Subcommand {
    const char* name;
    const char* args;
    const char* help;
};
constexpr Subcommand kSubcommands[] = {
    {"attach", "<Domain>", "give a running domain a virtual GPU on --engine N (default 0), or the one\n"
                           "--policy picks, with its --mode, --devid, --weight, --cap, --quota-*"},
    {"set", "<Domain>", "change --weight, --cap, --quota-* while it runs (dom0: weight, cap;\n"
                        "--engine N: dom0's share of engine N)"},
    {"engines", "", "the host's engines and the vGPUs placed on each"},
    {"detach", "<Domain>", "take it away (--devid, --timeout); the guest's work gets an error"},
    {"list", "", "list attached virtual GPUs"},
    {"stats", "[Domain]", "per-guest counters of vgpu-back (--json: every client)"},
    {"top", "", "each client's share of the GPU, memory, jobs, faults and hangs,\n"
                "refreshed every -d SECONDS (-b, --json, -n)"},
    {"watch", "", "keep --config FILE's vGPUs attached to their domains as they start"},
    {"precopy", "<Domain>", "copy its device memory into its own while it runs, before xl save or\n"
                            "xl migrate (--rounds, --timeout); --drop: drop those copies"},
    {"help", "", "this text"},
};

void usage(std::FILE* out) {
    std::string text = "Usage: vgpuctl <subcommand> [args] [options]\n\n"
                       "GPUvm virtual GPU administration (dom0).\n\nsubcommands:\n";
    for (const auto& c : kSubcommands) {
        std::string left = std::string(" ") + c.name + " " + c.args;
        left.resize(20, ' ');
        for (const char* h = c.help; *h; h++)  // continuation lines under the first
            left += *h == '\n' ? "\n" + std::string(20, ' ') : std::string(1, *h);
        text += left + "\n";
    }
    text += "\noptions:\n" + vgpuctl::options_help() + "\n<Domain> is a domain name or id, as for xl.\n";
    std::fputs(text.c_str(), out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    std::string cmd = argv[1];
    try {
        if (cmd == "help" || cmd == "--help" || cmd == "-h") {
            usage(stdout);
            return 0;
        }
        Options o = vgpuctl::parse_args({argv + 2, argv + argc});
        if (cmd == "attach") return attach(o);
        if (cmd == "detach") return detach(o);
        if (cmd == "list") return list(o);
        if (cmd == "engines") return engines(o);
        if (cmd == "stats") return stats(o);
        if (cmd == "set") return set(o);
        if (cmd == "top") return top(o);
        if (cmd == "watch") return vgpuctl::watch(o);
        if (cmd == "precopy") return precopy(o);
        throw UsageError("unknown subcommand '" + cmd + "'");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "vgpuctl: %s\n\n", e.what());
        usage(stderr);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vgpuctl: %s\n", e.what());
        return 1;
    }
}
