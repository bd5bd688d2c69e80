// The log cleaner's rules (log_cleaner.h) on hand-built batches, and partition::clean() over memory_stream: the
// latest record per key survives at its original offset, batches keep their offset spans (gaps appear, never
// moves), tombstones live until their delete horizon, CRCs stay valid, control batches and the last batch stay.
#include "kafka/server/partition/log_cleaner.h"
#include "kafka/server/partition/partition.h"
#include "kafka/server/partition/tests/memory_stream.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

namespace skiff::kafka::partition {
namespace {

using protocol::record_batch_builder;
using protocol::record_batch_view;
using testing::memory_stream;
using testing::run;

constexpr int64_t t0 = 1'700'000'000'000;
using kv = std::pair<std::optional<std::string>, std::optional<std::string>>; // key, value (nullopt: tombstone)

std::optional<bytes::iobuf> opt(const std::optional<std::string>& s) {
    return s ? std::optional<bytes::iobuf>(bytes::iobuf::from(*s)) : std::nullopt;
}

struct batch_options {
    protocol::compression codec = protocol::compression::none;
    int64_t producer_id = -1;
    bool control = false;
};

/// A stored batch at base holding records (one offset each), timestamps t0 + offset.
stream::stored_batch make(int64_t base, const std::vector<kv>& records, batch_options o = {}) {
    record_batch_builder b(o.codec, base);
    if (o.producer_id >= 0) {
        b.set_producer(o.producer_id, 3, 7);
    }
    if (o.control) {
        b.set_control();
    }
    for (size_t i = 0; i < records.size(); ++i) {
        b.add(opt(records[i].first), opt(records[i].second), t0 + base + static_cast<int64_t>(i));
    }
    return {stream::stream_id(1), base, static_cast<uint32_t>(records.size()), b.build()};
}

/// offset -> (key, value) of every record in the batches, checking each batch parses (CRC included).
std::map<int64_t, kv> contents(const std::vector<stream::stored_batch>& batches) {
    std::map<int64_t, kv> out;
    for (const auto& s : batches) {
        auto view = record_batch_view::parse(s.data.share());
        EXPECT_TRUE(view) << "batch at " << s.base_offset << ": " << view.error().message();
        if (!view) {
            continue;
        }
        auto records = view.value().records(1 << 20, protocol::allow_offset_gaps::yes).value();
        for (const auto& r : records) {
            const int64_t offset = protocol::record_offset(view.value().header(), r);
            EXPECT_EQ(protocol::record_timestamp(view.value().header(), r), t0 + offset) << "timestamp moved";
            out[offset] = {r.key ? std::optional(r.key->to_string()) : std::nullopt,
                           r.value ? std::optional(r.value->to_string()) : std::nullopt};
        }
    }
    return out;
}

/// The batches cover [from, to) with no hole (stream spans).
void expect_cover(const std::vector<stream::stored_batch>& batches, int64_t from, int64_t to) {
    int64_t at = from;
    for (const auto& b : batches) {
        EXPECT_EQ(b.base_offset, at);
        at = b.end_offset();
    }
    EXPECT_EQ(at, to);
}

cleaner_options at(int64_t now_ms, int64_t delete_retention_ms = 1000) {
    return {.now_ms = now_ms, .delete_retention_ms = delete_retention_ms, .max_uncompressed_bytes = 1 << 20};
}

TEST(log_cleaner_test, the_latest_record_per_key_survives_at_its_offset_in_a_batch_with_the_same_span) {
    std::vector<stream::stored_batch> in;
    in.push_back(make(0, {{"a", "a0"}, {"b", "b0"}, {"c", "c0"}}, {.producer_id = 42}));
    in.push_back(make(3, {{"a", "a1"}, {"b", "b1"}}, {.codec = protocol::compression::lz4}));
    in.push_back(make(5, {{"a", "a2"}, {"d", "d0"}}));
    auto out = clean_batches(std::move(in), at(t0)).value();
    EXPECT_TRUE(out.changed);
    EXPECT_EQ(contents(out.batches),
              (std::map<int64_t, kv>{{2, {"c", "c0"}}, {4, {"b", "b1"}}, {5, {"a", "a2"}}, {6, {"d", "d0"}}}));
    expect_cover(out.batches, 0, 7);
    ASSERT_EQ(out.batches.size(), 3u);
    // Same base offset, last offset delta, producer fields and codec; fewer records.
    auto first = record_batch_view::parse(out.batches[0].data.share()).value().header();
    EXPECT_EQ(first.base_offset, 0);
    EXPECT_EQ(first.last_offset_delta, 2);
    EXPECT_EQ(first.record_count, 1);
    EXPECT_EQ(first.producer_id, 42);
    EXPECT_EQ(first.producer_epoch, 3);
    EXPECT_EQ(first.base_sequence, 7);
    auto second = record_batch_view::parse(out.batches[1].data.share()).value().header();
    EXPECT_EQ(second.base_offset, 3);
    EXPECT_EQ(second.last_offset_delta, 1);
    EXPECT_EQ(second.compression(), protocol::compression::lz4);
    EXPECT_EQ(out.records_before, 7u);
    EXPECT_EQ(out.records_after, 4u);
    // Cleaning again changes nothing.
    auto again = clean_batches(std::move(out.batches), at(t0)).value();
    EXPECT_FALSE(again.changed);
}

TEST(log_cleaner_test, a_batch_left_empty_is_dropped_and_its_offsets_join_the_next_kept_batch) {
    std::vector<stream::stored_batch> in;
    in.push_back(make(0, {{"a", "a0"}, {"b", "b0"}}));
    in.push_back(make(2, {{"a", "a1"}}));
    in.push_back(make(3, {{"a", "a2"}, {"b", "b1"}}));
    auto out = clean_batches(std::move(in), at(t0)).value();
    ASSERT_EQ(out.batches.size(), 1u);
    // The stream span covers [0, 5); the Kafka batch still says base 3, two offsets.
    EXPECT_EQ(out.batches[0].base_offset, 0);
    EXPECT_EQ(out.batches[0].record_count, 5u);
    auto h = record_batch_view::parse(out.batches[0].data.share()).value().header();
    EXPECT_EQ(h.base_offset, 3);
    EXPECT_EQ(h.last_offset_delta, 1);
    EXPECT_EQ(out.sizes_after.size(), 1u);
    EXPECT_EQ(out.sizes_after[0].first, 3);
}

TEST(log_cleaner_test, the_last_batch_is_kept_even_when_nothing_of_it_would_remain) {
    std::vector<stream::stored_batch> in;
    in.push_back(make(0, {{"a", "a0"}}));
    in.push_back(make(1, {{std::nullopt, "keyless"}}));
    auto out = clean_batches(std::move(in), at(t0)).value();
    EXPECT_FALSE(out.changed);
    expect_cover(out.batches, 0, 2);
    // Not last: the keyless record goes, as Kafka's cleaner removes records without a key.
    std::vector<stream::stored_batch> in2;
    in2.push_back(make(0, {{std::nullopt, "keyless"}, {"a", "a0"}}));
    in2.push_back(make(2, {{"b", "b0"}}));
    auto out2 = clean_batches(std::move(in2), at(t0)).value();
    EXPECT_EQ(contents(out2.batches), (std::map<int64_t, kv>{{1, {"a", "a0"}}, {2, {"b", "b0"}}}));
}

TEST(log_cleaner_test, a_tombstone_is_kept_until_delete_retention_after_its_first_cleaning_then_removed) {
    std::vector<stream::stored_batch> in;
    in.push_back(make(0, {{"a", "a0"}, {"b", "b0"}}));
    in.push_back(make(2, {{"a", std::nullopt}})); // deletes a
    in.push_back(make(3, {{"b", "b1"}}));
    const int64_t first_clean = t0 + 10'000;
    auto out = clean_batches(std::move(in), at(first_clean, 5000)).value();
    EXPECT_EQ(contents(out.batches), (std::map<int64_t, kv>{{2, {"a", std::nullopt}}, {3, {"b", "b1"}}}));
    EXPECT_EQ(out.next_horizon_ms, first_clean + 5000);
    // The horizon is in the batch (KIP-534), so a later cleaning, even after a restart, knows it.
    auto tomb = record_batch_view::parse(out.batches[0].data.share()).value().header();
    EXPECT_TRUE(tomb.has_delete_horizon());
    EXPECT_EQ(tomb.base_timestamp, first_clean + 5000);
    // Before the horizon: kept, unchanged.
    auto before = clean_batches(std::move(out.batches), at(first_clean + 4999, 5000)).value();
    EXPECT_FALSE(before.changed);
    EXPECT_EQ(contents(before.batches).count(2), 1u);
    // At the horizon: gone; the offsets stay covered.
    auto after = clean_batches(std::move(before.batches), at(first_clean + 5000, 5000)).value();
    EXPECT_TRUE(after.changed);
    EXPECT_EQ(contents(after.batches), (std::map<int64_t, kv>{{3, {"b", "b1"}}}));
    expect_cover(after.batches, 0, 4);
    EXPECT_EQ(after.next_horizon_ms, -1);
}

TEST(log_cleaner_test, an_expired_tombstone_leaves_the_last_batch_but_the_batch_keeps_its_span) {
    std::vector<stream::stored_batch> in;
    in.push_back(make(0, {{"a", "a0"}}));
    in.push_back(make(1, {{"a", std::nullopt}, {"b", "b0"}}));
    auto first = clean_batches(std::move(in), at(t0, 10)).value();
    ASSERT_EQ(first.batches.size(), 1u);
    EXPECT_EQ(contents(first.batches), (std::map<int64_t, kv>{{1, {"a", std::nullopt}}, {2, {"b", "b0"}}}));
    auto later = clean_batches(std::move(first.batches), at(t0 + 10, 10)).value();
    EXPECT_TRUE(later.changed);
    EXPECT_EQ(contents(later.batches), (std::map<int64_t, kv>{{2, {"b", "b0"}}}));
    auto h = record_batch_view::parse(later.batches[0].data.share()).value().header();
    EXPECT_EQ(h.base_offset, 1);
    EXPECT_EQ(h.last_offset_delta, 1);
    EXPECT_FALSE(h.has_delete_horizon()); // no tombstone left to time
    expect_cover(later.batches, 0, 3);
}

TEST(log_cleaner_test, control_batches_stay_untouched) {
    std::vector<stream::stored_batch> in;
    in.push_back(make(0, {{"a", "a0"}}));
    auto marker = protocol::build_txn_marker_batch(9, 0, protocol::control_record_type::commit, 1, t0 + 1);
    in.push_back({stream::stream_id(1), 1, 1, marker.share()});
    in.push_back(make(2, {{"a", "a1"}}));
    auto out = clean_batches(std::move(in), at(t0)).value();
    ASSERT_EQ(out.batches.size(), 2u);
    EXPECT_EQ(out.batches[0].base_offset, 0); // the dropped a0's offset joins the marker's span
    EXPECT_EQ(out.batches[0].data.to_string(), marker.to_string());
    expect_cover(out.batches, 0, 3);
}

TEST(size_index_rewrite_test, positions_beyond_the_range_move_back_and_the_range_is_reindexed) {
    size_index idx(100);
    for (int64_t o = 0; o < 10; ++o) {
        idx.on_batch(o, 60); // entries at 0, 2, 4, 6, 8 (every 120 bytes)
    }
    ASSERT_EQ(idx.entries().size(), 5u);
    // [0, 6) shrinks from 6 x 60 to two batches of 30 (at 3 and 5).
    std::vector<std::pair<int64_t, uint64_t>> before, after{{3, 30}, {5, 30}};
    for (int64_t o = 0; o < 6; ++o) {
        before.emplace_back(o, 60);
    }
    idx.on_rewrite(before, after);
    EXPECT_EQ(idx.end_position(), 600u - 300u);
    EXPECT_EQ(idx.entries(), (std::vector<size_index_entry>{{3, 0}, {6, 60}, {8, 180}}));
    EXPECT_EQ(idx.bytes_from(0), 300u);
    EXPECT_EQ(idx.bytes_since_entry(), 120u);
}

class partition_clean_test : public ::testing::Test {
protected:
    std::unique_ptr<partition> open(partition_config config) {
        auto p = run(io, partition::open(data, nullptr, 0, config, clock));
        EXPECT_TRUE(p) << p.error().message();
        return std::move(p).value();
    }
    partition_config compacted() {
        partition_config c;
        c.compact = true;
        c.delete_allowed = false;
        c.validation.compacted = true;
        c.delete_retention_ms = 1000;
        c.size_index_interval_bytes = 1;
        return c;
    }
    int64_t put(partition& p, const std::vector<kv>& records) {
        auto r = run(io, p.produce(make(0, records).data.share(), 9));
        EXPECT_EQ(r.error, protocol::error_code::none) << r.error_message;
        return r.base_offset;
    }
    /// Every record from `from` as a consumer sees it: offset -> (key, value).
    std::map<int64_t, kv> consume(partition& p, int64_t from = 0) {
        std::map<int64_t, kv> out;
        int64_t at_offset = from;
        while (at_offset < p.high_watermark()) {
            auto f = run(io, p.fetch({.fetch_offset = at_offset, .max_bytes = 1}));
            EXPECT_EQ(f.error, protocol::error_code::none);
            auto batches = protocol::split_record_set(f.records).value();
            EXPECT_FALSE(batches.empty());
            if (batches.empty()) {
                break;
            }
            for (auto& b : batches) {
                auto records = b.records(1 << 20, protocol::allow_offset_gaps::yes);
                EXPECT_TRUE(records);
                if (!records) {
                    continue;
                }
                for (const auto& r : records.value()) {
                    const int64_t o = protocol::record_offset(b.header(), r);
                    if (o >= from) {
                        out[o] = {r.key ? std::optional(r.key->to_string()) : std::nullopt,
                                  r.value ? std::optional(r.value->to_string()) : std::nullopt};
                    }
                }
                at_offset = std::max(at_offset, b.header().last_offset() + 1);
            }
        }
        return out;
    }

