// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// copy.hpp - the CPU's part of a staged copy (Buffer::write and read):
// memory the next reader is the engine's DMA or the program, not this
// CPU's cache.
#pragma once

#include <cstddef>

namespace vgpu::detail {

// Copies @n bytes from @src to @dst (not overlapping) with stores that
// bypass the CPU's caches where the CPU has them (x86-64: SSE2's
// non-temporal stores, then a store fence), memcpy() elsewhere and for
// a copy too small to gain from it: no read of the destination's lines
// before they are written, and a copy that does not evict what the
// program holds in the cache.
void stream_copy(void* dst, const void* src, size_t n) noexcept;

// The staging chunk and whether copies stream, as the environment says
// (VGPU_STAGING_CHUNK_KB, VGPU_STAGING_STREAM; Documentation/design.rst),
// read once.
size_t staging_chunk_bytes(size_t dflt) noexcept;
bool staging_stream() noexcept;

}  // namespace vgpu::detail
