// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// suballoc.hpp - small allocations sharing page-sized objects.  An engine
// whose GPU page is large (2 MiB: a GPU's virtual-memory API, announced
// in INFO's page_size) cannot give each cudaMalloc an object of its own
// without wasting most of a page on each; NVIDIA's runtime shares its
// pages the same way.  First fit in address order, pieces aligned to
// kAlign (cudaMalloc's 256 bytes), holes coalesced (a page's holes are a
// vgpu::VaSpace of its offsets), a page given back when its last piece is;
// a piece says whether any of it was handed out before (Piece::reused),
// for the caller to clear (a new page is zero-filled, a hole is not).  Pieces of different kinds (device, host,
// executable) never share a page.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <stdexcept>

#include "vgpu/va_space.hpp"

namespace gpuvm::cudart {

template <typename Page>
class SubAllocator {
public:
    static constexpr size_t kAlign = 256;

    struct Piece {
        Page* page;
        size_t off;   // in the page
        size_t size;  // rounded to kAlign: what it may reach
        bool reused;  // some of it was another piece's (not as the page was made: clear it)
    };

    explicit SubAllocator(size_t page_size) : page_size_(page_size) {
        if (page_size < kAlign || page_size & (page_size - 1))
            throw std::invalid_argument("SubAllocator: page size not a power of two");
    }

    // A piece of @n bytes (1..page/2) of kind @kind, in a page that
    // @make_page makes when none has room (its exception passes through,
    // nothing changed).
    Piece take(unsigned kind, size_t n, const std::function<std::unique_ptr<Page>()>& make_page) {
        if (!n || n > page_size_ / 2)
            throw std::invalid_argument("SubAllocator: piece of 1 byte to half a page");
        n = (n + kAlign - 1) & ~(kAlign - 1);
        for (Slab& s : slabs_) {
            if (s.kind != kind)
                continue;
            size_t off = s.carve(n);
            if (off != SIZE_MAX)
                return {s.page.get(), off, n, s.touched(off, n)};
        }
        Slab& s = slabs_.emplace_back(Slab{make_page(), kind, vgpu::VaSpace(0, page_size_, kAlign), 0, 0});
        size_t off = s.carve(n);
        return {s.page.get(), off, n, s.touched(off, n)};
    }

    // Gives @p back; returns its page when that was its last piece (the
    // caller releases it), else null.
    std::unique_ptr<Page> give_back(const Piece& p) {
        for (auto it = slabs_.begin(); it != slabs_.end(); ++it) {
            if (it->page.get() != p.page)
                continue;
            it->release(p.off, p.size);
            if (it->live)
                return nullptr;
            std::unique_ptr<Page> page = std::move(it->page);
            slabs_.erase(it);
            return page;
        }
        throw std::logic_error("SubAllocator: a piece of no page");
    }

    size_t pages() const noexcept { return slabs_.size(); }
    // The pages that @keep (a predicate on a Page) says yes to.
    template <typename F>
    size_t pages_if(F&& keep) const {
        size_t n = 0;
        for (const Slab& s : slabs_)
            n += keep(*s.page) ? 1 : 0;
        return n;
    }

private:
    struct Slab {
        std::unique_ptr<Page> page;
        unsigned kind;
        vgpu::VaSpace holes;  // offsets in the page, kAlign at a time
        size_t live;          // pieces handed out
        size_t top;           // the end of the highest piece ever handed out

        // Whether [@off, @off + @n) reaches below top (then some of it
        // was a piece before); top moves past it.
        bool touched(size_t off, size_t n) {
            bool was = off < top;
            top = std::max(top, off + n);
            return was;
        }

        size_t carve(size_t n) {
            std::optional<uint64_t> off = holes.take(n);
            if (!off)
                return SIZE_MAX;
            live++;
            return static_cast<size_t>(*off);
        }
        void release(size_t off, size_t n) {
            live--;
            holes.give_back(off, n);
        }
    };

    size_t page_size_;
    std::list<Slab> slabs_;
};

}  // namespace gpuvm::cudart
