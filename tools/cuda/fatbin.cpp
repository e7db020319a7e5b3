// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// fatbin.cpp - the fatbinary reader (see fatbin.hpp for the format).  All
// reads go through Bytes, which checks every offset and length against the
// span it reads from with overflow-free arithmetic; sizes read from the
// input are never used before such a check.
#include "fatbin.hpp"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <tuple>

namespace gpuvm::cuda {
namespace {

std::string hex(uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[v & 0xf]);
        v >>= 4;
    } while (v);
    return "0x" + s;
}

[[noreturn]] void fail(const std::string& what, uint64_t off)
{
    throw FatbinError("fatbin: " + what + " at offset " + hex(off));
}

// A bounds-checked view of bytes.  base is the offset of data[0] in the
// caller's input, used only in messages.
class Bytes {
public:
    Bytes(std::span<const uint8_t> data, uint64_t base) : data_(data), base_(base) {}

    size_t size() const { return data_.size(); }
    uint64_t where(uint64_t off) const { return base_ + off; }

    bool has(uint64_t off, uint64_t len) const
    {
        return off <= data_.size() && len <= data_.size() - off;
    }
    void need(uint64_t off, uint64_t len, const std::string& what) const
    {
        if (!has(off, len))
            fail(what + " (" + hex(len) + " bytes) runs past the end of its " + hex(data_.size()) +
                     "-byte container",
                 where(off));
    }
    Bytes sub(uint64_t off, uint64_t len, const std::string& what) const
    {
        need(off, len, what);
        return Bytes(data_.subspan(off, len), base_ + off);
    }
    std::span<const uint8_t> span() const { return data_; }

    template <typename T> T get(uint64_t off, const char* what) const
    {
        need(off, sizeof(T), what);
        T v;
        std::memcpy(&v, data_.data() + off, sizeof(T));
        return v;  // little-endian host (x86-64, arm64)
    }
    uint16_t u16(uint64_t off, const char* what) const { return get<uint16_t>(off, what); }
    uint32_t u32(uint64_t off, const char* what) const { return get<uint32_t>(off, what); }
    uint64_t u64(uint64_t off, const char* what) const { return get<uint64_t>(off, what); }

private:
    std::span<const uint8_t> data_;
    uint64_t base_;
};

static_assert(std::endian::native == std::endian::little, "fatbins are little-endian");

constexpr uint64_t kFatbinHeaderSize = 16;
constexpr uint64_t kEntryHeaderMin = 0x40;
constexpr uint16_t kKindPtx = 1;
constexpr uint16_t kKindElf = 2;
constexpr uint64_t kCompressionMask = fatbin_flag::kCompressedLz4 | fatbin_flag::kCompressedZstd;
// LZ4's largest expansion: one 255 byte extends a match by 255 bytes.
constexpr uint64_t kLz4MaxRatio = 255;

struct ZstdDctxFree {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

std::string zstd_decompress(Bytes in, uint64_t out_size)
{
    std::unique_ptr<ZSTD_DCtx, ZstdDctxFree> dctx(ZSTD_createDCtx());
    if (!dctx)
        throw FatbinError("fatbin: out of memory for a zstd context");
    // A frame that claims more than the entry declares fails before any
    // allocation (zstd itself caps its window at 128 MiB by default).
    unsigned long long fcs = ZSTD_getFrameContentSize(in.span().data(), in.size());
    if (fcs == ZSTD_CONTENTSIZE_ERROR)
        fail("zstd payload is not a zstd frame", in.where(0));
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs > out_size)
        fail("zstd frame holds " + hex(fcs) + " bytes but the entry declares " + hex(out_size),
             in.where(0));

