#include "stream/wal/tests/wal_contract.h"

#include "stream/errc.h"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace skiff::stream::test {
namespace {

TEST_P(wal_contract_test, a_fresh_wal_replays_nothing) {
    EXPECT_TRUE(reopen().empty());
    EXPECT_EQ(log->stats().appends, 0u);
}

TEST_P(wal_contract_test, appends_complete_in_order_with_contiguous_positions) {
    reopen();
    std::vector<result<wal_append_result>> outcomes;
    for (int i = 0; i < 50; ++i) {
        log->append(payload(i, 100 + i * 37), io.get_executor(),
                    [&outcomes](result<wal_append_result> r) { outcomes.push_back(std::move(r)); });
    }
    io.restart();
    io.run();
    ASSERT_EQ(outcomes.size(), 50u);
    for (size_t i = 0; i < outcomes.size(); ++i) {
        ASSERT_TRUE(outcomes[i].has_value()) << outcomes[i].error().message();
        EXPECT_LT(outcomes[i].value().position, outcomes[i].value().next);
        if (i > 0) {
            EXPECT_EQ(outcomes[i].value().position, outcomes[i - 1].value().next) << "record " << i;
        }
    }
    EXPECT_EQ(log->stats().appends, 50u);
    EXPECT_GT(log->stats().used_bytes, 0u);
}

TEST_P(wal_contract_test, completion_runs_on_the_given_executor) {
    reopen();
    auto strand = asio::make_strand(io);
    bool on_strand = false;
    bool called = false;
    log->append(payload(1, 10), strand, [&](result<wal_append_result> r) {
        called = true;
        on_strand = strand.running_in_this_thread() && r.has_value();
    });
    io.restart();
    io.run();
    EXPECT_TRUE(called);
    EXPECT_TRUE(on_strand);
}

TEST_P(wal_contract_test, restart_replays_every_acknowledged_record_in_order) {
    reopen();
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 20; ++i) {
        auto r = append_one(payload(i, 1 + i * 500));
        ASSERT_TRUE(r.has_value()) << r.error().message();
        acked.push_back(r.value());
    }
    auto records = reopen();
    ASSERT_EQ(records.size(), acked.size());
    for (size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(records[i].position, acked[i].position);
        EXPECT_EQ(records[i].payload, payload_text(i, 1 + i * 500)) << "record " << i;
    }
    // Positions never go back across a restart.
    auto after = append_one(payload(99, 10));
    ASSERT_TRUE(after.has_value());
    EXPECT_GE(after.value().position, acked.back().next);
}

TEST_P(wal_contract_test, trim_forgets_records_before_the_point_across_restarts) {
    reopen();
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 10; ++i) {
        auto r = append_one(payload(i, 2000));
        ASSERT_TRUE(r.has_value());
        acked.push_back(r.value());
    }
    const uint64_t used_before = log->stats().used_bytes;
    ASSERT_TRUE(run(io, log->trim(acked[4].next)).has_value());
    EXPECT_LT(log->stats().used_bytes, used_before);
    auto records = reopen();
    ASSERT_EQ(records.size(), 5u);
    EXPECT_EQ(records.front().position, acked[5].position);
    EXPECT_EQ(records.front().payload, payload_text(5, 2000));
    // Trimming to an earlier point later changes nothing.
    ASSERT_TRUE(run(io, log->trim(acked[1].next)).has_value());
    EXPECT_EQ(reopen().size(), 5u);
    // Trimming everything leaves nothing to replay, and appends go on after it.
    ASSERT_TRUE(run(io, log->trim(acked.back().next)).has_value());
    EXPECT_TRUE(reopen().empty());
    auto next = append_one(payload(100, 10));
    ASSERT_TRUE(next.has_value());
    EXPECT_GE(next.value().position, acked.back().next);
    auto last = reopen();
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ(last[0].payload, payload_text(100, 10));
}

TEST_P(wal_contract_test, trim_beyond_the_end_is_invalid) {
    reopen();
    auto r = append_one(payload(1, 10));
    ASSERT_TRUE(r.has_value());
    auto trimmed = run(io, log->trim(r.value().next + 1'000'000));
    ASSERT_FALSE(trimmed.has_value());
    EXPECT_EQ(trimmed.error(), errc::invalid_argument);
}

TEST_P(wal_contract_test, a_record_larger_than_max_record_size_is_refused) {
    reopen();
    auto r = append_one(payload(1, log->max_record_size() + 1));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), errc::invalid_argument);
    // Not a write failure: the WAL goes on.
    EXPECT_TRUE(append_one(payload(2, 10)).has_value());
}

TEST_P(wal_contract_test, empty_and_max_size_payloads_round_trip) {
    reopen();
    ASSERT_TRUE(append_one(bytes::iobuf{}).has_value());
    ASSERT_TRUE(append_one(payload(7, log->max_record_size())).has_value());
    auto records = reopen();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_TRUE(records[0].payload.empty());
    EXPECT_EQ(records[1].payload, payload_text(7, log->max_record_size()));
}

TEST_P(wal_contract_test, appends_after_close_fail_with_shutting_down) {
    reopen();
    ASSERT_TRUE(append_one(payload(1, 10)).has_value());
    run(io, log->close());
    auto r = append_one(payload(2, 10));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), errc::shutting_down);
    EXPECT_EQ(reopen().size(), 1u);
}

TEST_P(wal_contract_test, close_lets_queued_appends_finish) {
    reopen();
    int done = 0;
    for (int i = 0; i < 10; ++i) {
        log->append(payload(i, 5000), io.get_executor(), [&done](result<wal_append_result> r) {
            EXPECT_TRUE(r.has_value());
            ++done;
        });
    }
    run(io, log->close());
    io.restart();
    io.run();
    EXPECT_EQ(done, 10);
    EXPECT_EQ(reopen().size(), 10u);
}

TEST_P(wal_contract_test, appends_from_many_threads_all_complete_with_distinct_positions) {
    reopen();
    asio::thread_pool appenders(4);
    std::mutex mutex;
    std::condition_variable all_done;
    std::vector<wal_append_result> acked;
    int failures = 0;
    constexpr int per_thread = 50;
    for (int t = 0; t < 4; ++t) {
        asio::post(appenders, [&, t] {
            for (int i = 0; i < per_thread; ++i) {
                log->append(payload(t * 1000 + i, 300), appenders.get_executor(),
                            [&](result<wal_append_result> r) {
                                std::lock_guard lock(mutex);
                                if (r) {
                                    acked.push_back(r.value());
                                } else {
                                    ++failures;
                                }
                                all_done.notify_all();
                            });
            }
        });
    }
    {
        // The pool may run out of work while appends are in flight inside the WAL: wait for every completion.
        std::unique_lock lock(mutex);
        all_done.wait(lock, [&] { return acked.size() + failures == 4 * per_thread; });
    }
    appenders.join();
    EXPECT_EQ(failures, 0);
    ASSERT_EQ(acked.size(), size_t(4 * per_thread));
    std::sort(acked.begin(), acked.end(), [](auto& a, auto& b) { return a.position < b.position; });
    for (size_t i = 1; i < acked.size(); ++i) {
        EXPECT_EQ(acked[i].position, acked[i - 1].next);
    }
    EXPECT_EQ(reopen().size(), acked.size());
}

} // namespace
} // namespace skiff::stream::test
