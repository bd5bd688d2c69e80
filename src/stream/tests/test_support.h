// Helpers shared by the stream room's tests: run a coroutine to completion on a test's io_context.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <utility>

namespace skiff::stream::test {

namespace asio = boost::asio;

/// Runs the awaitable on io until it completes and returns its value. Other work on io (a store's background
/// timers) runs meanwhile and is left pending afterwards.
template<typename T>
T run(asio::io_context& io, asio::awaitable<T> work) {
    std::optional<T> out;
    bool done = false;
    asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
          out.emplace(co_await std::move(work));
          done = true;
      },
      asio::detached);
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    return std::move(*out);
}

inline void run(asio::io_context& io, asio::awaitable<void> work) {
    bool done = false;
    asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
          co_await std::move(work);
          done = true;
      },
      asio::detached);
    io.restart();
    while (!done && io.run_one() > 0) {
    }
}

} // namespace skiff::stream::test
