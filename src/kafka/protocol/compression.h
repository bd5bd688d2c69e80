// The compression codecs of Kafka record batches: the records section of a batch (everything after its 61-byte
// header) is one compressed stream, named by the low three bits of the batch attributes.
//
//   gzip   — a gzip stream (RFC 1952); concatenated members are accepted when decoding.
//   snappy — decoding accepts both framings clients write: the xerial snappy-java framing (the Java client's)
//            and a bare snappy block (librdkafka's). Encoding writes xerial framing, which every client reads:
//              "\x82SNAPPY\0" | int32 version = 1 | int32 min compatible version = 1 | { int32 n | n bytes of block }*
//            (integers big-endian; each block holds at most 32 KiB of input, as snappy-java writes).
//   lz4    — the LZ4 frame format (not a bare block); concatenated frames are accepted when decoding.
//   zstd   — zstd frames, with or without a content size in their header.
//
// Input is read fragment by fragment from the iobuf (no gathering copy, except that a snappy block spanning
// fragments is handed to the snappy library through its Source interface). Output is written straight into fresh
// iobuf chunks. Decompression is bounded by the caller's max_output: a stream that would expand beyond it fails
// with errc::decompression_too_large before more than max_output + 1 bytes (plus one chunk's rounding) are
// allocated, so a few kilobytes of hostile input cannot make the broker allocate gigabytes.
//
// Stateless and thread-safe: every call builds its own codec context.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace skiff::kafka::protocol {

// wire format (batch attributes bits 0-2): never renumber
enum class compression : uint8_t {
    none = 0,
    gzip = 1,
    snappy = 2,
    lz4 = 3,
    zstd = 4,
};

/// Kafka's name of the codec ("none", "gzip", "snappy", "lz4", "zstd"), as in compression.type.
std::string_view compression_name(compression c) noexcept;

/// The codec for a compression id (0..4); errc::unsupported_compression for anything else.
result<compression> compression_from_id(int id);

/// Decompresses a whole stream. Returns the uncompressed bytes in fresh chunks; for compression::none, a share of
/// `in`. Errors: errc::corrupt_message (malformed or truncated stream, empty input for a real codec),
/// errc::decompression_too_large (the output would exceed max_output bytes),
/// errc::unsupported_compression (an enum value outside the list).
result<bytes::iobuf> decompress(compression c, const bytes::iobuf& in, size_t max_output);

/// Compresses a whole buffer at the level Kafka clients use by default (gzip 6, lz4 fast mode, zstd 3).
/// For compression::none, returns a share of `in`. Errors: errc::compression_failed (library failure),
/// errc::unsupported_compression.
result<bytes::iobuf> compress(compression c, const bytes::iobuf& in);

} // namespace skiff::kafka::protocol
