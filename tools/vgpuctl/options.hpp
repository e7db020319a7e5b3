// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl's options and its configuration file, apart from XenStore so
// that they build and are tested anywhere.
#pragma once

#include <istream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace vgpuctl {

// A command line (or a configuration line) that cannot be right.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Options {
    std::string mode = "hp";
    unsigned int devid = 0;
    unsigned int timeout_s = 10;
    std::string config = "/etc/gpuvm/vgpu.conf";
    std::map<std::string, std::string> quotas;  // XenStore key -> value
    std::vector<std::string> args;
};

unsigned int parse_uint(const std::string& s, const char* what);

// The options and arguments of a subcommand (argv after it).
Options parse_args(const std::vector<std::string>& argv);

// One line of the configuration: a domain name and how to attach it.
struct ConfigEntry {
    std::string domain;
    Options options;
};

// The configuration file: one domain per line, its name and then the
// options of `vgpuctl attach`; '#' starts a comment.  Throws UsageError
// naming @name and the line of the first error; a domain named twice
// (same device) is an error.
std::vector<ConfigEntry> parse_config(std::istream& in, const std::string& name);

}  // namespace vgpuctl
