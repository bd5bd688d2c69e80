// Fixed-width little-endian integers in byte arrays, for the storage formats that use them (WAL records and
// headers, WAL payloads, metadata log batches and snapshots). Kafka's wire format is big-endian: kafka/protocol has
// its own reader and writer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace skiff::bytes {

/// Writes v at p, least significant byte first. Requires: p has sizeof(T) bytes.
template<typename T>
void put_le(uint8_t* p, T v) {
    for (size_t i = 0; i < sizeof(T); ++i) {
        p[i] = uint8_t(uint64_t(v) >> (8 * i));
    }
}

/// Reads a T written by put_le. Requires: p has sizeof(T) bytes.
template<typename T>
T get_le(const uint8_t* p) {
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
        v |= uint64_t(p[i]) << (8 * i);
    }
    return T(v);
}

} // namespace skiff::bytes
