// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl: dom0's administration tool for GPUvm, in the manner of xl.
// It attaches a virtual GPU to a domain by writing the backend and
// frontend XenStore nodes (common/vgpuif.h documents them), detaches it,
// lists attachments and prints the per-guest counters of vgpu-back.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

extern "C" {
#include <xenstore.h>
}

namespace {

constexpr const char* kStatsFile = "/sys/kernel/debug/vgpu/xen";
constexpr int kStateClosed = 6;

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One XenStore connection.
class XenStore {
public:
    XenStore() : h_(xs_open(0)) {
        if (!h_) throw std::runtime_error(std::string("cannot open XenStore: ") + std::strerror(errno) +
                                          " (is xenstored running, is this dom0?)");
    }
    XenStore(const XenStore&) = delete;
    XenStore& operator=(const XenStore&) = delete;
    ~XenStore() { xs_close(h_); }

    std::optional<std::string> read(const std::string& path, xs_transaction_t t = XBT_NULL) const {
        unsigned int len = 0;
        std::unique_ptr<char, decltype(&std::free)> v(static_cast<char*>(xs_read(h_, t, path.c_str(), &len)),
                                                      &std::free);
        if (!v) return std::nullopt;
        return std::string(v.get(), len);
    }

    std::vector<std::string> list(const std::string& path) const {
        unsigned int n = 0;
        std::unique_ptr<char*, decltype(&std::free)> d(xs_directory(h_, XBT_NULL, path.c_str(), &n), &std::free);
        std::vector<std::string> out;
        for (unsigned int i = 0; d && i < n; i++) out.emplace_back(d.get()[i]);
        return out;
    }

    // Runs @body in a transaction, retried while XenStore says EAGAIN.
    template <typename F> void transaction(F body) {
        for (int tries = 0; tries < 100; tries++) {
            xs_transaction_t t = xs_transaction_start(h_);
            if (t == XBT_NULL) throw std::runtime_error(std::string("xs_transaction_start: ") + std::strerror(errno));
            try {
                body(t);
            } catch (...) {
                xs_transaction_end(h_, t, true);
                throw;
            }
            if (xs_transaction_end(h_, t, false)) return;
            if (errno != EAGAIN) throw std::runtime_error(std::string("xs_transaction_end: ") + std::strerror(errno));
        }
        throw std::runtime_error("XenStore transaction kept conflicting");
    }

    void write(xs_transaction_t t, const std::string& path, const std::string& value) {
        if (!xs_write(h_, t, path.c_str(), value.data(), static_cast<unsigned int>(value.size())))
            throw std::runtime_error("xs_write " + path + ": " + std::strerror(errno));
    }

    void remove(xs_transaction_t t, const std::string& path) {
        if (!xs_rm(h_, t, path.c_str()) && errno != ENOENT)
            throw std::runtime_error("xs_rm " + path + ": " + std::strerror(errno));
    }

    // Owner @owner, read access for @reader (as xl sets device nodes).
    void permissions(xs_transaction_t t, const std::string& path, unsigned int owner, unsigned int reader) {
        xs_permissions p[2] = {{owner, XS_PERM_NONE}, {reader, XS_PERM_READ}};
        if (!xs_set_permissions(h_, t, path.c_str(), p, 2))
            throw std::runtime_error("xs_set_permissions " + path + ": " + std::strerror(errno));
    }

private:
    xs_handle* h_;
};

unsigned int parse_uint(const std::string& s, const char* what) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end || errno || v > 0xffffffffUL) throw UsageError(std::string("bad ") + what + ": '" + s + "'");
    return static_cast<unsigned int>(v);
}

// A domain given by id or by name, as xl accepts.  With @gone_ok, an id
// of a domain that no longer exists is accepted too (to clean up).
unsigned int domid_of(const XenStore& xs, const std::string& dom, bool gone_ok = false) {
    if (!dom.empty() && std::isdigit(static_cast<unsigned char>(dom[0]))) {
        unsigned int id = parse_uint(dom, "domain id");
        if (!gone_ok && !xs.read("/local/domain/" + std::to_string(id) + "/name"))
            throw std::runtime_error("domain " + dom + " does not exist");
        return id;
    }
    for (const auto& id : xs.list("/local/domain"))
        if (xs.read("/local/domain/" + id + "/name") == dom) return parse_uint(id, "domain id");
    throw std::runtime_error("no domain named '" + dom + "'");
}

std::string backend_path(unsigned int domid, unsigned int devid) {
    return "/local/domain/0/backend/vgpu/" + std::to_string(domid) + "/" + std::to_string(devid);
}

std::string frontend_path(unsigned int domid, unsigned int devid) {
    return "/local/domain/" + std::to_string(domid) + "/device/vgpu/" + std::to_string(devid);
}

struct Options {
    std::string mode = "hp";
    unsigned int devid = 0;
    unsigned int timeout_s = 10;
    std::map<std::string, std::string> quotas;
    std::vector<std::string> args;
};

