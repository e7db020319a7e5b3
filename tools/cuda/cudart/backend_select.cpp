// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend_select.cpp - which devices a process has and the backend of
// each (backend.hpp: list_devices, make_backend).
#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "backend.hpp"
#include "vgpu/vgpu.hpp"

namespace gpuvm::cudart {
namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// The render nodes of the vgpu backend, one a device: the node
// GPUVM_CUDA_NODE or VGPU_DEVICE names (the only device, as before there
// were several), else GPUvm's render nodes (libvgpu's Device::list:
// sysfs, no node opened).
std::vector<std::string> vgpu_nodes() {
    if (!env("GPUVM_CUDA_NODE").empty())
        return {""};  // the one node it names (backend_vgpu.cpp, open_node)
    if (std::string named = env("VGPU_DEVICE"); !named.empty())
        return {named};
    auto nodes = vgpu::Device::list();
    if (nodes.empty())
        nodes.push_back("");  // none found: opening device 0 says why
    return nodes;
}

// One entry of CUDA_VISIBLE_DEVICES: an index of the @enumerated devices
// not taken before, else -1 (spaces around it allowed).
int visible_index(std::string s, int enumerated, const std::vector<int>& taken) {
    s.erase(0, s.find_first_not_of(' '));
    s.erase(s.find_last_not_of(' ') + 1);
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 4)
        return -1;
    int i = std::stoi(s);
    if (i >= enumerated || std::find(taken.begin(), taken.end(), i) != taken.end())
        return -1;
    return i;
}

}  // namespace

std::vector<int> visible_devices(const char* cuda_visible_devices, int enumerated) {
    std::vector<int> out;
    if (!cuda_visible_devices) {
        for (int i = 0; i < enumerated; i++)
            out.push_back(i);
        return out;
    }
    std::string v = cuda_visible_devices;
    for (size_t start = 0; start <= v.size();) {
        size_t end = std::min(v.find(',', start), v.size());
        int i = visible_index(v.substr(start, end - start), enumerated, out);
        if (i < 0)
            break;  // an invalid entry ends the list, as CUDA's
        out.push_back(i);
        start = end + 1;
    }
    return out;
}

namespace {

// GPUVM_CUDA_DEVICES: how many devices an in-process backend emulates.
int emulated_count() {
    std::string s = env("GPUVM_CUDA_DEVICES");
    if (s.empty())
        return 1;
    char* end = nullptr;
    long n = std::strtol(s.c_str(), &end, 10);
    if (*end || n < 1 || n > kMaxDevices)
        throw std::runtime_error("GPUVM_CUDA_DEVICES=" + s + ": not a number of devices from 1 to " +
                                 std::to_string(kMaxDevices));
    return static_cast<int>(n);
}

}  // namespace

DeviceList list_devices() {
    DeviceList l;
    l.kind = env("GPUVM_CUDA_BACKEND");
    if (l.kind.empty())
        l.kind = "vgpu";
    std::vector<std::string> nodes;
    int enumerated;
    // CUDA_VISIBLE_DEVICES selects among the devices GPUvm enumerates; not
    // a node named by VGPU_DEVICE or GPUVM_CUDA_NODE (as before there were
    // several), nor the engine backends' on a GPU, whose NVIDIA driver (in this
    // process and its workers) applies it to the physical GPUs.
    bool selectable;
    if (l.kind == "vgpu") {
        nodes = vgpu_nodes();
        enumerated = static_cast<int>(nodes.size());
        selectable = env("GPUVM_CUDA_NODE").empty() && env("VGPU_DEVICE").empty();
    } else if (l.kind == "interp" || l.kind == "engine" || l.kind == "engine-interp" ||
               l.kind == "engine-workers" || l.kind == "engine-interp-workers" || l.kind == "core" ||
               l.kind == "core-interp") {
        enumerated = emulated_count();
        selectable = l.kind != "engine" && l.kind != "engine-workers" && l.kind != "core";
    } else {
        throw std::runtime_error("GPUVM_CUDA_BACKEND=" + l.kind +
                                 ": not a backend (vgpu, interp, engine, engine-interp, engine-workers, "
                                 "engine-interp-workers, core, core-interp)");
    }
    auto visible = visible_devices(selectable ? std::getenv("CUDA_VISIBLE_DEVICES") : nullptr, enumerated);
    if (visible.size() > static_cast<size_t>(kMaxDevices))
        visible.resize(kMaxDevices);
    if (visible.empty())
        throw std::runtime_error("CUDA_VISIBLE_DEVICES=" + env("CUDA_VISIBLE_DEVICES") + " leaves none of the " +
                                 std::to_string(enumerated) + " devices");
    for (int i : visible)
        if (!nodes.empty())
            l.nodes.push_back(nodes[static_cast<size_t>(i)]);
    l.count = static_cast<int>(visible.size());
    return l;
}

std::unique_ptr<Backend> make_backend(const DeviceList& l, int index) {
    if (l.kind == "vgpu")
        return make_vgpu_backend(l.nodes.at(index), index, l.count);
    if (l.kind == "interp")
        return make_interp_backend(index, l.count);
    if (l.kind == "core" || l.kind == "core-interp")
        return make_core_backend(l.kind == "core", index, l.count);
    return make_engine_backend(l.kind, index, l.count);
}

VaRange device_va_range(uint64_t start, uint64_t end, int index, int count) {
    if (count <= 1 || end <= start)
        return {start, end};
    constexpr uint64_t kAlign = uint64_t{1} << 30;
    uint64_t slice = (end - start) / static_cast<uint64_t>(count) & ~(kAlign - 1);
    uint64_t first = start + slice * static_cast<uint64_t>(index);
    return {first, index == count - 1 ? end : first + slice};
}

}  // namespace gpuvm::cudart
