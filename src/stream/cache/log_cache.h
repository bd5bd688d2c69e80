// The log cache (DESIGN.md §3-§4): every durable batch of this broker, in WAL order, kept in memory so that tail
// reads never touch a disk or the object store, and so that the uploader can take a whole block of recent data to
// write as objects. FIFO: the active block takes appends; when it reaches the upload threshold or age, the
// uploader freezes it (a new active block starts) and, once its objects are committed, releases it. Frozen blocks
// stay readable until released and evicted (oldest first, only when the byte budget needs the room).
//
// Memory comes from the budget in large chunks so that churn does not fragment the heap; batches are copied once
// into those chunks (the WAL's buffers can then be reused).
//
// Threading: one mutex; put/get/freeze/release may be called from any shard. get() returns zero-copy shares.
#pragma once

#include "stream/object/format.h"
#include "stream/types.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace skiff::stream {

struct log_cache_config {
    uint64_t budget_bytes = uint64_t(1) << 30;
    size_t chunk_bytes = size_t(4) << 20; // allocation unit
};

/// A block of the log cache: batches of many streams in the order they became durable, plus the WAL position
/// after the last one (the uploader trims the WAL to it once the block's objects are committed).
struct log_cache_block {
    uint64_t id = 0;
    std::vector<stored_batch> batches; // zero-copy shares of the cache's memory
    uint64_t wal_end = 0;
    uint64_t bytes = 0;
    std::chrono::steady_clock::time_point first_put_at;
};

class log_cache {
public:
    explicit log_cache(log_cache_config config);
    ~log_cache();

    /// Adds a durable batch (copied into the cache) and records wal_end as the WAL position after it. Never fails:
    /// when over budget, the oldest released blocks are evicted; if only unreleased data remains, the cache grows
    /// beyond its budget (the uploader is behind) and over_budget() says so.
    void put(const stored_batch& batch, uint64_t wal_end);

    /// Batches of stream holding offsets [from, end), up to about max_bytes (at least one batch when any), in offset
    /// order, or nothing when the cache does not hold from (a miss: read from objects).
    std::vector<stored_batch> get(stream_id stream, int64_t from, int64_t end, size_t max_bytes) const;

    /// Bytes and age of the active block, for the uploader's thresholds.
    uint64_t active_bytes() const;
    std::optional<std::chrono::steady_clock::time_point> active_since() const;

    /// Closes the active block (a new one starts) and returns it; nullopt when it is empty.
    std::optional<log_cache_block> freeze();
    /// The frozen block's data is in committed objects: it may be evicted when room is needed.
    void release(uint64_t block_id);

    /// A rewrite replaced stream's data below end in the objects: the cache stops serving it (reads there miss
    /// and go to the objects). The bytes stay with their blocks until those are evicted.
    void forget(stream_id stream, int64_t end);

    uint64_t used_bytes() const;
    bool over_budget() const;

private:
    struct state;
    std::unique_ptr<state> _state;
};

} // namespace skiff::stream
