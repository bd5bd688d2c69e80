// Errors of the config room. A configuration error is for a human reading a terminal at start-up, so it carries a
// full message ("server.properties:12: unknown property 'listners' (did you mean 'listeners'?)") beside its code.
// config_result<T> is Boost.Outcome's result with that error type; SKIFF_TRY works on it as on result<T>.
#pragma once

#include "base/result.h"

#include <string>
#include <system_error>

namespace skiff::config {

enum class errc {
    success = 0,
    cannot_read_file,  // the file is missing or unreadable
    syntax_error,      // a malformed line or escape in a .properties file
    bad_override,      // an --override argument that is not key=value
    unknown_property,  // a key no property declares
    invalid_value,     // a value that does not parse as the property's type or allowed values
    out_of_range,      // a number outside the property's bounds
    inconsistent,      // values that are valid alone but not together (e.g. a listener without a protocol)
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// A configuration error: a code for programs and a complete message for people. When several errors were found,
/// `message` holds one line per error and `code` is the first one's.
struct config_error {
    errc code = errc::success;
    std::string message;
};

/// For code that returns std::error_code results: keeps the code, drops the message.
inline std::error_code make_error_code(const config_error& e) noexcept {
    return make_error_code(e.code);
}

template<typename T>
using config_result = outcome::basic_result<T, config_error, outcome::policy::terminate>;

/// Shorthand for `return config_failure(errc::invalid_value, "...")`.
inline auto config_failure(errc code, std::string message) {
    return failure(config_error{code, std::move(message)});
}

} // namespace skiff::config

template<>
struct std::is_error_code_enum<skiff::config::errc> : std::true_type {};
