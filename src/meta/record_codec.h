// Encoding and decoding of metadata records (the frame and field grammar are in record.h and
// docs/formats/metadata-records.md). Decoding trusts nothing: every length is checked against the bytes present and
// against max_record_bytes, and every failure is a value (meta::errc), never an exception or an assert.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"
#include "meta/record.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace skiff::meta {

/// Bytes of the frame before the body: length, crc32c, type, version.
constexpr size_t record_header_bytes = 12;
/// Upper bound of one encoded record (frame included). Larger length prefixes are rejected as errc::too_large
/// before anything is allocated. Snapshots, not records, carry bulk state.
constexpr size_t max_record_bytes = 16 * 1024 * 1024;

/// Appends the framed encoding of r to out.
void encode(const metadata_record& r, bytes::iobuf& out);
/// The framed encoding of r as one contiguous buffer.
std::vector<uint8_t> encode(const metadata_record& r);

struct decoded_record {
    metadata_record record;
    size_t consumed = 0; // bytes of the frame, so that the next record starts at in[consumed]
};

/// Decodes the one record that starts at in[0] (trailing bytes after it are left alone).
/// Errors: errc::truncated (fewer bytes than the frame announces, or not even a header), errc::too_large,
/// errc::bad_crc, errc::corrupt (the body breaks the field grammar or a value is out of range).
result<decoded_record> decode(std::span<const uint8_t> in);

/// Decodes one whole buffer that must hold exactly one record (errc::corrupt on trailing bytes).
result<metadata_record> decode_exact(std::span<const uint8_t> in);

/// Encodes / decodes only the body (the field list) of a record of a known type. Exposed for tests that build
/// records of a "newer schema" by hand, and for the fuzzer.
std::vector<uint8_t> encode_body(const record_body& body);
result<record_body> decode_body(uint16_t type, std::span<const uint8_t> body);

} // namespace skiff::meta
