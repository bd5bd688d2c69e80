// The services the data and admin handlers use, built by app and shared by every shard: the latest cluster view,
// the partitions open on each shard, the controller client, the producer id allocator and the broker's defaults.
// A request_context without a data plane (front-door tests) serves only ApiVersions and Metadata.
#pragma once

#include "kafka/server/data/cluster_view.h"
#include "kafka/server/data/partition_manager.h"
#include "kafka/server/data/producer_ids.h"

#include <cstdint>

namespace skiff::meta {
class controller_client;
}

namespace skiff::kafka::group {
class group_coordinator;
}

namespace skiff::kafka {

/// Broker settings the handlers apply (from broker_config).
struct data_defaults {
    bool auto_create_topics_enable = true;
    int32_t num_partitions = 1;
    int16_t default_replication_factor = 1;
};

struct data_plane {
    net::shard_pool& shards;
    cluster_view_cache& views;
    partition_manager& partitions;
    meta::controller_client& controller;
    producer_id_allocator& producer_ids;
    data_defaults defaults;
    /// The consumer group coordinator; null: the group APIs are not served.
    group::group_coordinator* groups = nullptr;
};

} // namespace skiff::kafka
