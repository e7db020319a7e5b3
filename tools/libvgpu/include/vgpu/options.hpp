// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu/options.hpp: the one command-line parser of GPUvm's tools.  A tool
// declares its options in a table (vgpu::Command); parse() checks argv
// against it and usage() prints it, so the table is the documentation.
// Header-only, like vgpu/fd.hpp, so that vgpu-engined (built alone on a
// GPU host, without libvgpu's libdrm) shares it.
//
// Accepted: --opt value, --opt=value, -o value, -- (the rest are
// arguments), repeated options (the last one counts).  Numbers are read
// whole and strictly (std::from_chars: no " 12", "12x", "+1", "-1" for
// an unsigned or overflow), then checked against the option's range.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace vgpu {

// A command line that cannot be right: its tool prints the message and
// its usage and exits 2.  An invalid_argument, so that callers catching
// those (vgpu-bench) need no change.
struct UsageError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

enum class ValueKind { Flag, Text, Unsigned, Signed, Real };

// One option of a table; made with the factories below.
struct Option {
    std::string_view name;        // the long name, without "--"; its key in Args
    char short_name = 0;          // 0: none
    ValueKind kind = ValueKind::Flag;
    std::string_view value_name;  // in the usage: "N", "DIR"
    std::string_view help;
    std::vector<std::string_view> choices;  // Text: the only values allowed (empty: any)
    std::uint64_t umin = 0, umax = std::numeric_limits<std::uint64_t>::max();
    std::int64_t smin = std::numeric_limits<std::int64_t>::min();
    std::int64_t smax = std::numeric_limits<std::int64_t>::max();
    double rmin = std::numeric_limits<double>::lowest(), rmax = std::numeric_limits<double>::max();
};

namespace detail {

// An option with the fields that every kind has.
inline Option option(std::string_view name, char s, ValueKind kind, std::string_view value_name,
                     std::string_view help) {
    Option o;
    o.name = name;
    o.short_name = s;
    o.kind = kind;
    o.value_name = value_name;
    o.help = help;
    return o;
}

}  // namespace detail

inline Option flag(std::string_view name, char s, std::string_view help) {
    return detail::option(name, s, ValueKind::Flag, {}, help);
}
inline Option text(std::string_view name, char s, std::string_view value_name, std::string_view help,
                   std::vector<std::string_view> choices = {}) {
    Option o = detail::option(name, s, ValueKind::Text, value_name, help);
    o.choices = std::move(choices);
    return o;
}
inline Option whole(std::string_view name, char s, std::string_view value_name, std::string_view help,
                    std::uint64_t min = 0, std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
    Option o = detail::option(name, s, ValueKind::Unsigned, value_name, help);
    o.umin = min;
    o.umax = max;
    return o;
}
inline Option integer(std::string_view name, char s, std::string_view value_name, std::string_view help,
                      std::int64_t min, std::int64_t max) {
    Option o = detail::option(name, s, ValueKind::Signed, value_name, help);
    o.smin = min;
    o.smax = max;
    return o;
}
inline Option real(std::string_view name, char s, std::string_view value_name, std::string_view help,
                   double min, double max) {
    Option o = detail::option(name, s, ValueKind::Real, value_name, help);
    o.rmin = min;
    o.rmax = max;
    return o;
}
// -h, --help: parse() then asks for no arguments (the tool prints usage()).
inline Option help_option() { return flag("help", 'h', "print this help and exit"); }

inline constexpr std::size_t kAnyNumber = std::numeric_limits<std::size_t>::max();

// A tool, or one subcommand of one: its options and its arguments.
struct Command {
    std::string_view name;     // as in messages: "vgpu-bench rep"
    std::string_view args;     // the arguments in the usage: "FILE..."
    std::string_view summary;  // one line of what it does
    std::vector<Option> options;
    std::size_t min_args = 0, max_args = kAnyNumber;  // how many arguments
};

using Value = std::variant<bool, std::string, std::uint64_t, std::int64_t, double>;

// What parse() found: each option's value by long name, and the arguments.
class Args {
public:
    std::vector<std::string> positional;

    bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
    bool flag(std::string_view name) const { return has(name); }
    // The value of option @name, or @dflt where it was not given.  Asking
    // for another kind than the table's is a bug (std::bad_variant_access).
    std::string text(std::string_view name, std::string dflt = {}) const { return get(name, std::move(dflt)); }
    std::uint64_t whole(std::string_view name, std::uint64_t dflt) const { return get(name, dflt); }
    std::int64_t integer(std::string_view name, std::int64_t dflt) const { return get(name, dflt); }
    double real(std::string_view name, double dflt) const { return get(name, dflt); }

