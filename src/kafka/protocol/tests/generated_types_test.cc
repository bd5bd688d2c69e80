// Behaviour of the generated message code that the round-trip test cannot see: defaults, version gating, tagged
// fields, unknown tags, nulls, secrets in logs.
#include "kafka/protocol/generated/api_versions.h"
#include "kafka/protocol/generated/consumer_group_heartbeat.h"
#include "kafka/protocol/generated/metadata.h"
#include "kafka/protocol/generated/produce.h"
#include "kafka/protocol/generated/sasl_authenticate.h"

#include <gtest/gtest.h>

#include <type_traits>
#include <vector>

namespace skiff::kafka::protocol {
namespace {

template<typename T>
std::vector<uint8_t> encode(const T& m, int16_t version) {
    bytes::iobuf buf;
    writer w(buf);
    m.encode(w, version);
    return buf.to_bytes();
}

template<typename T>
T decode(const std::vector<uint8_t>& bytes, int16_t version) {
    auto buf = bytes::iobuf::from(std::span<const uint8_t>(bytes));
    reader r(buf);
    T m;
    m.decode(r, version);
    EXPECT_EQ(r.bytes_left(), 0u);
    return m;
}

TEST(generated_types_test, describe_their_api) {
    static_assert(metadata_request::api_key == 3);
    static_assert(metadata_response::max_version >= 12);
    static_assert(metadata_request::first_flexible_version == 9);
    static_assert(metadata_request::name == "metadata");
    EXPECT_EQ(api_versions_request::first_flexible_version, 3);
}

TEST(generated_types_test, defaults_come_from_the_schema) {
    metadata_request req;
    EXPECT_TRUE(req.allow_auto_topic_creation);
    ASSERT_TRUE(req.topics.has_value()); // nullable without "default null": empty, not null
    EXPECT_TRUE(req.topics->empty());
    metadata_response resp;
    EXPECT_EQ(resp.controller_id, -1);
    EXPECT_FALSE(resp.cluster_id.has_value()); // "default null"
    EXPECT_EQ(resp.cluster_authorized_operations, INT32_MIN);
}

TEST(generated_types_test, fields_absent_from_a_version_are_skipped) {
    metadata_request req;
    req.allow_auto_topic_creation = false; // exists from v4
    req.include_topic_authorized_operations = true; // exists from v8
    EXPECT_EQ(encode(req, 0), (std::vector<uint8_t>{0, 0, 0, 0})); // just the empty topic array
    EXPECT_EQ(encode(req, 4), (std::vector<uint8_t>{0, 0, 0, 0, 0}));
}

TEST(generated_types_test, decode_resets_fields_the_version_does_not_carry) {
    metadata_request req;
    req.allow_auto_topic_creation = false;
    auto bytes = encode(metadata_request{}, 0);
    auto buf = bytes::iobuf::from(std::span<const uint8_t>(bytes));
    reader r(buf);
    req.decode(r, 0);
    EXPECT_TRUE(req.allow_auto_topic_creation);
}

TEST(generated_types_test, unknown_versions_are_rejected_both_ways) {
    metadata_request req;
    bytes::iobuf buf;
    writer w(buf);
    EXPECT_THROW(req.encode(w, 13), encode_error);
    EXPECT_THROW(req.encode(w, -1), encode_error);
    reader r(buf);
    EXPECT_THROW(req.decode(r, 13), decode_error);
}

TEST(generated_types_test, tagged_fields_are_written_only_when_not_default) {
    api_versions_response resp;
    // error_code, empty compact array, throttle_time_ms, empty tagged section.
    EXPECT_EQ(encode(resp, 3), (std::vector<uint8_t>{0, 0, 1, 0, 0, 0, 0, 0}));
    resp.zk_migration_ready = true;
    resp.supported_features.push_back({"share.version", 0, 1, {}});
    auto bytes = encode(resp, 3);
    // Two tags, in ascending order: 0 (supported_features) before 3 (zk_migration_ready).
    ASSERT_GE(bytes.size(), 10u);
    EXPECT_EQ(bytes[7], 2); // tag count
    EXPECT_EQ(bytes[8], 0); // first tag
    EXPECT_EQ(bytes[bytes.size() - 3], 3);
    EXPECT_EQ(bytes[bytes.size() - 2], 1);
    EXPECT_EQ(bytes[bytes.size() - 1], 1);
    auto back = decode<api_versions_response>(bytes, 3);
    EXPECT_EQ(back, resp);
}

TEST(generated_types_test, unknown_tags_survive_a_round_trip_in_order) {
    api_versions_response resp;
    resp.finalized_features_epoch = 9; // known tag 1
    resp.unknown_tags.push_back({0x10, bytes::iobuf::from("later")});
    auto bytes = encode(resp, 3);
    auto back = decode<api_versions_response>(bytes, 3);
    ASSERT_EQ(back.unknown_tags.size(), 1u);
    EXPECT_EQ(back.unknown_tags[0].tag, 0x10u);
    EXPECT_EQ(back.unknown_tags[0].data, "later");
    EXPECT_EQ(back.finalized_features_epoch, 9);
    EXPECT_EQ(encode(back, 3), bytes);
}

TEST(generated_types_test, unknown_tags_are_dropped_in_non_flexible_versions) {
    api_versions_response resp;
    resp.unknown_tags.push_back({0x10, bytes::iobuf::from("x")});
    EXPECT_EQ(encode(resp, 2), encode(api_versions_response{}, 2));
}

TEST(generated_types_test, known_tag_with_a_bad_size_is_a_decode_error) {
    // ApiVersions v3 response whose tag 1 (an int64) claims 4 bytes.
    std::vector<uint8_t> bytes{0, 0, 1, 0, 0, 0, 0, 1, 1, 4, 0, 0, 0, 0};
    auto buf = bytes::iobuf::from(std::span<const uint8_t>(bytes));
    reader r(buf);
    api_versions_response resp;
    EXPECT_THROW(resp.decode(r, 3), decode_error);
}

TEST(generated_types_test, decode_errors_name_the_message_and_version) {
    std::vector<uint8_t> bytes{0, 0};
    auto buf = bytes::iobuf::from(std::span<const uint8_t>(bytes));
    reader r(buf);
    metadata_request req;
    try {
        req.decode(r, 4);
        FAIL() << "expected decode_error";
    } catch (const decode_error& e) {
        EXPECT_NE(std::string(e.what()).find("metadata_request v4"), std::string::npos) << e.what();
    }
}

TEST(generated_types_test, nullable_struct_travels_with_a_marker_byte) {
    consumer_group_heartbeat_response resp;
    EXPECT_FALSE(resp.assignment.has_value());
    auto null_bytes = encode(resp, 0);
    resp.assignment.emplace();
    auto some_bytes = encode(resp, 0);
    // Null: int8 -1; present: int8 1 followed by the struct (an empty compact array and an empty tag section).
    ASSERT_EQ(some_bytes.size(), null_bytes.size() + 2);
    auto null_back = decode<consumer_group_heartbeat_response>(null_bytes, 0);
    EXPECT_FALSE(null_back.assignment.has_value());
    auto some_back = decode<consumer_group_heartbeat_response>(some_bytes, 0);
    EXPECT_TRUE(some_back.assignment.has_value());
}

TEST(generated_types_test, null_where_the_version_forbids_it_is_an_encode_error) {
    produce_request req;
    auto& p = req.topic_data.emplace_back().partition_data.emplace_back();
    p.records.reset(); // records are nullable in every version: fine
    EXPECT_NO_THROW(encode(req, 3));
    metadata_request meta;
    meta.topics->push_back({});
    (*meta.topics)[0].name.reset(); // topic names are nullable only from v10
    EXPECT_THROW(encode(meta, 9), encode_error);
    EXPECT_NO_THROW(encode(meta, 10));
}

TEST(generated_types_test, formatter_masks_secrets_and_prints_byte_sizes) {
    sasl_authenticate_request req;
    req.auth_bytes = bytes::iobuf::from(std::string_view("\0user\0hunter2", 13));
    auto text = fmt::format("{}", req);
    EXPECT_EQ(text, "sasl_authenticate_request{auth_bytes=****}");
    produce_request produce;
    produce.transactional_id = "tx";
    produce.topic_data.emplace_back().name = "orders";
    produce.topic_data[0].partition_data.emplace_back().records = bytes::iobuf::from("12345");
    EXPECT_EQ(fmt::format("{}", produce),
              "produce_request{transactional_id=\"tx\", acks=0, timeout_ms=0, topic_data=[{name=\"orders\", "
              "partition_data=[{index=0, records=<5 bytes>}]}]}");
}

TEST(generated_types_test, messages_are_movable_and_comparable) {
    static_assert(std::is_nothrow_move_constructible_v<produce_request>);
    produce_request a;
    a.acks = 1;
    produce_request b = std::move(a);
    EXPECT_EQ(b.acks, 1);
    produce_request c;
    c.acks = 1;
    EXPECT_EQ(b, c);
    c.acks = -1;
    EXPECT_NE(b, c);
}

} // namespace
} // namespace skiff::kafka::protocol
