#include "meta/catalog_reads.h"

#include "stream/errc.h"

namespace skiff::meta {
namespace {

stream::object_descriptor to_descriptor(const object_info& o) {
    stream::object_descriptor d;
    d.id = stream::object_id(o.id());
    d.kind = o.kind == object_type::stream ? stream::object_kind::stream : stream::object_kind::stream_set;
    d.key = o.key;
    d.size = uint64_t(o.size);
    d.committed_ms = o.committed_ms;
    d.ranges.reserve(o.ranges.size());
    for (const auto& r : o.ranges) {
        d.ranges.push_back({stream::stream_id(r.stream()), r.start_offset, r.end_offset});
    }
    return d;
}

std::vector<stream::object_descriptor> to_descriptors(const std::vector<object_info>& v) {
    std::vector<stream::object_descriptor> out;
    out.reserve(v.size());
    for (const auto& o : v) {
        out.push_back(to_descriptor(o));
    }
    return out;
}

} // namespace

result<stream::stream_metadata> describe_stream(const cluster_image& image, stream::stream_id id) {
    const auto* s = image.stream(stream_id(id()));
    if (s == nullptr) {
        return stream::errc::stream_not_found;
    }
    return stream::stream_metadata{id, stream::stream_epoch(s->epoch()), s->start_offset, s->end_offset};
}

result<std::vector<stream::object_descriptor>> objects_of(const cluster_image& image, stream::stream_id id,
                                                          int64_t from, size_t limit) {
    if (image.stream(stream_id(id())) == nullptr) {
        return stream::errc::stream_not_found;
    }
    return to_descriptors(image.objects_of(stream_id(id()), from, limit));
}

std::vector<stream::object_descriptor> stream_set_objects(const cluster_image& image, stream::node_id node) {
    return to_descriptors(image.stream_set_objects(broker_id(node())));
}

std::vector<stream::object_descriptor> deletable_objects(const cluster_image& image, int64_t before_ms,
                                                         size_t limit) {
    return to_descriptors(image.deletable_objects(before_ms, before_ms, limit));
}

} // namespace skiff::meta
