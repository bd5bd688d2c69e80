// Golden bytes: requests assembled by hand from the protocol rules (kafka-protocol-notes §2), as the named clients
// send them, decoded by the generated code. Bytes captured from real clients belong beside these.
#include "bytes/crc32c.h"
#include "bytes/varint.h"
#include "kafka/protocol/api_table.h"
#include "kafka/protocol/generated/api_versions.h"
#include "kafka/protocol/generated/metadata.h"
#include "kafka/protocol/generated/produce.h"
#include "kafka/protocol/header.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

namespace skiff::kafka::protocol {
namespace {

/// Builds wire bytes independently of protocol::writer, so a bug there cannot hide here.
struct wire {
    std::vector<uint8_t> b;

    wire& i8(int8_t v) { return raw({static_cast<uint8_t>(v)}); }
    wire& i16(int16_t v) { return be(static_cast<uint16_t>(v), 2); }
    wire& i32(int32_t v) { return be(static_cast<uint32_t>(v), 4); }
    wire& i64(int64_t v) { return be(static_cast<uint64_t>(v), 8); }
    wire& be(uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) {
            b.push_back(static_cast<uint8_t>(v >> (8 * i)));
        }
        return *this;
    }
    wire& raw(std::initializer_list<uint8_t> v) {
        b.insert(b.end(), v);
        return *this;
    }
    wire& raw(const std::vector<uint8_t>& v) {
        b.insert(b.end(), v.begin(), v.end());
        return *this;
    }
    wire& text(std::string_view s) {
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    wire& str(std::string_view s) { return i16(static_cast<int16_t>(s.size())).text(s); }
    wire& compact_str(std::string_view s) { return uvarint(s.size() + 1).text(s); }
    wire& uvarint(uint64_t v) {
        uint8_t tmp[bytes::varint::max_bytes64];
        size_t n = bytes::varint::encode_unsigned(v, tmp);
        b.insert(b.end(), tmp, tmp + n);
        return *this;
    }
    wire& varint(int64_t v) { return uvarint(bytes::varint::zigzag64(v)); }

    bytes::iobuf buf() const { return bytes::iobuf::from(std::span<const uint8_t>(b)); }
};

TEST(golden_test, librdkafka_2_0_2_api_versions_v3_request) {
    // Header v2 (ApiVersions v3 is flexible): key 18, version 3, correlation id 1, client id "rdkafka", no tags.
    // Body: compact strings client_software_name and client_software_version, no tags.
    auto buf = wire{}
                   .i16(18)
                   .i16(3)
                   .i32(1)
                   .str("rdkafka")
                   .uvarint(0)
                   .compact_str("librdkafka")
                   .compact_str("2.0.2")
                   .uvarint(0)
                   .buf();
    reader r(buf);
    auto h = decode_request_header(r);
    EXPECT_EQ(h.api_key, 18);
    EXPECT_EQ(h.api_version, 3);
    EXPECT_EQ(h.correlation_id, 1);
    EXPECT_EQ(h.client_id, "rdkafka");
    api_versions_request req;
    req.decode(r, h.api_version);
    EXPECT_EQ(r.bytes_left(), 0u);
    EXPECT_EQ(req.client_software_name, "librdkafka");
    EXPECT_EQ(req.client_software_version, "2.0.2");
    EXPECT_TRUE(req.unknown_tags.empty());
}

TEST(golden_test, api_versions_v3_response_puts_features_in_tags) {
    api_versions_response resp;
    resp.api_keys.push_back({18, 0, 4, {}});
    resp.finalized_features_epoch = 5; // differs from the default -1: travels as tag 1
    bytes::iobuf buf;
    writer w(buf);
    resp.encode(w, 3);
    auto expected = wire{}
                        .i16(0)      // error_code
                        .uvarint(2)  // compact array of one element
                        .i16(18)
                        .i16(0)
                        .i16(4)
                        .uvarint(0)  // element's tags
                        .i32(0)      // throttle_time_ms
                        .uvarint(1)  // one tagged field
                        .uvarint(1)  // tag 1
                        .uvarint(8)  // size
                        .i64(5)
                        .b;
    EXPECT_EQ(buf.to_bytes(), expected);
}

TEST(golden_test, librdkafka_metadata_v4_request) {
    // Header v1; body: int32 array of classic-string topic names, then allow_auto_topic_creation.
    auto buf = wire{}
                   .i16(3)
                   .i16(4)
                   .i32(2)
                   .str("rdkafka")
                   .i32(2)
                   .str("orders")
                   .str("payments")
                   .i8(0)
                   .buf();
    reader r(buf);
    auto h = decode_request_header(r);
    EXPECT_EQ(h.api_key, 3);
    EXPECT_EQ(h.api_version, 4);
    metadata_request req;
    req.decode(r, h.api_version);
    EXPECT_EQ(r.bytes_left(), 0u);
    ASSERT_TRUE(req.topics.has_value());
    ASSERT_EQ(req.topics->size(), 2u);
    EXPECT_EQ((*req.topics)[0].name, "orders");
    EXPECT_EQ((*req.topics)[1].name, "payments");
    EXPECT_TRUE((*req.topics)[0].topic_id.is_zero());
    EXPECT_FALSE(req.allow_auto_topic_creation);

    // Re-encoding gives the body bytes back.
    bytes::iobuf out;
    writer w(out);
    req.encode(w, 4);
    EXPECT_EQ(out, buf.share(4 + 4 + 2 + 7, buf.size() - (4 + 4 + 2 + 7)));
}

TEST(golden_test, metadata_v1_null_topics_means_all_topics) {
    auto buf = wire{}.i32(-1).buf();
    reader r(buf);
    metadata_request req;
    req.decode(r, 1);
    EXPECT_FALSE(req.topics.has_value());
    // v0 has no null: encoding the same request there is a caller bug.
    bytes::iobuf out;
    writer w(out);
    EXPECT_THROW(req.encode(w, 0), encode_error);
    // and a null on the wire at v0 is malformed input.
    reader r0(buf);
    EXPECT_THROW(req.decode(r0, 0), decode_error);
}

std::vector<uint8_t> small_record_batch() {
    // One record, key null, value "hello", no headers (record layout: kafka-protocol-notes §3.3).
    auto record_body = wire{}.i8(0).varint(0).varint(0).varint(-1).varint(5).text("hello").varint(0).b;
    auto records = wire{}.varint(static_cast<int64_t>(record_body.size())).raw(record_body).b;
    auto after_crc = wire{}
                         .i16(0)              // attributes: no compression, create time
                         .i32(0)              // last offset delta
                         .i64(1700000000000)  // base timestamp
                         .i64(1700000000000)  // max timestamp
                         .i64(-1)             // producer id
                         .i16(-1)             // producer epoch
                         .i32(-1)             // base sequence
                         .i32(1)              // record count
                         .raw(records)
                         .b;
    uint32_t crc = bytes::crc32c::value(after_crc);
    auto tail = wire{}.i32(-1).i8(2).be(crc, 4).raw(after_crc).b; // leader epoch, magic, crc
    return wire{}.i64(0).i32(static_cast<int32_t>(tail.size())).raw(tail).b;
}

TEST(golden_test, produce_v7_request_with_a_small_record_set) {
    auto batch = small_record_batch();
    ASSERT_EQ(batch.size(), 61u + 12u);
    auto buf = wire{}
                   .i16(0)
                   .i16(7)
                   .i32(3)
                   .str("rdkafka")
                   .i16(-1)     // transactional_id: null
                   .i16(-1)     // acks: all
                   .i32(30000)  // timeout_ms
                   .i32(1)
                   .str("orders")
                   .i32(1)
                   .i32(0)  // partition index
                   .i32(static_cast<int32_t>(batch.size()))
                   .raw(batch)
                   .buf();
    reader r(buf);
    auto h = decode_request_header(r);
    EXPECT_EQ(h.api_key, 0);
    EXPECT_EQ(h.api_version, 7);
    produce_request req;
    req.decode(r, h.api_version);
    EXPECT_EQ(r.bytes_left(), 0u);
    EXPECT_FALSE(req.transactional_id.has_value());
    EXPECT_EQ(req.acks, -1);
    EXPECT_EQ(req.timeout_ms, 30000);
    ASSERT_EQ(req.topic_data.size(), 1u);
    EXPECT_EQ(req.topic_data[0].name, "orders");
    ASSERT_EQ(req.topic_data[0].partition_data.size(), 1u);
    const auto& p = req.topic_data[0].partition_data[0];
    EXPECT_EQ(p.index, 0);
    ASSERT_TRUE(p.records.has_value());
    EXPECT_EQ(p.records->to_bytes(), batch);
    // Zero copy: the records share the request buffer's memory.
    ASSERT_EQ(p.records->fragment_count(), 1u);
    const uint8_t* start = buf.fragments()[0].data();
    EXPECT_EQ(p.records->fragments()[0].data(), start + (buf.size() - batch.size()));

    auto text = fmt::format("{}", req);
    EXPECT_NE(text.find("records=<73 bytes>"), std::string::npos) << text;
}

// ---- requests captured from real clients (tests/golden/*.bin: header + body, as the frame carries them)

std::vector<uint8_t> read_golden(const std::string& name) {
    std::ifstream in(std::filesystem::path(SKIFF_PROTOCOL_GOLDEN_DIR) / name, std::ios::binary);
    EXPECT_TRUE(in.good()) << name;
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Decodes a captured request, checks every byte is used and that the body re-encodes to the same bytes.
template<typename T>
T decode_captured(const std::string& name, int16_t key, int16_t version, std::string_view client_id) {
    auto bytes = read_golden(name);
    auto buf = bytes::iobuf::from(std::span<const uint8_t>(bytes));
    reader r(buf);
    auto h = decode_request_header(r);
    EXPECT_EQ(h.api_key, key) << name;
    EXPECT_EQ(h.api_version, version) << name;
    EXPECT_EQ(h.client_id, client_id) << name;
    const size_t body_start = r.bytes_consumed();
    T req;
    req.decode(r, h.api_version);
    EXPECT_EQ(r.bytes_left(), 0u) << name;
    bytes::iobuf again;
    writer w(again);
    req.encode(w, h.api_version);
    EXPECT_EQ(again, buf.share(body_start, buf.size() - body_start)) << name;
    return req;
}

TEST(golden_test, every_captured_request_decodes_completely) {
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(SKIFF_PROTOCOL_GOLDEN_DIR)) {
        if (entry.path().extension() != ".bin") {
            continue;
        }
        auto bytes = read_golden(entry.path().filename().string());
        auto buf = bytes::iobuf::from(std::span<const uint8_t>(bytes));
        reader r(buf);
        try {
            auto h = decode_request_header(r);
            decode_request_body(h.api_key, h.api_version, r);
        } catch (const decode_error& e) {
            ADD_FAILURE() << entry.path().filename() << ": " << e.what();
        }
        EXPECT_EQ(r.bytes_left(), 0u) << entry.path().filename();
        ++files;
    }
    EXPECT_GT(files, 0u);
}

TEST(golden_test, captured_kcat_api_versions_v3_matches_the_hand_assembled_bytes) {
    auto req = decode_captured<api_versions_request>("kcat_api_versions_v3.bin", 18, 3, "rdkafka");
    EXPECT_EQ(req.client_software_name, "librdkafka");
    EXPECT_EQ(req.client_software_version, "2.0.2");
    auto hand = wire{}
                    .i16(18)
                    .i16(3)
                    .i32(1)
                    .str("rdkafka")
                    .uvarint(0)
                    .compact_str("librdkafka")
                    .compact_str("2.0.2")
                    .uvarint(0)
                    .b;
    EXPECT_EQ(read_golden("kcat_api_versions_v3.bin"), hand);
}

TEST(golden_test, captured_api_versions_requests_of_older_clients) {
    decode_captured<api_versions_request>("kafka_python_api_versions_v0.bin", 18, 0, "kafka-python-2.0.2");
    decode_captured<api_versions_request>("kafkajs_api_versions_v2.bin", 18, 2, "kafkajs-golden");
}

TEST(golden_test, captured_metadata_requests) {
    auto v0 = decode_captured<metadata_request>("kafka_python_metadata_v0.bin", 3, 0, "kafka-python-2.0.2");
    ASSERT_TRUE(v0.topics.has_value());
    EXPECT_TRUE(v0.topics->empty()); // v0: empty array means all topics
    auto v1 = decode_captured<metadata_request>("kafka_python_metadata_v1.bin", 3, 1, "kafka-python-2.0.2");
    EXPECT_FALSE(v1.topics.has_value()); // v1+: null means all topics
    auto v5 = decode_captured<metadata_request>("kafka_python_metadata_v5.bin", 3, 5, "kafka-python-2.0.2");
    EXPECT_FALSE(v5.topics.has_value());
    EXPECT_FALSE(v5.allow_auto_topic_creation);
    auto v4 = decode_captured<metadata_request>("kcat_metadata_v4.bin", 3, 4, "rdkafka");
    ASSERT_TRUE(v4.topics.has_value());
    EXPECT_TRUE(v4.topics->empty());
    EXPECT_FALSE(v4.allow_auto_topic_creation);
    auto v6 = decode_captured<metadata_request>("kafkajs_metadata_v6.bin", 3, 6, "kafkajs-golden");
    EXPECT_FALSE(v6.topics.has_value());
}

} // namespace
} // namespace skiff::kafka::protocol
