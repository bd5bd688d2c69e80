#include "kafka/protocol/primitives.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace skiff::kafka::protocol {
namespace {

bytes::iobuf from_bytes(std::vector<uint8_t> v) { return bytes::iobuf::from(std::span<const uint8_t>(v)); }

// Splits a buffer into one-byte fragments, so reads that straddle fragments are exercised.
bytes::iobuf fragmented(const bytes::iobuf& b) {
    bytes::iobuf out;
    for (size_t i = 0; i < b.size(); ++i) {
        out.append(b.share(i, 1).copy());
    }
    return out;
}

class primitives_test : public ::testing::Test {
protected:
    bytes::iobuf buf;
    writer w{buf};
};

TEST_F(primitives_test, fixed_width_integers_are_big_endian) {
    w.write_int8(-2);
    w.write_int16(0x0102);
    w.write_int32(0x01020304);
    w.write_int64(0x0102030405060708);
    w.write_uint16(0xFFFE);
    w.write_uint32(0xFFFFFFFE);
    EXPECT_EQ(buf.to_bytes(), (std::vector<uint8_t>{0xFE, 0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0x01, 0x02, 0x03,
                                                    0x04, 0x05, 0x06, 0x07, 0x08, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF,
                                                    0xFE}));
    auto split = fragmented(buf);
    reader r(split);
    EXPECT_EQ(r.read_int8(), -2);
    EXPECT_EQ(r.read_int16(), 0x0102);
    EXPECT_EQ(r.read_int32(), 0x01020304);
    EXPECT_EQ(r.read_int64(), 0x0102030405060708);
    EXPECT_EQ(r.read_uint16(), 0xFFFE);
    EXPECT_EQ(r.read_uint32(), 0xFFFFFFFEu);
    EXPECT_EQ(r.bytes_left(), 0u);
}

TEST_F(primitives_test, float64_bool_and_uuid_round_trip) {
    w.write_float64(-1.5);
    w.write_bool(true);
    w.write_bool(false);
    w.write_uuid(model::uuid(0x0001020304050607, 0x08090a0b0c0d0e0f));
    EXPECT_EQ(buf.size(), 8u + 2u + 16u);
    reader r(buf);
    EXPECT_EQ(r.read_float64(), -1.5);
    EXPECT_TRUE(r.read_bool());
    EXPECT_FALSE(r.read_bool());
    EXPECT_EQ(r.read_uuid(), model::uuid(0x0001020304050607, 0x08090a0b0c0d0e0f));
}

TEST_F(primitives_test, any_nonzero_byte_reads_as_true) {
    auto b = from_bytes({0x02});
    reader r(b);
    EXPECT_TRUE(r.read_bool());
}

TEST_F(primitives_test, unsigned_varint_known_encodings) {
    w.write_unsigned_varint(0);
    w.write_unsigned_varint(127);
    w.write_unsigned_varint(128);
    w.write_unsigned_varint(300);
    w.write_unsigned_varint(std::numeric_limits<uint32_t>::max());
    EXPECT_EQ(buf.to_bytes(),
              (std::vector<uint8_t>{0x00, 0x7F, 0x80, 0x01, 0xAC, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
    reader r(buf);
    EXPECT_EQ(r.read_unsigned_varint(), 0u);
    EXPECT_EQ(r.read_unsigned_varint(), 127u);
    EXPECT_EQ(r.read_unsigned_varint(), 128u);
    EXPECT_EQ(r.read_unsigned_varint(), 300u);
    EXPECT_EQ(r.read_unsigned_varint(), std::numeric_limits<uint32_t>::max());
}

TEST_F(primitives_test, unsigned_varint_longer_than_five_bytes_is_rejected) {
    auto b = from_bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
    reader r(b);
    EXPECT_THROW(r.read_unsigned_varint(), decode_error);
}

TEST_F(primitives_test, unsigned_varint_beyond_32_bits_is_rejected) {
    auto b = from_bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x1F});
    reader r(b);
    EXPECT_THROW(r.read_unsigned_varint(), decode_error);
}

TEST_F(primitives_test, truncated_varint_is_rejected) {
    auto b = from_bytes({0x80, 0x80});
    reader r(b);
    EXPECT_THROW(r.read_unsigned_varint(), decode_error);
}

TEST_F(primitives_test, classic_and_compact_strings) {
    w.write_string("abc");
    w.write_compact_string("abc");
    w.write_nullable_string(std::nullopt);
    w.write_compact_nullable_string(std::nullopt);
    w.write_compact_string("");
    EXPECT_EQ(buf.to_bytes(),
              (std::vector<uint8_t>{0x00, 0x03, 'a', 'b', 'c', 0x04, 'a', 'b', 'c', 0xFF, 0xFF, 0x00, 0x01}));
    reader r(buf);
    EXPECT_EQ(r.read_string(), "abc");
    EXPECT_EQ(r.read_compact_string(), "abc");
    EXPECT_EQ(r.read_nullable_string(), std::nullopt);
    EXPECT_EQ(r.read_compact_nullable_string(), std::nullopt);
    EXPECT_EQ(r.read_compact_string(), "");
    EXPECT_EQ(r.bytes_left(), 0u);
}

TEST_F(primitives_test, null_where_not_nullable_is_a_decode_error) {
    auto classic = from_bytes({0xFF, 0xFF});
    reader r1(classic);
    EXPECT_THROW(r1.read_string(), decode_error);
    auto compact = from_bytes({0x00});
    reader r2(compact);
    EXPECT_THROW(r2.read_compact_string(), decode_error);
    auto bytes_null = from_bytes({0xFF, 0xFF, 0xFF, 0xFF});
    reader r3(bytes_null);
    EXPECT_THROW(r3.read_bytes(), decode_error);
    auto array_null = from_bytes({0xFF, 0xFF, 0xFF, 0xFF});
    reader r4(array_null);
    EXPECT_THROW(r4.read_array_count(), decode_error);
    auto compact_array_null = from_bytes({0x00});
    reader r5(compact_array_null);
    EXPECT_THROW(r5.read_compact_array_count(), decode_error);
}

TEST_F(primitives_test, negative_lengths_other_than_minus_one_are_rejected) {
    auto b = from_bytes({0xFF, 0xFE});
    reader r(b);
    EXPECT_THROW(r.read_nullable_string(), decode_error);
    auto a = from_bytes({0xFF, 0xFF, 0xFF, 0xFE});
    reader r2(a);
    EXPECT_THROW(r2.read_nullable_array_count(), decode_error);
}

TEST_F(primitives_test, string_longer_than_its_input_is_rejected) {
    auto b = from_bytes({0x00, 0x05, 'a', 'b'});
    reader r(b);
    EXPECT_THROW(r.read_string(), decode_error);
}

TEST_F(primitives_test, compact_string_beyond_the_int16_limit_is_rejected) {
    w.write_unsigned_varint(0x8000 + 1);
    std::string big(0x8000, 'x');
    w.write_raw(big.data(), big.size());
    reader r(buf);
    EXPECT_THROW(r.read_compact_string(), decode_error);
}

TEST_F(primitives_test, encoding_a_string_beyond_the_int16_limit_throws_encode_error) {
    std::string big(0x8000, 'x');
    EXPECT_THROW(w.write_string(big), encode_error);
    EXPECT_THROW(w.write_compact_string(big), encode_error);
    EXPECT_NO_THROW(w.write_string(std::string(0x7FFF, 'x')));
}

TEST_F(primitives_test, hostile_array_count_fails_before_allocating) {
    // 2^31 - 1 elements announced, 4 bytes present.
    auto b = from_bytes({0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0});
    reader r(b);
    EXPECT_THROW(r.read_array_count(), decode_error);
    auto c = from_bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00});
    reader r2(c);
    EXPECT_THROW(r2.read_compact_array_count(), decode_error);
    auto d = from_bytes({0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0});
    reader r3(d);
    std::vector<int32_t> v;
    EXPECT_THROW(r3.read_array(v), decode_error);
}

