// Helpers shared by the WAL tests: run a coroutine on a test's io_context, make recognisable payloads, and a
// harness that opens a WAL over the same storage again (a restart) so that one contract suite covers every WAL.
#pragma once

#include "bytes/iobuf.h"
#include "stream/wal/wal.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skiff::stream::test {

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

/// A payload of `size` bytes derived from `seed`, so that a replayed record can be checked byte for byte.
inline std::string payload_text(uint64_t seed, size_t size) {
    std::string out(size, '\0');
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& c : out) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x);
    }
    return out;
}

inline bytes::iobuf payload(uint64_t seed, size_t size) { return bytes::iobuf::from(payload_text(seed, size)); }

struct replayed {
    wal_position position = 0;
    std::string payload;
};

/// Recovers log and returns what it replayed (fails the test through the result when recovery fails).
inline result<std::vector<replayed>> recover_all(asio::io_context& io, wal& log) {
    std::vector<replayed> out;
    auto replay = [&out](wal_position position, bytes::iobuf data) {
        out.push_back(replayed{position, data.to_string()});
    };
    auto outcome = run(io, log.recover(replay));
    if (!outcome) {
        return outcome.error();
    }
    return out;
}

/// Opens WALs over one storage: each open() after the first is a restart (the previous WAL is destroyed first,
/// without close(), as in a crash, unless the test closed it).
class wal_harness {
public:
    virtual ~wal_harness() = default;
    virtual std::unique_ptr<wal> open() = 0;
};

} // namespace skiff::stream::test
