// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// cuda_native.cpp - a guest's own code on the GPU: the LAUNCH's PTX
// descriptor checked, and a worker's window of guest addresses
// (cuda_native.hpp).
#include "cuda_native.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cstring>
#include <cstdlib>
#include <iostream>

#include "vgpu/env.hpp"
#include "vgpu_drm.h"

namespace vgpu::engine {

using namespace cu;

std::string PtxLaunch::key() const {
    return "ptx:" + std::to_string(ptx) + ":" + std::to_string(ptx_size) + ":" + std::to_string(ptx_hash);
}

uint64_t ptx_hash(const void* p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ static_cast<const uint8_t*>(p)[i]) * 0x100000001b3ull;
    return h;
}

bool ptx_text_ok(const char* p, size_t n) { return n >= 2 && !p[n - 1] && std::strlen(p) == n - 1; }

std::optional<PtxLaunch> parse_ptx_launch(const uint8_t* d, size_t n, std::string* why) {
    drm_vgpu_ptx_launch h;
    auto no = [&](const char* w) {
        *why = w;
        return std::nullopt;
    };
    if (n < sizeof(h))
        return no("shorter than its header");
    std::memcpy(&h, d, sizeof(h));
    if (h.magic != DRM_VGPU_PTX_MAGIC || h.version != DRM_VGPU_PTX_VERSION)
        return no("not a PTX launch of version 1");
    for (uint32_t r : h.reserved)
        if (r)
            return no("reserved fields not zero");
    if (h.ptx_size < 2 || h.ptx_size > DRM_VGPU_PTX_MAX_TEXT)
        return no("a PTX text of no allowed size");
    if (!h.entry_len || h.entry_len > DRM_VGPU_PTX_MAX_ENTRY || h.param_size > DRM_VGPU_PTX_MAX_PARAMS)
        return no("an entry name or parameters of no allowed size");
    if (uint64_t{sizeof(h)} + h.entry_len + h.param_size != n)
        return no("a size that is not the header, the name and the parameters");
    if (h.ptx + h.ptx_size < h.ptx || h.ptx + h.ptx_size > (uint64_t{1} << 40))
        return no("a PTX text beyond the address space");
    PtxLaunch l;
    l.ptx = h.ptx;
    l.ptx_size = h.ptx_size;
    l.ptx_hash = h.ptx_hash;
    l.shared = h.shared_size;
    l.stack = h.stack_size;
    l.entry.assign(reinterpret_cast<const char*>(d) + sizeof(h), h.entry_len);
    for (char c : l.entry)  // PTX identifiers: [A-Za-z0-9_$] (and a leading %)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%'))
            return no("an entry name that is no PTX identifier");
    l.params.assign(d + sizeof(h) + h.entry_len, d + n);
    return l;
}

uint32_t ptx_stack_bound() {
    const vgpu::EnvNumber kb = vgpu::env_number("VGPU_PTX_STACK_KB", 0, DRM_VGPU_PTX_MAX_STACK / 1024);
    if (!kb.set)
        return DRM_VGPU_PTX_MAX_STACK;
    if (!kb.ok) {
        static std::atomic<bool> said;  // the line once, whichever thread asks
        if (!said.exchange(true))
            std::cerr << "vgpu-engined: VGPU_PTX_STACK_KB=" << std::getenv("VGPU_PTX_STACK_KB") << " is not 0 to "
                      << DRM_VGPU_PTX_MAX_STACK / 1024 << ": no call stack for a guest's PTX\n";
        return 0;
    }
    // A stack is a power of two (what the core rounds CTX_STACK up to);
    // the base one every context has already is no stack to give.
    const uint64_t bytes = std::bit_floor(kb.value) * 1024;
    return bytes > DRM_VGPU_PTX_BASE_STACK ? static_cast<uint32_t>(bytes) : 0;
}

uint64_t gpu_threads(const Api& a, CUdevice dev) {
    int sms = 0, per_sm = 0;
    if (a.DeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) != CUDA_SUCCESS ||
        a.DeviceGetAttribute(&per_sm, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, dev) != CUDA_SUCCESS ||
        sms <= 0 || per_sm <= 0)
        return 0;
    return std::min(static_cast<uint64_t>(sms) * static_cast<uint64_t>(per_sm), uint64_t{1} << 24);
}

uint64_t worker_ctx_mem() {
    const vgpu::EnvNumber mb = vgpu::env_number("VGPU_CTX_MEM_MB", 0, kCtxMemMaxMb);
    if (mb.ok)
        return mb.value << 20;
    if (mb.set) {
        static std::atomic<bool> said;
        if (!said.exchange(true))
            std::cerr << "vgpu-engined: VGPU_CTX_MEM_MB=" << std::getenv("VGPU_CTX_MEM_MB") << " is not 0 to "
                      << kCtxMemMaxMb << ": " << kWorkerCtxMemMb << " MiB a context\n";
    }
    return kWorkerCtxMemMb << 20;
}

