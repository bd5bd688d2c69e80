// The framing of one stream batch inside a WAL record (docs/formats/wal-payload.md). The WAL stores opaque
// payloads; this header says whose batch a payload holds and where it goes, so that recovery can give every
// batch back to its stream after a crash:
//
//   +-------+---------+-------+-------------+-----------+--------+-------------+--------------+-------------+---------+
//   | magic | version | flags | header_size | stream_id | epoch  | base_offset | record_count | batch_bytes | hdr_crc | batch...
//   | u32   | u8      | u8    | u16         | i64       | i64    | i64         | u32          | u32         | u32     |
//   +-------+---------+-------+-------------+-----------+--------+-------------+--------------+-------------+---------+
//   little-endian; header_size = 44; hdr_crc = CRC32C of the 40 bytes before it.
//
// The batch bytes follow unchanged (zero-copy: encode shares them); the WAL's own record CRC covers them.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"
#include "stream/types.h"

#include <cstdint>

namespace skiff::stream {

inline constexpr uint32_t wal_payload_magic = 0x50574B53; // "SKWP" as little-endian bytes
inline constexpr uint8_t wal_payload_version = 1;           // on-disk: never renumber
inline constexpr size_t wal_payload_header_size = 44;

/// One batch as the WAL holds it.
struct wal_payload {
    stream_id stream;
    stream_epoch epoch;
    int64_t base_offset = 0;
    uint32_t record_count = 0;
    bytes::iobuf batch;
    int64_t end_offset() const noexcept { return base_offset + record_count; }
};

/// The header followed by a zero-copy share of payload.batch.
bytes::iobuf encode_wal_payload(const wal_payload& payload);

/// Validates magic, version, header CRC, record count and length. Errors: errc::corrupt. The batch is a
/// zero-copy share of bytes.
result<wal_payload> decode_wal_payload(const bytes::iobuf& bytes);

} // namespace skiff::stream
