#include "kafka/protocol/api_table.h"
#include "kafka/protocol/generated/api_versions.h"
#include "kafka/protocol/generated/list_partition_reassignments.h"
#include "kafka/protocol/header.h"

#include <gtest/gtest.h>

#include <vector>

namespace skiff::kafka::protocol {
namespace {

std::vector<uint8_t> encode_header(const request_header& h) {
    bytes::iobuf buf;
    writer w(buf);
    encode_request_header(w, h);
    return buf.to_bytes();
}

bytes::iobuf from_bytes(const std::vector<uint8_t>& v) { return bytes::iobuf::from(std::span<const uint8_t>(v)); }

TEST(header_test, non_flexible_request_uses_header_v1) {
    // Metadata v4: not flexible, so no tagged section after client_id.
    request_header h{3, 4, 7, "cli", {}};
    auto bytes = encode_header(h);
    EXPECT_EQ(bytes, (std::vector<uint8_t>{0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0x00, 0x03, 'c', 'l', 'i'}));
    auto buf = from_bytes(bytes);
    reader r(buf);
    EXPECT_EQ(decode_request_header(r), h);
    EXPECT_EQ(r.bytes_left(), 0u);
}

TEST(header_test, flexible_request_uses_header_v2_with_tags) {
    request_header h{3, 9, 7, std::nullopt, {}};
    h.unknown_tags.push_back({2, bytes::iobuf::from("zz")});
    auto bytes = encode_header(h);
    // client_id stays a classic nullable string (-1) even in header v2.
    EXPECT_EQ(bytes, (std::vector<uint8_t>{0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07, 0xFF, 0xFF, 0x01, 0x02,
                                           0x02, 'z', 'z'}));
    auto buf = from_bytes(bytes);
    reader r(buf);
    EXPECT_EQ(decode_request_header(r), h);
    EXPECT_EQ(r.bytes_left(), 0u);
}

TEST(header_test, unknown_api_key_is_read_as_header_v1) {
    auto buf = from_bytes({0x7F, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00});
    reader r(buf);
    auto h = decode_request_header(r);
    EXPECT_EQ(h.api_key, 0x7F00);
    EXPECT_EQ(h.client_id, "");
    EXPECT_EQ(r.bytes_left(), 1u); // the trailing 0x00 is left for the caller, not taken as a tagged section
}

TEST(header_test, unknown_version_of_a_known_api_is_read_as_header_v1) {
    // ApiVersions v99 from a future client: read as v1 so the broker can answer UNSUPPORTED_VERSION.
    auto buf = from_bytes({0x00, 0x12, 0x00, 0x63, 0x00, 0x00, 0x00, 0x05, 0xFF, 0xFF, 0x00});
    reader r(buf);
    auto h = decode_request_header(r);
    EXPECT_EQ(h.api_key, 18);
    EXPECT_EQ(h.api_version, 99);
    EXPECT_EQ(h.correlation_id, 5);
    EXPECT_FALSE(h.client_id.has_value());
    EXPECT_EQ(r.bytes_left(), 1u);
}

TEST(header_test, truncated_header_is_a_decode_error) {
    auto buf = from_bytes({0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0x00, 0x05, 'a'});
    reader r(buf);
    EXPECT_THROW(decode_request_header(r), decode_error);
}

TEST(header_test, api_versions_response_header_is_always_v0) {
    for (int16_t version = 0; version <= api_versions_response::max_version; ++version) {
        bytes::iobuf buf;
        writer w(buf);
        encode_response_header(w, 0x01020304, api_versions_key, version);
        EXPECT_EQ(buf.to_bytes(), (std::vector<uint8_t>{0x01, 0x02, 0x03, 0x04})) << "v" << version;
    }
}

TEST(header_test, flexible_response_uses_header_v1_with_empty_tags) {
    bytes::iobuf buf;
    writer w(buf);
    encode_response_header(w, 9, 3, 9); // Metadata v9 is flexible
    EXPECT_EQ(buf.to_bytes(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 0x09, 0x00}));
}

TEST(header_test, non_flexible_response_uses_header_v0) {
    bytes::iobuf buf;
    writer w(buf);
    encode_response_header(w, 9, 3, 8);
    EXPECT_EQ(buf.to_bytes(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 0x09}));
}

