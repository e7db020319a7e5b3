// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// test_fatbin.cpp - tests of the fatbinary reader (tools/cuda/fatbin.hpp)
// on real nvcc output (tests/data/*.cu, compiled at build time into fatbins
// in every compression mode, PTX, an object linked into this program and
// an executable) and on hostile input: every truncation, corrupted sizes,
// offsets, magics, payloads, and random damage.  Without nvcc the tests
// that need its output are skipped with the reason.
#include "fatbin.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using gpuvm::cuda::best_ptx;
using gpuvm::cuda::fatbin_section;
using gpuvm::cuda::FatbinEntry;
using gpuvm::cuda::FatbinError;
using gpuvm::cuda::parse_fatbin;
using gpuvm::cuda::parse_wrapper;
using gpuvm::cuda::read_file;
namespace flag = gpuvm::cuda::fatbin_flag;
using Kind = FatbinEntry::Kind;
using Blob = std::vector<uint8_t>;

#if GPUVM_CUDA_HAVE_NVCC
// kernels.o (nvcc -c -cudart shared) is linked into this program: its
// static constructor registers its fatbin with the CUDA runtime, which
// these stand-ins replace, keeping the wrapper pointer as GPUvm's runtime
// will.  The rest are never called (no kernel is launched).
namespace {
std::vector<const void*>& registered()
{
    static std::vector<const void*> wrappers;
    return wrappers;
}
} // namespace

extern "C" {
void** __cudaRegisterFatBinary(void* fat_cubin)
{
    registered().push_back(fat_cubin);
    static void* handle = nullptr;
    return &handle;
}
void __cudaRegisterFatBinaryEnd(void**) {}
void __cudaUnregisterFatBinary(void**) {}
void __cudaRegisterFunction(void**, const char*, char*, const char*, int, void*, void*, void*,
                            void*, int*)
{
}
void __cudaRegisterVar(void**, char*, char*, const char*, int, size_t, int, int) {}
char __cudaInitModule(void**) { return 0; }
int __cudaGetKernel(void**, const void*) { return 1; }
int __cudaPopCallConfiguration(void*, void*, void*, void*) { return 1; }
int __cudaLaunchKernel(const void*, ...) { return 1; }
}
#endif