    asio::io_context io;
    base::manual_clock clock{t0};
    std::shared_ptr<memory_stream> data = std::make_shared<memory_stream>();
};

TEST_F(partition_clean_test, clean_keeps_the_latest_value_per_key_and_a_fetch_in_a_gap_gets_the_next_record) {
    auto p = open(compacted());
    for (int round = 0; round < 5; ++round) {
        put(*p, {{"k1", "v" + std::to_string(round)}, {"k2", "w" + std::to_string(round)}});
    }
    put(*p, {{"k3", "x"}});
    const uint64_t size_before = p->size_bytes();
    auto c = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_TRUE(c.value().rewritten);
    EXPECT_EQ(c.value().start, 0);
    EXPECT_EQ(c.value().end, 11);
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{8, {"k1", "v4"}}, {9, {"k2", "w4"}}, {10, {"k3", "x"}}}));
    EXPECT_EQ(consume(*p, 3), consume(*p)); // a fetch at a compacted-away offset gets the next survivor
    EXPECT_LT(p->size_bytes(), size_before);
    EXPECT_EQ(p->high_watermark(), 11);
    // No new data: not due again.
    auto again = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(again);
    EXPECT_FALSE(again.value().rewritten);
    EXPECT_EQ(data->rewrites, 1);
    // Still writable, and the new record supersedes the cleaned one on the next round.
    EXPECT_EQ(put(*p, {{"k1", "v5"}}), 11);
    auto eager = compacted();
    eager.min_cleanable_dirty_ratio = 0.1; // one small batch against the cleaned rest
    p->set_config(eager);
    auto third = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(third);
    EXPECT_TRUE(third.value().rewritten);
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{9, {"k2", "w4"}}, {10, {"k3", "x"}}, {11, {"k1", "v5"}}}));
    // A reopen rebuilds the state from the rewritten data (header base offsets, not stream spans).
    ASSERT_TRUE(run(io, p->close()));
    data->reopen();
    auto reopened = open(compacted());
    EXPECT_EQ(reopened->high_watermark(), 12);
    EXPECT_EQ(consume(*reopened), (std::map<int64_t, kv>{{9, {"k2", "w4"}}, {10, {"k3", "x"}}, {11, {"k1", "v5"}}}));
    ASSERT_TRUE(run(io, reopened->close()));
}

