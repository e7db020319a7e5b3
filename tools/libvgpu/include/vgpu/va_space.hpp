// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// va_space.hpp - a context's GPU addresses as libvgpu hands them out:
// ranges of whole GPU pages (INFO's page_size: 4 KiB, or a GPU's 2 MiB)
// inside the window INFO announces, first fit among the ranges given
// back, else above every range handed out; a range given back merges
// with its neighbours and with the space above.  No device needed: the
// Context (vgpu.hpp) decides when a range may be given back.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>

namespace vgpu {

class VaSpace {
public:
    // [@start, @end) with pages of @page bytes (a power of two; @start
    // and @end multiples of it).
    VaSpace(uint64_t start, uint64_t end, uint64_t page) : end_(end), page_(page), next_(start) {
        if (!page || page & (page - 1) || (start | end) & (page - 1) || start >= end)
            throw std::invalid_argument("VaSpace: not whole pages");
    }

    // @n bytes (a multiple of the page, not 0), or nothing when no range
    // is large enough.
    std::optional<uint64_t> take(uint64_t n) {
        if (!n || n & (page_ - 1))
            throw std::invalid_argument("VaSpace: not whole pages");
        for (auto it = free_.begin(); it != free_.end(); ++it) {
            if (it->second < n)
                continue;
            uint64_t va = it->first, left = it->second - n;
            auto node = free_.extract(it);  // reused: no allocation can fail
            if (left) {
                node.key() = va + n;
                node.mapped() = left;
                free_.insert(std::move(node));
            }
            return va;
        }
        if (next_ >= end_ || n > end_ - next_)
            return std::nullopt;
        uint64_t va = next_;
        next_ += n;
        return va;
    }

    // Gives back [@va, @va + @n), which take() handed out.
    void give_back(uint64_t va, uint64_t n) {
        auto next = free_.lower_bound(va);
        if (next != free_.end() && va + n == next->first) {
            n += next->second;
            next = free_.erase(next);
        }
        if (next != free_.begin()) {
            auto prev = std::prev(next);
            if (prev->first + prev->second == va) {
                va = prev->first;
                n += prev->second;
                free_.erase(prev);
            }
        }
        if (va + n == next_)
            next_ = va;
        else
            free_[va] = n;
    }

    // Above every range handed out and not given back.
    uint64_t top() const noexcept { return next_; }
    size_t holes() const noexcept { return free_.size(); }

private:
    uint64_t end_, page_, next_;
    std::map<uint64_t, uint64_t> free_;  // start -> bytes
};

}  // namespace vgpu