namespace {

#define NEED_NVCC_DATA()                                                                     \
    do {                                                                                     \
        if (!GPUVM_CUDA_HAVE_NVCC)                                                           \
            GTEST_SKIP() << "nvcc was not found at configure time, so the test data it "    \
                            "builds (tools/cuda/tests/data) is missing";                     \
    } while (0)

Blob data(const std::string& name)
{
    return read_file(std::string(GPUVM_CUDA_DATA_DIR) + "/" + name);
}

std::string text(const std::string& name)
{
    Blob b = data(name);
    return std::string(b.begin(), b.end());
}

// What fatbinary does to PTX (fatbin.hpp): drop `//` comments, leading and
// trailing blanks, make runs of blanks one space, keep the lines.
std::string minify_ptx(const std::string& ptx)
{
    std::string out;
    size_t pos = 0;
    while (pos <= ptx.size()) {
        size_t nl = ptx.find('\n', pos);
        std::string line = ptx.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (auto c = line.find("//"); c != std::string::npos)
            line.resize(c);
        std::string m;
        for (char ch : line) {
            if (ch == ' ' || ch == '\t') {
                if (!m.empty() && m.back() != ' ')
                    m += ' ';
            } else {
                m += ch;
            }
        }
        while (!m.empty() && m.back() == ' ')
            m.pop_back();
        out += m;
        if (nl == std::string::npos)
            break;
        out += '\n';
        pos = nl + 1;
    }
    return out;
}

// The ".version M.N" and ".target sm_NN" of a PTX text.
void ptx_header(const std::string& ptx, uint32_t& major, uint32_t& minor, uint32_t& sm)
{
    major = minor = sm = 0;
    auto v = ptx.find(".version ");
    auto t = ptx.find(".target sm_");
    ASSERT_NE(v, std::string::npos);
    ASSERT_NE(t, std::string::npos);
    ASSERT_EQ(std::sscanf(ptx.c_str() + v, ".version %u.%u", &major, &minor), 2);
    ASSERT_EQ(std::sscanf(ptx.c_str() + t, ".target sm_%u", &sm), 1);
}

uint32_t get32(const Blob& b, size_t off)
{
    uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
}
uint64_t get64(const Blob& b, size_t off)
{
    uint64_t v;
    std::memcpy(&v, b.data() + off, 8);
    return v;
}
void put16(Blob& b, size_t off, uint16_t v) { std::memcpy(b.data() + off, &v, 2); }
void put32(Blob& b, size_t off, uint32_t v) { std::memcpy(b.data() + off, &v, 4); }
void put64(Blob& b, size_t off, uint64_t v) { std::memcpy(b.data() + off, &v, 8); }

// The test's own walk of a well-formed blob: where each fatbin ends, and
// where the entries of the first one start.
std::vector<size_t> fatbin_ends(const Blob& b)
{
    std::vector<size_t> ends;
    size_t off = 0;
    while (off + 16 <= b.size()) {
        off += 16 + get64(b, off + 8);
        ends.push_back(off);
    }
    return ends;
}
std::vector<size_t> entry_offsets(const Blob& b)
{
    std::vector<size_t> offs;
    size_t end = 16 + get64(b, 8);
    for (size_t off = 16; off < end; off += get32(b, off + 4) + get64(b, off + 8))
        offs.push_back(off);
    return offs;
}

// Expects parse_fatbin to throw a FatbinError whose message holds `what`.
void expect_error(const Blob& b, const std::string& what)
{
    try {
        auto entries = parse_fatbin(b);
        ADD_FAILURE() << "no error; expected one about \"" << what << "\"";
    } catch (const FatbinError& e) {
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos)
            << "message \"" << e.what() << "\" lacks \"" << what << "\"";
    }
}

bool same_entries(const std::vector<FatbinEntry>& a, const std::vector<FatbinEntry>& b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); i++)
        if (a[i].kind != b[i].kind || a[i].sm != b[i].sm || a[i].data != b[i].data ||
            a[i].ptx_major != b[i].ptx_major || a[i].ptx_minor != b[i].ptx_minor)
            return false;
    return true;
}

// An uncompressed cubin is padded to 8 with NULs; a decompressed one is
// exact.
void expect_same_cubin(const std::string& padded, const std::string& exact)
{
    ASSERT_GE(padded.size(), exact.size());
    EXPECT_LT(padded.size() - exact.size(), 8u);
    EXPECT_EQ(padded.substr(0, exact.size()), exact);
    EXPECT_EQ(padded.find_first_not_of('\0', exact.size()), std::string::npos);
}

struct Mode {
    const char* file;
    uint64_t ptx_compression;
    uint64_t elf_compression;
};
const Mode kModes[] = {
    {"kernels.zstd.fatbin", flag::kCompressedZstd, 0},
    {"kernels.lz4.fatbin", flag::kCompressedLz4, 0},
    {"kernels.none.fatbin", 0, 0},
    {"kernels.size.fatbin", flag::kCompressedZstd, flag::kCompressedZstd},
    {"kernels.lz4all.fatbin", flag::kCompressedLz4, flag::kCompressedLz4},
};
constexpr uint64_t kCompression = flag::kCompressedZstd | flag::kCompressedLz4;

// ---- Real nvcc output ------------------------------------------------------

