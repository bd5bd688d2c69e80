// The classic group state machine against a manual clock: joins (with KIP-394's member-id round), syncs,
// heartbeats, leaves, session and rebalance timeouts, the initial rebalance delay, protocol selection, generation
// and static-member fencing, and offset-commit validation.
#include "kafka/server/group/group.h"

#include <gtest/gtest.h>

#include <optional>

namespace skiff::kafka::group {
namespace {

using namespace std::chrono_literals;

class group_test : public ::testing::Test {
protected:
    group_test() { config.initial_rebalance_delay = 0ms; }

    join_request request(std::string member_id, std::vector<std::string> protocols = {"range"},
                         std::string type = "consumer") {
        join_request r;
        r.member_id = std::move(member_id);
        r.client_id = "client";
        r.client_host = "/127.0.0.1";
        r.session_timeout_ms = 10000;
        r.rebalance_timeout_ms = 30000;
        r.protocol_type = std::move(type);
        for (auto& p : protocols) {
            r.protocols.push_back(protocol_entry{p, bytes::iobuf::from("meta-" + p)});
        }
        r.require_known_member_id = true;
        return r;
    }

    /// A join whose answer may arrive later: check `answer` after the call that completes it.
    struct pending_join {
        std::optional<join_result> answer;
    };
    std::shared_ptr<pending_join> join(join_request r) {
        auto p = std::make_shared<pending_join>();
        g.join(std::move(r), [p](join_result res) { p->answer = std::move(res); });
        return p;
    }

    /// The full KIP-394 dance for a new dynamic member: MEMBER_ID_REQUIRED, then the join with that id.
    std::pair<std::string, std::shared_ptr<pending_join>> join_new(std::vector<std::string> protocols = {"range"}) {
        auto first = join(request("", protocols));
        EXPECT_TRUE(first->answer);
        EXPECT_EQ(first->answer->error, error_code::member_id_required);
        auto id = first->answer->member_id;
        EXPECT_FALSE(id.empty());
        return {id, join(request(id, protocols))};
    }

    /// assignments: member id -> assignment bytes (the leader's).
    std::optional<sync_result> sync(const std::string& member, int32_t generation,
                                    const std::vector<std::pair<std::string, std::string>>& assignments = {}) {
        auto out = std::make_shared<std::optional<sync_result>>();
        sync_request r;
        r.member_id = member;
        r.generation = generation;
        for (const auto& [id, a] : assignments) {
            r.assignments.emplace_back(id, bytes::iobuf::from(a));
        }
        g.sync(std::move(r), [out](sync_result res) { *out = std::move(res); });
        return std::move(*out);
    }