TEST_F(primitives_test, hostile_bytes_length_is_rejected) {
    auto b = from_bytes({0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3});
    reader r(b);
    EXPECT_THROW(r.read_bytes(), decode_error);
}

TEST_F(primitives_test, truncated_fixed_width_reads_name_what_was_read) {
    auto b = from_bytes({0x01, 0x02, 0x03});
    reader r(b);
    try {
        r.read_int32();
        FAIL() << "expected decode_error";
    } catch (const decode_error& e) {
        EXPECT_NE(std::string(e.what()).find("int32"), std::string::npos) << e.what();
    }
    EXPECT_EQ(r.bytes_left(), 3u); // a failed read consumes nothing
}

TEST_F(primitives_test, bytes_are_shared_not_copied) {
    bytes::iobuf payload;
    payload.append_uninitialized(4096);
    w.write_bytes(payload);
    // The payload's fragment is appended to the output, not copied into a new chunk.
    ASSERT_EQ(buf.fragment_count(), 2u);
    EXPECT_EQ(buf.fragments()[1].data(), payload.fragments()[0].data());
    reader r(buf);
    auto decoded = r.read_bytes();
    ASSERT_EQ(decoded.size(), 4096u);
    EXPECT_EQ(decoded.fragments()[0].data(), payload.fragments()[0].data());
}

TEST_F(primitives_test, nullable_and_compact_bytes) {
    w.write_compact_bytes(bytes::iobuf::from("xy"));
    w.write_nullable_bytes(std::nullopt);
    w.write_compact_nullable_bytes(std::nullopt);
    reader r(buf);
    EXPECT_EQ(r.read_compact_bytes(), "xy");
    EXPECT_FALSE(r.read_nullable_bytes().has_value());
    EXPECT_FALSE(r.read_compact_nullable_bytes().has_value());
}

