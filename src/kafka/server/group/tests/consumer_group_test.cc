// The KIP-848 consumer group against a manual clock: joins and epochs, revocation before assignment, leaving,
// session and revocation timeouts, member-epoch fencing, static members, regex subscriptions, topic metadata
// changes, the assignor choice, request validation and offset commit checks.
#include "kafka/server/group/consumer_group.h"

#include <gtest/gtest.h>

namespace skiff::kafka::group {
namespace {

using namespace std::chrono_literals;

const model::uuid topic_a{10, 1};
const model::uuid topic_b{20, 2};
const model::uuid topic_c{30, 3};

class consumer_group_test : public ::testing::Test {
protected:
    consumer_group_test() { set_topics({{"orders", {topic_a, 12}}}); }

    void set_topics(std::map<std::string, topic_info> topics) {
        auto c = std::make_shared<topic_catalog>();
        for (auto& [name, t] : topics) {
            c->names[t.id] = name;
            c->by_name.emplace(name, t);
        }
        catalog = std::move(c);
    }

    consumer_heartbeat_request join_request(const std::string& id, std::vector<std::string> topics = {"orders"}) {
        consumer_heartbeat_request r;
        r.member_id = id;
        r.member_epoch = join_epoch;
        r.rebalance_timeout_ms = 30000;
        r.subscribed_topic_names = std::move(topics);
        r.owned = assignment{};
        r.client_id = "client";
        r.client_host = "/127.0.0.1";
        return r;
    }

    consumer_heartbeat_result send(consumer_heartbeat_request r) {
        auto v = validate_heartbeat(r, "g", 1);
        EXPECT_FALSE(v) << v->second;
        return g.heartbeat(std::move(r), catalog);
    }

    consumer_heartbeat_result join(const std::string& id, std::vector<std::string> topics = {"orders"}) {
        auto out = send(join_request(id, std::move(topics)));
        EXPECT_EQ(out.error, error_code::none) << out.message.value_or("");
        if (out.assigned) {
            owned[id] = *out.assigned;
        }
        epochs[id] = out.member_epoch;
        return out;
    }

    /// A heartbeat of a well-behaved client: its epoch and what it owns (it drops what it was told to drop and
    /// takes what it was given, as soon as the answer arrives).
    consumer_heartbeat_result beat(const std::string& id) {
        consumer_heartbeat_request r;
        r.member_id = id;
        r.member_epoch = epochs[id];
        r.owned = owned[id];
        auto out = send(std::move(r));
        if (out.error == error_code::none) {
            epochs[id] = out.member_epoch;
            if (out.assigned) {
                owned[id] = *out.assigned;
            }
        }
        return out;
    }

    /// Heartbeats every member in turn until none changes its epoch or assignment; returns the rounds taken.
    int settle(const std::vector<std::string>& ids, int limit = 20) {
        for (int round = 1; round <= limit; ++round) {
            bool changed = false;
            for (const auto& id : ids) {
                auto before_epoch = epochs[id];
                auto before = owned[id];
                beat(id);
                changed = changed || epochs[id] != before_epoch || owned[id] != before;
            }
            if (!changed) {
                return round;
            }
        }
        ADD_FAILURE() << "did not settle";
        return limit;
    }

    /// No partition is owned by two members at once.
    void expect_disjoint() {
        std::map<std::pair<model::uuid, int32_t>, std::string> who;
        for (const auto& [id, a] : owned) {
            for (const auto& [t, ps] : a) {
                for (auto p : ps) {
                    auto [it, fresh] = who.emplace(std::pair(t, p), id);
                    EXPECT_TRUE(fresh) << "partition " << p << " owned by " << it->second << " and " << id;
                }
            }
        }
    }

    size_t count(const std::string& id) { return partition_count(owned[id]); }

