// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpuctl's options and its configuration file, apart from XenStore so
// that they build and are tested anywhere.
#pragma once

#include <istream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vgpu/options.hpp"

namespace vgpuctl {

// A command line (or a configuration line) that cannot be right.
using UsageError = vgpu::UsageError;

struct Options {
    std::string mode = "hp";
    unsigned int devid = 0;
    std::optional<unsigned int> timeout_s;  // detach, precopy: their defaults
    unsigned int rounds = 3;                // precopy: passes at most
    bool drop = false;                      // precopy: drop the copies
    std::string config = "/etc/gpuvm/vgpu.conf";
    // The backend's settings: XenStore key -> value (quota-*, weight, cap).
    std::map<std::string, std::string> settings;
    std::optional<unsigned int> engine;  // attach: the device (engine index)
    std::string policy;                  // attach: or "spread" / "pack"
    bool json = false;             // stats, top: JSON for scripts
    bool batch = false;            // top: lines, no screen control
    double interval_s = 1.0;       // top: seconds between samples
    unsigned int iterations = 0;   // top: samples to print; 0: until stopped
    std::vector<std::string> args;
};

unsigned int parse_uint(const std::string& s, const char* what);

// Where sysfs shows the setting of XenStore key @key, relative to a
// guest's backend device ("quota-devmem-mb" -> "quota/devmem_mb",
// "weight" -> "sched/weight").
std::string sysfs_attr_of(const std::string& key);

// The options and arguments of a subcommand (argv after it).  Every
// subcommand takes the same table; each uses the options it needs.
Options parse_args(const std::vector<std::string>& argv);

// The options' lines of the usage, from the table parse_args() reads.
std::string options_help();

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