Options parse(int argc, char** argv, int first) {
    Options o;
    for (int i = first; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (auto eq = a.find('='); eq != std::string::npos) return a.substr(eq + 1);
            if (i + 1 >= argc) throw UsageError(a + " needs a value");
            return argv[++i];
        };
        auto key = a.substr(0, a.find('='));
        if (key == "--mode") {
            o.mode = value();
            if (o.mode != "naive" && o.mode != "hp") throw UsageError("--mode is naive or hp");
        } else if (key == "--devid") {
            o.devid = parse_uint(value(), "--devid");
        } else if (key == "--timeout") {
            o.timeout_s = parse_uint(value(), "--timeout");
        } else if (key == "--quota-devmem-mb" || key == "--quota-hostmem-mb" || key == "--quota-contexts" ||
                   key == "--quota-objects" || key == "--quota-grant-pages") {
            o.quotas[key.substr(2)] = std::to_string(parse_uint(value(), key.c_str()));
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("unknown option " + a);
        } else {
            o.args.push_back(a);
        }
    }
    return o;
}

int attach(const Options& o) {
    if (o.args.size() != 1) throw UsageError("attach takes one domain");
    XenStore xs;
    unsigned int domid = domid_of(xs, o.args[0]);
    if (domid == 0) throw UsageError("dom0 uses the local render node; attach a guest");
    std::string be = backend_path(domid, o.devid), fe = frontend_path(domid, o.devid);
    if (xs.read(be + "/state")) throw std::runtime_error("domain " + o.args[0] + " already has vgpu " +
                                                         std::to_string(o.devid));
    xs.transaction([&](xs_transaction_t t) {
        xs.write(t, be, "");
        xs.permissions(t, be, 0, domid);
        xs.write(t, be + "/frontend", fe);
        xs.write(t, be + "/frontend-id", std::to_string(domid));
        xs.write(t, be + "/online", "1");
        xs.write(t, be + "/state", "1");
        xs.write(t, be + "/mode", o.mode);
        for (const auto& [k, v] : o.quotas) xs.write(t, be + "/" + k, v);
        xs.write(t, fe, "");
        xs.permissions(t, fe, domid, 0);
        xs.write(t, fe + "/backend", be);
        xs.write(t, fe + "/backend-id", "0");
        xs.write(t, fe + "/state", "1");
    });
    std::printf("vgpu %u attached to domain %u (%s mode)\n", o.devid, domid, o.mode.c_str());
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
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
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
    std::printf("%-16s %5s %5s %-6s %-13s %-13s\n", "Name", "ID", "Dev", "Mode", "BE-state", "FE-state");
    for (const auto& dom : xs.list("/local/domain/0/backend/vgpu")) {
        unsigned int domid = parse_uint(dom, "domain id");
        for (const auto& dev : xs.list("/local/domain/0/backend/vgpu/" + dom)) {
            std::string be = "/local/domain/0/backend/vgpu/" + dom + "/" + dev;
            auto fe = xs.read(be + "/frontend").value_or("");
            std::printf("%-16s %5u %5s %-6s %-13s %-13s\n",
                        xs.read("/local/domain/" + dom + "/name").value_or("(gone)").c_str(), domid, dev.c_str(),
                        xs.read(be + "/mode").value_or("-").c_str(), state_name(xs.read(be + "/state")),
                        state_name(xs.read(fe + "/state")));
        }
    }
    return 0;
}

int stats(const Options& o) {
    if (o.args.size() > 1) throw UsageError("stats takes at most one domain");
    std::optional<unsigned int> only;
    if (o.args.size() == 1) {
        XenStore xs;
        only = domid_of(xs, o.args[0]);
    }
    std::ifstream f(kStatsFile);
    if (!f)
        throw std::runtime_error(std::string("cannot read ") + kStatsFile +
                                 " (is vgpu-back loaded and debugfs mounted?)");
    std::string header, line;
    std::getline(f, header);
    std::vector<std::string> keys;
    std::istringstream hs(header);
    for (std::string k; hs >> k;) keys.push_back(k);
    int shown = 0;
    while (std::getline(f, line)) {
        std::istringstream ls(line);
        std::vector<std::string> vals;
        for (std::string v; ls >> v;) vals.push_back(v);
        if (vals.size() != keys.size() || (only && vals[0] != std::to_string(*only))) continue;
        std::printf("domain %s\n", vals[0].c_str());
        for (size_t i = 1; i < keys.size(); i++) std::printf("  %-14s %s\n", keys[i].c_str(), vals[i].c_str());
        shown++;
    }
    if (only && !shown) throw std::runtime_error("domain " + o.args[0] + " has no vgpu connection");
    return 0;
}

void usage(std::FILE* out) {
    std::fprintf(out,
                 "Usage: vgpuctl <subcommand> [args]\n\n"
                 "GPUvm virtual GPU administration (dom0).\n\n"
                 " attach <Domain> [--mode naive|hp] [--devid N] [--quota-devmem-mb N]\n"
                 "        [--quota-hostmem-mb N] [--quota-contexts N] [--quota-objects N]\n"
                 "        [--quota-grant-pages N]\n"
                 "                          give a running domain a virtual GPU\n"
                 " detach <Domain> [--devid N] [--timeout SECONDS]\n"
                 "                          take it away; the guest's work gets an error\n"
                 " list                     list attached virtual GPUs\n"
                 " stats [Domain]           per-guest counters of vgpu-back\n"
                 " help                     this text\n\n"
                 "<Domain> is a domain name or id, as for xl.\n");
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
        Options o = parse(argc, argv, 2);
        if (cmd == "attach") return attach(o);
        if (cmd == "detach") return detach(o);
        if (cmd == "list") return list(o);
        if (cmd == "stats") return stats(o);
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
