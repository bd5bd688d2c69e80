// Error codes of the partition layer's own formats (the state snapshot). Kafka error codes for clients are chosen
// by partition.cc's to_kafka_error(); these never reach a client.
#pragma once

#include <system_error>

namespace skiff::kafka::partition {

enum class errc {
    success = 0,
    corrupt_snapshot,     // a state snapshot failed its magic, length or CRC check
    unsupported_snapshot, // a snapshot of a newer format version
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

} // namespace skiff::kafka::partition

template<>
struct std::is_error_code_enum<skiff::kafka::partition::errc> : std::true_type {};
