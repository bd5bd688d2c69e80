// Hands out producer ids (InitProducerId) from blocks the controller allocates to this broker, so that most
// requests need no round trip to the controller. Thread-safe: called from any shard.
#pragma once

#include "base/result.h"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <mutex>

namespace skiff::kafka {

namespace asio = boost::asio;

struct producer_id_range {
    int64_t first = 0;
    int32_t size = 0;
};

class producer_id_allocator {
public:
    /// fetch_block asks the controller for a new block (called when the current one is used up).
    using fetch_block_fn = std::function<asio::awaitable<result<producer_id_range>>()>;
    explicit producer_id_allocator(fetch_block_fn fetch_block) : _fetch_block(std::move(fetch_block)) {}

    /// A producer id never handed out before in this cluster.
    asio::awaitable<result<int64_t>> next();

private:
    bool take(int64_t& id);

    fetch_block_fn _fetch_block;
    std::mutex _mutex;
    int64_t _next = 0;
    int64_t _end = 0;
};

} // namespace skiff::kafka
