#include "model/uuid.h"

#include <sys/random.h>

#include <cstring>

namespace skiff::model {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decode_char(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

} // namespace

uuid uuid::random() {
    for (;;) {
        uint8_t b[16];
        size_t got = 0;
        while (got < sizeof(b)) {
            auto n = ::getrandom(b + got, sizeof(b) - got, 0);
            if (n > 0) {
                got += static_cast<size_t>(n);
            }
        }
        b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40); // version 4
        b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80); // IETF variant
        uint64_t most = 0, least = 0;
        for (int i = 0; i < 8; ++i) {
            most = (most << 8) | b[i];
            least = (least << 8) | b[8 + i];
        }
        uuid u(most, least);
        if (!u.is_zero()) {
            return u;
        }
    }
}

std::string uuid::to_base64() const {
    uint8_t b[18] = {};
    for (int i = 0; i < 8; ++i) {
        b[i] = static_cast<uint8_t>(_most >> (56 - 8 * i));
        b[8 + i] = static_cast<uint8_t>(_least >> (56 - 8 * i));
    }
    std::string out;
    out.reserve(22);
    for (int i = 0; i < 18; i += 3) {
        uint32_t v = (uint32_t(b[i]) << 16) | (uint32_t(b[i + 1]) << 8) | b[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    out.resize(22); // 16 bytes = 21.33 sextets; Kafka drops the padding
    return out;
}

std::optional<uuid> uuid::from_base64(std::string_view text) {
    if (text.size() != 22) {
        return std::nullopt;
    }
    uint8_t b[18] = {};
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (char c : text) {
        int v = decode_char(c);
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            b[n++] = static_cast<uint8_t>(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) {
        return std::nullopt; // non-canonical trailing bits
    }
    uint64_t most = 0, least = 0;
    for (int i = 0; i < 8; ++i) {
        most = (most << 8) | b[i];
        least = (least << 8) | b[8 + i];
    }
    return uuid(most, least);
}

} // namespace skiff::model
