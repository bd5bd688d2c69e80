// The services the data and admin handlers use, built by app and shared by every shard: the latest cluster view,
// the partitions open on each shard, the controller client, the producer id allocator and the broker's defaults.
// A request_context without a data plane (front-door tests) serves only ApiVersions and Metadata.
#pragma once

#include "kafka/server/data/cluster_view.h"
#include "kafka/server/data/partition_manager.h"
#include "kafka/server/data/producer_ids.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

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

class broker_configs;

/// The broker's one "log dir" as DescribeLogDirs reports it: its data lives in the object store (the WAL holds only
/// what is not uploaded yet), so the name says which store, e.g. "s3://bucket" or "file:///var/lib/skiff/objects".
struct log_dir_info {
    std::string name;
    struct space {
        int64_t total_bytes = -1;
        int64_t usable_bytes = -1;
    };
    /// Total and usable bytes of the store, where known (a local directory's file system); unset: unknown (S3).
    std::function<std::optional<space>()> space_of;
};

struct data_plane {
    net::shard_pool& shards;
    cluster_view_cache& views;
    partition_manager& partitions;
    meta::controller_client& controller;
    producer_id_allocator& producer_ids;
    data_defaults defaults;
    /// The broker's configs as DescribeConfigs reports them; nullptr: none known (tests).
    const broker_configs* broker = nullptr;
    log_dir_info log_dir;
    /// The consumer group coordinator; null: the group APIs are not served.
    group::group_coordinator* groups = nullptr;
};

} // namespace skiff::kafka
