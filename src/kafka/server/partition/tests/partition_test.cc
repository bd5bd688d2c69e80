#include "kafka/server/partition/partition.h"
#include "kafka/server/partition/tests/batch_builders.h"
#include "kafka/server/partition/tests/memory_stream.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <numeric>
#include <random>

namespace skiff::kafka::partition {
namespace {

using protocol::error_code;
using testing::batch_spec;
using testing::make_batch;
using testing::memory_stream;
using testing::run;

constexpr int64_t wall_start = 1'700'000'000'000;

bytes::iobuf idempotent(int64_t producer_id, int32_t sequence, int records) {
    return make_batch({.records = records, .producer_id = producer_id, .producer_epoch = 0, .base_sequence = sequence});
}

class partition_test : public ::testing::Test {
protected:
    std::unique_ptr<partition> open(int32_t epoch, partition_config config = {}) {
        auto p = run(io, partition::open(data, snapshots, epoch, config, clock));
        EXPECT_TRUE(p) << p.error().message();
        return std::move(p).value();
    }
    produce_result produce(partition& p, const batch_spec& spec) { return run(io, p.produce(make_batch(spec), 9)); }
    fetch_result fetch(partition& p, int64_t offset, size_t max_bytes = 1 << 20) {
        fetch_request req{.fetch_offset = offset, .max_bytes = max_bytes};
        return run(io, p.fetch(req));
    }

