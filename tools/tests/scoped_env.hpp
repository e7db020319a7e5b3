// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// vgpu::test::ScopedEnv: an environment variable set (or unset) for one scope,
// as it was before after it.  For the tests of every knob read from the
// environment.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace vgpu::test {

class ScopedEnv {
public:
    // @value null: unset for the scope.
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* v = std::getenv(name))
            old_ = v;
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~ScopedEnv() {
        if (old_)
            setenv(name_, old_->c_str(), 1);
        else
            unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace vgpu::test