TEST(Fatbin, EveryCompressionModeGivesTheSamePtxAndCubin)
{
    NEED_NVCC_DATA();
    const std::string ptx = minify_ptx(text("kernels.sm_75.ptx"));
    ASSERT_NE(ptx.find("gpuvm_saxpy"), std::string::npos);
    const auto plain = parse_fatbin(data("kernels.none.fatbin"));
    ASSERT_EQ(plain.size(), 2u);
    for (const Mode& m : kModes) {
        SCOPED_TRACE(m.file);
        const auto entries = parse_fatbin(data(m.file));
        ASSERT_EQ(entries.size(), 2u);
        const FatbinEntry& elf = entries[0];
        const FatbinEntry& px = entries[1];
        EXPECT_EQ(elf.kind, Kind::Elf);
        EXPECT_EQ(elf.sm, 75u);
        EXPECT_EQ(elf.ptx_major, 1u);  // the cubin's code version, 1.8
        EXPECT_EQ(elf.ptx_minor, 8u);
        EXPECT_EQ(elf.data.substr(0, 4), "\177ELF");
        EXPECT_EQ(elf.flags & kCompression, m.elf_compression);
        expect_same_cubin(plain[0].data, elf.data);
        EXPECT_EQ(px.kind, Kind::Ptx);
        EXPECT_EQ(px.sm, 75u);
        EXPECT_EQ(px.ptx_major, 9u);
        EXPECT_EQ(px.ptx_minor, 0u);
        EXPECT_EQ(px.flags & kCompression, m.ptx_compression);
        EXPECT_EQ(px.flags & (flag::k64Bit | flag::kHostLinux), flag::k64Bit | flag::kHostLinux);
        EXPECT_EQ(px.data, ptx);  // exact, no trailing NUL
        EXPECT_TRUE(px.identifier.empty());
        EXPECT_TRUE(px.options.empty());
    }
}

TEST(Fatbin, PtxHeaderFieldsMatchThePtxText)
{
    NEED_NVCC_DATA();
    for (const char* f : {"kernels.zstd.fatbin", "kernels.multi.fatbin"}) {
        for (const auto& e : parse_fatbin(data(f))) {
            if (e.kind != Kind::Ptx)
                continue;
            uint32_t major, minor, sm;
            ptx_header(e.data, major, minor, sm);
            EXPECT_EQ(e.ptx_major, major) << f;
            EXPECT_EQ(e.ptx_minor, minor) << f;
            EXPECT_EQ(e.sm, sm) << f;
        }
    }
    // nvcc 13's default: ISA 9.0 for sm_75.
    uint32_t major, minor, sm;
    ptx_header(text("kernels.sm_75.ptx"), major, minor, sm);
    EXPECT_EQ(major, 9u);
    EXPECT_EQ(minor, 0u);
    EXPECT_EQ(sm, 75u);
}

TEST(Fatbin, TwoArchitecturesGivePtxAndElfEntries)
{
    NEED_NVCC_DATA();
    const auto entries = parse_fatbin(data("kernels.multi.fatbin"));
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].kind, Kind::Ptx);
    EXPECT_EQ(entries[0].sm, 75u);
    EXPECT_EQ(entries[1].kind, Kind::Elf);
    EXPECT_EQ(entries[1].sm, 90u);
    EXPECT_EQ(entries[1].data.substr(0, 4), "\177ELF");
    EXPECT_EQ(entries[2].kind, Kind::Ptx);
    EXPECT_EQ(entries[2].sm, 90u);
    EXPECT_EQ(entries[0].data, minify_ptx(text("kernels.sm_75.ptx")));
    EXPECT_EQ(entries[2].data, minify_ptx(text("kernels.sm_90.ptx")));

    EXPECT_EQ(best_ptx(entries), &entries[2]);
    EXPECT_EQ(best_ptx(entries, 90), &entries[2]);
    EXPECT_EQ(best_ptx(entries, 89), &entries[0]);
    EXPECT_EQ(best_ptx(entries, 75), &entries[0]);
    EXPECT_EQ(best_ptx(entries, 70), nullptr);
}

