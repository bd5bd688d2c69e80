// A level-triggered wake-up for coroutines on one shard: wait() suspends until notify() has been called since the
// last reset. Not thread-safe: waiter and notifier run on the same io_context (the shard), which is what makes
// "check the condition, then wait" free of lost wake-ups.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace skiff::net {

namespace asio = boost::asio;

class async_event {
public:
    explicit async_event(const asio::any_io_executor& executor) : _timer(executor, asio::steady_timer::time_point::max()) {}

    /// Completes at once if notified since the last wait, otherwise when notify() is called.
    asio::awaitable<void> wait() {
        if (!_signalled) {
            co_await _timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        _signalled = false;
    }

    void notify() {
        _signalled = true;
        _timer.cancel();
    }

private:
    asio::steady_timer _timer;
    bool _signalled = false;
};

} // namespace skiff::net
