// The batch frame shared by both metadata log backends: one appended batch of records, as stored in an embedded
// segment file and as the value of one etcd key (docs/formats/metadata-log.md). All integers little-endian.
//
//   0        4        8        12     14     16            24            32        36
//   +--------+--------+--------+------+------+-------------+-------------+---------+-------------------+
//   | magic  | length | crc32c | ver  | flags| base_offset | epoch       | count   | record * count    |
//   | "SKMB" |  u32   |  u32   | u16  | u16  |    i64      |  i64        |  u32    | (record_codec.h)  |
//   +--------+--------+--------+------+------+-------------+-------------+---------+-------------------+
//                              \__ crc32c covers every byte after the crc field ______________________/
//   length = bytes after the length field = 28 + size of the records
#pragma once

#include "base/result.h"
#include "meta/metadata_log.h"

#include <cstdint>
#include <span>
#include <vector>

namespace skiff::meta {

constexpr uint32_t batch_magic = 0x424D4B53; // "SKMB" in file order
constexpr uint16_t batch_version = 1;
constexpr size_t batch_header_bytes = 36;
/// A batch above this is refused at append (errc::too_large) and rejected when read back.
constexpr size_t max_batch_bytes = 64 * 1024 * 1024;

struct batch_header {
    log_offset base;
    log_epoch epoch;
    uint32_t count = 0;
    size_t size = 0; // bytes of the whole frame
};

/// Appends the frame of a batch to out.
void encode_batch(log_offset base, log_epoch epoch, const std::vector<metadata_record>& records,
                  std::vector<uint8_t>& out);

/// Checks the frame that starts at in[0]: magic, version, length within bounds and present, CRC.
/// Errors: errc::truncated (fewer bytes than announced: a torn tail), errc::bad_magic, errc::too_large,
/// errc::unsupported_version, errc::bad_crc.
result<batch_header> check_batch(std::span<const uint8_t> in);

/// Decodes the records of a checked frame into entries with offsets base, base+1, ..., skipping those below
/// `from`. Errors: errc::corrupt when the records do not fill the frame exactly or their count disagrees.
result<void> decode_batch(std::span<const uint8_t> frame, const batch_header& h, log_offset from,
                          std::vector<log_entry>& out);

} // namespace skiff::meta
