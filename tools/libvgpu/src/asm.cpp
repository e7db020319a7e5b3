// SPDX-License-Identifier: MIT
// Copyright (C) 2026 GPUvm developers
//
// Two-pass assembler for the vgpu-sim ISA; the opcode table is the one in
// common/vgpu_isa.h, shared with the interpreter.
#include "vgpu/asm.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

extern "C" {
#include "vgpu_isa_decode.h"
#include "vgpu_isa_table.h"
}

namespace vgpu {

AsmError::AsmError(std::string file, int line, const std::string& msg)
    : std::runtime_error(file + ":" + std::to_string(line) + ": " + msg), line_(line) {}

namespace {

using OpInfo = vgpu_op_info;
constexpr std::span<const OpInfo> kOps(vgpu_op_table);
constexpr std::span<const char* const> kSregs(vgpu_sreg_names);

const OpInfo* find_op(std::string_view name) {
    for (const auto& op : kOps)
        if (name == op.name) return &op;
    return nullptr;
}

const OpInfo* find_op(uint8_t code) {
    for (const auto& op : kOps)
        if (op.opcode == code) return &op;
    return nullptr;
}

// A mnemonic's modifier suffix ("rz" of "fadd.rz"): its bits in the
// modifier field, or nothing.  CVTI takes a rounding and a width, SHFL a
// mode and "p".
std::optional<uint32_t> modifier(uint8_t cls, std::string_view suffix, uint32_t mod) {
    auto find = [&](std::span<const char* const> names) -> std::optional<uint32_t> {
        for (size_t i = 0; i < names.size(); i++)
            if (suffix == names[i]) return static_cast<uint32_t>(i);
        return std::nullopt;
    };
    std::optional<uint32_t> v;
    switch (cls) {
    case VGPU_MOD_RND: v = find(vgpu_rnd_names); break;
    case VGPU_MOD_IRND: v = find(vgpu_irnd_names); break;
    case VGPU_MOD_CVTI:
        if ((v = find(vgpu_irnd_names))) return (mod & ~3u) | *v;
        if ((v = find(vgpu_iw_names))) return (mod & 3u) | (*v << 2);
        return std::nullopt;
    case VGPU_MOD_W32:
        if (suffix == "32") return 1u;
        if (suffix == "64") return 0u;
        return std::nullopt;
    case VGPU_MOD_PRMT: v = find(vgpu_prmt_names); break;
    case VGPU_MOD_SHFL:
        if (suffix == "p") return mod | VGPU_SHFL_PRED;
        if ((v = find(vgpu_shfl_names))) return (mod & ~3u) | *v;
        return std::nullopt;
    case VGPU_MOD_VOTE: v = find(vgpu_vote_names); break;
    default: return std::nullopt;
    }
    return v;
}

// Classes whose mode has no default: shfl and vote name theirs.
bool needs_mode(uint8_t cls) {
    return cls == VGPU_MOD_SHFL || cls == VGPU_MOD_VOTE;
}

// The suffixes that print a modifier (none for the defaults).
std::string modifier_text(uint8_t cls, uint32_t mod) {
    switch (cls) {
    case VGPU_MOD_RND: return mod ? std::string(".") + vgpu_rnd_names[mod] : "";
    case VGPU_MOD_IRND: return mod ? std::string(".") + vgpu_irnd_names[mod] : "";
    case VGPU_MOD_CVTI:
        return ((mod & 3) ? std::string(".") + vgpu_irnd_names[mod & 3] : "") +
               ((mod >> 2) ? std::string(".") + vgpu_iw_names[mod >> 2] : "");
    case VGPU_MOD_W32: return mod ? ".32" : "";
    case VGPU_MOD_PRMT: return mod ? std::string(".") + vgpu_prmt_names[mod] : "";
    case VGPU_MOD_SHFL: return std::string(".") + vgpu_shfl_names[mod & 3] + (mod & VGPU_SHFL_PRED ? ".p" : "");
    case VGPU_MOD_VOTE: return std::string(".") + vgpu_vote_names[mod & 3];
    default: return "";
    }
}

// A mnemonic as written: the instruction and its modifier bits.
std::optional<std::pair<const OpInfo*, uint32_t>> parse_mnemonic(std::string_view m) {
    if (const OpInfo* op = find_op(m)) {
        if (needs_mode(op->mod)) return std::nullopt;
        return std::pair{op, 0u};
    }
    // Strip suffixes from the right until the rest names an instruction.
    std::vector<std::string_view> suffixes;
    while (true) {
        size_t dot = m.rfind('.');
        if (dot == std::string_view::npos) return std::nullopt;
        suffixes.push_back(m.substr(dot + 1));
        m = m.substr(0, dot);
        const OpInfo* op = find_op(m);
        if (!op) continue;
        uint32_t mod = 0, seen = 0;
        for (auto it = suffixes.rbegin(); it != suffixes.rend(); ++it) {
            auto v = modifier(op->mod, *it, mod);
            if (!v) return std::nullopt;
            // Each kind of suffix once (CVTI: a rounding and a width;
            // SHFL: a mode and "p").
            bool width = (op->mod == VGPU_MOD_CVTI &&
                          std::any_of(std::begin(vgpu_iw_names), std::end(vgpu_iw_names),
                                      [&](const char* n) { return *it == n; })) ||
                         (op->mod == VGPU_MOD_SHFL && *it == "p");
            uint32_t kind = width ? 2 : 1;
            if (seen & kind) return std::nullopt;
            seen |= kind;
            mod = *v;
        }
        if (needs_mode(op->mod) && !(seen & 1)) return std::nullopt;
        return std::pair{op, mod};
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::vector<std::string_view> split_operands(std::string_view s) {
    std::vector<std::string_view> out;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '[') depth++;
        if (s[i] == ']') depth--;
        if (s[i] == ',' && depth == 0) {
            out.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        }
    }
    auto last = trim(s.substr(start));
    if (!last.empty() || !out.empty()) out.push_back(last);
    return out;
}

bool valid_ident(std::string_view s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_' || s[0] == '.'))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
    });
}

