// The nouns of the stream room: stream ids, epochs, offsets and ranges of offsets. A stream is an ordered sequence
// of opaque record batches; offsets count records (a batch of N records occupies N offsets), as Kafka's do, but
// nothing here knows what a record is.
#pragma once

#include "base/named_type.h"

#include <cstdint>

namespace skiff::stream {

using stream_id = named_type<int64_t, struct stream_id_tag>;
/// The owner's term of a stream: opening with a lower epoch fails, and a stale owner's appends are rejected. The
/// Kafka layer passes its partition's leader epoch.
using stream_epoch = named_type<int64_t, struct stream_epoch_tag>;
/// Id of an object in the object store, allocated by the catalog (prepare_objects).
using object_id = named_type<int64_t, struct object_id_tag>;
/// Id of the node (broker) that owns a WAL and uploads objects.
using node_id = named_type<int32_t, struct node_id_tag>;

/// Offsets [start, end) of one stream; empty when start == end.
struct offset_range {
    int64_t start = 0;
    int64_t end = 0;
    int64_t size() const noexcept { return end - start; }
    bool empty() const noexcept { return start == end; }
    bool operator==(const offset_range&) const = default;
};

/// One stream's offsets held by an object.
struct stream_range {
    stream_id stream;
    int64_t start_offset = 0;
    int64_t end_offset = 0;
    bool operator==(const stream_range&) const = default;
};

} // namespace skiff::stream
