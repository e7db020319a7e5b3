// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl precopy: the guest's device memory copied into its own memory
// while it runs, before xl save or xl migrate (frontend/
// vgpu_front_precopy.c is the other side).  The report is the guest's:
// parsed here with the care of any value from a guest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vgpuctl {

// The frontend's report of one request (its "precopy-done" key).
struct PrecopyReport {
    std::uint64_t serial = 0;
    enum class Kind { Pass, Dropped, Error } kind = Kind::Pass;
    int error = 0;                  // Error: the errno (negative)
    std::uint64_t copied_kib = 0;   // Pass: moved by this pass
    std::uint64_t clean_kib = 0;    // copied and not written since
    std::uint64_t dirty_kib = 0;    // to copy again (written, or never copied)
    std::uint64_t ms = 0;           // the pass's time
};

// "N copied clean dirty ms", "N dropped" or "N error -ERRNO"; nullopt
// for anything else (a guest may write what it likes there).
std::optional<PrecopyReport> parse_precopy_report(const std::string& s);

// At most @max characters of @s, each not printable as '?' (what a guest
// wrote, shown on dom0's terminal).
std::string printable(const std::string& s, size_t max);

// Whether another round is worth it after @cur (the one before: @prev):
// something is left to copy and the last round made progress.
bool precopy_another_round(const PrecopyReport& cur, const std::optional<PrecopyReport>& prev);

}  // namespace vgpuctl
