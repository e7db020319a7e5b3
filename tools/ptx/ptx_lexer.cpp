// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_lexer.cpp - see ptx_lexer.hpp.
#include "ptx_lexer.hpp"

#include <cctype>
#include <cstring>

#include "ptx_parser.hpp"

namespace gpuvm::ptx {
namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%'; }
bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.';
}
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
public:
    explicit Lexer(std::string_view s) : s_(s) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        while (skip_space(), i_ < s_.size())
            out.push_back(next());
        out.push_back({Token::Kind::End, "", here()});
        return out;
    }

private:
    std::string_view s_;
    size_t i_ = 0;
    uint32_t line_ = 1, col_ = 1;

    Pos here() const { return {line_, col_}; }

    void advance(size_t n) {
        for (size_t k = 0; k < n && i_ < s_.size(); k++, i_++) {
            if (s_[i_] == '\n') {
                line_++;
                col_ = 1;
            } else {
                col_++;
            }
        }
    }

    void skip_space() {
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
                advance(1);
            } else if (s_.substr(i_, 2) == "//") {
                while (i_ < s_.size() && s_[i_] != '\n')
                    advance(1);
            } else if (s_.substr(i_, 2) == "/*") {
                Pos p = here();
                size_t e = s_.find("*/", i_ + 2);
                if (e == std::string_view::npos)
                    throw ParseError(p, "unterminated comment");
                advance(e + 2 - i_);
            } else {
                return;
            }
        }
    }

    Token take(Token::Kind k, size_t n, size_t skip = 0) {
        Token t{k, std::string(s_.substr(i_ + skip, n - skip)), here()};
        advance(n);
        return t;
    }

    Token next() {
        char c = s_[i_];
        size_t n = 1;
        if (ident_start(c)) {
            while (i_ + n < s_.size() && ident_char(s_[i_ + n]))
                n++;
            return take(Token::Kind::Ident, n);
        }
        if (c == '.' && i_ + 1 < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_ + 1])) || s_[i_ + 1] == '_')) {
            while (i_ + n < s_.size() && word_char(s_[i_ + n]))
                n++;
            return take(Token::Kind::Directive, n, 1);
        }
        if (std::isdigit(static_cast<unsigned char>(c)))
            return number();
        if (c == '"')
            return string();
        if (std::strchr("{}[]();,:<>+-!@|=", c))
            return take(Token::Kind::Punct, 1);
        throw ParseError(here(), std::string("unexpected character '") +
                                     (std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c)
                                                                                   : "\\x" + std::to_string(uint8_t(c))) +
                                     "'");
    }

    // Digits, letters and dots (0x1F, 0f3F800000, 1.5e-3, 10U); a sign
    // after an exponent's e belongs to the number.
    Token number() {
        size_t n = 1;
        bool hex = s_.size() > i_ + 1 && std::strchr("xXfFdD", s_[i_ + 1]) && s_[i_] == '0';
        while (i_ + n < s_.size()) {
            char c = s_[i_ + n];
            if (word_char(c) || c == '.') {
                n++;
            } else if ((c == '+' || c == '-') && !hex && (s_[i_ + n - 1] == 'e' || s_[i_ + n - 1] == 'E')) {
                n++;
            } else {
                break;
            }
        }
        return take(Token::Kind::Number, n);
    }

    Token string() {
        Pos p = here();
        size_t n = 1;
        std::string v;
        while (true) {
            if (i_ + n >= s_.size() || s_[i_ + n] == '\n')
                throw ParseError(p, "unterminated string");
            char c = s_[i_ + n];
            if (c == '"')
                break;
            if (c == '\\' && i_ + n + 1 < s_.size()) {
                n++;
                c = s_[i_ + n];
            }
            v += c;
            n++;
        }
        advance(n + 1);
        return {Token::Kind::String, v, p};
    }
};

}  // namespace

std::vector<Token> lex(std::string_view text) { return Lexer(text).run(); }

}  // namespace gpuvm::ptx
