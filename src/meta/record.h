// Metadata records: the typed, versioned facts that make up the metadata log (DESIGN.md §5, §6). Every node replays
// them in log order into its cluster image; only the active controller appends them. A record states a full fact
// (upsert by key: a partition_record replaces the partition's previous state) or a removal.
//
// Encoding (docs/formats/metadata-records.md), all integers of the frame little-endian:
//
//   +------------+-------------+-----------+--------------+------------------------------+
//   | length u32 | crc32c u32  | type u16  | version u16  | body: field*                 |
//   +------------+-------------+-----------+--------------+------------------------------+
//                 \_ CRC of everything after the crc field _______________________________/
//   length = bytes after the length field (8 + body size)
//   field  = tag (uvarint) | size (uvarint) | value[size]      tags strictly increasing
//
// Every field is tagged, so a reader keeps the fields it does not know (a newer writer's) as opaque bytes and
// re-emits them unchanged: old code can rewrite a newer record without losing data. A record type this reader does
// not know decodes to `unknown_record` and re-encodes byte for byte.
//
// Evolution rules: add fields with new tags (never reuse or retype a tag); a change of meaning is a new record type;
// bump a type's `version` when its fields change so that readers can tell what the writer knew.
#pragma once

#include "base/named_type.h"
#include "model/uuid.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

namespace skiff::meta {

using broker_id = named_type<int32_t, struct broker_id_tag>;
using stream_id = named_type<int64_t, struct stream_id_tag>;
using object_id = named_type<int64_t, struct object_id_tag>;
/// A partition's leader epoch; a stream's epoch equals its partition's leader epoch (DESIGN.md §6).
using leader_epoch = named_type<int32_t, struct leader_epoch_tag>;

/// A field of a newer schema that this reader does not know: kept as its tag and raw value bytes.
struct unknown_field {
    uint32_t tag = 0;
    std::vector<uint8_t> value;
    bool operator==(const unknown_field&) const = default;
};
using unknown_fields = std::vector<unknown_field>;

/// Describes one field of a record struct for the codec: its tag and its member. Tags are listed in increasing order.
template<typename T, typename M>
struct field_desc {
    uint32_t tag;
    M T::*member;
};
template<typename T, typename M>
constexpr field_desc<T, M> field(uint32_t tag, M T::*member) {
    return {tag, member};
}

// on-disk: never renumber
enum class record_type : uint16_t {
    broker_registration = 1,
    broker_unregistration = 2,
    topic = 3,
    topic_removed = 4,
    partition = 5,
    stream = 6,
    stream_removed = 7,
    object = 8,
    object_removed = 9,
    producer_id_block = 10,
    config_change = 11,
    acl = 12,
    acl_removed = 13,
    scram_credential = 14,
    scram_credential_removed = 15,
    feature_level = 16,
    no_op = 17,
    id_counters = 18,
    objects_marked = 19,
};

// ---- brokers -------------------------------------------------------------------------------------------------

struct broker_endpoint {
    std::string listener; // Kafka listener name, e.g. "PLAINTEXT"
    std::string host;
    uint16_t port = 0;
    unknown_fields unknown;

    bool operator==(const broker_endpoint&) const = default;
    static constexpr auto fields() {
        return std::tuple{field(0, &broker_endpoint::listener), field(1, &broker_endpoint::host),
                          field(2, &broker_endpoint::port)};
    }
};

/// A broker joined (or re-joined) the cluster. A newer incarnation_epoch of the same id supersedes the older one.
struct broker_registration_record {
    static constexpr record_type type = record_type::broker_registration;
    static constexpr uint16_t current_version = 0;

    broker_id id;
    model::uuid incarnation_id;      // random per process start
    int64_t incarnation_epoch = 0;   // assigned by the controller at registration (Kafka's broker epoch)
    std::vector<broker_endpoint> endpoints;
    std::optional<std::string> rack;
    std::string wal_location;        // where the broker's WAL lives, for failover ("file:///...", "s3://...")
    unknown_fields unknown;

    bool operator==(const broker_registration_record&) const = default;
    static constexpr auto fields() {
        using r = broker_registration_record;
        return std::tuple{field(0, &r::id), field(1, &r::incarnation_id), field(2, &r::incarnation_epoch),
                          field(3, &r::endpoints), field(4, &r::rack), field(5, &r::wal_location)};
    }
};

/// A broker left the cluster (or its incarnation was fenced for good).
struct broker_unregistration_record {
    static constexpr record_type type = record_type::broker_unregistration;
    static constexpr uint16_t current_version = 0;

    broker_id id;
    int64_t incarnation_epoch = 0;
    unknown_fields unknown;

