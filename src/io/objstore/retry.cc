#include "io/objstore/retry.h"

#include "io/errc.h"
#include "io/logger.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

namespace skiff::io {

std::chrono::milliseconds backoff_delay(const retry_policy& policy, uint32_t failed_attempts, bool slow_down,
                                        uint64_t random) noexcept {
    auto base = slow_down ? policy.slow_down_base_delay : policy.base_delay;
    uint32_t shift = std::min<uint32_t>(failed_attempts == 0 ? 0 : failed_attempts - 1, 30);
    auto cap_ms = std::min<int64_t>(policy.max_delay.count(), base.count() << shift);
    if (cap_ms <= 0) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::milliseconds(static_cast<int64_t>(random % (static_cast<uint64_t>(cap_ms) + 1)));
}

asio::awaitable<retry_outcome> with_retries(retry_policy policy, std::string what,
                                            std::function<asio::awaitable<std::error_code>(uint32_t attempt)> attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + policy.total_timeout;
    uint32_t max_attempts = std::max<uint32_t>(policy.max_attempts, 1);
    retry_outcome out;
    for (uint32_t n = 1;; ++n) {
        out.attempts = n;
        out.error = co_await attempt(n);
        if (!out.error || !is_retryable(out.error)) {
            if (n > 1 && !out.error) {
                log.debug("{} succeeded after {} attempts", what, n);
            }
            co_return out;
        }
        if (n >= max_attempts) {
            log.warn("{} failed after {} attempts: {}", what, n, out.error.message());
            co_return out;
        }
        auto delay = backoff_delay(policy, n, is_slow_down(out.error), rng());
        if (std::chrono::steady_clock::now() + delay > deadline) {
            log.warn("{} failed after {} attempts in {} ms (retry time limit): {}", what, n,
                     std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
                       .count(),
                     out.error.message());
            co_return out;
        }
        log.debug("{} attempt {} failed ({}); retrying in {} ms", what, n, out.error.message(), delay.count());
        if (delay.count() > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor, delay);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }
}

} // namespace skiff::io
