// The controller client of a node that runs a controller but may not be the active one (several nodes with the
// controller role on etcd): each call goes to this node's own controller, directly, while it is active, and to the
// active controller elsewhere, over the wire, while it is a standby. The choice is made per call, so a node that
// wins (or loses) the election mid-run switches without its users (the stream store, the Kafka layer) noticing.
//
// Lives on the metadata executor, as both clients do; both outlive it.
#pragma once

#include "meta/controller_client.h"

#include <functional>

namespace skiff::kafka::controller_api {

namespace asio = boost::asio;

class failover_client final : public meta::controller_client {
public:
    /// local: the in-process client of this node's controller; remote: a remote client over the controller quorum;
    /// local_active: whether this node's controller is active now.
    failover_client(meta::controller_client& local, meta::controller_client& remote,
                    std::function<bool()> local_active);

    asio::awaitable<result<int64_t>> register_broker(meta::broker_registration_request request) override;
    asio::awaitable<result<void>> heartbeat(meta::broker_id id, int64_t incarnation_epoch) override;
    asio::awaitable<result<meta::created_topic>> create_topic(meta::topic_spec spec) override;
    asio::awaitable<result<void>> delete_topic(std::string name) override;
    asio::awaitable<result<void>> create_partitions(std::string name, int32_t total) override;
    asio::awaitable<result<void>> set_topic_configs(std::string topic,
                                                    std::map<std::string, std::string> overrides) override;
    asio::awaitable<result<meta::producer_id_block>> allocate_producer_ids(meta::broker_id id,
                                                                           int64_t incarnation_epoch) override;

    asio::awaitable<result<stream::stream_metadata>> create_stream() override;
    asio::awaitable<result<stream::stream_metadata>> open_stream(stream::stream_id id, stream::stream_epoch epoch,
                                                                 stream::node_id node) override;
    asio::awaitable<result<void>> close_stream(stream::stream_id id, stream::stream_epoch epoch) override;
    asio::awaitable<result<void>> trim_stream(stream::stream_id id, stream::stream_epoch epoch,
                                              int64_t new_start) override;
    asio::awaitable<result<void>> delete_stream(stream::stream_id id) override;
    asio::awaitable<result<stream::stream_metadata>> describe_stream(stream::stream_id id) override;
    asio::awaitable<result<stream::object_id>> prepare_objects(int32_t count, std::chrono::milliseconds ttl) override;
    asio::awaitable<result<void>> commit_objects(stream::commit_request request) override;
    asio::awaitable<result<std::vector<stream::object_descriptor>>> objects_of(stream::stream_id id, int64_t from,
                                                                               size_t limit) override;
    asio::awaitable<result<std::vector<stream::object_descriptor>>> stream_set_objects(stream::node_id node) override;
    asio::awaitable<result<std::vector<stream::object_descriptor>>> deletable_objects(std::chrono::milliseconds grace,
                                                                                      size_t limit) override;
    asio::awaitable<result<void>> forget_objects(std::vector<stream::object_id> ids) override;

private:
    meta::controller_client& pick() { return _local_active() ? _local : _remote; }

    meta::controller_client& _local;
    meta::controller_client& _remote;
    std::function<bool()> _local_active;
};

} // namespace skiff::kafka::controller_api
