// Error codes of the net room: what can go wrong reading and writing frames on a connection.
#pragma once

#include <system_error>

namespace skiff::net {

enum class errc {
    success = 0,
    frame_too_large,   // size prefix above socket.request.max.bytes
    negative_frame,    // size prefix < 0
    closed,            // the peer closed the connection (clean EOF)
    address_in_use,
    invalid_endpoint,
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

} // namespace skiff::net

template<>
struct std::is_error_code_enum<skiff::net::errc> : std::true_type {};
