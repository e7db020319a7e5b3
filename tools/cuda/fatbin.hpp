// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fatbin.hpp - reader of NVIDIA fatbinaries: the device code that nvcc
// embeds in a program (the .nv_fatbin section, handed to the CUDA runtime
// by __cudaRegisterFatBinary), so that GPUvm's CUDA runtime can take the
// PTX out of a program built with `nvcc -cudart shared` and JIT it.  Every
// size and offset in the input is checked against the bytes that hold it:
// malformed input gives a FatbinError that says what is wrong and where,
// never a crash or a read out of bounds.
//
// ---------------------------------------------------------------------------
// The format.  All integers are little-endian; offsets are in bytes.  Facts
// marked [v] were verified on the output of nvcc/fatbinary 13.0 (V13.0.88:
// `nvcc -fatbin` in every -compress-mode, -G, -lineinfo, -gencode for
// sm_75/90/90a/100/100f/120 and lto_75, `fatbinary --ident/--cmdline/
// --host/-32/-g/-compress-all`, objects and executables built with
// `-cudart shared`); the others are from the toolkit's headers or public
// readers and are noted as such.
//
// Wrapper (what __cudaRegisterFatBinary(void*) receives; it lives in the
// .nvFatBinSegment section; /usr/local/cuda/include/fatbinary_section.h):
//   0x00 u32  magic        0x466243B1 (FATBINC_MAGIC)
//   0x04 u32  version      1 (FATBINC_VERSION); 2 (FATBINC_LINK_VERSION)
//                          for -rdc code, whose fatbin lives in the
//                          __nv_relfatbin section instead
//   0x08 ptr  data         the fatbin (header below) of this translation
//                          unit, inside .nv_fatbin [v: relocation
//                          R_X86_64_64 .nv_fatbin+0 in a -cudart shared .o]
//   0x10 ptr  filename_or_fatbins  0 for version 1 [v]
//
// .nv_fatbin section: the fatbins of the program's translation units
// (plus one made by nvlink for the device-link step) back to back [v: an
// executable of two .cu files holds three, each starting where the last
// one ended; every fatbin's size is a multiple of 8, the section is
// 8-aligned].  This reader also skips runs of zero bytes between and after
// fatbins (a linker's alignment padding; never seen).
//
// Fatbin header (16 bytes):
//   0x00 u32  magic        0xBA55ED50 [v]
//   0x04 u16  version      1 [v]
//   0x06 u16  header size  16 [v]; the entries start here (this reader
//                          accepts >= 16 and skips the rest)
//   0x08 u64  size         bytes of entries after the header [v]; the
//                          entries fill it exactly [v]
//
// Entry header (at least 0x40 bytes; the payload follows it):
//   0x00 u16  kind         1 PTX, 2 ELF (cubin) [v], 8 LTO IR (-gencode
//                          code=lto_NN) [v]; this reader skips kinds other
//                          than 1 and 2
//   0x02 u16  (unknown)    always 0x0101 [v]; not checked
//   0x04 u32  header size  0x40 plain ELF, 0x50 plain PTX, more with an
//                          identifier or options (0x48..0x80 seen) [v]
//   0x08 u64  payload size bytes after the header up to the next entry:
//                          the (compressed) payload padded to 8 [v]
//   0x10 u32  compressed size   bytes of compressed payload; 0 when the
//                          entry is not compressed [v]
//   0x14 u32  options offset    0 or the offset, from the start of the
//                          entry, of an options descriptor {u32 offset,
//                          u32 size} locating the options (offsets from
//                          the entry's start, inside its header) [v]:
//                          for PTX the ptxas options as text without NUL
//                          (fatbinary --cmdline; " -g --dont-merge-
//                          basicblocks --return-at-end " with nvcc -G),
//                          e.g. descriptor at 0x40 = {0x48, 0} in every
//                          plain PTX entry; sm_100+ ELF entries carry 0x24
//                          bytes of binary data there (meaning unknown)
//   0x18 u16  minor        PTX ISA version of a PTX entry (".version
//   0x1a u16  major        9.0" from nvcc 13: 9, 0) [v]; 1.8 for cubins
//                          (cuobjdump's "code version") [v], 1.65 for LTO IR
//   0x1c u32  arch         SM number: 75 for sm_75/compute_75, 90 for
//                          sm_90a (the "a" is a flag), 100 for sm_100f [v]
//   0x20 u32  identifier offset  from the start of the entry, inside its
//   0x24 u32  identifier size    header; 0/0 when none [v].  The source
//                          file name ("k.cu") with -G or -lineinfo,
//                          fatbinary --ident [v]; not NUL-terminated
//   0x28 u64  flags        (below)
//   0x30 u64  (unknown)    0 for PTX and ELF [v]; a 32-bit value (hash?)
//                          in LTO IR entries [v]; not checked
//   0x38 u64  uncompressed size  of the payload; 0 when not compressed [v]
//   [0x40..header size)    the options descriptor and the strings above
//
// Flags (0x28):
//   0x00000001  64-bit code (fatbinary -64; clear with -32) [v]
//   0x00000002  debug (nvcc -G, fatbinary -g) [v]
//   0x00000004  producer CUDA, 0x00000008 producer OpenCL (public readers;
//               never set by nvcc 13 [v])
//   0x00000010  host Linux, 0x20 host Mac, 0x40 host Windows (fatbinary
//               --host) [v]
//   0x00002000  payload compressed with LZ4 (-compress-mode=speed) [v]
//   0x00008000  payload compressed with zstd (default, size, balance) [v]
//   0x00010000  set on LTO IR entries [v]
//   0x00100000  arch-specific target (sm_90a, compute_90a) [v]
//   0x00200000  family target (sm_100f, compute_100f) [v]
//   0x01000000  set on sm_100+ ELF entries, with the binary options [v]
//   This reader uses only the two compression bits; both at once is an
//   error.
//
// Payload.  Uncompressed: the payload bytes (padded to 8 with NULs).
// Compressed: the first "compressed size" bytes [v: the rest is NUL
// padding], decompressing to exactly "uncompressed size" bytes:
//   * zstd: one or more standard zstd frames (magic 28 B5 2F FD; nvcc's
//     frames declare their content size) [v];
//   * LZ4: a raw LZ4 *block* (no frame header, no checksum), decoded with
//     LZ4_decompress_safe [v].
// Which entries are compressed: by default (zstd) and with
// -compress-mode=speed (LZ4) only PTX and debug (-G) images; with
// -compress-mode=size, or fatbinary -compress-all, also cubins [v];
// --no-compress or -compress-mode=none: nothing [v].
// PTX payloads end in at least one NUL (the uncompressed size counts
// one) [v]; FatbinEntry::data drops the trailing NULs.  fatbinary stores
// the PTX *minified* [v]: every `//` comment removed, leading and trailing
// blanks of each line removed, runs of spaces and tabs made one space,
// line breaks kept; so the PTX is not byte-identical to `nvcc -ptx`
// output, though it compiles to the same code.
//
// Limits of this reader: a wrapper's fatbin is at most kMaxFatbinBytes;
// the decompressed payloads of one parse_fatbin call are at most
// kMaxDecompressedBytes together; LZ4 can expand at most 255:1, so a
// larger declared uncompressed size is rejected before any allocation;
// zstd output is produced incrementally, so memory follows the data
// actually decoded, not the declared size.
// ---------------------------------------------------------------------------
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpuvm::cuda {

// Malformed fatbin, wrapper or ELF input (and read_file's I/O errors).
// what() says what is wrong and at which offset of the input.
class FatbinError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr uint32_t kFatbinMagic = 0xBA55ED50u;
inline constexpr uint32_t kFatbinWrapperMagic = 0x466243B1u;
inline constexpr uint64_t kMaxFatbinBytes = 1ull << 30;
inline constexpr uint64_t kMaxDecompressedBytes = 1ull << 30;

// Entry flags (see the format above).
namespace fatbin_flag {
inline constexpr uint64_t k64Bit = 0x1;
inline constexpr uint64_t kDebug = 0x2;
inline constexpr uint64_t kHostLinux = 0x10;
inline constexpr uint64_t kHostMac = 0x20;
inline constexpr uint64_t kHostWindows = 0x40;
inline constexpr uint64_t kCompressedLz4 = 0x2000;
inline constexpr uint64_t kCompressedZstd = 0x8000;
inline constexpr uint64_t kArchSpecific = 0x100000;
inline constexpr uint64_t kFamilySpecific = 0x200000;
} // namespace fatbin_flag

struct FatbinEntry {
    enum class Kind : uint16_t { Ptx = 1, Elf = 2 };
    Kind kind = Kind::Ptx;
    uint32_t sm = 0;          // e.g. 75
    uint32_t ptx_major = 0;   // PTX ISA version of a PTX entry; for
    uint32_t ptx_minor = 0;   // cubins the ELF code version (1.8)
    // Decompressed payload: PTX text without trailing NULs, or the cubin
    // bytes (an uncompressed cubin keeps its NUL padding to 8 bytes).
    std::string data;
    // The entry's identifier (source file name with -G/-lineinfo), or "".
    std::string identifier;
    // PTX entries: the ptxas options recorded by the compiler (e.g.
    // " -g --dont-merge-basicblocks --return-at-end " with -G), which a
    // JIT should pass on; "" for none.  Raw bytes for other entries.
    std::string options;
    uint64_t flags = 0;       // the entry's flags word, as stored
};

// Parses a .nv_fatbin blob: one or more fatbins back to back (zero bytes
// between and after them are skipped).  Returns the PTX and ELF entries of
// all of them in order (other kinds, e.g. LTO IR, are skipped), with their
// payloads decompressed.  All or nothing: any malformed, truncated or
// inconsistent fatbin throws FatbinError, so a blob cut short anywhere
// except at a fatbin boundary throws; an empty blob (or one of zeros
// only) throws too.
std::vector<FatbinEntry> parse_fatbin(std::span<const uint8_t> blob);

// Parses the fatbin of a __fatBinC_Wrapper_t, the argument of
// __cudaRegisterFatBinary.  Checks the wrapper's magic and version (1 or
// 2), then the fatbin header at `data` (magic, version, header size), and
// reads at most kMaxFatbinBytes from there.  The pointer must be to the
// program's own memory: the wrapper and the fatbin's declared extent are
// trusted to be readable once their headers check out.
std::vector<FatbinEntry> parse_wrapper(const void* wrapper);

// The contents of the .nv_fatbin section of a little-endian ELF64 file
// (executable, shared object or relocatable object).  FatbinError if the
// ELF is malformed or has no such section (or it is SHT_NOBITS).
std::vector<uint8_t> fatbin_section(std::span<const uint8_t> elf);

// The whole file; FatbinError if it cannot be read.
std::vector<uint8_t> read_file(const std::filesystem::path& path);

// The PTX entry to JIT: the one for the highest SM (a PTX for
// compute_NN is the best input for devices of capability >= NN, and it
// can use more of them); among those, the highest PTX ISA version; among
// those, the first.  nullptr if there is no PTX entry.
const FatbinEntry* best_ptx(const std::vector<FatbinEntry>& entries);

// The same among the PTX entries with sm <= max_sm (the ones a device of
// capability max_sm, e.g. 86, can JIT); nullptr if none.
const FatbinEntry* best_ptx(const std::vector<FatbinEntry>& entries, uint32_t max_sm);

} // namespace gpuvm::cuda
