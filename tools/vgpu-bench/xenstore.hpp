// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// A guest's minimal XenStore reader: the xenstore wire protocol over the
// guest kernel's /dev/xen/xenbus (a test bed guest has no xenstore
// tools).  make bench uses it to take turns with dom0.
#pragma once

#include <optional>
#include <string>

namespace bench {

// The value of @key, relative to the guest's /local/domain/<id>, or
// std::nullopt when it does not exist.  Throws on a transport error.
std::optional<std::string> xs_read(const std::string& key);

// Waits until @key reads @value; false after @seconds.
bool xs_wait(const std::string& key, const std::string& value, int seconds);

}  // namespace bench
