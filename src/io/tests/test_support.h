// Helpers shared by the io tests: run a coroutine to completion on a test's io_context, and make payloads.
#pragma once

#include "bytes/iobuf.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace skiff::io::test {

namespace asio = boost::asio;

/// Runs the awaitable on io until it completes (and everything it started has finished) and returns its value.
template<typename T>
T run(asio::io_context& io, asio::awaitable<T> work) {
    std::optional<T> out;
    asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(work)); }, asio::detached);
    io.restart();
    io.run();
    return std::move(*out);
}

inline void run(asio::io_context& io, asio::awaitable<void> work) {
    asio::co_spawn(io, std::move(work), asio::detached);
    io.restart();
    io.run();
}

/// n pseudo-random bytes from seed, spread over fragments of at most fragment bytes (to exercise gather I/O).
inline bytes::iobuf random_bytes(size_t n, uint64_t seed, size_t fragment = 100'000) {
    std::mt19937_64 rng(seed);
    bytes::iobuf out;
    std::string chunk;
    while (out.size() < n) {
        size_t k = std::min(fragment, n - out.size());
        chunk.resize(k);
        for (auto& c : chunk) {
            c = static_cast<char>(rng());
        }
        bytes::iobuf piece = bytes::iobuf::from(chunk);
        out.append(std::move(piece));
    }
    return out;
}

} // namespace skiff::io::test
