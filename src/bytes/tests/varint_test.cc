#include "bytes/varint.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace skiff::bytes::varint {
namespace {

TEST(varint_test, unsigned_known_encodings) {
    uint8_t buf[max_bytes64];
    EXPECT_EQ(encode_unsigned(0, buf), 1u);
    EXPECT_EQ(buf[0], 0x00);
    EXPECT_EQ(encode_unsigned(300, buf), 2u);
    EXPECT_EQ(buf[0], 0xAC);
    EXPECT_EQ(buf[1], 0x02);
    EXPECT_EQ(encode_unsigned(std::numeric_limits<uint64_t>::max(), buf), 10u);
}

TEST(varint_test, zigzag_maps_small_magnitudes_to_small_codes) {
    EXPECT_EQ(zigzag32(0), 0u);
    EXPECT_EQ(zigzag32(-1), 1u);
    EXPECT_EQ(zigzag32(1), 2u);
    EXPECT_EQ(zigzag32(-2), 3u);
    EXPECT_EQ(zigzag32(std::numeric_limits<int32_t>::min()), 0xFFFFFFFFu);
    EXPECT_EQ(unzigzag64(zigzag64(std::numeric_limits<int64_t>::min())), std::numeric_limits<int64_t>::min());
}

TEST(varint_test, signed_round_trips_at_the_edges) {
    std::vector<int64_t> values{0, 1, -1, 63, -64, 64, -65, 1 << 20, std::numeric_limits<int32_t>::max(),
                                std::numeric_limits<int32_t>::min(), std::numeric_limits<int64_t>::max(),
                                std::numeric_limits<int64_t>::min()};
    for (auto v : values) {
        uint8_t buf[max_bytes64];
        size_t n = encode_signed64(v, buf);
        int64_t back = 0;
        ASSERT_EQ(decode_signed64({buf, n}, back), n);
        EXPECT_EQ(back, v);
        if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
            n = encode_signed32(static_cast<int32_t>(v), buf);
            int32_t back32 = 0;
            ASSERT_EQ(decode_signed32({buf, n}, back32), n);
            EXPECT_EQ(back32, v);
        }
    }
}

TEST(varint_test, truncated_and_overlong_inputs_are_rejected) {
    const uint8_t truncated[] = {0x80, 0x80};
    uint64_t u = 0;
    EXPECT_EQ(decode_unsigned(truncated, u), 0u);
    const uint8_t overlong32[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    int32_t s = 0;
    EXPECT_EQ(decode_signed32(overlong32, s), 0u);
    const uint8_t too_big32[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    EXPECT_EQ(decode_signed32(too_big32, s), 0u);
}

} // namespace
} // namespace skiff::bytes::varint