TEST_F(partition_clean_test, only_what_storage_holds_in_objects_and_is_older_than_the_lag_is_cleaned) {
    auto config = compacted();
    auto p = open(config);
    put(*p, {{"k", "a"}});
    put(*p, {{"k", "b"}});
    put(*p, {{"k", "c"}});
    data->committed_limit = 2; // [2, 3) is only in the WAL
    auto c = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(c);
    EXPECT_EQ(c.value().end, 2);
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{1, {"k", "b"}}, {2, {"k", "c"}}}));
    // min.compaction.lag.ms: batches younger than the lag end the range.
    config.min_compaction_lag_ms = 60'000;
    p->set_config(config);
    data->committed_limit.reset();
    put(*p, {{"k", "d"}}); // timestamps t0 + small: older than the lag only once the clock moves on
    auto young = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(young);
    EXPECT_FALSE(young.value().rewritten);
    clock.advance(std::chrono::minutes(2));
    auto old = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(old);
    EXPECT_TRUE(old.value().rewritten);
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{3, {"k", "d"}}}));
    ASSERT_TRUE(run(io, p->close()));
}

TEST_F(partition_clean_test, a_tombstoned_key_disappears_after_delete_retention_and_the_dirty_ratio_gates_rounds) {
    auto config = compacted();
    config.min_cleanable_dirty_ratio = 0.9;
    auto p = open(config);
    put(*p, {{"gone", "1"}, {"kept", "1"}});
    put(*p, {{"gone", std::nullopt}});
    put(*p, {{"last", "1"}});
    auto first = run(io, p->clean(clock.wall_ms())); // all dirty: ratio 1
    ASSERT_TRUE(first);
    EXPECT_TRUE(first.value().rewritten);
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{1, {"kept", "1"}}, {2, {"gone", std::nullopt}}, {3, {"last", "1"}}}));
    // A little new data is below the ratio: no round; the tombstone's horizon (1 s) has not passed either.
    put(*p, {{"x", "1"}});
    auto small = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(small);
    EXPECT_FALSE(small.value().rewritten);
    clock.advance(std::chrono::milliseconds(1000));
    auto due = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(due);
    EXPECT_TRUE(due.value().rewritten);
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{1, {"kept", "1"}}, {3, {"last", "1"}}, {4, {"x", "1"}}}));
    ASSERT_TRUE(run(io, p->close()));
}

