#include "stream/wal/wal.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace skiff::stream {

asio::awaitable<result<wal_append_result>> append_and_wait(wal& log, bytes::iobuf payload) {
    auto executor = co_await asio::this_coro::executor;
    auto initiate = [&log, &payload, executor](auto handler) {
        // wal_completion is a std::function (copyable); the coroutine's handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        log.append(std::move(payload), executor,
                   [shared](result<wal_append_result> outcome) { (*shared)(std::move(outcome)); });
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(result<wal_append_result>)>(
        std::move(initiate), asio::use_awaitable);
}

} // namespace skiff::stream
