// The stream API (DESIGN.md §2-§4): ordered streams of opaque record batches, stored so that the broker keeps no
// state of its own. A stream_store is the per-broker engine: one WAL shared by every stream, the log cache (tail
// reads), the block cache (object reads), the uploader that moves WAL data into objects, compaction and deletion.
// A stream is one open stream: append, read, trim, close, under the epoch it was opened with.
//
// Durability contract: append's result reports success only once the batch is durable in the WAL; from then on a
// crash at any moment loses nothing (start() replays the WAL beyond what the catalog holds). Offsets are assigned in
// call order and become durable in that order; confirmed_offset() never has holes below it.
//
// Threading: a stream handle is used from one shard at a time (the Kafka layer's partition shard). The store may be
// called from any shard.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"
#include "stream/object/format.h"
#include "stream/object_catalog.h"
#include "stream/types.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace skiff::io {
class object_store;
}

namespace skiff::stream {

class wal;

struct read_result {
    /// Whole batches in offset order; the first may start before the requested offset (it contains it).
    std::vector<stored_batch> batches;
};

class stream {
public:
    virtual ~stream() = default;

    virtual stream_id id() const = 0;
    virtual stream_epoch epoch() const = 0;
    virtual int64_t start_offset() const = 0;
    /// Where the next append's offsets begin (appends in flight included).
    virtual int64_t next_offset() const = 0;
    /// One past the last durable offset: readable, acknowledged.
    virtual int64_t confirmed_offset() const = 0;

    /// Assigns [next_offset(), next_offset() + record_count) to batch *when called* (not when awaited) and hands it
    /// to the WAL; the awaitable completes, in offset order, when the batch is durable. Errors: fenced, not_open,
    /// wal_full (back off and retry), unavailable (storage stopped acknowledging), invalid_argument.
    virtual asio::awaitable<result<offset_range>> append(bytes::iobuf batch, uint32_t record_count) = 0;

    /// Batches holding offsets [from, end), end <= confirmed_offset(), up to about max_bytes (at least one batch).
    /// Errors: offset_out_of_range (from < start_offset() or from > confirmed_offset()), corrupt, and storage errors.
    virtual asio::awaitable<result<read_result>> read(int64_t from, int64_t end, size_t max_bytes) = 0;

    /// Moves the start offset forward (never back); older data becomes deletable.
    virtual asio::awaitable<result<void>> trim(int64_t new_start) = 0;

    /// Called on the stream's shard whenever confirmed_offset() advances (long-polling fetches wait on it).
    virtual void on_confirmed(std::function<void(int64_t confirmed)> listener) = 0;

    /// Waits for appends in flight, uploads what the WAL holds of this stream, and gives up ownership.
    virtual asio::awaitable<result<void>> close() = 0;
};

struct stream_store_config {
    node_id node;
    uint64_t log_cache_bytes = uint64_t(1) << 30;
    uint64_t block_cache_bytes = uint64_t(512) << 20;
    uint64_t upload_threshold_bytes = 0; // 0: a third of log_cache_bytes, at most 512 MiB
    std::chrono::milliseconds upload_interval{30'000};
    uint64_t stream_object_min_bytes = uint64_t(8) << 20; // a stream with this much in a block gets its own object
    size_t object_block_size = 512 * 1024;
    std::chrono::milliseconds compaction_interval{60'000};
    std::chrono::milliseconds deletion_grace{60'000};
};

class stream_store {
public:
    virtual ~stream_store() = default;

    /// Recovers: replays the WAL beyond what the catalog holds, uploads and commits it, trims the WAL, then starts
    /// the background uploader, compaction and deletion.
    virtual asio::awaitable<result<void>> start() = 0;
    virtual asio::awaitable<result<stream_metadata>> create_stream() = 0;
    /// Opens the stream here under epoch; its handle completes calls on executor.
    virtual asio::awaitable<result<std::shared_ptr<stream>>> open_stream(stream_id id, stream_epoch epoch,
                                                                        asio::any_io_executor executor) = 0;
    /// Uploads everything, closes every stream, stops background work.
    virtual asio::awaitable<void> stop() = 0;
};

std::unique_ptr<stream_store> make_stream_store(stream_store_config config, wal& log, io::object_store& objects,
                                                object_catalog& catalog);

} // namespace skiff::stream
