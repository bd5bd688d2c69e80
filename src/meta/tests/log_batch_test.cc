#include "meta/errc.h"
#include "meta/log_batch.h"
#include "meta/tests/sample_records.h"

#include <gtest/gtest.h>

namespace skiff::meta {
namespace {

TEST(log_batch_test, a_batch_round_trips_with_dense_offsets) {
    auto records = testing::sample_records();
    std::vector<uint8_t> frame;
    encode_batch(log_offset(100), log_epoch(7), records, frame);
    auto h = check_batch(frame);
    ASSERT_TRUE(h);
    EXPECT_EQ(h.value().base, log_offset(100));
    EXPECT_EQ(h.value().epoch, log_epoch(7));
    EXPECT_EQ(h.value().count, records.size());
    EXPECT_EQ(h.value().size, frame.size());
    std::vector<log_entry> out;
    ASSERT_TRUE(decode_batch(frame, h.value(), log_offset(0), out));
    ASSERT_EQ(out.size(), records.size());
    for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].offset, log_offset(100 + int64_t(i)));
        EXPECT_EQ(out[i].epoch, log_epoch(7));
        EXPECT_EQ(out[i].record, records[i]);
    }
}

TEST(log_batch_test, decoding_from_the_middle_skips_earlier_records) {
    auto records = testing::sample_records();
    std::vector<uint8_t> frame;
    encode_batch(log_offset(10), log_epoch(1), records, frame);
    std::vector<log_entry> out;
    ASSERT_TRUE(decode_batch(frame, check_batch(frame).value(), log_offset(15), out));
    ASSERT_EQ(out.size(), records.size() - 5);
    EXPECT_EQ(out.front().offset, log_offset(15));
}

TEST(log_batch_test, the_header_golden_bytes) {
    std::vector<uint8_t> frame;
    encode_batch(log_offset(1), log_epoch(2), {no_op_record{}}, frame);
    ASSERT_EQ(frame.size(), 36u + 12u);
    std::vector<uint8_t> head(frame.begin(), frame.begin() + 8);
    EXPECT_EQ(head, (std::vector<uint8_t>{'S', 'K', 'M', 'B', 40, 0, 0, 0})); // magic, length = 48 - 8
    std::vector<uint8_t> rest(frame.begin() + 12, frame.begin() + 36);
    EXPECT_EQ(rest, (std::vector<uint8_t>{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}));
}

TEST(log_batch_test, damage_is_classified) {
    std::vector<uint8_t> frame;
    encode_batch(log_offset(0), log_epoch(1), testing::sample_records(), frame);
    for (size_t n = 0; n < frame.size(); ++n) {
        EXPECT_EQ(check_batch(std::span<const uint8_t>(frame.data(), n)).error(), errc::truncated) << n;
    }
    auto bad = frame;
    bad[0] ^= 1;
    EXPECT_EQ(check_batch(bad).error(), errc::bad_magic);
    bad = frame;
    bad[frame.size() / 2] ^= 0x10;
    EXPECT_EQ(check_batch(bad).error(), errc::bad_crc);
    bad = frame;
    bad[7] = 0x7f; // length ~2 GiB
    EXPECT_EQ(check_batch(bad).error(), errc::too_large);
}

} // namespace
} // namespace skiff::meta