uint32_t fault_of(CUresult r) {
    switch (r) {
    case 700:  // CUDA_ERROR_ILLEGAL_ADDRESS
    case 717:  // CUDA_ERROR_INVALID_ADDRESS_SPACE
        return DRM_VGPU_FAULT_UNMAPPED;
    case 716:  // CUDA_ERROR_MISALIGNED_ADDRESS
        return DRM_VGPU_FAULT_MISALIGNED;
    default:  // an illegal instruction, a trap, a launch failure
        return DRM_VGPU_FAULT_ILLEGAL;
    }
}

GuestWindow::GuestWindow(const Api& a, CUdevice dev, uint64_t start, uint64_t end)
    : a_(a), dev_(dev), start_(start), end_(end), res_(a, start, end - start) {}

bool GuestWindow::map(uint64_t va, CUmemGenericAllocationHandle h, uint64_t size) {
    if (!size || va < start_ || va > end_ || size > end_ - va)
        return false;
    auto next = mapped_.lower_bound(va);
    if ((next != mapped_.end() && next->first < va + size) ||
        (next != mapped_.begin() && std::prev(next)->first + std::prev(next)->second > va))
        return false;
    CUresult r = a_.MemMap(va, size, 0, h, 0);
    if (r == CUDA_SUCCESS) {
        CUmemAccessDesc acc{};
        acc.location = {CU_MEM_LOCATION_TYPE_DEVICE, dev_};
        acc.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
        if ((r = a_.MemSetAccess(va, size, &acc, 1)) != CUDA_SUCCESS)
            a_.MemUnmap(va, size);
    }
    if (r != CUDA_SUCCESS) {
        std::cerr << "vgpu-engined: mapping at the guest's address " << std::hex << va << std::dec << ": "
                  << error("cuMemMap", r) << "\n";
        return false;
    }
    mapped_[va] = size;
    return true;
}

bool GuestWindow::unmap(uint64_t va) {
    auto it = mapped_.find(va);
    if (it == mapped_.end())
        return true;
    bool ok = a_.MemUnmap(va, it->second) == CUDA_SUCCESS;
    mapped_.erase(it);
    return ok;
}

void GuestWindow::clear() {
    while (!mapped_.empty())
        unmap(mapped_.begin()->first);
}

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%'; }

// Whether the directive @word (".global") stands at @at of @t as a
// directive: not part of an instruction (ld.global, cvta.to.global) or
// a longer name.
bool directive_at(const std::string& t, size_t at, size_t len) {
    return (at == 0 || !(ident_char(t[at - 1]) || t[at - 1] == '.')) &&
           (at + len == t.size() || !ident_char(t[at + len]));
}

// A declaration's state space: not a parameter's pointer attribute
// (".param .u64 .ptr .global .align 4 p", as some compilers write).
bool has_directive(const std::string& t, const char* word) {
    const size_t len = std::strlen(word);
    for (size_t at = t.find(word); at != std::string::npos; at = t.find(word, at + 1)) {
        size_t before = t.find_last_not_of(" \t\r\n", at ? at - 1 : 0);
        bool attribute = at && before != std::string::npos && before >= 3 && t.compare(before - 3, 4, ".ptr") == 0;
        if (directive_at(t, at, len) && !attribute)
            return true;
    }
    return false;
}

// @t with its comments blanked out (// to the line's end, /* ... */),
// so that none can hide or fake what follows.
std::string without_comments(const std::string& t) {
    std::string out = t;
    for (size_t i = 0; i + 1 < out.size();) {
        if (out[i] == '/' && out[i + 1] == '/') {
            size_t end = out.find('\n', i);
            end = end == std::string::npos ? out.size() : end;
            std::fill(out.begin() + i, out.begin() + end, ' ');
            i = end;
        } else if (out[i] == '/' && out[i + 1] == '*') {
            size_t end = out.find("*/", i + 2);
            end = end == std::string::npos ? out.size() : end + 2;
            std::fill(out.begin() + i, out.begin() + end, ' ');
            i = end;
        } else {
            i++;
        }
    }
    return out;
}

}  // namespace

// A few passes over the text (a guest's may be 64 MiB): no regex.
const char* ptx_not_runnable(const std::string& raw) {
    const std::string text = without_comments(raw);
    if (text.find('#') != std::string::npos)
        return "has preprocessor directives";
    if (has_directive(text, ".global") || has_directive(text, ".const"))
        return "declares variables of its own (.global or .const)";
    for (size_t at = text.find(".extern"); at != std::string::npos; at = text.find(".extern", at + 1)) {
        size_t next = text.find_first_not_of(" \t\r\n", at + 7);
        if (directive_at(text, at, 7) && next != std::string::npos && text.compare(next, 5, ".func") == 0 &&
            directive_at(text, next, 5))
            return "calls functions outside it (printf, malloc)";
    }
    return nullptr;
}

}  // namespace vgpu::engine
