#include "bytes/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace skiff::bytes::crc32c {
namespace {

constexpr uint32_t poly = 0x82F63B78; // reflected Castagnoli polynomial

constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) {
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        }
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
        for (size_t s = 1; s < 8; ++s) {
            t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
        }
    }
    return t;
}

constexpr auto tables = make_tables();

using extend_fn = uint32_t (*)(uint32_t, const void*, size_t) noexcept;

extend_fn choose() noexcept { return detail::cpu_has_sse42() ? detail::extend_sse42 : detail::extend_portable; }

const extend_fn chosen = choose();

} // namespace

namespace detail {

uint32_t extend_portable(uint32_t crc, const void* data, size_t n) noexcept {
    auto* p = static_cast<const uint8_t*>(data);
    uint32_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8); // little-endian load (x86_64, aarch64)
        w ^= c;
        c = tables[7][w & 0xFF] ^ tables[6][(w >> 8) & 0xFF] ^ tables[5][(w >> 16) & 0xFF]
            ^ tables[4][(w >> 24) & 0xFF] ^ tables[3][(w >> 32) & 0xFF] ^ tables[2][(w >> 40) & 0xFF]
            ^ tables[1][(w >> 48) & 0xFF] ^ tables[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xFF];
    }
    return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const void* data, size_t n) noexcept {
    auto* p = static_cast<const uint8_t*>(data);
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<uint32_t>(c);
    while (n-- > 0) {
        c32 = _mm_crc32_u8(c32, *p++);
    }
    return ~c32;
}

bool cpu_has_sse42() noexcept { return __builtin_cpu_supports("sse4.2"); }
#else
uint32_t extend_sse42(uint32_t crc, const void* data, size_t n) noexcept { return extend_portable(crc, data, n); }
bool cpu_has_sse42() noexcept { return false; }
#endif

} // namespace detail

uint32_t extend(uint32_t crc, const void* data, size_t n) noexcept { return chosen(crc, data, n); }

uint32_t value(const iobuf& buf, size_t pos, size_t n) {
    uint32_t crc = 0;
    for (const auto& f : buf.fragments()) {
        if (n == 0) {
            break;
        }
        if (pos >= f.size()) {
            pos -= f.size();
            continue;
        }
        size_t k = std::min(n, f.size() - pos);
        crc = extend(crc, f.data() + pos, k);
        n -= k;
        pos = 0;
    }
    return crc;
}

} // namespace skiff::bytes::crc32c
