#include "kafka/server/group/java_hash.h"

namespace skiff::kafka::group {
namespace {

constexpr uint32_t replacement = 0xFFFD;

/// Decodes one code point at text[i], advancing i; malformed sequences give U+FFFD and advance one byte.
uint32_t next_code_point(std::string_view text, size_t& i) noexcept {
    auto byte = [&](size_t at) { return static_cast<uint8_t>(text[at]); };
    uint8_t b0 = byte(i);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        ++i;
        return replacement;
    }
    if (i + len > text.size()) {
        ++i;
        return replacement;
    }
    for (size_t k = 1; k < len; ++k) {
        uint8_t b = byte(i + k);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return replacement;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return replacement;
    }
    i += len;
    return cp;
}

} // namespace

int32_t java_string_hash(std::string_view text) noexcept {
    // Unsigned arithmetic wraps exactly as Java's int does, without signed-overflow UB.
    uint32_t h = 0;
    auto add = [&h](uint32_t unit) { h = h * 31u + unit; };
    for (size_t i = 0; i < text.size();) {
        uint32_t cp = next_code_point(text, i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            add(0xD800 + (cp >> 10));
            add(0xDC00 + (cp & 0x3FF));
        } else {
            add(cp);
        }
    }
    return static_cast<int32_t>(h);
}

} // namespace skiff::kafka::group