bool regs_only(uint8_t f);

class Assembler {
public:
    Assembler(std::string_view src, std::string_view file) : src_(src), file_(file) {}

    ModuleImage run() {
        pass(false);
        pass(true);
        if (img_.kernels.empty()) fail(0, "no .kernel directive: the module has no entry point");
        return std::move(img_);
    }

private:
    [[noreturn]] void fail(int line, const std::string& msg) const { throw AsmError(file_, line, msg); }

    void pass(bool emit) {
        img_ = ModuleImage{};
        uint32_t pc = 0;
        int lineno = 0;
        std::string_view rest = src_;
        while (!rest.empty()) {
            size_t nl = rest.find('\n');
            std::string_view line = rest.substr(0, nl);
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            lineno++;
            if (size_t c = line.find_first_of(";#"); c != std::string_view::npos) line = line.substr(0, c);
            line = trim(line);
            // Labels: "name:" possibly followed by an instruction.
            while (true) {
                size_t colon = line.find(':');
                if (colon == std::string_view::npos) break;
                std::string_view label = trim(line.substr(0, colon));
                if (!valid_ident(label) || label.find(' ') != std::string_view::npos) break;
                if (!emit) {
                    if (labels_.count(std::string(label))) fail(lineno, "label '" + std::string(label) + "' defined twice");
                    labels_[std::string(label)] = pc;
                }
                line = trim(line.substr(colon + 1));
            }
            if (line.empty()) continue;
            size_t sp = line.find_first_of(" \t");
            std::string_view mnem = line.substr(0, sp);
            std::string_view args = sp == std::string_view::npos ? std::string_view{} : trim(line.substr(sp));
            if (mnem == ".word") {
                if (img_.kernels.empty()) fail(lineno, ".word before the first .kernel directive");
                uint64_t w = 0;
                std::string_view h = args;
                if (h.substr(0, 2) == "0x") h.remove_prefix(2);
                auto [p, ec] = std::from_chars(h.data(), h.data() + h.size(), w, 16);
                if (ec != std::errc{} || p != h.data() + h.size() || h.empty())
                    fail(lineno, ".word needs a 64-bit hexadecimal value");
                img_.code.push_back(w);
                pc += VGPU_INSN_SIZE;
                continue;
            }
            if (mnem[0] == '.') {
                directive(lineno, mnem, args, pc, emit);
                continue;
            }
            auto parsed = parse_mnemonic(mnem);
            if (!parsed) fail(lineno, "unknown instruction '" + std::string(mnem) + "'");
            if (img_.kernels.empty()) fail(lineno, "instruction before the first .kernel directive");
            uint64_t word = emit ? encode(lineno, *parsed->first, parsed->second, args, pc) : 0;
            img_.code.push_back(word);
            pc += VGPU_INSN_SIZE;
        }
    }

