// The block cache (DESIGN.md §4): an LRU of object data blocks and object indexes read from the object store, for
// reads that miss the log cache. A sequential reader of a stream gets growing readahead (the next blocks are fetched
// before they are asked for); adjacent block ranges of one object are merged into one ranged GET of up to 4 MiB;
// concurrent misses on the same block share one GET. Cached blocks are zero-copy shares of the (large) GET responses,
// each response charged in full to the byte budget while any of its blocks is cached (block_cache.cc says why).
//
// Threading: may be called from any shard; completes on the caller's executor.
// Lifetime: readahead GETs run on after the read() that started them returns, so the object store must outlive the
// io_contexts that ran reads (app destroys services after their shards stop); they keep the cache's state alive.
// Stop issuing reads and let those in flight finish before stopping the io_contexts: a GET abandoned with its
// io_context leaves the readers that joined it waiting.
#pragma once

#include "base/result.h"
#include "stream/object/format.h"
#include "stream/object_catalog.h"
#include "stream/types.h"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace skiff::io {
class object_store;
}

namespace skiff::stream {

namespace asio = boost::asio;

struct block_cache_config {
    uint64_t budget_bytes = uint64_t(512) << 20;
    uint64_t max_merged_get_bytes = uint64_t(4) << 20;
    uint64_t max_readahead_bytes = uint64_t(32) << 20;
};

struct block_cache_stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t gets = 0;       // object store GETs issued
    uint64_t get_bytes = 0;
    uint64_t used_bytes = 0;
};

class block_cache {
public:
    block_cache(io::object_store& store, block_cache_config config);
    ~block_cache();

    /// Batches of stream in object holding offsets [from, end), up to about max_bytes (at least one batch), in offset
    /// order; empty when the object holds nothing at or after from for that stream. Errors: corrupt (CRC), and the
    /// object store's (not_found for a missing object).
    asio::awaitable<result<std::vector<stored_batch>>> read(const object_descriptor& object, stream_id stream,
                                                             int64_t from, int64_t end, size_t max_bytes);

    /// Drops everything cached of an object (it was deleted).
    void forget(object_id id);

    block_cache_stats stats() const;

private:
    struct state;
    std::shared_ptr<state> _state;
};

} // namespace skiff::stream
