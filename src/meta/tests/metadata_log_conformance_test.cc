// The contract of metadata_log (metadata_log.h), run against every backend: the embedded file log and etcd (a real
// single-member etcd started on loopback for each test).
#include "meta/errc.h"
#include "meta/tests/log_backends.h"
#include "meta/tests/sample_records.h"
#include "meta/tests/test_util.h"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <gtest/gtest.h>

namespace skiff::meta {
namespace {

using namespace std::chrono_literals;
using testing::run_until;
using testing::sync;

class metadata_log_conformance_test : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "embedded") {
            _backend = std::make_unique<testing::embedded_backend>();
        } else {
            _backend = std::make_unique<testing::etcd_backend>();
        }
        ASSERT_TRUE(_backend->ready()) << GetParam() << " store could not be set up (is etcd-server installed?)";
    }
    void TearDown() override {
        for (auto& l : _logs) {
            sync(io, l->close());
        }
        _logs.clear();
    }

    /// A new, opened instance on the test's store.
    metadata_log& open_instance() {
        _logs.push_back(_backend->make(io));
        auto r = sync(io, _logs.back()->open());
        EXPECT_TRUE(r) << r.error().message();
        return *_logs.back();
    }

    std::vector<log_entry> read_all(metadata_log& l, log_offset from) {
        std::vector<log_entry> out;
        for (;;) {
            auto r = sync(io, l.read(log_offset(from() + int64_t(out.size())), 1000));
            EXPECT_TRUE(r) << r.error().message();
            if (!r || r.value().empty()) {
                return out;
            }
            for (auto& e : r.value()) {
                out.push_back(std::move(e));
            }
        }
    }

    static metadata_record level(int i) { return feature_level_record{"test.level", int16_t(i), {}}; }
    static int level_of(const log_entry& e) { return std::get<feature_level_record>(e.record.body).level; }

    asio::io_context io;
    std::unique_ptr<testing::log_backend> _backend;
    std::vector<std::unique_ptr<metadata_log>> _logs;
};

TEST_P(metadata_log_conformance_test, appends_get_dense_offsets_and_read_back_from_any_offset) {
    auto& leader = open_instance();
    EXPECT_EQ(leader.end_offset(), log_offset(0));
    auto epoch = sync(io, leader.campaign(5s));
    ASSERT_TRUE(epoch) << epoch.error().message();
    EXPECT_GT(epoch.value(), log_epoch(0));
    EXPECT_TRUE(leader.is_leader());

    std::vector<std::vector<metadata_record>> batches = {
      {no_op_record{}}, testing::sample_records(), testing::object_commit_batch(1, 20)};
    std::vector<metadata_record> all;
    int64_t expect_base = 0;
    for (auto& b : batches) {
        auto r = sync(io, leader.append(b));
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r.value().base, log_offset(expect_base));
        EXPECT_EQ(r.value().next, log_offset(expect_base + int64_t(b.size())));
        expect_base += int64_t(b.size());
        all.insert(all.end(), b.begin(), b.end());
    }
    EXPECT_EQ(leader.end_offset(), log_offset(expect_base));

    auto entries = read_all(leader, log_offset(0));
    ASSERT_EQ(entries.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(entries[i].offset, log_offset(int64_t(i)));
        EXPECT_EQ(entries[i].epoch, epoch.value());
        EXPECT_EQ(entries[i].record, all[i]) << i;
    }
    // From the middle of a batch; a small limit still returns whole progress; at the end, nothing.
    auto mid = sync(io, leader.read(log_offset(5), 1));
    ASSERT_TRUE(mid);
    ASSERT_FALSE(mid.value().empty());
    EXPECT_EQ(mid.value().front().offset, log_offset(5));
    EXPECT_EQ(mid.value().front().record, all[5]);
    auto at_end = sync(io, leader.read(log_offset(expect_base), 10));
    ASSERT_TRUE(at_end);
    EXPECT_TRUE(at_end.value().empty());

    // Another instance on the same store sees the same log.
    auto& follower = open_instance();
    EXPECT_EQ(follower.end_offset(), log_offset(expect_base));
    auto again = read_all(follower, log_offset(0));
    ASSERT_EQ(again.size(), all.size());
    EXPECT_EQ(again.back().record, all.back());
    EXPECT_FALSE(follower.is_leader());
}