    void directive(int lineno, std::string_view d, std::string_view args, uint32_t pc, bool) {
        if (d == ".kernel") {
            if (!valid_ident(args)) fail(lineno, ".kernel needs a name");
            if (args.size() >= VGPU_MODULE_NAME_LEN) fail(lineno, "kernel name too long");
            for (const auto& k : img_.kernels)
                if (k.name == args) fail(lineno, "kernel '" + std::string(args) + "' defined twice");
            img_.kernels.push_back(KernelInfo{std::string(args), pc, 0, 0});
        } else if (d == ".shared" || d == ".params") {
            if (img_.kernels.empty()) fail(lineno, std::string(d) + " outside a kernel");
            int64_t v = number(lineno, args);
            if (d == ".shared") {
                if (v < 0 || v > VGPU_MAX_SHARED) fail(lineno, ".shared must be 0.." + std::to_string(VGPU_MAX_SHARED));
                img_.kernels.back().shared_size = static_cast<uint32_t>(v);
            } else {
                if (v < 0 || v > VGPU_NUM_PARAMS) fail(lineno, ".params must be 0..8");
                img_.kernels.back().num_params = static_cast<uint32_t>(v);
            }
        } else {
            fail(lineno, "unknown directive '" + std::string(d) + "'");
        }
    }

