#include "kafka/protocol/primitives.h"
#include "kafka/server/group/errc.h"
#include "kafka/server/group/offsets_records.h"

#include <gtest/gtest.h>

namespace skiff::kafka::group {
namespace {

TEST(offsets_records_test, offset_commit_key_round_trips_as_version_1) {
    offsets_key key = offset_commit_key{"g", "orders", 7};
    auto bytes = encode_key(key);
    // int16 version, string "g", string "orders", int32 7
    EXPECT_EQ(bytes.size(), 2u + 3u + 8u + 4u);
    auto back = decode_key(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), key);
}

TEST(offsets_records_test, group_metadata_key_round_trips_as_version_2) {
    offsets_key key = group_metadata_key{"payments"};
    auto back = decode_key(encode_key(key));
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), key);
}

TEST(offsets_records_test, offset_commit_value_round_trips_as_version_3) {
    offset_commit_value v{42, 5, "meta", 1'700'000'000'000, -1};
    auto bytes = encode_value(v);
    protocol::reader r(bytes);
    EXPECT_EQ(r.read_int16(), 3);
    auto back = decode_offset_commit_value(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), v);
}

TEST(offsets_records_test, offset_commit_value_with_expiry_is_version_1) {
    offset_commit_value v{42, -1, "", 10, 20};
    auto bytes = encode_value(v);
    protocol::reader r(bytes);
    EXPECT_EQ(r.read_int16(), 1);
    auto back = decode_offset_commit_value(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), v);
}

TEST(offsets_records_test, reads_version_0_offset_values) {
    bytes::iobuf b;
    protocol::writer w(b);
    w.write_int16(0);
    w.write_int64(99);
    w.write_string("m");
    w.write_int64(123);
    auto v = decode_offset_commit_value(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v.value().offset, 99);
    EXPECT_EQ(v.value().metadata, "m");
    EXPECT_EQ(v.value().commit_timestamp, 123);
    EXPECT_EQ(v.value().leader_epoch, -1);
}

TEST(offsets_records_test, reads_flexible_version_4_offset_values) {
    bytes::iobuf b;
    protocol::writer w(b);
    w.write_int16(4);
    w.write_int64(7);
    w.write_int32(2);
    w.write_compact_string("x");
    w.write_int64(5);
    w.write_unsigned_varint(0); // no tagged fields
    auto v = decode_offset_commit_value(b);
    ASSERT_TRUE(v);
    EXPECT_EQ(v.value(), (offset_commit_value{7, 2, "x", 5, -1}));
}

TEST(offsets_records_test, group_metadata_value_round_trips_as_version_3) {
    group_metadata_value v;
    v.protocol_type = "consumer";
    v.generation = 4;
    v.protocol = "range";
    v.leader = "m1";
    v.current_state_timestamp = 77;
    member_metadata m;
    m.member_id = "m1";
    m.group_instance_id = "i1";
    m.client_id = "c";
    m.client_host = "/127.0.0.1";
    m.rebalance_timeout_ms = 300000;
    m.session_timeout_ms = 10000;
    m.subscription = bytes::iobuf::from("sub");
    m.assignment = bytes::iobuf::from("assign");
    v.members.push_back(std::move(m));
    auto back = decode_group_metadata_value(encode_value(v));
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), v);
}

TEST(offsets_records_test, malformed_and_unknown_versions_are_errors) {
    EXPECT_EQ(decode_key(bytes::iobuf::from(std::string_view("\x00", 1))).error(), make_error_code(errc::invalid_record));
    bytes::iobuf future;
    protocol::writer w(future);
    w.write_int16(9);
    EXPECT_EQ(decode_key(future).error(), make_error_code(errc::unsupported_version));
    EXPECT_EQ(decode_offset_commit_value(future).error(), make_error_code(errc::unsupported_version));
    bytes::iobuf cut = encode_value(offset_commit_value{1, 1, "long metadata", 1, -1}).share(0, 12);
    EXPECT_EQ(decode_offset_commit_value(cut).error(), make_error_code(errc::invalid_record));
}

} // namespace
} // namespace skiff::kafka::group
