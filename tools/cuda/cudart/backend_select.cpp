// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// backend_select.cpp - which devices a process has and the backend of
// each (backend.hpp: list_devices, make_backend).
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

// "a,b,,c" -> {a, b, c}.
std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos)
            end = s.size();
        if (end > start)
            out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// The render nodes of the vgpu backend, one a device.
std::vector<std::string> vgpu_nodes() {
    if (!env("GPUVM_CUDA_NODE").empty())
        return {""};  // the one node it names (backend_vgpu.cpp, open_node)
    std::string listed = env("VGPU_DEVICE");
    if (listed.find(',') == std::string::npos)
        // One node named, or none: the first vgpu node (a device the
        // program has even where listing finds none, so that opening it
        // says why it cannot be used).
        return listed.empty() ? vgpu::Device::list() : std::vector<std::string>{listed};
    return split_commas(listed);
}

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
    if (l.kind == "vgpu") {
        l.nodes = vgpu_nodes();
        if (l.nodes.empty())
            l.nodes.push_back("");  // none found: opening device 0 says why
        if (l.nodes.size() > static_cast<size_t>(kMaxDevices))
            l.nodes.resize(kMaxDevices);
        l.count = static_cast<int>(l.nodes.size());
    } else if (l.kind == "interp" || l.kind == "engine" || l.kind == "engine-interp") {
        l.count = emulated_count();
    } else {
        throw std::runtime_error("GPUVM_CUDA_BACKEND=" + l.kind +
                                 ": not a backend (vgpu, interp, engine, engine-interp)");
    }
    return l;
}

std::unique_ptr<Backend> make_backend(const DeviceList& l, int index) {
    if (l.kind == "vgpu")
        return make_vgpu_backend(l.nodes.at(index), index, l.count);
    if (l.kind == "interp")
        return make_interp_backend(index, l.count);
    return make_engine_backend(l.kind == "engine", index, l.count);
}

uint64_t device_va_start(uint64_t start, uint64_t end, int index, int count) {
    if (count <= 1 || end <= start)
        return start;
    constexpr uint64_t kAlign = uint64_t{1} << 30;
    uint64_t slice = (end - start) / static_cast<uint64_t>(count) & ~(kAlign - 1);
    return start + slice * static_cast<uint64_t>(index);
}

}  // namespace gpuvm::cudart