    int64_t number(int lineno, std::string_view s) const {
        s = trim(s);
        bool neg = false;
        if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
            neg = s[0] == '-';
            s.remove_prefix(1);
        }
        int base = 10;
        if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            s.remove_prefix(2);
        }
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
        if (ec != std::errc{} || p != s.data() + s.size() || s.empty())
            fail(lineno, "bad number '" + std::string(s) + "'");
        if (v > (1ULL << 32)) fail(lineno, "number out of range");
        return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
    }

    // Integer or float immediate for a 32-bit field.
    int32_t imm32(int lineno, std::string_view s) const {
        s = trim(s);
        bool is_float = !s.empty() && (s.back() == 'f' || s.find('.') != std::string_view::npos) &&
                        s.find("0x") == std::string_view::npos;
        if (is_float) {
            std::string t(s);
            if (t.back() == 'f') t.pop_back();
            char* end = nullptr;
            float f = std::strtof(t.c_str(), &end);
            if (end != t.c_str() + t.size() || t.empty()) fail(lineno, "bad float '" + std::string(s) + "'");
            return static_cast<int32_t>(std::bit_cast<uint32_t>(f));
        }
        int64_t v = number(lineno, s);
        if (v < INT32_MIN || v > static_cast<int64_t>(UINT32_MAX)) fail(lineno, "immediate out of 32-bit range");
        return static_cast<int32_t>(static_cast<uint32_t>(v));
    }

    uint8_t reg(int lineno, std::string_view s) const {
        s = trim(s);
        if (s.size() < 2 || s[0] != 'r') fail(lineno, "expected a register, got '" + std::string(s) + "'");
        unsigned v = 0;
        auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), v);
        if (ec != std::errc{} || p != s.data() + s.size() || v >= VGPU_NUM_REGS)
            fail(lineno, "bad register '" + std::string(s) + "' (r0..r31)");
        return static_cast<uint8_t>(v);
    }

    // "[rA]", "[rA+imm]", "[rA-imm]"
    std::pair<uint8_t, int32_t> mem(int lineno, std::string_view s) const {
        s = trim(s);
        if (s.size() < 3 || s.front() != '[' || s.back() != ']') fail(lineno, "expected [reg+offset]");
        s = trim(s.substr(1, s.size() - 2));
        size_t op = s.find_first_of("+-");
        if (op == std::string_view::npos) return {reg(lineno, s), 0};
        uint8_t r = reg(lineno, s.substr(0, op));
        int64_t off = number(lineno, trim(s.substr(op + 1)));
        if (s[op] == '-') off = -off;
        if (off < INT32_MIN || off > INT32_MAX) fail(lineno, "offset out of range");
        return {r, static_cast<int32_t>(off)};
    }

    int32_t target(int lineno, std::string_view s, uint32_t pc) const {
        s = trim(s);
        if (!s.empty() && s[0] == '.' && s.size() > 1 && (s[1] == '+' || s[1] == '-')) {
            int64_t v = number(lineno, s.substr(1));
            return static_cast<int32_t>(v);
        }
        auto it = labels_.find(std::string(s));
        if (it == labels_.end()) fail(lineno, "unknown label '" + std::string(s) + "'");
        return static_cast<int32_t>((static_cast<int64_t>(it->second) - pc) / VGPU_INSN_SIZE);
    }

    uint64_t encode(int lineno, const OpInfo& op, uint32_t mod, std::string_view args, uint32_t pc) const {
        auto ops = split_operands(args);
        auto want = [&](size_t n) {
            if (ops.size() != n)
                fail(lineno, std::string(op.name) + " takes " + std::to_string(n) + " operand(s)");
        };
        uint8_t rd = 0, ra = 0, rb = 0, rc = 0, re = 0;
        int32_t imm = 0;
        switch (static_cast<vgpu_fmt>(op.fmt)) {
        case VGPU_FMT_NONE: want(0); break;
        case VGPU_FMT_R: want(1); rd = reg(lineno, ops[0]); break;
        case VGPU_FMT_RRRR:
            want(4);
            rd = reg(lineno, ops[0]); ra = reg(lineno, ops[1]); rb = reg(lineno, ops[2]); rc = reg(lineno, ops[3]);
            break;
        case VGPU_FMT_RRRRR:
            want(5);
            rd = reg(lineno, ops[0]); ra = reg(lineno, ops[1]); rb = reg(lineno, ops[2]); rc = reg(lineno, ops[3]);
            re = reg(lineno, ops[4]);
            break;
        case VGPU_FMT_RRR: want(3); rd = reg(lineno, ops[0]); ra = reg(lineno, ops[1]); rb = reg(lineno, ops[2]); break;
        case VGPU_FMT_RRI: want(3); rd = reg(lineno, ops[0]); ra = reg(lineno, ops[1]); imm = imm32(lineno, ops[2]); break;
        case VGPU_FMT_RR: want(2); rd = reg(lineno, ops[0]); ra = reg(lineno, ops[1]); break;
        case VGPU_FMT_RI: want(2); rd = reg(lineno, ops[0]); imm = imm32(lineno, ops[1]); break;
        case VGPU_FMT_RS: {
            want(2);
            rd = reg(lineno, ops[0]);
            std::string_view s = trim(ops[1]);
            if (s.empty() || s[0] != '%') fail(lineno, "expected a special register like %tid.x");
            s.remove_prefix(1);
            auto it = std::find_if(kSregs.begin(), kSregs.end(), [&](const char* n) { return s == n; });
            if (it == kSregs.end()) fail(lineno, "unknown special register '%" + std::string(s) + "'");
            imm = static_cast<int32_t>(it - kSregs.begin());
            break;
        }
        case VGPU_FMT_LD: want(2); rd = reg(lineno, ops[0]); std::tie(ra, imm) = mem(lineno, ops[1]); break;
        case VGPU_FMT_ST: want(2); std::tie(ra, imm) = mem(lineno, ops[0]); rb = reg(lineno, ops[1]); break;
        case VGPU_FMT_ATOM: want(3); rd = reg(lineno, ops[0]); std::tie(ra, imm) = mem(lineno, ops[1]); rb = reg(lineno, ops[2]); break;
        case VGPU_FMT_BR: want(1); imm = target(lineno, ops[0], pc); break;
        case VGPU_FMT_BRC: want(2); ra = reg(lineno, ops[0]); imm = target(lineno, ops[1], pc); break;
        }
        if (op.flags & VGPU_OPF_WIDTH && imm != 8 && imm != 16 && imm != 32)
            fail(lineno, std::string(op.name) + " takes a width of 8, 16 or 32");
        if (op.flags & VGPU_OPF_PARAM && (imm < 0 || imm >= VGPU_NUM_PARAMS))
            fail(lineno, std::string(op.name) + " takes a parameter index 0.." + std::to_string(VGPU_NUM_PARAMS - 1));
        if (regs_only(op.fmt)) imm = VGPU_IMM_REGS(rc, re, mod);
        return vgpu_insn(op.opcode, rd, ra, rb, imm);
    }

    std::string_view src_;
    std::string file_;
    std::map<std::string, uint32_t> labels_;
    ModuleImage img_;
};