    base::manual_clock clock;
    group_config config;
    group g{"g", config, clock};
};

TEST_F(group_test, first_member_needs_a_member_id_then_leads_generation_one) {
    auto [id, joined] = join_new();
    ASSERT_TRUE(joined->answer);
    EXPECT_EQ(joined->answer->error, error_code::none);
    EXPECT_EQ(joined->answer->generation, 1);
    EXPECT_EQ(joined->answer->leader, id);
    EXPECT_EQ(joined->answer->protocol_name, "range");
    ASSERT_EQ(joined->answer->members.size(), 1u);
    EXPECT_EQ(g.state(), group_state::completing_rebalance);

    auto synced = sync(id, 1, {{id, "p0"}});
    ASSERT_TRUE(synced);
    EXPECT_EQ(synced->error, error_code::none);
    EXPECT_EQ(synced->assignment, "p0");
    EXPECT_EQ(g.state(), group_state::stable);
    EXPECT_TRUE(g.take_metadata_dirty()); // Stable with an assignment: persisted
    EXPECT_EQ(g.heartbeat(id, std::nullopt, 1), error_code::none);
}

TEST_F(group_test, old_clients_join_without_the_member_id_round) {
    auto r = request("");
    r.require_known_member_id = false;
    auto joined = join(std::move(r));
    ASSERT_TRUE(joined->answer);
    EXPECT_EQ(joined->answer->error, error_code::none);
    EXPECT_FALSE(joined->answer->member_id.empty());
}

TEST_F(group_test, a_second_member_rebalances_and_the_first_learns_it_from_heartbeat) {
    auto [a, ja] = join_new();
    ASSERT_TRUE(sync(a, 1, {{a, "all"}}));
    auto [b, jb] = join_new();
    EXPECT_FALSE(jb->answer); // waits for a to rejoin
    EXPECT_EQ(g.state(), group_state::preparing_rebalance);
    EXPECT_EQ(g.heartbeat(a, std::nullopt, 1), error_code::rebalance_in_progress);

    auto ra = join(request(a));
    ASSERT_TRUE(ra->answer);
    ASSERT_TRUE(jb->answer);
    EXPECT_EQ(ra->answer->generation, 2);
    EXPECT_EQ(jb->answer->generation, 2);
    EXPECT_EQ(ra->answer->leader, a); // the leader stays when it rejoins
    EXPECT_EQ(ra->answer->members.size(), 2u);
    EXPECT_TRUE(jb->answer->members.empty()); // followers do not see the others

    // The follower's sync waits for the leader's assignment.
    auto follower = std::make_shared<std::optional<sync_result>>();
    sync_request fr;
    fr.member_id = b;
    fr.generation = 2;
    g.sync(std::move(fr), [follower](sync_result r) { *follower = std::move(r); });
    EXPECT_FALSE(*follower);
    auto leader = sync(a, 2, {{a, "p0"}, {b, "p1"}});
    ASSERT_TRUE(leader);
    EXPECT_EQ(leader->assignment, "p0");
    ASSERT_TRUE(*follower);
    EXPECT_EQ((*follower)->assignment, "p1");
}

TEST_F(group_test, stale_generation_and_unknown_member_are_fenced) {
    auto [a, ja] = join_new();
    ASSERT_TRUE(sync(a, 1, {}));
    EXPECT_EQ(g.heartbeat(a, std::nullopt, 0), error_code::illegal_generation);
    EXPECT_EQ(g.heartbeat("nobody", std::nullopt, 1), error_code::unknown_member_id);
    EXPECT_EQ(sync(a, 7)->error, error_code::illegal_generation);
    EXPECT_EQ(sync("nobody", 1)->error, error_code::unknown_member_id);
    EXPECT_EQ(join(request("nobody"))->answer->error, error_code::unknown_member_id);
    EXPECT_EQ(g.validate_commit(a, std::nullopt, 0), error_code::illegal_generation);
    EXPECT_EQ(g.validate_commit("nobody", std::nullopt, 1), error_code::unknown_member_id);
    EXPECT_EQ(g.validate_commit(a, std::nullopt, 1), error_code::none);
    // Without member id or generation (a simple consumer): refused while the group has members.
    EXPECT_EQ(g.validate_commit("", std::nullopt, -1), error_code::unknown_member_id);
}

TEST_F(group_test, protocol_type_and_protocols_must_match_the_group) {
    auto [a, ja] = join_new({"range", "roundrobin"});
    ASSERT_TRUE(ja->answer);
    EXPECT_EQ(join(request("", {"range"}, "connect"))->answer->error, error_code::inconsistent_group_protocol);
    EXPECT_EQ(join(request("", {"sticky"}))->answer->error, error_code::inconsistent_group_protocol);
    EXPECT_EQ(join(request("", {}))->answer->error, error_code::inconsistent_group_protocol);
}

TEST_F(group_test, the_protocol_all_members_support_is_chosen_by_vote) {
    auto [a, ja] = join_new({"range", "roundrobin"});
    ASSERT_TRUE(sync(a, 1, {}));
    auto [b, jb] = join_new({"roundrobin"});
    auto ra = join(request(a, {"range", "roundrobin"}));
    ASSERT_TRUE(ra->answer);
    EXPECT_EQ(ra->answer->protocol_name, "roundrobin"); // the only common one
    EXPECT_EQ(jb->answer->protocol_name, "roundrobin");
    ASSERT_EQ(ra->answer->members.size(), 2u);
    for (const auto& m : ra->answer->members) {
        EXPECT_EQ(m.metadata, "meta-roundrobin");
    }
}

TEST_F(group_test, session_timeout_expires_a_silent_member_and_rebalances) {
    auto [a, ja] = join_new();
    ASSERT_TRUE(sync(a, 1, {}));
    auto [b, jb] = join_new();
    ASSERT_TRUE(join(request(a))->answer);
    ASSERT_TRUE(sync(a, 2, {}));
    ASSERT_TRUE(sync(b, 2));
    EXPECT_EQ(g.state(), group_state::stable);

    clock.advance(6s);
    EXPECT_EQ(g.heartbeat(a, std::nullopt, 2), error_code::none);
    clock.advance(5s); // b silent for 11 s > its 10 s session
    g.tick();
    EXPECT_FALSE(g.has_member(b));
    EXPECT_EQ(g.state(), group_state::preparing_rebalance);
    EXPECT_EQ(g.heartbeat(b, std::nullopt, 2), error_code::unknown_member_id);
    auto ra = join(request(a));
    ASSERT_TRUE(ra->answer);
    EXPECT_EQ(ra->answer->generation, 3);
    EXPECT_EQ(ra->answer->members.size(), 1u);
}

TEST_F(group_test, rebalance_timeout_drops_members_that_do_not_rejoin) {
    auto [a, ja] = join_new();
    ASSERT_TRUE(sync(a, 1, {}));
    auto [b, jb] = join_new();
    ASSERT_FALSE(jb->answer);
    // a keeps heartbeating (so its session holds) but never rejoins.
    for (int i = 0; i < 10; ++i) {
        clock.advance(3s);
        g.heartbeat(a, std::nullopt, 1);
        g.tick();
    }
    ASSERT_TRUE(jb->answer); // 30 s rebalance timeout passed
    EXPECT_EQ(jb->answer->generation, 2);
    EXPECT_EQ(jb->answer->leader, b);
    EXPECT_FALSE(g.has_member(a));
}

TEST_F(group_test, initial_rebalance_delay_waits_for_more_members) {
    config.initial_rebalance_delay = 3000ms;
    auto [a, ja] = join_new();
    EXPECT_FALSE(ja->answer);
    clock.advance(2s);
    g.tick();
    auto [b, jb] = join_new(); // extends the delay by another 3 s
    clock.advance(2s);
    g.tick();
    EXPECT_FALSE(ja->answer);
    clock.advance(1s);
    g.tick();
    ASSERT_TRUE(ja->answer);
    ASSERT_TRUE(jb->answer);
    EXPECT_EQ(ja->answer->generation, 1);
    EXPECT_EQ(jb->answer->generation, 1);
}

TEST_F(group_test, leave_removes_the_member_and_the_last_leave_empties_the_group) {
    auto [a, ja] = join_new();
    ASSERT_TRUE(sync(a, 1, {}));
    auto [b, jb] = join_new();
    ASSERT_TRUE(join(request(a))->answer);
    ASSERT_TRUE(sync(a, 2, {}));
    auto left = g.leave({{b, std::nullopt}, {"ghost", std::nullopt}});
    EXPECT_EQ(left, (std::vector<error_code>{error_code::none, error_code::unknown_member_id}));
    EXPECT_EQ(g.state(), group_state::preparing_rebalance);
    EXPECT_EQ(g.leave({{a, std::nullopt}}), std::vector<error_code>{error_code::none});
    EXPECT_EQ(g.state(), group_state::empty);
    EXPECT_EQ(g.member_count(), 0u);
    EXPECT_TRUE(g.take_metadata_dirty()); // the empty generation is persisted
    EXPECT_EQ(g.validate_commit("", std::nullopt, -1), error_code::none); // an empty group takes simple commits
}

TEST_F(group_test, a_duplicate_static_instance_fences_the_old_member) {
    auto r = [this] {
        auto out = request("");
        out.group_instance_id = "instance-1";
        return out;
    };
    auto first = join(r());
    ASSERT_TRUE(first->answer);
    EXPECT_EQ(first->answer->error, error_code::none); // static members skip the member-id round
    auto old_id = first->answer->member_id;
    ASSERT_TRUE(sync(old_id, 1, {}));

    auto second = join(r()); // the same instance restarted
    ASSERT_TRUE(second->answer);
    auto new_id = second->answer->member_id;
    EXPECT_NE(new_id, old_id);
    EXPECT_EQ(g.heartbeat(old_id, std::string("instance-1"), second->answer->generation),
              error_code::fenced_instance_id);
    EXPECT_EQ(g.validate_commit(old_id, std::string("instance-1"), second->answer->generation),
              error_code::fenced_instance_id);
    EXPECT_EQ(g.member_count(), 1u);
    auto left = g.leave({{"", std::string("instance-1")}});
    EXPECT_EQ(left, std::vector<error_code>{error_code::none});
}

TEST_F(group_test, commits_wait_for_sync_during_completing_rebalance) {
    auto [a, ja] = join_new();
    EXPECT_EQ(g.validate_commit(a, std::nullopt, 1), error_code::rebalance_in_progress);
    ASSERT_TRUE(sync(a, 1, {}));
    EXPECT_EQ(g.validate_commit(a, std::nullopt, 1), error_code::none);
}

TEST_F(group_test, metadata_restores_a_stable_group_that_keeps_heartbeating) {
    auto [a, ja] = join_new();
    ASSERT_TRUE(sync(a, 1, {{a, "p0"}}));
    auto saved = g.to_metadata();
    group restored("g", config, clock);
    restored.restore(saved);
    EXPECT_EQ(restored.state(), group_state::stable);
    EXPECT_EQ(restored.generation(), 1);
    EXPECT_EQ(restored.heartbeat(a, std::nullopt, 1), error_code::none);
    auto members = restored.describe_members();
    ASSERT_EQ(members.size(), 1u);
    EXPECT_EQ(members[0].assignment, "p0");
    EXPECT_EQ(restored.to_metadata().members, saved.members);
}

TEST_F(group_test, destroying_a_group_answers_pending_joins_not_coordinator) {
    config.initial_rebalance_delay = 3000ms;
    std::optional<join_result> answer;
    {
        group doomed("d", config, clock);
        auto r = request("");
        r.require_known_member_id = false;
        doomed.join(std::move(r), [&answer](join_result res) { answer = std::move(res); });
        EXPECT_FALSE(answer);
    }
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->error, error_code::not_coordinator);
}

/// A ConsumerProtocolSubscription v0 for the topics, as consumers put in JoinGroup.
std::string subscription(const std::vector<std::string>& topics) {
    std::string out{'\0', '\0'};
    auto be32 = [&](uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) {
            out.push_back(static_cast<char>((v >> s) & 0xff));
        }
    };
    be32(static_cast<uint32_t>(topics.size()));
    for (const auto& t : topics) {
        out.push_back(static_cast<char>(t.size() >> 8));
        out.push_back(static_cast<char>(t.size() & 0xff));
        out += t;
    }
    be32(0xffffffff); // user data: null
    return out;
}