    void set(std::string_view name, Value v) { values_.insert_or_assign(std::string(name), std::move(v)); }

private:
    template <typename T>
    T get(std::string_view name, T dflt) const {
        auto it = values_.find(name);
        return it == values_.end() ? dflt : std::get<T>(it->second);
    }
    std::map<std::string, Value, std::less<>> values_;
};

// Reads all of @s as a T, or nothing (std::from_chars: no sign for
// unsigned, no blanks, no trailing characters, no overflow).
template <typename T>
bool read_number(std::string_view s, T& v) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

namespace detail {

template <typename T>
std::string str(T v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

// "a", "a or b", "a, b or c".
inline std::string alternatives(const std::vector<std::string_view>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); i++)
        s += (i == 0 ? "" : i + 1 == v.size() ? " or " : ", ") + std::string(v[i]);
    return s;
}

// "min..max", a bound left out where it is the type's own ("0..",
// "..5"); an unsigned one's 0 is said.
template <typename T>
std::string range(T min, T max) {
    using L = std::numeric_limits<T>;
    const bool no_min = min == L::lowest() && !std::is_unsigned_v<T>;
    return (no_min ? std::string() : str(min)) + ".." + (max == L::max() ? std::string() : str(max));
}

// What a value of @o must be, for its error message.
inline std::string expected(const Option& o) {
    switch (o.kind) {
    case ValueKind::Unsigned:
        return "a whole number " + range(o.umin, o.umax);
    case ValueKind::Signed:
        return "a whole number " + range(o.smin, o.smax);
    case ValueKind::Real:
        return "a number " + range(o.rmin, o.rmax);
    default:
        return alternatives(o.choices);
    }
}

// @s as the value of @o, or UsageError naming @spelled (the option as
// written).
inline Value convert(const Option& o, const std::string& spelled, const std::string& s) {
    auto bad = [&] { return UsageError("bad value for " + spelled + ": " + s + " (expected " + expected(o) + ")"); };
    switch (o.kind) {
    case ValueKind::Unsigned: {
        std::uint64_t v = 0;
        if (!vgpu::read_number(s, v) || v < o.umin || v > o.umax) throw bad();
        return v;
    }
    case ValueKind::Signed: {
        std::int64_t v = 0;
        if (!vgpu::read_number(s, v) || v < o.smin || v > o.smax) throw bad();
        return v;
    }
    case ValueKind::Real: {
        double v = 0;
        if (!vgpu::read_number(s, v) || !(v >= o.rmin && v <= o.rmax)) throw bad();  // NaN fails too
        return v;
    }
    default:
        for (auto c : o.choices)
            if (c == s) return s;
        if (!o.choices.empty()) throw bad();
        return s;
    }
}

inline const Option* find_long(const Command& c, std::string_view name) {
    for (const auto& o : c.options)
        if (o.name == name) return &o;
    return nullptr;
}

inline const Option* find_short(const Command& c, char name) {
    for (const auto& o : c.options)
        if (o.short_name && o.short_name == name) return &o;
    return nullptr;
}

// Whether @a is an option (not an argument, "-" or a value).
inline bool is_option(const std::string& a) { return a.size() > 1 && a[0] == '-'; }

}  // namespace detail

namespace detail {

// The option that word @a (an option) names in @c; @spelled: @a without
// "=value".  Throws UsageError where @c has none.
inline const Option& option_of(const Command& c, const std::string& a, std::string& spelled) {
    const bool is_long = a[1] == '-';
    spelled = a.substr(0, is_long ? a.find('=') : std::string::npos);
    const Option* o = is_long ? find_long(c, std::string_view(spelled).substr(2))
                              : a.size() == 2 ? find_short(c, a[1]) : nullptr;
    if (!o) throw UsageError("unknown option " + spelled);
    return *o;
}

// Takes the option of argv[i] (and its value, argv[i + 1] unless
// "--opt=value") into @out; returns the index of the last word taken.
inline std::size_t take_option(const Command& c, const std::vector<std::string>& argv, std::size_t i, Args& out) {
    const std::string& a = argv[i];
    std::string spelled;
    const Option& o = option_of(c, a, spelled);
    const bool inline_value = spelled.size() < a.size();
    if (o.kind == ValueKind::Flag) {
        if (inline_value) throw UsageError(spelled + " takes no value");
        out.set(o.name, true);
        return i;
    }
    if (!inline_value && i + 1 >= argv.size())
        throw UsageError(spelled + (o.kind == ValueKind::Text ? " needs a value" : " needs a number"));
    out.set(o.name, convert(o, spelled, inline_value ? a.substr(spelled.size() + 1) : argv[++i]));
    return i;
}

}  // namespace detail

