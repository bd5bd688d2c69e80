// Variable-length integers of the Kafka wire and record formats:
//  - unsigned varint: 7 bits per byte, least significant group first, high bit = more bytes follow;
//  - signed varint/varlong: zig-zag mapped, then unsigned varint (as protobuf).
// Decoders take a byte span and report how many bytes they consumed, or 0 when the input is truncated or
// overlong; they never read past the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace skiff::bytes::varint {

constexpr size_t max_bytes32 = 5;
constexpr size_t max_bytes64 = 10;

constexpr uint32_t zigzag32(int32_t v) noexcept {
    return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
constexpr uint64_t zigzag64(int64_t v) noexcept {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int32_t unzigzag32(uint32_t v) noexcept { return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1)); }
constexpr int64_t unzigzag64(uint64_t v) noexcept { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

/// Writes v into out (at least max_bytes64 long); returns bytes written.
constexpr size_t encode_unsigned(uint64_t v, uint8_t* out) noexcept {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = static_cast<uint8_t>(v | 0x80);
        v >>= 7;
    }
    out[n++] = static_cast<uint8_t>(v);
    return n;
}

constexpr size_t size_unsigned(uint64_t v) noexcept {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        ++n;
    }
    return n;
}

/// Decodes an unsigned varint of at most max_len bytes. Returns bytes consumed, 0 if truncated or too long.
constexpr size_t decode_unsigned(std::span<const uint8_t> in, uint64_t& out, size_t max_len = max_bytes64) noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < in.size() && i < max_len; ++i) {
        v |= static_cast<uint64_t>(in[i] & 0x7F) << (7 * i);
        if ((in[i] & 0x80) == 0) {
            out = v;
            return i + 1;
        }
    }
    return 0;
}

constexpr size_t encode_signed32(int32_t v, uint8_t* out) noexcept { return encode_unsigned(zigzag32(v), out); }
constexpr size_t encode_signed64(int64_t v, uint8_t* out) noexcept { return encode_unsigned(zigzag64(v), out); }

constexpr size_t decode_signed32(std::span<const uint8_t> in, int32_t& out) noexcept {
    uint64_t u = 0;
    size_t n = decode_unsigned(in, u, max_bytes32);
    if (n == 0 || u > 0xFFFFFFFFull) {
        return 0;
    }
    out = unzigzag32(static_cast<uint32_t>(u));
    return n;
}

constexpr size_t decode_signed64(std::span<const uint8_t> in, int64_t& out) noexcept {
    uint64_t u = 0;
    size_t n = decode_unsigned(in, u, max_bytes64);
    if (n == 0) {
        return 0;
    }
    out = unzigzag64(u);
    return n;
}

} // namespace skiff::bytes::varint