    // Decode incrementally: memory follows the bytes actually produced.
    // Once the declared size is reached, a 1-byte probe catches a payload
    // that would produce more.
    std::string out;
    ZSTD_inBuffer src{in.span().data(), in.size(), 0};
    size_t produced = 0;
    char probe = 0;
    for (;;) {
        const bool full = produced == out_size;
        if (!full && produced == out.size()) {
            uint64_t grow = std::max<uint64_t>(out.size(), 64 * 1024);
            out.resize(static_cast<size_t>(std::min<uint64_t>(out_size, out.size() + grow)));
        }
        ZSTD_outBuffer dst = full ? ZSTD_outBuffer{&probe, 1, 0}
                                  : ZSTD_outBuffer{out.data() + produced, out.size() - produced, 0};
        const size_t before_in = src.pos;
        const size_t ret = ZSTD_decompressStream(dctx.get(), &dst, &src);
        if (ZSTD_isError(ret))
            fail(std::string("zstd payload is corrupt: ") + ZSTD_getErrorName(ret),
                 in.where(src.pos));
        if (full && dst.pos)
            fail("zstd payload decompresses to more than the declared " + hex(out_size) + " bytes",
                 in.where(0));
        produced += full ? 0 : dst.pos;
        if (ret == 0 && src.pos == src.size)
            break;  // the last frame is complete
        if (dst.pos == 0 && src.pos == before_in)
            fail("zstd payload ends inside a frame", in.where(src.pos));
    }
    if (produced != out_size)
        fail("zstd payload decompresses to " + hex(produced) + " bytes, not the declared " +
                 hex(out_size),
             in.where(0));
    out.resize(produced);
    return out;
}

std::string lz4_decompress(Bytes in, uint64_t out_size)
{
    if (in.size() > static_cast<uint64_t>(LZ4_MAX_INPUT_SIZE) ||
        out_size > static_cast<uint64_t>(LZ4_MAX_INPUT_SIZE) ||
        out_size > in.size() * kLz4MaxRatio + 16)
        fail("LZ4 payload of " + hex(in.size()) + " bytes cannot decompress to the declared " +
                 hex(out_size),
             in.where(0));
    std::string out(static_cast<size_t>(out_size), '\0');
    int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in.span().data()), out.data(),
                                static_cast<int>(in.size()), static_cast<int>(out_size));
    if (n < 0)
        fail("LZ4 payload is corrupt or decompresses to more than the declared " + hex(out_size) +
                 " bytes",
             in.where(0));
    if (static_cast<uint64_t>(n) != out_size)
        fail("LZ4 payload decompresses to " + hex(static_cast<uint64_t>(n)) +
                 " bytes, not the declared " + hex(out_size),
             in.where(0));
    return out;
}

// A {offset, size} pair (offsets from the entry's start) naming bytes
// inside the entry header; "" for {0, 0}.
std::string header_string(Bytes hdr, uint32_t off, uint32_t len, const std::string& what)
{
    if (off == 0 && len == 0)
        return {};
    if (off < kEntryHeaderMin || !hdr.has(off, len))
        fail(what + " (offset " + hex(off) + ", " + hex(len) + " bytes) lies outside the " +
                 hex(hdr.size()) + "-byte entry header",
             hdr.where(0));
    auto s = hdr.span().subspan(off, len);
    return std::string(s.begin(), s.end());
}

