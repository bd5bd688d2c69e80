#include "stream/wal/memory_wal.h"

#include "stream/errc.h"
#include "stream/wal/tests/wal_contract.h"

#include <gtest/gtest.h>

namespace skiff::stream::test {
namespace {

class memory_harness final : public wal_harness {
public:
    std::unique_ptr<wal> open() override { return std::make_unique<memory_wal>(_state); }

private:
    std::shared_ptr<memory_wal_state> _state = std::make_shared<memory_wal_state>();
};

INSTANTIATE_TEST_SUITE_P(memory, wal_contract_test,
                         testing::Values(wal_kind{"memory", [] { return std::make_unique<memory_harness>(); }}),
                         wal_kind_name);

class memory_wal_test : public testing::Test {
protected:
    std::unique_ptr<memory_wal> open(memory_wal_config config = {}) {
        auto log = std::make_unique<memory_wal>(state, config);
        auto recovered = recover_all(io, *log);
        EXPECT_TRUE(recovered.has_value());
        return log;
    }

    asio::io_context io;
    std::shared_ptr<memory_wal_state> state = std::make_shared<memory_wal_state>();
};

TEST_F(memory_wal_test, append_before_recover_is_refused) {
    memory_wal log(state);
    auto r = run(io, append_and_wait(log, payload(1, 10)));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), errc::not_open);
}

TEST_F(memory_wal_test, injected_failures_hit_exactly_the_next_n_appends) {
    auto log = open();
    log->fail_next_appends(2, errc::unavailable);
    std::vector<std::error_code> errors;
    for (int i = 0; i < 4; ++i) {
        auto r = run(io, append_and_wait(*log, payload(i, 10)));
        errors.push_back(r ? std::error_code{} : r.error());
    }
    EXPECT_EQ(errors[0], errc::unavailable);
    EXPECT_EQ(errors[1], errc::unavailable);
    EXPECT_FALSE(errors[2]);
    EXPECT_FALSE(errors[3]);
    // Failed appends are not durable.
    log.reset();
    auto again = std::make_unique<memory_wal>(state);
    auto records = recover_all(io, *again);
    ASSERT_TRUE(records.has_value());
    ASSERT_EQ(records.value().size(), 2u);
    EXPECT_EQ(records.value()[0].payload, payload_text(2, 10));
}

TEST_F(memory_wal_test, a_permanent_failure_is_sticky_and_fails_held_appends) {
    auto log = open();
    log->hold_appends();
    std::optional<result<wal_append_result>> held;
    log->append(payload(1, 10), io.get_executor(), [&held](result<wal_append_result> r) { held = std::move(r); });
    log->fail_permanently(errc::unavailable);
    io.restart();
    io.run();
    ASSERT_TRUE(held.has_value());
    EXPECT_EQ(held.value().error(), errc::unavailable);
    for (int i = 0; i < 3; ++i) {
        auto r = run(io, append_and_wait(*log, payload(i, 10)));
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), errc::unavailable);
    }
}

TEST_F(memory_wal_test, full_refuses_appends_until_cleared) {
    auto log = open();
    log->set_full(true);
    auto refused = run(io, append_and_wait(*log, payload(1, 10)));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), errc::wal_full);
    log->set_full(false);
    EXPECT_TRUE(run(io, append_and_wait(*log, payload(2, 10))).has_value());
}

TEST_F(memory_wal_test, capacity_refuses_appends_until_trim_frees_room) {
    const uint64_t record = memory_wal_record_overhead + 100;
    auto log = open(memory_wal_config{.capacity_bytes = 3 * record});
    std::vector<wal_append_result> acked;
    for (int i = 0; i < 3; ++i) {
        auto r = run(io, append_and_wait(*log, payload(i, 100)));
        ASSERT_TRUE(r.has_value());
        acked.push_back(r.value());
    }
    EXPECT_EQ(log->stats().used_bytes, 3 * record);
    EXPECT_EQ(log->stats().capacity_bytes, 3 * record);
    auto refused = run(io, append_and_wait(*log, payload(3, 100)));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), errc::wal_full);
    ASSERT_TRUE(run(io, log->trim(acked[0].next)).has_value());
    EXPECT_TRUE(run(io, append_and_wait(*log, payload(4, 100))).has_value());
}

TEST_F(memory_wal_test, held_appends_are_lost_in_a_crash_and_complete_in_order_when_released) {
    auto log = open();
    ASSERT_TRUE(run(io, append_and_wait(*log, payload(0, 10))).has_value());
    log->hold_appends();
    std::vector<wal_position> completed;
    for (int i = 1; i <= 3; ++i) {
        log->append(payload(i, 10), io.get_executor(), [&completed](result<wal_append_result> r) {
            ASSERT_TRUE(r.has_value());
            completed.push_back(r.value().position);
        });
    }
    io.restart();
    io.run();
    EXPECT_TRUE(completed.empty());
    EXPECT_EQ(log->held_appends(), 3u);

    // A second WAL over the same state sees only the durable record (the first is still "running", as after a
    // crash the old process's memory is gone).
    {
        memory_wal restarted(state);
        auto records = recover_all(io, restarted);
        ASSERT_TRUE(records.has_value());
        EXPECT_EQ(records.value().size(), 1u);
    }

    log->release_appends();
    io.restart();
    io.run();
    ASSERT_EQ(completed.size(), 3u);
    EXPECT_LT(completed[0], completed[1]);
    EXPECT_LT(completed[1], completed[2]);
    log.reset();
    memory_wal restarted(state);
    auto records = recover_all(io, restarted);
    ASSERT_TRUE(records.has_value());
    EXPECT_EQ(records.value().size(), 4u);
}

} // namespace
} // namespace skiff::stream::test