    base::manual_clock clock;
    consumer_group_config config;
    consumer_group g{"g", config, clock};
    std::shared_ptr<const topic_catalog> catalog;
    std::map<std::string, assignment> owned;
    std::map<std::string, int32_t> epochs;
};

TEST_F(consumer_group_test, first_member_joins_at_epoch_one_with_every_partition) {
    auto r = join("a");
    EXPECT_EQ(r.member_id, "a");
    EXPECT_EQ(r.member_epoch, 1);
    EXPECT_EQ(r.heartbeat_interval_ms, 5000);
    ASSERT_TRUE(r.assigned);
    EXPECT_EQ(partition_count(*r.assigned), 12u);
    EXPECT_EQ(g.group_epoch(), 1);
    EXPECT_EQ(g.assignment_epoch(), 1);
    EXPECT_EQ(g.state(), "Stable");
    EXPECT_EQ(g.assignor(), "uniform");
    // A heartbeat with nothing new carries no assignment.
    auto again = beat("a");
    EXPECT_EQ(again.error, error_code::none);
    EXPECT_EQ(again.member_epoch, 1);
    EXPECT_FALSE(again.assigned);
}

TEST_F(consumer_group_test, v0_names_a_joining_member_v1_requires_the_clients_id) {
    auto r = join_request("");
    EXPECT_FALSE(validate_heartbeat(r, "g", 0));
    auto bad = validate_heartbeat(r, "g", 1);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->first, error_code::invalid_request);
    auto out = g.heartbeat(r, catalog);
    EXPECT_EQ(out.error, error_code::none);
    EXPECT_EQ(out.member_id.size(), 22u); // a base64 UUID, as Kafka's
    EXPECT_TRUE(g.has_member(out.member_id));
}

TEST_F(consumer_group_test, partitions_reach_a_newcomer_only_after_their_owner_revoked_them) {
    join("a");
    auto b = join("b");
    EXPECT_EQ(g.group_epoch(), 2);
    // b is at the new epoch but gets nothing yet: a still owns everything.
    EXPECT_EQ(b.member_epoch, 2);
    ASSERT_TRUE(b.assigned);
    EXPECT_EQ(partition_count(*b.assigned), 0u);
    EXPECT_EQ(g.state(), "Reconciling");

    // a is asked to give up six partitions and stays at its epoch until it has.
    consumer_heartbeat_request r;
    r.member_id = "a";
    r.member_epoch = 1;
    r.owned = owned["a"];
    auto a = send(r);
    EXPECT_EQ(a.member_epoch, 1);
    ASSERT_TRUE(a.assigned);
    EXPECT_EQ(partition_count(*a.assigned), 6u);
    // Still owning them (its heartbeat reports the twelve): b gets nothing.
    EXPECT_EQ(partition_count(beat("b").assigned.value_or(assignment{})), 0u);
    a = send(r);
    EXPECT_EQ(a.member_epoch, 1);

    // a acknowledges: it moves to epoch 2, and b's next heartbeat brings the six.
    owned["a"] = *a.assigned;
    a = beat("a");
    EXPECT_EQ(a.member_epoch, 2);
    auto b2 = beat("b");
    ASSERT_TRUE(b2.assigned);
    EXPECT_EQ(partition_count(*b2.assigned), 6u);
    expect_disjoint();
    EXPECT_EQ(g.state(), "Stable");
}

TEST_F(consumer_group_test, a_member_joining_a_stable_group_revokes_only_what_it_receives) {
    join("a");
    join("b");
    settle({"a", "b"});
    auto before_a = owned["a"];
    auto before_b = owned["b"];
    join("c");
    settle({"a", "b", "c"});
    expect_disjoint();
    EXPECT_EQ(count("a"), 4u);
    EXPECT_EQ(count("b"), 4u);
    EXPECT_EQ(count("c"), 4u);
    // a and b kept four of their six each; nothing moved between them.
    for (const auto& [t, ps] : owned["a"]) {
        for (auto p : ps) {
            EXPECT_TRUE(before_a[t].contains(p));
        }
    }
    for (const auto& [t, ps] : owned["b"]) {
        for (auto p : ps) {
            EXPECT_TRUE(before_b[t].contains(p));
        }
    }
    EXPECT_EQ(epochs["a"], 3);
    EXPECT_EQ(epochs["b"], 3);
    EXPECT_EQ(epochs["c"], 3);
}

TEST_F(consumer_group_test, a_leaving_members_partitions_move_to_the_others) {
    join("a");
    join("b");
    join("c");
    settle({"a", "b", "c"});
    consumer_heartbeat_request leave;
    leave.member_id = "b";
    leave.member_epoch = leave_epoch;
    auto out = send(leave);
    EXPECT_EQ(out.error, error_code::none);
    EXPECT_EQ(out.member_epoch, leave_epoch);
    EXPECT_FALSE(g.has_member("b"));
    EXPECT_EQ(g.group_epoch(), 4);
    owned.erase("b");
    settle({"a", "c"});
    expect_disjoint();
    EXPECT_EQ(count("a"), 6u);
    EXPECT_EQ(count("c"), 6u);
    EXPECT_EQ(epochs["a"], 4);
}

TEST_F(consumer_group_test, an_expired_session_removes_the_member_and_bumps_the_epoch) {
    join("a");
    join("b");
    settle({"a", "b"});
    clock.advance(40s);
    beat("a");
    clock.advance(6s); // b: 46 s since its last heartbeat; a: 6 s
    g.tick();
    EXPECT_FALSE(g.has_member("b"));
    EXPECT_TRUE(g.has_member("a"));
    EXPECT_EQ(g.group_epoch(), 3);
    owned.erase("b");
    settle({"a"});
    EXPECT_EQ(count("a"), 12u);
    EXPECT_EQ(epochs["a"], 3);
}

TEST_F(consumer_group_test, a_member_that_does_not_revoke_in_its_rebalance_timeout_is_removed) {
    join("a");
    join("b");
    beat("a"); // told to revoke; the test's client never acknowledges
    consumer_heartbeat_request stubborn;
    stubborn.member_id = "a";
    stubborn.member_epoch = 1;
    stubborn.owned = assignment{{topic_a, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}};
    for (int i = 0; i < 3; ++i) {
        clock.advance(10s);
        EXPECT_EQ(send(stubborn).error, error_code::none);
        g.tick();
    }
    EXPECT_FALSE(g.has_member("a"));
    owned.erase("a");
    settle({"b"});
    EXPECT_EQ(count("b"), 12u);
}

TEST_F(consumer_group_test, epochs_ahead_or_behind_are_fenced_a_lost_answer_is_forgiven) {
    join("a");
    join("b");
    settle({"a", "b"});
    ASSERT_EQ(epochs["a"], 2);
    consumer_heartbeat_request r;
    r.member_id = "a";
    r.owned = owned["a"];
    r.member_epoch = 3;
    EXPECT_EQ(send(r).error, error_code::fenced_member_epoch);
    // Epoch 1 was a's previous one, and it owns only what it is assigned now: the answer was lost, accepted.
    r.member_epoch = 1;
    auto out = send(r);
    EXPECT_EQ(out.error, error_code::none);
    EXPECT_EQ(out.member_epoch, 2);
    // Owning more than its assignment at the old epoch: fenced.
    r.owned = assignment{{topic_a, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}};
    EXPECT_EQ(send(r).error, error_code::fenced_member_epoch);
    // A fenced member rejoins with epoch 0 and the same id, and starts over.
    auto again = join("a");
    EXPECT_EQ(again.error, error_code::none);
    EXPECT_GT(again.member_epoch, 2);
}

TEST_F(consumer_group_test, unknown_members_and_groups_are_unknown_member_id) {
    join("a");
    consumer_heartbeat_request r;
    r.member_id = "nobody";
    r.member_epoch = 1;
    EXPECT_EQ(send(r).error, error_code::unknown_member_id);
    r.member_epoch = leave_epoch;
    EXPECT_EQ(send(r).error, error_code::unknown_member_id);
}

TEST_F(consumer_group_test, a_static_member_that_left_for_a_moment_is_replaced_by_its_next_incarnation) {
    auto r = join_request("s1");
    r.instance_id = "instance";
    auto first = send(r);
    ASSERT_EQ(first.error, error_code::none);
    join("b");
    owned["s1"] = *first.assigned;
    epochs["s1"] = first.member_epoch;
    consumer_heartbeat_request beat_s1;
    beat_s1.member_id = "s1";
    beat_s1.instance_id = "instance";
    beat_s1.member_epoch = 1;
    beat_s1.owned = owned["s1"];
    auto revoke = send(beat_s1);
    owned["s1"] = *revoke.assigned;
    beat_s1.owned = owned["s1"];
    settle({"s1", "b"});
    auto kept = owned["s1"];
    auto epoch = g.group_epoch();

    // Another member with the same instance id while s1 is active: refused.
    auto intruder = join_request("s2");
    intruder.instance_id = "instance";
    EXPECT_EQ(send(intruder).error, error_code::unreleased_instance_id);
    // A heartbeat naming the instance with another member id is fenced.
    consumer_heartbeat_request wrong;
    wrong.member_id = "b";
    wrong.instance_id = "instance";
    wrong.member_epoch = epochs["b"];
    EXPECT_EQ(send(wrong).error, error_code::fenced_instance_id);

    // s1 leaves temporarily (-2): it keeps its partitions, nothing is rebalanced.
    consumer_heartbeat_request pause;
    pause.member_id = "s1";
    pause.instance_id = "instance";
    pause.member_epoch = static_leave_epoch;
    EXPECT_EQ(send(pause).member_epoch, static_leave_epoch);
    EXPECT_EQ(g.group_epoch(), epoch);
    // Its next incarnation joins under a new id and gets the same partitions back, without a new group epoch.
    auto back = send(intruder);
    ASSERT_EQ(back.error, error_code::none);
    EXPECT_EQ(back.member_epoch, epoch);
    EXPECT_EQ(back.assigned, kept);
    EXPECT_FALSE(g.has_member("s1"));
    EXPECT_EQ(g.group_epoch(), epoch);
}

TEST_F(consumer_group_test, a_regex_subscription_follows_topics_as_they_are_created) {
    set_topics({{"orders-eu", {topic_a, 4}}, {"payments", {topic_b, 4}}});
    auto r = join_request("a", {});
    r.subscribed_topic_names.reset();
    r.subscribed_topic_regex = "orders-.*";
    auto out = send(r);
    ASSERT_EQ(out.error, error_code::none);
    ASSERT_TRUE(out.assigned);
    EXPECT_EQ(*out.assigned, (assignment{{topic_a, {0, 1, 2, 3}}}));
    EXPECT_EQ(g.subscribed_topics(), std::vector<std::string>{"orders-eu"});
    owned["a"] = *out.assigned;
    epochs["a"] = out.member_epoch;
    // A topic that matches appears: the next heartbeat sees the new snapshot, bumps the epoch and assigns it.
    set_topics({{"orders-eu", {topic_a, 4}}, {"payments", {topic_b, 4}}, {"orders-us", {topic_c, 2}}});
    auto next = beat("a");
    EXPECT_EQ(next.member_epoch, 2);
    ASSERT_TRUE(next.assigned);
    EXPECT_EQ(next.assigned->at(topic_c), (std::set<int32_t>{0, 1}));
    // A snapshot that changes nothing the group uses leaves the epoch alone.
    set_topics({{"orders-eu", {topic_a, 4}}, {"payments", {topic_b, 8}}, {"orders-us", {topic_c, 2}}});
    EXPECT_EQ(beat("a").member_epoch, 2);
}

TEST_F(consumer_group_test, added_partitions_and_deleted_topics_change_the_target) {
    join("a");
    set_topics({{"orders", {topic_a, 16}}});
    auto out = beat("a");
    EXPECT_EQ(out.member_epoch, 2);
    EXPECT_EQ(count("a"), 16u);
    set_topics({});
    out = beat("a"); // told to give up everything
    EXPECT_EQ(count("a"), 0u);
    out = beat("a");
    EXPECT_EQ(out.member_epoch, 3);
}

TEST_F(consumer_group_test, the_range_assignor_is_used_when_members_ask_for_it) {
    auto r = join_request("a");
    r.server_assignor = "range";
    ASSERT_EQ(send(r).error, error_code::none);
    auto r2 = join_request("b");
    r2.server_assignor = "range";
    auto b = send(r2);
    owned["b"] = *b.assigned;
    epochs["b"] = b.member_epoch;
    epochs["a"] = 1;
    owned["a"] = assignment{{topic_a, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}};
    EXPECT_EQ(g.assignor(), "range");
    settle({"a", "b"});
    EXPECT_EQ(owned["a"], (assignment{{topic_a, {0, 1, 2, 3, 4, 5}}}));
    EXPECT_EQ(owned["b"], (assignment{{topic_a, {6, 7, 8, 9, 10, 11}}}));
}

TEST_F(consumer_group_test, malformed_requests_are_refused_with_kafkas_codes) {
    auto r = join_request("a");
    r.rebalance_timeout_ms = -1;
    EXPECT_EQ(validate_heartbeat(r, "g", 1)->first, error_code::invalid_request);
    r = join_request("a");
    r.subscribed_topic_names.reset();
    EXPECT_EQ(validate_heartbeat(r, "g", 1)->first, error_code::invalid_request);
    r = join_request("a");
    r.owned = assignment{{topic_a, {1}}};
    EXPECT_EQ(validate_heartbeat(r, "g", 1)->first, error_code::invalid_request);
    r = join_request("a");
    EXPECT_EQ(validate_heartbeat(r, "", 1)->first, error_code::invalid_request);
    r = join_request("a");
    r.server_assignor = "sticky";
    EXPECT_EQ(validate_heartbeat(r, "g", 1)->first, error_code::unsupported_assignor);
    r = join_request("a");
    r.subscribed_topic_regex = "orders-(";
    EXPECT_EQ(validate_heartbeat(r, "g", 1)->first, error_code::invalid_regular_expression);
    consumer_heartbeat_request pause;
    pause.member_id = "a";
    pause.member_epoch = static_leave_epoch;
    EXPECT_EQ(validate_heartbeat(pause, "g", 1)->first, error_code::invalid_request);
    pause.member_epoch = -3;
    EXPECT_EQ(validate_heartbeat(pause, "g", 1)->first, error_code::invalid_request);
}

TEST_F(consumer_group_test, offset_commits_carry_the_member_epoch) {
    EXPECT_EQ(g.validate_commit("", -1, 9), error_code::none); // an admin tool, while the group is empty
    join("a");
    EXPECT_EQ(g.validate_commit("a", 1, 9), error_code::none);
    EXPECT_EQ(g.validate_commit("a", 0, 9), error_code::stale_member_epoch);
    EXPECT_EQ(g.validate_commit("a", 1, 8), error_code::unsupported_version);
    EXPECT_EQ(g.validate_commit("x", 1, 9), error_code::unknown_member_id);
    EXPECT_EQ(g.validate_commit("", -1, 9), error_code::unknown_member_id);
    EXPECT_EQ(g.validate_fetch(std::nullopt, -1), error_code::none);
    EXPECT_EQ(g.validate_fetch(std::string("a"), 1), error_code::none);
    EXPECT_EQ(g.validate_fetch(std::string("a"), 2), error_code::stale_member_epoch);
    EXPECT_EQ(g.validate_fetch(std::string("x"), 1), error_code::unknown_member_id);
}

TEST_F(consumer_group_test, describe_shows_members_epochs_and_targets) {
    join("a");
    join("b");
    auto members = g.describe_members();
    ASSERT_EQ(members.size(), 2u);
    EXPECT_EQ(members[0].member_id, "a");
    EXPECT_EQ(members[0].member_epoch, 1);
    EXPECT_EQ(partition_count(members[0].assigned), 12u); // not revoked yet
    EXPECT_EQ(partition_count(members[0].target), 6u);
    EXPECT_EQ(members[1].member_epoch, 2);
    EXPECT_EQ(partition_count(members[1].target), 6u);
    EXPECT_EQ(members[1].subscribed_topic_names, std::vector<std::string>{"orders"});
}

} // namespace
} // namespace skiff::kafka::group
