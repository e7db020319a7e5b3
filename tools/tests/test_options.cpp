// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu/options.hpp, the tools' one option parser: every way of giving an
// option, every error, the usage made from the table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vgpu/options.hpp"

namespace {

using vgpu::UsageError;

const vgpu::Command& table() {
    using namespace vgpu;
    static const Command c{
        "tool", "FILE...", "A tool of the tests.",
        {
            text("out", 'o', "DIR", "where it goes"),
            text("mode", 0, "", "how", {"fast", "slow"}),
            whole("mem-mb", 'm', "MB", "memory", 1, 65536),
            whole("count", 'n', "N", "any count"),
            integer("offset", 0, "K", "signed", -5, 5),
            real("interval", 'd', "S", "seconds", 0.1, 3600),
            flag("quick", 'q', "hurry"),
            help_option(),
        },
        1, 2};
    return c;
}

vgpu::Args parse(const std::vector<std::string>& argv) { return vgpu::parse(table(), argv); }

// The message of the UsageError that @argv makes, or "" when it parses.
std::string error_of(const std::vector<std::string>& argv) {
    try {
        parse(argv);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Options, EveryWayOfGivingAValue) {
    auto a = parse({"--out", "d1", "f", "--mem-mb=64", "-n", "7", "--mode=slow", "-q", "-d", "0.5"});
    EXPECT_EQ(a.text("out"), "d1");
    EXPECT_EQ(a.whole("mem-mb", 0), 64u);
    EXPECT_EQ(a.whole("count", 0), 7u);
    EXPECT_EQ(a.text("mode"), "slow");
    EXPECT_TRUE(a.flag("quick"));
    EXPECT_DOUBLE_EQ(a.real("interval", 1), 0.5);
    EXPECT_EQ(a.positional, std::vector<std::string>{"f"});
}

TEST(Options, DefaultsWhereNotGiven) {
    auto a = parse({"f"});
    EXPECT_FALSE(a.has("out"));
    EXPECT_FALSE(a.flag("quick"));
    EXPECT_EQ(a.text("out", "dflt"), "dflt");
    EXPECT_EQ(a.whole("mem-mb", 256), 256u);
    EXPECT_EQ(a.integer("offset", -1), -1);
}

TEST(Options, ValuesMayStartWithADashOrHoldAnEquals) {
    auto a = parse({"--out", "-x", "--offset", "-5", "f"});
    EXPECT_EQ(a.text("out"), "-x");
    EXPECT_EQ(a.integer("offset", 0), -5);
    // "-o=a" is no way of giving -o; the short form takes the next word.
    EXPECT_EQ(error_of({"-o=a", "f"}), "unknown option -o=a");
    EXPECT_EQ(parse({"--out=a=b", "f"}).text("out"), "a=b");
}

TEST(Options, DoubleDashEndsTheOptions) {
    auto a = parse({"-q", "--", "--out", "-n"});
    EXPECT_TRUE(a.flag("quick"));
    EXPECT_FALSE(a.has("out"));
    EXPECT_EQ(a.positional, (std::vector<std::string>{"--out", "-n"}));
    EXPECT_EQ(parse({"-", "f"}).positional, (std::vector<std::string>{"-", "f"}));  // "-" is an argument
}

TEST(Options, TheLastOfARepeatedOptionCounts) {
    auto a = parse({"-m", "2", "--mem-mb=3", "f", "--mode", "fast", "--mode", "slow"});
    EXPECT_EQ(a.whole("mem-mb", 0), 3u);
    EXPECT_EQ(a.text("mode"), "slow");
}

TEST(Options, UnknownOptions) {
    EXPECT_EQ(error_of({"--foo", "f"}), "unknown option --foo");
    EXPECT_EQ(error_of({"--foo=1", "f"}), "unknown option --foo");
    EXPECT_EQ(error_of({"-x", "f"}), "unknown option -x");
    EXPECT_EQ(error_of({"-qn", "f"}), "unknown option -qn");  // no bundling
    EXPECT_EQ(error_of({"--qu", "f"}), "unknown option --qu");  // no abbreviations
}

TEST(Options, MissingValues) {
    EXPECT_EQ(error_of({"f", "--mem-mb"}), "--mem-mb needs a number");
    EXPECT_EQ(error_of({"f", "-m"}), "-m needs a number");
    EXPECT_EQ(error_of({"f", "--out"}), "--out needs a value");
}

TEST(Options, AFlagTakesNoValue) { EXPECT_EQ(error_of({"--quick=yes", "f"}), "--quick takes no value"); }

TEST(Options, NumbersAreReadStrictly) {
    const std::string expected = " (expected a whole number 1..65536)";
    for (std::string bad : {"12x", " 12", "12 ", "+12", "-1", "", "0x10", "1e3", "99999999999999999999999"})
        EXPECT_EQ(error_of({"--mem-mb", bad, "f"}), "bad value for --mem-mb: " + bad + expected) << bad;
    EXPECT_EQ(error_of({"-n", "18446744073709551616", "f"}),
              "bad value for -n: 18446744073709551616 (expected a whole number 0..)");
    EXPECT_EQ(parse({"-n", "18446744073709551615", "f"}).whole("count", 0), 18446744073709551615u);
    EXPECT_EQ(error_of({"--offset", "1.5", "f"}), "bad value for --offset: 1.5 (expected a whole number -5..5)");
    EXPECT_EQ(error_of({"-d", "nan", "f"}), "bad value for -d: nan (expected a number 0.1..3600)");
    EXPECT_EQ(error_of({"-d", "1s", "f"}), "bad value for -d: 1s (expected a number 0.1..3600)");
}

TEST(Options, RangesHoldTheirBounds) {
    EXPECT_EQ(parse({"--mem-mb", "1", "f"}).whole("mem-mb", 0), 1u);
    EXPECT_EQ(parse({"--mem-mb", "65536", "f"}).whole("mem-mb", 0), 65536u);
    EXPECT_EQ(error_of({"--mem-mb", "0", "f"}), "bad value for --mem-mb: 0 (expected a whole number 1..65536)");
    EXPECT_NE(error_of({"--mem-mb", "65537", "f"}), "");
    EXPECT_EQ(parse({"--offset", "-5", "f"}).integer("offset", 0), -5);
    EXPECT_NE(error_of({"--offset", "6", "f"}), "");
    EXPECT_NE(error_of({"--offset", "-6", "f"}), "");
    EXPECT_DOUBLE_EQ(parse({"-d", "3600", "f"}).real("interval", 0), 3600);
    EXPECT_NE(error_of({"-d", "0.09", "f"}), "");
    EXPECT_NE(error_of({"-d", "inf", "f"}), "");
}

TEST(Options, ChoicesAreChecked) {
    EXPECT_EQ(error_of({"--mode", "turbo", "f"}), "bad value for --mode: turbo (expected fast or slow)");
}

TEST(Options, ArgumentsAreCounted) {
    EXPECT_EQ(error_of({}), "missing FILE...");
    EXPECT_EQ(error_of({"a", "b", "c"}), "unexpected argument c");
    EXPECT_EQ(parse({"a", "b"}).positional.size(), 2u);
}

// --help asks for no arguments: the tool prints its usage instead.
TEST(Options, HelpNeedsNoArguments) {
    EXPECT_TRUE(parse({"--help"}).flag("help"));
    EXPECT_TRUE(parse({"-h"}).flag("help"));
}

TEST(Options, UsageIsMadeFromTheTable) {
    const std::string u = vgpu::usage(table());
    EXPECT_NE(u.find("usage: tool [-o DIR] [--mode fast|slow] [-m MB] [-n N] [--offset K] [-d S] [-q] FILE...\n"),
              std::string::npos)
        << u;
    EXPECT_NE(u.find("A tool of the tests.\n"), std::string::npos);
    // The help text in column 30.
    EXPECT_NE(u.find("\n  -m, --mem-mb MB             memory\n"), std::string::npos) << u;
    EXPECT_NE(u.find("\n      --mode fast|slow        how\n"), std::string::npos) << u;
    EXPECT_NE(u.find("\n  -h, --help                  print this help and exit\n"), std::string::npos) << u;
}

TEST(Options, ReadNumberTakesAllOrNothing) {
    unsigned int v = 9;
    EXPECT_TRUE(vgpu::read_number("42", v));
    EXPECT_EQ(v, 42u);
    EXPECT_FALSE(vgpu::read_number("4294967296", v));
    EXPECT_FALSE(vgpu::read_number("42 ", v));
    EXPECT_FALSE(vgpu::read_number("", v));
}

// Asking for a value as another kind than the table's is a bug, caught.
TEST(Options, AskingForTheWrongKindThrows) {
    auto a = parse({"--out", "x", "f"});
    EXPECT_THROW(a.whole("out", 0), std::bad_variant_access);
}

namespace {

struct Settings {
    std::string out;
    bool help = false;
};

Settings parse_settings(const std::vector<std::string>& argv) {
    const auto a = parse(argv);
    return {a.text("out"), a.flag("help")};
}

// parse_main() over a command line given as main() has it.
std::optional<Settings> parse_main(std::vector<std::string> words, int& status) {
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    return vgpu::parse_main(table(), parse_settings, static_cast<int>(argv.size()), argv.data(), status);
}

}  // namespace

// What main() does with the settings, a usage error (2) and --help (0).
TEST(Options, ParseMainGivesTheExitStatus) {
    int status = -1;
    auto s = parse_main({"tool", "-o", "d", "f"}, status);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->out, "d");
    EXPECT_EQ(status, -1);
    testing::internal::CaptureStderr();
    EXPECT_FALSE(parse_main({"tool", "--bad", "f"}, status).has_value());
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(status, 2);
    EXPECT_EQ(err.rfind("tool: unknown option --bad\n\nusage: tool ", 0), 0u) << err;
    testing::internal::CaptureStdout();
    EXPECT_FALSE(parse_main({"tool", "--help"}, status).has_value());
    EXPECT_NE(testing::internal::GetCapturedStdout().find("options:\n"), std::string::npos);
    EXPECT_EQ(status, 0);
}