TEST(Fatbin, ExecutableSectionHoldsEveryTranslationUnit)
{
    NEED_NVCC_DATA();
    const Blob section = fatbin_section(data("app"));
    // app.cu, kernels.cu and the device-link step: three fatbins.
    EXPECT_EQ(fatbin_ends(section).size(), 3u);
    EXPECT_EQ(fatbin_ends(section).back(), section.size());
    const auto entries = parse_fatbin(section);
    const std::string kernels_ptx = minify_ptx(text("kernels.sm_75.ptx"));
    int elves = 0, kernels = 0, app = 0;
    for (const auto& e : entries) {
        if (e.kind == Kind::Elf) {
            elves++;
            EXPECT_EQ(e.sm, 75u);
            continue;
        }
        kernels += e.data == kernels_ptx;
        app += e.data.find(".entry _Z9gpuvm_incPi") != std::string::npos;
    }
    EXPECT_EQ(elves, 3);
    EXPECT_EQ(kernels, 1);
    EXPECT_EQ(app, 1);
    EXPECT_EQ(entries.size(), 5u);
}

TEST(Fatbin, ObjectSectionAndRegisteredWrapperMatchTheFatbin)
{
    NEED_NVCC_DATA();
    const auto expected = parse_fatbin(data("kernels.zstd.fatbin"));
    EXPECT_TRUE(same_entries(parse_fatbin(fatbin_section(data("kernels.o"))), expected));

#if GPUVM_CUDA_HAVE_NVCC
    // kernels.o's constructor ran before main.
    ASSERT_EQ(registered().size(), 1u);
    const void* w = registered()[0];
    uint32_t magic, version;
    std::memcpy(&magic, w, 4);
    std::memcpy(&version, static_cast<const char*>(w) + 4, 4);
    EXPECT_EQ(magic, gpuvm::cuda::kFatbinWrapperMagic);
    EXPECT_EQ(version, 1u);
    const auto entries = parse_wrapper(w);
    EXPECT_TRUE(same_entries(entries, expected));
    ASSERT_NE(best_ptx(entries), nullptr);
    EXPECT_EQ(best_ptx(entries)->data, minify_ptx(text("kernels.sm_75.ptx")));

    // This program's own .nv_fatbin is kernels.o's.
    EXPECT_TRUE(same_entries(parse_fatbin(fatbin_section(read_file("/proc/self/exe"))), expected));
#endif
}

// ---- best_ptx ----------------------------------------------------------------

FatbinEntry fake(Kind kind, uint32_t sm, uint32_t major, uint32_t minor, std::string tag)
{
    FatbinEntry e;
    e.kind = kind;
    e.sm = sm;
    e.ptx_major = major;
    e.ptx_minor = minor;
    e.data = std::move(tag);
    return e;
}

TEST(BestPtx, HighestSmThenHighestIsaThenFirst)
{
    std::vector<FatbinEntry> v;
    EXPECT_EQ(best_ptx(v), nullptr);
    v.push_back(fake(Kind::Elf, 120, 1, 8, "elf"));
    EXPECT_EQ(best_ptx(v), nullptr);
    v.push_back(fake(Kind::Ptx, 75, 9, 0, "a"));
    v.push_back(fake(Kind::Ptx, 80, 8, 5, "b"));
    v.push_back(fake(Kind::Ptx, 80, 8, 7, "c"));
    v.push_back(fake(Kind::Ptx, 80, 8, 7, "d"));
    v.push_back(fake(Kind::Ptx, 52, 9, 1, "e"));
    EXPECT_EQ(best_ptx(v)->data, "c");
    EXPECT_EQ(best_ptx(v, 86)->data, "c");
    EXPECT_EQ(best_ptx(v, 79)->data, "a");
    EXPECT_EQ(best_ptx(v, 60)->data, "e");
    EXPECT_EQ(best_ptx(v, 50), nullptr);
}

// ---- Hostile input -------------------------------------------------------------