// Parses one fatbin's entries (the bytes after its header).
void parse_entries(Bytes entries, std::vector<FatbinEntry>& out, uint64_t& budget)
{
    uint64_t off = 0;
    while (off < entries.size()) {
        const uint64_t start = off;
        if (!entries.has(off, kEntryHeaderMin))
            fail("entry header (0x40 bytes) runs past the end of the fatbin's " +
                     hex(entries.size()) + " bytes of entries",
                 entries.where(off));
        const uint16_t kind = entries.u16(off + 0x00, "entry kind");
        const uint32_t hsize = entries.u32(off + 0x04, "entry header size");
        const uint64_t psize = entries.u64(off + 0x08, "entry payload size");
        if (hsize < kEntryHeaderMin)
            fail("entry header size " + hex(hsize) + " is below the minimum 0x40",
                 entries.where(off));
        if (!entries.has(off, hsize))
            fail("entry header size " + hex(hsize) + " runs past the end of the fatbin",
                 entries.where(off));
        if (!entries.has(off + hsize, psize))
            fail("entry payload of " + hex(psize) + " bytes runs past the end of the fatbin",
                 entries.where(off));
        off += hsize + psize;
        if (kind != kKindPtx && kind != kKindElf)
            continue;  // LTO IR and kinds unknown to us

        Bytes hdr = entries.sub(start, hsize, "entry header");
        Bytes payload = entries.sub(start + hsize, psize, "entry payload");
        FatbinEntry e;
        e.kind = kind == kKindPtx ? FatbinEntry::Kind::Ptx : FatbinEntry::Kind::Elf;
        const uint32_t csize = hdr.u32(0x10, "compressed size");
        const uint32_t opt_desc = hdr.u32(0x14, "options offset");
        e.ptx_minor = hdr.u16(0x18, "minor version");
        e.ptx_major = hdr.u16(0x1a, "major version");
        e.sm = hdr.u32(0x1c, "arch");
        const uint32_t id_off = hdr.u32(0x20, "identifier offset");
        const uint32_t id_len = hdr.u32(0x24, "identifier size");
        e.flags = hdr.u64(0x28, "flags");
        const uint64_t usize = hdr.u64(0x38, "uncompressed size");

        e.identifier = header_string(hdr, id_off, id_len, "identifier");
        if (opt_desc != 0) {
            if (opt_desc < kEntryHeaderMin || !hdr.has(opt_desc, 8))
                fail("options descriptor at " + hex(opt_desc) + " lies outside the " +
                         hex(hsize) + "-byte entry header",
                     hdr.where(0));
            e.options = header_string(hdr, hdr.u32(opt_desc, "options offset"),
                                      hdr.u32(opt_desc + 4, "options size"), "options");
        }

        const uint64_t comp = e.flags & kCompressionMask;
        if (comp == kCompressionMask)
            fail("entry is flagged both LZ4- and zstd-compressed (flags " + hex(e.flags) + ")",
                 hdr.where(0));
        if (comp) {
            if (csize == 0 || csize > psize)
                fail("compressed size " + hex(csize) + " is 0 or exceeds the payload size " +
                         hex(psize),
                     hdr.where(0));
            if (usize == 0 || usize > budget)
                fail("uncompressed size " + hex(usize) + " is 0 or over the limit of " +
                         hex(budget) + " bytes left",
                     hdr.where(0));
            Bytes packed = payload.sub(0, csize, "compressed payload");
            e.data = comp == fatbin_flag::kCompressedZstd ? zstd_decompress(packed, usize)
                                                          : lz4_decompress(packed, usize);
            budget -= usize;
        } else {
            auto s = payload.span();
            e.data.assign(s.begin(), s.end());
        }
        if (e.kind == FatbinEntry::Kind::Ptx) {
            auto end = e.data.find_last_not_of('\0');
            e.data.resize(end == std::string::npos ? 0 : end + 1);
        }
        out.push_back(std::move(e));
    }
}

// Parses the fatbin at the start of blob; returns its total size.
uint64_t parse_one(Bytes blob, std::vector<FatbinEntry>& out, uint64_t& budget)
{
    if (!blob.has(0, kFatbinHeaderSize))
        fail("fatbin header (16 bytes) runs past the end of the blob", blob.where(0));
    const uint32_t magic = blob.u32(0, "magic");
    if (magic != kFatbinMagic)
        fail("bad fatbin magic " + hex(magic) + " (expected 0xba55ed50)", blob.where(0));
    const uint16_t version = blob.u16(4, "version");
    if (version != 1)
        fail("unsupported fatbin version " + hex(version) + " (expected 1)", blob.where(0));
    const uint16_t hsize = blob.u16(6, "header size");
    if (hsize < kFatbinHeaderSize)
        fail("fatbin header size " + hex(hsize) + " is below 16", blob.where(0));
    const uint64_t size = blob.u64(8, "size");
    if (!blob.has(hsize, size))
        fail("fatbin declares " + hex(size) + " bytes of entries after its " + hex(hsize) +
                 "-byte header, but the blob has only " + hex(blob.size()) + " bytes from here",
             blob.where(0));
    parse_entries(blob.sub(hsize, size, "fatbin entries"), out, budget);
    return hsize + size;
}

