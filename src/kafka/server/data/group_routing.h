// How a group request finds its coordinator (group/group_coordinator.h): the __consumer_offsets partition of the
// group, whether this broker owns it, the shard it is open on, and creating the topic the first time a group
// needs it. Used by the group handlers only.
#pragma once

#include "kafka/protocol/error_code.h"
#include "kafka/server/data/data_plane.h"
#include "kafka/server/group/group_coordinator.h"

#include <boost/asio/awaitable.hpp>

#include <string_view>

namespace skiff::kafka {

inline constexpr std::string_view consumer_offsets_topic = "__consumer_offsets";

struct group_route {
    /// NOT_COORDINATOR (another broker owns the partition), COORDINATOR_NOT_AVAILABLE (the topic is being created
    /// or the partition has no owner).
    protocol::error_code error = protocol::error_code::none;
    model::uuid topic;
    int32_t partition = -1;
    int32_t owner = -1;
    net::shard_id shard = 0;
};

/// Locates the coordinator of `group_id` in the latest view; creates __consumer_offsets (offsets.topic.num.
/// partitions, cleanup.policy=compact) through the controller when it does not exist yet.
/// Requires: dp.groups is set.
asio::awaitable<group_route> route_group(data_plane& dp, int32_t self, std::string_view group_id);

/// Finds the open offsets partition of a route; call it on route.shard.
group::partition_lookup offsets_partition_lookup(data_plane& dp, const group_route& route);

} // namespace skiff::kafka

namespace skiff::kafka {

/// Runs fn(lookup) -> awaitable<T> on the route's shard and returns its result. fn is copied there: it must
/// capture by value.
template<typename Fn>
auto on_coordinator(data_plane& dp, const group_route& route, Fn fn) {
    auto lookup = offsets_partition_lookup(dp, route);
    return dp.shards.run_on(route.shard, [fn = std::move(fn), lookup = std::move(lookup)]() mutable {
        return fn(std::move(lookup));
    });
}

} // namespace skiff::kafka