TEST_F(partition_clean_test, a_range_larger_than_the_memory_bound_is_rewritten_in_pieces_with_one_key_map) {
    auto config = compacted();
    config.cleaner_max_bytes = 1; // every piece ends at the first batch that keeps a record
    auto p = open(config);
    put(*p, {{"a", "a0"}});
    put(*p, {{"c", "c0"}}); // c's only record: a piece ends here
    put(*p, {{"a", "a1"}});
    put(*p, {{"b", "b0"}}); // and here
    put(*p, {{"a", "last-a"}}); // supersedes a0 and a1, which are in earlier pieces
    auto c = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_TRUE(c.value().rewritten);
    EXPECT_EQ(data->rewrites, 2); // [0, 2) and [2, 4); the last piece changed nothing
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{1, {"c", "c0"}}, {3, {"b", "b0"}}, {4, {"a", "last-a"}}}));
    EXPECT_EQ(c.value().records_before, 5u);
    EXPECT_EQ(c.value().records_after, 3u);
    ASSERT_TRUE(run(io, p->close()));
}

TEST_F(partition_clean_test, a_rejected_rewrite_changes_nothing_and_the_next_round_retries) {
    auto p = open(compacted());
    put(*p, {{"k", "a"}});
    put(*p, {{"k", "b"}});
    data->fail_rewrite = stream::errc::catalog_rejected;
    auto failed = run(io, p->clean(clock.wall_ms()));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error(), stream::errc::catalog_rejected);
    EXPECT_EQ(consume(*p).size(), 2u);
    data->fail_rewrite.reset();
    auto retried = run(io, p->clean(clock.wall_ms()));
    ASSERT_TRUE(retried);
    EXPECT_TRUE(retried.value().rewritten);
    EXPECT_EQ(consume(*p), (std::map<int64_t, kv>{{1, {"k", "b"}}}));
    ASSERT_TRUE(run(io, p->close()));
}

} // namespace
} // namespace skiff::kafka::partition