uint64_t skip_zeros(std::span<const uint8_t> blob, uint64_t off)
{
    while (off < blob.size() && blob[off] == 0)
        off++;
    return off;
}

} // namespace

std::vector<FatbinEntry> parse_fatbin(std::span<const uint8_t> blob)
{
    std::vector<FatbinEntry> out;
    uint64_t budget = kMaxDecompressedBytes;
    Bytes all(blob, 0);
    uint64_t off = skip_zeros(blob, 0);
    if (off == blob.size())
        fail("no fatbin in a blob of " + hex(blob.size()) + " bytes (empty or all zeros)", 0);
    while (off < blob.size()) {
        off += parse_one(all.sub(off, blob.size() - off, "fatbin"), out, budget);
        off = skip_zeros(blob, off);
    }
    return out;
}

std::vector<FatbinEntry> parse_wrapper(const void* wrapper)
{
    if (!wrapper)
        throw FatbinError("fatbin: wrapper pointer is null");
    struct Wrapper {
        uint32_t magic;
        uint32_t version;
        const void* data;
        const void* filename_or_fatbins;
    } w;
    std::memcpy(&w, wrapper, sizeof w);
    if (w.magic != kFatbinWrapperMagic)
        throw FatbinError("fatbin: bad wrapper magic " + hex(w.magic) + " (expected 0x466243b1)");
    if (w.version != 1 && w.version != 2)
        throw FatbinError("fatbin: unsupported wrapper version " + hex(w.version) +
                          " (expected 1 or 2)");
    if (!w.data)
        throw FatbinError("fatbin: wrapper's fatbin pointer is null");
    uint8_t hdr[kFatbinHeaderSize];
    std::memcpy(hdr, w.data, sizeof hdr);
    Bytes h(hdr, 0);
    if (h.u32(0, "magic") != kFatbinMagic)
        fail("bad fatbin magic " + hex(h.u32(0, "magic")) + " behind the wrapper (expected "
                                                            "0xba55ed50)",
             0);
    if (h.u16(4, "version") != 1)
        fail("unsupported fatbin version " + hex(h.u16(4, "version")) + " behind the wrapper", 0);
    const uint16_t hsize = h.u16(6, "header size");
    if (hsize < kFatbinHeaderSize)
        fail("fatbin header size " + hex(hsize) + " behind the wrapper is below 16", 0);
    const uint64_t size = h.u64(8, "size");
    if (size > kMaxFatbinBytes - hsize)
        fail("fatbin behind the wrapper declares " + hex(size) + " bytes of entries, over the " +
                 hex(kMaxFatbinBytes) + "-byte limit",
             0);
    return parse_fatbin(
        std::span<const uint8_t>(static_cast<const uint8_t*>(w.data), hsize + size));
}

namespace {

[[noreturn]] void bad(const std::string& what, uint64_t off)
{
    throw FatbinError("ELF: " + what + " at offset " + hex(off));
}

} // namespace