TEST(FatbinHostile, EveryTruncationThrowsOrGivesWholeFatbins)
{
    NEED_NVCC_DATA();
    std::vector<Blob> blobs;
    for (const Mode& m : kModes)
        blobs.push_back(data(m.file));
    blobs.push_back(data("kernels.multi.fatbin"));
    blobs.push_back(fatbin_section(data("app")));
    for (const Blob& full : blobs) {
        const auto ends = fatbin_ends(full);
        ASSERT_EQ(ends.back(), full.size());
        const auto all = parse_fatbin(full);
        for (size_t n = 0; n < full.size(); n++) {
            const Blob prefix(full.begin(), full.begin() + n);
            auto at = std::find(ends.begin(), ends.end(), n);
            if (at == ends.end()) {
                EXPECT_THROW(parse_fatbin(prefix), FatbinError) << "prefix of " << n;
                continue;
            }
            // Cut at a fatbin boundary: the complete fatbins before it.
            std::vector<FatbinEntry> got;
            ASSERT_NO_THROW(got = parse_fatbin(prefix)) << "prefix of " << n;
            const Blob rest(full.begin() + n, full.end());
            const auto after = parse_fatbin(rest);
            ASSERT_EQ(got.size() + after.size(), all.size());
            std::vector<FatbinEntry> joined = got;
            joined.insert(joined.end(), after.begin(), after.end());
            EXPECT_TRUE(same_entries(joined, all));
        }
    }
}

TEST(FatbinHostile, EmptyZerosAndPadding)
{
    expect_error({}, "no fatbin");
    expect_error(Blob(64, 0), "no fatbin");
    NEED_NVCC_DATA();
    Blob b = data("kernels.zstd.fatbin");
    const auto one = parse_fatbin(b);
    Blob padded(8, 0);
    padded.insert(padded.end(), b.begin(), b.end());
    padded.insert(padded.end(), 24, 0);
    padded.insert(padded.end(), b.begin(), b.end());
    padded.insert(padded.end(), 16, 0);
    auto two = parse_fatbin(padded);
    ASSERT_EQ(two.size(), 2 * one.size());
    EXPECT_TRUE(same_entries({two.begin(), two.begin() + 2}, one));
    EXPECT_TRUE(same_entries({two.begin() + 2, two.end()}, one));
    // Garbage after a fatbin: the bad magic, at its offset.
    Blob junk = b;
    junk.insert(junk.end(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
    expect_error(junk, "bad fatbin magic 0x4030201 (expected 0xba55ed50) at offset " +
                           [&] {
                               char s[32];
                               std::snprintf(s, sizeof s, "0x%zx", b.size());
                               return std::string(s);
                           }());
}

TEST(FatbinHostile, BadFatbinHeaders)
{
    NEED_NVCC_DATA();
    const Blob good = data("kernels.zstd.fatbin");
    Blob b = good;
    put32(b, 0, 0xBA55ED51);
    expect_error(b, "bad fatbin magic");
    b = good;
    put16(b, 4, 2);
    expect_error(b, "unsupported fatbin version");
    b = good;
    put16(b, 6, 8);
    expect_error(b, "fatbin header size 0x8 is below 16");
    b = good;
    put16(b, 6, 0xffff);
    expect_error(b, "bytes of entries after its");
    b = good;
    put64(b, 8, get64(good, 8) + 8);
    expect_error(b, "fatbin declares");
    b = good;
    put64(b, 8, ~0ull);
    expect_error(b, "fatbin declares");
    b = good;
    put64(b, 8, ~0ull - 15);  // 16 + size wraps to 0
    expect_error(b, "fatbin declares");
    b = good;
    put64(b, 8, get64(good, 8) - 8);  // the last entry no longer fits
    expect_error(b, "runs past the end of the fatbin");
    b = good;
    put64(b, 8, 0x20);  // not even one entry header
    expect_error(b, "entry header (0x40 bytes) runs past the end");
}

TEST(FatbinHostile, BadEntryHeaders)
{
    NEED_NVCC_DATA();
    const Blob good = data("kernels.zstd.fatbin");
    const auto offs = entry_offsets(good);
    ASSERT_EQ(offs.size(), 2u);
    const size_t elf = offs[0], ptx = offs[1];
    Blob b = good;
    put32(b, elf + 4, 0);
    expect_error(b, "entry header size 0x0 is below the minimum 0x40");
    b = good;
    put32(b, ptx + 4, 0x3f);
    expect_error(b, "entry header size 0x3f is below the minimum 0x40");
    b = good;
    put32(b, elf + 4, 0xffffffff);
    expect_error(b, "entry header size 0xffffffff runs past the end of the fatbin");
    b = good;
    put64(b, elf + 8, ~0ull);
    expect_error(b, "runs past the end of the fatbin");
    b = good;
    put64(b, ptx + 8, get64(good, ptx + 8) + 8);
    expect_error(b, "runs past the end of the fatbin");
    b = good;
    put64(b, elf + 8, get64(good, elf + 8) - 8);  // entries no longer line up
    EXPECT_THROW(parse_fatbin(b), FatbinError);
    // Identifier and options must lie in the header.
    b = good;
    put32(b, ptx + 0x20, 0x48);
    put32(b, ptx + 0x24, 0x10);
    expect_error(b, "identifier (offset 0x48, 0x10 bytes) lies outside the 0x50-byte entry header");
    b = good;
    put32(b, ptx + 0x20, 0x10);  // inside the fixed fields
    put32(b, ptx + 0x24, 4);
    expect_error(b, "identifier");
    b = good;
    put32(b, ptx + 0x20, 0xfffffff0);
    put32(b, ptx + 0x24, 0x20);
    expect_error(b, "identifier");
    b = good;
    put32(b, ptx + 0x14, 0x4c);
    expect_error(b, "options descriptor at 0x4c lies outside");
    b = good;
    put32(b, ptx + 0x44, 0x100);
    expect_error(b, "options (offset 0x48, 0x100 bytes) lies outside");
    // A valid identifier is read.
    b = good;
    std::memcpy(b.data() + ptx + 0x48, "k.cu", 4);
    put32(b, ptx + 0x20, 0x48);
    put32(b, ptx + 0x24, 4);
    put32(b, ptx + 0x14, 0);
    auto entries = parse_fatbin(b);
    EXPECT_EQ(entries[1].identifier, "k.cu");
    // Unknown kinds (8 is LTO IR) are skipped.
    b = good;
    put16(b, elf, 8);
    entries = parse_fatbin(b);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].kind, Kind::Ptx);
}

