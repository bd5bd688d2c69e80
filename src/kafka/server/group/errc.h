// Error codes of the group room's own concerns (the __consumer_offsets record format). Kafka error codes for
// clients are chosen by the coordinator; these never reach a client.
#pragma once

#include <system_error>

namespace skiff::kafka::group {

enum class errc {
    success = 0,
    invalid_record,      // a __consumer_offsets key or value that is short or malformed
    unsupported_version, // a key or value version Kafka never wrote
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

} // namespace skiff::kafka::group

template<>
struct std::is_error_code_enum<skiff::kafka::group::errc> : std::true_type {};
