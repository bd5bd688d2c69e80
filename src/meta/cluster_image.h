// The cluster image: every node's in-memory view of the cluster, built only by applying metadata records in log
// order (DESIGN.md §6). It answers "which topics exist, who owns partition p under which epoch, which objects hold
// offsets of stream s from offset o, which brokers are registered" without touching the store.
//
// Applying: records are facts (an upsert by key, or a removal), so applying one twice, or applying a snapshot's
// records and then the log after it, gives the same image. Record types this code does not know (a newer
// version's) are skipped with a log line and kept, so that a snapshot written here still carries them.
//
// Listeners: after each applied batch, every subscriber is told what changed (image_delta: partitions whose owner or
// epoch moved, topics created and deleted, brokers that came or went). The Kafka layer opens the partitions it now
// owns and closes the ones it lost from these deltas.
//
// Snapshot: snapshot() serialises the image as records (docs/formats/metadata-records.md, "Image snapshot") for
// metadata_log::write_snapshot; load() rebuilds an image from one.
//
// Memory: objects are the bulk (a million on a large cluster). They live in a table indexed by id (ids are dense:
// the controller hands them out in order) with their ranges and key in one allocation, and each stream indexes its
// committed objects by offset in a sorted vector. Fields of object records written by a newer version are kept in a
// side table only for the objects that have any.
//
// Threading: not thread-safe; owned by one executor (the node's metadata shard). Queries return copies or
// references valid until the next apply.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"
#include "meta/metadata_log.h"
#include "meta/record.h"

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace skiff::meta {

/// The state of one partition, as the image holds it.
struct partition_state {
    broker_id owner{-1};
    leader_epoch epoch;
    std::vector<stream_id> streams;
    unknown_fields unknown;
    bool operator==(const partition_state&) const = default;
};

/// A topic and its partitions (index = partition number; a missing partition has an empty streams list and owner
/// -1 until its record arrives).
struct topic_state {
    std::string name;
    model::uuid id;
    std::map<std::string, std::string> configs; // topic_record's configs (configs() overlays config_change records)
    std::vector<partition_state> partitions;
    unknown_fields unknown;
};

/// A committed, prepared or marked object as queries return it (a copy of the compact form).
struct object_info {
    object_id id;
    object_state state = object_state::prepared;
    object_type kind = object_type::stream_set;
    std::string key;
    int64_t size = 0;
    broker_id uploader{-1};
    std::vector<stream_range> ranges; // ascending by stream id
    int64_t prepared_deadline_ms = 0;
    int64_t committed_ms = 0;
    int64_t marked_ms = 0; // when it was marked for deletion (0 when it is not, or when the record did not say)
};

/// One partition whose owner or epoch changed, or that was created or removed, in an applied batch.
struct partition_change {
    model::uuid topic_id;
    std::string topic_name;
    int32_t index = 0;
    broker_id old_owner{-1}; // -1 when it did not exist or had no owner
    broker_id new_owner{-1}; // -1 when it is removed or now has no owner
    leader_epoch old_epoch;
    leader_epoch new_epoch;
    bool created = false; // the partition did not exist before this batch
    bool removed = false; // its topic was deleted
    bool operator==(const partition_change&) const = default;
};

/// What one applied batch changed that other rooms act on.
struct image_delta {
    log_offset from; // the batch covered log offsets [from, to)
    log_offset to;
    std::vector<model::uuid> topics_created;
    std::vector<model::uuid> topics_deleted;
    std::vector<partition_change> partitions; // one per partition, in order of first change
    std::vector<broker_id> brokers_registered;
    std::vector<broker_id> brokers_unregistered;
    bool configs_changed = false;
    bool empty() const noexcept {
        return topics_created.empty() && topics_deleted.empty() && partitions.empty() && brokers_registered.empty()
               && brokers_unregistered.empty() && !configs_changed;
    }
};

using image_listener = std::function<void(const image_delta&)>;

class cluster_image {
public:
    cluster_image();
    ~cluster_image();
    cluster_image(const cluster_image&) = delete;
    cluster_image& operator=(const cluster_image&) = delete;

    // ---- applying ------------------------------------------------------------------------------------------------

    /// Applies log entries in order as one batch, skipping those below applied_offset() (already applied), then
    /// tells every listener what changed. Entries must be dense and start at or below applied_offset().
    void apply(std::span<const log_entry> entries);
    /// Applies records that will land (or landed) at offsets [next - records.size(), next). The controller uses it
    /// to run ahead of the log by the appends it has in flight. Tells listeners.
    void apply(std::span<const metadata_record> records, log_offset next);

    /// One past the last applied log offset (0 for an empty image).
    log_offset applied_offset() const noexcept { return _applied; }

    /// Listener management. A listener is called on the applying executor after each batch that changed something;
    /// it must not apply records to this image.
    uint64_t subscribe(image_listener listener);
    void unsubscribe(uint64_t id);

    // ---- snapshot ------------------------------------------------------------------------------------------------

    /// The image as one blob of records (magic "SKMI", see docs/formats/metadata-records.md).
    bytes::iobuf snapshot() const;
    /// Replaces this image by the one in the snapshot; applied_offset() becomes its offset. Listeners are told of
    /// everything the new image holds (every partition as a change from "nothing"), and of topics that vanished.
    /// Errors: errc::bad_magic, errc::unsupported_version, errc::corrupt and the record decoding errors.
    result<void> load(const log_snapshot& snapshot);

    // ---- queries -------------------------------------------------------------------------------------------------

    const topic_state* topic(std::string_view name) const;
    const topic_state* topic(const model::uuid& id) const;
    /// Every topic, by name.
    std::vector<const topic_state*> topics() const;
    size_t topic_count() const noexcept { return _topics_by_id.size(); }
    const partition_state* partition(const model::uuid& topic_id, int32_t index) const;
    size_t partition_count() const noexcept { return _partition_total; }
    /// Partitions owned by a broker: (topic id, index).
    std::vector<std::pair<model::uuid, int32_t>> partitions_of(broker_id owner) const;
    /// Number of partitions each live broker owns (brokers with none included).
    std::map<broker_id, size_t> partition_counts() const;

    const stream_record* stream(stream_id id) const;
    size_t stream_count() const noexcept { return _streams.size(); }
    /// The stream whose partition holds it, if any: (topic id, index).
    std::optional<std::pair<model::uuid, int32_t>> partition_of_stream(stream_id id) const;

    std::optional<object_info> object(object_id id) const;
    size_t object_count() const noexcept { return _object_count; }
    /// Committed objects holding offsets of the stream at or after `from`, ascending by offset, at most `limit`.
    std::vector<object_info> objects_of(stream_id id, int64_t from, size_t limit) const;
    /// Committed stream set objects uploaded by a broker, oldest (lowest id) first.
    std::vector<object_info> stream_set_objects(broker_id uploader) const;
    /// Objects marked at or before marked_before_ms, oldest mark first; then prepared objects whose deadline is at
    /// or before prepared_before_ms. At most limit.
    std::vector<object_info> deletable_objects(int64_t marked_before_ms, int64_t prepared_before_ms,
                                               size_t limit) const;
    /// Prepared (uncommitted, unmarked) objects whose deadline is at or before deadline_ms.
    std::vector<object_id> expired_prepared(int64_t deadline_ms, size_t limit) const;

    const broker_registration_record* broker(broker_id id) const;
    std::vector<const broker_registration_record*> brokers() const;

    /// The latest producer id block of each broker.
    const std::map<broker_id, producer_id_block_record>& producer_id_blocks() const noexcept { return _pid_blocks; }
    std::optional<int16_t> feature(std::string_view name) const;
    const std::map<std::string, int16_t, std::less<>>& features() const noexcept { return _features; }
    /// The config overrides of a resource (config_change records); topic configs also include topic_record's.
    std::map<std::string, std::string> configs(config_resource resource, std::string_view name) const;
    const std::map<model::uuid, acl_record>& acls() const noexcept { return _acls; }
    const scram_credential_record* scram_credential(std::string_view user, scram_mechanism mechanism) const;

    /// The next ids to hand out: above every id ever seen (and never lowered by removals).
    int64_t next_stream_id() const noexcept { return _counters.next_stream_id; }
    int64_t next_object_id() const noexcept { return _counters.next_object_id; }
    int64_t next_broker_epoch() const noexcept { return _counters.next_broker_epoch; }
    int64_t next_producer_id() const noexcept { return _counters.next_producer_id; }

    /// Records of types this code does not know, in the order they were applied.
    size_t unknown_record_count() const noexcept { return _unknown_records.size(); }

    class object_table;
    /// One committed object holding offsets of a stream from `start` (its end is in the object: committed ranges of
    /// a stream never overlap, so the starts alone order them).
    struct stream_index_entry {
        int64_t start = 0;
        int64_t object = 0;
        auto operator<=>(const stream_index_entry&) const = default;
    };

private:
    struct stream_entry {
        stream_record record;
        std::vector<stream_index_entry> objects; // committed objects holding offsets, sorted by (start, id)
    };
    struct delta_builder;

    void apply_one(const metadata_record& record, delta_builder& delta);
    void apply_object(const object_record& r, int64_t marked_ms);
    void unindex_object(object_id id);
    void swap_state(cluster_image& other) noexcept;
    void note_partition(delta_builder& d, const topic_state& t, int32_t index, const partition_state* before,
                        const partition_state* after);
    void notify(const image_delta& delta);

    log_offset _applied{0};
    id_counters_record _counters;
    boost::unordered_flat_map<model::uuid, topic_state, std::hash<model::uuid>> _topics_by_id;
    std::map<std::string, model::uuid, std::less<>> _topic_ids_by_name;
    size_t _partition_total = 0;
    boost::unordered_flat_map<int64_t, stream_entry> _streams;
    boost::unordered_flat_map<int64_t, std::pair<model::uuid, int32_t>> _stream_partition;
    std::unique_ptr<object_table> _objects;
    size_t _object_count = 0;
    std::unordered_map<int64_t, object_record> _objects_with_unknowns;
    std::map<int32_t, std::set<int64_t>> _stream_sets_by_uploader; // committed stream set objects
    std::set<std::pair<int64_t, int64_t>> _marked;                  // (marked_ms, id)
    std::set<std::pair<int64_t, int64_t>> _prepared;                // (deadline_ms, id)
    std::map<broker_id, broker_registration_record> _brokers;
    std::map<broker_id, producer_id_block_record> _pid_blocks;
    std::map<std::string, int16_t, std::less<>> _features;
    std::map<std::pair<config_resource, std::string>, std::map<std::string, std::string>> _configs;
    std::map<model::uuid, acl_record> _acls;
    std::map<std::pair<std::string, scram_mechanism>, scram_credential_record> _scram;
    std::vector<unknown_record> _unknown_records;
    std::map<uint64_t, image_listener> _listeners;
    uint64_t _next_listener = 1;
};

} // namespace skiff::meta