TEST(FatbinHostile, LyingCompressedSizes)
{
    NEED_NVCC_DATA();
    for (const char* f : {"kernels.zstd.fatbin", "kernels.lz4.fatbin"}) {
        SCOPED_TRACE(f);
        const Blob good = data(f);
        const size_t ptx = entry_offsets(good)[1];
        const uint32_t csize = get32(good, ptx + 0x10);
        const uint64_t usize = get64(good, ptx + 0x38);
        const bool zstd = std::string(f).find("zstd") != std::string::npos;
        Blob b = good;
        put64(b, ptx + 0x38, usize + 1);
        expect_error(b, "decompresses to");
        b = good;
        put64(b, ptx + 0x38, usize - 1);
        expect_error(b, zstd ? "holds" : "LZ4 payload is corrupt");
        b = good;
        put64(b, ptx + 0x38, 0);
        expect_error(b, "uncompressed size 0x0 is 0");
        b = good;
        put64(b, ptx + 0x38, ~0ull);
        expect_error(b, "over the limit");
        b = good;
        put64(b, ptx + 0x38, 1ull << 29);  // under the limit, over any real ratio
        EXPECT_THROW(parse_fatbin(b), FatbinError);
        b = good;
        put32(b, ptx + 0x10, 0);
        expect_error(b, "compressed size 0x0 is 0");
        b = good;
        put32(b, ptx + 0x10, static_cast<uint32_t>(get64(good, ptx + 8)) + 1);
        expect_error(b, "exceeds the payload size");
        b = good;
        put32(b, ptx + 0x10, csize / 2);  // payload cut short
        EXPECT_THROW(parse_fatbin(b), FatbinError);
        b = good;
        put64(b, ptx + 0x28, get64(good, ptx + 0x28) | kCompression);
        expect_error(b, "both LZ4- and zstd-compressed");
        // Garbage payload.
        b = good;
        const size_t payload = ptx + get32(good, ptx + 4);
        for (size_t i = zstd ? 4 : 0; i < csize; i++)
            b[payload + i] = static_cast<uint8_t>(0xA5 ^ (i * 7));
        EXPECT_THROW(parse_fatbin(b), FatbinError);
        // The other codec's flag on this payload.
        b = good;
        put64(b, ptx + 0x28, get64(good, ptx + 0x28) ^ kCompression);
        EXPECT_THROW(parse_fatbin(b), FatbinError);
        // Flagged uncompressed: the compressed bytes come back as they are.
        b = good;
        put64(b, ptx + 0x28, get64(good, ptx + 0x28) & ~kCompression);
        auto raw = parse_fatbin(b);
        std::string packed(b.begin() + payload, b.begin() + payload + csize);
        packed.resize(packed.find_last_not_of('\0') + 1);  // as for any PTX
        EXPECT_EQ(raw[1].data, packed);
    }
}

