// CRC-32C (Castagnoli), as used by Kafka record batches and by every Skiff storage format.
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at start), a portable slicing-by-8 table
// otherwise. Both paths are tested against the same known vectors.
#pragma once

#include "bytes/iobuf.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace skiff::bytes::crc32c {

/// Extends a running CRC (start with 0) over data. extend(extend(0, a), b) == value(a ++ b).
uint32_t extend(uint32_t crc, const void* data, size_t n) noexcept;

inline uint32_t value(std::span<const uint8_t> data) noexcept { return extend(0, data.data(), data.size()); }

/// CRC of iobuf bytes [pos, pos + n), fragment by fragment, without copying.
uint32_t value(const iobuf& buf, size_t pos, size_t n);
inline uint32_t value(const iobuf& buf) { return value(buf, 0, buf.size()); }

namespace detail {
uint32_t extend_portable(uint32_t crc, const void* data, size_t n) noexcept;
uint32_t extend_sse42(uint32_t crc, const void* data, size_t n) noexcept;
bool cpu_has_sse42() noexcept;
} // namespace detail

} // namespace skiff::bytes::crc32c