std::string imm_text(int32_t imm) {
    return std::to_string(imm);
}

std::string mem_text(uint8_t ra, int32_t imm) {
    std::string s = "[r" + std::to_string(ra);
    if (imm > 0) s += "+" + std::to_string(imm);
    if (imm < 0) s += "-" + std::to_string(-static_cast<int64_t>(imm));
    return s + "]";
}

struct Fields {
    bool rd, ra, rb, imm;
};

// Formats whose imm32 holds rc, re and the modifier.
bool regs_only(uint8_t f) {
    return f == VGPU_FMT_NONE || f == VGPU_FMT_R || f == VGPU_FMT_RR || f == VGPU_FMT_RRR ||
           f == VGPU_FMT_RRRR || f == VGPU_FMT_RRRRR;
}

// Which fields of the instruction word a format uses.
Fields fields_of(vgpu_fmt f) {
    switch (f) {
    case VGPU_FMT_NONE: return {false, false, false, false};
    case VGPU_FMT_R: return {true, false, false, false};
    case VGPU_FMT_RRR: return {true, true, true, false};
    case VGPU_FMT_RRI: return {true, true, false, true};
    case VGPU_FMT_RR: return {true, true, false, false};
    case VGPU_FMT_RI: return {true, false, false, true};
    case VGPU_FMT_RS: return {true, false, false, true};
    case VGPU_FMT_LD: return {true, true, false, true};
    case VGPU_FMT_ST: return {false, true, true, true};
    case VGPU_FMT_ATOM: return {true, true, true, true};
    case VGPU_FMT_BR: return {false, false, false, true};
    case VGPU_FMT_BRC: return {false, true, false, true};
    case VGPU_FMT_RRRR: return {true, true, true, true};
    case VGPU_FMT_RRRRR: return {true, true, true, true};
    }
    return {true, true, true, true};
}

std::string word_text(uint64_t w) {
    std::ostringstream o;
    o << ".word 0x" << std::hex << w;
    return o.str();
}