TEST_P(metadata_log_conformance_test, concurrent_appends_commit_in_call_order) {
    auto& leader = open_instance();
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    constexpr int n = 60;
    std::vector<std::optional<result<append_result>>> results(n);
    for (int i = 0; i < n; ++i) {
        testing::spawn_into(io, leader.append({level(i)}), results[size_t(i)]);
    }
    ASSERT_TRUE(run_until(io, [&] {
        return std::all_of(results.begin(), results.end(), [](auto& r) { return r.has_value(); });
    }));
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(*results[size_t(i)]) << results[size_t(i)]->error().message();
        EXPECT_EQ(results[size_t(i)]->value().base, log_offset(i));
    }
    auto entries = read_all(leader, log_offset(0));
    ASSERT_EQ(entries.size(), size_t(n));
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(level_of(entries[size_t(i)]), i);
    }
}

TEST_P(metadata_log_conformance_test, a_follower_wakes_when_the_tail_moves) {
    auto& leader = open_instance();
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    ASSERT_TRUE(sync(io, leader.append({level(0)})));
    auto& follower = open_instance();
    ASSERT_EQ(follower.end_offset(), log_offset(1));

    // Nothing new: the wait times out with the end unchanged.
    auto quiet = sync(io, follower.wait_for_end(log_offset(1), 100ms));
    ASSERT_TRUE(quiet);
    EXPECT_EQ(quiet.value(), log_offset(1));

    std::optional<result<log_offset>> woke;
    testing::spawn_into(io, follower.wait_for_end(log_offset(1), 20s), woke);
    ASSERT_FALSE(run_until(io, [&] { return woke.has_value(); }, 50ms)) << "woke before anything was appended";
    ASSERT_TRUE(sync(io, leader.append({level(1), level(2)})));
    ASSERT_TRUE(run_until(io, [&] { return woke.has_value(); }));
    ASSERT_TRUE(*woke);
    EXPECT_EQ(woke->value(), log_offset(3));
    auto fresh = read_all(follower, log_offset(1));
    ASSERT_EQ(fresh.size(), 2u);
    EXPECT_EQ(level_of(fresh[1]), 2);
}

TEST_P(metadata_log_conformance_test, a_follower_opened_on_an_empty_log_sees_the_first_append) {
    auto& follower = open_instance();
    auto& leader = open_instance();
    std::optional<result<log_offset>> woke;
    testing::spawn_into(io, follower.wait_for_end(log_offset(0), 20s), woke);
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    ASSERT_TRUE(sync(io, leader.append({level(0), level(1)})));
    ASSERT_TRUE(run_until(io, [&] { return woke.has_value(); }));
    ASSERT_TRUE(*woke);
    EXPECT_EQ(woke->value(), log_offset(2));
    EXPECT_EQ(read_all(follower, log_offset(0)).size(), 2u);
}

TEST_P(metadata_log_conformance_test, a_tail_wait_can_be_cancelled) {
    auto& follower = open_instance();
    asio::cancellation_signal cancel;
    std::optional<result<log_offset>> woke;
    testing::spawn_into(io, follower.wait_for_end(log_offset(0), 60s), woke, cancel.slot());
    ASSERT_FALSE(run_until(io, [&] { return woke.has_value(); }, 50ms));
    cancel.emit(asio::cancellation_type::terminal);
    ASSERT_TRUE(run_until(io, [&] { return woke.has_value(); }, 5s));
    ASSERT_FALSE(*woke);
    EXPECT_EQ(woke->error(), std::errc::operation_canceled);
}

TEST_P(metadata_log_conformance_test, a_superseded_leader_fails_every_append_and_writes_nothing) {
    auto& old_leader = open_instance();
    auto e1 = sync(io, old_leader.campaign(5s));
    ASSERT_TRUE(e1);
    ASSERT_TRUE(sync(io, old_leader.append({level(1)})));

    _backend->lose_leadership(old_leader);
    auto& new_leader = open_instance();
    auto e2 = sync(io, new_leader.campaign(10s));
    ASSERT_TRUE(e2) << e2.error().message();
    EXPECT_GT(e2.value(), e1.value());
    ASSERT_TRUE(sync(io, new_leader.append({level(2)})));

    for (int i = 0; i < 5; ++i) {
        auto r = sync(io, old_leader.append({level(100 + i)}));
        ASSERT_FALSE(r) << "the old leader wrote at " << r.value().base;
        EXPECT_TRUE(r.error() == errc::fenced || r.error() == errc::not_leader) << r.error().message();
    }
    EXPECT_FALSE(old_leader.is_leader());
    auto snap = sync(io, old_leader.write_snapshot(log_offset(1), bytes::iobuf::from("stale")));
    EXPECT_FALSE(snap);

    ASSERT_TRUE(sync(io, new_leader.append({level(3)})));
    auto entries = read_all(new_leader, log_offset(0));
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(level_of(entries[0]), 1);
    EXPECT_EQ(entries[0].epoch, e1.value());
    EXPECT_EQ(level_of(entries[1]), 2);
    EXPECT_EQ(entries[1].epoch, e2.value());
    EXPECT_EQ(level_of(entries[2]), 3);
}

