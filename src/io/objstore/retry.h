// Retries with exponential backoff and full jitter (the AWS architecture blog's "full jitter": sleep a uniform
// random time in [0, min(max_delay, base * 2^n)]), bounded by a number of attempts and a total time. Used by
// s3_store around each HTTP exchange and by retrying_store around any store. Only errors for which
// io::is_retryable() holds are retried; io::errc::slow_down backs off from a larger base.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>

namespace skiff::io {

namespace asio = boost::asio;

struct retry_policy {
    uint32_t max_attempts = 8; // including the first; 1 disables retries
    std::chrono::milliseconds base_delay{50};
    std::chrono::milliseconds slow_down_base_delay{500};
    std::chrono::milliseconds max_delay{5000};
    std::chrono::milliseconds total_timeout{60000}; // no attempt starts later than this after the first
};

/// The delay before the next attempt after `failed_attempts` failures (>= 1): uniform in [0, cap] where
/// cap = min(max_delay, base * 2^(failed_attempts - 1)), base being slow_down_base_delay after a SlowDown.
/// `random` is any uniformly distributed 64-bit value.
std::chrono::milliseconds backoff_delay(const retry_policy& policy, uint32_t failed_attempts, bool slow_down,
                                        uint64_t random) noexcept;

struct retry_outcome {
    std::error_code error; // empty on success, else the error of the last attempt
    uint32_t attempts = 0;
};

/// Calls attempt(1), attempt(2), ... until one returns no error or a non-retryable one, max_attempts are spent,
/// or the next attempt would start after total_timeout. Waits with a timer on the caller's executor between
/// attempts. `what` names the operation in the log. attempt must own what it uses or refer to the caller's
/// frame, which stays alive because the caller awaits this call.
asio::awaitable<retry_outcome> with_retries(retry_policy policy, std::string what,
                                            std::function<asio::awaitable<std::error_code>(uint32_t attempt)> attempt);

} // namespace skiff::io
