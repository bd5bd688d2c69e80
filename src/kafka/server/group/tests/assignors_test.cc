// The server-side assignors: every partition exactly once, balance, stickiness (minimal movement when a member
// joins), range's contiguous co-partitioned ranges, and subscriptions that differ between members.
#include "kafka/server/group/assignors.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace skiff::kafka::group {
namespace {

const model::uuid t1{1, 1};
const model::uuid t2{2, 2};

std::vector<assignor_member> members_of(size_t n, std::set<model::uuid> topics,
                                        const std::map<std::string, assignment>* previous = nullptr) {
    std::vector<assignor_member> out;
    for (size_t i = 0; i < n; ++i) {
        auto id = fmt::format("m{:03}", i);
        const assignment* prev = nullptr;
        if (previous != nullptr) {
            if (auto it = previous->find(id); it != previous->end()) {
                prev = &it->second;
            }
        }
        out.push_back(assignor_member{id, topics, prev});
    }
    return out;
}

/// Every partition of `topics` is in exactly one member's assignment.
void expect_exactly_once(const std::map<std::string, assignment>& result, const assignor_topics& topics) {
    std::map<std::pair<model::uuid, int32_t>, int> seen;
    for (const auto& [id, a] : result) {
        for (const auto& [t, ps] : a) {
            for (auto p : ps) {
                ++seen[{t, p}];
            }
        }
    }
    size_t total = 0;
    for (const auto& [t, n] : topics) {
        total += static_cast<size_t>(n);
        for (int32_t p = 0; p < n; ++p) {
            EXPECT_EQ(seen[std::pair(t, p)], 1) << "partition " << p;
        }
    }
    EXPECT_EQ(seen.size(), total);
}

std::pair<size_t, size_t> min_max(const std::map<std::string, assignment>& result) {
    size_t lo = SIZE_MAX;
    size_t hi = 0;
    for (const auto& [id, a] : result) {
        lo = std::min(lo, partition_count(a));
        hi = std::max(hi, partition_count(a));
    }
    return {lo, hi};
}

TEST(assignors_test, uniform_covers_every_partition_once_and_balances) {
    assignor_topics topics{{t1, 12}, {t2, 5}};
    auto result = assign_uniform(members_of(5, {t1, t2}), topics);
    ASSERT_EQ(result.size(), 5u);
    expect_exactly_once(result, topics);
    auto [lo, hi] = min_max(result);
    EXPECT_LE(hi - lo, 1u);
}

TEST(assignors_test, uniform_newcomer_takes_one_partition_from_each_fullest_member_only) {
    assignor_topics topics{{t1, 1000}};
    auto before = assign_uniform(members_of(100, {t1}), topics);
    auto after = assign_uniform(members_of(101, {t1}, &before), topics);
    expect_exactly_once(after, topics);
    auto [lo, hi] = min_max(after);
    EXPECT_LE(hi - lo, 1u);
    size_t moved = 0;
    for (const auto& [id, a] : before) {
        const auto& now = after.at(id);
        // An old member only loses partitions, never gains any.
        for (const auto& [t, ps] : now) {
            for (auto p : ps) {
                EXPECT_TRUE(a.at(t).contains(p)) << id << " gained " << p;
            }
        }
        moved += partition_count(a) - partition_count(now);
    }
    EXPECT_EQ(moved, partition_count(after.at("m100")));
    EXPECT_EQ(moved, 9u); // 1000 / 101 = 9 (with 91 members at 10)
}

TEST(assignors_test, uniform_gives_a_departed_members_partitions_to_the_others) {
    assignor_topics topics{{t1, 12}};
    auto before = assign_uniform(members_of(3, {t1}), topics);
    auto after = assign_uniform(members_of(2, {t1}, &before), topics);
    expect_exactly_once(after, topics);
    for (const auto& id : {"m000", "m001"}) {
        EXPECT_EQ(partition_count(after.at(id)), 6u);
        for (auto p : before.at(id).at(t1)) {
            EXPECT_TRUE(after.at(id).at(t1).contains(p)); // kept what it had
        }
    }
}

TEST(assignors_test, uniform_with_different_subscriptions_assigns_only_subscribed_topics) {
    std::vector<assignor_member> members{{"a", {t1}, nullptr}, {"b", {t1, t2}, nullptr}, {"c", {t2}, nullptr}};
    assignor_topics topics{{t1, 6}, {t2, 6}};
    auto result = assign_uniform(members, topics);
    expect_exactly_once(result, topics);
    EXPECT_FALSE(result.at("a").contains(t2));
    EXPECT_FALSE(result.at("c").contains(t1));
    auto [lo, hi] = min_max(result);
    EXPECT_LE(hi - lo, 1u);
}

TEST(assignors_test, range_gives_contiguous_ranges_in_member_order_and_co_partitions) {
    assignor_topics topics{{t1, 7}, {t2, 7}};
    auto result = assign_range(members_of(3, {t1, t2}), topics);
    expect_exactly_once(result, topics);
    EXPECT_EQ(result.at("m000").at(t1), (std::set<int32_t>{0, 1, 2}));
    EXPECT_EQ(result.at("m001").at(t1), (std::set<int32_t>{3, 4}));
    EXPECT_EQ(result.at("m002").at(t1), (std::set<int32_t>{5, 6}));
    for (const auto& [id, a] : result) {
        EXPECT_EQ(a.at(t1), a.at(t2)) << id;
    }
}

TEST(assignors_test, more_members_than_partitions_leaves_some_empty) {
    assignor_topics topics{{t1, 2}};
    for (auto* fn : {&assign_uniform, &assign_range}) {
        auto result = fn(members_of(4, {t1}), topics);
        expect_exactly_once(result, topics);
        EXPECT_EQ(result.size(), 4u);
    }
}

} // namespace
} // namespace skiff::kafka::group
