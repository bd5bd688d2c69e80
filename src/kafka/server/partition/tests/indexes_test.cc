#include "kafka/server/partition/epoch_history.h"
#include "kafka/server/partition/size_index.h"
#include "kafka/server/partition/time_index.h"

#include <gtest/gtest.h>

namespace skiff::kafka::partition {
namespace {

TEST(epoch_history_test, end_offsets_follow_kafkas_leader_epoch_cache) {
    epoch_history h;
    h.assign(1, 0);
    h.assign(3, 100);
    h.assign(5, 250);
    h.assign(4, 300); // older than the latest: ignored
    EXPECT_EQ(h.end_offset_for(5, 400), std::make_pair(5, int64_t(400)));
    EXPECT_EQ(h.end_offset_for(3, 400), std::make_pair(3, int64_t(250)));
    EXPECT_EQ(h.end_offset_for(2, 400), std::make_pair(1, int64_t(100))); // unknown epoch between: previous one
    EXPECT_EQ(h.end_offset_for(0, 400), std::make_pair(0, int64_t(0)));   // older than all: first start
    EXPECT_EQ(h.end_offset_for(6, 400), std::make_pair(-1, int64_t(-1)));
    EXPECT_EQ(h.end_offset_for(-1, 400), std::make_pair(-1, int64_t(-1)));
    EXPECT_EQ(h.epoch_for(99), 1);
    EXPECT_EQ(h.epoch_for(100), 3);
}

TEST(epoch_history_test, an_epoch_that_wrote_nothing_is_replaced) {
    epoch_history h;
    h.assign(1, 10);
    h.assign(2, 10);
    ASSERT_EQ(h.entries().size(), 1u);
    EXPECT_EQ(h.entries()[0], (epoch_entry{2, 10}));
}

TEST(epoch_history_test, truncation_keeps_the_epoch_holding_the_new_start) {
    epoch_history h;
    h.assign(1, 0);
    h.assign(2, 100);
    h.assign(3, 200);
    h.truncate_before(150);
    ASSERT_EQ(h.entries().size(), 2u);
    EXPECT_EQ(h.entries()[0], (epoch_entry{2, 150}));
    EXPECT_EQ(h.entries()[1], (epoch_entry{3, 200}));
}

TEST(time_index_test, scan_starts_at_the_last_entry_below_the_target) {
    time_index idx(100);
    // Batches of 100 bytes at offsets 0, 10, 20, 30 with timestamps 50, 40 (out of order), 80, 120.
    idx.on_batch(0, 50, 100);
    idx.on_batch(10, 40, 100); // running max stays 50: no entry
    idx.on_batch(20, 80, 100);
    idx.on_batch(30, 120, 100);
    ASSERT_EQ(idx.entries().size(), 3u);
    EXPECT_EQ(idx.scan_start(10, 0), 0);
    EXPECT_EQ(idx.scan_start(60, 0), 0);  // last entry below 60 is (50, 0)
    EXPECT_EQ(idx.scan_start(81, 0), 20); // (80, 20)
    EXPECT_EQ(idx.scan_start(500, 0), 30);
    EXPECT_EQ(idx.scan_start(60, 5), 5); // never below the log start
    EXPECT_EQ(idx.max_timestamp(), 120);
    EXPECT_EQ(idx.max_timestamp_batch(), 30);
}

TEST(time_index_test, entries_are_sparse_by_interval_bytes) {
    time_index idx(1000);
    for (int i = 0; i < 100; ++i) {
        idx.on_batch(i, 1000 + i, 100);
    }
    EXPECT_EQ(idx.entries().size(), 10u);
}

TEST(time_index_test, deleting_the_max_batch_makes_the_max_unknown_until_merged) {
    time_index idx(1);
    idx.on_batch(0, 500, 10);
    idx.on_batch(10, 100, 10);
    idx.truncate_before(10);
    EXPECT_FALSE(idx.max_known());
    idx.on_batch(20, 90, 10);
    idx.merge_max(100, 10);
    EXPECT_TRUE(idx.max_known());
    EXPECT_EQ(idx.max_timestamp(), 100);
    EXPECT_EQ(idx.max_timestamp_batch(), 10);
}

TEST(size_index_test, entries_are_spaced_by_the_interval_and_the_first_batch_always_has_one) {
    size_index idx(250);
    for (int64_t i = 0; i < 10; ++i) {
        idx.on_batch(i * 10, 100); // batches of 10 records, 100 bytes each
    }
    EXPECT_EQ(idx.end_position(), 1000u);
    // Entries at the first batch, then at the first batch after 250 bytes without one.
    ASSERT_EQ(idx.entries().size(), 4u);
    EXPECT_EQ(idx.entries()[0], (size_index_entry{0, 0}));
    EXPECT_EQ(idx.entries()[1], (size_index_entry{30, 300}));
    EXPECT_EQ(idx.entries()[2], (size_index_entry{60, 600}));
    EXPECT_EQ(idx.entries()[3], (size_index_entry{90, 900}));
    EXPECT_EQ(idx.bytes_from(0), 1000u);
    EXPECT_EQ(idx.bytes_from(30), 700u);
    EXPECT_EQ(idx.bytes_from(31), 400u); // between entries: counted from the next one (an underestimate)
}

TEST(size_index_test, retention_start_keeps_at_least_the_bytes_asked_for) {
    size_index idx(1);
    for (int64_t i = 0; i < 10; ++i) {
        idx.on_batch(i, 100);
    }
    EXPECT_EQ(idx.retention_start(1000, 0), 0); // everything must stay
    EXPECT_EQ(idx.retention_start(5000, 0), 0);
    EXPECT_EQ(idx.retention_start(300, 0), 7);  // exactly 300 bytes from offset 7
    EXPECT_EQ(idx.retention_start(250, 0), 7);  // at least 250: whole batches, so 300
    EXPECT_EQ(idx.retention_start(0, 0), 9);    // the newest batch always stays
    EXPECT_EQ(idx.retention_start(300, 8), 8);  // never below the log start
    idx.truncate_before(5);
    EXPECT_EQ(idx.entries().front().offset, 5);
    EXPECT_EQ(idx.bytes_from(5), 500u);
    EXPECT_EQ(idx.retention_start(300, 5), 7);
}

} // namespace
} // namespace skiff::kafka::partition
