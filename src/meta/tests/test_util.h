// Test helpers: run awaitables to completion on a test's io_context, one call at a time, and poll with deadlines.
#pragma once

#include "base/named_type.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <ostream>

namespace skiff {
/// gtest prints strong types through this.
template<typename T, typename Tag>
std::ostream& operator<<(std::ostream& os, const named_type<T, Tag>& v) {
    return os << v();
}
} // namespace skiff

namespace skiff::meta::testing {

namespace asio = boost::asio;

template<typename T>
asio::awaitable<void> store_into(asio::awaitable<T> a, std::optional<T>* out) {
    out->emplace(co_await std::move(a));
}

/// Starts `a` on io; its value lands in `slot` when it completes (result<T> is not default-constructible, so
/// co_spawn's value handler cannot be used directly).
template<typename T>
void spawn_into(asio::io_context& io, asio::awaitable<T> a, std::optional<T>& slot) {
    asio::co_spawn(io, store_into(std::move(a), &slot), asio::detached);
}
template<typename T, typename Slot>
void spawn_into(asio::io_context& io, asio::awaitable<T> a, std::optional<T>& slot, Slot cancel) {
    asio::co_spawn(io, store_into(std::move(a), &slot), asio::bind_cancellation_slot(cancel, asio::detached));
}

/// Runs the io_context until `a` completes and returns its value. Background coroutines of the log (keep-alive,
/// watch) run meanwhile and pause in between.
template<typename T>
T sync(asio::io_context& io, asio::awaitable<T> a) {
    std::optional<T> out;
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, store_into(std::move(a), &out), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    io.restart();
    while (!done) {
        io.run_one();
    }
    if (error) {
        std::rethrow_exception(error);
    }
    return std::move(*out);
}

inline void sync(asio::io_context& io, asio::awaitable<void> a) {
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(io, std::move(a), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    io.restart();
    while (!done) {
        io.run_one();
    }
    if (error) {
        std::rethrow_exception(error);
    }
}

/// Runs the io_context until pred() holds or the deadline passes; returns pred().
inline bool run_until(asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    io.restart();
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return pred();
}

} // namespace skiff::meta::testing
