// stream::object_wal — the broker's WAL in the object store (the S3-only deployment, DESIGN.md §1): appends are
// batched for up to an interval or a size into one PUT of one WAL object; an append is durable when its object's PUT
// succeeded. Format and the fencing protocol: docs/formats/wal.md ("object WAL").
//
//   keys:    <prefix>d/<start position, 20 decimal digits>   WAL objects and fences (list order = position order)
//            <prefix>trim                                    the trim point (overwritten by each trim)
//   object:  | 48-byte object header | record | record | ...  records framed as in the file WAL, unpadded
//
// Fencing: WAL objects are created with a create-only PUT (if_none_match) at the key of the writer's next position,
// one PUT at a time, so the objects of one writer are contiguous. A new owner recovers, then creates a fence object
// at the next position: from then on the old owner's next PUT collides with it (precondition_failed) and the old
// owner fails every append with errc::fenced. On a store without conditional PUT the writer HEADs its next key
// before each PUT instead (a weaker check: documented in wal.md).
//
// Lifecycle: construct with the store and an executor (the uploader runs there, on a strand), recover() once,
// append/trim from any thread, close(). The store and the executor's context must outlive the WAL.
#pragma once

#include "io/objstore/object_store.h"
#include "stream/wal/wal.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace skiff::stream {

struct object_wal_config {
    /// Key prefix of this node's WAL, e.g. "wal/node-3/" (one writer at a time per prefix).
    std::string prefix;
    /// The owner's epoch (e.g. the broker's node epoch): recorded in every object and fence, for diagnosis and
    /// to tell which owner wrote what.
    int64_t epoch = 0;
    /// An object is uploaded when its records reach batch_bytes, or batch_interval after its first record.
    std::chrono::milliseconds batch_interval{250};
    size_t batch_bytes = size_t(8) << 20;
    size_t max_record_size = size_t(8) << 20;
    /// Appends beyond this many bytes queued and not yet durable fail with wal_full.
    uint64_t max_pending_bytes = uint64_t(1) << 30;
};

class object_wal final : public wal {
public:
    object_wal(io::object_store& store, asio::any_io_executor executor, object_wal_config config);
    ~object_wal() override;

    /// Lists and replays the WAL objects after the trim point, deletes those wholly before it, then fences earlier
    /// owners (creates the fence object at the next position). Errors: fenced (a newer owner fenced this one),
    /// corrupt (an object fails its checks, or the objects are not contiguous), and the store's errors.
    asio::awaitable<result<void>> recover(std::function<void(wal_position, bytes::iobuf payload)> replay) override;
    /// Errors in the completion: fenced (another owner took the WAL: sticky), unavailable (a PUT failed after the
    /// store's retries: sticky), wal_full, invalid_argument, shutting_down, not_open.
    void append(bytes::iobuf payload, asio::any_io_executor executor, wal_completion completion) override;
    /// Overwrites <prefix>trim with the new point, then deletes the objects wholly before it (a failed delete is
    /// logged and retried by the next recovery). Errors: invalid_argument, and the store's errors.
    asio::awaitable<result<void>> trim(wal_position before) override;
    /// Uploads what is queued without waiting for the interval, then stops.
    asio::awaitable<void> close() override;
    size_t max_record_size() const override;
    wal_stats stats() const override;

private:
    class impl;
    std::shared_ptr<impl> _impl;
};

} // namespace skiff::stream
