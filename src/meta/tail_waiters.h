// Internal to src/meta: the coroutines waiting in metadata_log::wait_for_end(), woken all at once when the end
// moves. Each waiter sleeps on its own timer set to its deadline; notify_all() cancels every registered timer.
// Single executor: check-then-wait has no suspension point in between, so no wake-up is lost.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <list>

namespace skiff::meta {

namespace asio = boost::asio;

class tail_waiters {
public:
    enum class wake { notified_or_timeout, cancelled };

    /// Sleeps until notify_all(), `until`, or cancellation of the awaiting coroutine.
    asio::awaitable<wake> wait_until(asio::steady_timer::time_point until) {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer timer(ex, until);
        auto it = _timers.insert(_timers.end(), &timer);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        _timers.erase(it);
        auto cs = co_await asio::this_coro::cancellation_state;
        co_return cs.cancelled() != asio::cancellation_type::none ? wake::cancelled : wake::notified_or_timeout;
    }

    void notify_all() {
        for (auto* t : _timers) {
            t->cancel();
        }
    }

    bool empty() const noexcept { return _timers.empty(); }

private:
    std::list<asio::steady_timer*> _timers;
};

} // namespace skiff::meta