// Parses @argv (the words after the command's name) against @c.  Throws
// UsageError: unknown option, missing or bad value, a value to a flag,
// too few or too many arguments (not checked with --help).
inline Args parse(const Command& c, const std::vector<std::string>& argv) {
    Args out;
    bool options_end = false;
    for (std::size_t i = 0; i < argv.size(); i++) {
        if (options_end || !detail::is_option(argv[i]))
            out.positional.push_back(argv[i]);
        else if (argv[i] == "--")
            options_end = true;
        else
            i = detail::take_option(c, argv, i, out);
    }
    if (out.has("help")) return out;
    if (out.positional.size() < c.min_args) throw UsageError("missing " + std::string(c.args));
    if (out.positional.size() > c.max_args) throw UsageError("unexpected argument " + out.positional[c.max_args]);
    return out;
}

// argv[first..argc) as parse() takes it.
inline std::vector<std::string> words(int argc, char** argv, int first) {
    return first < argc ? std::vector<std::string>(argv + first, argv + argc) : std::vector<std::string>();
}

namespace detail {

// An option's value in the usage: its value_name, or its choices "a|b".
inline std::string value_name(const Option& o) {
    if (!o.value_name.empty()) return std::string(o.value_name);
    std::string s;
    for (auto ch : o.choices) s += (s.empty() ? "" : "|") + std::string(ch);
    return s.empty() ? "VALUE" : s;
}

}  // namespace detail

// One line per option: "  -m, --mem-mb MEM_MB   help".
inline std::string options_help(const std::vector<Option>& options) {
    std::string out;
    for (const auto& o : options) {
        std::string left = (o.short_name ? std::string("  -") + o.short_name + ", " : "      ") + "--" +
                           std::string(o.name);
        if (o.kind != ValueKind::Flag) left += " " + detail::value_name(o);
        left.resize(std::max<std::size_t>(left.size() + 2, 30), ' ');
        out += left + std::string(o.help) + "\n";
    }
    return out;
}

// "NAME [-b auto|cuda] [--quick] ARGS": every option but --help.
inline std::string synopsis(const Command& c) {
    std::string s(c.name);
    for (const auto& o : c.options) {
        if (o.name == "help") continue;
        s += " [" + (o.short_name ? std::string("-") + o.short_name : "--" + std::string(o.name));
        s += (o.kind == ValueKind::Flag ? "" : " " + detail::value_name(o)) + "]";
    }
    return c.args.empty() ? s : s + " " + std::string(c.args);
}

// "usage: SYNOPSIS", the summary and the options.
inline std::string usage(const Command& c) {
    std::string out = "usage: " + synopsis(c) + "\n";
    if (!c.summary.empty()) out += std::string(c.summary) + "\n";
    if (!c.options.empty()) out += "\noptions:\n" + options_help(c.options);
    return out;
}

// For main(): a usage error reported as every tool does ("NAME: why",
// a blank line, the usage, on stderr); returns 2, the exit status.
inline int usage_error(const Command& c, const std::exception& why) {
    std::cerr << c.name << ": " << why.what() << "\n\n" << usage(c);
    return 2;
}

// For main(): --help, on stdout; returns 0.
inline int print_help(const Command& c) {
    std::cout << usage(c);
    return 0;
}

// For main(): what @parse_fn (the tool's, with @c's table) makes of
// argv[1..], or nullopt with @status set to main()'s exit status: 2
// after a usage error, 0 after --help (T's bool help).
template <typename T>
std::optional<T> parse_main(const Command& c, T (*parse_fn)(const std::vector<std::string>&), int argc,
                            char** argv, int& status) {
    try {
        T t = parse_fn(words(argc, argv, 1));
        if (!t.help) return t;
        status = print_help(c);
    } catch (const UsageError& e) {
        status = usage_error(c, e);
    }
    return std::nullopt;
}

}  // namespace vgpu
