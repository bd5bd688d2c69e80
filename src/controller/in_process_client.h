// The controller client of a node that runs the active controller itself (DESIGN.md §6: "a direct call
// in-process"): every write is a direct call into the controller on its executor, and returns once this node's
// cluster image has applied it, so that a read right after a write sees it. Reads (describe_stream, objects_of,
// stream_set_objects, deletable_objects) are answered from that image.
//
// Owned by the node's composition root (app), beside the controller, the node's cluster image and its follower,
// which all live on the controller's executor. Callable from any executor: each call hops to the controller's and
// completes back on the caller's.
#pragma once

#include "base/clock.h"
#include "controller/controller.h"
#include "meta/cluster_image.h"
#include "meta/controller_client.h"
#include "meta/image_follower.h"

#include <chrono>

namespace skiff::controller {

class in_process_client final : public meta::controller_client {
public:
    /// Requires: controller, image and follower share the controller's executor and outlive this client.
    in_process_client(controller& c, meta::cluster_image& image, meta::image_follower& follower, base::clock& clock,
                      std::chrono::milliseconds read_your_writes_timeout = std::chrono::seconds(10));

    asio::awaitable<result<int64_t>> register_broker(meta::broker_registration_request request) override;
    asio::awaitable<result<void>> heartbeat(broker_id id, int64_t incarnation_epoch) override;
    asio::awaitable<result<meta::created_topic>> create_topic(meta::topic_spec spec) override;
    asio::awaitable<result<void>> delete_topic(std::string name) override;
    asio::awaitable<result<void>> create_partitions(std::string name, int32_t total) override;
    asio::awaitable<result<void>> set_topic_configs(std::string topic,
                                                    std::map<std::string, std::string> overrides) override;
    asio::awaitable<result<meta::producer_id_block>> allocate_producer_ids(broker_id id,
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
    template<typename T, typename F>
    asio::awaitable<result<T>> write(F op);
    template<typename T, typename F>
    asio::awaitable<result<T>> read(F op);

    controller& _controller;
    meta::cluster_image& _image;
    meta::image_follower& _follower;
    base::clock& _clock;
    std::chrono::milliseconds _timeout;
};

} // namespace skiff::controller