std::string insn_text(uint64_t w, const std::string& target) {
    vgpu_dinsn d;
    if (!vgpu_isa_decode(w, &d)) return word_text(w);
    const OpInfo* op = find_op(d.op);
    auto R = [](uint8_t r) { return "r" + std::to_string(r); };
    uint8_t rd = d.rd, ra = d.ra, rb = d.rb;
    int32_t imm = d.imm;
    std::string s = op->name + modifier_text(op->mod, d.mod);
    switch (static_cast<vgpu_fmt>(op->fmt)) {
    case VGPU_FMT_NONE: break;
    case VGPU_FMT_R: s += " " + R(rd); break;
    case VGPU_FMT_RRR: s += " " + R(rd) + ", " + R(ra) + ", " + R(rb); break;
    case VGPU_FMT_RRRR: s += " " + R(rd) + ", " + R(ra) + ", " + R(rb) + ", " + R(d.rc); break;
    case VGPU_FMT_RRRRR:
        s += " " + R(rd) + ", " + R(ra) + ", " + R(rb) + ", " + R(d.rc) + ", " + R(d.re);
        break;
    case VGPU_FMT_RRI: s += " " + R(rd) + ", " + R(ra) + ", " + imm_text(imm); break;
    case VGPU_FMT_RR: s += " " + R(rd) + ", " + R(ra); break;
    case VGPU_FMT_RI: s += " " + R(rd) + ", " + imm_text(imm); break;
    case VGPU_FMT_RS: s += " " + R(rd) + ", %" + kSregs[imm]; break;
    case VGPU_FMT_LD: s += " " + R(rd) + ", " + mem_text(ra, imm); break;
    case VGPU_FMT_ST: s += " " + mem_text(ra, imm) + ", " + R(rb); break;
    case VGPU_FMT_ATOM: s += " " + R(rd) + ", " + mem_text(ra, imm) + ", " + R(rb); break;
    case VGPU_FMT_BR: s += " " + target; break;
    case VGPU_FMT_BRC: s += " " + R(ra) + ", " + target; break;
    }
    // Fields the format does not use must be zero to round-trip.
    Fields f = fields_of(static_cast<vgpu_fmt>(op->fmt));
    int32_t imm_word = regs_only(op->fmt) ? VGPU_IMM_REGS(d.rc, d.re, d.mod) : imm;
    if (vgpu_insn(op->opcode, f.rd ? rd : 0, f.ra ? ra : 0, f.rb ? rb : 0, imm_word) != w)
        return word_text(w);
    return s;
}

template <typename T>
void put(std::vector<uint8_t>& out, const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}

}  // namespace

const KernelInfo& ModuleImage::kernel(std::string_view name) const {
    for (const auto& k : kernels)
        if (k.name == name) return k;
    throw std::out_of_range("module has no kernel named '" + std::string(name) + "'");
}

std::vector<uint8_t> ModuleImage::serialize() const {
    std::vector<uint8_t> out;
    vgpu_module_header h{VGPU_MODULE_MAGIC, VGPU_ISA_VERSION, static_cast<uint32_t>(kernels.size()),
                         static_cast<uint32_t>(code.size() * VGPU_INSN_SIZE)};
    put(out, h);
    for (const auto& k : kernels) {
        vgpu_module_kernel e{};
        std::strncpy(e.name, k.name.c_str(), sizeof(e.name) - 1);
        e.offset = k.offset;
        e.shared_size = k.shared_size;
        e.num_params = k.num_params;
        put(out, e);
    }
    for (uint64_t w : code) put(out, w);
    return out;
}

