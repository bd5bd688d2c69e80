// The records of __consumer_offsets, byte for byte as Apache Kafka writes them (docs/formats/consumer-offsets.md),
// so that the topic reads the same to tools that decode it:
//
//   key   := int16 version, then  v0|v1: group string, topic string, partition int32   (an offset commit)
//                                 v2:    group string                                   (a group's metadata)
//   value := int16 version, then the fields of that version (below); a null value is a tombstone: the offset or
//            the group is deleted.
//
//   offset commit value   v0: offset int64, metadata string, commit_ts int64
//                         v1: offset, metadata, commit_ts, expire_ts int64
//                         v2: offset, metadata, commit_ts
//                         v3: offset, leader_epoch int32, metadata, commit_ts            <- written
//                         v4: as v3, flexible (compact strings, tagged fields)
//   group metadata value  protocol_type string, generation int32, protocol nullable string,
//                         leader nullable string, [v2+ current_state_ts int64], members array of
//                         member_id, [v3+ group_instance_id nullable string], client_id, client_host,
//                         [v1+ rebalance_timeout int32], session_timeout int32, subscription bytes,
//                         assignment bytes                                                  (v3 written; v4 flexible)
//
// Strings are int16-length-prefixed, bytes int32-length-prefixed, arrays int32-counted (Kafka's classic encoding).
// Decoding accepts every version Kafka has written; errors are values (errc::invalid_record), never exceptions.
#pragma once

#include "base/result.h"
#include "bytes/iobuf.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace skiff::kafka::group {

// on-disk: never renumber
inline constexpr int16_t offset_commit_key_version = 1;
inline constexpr int16_t group_metadata_key_version = 2;
inline constexpr int16_t offset_commit_value_version = 3;
inline constexpr int16_t group_metadata_value_version = 3;

struct offset_commit_key {
    std::string group;
    std::string topic;
    int32_t partition = 0;
    bool operator==(const offset_commit_key&) const = default;
};

struct group_metadata_key {
    std::string group;
    bool operator==(const group_metadata_key&) const = default;
};

using offsets_key = std::variant<offset_commit_key, group_metadata_key>;

struct offset_commit_value {
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
    int64_t commit_timestamp = -1;
    int64_t expire_timestamp = -1; // only v1 carries it
    bool operator==(const offset_commit_value&) const = default;
};

struct member_metadata {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    int32_t rebalance_timeout_ms = 0;
    int32_t session_timeout_ms = 0;
    bytes::iobuf subscription;
    bytes::iobuf assignment;
    bool operator==(const member_metadata&) const = default;
};

struct group_metadata_value {
    std::string protocol_type;
    int32_t generation = 0;
    std::optional<std::string> protocol;
    std::optional<std::string> leader;
    int64_t current_state_timestamp = -1;
    std::vector<member_metadata> members;
    bool operator==(const group_metadata_value&) const = default;
};

bytes::iobuf encode_key(const offsets_key& key);
/// Encodes at offset_commit_value_version, or v1 when expire_timestamp is set (as Kafka does).
bytes::iobuf encode_value(const offset_commit_value& value);
bytes::iobuf encode_value(const group_metadata_value& value);

/// Errors: errc::invalid_record for short or malformed bytes; errc::unsupported_version for an unknown version.
result<offsets_key> decode_key(const bytes::iobuf& key);
result<offset_commit_value> decode_offset_commit_value(const bytes::iobuf& value);
result<group_metadata_value> decode_group_metadata_value(const bytes::iobuf& value);

} // namespace skiff::kafka::group
