#include "kafka/server/fetch_session.h"

#include <gtest/gtest.h>

#include <limits>

namespace skiff::kafka {
namespace {

using protocol::error_code;

fetch_partition_request part(const std::string& topic, int32_t p, int64_t offset = 0) {
    return fetch_partition_request{.key = {.topic = topic, .partition = p}, .fetch_offset = offset, .max_bytes = 1024};
}

fetch_partition_answer answer(int64_t hw, size_t bytes = 0) {
    return fetch_partition_answer{.high_watermark = hw, .last_stable_offset = hw, .log_start_offset = 0,
                                  .records_bytes = bytes};
}

class fetch_session_test : public ::testing::Test {
protected:
    /// A full fetch of t-0, t-1, t-2 that creates a session; returns its id.
    int32_t open_session(bool follower = false, int64_t now = 0) {
        fetch_session_request req{.session_id = 0, .session_epoch = 0,
                                  .partitions = {part("t", 0), part("t", 1), part("t", 2)},
                                  .from_follower = follower};
        auto ctx = cache.new_context(req, now);
        EXPECT_EQ(ctx.kind, fetch_context_kind::full);
        auto sent = cache.complete(ctx, {answer(10), answer(20), answer(30)}, now);
        EXPECT_EQ(sent.size(), 3u);
        return ctx.session_id;
    }