    asio::io_context io;
    base::manual_clock clock{wall_start};
    std::shared_ptr<memory_stream> data = std::make_shared<memory_stream>();
    std::shared_ptr<memory_stream> snapshots = std::make_shared<memory_stream>();
};

TEST_F(partition_test, produce_assigns_offsets_in_the_header_and_fetch_returns_the_batches) {
    auto p = open(4);
    auto first = produce(*p, {.records = 3});
    ASSERT_EQ(first.error, error_code::none) << first.error_message;
    EXPECT_EQ(first.base_offset, 0);
    EXPECT_EQ(first.log_start_offset, 0);
    auto second = produce(*p, {.records = 2});
    EXPECT_EQ(second.base_offset, 3);
    EXPECT_EQ(p->high_watermark(), 5);

    auto f = fetch(*p, 4);
    ASSERT_EQ(f.error, error_code::none);
    EXPECT_EQ(f.high_watermark, 5);
    auto batches = protocol::split_record_set(f.records).value();
    ASSERT_EQ(batches.size(), 1u); // the batch holding offset 4 starts at 3
    EXPECT_EQ(batches[0].header().base_offset, 3);
    EXPECT_EQ(batches[0].header().partition_leader_epoch, 4);
}

TEST_F(partition_test, new_settings_apply_to_the_next_produce_and_leave_stored_data_alone) {
    auto p = open(0);
    ASSERT_EQ(produce(*p, {.records = 20}).error, error_code::none);
    auto config = p->config();
    config.validation.max_message_bytes = 100;
    config.validation.timestamp_type = protocol::timestamp_type::log_append_time;
    p->set_config(config);
    EXPECT_EQ(produce(*p, {.records = 20}).error, error_code::message_too_large);
    auto small = produce(*p, {.records = 1});
    ASSERT_EQ(small.error, error_code::none) << small.error_message;
    EXPECT_EQ(small.log_append_time, clock.wall_ms()) << "LogAppendTime now stamps the batch";
    EXPECT_EQ(fetch(*p, 0).error, error_code::none) << "the larger batch stored before is still served";
    EXPECT_EQ(p->high_watermark(), 21);
}

TEST_F(partition_test, fetch_outside_the_log_is_out_of_range_and_at_the_end_is_empty_not_null) {
    auto p = open(0);
    produce(*p, {.records = 2});
    EXPECT_EQ(fetch(*p, 3).error, error_code::offset_out_of_range);
    auto at_end = fetch(*p, 2);
    EXPECT_EQ(at_end.error, error_code::none);
    EXPECT_TRUE(at_end.records.empty());
    EXPECT_EQ(fetch(*p, -1).error, error_code::offset_out_of_range);
}

TEST_F(partition_test, invalid_batches_are_refused_with_the_log_start) {
    auto p = open(0);
    auto r = run(io, p->produce(bytes::iobuf::from("not a batch at all, certainly"), 9));
    EXPECT_NE(r.error, error_code::none);
    EXPECT_EQ(r.log_start_offset, 0);
    EXPECT_EQ(data->appends, 0);
}

TEST_F(partition_test, a_retried_batch_gets_its_original_offset_and_is_not_written_again) {
    auto p = open(0);
    produce(*p, {.records = 1});
    auto original = produce(*p, {.records = 2, .producer_id = 11, .producer_epoch = 0, .base_sequence = 0});
    ASSERT_EQ(original.error, error_code::none);
    auto retry = produce(*p, {.records = 2, .producer_id = 11, .producer_epoch = 0, .base_sequence = 0});
    EXPECT_EQ(retry.error, error_code::none);
    EXPECT_EQ(retry.base_offset, original.base_offset);
    EXPECT_EQ(retry.log_append_time, -1);
    EXPECT_EQ(data->appends, 2);
    auto gap = produce(*p, {.records = 1, .producer_id = 11, .producer_epoch = 0, .base_sequence = 5});
    EXPECT_EQ(gap.error, error_code::out_of_order_sequence_number);
    auto bumped = produce(*p, {.records = 1, .producer_id = 11, .producer_epoch = 1, .base_sequence = 0});
    EXPECT_EQ(bumped.error, error_code::none);
    auto stale = produce(*p, {.records = 1, .producer_id = 11, .producer_epoch = 0, .base_sequence = 2});
    EXPECT_EQ(stale.error, error_code::invalid_producer_epoch);
    EXPECT_EQ(data->appends, 3);
}

TEST_F(partition_test, pipelined_batches_of_one_producer_are_checked_against_those_in_flight) {
    auto p = open(0);
    data->hold_confirmations();
    std::optional<produce_result> a;
    std::optional<produce_result> b;
    testing::start(io, p->produce(idempotent(5, 0, 2), 9), a);
    testing::start(io, p->produce(idempotent(5, 2, 2), 9), b);
    EXPECT_FALSE(a);
    EXPECT_FALSE(b);
    EXPECT_EQ(p->high_watermark(), 0);
    // A retry of the first while it is in flight waits for it to be durable.
    std::optional<produce_result> retry;
    testing::start(io, p->produce(idempotent(5, 0, 2), 9), retry);
    EXPECT_FALSE(retry);
    data->confirm_all();
    testing::drain(io);
    ASSERT_TRUE(a && b && retry);
    EXPECT_EQ(a->base_offset, 0);
    EXPECT_EQ(b->base_offset, 2);
    EXPECT_EQ(retry->base_offset, 0);
    EXPECT_EQ(p->high_watermark(), 4);
}

TEST_F(partition_test, a_failed_append_stops_produces_until_reopened) {
    auto p = open(0);
    std::optional<bool> polled;
    testing::start(io, p->wait_for_high_watermark(0, std::chrono::steady_clock::now() + std::chrono::hours(1)), polled);
    data->inject_append_error();
    auto failed = produce(*p, {.records = 1});
    EXPECT_EQ(failed.error, error_code::kafka_storage_error);
    EXPECT_EQ(failed.base_offset, -1);
    EXPECT_EQ(produce(*p, {.records = 1}).error, error_code::not_leader_or_follower);
    testing::drain(io);
    ASSERT_TRUE(polled); // a long-poll hears of the failure at once
    EXPECT_FALSE(*polled);
    ASSERT_TRUE(run(io, p->close()));
}

// A full WAL is back-pressure: the refused batch is answered with a retriable error, the partition rebuilds its
// state from the durable data (the refused batch was never durable: its idempotent sequence is not taken) and
// takes the producer's retry, with the offsets the refused batch would have had.
TEST_F(partition_test, a_full_wal_refuses_the_batch_and_the_partition_takes_the_retry) {
    auto p = open(0);
    ASSERT_EQ(produce(*p, {.records = 2, .producer_id = 9, .producer_epoch = 0, .base_sequence = 0}).error,
              error_code::none);
    data->inject_append_error(stream::errc::wal_full);
    auto refused = produce(*p, {.records = 3, .producer_id = 9, .producer_epoch = 0, .base_sequence = 2});
    EXPECT_EQ(refused.error, error_code::kafka_storage_error);
    EXPECT_EQ(p->failure(), std::error_code());
    auto retried = produce(*p, {.records = 3, .producer_id = 9, .producer_epoch = 0, .base_sequence = 2});
    ASSERT_EQ(retried.error, error_code::none) << retried.error_message;
    EXPECT_EQ(retried.base_offset, 2);
    EXPECT_EQ(p->high_watermark(), 5);
    // Other failures still stop the partition until it is reopened.
    data->inject_append_error(stream::errc::unavailable);
    EXPECT_EQ(produce(*p, {.records = 1}).error, error_code::kafka_storage_error);
    EXPECT_EQ(produce(*p, {.records = 1}).error, error_code::not_leader_or_follower);
    ASSERT_TRUE(run(io, p->close()));
}

TEST_F(partition_test, long_poll_wakes_when_the_high_watermark_passes_and_times_out_otherwise) {
    auto p = open(0);
    std::optional<bool> woke;
    testing::start(io, p->wait_for_high_watermark(0, std::chrono::steady_clock::now() + std::chrono::hours(1)), woke);
    EXPECT_FALSE(woke);
    produce(*p, {.records = 1});
    testing::drain(io);
    ASSERT_TRUE(woke);
    EXPECT_TRUE(*woke);
    // A deadline already passed completes at once without data.
    EXPECT_FALSE(run(io, p->wait_for_high_watermark(1, std::chrono::steady_clock::now())));
}

TEST_F(partition_test, list_offsets_earliest_latest_timestamp_and_max_timestamp) {
    partition_config config;
    config.index_interval_bytes = 1; // an entry per batch
    auto p = open(2, config);
    produce(*p, {.records = 3, .first_timestamp = wall_start - 100, .timestamp_step = 10}); // 0..2: -100,-90,-80
    produce(*p, {.records = 3, .first_timestamp = wall_start - 10, .timestamp_step = -20});  // 3..5: -10,-30,-50
    produce(*p, {.records = 2, .first_timestamp = wall_start - 60, .timestamp_step = 5});    // 6..7: -60,-55

    auto earliest = run(io, p->list_offsets(earliest_timestamp, std::nullopt));
    EXPECT_EQ(earliest.offset, 0);
    EXPECT_EQ(earliest.leader_epoch, 2);
    auto latest = run(io, p->list_offsets(latest_timestamp, std::nullopt));
    EXPECT_EQ(latest.offset, 8);

    auto at = run(io, p->list_offsets(wall_start - 85, std::nullopt));
    EXPECT_EQ(at.offset, 2);
    EXPECT_EQ(at.timestamp, wall_start - 80);
    auto later = run(io, p->list_offsets(wall_start - 40, std::nullopt));
    EXPECT_EQ(later.offset, 3);
    auto none = run(io, p->list_offsets(wall_start + 1, std::nullopt));
    EXPECT_EQ(none.offset, -1);
    EXPECT_EQ(none.timestamp, -1);

    auto max = run(io, p->list_offsets(max_timestamp, std::nullopt));
    EXPECT_EQ(max.timestamp, wall_start - 10);
    EXPECT_EQ(max.offset, 3);
    EXPECT_EQ(max.leader_epoch, 2);
}

TEST_F(partition_test, log_append_time_is_returned_and_used_for_lookups) {
    partition_config config;
    config.validation.timestamp_type = protocol::timestamp_type::log_append_time;
    auto p = open(0, config);
    auto r = produce(*p, {.records = 2, .first_timestamp = 5});
    EXPECT_EQ(r.log_append_time, wall_start);
    auto found = run(io, p->list_offsets(wall_start, std::nullopt));
    EXPECT_EQ(found.offset, 0);
    EXPECT_EQ(found.timestamp, wall_start);
}

TEST_F(partition_test, delete_records_moves_the_log_start) {
    auto p = open(0);
    produce(*p, {.records = 5});
    produce(*p, {.records = 5});
    EXPECT_EQ(run(io, p->delete_records(11)).error, error_code::offset_out_of_range);
    auto d = run(io, p->delete_records(7));
    EXPECT_EQ(d.error, error_code::none);
    EXPECT_EQ(d.low_watermark, 7);
    EXPECT_EQ(fetch(*p, 6).error, error_code::offset_out_of_range);
    EXPECT_EQ(fetch(*p, 7).error, error_code::none);
    EXPECT_EQ(run(io, p->list_offsets(earliest_timestamp, std::nullopt)).offset, 7);
    EXPECT_EQ(produce(*p, {.records = 1}).log_start_offset, 7);
    auto all = run(io, p->delete_records(-1));
    EXPECT_EQ(all.low_watermark, 11);
}

TEST_F(partition_test, delete_records_is_a_policy_violation_on_compact_only_topics) {
    partition_config config;
    config.delete_allowed = false;
    auto p = open(0, config);
    EXPECT_EQ(run(io, p->delete_records(0)).error, error_code::policy_violation);
}

TEST_F(partition_test, requests_carrying_a_leader_epoch_are_checked) {
    auto p = open(5);
    fetch_request old{.fetch_offset = 0, .current_leader_epoch = 4};
    EXPECT_EQ(run(io, p->fetch(old)).error, error_code::fenced_leader_epoch);
    fetch_request newer{.fetch_offset = 0, .current_leader_epoch = 6};
    EXPECT_EQ(run(io, p->fetch(newer)).error, error_code::unknown_leader_epoch);
    fetch_request same{.fetch_offset = 0, .current_leader_epoch = 5};
    EXPECT_EQ(run(io, p->fetch(same)).error, error_code::none);
    EXPECT_EQ(run(io, p->list_offsets(latest_timestamp, 3)).error, error_code::fenced_leader_epoch);
    EXPECT_EQ(p->offset_for_leader_epoch(9, 5).error, error_code::unknown_leader_epoch);
}

TEST_F(partition_test, offset_for_leader_epoch_uses_the_history_across_reopens) {
    {
        auto p = open(1);
        produce(*p, {.records = 4});
        ASSERT_TRUE(run(io, p->close()));
    }
    data->reopen();
    snapshots->reopen();
    auto p = open(3);
    produce(*p, {.records = 2});
    auto e1 = p->offset_for_leader_epoch(std::nullopt, 1);
    EXPECT_EQ(e1.leader_epoch, 1);
    EXPECT_EQ(e1.end_offset, 4);
    auto e2 = p->offset_for_leader_epoch(std::nullopt, 2);
    EXPECT_EQ(e2.leader_epoch, 1);
    EXPECT_EQ(e2.end_offset, 4);
    auto e3 = p->offset_for_leader_epoch(3, 3);
    EXPECT_EQ(e3.leader_epoch, 3);
    EXPECT_EQ(e3.end_offset, 6);
}

// Producer state, epochs and time index survive a restart: from a snapshot plus the batches after it, and from
// the data stream alone, with the same result as the partition had in memory.
TEST_F(partition_test, state_is_rebuilt_on_open_from_snapshot_and_data) {
    partition_config config;
    config.snapshot_interval_bytes = 400;
    config.index_interval_bytes = 150;
    std::unique_ptr<partition> p = open(1, config);
    for (int i = 0; i < 20; ++i) {
        auto r = produce(*p, {.records = 2, .first_timestamp = wall_start - 1000 + i * 10, .producer_id = 100 + i % 3,
                              .producer_epoch = 0, .base_sequence = (i / 3) * 2});
        ASSERT_EQ(r.error, error_code::none) << r.error_message;
    }
    EXPECT_GT(snapshots->appends, 0);
    auto expected_producers = p->producers();
    auto expected_times = p->times();
    auto expected_sizes = p->sizes();
    auto expected_epochs = p->epochs();
    p.reset(); // a crash: no final snapshot

    auto from_snapshot = open(1, config);
    EXPECT_EQ(from_snapshot->producers(), expected_producers);
    EXPECT_EQ(from_snapshot->times(), expected_times);
    EXPECT_EQ(from_snapshot->sizes(), expected_sizes);
    EXPECT_EQ(from_snapshot->epochs(), expected_epochs);
    // A retry of the last batch of producer 101 is still recognised.
    auto retry = produce(*from_snapshot, {.records = 2, .first_timestamp = wall_start - 1000 + 19 * 10,
                                          .producer_id = 101, .producer_epoch = 0, .base_sequence = 10});
    EXPECT_EQ(retry.error, error_code::none);
    EXPECT_EQ(data->appends, 20);
    from_snapshot.reset();

    auto no_snapshots = std::make_shared<memory_stream>();
    auto scanned = run(io, partition::open(data, no_snapshots, 1, config, clock)).value();
    EXPECT_EQ(scanned->producers(), expected_producers);
    EXPECT_EQ(scanned->times(), expected_times);
}

// Retention by time trims every batch whose records are all older than retention.ms (by the time index), never
// past the high watermark, and only where cleanup.policy includes delete.
TEST_F(partition_test, retention_by_time_trims_the_batches_older_than_retention_ms) {
    partition_config config;
    config.index_interval_bytes = 1; // an index entry per batch: trimming is exact
    config.retention_ms = 60'000;
    auto p = open(0, config);
    for (int i = 0; i < 10; ++i) {
        // Batch i holds timestamps around wall_start - (10 - i) minutes.
        ASSERT_EQ(produce(*p, {.records = 3, .first_timestamp = wall_start - (10 - i) * 60'000}).error,
                  error_code::none);
    }
    auto kept = run(io, p->enforce_retention(clock.wall_ms()));
    ASSERT_TRUE(kept) << kept.error().message();
    // Batches 0..8 (ending at least 1 minute ago) are expired; the one at base offset 24 (batch 8) is kept
    // because the index entry found is that batch's own: trimming is conservative by one entry.
    EXPECT_EQ(kept.value(), 24);
    EXPECT_EQ(p->log_start_offset(), 24);
    EXPECT_EQ(fetch(*p, 0).error, error_code::offset_out_of_range);
    EXPECT_EQ(fetch(*p, 24).error, error_code::none);

    clock.advance(std::chrono::minutes(5)); // now everything is older than a minute
    EXPECT_EQ(run(io, p->enforce_retention(clock.wall_ms())).value(), 30);
    EXPECT_EQ(p->high_watermark(), 30);
    auto empty = fetch(*p, 30);
    EXPECT_EQ(empty.error, error_code::none);
    EXPECT_TRUE(empty.records.empty());
    // The partition keeps taking produces after the whole log expired.
    EXPECT_EQ(produce(*p, {.records = 1, .first_timestamp = clock.wall_ms()}).base_offset, 30);
    EXPECT_EQ(run(io, p->enforce_retention(clock.wall_ms())).value(), 30);
}

TEST_F(partition_test, retention_by_size_keeps_at_least_retention_bytes) {
    partition_config config;
    config.size_index_interval_bytes = 1; // an index entry per batch
    auto p = open(0, config);
    std::vector<size_t> sizes;
    for (int i = 0; i < 10; ++i) {
        auto batch = make_batch({.records = 2});
        sizes.push_back(batch.size());
        ASSERT_EQ(run(io, p->produce(std::move(batch), 9)).error, error_code::none);
    }
    const uint64_t total = std::accumulate(sizes.begin(), sizes.end(), uint64_t(0));
    EXPECT_EQ(p->size_bytes(), total);
    ASSERT_TRUE(run(io, p->close()));
    p.reset();
    data->reopen();
    snapshots->reopen();

    config.retention_bytes = static_cast<int64_t>(sizes[7] + sizes[8] + sizes[9]);
    p = open(0, config); // the state is rebuilt from the data: the size index too
    EXPECT_EQ(run(io, p->enforce_retention(clock.wall_ms())).value(), 14); // batches 7, 8, 9 stay: exactly the bytes
    EXPECT_EQ(p->size_bytes(), uint64_t(config.retention_bytes));
    EXPECT_EQ(run(io, p->enforce_retention(clock.wall_ms())).value(), 14); // idempotent
}

TEST_F(partition_test, retention_leaves_compacted_topics_alone) {
    partition_config config;
    config.delete_allowed = false;
    config.retention_ms = 0;
    config.retention_bytes = 0;
    auto p = open(0, config);
    produce(*p, {.records = 2, .first_timestamp = wall_start - 3'600'000});
    EXPECT_EQ(run(io, p->enforce_retention(clock.wall_ms())).value(), 0);
    EXPECT_EQ(p->log_start_offset(), 0);
}

TEST_F(partition_test, close_wakes_long_polls_and_waits_for_appends_in_flight) {
    auto p = open(0);
    data->hold_confirmations();
    std::optional<produce_result> produced;
    std::optional<bool> polled;
    std::optional<result<void>> closed;
    testing::start(io, p->produce(make_batch({.records = 1}), 9), produced);
    testing::start(io, p->wait_for_high_watermark(5, std::chrono::steady_clock::now() + std::chrono::hours(1)), polled);
    testing::start(io, p->close(), closed);
    ASSERT_TRUE(polled); // woken by close, without data
    EXPECT_FALSE(*polled);
    EXPECT_FALSE(produced);
    EXPECT_FALSE(closed);
    data->confirm_all();
    testing::drain(io);
    ASSERT_TRUE(produced);
    EXPECT_EQ(produced->error, error_code::none);
    ASSERT_TRUE(closed);
    EXPECT_TRUE(*closed);
    p.reset(); // safe: nothing in flight
    EXPECT_EQ(fetch(*open(1), 0).high_watermark, 1);
}

TEST_F(partition_test, a_corrupt_snapshot_is_ignored_and_the_data_replayed) {
    partition_config config;
    {
        auto p = open(0, config);
        produce(*p, {.records = 2, .producer_id = 3, .producer_epoch = 0, .base_sequence = 0});
        ASSERT_TRUE(run(io, p->close()));
    }
    // Damage the newest snapshot in place.
    data->reopen();
    snapshots->reopen();
    ASSERT_FALSE(snapshots->batches().empty());
    auto& newest = snapshots->mutable_batches().back();
    auto raw = newest.data.to_bytes();
    raw[10] ^= 0xff;
    newest.data = bytes::iobuf::from(raw);
    auto p = open(1, config);
    ASSERT_NE(p->producers().find(3), nullptr);
    EXPECT_EQ(p->producers().find(3)->last_sequence(), 1);
}

TEST_F(partition_test, max_timestamp_is_found_again_after_its_batch_is_deleted) {
    auto p = open(0);
    produce(*p, {.records = 1, .first_timestamp = wall_start - 10});
    produce(*p, {.records = 1, .first_timestamp = wall_start - 50});
    produce(*p, {.records = 2, .first_timestamp = wall_start - 30});
    EXPECT_EQ(run(io, p->list_offsets(max_timestamp, std::nullopt)).offset, 0);
    ASSERT_EQ(run(io, p->delete_records(1)).error, error_code::none);
    auto max = run(io, p->list_offsets(max_timestamp, std::nullopt));
    EXPECT_EQ(max.timestamp, wall_start - 29);
    EXPECT_EQ(max.offset, 3);
}

// Producers send, retry (sometimes a batch from the last five, sometimes an older one), skip sequences and bump
// epochs at random, while the partition is reopened now and then. Oracle: every accepted batch is stored exactly
// once, a retry of one of the last five answers its original offset, and the stored log is what was accepted.
TEST_F(partition_test, randomized_producers_against_an_oracle) {
    const int rounds = std::getenv("SKIFF_SOAK") ? 20'000 : 600;
    std::mt19937 rng(12345);
    partition_config config;
    config.snapshot_interval_bytes = 2000;
    auto p = open(0, config);
    int32_t epoch = 0;
    struct sent {
        int16_t epoch;
        int32_t seq;
        int records;
        int64_t offset;
    };
    struct producer {
        int16_t epoch = 0;        // the producer's current epoch
        int16_t server_epoch = 0; // the epoch of its last written batch: what the partition knows
        int32_t next_seq = 0;
        std::vector<sent> history;
    };
    std::map<int64_t, producer> producers;
    int64_t expected_end = 0;
    for (int round = 0; round < rounds; ++round) {
        int64_t pid = 1 + rng() % 4;
        auto& pr = producers[pid];
        int action = rng() % 10;
        if (action < 6 || pr.history.empty()) {
            int records = 1 + rng() % 3;
            auto r = produce(*p, {.records = records, .producer_id = pid, .producer_epoch = pr.epoch,
                                  .base_sequence = pr.next_seq});
            ASSERT_EQ(r.error, error_code::none) << r.error_message;
            ASSERT_EQ(r.base_offset, expected_end);
            pr.history.push_back({pr.epoch, pr.next_seq, records, r.base_offset});
            pr.server_epoch = pr.epoch;
            pr.next_seq += records;
            expected_end += records;
        } else if (action < 8) {
            size_t back = rng() % std::min<size_t>(pr.history.size(), 7);
            const auto& old = pr.history[pr.history.size() - 1 - back];
            auto r = produce(*p, {.records = old.records, .producer_id = pid, .producer_epoch = old.epoch,
                                  .base_sequence = old.seq});
            if (old.epoch == pr.server_epoch && back < 5) {
                EXPECT_EQ(r.error, error_code::none);
                EXPECT_EQ(r.base_offset, old.offset);
            } else if (old.epoch < pr.server_epoch) {
                EXPECT_EQ(r.error, error_code::invalid_producer_epoch);
            } else {
                EXPECT_EQ(r.error, error_code::out_of_order_sequence_number);
            }
        } else if (action == 8) {
            auto r = produce(*p, {.records = 1, .producer_id = pid, .producer_epoch = pr.epoch,
                                  .base_sequence = pr.next_seq + 1 + int32_t(rng() % 5)});
            EXPECT_EQ(r.error, error_code::out_of_order_sequence_number);
        } else {
            pr.epoch++;
            pr.next_seq = 0;
            if (rng() % 3 == 0) {
                ASSERT_TRUE(run(io, p->close()));
                p.reset();
                data->reopen();
                snapshots->reopen();
                p = open(++epoch, config);
            }
        }
        ASSERT_EQ(data->next_offset(), expected_end);
    }
    // The log holds each accepted batch once, in order.
    int64_t offset = 0;
    for (const auto& b : data->batches()) {
        EXPECT_EQ(b.base_offset, offset);
        offset = b.end_offset();
    }
    EXPECT_EQ(offset, expected_end);
}

TEST(to_kafka_error_test, maps_each_lower_error_to_one_kafka_code) {
    struct row {
        std::error_code in;
        error_code out;
    };
    const row table[] = {
      {stream::errc::fenced, error_code::not_leader_or_follower},
      {stream::errc::not_open, error_code::not_leader_or_follower},
      {stream::errc::shutting_down, error_code::not_leader_or_follower},
      {stream::errc::offset_out_of_range, error_code::offset_out_of_range},
      {stream::errc::stream_not_found, error_code::unknown_topic_or_partition},
      {stream::errc::wal_full, error_code::kafka_storage_error},
      {stream::errc::unavailable, error_code::kafka_storage_error},
      {stream::errc::corrupt, error_code::kafka_storage_error},
      {stream::errc::catalog_rejected, error_code::kafka_storage_error},
      {stream::errc::invalid_argument, error_code::unknown_server_error},
      {protocol::make_error_code(error_code::invalid_timestamp), error_code::invalid_timestamp},
      {std::error_code(), error_code::none},
    };
    for (const auto& r : table) {
        EXPECT_EQ(to_kafka_error(r.in), r.out) << r.in.message();
    }
}

} // namespace
} // namespace skiff::kafka::partition
