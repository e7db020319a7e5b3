// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_edit.hpp - edits of PTX text in place at its tokens' positions
// (ptx_lexer.hpp), so that what the rewrites (ptx_place.cpp,
// ptx_printf.cpp) do not touch reaches the driver's compiler exactly as
// nvcc wrote it.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "ptx_lexer.hpp"

namespace gpuvm::ptx {

class TextEdits {
public:
    explicit TextEdits(std::string_view text) : text_(text) {
        line_start_.push_back(0);
        for (size_t i = 0; i < text.size(); i++)
            if (text[i] == '\n')
                line_start_.push_back(i + 1);
    }

    // The byte offset of token @t in the text.
    size_t at(const Token& t) const { return line_start_.at(t.pos.line - 1) + t.pos.col - 1; }
    // @len bytes from @at become @with (edits must not overlap).
    void replace(size_t at, size_t len, std::string with) { edits_.push_back({at, len, std::move(with)}); }
    // Whether an edit already covers the byte at @pos.
    bool covered(size_t pos) const {
        return std::any_of(edits_.begin(), edits_.end(),
                           [&](const Edit& e) { return pos >= e.at && pos < e.at + e.len; });
    }
    // The text with every edit made.
    std::string apply() {
        std::sort(edits_.begin(), edits_.end(), [](const Edit& a, const Edit& b) { return a.at < b.at; });
        std::string out;
        size_t from = 0;
        for (const Edit& e : edits_) {
            out.append(text_.substr(from, e.at - from));
            out.append(e.with);
            from = e.at + e.len;
        }
        out.append(text_.substr(from));
        return out;
    }

private:
    struct Edit {
        size_t at, len;
        std::string with;
    };
    std::string_view text_;
    std::vector<size_t> line_start_;
    std::vector<Edit> edits_;
};

}  // namespace gpuvm::ptx
