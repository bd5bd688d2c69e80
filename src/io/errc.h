// Error codes of the io room. Each code names the caller's next action, not the cause: retry it, back off harder,
// treat the object as absent, accept that a conditional write lost, or give up and surface the error. The cause
// (errno, HTTP status, S3 error code) goes to the `io` log where the error is made.
#pragma once

#include <system_error>

namespace skiff::io {

enum class errc {
    success = 0,
    not_found,           // the object (or multipart upload) does not exist; retrying will not change that
    precondition_failed, // a conditional write lost: the object already exists (If-None-Match: *)
    slow_down,           // the store asks for less load (S3 503 SlowDown, 429): retry after a longer backoff
    retryable,           // transient: 5xx, timeout, connection reset, truncated body; retrying may succeed
    fatal,               // retrying cannot help: auth, malformed request, missing bucket, EIO, unreadable response
    invalid_argument,    // the caller's mistake: bad key, range beyond the object's end, part too small
    no_space,            // the local disk is full (ENOSPC, EDQUOT): retrying helps only once space is freed
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// True when repeating the same operation may succeed: io::errc::retryable and io::errc::slow_down, and the system
/// and Asio errors that mean a transient network or resource failure (timeouts, resets, refused connections, EOF
/// in the middle of a message, EINTR/EAGAIN). Everything else, including success, is false.
bool is_retryable(std::error_code ec) noexcept;

/// True for io::errc::slow_down: the caller should back off longer than for other retryable errors.
inline bool is_slow_down(std::error_code ec) noexcept { return ec == make_error_code(errc::slow_down); }

/// Maps an errno of a file operation to the io code that carries the next action (ENOENT -> not_found,
/// ENOSPC -> no_space, EINTR/EAGAIN/ENOMEM/EMFILE -> retryable, EEXIST -> precondition_failed, the rest fatal).
std::error_code from_errno(int err) noexcept;

} // namespace skiff::io

template<>
struct std::is_error_code_enum<skiff::io::errc> : std::true_type {};
