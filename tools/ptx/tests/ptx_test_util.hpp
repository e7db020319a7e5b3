// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// What the PTX compiler's tests share: PTX text to a compiled program
// (parsed and checked first, as the runtime does).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "ptx_check.hpp"
#include "ptx_compile.hpp"
#include "ptx_parser.hpp"

namespace gpuvm::ptx::test {

inline Program compile_text(const std::string& text) {
    auto m = parse(text);
    auto errs = check(m);
    if (!errs.empty())
        throw std::runtime_error(errs.front().text());
    return compile(m);
}

// The text of the file at @p ("" if it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// Whether @ptxas assembles @text for sm_75 (in a file of its own under
// the temporary directory, removed after).
inline bool ptxas_accepts(const std::string& ptxas, const std::string& text) {
    namespace fs = std::filesystem;
    fs::path tmp = fs::temp_directory_path() / ("ptx-test-" + std::to_string(getpid()));
    fs::create_directories(tmp);
    std::ofstream(tmp / "t.ptx") << text;
    std::string cmd = ptxas + " -arch=sm_75 " + (tmp / "t.ptx").string() + " -o " + (tmp / "t.cubin").string();
    const bool ok = std::system(cmd.c_str()) == 0;
    fs::remove_all(tmp);
    return ok;
}

}  // namespace gpuvm::ptx::test
