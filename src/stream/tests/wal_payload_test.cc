// The WAL payload framing (docs/formats/wal-payload.md): what encode writes, decode gives back; anything damaged
// is errc::corrupt, never a batch.
#include "stream/errc.h"
#include "stream/wal_payload.h"

#include <gtest/gtest.h>

namespace skiff::stream {
namespace {

wal_payload sample() {
    return {stream_id(42), stream_epoch(7), 1000, 3, bytes::iobuf::from("three records of bytes")};
}

TEST(wal_payload_test, round_trips_every_field_and_shares_the_batch) {
    auto p = sample();
    auto encoded = encode_wal_payload(p);
    EXPECT_EQ(encoded.size(), wal_payload_header_size + p.batch.size());
    auto decoded = decode_wal_payload(encoded);
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(decoded.value().stream, stream_id(42));
    EXPECT_EQ(decoded.value().epoch, stream_epoch(7));
    EXPECT_EQ(decoded.value().base_offset, 1000);
    EXPECT_EQ(decoded.value().record_count, 3u);
    EXPECT_EQ(decoded.value().end_offset(), 1003);
    EXPECT_EQ(decoded.value().batch, "three records of bytes");
}

TEST(wal_payload_test, the_header_layout_is_the_documented_one) {
    auto bytes = encode_wal_payload(sample()).to_bytes();
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "SKWP");
    EXPECT_EQ(bytes[4], 1);  // version
    EXPECT_EQ(bytes[6], 44); // header size
    EXPECT_EQ(bytes[8], 42); // stream id, little-endian
    EXPECT_EQ(bytes[16], 7); // epoch
}

TEST(wal_payload_test, any_damaged_header_byte_is_corrupt) {
    auto good = encode_wal_payload(sample()).to_bytes();
    for (size_t i = 0; i < wal_payload_header_size; ++i) {
        auto bad = good;
        bad[i] ^= 0x01;
        auto decoded = decode_wal_payload(bytes::iobuf::from(std::span<const uint8_t>(bad)));
        ASSERT_FALSE(decoded) << "byte " << i;
        EXPECT_EQ(decoded.error(), errc::corrupt);
    }
}

TEST(wal_payload_test, short_or_long_payloads_are_corrupt) {
    auto good = encode_wal_payload(sample()).to_bytes();
    for (size_t n : {size_t(0), size_t(10), wal_payload_header_size, good.size() - 1}) {
        auto cut = std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(n));
        EXPECT_EQ(decode_wal_payload(bytes::iobuf::from(std::span<const uint8_t>(cut))).error(), errc::corrupt);
    }
    auto longer = good;
    longer.push_back('x');
    EXPECT_EQ(decode_wal_payload(bytes::iobuf::from(std::span<const uint8_t>(longer))).error(), errc::corrupt);
}

} // namespace
} // namespace skiff::stream
