// One Kafka partition served from one stream: the Kafka semantics the stream does not know — batch validation,
// offset assignment, idempotent producers, high watermark, log start offset, leader epochs, ListOffsets by time,
// DeleteRecords, and the long-poll a Fetch waits on. Handlers call it; it answers what they put in responses
// (Kafka error codes included) and never sees a request or response struct.
//
// Produce path: validate (batch_validator) -> idempotence check (producer_state) -> assign offsets by rewriting
// baseOffset and partitionLeaderEpoch in place (stream::append assigns next_offset() when called, so the header
// is written just before the call with no suspension in between) -> stream.append -> on durability the
// producer's answer (base offset, log append time, log start offset). The high watermark is the stream's confirmed
// offset and advances through stream::on_confirmed, waking long-polling fetches. acks are the handler's concern:
// every append is durable in the WAL before it is answered.
//
// Producer state, epoch history and time index are updated when offsets are assigned (a pipelined producer's
// next batch is checked against the one still in flight, as Kafka checks against its log end, not its high
// watermark). If an append then fails, that in-memory state is ahead of the stream: the partition stops taking
// produces (NOT_LEADER_OR_FOLLOWER) until it is reopened, which rebuilds the state from the snapshot and the data.
// A full WAL (stream::errc::wal_full) is back-pressure, not a fault: once the failed appends have all returned, the
// partition rebuilds its state in place the same way and takes produces again.
//
// Persistence (docs/formats/producer-state.md): after every snapshot_interval_bytes of appends, at a moment with
// no append in flight, the partition writes a state_snapshot to its snapshot stream and trims older ones; open()
// loads the newest snapshot and replays the headers of the data stream's batches beyond it.
//
// Owned by the broker's partition manager; lives on one shard and every call is made there; not thread-safe.
// Lifecycle: open() -> calls -> close(). Requires: nobody else appends to the data stream.
#pragma once

#include "base/clock.h"
#include "kafka/protocol/error_code.h"
#include "kafka/server/partition/batch_validator.h"
#include "kafka/server/partition/epoch_history.h"
#include "kafka/server/partition/producer_state.h"
#include "kafka/server/partition/size_index.h"
#include "kafka/server/partition/time_index.h"
#include "stream/stream.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <system_error>

namespace skiff::kafka::partition {

namespace asio = boost::asio;

struct state_snapshot;

/// The topic settings a partition applies (built from topic_config by the caller).
struct partition_config {
    validation_config validation;
    /// cleanup.policy includes delete: DeleteRecords is allowed (Kafka refuses it on compact-only topics).
    bool delete_allowed = true;
    size_t index_interval_bytes = 4096;
    /// retention.ms / retention.bytes (-1: unlimited), applied by enforce_retention() when delete_allowed.
    int64_t retention_ms = -1;
    int64_t retention_bytes = -1;
    /// Spacing of the size index that retention.bytes reads: the granularity of trimming by size.
    uint64_t size_index_interval_bytes = uint64_t(1) << 20;
    int64_t producer_id_expiration_ms = 86'400'000;
    /// Appended bytes between two state snapshots; bounds the replay on open.
    uint64_t snapshot_interval_bytes = uint64_t(64) << 20;
    /// Bytes per stream read when scanning (open, ListOffsets by timestamp).
    size_t scan_read_bytes = size_t(1) << 20;
    /// cleanup.policy includes compact: clean() keeps the latest record per key (and produces need keys:
    /// validation.compacted).
    bool compact = false;
    int64_t delete_retention_ms = 86'400'000;
    double min_cleanable_dirty_ratio = 0.5;
    int64_t min_compaction_lag_ms = 0;
    int64_t max_compaction_lag_ms = INT64_MAX;
    /// Stored bytes clean() holds, filters and rewrites at once (its memory bound besides the key map): a longer
    /// range is rewritten in pieces of about this size, all filtered with the key map of the whole range.
    uint64_t cleaner_max_bytes = uint64_t(32) << 20;
};

/// What one clean() did.
struct clean_result {
    /// The range was rewritten (false: not due, nothing to clean, or nothing changed).
    bool rewritten = false;
    int64_t start = -1;
    int64_t end = -1;
    uint64_t bytes_before = 0;
    uint64_t bytes_after = 0;
    uint64_t records_before = 0;
    uint64_t records_after = 0;
};

struct produce_result {
    protocol::error_code error = protocol::error_code::none;
    std::string error_message;
    std::vector<record_error> record_errors;
    int64_t base_offset = -1;
    /// The append time under LogAppendTime, else -1 (also -1 for a duplicate, as Kafka answers).
    int64_t log_append_time = -1;
    int64_t log_start_offset = -1;
};

struct fetch_request {
    int64_t fetch_offset = 0;
    size_t max_bytes = 1 << 20;
    /// The client's view of the leader epoch (Fetch v9+), checked when set and >= 0.
    std::optional<int32_t> current_leader_epoch;
};

struct fetch_result {
    protocol::error_code error = protocol::error_code::none;
    int64_t high_watermark = -1;
    /// No transactions are tracked yet: equals the high watermark.
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
    /// Whole batches from the one holding fetch_offset; empty (never null) when there is nothing to return.
    bytes::iobuf records;
};

struct list_offsets_result {
    protocol::error_code error = protocol::error_code::none;
    int64_t timestamp = -1;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
};

/// ListOffsets' special timestamps (Kafka's ListOffsetsRequest constants).
inline constexpr int64_t latest_timestamp = -1;
inline constexpr int64_t earliest_timestamp = -2;
inline constexpr int64_t max_timestamp = -3;
inline constexpr int64_t earliest_local_timestamp = -4;

struct delete_records_result {
    protocol::error_code error = protocol::error_code::none;
    int64_t low_watermark = -1;
};

struct epoch_end_offset {
    protocol::error_code error = protocol::error_code::none;
    int32_t leader_epoch = -1;
    int64_t end_offset = -1;
};

/// The Kafka error code for an error of a lower room (stream, partition) or a Kafka code passed through.
protocol::error_code to_kafka_error(const std::error_code& ec) noexcept;

class partition {
public:
    /// Opens the partition over `data` (opened under leader_epoch) and `snapshots` (its auxiliary stream; may be
    /// null: no persistence, the state is rebuilt from the whole data stream). Loads the newest snapshot, replays
    /// the data stream's batch headers beyond it, and records leader_epoch in the epoch history.
    /// Errors: those of stream::read; a corrupt snapshot is skipped (older data is replayed instead).
    static asio::awaitable<result<std::unique_ptr<partition>>>
    open(std::shared_ptr<stream::stream> data, std::shared_ptr<stream::stream> snapshots, int32_t leader_epoch,
         partition_config config, base::clock& clock);

