// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// XenStore reads over /dev/xen/xenbus (see xenstore.hpp).
#include "xenstore.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "vgpu/vgpu.hpp"

namespace bench {
namespace {

// xen/include/public/io/xs_wire.h
struct XsMsg {
    uint32_t type, req_id, tx_id, len;
};
constexpr uint32_t kXsRead = 2, kXsError = 16;

void write_all(int fd, const void* p, size_t n) {
    const auto* b = static_cast<const char*>(p);
    while (n) {
        ssize_t w = ::write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw vgpu::Error(errno, "write /dev/xen/xenbus");
        b += w;
        n -= static_cast<size_t>(w);
    }
}

void read_all(int fd, void* p, size_t n) {
    auto* b = static_cast<char*>(p);
    while (n) {
        ssize_t r = ::read(fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) throw vgpu::Error(r ? errno : EIO, "read /dev/xen/xenbus");
        b += r;
        n -= static_cast<size_t>(r);
    }
}

}  // namespace

std::optional<std::string> xs_read(const std::string& key) {
    vgpu::Fd fd(::open("/dev/xen/xenbus", O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) throw vgpu::Error(errno, "open /dev/xen/xenbus");
    XsMsg m{kXsRead, 1, 0, static_cast<uint32_t>(key.size() + 1)};
    std::vector<char> msg(sizeof(m) + m.len);
    std::memcpy(msg.data(), &m, sizeof(m));
    std::memcpy(msg.data() + sizeof(m), key.c_str(), m.len);
    write_all(fd.get(), msg.data(), msg.size());  // one message, one write
    XsMsg r;
    read_all(fd.get(), &r, sizeof(r));
    if (r.len > 4096) throw vgpu::Error(EIO, "xenstore reply of " + std::to_string(r.len) + " octets");
    std::string body(r.len, '\0');
    read_all(fd.get(), body.data(), r.len);
    if (r.type == kXsError) return std::nullopt;
    if (r.type != kXsRead) throw vgpu::Error(EIO, "unexpected xenstore reply " + std::to_string(r.type));
    return body;
}

bool xs_wait(const std::string& key, const std::string& value, int seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (xs_read(key) == value) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace bench
