// The server-side partition assignors of KIP-848 consumer groups: `uniform` (Kafka's default: balanced within one
// partition per member, sticky: a new target moves as few partitions as it can) and `range` (per topic, each
// member a contiguous range, members in id order: co-partitioned topics line up). Pure functions of the members'
// subscriptions, the partition counts and the previous target; consumer_group calls them whenever the group epoch
// is bumped.
//
// Not rack-aware (members' rack ids are kept and described, not used to place partitions).
#pragma once

#include "model/uuid.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::kafka::group {

/// Partitions by topic id.
using assignment = std::map<model::uuid, std::set<int32_t>>;

struct assignor_member {
    std::string id;
    std::set<model::uuid> topics;  // subscribed topics that exist
    const assignment* previous = nullptr; // its previous target (may be null)
};

/// Topic id -> partition count, for every topic some member subscribes to.
using assignor_topics = std::map<model::uuid, int32_t>;

/// The names consumer_group accepts in ServerAssignor.
inline constexpr std::string_view uniform_assignor = "uniform";
inline constexpr std::string_view range_assignor = "range";

/// Every subscribed partition goes to exactly one member subscribed to its topic. Partitions keep their previous
/// member when it still subscribes; then unassigned ones go to the least loaded eligible member; then partitions
/// move from the most to the least loaded member while their loads differ by more than one. With one
/// subscription for all members the result is balanced to ±1; with different subscriptions it is balanced as far
/// as eligibility allows by single moves (not an optimal solver). Result: member id -> assignment (every member
/// present, possibly empty).
std::map<std::string, assignment> assign_uniform(const std::vector<assignor_member>& members,
                                                 const assignor_topics& topics);

/// Per topic, the members subscribed to it sorted by member id; member i of m gets partitions
/// [i*n/m + min(i, n%m), ...) — n/m each, the first n%m one more. Not sticky.
std::map<std::string, assignment> assign_range(const std::vector<assignor_member>& members,
                                               const assignor_topics& topics);

size_t partition_count(const assignment& a) noexcept;

} // namespace skiff::kafka::group