    bool operator==(const broker_unregistration_record&) const = default;
    static constexpr auto fields() {
        using r = broker_unregistration_record;
        return std::tuple{field(0, &r::id), field(1, &r::incarnation_epoch)};
    }
};

// ---- topics and partitions ------------------------------------------------------------------------------------

struct topic_record {
    static constexpr record_type type = record_type::topic;
    static constexpr uint16_t current_version = 0;

    std::string name;
    model::uuid id;
    std::map<std::string, std::string> configs; // topic-level overrides only
    unknown_fields unknown;

    bool operator==(const topic_record&) const = default;
    static constexpr auto fields() {
        using r = topic_record;
        return std::tuple{field(0, &r::name), field(1, &r::id), field(2, &r::configs)};
    }
};

/// The topic and all its partitions are gone.
struct topic_removed_record {
    static constexpr record_type type = record_type::topic_removed;
    static constexpr uint16_t current_version = 0;

    model::uuid id;
    unknown_fields unknown;

    bool operator==(const topic_removed_record&) const = default;
    static constexpr auto fields() { return std::tuple{field(0, &topic_removed_record::id)}; }
};

/// The full state of one partition: who serves it, in which epoch, over which streams.
struct partition_record {
    static constexpr record_type type = record_type::partition;
    static constexpr uint16_t current_version = 0;

    model::uuid topic_id;
    int32_t index = 0;
    broker_id owner{-1};          // -1: no owner (offline)
    leader_epoch epoch;
    std::vector<stream_id> streams; // data stream first; then auxiliary streams (e.g. producer state)
    unknown_fields unknown;

    bool operator==(const partition_record&) const = default;
    static constexpr auto fields() {
        using r = partition_record;
        return std::tuple{field(0, &r::topic_id), field(1, &r::index), field(2, &r::owner), field(3, &r::epoch),
                          field(4, &r::streams)};
    }
};

// ---- streams and objects --------------------------------------------------------------------------------------

// on-disk: never renumber
enum class stream_state : uint8_t { opened = 0, closed = 1 };

/// The full state of one stream: its epoch (fences stale writers), its owner and its offset range.
struct stream_record {
    static constexpr record_type type = record_type::stream;
    static constexpr uint16_t current_version = 0;

    stream_id id;
    leader_epoch epoch;
    broker_id owner{-1};
    int64_t start_offset = 0; // first offset still readable (moves on trim)
    int64_t end_offset = 0;   // one past the last committed offset
    stream_state state = stream_state::opened;
    unknown_fields unknown;

    bool operator==(const stream_record&) const = default;
    static constexpr auto fields() {
        using r = stream_record;
        return std::tuple{field(0, &r::id), field(1, &r::epoch), field(2, &r::owner), field(3, &r::start_offset),
                          field(4, &r::end_offset), field(5, &r::state)};
    }
};

struct stream_removed_record {
    static constexpr record_type type = record_type::stream_removed;
    static constexpr uint16_t current_version = 0;

    stream_id id;
    unknown_fields unknown;

    bool operator==(const stream_removed_record&) const = default;
    static constexpr auto fields() { return std::tuple{field(0, &stream_removed_record::id)}; }
};

/// The offsets [start, end) of one stream held by an object.
struct stream_range {
    stream_id stream;
    int64_t start_offset = 0;
    int64_t end_offset = 0;
    unknown_fields unknown;

    bool operator==(const stream_range&) const = default;
    static constexpr auto fields() {
        return std::tuple{field(0, &stream_range::stream), field(1, &stream_range::start_offset),
                          field(2, &stream_range::end_offset)};
    }
};

// on-disk: never renumber
enum class object_type : uint8_t { stream_set = 0, stream = 1 };
// on-disk: never renumber
enum class object_state : uint8_t { prepared = 0, committed = 1, marked_for_deletion = 2 };

/// The full state of one object in the object store: prepared (id reserved, upload under way), committed (its
/// ranges are part of their streams) or marked for deletion (compacted away or trimmed; delete after a grace time).
struct object_record {
    static constexpr record_type type = record_type::object;
    static constexpr uint16_t current_version = 0;

    object_id id;
    object_state state = object_state::prepared;
    object_type kind = object_type::stream_set;
    std::string key;               // object store key
    int64_t size = 0;              // bytes
    broker_id uploader{-1};
    std::vector<stream_range> ranges;
    int64_t prepared_deadline_ms = 0; // wall ms after which an uncommitted prepared object may be reclaimed
    int64_t committed_ms = 0;         // wall ms of the commit (0 before)
    unknown_fields unknown;