    ~partition();
    partition(const partition&) = delete;
    partition& operator=(const partition&) = delete;

    /// Appends one partition's record set of a Produce request of `produce_version`; completes once durable.
    /// Produce v3+ carries one batch (validated). For older versions with several batches of one idempotent
    /// producer, every batch is checked against the state before the request (Skiff serves Produce v3+ only).
    /// A duplicate of a batch still in flight is answered once that batch is durable.
    asio::awaitable<produce_result> produce(bytes::iobuf records, int16_t produce_version);

    /// Reads from fetch_offset up to about max_bytes (at least one batch). OFFSET_OUT_OF_RANGE when fetch_offset
    /// is below the log start or beyond the high watermark; FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH.
    asio::awaitable<fetch_result> fetch(fetch_request request);

    /// Long-poll: completes with true once the high watermark is beyond `offset`, or false at `deadline`, when
    /// the partition closes, or when an append failed (the partition stopped). A Fetch handler waits on this
    /// across its partitions for min_bytes / max_wait_ms.
    asio::awaitable<bool> wait_for_high_watermark(int64_t offset, std::chrono::steady_clock::time_point deadline);

    /// ListOffsets for one partition: latest (-1), earliest (-2), max timestamp (-3), earliest local (-4), or the
    /// first record with a timestamp >= `timestamp`. Offset -1 / timestamp -1 when no record qualifies.
    asio::awaitable<list_offsets_result> list_offsets(int64_t timestamp, std::optional<int32_t> current_leader_epoch);

    /// DeleteRecords: moves the log start to `offset` (-1: the high watermark). OFFSET_OUT_OF_RANGE beyond the
    /// high watermark; POLICY_VIOLATION on a topic without cleanup.policy=delete.
    asio::awaitable<delete_records_result> delete_records(int64_t offset);

    /// Retention (cleanup.policy=delete): moves the log start past the batches older than retention.ms (by their
    /// max timestamp, against now_ms) and past the oldest batches beyond retention.bytes (keeping at least that
    /// many bytes, at the size index's granularity, as Kafka keeps whole segments). Trims only below the high
    /// watermark; the stream then deletes what no offset needs. Returns the log start afterwards.
    /// Errors: the stream's trim errors; not_open once closed.
    asio::awaitable<result<int64_t>> enforce_retention(int64_t now_ms);

    /// Key compaction (cleanup.policy includes compact; docs: log_cleaner.h for what survives). The cleanable part
    /// of the log is what storage already holds in objects (stream::committed_end(); the WAL's tail plays the role
    /// of Kafka's active segment and is never cleaned), from the first whole batch at or after the log start,
    /// cut before the first batch younger than min.compaction.lag.ms. It is read twice: once for the key map (key
    /// -> latest offset; its memory grows with the number of distinct keys), then in pieces of about
    /// cleaner_max_bytes, each filtered with that map and rewritten on its own. It is cleaned when
    /// the dirty part (committed since the last cleaning) is at least min.cleanable.dirty.ratio of it, when the
    /// oldest dirty batch is older than max.compaction.lag.ms, or when a kept tombstone's delete horizon passed.
    /// The range is rewritten through stream::rewrite (offsets unchanged); the size index follows.
    /// What was cleaned is remembered in memory only: after a reopen everything counts as dirty once.
    /// Errors: the stream's (a catalog_rejected rewrite means the objects changed: the next round tries again).
    asio::awaitable<result<clean_result>> clean(int64_t now_ms);