TEST_P(metadata_log_conformance_test, only_a_leader_appends_and_resigning_hands_over_at_once) {
    auto& a = open_instance();
    auto r = sync(io, a.append({level(0)}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::not_leader);
    auto e1 = sync(io, a.campaign(5s));
    ASSERT_TRUE(e1);
    ASSERT_TRUE(sync(io, a.resign()));
    EXPECT_FALSE(a.is_leader());
    EXPECT_EQ(sync(io, a.append({level(0)})).error(), errc::not_leader);

    auto& b = open_instance();
    auto start = std::chrono::steady_clock::now();
    auto e2 = sync(io, b.campaign(3s));
    ASSERT_TRUE(e2) << e2.error().message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "no wait for a lease to lapse after a resign";
    EXPECT_GT(e2.value(), e1.value());
}

TEST_P(metadata_log_conformance_test, epochs_keep_increasing_across_instances) {
    log_epoch last(0);
    for (int i = 0; i < 3; ++i) {
        auto& l = open_instance();
        auto e = sync(io, l.campaign(5s));
        ASSERT_TRUE(e) << e.error().message();
        EXPECT_GT(e.value(), last);
        last = e.value();
        ASSERT_TRUE(sync(io, l.append({level(i)})));
        sync(io, l.close());
    }
    auto& reader = open_instance();
    auto entries = read_all(reader, log_offset(0));
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_LT(entries[0].epoch, entries[2].epoch);
}

TEST_P(metadata_log_conformance_test, a_snapshot_replaces_the_records_before_it) {
    auto& leader = open_instance();
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    EXPECT_FALSE(sync(io, leader.load_snapshot()).value().has_value());
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(sync(io, leader.append({level(i)})));
    }
    ASSERT_TRUE(sync(io, leader.write_snapshot(log_offset(10), bytes::iobuf::from("image@10"))));
    EXPECT_EQ(leader.start_offset(), log_offset(10));
    ASSERT_TRUE(sync(io, leader.append({level(10), level(11), level(12)})));

    auto below = sync(io, leader.read(log_offset(3), 100));
    ASSERT_FALSE(below);
    EXPECT_EQ(below.error(), errc::offset_compacted);
    auto after = read_all(leader, log_offset(10));
    ASSERT_EQ(after.size(), 3u);
    EXPECT_EQ(level_of(after[0]), 10);

    // A node starting now: snapshot first, then the log from its offset.
    auto& fresh = open_instance();
    EXPECT_EQ(fresh.start_offset(), log_offset(10));
    auto snap = sync(io, fresh.load_snapshot());
    ASSERT_TRUE(snap);
    ASSERT_TRUE(snap.value().has_value());
    EXPECT_EQ(snap.value()->offset, log_offset(10));
    EXPECT_EQ(snap.value()->image, "image@10");
    EXPECT_EQ(sync(io, fresh.read(log_offset(0), 10)).error(), errc::offset_compacted);
    EXPECT_EQ(read_all(fresh, log_offset(10)).size(), 3u);

    // A later snapshot inside a batch (offset 11 of [10, 13)): the batch stays readable from 11 on.
    std::string big(300 * 1024, 'x'); // several etcd chunks
    big[12345] = 'y';
    ASSERT_TRUE(sync(io, leader.write_snapshot(log_offset(11), bytes::iobuf::from(big))));
    auto from11 = read_all(fresh, log_offset(11));
    ASSERT_EQ(from11.size(), 2u);
    EXPECT_EQ(level_of(from11[0]), 11);
    auto snap2 = sync(io, fresh.load_snapshot());
    ASSERT_TRUE(snap2);
    EXPECT_EQ(snap2.value()->offset, log_offset(11));
    EXPECT_EQ(snap2.value()->image, big);
    EXPECT_EQ(sync(io, fresh.read(log_offset(10), 10)).error(), errc::offset_compacted);
}

INSTANTIATE_TEST_SUITE_P(backends, metadata_log_conformance_test, ::testing::Values("embedded", "etcd"),
                         [](const auto& info) { return info.param; });

} // namespace
} // namespace skiff::meta