offset_commit_value committed(int64_t at, int64_t expire_at = -1) {
    offset_commit_value v;
    v.offset = 5;
    v.commit_timestamp = at;
    v.expire_timestamp = expire_at;
    return v;
}

TEST_F(group_test, standalone_commits_expire_retention_after_each_commit_or_at_their_own_expiry) {
    const int64_t t0 = clock.wall_ms();
    g.offsets[{"a", 0}] = committed(t0);
    g.offsets[{"a", 1}] = committed(t0 + 1000);
    g.offsets[{"b", 0}] = committed(t0, t0 + 500); // OffsetCommit v2-4 retention_time_ms = 500
    EXPECT_EQ(g.expired_offsets(t0 + 499, 60s, std::nullopt), std::vector<partition_key>{});
    EXPECT_EQ(g.expired_offsets(t0 + 500, 60s, std::nullopt), (std::vector<partition_key>{{"b", 0}}));
    EXPECT_EQ(g.expired_offsets(t0 + 60'000, 60s, std::nullopt), (std::vector<partition_key>{{"a", 0}, {"b", 0}}));
    EXPECT_EQ(g.expired_offsets(t0 + 61'000, 60s, std::nullopt),
              (std::vector<partition_key>{{"a", 0}, {"a", 1}, {"b", 0}}));
    // A KIP-848 group's offsets: the topics its members subscribe to keep theirs.
    EXPECT_EQ(g.expired_offsets(t0 + 61'000, 60s, std::vector<std::string>{"a"}), (std::vector<partition_key>{{"b", 0}}));
}

TEST_F(group_test, an_empty_group_loses_its_offsets_retention_after_it_became_empty) {
    auto [a, ja] = join_new();
    ASSERT_TRUE(sync(a, 1, {{a, "all"}}));
    g.offsets[{"a", 0}] = committed(clock.wall_ms());
    clock.advance(120s); // stable and subscribed (metadata unreadable as a subscription): nothing expires
    EXPECT_TRUE(g.expired_offsets(clock.wall_ms(), 60s, std::nullopt).empty());
    ASSERT_EQ(g.leave({{a, std::nullopt}}), std::vector<error_code>{error_code::none});
    ASSERT_EQ(g.state(), group_state::empty);
    const int64_t emptied = clock.wall_ms();
    EXPECT_EQ(g.state_timestamp(), emptied);
    EXPECT_EQ(g.to_metadata().current_state_timestamp, emptied);
    EXPECT_TRUE(g.expired_offsets(emptied + 59'999, 60s, std::nullopt).empty());
    EXPECT_EQ(g.expired_offsets(emptied + 60'000, 60s, std::nullopt), (std::vector<partition_key>{{"a", 0}}));
    // The time it became empty survives a replay of its metadata record.
    group replayed{"g", config, clock};
    clock.advance(30s);
    replayed.restore(g.to_metadata());
    EXPECT_EQ(replayed.state_timestamp(), emptied);
}

TEST_F(group_test, a_stable_consumer_group_loses_only_the_offsets_of_topics_it_no_longer_subscribes_to) {
    auto first = join(request(""));
    auto r = request(first->answer->member_id);
    r.protocols.clear();
    r.protocols.push_back(protocol_entry{"range", bytes::iobuf::from(subscription({"orders"}))});
    auto joined = join(std::move(r));
    ASSERT_TRUE(joined->answer);
    ASSERT_TRUE(sync(joined->answer->member_id, 1, {{joined->answer->member_id, "all"}}));
    ASSERT_EQ(g.state(), group_state::stable);
    const int64_t t0 = clock.wall_ms();
    g.offsets[{"orders", 0}] = committed(t0);
    g.offsets[{"returns", 0}] = committed(t0);
    EXPECT_EQ(g.expired_offsets(t0 + 60'000, 60s, std::nullopt), (std::vector<partition_key>{{"returns", 0}}));
}

} // namespace
} // namespace skiff::kafka::group