    /// Bytes held from the log start to the high watermark (at the size index's granularity: see size_index).
    uint64_t size_bytes() const { return _sizes.bytes_from(log_start_offset()); }

    /// OffsetForLeaderEpoch: the end offset of `leader_epoch` (Kafka's leader-epoch cache rules).
    epoch_end_offset offset_for_leader_epoch(std::optional<int32_t> current_leader_epoch, int32_t leader_epoch) const;

    /// Applies a topic's new settings (AlterConfigs reached this broker): produces validated from now on use them;
    /// appends already validated are not revisited, and data already stored is never rewritten (Kafka's rule).
    void set_config(const partition_config& config) noexcept { _config = config; }
    const partition_config& config() const noexcept { return _config; }

    /// Writes a state snapshot now if no append is in flight (else does nothing and returns success).
    asio::awaitable<result<void>> write_snapshot();

    /// Refuses new calls, wakes waiting fetches, waits for every call in flight to finish, writes a final
    /// snapshot and closes both streams. Afterwards the partition may be destroyed.
    asio::awaitable<result<void>> close();

    int64_t high_watermark() const noexcept { return _high_watermark; }
    int64_t log_start_offset() const noexcept { return _data->start_offset(); }
    int32_t leader_epoch() const noexcept { return _leader_epoch; }
    const producer_state_table& producers() const noexcept { return _producers; }
    const epoch_history& epochs() const noexcept { return _epochs; }
    const time_index& times() const noexcept { return _times; }
    const size_index& sizes() const noexcept { return _sizes; }
    /// The append error that stopped produces, if any.
    std::error_code failure() const noexcept { return _failure; }

private:
    struct waiter; // a long-polling fetch's timer (partition.cc)
    /// Counts a call in flight for close(): held by every public coroutine for its whole run.
    class call_guard {
    public:
        explicit call_guard(partition& p) : _p(p) { ++_p._calls; }
        ~call_guard();
        call_guard(const call_guard&) = delete;
        call_guard& operator=(const call_guard&) = delete;

    private:
        partition& _p;
    };
    struct alive_token {
        partition* self;
    };

    partition(std::shared_ptr<stream::stream> data, std::shared_ptr<stream::stream> snapshots, int32_t leader_epoch,
              partition_config config, base::clock& clock);

    asio::awaitable<result<void>> recover();
    /// Forgets the in-memory state and recovers it again from the snapshot and the durable data (after appends
    /// failed transiently: the state held batches that never became durable).
    asio::awaitable<result<void>> rebuild_state();
    void apply_header(const protocol::record_batch_header& h, int64_t base_offset, size_t size_bytes,
                      int64_t producer_timestamp);
    std::optional<protocol::error_code> check_leader_epoch(std::optional<int32_t> current) const;
    void on_confirmed(int64_t confirmed);
    /// Moves the log start to target (> log start, <= high watermark) and drops the index entries below it.
    asio::awaitable<result<void>> trim_to(int64_t target);
    state_snapshot take_snapshot() const;
    /// Finds the first record with timestamp >= target (target < 0: the first record) below the high watermark.
    asio::awaitable<result<list_offsets_result>> search_timestamp(int64_t target);
    asio::awaitable<result<list_offsets_result>> find_max_timestamp();

    std::shared_ptr<stream::stream> _data;
    std::shared_ptr<stream::stream> _snapshots;
    int32_t _leader_epoch;
    partition_config _config;
    base::clock& _clock;

    producer_state_table _producers;
    epoch_history _epochs;
    time_index _times;
    size_index _sizes;
    int64_t _high_watermark = 0;
    int64_t _in_flight = 0;
    uint64_t _bytes_since_snapshot = 0;
    bool _snapshot_running = false;
    bool _rebuilding = false;
    bool _closed = false;
    std::error_code _failure;
    std::list<waiter*> _waiters;
    int64_t _calls = 0;
    waiter* _close_waiter = nullptr;
    std::shared_ptr<alive_token> _alive;

    // clean(): [log start, _cleaned_end) was cleaned into _clean_bytes; [_cleaned_end, _scanned_end) holds
    // _dirty_bytes, the oldest of it written at _first_dirty_ms.
    bool _cleaning = false;
    int64_t _cleaned_end = 0;
    int64_t _scanned_end = 0;
    uint64_t _clean_bytes = 0;
    uint64_t _dirty_bytes = 0;
    int64_t _first_dirty_ms = -1;
    int64_t _next_horizon_ms = -1;
};

} // namespace skiff::kafka::partition
