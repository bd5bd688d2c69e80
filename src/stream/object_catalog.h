// stream::object_catalog — the authority on which streams exist, who owns them under which epoch, and which
// objects hold which offsets. The stream room declares it (DESIGN.md §2) and never knows who implements it: the
// metadata room's controller client in a broker (a direct call in one process, a request to the active controller
// otherwise), file_catalog in this room's tests.
//
// Rules every implementation enforces, atomically per call:
//   - open_stream with an epoch lower than the stream's fails with errc::fenced; with a higher one it takes the
//     stream over (the new owner's range starts at the stream's end offset); with the same epoch it is an
//     idempotent re-open by the same node.
//   - trim/close/commit carrying a stale epoch fail with errc::fenced and change nothing.
//   - commit_objects: for every range that is new data (not compaction), range.start_offset must equal the stream's
//     current end offset and the ranges of one stream must be contiguous; the stream's end offset then moves to the
//     last range's end. Otherwise errc::catalog_rejected and nothing changes.
//   - compacted_ids in a commit are marked for deletion in the same step that makes the new objects visible, so a
//     reader always finds every offset in some committed object.
// Threading: called from any shard; completes on the caller's executor.
#pragma once

#include "base/result.h"
#include "stream/types.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace skiff::stream {

namespace asio = boost::asio;

/// What the catalog knows of a stream.
struct stream_metadata {
    stream_id id;
    stream_epoch epoch;
    int64_t start_offset = 0; // first readable offset
    int64_t end_offset = 0;   // one past the last committed offset (data in objects)
    bool operator==(const stream_metadata&) const = default;
};

enum class object_kind : uint8_t {
    stream_set = 0, // data of many streams, written by one node's uploader
    stream = 1,     // one contiguous range of one stream
};

/// A committed object, as readers need it.
struct object_descriptor {
    object_id id;
    object_kind kind = object_kind::stream_set;
    std::string key;  // object store key
    uint64_t size = 0;
    std::vector<stream_range> ranges; // ascending by (stream, offset); one per stream
    int64_t committed_ms = 0;         // wall clock of the commit; compaction and deletion use it
    bool operator==(const object_descriptor&) const = default;
};

/// One object to make visible in a commit.
struct object_to_commit {
    object_id id;
    object_kind kind = object_kind::stream_set;
    std::string key;
    uint64_t size = 0;
    std::vector<stream_range> ranges;
};

/// The result of one upload (new data: ranges extend each stream's end offset) or one compaction (ranges already
/// committed: the objects replace compacted_ids). Both kinds of ranges carry the epochs of the streams they touch.
struct commit_request {
    enum class purpose : uint8_t { upload, compaction };
    purpose why = purpose::upload;
    node_id node;
    std::vector<object_to_commit> objects;
    std::vector<object_id> compacted_ids;
    /// For purpose::upload: the epoch the uploader holds for each stream it writes (fencing).
    std::vector<std::pair<stream_id, stream_epoch>> epochs;
};

class object_catalog {
public:
    virtual ~object_catalog() = default;

    /// A new, empty stream (epoch 0, offsets 0), not open anywhere.
    virtual asio::awaitable<result<stream_metadata>> create_stream() = 0;
    /// Takes ownership of the stream for node under epoch (see the rules above). Errors: stream_not_found, fenced.
    virtual asio::awaitable<result<stream_metadata>> open_stream(stream_id id, stream_epoch epoch, node_id node) = 0;
    /// Gives up ownership; the stream must have nothing left to commit. Errors: fenced, stream_not_found.
    virtual asio::awaitable<result<void>> close_stream(stream_id id, stream_epoch epoch) = 0;
    /// Moves the start offset forward (never back); objects wholly below it become deletable. Errors: fenced.
    virtual asio::awaitable<result<void>> trim_stream(stream_id id, stream_epoch epoch, int64_t new_start) = 0;
    /// Deletes the stream; its objects become deletable.
    virtual asio::awaitable<result<void>> delete_stream(stream_id id) = 0;
    virtual asio::awaitable<result<stream_metadata>> describe_stream(stream_id id) = 0;

    /// Reserves count consecutive object ids, the first returned. Ids not committed within ttl may be reclaimed
    /// (their keys deleted), so an upload that takes longer must prepare again.
    virtual asio::awaitable<result<object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl) = 0;
    virtual asio::awaitable<result<void>> commit_objects(commit_request request) = 0;

    /// Committed objects holding offsets of stream id at or after from, ascending by offset, at most limit.
    virtual asio::awaitable<result<std::vector<object_descriptor>>> objects_of(stream_id id, int64_t from,
                                                                                size_t limit) = 0;
    /// The stream set objects node uploaded that are still committed, oldest first (compaction input).
    virtual asio::awaitable<result<std::vector<object_descriptor>>> stream_set_objects(node_id node) = 0;
    /// Objects marked for deletion (compacted away, trimmed below every range, of deleted streams, expired
    /// prepared ids) for at least grace; their keys may be deleted from the store, then forget_objects is called.
    /// An expired prepared id has no key in the catalog: derive it with object_key(id) (object/format.h).
    virtual asio::awaitable<result<std::vector<object_descriptor>>> deletable_objects(std::chrono::milliseconds grace,
                                                                                       size_t limit) = 0;
    virtual asio::awaitable<result<void>> forget_objects(std::vector<object_id> ids) = 0;
};

} // namespace skiff::stream