std::vector<uint8_t> fatbin_section(std::span<const uint8_t> elf)
{
    Bytes f(elf, 0);
    if (!f.has(0, 64))
        bad("file of " + hex(elf.size()) + " bytes is too short for an ELF64 header", 0);
    if (std::memcmp(elf.data(), "\177ELF", 4) != 0)
        bad("not an ELF file (bad magic)", 0);
    if (elf[4] != 2)
        bad("not a 64-bit ELF (class " + hex(elf[4]) + ")", 4);
    if (elf[5] != 1)
        bad("not a little-endian ELF (data " + hex(elf[5]) + ")", 5);
    const uint64_t shoff = f.u64(0x28, "e_shoff");
    const uint16_t shentsize = f.u16(0x3a, "e_shentsize");
    uint64_t shnum = f.u16(0x3c, "e_shnum");
    uint64_t shstrndx = f.u16(0x3e, "e_shstrndx");
    if (shoff == 0)
        bad("no section header table", 0x28);
    if (shentsize < 64)
        bad("section header size " + hex(shentsize) + " is below 64", 0x3a);
    // Extended numbering: the real counts live in section header 0.
    if (!f.has(shoff, shentsize))
        bad("section header table runs past the end of the file", shoff);
    if (shnum == 0)
        shnum = f.u64(shoff + 0x20, "sh_size of section 0");
    if (shstrndx == 0xffff)
        shstrndx = f.u32(shoff + 0x28, "sh_link of section 0");
    if (shnum > elf.size() / shentsize || !f.has(shoff, shnum * shentsize))
        bad("section header table (" + hex(shnum) + " entries) runs past the end of the file",
            shoff);
    if (shstrndx >= shnum)
        bad("section name table index " + hex(shstrndx) + " is out of range", 0x3e);

    auto section = [&](uint64_t i) {
        const uint64_t sh = shoff + i * shentsize;
        struct S {
            uint32_t name, type;
            uint64_t offset, size, where;
        };
        return S{f.u32(sh, "sh_name"), f.u32(sh + 4, "sh_type"), f.u64(sh + 0x18, "sh_offset"),
                 f.u64(sh + 0x20, "sh_size"), sh};
    };
    constexpr uint32_t kShtNobits = 8;
    const auto strtab = section(shstrndx);
    if (strtab.type == kShtNobits || !f.has(strtab.offset, strtab.size))
        bad("section name table runs past the end of the file", strtab.where);
    Bytes names = f.sub(strtab.offset, strtab.size, "section name table");
    static constexpr char kWanted[] = ".nv_fatbin";
    for (uint64_t i = 0; i < shnum; i++) {
        const auto s = section(i);
        // The name matches if the table holds ".nv_fatbin\0" at sh_name.
        if (!names.has(s.name, sizeof kWanted) ||
            std::memcmp(names.span().data() + s.name, kWanted, sizeof kWanted) != 0)
            continue;
        if (s.type == kShtNobits)
            bad("section .nv_fatbin has no contents (SHT_NOBITS)", s.where);
        if (!f.has(s.offset, s.size))
            bad("section .nv_fatbin (" + hex(s.size) + " bytes at " + hex(s.offset) +
                    ") runs past the end of the file",
                s.where);
        auto bytes = elf.subspan(s.offset, s.size);
        return std::vector<uint8_t>(bytes.begin(), bytes.end());
    }
    throw FatbinError("ELF: no .nv_fatbin section");
}

std::vector<uint8_t> read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw FatbinError("cannot open " + path.string() + ": " + std::strerror(errno));
    std::vector<uint8_t> data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad())
        throw FatbinError("cannot read " + path.string());
    return data;
}

const FatbinEntry* best_ptx(const std::vector<FatbinEntry>& entries, uint32_t max_sm)
{
    const FatbinEntry* best = nullptr;
    for (const auto& e : entries) {
        if (e.kind != FatbinEntry::Kind::Ptx || e.sm > max_sm)
            continue;
        auto key = [](const FatbinEntry& x) {
            return std::tuple(x.sm, x.ptx_major, x.ptx_minor);
        };
        if (!best || key(e) > key(*best))
            best = &e;
    }
    return best;
}

const FatbinEntry* best_ptx(const std::vector<FatbinEntry>& entries)
{
    return best_ptx(entries, std::numeric_limits<uint32_t>::max());
}

} // namespace gpuvm::cuda
