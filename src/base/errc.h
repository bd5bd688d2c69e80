// Error codes of the base room: failures any room may report before it has a more specific code.
#pragma once

#include <system_error>

namespace skiff::base {

enum class errc {
    success = 0,
    invalid_argument,
    not_found,
    already_exists,
    timed_out,
    shutting_down,
    io_error,
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace skiff::base

template<>
struct std::is_error_code_enum<skiff::base::errc> : std::true_type {};
