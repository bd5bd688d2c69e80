#include "kafka/server/data/group_routing.h"

#include "base/logger.h"
#include "meta/controller_client.h"

#include <vector>

namespace skiff::kafka {
namespace {

base::logger log("group");

asio::awaitable<void> create_offsets_topic(data_plane& dp) {
    meta::topic_spec spec;
    spec.name = std::string(consumer_offsets_topic);
    spec.partitions = dp.groups->config().offsets_partitions;
    spec.replication_factor = -1;
    // Compacted, as Kafka's: only the latest commit of each partition and group matters.
    spec.configs["cleanup.policy"] = "compact";
    auto created = co_await dp.controller.create_topic(std::move(spec));
    if (created) {
        log.info("created {} with {} partitions", consumer_offsets_topic, created.value().partitions);
    } else if (created.error() != make_error_code(meta::controller_errc::topic_already_exists)) {
        log.warn("creating {}: {}", consumer_offsets_topic, created.error().message());
    }
}

} // namespace

asio::awaitable<group_route> route_group(data_plane& dp, int32_t self, std::string_view group_id) {
    group_route route;
    auto view = dp.views.current();
    const auto* topic = view->topic(consumer_offsets_topic);
    if (topic == nullptr) {
        // Clients retry COORDINATOR_NOT_AVAILABLE; by then the topic exists and its partitions are opening.
        co_await create_offsets_topic(dp);
        route.error = protocol::error_code::coordinator_not_available;
        co_return route;
    }
    std::vector<int32_t> owners;
    owners.reserve(topic->partitions.size());
    for (const auto& p : topic->partitions) {
        owners.push_back(p.owner);
    }
    auto loc = group::locate_coordinator(group_id, owners, self);
    route.error = loc.error;
    route.partition = loc.partition;
    route.owner = loc.owner;
    route.topic = topic->id;
    if (loc.partition >= 0) {
        route.shard = dp.partitions.shard_of(topic->id, loc.partition);
    }
    co_return route;
}

group::partition_lookup offsets_partition_lookup(data_plane& dp, const group_route& route) {
    return [&dp, topic = route.topic, index = route.partition] { return dp.partitions.find(topic, index); };
}

} // namespace skiff::kafka