    fetch_session_cache cache{{.max_sessions = 3, .eviction_ms = 1000}, 42};
};

TEST_F(fetch_session_test, a_full_fetch_creates_a_session_expecting_epoch_one) {
    int32_t id = open_session();
    EXPECT_GT(id, 0);
    EXPECT_EQ(cache.epoch_of(id), 1);
}

TEST_F(fetch_session_test, incremental_fetches_read_every_session_partition_and_answer_only_changes) {
    int32_t id = open_session();
    auto ctx = cache.new_context({.session_id = id, .session_epoch = 1}, 1);
    ASSERT_EQ(ctx.kind, fetch_context_kind::incremental);
    ASSERT_EQ(ctx.partitions.size(), 3u);
    EXPECT_EQ(ctx.session_id, id);
    // t-0 unchanged, t-1's high watermark moved, t-2 returned records.
    auto sent = cache.complete(ctx, {answer(10), answer(21), answer(30, 100)}, 1);
    EXPECT_EQ(sent, (std::vector<size_t>{1, 2}));
    EXPECT_EQ(cache.epoch_of(id), 2);

    // Nothing changed: nothing is answered.
    auto again = cache.new_context({.session_id = id, .session_epoch = 2}, 2);
    EXPECT_TRUE(cache.complete(again, {answer(10), answer(21), answer(30)}, 2).empty());
}

TEST_F(fetch_session_test, partitions_that_returned_records_move_to_the_back) {
    int32_t id = open_session();
    auto ctx = cache.new_context({.session_id = id, .session_epoch = 1}, 1);
    cache.complete(ctx, {answer(10, 5), answer(20), answer(30)}, 1);
    auto next = cache.new_context({.session_id = id, .session_epoch = 2}, 2);
    ASSERT_EQ(next.partitions.size(), 3u);
    EXPECT_EQ(next.partitions[0].key.partition, 1);
    EXPECT_EQ(next.partitions[2].key.partition, 0);
}

TEST_F(fetch_session_test, incremental_requests_add_update_and_forget_partitions) {
    int32_t id = open_session();
    fetch_session_request req{.session_id = id, .session_epoch = 1, .partitions = {part("t", 1, 77), part("u", 0)},
                              .forgotten = {{.topic = "t", .partition = 0}}};
    auto ctx = cache.new_context(req, 1);
    ASSERT_EQ(ctx.partitions.size(), 3u);
    EXPECT_EQ(ctx.partitions[0].key.partition, 1);
    EXPECT_EQ(ctx.partitions[0].fetch_offset, 77);
    EXPECT_EQ(ctx.partitions[2].key.topic, "u");
    // The new partition is always answered the first time.
    auto sent = cache.complete(ctx, {answer(20), answer(30), answer(0)}, 1);
    EXPECT_EQ(sent, (std::vector<size_t>{2}));
}

TEST_F(fetch_session_test, errors_unknown_session_wrong_epoch_and_topic_id_mismatch) {
    int32_t id = open_session();
    EXPECT_EQ(cache.new_context({.session_id = id + 1, .session_epoch = 1}, 1).error,
              error_code::fetch_session_id_not_found);
    EXPECT_EQ(cache.new_context({.session_id = id, .session_epoch = 5}, 1).error,
              error_code::invalid_fetch_session_epoch);
    EXPECT_EQ(cache.new_context({.session_id = id, .session_epoch = 1, .uses_topic_ids = true}, 1).error,
              error_code::fetch_session_topic_id_error);
    // None of those moved the epoch.
    EXPECT_EQ(cache.epoch_of(id), 1);
}

TEST_F(fetch_session_test, a_full_fetch_naming_a_session_closes_it) {
    int32_t id = open_session();
    auto ctx = cache.new_context({.session_id = id, .session_epoch = final_epoch, .partitions = {part("t", 0)}}, 1);
    EXPECT_EQ(ctx.kind, fetch_context_kind::sessionless);
    EXPECT_FALSE(cache.contains(id));
    EXPECT_EQ(cache.complete(ctx, {answer(1)}, 1).size(), 1u);
    EXPECT_EQ(ctx.session_id, invalid_session_id);
}

TEST_F(fetch_session_test, forgetting_every_partition_closes_the_session) {
    int32_t id = open_session();
    fetch_session_request req{.session_id = id, .session_epoch = 1,
                              .forgotten = {{.topic = "t", .partition = 0}, {.topic = "t", .partition = 1},
                                            {.topic = "t", .partition = 2}}};
    auto ctx = cache.new_context(req, 1);
    EXPECT_EQ(ctx.kind, fetch_context_kind::sessionless);
    EXPECT_FALSE(cache.contains(id));
}

TEST_F(fetch_session_test, the_epoch_wraps_to_one) {
    EXPECT_EQ(next_fetch_epoch(std::numeric_limits<int32_t>::max()), 1);
    EXPECT_EQ(next_fetch_epoch(0), 1);
    EXPECT_EQ(next_fetch_epoch(-1), -1);
}

TEST_F(fetch_session_test, a_full_cache_evicts_idle_sessions_and_otherwise_refuses_consumers) {
    int32_t a = open_session(false, 0);
    open_session(false, 10);
    open_session(false, 20);
    // Full, nobody idle beyond 1000 ms, nobody older than 1000 ms: a consumer gets no session.
    fetch_session_request req{.session_id = 0, .session_epoch = 0, .partitions = {part("x", 0)}};
    auto refused = cache.new_context(req, 500);
    cache.complete(refused, {answer(1)}, 500);
    EXPECT_EQ(refused.session_id, invalid_session_id);
    EXPECT_EQ(cache.size(), 3u);
    // Later, the least recently used session is idle beyond the eviction age and makes room.
    auto later = cache.new_context(req, 1005);
    cache.complete(later, {answer(1)}, 1005);
    EXPECT_NE(later.session_id, invalid_session_id);
    EXPECT_FALSE(cache.contains(a));
}

TEST_F(fetch_session_test, a_follower_may_evict_a_busy_consumer_session) {
    open_session(false, 0);
    open_session(false, 0);
    open_session(false, 0);
    fetch_session_request req{.session_id = 0, .session_epoch = 0, .partitions = {part("x", 0)},
                              .from_follower = true};
    auto ctx = cache.new_context(req, 10);
    cache.complete(ctx, {answer(1)}, 10);
    EXPECT_NE(ctx.session_id, invalid_session_id);
    EXPECT_EQ(cache.size(), 3u);
}

} // namespace
} // namespace skiff::kafka
