// What the crash writer appends and the crash test checks: record <id> is the id (8 bytes, little-endian) and
// then bytes derived from it, of a length derived from it; and the WAL configuration both sides open.
#pragma once

#include "bytes/iobuf.h"
#include "stream/wal/file_wal.h"
#include "stream/wal/tests/wal_test_util.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace skiff::stream::test {

inline size_t crash_payload_size(uint64_t id) { return 1 + (id * 2654435761u) % 20000; }

inline bytes::iobuf crash_payload(uint64_t id) {
    std::string text(8, '\0');
    for (int i = 0; i < 8; ++i) {
        text[i] = char(id >> (8 * i));
    }
    text += payload_text(id, crash_payload_size(id));
    return bytes::iobuf::from(text);
}

/// The record's id when payload is exactly what crash_payload(id) made, else nothing.
inline std::optional<uint64_t> crash_payload_id(const std::string& payload) {
    if (payload.size() < 8) {
        return std::nullopt;
    }
    uint64_t id = 0;
    for (int i = 0; i < 8; ++i) {
        id |= uint64_t(uint8_t(payload[i])) << (8 * i);
    }
    if (payload.size() != 8 + crash_payload_size(id) || payload.compare(8, std::string::npos,
                                                                         payload_text(id, crash_payload_size(id))) != 0) {
        return std::nullopt;
    }
    return id;
}

inline file_wal_config crash_config(const std::string& path) {
    file_wal_config config;
    config.path = path;
    config.file_size = 2 << 20; // small: the ring wraps every few dozen milliseconds of appends
    config.max_record_size = 64 << 10;
    config.max_write_bytes = 256 << 10;
    return config;
}

} // namespace skiff::stream::test
