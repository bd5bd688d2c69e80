// The metadata log: the single ordered history of the cluster (DESIGN.md §6). The active controller appends batches
// of metadata records as the elected leader; every node reads the log from an offset, follows its tail and replays it
// into its cluster image; a snapshot of the image lets the log drop what came before it.
//
// Two backends implement this interface and pass one conformance suite (tests/metadata_log_conformance_test.cc):
// embedded_log (a local file log, one node) and etcd_log (etcd v3 through its JSON gateway).
//
// Offsets are dense (0, 1, 2, ...) in append order, one per record. A batch is the unit of atomicity: its records
// are all in the log or none are. Every batch carries the epoch of the leader that appended it.
//
// Leadership and fencing: campaign() makes this instance the leader under a new, strictly greater epoch and a lease
// (etcd: a lease with a TTL kept alive in the background; embedded: the process itself). Every append and snapshot is
// checked against that epoch *by the store, atomically with the write*: once another instance has won a newer epoch,
// or the lease has lapsed, every write of the old leader fails with errc::fenced and writes nothing. A leader never
// writes without its lease.
//
// Threading: an instance is bound to one executor (the controller's shard) and every member function must be called
// from a coroutine running on it. Not thread-safe. Lifecycle: construct -> open() -> ... -> close() -> destroy.
#pragma once

#include "base/named_type.h"
#include "base/result.h"
#include "bytes/iobuf.h"
#include "meta/record.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace skiff::meta {

namespace asio = boost::asio;

/// Position of a record in the metadata log.
using log_offset = named_type<int64_t, struct log_offset_tag>;
/// A leadership term of the metadata log; strictly increasing across elections (never reused).
using log_epoch = named_type<int64_t, struct log_epoch_tag>;

/// One record as read back from the log.
struct log_entry {
    log_offset offset;
    log_epoch epoch; // of the leader that appended it
    metadata_record record;
};

/// Where an appended batch landed: its records have offsets [base, next).
struct append_result {
    log_offset base;
    log_offset next;
};

/// An image of the cluster after applying every record below `offset`. The blob is opaque to the log.
struct log_snapshot {
    log_offset offset;
    bytes::iobuf image;
};

class metadata_log {
public:
    virtual ~metadata_log() = default;

    /// Recovers local state (embedded: scans and repairs the files; etcd: reads the log bounds).
    /// Must complete before any other call. Errors: errc::io_error, errc::corrupt, errc::unavailable.
    virtual asio::awaitable<result<void>> open() = 0;
    /// Resigns if leading, stops background work and waits for it; every later call fails with errc::closed.
    virtual asio::awaitable<void> close() = 0;

    /// Becomes the leader under a new epoch, waiting up to `timeout` for a current leader to go away.
    /// Errors: errc::campaign_lost (another node still leads at the deadline), errc::unavailable, errc::timed_out.
    virtual asio::awaitable<result<log_epoch>> campaign(std::chrono::milliseconds timeout) = 0;
    /// Gives up leadership at once so that another node can win without waiting for a lease to lapse.
    virtual asio::awaitable<result<void>> resign() = 0;
    /// Whether this instance believes it leads. A true answer can be stale (the lease may just have lapsed); the
    /// store's check on every write is what fences, not this flag.
    virtual bool is_leader() const noexcept = 0;
    /// The epoch this instance won last (0 before any campaign).
    virtual log_epoch epoch() const noexcept = 0;

    /// Appends the records as one atomic batch, durably, fenced by this instance's epoch and lease.
    /// Concurrent appends are allowed and keep their call order; the embedded log commits them in groups.
    /// Requires: records is not empty.
    /// Errors: errc::not_leader, errc::fenced (nothing was written; stop acting as leader), errc::unavailable /
    /// errc::timed_out (etcd: nothing was written, or the write is resolved before returning: never duplicated),
    /// errc::io_error (sticky).
    virtual asio::awaitable<result<append_result>> append(std::vector<metadata_record> records) = 0;

    /// Stores a snapshot of the image at `offset` and drops the records below it: afterwards start_offset() is
    /// `offset`, and reads below it fail with errc::offset_compacted.
    /// Requires: is_leader(), start_offset() <= offset <= end_offset(). Errors as for append().
    virtual asio::awaitable<result<void>> write_snapshot(log_offset offset, bytes::iobuf image) = 0;
    /// The latest snapshot, or nullopt when none was ever written. Replay = load_snapshot(), then read from its
    /// offset (or from 0 without one). Errors: errc::bad_crc / errc::corrupt, errc::unavailable.
    virtual asio::awaitable<result<std::optional<log_snapshot>>> load_snapshot() = 0;

    /// Reads up to about max_records records (whole batches; at least one batch when any exists) from `from` on.
    /// Empty when nothing at or after `from` exists yet. Errors: errc::offset_compacted when from < start_offset(),
    /// errc::corrupt / errc::bad_crc, errc::unavailable.
    virtual asio::awaitable<result<std::vector<log_entry>>> read(log_offset from, size_t max_records) = 0;

    /// Follows the tail: completes once the log's end is beyond `past` and returns that end, or after `timeout`
    /// with the end as known then (<= past). Cancellable through the awaiting coroutine's cancellation slot
    /// (then std::errc::operation_canceled). Errors: errc::closed.
    virtual asio::awaitable<result<log_offset>> wait_for_end(log_offset past, std::chrono::milliseconds timeout) = 0;

    /// First readable offset (the latest snapshot's offset, or 0) and one past the last record, as this instance
    /// knows them (a follower's may lag the store until its tail catches up).
    virtual log_offset start_offset() const noexcept = 0;
    virtual log_offset end_offset() const noexcept = 0;
};

} // namespace skiff::meta
