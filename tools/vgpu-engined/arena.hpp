// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// arena.hpp - first-fit allocation of page-aligned ranges of a device
// memory of fixed size (both back ends hold their device memory as one
// block, as vgpu-sim does with drm_mm).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace vgpu::engine {

class Arena {
public:
    explicit Arena(uint64_t size) { free_[0] = size; }
    std::optional<uint64_t> alloc(uint64_t size) {
        size = (size + 4095) & ~uint64_t{4095};
        if (!size)
            return std::nullopt;
        for (auto it = free_.begin(); it != free_.end(); ++it) {
            if (it->second < size)
                continue;
            uint64_t off = it->first, left = it->second - size;
            free_.erase(it);
            if (left)
                free_[off + size] = left;
            used_[off] = size;
            return off;
        }
        return std::nullopt;
    }
    // Returns the size of the range at @off (0: none there).
    uint64_t free(uint64_t off) {
        auto u = used_.find(off);
        if (u == used_.end())
            return 0;
        uint64_t size = u->second;
        used_.erase(u);
        auto [it, ok] = free_.emplace(off, size);
        auto next = std::next(it);
        if (next != free_.end() && it->first + it->second == next->first) {
            it->second += next->second;
            free_.erase(next);
        }
        if (it != free_.begin()) {
            auto prev = std::prev(it);
            if (prev->first + prev->second == it->first) {
                prev->second += it->second;
                free_.erase(it);
            }
        }
        return size;
    }

private:
    std::map<uint64_t, uint64_t> free_;  // offset -> size
    std::map<uint64_t, uint64_t> used_;
};

}  // namespace vgpu::engine
