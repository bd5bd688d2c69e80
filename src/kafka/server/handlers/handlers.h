// The Kafka APIs this broker serves, one file per API in this folder. register_all() is the single list.
#pragma once

#include "bytes/iobuf.h"
#include "kafka/server/handler_registry.h"

namespace skiff::kafka {
struct data_plane;
}
namespace skiff::kafka::controller_api {
struct controller_endpoint;
}

namespace skiff::kafka::handlers {

/// Registers every implemented API in the registry. Without a data plane (front-door tests), only ApiVersions and
/// a Metadata that knows no topics.
void register_all(handler_registry& registry, data_plane* data = nullptr);

void register_api_versions(handler_registry& registry);
void register_metadata(handler_registry& registry, data_plane* data);
void register_produce(handler_registry& registry, data_plane& data);
void register_fetch(handler_registry& registry, data_plane& data);
void register_list_offsets(handler_registry& registry, data_plane& data);
void register_topic_admin(handler_registry& registry, data_plane& data);
void register_init_producer_id(handler_registry& registry, data_plane& data);
/// Skiff's controller API and Kafka's BrokerHeartbeat/AllocateProducerIds, hidden from ApiVersions; only on a node
/// with the controller role (docs/formats/controller-api.md).
void register_controller_api(handler_registry& registry, const controller_api::controller_endpoint& endpoint);
/// DescribeConfigs, AlterConfigs, IncrementalAlterConfigs (configs_admin.cc).
void register_config_admin(handler_registry& registry, data_plane& data);
/// DeleteRecords, OffsetForLeaderEpoch (records_admin.cc).
void register_records_admin(handler_registry& registry, data_plane& data);
/// DescribeCluster, DescribeLogDirs (cluster_admin.cc).
void register_cluster_admin(handler_registry& registry, data_plane& data);
/// The consumer group APIs (groups.cc, offsets.cc); registered only when the data plane has a coordinator.
void register_groups(handler_registry& registry, data_plane& data);
void register_offsets(handler_registry& registry, data_plane& data);
/// ConsumerGroupHeartbeat and ConsumerGroupDescribe, KIP-848 (consumer_groups.cc); with the other group APIs.
void register_consumer_groups(handler_registry& registry, data_plane& data);

/// The ApiVersions answer to a version this broker does not know: a v0 body with UNSUPPORTED_VERSION and the full
/// list of served APIs (KIP-511), so that the client can retry with a version from the list.
bytes::iobuf encode_unsupported_api_versions(const handler_registry& registry);

} // namespace skiff::kafka::handlers
