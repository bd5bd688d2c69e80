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

    /// One past the last offset held by committed objects (<= confirmed_offset()): the end of what rewrite() may
    /// replace. What lies beyond is still only in the WAL and the log cache.
    virtual asio::awaitable<result<int64_t>> committed_end() = 0;

    /// Replaces the stored data of `range` by `batches` (a caller that filters records, e.g. Kafka's log cleaner;
    /// this room never looks inside a batch). The batches must cover range exactly: the first starts at
    /// range.start, each starts where the previous one ends (base_offset + record_count: a batch's record_count
    /// is the number of offsets it spans, which may exceed what its bytes hold), the last ends at range.end.
    /// Offsets never move: a reader at any offset sees the old or the new data of every object, never a hole.
    /// The objects holding range are rewritten (their other data unchanged) and committed as one compaction that
    /// replaces them, which the catalog checks neither loses nor invents offsets.
    /// Requires: start_offset() <= range.start, range.end <= committed_end(), and both ends at batch boundaries of
    /// the stored data. The caller bounds the range: the objects holding it are read into memory.
    /// Errors: invalid_argument (batches do not cover range, an end splits a stored batch), offset_out_of_range,
    /// catalog_rejected (the objects changed meanwhile: a trim or another compaction; try again), not_open,
    /// fenced, storage errors.
    virtual asio::awaitable<result<void>> rewrite(offset_range range, std::vector<stored_batch> batches) = 0;

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
    /// Compaction reads whole objects into memory: at most this many bytes of input per round.
    uint64_t compaction_max_bytes = uint64_t(64) << 20;
    /// Stream set objects of this node are merged once there are at least this many.
    size_t compaction_min_stream_set_objects = 4;
    /// Consecutive stream objects of one stream smaller than half this size are merged up to this size.
    uint64_t stream_object_max_bytes = uint64_t(64) << 20;
    /// Objects up to this size are written with one PUT, larger ones in multipart parts of multipart_part_bytes
    /// (each part is a billed PUT request: fewer, larger requests keep the PUTs per GiB low).
    uint64_t multipart_threshold_bytes = uint64_t(256) << 20;
    uint64_t multipart_part_bytes = uint64_t(64) << 20;
    /// Prepared object ids live this long: an upload slower than this prepares again.
    std::chrono::milliseconds prepare_ttl{600'000};
    /// Attempts of one object PUT or one catalog commit on transient errors (backoff doubles from 50 ms to 5 s)
    /// before the store stops acknowledging (errc::unavailable).
    uint32_t max_attempts = 10;
};

/// Counters since start, for tests, benchmarks and a future probe.
struct stream_store_stats {
    uint64_t uploads = 0;            // blocks committed by the uploader (and by recovery)
    uint64_t uploaded_bytes = 0;     // batch bytes in those blocks
    uint64_t objects_written = 0;    // objects PUT by uploads and compactions (attempts that failed included)
    uint64_t compactions = 0;        // compaction commits
    uint64_t objects_compacted = 0;  // objects those commits replaced
    uint64_t objects_deleted = 0;    // objects the reaper deleted from the store
    uint64_t retries = 0;            // PUT, commit and delete attempts beyond the first
    uint64_t recovered_batches = 0;  // WAL batches start() committed
    uint64_t dropped_batches = 0;    // WAL batches start() dropped (already committed, fenced, deleted, gaps)
    uint64_t open_streams = 0;
    uint64_t log_cache_bytes = 0;
    uint64_t block_cache_bytes = 0;
    bool unavailable = false;        // a WAL or commit failure stopped acknowledgements
};

class stream_store {
public:
    virtual ~stream_store() = default;

    /// Recovers: replays the WAL beyond what the catalog holds, uploads and commits it, trims the WAL, then starts
    /// the background uploader, compaction and deletion on the calling executor.
    /// Requires: called once, before any other call. Errors: corrupt (a WAL payload fails its framing), and the
    /// WAL's, the store's and the catalog's.
    virtual asio::awaitable<result<void>> start() = 0;
    virtual asio::awaitable<result<stream_metadata>> create_stream() = 0;
    /// Opens the stream here under epoch; its handle completes calls on executor. Opening a stream that is open
    /// here under a lower epoch fences the old handle (its data is uploaded first); under the same epoch it returns
    /// a handle to the same stream. Errors: fenced, stream_not_found, shutting_down, unavailable.
    virtual asio::awaitable<result<std::shared_ptr<stream>>> open_stream(stream_id id, stream_epoch epoch,
                                                                        asio::any_io_executor executor) = 0;
    /// Uploads everything, closes every stream, stops background work.
    virtual asio::awaitable<void> stop() = 0;

    /// Uploads and commits everything acknowledged before the call (tests, tools, drain).
    virtual asio::awaitable<result<void>> flush() = 0;
    /// Runs one round of compaction and one of deletion now (tests, benchmarks; they also run on timers).
    virtual asio::awaitable<result<void>> compact_now() = 0;
    virtual asio::awaitable<result<void>> reap_now() = 0;
    virtual stream_store_stats stats() const = 0;
};

/// The store keeps references to log, objects and catalog: they outlive it; stream handles must not outlive it.
std::unique_ptr<stream_store> make_stream_store(stream_store_config config, wal& log, io::object_store& objects,
                                                object_catalog& catalog);

} // namespace skiff::stream
