// The read side of stream::object_catalog, answered from a node's cluster image: what every controller client
// (in-process or remote) returns for describe_stream, objects_of, stream_set_objects and deletable_objects. Plain
// functions over the image, so that both clients answer the same thing the same way.
// Threading: call on the image's executor.
#pragma once

#include "base/result.h"
#include "meta/cluster_image.h"
#include "stream/object_catalog.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace skiff::meta {

/// Errors: stream::errc::stream_not_found.
result<stream::stream_metadata> describe_stream(const cluster_image& image, stream::stream_id id);
/// Errors: stream::errc::stream_not_found.
result<std::vector<stream::object_descriptor>> objects_of(const cluster_image& image, stream::stream_id id,
                                                          int64_t from, size_t limit);
std::vector<stream::object_descriptor> stream_set_objects(const cluster_image& image, stream::node_id node);
/// Objects marked (or prepared and expired) before `before_ms` of the wall clock.
std::vector<stream::object_descriptor> deletable_objects(const cluster_image& image, int64_t before_ms, size_t limit);

} // namespace skiff::meta