ModuleImage ModuleImage::parse(std::span<const uint8_t> bytes) {
    vgpu_module_header h;
    if (bytes.size() < sizeof(h)) throw ModuleFormatError("module image truncated (no header)");
    std::memcpy(&h, bytes.data(), sizeof(h));
    if (h.magic != VGPU_MODULE_MAGIC) throw ModuleFormatError("not a vgpu module (bad magic)");
    // Version 2 only added instructions: a version 1 module runs as it is.
    if (h.version == 0 || h.version > VGPU_ISA_VERSION)
        throw ModuleFormatError("module is for ISA version " + std::to_string(h.version));
    if (h.code_size % VGPU_INSN_SIZE || h.num_kernels == 0 || h.num_kernels > 4096)
        throw ModuleFormatError("module header is inconsistent");
    size_t need = sizeof(h) + size_t{h.num_kernels} * sizeof(vgpu_module_kernel) + h.code_size;
    if (bytes.size() != need) throw ModuleFormatError("module image size does not match its header");
    ModuleImage img;
    size_t off = sizeof(h);
    for (uint32_t i = 0; i < h.num_kernels; i++, off += sizeof(vgpu_module_kernel)) {
        vgpu_module_kernel e;
        std::memcpy(&e, bytes.data() + off, sizeof(e));
        if (std::memchr(e.name, 0, sizeof(e.name)) == nullptr) throw ModuleFormatError("kernel name not terminated");
        if (e.offset % VGPU_INSN_SIZE || e.offset >= h.code_size || e.shared_size > VGPU_MAX_SHARED ||
            e.num_params > VGPU_NUM_PARAMS)
            throw ModuleFormatError("kernel table entry out of range");
        img.kernels.push_back(KernelInfo{e.name, e.offset, e.shared_size, e.num_params});
    }
    img.code.resize(h.code_size / VGPU_INSN_SIZE);
    std::memcpy(img.code.data(), bytes.data() + off, h.code_size);
    return img;
}

ModuleImage assemble(std::string_view source, std::string_view file) {
    return Assembler(source, file).run();
}

std::string disassemble_insn(uint64_t w) {
    int32_t imm = vgpu_insn_imm(w);
    return insn_text(w, std::string(".") + (imm >= 0 ? "+" : "") + std::to_string(imm));
}

std::string disassemble(const ModuleImage& img) {
    // Name every branch target, so the output reassembles to the same words.
    std::map<uint32_t, std::string> labels;
    for (size_t i = 0; i < img.code.size(); i++) {
        const OpInfo* op = find_op(vgpu_insn_op(img.code[i]));
        if (op && (op->fmt == VGPU_FMT_BR || op->fmt == VGPU_FMT_BRC)) {
            int64_t t = static_cast<int64_t>(i) + vgpu_insn_imm(img.code[i]);
            if (t >= 0 && t <= static_cast<int64_t>(img.code.size()))
                labels.emplace(static_cast<uint32_t>(t * VGPU_INSN_SIZE), "L" + std::to_string(t));
        }
    }
    std::ostringstream o;
    for (size_t i = 0; i <= img.code.size(); i++) {
        uint32_t pc = static_cast<uint32_t>(i * VGPU_INSN_SIZE);
        for (const auto& k : img.kernels) {
            if (k.offset != pc) continue;
            o << ".kernel " << k.name << "\n";
            if (k.shared_size) o << ".shared " << k.shared_size << "\n";
            if (k.num_params) o << ".params " << k.num_params << "\n";
        }
        if (auto it = labels.find(pc); it != labels.end()) o << it->second << ":\n";
        if (i == img.code.size()) break;
        uint64_t w = img.code[i];
        std::string target;
        const OpInfo* op = find_op(vgpu_insn_op(w));
        if (op && (op->fmt == VGPU_FMT_BR || op->fmt == VGPU_FMT_BRC)) {
            int64_t t = static_cast<int64_t>(i) + vgpu_insn_imm(w);
            auto it = labels.find(static_cast<uint32_t>(t * VGPU_INSN_SIZE));
            int32_t imm = vgpu_insn_imm(w);
            target = (t >= 0 && it != labels.end()) ? it->second
                                                     : std::string(".") + (imm >= 0 ? "+" : "") + std::to_string(imm);
        }
        o << "\t" << insn_text(w, target) << "\n";
    }
    return o.str();
}

}  // namespace vgpu
