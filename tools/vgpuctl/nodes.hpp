// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// The XenStore nodes of a vGPU (common/vgpuif.h): where they live, which
// domain a name means, and writing them for an attach.
#pragma once

#include <string>

#include "options.hpp"
#include "xenstore.hpp"

namespace vgpuctl {

// A domain given by id or by name, as xl accepts.  With @gone_ok, an id
// of a domain that no longer exists is accepted too (to clean up).
unsigned int domid_of(const XenStore& xs, const std::string& dom, bool gone_ok = false);

std::string backend_path(unsigned int domid, unsigned int devid);
std::string frontend_path(unsigned int domid, unsigned int devid);

// Writes the nodes of vgpu @o.devid for domain @domid (as xl writes a
// device's): the backend's, readable by the guest, and the frontend's,
// owned by it.
void attach_nodes(XenStore& xs, unsigned int domid, const Options& o);

// @o with its --policy resolved to an engine, from vgpu-back's engines
// in sysfs and the vGPUs already placed (XenStore).
Options place(const XenStore& xs, const Options& o);

}  // namespace vgpuctl
