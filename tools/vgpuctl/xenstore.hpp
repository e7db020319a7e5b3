// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// One connection to XenStore (libxenstore), owned: reads, directory
// listings, transactions retried on EAGAIN, permissions, and watches.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include <xenstore.h>
}

namespace vgpuctl {

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

    // Watch events for @path (and below) come with @token.
    void watch(const std::string& path, const std::string& token) {
        if (!xs_watch(h_, path.c_str(), token.c_str()))
            throw std::runtime_error("xs_watch " + path + ": " + std::strerror(errno));
    }

    // Readable when watch events are pending (poll it, then drain them).
    int fd() const { return xs_fileno(h_); }

    // Takes every pending watch event without blocking; returns how many.
    unsigned int drain_watches() {
        unsigned int n = 0;
        for (;;) {
            std::unique_ptr<char*, decltype(&std::free)> ev(xs_check_watch(h_), &std::free);
            if (!ev) break;
            n++;
        }
        return n;
    }

private:
    xs_handle* h_;
};

}  // namespace vgpuctl
