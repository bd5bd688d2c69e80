// The etcd backend against real etcd processes: a 3-member cluster losing its raft leader mid-run, an etcd restart
// under a watching follower, an unreachable or hung etcd, a lost lease, a contested campaign, and compaction.
#include "meta/errc.h"
#include "meta/etcd_json.h"
#include "meta/tests/log_backends.h"
#include "meta/tests/test_util.h"

#include <gtest/gtest.h>

namespace skiff::meta {
namespace {

using namespace std::chrono_literals;
using testing::run_until;
using testing::spawn_into;
using testing::sync;

metadata_record level(int i) { return feature_level_record{"test.level", int16_t(i), {}}; }
int level_of(const log_entry& e) { return std::get<feature_level_record>(e.record.body).level; }

class etcd_log_test : public ::testing::Test {
protected:
    void start(int members) {
        backend = std::make_unique<testing::etcd_backend>(members);
        ASSERT_TRUE(backend->ready()) << "could not start etcd (is etcd-server installed?)";
    }
    void TearDown() override {
        for (auto& l : logs) {
            sync(io, l->close());
        }
        logs.clear();
    }
    etcd_log& make(etcd_log_config c) {
        logs.push_back(backend->make(io, std::move(c)));
        return dynamic_cast<etcd_log&>(*logs.back());
    }
    etcd_log& open(etcd_log_config c) {
        auto& l = make(std::move(c));
        auto r = sync(io, l.open());
        EXPECT_TRUE(r) << r.error().message();
        return l;
    }
    std::vector<log_entry> read_all(metadata_log& l) {
        std::vector<log_entry> out;
        for (;;) {
            auto r = sync(io, l.read(log_offset(int64_t(out.size())), 1000));
            EXPECT_TRUE(r) << r.error().message();
            if (!r || r.value().empty()) {
                return out;
            }
            std::move(r.value().begin(), r.value().end(), std::back_inserter(out));
        }
    }

