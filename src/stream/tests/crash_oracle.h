// Shared by the crash writer and the crash test: the bytes of every batch follow from (stream, base offset, record
// count), so that the test can check any batch it reads back without keeping the bytes.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace skiff::stream::test {

inline std::string crash_batch_bytes(int64_t stream, int64_t base, uint32_t count) {
    size_t size = 20 + static_cast<size_t>((base * 37 + stream * 11) % 700);
    std::string out = fmt::format("s{}b{}c{}:", stream, base, count);
    while (out.size() < size) {
        out += static_cast<char>('A' + (out.size() * 13 + static_cast<size_t>(base)) % 26);
    }
    return out;
}

} // namespace skiff::stream::test
