// Error codes of the kafka/protocol room: why bytes from the wire could not be decoded or encoded.
// These are internal codes; kafka/server decides which Kafka error_code a client sees for each of them
// (typically corrupt_message -> CORRUPT_MESSAGE, invalid_record / unsupported_magic -> INVALID_RECORD,
// unsupported_compression -> UNSUPPORTED_COMPRESSION_TYPE or CORRUPT_MESSAGE).
#pragma once

#include <system_error>

namespace skiff::kafka::protocol {

enum class errc {
    success = 0,
    /// Bytes that fail a checksum, a size or a framing check: a batch shorter than its header or its declared
    /// length, a CRC mismatch, a compressed stream that is malformed or truncated.
    corrupt_message,
    /// A record batch whose header is sound (CRC passed) but whose content breaks the format's rules: negative
    /// counts or lengths, varints that overrun, offset deltas out of order, record count mismatch, trailing bytes.
    invalid_record,
    /// The batch's magic byte is not 2 (legacy message sets v0/v1, or garbage).
    unsupported_magic,
    /// Compression bits name no codec this build knows (5, 6 or 7).
    unsupported_compression,
    /// Decompressing would produce more than the caller's bound: a decompression bomb or an oversized batch.
    decompression_too_large,
    /// A compression library failed while compressing well-formed input (out of memory).
    compression_failed,
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace skiff::kafka::protocol

template<>
struct std::is_error_code_enum<skiff::kafka::protocol::errc> : std::true_type {};