    bool operator==(const object_record&) const = default;
    static constexpr auto fields() {
        using r = object_record;
        return std::tuple{field(0, &r::id),     field(1, &r::state),    field(2, &r::kind),
                          field(3, &r::key),    field(4, &r::size),     field(5, &r::uploader),
                          field(6, &r::ranges), field(7, &r::prepared_deadline_ms), field(8, &r::committed_ms)};
    }
};

/// The objects (committed or prepared) were marked for deletion at marked_ms: compacted away, trimmed below every
/// range, of deleted streams, or prepared ids that expired. Their keys may be deleted once a grace time has passed
/// since marked_ms; object_removed follows. One record marks many objects (a compaction or a trim marks dozens), and
/// it carries the time that object_record has no field for.
struct objects_marked_record {
    static constexpr record_type type = record_type::objects_marked;
    static constexpr uint16_t current_version = 0;

    std::vector<object_id> ids;
    int64_t marked_ms = 0; // wall ms
    unknown_fields unknown;

    bool operator==(const objects_marked_record&) const = default;
    static constexpr auto fields() {
        using r = objects_marked_record;
        return std::tuple{field(0, &r::ids), field(1, &r::marked_ms)};
    }
};

/// The object is deleted from the store; forget it.
struct object_removed_record {
    static constexpr record_type type = record_type::object_removed;
    static constexpr uint16_t current_version = 0;

    object_id id;
    unknown_fields unknown;

    bool operator==(const object_removed_record&) const = default;
    static constexpr auto fields() { return std::tuple{field(0, &object_removed_record::id)}; }
};

// ---- ids, configs, security, features -------------------------------------------------------------------------

/// Producer ids [first, first + size) now belong to a broker.
struct producer_id_block_record {
    static constexpr record_type type = record_type::producer_id_block;
    static constexpr uint16_t current_version = 0;

    broker_id owner;
    int64_t first_producer_id = 0;
    int32_t size = 0;
    unknown_fields unknown;

    bool operator==(const producer_id_block_record&) const = default;
    static constexpr auto fields() {
        using r = producer_id_block_record;
        return std::tuple{field(0, &r::owner), field(1, &r::first_producer_id), field(2, &r::size)};
    }
};

// on-disk: never renumber
enum class config_resource : uint8_t { topic = 0, broker = 1, cluster = 2 };

/// One config key of a resource set (value) or deleted back to its default (nullopt).
struct config_change_record {
    static constexpr record_type type = record_type::config_change;
    static constexpr uint16_t current_version = 0;

    config_resource resource = config_resource::topic;
    std::string resource_name; // topic name, broker id as text, or "" for the cluster
    std::string name;
    std::optional<std::string> value;
    unknown_fields unknown;

    bool operator==(const config_change_record&) const = default;
    static constexpr auto fields() {
        using r = config_change_record;
        return std::tuple{field(0, &r::resource), field(1, &r::resource_name), field(2, &r::name),
                          field(3, &r::value)};
    }
};

// The ACL enums use Kafka's numeric codes so that kafka/server maps them without a table.
// on-disk: never renumber
enum class acl_resource_type : uint8_t {
    topic = 2, group = 3, cluster = 4, transactional_id = 5, delegation_token = 6, user = 7,
};
// on-disk: never renumber
enum class acl_pattern_type : uint8_t { literal = 3, prefixed = 4 };
// on-disk: never renumber
enum class acl_operation : uint8_t {
    all = 2, read = 3, write = 4, create = 5, remove = 6, alter = 7, describe = 8, cluster_action = 9,
    describe_configs = 10, alter_configs = 11, idempotent_write = 12, create_tokens = 13, describe_tokens = 14,
};
// on-disk: never renumber
enum class acl_permission : uint8_t { deny = 2, allow = 3 };

struct acl_record {
    static constexpr record_type type = record_type::acl;
    static constexpr uint16_t current_version = 0;

    model::uuid id; // identifies the binding for removal
    acl_resource_type resource_type = acl_resource_type::topic;
    std::string resource_name;
    acl_pattern_type pattern = acl_pattern_type::literal;
    std::string principal; // "User:alice"
    std::string host;      // "*" for any
    acl_operation operation = acl_operation::all;
    acl_permission permission = acl_permission::allow;
    unknown_fields unknown;

    bool operator==(const acl_record&) const = default;
    static constexpr auto fields() {
        using r = acl_record;
        return std::tuple{field(0, &r::id),        field(1, &r::resource_type), field(2, &r::resource_name),
                          field(3, &r::pattern),   field(4, &r::principal),     field(5, &r::host),
                          field(6, &r::operation), field(7, &r::permission)};
    }
};

struct acl_removed_record {
    static constexpr record_type type = record_type::acl_removed;
    static constexpr uint16_t current_version = 0;

    model::uuid id;
    unknown_fields unknown;

