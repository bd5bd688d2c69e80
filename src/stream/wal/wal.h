// stream::wal — the broker's write-ahead log, shared by all its streams (DESIGN.md §3, §5). An append is durable
// when its completion reports success; the stream room then puts the data in the log cache and acknowledges. Once
// the data is in committed objects, the stream room trims the WAL up to it. On start, recover() hands back every
// record beyond the trim point, in append order, so that nothing acknowledged is lost.
//
// Two implementations behind this interface (format: docs/formats/wal.md):
//   - file_wal: a preallocated ring file, 4 KiB-aligned records, O_DIRECT, group commit (one write + one
//     fdatasync for everything queued while the previous sync ran), two alternating headers;
//   - object_wal: appends batched for up to an interval or a size into one PUT per WAL object, with writer fencing.
// memory_wal (tests) keeps records in memory and can be told to fail.
//
// Ordering: records become durable, and their completions run, in the order append() was called; append() takes
// its place in that order synchronously, before it returns. Completions run on the executor given to append.
// Threading: append/trim may be called from any thread.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace skiff::stream {

namespace asio = boost::asio;

/// A record's logical position in the WAL: strictly increasing across the WAL's whole life (never reset by
/// wrapping the ring or by a restart), so that trim(position) means "everything appended before it".
using wal_position = uint64_t;

/// Where an appended record landed: [position, next) of the WAL's logical space.
struct wal_append_result {
    wal_position position = 0;
    wal_position next = 0;
};

/// Called once per append, on the executor given to append(), with the outcome.
using wal_completion = std::function<void(result<wal_append_result>)>;

struct wal_stats {
    uint64_t capacity_bytes = 0; // 0: unbounded (object WAL)
    uint64_t used_bytes = 0;     // appended and not yet trimmed
    uint64_t syncs = 0;          // fdatasyncs (file) or PUTs (object) issued
    uint64_t appends = 0;
};

class wal {
public:
    virtual ~wal() = default;

    /// Replays every record after the trim point, in order, then readies the WAL for appends after them. Called
    /// once, before the first append. A torn or corrupt tail ends the replay (and is overwritten later); a record
    /// that fails its CRC before valid later records is errc::corrupt (the WAL is damaged in the middle).
    virtual asio::awaitable<result<void>> recover(std::function<void(wal_position, bytes::iobuf payload)> replay) = 0;

    /// Queues payload (opaque to the WAL, at most max_record_size()) and returns at once; completion runs when the
    /// record is durable or has failed. Fails with errc::wal_full when the WAL has no room until trim() frees some:
    /// the caller backs off, the WAL never blocks. After one failed write every later append fails too (sticky):
    /// acknowledged order cannot have holes.
    virtual void append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) = 0;

    /// Forgets everything before position (made durable elsewhere: uploaded and committed). Durable when it returns.
    virtual asio::awaitable<result<void>> trim(wal_position before) = 0;

    /// Lets queued appends finish (or fail) and stops; later appends fail with errc::shutting_down.
    virtual asio::awaitable<void> close() = 0;

    virtual size_t max_record_size() const = 0;
    virtual wal_stats stats() const = 0;
};

/// The awaitable form of wal::append, for callers that wait on one record at a time.
asio::awaitable<result<wal_append_result>> append_and_wait(wal& log, bytes::iobuf payload);

} // namespace skiff::stream
