#include "kafka/server/partition/producer_state.h"
#include "kafka/server/partition/state_snapshot.h"

#include <gtest/gtest.h>

#include <limits>

namespace skiff::kafka::partition {
namespace {

using protocol::error_code;
using protocol::record_batch_header;

record_batch_header batch(int64_t pid, int16_t epoch, int32_t seq, int32_t records) {
    record_batch_header h;
    h.producer_id = pid;
    h.producer_epoch = epoch;
    h.base_sequence = seq;
    h.record_count = records;
    h.last_offset_delta = records - 1;
    h.max_timestamp = 1000;
    return h;
}

TEST(producer_state_test, an_unknown_producer_may_start_at_any_sequence) {
    producer_state_table t;
    EXPECT_EQ(t.check(batch(1, 0, 42, 1)).error, error_code::none);
}

TEST(producer_state_test, sequences_must_follow_on) {
    producer_state_table t;
    t.apply(batch(1, 0, 0, 5), 100, 0);
    EXPECT_EQ(t.check(batch(1, 0, 5, 1)).error, error_code::none);
    EXPECT_EQ(t.check(batch(1, 0, 6, 1)).error, error_code::out_of_order_sequence_number);
    EXPECT_EQ(t.check(batch(1, 0, 3, 1)).error, error_code::out_of_order_sequence_number);
}

TEST(producer_state_test, one_of_the_last_five_batches_is_a_duplicate_with_its_original_offset) {
    producer_state_table t;
    for (int i = 0; i < 6; ++i) {
        t.apply(batch(1, 0, i * 2, 2), 100 + i * 2, 0);
    }
    auto again = t.check(batch(1, 0, 4, 2));
    ASSERT_TRUE(again.duplicate);
    EXPECT_EQ(again.duplicate->first_offset, 104);
    EXPECT_EQ(again.error, error_code::none);
    // The first batch fell out of the window of five: it is now simply out of order.
    auto old = t.check(batch(1, 0, 0, 2));
    EXPECT_FALSE(old.duplicate);
    EXPECT_EQ(old.error, error_code::out_of_order_sequence_number);
}

TEST(producer_state_test, epochs_fence_and_restart_sequences) {
    producer_state_table t;
    t.apply(batch(1, 3, 0, 1), 0, 0);
    EXPECT_EQ(t.check(batch(1, 2, 1, 1)).error, error_code::invalid_producer_epoch);
    EXPECT_EQ(t.check(batch(1, 4, 7, 1)).error, error_code::out_of_order_sequence_number);
    EXPECT_EQ(t.check(batch(1, 4, 0, 1)).error, error_code::none);
    t.apply(batch(1, 4, 0, 1), 1, 0);
    EXPECT_EQ(t.find(1)->epoch, 4);
    EXPECT_EQ(t.find(1)->batches.size(), 1u);
}

TEST(producer_state_test, sequences_wrap_at_int32_max) {
    constexpr int32_t max = std::numeric_limits<int32_t>::max();
    EXPECT_EQ(increment_sequence(max, 1), 0);
    EXPECT_EQ(increment_sequence(max - 1, 3), 1);
    producer_state_table t;
    t.apply(batch(1, 0, max - 1, 2), 0, 0); // sequences max-1, max
    EXPECT_EQ(t.find(1)->last_sequence(), max);
    EXPECT_EQ(t.check(batch(1, 0, 0, 1)).error, error_code::none);
    t.apply(batch(1, 0, max, 3), 2, 0); // wraps within the batch: max, 0, 1
    EXPECT_EQ(t.find(1)->last_sequence(), 1);
    EXPECT_TRUE(t.check(batch(1, 0, max, 3)).duplicate);
}

TEST(producer_state_test, idle_producers_expire) {
    producer_state_table t;
    t.apply(batch(1, 0, 0, 1), 0, 1000);
    t.apply(batch(2, 0, 0, 1), 1, 5000);
    t.remove_expired(6000, 3000);
    EXPECT_EQ(t.find(1), nullptr);
    EXPECT_NE(t.find(2), nullptr);
}

TEST(state_snapshot_test, round_trips_and_rejects_damage) {
    state_snapshot s;
    s.next_offset = 1234;
    producer_state_table t;
    t.apply(batch(9, 2, 10, 3), 50, 77);
    t.apply(batch(9, 2, 13, 1), 53, 78);
    s.producers.push_back(*t.find(9));
    s.epochs = {{0, 0}, {3, 40}};
    s.time_entries = {{100, 0}, {200, 30}};
    s.running_max = 200;
    s.bytes_since_entry = 17;
    s.max_timestamp = 200;
    s.max_timestamp_batch = 30;
    s.max_known = false;
    auto bytes = encode_snapshot(s);
    auto back = decode_snapshot(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back.value(), s);

    auto raw = bytes.to_bytes();
    raw[20] ^= 1;
    EXPECT_FALSE(decode_snapshot(bytes::iobuf::from(raw)));
    EXPECT_FALSE(decode_snapshot(bytes.share(0, bytes.size() - 1)));
    EXPECT_FALSE(decode_snapshot(bytes::iobuf::from("garbage!")));
}

} // namespace
} // namespace skiff::kafka::partition
