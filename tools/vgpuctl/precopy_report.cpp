// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
#include <charconv>
#include <string_view>
#include <vector>

#include "precopy.hpp"

namespace vgpuctl {

namespace {

// Space-separated fields; nullopt for an empty field, a tab or a newline.
std::optional<std::vector<std::string_view>> fields(std::string_view s) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        size_t sp = s.find(' ');
        std::string_view f = s.substr(0, sp);
        if (f.empty()) return std::nullopt;
        out.push_back(f);
        if (sp == std::string_view::npos) break;
        s.remove_prefix(sp + 1);
        if (s.empty()) return std::nullopt;  // a trailing space
    }
    return out;
}

template <typename T> std::optional<T> number(std::string_view s) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

std::optional<PrecopyReport> parse_precopy_report(const std::string& s) {
    if (s.size() > 200) return std::nullopt;
    auto f = fields(s);
    if (!f || f->empty()) return std::nullopt;
    PrecopyReport r;
    auto serial = number<std::uint64_t>((*f)[0]);
    if (!serial) return std::nullopt;
    r.serial = *serial;
    if (f->size() == 2 && (*f)[1] == "dropped") {
        r.kind = PrecopyReport::Kind::Dropped;
        return r;
    }
    if (f->size() == 3 && (*f)[1] == "error") {
        auto e = number<int>((*f)[2]);
        if (!e || *e >= 0 || *e < -4095) return std::nullopt;  // an errno
        r.kind = PrecopyReport::Kind::Error;
        r.error = *e;
        return r;
    }
    if (f->size() != 5) return std::nullopt;
    std::uint64_t* out[] = {&r.copied_kib, &r.clean_kib, &r.dirty_kib, &r.ms};
    for (size_t i = 0; i < 4; i++) {
        auto v = number<std::uint64_t>((*f)[i + 1]);
        if (!v) return std::nullopt;
        *out[i] = *v;
    }
    return r;
}

std::string printable(const std::string& s, size_t max) {
    std::string out;
    for (char c : s.substr(0, max)) out += c >= 0x20 && c < 0x7f ? c : '?';
    return out;
}

bool precopy_another_round(const PrecopyReport& cur, const std::optional<PrecopyReport>& prev) {
    if (cur.kind != PrecopyReport::Kind::Pass || cur.dirty_kib == 0 || cur.copied_kib == 0) return false;
    return !prev || cur.dirty_kib < prev->dirty_kib;
}

}  // namespace vgpuctl