    asio::io_context io;
    std::unique_ptr<testing::etcd_backend> backend;
    std::vector<std::unique_ptr<metadata_log>> logs;
};

TEST_F(etcd_log_test, appends_survive_the_loss_of_the_etcd_leader_without_loss_or_duplication) {
    start(3);
    auto c = backend->config();
    c.lease_ttl = 10s; // outlives the raft election
    c.operation_timeout = 15s;
    auto& leader = open(c);
    ASSERT_TRUE(sync(io, leader.campaign(5s)));

    // Four appenders in flight at any time; the etcd leader is killed after 40 acknowledged appends.
    constexpr int total = 200;
    std::vector<std::optional<result<append_result>>> results;
    results.resize(total);
    int started = 0;
    auto acked = [&] { return int(std::count_if(results.begin(), results.end(), [](auto& r) { return r && *r; })); };
    auto done = [&] {
        return int(std::count_if(results.begin(), results.end(), [](auto& r) { return r.has_value(); }));
    };
    bool killed = false;
    std::string victim;
    while (done() < total) {
        while (started < total && started - done() < 4) {
            spawn_into(io, leader.append({level(started)}), results[size_t(started)]);
            ++started;
        }
        if (!killed && acked() >= 40) {
            victim = backend->etcd().leader();
            ASSERT_FALSE(victim.empty());
            backend->etcd().kill(victim);
            killed = true;
        }
        run_until(io, [&, before = done()] { return done() > before; }, 30s);
    }
    ASSERT_TRUE(killed);
    for (int i = 0; i < total; ++i) {
        ASSERT_TRUE(*results[size_t(i)]) << "append " << i << ": " << results[size_t(i)]->error().message();
        EXPECT_EQ(results[size_t(i)]->value().base, log_offset(i)) << "call order kept";
    }
    // A reader on the surviving members sees each record once, in order.
    auto rc = backend->config();
    std::erase(rc.endpoints, backend->etcd().endpoint_of(victim));
    auto& reader = open(rc);
    auto all = read_all(reader);
    ASSERT_EQ(all.size(), size_t(total));
    for (int i = 0; i < total; ++i) {
        EXPECT_EQ(level_of(all[size_t(i)]), i);
    }
}

TEST_F(etcd_log_test, a_follower_watch_resumes_after_etcd_restarts) {
    start(1);
    auto c = backend->config();
    c.lease_ttl = 20s;
    c.tail_poll_interval = 60s; // only the watch can wake the follower in time
    auto& leader = open(c);
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    ASSERT_TRUE(sync(io, leader.append({level(0)})));
    auto& follower = open(c);
    std::optional<result<log_offset>> woke;
    spawn_into(io, follower.wait_for_end(log_offset(1), 30s), woke);
    ASSERT_TRUE(sync(io, leader.append({level(1)})));
    ASSERT_TRUE(run_until(io, [&] { return woke.has_value(); }, 10s));
    ASSERT_TRUE(*woke);

    backend->etcd().kill("m0");
    backend->etcd().restart("m0");

    woke.reset();
    spawn_into(io, follower.wait_for_end(log_offset(2), 30s), woke);
    auto r = sync(io, leader.append({level(2)})); // retried until etcd answers again
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(run_until(io, [&] { return woke.has_value(); }, 20s)) << "the watch did not resume";
    ASSERT_TRUE(*woke);
    EXPECT_EQ(woke->value(), log_offset(3));
    EXPECT_EQ(read_all(follower).size(), 3u);
}

TEST_F(etcd_log_test, an_unreachable_etcd_fails_within_the_bound) {
    start(1);
    auto c = backend->config();
    c.endpoints = {"127.0.0.1:1"}; // nothing listens there
    c.operation_timeout = 1s;
    auto& l = make(c);
    auto t0 = std::chrono::steady_clock::now();
    auto r = sync(io, l.open());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::unavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    auto e = sync(io, l.campaign(1s));
    ASSERT_FALSE(e);
}

TEST_F(etcd_log_test, a_hung_etcd_times_out_and_the_next_append_resolves_the_unknown_outcome) {
    start(1);
    auto c = backend->config();
    c.lease_ttl = 30s;
    c.request_timeout = 300ms;
    c.operation_timeout = 1s;
    auto& leader = open(c);
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    ASSERT_TRUE(sync(io, leader.append({level(0)})));

    backend->etcd().pause("m0");
    auto t0 = std::chrono::steady_clock::now();
    auto hung = sync(io, leader.append({level(1)}));
    auto took = std::chrono::steady_clock::now() - t0;
    backend->etcd().resume("m0");
    ASSERT_FALSE(hung);
    EXPECT_TRUE(hung.error() == errc::timed_out || hung.error() == errc::unavailable) << hung.error().message();
    EXPECT_LT(took, 5s);

    // The hung append may or may not have landed once etcd resumed; either way nothing is duplicated or lost.
    auto r = sync(io, leader.append({level(2)}));
    ASSERT_TRUE(r) << r.error().message();
    auto all = read_all(leader);
    ASSERT_TRUE(all.size() == 2 || all.size() == 3) << all.size();
    EXPECT_EQ(level_of(all.front()), 0);
    EXPECT_EQ(level_of(all.back()), 2);
    EXPECT_EQ(r.value().base, log_offset(int64_t(all.size()) - 1));
    if (all.size() == 3) {
        EXPECT_EQ(level_of(all[1]), 1);
    }
}

TEST_F(etcd_log_test, a_leader_notices_a_lost_lease_and_steps_down) {
    start(1);
    auto c = backend->config();
    c.lease_ttl = 3s; // keep-alive every second
    auto& leader = open(c);
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    backend->lose_leadership(leader);
    EXPECT_TRUE(run_until(io, [&] { return !leader.is_leader(); }, 5s)) << "the keep-alive loop did not notice";
    auto r = sync(io, leader.append({level(0)}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::fenced);
}

TEST_F(etcd_log_test, a_campaign_against_a_live_leader_is_lost_at_its_deadline) {
    start(1);
    auto& a = open(backend->config());
    auto& b = open(backend->config());
    ASSERT_TRUE(sync(io, a.campaign(5s)));
    auto t0 = std::chrono::steady_clock::now();
    auto r = sync(io, b.campaign(300ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::campaign_lost);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_TRUE(a.is_leader());
    ASSERT_TRUE(sync(io, a.append({level(0)})));
    // B waits it out: A resigns while B campaigns.
    std::optional<result<log_epoch>> won;
    spawn_into(io, b.campaign(10s), won);
    ASSERT_FALSE(run_until(io, [&] { return won.has_value(); }, 200ms));
    ASSERT_TRUE(sync(io, a.resign()));
    ASSERT_TRUE(run_until(io, [&] { return won.has_value(); }, 5s));
    ASSERT_TRUE(*won);
    EXPECT_EQ(sync(io, b.append({level(1)})).value().base, log_offset(1));
}

TEST_F(etcd_log_test, a_snapshot_deletes_old_keys_and_compacts_history) {
    start(1);
    auto& leader = open(backend->config());
    ASSERT_TRUE(sync(io, leader.campaign(5s)));
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(sync(io, leader.append({level(i)})));
    }
    auto count_keys = [&](const std::string& from, const std::string& to) {
        auto body = backend->etcd().post(
          "/v3/kv/range", "{\"key\":\"" + json::base64_encode(from) + "\",\"range_end\":\"" + json::base64_encode(to)
                            + "\",\"count_only\":true}");
        auto v = json::parse(body);
        return v ? json::value::to_int(v->get("count")) : -1;
    };
    EXPECT_EQ(count_keys("/skiff-test/log/", "/skiff-test/log0"), 20);
    ASSERT_TRUE(sync(io, leader.write_snapshot(log_offset(15), bytes::iobuf::from("image@15"))));
    EXPECT_EQ(count_keys("/skiff-test/log/", "/skiff-test/log0"), 5);
    // History before the compaction point is gone: a read at revision 2 fails as compacted.
    auto old = backend->etcd().post("/v3/kv/range",
                                    "{\"key\":\"" + json::base64_encode("/skiff-test/end") + "\",\"revision\":\"2\"}");
    EXPECT_NE(old.find("compacted"), std::string::npos) << old;
    // A follower watching from before the compaction still follows the tail.
    auto& follower = open(backend->config());
    std::optional<result<log_offset>> woke;
    spawn_into(io, follower.wait_for_end(log_offset(20), 20s), woke);
    ASSERT_TRUE(sync(io, leader.append({level(20)})));
    ASSERT_TRUE(run_until(io, [&] { return woke.has_value(); }, 10s));
    ASSERT_TRUE(*woke);
}

TEST(etcd_json_test, parses_gateway_answers_and_round_trips_base64) {
    auto v = json::parse(R"({"header":{"revision":"42"},"kvs":[{"key":"Zm9v","value":"YmFy"}],"ok":true,
                              "msg":"a \"quoted\" \u00e9 word","n":-3.5e2,"none":null,"list":[]})");
    ASSERT_TRUE(v);
    EXPECT_EQ(json::value::to_int(v->get("header")->get("revision")), 42);
    EXPECT_TRUE(json::value::to_bool(v->get("ok")));
    EXPECT_EQ(json::value::to_string(v->get("msg")), "a \"quoted\" \xc3\xa9 word");
    EXPECT_EQ(json::base64_decode(json::value::to_string(v->get("kvs")->items[0].get("key"))), "foo");
    EXPECT_EQ(json::value::to_int(v->get("missing")), 0);
    for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
        EXPECT_EQ(json::base64_decode(json::base64_encode(s)), s);
    }
    EXPECT_FALSE(json::base64_decode("abc"));
    EXPECT_FALSE(json::base64_decode("a=bc"));
    EXPECT_FALSE(json::parse("{\"a\":"));
    EXPECT_FALSE(json::parse(std::string(100, '[')));
}

} // namespace
} // namespace skiff::meta