TEST(FatbinHostile, RandomDamageNeverCrashes)
{
    NEED_NVCC_DATA();
    std::mt19937 rng(20260);
    for (const char* f : {"kernels.zstd.fatbin", "kernels.lz4.fatbin", "kernels.size.fatbin",
                          "kernels.multi.fatbin"}) {
        const Blob good = data(f);
        const auto offs = entry_offsets(good);
        for (int i = 0; i < 3000; i++) {
            Blob b = good;
            int hits = 1 + static_cast<int>(rng() % 4);
            for (int h = 0; h < hits; h++) {
                // Mostly headers, sometimes anywhere.
                size_t at;
                if (rng() % 4 == 0) {
                    at = rng() % b.size();
                } else {
                    size_t e = rng() % (offs.size() + 1);
                    at = e == offs.size() ? rng() % 16 : offs[e] + rng() % 0x50;
                }
                b[at] = static_cast<uint8_t>(rng());
            }
            try {
                auto entries = parse_fatbin(b);
                for (const auto& e : entries)
                    EXPECT_LE(e.data.size(), b.size() * 256);
            } catch (const FatbinError&) {
            }
        }
    }
}

// ---- Wrappers ------------------------------------------------------------------

struct Wrapper {
    uint32_t magic;
    uint32_t version;
    const void* data;
    const void* filename;
};

TEST(FatbinWrapper, ChecksMagicVersionAndHeader)
{
    EXPECT_THROW(parse_wrapper(nullptr), FatbinError);
    Blob hdr(16, 0);
    put32(hdr, 0, gpuvm::cuda::kFatbinMagic);
    put16(hdr, 4, 1);
    put16(hdr, 6, 16);
    Wrapper w{gpuvm::cuda::kFatbinWrapperMagic, 1, hdr.data(), nullptr};
    // An empty fatbin (no entries) is well-formed.
    EXPECT_TRUE(parse_wrapper(&w).empty());
    w.magic = 0x466243B2;
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
    w.magic = gpuvm::cuda::kFatbinWrapperMagic;
    w.version = 3;
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
    w.version = 2;
    EXPECT_NO_THROW(parse_wrapper(&w));
    w.data = nullptr;
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
    w.data = hdr.data();
    // Sizes are only trusted after the header checks, and capped: these
    // must throw without reading past the 16 bytes.
    put64(hdr, 8, 1ull << 30);
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
    put64(hdr, 8, ~0ull);
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
    put64(hdr, 8, 0);
    put16(hdr, 6, 15);
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
    put16(hdr, 6, 16);
    put16(hdr, 4, 2);
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
    put16(hdr, 4, 1);
    put32(hdr, 0, 0);
    EXPECT_THROW(parse_wrapper(&w), FatbinError);
}

