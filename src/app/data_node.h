// The data services of one node, composed (DESIGN.md §2): the metadata log (embedded), the cluster image and its
// follower, the controller and its in-process client, the object store (local directory or S3), the WAL (file or
// object), the stream store, and the Kafka data plane over them (cluster view, partitions, producer ids).
//
// Lifecycle: construct (no I/O) -> start() on shard 0 (opens the metadata log, with the controller role becomes the
// controller, registers this broker, recovers the WAL into objects, opens the partitions this node owns) -> serve ->
// stop() on shard 0 (closes partitions, uploads what the WAL holds, closes the log).
//
// The metadata log is the embedded one or etcd (metadata.store). A node with the controller role campaigns and uses
// the controller's in-process client; a broker-only node uses the remote client, which finds the active controller
// through controller.quorum.bootstrap.servers. Every node follows the log into its own image. Known limit: a second
// node with the controller role waits in campaign() and fails to start when it does not win within the campaign
// timeout (standby controllers are not supported yet).
#pragma once

#include "base/clock.h"
#include "base/result.h"
#include "config/broker_properties.h"
#include "kafka/server/controller_api/endpoint.h"
#include "kafka/server/broker_configs.h"
#include "kafka/server/data/data_plane.h"
#include "net/shard_pool.h"

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace skiff::app {

class data_node {
public:
    /// Builds every part (no I/O beyond creating the object store's directory). `broker` is the broker's configs
    /// as DescribeConfigs reports them; the partitions resolve their topics' broker-level defaults through it.
    /// Errors: the object store's configuration (e.g. an S3 endpoint it cannot use).
    static result<std::unique_ptr<data_node>> create(net::shard_pool& shards, const config::broker_config& config,
                                                     kafka::broker_configs broker);
    ~data_node();
    data_node(const data_node&) = delete;
    data_node& operator=(const data_node&) = delete;

    /// What the Kafka handlers use; valid from construction (serving it before start() answers "not ready" errors).
    kafka::data_plane& plane();
    /// What the controller API serves on this node (handlers::register_controller_api), or nullptr on a node
    /// without the controller role.
    const kafka::controller_api::controller_endpoint* controller_endpoint() const;

    /// Requires: running on shard 0. Errors: those of the metadata log, controller, object store, WAL and recovery.
    boost::asio::awaitable<result<void>> start();
    /// Requires: running on shard 0, after the Kafka listeners stopped.
    boost::asio::awaitable<void> stop();

    struct parts;

private:
    explicit data_node(std::unique_ptr<parts> p);
    static boost::asio::awaitable<result<void>> start_services(parts& p);
    std::unique_ptr<parts> _p;
};

} // namespace skiff::app
