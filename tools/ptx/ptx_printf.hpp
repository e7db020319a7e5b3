// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// ptx_printf.hpp - device printf and assert in a module's own PTX, for a
// GPU that runs that PTX itself (vgpu-engined's workers,
// Documentation/engines.rst): the calls of vprintf and __assertfail,
// which the driver would serve with its own buffer in the worker's
// process, append the records GPUvm's runtime prints (ptx_compile.hpp,
// kPrintf*) to a buffer in device memory the runtime reads back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuvm::ptx {

// A format string of the module at its device address, and the bytes of
// arguments it reads (each argument aligned to its size, as CUDA lays
// them out; at most kPrintfArgBytes).
struct PrintfFormat {
    uint64_t va = 0;
    uint32_t arg_bytes = 0;
};

// The most formats define_printf() tells apart (others: kPrintfArgBytes).
constexpr size_t kMaxPrintfFormats = 1024;

// @text with its .extern declarations of vprintf and __assertfail made
// definitions of __gpuvm_vprintf and __gpuvm_assertfail, and every other
// use of the two names renamed to them; the rest of the text unchanged.
// Each call appends one record (kPrintfRecord bytes) to the buffer at
// device address @buffer (a u64 count at 0, records from kPrintfHeader,
// as the ISA's device_printf() does), dropped where it does not fit
// (the count still grows).  A printf record holds as many argument
// bytes as its format (@formats, by the format's address) reads, or
// kPrintfArgBytes for a format not among them, copied 4 bytes at a time
// from the argument buffer; an assert's record (and the buffer's
// kPrintfAssertFlag word, set even where the record does not fit) is
// followed by the thread's exit (the runtime reports cudaErrorAssert once it reads the
// buffer: the context stays usable to read it back).
//
// std::nullopt, with the reason in @why, where the rewrite would not be
// faithful: a declaration of either name that is not the extern one
// with CUDA's parameters, a definition of either, text already naming
// __gpuvm_vprintf or __gpuvm_assertfail, or text that does not lex.
// Text naming neither comes back unchanged.
std::optional<std::string> define_printf(std::string_view text, uint64_t buffer,
                                         const std::vector<PrintfFormat>& formats, std::string* why);

}  // namespace gpuvm::ptx