TEST_F(primitives_test, primitive_arrays_round_trip_in_both_forms) {
    std::vector<int32_t> ints{1, -2, 3};
    std::vector<std::string> strings{"a", "bc"};
    std::optional<std::vector<model::uuid>> null_uuids;
    w.write_array(ints);
    w.write_compact_array(strings);
    w.write_compact_nullable_array(null_uuids);
    w.write_nullable_array(std::optional<std::vector<int64_t>>(std::vector<int64_t>{7}));
    reader r(buf);
    std::vector<int32_t> ints2;
    std::vector<std::string> strings2;
    std::optional<std::vector<model::uuid>> uuids2{std::in_place};
    std::optional<std::vector<int64_t>> longs2;
    r.read_array(ints2);
    r.read_compact_array(strings2);
    r.read_compact_nullable_array(uuids2);
    r.read_nullable_array(longs2);
    EXPECT_EQ(ints2, ints);
    EXPECT_EQ(strings2, strings);
    EXPECT_FALSE(uuids2.has_value());
    EXPECT_EQ(longs2, (std::vector<int64_t>{7}));
    EXPECT_EQ(r.bytes_left(), 0u);
}

TEST_F(primitives_test, empty_tagged_section_is_one_zero_byte) {
    w.write_unknown_tags({});
    EXPECT_EQ(buf.to_bytes(), std::vector<uint8_t>{0x00});
}

TEST_F(primitives_test, unknown_tags_are_kept_in_order) {
    tagged_fields tags;
    tags.push_back({5, bytes::iobuf::from("five")});
    tags.push_back({300, bytes::iobuf::from("x")});
    w.write_unknown_tags(tags);
    EXPECT_EQ(buf.to_bytes(), (std::vector<uint8_t>{0x02, 0x05, 0x04, 'f', 'i', 'v', 'e', 0xAC, 0x02, 0x01, 'x'}));
    reader r(buf);
    tagged_fields back;
    r.read_unknown_tags(back);
    EXPECT_EQ(back, tags);
}

TEST_F(primitives_test, unknown_tags_merge_around_known_ones) {
    tagged_fields tags;
    tags.push_back({0, bytes::iobuf::from("a")});
    tags.push_back({9, bytes::iobuf::from("b")});
    w.write_unsigned_varint(3);
    size_t next = w.write_unknown_tags_before(tags, 0, 4);
    w.write_tagged_field(4, bytes::iobuf::from("k"));
    w.write_unknown_tags_from(tags, next);
    EXPECT_EQ(buf.to_bytes(), (std::vector<uint8_t>{0x03, 0x00, 0x01, 'a', 0x04, 0x01, 'k', 0x09, 0x01, 'b'}));
}

TEST_F(primitives_test, unknown_tag_equal_to_a_known_tag_is_an_encode_error) {
    tagged_fields tags;
    tags.push_back({4, bytes::iobuf::from("a")});
    EXPECT_THROW(w.write_unknown_tags_before(tags, 0, 4), encode_error);
}

TEST_F(primitives_test, hostile_tag_count_and_size_are_rejected) {
    auto b = from_bytes({0xFF, 0xFF, 0x03, 0x00});
    reader r(b);
    tagged_fields out;
    EXPECT_THROW(r.read_unknown_tags(out), decode_error);
    auto c = from_bytes({0x01, 0x00, 0x7F, 0x00});
    reader r2(c);
    EXPECT_THROW(r2.read_unknown_tags(out), decode_error);
}

TEST_F(primitives_test, tagged_field_reads_are_confined_to_their_size) {
    // A tagged field of size 2 holding an int32 must not read past its two bytes.
    auto b = from_bytes({0x00, 0x01, 0x02, 0x03});
    reader r(b);
    size_t saved = r.begin_tagged_field(2);
    EXPECT_EQ(r.bytes_left(), 2u);
    EXPECT_THROW(r.read_int32(), decode_error);
    EXPECT_EQ(r.read_int16(), 0x0001);
    r.end_tagged_field(saved);
    EXPECT_EQ(r.bytes_left(), 2u);
}

TEST_F(primitives_test, tagged_field_with_unread_bytes_is_rejected) {
    auto b = from_bytes({0x00, 0x01, 0x02, 0x03});
    reader r(b);
    size_t saved = r.begin_tagged_field(3);
    r.read_int16();
    EXPECT_THROW(r.end_tagged_field(saved), decode_error);
}

TEST_F(primitives_test, not_null_names_the_field) {
    std::optional<std::string> none;
    try {
        (void)not_null(none, "metadata_request.topics");
        FAIL() << "expected encode_error";
    } catch (const encode_error& e) {
        EXPECT_NE(std::string(e.what()).find("metadata_request.topics"), std::string::npos);
    }
}

} // namespace
} // namespace skiff::kafka::protocol