TEST(FatbinWrapper, ReadsOnlyItsOwnFatbin)
{
    NEED_NVCC_DATA();
    const Blob section = fatbin_section(data("app"));
    const auto ends = fatbin_ends(section);
    ASSERT_EQ(ends.size(), 3u);
    // Each wrapper sees one fatbin, though others follow it.
    size_t start = 0, total = 0;
    for (size_t end : ends) {
        Wrapper w{gpuvm::cuda::kFatbinWrapperMagic, 1, section.data() + start, nullptr};
        const Blob one(section.begin() + start, section.begin() + end);
        EXPECT_TRUE(same_entries(parse_wrapper(&w), parse_fatbin(one)));
        total += parse_wrapper(&w).size();
        start = end;
    }
    EXPECT_EQ(total, parse_fatbin(section).size());
}

// ---- ELF -----------------------------------------------------------------------

TEST(FatbinElf, MalformedElfFiles)
{
    EXPECT_THROW(fatbin_section(Blob{}), FatbinError);
    EXPECT_THROW(fatbin_section(Blob(64, 0)), FatbinError);
    NEED_NVCC_DATA();
    const Blob good = data("kernels.o");
    const Blob section = fatbin_section(good);
    EXPECT_EQ(get32(section, 0), gpuvm::cuda::kFatbinMagic);
    const uint64_t shoff = get64(good, 0x28);
    Blob b = good;
    b[4] = 1;  // ELF32
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    b[5] = 2;  // big-endian
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put64(b, 0x28, good.size() - 8);  // e_shoff
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put64(b, 0x28, ~0ull - 16);
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put16(b, 0x3c, 0xfff0);  // e_shnum
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put16(b, 0x3e, 0xfff0);  // e_shstrndx
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put16(b, 0x3a, 32);  // e_shentsize
    EXPECT_THROW(fatbin_section(b), FatbinError);
    // Extended numbering with a huge count in section 0.
    b = good;
    put16(b, 0x3c, 0);
    put64(b, shoff + 0x20, 1ull << 60);
    EXPECT_THROW(fatbin_section(b), FatbinError);
    // The .nv_fatbin section header: find it by its contents' offset.
    const uint16_t shnum = static_cast<uint16_t>(get32(good, 0x3c) & 0xffff);
    size_t sh = 0;
    for (size_t i = 0; i < shnum; i++) {
        size_t h = shoff + i * 64;
        if (get64(good, h + 0x20) == section.size() &&
            std::equal(section.begin(), section.end(), good.begin() + get64(good, h + 0x18)))
            sh = h;
    }
    ASSERT_NE(sh, 0u);
    b = good;
    put64(b, sh + 0x20, good.size());
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put64(b, sh + 0x18, ~0ull - 4);
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put32(b, sh + 4, 8);  // SHT_NOBITS
    EXPECT_THROW(fatbin_section(b), FatbinError);
    b = good;
    put32(b, sh, 0xfffffff0);  // sh_name out of the table: not a match
    EXPECT_THROW(fatbin_section(b), FatbinError);
    // Renamed: absent.
    b = good;
    const std::string name = ".nv_fatbin";
    auto it = std::search(b.begin(), b.end(), name.begin(), name.end());
    while (it != b.end() && (b.end() - it <= static_cast<ptrdiff_t>(name.size()) || it[name.size()] != 0))
        it = std::search(it + 1, b.end(), name.begin(), name.end());
    ASSERT_NE(it, b.end());
    it[3] = 'X';
    try {
        fatbin_section(b);
        ADD_FAILURE() << "no error";
    } catch (const FatbinError& e) {
        EXPECT_STREQ(e.what(), "ELF: no .nv_fatbin section");
    }
    // Every truncation of a real file throws or finds the whole section.
    for (size_t n = 0; n < good.size(); n++) {
        const Blob prefix(good.begin(), good.begin() + n);
        try {
            EXPECT_EQ(fatbin_section(prefix), section);
        } catch (const FatbinError&) {
        }
    }
}

TEST(FatbinElf, ReadFileErrors)
{
    EXPECT_THROW(read_file("/nonexistent/gpuvm-fatbin"), FatbinError);
}

} // namespace