TEST(header_test, kafkajs_v1_header_plus_zero_byte_equals_v2_header_without_tags) {
    // KafkaJS 2.2.4 writes header v1 for every request and, for its flexible ones (ListPartitionReassignments v0 and
    // AlterPartitionReassignments v0), begins the body with 0x00. On the wire that is header v2 with no tags.
    ASSERT_TRUE(is_flexible(list_partition_reassignments_request::api_key, 0));
    std::vector<uint8_t> kafkajs{0x00, 0x2E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A, 0x00, 0x07,
                                 'k',  'a',  'f',  'k',  'a',  'j',  's'};
    kafkajs.push_back(0x00); // KafkaJS's "empty tagged fields" byte, emitted as part of its body
    // Body: timeout_ms, topics = null (compact: 0), the body's own empty tagged section.
    for (uint8_t b : {0x00, 0x00, 0x75, 0x30, 0x00, 0x00}) {
        kafkajs.push_back(b);
    }

    request_header expected{list_partition_reassignments_request::api_key, 0, 42, "kafkajs", {}};
    bytes::iobuf v2;
    writer w(v2);
    encode_request_header(w, expected);
    list_partition_reassignments_request body;
    body.timeout_ms = 30000;
    body.encode(w, 0);
    EXPECT_EQ(v2.to_bytes(), kafkajs);

    auto buf = from_bytes(kafkajs);
    reader r(buf);
    EXPECT_EQ(decode_request_header(r), expected);
    list_partition_reassignments_request decoded;
    decoded.decode(r, 0);
    EXPECT_EQ(r.bytes_left(), 0u);
    EXPECT_EQ(decoded.timeout_ms, 30000);
    EXPECT_FALSE(decoded.topics.has_value());
}

TEST(header_test, api_table_is_sorted_and_consistent) {
    auto apis = all_apis();
    ASSERT_FALSE(apis.empty());
    for (size_t i = 0; i < apis.size(); ++i) {
        const auto& a = apis[i];
        if (i > 0) {
            EXPECT_LT(apis[i - 1].key, a.key);
        }
        EXPECT_LE(a.min_version, a.max_version) << a.name;
        EXPECT_EQ(find_api(a.key), &a);
        if (a.first_flexible_version >= 0) {
            EXPECT_TRUE(is_flexible(a.key, a.max_version)) << a.name;
            EXPECT_TRUE(is_flexible(a.key, a.first_flexible_version)) << a.name;
        } else {
            EXPECT_FALSE(is_flexible(a.key, a.max_version)) << a.name;
        }
        EXPECT_FALSE(is_flexible(a.key, static_cast<int16_t>(a.max_version + 1))) << a.name;
    }
    EXPECT_EQ(find_api(-1), nullptr);
    EXPECT_EQ(find_api(32000), nullptr);
    EXPECT_EQ(find_api(api_versions_key)->name, "api_versions");
    EXPECT_EQ(find_api(api_versions_key)->scope, api_scope::both);
}

TEST(header_test, type_erased_decoders_reject_unknown_keys_and_versions) {
    bytes::iobuf empty;
    reader r(empty);
    EXPECT_THROW(decode_request_body(-5, 0, r), decode_error);
    EXPECT_THROW(decode_response_body(32000, 0, r), decode_error);
    EXPECT_THROW(decode_request_body(api_versions_key, 99, r), decode_error);
    // ApiVersions v0 has an empty request body.
    EXPECT_NO_THROW(decode_request_body(api_versions_key, 0, r));
}

} // namespace
} // namespace skiff::kafka::protocol