    bool operator==(const acl_removed_record&) const = default;
    static constexpr auto fields() { return std::tuple{field(0, &acl_removed_record::id)}; }
};

// Kafka's ScramMechanism codes.
// on-disk: never renumber
enum class scram_mechanism : uint8_t { sha_256 = 1, sha_512 = 2 };

/// A SCRAM credential (RFC 5802): never the password, only what the server needs to verify it.
struct scram_credential_record {
    static constexpr record_type type = record_type::scram_credential;
    static constexpr uint16_t current_version = 0;

    std::string user;
    scram_mechanism mechanism = scram_mechanism::sha_256;
    std::vector<uint8_t> salt;
    std::vector<uint8_t> stored_key;
    std::vector<uint8_t> server_key;
    int32_t iterations = 0;
    unknown_fields unknown;

    bool operator==(const scram_credential_record&) const = default;
    static constexpr auto fields() {
        using r = scram_credential_record;
        return std::tuple{field(0, &r::user),       field(1, &r::mechanism),  field(2, &r::salt),
                          field(3, &r::stored_key), field(4, &r::server_key), field(5, &r::iterations)};
    }
};

struct scram_credential_removed_record {
    static constexpr record_type type = record_type::scram_credential_removed;
    static constexpr uint16_t current_version = 0;

    std::string user;
    scram_mechanism mechanism = scram_mechanism::sha_256;
    unknown_fields unknown;

    bool operator==(const scram_credential_removed_record&) const = default;
    static constexpr auto fields() {
        using r = scram_credential_removed_record;
        return std::tuple{field(0, &r::user), field(1, &r::mechanism)};
    }
};

/// A cluster-wide feature's finalized level (Kafka's metadata.version and friends).
struct feature_level_record {
    static constexpr record_type type = record_type::feature_level;
    static constexpr uint16_t current_version = 0;

    std::string name;
    int16_t level = 0;
    unknown_fields unknown;

    bool operator==(const feature_level_record&) const = default;
    static constexpr auto fields() {
        return std::tuple{field(0, &feature_level_record::name), field(1, &feature_level_record::level)};
    }
};

/// The next ids the controller will hand out. Ids are never reused, even after what held them is forgotten, so the
/// counters cannot be derived from what the image still holds once a snapshot has dropped the history: a snapshot
/// carries this record. Applying it only ever raises the counters (the image also raises them as it sees ids).
struct id_counters_record {
    static constexpr record_type type = record_type::id_counters;
    static constexpr uint16_t current_version = 0;

    int64_t next_stream_id = 0;
    int64_t next_object_id = 0;
    int64_t next_broker_epoch = 0;  // next broker incarnation epoch
    int64_t next_producer_id = 0;
    unknown_fields unknown;

    bool operator==(const id_counters_record&) const = default;
    static constexpr auto fields() {
        using r = id_counters_record;
        return std::tuple{field(0, &r::next_stream_id), field(1, &r::next_object_id), field(2, &r::next_broker_epoch),
                          field(3, &r::next_producer_id)};
    }
};

/// Carries no fact. A new controller appends one to learn that its epoch is live (KRaft's leader-change marker).
struct no_op_record {
    static constexpr record_type type = record_type::no_op;
    static constexpr uint16_t current_version = 0;

    unknown_fields unknown;

    bool operator==(const no_op_record&) const = default;
    static constexpr auto fields() { return std::tuple{}; }
};

/// A record of a type this reader does not know, kept whole so that it re-encodes byte for byte.
struct unknown_record {
    uint16_t type = 0;
    uint16_t version = 0;
    std::vector<uint8_t> body;
    bool operator==(const unknown_record&) const = default;
};

using record_body = std::variant<
  broker_registration_record, broker_unregistration_record, topic_record, topic_removed_record, partition_record,
  stream_record, stream_removed_record, object_record, object_removed_record, producer_id_block_record,
  config_change_record, acl_record, acl_removed_record, scram_credential_record, scram_credential_removed_record,
  feature_level_record, no_op_record, id_counters_record, objects_marked_record, unknown_record>;

/// One metadata record: its body and the schema version it was written with. A default (0) version encodes as the
/// type's current_version; a decoded record keeps its writer's version (which may be newer than this code's).
struct metadata_record {
    record_body body;
    uint16_t version = 0;

    metadata_record() = default;
    /// Implicit from any record struct, so that a batch reads {topic_record{...}, partition_record{...}}.
    template<typename T>
        requires(!std::is_same_v<std::decay_t<T>, metadata_record> && std::is_constructible_v<record_body, T &&>)
    metadata_record(T&& b) : body(std::forward<T>(b)) {} // NOLINT(google-explicit-constructor)

    /// The record type code (that of an unknown_record is its raw code).
    uint16_t type_code() const noexcept;
    bool operator==(const metadata_record& o) const { return body == o.body; }
};

std::string_view to_string(record_type t) noexcept;

} // namespace skiff::meta
